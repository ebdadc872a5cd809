//! Everything wasmtime: the engine, the compile cache, the import policy, pre-instantiation, and
//! `call_pure` — one fresh instance per call, from the pooling allocator.
//!
//! Inside, dependencies go one way: this file (the [`Runtime`] and [`Loaded`] components) uses
//! `proxy` (wasi:http calls), `wasi` (the one table of WASI interfaces, and both linkers),
//! `stubs` (what a pure call's WASI imports get), `purity` (the pure import policy), `call`
//! (limits, deadline, [`CallError`]), `thread_clock` (the CPU clock metering reads), `lane`
//! (which threads run a call), `fuel` (which components count fuel), `cache`, `epoch` and
//! `bindings`, and `later` (which large components are compiled after the host listens); `slot`
//! builds on this file. This module never touches storage or HTTP; it turns
//! an [`Input`] into an [`Outcome`].
//!
//! The host speaks `nebula:pure@0.2.0`; a component built against 0.1.0 is called through
//! `v0_1`, which maps its input and outcome at this boundary (see [`Pre`]).

mod bindings;
mod cache;
mod call;
mod epoch;
mod fuel;
mod lane;
mod later;
mod panic;
pub mod proxy;
pub mod purity;
pub mod slot;
mod stubs;
mod thread_clock;
mod tier;
mod v0_1;
mod virtual_wasi;
mod wasi;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};

/// The effects layer's tests build writes by hand.
#[cfg(test)]
pub use bindings::{Add, IndexKey, Put};
pub use bindings::{
    Direction, Entry, Header, Input, Key, ListQuery, Outcome, Page, Param, PassOn, Read, ReadError,
    ReadOp, ReadResult, ReadValue, Request, RespondWith, Response, Write,
};
use cache::Lookup;
pub use cache::{CacheOutcome, CompileCache};
pub use call::{CallError, CallLimits, CallUsage, Source, metering_on};
pub use fuel::FuelChecks;
use fuel::{Fueled, fill_tank, fuel_burned};
pub use later::{LATER_BYTES, Later};
pub use purity::{Kind, Verdict};
pub use tier::{Tier, Tiers};
pub use v0_1::describe as describe_read_error;
use virtual_wasi::{NeverWaits, PureWasi};

use call::{CpuClock, Limiter, on_cpu_clock, trap_at};
use proxy::state::ProxyState;
use proxy::{ProxyBody, ProxyCall, ProxyError};
use stubs::PureState;

/// Why a component could not be loaded (or the engine set up). The source says what wasmtime or
/// the file system reported.
#[derive(Debug, thiserror::Error)]
pub enum ComponentError {
    #[error("setting up the engine")]
    Engine(#[source] Source),
    #[error("reading component `{id}` from `{}`", path.display())]
    Read {
        id: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not a valid component", path.display())]
    Compile {
        path: PathBuf,
        #[source]
        source: Source,
    },
    #[error("preparing component `{id}`")]
    Prepare {
        id: String,
        #[source]
        source: Source,
    },
    #[error(
        "component `{id}` changed on disk since start (`{}`); restart the host to serve the new version",
        path.display()
    )]
    Changed { id: String, path: PathBuf },
    #[error("the loading task failed")]
    Task(#[source] tokio::task::JoinError),
}

/// Freed pool slots kept ready for reuse (see `Runtime::new`).
const WARM_SLOTS: u32 = 16;

/// Settings for the engine and its pooling allocator.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// The largest memory cap of any component (the pool's slot size).
    pub max_memory: u64,
    /// Instances that may exist at once.
    pub max_instances: u32,
    /// Which compilers to use (default: `NEBULA_TIERS`, else tiered).
    pub tiers: Tiers,
    /// Whether some component has `limits.fuel`: the runtime then has a second engine, whose
    /// code counts fuel, for those components.
    pub fuel: bool,
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            max_memory: 64 << 20,
            max_instances: crate::manifest::POOL_INSTANCES,
            tiers: Tiers::from_env(),
            fuel: false,
        }
    }
}

