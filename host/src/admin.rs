//! The admin listener (`up --admin ADDR`): health for load balancers and orchestrators, on its own
//! address so it never shares the application's route space (an app may route `/healthz`
//! itself) and can be kept off the public network.
//!
//! * `GET /healthz` — 200 while the process serves: a liveness probe.
//! * `GET /readyz` — 200 when the host can serve requests: its components are loaded (the
//!   listener starts only after they are; a large pure component missing from the compile cache
//!   may still be compiling, and its requests wait for it, see `component::later`) and its store
//!   answers within a second; else 503.
//! * `GET /metrics` — the host's counters in the Prometheus text format (see `metrics`).
//!
//! It never runs a handler and never writes to the store.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::app::App;
use crate::reload::{Live, Reloads};

/// How long `/readyz` waits for the store: probes have timeouts of their own (Kubernetes: 1 s).
const READY_TIMEOUT: Duration = Duration::from_millis(900);

/// Binds the admin listener.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} for --admin: {e}"))
}

/// Serves health requests until the process exits, about the app live at each request.
pub async fn serve(live: Arc<Live>, listener: TcpListener) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("admin listener: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let live = live.clone();
        let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
            let (app, reloads) = (live.app(), live.reloads());
            async move {
                let (status, body) = answer(&app, reloads, req.method(), req.uri().path()).await;
                let content_type = match req.uri().path() {
                    "/metrics" if status == 200 => crate::metrics::CONTENT_TYPE,
                    _ => "text/plain; charset=utf-8",
                };
                let response = hyper::Response::builder()
                    .status(status)
                    .header("content-type", content_type)
                    .header("cache-control", "no-store")
                    .body(Full::new(Bytes::from(body)))
                    .expect("a valid response");
                Ok::<_, Infallible>(response)
            }
        });
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            let _ = conn.await;
        });
    }
}

async fn answer(app: &App, reloads: Reloads, method: &hyper::Method, path: &str) -> (u16, String) {
    if method != hyper::Method::GET && method != hyper::Method::HEAD {
        return (405, "method not allowed\n".into());
    }
    match path {
        "/healthz" => (200, "ok\n".into()),
        "/metrics" => (
            200,
            crate::metrics::render(&app.metering, &app.runtime, reloads),
        ),
        "/readyz" => match tokio::time::timeout(READY_TIMEOUT, app.effects.ping()).await {
            Ok(Ok(())) => (200, "ready\n".into()),
            Ok(Err(e)) => {
                tracing::warn!("/readyz: {}", crate::log::Chain(&e));
                (503, format!("not ready: {e}\n"))
            }
            Err(_) => (
                503,
                format!("not ready: the store did not answer within {READY_TIMEOUT:?}\n"),
            ),
        },
        _ => (
            404,
            "not found: the admin listener serves /healthz, /readyz and /metrics\n".into(),
        ),
    }
}
