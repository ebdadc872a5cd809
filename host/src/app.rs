//! An application: a validated manifest turned into a router, loaded components and effects.
//! Built once at start; shared by every request, which only reads it (and notes its arrival in
//! [`Activity`]). Routing is a lookup here; what happens to a request is handler.rs.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::admission::Gate;
use crate::component::proxy::{Grants, Origin};
use crate::component::slot::{Slot, Sweeper};
use crate::component::{
    self, CacheOutcome, CallLimits, CompileCache, EngineSettings, FuelChecks, Runtime, Start,
};
use crate::effects::Effects;
use crate::guard::Guards;
use crate::manifest::{
    Collection, ComponentDecl, Limits, Manifest, RouteDecl, ServerLimits, Startup, StoreDecl,
};
use crate::memo::{self, Memo};
use crate::metering::{ComponentMeter, Metering, RouteMeter};
use crate::router::{MethodMatch, Routed, Router};

/// One step of a route: a component and the limits it runs under.
#[derive(Debug, Clone)]
pub struct Step {
    pub component: Arc<Slot>,
    pub limits: CallLimits,
    /// The admission of the component's calls, shared by every route that calls it.
    pub gate: Arc<Gate>,
    /// The component's `limits.max_response`: the largest response body it may return.
    pub max_response: u64,
    /// Set when the component is a `wasi:http/proxy` one: what the manifest grants it. Such a
    /// step is its route's only step, and the server streams the request to it.
    pub proxy: Option<Arc<Grants>>,
    /// The component's counters (shared by every step that runs it).
    pub meter: Arc<ComponentMeter>,
}

/// A route, ready to serve.
#[derive(Debug)]
pub struct Route {
    pub decl: RouteDecl,
    pub steps: Vec<Step>,
    /// The request's deadline, from when it is routed: the longest `timeout` of its steps'
    /// components (each call is also bounded by its own component's).
    pub timeout: Duration,
    /// `METHOD /path`, for logs.
    pub label: String,
    /// The steps' component ids, `+`-separated, for the access log.
    pub components: String,
    /// Replies may be memoized (see [`memo::qualifies`]).
    pub memo: bool,
    /// The route's counters.
    pub meter: Arc<RouteMeter>,
}

impl Route {
    /// What the manifest grants the route's `wasi:http` component, when it has one (then it is
    /// the route's only step).
    pub fn proxy(&self) -> Option<&Arc<Grants>> {
        self.steps[0].proxy.as_ref()
    }
}

/// When requests arrive, for `--idle-exit`: noted by the request path, waited on by the server.
#[derive(Debug)]
pub struct Activity {
    started: Instant,
    /// Milliseconds after `started` of the last request.
    last: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            started: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    /// Notes that a request arrived now.
    pub fn record(&self) {
        let since_start = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(since_start, Ordering::Relaxed);
    }

    /// Resolves once no request has arrived for `idle` (never when `None`). Sleeps until the
    /// earliest moment that could be true, so it costs no periodic work.
    pub async fn idle_for(&self, idle: Option<Duration>) {
        let Some(idle) = idle else {
            return std::future::pending().await;
        };
        loop {
            let last = self.last.load(Ordering::Relaxed);
            let due = self.started + Duration::from_millis(last) + idle;
            if Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due.into()).await;
        }
    }
}

