//! Only pure components run: one that imports `wasi:sockets` is refused by every entry point,
//! and the refusal names the component and the import.

use crate::harness::{Manifest, guests, run_cli};
use anyhow::{Result, ensure};

/// A manifest that serves the sockets guest as component `netcat`, beside a pure one.
fn sockets_manifest() -> Manifest {
    Manifest::new()
        .component("hello", &guests().hello)
        .component("netcat", &guests().sockets)
        .route("GET /hello/{name}", "hello")
        .route("GET /net", "netcat")
}

/// The refusal names the component and a `wasi:sockets` interface with its version.
fn names_the_sockets_import(message: &str) -> bool {
    message.contains("netcat") && message.contains("wasi:sockets/tcp@0.2")
}

#[test]
fn check_refuses_a_component_that_imports_sockets() -> Result<()> {
    let manifest = sockets_manifest().write_temp()?;
    let output = run_cli(&[&"check", &manifest.path])?;
    ensure!(output.code != Some(0), "check accepted sockets: {output}");
    ensure!(
        names_the_sockets_import(&output.stderr),
        "refusal does not name `netcat` and `wasi:sockets/tcp@0.2…`: {output}"
    );
    Ok(())
}

#[test]
fn up_refuses_a_component_that_imports_sockets() -> Result<()> {
    let failure = sockets_manifest().up_expecting_failure(&[])?;
    ensure!(failure.code == Some(1), "{failure}");
    ensure!(
        names_the_sockets_import(&failure.stderr),
        "refusal does not name `netcat` and `wasi:sockets/tcp@0.2…`: {failure}"
    );
    Ok(())
}

#[test]
fn inspect_refuses_a_component_that_imports_sockets() -> Result<()> {
    let output = run_cli(&[&"inspect", &guests().sockets])?;
    ensure!(output.code == Some(1), "{output}");
    let all = format!("{}{}", output.stdout, output.stderr);
    ensure!(all.contains("wasi:sockets/tcp@0.2"), "{output}");
    Ok(())
}

#[test]
fn inspect_says_hello_is_pure() -> Result<()> {
    let output = run_cli(&[&"inspect", &guests().hello])?;
    ensure!(output.code == Some(0), "{output}");
    ensure!(output.stdout.to_lowercase().contains("pure"), "{output}");
    // The one export of the nebula:pure world.
    ensure!(output.stdout.contains("handle"), "{output}");
    ensure!(
        !output.stdout.contains("wasi:"),
        "hello imports WASI? {output}"
    );
    Ok(())
}
