//! `wasi:http/proxy` components, served through wasmtime-wasi-http: a fresh instance per
//! request from the same engine, pooling allocator and compile cache as pure components, with
//! request and response bodies streamed (trailers included) and every capability granted per
//! component.
//!
//! What a proxy component gets (docs/wasi-http.md): the request with its scheme and authority,
//! minus the forbidden headers of [`wasmtime_wasi_http::DEFAULT_FORBIDDEN_HEADERS`] (which it
//! cannot set either); outbound HTTP to its `allowed_outbound_hosts` only; its declared `env`;
//! stdout and stderr as lines of the host log; real clocks and random; no preopened directory,
//! no arguments, no sockets. Its imports are judged by [`policy`] at load.
//!
//! With the linking table in wasi.rs, this module is the only one that knows
//! wasmtime-wasi-http. It never touches storage.

mod body;
mod grants;
mod log;
mod outbound;
pub mod policy;
pub(super) mod state;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::BodyExt;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Engine, Store};
use wasmtime_wasi::WasiCtx;
use wasmtime_wasi_http::p2::bindings::ProxyPre;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpView};

pub use body::{BoxError, ProxyBody};
pub use grants::{Grants, Origin};

use crate::manifest::{MAX_RESPONSE_HEADER_BYTES, MAX_RESPONSE_HEADERS};

use super::call::{
    CallError, CallLimits, CallUsage, CpuClock, Limiter, Source, on_cpu_clock, trap_at,
};
use super::epoch::Ticker;
use super::fuel::{fill_tank, fuel_burned};
use super::lane::{Habit, Unfinished};
use super::purity::Refused;
use state::ProxyState;

/// Told what a proxy call used once its guest is done (after the response has streamed), and
/// whether it ended well.
pub type OnUsage = Arc<dyn Fn(&CallUsage, bool) + Send + Sync>;

/// One request's settings, from its route.
#[derive(Clone)]
pub struct ProxyCall<'a> {
    pub limits: CallLimits,
    /// Where the call's usage goes (metering).
    pub on_usage: Option<OnUsage>,
    /// The request's deadline: the guest's run, outbound calls and body streaming included.
    pub deadline: Instant,
    /// The route's request body limit.
    pub max_body: u64,
    /// The component's response body limit.
    pub max_response: u64,
    pub grants: &'a Arc<Grants>,
    /// `METHOD /path` of the route, for the log.
    pub label: &'a str,
}

/// Why a proxy call produced no response. Each is logged (with the route and component) by the
/// time the caller sees it; the caller only picks a status.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("returned without setting a response")]
    NoResponse,
    #[error("answered with error code {0:?}")]
    ErrorCode(ErrorCode),
    #[error("request body is larger than {0} bytes")]
    BodyTooLarge(u64),
    #[error("bad request")]
    BadRequest(#[source] Source),
    #[error("answered too many or too large header fields")]
    HeadersTooLarge,
}

/// A proxy component, as loaded: ready to instantiate, or refused for its imports.
pub(super) enum Prepared {
    Ready(ProxyPre<ProxyState>),
    Refused(Vec<Refused>),
}

/// Judges a compiled proxy component's imports and, if they are all linked, pre-instantiates it.
pub(super) fn prepare(
    engine: &Engine,
    linker: &Linker<ProxyState>,
    component: &Component,
) -> wasmtime::Result<Prepared> {
    let ty = component.component_type();
    let imports: Vec<String> = ty.imports(engine).map(|(n, _)| n.to_owned()).collect();
    let refused = policy::judge(imports.iter().map(String::as_str));
    if !refused.is_empty() {
        return Ok(Prepared::Refused(refused));
    }
    let pre = linker.instantiate_pre(component).and_then(ProxyPre::new)?;
    Ok(Prepared::Ready(pre))
}

/// What the guest's `response-outparam.set` delivers.
type Delivered = Result<http::Response<wasmtime_wasi_http::p2::body::HyperOutgoingBody>, ErrorCode>;

impl std::fmt::Debug for ProxyCall<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyCall")
            .field("limits", &self.limits)
            .field("max_body", &self.max_body)
            .field("label", &self.label)
            .finish_non_exhaustive()
    }
}

/// The runtime's parts a proxy call needs, and the fuel it starts with (`Some` for a
/// component with fuel checks).
pub(super) struct Host<'a> {
    pub ticker: &'a Ticker,
    pub fuel: Option<u64>,
}