/// Everything a request needs, shared by all requests.
#[derive(Debug)]
pub struct App {
    router: Router,
    /// Route index of each router entry: the routes that are not internal.
    public: Vec<usize>,
    /// The `[startup]` route, run by [`crate::handler::startup`].
    pub(crate) startup: Option<Startup>,
    /// Every route of the manifest, internal ones included, in manifest order.
    pub(crate) routes: Vec<Route>,
    pub(crate) runtime: Runtime,
    pub(crate) effects: Effects,
    /// Rate limits and tokens, checked before reads and call.
    pub(crate) guards: Guards,
    pub(crate) memo: Arc<Memo>,
    /// Unloads idle components (only when `up --idle-unload` is given).
    pub(crate) sweeper: Arc<Sweeper>,
    /// Shared with the apps that replace this one on reload, so `--idle-exit` sees them all.
    pub(crate) activity: Arc<Activity>,
    /// The server-wide limits: request heads and connections.
    pub(crate) server_limits: ServerLimits,
    /// What requests and calls used, per route and per component.
    pub(crate) metering: Arc<Metering>,
    /// The data folder (the usage log is kept beside it).
    pub(crate) data: PathBuf,
    /// What the engine and the store were made for: a reload reuses them when they match.
    made_for: MadeFor,
}

/// The settings an app's engine and store were made with.
#[derive(Debug, Clone, PartialEq)]
struct MadeFor {
    max_memory: u64,
    max_instances: u32,
    fuel: bool,
    store: StoreDecl,
    collections: BTreeMap<String, Collection>,
}

/// Where the host keeps its files.
#[derive(Debug, Default, Clone)]
pub struct Dirs {
    /// Overrides the manifest's data folder (`--data`, `NEBULA_DATA_DIR`).
    pub data: Option<PathBuf>,
    /// Overrides the compile cache folder (`--cache-dir`, `NEBULA_CACHE_DIR`).
    pub cache: Option<PathBuf>,
    /// Overrides the manifest's `[store]` address (`--store`, `NEBULA_STORE`).
    pub store: Option<crate::manifest::StoreUrl>,
}

impl Dirs {
    fn cache(&self) -> CompileCache {
        CompileCache::new(self.cache.clone().or_else(CompileCache::default_dir))
    }
}

impl App {
    /// Loads every component of the manifest (refusing impure ones, all named at once) and opens
    /// the effects store.
    pub fn from_manifest(manifest: &Manifest, dirs: &Dirs) -> anyhow::Result<App> {
        App::build(manifest, dirs, None)
    }

    /// The app of a changed `manifest`, to replace this one: built whole beside it, reusing its
    /// store (a redb file cannot be opened twice), its engine when the pool settings are the
    /// same, and its activity. Fails, changing nothing, when the store or its collections
    /// changed (those need a restart).
    pub fn reload(&self, manifest: &Manifest, dirs: &Dirs) -> anyhow::Result<App> {
        App::build(manifest, dirs, Some(self))
    }

