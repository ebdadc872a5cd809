//! What bounds one call into a guest, and how its failure is named: the per-call limits, the
//! memory limiter, the epoch deadline and [`CallError`]. Shared by pure calls (mod.rs) and
//! `wasi:http` calls (proxy.rs); it knows neither world and never touches storage or HTTP.

use std::time::{Duration, Instant};

use wasmtime::{ResourceLimiter, Store, UpdateDeadline};

/// An error from inside wasmtime, kept whole (with its chain) as the source of ours.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Per-call limits (from the manifest, or defaults for `serve`).
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    pub memory: u64,
    pub timeout: Duration,
}

/// Why a call produced no outcome.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("ran past its deadline of {0:?}")]
    Timeout(Duration),
    #[error("hit its memory cap of {cap} bytes")]
    MemoryCap {
        cap: u64,
        #[source]
        trap: Source,
    },
    #[error("trapped")]
    Trap(#[source] Source),
    /// The component was loaded, but not as something this call can run.
    #[error("is not servable as {0}")]
    NotServable(&'static str),
    #[error("could not run: the guest's task failed")]
    Task(#[source] tokio::task::JoinError),
    /// Every instance of the pool is in use: capacity, not a fault of the guest.
    #[error("could not be started: every instance of the pool is in use")]
    Busy(#[source] Source),
    #[error("was cancelled: the host is shutting down")]
    Cancelled,
}

impl CallError {
    /// Names what stopped a call: the deadline, the memory cap (`denied`: the limiter refused
    /// a growth), or any other trap. `panicked` is the guest's panic message when it left one
    /// (see `panic`); it goes in front of the trap.
    pub(super) fn classify(
        e: wasmtime::Error,
        limits: CallLimits,
        denied: bool,
        panicked: Option<String>,
    ) -> CallError {
        if e.downcast_ref::<DeadlineExceeded>().is_some() {
            return CallError::Timeout(limits.timeout);
        }
        if e.downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
            .is_some()
        {
            return CallError::Busy(e.into());
        }
        let trap = Box::new(Trapped::new(&e, panicked));
        if denied {
            CallError::MemoryCap {
                cap: limits.memory,
                trap,
            }
        } else {
            CallError::Trap(trap)
        }
    }
}

/// A trap on one line: the guest's panic message if any, then wasmtime's error chain without
/// the core dump it attaches (see `panic::render`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Trapped(String);

impl Trapped {
    fn new(e: &wasmtime::Error, panicked: Option<String>) -> Trapped {
        let chain = super::panic::render(e);
        Trapped(match panicked {
            Some(message) => format!("{message} ({chain})"),
            None => chain,
        })
    }
}

/// Caps linear memory and remembers whether the cap was what stopped the guest.
#[derive(Debug)]
pub(super) struct Limiter {
    cap: u64,
    pub(super) denied: bool,
}

impl Limiter {
    pub(super) fn new(cap: u64) -> Limiter {
        Limiter { cap, denied: false }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _: usize,
        desired: usize,
        _: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = desired as u64 <= self.cap;
        self.denied |= !ok;
        Ok(ok)
    }
    fn table_growing(
        &mut self,
        _: usize,
        desired: usize,
        _: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }
}

/// Makes the store's guest yield at every epoch tick but the first, and trap with
/// [`DeadlineExceeded`] once `deadline` has passed. The epoch ticks only while calls run (see
/// `epoch`).
///
/// Why not yield at the first tick: ticks come every [`epoch::TICK`](super::epoch::TICK) from
/// one thread, so a short call that happens to straddle one would yield, move to the slow lane
/// (see `lane`) and wait there behind whatever loops. Only a call that ran through a whole tick
/// yields.
pub(super) fn trap_at<T: 'static>(store: &mut Store<T>, deadline: Instant) {
    store.set_epoch_deadline(1);
    let mut ticks = 0u32;
    store.epoch_deadline_callback(move |_| {
        ticks = ticks.saturating_add(1);
        if Instant::now() >= deadline {
            Err(wasmtime::Error::new(DeadlineExceeded))
        } else if ticks == 1 {
            Ok(UpdateDeadline::Continue(1))
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
}

#[derive(Debug, thiserror::Error)]
#[error("deadline exceeded")]
struct DeadlineExceeded;

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> CallLimits {
        CallLimits {
            memory: 1 << 20,
            timeout: Duration::from_millis(250),
        }
    }

    #[test]
    fn a_deadline_trap_is_a_timeout_whatever_the_limiter_saw() {
        let e = wasmtime::Error::new(DeadlineExceeded).context("inside the guest");
        let classified = CallError::classify(e, limits(), true, None);
        assert!(matches!(classified, CallError::Timeout(t) if t == limits().timeout));
    }

    #[test]
    fn a_trap_after_a_refused_growth_is_the_memory_cap_and_keeps_the_trap_as_source() {
        let e = wasmtime::Error::msg("unreachable executed");
        let classified = CallError::classify(e, limits(), true, None);
        assert_eq!(
            classified.to_string(),
            "hit its memory cap of 1048576 bytes"
        );
        let source = std::error::Error::source(&classified).expect("the trap is the source");
        assert!(source.to_string().contains("unreachable"), "{source}");
    }

    #[test]
    fn a_panic_message_goes_in_front_of_the_trap() {
        let e = wasmtime::Error::msg("unreachable executed");
        let classified =
            CallError::classify(e, limits(), false, Some("index out of bounds".into()));
        let source = std::error::Error::source(&classified).expect("the trap is the source");
        assert_eq!(
            source.to_string(),
            "index out of bounds (unreachable executed)"
        );
    }

    #[test]
    fn any_other_failure_is_a_trap() {
        let classified = CallError::classify(wasmtime::Error::msg("boom"), limits(), false, None);
        assert!(matches!(classified, CallError::Trap(_)));
    }
}