/// Serves one request with a fresh instance of a proxy component. The guest runs in a task of
/// its own, so that it goes on streaming the response body after its head is returned; the task
/// ends when the guest returns, traps or reaches the deadline, whichever is first, and a client
/// that goes away does not stop it early (its writes then fail). `held` (the request's
/// admission) is kept until the task ends.
pub(super) async fn call<B>(
    host: Host<'_>,
    pre: &ProxyPre<ProxyState>,
    id: &str,
    habit: Arc<Habit>,
    call: ProxyCall<'_>,
    request: http::Request<B>,
    held: impl Send + 'static,
) -> Result<http::Response<ProxyBody>, ProxyError>
where
    B: hyper::body::Body<Data = Bytes> + Send + Unpin + 'static,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|n| n > call.max_body) {
        return Err(ProxyError::BodyTooLarge(call.max_body));
    }
    let overflowed = Arc::new(AtomicBool::new(false));
    let request = request.map(|b| body::Capped::new(b, call.max_body, overflowed.clone()));

    let id: Arc<str> = id.into();
    let deadline = call.deadline.min(Instant::now() + call.limits.timeout);
    let mut store = proxy_store(pre.engine(), &id, call.limits.memory, deadline, call.grants);
    let budget = host.fuel;
    fill_tank(&mut store, budget);
    let (tx, rx) = tokio::sync::oneshot::channel::<Delivered>();
    let responded = Arc::new(AtomicBool::new(false));
    let set = responded.clone();
    let resources = (|| -> wasmtime::Result<_> {
        let mut http = store.data_mut().http();
        let req = http.new_incoming_request(Scheme::Http, request)?;
        let out = http.new_response_outparam_from_callback(move |response| {
            set.store(true, Ordering::Release);
            // The client may be gone; the guest is not told (wasmtime#10784).
            let _ = tx.send(response);
        })?;
        Ok((req, out))
    })();
    let (req, out) = match resources {
        Ok(resources) => resources,
        // The request has neither an absolute URI nor a `Host` header.
        Err(e) => return Err(ProxyError::BadRequest(e.into())),
    };

    let failed = Arc::new(AtomicBool::new(false));
    let running = host.ticker.running();
    let task = {
        let (pre, failed, responded) = (pre.clone(), failed.clone(), responded.clone());
        let (label, limits) = (call.label.to_owned(), call.limits);
        let on_usage = call.on_usage.clone();
        let owner = id.clone();
        tokio::spawn(async move {
            let _held = (running, held);
            let (start, clock) = (Instant::now(), Arc::new(CpuClock::default()));
            let cpu = clock.clone();
            let guest = async move {
                let mut usage = CallUsage::default();
                let mut instantiated = None;
                let ran = tokio::time::timeout_at(deadline.into(), async {
                    let proxy = pre
                        .instantiate_async(&mut store)
                        .await
                        .map_err(|e| called(&store, limits, e))?;
                    instantiated = Some(Instant::now());
                    proxy
                        .wasi_http_incoming_handler()
                        .call_handle(&mut store, req, out)
                        .await
                        .map_err(|e| called(&store, limits, e))
                });
                // Read around each poll, on whichever lane polls it.
                let ran = on_cpu_clock(ran, &cpu).await;
                usage.cpu = cpu.used();
                usage.wall = start.elapsed();
                usage.instantiate = instantiated.map_or(usage.wall, |at| at - start);
                usage.peak_memory = store.data().limiter.peak;
                usage.fuel = fuel_burned(&store, budget);
                (ran, store, usage)
            };
            // As a pure call: inline first, on the slow lane once it has run a tick; a guest
            // still there at the deadline is cut off by the lane, whatever its own trap does.
            let (result, store, usage) = match super::lane::run(&habit, deadline, guest).await {
                Ok((ran, store, usage)) => {
                    let result = match ran {
                        Ok(Ok(())) if responded.load(Ordering::Acquire) => Ok(()),
                        Ok(Ok(())) => Err(ProxyError::NoResponse),
                        Ok(Err(e)) => Err(e),
                        Err(_) => Err(CallError::Timeout(limits.timeout).into()),
                    };
                    (result, Some(store), usage)
                }
                Err(unfinished) => {
                    // Still running on the slow lane: what it used until now.
                    let usage = CallUsage {
                        cpu: clock.used(),
                        wall: start.elapsed(),
                        ..CallUsage::default()
                    };
                    if unfinished == Unfinished::Dropped {
                        failed.store(true, Ordering::Release);
                        if let Some(on_usage) = on_usage {
                            on_usage(&usage, false);
                        }
                        return Err(CallError::Cancelled.into());
                    }
                    let timeout = CallError::Timeout(limits.timeout).into();
                    (Err(timeout), None, usage)
                }
            };
            if let Err(e) = &result {
                failed.store(true, Ordering::Release);
                let when = match responded.load(Ordering::Acquire) {
                    true => ", after its response began (so the response is cut off),",
                    false => "",
                };
                let e = crate::log::Chain(e);
                tracing::error!(route = %label, component = %owner, "{label}: component `{owner}`{when} {e}");
            }
            if let Some(on_usage) = on_usage {
                on_usage(&usage, result.is_ok());
            }
            // Dropping the store drops an unset response-outparam, which wakes the caller.
            drop(store);
            result
        })
    };

    // The task can end before the store is dropped (its guest cut off at the deadline on the
    // slow lane, which drops it later): then the task, not the channel, has the answer.
    let mut task = task;
    let delivered = tokio::select! {
        biased;
        delivered = rx => delivered,
        ended = &mut task => return match ended {
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Err(ProxyError::NoResponse),
            Err(e) => Err(CallError::Task(e).into()),
        },
    };
    match delivered {
        // The request body went over `max_body` before the response began: 413 rather than
        // whatever the guest made of its failed read.
        Ok(Ok(_)) if overflowed.load(Ordering::Acquire) => {
            Err(ProxyError::BodyTooLarge(call.max_body))
        }
        Ok(Ok(response)) if !headers_within_limits(response.headers()) => {
            tracing::error!(
                route = %call.label,
                component = %id,
                "{}: component `{id}` answered more than {MAX_RESPONSE_HEADERS} header fields or {MAX_RESPONSE_HEADER_BYTES} bytes of them",
                call.label
            );
            Err(ProxyError::HeadersTooLarge)
        }
        Ok(Ok(response)) => {
            let names = (Arc::from(call.label), id.clone());
            Ok(response.map(|b| {
                body::Guarded::new(b, failed, overflowed, call.max_response, names).boxed_unsync()
            }))
        }
        Ok(Err(code)) => {
            tracing::error!(
                route = %call.label,
                component = %id,
                "{}: component `{id}` answered with error code {code:?}",
                call.label
            );
            Err(ProxyError::ErrorCode(code))
        }
        // The store is gone and the response was never set: the task says why.
        Err(_) => match task.await {
            Ok(Err(e)) => Err(e),
            Ok(Ok(())) => Err(ProxyError::NoResponse),
            Err(e) => Err(CallError::Task(e).into()),
        },
    }
}