    fn build(manifest: &Manifest, dirs: &Dirs, previous: Option<&App>) -> anyhow::Result<App> {
        let settings = engine_settings(manifest);
        let mut store = manifest.store.clone();
        if let Some(url) = &dirs.store {
            store.url = url.clone();
        }
        let made_for = MadeFor {
            max_memory: settings.max_memory,
            max_instances: settings.max_instances,
            fuel: settings.fuel,
            store,
            collections: manifest.collections.clone(),
        };
        let data = dirs
            .data
            .clone()
            .unwrap_or_else(|| manifest.data_dir.clone());
        if let Some(previous) = previous {
            let (was, now) = (&previous.made_for, &made_for);
            if was.store != now.store || was.collections != now.collections || previous.data != data
            {
                bail!(
                    "the store, the data folder or the collections changed; they are opened once per process\n  = hint: restart the host to apply that change"
                );
            }
        }
        let runtime = match previous {
            Some(p)
                if (
                    p.made_for.max_memory,
                    p.made_for.max_instances,
                    p.made_for.fuel,
                ) == (settings.max_memory, settings.max_instances, settings.fuel) =>
            {
                p.runtime.clone()
            }
            _ => Runtime::new(&settings, dirs.cache())?,
        };
        let sweeper = Sweeper::new();
        let mut loaded = BTreeMap::new();
        let mut refusals = Vec::new();
        let mut proxies = BTreeSet::new();
        // Loaded side by side, one thread per core (checksums, mapping, compiling a component
        // missing from the cache), then taken in the manifest's order, so that errors and logs
        // stay deterministic.
        let decls: Vec<_> = manifest.components.iter().collect();
        let next = std::sync::atomic::AtomicUsize::new(0);
        let done: Vec<std::sync::OnceLock<Result<_, _>>> =
            decls.iter().map(|_| std::sync::OnceLock::new()).collect();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::thread::scope(|scope| {
            for _ in 0..threads.min(decls.len()) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some((id, decl)) = decls.get(i) else {
                            break;
                        };
                        let fuel = FuelChecks::for_budget(decl.limits.fuel);
                        let start =
                            runtime.load_at_start(id, &decl.path, fuel, component::LATER_BYTES);
                        let _ = done[i].set(start);
                    }
                });
            }
        });
        let results = done
            .into_iter()
            .map(|r| r.into_inner().expect("every component was loaded"));
        let mut later = Vec::new();
        for ((id, decl), start) in manifest.components.iter().zip(results) {
            let start =
                start.with_context(|| format!("component `{id}` declared at {}", decl.location))?;
            let component = match start {
                Start::Now(component) => *component,
                Start::Later(judged) => {
                    tracing::info!(
                        component = %id,
                        "component `{id}`: a pure handler, not in the compile cache; compiled after the host starts listening"
                    );
                    let slot = Slot::later(id, decl.path.clone(), judged.digest, &sweeper);
                    later.push(slot.clone());
                    loaded.insert(id.clone(), slot);
                    continue;
                }
            };
            log_cache(id, &component.cache);
            if let Some(world) = component.world() {
                tracing::info!(component = %id, %world, "component `{id}`: a {world} handler");
            }
            if let Err(e) = component::ensure_servable(&component) {
                refusals.push(format!("{e}\n  declared at {}", decl.location));
            }
            if component.is_proxy() {
                proxies.insert(id.as_str());
            }
            loaded.insert(
                id.clone(),
                Slot::new(component, decl.path.clone(), &sweeper),
            );
        }
        if !refusals.is_empty() {
            bail!("{}", refusals.join("\n"));
        }
        let gates: BTreeMap<&str, Arc<Gate>> = manifest
            .components
            .iter()
            .map(|(id, decl)| {
                let (concurrency, queue) = admission_limits(
                    &decl.limits,
                    settings.max_instances,
                    manifest.components.len(),
                );
                let gate = Gate::new(concurrency, queue, decl.limits.queue_timeout);
                (id.as_str(), Arc::new(gate))
            })
            .collect();
        let seed_guard = manifest.startup.as_ref().map(|s| s.when_empty.clone());
        let effects = match previous {
            Some(p) => p.effects.clone().with_seed_guard(seed_guard),
            None if manifest.collections.is_empty() => Effects::none(),
            None => Effects::open(&made_for.store, &data, &manifest.collections)
                .with_context(|| format!("opening the store `{}`", made_for.store.url))?
                .with_seed_guard(seed_guard),
        };
        let meters: BTreeMap<&str, Arc<ComponentMeter>> = loaded
            .iter()
            .map(|(id, slot)| {
                let meter = ComponentMeter::new(slot.clone(), gates[id.as_str()].clone());
                (id.as_str(), Arc::new(meter))
            })
            .collect();
        let routes = manifest
            .routes
            .iter()
            .map(|decl| Route {
                meter: Arc::new(RouteMeter::new(format!(
                    "{} {}",
                    method_label(&decl.method),
                    decl.path
                ))),
                label: format!("{} {}", method_label(&decl.method), decl.path),
                components: decl.steps.join("+"),
                steps: decl
                    .steps
                    .iter()
                    .map(|id| Step {
                        component: loaded[id].clone(),
                        limits: call_limits(&manifest.components[id].limits),
                        gate: gates[id.as_str()].clone(),
                        max_response: manifest.components[id].limits.max_response,
                        proxy: proxies
                            .contains(id.as_str())
                            .then(|| Arc::new(grants(&manifest.components[id]))),
                        meter: meters[id.as_str()].clone(),
                    })
                    .collect(),
                memo: memo::qualifies(decl),
                timeout: decl
                    .steps
                    .iter()
                    .map(|id| call_limits(&manifest.components[id].limits).timeout)
                    .max()
                    .unwrap_or(Duration::from_millis(1)),
                decl: decl.clone(),
            })
            .collect::<Vec<_>>();
        let misused = misused_proxies(manifest, |id| proxies.contains(id));
        if !misused.is_empty() {
            bail!("{}", misused.join("\n"));
        }
        // Internal routes are run by the host only; HTTP never reaches them.
        let public: Vec<usize> = (0..routes.len())
            .filter(|&i| !routes[i].decl.internal)
            .collect();
        let router = Router::new(
            public
                .iter()
                .map(|&i| (routes[i].decl.method.clone(), routes[i].decl.path.clone())),
        );
        let guards = Guards::new(manifest)?;
        let metering = Metering::new(
            routes.iter().map(|r| r.meter.clone()).collect(),
            meters.into_values().collect(),
        );
        // Only once nothing else can fail: a refused app compiles nothing more.
        component::slot::load_in_background(runtime.clone(), later);
        Ok(App {
            metering: Arc::new(metering),
            data,
            router,
            public,
            routes,
            runtime,
            effects,
            guards,
            memo: Memo::new(memo::DEFAULT_MAX_BYTES),
            sweeper,
            activity: previous.map_or_else(|| Arc::new(Activity::new()), |p| p.activity.clone()),
            made_for,
            server_limits: manifest.server_limits,
            startup: manifest.startup.clone(),
        })
    }

    /// Routes a request to one of the public routes (internal ones are not reachable).
    pub fn route(&self, method: &str, path: &str) -> Routed {
        match self.router.route(method, path) {
            Routed::Found { route, params } => Routed::Found {
                route: self.public[route],
                params,
            },
            other => other,
        }
    }

    /// One component at every path and method, with default limits and no storage (`serve`).
    pub fn single(path: &Path, dirs: &Dirs) -> anyhow::Result<App> {
        let manifest = Manifest::parse(
            Path::new("<serve>"),
            &format!(
                "version = 1\n[components.main]\npath = {}\n[[routes]]\nroute = \"* /{{*path}}\"\ncomponent = \"main\"\n",
                // A TOML string, escaped by the TOML library itself.
                toml::Value::String(
                    path.canonicalize().unwrap_or_else(|_| path.to_owned()).display().to_string()
                )
            ),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut app = App::from_manifest(&manifest, dirs)?;
        app.routes[0].label = format!("serve {}", path.display());
        Ok(app)
    }
}

