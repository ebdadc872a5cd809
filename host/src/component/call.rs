//! What bounds one call into a guest, and how its failure is named: the per-call limits, the
//! memory limiter, the epoch deadline, [`CallError`], and what a call used ([`CallUsage`]: its
//! thread CPU time, measured around each poll of the guest). Shared by pure calls (mod.rs) and
//! `wasi:http` calls (proxy.rs); it knows neither world and never touches storage or HTTP.

use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};

use wasmtime::{ResourceLimiter, Store, UpdateDeadline};

/// An error from inside wasmtime, kept whole (with its chain) as the source of ours.
pub type Source = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Per-call limits (from the manifest, or defaults for `serve`).
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    pub memory: u64,
    pub timeout: Duration,
    /// Fuel one call may burn, for a component loaded with fuel checks (see
    /// [`FuelChecks`](super::FuelChecks)); `None` on one without: unlimited, uncounted.
    pub fuel: Option<u64>,
}

/// What one call used, as the host measured it (the `metering` module adds these up).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CallUsage {
    /// CPU time of the thread(s) that polled the guest, summed over its polls: instantiation
    /// and the guest's own code, not the time it spent waiting.
    pub cpu: Duration,
    /// From the start of instantiation to the call's end.
    pub wall: Duration,
    /// The part of `wall` spent instantiating.
    pub instantiate: Duration,
    /// The largest linear memory the guest had (the limiter sees every growth), in bytes.
    pub peak_memory: u64,
    /// Fuel burned: wasmtime's count of the guest's work, the same for the same input on any
    /// machine. 0 for a component without fuel checks.
    pub fuel: u64,
}

/// Whether requests are metered: on unless `NEBULA_METERING=off`, which exists to measure
/// metering's own cost (calls then skip the CPU clock and nothing is counted).
pub fn metering_on() -> bool {
    static ON: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ON.get_or_init(|| std::env::var("NEBULA_METERING").map_or(true, |v| v != "off"))
}

/// The CPU time the calling thread has used so far (see [`thread_clock`](super::thread_clock)).
pub(crate) fn thread_cpu() -> Duration {
    super::thread_clock::now()
}

/// CPU time added up across polls, readable while the call still runs: a caller that stops
/// waiting at the deadline (see `lane`) still learns what the guest used until then.
#[derive(Debug, Default)]
pub(super) struct CpuClock {
    nanos: AtomicU64,
}

impl CpuClock {
    pub(super) fn used(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }
}

/// Runs `call`, adding the thread CPU time of each of its polls to `cpu`. A task may move
/// between threads while it waits, so the clock is read around each poll, never across one.
pub(super) async fn on_cpu_clock<F: Future>(call: F, cpu: &CpuClock) -> F::Output {
    if !metering_on() {
        return call.await;
    }
    let mut call = pin!(call);
    std::future::poll_fn(|cx| {
        let before = thread_cpu();
        let polled = call.as_mut().poll(cx);
        let spent = thread_cpu().saturating_sub(before);
        let spent = u64::try_from(spent.as_nanos()).unwrap_or(u64::MAX);
        cpu.nanos.fetch_add(spent, Ordering::Relaxed);
        match polled {
            Poll::Ready(out) => Poll::Ready(out),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
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
    #[error("ran out of fuel: it burned all {budget} units of `limits.fuel`")]
    OutOfFuel { budget: u64 },
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
        if e.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::OutOfFuel) {
            return CallError::OutOfFuel {
                budget: limits.fuel.unwrap_or(u64::MAX),
            };
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

/// Caps linear memory, remembers whether the cap was what stopped the guest, and the largest
/// memory it granted.
#[derive(Debug)]
pub(super) struct Limiter {
    cap: u64,
    pub(super) denied: bool,
    pub(super) peak: u64,
}

impl Limiter {
    pub(super) fn new(cap: u64) -> Limiter {
        Limiter {
            cap,
            denied: false,
            peak: 0,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _: usize,
        desired: usize,
        _: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let desired = desired as u64;
        let ok = desired <= self.cap;
        self.denied |= !ok;
        if ok {
            self.peak = self.peak.max(desired);
        }
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
            fuel: None,
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
    fn the_limiter_remembers_the_largest_memory_it_granted_not_the_refused_one() {
        let mut limiter = Limiter::new(1 << 20);
        assert!(limiter.memory_growing(0, 64 << 10, None).unwrap());
        assert!(limiter.memory_growing(64 << 10, 512 << 10, None).unwrap());
        assert!(!limiter.memory_growing(512 << 10, 2 << 20, None).unwrap());
        assert_eq!((limiter.peak, limiter.denied), (512 << 10, true));
    }

    #[tokio::test]
    async fn the_cpu_clock_counts_a_polls_work_and_not_the_time_it_waits() {
        let clock = CpuClock::default();
        let spun = on_cpu_clock(
            async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                // Work measured by the same clock: 20 ms of this thread's CPU, however long
                // the machine takes to give it.
                let start = thread_cpu();
                let mut n = 0u64;
                while thread_cpu() - start < Duration::from_millis(20) {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
                thread_cpu() - start
            },
            &clock,
        )
        .await;
        let cpu = clock.used();
        assert!(cpu >= spun, "{cpu:?} < {spun:?}");
        // The 100 ms asleep between the two polls is not on the clock.
        assert!(
            cpu < spun + Duration::from_millis(50),
            "{cpu:?} vs {spun:?}"
        );
    }

    #[test]
    fn an_out_of_fuel_trap_names_the_budget() {
        let limits = CallLimits {
            fuel: Some(1000),
            ..limits()
        };
        let e = wasmtime::Error::new(wasmtime::Trap::OutOfFuel).context("inside the guest");
        let classified = CallError::classify(e, limits, false, None);
        assert_eq!(
            classified.to_string(),
            "ran out of fuel: it burned all 1000 units of `limits.fuel`"
        );
    }

    #[test]
    fn any_other_failure_is_a_trap() {
        let classified = CallError::classify(wasmtime::Error::msg("boom"), limits(), false, None);
        assert!(matches!(classified, CallError::Trap(_)));
    }
}
