//! `nebula-host up | serve | check | inspect | new | componentize | usage | top | store gc`: argument
//! parsing and the commands. What a command
//! prints for its user (`check`'s problems, `inspect`'s report, the ready line, the final
//! error) goes to stdout/stderr directly; everything a running host reports is a `tracing` event.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::app::{App, Dirs};
use crate::component::{self, CompileCache, EngineSettings, FuelChecks, Kind, Runtime};
use crate::manifest::Manifest;
use crate::metering::usage::{EnergyModel, UsageLog};
use crate::reload::{Live, Reloader};

const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

#[derive(Debug, Parser)]
#[command(
    name = "nebula-host",
    version,
    about = "Serve pure WebAssembly components over HTTP"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// How a serving host writes its log.
#[derive(Debug, Clone, Copy, clap::Args)]
struct Logging {
    /// `pretty` (readable lines) or `json` (one object per line); filter with `RUST_LOG`
    /// (default `info`; the access log is the target `nebula_host::access`).
    #[arg(
        long,
        value_name = "pretty|json",
        env = "NEBULA_LOG_FORMAT",
        default_value = "pretty"
    )]
    log_format: crate::log::Format,
}

/// Scaling to zero: unload idle components, exit when idle (with socket activation to come back).
#[derive(Debug, Clone, Copy, clap::Args)]
struct Idle {
    /// Unload components unused for this many seconds; the next request loads them again from
    /// the compile cache. 0 keeps them loaded.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    idle_unload: u64,
    /// Exit (gracefully, code 0) after this many seconds without a request. Pair it with socket
    /// activation (`LISTEN_FDS`, e.g. a systemd .socket unit) so the next connection starts the
    /// host again and waits in the socket's backlog meanwhile.
    #[arg(long, value_name = "SECONDS")]
    idle_exit: Option<u64>,
    /// On SIGTERM/SIGINT (or idle exit), let in-flight requests finish for up to this many
    /// seconds before exiting; a second signal exits at once.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::server::DEFAULT_DRAIN.as_secs())]
    drain: u64,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the routes of a manifest until SIGINT or SIGTERM.
    Up {
        manifest: PathBuf,
        /// Address to listen on (default: the manifest's `server.listen`, else 127.0.0.1:8080).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Run each component's `build` command first.
        #[arg(long)]
        build: bool,
        /// Reload when the manifest or a component's `.wasm` changes, and rerun the `build`
        /// command of a component whose sources (under its `build_dir`) change. SIGHUP reloads
        /// with or without it.
        #[arg(long)]
        watch: bool,
        /// Folder for the database (default: the manifest's `data.dir`).
        #[arg(long, env = "NEBULA_DATA_DIR")]
        data: Option<PathBuf>,
        /// Where the collections live: `redb` (a file in the data folder) or
        /// `etcd://HOST:PORT[,HOST:PORT…][/NAMESPACE]` (default: the manifest's `[store]`).
        #[arg(long, env = "NEBULA_STORE", value_name = "URL")]
        store: Option<crate::manifest::StoreUrl>,
        /// Serve `/healthz`, `/readyz` and `/metrics` (Prometheus) on this address, apart from
        /// the application's routes.
        #[arg(long, value_name = "ADDR")]
        admin: Option<SocketAddr>,
        /// Folder for compiled components (default: ~/.cache/nebula).
        #[arg(long, env = "NEBULA_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
        #[command(flatten)]
        idle: Idle,
        #[command(flatten)]
        logging: Logging,
        /// `off` lets every client past the routes' `rate_limit`s: for load tests and
        /// benchmarks on a machine of your own, never for a public site.
        #[arg(long, value_name = "on|off", default_value = "on", value_parser = ["on", "off"])]
        rate_limits: String,
    },
    /// Serve one component at every path, without a manifest.
    Serve {
        component: PathBuf,
        #[arg(long, default_value = DEFAULT_LISTEN)]
        listen: SocketAddr,
        #[arg(long, env = "NEBULA_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
        #[command(flatten)]
        idle: Idle,
        #[command(flatten)]
        logging: Logging,
    },
    /// Validate a manifest and every component it names.
    Check {
        manifest: PathBuf,
        #[arg(long, env = "NEBULA_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Print a component's imports, exports and WIT world, and whether it can be served: as a
    /// pure handler, or as a wasi:http/proxy component (exit 1 if neither).
    Inspect {
        component: PathBuf,
        #[arg(long, env = "NEBULA_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Create a handler project (sources, build command, manifest with a route) that builds and
    /// serves at once: `nebula-host up NAME/nebula.toml --build`.
    New {
        language: crate::scaffold::Language,
        /// The handler's name: lowercase letters, digits and `-`.
        name: String,
        /// Folder to create (default: ./NAME).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Turn a core wasm module carrying `nebula:pure` type metadata (as wit-bindgen's C
    /// generator embeds it) into a pure component.
    Componentize {
        core: PathBuf,
        /// Where to write the component (default: CORE with `.component.wasm`).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Print what each component and route used (CPU-ms, GB-seconds, joules, requests), from
    /// the usage log a host keeps beside its data folder.
    Usage {
        /// The host's data folder (the log is in DATA-usage, beside it).
        #[arg(long, env = "NEBULA_DATA_DIR", default_value = "data")]
        data: PathBuf,
        /// Only the usage of the last DURATION, like 15m, 2h or 7d (default: all).
        #[arg(long, value_name = "DURATION", value_parser = crate::metering::usage::parse_duration)]
        since: Option<Duration>,
        /// One JSON object instead of tables.
        #[arg(long)]
        json: bool,
        /// The energy model: watts drawn by one busy core.
        #[arg(long, value_name = "WATTS", default_value_t = EnergyModel::default().watts_per_core)]
        watts_per_core: f64,
        /// The energy model: watts drawn by one GB of memory in use.
        #[arg(long, value_name = "WATTS", default_value_t = EnergyModel::default().watts_per_gb)]
        watts_per_gb: f64,
    },
    /// Maintenance of a manifest's store while its hosts keep serving.
    Store {
        #[command(subcommand)]
        command: StoreCommand,
    },
    /// A live view of a running host, from its admin listener's `/metrics`: requests per
    /// second, latency, CPU, memo hit rate and errors per route, instances, RSS.
    Top {
        /// The host's `--admin` address.
        admin: SocketAddr,
        /// Stop after this many refreshes (default: until interrupted).
        #[arg(long, value_name = "N")]
        iterations: Option<u64>,
        /// Seconds between refreshes.
        #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
        interval: f64,
    },
}

#[derive(Debug, Subcommand)]
enum StoreCommand {
    /// Delete the chunks of large values that no entry lists any more (left by failed
    /// requests, overwrites and deletes), written at least the grace period ago. Safe while
    /// hosts write; takes at least the grace period. On redb there is nothing to collect.
    Gc {
        manifest: PathBuf,
        /// The store (default: the manifest's `[store]`), as for `up`.
        #[arg(long, env = "NEBULA_STORE", value_name = "URL")]
        store: Option<crate::manifest::StoreUrl>,
        /// Only chunks written at least this long before the sweep may go: longer than any
        /// request takes to write its chunks and commit (at least ten store timeouts).
        #[arg(long, value_name = "DURATION", default_value = "10m",
              value_parser = crate::metering::usage::parse_duration)]
        grace: Duration,
        /// Count what would be deleted; delete nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs the command line (`nebula-host`'s `main`); prints errors with their whole chain.
pub fn main() -> ExitCode {
    crate::memory::tune_allocator();
    let cli = Cli::parse();
    let format = match &cli.command {
        Command::Up { logging, .. } | Command::Serve { logging, .. } => logging.log_format,
        Command::Check { .. }
        | Command::Inspect { .. }
        | Command::New { .. }
        | Command::Componentize { .. }
        | Command::Usage { .. }
        | Command::Top { .. }
        | Command::Store { .. } => crate::log::Format::Pretty,
    };
    crate::log::init(format);
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Up {
            manifest: manifest_path,
            listen,
            build,
            watch,
            data,
            store,
            admin,
            cache_dir,
            idle,
            logging: _,
            rate_limits,
        } => {
            let manifest = Manifest::load(&manifest_path)?;
            if build {
                crate::build::run_all(&manifest)?;
            }
            let dirs = Dirs {
                data,
                cache: cache_dir,
                store,
            };
            let mut app = App::from_manifest(&manifest, &dirs)?;
            let rate_limits = rate_limits == "on";
            if !rate_limits {
                app.guards.disable_rate_limits();
                tracing::warn!("rate limits are off (--rate-limits off): for load tests only");
            }
            let listen = listen
                .or(manifest.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid"));
            let reloading = Reloading {
                source: crate::reload::Source {
                    manifest: manifest_path,
                    dirs,
                    rate_limits,
                },
                manifest,
                watch,
            };
            serve_app(app, listen, admin, idle, true, Some(reloading))
        }
        Command::Serve {
            component,
            listen,
            cache_dir,
            idle,
            logging: _,
        } => {
            let app = App::single(
                &component,
                &Dirs {
                    data: None,
                    cache: cache_dir,
                    store: None,
                },
            )?;
            serve_app(app, listen, None, idle, false, None)
        }
        Command::Check {
            manifest,
            cache_dir,
        } => check(&manifest, cache_dir),
        Command::Inspect {
            component,
            cache_dir,
        } => inspect(&component, cache_dir),
        Command::New {
            language,
            name,
            dir,
        } => crate::scaffold::run(language, &name, dir),
        Command::Componentize { core, output } => crate::componentize::run(&core, output),
        Command::Usage {
            data,
            since,
            json,
            watts_per_core,
            watts_per_gb,
        } => {
            let model = EnergyModel {
                watts_per_core,
                watts_per_gb,
            };
            crate::billing::run(&data, since, json, model)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Store {
            command:
                StoreCommand::Gc {
                    manifest,
                    store,
                    grace,
                    dry_run,
                },
        } => store_gc(&manifest, store, grace, dry_run),
        Command::Top {
            admin,
            iterations,
            interval,
        } => {
            crate::top::run(
                admin,
                iterations,
                Duration::from_secs_f64(interval.max(0.1)),
            )?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `store gc`: sweeps the store the manifest (or `--store`) names of orphaned chunks.
fn store_gc(
    manifest: &Path,
    store: Option<crate::manifest::StoreUrl>,
    grace: Duration,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let manifest = Manifest::load(manifest)?;
    let mut decl = manifest.store.clone();
    if let Some(url) = store {
        decl.url = url;
    }
    if decl.url == crate::manifest::StoreUrl::Redb {
        println!("nothing to collect: redb keeps every value inline");
        return Ok(ExitCode::SUCCESS);
    }
    let floor = decl.timeout * 10;
    anyhow::ensure!(
        grace >= floor,
        "a grace of {grace:?} is shorter than ten store timeouts ({floor:?}): the chunks of a \
         request still being written could go\n  = hint: give `--grace {}s` or more",
        floor.as_secs_f64().ceil()
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    let what = if dry_run { "would delete" } else { "deleted" };
    eprintln!(
        "nebula-host: sweeping `{}` of orphaned chunks written more than {grace:?} ago (this \
         takes at least that long)",
        decl.url
    );
    let swept = runtime.block_on(crate::effects::collect_garbage(&decl, grace, dry_run))?;
    if let Some(s) = swept {
        println!(
            "{what} {} orphaned chunks; kept {} referenced and {} written within the grace \
             ({} rewritten meanwhile); {} chunks, {} entries read",
            s.deleted, s.referenced, s.recent, s.rewritten, s.chunks, s.entries
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// How `up` reloads its app: what it was built from, and whether to watch its files.
struct Reloading {
    source: crate::reload::Source,
    manifest: Manifest,
    watch: bool,
}

/// Serves `app` until shutdown; with `keep_usage`, keeps the usage log beside its data folder;
/// with `reloading`, swaps in a new app on SIGHUP (and on changes, when watching).
fn serve_app(
    app: App,
    listen: SocketAddr,
    admin: Option<SocketAddr>,
    idle: Idle,
    keep_usage: bool,
    reloading: Option<Reloading>,
) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    runtime.block_on(async {
        let listener = listener(listen).await?;
        let addr = listener.local_addr()?;
        crate::handler::startup(&app).await?;
        let app = Arc::new(app);
        let usage = match keep_usage {
            true => Some(Arc::new(tokio::sync::Mutex::new(UsageLog::open(
                &app.data,
                app.metering.clone(),
            )?))),
            false => None,
        };
        if let Some(log) = &usage {
            tokio::spawn(UsageLog::run(log.clone()));
        }
        let live = Live::new(app.clone());
        if let Some(admin) = admin {
            let admin = crate::admin::bind(admin).await?;
            println!("nebula-host: admin on http://{}", admin.local_addr()?);
            tokio::spawn(crate::admin::serve(live.clone(), admin));
        }
        let idle_unload = (idle.idle_unload > 0).then(|| Duration::from_secs(idle.idle_unload));
        match reloading {
            Some(Reloading {
                source,
                manifest,
                watch,
            }) => {
                let reloader =
                    Reloader::new(source, manifest, live.clone(), usage.clone(), idle_unload);
                tokio::spawn(async move {
                    if let Err(e) = reloader.run(watch).await {
                        tracing::error!("reloading stopped: {e:#}");
                    }
                });
            }
            None => {
                if let Some(ttl) = idle_unload {
                    let memo = app.memo.clone();
                    let sweeper = app.sweeper.clone().run(ttl, move || {
                        memo.clear();
                        crate::memory::idle();
                    });
                    tokio::spawn(sweeper);
                }
            }
        }
        let idle_exit = idle.idle_exit.map(Duration::from_secs);
        let shutdown = {
            // Not the app: a reload replaces it, and this would keep it alive.
            let activity = app.activity.clone();
            drop(app);
            async move {
                tokio::select! {
                    () = crate::server::shutdown_signal() => {}
                    () = activity.idle_for(idle_exit) => {
                        tracing::info!("idle for {idle_exit:?}: exiting");
                    }
                }
            }
        };
        println!("nebula-host: serving on http://{addr}");
        let drain = Duration::from_secs(idle.drain);
        crate::server::serve_draining(live, listener, shutdown, drain).await?;
        // The requests since the last lines, so that totals survive the restart.
        if let Some(log) = usage {
            log.lock().await.append()?;
        }
        anyhow::Ok(())
    })?;
    // Guests cut off at the end of the drain may still hold blocking threads: do not wait.
    runtime.shutdown_timeout(Duration::from_millis(100));
    Ok(ExitCode::SUCCESS)
}

/// The socket passed by a socket-activating parent (`LISTEN_FDS`, systemd style), else a new one
/// bound to `listen`.
async fn listener(listen: SocketAddr) -> anyhow::Result<tokio::net::TcpListener> {
    let mut fds = listenfd::ListenFd::from_env();
    match fds
        .take_tcp_listener(0)
        .context("taking the socket passed in LISTEN_FDS")?
    {
        Some(socket) => {
            socket.set_nonblocking(true)?;
            tracing::info!(
                "listening on the socket passed by the parent (LISTEN_FDS); --listen is ignored"
            );
            Ok(tokio::net::TcpListener::from_std(socket)?)
        }
        None => crate::server::bind(listen).await,
    }
}

fn check(path: &Path, cache_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let manifest = match Manifest::load(path) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let runtime = runtime_for(&manifest, cache_dir)?;
    let mut problems = Vec::new();
    let mut proxies = std::collections::BTreeSet::new();
    for (id, decl) in &manifest.components {
        if !decl.path.exists() {
            let hint = match &decl.build {
                Some(b) => format!(
                    "build it with `nebula-host up --build`, or run `{}`",
                    b.command
                ),
                None => "check the `path`, which is relative to the manifest's folder".to_owned(),
            };
            problems.push(format!(
                "error: component `{id}`: file `{}` does not exist\n  --> {}\n  = hint: {hint}",
                decl.path.display(),
                decl.location
            ));
            continue;
        }
        match runtime.load(id, &decl.path, FuelChecks::for_budget(decl.limits.fuel)) {
            Ok(loaded) => {
                if let Err(e) = component::ensure_servable(&loaded) {
                    problems.push(format!("error: {e}\n  --> {}", decl.location));
                }
                if loaded.is_proxy() {
                    proxies.insert(id.as_str());
                }
            }
            Err(e) => problems.push(format!(
                "error: {}\n  --> {}",
                crate::log::Chain(&e),
                decl.location
            )),
        }
    }
    for misuse in crate::app::misused_proxies(&manifest, |id| proxies.contains(id)) {
        problems.push(format!("error: {misuse}"));
    }
    if problems.is_empty() {
        println!(
            "ok: `{}`: {} components, {} routes, {} collections",
            path.display(),
            manifest.components.len(),
            manifest.routes.len(),
            manifest.collections.len()
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for p in &problems {
            eprintln!("{p}\n");
        }
        eprintln!(
            "{} problem{} in `{}`",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            path.display()
        );
        Ok(ExitCode::FAILURE)
    }
}

fn runtime_for(manifest: &Manifest, cache_dir: Option<PathBuf>) -> anyhow::Result<Runtime> {
    // Optimized code only: `check` fills the compile cache for the starts that follow.
    let settings = EngineSettings {
        tiers: component::Tiers::Optimized,
        ..crate::app::engine_settings(manifest)
    };
    Ok(Runtime::new(
        &settings,
        CompileCache::new(cache_dir.or_else(CompileCache::default_dir)),
    )?)
}

fn inspect(path: &Path, cache_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let runtime = Runtime::new(
        &EngineSettings::default(),
        CompileCache::new(cache_dir.or_else(CompileCache::default_dir)),
    )?;
    let (imports, exports, verdict) = runtime.describe(path)?;
    if verdict.kind == Kind::HttpProxy {
        return Ok(inspect_proxy(path, &imports, &exports));
    }
    println!("component: {}", path.display());
    println!("kind:      {}", verdict.kind);
    println!(
        "imports:{}",
        if imports.is_empty() { " (none)" } else { "" }
    );
    for import in &imports {
        let mark = if verdict.stubbed.contains(import) {
            "stubbed: deterministic, inert"
        } else if verdict.refused.iter().any(|r| &r.import == import) {
            "REFUSED"
        } else {
            "pure world: types only"
        };
        println!("  {import}  [{mark}]");
    }
    println!("exports:");
    for export in &exports {
        println!("  {export}");
    }
    crate::componentize::print_world(path);
    if verdict.is_pure() {
        if verdict.stubbed.is_empty() {
            println!("verdict:   pure (imports nothing that can act)");
        } else {
            println!(
                "verdict:   pure ({} WASI imports answered by deterministic stubs: no env, no files, virtual clocks, seeded random)",
                verdict.stubbed.len()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    println!("verdict:   NOT pure");
    println!("{}", component::refusal_message(&id, &verdict));
    Ok(ExitCode::FAILURE)
}

/// `inspect` for a `wasi:http/proxy` component: what each import gives it, and whether the
/// host links them all.
fn inspect_proxy(path: &Path, imports: &[String], exports: &[String]) -> ExitCode {
    use crate::component::proxy::policy;
    println!("component: {}", path.display());
    println!("kind:      wasi:http/proxy component");
    println!(
        "imports:{}",
        if imports.is_empty() { " (none)" } else { "" }
    );
    for import in imports {
        match policy::is_linked(import) {
            true => println!("  {import}  [{}]", policy::capability(import)),
            false => println!("  {import}  [REFUSED]"),
        }
    }
    println!("exports:");
    for export in exports {
        println!("  {export}");
    }
    crate::componentize::print_world(path);
    let refused = policy::judge(imports.iter().map(String::as_str));
    if refused.is_empty() {
        println!(
            "verdict:   servable as a wasi:http/proxy component (not pure: a fresh instance per \
             request, with only what the manifest grants it)"
        );
        println!("capabilities:");
        println!(
            "  outbound HTTP   only to the component's `allowed_outbound_hosts` (none by default)"
        );
        println!("  environment     only the component's `env` (none by default)");
        println!("  files           none (no preopened directories)");
        println!("  stdout, stderr  lines of the host log, prefixed with the component id");
        println!("  clocks, random  real");
        println!("  sockets         never");
        return ExitCode::SUCCESS;
    }
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    println!("verdict:   NOT servable");
    println!("{}", policy::refusal_message(&id, &refused));
    ExitCode::FAILURE
}