/// The engine a manifest needs: pool slots as large as its largest memory cap.
pub fn engine_settings(manifest: &Manifest) -> EngineSettings {
    let max_memory = manifest
        .components
        .values()
        .map(|c| c.limits.memory)
        .max()
        .unwrap_or(0);
    EngineSettings {
        max_memory: max_memory.max(manifest.limits.memory),
        fuel: manifest
            .components
            .values()
            .any(|c| c.limits.fuel.is_some()),
        ..EngineSettings::default()
    }
}

/// A component's `concurrency` and `queue`. Unless given, each of the `components` gets an
/// equal share of the instance pool (`pool / components`, at least 1), so that all of them busy
/// at once still fit in the pool and a flood on one never takes another's instances; the queue
/// holds as many requests as may run.
fn admission_limits(limits: &Limits, pool: u32, components: usize) -> (u32, u32) {
    let share = pool / u32::try_from(components.max(1)).unwrap_or(u32::MAX);
    let concurrency = limits.concurrency.unwrap_or(share.max(1));
    (concurrency, limits.queue.unwrap_or(concurrency))
}

fn call_limits(limits: &Limits) -> CallLimits {
    CallLimits {
        memory: limits.memory,
        timeout: limits.timeout.max(Duration::from_millis(1)),
        fuel: limits.fuel,
    }
}

