//! Hostile guests: whatever a handler does, it costs at most one error status, nothing it wrote is
//! kept when its request fails, the host stays up and its neighbours keep serving — and a std
//! guest sees virtual time and seeded random, so sleeping is free and identical on every run.
//!
//! The guests are `components/hostile-std` (std Rust on the WASI stubs) and
//! `components/hostile-nostd` (no imports); each `//!` lists what it does by path. [`ROUTES`]
//! mounts them beside two well-behaved neighbours: `hello`, and the effects probe that reads
//! the store back.

use crate::harness::{Host, Manifest, guests};
use anyhow::{Context, Result, ensure};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The deadline of both hostile components; a real one-hour sleep would blow it.
const TIMEOUT: &str = "1s";

const ROUTES: &str = r#"
[collections.kv]

[collections.secret]

[[routes]]
route = "GET /std/{what}"
component = "std"
memo = false

[[routes]]
route = "GET /nostd/{what}"
component = "nostd"
memo = false

[[routes]]
route = "POST /nostd/{what}"
component = "nostd"
may_write = ["kv"]

[[routes]]
route = "GET /pipeline/{what}"
pipeline = ["nostd", "nostd", "nostd", "nostd"]
memo = false

[[routes]]
route = "GET /hello/{name}"
component = "hello"

[[routes]]
route = "GET /kv/{key}"
component = "probe"
memo = false
reads = [{ name = "value", op = "get", collection = "kv", key = "{key}" }]

[[routes]]
route = "GET /secret/{key}"
component = "probe"
memo = false
reads = [{ name = "value", op = "get", collection = "secret", key = "{key}" }]

[[routes]]
route = "GET /reads/{key}"
component = "probe"
memo = false
reads = [
  { name = "kv", op = "count", collection = "kv" },
  { name = "secret", op = "count", collection = "secret" },
]
"#;

mod capacity;
mod edges;

/// A host serving the hostile guests (1 s deadline, 16 MiB memory) and their neighbours.
fn hostile_host() -> Result<Host> {
    hostile_host_with(TIMEOUT, "", &[])
}

