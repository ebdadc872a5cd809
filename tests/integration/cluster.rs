//! Many hosts on one etcd cluster, and the faults of a real deployment: memoization stays right
//! across hosts, concurrent votes spread over three hosts sum exactly, killing an etcd member
//! (the leader) under load loses no acknowledged vote and answers only 200 or 503 with
//! `Retry-After`, and HAProxy routes around a killed host. The guest is the effects probe
//! (tests/integration/effects.rs): `POST /count/{key}` is a vote.

use crate::harness::etcd::Etcd;
use crate::harness::haproxy::{Backend, Haproxy};
use crate::harness::{Host, Manifest, guests, request};
use anyhow::{Context, Result, bail, ensure};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const ROUTES: &str = r#"
[collections.hits]
counter = true

[collections.kv]
indexes = ["by-body"]

[[routes]]
route = "POST /count/{key}"
component = "probe"
reads = [{ name = "count", op = "counter", collection = "hits", key = "{key}" }]
may_write = ["hits"]

[[routes]]
route = "GET /count/{key}"
component = "probe"
reads = [{ name = "count", op = "counter", collection = "hits", key = "{key}" }]
"#;

/// The longest any request may take while a member dies and the rest elect a leader: the
/// host's store calls are bounded (3 s each, a read retried once, writes within 6 s).
const REQUEST_BOUND: Duration = Duration::from_secs(15);

fn manifest(dir: &Path) -> Result<PathBuf> {
    Manifest::new()
        .component("probe", &guests().effects_probe)
        .raw(ROUTES)
        .write(dir)
}

/// A host on `etcd`, with an admin listener; `ports` fixes its (app, admin) ports.
fn host_on(etcd: &Etcd, manifest: &Path, ports: Option<(u16, u16)>) -> Result<(Host, Backend)> {
    let url = etcd.url("cluster");
    let (listen, admin) = match ports {
        Some((app, admin)) => (format!("127.0.0.1:{app}"), format!("127.0.0.1:{admin}")),
        None => ("127.0.0.1:0".to_owned(), "127.0.0.1:0".to_owned()),
    };
    let host = Host::up(
        manifest,
        &["--store", &url, "--listen", &listen, "--admin", &admin],
    )?;
    let admin = host
        .stdout()
        .lines()
        .find_map(|l| l.strip_prefix("nebula-host: admin on http://"))
        .and_then(|a| a.trim().parse::<SocketAddr>().ok())
        .with_context(|| format!("no admin line in the host's output:\n{}", host.stdout()))?;
    let backend = Backend {
        app: host.addr,
        admin,
    };
    Ok((host, backend))
}

fn count(addr: SocketAddr, key: &str) -> Result<i64> {
    let response = request(addr, "GET", &format!("/count/{key}"), &[], b"")?;
    ensure!(
        response.status == 200,
        "GET /count/{key}: {}",
        response.status
    );
    Ok(response.text().trim().parse()?)
}

/// How one vote ended.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    acked: u64,
    unavailable: u64,
    /// 502 from HAProxy: the host died with the request in flight (only when tolerated).
    lost: u64,
    slowest: Duration,
}

/// Sends votes for `key` to `targets` in turn from `threads` threads until `stop` is set (or
/// `max` each), failing on any answer but 200 and 503-with-`Retry-After` (and 502 when
/// `tolerate_502`), or one slower than [`REQUEST_BOUND`].
fn vote_until(
    targets: &[SocketAddr],
    key: &str,
    threads: usize,
    max: u64,
    stop: &AtomicBool,
    tolerate_502: bool,
) -> Result<Tally> {
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                scope.spawn(move || -> Result<Tally> {
                    let mut tally = Tally::default();
                    for i in 0..max {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let target = targets[(t + i as usize) % targets.len()];
                        let started = Instant::now();
                        let response = request(target, "POST", &format!("/count/{key}"), &[], b"")
                            .with_context(|| format!("vote to {target}"))?;
                        let took = started.elapsed();
                        tally.slowest = tally.slowest.max(took);
                        ensure!(took < REQUEST_BOUND, "a vote took {took:?}");
                        match response.status {
                            200 => tally.acked += 1,
                            503 if response.header("retry-after").is_some() => {
                                tally.unavailable += 1;
                                std::thread::sleep(Duration::from_millis(50));
                            }
                            502 if tolerate_502 => tally.lost += 1,
                            status => {
                                bail!("a vote to {target} answered {status}: {}", response.text())
                            }
                        }
                    }
                    Ok(tally)
                })
            })
            .collect();
        let mut total = Tally::default();
        for w in workers {
            let t = w.join().expect("voter thread panicked")?;
            total.acked += t.acked;
            total.unavailable += t.unavailable;
            total.lost += t.lost;
            total.slowest = total.slowest.max(t.slowest);
        }
        Ok(total)
    })
}

