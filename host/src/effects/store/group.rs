//! Group commit: the write requests that arrive while a commit is running wait for the next one,
//! and share its one durable transaction (one fsync for all of them). One request alone commits
//! at once, as before; under concurrent writes the fsyncs per second stay the same while the
//! writes per fsync grow.
//!
//! A commit also waits a moment for the writers that are on their way ([`Writer`]: requests on a
//! route that may write, from their start until they hand their writes over or end), like
//! PostgreSQL's `commit_delay` with `commit_siblings`: at most [`GATHER`], and not at all when no
//! other writer is running, so a lone request still commits at once. Under many concurrent
//! writers the batches grow, and the cost of a commit (its fsync, the pages every commit
//! rewrites) is shared by more requests.
//!
//! This module owns only the queue and who commits: a store gives it the function that commits a
//! batch, which must keep each request all-or-nothing (one that fails is left out of the batch
//! alone) and answer each request in order. It never acknowledges a request before the commit
//! that covers it has returned.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::seam::{Coming, StoreError, Writer};

/// Requests in one transaction at most: a longer queue waits for the next one, so that no
/// request waits behind an unbounded batch.
const MAX_BATCH: usize = 256;

/// How long a commit waits at most for the writers on their way (see the module docs).
pub(super) const GATHER: Duration = Duration::from_millis(1);

/// What commits a batch: one result per request, in order.
type Commit<'a, W> = dyn Fn(&[W]) -> Vec<Result<(), StoreError>> + 'a;

/// One store's queue of write requests; `W` is one request's writes.
#[derive(Debug)]
pub(super) struct GroupCommit<W> {
    queue: Mutex<Queue<W>>,
    /// Signalled when a request joins the queue or a writer ends without writing.
    arrived: Condvar,
    gather: Duration,
}

#[derive(Debug)]
struct Queue<W> {
    waiting: Vec<(W, oneshot::Sender<Result<(), StoreError>>)>,
    /// Whether a committer is running: it takes what waits when its commit is done.
    committing: bool,
    /// Writers on their way: counted, not yet queued.
    coming: usize,
}

impl<W: Send> Coming for GroupCommit<W> {
    fn left(&self) {
        let mut queue = self.queue.lock().expect("group commit lock");
        queue.coming = queue.coming.saturating_sub(1);
        drop(queue);
        self.arrived.notify_one();
    }
}

