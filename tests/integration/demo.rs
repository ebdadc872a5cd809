//! `manifests/demo.toml`, the manifest the README shows, keeps working.

use crate::harness::{Host, c_guest, guests, repo_root, run_cli};
use anyhow::{Result, ensure};
use std::path::PathBuf;

/// The demo manifest, after building the guests it points at.
fn demo_manifest() -> PathBuf {
    guests();
    c_guest();
    repo_root().join("manifests/demo.toml")
}

#[test]
fn demo_manifest_passes_check() -> Result<()> {
    let output = run_cli(&[&"check", &demo_manifest()])?;
    ensure!(output.code == Some(0), "{output}");
    ensure!(output.stdout.contains("ok"), "{output}");
    Ok(())
}

#[test]
fn demo_manifest_serves_index_greetings_in_rust_and_c_and_echo() -> Result<()> {
    let host = Host::up(&demo_manifest(), &[])?;

    let index = host.get("/")?;
    ensure!(
        index.status == 200,
        "GET /: status {} ({})",
        index.status,
        index.text()
    );
    ensure!(
        index
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "GET /: content-type {:?}",
        index.header("content-type")
    );
    ensure!(index.text().contains("/hello/"), "index: {}", index.text());

    let hello = host.get("/hello/nebula")?;
    ensure!(
        hello.status == 200 && hello.text() == "Hello, nebula!\n",
        "{}",
        hello.text()
    );

    // The C handler (components/hello-c), made a component by `nebula-host componentize`.
    let c = host.get("/c/hello/nebula")?;
    ensure!(
        c.status == 200 && c.text() == "Hello, nebula!\n",
        "GET /c/hello/nebula: {} {:?}\n{}",
        c.status,
        c.text(),
        host.log()
    );
    ensure!(
        index.text().contains("/c/hello/"),
        "index: {}",
        index.text()
    );

    let echo = host.request("PATCH", "/echo/x/y?z=1", &[], b"hi")?;
    ensure!(
        echo.status == 200,
        "PATCH /echo/x/y: status {}",
        echo.status
    );
    ensure!(echo.text().contains(r#""rest":"x/y""#), "{}", echo.text());
    Ok(())
}
