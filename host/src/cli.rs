//! `nebula-host up | serve | check | inspect`: argument parsing and the four commands.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use crate::app::{App, Dirs};
use crate::component::{self, CompileCache, EngineSettings, Kind, Runtime};
use crate::manifest::Manifest;

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
        /// Folder for the database (default: the manifest's `data.dir`).
        #[arg(long, env = "NEBULA_DATA_DIR")]
        data: Option<PathBuf>,
        /// Folder for compiled components (default: ~/.cache/nebula).
        #[arg(long, env = "NEBULA_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Serve one component at every path, without a manifest.
    Serve {
        component: PathBuf,
        #[arg(long, default_value = DEFAULT_LISTEN)]
        listen: SocketAddr,
        #[arg(long, env = "NEBULA_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Validate a manifest and every component it names.
    Check {
        manifest: PathBuf,
        #[arg(long, env = "NEBULA_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
    /// Print a component's imports and exports, and whether it is pure (exit 1 if not).
    Inspect {
        component: PathBuf,
        #[arg(long, env = "NEBULA_CACHE_DIR")]
        cache_dir: Option<PathBuf>,
    },
}

/// Runs the command line; prints errors with their whole chain.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
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
            manifest,
            listen,
            build,
            data,
            cache_dir,
        } => {
            let manifest = Manifest::load(&manifest)?;
            if build {
                run_builds(&manifest)?;
            }
            let app = App::from_manifest(
                &manifest,
                &Dirs {
                    data,
                    cache: cache_dir,
                },
            )?;
            let listen = listen
                .or(manifest.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid"));
            serve_app(app, listen)
        }
        Command::Serve {
            component,
            listen,
            cache_dir,
        } => {
            let app = App::single(
                &component,
                &Dirs {
                    data: None,
                    cache: cache_dir,
                },
            )?;
            serve_app(app, listen)
        }
        Command::Check {
            manifest,
            cache_dir,
        } => check(&manifest, cache_dir),
        Command::Inspect {
            component,
            cache_dir,
        } => inspect(&component, cache_dir),
    }
}

fn serve_app(app: App, listen: SocketAddr) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    runtime.block_on(async {
        let listener = crate::server::bind(listen).await?;
        let addr = listener.local_addr()?;
        app.startup().await?;
        println!("nebula-host: serving on http://{addr}");
        crate::server::serve(Arc::new(app), listener, crate::server::shutdown_signal()).await
    })?;
    Ok(ExitCode::SUCCESS)
}

fn run_builds(manifest: &Manifest) -> anyhow::Result<()> {
    for (id, decl) in &manifest.components {
        let Some(build) = &decl.build else { continue };
        eprintln!(
            "component `{id}`: building: {} (in {})",
            build.command,
            build.dir.display()
        );
        let start = std::time::Instant::now();
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(&build.command)
            .current_dir(&build.dir)
            .status()
            .with_context(|| format!("running the build command of component `{id}`"))?;
        if !status.success() {
            bail!(
                "the build command of component `{id}` failed ({status}): `{}`\n  declared at {}",
                build.command,
                decl.location
            );
        }
        eprintln!(
            "component `{id}`: built in {:.1}s",
            start.elapsed().as_secs_f64()
        );
    }
    Ok(())
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
        match runtime.load(id, &decl.path) {
            Ok(loaded) => {
                if let Err(e) = component::ensure_pure(&loaded) {
                    problems.push(format!("error: {e}\n  --> {}", decl.location));
                }
            }
            Err(e) => problems.push(format!("error: {e:#}\n  --> {}", decl.location)),
        }
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
    let max_memory = manifest
        .components
        .values()
        .map(|c| c.limits.memory)
        .max()
        .unwrap_or(0);
    let settings = EngineSettings {
        max_memory: max_memory.max(manifest.limits.memory),
        ..Default::default()
    };
    Runtime::new(
        &settings,
        CompileCache::new(cache_dir.or_else(CompileCache::default_dir)),
    )
}

fn inspect(path: &Path, cache_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let runtime = Runtime::new(
        &EngineSettings::default(),
        CompileCache::new(cache_dir.or_else(CompileCache::default_dir)),
    )?;
    let (imports, exports, verdict) = runtime.describe(path)?;
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
    if verdict.is_pure() {
        if verdict.stubbed.is_empty() {
            println!("verdict:   pure (imports nothing that can act)");
        } else {
            println!(
                "verdict:   pure ({} WASI imports answered by deterministic stubs: no env, no files, frozen clocks, seeded random)",
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
    if verdict.kind == Kind::HttpProxy
        && verdict
            .refused
            .iter()
            .all(|r| r.import.starts_with("wasi:"))
    {
        println!("  (a wasi:http/proxy component; it is not a nebula:pure handler)");
    }
    println!("{}", component::refusal_message(&id, &verdict));
    Ok(ExitCode::FAILURE)
}
