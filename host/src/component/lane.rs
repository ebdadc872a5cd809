//! Where a guest call runs (pure or `wasi:http`): it starts inline on the caller's task (the I/O runtime), so the usual
//! short call costs no hand-off; a call still running when it first yields — after a full epoch
//! tick of guest code — moves to the slow lane, a runtime of its own whose threads run at a lower
//! priority (nice +10).
//!
//! Why: a looping guest yields at every tick, and tokio polls its I/O driver only every few dozen
//! task polls, so many loopers on the I/O runtime would starve the I/O of every route. On the
//! slow lane they compete only with each other, and the kernel prefers the I/O threads.
//! wasmtime's async call futures are `Send`, so the rest of a call can be awaited there.
//!
//! Owns the slow-lane runtime; never knows what a call does.

use std::pin::Pin;
use std::sync::OnceLock;
use std::task::Poll;

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

/// The result of a call run by [`run`]; `None` when the slow lane dropped it (at shutdown).
pub async fn run<F>(call: F) -> Option<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut call: Pin<Box<F>> = Box::pin(call);
    let first = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
    if let Poll::Ready(output) = first {
        return Some(output);
    }
    let mut task = Abort(slow_lane().spawn(call));
    match (&mut task.0).await {
        Ok(output) => Some(output),
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => None,
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

    #[tokio::test]
    async fn a_call_that_never_yields_runs_inline() {
        let here = std::thread::current().id();
        let ran_on = run(async move { std::thread::current().id() }).await;
        assert_eq!(ran_on, Some(here));
    }

    #[tokio::test]
    async fn a_call_that_yields_finishes_on_the_slow_lane() {
        let ran_on = run(async {
            tokio::task::yield_now().await;
            std::thread::current().name().map(str::to_owned)
        })
        .await;
        assert_eq!(ran_on.flatten().as_deref(), Some("nebula-slow"));
    }
}
