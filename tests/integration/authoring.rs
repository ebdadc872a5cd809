//! Getting started in any language: `nebula-host new rust|python|js|c NAME` makes a project that
//! builds and serves at once (real builds with the real toolchains, real HTTP), `componentize`
//! turns the C handler's core module into a pure component, `inspect` prints the WIT world, and a
//! handler built with `cargo component build` passes `check` and serves.
//!
//! The toolchains come from scripts/setup.sh: cargo with wasm32-wasip2, componentize-py,
//! ComponentizeJS (npm), clang with wasi-libc and wit-bindgen, cargo-component.

use crate::harness::{Host, Manifest, c_guest, guests, repo_root, run_cli};
use anyhow::{Context, Result, ensure};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `nebula-host new LANGUAGE NAME --dir TEMP/NAME`; the temp folder and the project's folder.
fn new_project(language: &str, name: &str) -> Result<(tempfile::TempDir, PathBuf)> {
    let temp = tempfile::tempdir()?;
    let dir = temp.path().join(name);
    let output = run_cli(&[&"new", &language, &name, &"--dir", &dir])?;
    ensure!(output.code == Some(0), "{output}");
    ensure!(
        output.stdout.contains(&format!(
            "nebula-host up {}",
            dir.join("nebula.toml").display()
        )),
        "new does not say how to serve it: {output}"
    );
    Ok((temp, dir))
}

/// Builds and serves the project in `dir` with `up --build` (with `env` added), then checks the
/// greeting the templates share.
fn builds_and_serves(dir: &Path, env: &[(&str, &Path)]) -> Result<Host> {
    let host = Host::up_building(&dir.join("nebula.toml"), &[], env)?;
    let reply = host.get("/hello/nebula")?;
    ensure!(
        reply.status == 200 && reply.text() == "Hello, nebula!\n",
        "GET /hello/nebula: {} {:?}\nhost log:\n{}",
        reply.status,
        reply.text(),
        host.log()
    );
    ensure!(
        reply.header("content-type") == Some("text/plain; charset=utf-8"),
        "{:?}",
        reply.header("content-type")
    );
    Ok(host)
}

/// The Rust template, built by `up --build` while CARGO_TARGET_DIR points elsewhere (as in many
/// developers' shells): the build command names its target dir, so the wasm lands where the
/// manifest looks and nothing goes to the foreign folder.
#[test]
fn new_rust_builds_and_serves_even_with_cargo_target_dir_set() -> Result<()> {
    let (temp, dir) = new_project("rust", "greet")?;
    let elsewhere = temp.path().join("elsewhere");
    let host = builds_and_serves(&dir, &[("CARGO_TARGET_DIR", &elsewhere)])?;
    ensure!(
        dir.join("target/wasm32-wasip2/release/greet.wasm")
            .is_file(),
        "no wasm where the manifest looks"
    );
    ensure!(!elsewhere.exists(), "the build wrote to CARGO_TARGET_DIR");
    host.wait_for_log_line(&["component `greet`: built in"])?;
    Ok(())
}

#[test]
fn new_python_builds_and_serves() -> Result<()> {
    let (_temp, dir) = new_project("python", "greet-py")?;
    builds_and_serves(&dir, &[])?;
    Ok(())
}

#[test]
fn new_js_builds_and_serves() -> Result<()> {
    let (_temp, dir) = new_project("js", "greet-js")?;
    builds_and_serves(&dir, &[])?;
    Ok(())
}

/// The C template: its build script calls `$NEBULA_HOST componentize`, which `up --build` sets.
#[test]
fn new_c_builds_and_serves() -> Result<()> {
    let (_temp, dir) = new_project("c", "greet-c")?;
    builds_and_serves(&dir, &[])?;
    ensure!(dir.join("greet_c.wasm").is_file());
    Ok(())
}

#[test]
fn new_refuses_a_bad_name_and_a_folder_in_use() -> Result<()> {
    let output = run_cli(&[&"new", &"rust", &"Bad_Name"])?;
    ensure!(output.code == Some(1), "{output}");
    ensure!(
        output.stderr.contains("`Bad_Name` cannot name a handler")
            && output.stderr.contains("e.g."),
        "{output}"
    );
    let temp = tempfile::tempdir()?;
    std::fs::write(temp.path().join("mine.txt"), "keep me")?;
    let output = run_cli(&[&"new", &"c", &"x", &"--dir", &temp.path()])?;
    ensure!(output.code == Some(1), "{output}");
    ensure!(output.stderr.contains("is not empty"), "{output}");
    ensure!(std::fs::read_to_string(temp.path().join("mine.txt"))? == "keep me");
    ensure!(
        std::fs::read_dir(temp.path())?.count() == 1,
        "new wrote files"
    );
    Ok(())
}