/// What a `wasi:http` component's declaration grants it.
fn grants(decl: &ComponentDecl) -> Grants {
    Grants {
        outbound: decl
            .allowed_outbound_hosts
            .iter()
            .map(|h| Origin {
                https: h.https,
                host: h.host.clone(),
                port: h.port,
            })
            .collect(),
        env: decl.env.clone(),
    }
}

/// Routes that give a `wasi:http` component what only pure handlers can use: a pipeline,
/// storage reads and writes, or the `[startup]` run. One message per route, naming where it is.
pub fn misused_proxies(manifest: &Manifest, is_proxy: impl Fn(&str) -> bool) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, decl) in manifest.routes.iter().enumerate() {
        let Some(id) = decl.steps.iter().find(|id| is_proxy(id)) else {
            continue;
        };
        let problem = if decl.steps.len() > 1 {
            format!(
                "runs wasi:http component `{id}` in a pipeline\n  hint: a wasi:http component \
                 answers the request itself; give it a route of its own with `component = \"{id}\"`"
            )
        } else if !decl.reads.is_empty() || !decl.may_read.is_empty() || !decl.may_write.is_empty()
        {
            format!(
                "gives wasi:http component `{id}` storage `reads`, `may_read` or `may_write`\n  \
                 hint: storage effects are for nebula:pure handlers; remove them from this route"
            )
        } else if decl.rate_limit.is_some() || decl.auth.is_some() {
            format!(
                "gives wasi:http component `{id}` a `rate_limit` or `auth`\n  hint: the host's \
                 guards apply to nebula:pure routes only; check the client in the component"
            )
        } else if manifest.startup.as_ref().is_some_and(|s| s.route == i) {
            format!(
                "runs wasi:http component `{id}` as the `[startup]` route\n  hint: startup runs \
                 a nebula:pure handler that returns writes; use one for seeding"
            )
        } else {
            continue;
        };
        problems.push(format!(
            "route `{} {}` {problem}\n  declared at {}",
            method_label(&decl.method),
            decl.path,
            decl.location
        ));
    }
    problems
}

fn method_label(m: &MethodMatch) -> &str {
    match m {
        MethodMatch::Any => "*",
        MethodMatch::One(m) => m,
    }
}

