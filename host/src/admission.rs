//! Admission control: how many calls of one component run at once (`limits.concurrency`), and
//! how many requests may wait for one (`limits.queue`, at most `limits.queue_timeout` each).
//!
//! A request that finds the queue full, or whose wait ends, is turned away — `reply` makes that
//! a 503 with `Retry-After` — so a flood on one component costs only its own clients, and never
//! takes the instances of the pool that the other components need. Each component has one
//! [`Gate`], shared by every route that calls it. This module never touches wasmtime or HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The admission of one component's calls.
#[derive(Debug)]
pub struct Gate {
    permits: Arc<Semaphore>,
    waiting: AtomicU32,
    queue: u32,
    queue_timeout: Duration,
    /// Requests turned away so far, for `/metrics`.
    refused: AtomicU64,
}

/// A call that may run; its place is freed when this drops.
#[derive(Debug)]
pub struct Admitted(#[expect(dead_code, reason = "held for its Drop")] OwnedSemaphorePermit);

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("its queue is full ({0} waiting)")]
    QueueFull(u32),
    #[error("no call ended within the queue timeout of {0:?}")]
    Waited(Duration),
    /// The request's deadline came before a call ended.
    #[error("the request's deadline passed while it waited")]
    Deadline,
}

impl Gate {
    /// A gate for `concurrency` calls at once (at least one) and `queue` waiting requests.
    pub fn new(concurrency: u32, queue: u32, queue_timeout: Duration) -> Gate {
        Gate {
            permits: Arc::new(Semaphore::new(concurrency.max(1) as usize)),
            waiting: AtomicU32::new(0),
            queue,
            queue_timeout,
            refused: AtomicU64::new(0),
        }
    }

    /// Requests waiting in the queue now (a moment longer for one being turned away).
    pub fn waiting(&self) -> u32 {
        self.waiting.load(Ordering::Relaxed)
    }

    /// Requests turned away since the gate was made.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Admits a call now, or after a wait in the queue that ends at the queue timeout or the
    /// request's `deadline`, whichever is first. Waiters are admitted in arrival order.
    pub async fn admit(&self, deadline: Instant) -> Result<Admitted, Refused> {
        let admitted = self.wait(deadline).await;
        if admitted.is_err() {
            self.refused.fetch_add(1, Ordering::Relaxed);
        }
        admitted
    }

    async fn wait(&self, deadline: Instant) -> Result<Admitted, Refused> {
        if let Ok(permit) = self.permits.clone().try_acquire_owned() {
            return Ok(Admitted(permit));
        }
        let waiting = self.waiting.fetch_add(1, Ordering::AcqRel);
        let _leave = Leave(&self.waiting);
        if waiting >= self.queue {
            return Err(Refused::QueueFull(waiting));
        }
        let queue_end = Instant::now() + self.queue_timeout;
        let until = queue_end.min(deadline);
        match tokio::time::timeout_at(until.into(), self.permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Admitted(permit)),
            // The semaphore is never closed; were it, waiting longer would not help either.
            Ok(Err(_)) => Err(Refused::Waited(self.queue_timeout)),
            Err(_) if deadline <= queue_end => Err(Refused::Deadline),
            Err(_) => Err(Refused::Waited(self.queue_timeout)),
        }
    }
}

/// Leaves the queue when dropped, however the wait ended (the request may be dropped too).
struct Leave<'a>(&'a AtomicU32);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn far() -> Instant {
        Instant::now() + Duration::from_secs(60)
    }

    #[tokio::test]
    async fn admits_up_to_the_concurrency_then_queues_then_refuses() {
        let gate = Arc::new(Gate::new(2, 1, Duration::from_secs(60)));
        let first = gate.admit(far()).await.unwrap();
        let _second = gate.admit(far()).await.unwrap();
        let queued = tokio::spawn({
            let gate = gate.clone();
            async move { gate.admit(far()).await.map(drop) }
        });
        // The queued request is waiting: the next one finds the queue full.
        while gate.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(gate.admit(far()).await.unwrap_err(), Refused::QueueFull(1));
        drop(first);
        queued.await.unwrap().expect("admitted once a call ended");
        assert_eq!(gate.waiting(), 0);
        assert_eq!(gate.refused(), 1, "only the one turned away is counted");
    }

    #[tokio::test]
    async fn a_wait_ends_at_the_queue_timeout_or_the_deadline_whichever_is_first() {
        let gate = Gate::new(1, 10, Duration::from_millis(20));
        let _busy = gate.admit(far()).await.unwrap();
        let waited = gate.admit(far()).await.unwrap_err();
        assert_eq!(waited, Refused::Waited(Duration::from_millis(20)));
        let soon = Instant::now() + Duration::from_millis(5);
        assert_eq!(gate.admit(soon).await.unwrap_err(), Refused::Deadline);
        assert_eq!(gate.waiting(), 0);
        assert_eq!(gate.refused(), 2);
    }

    #[tokio::test]
    async fn a_queue_of_zero_refuses_at_once_when_every_call_runs() {
        let gate = Gate::new(1, 0, Duration::from_secs(60));
        let _busy = gate.admit(far()).await.unwrap();
        assert_eq!(gate.admit(far()).await.unwrap_err(), Refused::QueueFull(0));
    }
}