#[test]
fn a_write_acknowledged_by_one_host_is_never_hidden_by_another_hosts_memo() -> Result<()> {
    let etcd = Etcd::start(1)?;
    let dir = tempfile::tempdir()?;
    let manifest = manifest(dir.path())?;
    let (a, _) = host_on(&etcd, &manifest, None)?;
    let (b, _) = host_on(&etcd, &manifest, None)?;
    for expected in 0..5 {
        // B answers from its memo when nothing changed...
        for round in 0..2 {
            let response = b.get("/count/shared")?;
            ensure!(
                response.text().trim() == expected.to_string(),
                "{}",
                response.text()
            );
            if round == 1 {
                ensure!(
                    response.header("x-nebula-memo") == Some("hit"),
                    "no memo hit on B"
                );
            }
        }
        // ... and never after A acknowledged a vote.
        let vote = a.request("POST", "/count/shared", &[], b"")?;
        ensure!(vote.status == 200, "vote: {}", vote.text());
    }
    ensure!(count(b.addr, "shared")? == 5);
    Ok(())
}

#[test]
fn six_hundred_concurrent_votes_over_three_hosts_on_three_members_sum_exactly() -> Result<()> {
    let etcd = Etcd::start(3)?;
    let dir = tempfile::tempdir()?;
    let manifest = manifest(dir.path())?;
    let hosts = (0..3)
        .map(|_| host_on(&etcd, &manifest, None).map(|(h, _)| h))
        .collect::<Result<Vec<_>>>()?;
    let targets: Vec<SocketAddr> = hosts.iter().map(|h| h.addr).collect();
    let tally = vote_until(
        &targets,
        "six-hundred",
        12,
        50,
        &AtomicBool::new(false),
        false,
    )?;
    ensure!(
        tally.acked == 600,
        "{} of 600 votes acknowledged ({} answered 503)",
        tally.acked,
        tally.unavailable
    );
    for host in &hosts {
        ensure!(count(host.addr, "six-hundred")? == 600);
    }
    println!("600 votes, slowest {:?}", tally.slowest);
    Ok(())
}

/// The id of the member that leads, from each member's `/v3/maintenance/status`.
fn leader(etcd: &Etcd, members: usize) -> Result<usize> {
    for i in 0..members {
        let addr: SocketAddr = etcd
            .endpoints()
            .split(',')
            .nth(i)
            .context("member address")?
            .parse()?;
        let status = request(addr, "POST", "/v3/maintenance/status", &[], b"{}")?.text();
        let field = |name: &str| -> Option<String> {
            let at = status.find(&format!("\"{name}\":\""))? + name.len() + 4;
            Some(status[at..].split('"').next()?.to_owned())
        };
        if field("member_id").is_some() && field("member_id") == field("leader") {
            return Ok(i);
        }
    }
    bail!("no member says it leads")
}

