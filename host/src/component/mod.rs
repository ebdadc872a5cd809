//! Everything wasmtime: the engine, the compile cache, the import policy, pre-instantiation, and
//! `call_pure` — one fresh instance per call, from the pooling allocator.
//!
//! This module never touches storage or HTTP; it turns an [`Input`] into an [`Outcome`].

mod bindings;
mod cache;
mod epoch;
pub mod proxy;
pub mod purity;
pub mod slot;
mod tier;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime::{ResourceLimiter, UpdateDeadline};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

pub use bindings::{
    Direction, Entry, Header, Input, Key, ListQuery, Outcome, Page, Put, Read, ReadOp, ReadResult,
    ReadValue, Request, Response, Write,
};
use cache::Lookup;
pub use cache::{CacheOutcome, CompileCache};
pub use purity::{Kind, Verdict};
pub use tier::{Tier, Tiers};

/// Per-call limits (from the manifest, or defaults for `serve`).
#[derive(Debug, Clone, Copy)]
pub struct CallLimits {
    pub memory: u64,
    pub timeout: Duration,
}

/// Why a call produced no outcome.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("ran past its deadline of {0:?}")]
    Timeout(Duration),
    #[error("hit its memory cap of {cap} bytes ({trap})")]
    MemoryCap { cap: u64, trap: String },
    #[error("trapped: {0}")]
    Trap(String),
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
}

impl Default for EngineSettings {
    fn default() -> Self {
        EngineSettings {
            max_memory: 64 << 20,
            max_instances: 256,
            tiers: Tiers::from_env(),
        }
    }
}

/// The engine and linkers shared by every component of a process.
#[derive(Clone)]
pub struct Runtime {
    engine: Engine,
    linker: Arc<Linker<State>>,
    cache: CompileCache,
    ticker: epoch::Ticker,
    /// Winch's engine, for components not in the cache yet (see `tier`).
    baseline: Option<Baseline>,
    tiers: Tiers,
}

/// The baseline compiler's engine and its linker for pure components.
#[derive(Clone)]
struct Baseline {
    engine: Engine,
    linker: Arc<Linker<State>>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// What one store carries: its limits, and WASI stubs only for components that import WASI.
struct State {
    limiter: Limiter,
    wasi: Option<Box<(WasiCtx, ResourceTable)>>,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let (ctx, table) = &mut **self
            .wasi
            .as_mut()
            .expect("invariant: a store gets WASI stubs whenever its component imports WASI");
        WasiCtxView { ctx, table }
    }
}

/// Caps linear memory and remembers whether the cap was what stopped the guest.
struct Limiter {
    cap: u64,
    denied: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _: usize,
        desired: usize,
        _: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = desired as u64 <= self.cap;
        self.denied |= !ok;
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
    pending: Option<tier::Pending>,
    pre: Option<bindings::HandlerPre<State>>,
    /// Set for a `wasi:http/proxy` component: pre-instantiated, or refused for its imports.
    proxy: Option<proxy::Prepared>,
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

impl Runtime {
    pub fn new(settings: &EngineSettings, cache: CompileCache) -> anyhow::Result<Runtime> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        let mut pool = PoolingAllocationConfig::default();
        let n = settings.max_instances;
        pool.total_component_instances(n)
            .total_core_instances(n * 4)
            .total_memories(n * 2)
            .total_tables(n * 4)
            .total_stacks(n)
            .max_memory_size(usize::try_from(settings.max_memory).context("memory cap too large")?)
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
        let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
        let mut linker = Linker::<State>::new(&engine);
        link_stubs(&mut linker)?;
        let baseline = if settings.tiers.uses_baseline() {
            let engine = Engine::new(&tier::baseline_config()).map_err(anyhow::Error::from)?;
            let mut linker = Linker::<State>::new(&engine);
            link_stubs(&mut linker)?;
            Some(Baseline {
                engine,
                linker: Arc::new(linker),
            })
        } else {
            None
        };
        let mut engines = vec![engine.weak()];
        engines.extend(baseline.as_ref().map(|b| b.engine.weak()));
        let ticker = epoch::Ticker::new(engines);
        Ok(Runtime {
            engine,
            linker: Arc::new(linker),
            cache,
            ticker,
            baseline,
            tiers: settings.tiers,
        })
    }