/// The engine and linkers shared by every component of a process.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    pure: Arc<Linker<PureState>>,
    proxy: Arc<Linker<ProxyState>>,
    cache: CompileCache,
    ticker: epoch::Ticker,
    /// Winch's engine, for components not in the cache yet (see `tier`).
    baseline: Option<Baseline>,
    /// The engine with fuel checks, for components with `limits.fuel` (see [`FuelChecks`]).
    fueled: Option<Fueled>,
    tiers: Tiers,
}

/// The baseline compiler's engine and its linker for pure components.
#[derive(Clone)]
struct Baseline {
    engine: Engine,
    pure: Arc<Linker<PureState>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// A pure component pre-instantiated for the version of `nebula:pure` it exports.
#[derive(Clone)]
enum Pre {
    V0_2(bindings::HandlerPre<PureState>),
    V0_1(bindings::v0_1::HandlerPre<PureState>),
}

impl Pre {
    /// Types the component's `handle` against 0.2.0, then 0.1.0; the error is 0.2.0's when
    /// neither fits (the one to build against).
    fn new(pre: wasmtime::component::InstancePre<PureState>) -> wasmtime::Result<Pre> {
        match bindings::HandlerPre::new(pre.clone()) {
            Ok(pre) => Ok(Pre::V0_2(pre)),
            Err(newest) => bindings::v0_1::HandlerPre::new(pre)
                .map(Pre::V0_1)
                .map_err(|_| newest),
        }
    }

    fn engine(&self) -> &Engine {
        match self {
            Pre::V0_2(pre) => pre.engine(),
            Pre::V0_1(pre) => pre.engine(),
        }
    }

    /// Instantiates and calls `handle`, mapping a 0.1.0 component's input and outcome;
    /// `instantiated` gets the moment the instance was ready (metering's instantiation time).
    async fn call(
        &self,
        store: &mut Store<PureState>,
        input: &Input,
        instantiated: &mut Option<Instant>,
    ) -> wasmtime::Result<Outcome> {
        match self {
            Pre::V0_2(pre) => {
                let handler = pre.instantiate_async(&mut *store).await?;
                *instantiated = Some(Instant::now());
                handler.call_handle(store, input).await
            }
            Pre::V0_1(pre) => {
                let handler = pre.instantiate_async(&mut *store).await?;
                *instantiated = Some(Instant::now());
                let outcome = handler.call_handle(store, &v0_1::input(input)).await?;
                Ok(v0_1::outcome(outcome))
            }
        }
    }

    /// The version of `nebula:pure` the component was built against.
    fn version(&self) -> WorldVersion {
        match self {
            Pre::V0_2(_) => WorldVersion::V0_2,
            Pre::V0_1(_) => WorldVersion::V0_1,
        }
    }
}

/// Which `nebula:pure` a pure component exports `handle` of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorldVersion {
    V0_1,
    V0_2,
}

impl std::fmt::Display for WorldVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            WorldVersion::V0_1 => "nebula:pure@0.1.0",
            WorldVersion::V0_2 => "nebula:pure@0.2.0",
        })
    }
}

/// What the background worker needs to compile a baseline component's optimized code (see
/// `slot::upgrade`).
pub(super) struct Pending {
    pub runtime: Runtime,
    pub wasm: Arc<[u8]>,
}

/// What [`Runtime::load_at_start`] did with a component.
#[derive(Debug)]
pub enum Start {
    /// Loaded it.
    Now(Box<Loaded>),
    /// Judged it; it is compiled after the host listens.
    Later(Later),
}

