//! What goes back to the client when the host answers itself, or a pure handler's response
//! whole: [`Reply`], and the one place each failure becomes a status and a short body. The error
//! chain goes to the log, never to the client.

use bytes::Bytes;

use crate::admission::Refused;
use crate::component::CallError;
use crate::component::proxy::ProxyError;
use crate::request::is_hop_by_hop;

/// What goes back to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Reply {
    /// A plain-text reply; the body gets a final newline.
    pub fn text(status: u16, body: &str) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "text/plain; charset=utf-8".into())],
            body: Bytes::from(format!("{body}\n")),
        }
    }

    pub fn not_found() -> Reply {
        Reply::text(404, "not found")
    }

    /// 405, with the methods that would work.
    pub fn method_not_allowed(allow: &[String]) -> Reply {
        let mut reply = Reply::text(405, "method not allowed");
        reply.headers.push(("allow".into(), allow.join(", ")));
        reply
    }

    /// 413, for a request body past the route's `max_body`.
    pub fn body_too_large(limit: u64) -> Reply {
        Reply::text(413, &format!("request body is larger than {limit} bytes"))
    }

    /// 400, for a request body the client did not finish sending.
    pub fn unreadable_body() -> Reply {
        Reply::text(400, "could not read the request body")
    }

    /// 500, for a component that could not be loaded (again).
    pub fn load_failed() -> Reply {
        Reply::internal("the handler could not be loaded")
    }

    /// 500 with a short reason; the details are in the log.
    pub fn internal(what: &str) -> Reply {
        Reply::text(500, &format!("internal error: {what}"))
    }

    /// 503 with `Retry-After` (RFC 9110 §10.2.3): the store is unreachable or busy for now.
    pub fn store_unavailable() -> Reply {
        let mut reply = Reply::text(503, "the store is unavailable; try again shortly");
        reply.headers.push(("retry-after".into(), "1".into()));
        reply
    }

    /// 503 with `Retry-After`: capacity, never the client's fault nor the handler's.
    pub fn busy() -> Reply {
        let mut reply = Reply::text(503, "the server is busy; try again");
        reply.headers.push(("retry-after".into(), "1".into()));
        reply
    }

    /// 504: the request's deadline passed before it had an answer; nothing was written.
    pub fn deadline() -> Reply {
        Reply::text(
            504,
            "the request ran past its deadline; nothing was written",
        )
    }

    /// 408: the client did not send its body before the request's deadline.
    pub fn body_timeout() -> Reply {
        Reply::text(408, "the request body did not arrive in time")
    }

    /// A request that admission control turned away: 504 if its deadline passed, else 503.
    pub fn refused(e: &Refused) -> Reply {
        match e {
            Refused::Deadline => Reply::deadline(),
            Refused::QueueFull(_) | Refused::Waited(_) => Reply::busy(),
        }
    }

    /// A failed call: 504 past the deadline, 503 when no instance was free, else 500.
    pub fn call_failed(e: &CallError) -> Reply {
        match e {
            CallError::Timeout(_) => Reply::deadline(),
            CallError::Busy(_) | CallError::Cancelled => Reply::busy(),
            CallError::MemoryCap { .. }
            | CallError::OutOfFuel { .. }
            | CallError::Trap(_)
            | CallError::NotServable(_)
            | CallError::Task(_) => Reply::internal("the handler failed"),
        }
    }

    /// A failed `wasi:http` call, answered as `wasmtime serve` would.
    pub fn proxy_failed(e: &ProxyError) -> Reply {
        match e {
            ProxyError::Call(e) => Reply::call_failed(e),
            ProxyError::ErrorCode(_) => Reply::internal("the handler failed"),
            ProxyError::NoResponse => Reply::internal("the handler set no response"),
            ProxyError::BodyTooLarge(limit) => Reply::body_too_large(*limit),
            ProxyError::BadRequest(_) => Reply::text(400, "bad request: no `Host` header"),
            ProxyError::HeadersTooLarge => Reply::internal("the response is too large"),
        }
    }
}

/// Whether a response header is the server's business rather than the handler's: hop-by-hop
/// headers and the framing (`content-length`), which the server computes itself.
pub fn is_server_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    is_hop_by_hop(&name) || name == "content-length"
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_deadline_is_504_and_every_other_call_failure_500() {
        let timeout = Reply::call_failed(&CallError::Timeout(Duration::from_secs(1)));
        assert_eq!(timeout.status, 504);
        let trap = CallError::Trap(std::io::Error::other("unreachable").into());
        assert_eq!(Reply::call_failed(&trap).status, 500);
        let cap = CallError::MemoryCap {
            cap: 1,
            trap: std::io::Error::other("grow").into(),
        };
        assert_eq!(Reply::call_failed(&cap).status, 500);
        // The reason stays in the log: the client sees no trap text.
        assert_eq!(
            Reply::call_failed(&trap).body,
            "internal error: the handler failed\n"
        );
    }

    #[test]
    fn capacity_is_503_with_retry_after_and_a_deadline_in_the_queue_504() {
        for refused in [
            Refused::QueueFull(3),
            Refused::Waited(Duration::from_secs(1)),
        ] {
            let reply = Reply::refused(&refused);
            assert_eq!(reply.status, 503);
            assert!(reply.headers.contains(&("retry-after".into(), "1".into())));
        }
        assert_eq!(Reply::refused(&Refused::Deadline).status, 504);
        assert_eq!(Reply::call_failed(&CallError::Cancelled).status, 503);
    }

    #[test]
    fn proxy_failures_map_like_wasmtime_serve() {
        let status = |e: ProxyError| Reply::proxy_failed(&e).status;
        assert_eq!(
            status(ProxyError::Call(CallError::Timeout(Duration::ZERO))),
            504
        );
        assert_eq!(status(ProxyError::NoResponse), 500);
        let busy = Reply::proxy_failed(&ProxyError::Call(CallError::Busy(
            std::io::Error::other("pool").into(),
        )));
        assert_eq!(busy.status, 503);
        assert!(busy.headers.contains(&("retry-after".into(), "1".into())));
        assert_eq!(status(ProxyError::BodyTooLarge(10)), 413);
        assert_eq!(
            status(ProxyError::BadRequest(std::io::Error::other("host").into())),
            400
        );
    }

    #[test]
    fn a_too_large_body_is_the_same_413_on_both_paths() {
        let pure = Reply::body_too_large(1024);
        let proxy = Reply::proxy_failed(&ProxyError::BodyTooLarge(1024));
        assert_eq!(pure, proxy);
        assert_eq!(pure.body, "request body is larger than 1024 bytes\n");
    }

    #[test]
    fn method_not_allowed_lists_the_methods_that_work() {
        let reply = Reply::method_not_allowed(&["GET".into(), "HEAD".into()]);
        assert_eq!(reply.status, 405);
        assert!(
            reply
                .headers
                .contains(&("allow".into(), "GET, HEAD".into()))
        );
    }

    #[test]
    fn framing_and_hop_by_hop_headers_are_the_servers_in_any_case() {
        for name in [
            "Content-Length",
            "transfer-encoding",
            "Connection",
            "TE",
            "Upgrade",
        ] {
            assert!(is_server_header(name), "{name}");
        }
        for name in ["content-type", "etag", "cache-control", "x-nebula-memo"] {
            assert!(!is_server_header(name), "{name}");
        }
    }
}
