//! The guarantee that a pure call never waits on the outside world.
//!
//! A pure call's future returns `Pending` for one legitimate reason: wasmtime's epoch yield (the
//! deadline check), which wakes its own task before returning (`yield_now` in wasmtime 48's
//! `runtime/store.rs` calls `wake_by_ref` and then returns `Pending`). Every WASI stub a pure
//! component can reach answers at once. So a `Pending` after which nothing has woken the task means
//! the guest is waiting for something outside the call — a timer, a thread, a socket — that
//! could make its output depend on more than its input, and could hang it: [`NeverWaits`] ends
//! the call right there instead.
//!
//! Only the wake-ups that happen during a poll count: a waker stored away to be called later (by a
//! timer or another thread) is exactly what a pure call must not need.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};

/// The call waited for something that a pure call never gets.
#[derive(Debug, thiserror::Error)]
#[error(
    "the handler waited on the host for something outside the call, which can never become \
     ready in a pure call; hint: a pure handler gets all its data in its input"
)]
pub struct WaitedOnTheWorld;

/// Runs `call`, failing with [`WaitedOnTheWorld`] the first time it is pending with no wake-up.
#[derive(Debug)]
pub struct NeverWaits<F> {
    call: F,
}

impl<F> NeverWaits<F> {
    pub fn new(call: F) -> NeverWaits<F> {
        NeverWaits { call }
    }
}

impl<F: Future + Unpin> Future for NeverWaits<F> {
    type Output = Result<F::Output, WaitedOnTheWorld>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let watch = Arc::new(WakeWatch {
            outer: cx.waker().clone(),
            woken: AtomicBool::new(false),
        });
        let waker = Waker::from(watch.clone());
        match Pin::new(&mut self.call).poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(output) => Poll::Ready(Ok(output)),
            Poll::Pending if watch.woken.load(Ordering::Acquire) => Poll::Pending,
            Poll::Pending => Poll::Ready(Err(WaitedOnTheWorld)),
        }
    }
}

/// Forwards wake-ups to the task's waker, noting that one happened.
struct WakeWatch {
    outer: Waker,
    woken: AtomicBool,
}

impl Wake for WakeWatch {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.outer.wake_by_ref();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;
    use std::time::Duration;

    /// One poll, as an executor would do it: whether it is done, and with what.
    fn poll_once<F: Future + Unpin>(
        guarded: &mut NeverWaits<F>,
    ) -> Poll<Result<F::Output, WaitedOnTheWorld>> {
        Pin::new(guarded).poll(&mut Context::from_waker(Waker::noop()))
    }

    #[test]
    fn a_call_that_wakes_itself_keeps_running_to_the_end() {
        let mut yields = 0;
        let mut guarded = NeverWaits::new(poll_fn(|cx| {
            if yields == 3 {
                return Poll::Ready(yields);
            }
            yields += 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }));
        for _ in 0..3 {
            assert!(poll_once(&mut guarded).is_pending());
        }
        assert!(matches!(poll_once(&mut guarded), Poll::Ready(Ok(3))));
    }

    #[tokio::test]
    async fn a_call_waiting_on_a_timer_ends_on_its_first_poll() {
        let mut guarded = NeverWaits::new(Box::pin(tokio::time::sleep(Duration::from_secs(3600))));
        assert!(matches!(
            poll_once(&mut guarded),
            Poll::Ready(Err(WaitedOnTheWorld))
        ));
    }

    #[test]
    fn a_call_pending_forever_ends_on_its_first_poll() {
        let mut guarded = NeverWaits::new(std::future::pending::<()>());
        assert!(matches!(
            poll_once(&mut guarded),
            Poll::Ready(Err(WaitedOnTheWorld))
        ));
    }
}