/// A loaded component, ready to instantiate.
pub struct Loaded {
    pub id: String,
    /// BLAKE3 of the wasm bytes: the component's identity (and part of memoization keys).
    pub digest: [u8; 32],
    pub verdict: Verdict,
    pub cache: CacheOutcome,
    /// Whose code it runs; baseline code is replaced once the optimized code is compiled.
    pub tier: Tier,
    /// For baseline code that is to be upgraded: what the optimizing compile needs.
    pending: Option<Pending>,
    pre: Option<Pre>,
    /// Set for a `wasi:http/proxy` component: pre-instantiated, or refused for its imports.
    proxy: Option<proxy::Prepared>,
    /// Whether its calls start inline or on the slow lane (see [`lane`]).
    habit: Arc<lane::Habit>,
    /// Whether its code counts fuel.
    pub fuel: FuelChecks,
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("id", &self.id)
            .field("verdict", &self.verdict)
            .field("tier", &self.tier)
            .finish()
    }
}

impl Loaded {
    /// For a pure component, the version of the world it was built against.
    pub fn world(&self) -> Option<WorldVersion> {
        self.pre.as_ref().map(Pre::version)
    }

    /// Whether this is a `wasi:http/proxy` component this host can serve.
    pub fn is_proxy(&self) -> bool {
        matches!(self.proxy, Some(proxy::Prepared::Ready(_)))
    }

    /// For a `wasi:http/proxy` component, the imports outside what [`proxy::policy`] links.
    pub fn proxy_refusals(&self) -> Option<&[purity::Refused]> {
        match &self.proxy {
            Some(proxy::Prepared::Refused(refused)) => Some(refused),
            _ => None,
        }
    }
}

impl Runtime {
    pub fn new(settings: &EngineSettings, cache: CompileCache) -> Result<Runtime, ComponentError> {
        let failed = |e: wasmtime::Error| ComponentError::Engine(e.into());
        let engine = Engine::new(&optimizing_config(settings)?).map_err(failed)?;
        let pure = wasi::pure_linker(&engine).map_err(failed)?;
        let proxy = wasi::proxy_linker(&engine).map_err(failed)?;
        let baseline = if settings.tiers.uses_baseline() {
            let engine = Engine::new(&tier::baseline_config()).map_err(failed)?;
            let pure = wasi::pure_linker(&engine).map_err(failed)?;
            Some(Baseline {
                engine,
                pure: Arc::new(pure),
            })
        } else {
            None
        };
        let fueled = if settings.fuel {
            let mut config = optimizing_config(settings)?;
            config.consume_fuel(true);
            let engine = Engine::new(&config).map_err(failed)?;
            Some(Fueled {
                pure: Arc::new(wasi::pure_linker(&engine).map_err(failed)?),
                proxy: Arc::new(wasi::proxy_linker(&engine).map_err(failed)?),
                engine,
            })
        } else {
            None
        };
        let mut engines = vec![engine.weak()];
        engines.extend(baseline.as_ref().map(|b| b.engine.weak()));
        engines.extend(fueled.as_ref().map(|f| f.engine.weak()));
        let ticker = epoch::Ticker::new(engines);
        Ok(Runtime {
            engine,
            pure: Arc::new(pure),
            proxy: Arc::new(proxy),
            cache,
            ticker,
            baseline,
            fueled,
            tiers: settings.tiers,
        })
    }

    /// The engine that compiles optimized code with or without fuel checks.
    fn optimizing(&self, fuel: FuelChecks) -> Result<&Engine, ComponentError> {
        match (fuel, &self.fueled) {
            (FuelChecks::Without, _) => Ok(&self.engine),
            (FuelChecks::With, Some(fueled)) => Ok(&fueled.engine),
            (FuelChecks::With, None) => Err(ComponentError::Engine(
                "a component has `limits.fuel`, but the runtime was made without fuel checks \
                 (its engine settings did not ask for them)"
                    .into(),
            )),
        }
    }

    /// Reads, judges and (if servable) pre-instantiates a component: from the cache, else on
    /// baseline code (a pure component, when tiered) or compiled optimized now.
    /// `fuel` says whether its code counts fuel; such code is never baseline code.
    pub fn load(&self, id: &str, path: &Path, fuel: FuelChecks) -> Result<Loaded, ComponentError> {
        let wasm = read(id, path)?;
        let digest = *blake3::hash(&wasm).as_bytes();
        self.load_wasm(id, path, fuel, &wasm, digest)
    }