impl<W: Send + 'static> GroupCommit<W> {
    pub(super) fn new() -> GroupCommit<W> {
        GroupCommit::gathering(GATHER)
    }

    /// With another longest wait for the writers on their way (the tests' choice).
    fn gathering(gather: Duration) -> GroupCommit<W> {
        GroupCommit {
            queue: Mutex::new(Queue {
                waiting: Vec::new(),
                committing: false,
                coming: 0,
            }),
            arrived: Condvar::new(),
            gather,
        }
    }

    /// Counts a request that may write until it submits or ends.
    pub(super) fn writer(self: &Arc<Self>) -> Writer {
        self.queue.lock().expect("group commit lock").coming += 1;
        Writer::counted(self.clone())
    }

    /// Queues one request's `writes` and answers once a commit covering them has returned, or
    /// with why they were left out. When no commit is running, this request starts the
    /// committer: a blocking task that calls `commit` with everything waiting, until nothing
    /// waits. `commit` is the store's: every request must pass the same one, since a request
    /// that joins a running committer is committed by the `commit` of the request that
    /// started it.
    pub(super) async fn submit<F>(
        self: &Arc<Self>,
        writes: W,
        mut writer: Writer,
        commit: F,
    ) -> Result<(), StoreError>
    where
        F: Fn(&[W]) -> Vec<Result<(), StoreError>> + Send + 'static,
    {
        let (done, answer) = oneshot::channel();
        let lead = {
            let mut queue = self.queue.lock().expect("group commit lock");
            queue.waiting.push((writes, done));
            // Arrived: no longer on its way (without the notification its drop would send).
            if writer.arrive() {
                queue.coming = queue.coming.saturating_sub(1);
            }
            !std::mem::replace(&mut queue.committing, true)
        };
        self.arrived.notify_one();
        if lead {
            let group = self.clone();
            tokio::task::spawn_blocking(move || group.drain(&commit));
        }
        answer
            .await
            .map_err(|e| StoreError::failed("the commit task ended without an answer", e))?
    }

    /// Commits batch after batch until the queue is empty.
    fn drain(&self, commit: &Commit<'_, W>) {
        loop {
            let batch: Vec<_> = {
                let mut queue = self.queue.lock().expect("group commit lock");
                // Writers on their way join this commit if they come within the gather time.
                let until = Instant::now() + self.gather;
                while queue.coming > 0 && queue.waiting.len() < MAX_BATCH {
                    let left = until.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    queue = self
                        .arrived
                        .wait_timeout(queue, left)
                        .expect("group commit lock")
                        .0;
                }
                if queue.waiting.is_empty() {
                    queue.committing = false;
                    return;
                }
                let n = queue.waiting.len().min(MAX_BATCH);
                queue.waiting.drain(..n).collect()
            };
            let (writes, answers): (Vec<W>, Vec<_>) = batch.into_iter().unzip();
            // A panic in the store fails this batch, not every later write: the committer goes
            // on with the queue instead of leaving it to a task that is gone.
            let results =
                std::panic::catch_unwind(AssertUnwindSafe(|| commit(&writes))).unwrap_or_default();
            let mut results = results.into_iter();
            for answer in answers {
                let result = results.next().unwrap_or_else(|| {
                    Err(StoreError::Failed {
                        what: "the commit failed (a bug: see the panic above)".into(),
                        source: None,
                    })
                });
                // The request may be gone (its client left); its writes are committed anyway.
                let _ = answer.send(result);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_requests_share_commits_and_each_gets_its_own_answer() {
        let group = Arc::new(GroupCommit::<u32>::new());
        let batches = Arc::new(AtomicUsize::new(0));
        let commit = {
            let batches = batches.clone();
            move |writes: &[u32]| {
                batches.fetch_add(1, Ordering::Relaxed);
                // A slow fsync: the others queue up meanwhile.
                std::thread::sleep(Duration::from_millis(20));
                writes
                    .iter()
                    .map(|&w| match w % 10 {
                        7 => Err(StoreError::Rejected(format!("{w} is left out"))),
                        _ => Ok(()),
                    })
                    .collect()
            }
        };
        let requests: Vec<_> = (0..40u32)
            .map(|w| {
                let (group, commit) = (group.clone(), commit.clone());
                tokio::spawn(async move { (w, group.submit(w, Writer::uncounted(), commit).await) })
            })
            .collect();
        for request in requests {
            let (w, result) = request.await.expect("request task");
            match result {
                Ok(()) => assert_ne!(w % 10, 7, "{w}"),
                Err(e) => assert_eq!(e.to_string(), format!("write rejected: {w} is left out")),
            }
        }
        let n = batches.load(Ordering::Relaxed);
        assert!((1..40).contains(&n), "40 requests in {n} commits");
        // The queue is free again: a lone request commits at once.
        assert!(group.submit(1, Writer::uncounted(), commit).await.is_ok());
    }

    /// The batches a recording commit function saw.
    type Batches = Arc<Mutex<Vec<Vec<u32>>>>;

    /// A commit function that records its batches in `batches` and accepts every request.
    fn recording(
        batches: &Batches,
    ) -> impl Fn(&[u32]) -> Vec<Result<(), StoreError>> + Clone + Send + 'static {
        let batches = batches.clone();
        move |w: &[u32]| {
            batches.lock().unwrap().push(w.to_vec());
            w.iter().map(|_| Ok(())).collect()
        }
    }

    /// Longer than any test runs: these commits wait for their writers, never for the clock.
    const FOREVER: Duration = Duration::from_secs(3600);

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_waits_for_the_writers_on_their_way() {
        let group = Arc::new(GroupCommit::<u32>::gathering(FOREVER));
        let batches = Batches::default();
        let commit = recording(&batches);
        let (first, second) = (group.writer(), group.writer());
        let early = tokio::spawn({
            let (group, commit) = (group.clone(), commit.clone());
            async move { group.submit(1, first, commit).await }
        });
        // The committer now waits for the second writer, which arrives when it is ready.
        tokio::task::yield_now().await;
        group.submit(2, second, commit).await.expect("committed");
        early.await.unwrap().expect("committed");
        // One commit for both, whichever came first.
        let mut batches = batches.lock().unwrap().clone();
        batches.iter_mut().for_each(|b| b.sort());
        assert_eq!(batches, vec![vec![1, 2]]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_that_ends_without_writing_is_not_waited_for() {
        let group = Arc::new(GroupCommit::<u32>::gathering(FOREVER));
        let batches = Batches::default();
        let commit = recording(&batches);
        let (first, second) = (group.writer(), group.writer());
        let early = tokio::spawn({
            let group = group.clone();
            async move { group.submit(1, first, commit).await }
        });
        tokio::task::yield_now().await;
        drop(second);
        // Within the test's time limit only if the drop woke the committer.
        early.await.unwrap().expect("committed");
        assert_eq!(*batches.lock().unwrap(), vec![vec![1]]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_that_takes_long_delays_a_commit_by_the_gather_time_at_most() {
        let group = Arc::new(GroupCommit::<u32>::gathering(Duration::from_millis(5)));
        let batches = Batches::default();
        let commit = recording(&batches);
        let _still_running = group.writer();
        group
            .submit(1, Writer::uncounted(), commit)
            .await
            .expect("committed without it");
        assert_eq!(*batches.lock().unwrap(), vec![vec![1]]);
    }

    #[tokio::test]
    async fn a_committer_that_panics_fails_its_batch_and_goes_on() {
        let group = Arc::new(GroupCommit::<u32>::new());
        // One commit for every request, as a store has: it panics on a batch holding 1.
        let commit = |w: &[u32]| -> Vec<Result<(), StoreError>> {
            assert!(!w.contains(&1), "a bug in the store");
            w.iter().map(|_| Ok(())).collect()
        };
        let failed = group.submit(1, Writer::uncounted(), commit).await;
        assert!(failed.is_err());
        let ok = group.submit(2, Writer::uncounted(), commit).await;
        assert!(ok.is_ok(), "{ok:?}");
    }
}
