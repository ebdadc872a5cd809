//! Hot reload: `up --watch` picks up an edited manifest and a replaced component, keeps the old
//! app on a broken manifest, and SIGHUP reloads too — all while clients keep sending requests,
//! none of which may fail.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::harness::{Host, guests};
use crate::operations::{admin, scrape, value};

/// How long a reload may take to show in the log: a poll, the settling poll, and the build of
/// the new app on a busy machine.
const RELOADED_WITHIN: Duration = Duration::from_secs(60);

/// The load: clients asking for the app's first route, each up to this many times.
const CLIENTS: usize = 3;
const MAX_REQUESTS: usize = 50_000;

/// `app.wasm` (a copy, so the test may replace it) at `GET /hello/{name}`, the effects probe
/// writing to `kv` (a redb store the reload must reuse, not open again), and a guest that spins
/// `?n=N` turns at `GET /slow/spin`; `more` is appended.
fn manifest(app: &Path, more: &str) -> String {
    format!(
        r#"version = 1

[components.app]
path = "{}"

[components.probe]
path = "{}"

[components.echo]
path = "{}"

[components.slow]
path = "{}"
limits = {{ timeout = "60s" }}

[collections.kv]
indexes = ["by-body"]

[[routes]]
route = "GET /hello/{{name}}"
component = "app"
memo = false

[[routes]]
route = "PUT /by-query"
component = "probe"
may_write = ["kv"]

[[routes]]
route = "GET /slow/{{what}}"
component = "slow"
memo = false
{more}"#,
        app.display(),
        guests().effects_probe.display(),
        guests().echo.display(),
        guests().hostile_nostd.display(),
    )
}

/// Replaces `to` with a copy of `from` at once (a rename), as a build or a deploy would.
fn replace(from: &Path, to: &Path) -> Result<()> {
    let next = to.with_extension("next");
    std::fs::copy(from, &next).with_context(|| format!("copying {}", from.display()))?;
    std::fs::rename(&next, to)?;
    Ok(())
}

/// Waits for a stderr line holding every one of `needles`.
fn wait_for(host: &Host, needles: &[&str]) -> Result<String> {
    let deadline = Instant::now() + RELOADED_WITHIN;
    loop {
        let log = host.log();
        let found = log.lines().find(|l| needles.iter().all(|n| l.contains(n)));
        if let Some(line) = found {
            return Ok(line.to_owned());
        }
        if Instant::now() >= deadline {
            bail!("no line with {needles:?} within {RELOADED_WITHIN:?}; log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Sends requests for `/hello/ada` from [`CLIENTS`] threads until `stop`; returns how many were
/// sent and every one that did not answer 200 (status or error).
fn load(host: &Host, stop: &AtomicBool) -> (usize, Vec<String>) {
    std::thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                s.spawn(|| {
                    let (mut sent, mut failed) = (0, Vec::new());
                    while !stop.load(Ordering::Relaxed) && sent < MAX_REQUESTS {
                        sent += 1;
                        match host.get("/hello/ada") {
                            Ok(r) if r.status == 200 => {}
                            Ok(r) => failed.push(format!("status {}: {}", r.status, r.text())),
                            Err(e) => failed.push(format!("{e:#}")),
                        }
                    }
                    (sent, failed)
                })
            })
            .collect();
        clients
            .into_iter()
            .map(|c| c.join().expect("a client thread"))
            .fold((0, Vec::new()), |(n, mut all), (sent, failed)| {
                all.extend(failed);
                (n + sent, all)
            })
    })
}