    /// [`Runtime::load`] at start: a pure component of `later_from` bytes or more that is not
    /// in the cache is only judged now, and compiled after the host listens (see `later`).
    pub fn load_at_start(
        &self,
        id: &str,
        path: &Path,
        fuel: FuelChecks,
        later_from: usize,
    ) -> Result<Start, ComponentError> {
        let wasm = read(id, path)?;
        let digest = *blake3::hash(&wasm).as_bytes();
        let qualifies = self.tiers == Tiers::Tiered
            && fuel == FuelChecks::Without
            && wasm.len() >= later_from
            && !self.cache.holds(&self.engine, &digest);
        if qualifies && let Some((imports, exports)) = later::names(&wasm) {
            let verdict = Verdict::judge(
                imports.iter().map(String::as_str),
                exports.iter().map(String::as_str),
            );
            if verdict.is_pure() {
                return Ok(Start::Later(Later { digest }));
            }
        }
        self.load_wasm(id, path, fuel, &wasm, digest)
            .map(|loaded| Start::Now(Box::new(loaded)))
    }

    fn load_wasm(
        &self,
        id: &str,
        path: &Path,
        fuel: FuelChecks,
        wasm: &[u8],
        digest: [u8; 32],
    ) -> Result<Loaded, ComponentError> {
        let engine = self.optimizing(fuel)?;
        let damaged = match self.cache.lookup(engine, &digest) {
            Lookup::Hit(component) => {
                return self.prepare(id, digest, component, CacheOutcome::Hit, None);
            }
            Lookup::Miss => None,
            // A damaged entry is replaced before serving, so the next start finds it whole.
            Lookup::Damaged(reason) => Some(reason),
        };
        if damaged.is_none()
            && fuel == FuelChecks::Without
            && let Some(loaded) = self.load_baseline(id, wasm, digest)
        {
            return Ok(loaded);
        }
        let (component, cache) =
            self.cache
                .compile(engine, wasm, &digest, damaged)
                .map_err(|e| ComponentError::Compile {
                    path: path.to_owned(),
                    source: e.into(),
                })?;
        self.prepare(id, digest, component, cache, None)
    }

    /// Compiles a pure component with Winch and prepares it, or says `None` (no baseline tier,
    /// Winch refused the wasm, or the component is not pure: those compile optimized at once).
    fn load_baseline(&self, id: &str, wasm: &[u8], digest: [u8; 32]) -> Option<Loaded> {
        let baseline = self.baseline.as_ref()?;
        let start = Instant::now();
        let component = match Component::new(&baseline.engine, wasm) {
            Ok(component) => component,
            Err(e) => {
                tracing::info!(
                    component = %id,
                    "component `{id}`: the baseline compiler cannot compile it ({e}); compiling optimized code now"
                );
                return None;
            }
        };
        let millis = start.elapsed().as_millis();
        if !self.judge(&component).is_pure() {
            return None;
        }
        let pending = (self.tiers == Tiers::Tiered).then(|| Pending {
            runtime: self.clone(),
            wasm: wasm.into(),
        });
        let cache = CacheOutcome::Baseline { millis };
        match self.prepare(id, digest, component, cache, pending) {
            Ok(loaded) => Some(loaded),
            Err(e) => {
                tracing::warn!(
                    component = %id,
                    "component `{id}`: {}; compiling optimized code now",
                    crate::log::Chain(&e)
                );
                None
            }
        }
    }

    /// Compiles the optimized code of a component and stores it in the cache (the background
    /// half of tiering).
    fn optimize(&self, id: &str, wasm: &[u8], digest: [u8; 32]) -> Result<Loaded, ComponentError> {
        let (component, cache) = self
            .cache
            .compile(&self.engine, wasm, &digest, None)
            .map_err(|e| ComponentError::Prepare {
                id: id.to_owned(),
                source: e.into(),
            })?;
        self.prepare(id, digest, component, cache, None)
    }