/// Whether a response head stays within the caps on header fields.
fn headers_within_limits(headers: &http::HeaderMap) -> bool {
    let bytes: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    headers.len() <= MAX_RESPONSE_HEADERS && bytes <= MAX_RESPONSE_HEADER_BYTES
}

/// A store for one request: memory cap, epoch deadline, and a WASI context holding only what
/// the component was granted.
fn proxy_store(
    engine: &Engine,
    id: &Arc<str>,
    memory: u64,
    deadline: Instant,
    grants: &Arc<Grants>,
) -> Store<ProxyState> {
    let wasi = WasiCtx::builder()
        .envs(&grants.env)
        .stdout(log::GuestLog::new(id))
        .stderr(log::GuestLog::new(id))
        .build();
    let state = ProxyState {
        limiter: Limiter::new(memory),
        table: ResourceTable::new(),
        wasi,
        http: WasiHttpCtx::new(),
        hooks: outbound::Hooks {
            id: id.clone(),
            grants: grants.clone(),
        },
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    // As in `call_pure`: a guest in a loop traps at the deadline. A guest waiting on the
    // host is cut off by the task's timeout instead.
    trap_at(&mut store, deadline);
    store
}

/// A failed instantiation or call, as a [`ProxyError`].
fn called(store: &Store<ProxyState>, limits: CallLimits, e: wasmtime::Error) -> ProxyError {
    let panicked = super::panic::message(&e, store);
    CallError::classify(e, limits, store.data().limiter.denied, panicked).into()
}