/// How many turns the slow guest spins in about `target`: timed on the code that will serve
/// (the optimized code, once it replaced the baseline code the tiered host may start on), the
/// fastest of two probes.
fn spins_for(host: &Host, target: Duration) -> Result<u64> {
    const PROBE: u64 = 20_000_000;
    if host.log().contains("component `slow`: baseline code") {
        wait_for(
            host,
            &["component `slow`", "optimized code serves from now on"],
        )?;
    }
    let mut fastest = Duration::MAX;
    for _ in 0..2 {
        let started = Instant::now();
        ensure!(status(host, &format!("/slow/spin?n={PROBE}"))? == 200);
        fastest = fastest.min(started.elapsed());
    }
    let took = fastest.as_secs_f64().max(1e-3);
    Ok((PROBE as f64 * target.as_secs_f64() / took) as u64)
}

fn status(host: &Host, path: &str) -> Result<u16> {
    Ok(host.get(path)?.status)
}

#[test]
fn watch_adds_a_route_swaps_a_component_and_keeps_serving_through_a_broken_manifest() -> Result<()>
{
    let dir = tempfile::tempdir()?;
    let app = dir.path().join("app.wasm");
    replace(&guests().hello, &app)?;
    let path: PathBuf = dir.path().join("nebula.toml");
    std::fs::write(&path, manifest(&app, ""))?;
    let host = Host::up(&path, &["--watch", "--admin", "127.0.0.1:0"])?;

    let stop = AtomicBool::new(false);
    let steps = std::thread::scope(|s| {
        let load = s.spawn(|| load(&host, &stop));
        let steps = (|| -> Result<()> {
            ensure!(host.get("/hello/ada")?.text() == "Hello, ada!\n");
            ensure!(status(&host, "/echo/x")? == 404);
            let put = host.request("PUT", "/by-query?x=a", &[], b"before")?;
            ensure!(put.status == 200, "PUT: {}", put.text());

            // A request that spins for a few seconds is in flight during the next reload.
            let n = spins_for(&host, Duration::from_secs(4))?;
            let client = &host;
            let slow = s.spawn(move || (client.get(&format!("/slow/spin?n={n}")), Instant::now()));
            std::thread::sleep(Duration::from_millis(200));

            // (a) A route added to the manifest answers once the reload is logged.
            let added = "\n[[routes]]\nroute = \"GET /echo/{x}\"\ncomponent = \"echo\"\n";
            std::fs::write(&path, manifest(&app, added))?;
            let line = wait_for(&host, &["reloaded", "routes added: GET /echo/{x}"])?;
            let reloaded = Instant::now();
            // The request in flight finishes, on the app it started on.
            let (spun, ended) = slow.join().expect("the slow request's thread");
            let spun = spun?;
            ensure!(spun.status == 200, "{} {}", spun.status, spun.text());
            ensure!(
                ended > reloaded,
                "the slow request ended before the reload; it should spin longer"
            );
            ensure!(line.contains("took"), "{line}");
            ensure!(status(&host, "/echo/x")? == 200);
            // The same redb store, not a second one: writes still go through.
            let put = host.request("PUT", "/by-query?x=b", &[], b"after")?;
            ensure!(put.status == 200, "PUT after the reload: {}", put.text());

            // (b) A replaced component answers with its new code.
            replace(&guests().echo, &app)?;
            wait_for(&host, &["reloaded", "components changed: app"])?;
            let echoed = host.get("/hello/ada")?;
            ensure!(echoed.status == 200);
            ensure!(
                echoed.text().contains("\"params\""),
                "not the echo component: {}",
                echoed.text()
            );

            // (c) A broken manifest: the diagnostic with file:line:col, and the old app serves.
            std::fs::write(&path, manifest(&app, "\n[[routes]]\nroute = 42\n"))?;
            let failed = wait_for(&host, &["reload", "failed", "still serving"])?;
            let located = format!("{}:", path.display());
            wait_for(&host, &[&located]).context(failed)?;
            ensure!(status(&host, "/echo/x")? == 200);
            ensure!(host.get("/hello/ada")?.text().contains("\"params\""));
            Ok(())
        })();
        stop.store(true, Ordering::Relaxed);
        let (sent, failed) = load.join().expect("the load thread");
        steps.map(|()| (sent, failed))
    });
    let (sent, failed) = steps?;
    // (d) Not one request of the load failed, over every reload.
    ensure!(sent > 0);
    ensure!(
        failed.is_empty(),
        "{} of {sent} requests failed: {:?}",
        failed.len(),
        &failed[..failed.len().min(5)]
    );
    println!("{sent} requests over two reloads and a failed one, none failed");
    // Counted across the apps, unlike the other counters.
    let (_, metrics) = scrape(admin(&host)?)?;
    let reloads = |result| value(&metrics, "nebula_reloads_total", &[("result", result)]);
    ensure!((reloads("done"), reloads("failed")) == (2.0, 1.0));
    Ok(())
}

