//! Components' `build` commands: run by `up --build` for all of them before serving, and by
//! `up --watch` for one whose sources changed. The command's own output goes to the host's
//! stdout and stderr, so a compiler's errors show where the host was started.
//!
//! It runs commands and checks their output file exists; it never loads a component.

use std::time::Instant;

use anyhow::{Context, bail};

use crate::manifest::{ComponentDecl, Manifest};

/// Runs the `build` command of every component that has one, in manifest order; stops at the
/// first that fails.
pub fn run_all(manifest: &Manifest) -> anyhow::Result<()> {
    for decl in manifest.components.values() {
        run(decl)?;
    }
    Ok(())
}

/// Runs the component's `build` command, if it has one, and checks that it made the `path`.
pub fn run(decl: &ComponentDecl) -> anyhow::Result<()> {
    let Some(build) = &decl.build else {
        return Ok(());
    };
    let id = &decl.id;
    tracing::info!(
        component = %id,
        "component `{id}`: building: {} (in {})",
        build.command,
        build.dir.display()
    );
    let start = Instant::now();
    let status = std::process::Command::new("sh")
        .arg("-c")
        .arg(&build.command)
        .current_dir(&build.dir)
        // So that a build script can call `$NEBULA_HOST componentize` (the C template does).
        .envs(std::env::current_exe().ok().map(|exe| ("NEBULA_HOST", exe)))
        .status()
        .with_context(|| format!("running the build command of component `{id}`"))?;
    if !status.success() {
        bail!(
            "the build command of component `{id}` failed ({status}): `{}`\n  declared at {}",
            build.command,
            decl.location
        );
    }
    tracing::info!(
        component = %id,
        "component `{id}`: built in {:.1}s",
        start.elapsed().as_secs_f64()
    );
    if !decl.path.exists() {
        bail!(
            "the build command of component `{id}` succeeded but made no `{}`\n  declared at {}\n  = hint: {}",
            decl.path.display(),
            decl.location,
            missing_output_hint()
        );
    }
    Ok(())
}

/// Why a build that succeeded may have written elsewhere than the manifest's `path`.
fn missing_output_hint() -> String {
    let moved = ["CARGO_TARGET_DIR", "CARGO_BUILD_TARGET_DIR"]
        .into_iter()
        .find_map(|name| Some((name, std::env::var(name).ok()?)));
    match moved {
        Some((name, dir)) => format!(
            "{name} is set (`{dir}`), so cargo wrote there; pass `--target-dir` in the build \
             command (as manifests/demo.toml does) or unset {name}"
        ),
        None => "make the build command write to the component's `path`".to_owned(),
    }
}