    /// Reads, judges and (if servable) pre-instantiates a component: from the cache, else on
    /// baseline code (a pure component, when tiered) or compiled optimized now.
    pub fn load(&self, id: &str, path: &Path) -> anyhow::Result<Loaded> {
        let wasm = std::fs::read(path)
            .with_context(|| format!("reading component `{id}` from `{}`", path.display()))?;
        let digest = *blake3::hash(&wasm).as_bytes();
        let compiling = || format!("compiling component `{id}` (`{}`)", path.display());
        let damaged = match self.cache.lookup(&self.engine, &digest) {
            Lookup::Hit(component) => {
                return self.prepare(id, digest, component, CacheOutcome::Hit, None);
            }
            Lookup::Miss => None,
            // A damaged entry is replaced before serving, so the next start finds it whole.
            Lookup::Damaged(reason) => Some(reason),
        };
        if damaged.is_none()
            && let Some(loaded) = self.load_baseline(id, &wasm, digest)
        {
            return Ok(loaded);
        }
        let (component, cache) = self
            .cache
            .compile(&self.engine, &wasm, &digest, damaged)
            .with_context(compiling)?;
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
                eprintln!(
                    "component `{id}`: the baseline compiler cannot compile it ({e}); compiling optimized code now"
                );
                return None;
            }
        };
        let millis = start.elapsed().as_millis();
        if !self.judge(&component).is_pure() {
            return None;
        }
        let pending = (self.tiers == Tiers::Tiered).then(|| tier::Pending {
            runtime: self.clone(),
            wasm: wasm.into(),
        });
        let cache = CacheOutcome::Baseline { millis };
        match self.prepare(id, digest, component, cache, pending) {
            Ok(loaded) => Some(loaded),
            Err(e) => {
                eprintln!("component `{id}`: {e:#}; compiling optimized code now");
                None
            }
        }
    }

    /// Compiles the optimized code of a component and stores it in the cache (the background
    /// half of tiering).
    fn optimize(&self, id: &str, wasm: &[u8], digest: [u8; 32]) -> anyhow::Result<Loaded> {
        let (component, cache) = self
            .cache
            .compile(&self.engine, wasm, &digest, None)
            .with_context(|| format!("compiling component `{id}`"))?;
        self.prepare(id, digest, component, cache, None)
    }

    /// Judges a compiled component and pre-instantiates it with its engine's linker.
    fn prepare(
        &self,
        id: &str,
        digest: [u8; 32],
        component: Component,
        cache: CacheOutcome,
        pending: Option<tier::Pending>,
    ) -> anyhow::Result<Loaded> {
        let verdict = self.judge(&component);
        let (tier, linker) = match &self.baseline {
            Some(b) if Engine::same(component.engine(), &b.engine) => (Tier::Baseline, &b.linker),
            _ => (Tier::Optimized, &self.linker),
        };
        let pre = if verdict.is_pure() {
            let pre = linker
                .instantiate_pre(&component)
                .map_err(anyhow::Error::from)
                .and_then(|p| bindings::HandlerPre::new(p).map_err(anyhow::Error::from))
                .with_context(|| format!("preparing component `{id}`"))?;
            Some(pre)
        } else {
            None
        };
        let proxy = (verdict.kind == Kind::HttpProxy)
            .then(|| proxy::prepare(&self.engine, &component))
            .transpose()
            .with_context(|| format!("preparing wasi:http component `{id}`"))?;
        Ok(Loaded {
            id: id.to_owned(),
            digest,
            verdict,
            cache,
            tier,
            pending,
            pre,
            proxy,
        })
    }

    /// The import names and export names of a compiled component, and the policy's verdict.
    pub fn judge(&self, component: &Component) -> Verdict {
        let (ty, engine) = (component.component_type(), component.engine());
        let imports: Vec<String> = ty.imports(engine).map(|(n, _)| n.to_owned()).collect();
        let exports: Vec<String> = ty.exports(engine).map(|(n, _)| n.to_owned()).collect();
        Verdict::judge(
            imports.iter().map(String::as_str),
            exports.iter().map(String::as_str),
        )
    }

    /// Imports and exports of a wasm file, for `inspect`.
    pub fn describe(&self, path: &Path) -> anyhow::Result<(Vec<String>, Vec<String>, Verdict)> {
        let wasm = std::fs::read(path).with_context(|| format!("reading `{}`", path.display()))?;
        let digest = *blake3::hash(&wasm).as_bytes();
        let (component, _) = self
            .cache
            .load_or_compile(&self.engine, &wasm, &digest)
            .with_context(|| format!("`{}` is not a valid component", path.display()))?;
        let ty = component.component_type();
        let imports = ty
            .imports(&self.engine)
            .map(|(n, _)| n.to_owned())
            .collect();
        let exports = ty
            .exports(&self.engine)
            .map(|(n, _)| n.to_owned())
            .collect();
        let verdict = self.judge(&component);
        Ok((imports, exports, verdict))
    }

    /// Runs one pure call in a fresh instance, under `limits`.
    pub async fn call_pure(
        &self,
        component: &Loaded,
        limits: CallLimits,
        input: &Input,
    ) -> Result<Outcome, CallError> {
        let Some(pre) = &component.pre else {
            return Err(CallError::Trap(format!(
                "component `{}` is not servable as pure",
                component.id
            )));
        };
        let wasi =
            (!component.verdict.stubbed.is_empty()).then(|| Box::new(deterministic_wasi(input)));
        // The engine whose code this is: baseline code runs on Winch's engine.
        let mut store = Store::new(
            pre.engine(),
            State {
                limiter: Limiter {
                    cap: limits.memory,
                    denied: false,
                },
                wasi,
            },
        );
        store.limiter(|s| &mut s.limiter);
        trap_at(&mut store, Instant::now() + limits.timeout);
        let _running = self.ticker.running();
        let result = async {
            let handler = pre.instantiate_async(&mut store).await?;
            handler.call_handle(&mut store, input).await
        }
        .await;
        result.map_err(|e| CallError::classify(e, limits, store.data().limiter.denied))
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

/// Makes the store's guest yield at every epoch tick and trap with [`DeadlineExceeded`] once
/// `deadline` has passed. The epoch ticks only while calls run (see `epoch`).
fn trap_at<T: 'static>(store: &mut Store<T>, deadline: Instant) {
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Err(wasmtime::Error::new(DeadlineExceeded))
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
}

