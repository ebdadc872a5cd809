//! Deterministic metering with wasmtime fuel (`limits.fuel`): the same work burns the same fuel,
//! twice the work about twice as much, a component without `fuel` is not metered, a spent
//! budget costs the request a 500 and nothing else, a `wasi:http` guest is metered too, and
//! `usage` totals what `/metrics` counted.

use anyhow::{Context, Result, ensure};

use crate::harness::{Host, Manifest, guests, run_cli};
use crate::operations::{admin, scrape, value};

/// The hostile guest twice: `metered` with a fuel budget, `plain` without; never memoized, so
/// every request is a call.
fn manifest(dir: &std::path::Path) -> Result<std::path::PathBuf> {
    Manifest::new()
        .component_with_limits(
            "metered",
            &guests().hostile_nostd,
            "fuel = 200_000_000, timeout = \"20s\"",
        )
        .component("plain", &guests().hostile_nostd)
        .component_with_limits("http", &guests().http_hello, "fuel = 10_000_000")
        .route("GET /http", "http")
        .raw(
            r#"
[[routes]]
route = "GET /metered/{what}"
component = "metered"
memo = false

[[routes]]
route = "GET /plain/{what}"
component = "plain"
memo = false
"#,
        )
        .write(dir)
}

/// Fuel `component` has burned so far, as `/metrics` says.
fn fuel(admin: std::net::SocketAddr, component: &str) -> Result<f64> {
    let (_, samples) = scrape(admin)?;
    Ok(value(
        &samples,
        "nebula_component_fuel_total",
        &[("component", component)],
    ))
}

/// Fuel one request burned.
fn burned(host: &Host, admin: std::net::SocketAddr, path: &str) -> Result<f64> {
    let before = fuel(admin, "metered")?;
    let response = host.get(path)?;
    ensure!(response.status == 200, "{path}: {}", response.status);
    Ok(fuel(admin, "metered")? - before)
}

#[test]
fn fuel_counts_the_same_work_alike_and_a_spent_budget_is_one_500() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let data_arg = data.path().join("data");
    let data_arg = data_arg.to_str().context("temp path is not UTF-8")?;
    let mut host = Host::up(
        &manifest(dir.path())?,
        &["--admin", "127.0.0.1:0", "--data", data_arg],
    )?;
    let admin = admin(&host)?;

    let once = burned(&host, admin, "/metered/spin?n=1000000")?;
    let again = burned(&host, admin, "/metered/spin?n=1000000")?;
    let double = burned(&host, admin, "/metered/spin?n=2000000")?;
    ensure!(once > 1_000_000.0, "a million turns burned only {once}");
    ensure!(
        once == again,
        "the same request burned {once}, then {again}"
    );
    let ratio = double / once;
    ensure!(
        (1.8..2.2).contains(&ratio),
        "twice the turns: {ratio}× the fuel"
    );

    // A `wasi:http` guest is metered too; its usage is counted when its task ends, just
    // after the response.
    ensure!(host.get("/http")?.status == 200);
    let mut http = 0.0;
    for _ in 0..500 {
        http = fuel(admin, "http")?;
        if http > 0.0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    ensure!(http > 0.0, "the wasi:http guest burned no fuel");

    // The same guest without `fuel` runs the same work unmetered.
    ensure!(host.get("/plain/spin?n=1000000")?.status == 200);
    ensure!(fuel(admin, "plain")? == 0.0, "plain was metered");

    // An endless loop spends its 200 million units long before its 20 s deadline.
    let spent = std::time::Instant::now();
    let endless = host.get("/metered/loop")?;
    ensure!(endless.status == 500, "endless loop: {}", endless.status);
    ensure!(
        spent.elapsed() < std::time::Duration::from_secs(15),
        "the budget, not the deadline, stopped it: {:?}",
        spent.elapsed()
    );
    host.wait_for_log_line(&[
        "component `metered`",
        "ran out of fuel: it burned all 200000000 units of `limits.fuel`",
    ])?;
    // Only that request paid: the next one is served.
    ensure!(host.get("/metered/calm")?.status == 200);
    let total = fuel(admin, "metered")?;

    ensure!(host.stop_gracefully()?.success(), "{}", host.log());
    let out = run_cli(&[&"usage", &"--data", &data_arg, &"--json"])?;
    ensure!(out.code == Some(0), "{out}");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).context("usage --json")?;
    let component = |name: &str| {
        report["components"]
            .as_array()
            .and_then(|l| l.iter().find(|e| e["name"] == name).cloned())
            .unwrap_or_default()
    };
    ensure!(
        component("metered")["fuel"].as_f64() == Some(total),
        "usage: {} vs /metrics: {total}",
        component("metered")
    );
    ensure!(component("plain")["fuel"] == 0, "{}", component("plain"));
    Ok(())
}