#[test]
fn killing_the_etcd_leader_under_vote_load_loses_no_acknowledged_vote() -> Result<()> {
    let mut etcd = Etcd::start(3)?;
    let dir = tempfile::tempdir()?;
    let manifest = manifest(dir.path())?;
    let hosts = (0..3)
        .map(|_| host_on(&etcd, &manifest, None).map(|(h, _)| h))
        .collect::<Result<Vec<_>>>()?;
    let targets: Vec<SocketAddr> = hosts.iter().map(|h| h.addr).collect();
    let stop = AtomicBool::new(false);
    let (tally, killed) = std::thread::scope(|scope| -> Result<(Tally, usize)> {
        let voters = scope.spawn(|| vote_until(&targets, "election", 6, 100_000, &stop, false));
        std::thread::sleep(Duration::from_secs(1));
        let killed = leader(&etcd, 3)?;
        etcd.kill(killed)?;
        // Votes go on through the election and with two members left...
        std::thread::sleep(Duration::from_secs(4));
        // ... and after the member is back.
        etcd.restart(killed)?;
        std::thread::sleep(Duration::from_secs(1));
        stop.store(true, Ordering::SeqCst);
        Ok((voters.join().expect("voters panicked")?, killed))
    })?;
    let total = count(targets[0], "election")?;
    // What the 503s were, for whoever reads the test's output.
    let mut causes = std::collections::BTreeMap::new();
    for line in hosts
        .iter()
        .flat_map(|h| h.log().lines().map(str::to_owned).collect::<Vec<_>>())
    {
        if let Some((_, cause)) = line
            .split_once("not applied: ")
            .or(line.split_once("reads failed: "))
        {
            let cause: String = cause.chars().take(400).collect();
            *causes.entry(cause).or_insert(0) += 1;
        }
    }
    for (cause, n) in &causes {
        println!("{n:4} × {cause}");
    }
    println!(
        "killed leader m{killed}: {} votes acknowledged, {} answered 503, slowest {:?}, total {total}",
        tally.acked, tally.unavailable, tally.slowest
    );
    ensure!(tally.acked > 0, "no vote got through");
    // A 503 may come after the commit (the answer was lost): it may or may not have counted.
    let sent = tally.acked + tally.unavailable;
    ensure!(
        (tally.acked..=sent).contains(&(total as u64)),
        "total {total}: {} acknowledged, {sent} sent",
        tally.acked
    );
    // Everything back: each acknowledged vote counts exactly once.
    let tally = vote_until(&targets, "after", 6, 20, &AtomicBool::new(false), false)?;
    ensure!(tally.acked == 120 && count(targets[1], "after")? == 120);
    Ok(())
}

#[test]
fn haproxy_routes_around_a_killed_host_and_back_to_it() -> Result<()> {
    let etcd = Etcd::start(1)?;
    let dir = tempfile::tempdir()?;
    let manifest = manifest(dir.path())?;
    let mut hosts = Vec::new();
    let mut backends = Vec::new();
    for _ in 0..3 {
        let (host, backend) = host_on(&etcd, &manifest, None)?;
        hosts.push(host);
        backends.push(backend);
    }
    let haproxy = Haproxy::start(&backends)?;
    let front = [haproxy.addr];
    let stop = AtomicBool::new(false);
    let before = std::thread::scope(|scope| -> Result<Tally> {
        let voters = scope.spawn(|| vote_until(&front, "balanced", 4, 100_000, &stop, true));
        std::thread::sleep(Duration::from_millis(500));
        hosts[1].kill()?;
        haproxy.wait_for(1, "DOWN", Duration::from_secs(10))?;
        std::thread::sleep(Duration::from_millis(500));
        stop.store(true, Ordering::SeqCst);
        voters.join().expect("voters panicked")
    });
    // A vote in flight to the killed host when it died gets a 502 from HAProxy (at most one per
    // voter); HAProxy retries connection failures on another host, so every later vote lands.
    let before = before.context("votes through HAProxy while a host was killed")?;
    ensure!(before.lost <= 4, "{} votes lost with the host", before.lost);
    let total = count(haproxy.addr, "balanced")? as u64;
    ensure!(
        (before.acked..=before.acked + before.lost + before.unavailable).contains(&total),
        "total {total}, {before:?}"
    );

    // The host comes back on its ports; HAProxy sends it requests again.
    let ports = (backends[1].app.port(), backends[1].admin.port());
    let (back, _) = host_on(&etcd, &manifest, Some(ports))?;
    haproxy.wait_for(1, "UP", Duration::from_secs(10))?;
    let after = vote_until(&front, "balanced", 3, 30, &AtomicBool::new(false), false)?;
    ensure!(after.acked == 90);
    ensure!(count(back.addr, "balanced")? as u64 == total + 90);
    Ok(())
}