/// The demo's C handler was made by `componentize`: a pure component whose world `inspect` prints.
#[test]
fn the_componentized_c_handler_inspects_as_pure_with_its_world() -> Result<()> {
    let output = run_cli(&[&"inspect", &c_guest()])?;
    ensure!(output.code == Some(0), "{output}");
    ensure!(
        output
            .stdout
            .contains("verdict:   pure (imports nothing that can act)"),
        "{output}"
    );
    ensure!(output.stdout.contains("world:\n"), "{output}");
    ensure!(
        output.stdout.contains("import nebula:pure/types@0.1.0;")
            && output
                .stdout
                .contains("export handle: func(input: input) -> outcome;"),
        "{output}"
    );
    // Rust handlers print the same world.
    let rust = run_cli(&[&"inspect", &guests().hello])?;
    ensure!(
        rust.stdout
            .contains("export handle: func(input: input) -> outcome;"),
        "{rust}"
    );
    Ok(())
}

#[test]
fn componentize_refuses_what_cannot_be_a_pure_component() -> Result<()> {
    let temp = tempfile::tempdir()?;
    // An empty core module: no type metadata.
    let empty = temp.path().join("empty.wasm");
    std::fs::write(&empty, b"\0asm\x01\0\0\0")?;
    let output = run_cli(&[&"componentize", &empty])?;
    ensure!(output.code == Some(1), "{output}");
    ensure!(
        output.stderr.contains("no component type metadata")
            && output.stderr.contains("handler_component_type.o"),
        "{output}"
    );
    // A component is not a core module.
    let output = run_cli(&[&"componentize", &guests().hello])?;
    ensure!(
        output.code == Some(1) && output.stderr.contains("already a component"),
        "{output}"
    );
    // The C handler with a `printf`: wasi-libc's stdio imports WASI, and componentize names it.
    let core = c_guest()
        .parent()
        .context("a folder")?
        .join("hello-c/hello_c.core.wasm");
    ensure!(core.is_file(), "{}", core.display());
    let source = std::fs::read_to_string(repo_root().join("components/hello-c/handler.c"))?;
    let leaky = temp.path().join("leaky.c");
    std::fs::write(
        &leaky,
        source.replace(
            "#include <stdlib.h>",
            "#include <stdio.h>\n#include <stdlib.h>",
        ) + "\n__attribute__((export_name(\"shout\"))) void shout(void) { printf(\"hi\\n\"); }\n",
    )?;
    let generated = core.parent().context("a folder")?;
    let leaky_core = temp.path().join("leaky.core.wasm");
    let clang = Command::new("clang")
        .args(["--target=wasm32-wasi", "-O2", "-mexec-model=reactor"])
        .arg(format!("-I{}", generated.display()))
        .arg("-o")
        .arg(&leaky_core)
        .arg(&leaky)
        .arg(generated.join("handler.c"))
        .arg(generated.join("handler_component_type.o"))
        .output()?;
    ensure!(
        clang.status.success(),
        "{}",
        String::from_utf8_lossy(&clang.stderr)
    );
    let output = run_cli(&[
        &"componentize",
        &leaky_core,
        &"-o",
        &temp.path().join("x.wasm"),
    ])?;
    ensure!(output.code == Some(1), "{output}");
    ensure!(
        output.stderr.contains("wasi_snapshot_preview1/fd_write")
            && output.stderr.contains("no stdio"),
        "{output}"
    );
    ensure!(
        !temp.path().join("x.wasm").exists(),
        "an output was written"
    );
    Ok(())
}

/// A handler made the cargo-component way (std Rust, wasm32-wasip1 and the WASI adapter): its
/// WASI imports are the inert ones the host stubs, so it is pure, passes `check` and serves.
#[test]
fn a_cargo_component_handler_passes_check_and_serves() -> Result<()> {
    let dir = repo_root().join("components/cargo-component-hello");
    let mut build = Command::new("cargo");
    build
        .args(["component", "build", "--release", "--locked"])
        .current_dir(&dir);
    crate::harness::scrub_outer_cargo_env(&mut build);
    let output = build.output().context("running `cargo component build`")?;
    ensure!(
        output.status.success(),
        "cargo component build failed; did scripts/setup.sh run?\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let wasm = repo_root().join("target/guests/wasm32-wasip1/release/cargo_component_hello.wasm");
    ensure!(wasm.is_file(), "no {}", wasm.display());
    let written = Manifest::new()
        .component("cc", &wasm)
        .route("GET /hello/{name}", "cc")
        .write_temp()?;
    let check = run_cli(&[&"check", &written.path])?;
    ensure!(check.code == Some(0), "{check}");
    let inspect = run_cli(&[&"inspect", &wasm])?;
    ensure!(
        inspect.code == Some(0) && inspect.stdout.contains("[stubbed: deterministic, inert]"),
        "{inspect}"
    );
    let host = Host::up(&written.path, &[])?;
    let reply = host.get("/hello/nebula")?;
    ensure!(
        reply.status == 200 && reply.text() == "Hello from cargo-component, nebula!\n",
        "{} {:?}\n{}",
        reply.status,
        reply.text(),
        host.log()
    );
    Ok(())
}
