//! Where a guest call runs (pure or `wasi:http`): it starts inline on the caller's task (the I/O
//! runtime), so the usual short call costs no hand-off; a call still running when it first
//! yields — after it has run through a whole epoch tick (see `call::trap_at`) — moves to the
//! slow lane, a runtime of its own whose threads run at a lower priority (nice +10).
//!
//! Why: a looping guest yields at every tick, and tokio polls its I/O driver only every few dozen
//! task polls, so many loopers on the I/O runtime would starve the I/O of every route. On the
//! slow lane they compete only with each other, and the kernel prefers the I/O threads.
//! wasmtime's async call futures are `Send`, so the rest of a call can be awaited there.
//!
//! Each component has a [`Habit`]: once its calls keep moving to the slow lane, its next calls
//! start there, so a flood of loopers does not hold the I/O threads for a tick each before
//! moving; a call that ends within its first poll brings the component back.
//!
//! Owns the slow-lane runtime; never knows what a call does.

use std::pin::Pin;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

/// Threads of the slow lane: one per core, as for the I/O runtime.
fn slow_lane() -> &'static tokio::runtime::Runtime {
    static SLOW: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    SLOW.get_or_init(|| {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("nebula-slow")
            .on_thread_start(lower_priority)
            // Timers for deadlines, I/O for the outbound calls of `wasi:http` guests.
            .enable_all()
            .build()
            .expect("starting the slow-lane runtime")
    })
}

/// Nice +10 for the calling thread (Linux gives each thread its own nice value); failing that,
/// the lane still works, at normal priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: setpriority only changes the scheduling priority of thread `0` (the caller);
        // it reads no memory of ours.
        #[expect(unsafe_code, reason = "libc's setpriority has no safe binding")]
        let done = unsafe { libc::setpriority(libc::PRIO_PROCESS as _, 0, 10) };
        if done != 0 {
            tracing::debug!(
                "slow lane: setpriority failed: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// What the lanes have seen of one component's calls: a score that a call moving to the slow
/// lane raises and a call ending in its first poll lowers (saturating at [`HABIT_MAX`]). From
/// [`SLOW_FROM`] on, the component's calls start on the slow lane.
#[derive(Debug, Default)]
pub struct Habit(AtomicU8);

/// Two slow calls in a row (net) before calls start on the slow lane: one call that ran long
/// by chance (a cold cache, a preempted thread) moves no other.
const SLOW_FROM: u8 = 2;
const HABIT_MAX: u8 = 3;

impl Habit {
    fn starts_slow(&self) -> bool {
        self.0.load(Ordering::Relaxed) >= SLOW_FROM
    }

    fn learn(&self, slow: bool) {
        let step = |score: u8| match slow {
            true => (score < HABIT_MAX).then(|| score + 1),
            false => score.checked_sub(1),
        };
        // `None` from `step` means the score is already at its bound: nothing to store.
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, step);
    }
}

/// Why [`run`] gives no output for a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unfinished {
    /// The deadline passed while the call waited on the slow lane: it is dropped there.
    Deadline,
    /// The slow lane dropped the call (at shutdown).
    Dropped,
}

/// Runs `call`: inline, or on the slow lane when `habit` says so or the call yields. Once on
/// the slow lane, the caller stops waiting at `deadline`, so a slow lane starved of CPU (its
/// threads run at a low priority, and other processes may be busy) delays no answer past it;
/// the guest's own trap at its deadline needs a turn on the slow lane to happen.
pub async fn run<F>(habit: &Habit, deadline: Instant, call: F) -> Result<F::Output, Unfinished>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    if habit.starts_slow() {
        let counted = Counted {
            call: Box::pin(call),
            polls: 0,
        };
        let (output, polls) = on_slow_lane(counted, deadline).await?;
        habit.learn(polls > 1);
        return Ok(output);
    }
    let mut call: Pin<Box<F>> = Box::pin(call);
    let first = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
    if let Poll::Ready(output) = first {
        habit.learn(false);
        return Ok(output);
    }
    habit.learn(true);
    on_slow_lane(call, deadline).await
}

async fn on_slow_lane<F>(call: F, deadline: Instant) -> Result<F::Output, Unfinished>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut task = Abort(slow_lane().spawn(call));
    match tokio::time::timeout_at(deadline.into(), &mut task.0).await {
        Ok(Ok(output)) => Ok(output),
        Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Ok(Err(_)) => Err(Unfinished::Dropped),
        // Dropping `task` aborts the call.
        Err(_) => Err(Unfinished::Deadline),
    }
}

/// A call that counts how often it was polled: more than once means it yielded.
struct Counted<F> {
    call: Pin<Box<F>>,
    polls: u32,
}

impl<F: Future> Future for Counted<F> {
    type Output = (F::Output, u32);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.polls += 1;
        let polls = self.polls;
        self.call.as_mut().poll(cx).map(|output| (output, polls))
    }
}

/// Aborts the slow-lane task when the request that awaits it goes away, so that its instance
/// is freed now rather than at its deadline.
struct Abort<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for Abort<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    fn thread_name() -> Option<String> {
        std::thread::current().name().map(str::to_owned)
    }

    async fn yielding() -> Option<String> {
        tokio::task::yield_now().await;
        thread_name()
    }

    #[tokio::test]
    async fn a_call_that_never_yields_runs_inline() {
        let here = std::thread::current().id();
        let ran_on = run(&Habit::default(), far(), async move {
            std::thread::current().id()
        })
        .await;
        assert_eq!(ran_on, Ok(here));
    }

    #[tokio::test]
    async fn a_call_that_yields_finishes_on_the_slow_lane() {
        let ran_on = run(&Habit::default(), far(), yielding()).await;
        assert_eq!(ran_on.ok().flatten().as_deref(), Some("nebula-slow"));
    }

    #[tokio::test]
    async fn one_slow_call_moves_no_other_but_two_make_the_next_start_on_the_slow_lane() {
        let habit = Habit::default();
        run(&habit, far(), yielding()).await.expect("ran");
        assert!(!habit.starts_slow(), "one slow call is chance");
        run(&habit, far(), yielding()).await.expect("ran");
        assert!(habit.starts_slow());
        // Even a call that never yields now runs on the slow lane, from its first poll.
        let ran_on = run(&habit, far(), async { thread_name() }).await;
        assert_eq!(ran_on.ok().flatten().as_deref(), Some("nebula-slow"));
    }

    #[tokio::test]
    async fn calls_that_end_in_their_first_poll_bring_a_component_back_inline() {
        let habit = Habit::default();
        for _ in 0..10 {
            run(&habit, far(), yielding()).await.expect("ran");
        }
        assert_eq!(
            habit.0.load(Ordering::Relaxed),
            HABIT_MAX,
            "the score saturates"
        );
        run(&habit, far(), async {}).await.expect("ran");
        run(&habit, far(), async {}).await.expect("ran");
        assert!(!habit.starts_slow());
        let here = std::thread::current().id();
        let ran_on = run(&habit, far(), async move { std::thread::current().id() }).await;
        assert_eq!(ran_on, Ok(here));
    }

    #[tokio::test]
    async fn the_caller_stops_waiting_for_a_slow_lane_call_at_the_deadline() {
        let habit = Habit::default();
        let soon = Instant::now() + Duration::from_millis(20);
        // A call that yields forever: only the deadline ends the wait.
        let forever = async {
            loop {
                tokio::task::yield_now().await;
            }
        };
        assert_eq!(run(&habit, soon, forever).await, Err(Unfinished::Deadline));
    }
}
