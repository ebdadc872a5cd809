//! The two bodies around a guest: the request body it reads, capped at the route's `max_body`,
//! and the response body it writes, which must not look complete when the guest failed before
//! finishing it.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Body, Frame, SizeHint};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

/// Errors of a response body, as hyper takes them.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A streamed response body.
pub type ProxyBody = UnsyncBoxBody<Bytes, BoxError>;

/// A request body that fails once more than `limit` bytes went through: the guest's read gets
/// `error-code::HTTP-request-body-size`, as from any HTTP layer that enforces a size. It also
/// sets `overflowed`, so that the response cannot look whole even if the guest carries on.
pub struct Capped<B> {
    inner: B,
    limit: u64,
    seen: u64,
    overflowed: Arc<AtomicBool>,
}

impl<B> Capped<B> {
    pub fn new(inner: B, limit: u64, overflowed: Arc<AtomicBool>) -> Capped<B> {
        Capped {
            inner,
            limit,
            seen: 0,
            overflowed,
        }
    }
}

impl<B> Body for Capped<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        if let Some(data) = frame.data_ref() {
            self.seen += data.len() as u64;
            if self.seen > self.limit {
                self.overflowed.store(true, Ordering::Release);
                return Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpRequestBodySize(
                    Some(self.seen),
                ))));
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The guest's response body. wasmtime ends the body cleanly when the store goes away before
/// `outgoing-body.finish`; after a trap or a timeout that would pass a truncated body off as
/// whole, so here the end becomes an error, and hyper aborts the response instead (no final
/// chunk, or fewer bytes than `content-length`). The same when the request body went over
/// `max_body` (the guest echoed only part of it), and once the body passes `max_response`.
pub struct Guarded {
    inner: HyperOutgoingBody,
    /// Set by the call before it drops the store, when the guest failed.
    failed: Arc<AtomicBool>,
    /// Set by [`Capped`] when the request body went over `max_body`.
    overflowed: Arc<AtomicBool>,
    /// What is left of `max_response`.
    left: u64,
    /// `METHOD /path` and the component, for the log line when `max_response` cuts it off.
    label: Arc<str>,
    id: Arc<str>,
}

impl Guarded {
    pub fn new(
        inner: HyperOutgoingBody,
        failed: Arc<AtomicBool>,
        overflowed: Arc<AtomicBool>,
        max_response: u64,
        (label, id): (Arc<str>, Arc<str>),
    ) -> Guarded {
        Guarded {
            inner,
            failed,
            overflowed,
            left: max_response,
            label,
            id,
        }
    }
}

impl Body for Guarded {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(None) if self.failed.load(Ordering::Acquire) => Poll::Ready(Some(Err(
                "the handler failed before it finished the response body".into(),
            ))),
            Poll::Ready(None) if self.overflowed.load(Ordering::Acquire) => Poll::Ready(Some(Err(
                "the request body went over `max_body`, so the response is cut off".into(),
            ))),
            Poll::Ready(Some(Ok(frame)))
                if frame.data_ref().is_some_and(|d| d.len() as u64 > self.left) =>
            {
                let (label, id) = (&self.label, &self.id);
                tracing::error!(route = %label, component = %id, "{label}: component `{id}` answered a body over its `max_response`; the response is cut off");
                self.left = 0;
                Poll::Ready(Some(Err(
                    "the response body went over `max_response`".into()
                )))
            }
            Poll::Ready(Some(Ok(frame))) => {
                let n = frame.data_ref().map_or(0, |d| d.len() as u64);
                self.left -= n;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(code))) => Poll::Ready(Some(Err(format!(
                "the handler's response body failed: {code:?}"
            )
            .into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        // Never claim the end early: the end may still turn into an error.
        false
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
