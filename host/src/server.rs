//! The HTTP edge: hyper's accept loop, HTTP <-> Nebula conversion, graceful shutdown.
//! This is the only module that knows hyper's server; a route to a `wasi:http/proxy` component
//! hands the hyper request, unread, to [`Runtime::call_proxy`](crate::component::Runtime), which
//! streams it.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::app::{App, Route};
use crate::component::proxy::{BoxError, Grants, ProxyCall, ProxyError};
use crate::component::{CallError, Header};
use crate::handler::{self, BodyError, BodySource, Head, Reply};
use crate::router::Routed;

/// A response body: whole for pure handlers, streamed for `wasi:http` components.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// hyper's default read buffer limit (8 KiB + 100 × 4 KiB); raised only when
/// `max_header_bytes` needs more, so that the header limit is the one that applies.
const DEFAULT_MAX_BUF: usize = 8192 + 4096 * 100;

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // A request head past `max_header_bytes` (or with more than hyper's 100 header fields, as
    // for `wasmtime serve`) gets 431 Request Header Fields Too Large before any routing.
    let max_header = usize::try_from(app.max_header_bytes).unwrap_or(usize::MAX);
    http.timer(TokioTimer::new())
        .keep_alive(true)
        .max_header_size(max_header)
        .max_buf_size(DEFAULT_MAX_BUF.max(max_header.saturating_add(8192)));
    let proxies = app
        .routes
        .iter()
        .any(|r| r.steps.iter().any(|s| s.proxy.is_some()));
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: keep serving the connections we have.
                    eprintln!("warning: accept failed: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let service = service_fn(move |req| {
            let app = app.clone();
            async move { Ok::<_, Infallible>(serve_one(&app, req, proxies, peer.ip()).await) }
        });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await
                && !e.is_incomplete_message()
            {
                eprintln!("debug: connection closed: {e}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// Serves one request: streamed to a `wasi:http` component when its route has one (looked up
/// only when the app has such routes), else the pure path of [`handler::handle`].
async fn serve_one(
    app: &App,
    req: hyper::Request<Incoming>,
    proxies: bool,
    peer: std::net::IpAddr,
) -> hyper::Response<Body> {
    if proxies
        && let Routed::Found { route, .. } = app.route(req.method().as_str(), req.uri().path())
        && let Some(grants) = &app.routes[route].steps[0].proxy
    {
        return serve_proxy(app, &app.routes[route], grants, req).await;
    }
    let (parts, body) = req.into_parts();
    let headers = parts
        .headers
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .map(|(name, value)| Header {
            name: name.as_str().to_owned(),
            value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
        })
        .collect();
    let head = Head {
        method: parts.method.as_str().to_owned(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
        headers,
        peer: Some(peer),
    };
    to_hyper(handler::handle(app, head, HyperBody(body)).await)
}

/// Hop-by-hop headers concern this connection only and are not given to handlers (RFC 9110 §7.6.1).
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "transfer-encoding",
    "upgrade",
    "trailer",
];

struct HyperBody(Incoming);

impl BodySource for HyperBody {
    async fn read(self, limit: u64) -> Result<Bytes, BodyError> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        match Limited::new(self.0, limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                Err(BodyError::TooLarge)
            }
            Err(e) => Err(BodyError::Broken(e.to_string())),
        }
    }
}

/// Streams a request to the `wasi:http` component of `route` and its response back. Failures
/// are logged where they happen; here they only become a status.
async fn serve_proxy(
    app: &App,
    route: &Route,
    grants: &Arc<Grants>,
    req: hyper::Request<Incoming>,
) -> hyper::Response<Body> {
    let step = &route.steps[0];
    let component = match step.component.get(&app.runtime).await {
        Ok(component) => component,
        Err(e) => {
            eprintln!(
                "error: {}: loading component `{}`: {e:#}",
                route.label, step.component.id
            );
            return to_hyper(Reply::text(
                500,
                "internal error: the handler could not be loaded",
            ));
        }
    };
    let call = ProxyCall {
        limits: step.limits,
        max_body: route.decl.max_body,
        grants,
        label: &route.label,
    };
    let error = match app.runtime.call_proxy(&component, call, req).await {
        Ok(response) => return response,
        Err(e) => e,
    };
    to_hyper(match error {
        ProxyError::Call(CallError::Timeout(_)) => {
            Reply::text(504, "the handler ran past its deadline")
        }
        ProxyError::Call(_) | ProxyError::ErrorCode(_) => {
            Reply::text(500, "internal error: the handler failed")
        }
        ProxyError::NoResponse => Reply::text(500, "internal error: the handler set no response"),
        ProxyError::Busy(_) => Reply::text(503, "the server is busy; try again"),
        ProxyError::BodyTooLarge(limit) => {
            Reply::text(413, &format!("request body is larger than {limit} bytes"))
        }
        ProxyError::BadRequest(_) => Reply::text(400, "bad request: no `Host` header"),
    })
}

fn to_hyper(reply: Reply) -> hyper::Response<Body> {
    let mut builder = hyper::Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        match (
            hyper::header::HeaderName::try_from(name),
            hyper::header::HeaderValue::try_from(value),
        ) {
            (Ok(n), Ok(v)) => builder = builder.header(n, v),
            _ => eprintln!("warning: dropped invalid response header `{name}`"),
        }
    }
    builder.body(whole(reply.body)).unwrap_or_else(|e| {
        eprintln!("error: building the response failed: {e}");
        let mut r = hyper::Response::new(whole(Bytes::from_static(b"internal error\n")));
        *r.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// A body sent in one piece.
fn whole(bytes: Bytes) -> Body {
    Full::new(bytes)
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Binds the listening socket.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    eprintln!("shutting down: finishing in-flight requests");
}