    /// Judges a compiled component and pre-instantiates it with its engine's linkers.
    fn prepare(
        &self,
        id: &str,
        digest: [u8; 32],
        component: Component,
        cache: CacheOutcome,
        pending: Option<Pending>,
    ) -> Result<Loaded, ComponentError> {
        let verdict = self.judge(&component);
        let prepare = |e: wasmtime::Error| ComponentError::Prepare {
            id: id.to_owned(),
            source: e.into(),
        };
        // The linkers of the engine that compiled it.
        let engine = component.engine();
        let (tier, fuel, pure, proxy) = match (&self.baseline, &self.fueled) {
            (Some(b), _) if Engine::same(engine, &b.engine) => {
                (Tier::Baseline, FuelChecks::Without, &b.pure, &self.proxy)
            }
            (_, Some(f)) if Engine::same(engine, &f.engine) => {
                (Tier::Optimized, FuelChecks::With, &f.pure, &f.proxy)
            }
            _ => (
                Tier::Optimized,
                FuelChecks::Without,
                &self.pure,
                &self.proxy,
            ),
        };
        let pre = if verdict.is_pure() {
            let pre = pure.instantiate_pre(&component).map_err(prepare)?;
            Some(Pre::new(pre).map_err(prepare)?)
        } else {
            None
        };
        let proxy = (verdict.kind == Kind::HttpProxy)
            .then(|| proxy::prepare(engine, proxy, &component))
            .transpose()
            .map_err(prepare)?;
        Ok(Loaded {
            id: id.to_owned(),
            digest,
            verdict,
            cache,
            tier,
            pending,
            pre,
            proxy,
            habit: Arc::default(),
            fuel,
        })
    }

    /// Reads a wasm file and compiles it (or finds it in the compile cache).
    fn compile(
        &self,
        id: &str,
        path: &Path,
    ) -> Result<(Component, [u8; 32], CacheOutcome), ComponentError> {
        let wasm = read(id, path)?;
        let digest = *blake3::hash(&wasm).as_bytes();
        let (component, outcome) = self
            .cache
            .load_or_compile(&self.engine, &wasm, &digest)
            .map_err(|e| ComponentError::Compile {
                path: path.to_owned(),
                source: e.into(),
            })?;
        Ok((component, digest, outcome))
    }

    /// The policy's verdict on a compiled component, from its import and export names.
    fn judge(&self, component: &Component) -> Verdict {
        let (imports, exports) = self.names(component);
        Verdict::judge(
            imports.iter().map(String::as_str),
            exports.iter().map(String::as_str),
        )
    }

    fn names(&self, component: &Component) -> (Vec<String>, Vec<String>) {
        // The component's own engine: baseline code belongs to Winch's.
        let (ty, engine) = (component.component_type(), component.engine());
        let imports = ty.imports(engine).map(|(n, _)| n.to_owned()).collect();
        let exports = ty.exports(engine).map(|(n, _)| n.to_owned()).collect();
        (imports, exports)
    }

    /// Imports and exports of a wasm file, for `inspect`.
    pub fn describe(
        &self,
        path: &Path,
    ) -> Result<(Vec<String>, Vec<String>, Verdict), ComponentError> {
        let (component, _, _) = self.compile("", path)?;
        let (imports, exports) = self.names(&component);
        let verdict = self.judge(&component);
        Ok((imports, exports, verdict))
    }

    /// Instances in use now: calls running, pure and `wasi:http`.
    pub fn instances_in_use(&self) -> usize {
        self.ticker.in_use()
    }

