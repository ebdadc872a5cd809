//! An application: a validated manifest turned into a router, loaded components and effects.
//! Built once at start; shared read-only by every request.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::component::proxy::{Grants, Origin};
use crate::component::slot::{Slot, Sweeper};
use crate::component::{self, CacheOutcome, CallLimits, CompileCache, EngineSettings, Runtime};
use crate::effects::Effects;
use crate::manifest::{ComponentDecl, Limits, Manifest, ReadDeclOp, RouteDecl, Startup};
use crate::memo::{self, Memo};
use crate::router::{MethodMatch, Routed, Router};

/// One step of a route: a component and the limits it runs under.
#[derive(Debug, Clone)]
pub struct Step {
    pub component: Arc<Slot>,
    pub limits: CallLimits,
    /// Set when the component is a `wasi:http/proxy` one: what the manifest grants it. Such a
    /// step is its route's only step, and the server streams the request to it.
    pub proxy: Option<Arc<Grants>>,
}

/// A route, ready to serve.
#[derive(Debug)]
pub struct Route {
    pub decl: RouteDecl,
    pub steps: Vec<Step>,
    /// `METHOD /path`, for logs.
    pub label: String,
    /// Replies may be memoized: the route allows it, cannot write and reads no clock.
    pub memo: bool,
}

/// Everything a request needs, shared by all requests.
#[derive(Debug)]
pub struct App {
    router: Router,
    /// Route index of each router entry: the routes that are not internal.
    public: Vec<usize>,
    startup: Option<Startup>,
    pub routes: Vec<Route>,
    pub runtime: Runtime,
    pub effects: Effects,
    pub memo: Arc<Memo>,
    /// Unloads idle components (only when `up --idle-unload` is given).
    pub sweeper: Arc<Sweeper>,
    started: Instant,
    /// Milliseconds after `started` of the last routed request.
    last_request: AtomicU64,
    /// `[limits] max_header_bytes`: the largest request head the server reads.
    pub max_header_bytes: u64,
}

/// Where the host keeps its files.
#[derive(Debug, Default, Clone)]
pub struct Dirs {
    /// Overrides the manifest's data folder (`--data`, `NEBULA_DATA_DIR`).
    pub data: Option<PathBuf>,
    /// Overrides the compile cache folder (`--cache-dir`, `NEBULA_CACHE_DIR`).
    pub cache: Option<PathBuf>,
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
        let runtime = Runtime::new(&engine_settings(manifest), dirs.cache())?;
        let sweeper = Sweeper::new();
        let mut loaded = BTreeMap::new();
        let mut refusals = Vec::new();
        let mut proxies = BTreeSet::new();
        for (id, decl) in &manifest.components {
            let component = runtime
                .load(id, &decl.path)
                .with_context(|| format!("component `{id}` declared at {}", decl.location))?;
            log_cache(id, &component.cache);
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
        let data = dirs
            .data
            .clone()
            .unwrap_or_else(|| manifest.data_dir.clone());
        let effects = if manifest.collections.is_empty() {
            Effects::none()
        } else {
            Effects::open(&data, &manifest.collections)
                .with_context(|| format!("opening the data folder `{}`", data.display()))?
        };
        let routes = manifest
            .routes
            .iter()
            .map(|decl| Route {
                label: format!("{} {}", method_label(&decl.method), decl.path),
                steps: decl
                    .steps
                    .iter()
                    .map(|id| Step {
                        component: loaded[id].clone(),
                        limits: call_limits(&manifest.components[id].limits),
                        proxy: proxies
                            .contains(id.as_str())
                            .then(|| Arc::new(grants(&manifest.components[id]))),
                    })
                    .collect(),
                memo: decl.memo
                    && decl.may_write.is_empty()
                    && !decl.reads.iter().any(|r| matches!(r.op, ReadDeclOp::Now)),
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
        Ok(App {
            router,
            public,
            routes,
            runtime,
            effects,
            memo: Memo::new(memo::DEFAULT_MAX_BYTES),
            sweeper,
            started: Instant::now(),
            last_request: AtomicU64::new(0),
            max_header_bytes: manifest.max_header_bytes,
            startup: manifest.startup.clone(),
        })
    }

    /// Resolves once no request has been routed for `idle` (never when `None`). Sleeps until
    /// the earliest moment that could be true, so it costs no periodic work.
    pub async fn idle_for(&self, idle: Option<Duration>) {
        let Some(idle) = idle else {
            return std::future::pending().await;
        };
        loop {
            let last = self.last_request.load(Ordering::Relaxed);
            let due = self.started + Duration::from_millis(last) + idle;
            if Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due.into()).await;
        }
    }

    /// Routes a request to one of the public routes.
    pub fn route(&self, method: &str, path: &str) -> Routed {
        let since_start = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_request.store(since_start, Ordering::Relaxed);
        match self.router.route(method, path) {
            Routed::Found { route, params } => Routed::Found {
                route: self.public[route],
                params,
            },
            other => other,
        }
    }

    /// Runs the `[startup]` route if its collection is empty; returns what it answered.
    pub async fn startup(&self) -> anyhow::Result<()> {
        let Some(startup) = &self.startup else {
            return Ok(());
        };
        if !self.effects.is_empty(&startup.when_empty)? {
            return Ok(());
        }
        let route = &self.routes[startup.route];
        eprintln!(
            "startup: collection `{}` is empty; running {}",
            startup.when_empty, route.label
        );
        let method = match &route.decl.method {
            MethodMatch::One(m) => m.clone(),
            MethodMatch::Any => "POST".to_owned(),
        };
        let head = crate::handler::Head {
            method,
            path: route.decl.path.to_string(),
            query: String::new(),
            headers: Vec::new(),
        };
        let reply = crate::handler::run(self, route, head, Vec::new(), bytes::Bytes::new()).await;
        if !(200..300).contains(&reply.status) {
            bail!(
                "the startup route {} answered {}: {}",
                route.label,
                reply.status,
                String::from_utf8_lossy(&reply.body).trim()
            );
        }
        Ok(())
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
        ..EngineSettings::default()
    }
}

fn call_limits(limits: &Limits) -> CallLimits {
    CallLimits {
        memory: limits.memory,
        timeout: limits.timeout.max(Duration::from_millis(1)),
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
        CacheOutcome::Hit => eprintln!("component `{id}`: loaded from cache"),
        CacheOutcome::Compiled {
            millis,
            stored: true,
        } => eprintln!("component `{id}`: compiled in {millis}ms, cached"),
        CacheOutcome::Compiled {
            millis,
            stored: false,
        } => eprintln!("component `{id}`: compiled in {millis}ms"),
        CacheOutcome::Baseline { millis } => eprintln!(
            "component `{id}`: baseline code compiled in {millis}ms serves until the optimized code is compiled"
        ),
        CacheOutcome::Damaged { reason, millis } => eprintln!(
            "component `{id}`: compile cache entry is damaged ({reason}); recompiling (took {millis}ms)"
        ),
    }
}
