//! The HTTP edge: hyper's accept loop, graceful shutdown, and the hand-over of each request,
//! unread, to [`handler::handle`] (step 1 of lib.rs); its [`Answer`] goes back whole or streamed.
//! This is the only module that knows hyper's server. It never routes.
//!
//! A slow client cannot hold the server: at most `max_connections` are open (more wait in the
//! listen backlog), and a connection that takes longer than `header_timeout` to send a request
//! head — its first, or the next one on a kept-alive connection — is closed. Shutdown stops
//! accepting, lets in-flight requests finish for up to the drain time, then returns.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::app::App;
use crate::component::proxy::BoxError;
use crate::handler::{self, Answer};
pub use crate::manifest::DEFAULT_DRAIN;
use crate::reload::Live;
use crate::reply::Reply;

/// A response body: whole for pure handlers, streamed for `wasi:http` components.
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

/// hyper's default read buffer limit (8 KiB + 100 × 4 KiB); raised only when
/// `max_header_bytes` needs more, so that the header limit is the one that applies.
const DEFAULT_MAX_BUF: usize = 8192 + 4096 * 100;

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests finish
/// for up to [`DEFAULT_DRAIN`].
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    serve_draining(Live::new(app), listener, shutdown, DEFAULT_DRAIN).await
}

/// [`serve`], with in-flight requests given up to `drain` after `shutdown` resolves; those still
/// running then are cut off (their connections closed). Each request is served by the app live
/// when it arrives (a reload swaps it); the server limits are those of the first app.
pub async fn serve_draining(
    live: Arc<Live>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) -> anyhow::Result<()> {
    // Copied out: holding the first app here would keep it alive after a reload.
    let limits = live.app().server_limits;
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // A request head past `max_header_bytes` (or with more than hyper's 100 header fields, as
    // for `wasmtime serve`) gets 431 Request Header Fields Too Large before any routing.
    let max_header = usize::try_from(limits.max_header_bytes).unwrap_or(usize::MAX);
    http.timer(TokioTimer::new())
        .keep_alive(true)
        .header_read_timeout(limits.header_timeout)
        .max_header_size(max_header)
        .max_buf_size(DEFAULT_MAX_BUF.max(max_header.saturating_add(8192)));
    let open = Arc::new(Semaphore::new(limits.max_connections as usize));
    tokio::pin!(shutdown);
    loop {
        // Past the cap, new connections wait in the listen backlog until one closes.
        let permit = tokio::select! {
            permit = open.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: keep serving the connections we have.
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let live = live.clone();
        let service = service_fn(move |req| {
            // Read once per request, not per connection: a kept-alive connection's next request
            // goes to a reloaded app, while this one finishes on the app it started on.
            let app = live.app();
            async move { Ok::<_, Infallible>(serve_one(&app, req, peer.ip()).await) }
        });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _open = permit;
            if let Err(e) = conn.await
                && !e.is_incomplete_message()
            {
                tracing::debug!("connection closed: {e}");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            "requests still in flight after the drain time of {drain:?}: their connections are closed"
        );
    }
    Ok(())
}

/// Hands one request to the request path and its answer back to hyper.
async fn serve_one(
    app: &App,
    req: hyper::Request<Incoming>,
    peer: std::net::IpAddr,
) -> hyper::Response<Body> {
    match handler::handle(app, req, peer).await {
        Answer::Whole(reply) => to_hyper(reply),
        Answer::Streamed(response) => response,
    }
}

fn to_hyper(reply: Reply) -> hyper::Response<Body> {
    let mut builder = hyper::Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        match (
            hyper::header::HeaderName::try_from(name),
            hyper::header::HeaderValue::try_from(value),
        ) {
            (Ok(n), Ok(v)) => builder = builder.header(n, v),
            _ => tracing::warn!("dropped invalid response header `{name}`"),
        }
    }
    builder.body(whole(reply.body)).unwrap_or_else(|e| {
        tracing::error!("building the response failed: {e}");
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

/// Resolves on SIGINT or SIGTERM. A second one ends the process at once (exit code 1), for when
/// waiting for in-flight requests is not wanted.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing the SIGINT handler");
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down: finishing in-flight requests (a second signal exits at once)");
    tokio::spawn(async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        tracing::warn!("second signal: exiting without waiting for in-flight requests");
        std::process::exit(1);
    });
}