    /// Runs one pure call in a fresh instance, under `limits` and the request's `deadline`
    /// (whichever ends first). The input comes back with the outcome, for a next call. The
    /// call starts inline and moves to the slow lane if it runs past a tick (see [`lane`]);
    /// `usage` gets what it used, also when it fails (not when the slow lane dropped it).
    pub async fn call_pure(
        &self,
        component: &Loaded,
        limits: CallLimits,
        deadline: Instant,
        input: Input,
        usage: &mut CallUsage,
    ) -> Result<(Outcome, Input), CallError> {
        let Some(pre) = &component.pre else {
            return Err(CallError::NotServable("pure"));
        };
        let wasi = (!component.verdict.stubbed.is_empty())
            .then(|| Box::new(PureWasi::new(&component.digest, &input, limits.memory)));
        // The engine whose code this is: baseline code runs on Winch's engine.
        let mut store = Store::new(
            pre.engine(),
            PureState {
                limiter: Limiter::new(limits.memory),
                wasi,
            },
        );
        store.limiter(|s| &mut s.limiter);
        let deadline = deadline.min(Instant::now() + limits.timeout);
        trap_at(&mut store, deadline);
        let budget = component.fuel.budget(&limits);
        fill_tank(&mut store, budget);
        let (pre, running) = (pre.clone(), self.ticker.running());
        let (start, clock) = (Instant::now(), Arc::new(CpuClock::default()));
        let cpu = clock.clone();
        let call = async move {
            let _running = running;
            let mut used = CallUsage::default();
            let mut instantiated = None;
            let result = {
                let call = std::pin::pin!(pre.call(&mut store, &input, &mut instantiated));
                // A pure call never waits on the world (see virtual_wasi): one that does ends
                // here. The CPU clock is read around each poll, on whichever lane polls it.
                on_cpu_clock(NeverWaits::new(call), &cpu).await
            };
            used.cpu = cpu.used();
            used.wall = start.elapsed();
            used.instantiate = instantiated.map_or(used.wall, |at| at - start);
            used.peak_memory = store.data().limiter.peak;
            used.fuel = fuel_burned(&store, budget);
            let result = match result {
                Ok(Ok(outcome)) => Ok((outcome, input)),
                Ok(Err(e)) => {
                    let panicked = panic::message(&e, &store);
                    Err(CallError::classify(
                        e,
                        limits,
                        store.data().limiter.denied,
                        panicked,
                    ))
                }
                Err(waited) => Err(CallError::Trap(waited.into())),
            };
            (result, used)
        };
        let (result, used) = match lane::run(&component.habit, deadline, call).await {
            Ok(done) => done,
            // Still running on the slow lane (until its own trap): what it used so far.
            Err(unfinished) => {
                let used = CallUsage {
                    cpu: clock.used(),
                    wall: start.elapsed(),
                    ..CallUsage::default()
                };
                let error = match unfinished {
                    lane::Unfinished::Deadline => CallError::Timeout(limits.timeout),
                    lane::Unfinished::Dropped => CallError::Cancelled,
                };
                (Err(error), used)
            }
        };
        *usage = used;
        result
    }

    /// Serves one request with a fresh instance of a `wasi:http/proxy` component (see
    /// [`proxy`]): the request streams in, the response streams out. `held` is kept until the
    /// instance is gone.
    pub async fn call_proxy<B>(
        &self,
        component: &Loaded,
        call: ProxyCall<'_>,
        request: http::Request<B>,
        held: impl Send + 'static,
    ) -> Result<http::Response<ProxyBody>, ProxyError>
    where
        B: hyper::body::Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<wasmtime_wasi_http::Error>,
    {
        let Some(proxy::Prepared::Ready(pre)) = &component.proxy else {
            return Err(CallError::NotServable("wasi:http/proxy").into());
        };
        let host = proxy::Host {
            ticker: &self.ticker,
            fuel: component.fuel.budget(&call.limits),
        };
        let habit = component.habit.clone();
        proxy::call(host, pre, &component.id, habit, call, request, held).await
    }
}