/// [`hostile_host`] with another deadline and more `limits` for both hostile components (e.g.
/// `, concurrency = 4`), and more arguments for `nebula-host up`.
fn hostile_host_with(timeout: &str, more_limits: &str, args: &[&str]) -> Result<Host> {
    let limits = format!(r#"timeout = "{timeout}", memory = "16 MiB"{more_limits}"#);
    Manifest::new()
        .component_with_limits("std", &guests().hostile_std, &limits)
        .component_with_limits("nostd", &guests().hostile_nostd, &limits)
        .component("hello", &guests().hello)
        .component("probe", &guests().effects_probe)
        .raw(ROUTES)
        .up(args)
}

/// `GET path`, which must answer `status`; returns the body as text.
fn expect(host: &Host, path: &str, status: u16) -> Result<String> {
    let response = host.get(path)?;
    ensure!(
        response.status == status,
        "GET {path}: status {} ({}), {status} expected; log:\n{}",
        response.status,
        response.text(),
        host.log()
    );
    Ok(response.text())
}

/// `POST path` with no body, which must answer `status`.
fn post(host: &Host, path: &str, status: u16) -> Result<()> {
    let response = host.request("POST", path, &[], b"")?;
    ensure!(
        response.status == status,
        "POST {path}: status {} ({}), {status} expected; log:\n{}",
        response.status,
        response.text(),
        host.log()
    );
    Ok(())
}

/// The host is up and serves everyone: the neighbour `hello`, and both hostile components when
/// asked to behave.
fn still_serves(host: &Host) -> Result<()> {
    ensure!(expect(host, "/hello/again", 200)? == "Hello, again!\n");
    ensure!(expect(host, "/std/calm", 200)? == "calm\n");
    ensure!(expect(host, "/nostd/calm", 200)? == "calm\n");
    Ok(())
}

/// Nothing is stored in either collection.
fn nothing_written(host: &Host) -> Result<()> {
    let counts = expect(host, "/reads/any", 200)?;
    ensure!(
        counts == "kv: number 0\nsecret: number 0\n",
        "something was written: {counts:?}"
    );
    Ok(())
}

#[test]
fn an_hour_of_std_sleep_answers_at_once_with_an_hour_of_virtual_time() -> Result<()> {
    let host = hostile_host()?;
    // With a 1 s deadline, only virtual time lets this answer 200.
    let body = expect(&host, "/std/sleep", 200)?;
    ensure!(
        body == "monotonic=3600000000000 wall=3600000000000\n",
        "{body:?}"
    );
    let body = expect(&host, "/std/sleep?secs=5", 200)?;
    ensure!(body == "monotonic=5000000000 wall=5000000000\n", "{body:?}");
    still_serves(&host)
}

#[test]
fn a_sleep_that_can_never_end_traps_at_once_with_a_clear_message() -> Result<()> {
    let host = hostile_host()?;
    // 500, not 504: the call trapped when it blocked, it did not wait for the deadline.
    expect(&host, "/std/sleep-forever", 500)?;
    // The reason follows wasmtime's backtrace, lines below the one naming the component.
    host.wait_for_log_line(&["component `std` trapped"])?;
    host.wait_for_log_line(&["blocked on", "can never become ready in a pure call"])?;
    still_serves(&host)
}

#[test]
fn busy_polling_a_clock_reads_the_same_on_every_run() -> Result<()> {
    let host = hostile_host()?;
    let first = expect(&host, "/std/clock-probe", 200)?;
    let second = expect(&host, "/std/clock-probe", 200)?;
    ensure!(first == second, "{first:?} then {second:?}");
    // Ready on the first spin, and 20 ms later by both clocks.
    ensure!(
        first == "spins=1 monotonic=20000000 wall=20000000\n",
        "{first:?}"
    );
    still_serves(&host)
}

#[test]
fn poll_lets_virtual_time_pass_only_to_the_earliest_pollable() -> Result<()> {
    let host = hostile_host()?;
    let body = expect(&host, "/std/poll", 200)?;
    ensure!(
        body == "first [1] monotonic=10000000 wall=10000000\n\
                 second [0] monotonic=30000000 wall=30000000\n\
                 blocked monotonic=3600000000000 wall=3600000000000\n",
        "{body:?}"
    );
    // Reading the empty stdin to its end does not wait either, nor move the clock.
    let body = expect(&host, "/std/stdin", 200)?;
    ensure!(body == "stdin: Ok(0) monotonic=0 wall=0\n", "{body:?}");
    still_serves(&host)
}

#[test]
fn random_bytes_repeat_per_request_only_and_show_no_pattern() -> Result<()> {
    let host = hostile_host()?;
    let bytes = |path: &str| -> Result<Vec<u8>> {
        let response = host.get(path)?;
        ensure!(response.status == 200, "GET {path}: {}", response.status);
        Ok(response.body)
    };
    let first = bytes("/std/random?n=65536")?;
    ensure!(first.len() == 65536);
    ensure!(
        bytes("/std/random?n=65536")? == first,
        "the same request got other bytes"
    );
    let other = bytes("/std/random?n=65536&other")?;
    ensure!(
        other.len() == 65536 && other != first,
        "another request got the same bytes"
    );
    let mut blocks: Vec<&[u8]> = first.chunks(8).collect();
    blocks.sort_unstable();
    blocks.dedup();
    ensure!(
        blocks.len() == 8192,
        "{} of 8192 eight-byte blocks are distinct",
        blocks.len()
    );

    // Every random function answers, each from its own stream, the same way twice.
    let all = expect(&host, "/std/random-all", 200)?;
    ensure!(expect(&host, "/std/random-all", 200)? == all);
    let values: Vec<&str> = all
        .lines()
        .filter(|line| !line.starts_with("hashmap-order"))
        .map(|line| line.split_once(' ').map_or("", |(_, value)| value))
        .collect();
    ensure!(values.len() == 4, "{all}");
    for (i, a) in values.iter().enumerate() {
        ensure!(a.len() >= 16, "{all}");
        for b in &values[i + 1..] {
            ensure!(a[..16] != b[..16], "two functions share a stream:\n{all}");
        }
    }
    still_serves(&host)
}

#[test]
fn an_endless_loop_answers_504_at_its_deadline() -> Result<()> {
    let host = hostile_host()?;
    for path in ["/std/loop", "/nostd/loop"] {
        let body = expect(&host, path, 504)?;
        ensure!(body.contains("deadline"), "{path}: {body:?}");
        still_serves(&host)?;
    }
    Ok(())
}

#[test]
fn a_memory_bomb_answers_500_at_the_cap() -> Result<()> {
    let host = hostile_host()?;
    for path in ["/std/memory", "/nostd/memory"] {
        expect(&host, path, 500)?;
        still_serves(&host)?;
    }
    host.wait_for_log_line(&["`std`", "memory cap"])?;
    host.wait_for_log_line(&["`nostd`", "memory cap"])?;
    Ok(())
}

#[test]
fn unbounded_recursion_answers_500() -> Result<()> {
    let host = hostile_host()?;
    for path in ["/std/recurse", "/nostd/recurse"] {
        expect(&host, path, 500)?;
        still_serves(&host)?;
    }
    Ok(())
}

#[test]
fn a_status_outside_100_to_599_answers_500() -> Result<()> {
    let host = hostile_host()?;
    for code in [1000, 99, 0, 600] {
        let body = expect(&host, &format!("/nostd/status?code={code}"), 500)?;
        ensure!(body.contains("invalid status"), "{code}: {body:?}");
    }
    // The edges of the range are statuses like any other.
    expect(&host, "/nostd/status?code=599", 599)?;
    still_serves(&host)
}

#[test]
fn a_crlf_in_a_header_never_splits_the_response() -> Result<()> {
    let host = hostile_host()?;
    let raw = exchange(
        &host,
        "GET /nostd/header-crlf HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    )?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .with_context(|| format!("no end of head in {text:?}"))?;
    ensure!(head.starts_with("HTTP/1.1 200 "), "{text:?}");
    ensure!(body == "one response\n", "{text:?}");
    ensure!(
        text.matches("HTTP/1.1").count() == 1,
        "more than one status line: {text:?}"
    );
    for line in head.lines() {
        let name = line.split(':').next().unwrap_or_default().trim();
        ensure!(
            !name.to_ascii_lowercase().starts_with("x-injected"),
            "the handler injected a header line: {text:?}"
        );
    }
    // The header is dropped, and said so.
    ensure!(!head.to_ascii_lowercase().contains("x-note"), "{text:?}");
    host.wait_for_log_line(&["invalid response header", "x-note"])?;
    still_serves(&host)
}

#[test]
fn asking_for_reads_forever_answers_500() -> Result<()> {
    let host = hostile_host()?;
    let body = expect(&host, "/nostd/need-forever", 500)?;
    ensure!(body.contains("too many read rounds"), "{body:?}");
    still_serves(&host)
}

#[test]
fn a_write_outside_the_grants_answers_500_and_writes_nothing() -> Result<()> {
    let host = hostile_host()?;
    post(&host, "/nostd/write-outside?key=k1", 500)?;
    host.wait_for_log_line(&["`secret`"])?;
    // Neither the granted put that came with it nor the other one.
    ensure!(expect(&host, "/kv/k1", 404)? == "absent k1\n");
    ensure!(expect(&host, "/secret/k1", 404)? == "absent k1\n");
    nothing_written(&host)?;
    still_serves(&host)
}

#[test]
fn a_granted_write_followed_by_an_invalid_response_writes_nothing() -> Result<()> {
    let host = hostile_host()?;
    post(&host, "/nostd/write-then-invalid?key=k2", 500)?;
    ensure!(expect(&host, "/kv/k2", 404)? == "absent k2\n");
    nothing_written(&host)?;
    still_serves(&host)
}

/// Sends `request` as is on a fresh connection and returns every byte the host sent back.
fn exchange(host: &Host, request: &str) -> Result<Vec<u8>> {
    let mut stream = TcpStream::connect(host.addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    stream.write_all(request.as_bytes())?;
    let mut received = Vec::new();
    stream.read_to_end(&mut received)?;
    Ok(received)
}