#[test]
fn sighup_reloads_the_manifest_without_watch() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let app = dir.path().join("app.wasm");
    replace(&guests().hello, &app)?;
    let path = dir.path().join("nebula.toml");
    std::fs::write(&path, manifest(&app, ""))?;
    let host = Host::up(&path, &[])?;
    ensure!(status(&host, "/echo/x")? == 404);

    let added = "\n[[routes]]\nroute = \"GET /echo/{x}\"\ncomponent = \"echo\"\n";
    std::fs::write(&path, manifest(&app, added))?;
    let hup = std::process::Command::new("kill")
        .args(["-HUP", &host.pid().to_string()])
        .status()?;
    ensure!(hup.success());
    wait_for(
        &host,
        &["reloaded", "SIGHUP", "routes added: GET /echo/{x}"],
    )?;
    ensure!(status(&host, "/echo/x")? == 200);
    ensure!(host.get("/hello/ada")?.text() == "Hello, ada!\n");
    Ok(())
}

#[test]
fn watch_reruns_the_build_of_a_component_whose_sources_changed() -> Result<()> {
    // The "source" names the wasm the "build" copies into place: a real build command, run by
    // the host in the component's build_dir (the manifest's folder, which also holds the data
    // folder), without a compiler's minutes.
    let dir = tempfile::tempdir()?;
    std::fs::create_dir(dir.path().join("src"))?;
    let which = dir.path().join("src/which.txt");
    std::fs::write(&which, guests().hello.display().to_string())?;
    let app = dir.path().join("app.wasm");
    replace(&guests().hello, &app)?;
    let path = dir.path().join("nebula.toml");
    let text = format!(
        r#"version = 1

[components.app]
path = "app.wasm"
build = "cp \"$(cat src/which.txt)\" app.wasm.next && mv app.wasm.next app.wasm"

[components.probe]
path = "{}"

[collections.kv]
indexes = ["by-body"]

[[routes]]
route = "GET /hello/{{name}}"
component = "app"

[[routes]]
route = "PUT /by-query"
component = "probe"
may_write = ["kv"]
"#,
        guests().effects_probe.display()
    );
    std::fs::write(&path, text)?;
    let data = dir.path().join("data");
    let host = Host::up(&path, &["--watch", "--data", &data.display().to_string()])?;
    ensure!(host.get("/hello/ada")?.text() == "Hello, ada!\n");

    // Writes change the data folder inside the build_dir: not a source, nothing is rebuilt.
    for i in 0..5 {
        let put = host.request("PUT", &format!("/by-query?x={i}"), &[], b"w")?;
        ensure!(put.status == 200, "PUT: {}", put.text());
    }
    std::thread::sleep(Duration::from_secs(2));
    ensure!(!host.log().contains("building"), "{}", host.log());

    std::fs::write(&which, guests().echo.display().to_string())?;
    wait_for(&host, &["component `app`: built in"])?;
    let line = wait_for(&host, &["reloaded", "components changed: app"])?;
    ensure!(line.contains("which.txt"), "{line}");
    ensure!(host.get("/hello/ada")?.text().contains("\"params\""));
    Ok(())
}