impl CallError {
    /// Names what stopped a call: the deadline, the memory cap (`denied`: the limiter refused
    /// a growth), or any other trap.
    fn classify(e: wasmtime::Error, limits: CallLimits, denied: bool) -> CallError {
        if e.downcast_ref::<DeadlineExceeded>().is_some() {
            CallError::Timeout(limits.timeout)
        } else if denied {
            CallError::MemoryCap {
                cap: limits.memory,
                trap: format!("{e:#}"),
            }
        } else {
            CallError::Trap(format!("{e:#}"))
        }
    }
}

#[derive(Debug)]
struct DeadlineExceeded;

impl std::fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("deadline exceeded")
    }
}

impl std::error::Error for DeadlineExceeded {}

/// Links the deterministic stub set of [`purity::STUBBED`] (never sockets or outgoing HTTP).
fn link_stubs(linker: &mut Linker<State>) -> anyhow::Result<()> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
    use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView};
    use wasmtime_wasi::p2::bindings::{cli, clocks, filesystem, random};
    use wasmtime_wasi::random::WasiRandom;

    let l = linker;
    let mut r = || -> wasmtime::Result<()> {
        wasmtime_wasi_io::bindings::wasi::io::error::add_to_linker::<State, HasTable>(l, |s| {
            table(s)
        })?;
        wasmtime_wasi_io::bindings::wasi::io::poll::add_to_linker::<State, HasTable>(l, |s| {
            table(s)
        })?;
        wasmtime_wasi_io::bindings::wasi::io::streams::add_to_linker::<State, HasTable>(l, |s| {
            table(s)
        })?;
        clocks::wall_clock::add_to_linker::<State, WasiClocks>(l, |s| s.clocks())?;
        clocks::monotonic_clock::add_to_linker::<State, WasiClocks>(l, |s| s.clocks())?;
        random::random::add_to_linker::<State, WasiRandom>(l, |s| s.ctx().ctx.random())?;
        random::insecure::add_to_linker::<State, WasiRandom>(l, |s| s.ctx().ctx.random())?;
        random::insecure_seed::add_to_linker::<State, WasiRandom>(l, |s| s.ctx().ctx.random())?;
        filesystem::types::add_to_linker::<State, WasiFilesystem>(l, |s| s.filesystem())?;
        filesystem::preopens::add_to_linker::<State, WasiFilesystem>(l, |s| s.filesystem())?;
        cli::exit::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
        cli::environment::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
        cli::stdin::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
        cli::stdout::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
        cli::stderr::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
        cli::terminal_input::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
        cli::terminal_output::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
        cli::terminal_stdin::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
        cli::terminal_stdout::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
        cli::terminal_stderr::add_to_linker::<State, WasiCli>(l, |s| s.cli())?;
        Ok(())
    };
    r().map_err(anyhow::Error::from)
        .context("linking the deterministic WASI stubs")
}