/// The optimizing engine's settings: Cranelift, epoch interruption, and the pooling allocator
/// sized by `settings`.
fn optimizing_config(settings: &EngineSettings) -> Result<Config, ComponentError> {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    // A trap's error then carries the store's memories, where a guest's panic handler left
    // its message (see `panic`). Traps are rare; calls that do not trap pay nothing.
    config.coredump_on_trap(true);
    let mut pool = PoolingAllocationConfig::default();
    let n = settings.max_instances;
    let max_memory =
        usize::try_from(settings.max_memory).map_err(|e| ComponentError::Engine(Box::new(e)))?;
    pool.total_component_instances(n)
        .total_core_instances(n * 4)
        .total_memories(n * 2)
        .total_tables(n * 4)
        .total_stacks(n)
        .max_memory_size(max_memory)
        .table_keep_resident(16 << 10)
        // Memory follows load: a freed instance's slots stay warm (image mapped, up to the
        // keep-resident size resident) for the next instance. wasmtime's default keeps 100
        // warm slots and takes never-used slots until it has them, so a burst spreads over
        // 100+ slots that all stay resident after it. Slots go to their own component first,
        // so a few warm ones per component are enough for reuse.
        .max_unused_warm_slots(WARM_SLOTS);
    // Reset memory that a request dirtied instead of unmapping it: with Linux's PAGEMAP_SCAN
    // only the dirty pages of a slot are reset (by memset), so a large resident prefix costs
    // nothing; without it the prefix is reset whole, so keep it small. Either way no madvise
    // and page faults for the next request on the slot.
    // (Measured on the hello component: 40 µs of CPU per request with 128 KiB memset and
    // dlmalloc growing memory, 20 µs with PAGEMAP_SCAN and the guest's bump allocator.)
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(wasmtime::Enabled::Yes);
        // The guests' initial memory (components/.cargo/config.toml): the scan walks this
        // whole range on every reset, so no wider than what a request usually touches.
        pool.linear_memory_keep_resident(1 << 20);
    } else {
        pool.linear_memory_keep_resident(128 << 10);
    }
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // Tiered, Cranelift compiles in the background on one low-priority thread (see `tier`):
    // its own worker threads would compete with the requests being served.
    config.parallel_compilation(settings.tiers != Tiers::Tiered);
    Ok(config)
}

/// Why a loaded component cannot be served: its refusal text (see [`refusal_message`]).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(String);

/// The bytes of a component's wasm file.
fn read(id: &str, path: &Path) -> Result<Vec<u8>, ComponentError> {
    std::fs::read(path).map_err(|source| ComponentError::Read {
        id: id.to_owned(),
        path: path.to_owned(),
        source,
    })
}

/// Makes sure a loaded component can be served, as pure or as `wasi:http/proxy`, or says why not.
pub fn ensure_servable(loaded: &Loaded) -> Result<(), Refusal> {
    match loaded.proxy_refusals() {
        Some(refused) => Err(Refusal(proxy::policy::refusal_message(&loaded.id, refused))),
        None if loaded.is_proxy() || loaded.verdict.is_pure() => Ok(()),
        None => Err(Refusal(refusal_message(&loaded.id, &loaded.verdict))),
    }
}

/// The refusal text: the component, every offending import, and a hint for each.
pub fn refusal_message(id: &str, verdict: &Verdict) -> String {
    let mut msg = format!("component `{id}` is refused: ");
    if verdict.kind != Kind::Pure {
        msg.push_str(&format!(
            "it is a {} and does not export `handle` of `nebula:pure/handler`",
            verdict.kind
        ));
        if verdict.refused.is_empty() {
            return msg;
        }
        msg.push_str("; also, ");
    }
    let n = verdict.refused.len();
    msg.push_str(&format!(
        "it imports {n} interface{} outside the pure world:",
        if n == 1 { "" } else { "s" }
    ));
    for r in &verdict.refused {
        msg.push_str(&format!("\n  - `{}`\n    hint: {}", r.import, r.hint));
    }
    msg
}