fn log_cache(id: &str, outcome: &CacheOutcome) {
    match outcome {
        CacheOutcome::Hit => tracing::info!(component = %id, "component `{id}`: loaded from cache"),
        CacheOutcome::Compiled {
            millis,
            stored: true,
        } => tracing::info!(
            component = %id,
            "component `{id}`: compiled in {millis}ms, cached"
        ),
        CacheOutcome::Compiled {
            millis,
            stored: false,
        } => tracing::info!(component = %id, "component `{id}`: compiled in {millis}ms"),
        CacheOutcome::Baseline { millis } => tracing::info!(
            component = %id,
            "component `{id}`: baseline code compiled in {millis}ms serves until the optimized code is compiled"
        ),
        CacheOutcome::Damaged { reason, millis } => tracing::warn!(
            component = %id,
            "component `{id}`: compile cache entry is damaged ({}); recompiling (took {millis}ms)",
            crate::log::Chain(reason)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(text: &str) -> Manifest {
        Manifest::parse("app.toml".as_ref(), &format!("version = 1\n{text}")).unwrap()
    }

    const TWO: &str = "[collections.notes]\n\
        [components.pure]\npath = \"p.wasm\"\n\
        [components.web]\npath = \"w.wasm\"\n";

    #[test]
    fn a_proxy_in_a_pipeline_with_storage_or_at_startup_is_misused_each_named_once() {
        let m = manifest(&format!(
            "{TWO}\
             [[routes]]\nroute = \"GET /both\"\npipeline = [\"pure\", \"web\"]\n\
             [[routes]]\nroute = \"GET /n/{{id}}\"\ncomponent = \"web\"\n\
             reads = [{{ name = \"n\", op = \"get\", collection = \"notes\", key = \"{{id}}\" }}]\n\
             [[routes]]\nroute = \"POST /_seed\"\ncomponent = \"web\"\ninternal = true\n\
             [[routes]]\nroute = \"GET /fine\"\ncomponent = \"web\"\n\
             [[routes]]\nroute = \"GET /pure\"\ncomponent = \"pure\"\nmay_write = [\"notes\"]\n\
             [startup]\nwhen_empty = \"notes\"\nrun = \"POST /_seed\"\n"
        ));
        let problems = misused_proxies(&m, |id| id == "web");
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(
            problems[0]
                .starts_with("route `GET /both` runs wasi:http component `web` in a pipeline")
        );
        assert!(problems[0].contains("app.toml:"));
        assert!(problems[1].contains("`GET /n/{id}` gives wasi:http component `web` storage"));
        assert!(
            problems[2].contains("`POST /_seed` runs wasi:http component `web` as the `[startup]`")
        );
        assert!(misused_proxies(&m, |_| false).is_empty());
    }

    #[test]
    fn the_engine_is_sized_for_the_largest_memory_cap() {
        let m = manifest(
            "[limits]\nmemory = \"8 MiB\"\n\
             [components.small]\npath = \"s.wasm\"\nlimits = { memory = \"2 MiB\" }\n\
             [components.big]\npath = \"b.wasm\"\nlimits = { memory = \"96 MiB\" }\n",
        );
        assert_eq!(engine_settings(&m).max_memory, 96 << 20);
        assert_eq!(
            engine_settings(&manifest("")).max_memory,
            Limits::default().memory
        );
    }

    #[test]
    fn each_component_gets_an_equal_share_of_the_pool_unless_it_says_otherwise() {
        let defaults = Limits::default();
        assert_eq!(admission_limits(&defaults, 256, 1), (256, 256));
        assert_eq!(admission_limits(&defaults, 256, 6), (42, 42));
        assert_eq!(admission_limits(&defaults, 4, 9), (1, 1));
        let own = Limits {
            concurrency: Some(8),
            queue: Some(0),
            ..defaults
        };
        assert_eq!(admission_limits(&own, 256, 6), (8, 0));
    }

    #[test]
    fn a_calls_deadline_is_at_least_a_millisecond() {
        let limits = Limits {
            timeout: Duration::ZERO,
            ..Limits::default()
        };
        assert_eq!(call_limits(&limits).timeout, Duration::from_millis(1));
        assert_eq!(call_limits(&limits).memory, limits.memory);
    }

    #[test]
    fn a_proxy_is_granted_exactly_its_declared_hosts_and_env() {
        let m = manifest(
            "[components.web]\npath = \"w.wasm\"\n\
             allowed_outbound_hosts = [\"https://api.example.com\", \"http://127.0.0.1:8081\"]\n\
             env = { API = \"v1\" }\n",
        );
        let granted = grants(&m.components["web"]);
        let origins: Vec<_> = granted
            .outbound
            .iter()
            .map(|o| (o.https, o.host.as_str(), o.port))
            .collect();
        assert_eq!(
            origins,
            [(true, "api.example.com", 443), (false, "127.0.0.1", 8081)]
        );
        assert_eq!(granted.env, [("API".to_owned(), "v1".to_owned())]);
    }

    #[tokio::test]
    async fn idleness_counts_from_the_last_recorded_request() {
        let activity = Activity::new();
        activity.record();
        let idle = Some(Duration::from_millis(20));
        tokio::time::timeout(Duration::from_secs(30), activity.idle_for(idle))
            .await
            .expect("idle after the last request");
        // Without a limit it never resolves.
        let never = tokio::time::timeout(Duration::from_millis(20), activity.idle_for(None));
        assert!(never.await.is_err());
    }
}