struct HasTable;
impl wasmtime::component::HasData for HasTable {
    type Data<'a> = &'a mut ResourceTable;
}

fn table(state: &mut State) -> &mut ResourceTable {
    state.ctx().table
}

/// A WASI context whose every answer is a function of the input: no environment, arguments or
/// preopened directories, empty stdin, discarded output, clocks frozen at the Unix epoch, and
/// random bytes from a seed derived from the input.
fn deterministic_wasi(input: &Input) -> (WasiCtx, ResourceTable) {
    let mut seed = blake3::Hasher::new();
    seed.update(input.request.method.as_bytes());
    seed.update(input.request.path.as_bytes());
    seed.update(input.request.query.as_bytes());
    seed.update(&input.request.body);
    let seed = seed.finalize();
    let ctx = WasiCtx::builder()
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock)
        .secure_random(wasmtime_wasi::Deterministic::new(seed.as_bytes().to_vec()))
        .insecure_random(wasmtime_wasi::Deterministic::new(
            seed.as_bytes()[16..].to_vec(),
        ))
        .insecure_random_seed(u128::from_le_bytes(
            seed.as_bytes()[..16].try_into().expect("16 bytes"),
        ))
        .build();
    (ctx, ResourceTable::new())
}

/// A clock that never moves: time is an effect, so a pure handler sees the Unix epoch.
struct FrozenClock;

impl wasmtime_wasi::HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }
    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl wasmtime_wasi::HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }
    fn now(&self) -> u64 {
        0
    }
}

/// Makes sure a loaded component can be served, as pure or as `wasi:http/proxy`, or says why not.
pub fn ensure_servable(loaded: &Loaded) -> anyhow::Result<()> {
    match loaded.proxy_refusals() {
        Some(refused) => bail!("{}", proxy::policy::refusal_message(&loaded.id, refused)),
        None if loaded.is_proxy() => Ok(()),
        None => ensure_pure(loaded),
    }
}

/// Makes sure a loaded component can be served as pure, or says why not.
pub fn ensure_pure(loaded: &Loaded) -> anyhow::Result<()> {
    if loaded.verdict.is_pure() {
        return Ok(());
    }
    bail!("{}", refusal_message(&loaded.id, &loaded.verdict))
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
