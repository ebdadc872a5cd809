//! Starting and stopping: `serve` for a single component, SIGTERM for a clean exit.

use crate::harness::{Host, Manifest, guests};
use anyhow::{Result, ensure};

#[test]
fn sigterm_stops_the_server_with_exit_code_0() -> Result<()> {
    let mut host = Manifest::new()
        .component("hello", &guests().hello)
        .route("GET /hello/{name}", "hello")
        .up(&[])?;
    ensure!(host.get("/hello/bye")?.status == 200);

    let status = host.stop_gracefully()?;
    ensure!(
        status.success(),
        "exit status {status}; stderr:\n{}",
        host.log()
    );
    Ok(())
}

#[test]
fn ready_line_names_the_bound_port() -> Result<()> {
    let host = Manifest::new()
        .component("hello", &guests().hello)
        .route("GET /hello/{name}", "hello")
        .up(&[])?;
    ensure!(
        host.addr.ip().is_loopback() && host.addr.port() != 0,
        "{}",
        host.addr
    );
    let ready = format!("nebula-host: serving on http://{}", host.addr);
    ensure!(
        host.stdout().lines().any(|line| line == ready),
        "no line `{ready}` on stdout:\n{}",
        host.stdout()
    );
    Ok(())
}

#[test]
fn serve_runs_one_component_at_every_path() -> Result<()> {
    let host = Host::serve(&guests().hello)?;
    for path in ["/anything", "/deeper/path?q=1"] {
        let response = host.get(path)?;
        ensure!(
            response.status == 200 && response.text() == "Hello, world!\n",
            "GET {path}: status {} ({})",
            response.status,
            response.text()
        );
    }
    let response = host.request("POST", "/x", &[], b"body")?;
    ensure!(
        response.status == 200,
        "POST /x: status {}",
        response.status
    );
    Ok(())
}
