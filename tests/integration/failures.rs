//! A handler that traps, runs past its deadline or hits its memory cap gets an error status,
//! and the host goes on serving, the same component included.

use crate::harness::{Host, Manifest, guests};
use anyhow::{Result, ensure};

/// Checks that `host` still serves: the misbehaving component when asked to be calm (the trap,
/// spin and hog guests answer 200 "calm" when the query has `calm`), and the hello route.
fn still_serves(host: &Host, calm_path: &str) -> Result<()> {
    let response = host.get(calm_path)?;
    ensure!(
        response.status == 200 && response.text() == "calm\n",
        "GET {calm_path}: status {} ({})",
        response.status,
        response.text()
    );
    let response = host.get("/hello/again")?;
    ensure!(
        response.status == 200 && response.text() == "Hello, again!\n",
        "GET /hello/again: status {} ({})",
        response.status,
        response.text()
    );
    Ok(())
}

#[test]
fn trap_answers_500_and_the_next_request_is_served() -> Result<()> {
    let host = Manifest::new()
        .component("hello", &guests().hello)
        .component("panicky", &guests().trap)
        .route("GET /hello/{name}", "hello")
        .route("GET /trap", "panicky")
        .up(&[])?;

    let response = host.get("/trap")?;
    ensure!(
        response.status == 500,
        "status {} ({})",
        response.status,
        response.text()
    );
    // The log names the panic: its message and where it happened, which the SDK's panic handler
    // left in the guest's memory; the client sees none of it.
    host.wait_for_log_line(&[
        "panicky",
        "/trap",
        "panicked at trap/src/lib.rs:",
        "this component traps on purpose",
    ])?;
    ensure!(
        !response.text().contains("on purpose"),
        "{}",
        response.text()
    );
    still_serves(&host, "/trap?calm")?;
    // A second trap after the recovery is handled the same way.
    ensure!(host.get("/trap")?.status == 500);
    Ok(())
}

#[test]
fn endless_loop_is_cut_off_by_the_deadline() -> Result<()> {
    let host = Manifest::new()
        .component("hello", &guests().hello)
        .component_with_limits("spinner", &guests().spin, r#"timeout = "500ms""#)
        .route("GET /hello/{name}", "hello")
        .route("GET /spin", "spinner")
        .up(&[])?;

    let response = host.get("/spin")?;
    ensure!(
        response.status == 504,
        "status {} ({})",
        response.status,
        response.text()
    );
    host.wait_for_log_line(&["spinner", "/spin"])?;
    still_serves(&host, "/spin?calm=1")?;
    Ok(())
}

#[test]
fn manifest_wide_timeout_applies_to_every_component() -> Result<()> {
    let host = Manifest::new()
        .raw("\n[limits]\ntimeout = \"500ms\"\n")
        .component("hello", &guests().hello)
        .component("spinner", &guests().spin)
        .route("GET /hello/{name}", "hello")
        .route("GET /spin", "spinner")
        .up(&[])?;

    let response = host.get("/spin")?;
    ensure!(
        response.status == 504,
        "status {} ({})",
        response.status,
        response.text()
    );
    still_serves(&host, "/spin?calm=1")?;
    Ok(())
}

#[test]
fn memory_hog_hits_the_cap_and_the_next_request_is_served() -> Result<()> {
    let host = Manifest::new()
        .raw("\n[limits]\nmemory = \"16 MiB\"\n")
        .component("hello", &guests().hello)
        .component("hog", &guests().hog)
        .route("GET /hello/{name}", "hello")
        .route("GET /hog", "hog")
        .up(&[])?;

    let response = host.get("/hog")?;
    ensure!(
        response.status == 500,
        "status {} ({})",
        response.status,
        response.text()
    );
    still_serves(&host, "/hog?calm=1")?;
    // And again: the cap holds for every instance, not just the first.
    ensure!(host.get("/hog")?.status == 500);
    Ok(())
}
