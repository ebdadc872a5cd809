//! Read-modify-write of one key over HTTP, on every store: a request that reads a key with `get`
//! and writes the same key commits only if that key is unchanged; otherwise it is re-run from
//! fresh reads, and answers 503 with `Retry-After` when it keeps conflicting (README "Effects",
//! docs/stores.md). The guest is effects-probe's `POST /append/{key}` (manifest in effects.rs).

use crate::effects::{counter, probe_host, put, value};
use crate::harness::http::Response;
use crate::harness::{Host, TestStore, per_store};
use anyhow::{Result, bail, ensure};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

per_store!(
    concurrent_appends_to_one_key_lose_none_and_count_each_once,
    a_request_that_keeps_conflicting_answers_503_and_writes_nothing,
);

fn append(host: &Host, key: &str, spin: u64) -> Result<Response> {
    host.request("POST", &format!("/append/{key}?spin={spin}"), &[], b"")
}

/// Appends that all read the key at once: each 200 is one `+` in the value and one count, each
/// 503 (a request that conflicted on every run) neither.
fn concurrent_appends_to_one_key_lose_none_and_count_each_once(store: &TestStore) -> Result<()> {
    const APPENDS: usize = 12;
    let dir = tempfile::tempdir()?;
    let host = probe_host(dir.path(), store)?;
    let answers: Vec<Response> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..APPENDS)
            .map(|_| s.spawn(|| append(&host, "k", 0)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("append thread"))
            .collect::<Result<_>>()
    })?;
    let mut appended = 0;
    for a in &answers {
        match a.status {
            200 => appended += 1,
            503 if a.header("retry-after").is_some() => {}
            status => bail!(
                "append: {status} {}\n--- host log\n{}",
                a.text(),
                host.log()
            ),
        }
    }
    ensure!(
        appended > 0,
        "no append committed\n--- host log\n{}",
        host.log()
    );
    eprintln!("{appended} of {APPENDS} concurrent appends committed; the rest answered 503");
    let stored = value(&host, "k")?.unwrap_or_default();
    ensure!(
        stored == "+".repeat(appended),
        "{appended} appends answered 200, but the value is {stored:?}"
    );
    ensure!(counter(&host, "k")? == appended as i64);
    Ok(())
}

/// While another client keeps overwriting the key, a slow append finds it changed on each of its
/// three runs: 503 with `Retry-After`, and neither its value nor its count is written.
fn a_request_that_keeps_conflicting_answers_503_and_writes_nothing(
    store: &TestStore,
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let host = probe_host(dir.path(), store)?;
    put(&host, "k", "w0")?;
    let stop = AtomicBool::new(false);
    let answer = std::thread::scope(|s| -> Result<Response> {
        let writer = s.spawn(|| -> Result<u32> {
            // Bounded: the append ends (or its 30 s route timeout does) long before this.
            let until = Instant::now() + Duration::from_secs(120);
            let mut writes = 0;
            while !stop.load(Ordering::Acquire) && Instant::now() < until {
                writes += 1;
                put(&host, "k", &format!("w{writes}"))?;
            }
            Ok(writes)
        });
        // The busy pause outlasts many overwrites, so every run sees the key change.
        let answer = append(&host, "k", 300_000_000);
        stop.store(true, Ordering::Release);
        let writes = writer.join().expect("writer thread")?;
        ensure!(writes > 3, "only {writes} overwrites ran during the append");
        answer
    })?;
    ensure!(
        answer.status == 503 && answer.header("retry-after").is_some(),
        "append: {} {}\n--- host log\n{}",
        answer.status,
        answer.text(),
        host.log()
    );
    ensure!(
        counter(&host, "k")? == 0,
        "the conflicting append was counted"
    );
    let stored = value(&host, "k")?.unwrap_or_default();
    ensure!(
        !stored.ends_with('+'),
        "the conflicting append was written: {stored:?}"
    );
    let log = host.log();
    ensure!(
        log.contains("still conflicting after 3 runs"),
        "the host did not run the request three times:\n{log}"
    );
    Ok(())
}
