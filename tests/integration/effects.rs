//! The effects layer over HTTP, on every store (a real redb file, a real etcd): declared and
//! dynamic reads reach the handler, the reads of one request see one snapshot, writes land
//! atomically and durably (across a clean restart and a `kill -9`), writes outside the grants or
//! the schema write nothing, and a pipeline writes all its steps or none.
//!
//! The guest is `components/effects-probe`, which acts by route; [`ROUTES`] is its manifest.
//! Every test runs once per store ([`per_store!`]): `effects::on_redb::…`, `effects::on_etcd::…`.

use crate::harness::{Host, Manifest, Store, TestStore, guests, per_store, request};
use anyhow::{Context, Result, bail, ensure};
use std::net::SocketAddr;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

per_store!(
    declared_reads_of_every_kind_reach_the_handler,
    dynamic_reads_follow_pointers_for_at_most_four_rounds,
    a_dynamic_read_outside_may_read_is_an_error_without_the_value,
    every_read_round_of_a_request_sees_one_snapshot,
    writes_land_and_survive_a_restart_on_the_same_data_folder,
    a_write_outside_the_grants_or_the_schema_writes_nothing,
    a_response_with_an_invalid_status_writes_nothing,
    both_steps_of_a_pipeline_write,
    a_trap_in_the_second_pipeline_step_writes_nothing,
    two_hundred_concurrent_increments_count_exactly_two_hundred,
    list_pagination_with_a_cursor_walks_every_key_once,
    every_write_acknowledged_before_a_kill_9_is_there_after_a_restart,
);

/// Collections and routes for the `probe` component (effects-probe) and the `trap` guest; the
/// probe's `//!` says what each route does.
const ROUTES: &str = r#"
[collections.kv]
indexes = ["by-body"]

[collections.hits]
counter = true

[collections.secret]

[[routes]]
route = "PUT /kv/{key}"
component = "probe"
may_write = ["kv"]

[[routes]]
route = "GET /kv/{key}"
component = "probe"
reads = [{ name = "value", op = "get", collection = "kv", key = "{key}" }]

[[routes]]
route = "DELETE /kv/{key}"
component = "probe"
may_write = ["kv"]

[[routes]]
route = "PUT /secret/{key}"
component = "probe"
may_write = ["secret"]

[[routes]]
route = "GET /secret/{key}"
component = "probe"
reads = [{ name = "value", op = "get", collection = "secret", key = "{key}" }]

[[routes]]
route = "POST /count/{key}"
component = "probe"
reads = [{ name = "count", op = "counter", collection = "hits", key = "{key}" }]
may_write = ["hits"]

[[routes]]
route = "GET /count/{key}"
component = "probe"
reads = [{ name = "count", op = "counter", collection = "hits", key = "{key}" }]

[[routes]]
route = "GET /list"
component = "probe"
reads = [{ name = "page", op = "list", collection = "kv", cursor = "{query.cursor}", limit = "{query.limit}", default_limit = 10, max_limit = 50 }]

[[routes]]
route = "GET /list/by-body"
component = "probe"
reads = [{ name = "page", op = "list", collection = "kv", index = "by-body", direction = "descending", cursor = "{query.cursor}", limit = "{query.limit}", default_limit = 10, max_limit = 50 }]

[[routes]]
route = "GET /reads/{key}"
component = "probe"
reads = [
  { name = "value", op = "get", collection = "kv", key = "{key}" },
  { name = "hits", op = "counter", collection = "hits", key = "{key}" },
  { name = "total", op = "count", collection = "kv" },
  { name = "page", op = "list", collection = "kv", limit = "{query.limit}", default_limit = 10 },
  { name = "now", op = "now" },
]

[[routes]]
route = "GET /lookup/{key}"
component = "probe"
reads = [{ name = "hop0", op = "get", collection = "kv", key = "{key}" }]

[[routes]]
route = "GET /twice/{key}"
component = "probe"
reads = [{ name = "first", op = "get", collection = "kv", key = "{key}" }]
memo = false

[[routes]]
route = "POST /append/{key}"
component = "probe"
reads = [{ name = "value", op = "get", collection = "kv", key = "{key}" }]
may_write = ["kv", "hits"]

[[routes]]
route = "GET /peek/{collection}/{key}"
component = "probe"
may_read = ["kv"]

[[routes]]
route = "POST /bad/{what}/{key}"
component = "probe"
may_write = ["kv", "hits"]

[[routes]]
route = "PUT /by-query"
component = "probe"
may_write = ["kv"]

[[routes]]
route = "GET /by-query"
component = "probe"
reads = [{ name = "value", op = "get", collection = "kv", key = "{query.x}" }]

[[routes]]
route = "POST /pipe/{key}"
pipeline = ["probe", "probe"]
may_write = ["kv"]

[[routes]]
route = "POST /pipe-trap/{key}"
pipeline = ["probe", "trap"]
may_write = ["kv"]
"#;

/// Writes the probe's manifest into `dir`.
fn manifest(dir: &Path) -> Result<PathBuf> {
    Manifest::new()
        // Room for `/twice`'s busy pause on a loaded machine.
        .component_with_limits("probe", &guests().effects_probe, "timeout = \"30s\"")
        .component("trap", &guests().trap)
        .raw(ROUTES)
        .write(dir)
}

/// A host serving [`ROUTES`] on `store` (for redb, a fresh data folder the harness owns).
pub(crate) fn probe_host(dir: &Path, store: &TestStore) -> Result<Host> {
    store.host(&manifest(dir)?, &[])
}

/// Sends `method path` with `body` and checks the status; returns the body text. The error
/// shows the response and the host's log.
pub(crate) fn send(
    host: &Host,
    method: &str,
    path: &str,
    body: &str,
    status: u16,
) -> Result<String> {
    let response = host
        .request(method, path, &[], body.as_bytes())
        .with_context(|| format!("{method} {path}"))?;
    let text = response.text();
    ensure!(
        response.status == status,
        "{method} {path}: status {} instead of {status}: {text}\n--- host log\n{}",
        response.status,
        host.log()
    );
    Ok(text)
}

pub(crate) fn put(host: &Host, key: &str, value: &str) -> Result<()> {
    send(host, "PUT", &format!("/kv/{key}"), value, 200).map(drop)
}

/// The value of `kv/{key}`, `None` when the probe answers 404.
pub(crate) fn value(host: &Host, key: &str) -> Result<Option<String>> {
    let path = format!("/kv/{key}");
    let response = host.get(&path).with_context(|| format!("GET {path}"))?;
    match response.status {
        200 => Ok(Some(response.text())),
        404 => Ok(None),
        status => bail!("GET {path}: status {status}: {}", response.text()),
    }
}

pub(crate) fn counter(host: &Host, key: &str) -> Result<i64> {
    let text = send(host, "GET", &format!("/count/{key}"), "", 200)?;
    text.trim()
        .parse()
        .with_context(|| format!("counter `{key}` is not a number: {text:?}"))
}

/// The line `NAME: ...` of a `/reads/{key}` answer, without `NAME: `.
fn read_line<'a>(body: &'a str, name: &str) -> Result<&'a str> {
    let prefix = format!("{name}: ");
    body.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .with_context(|| format!("no line `{prefix}...` in:\n{body}"))
}

/// A page as the probe renders it: `{"keys":["a","b"],"next":"6100.."}` or `"next":null`.
/// Test keys and cursors never hold `"`, `,` or `\`, so this parses only that shape.
fn parse_page(body: &str) -> Result<(Vec<String>, Option<String>)> {
    let shape = || format!("not a page: {body}");
    let rest = body
        .trim()
        .strip_prefix(r#"{"keys":["#)
        .with_context(shape)?;
    let (keys, next) = rest.split_once(r#"],"next":"#).with_context(shape)?;
    let next = next.strip_suffix('}').with_context(shape)?;
    let unquote = |s: &str| -> Result<String> {
        let inner = s.strip_prefix('"').and_then(|s| s.strip_suffix('"'));
        let inner = inner.with_context(shape)?;
        ensure!(!inner.contains(['"', '\\']), "{}", shape());
        Ok(inner.to_owned())
    };
    let keys = if keys.is_empty() {
        Vec::new()
    } else {
        keys.split(',').map(unquote).collect::<Result<_>>()?
    };
    let next = if next == "null" {
        None
    } else {
        Some(unquote(next)?)
    };
    Ok((keys, next))
}

/// Follows `next` cursors from the first page of `path` (`/list` or `/list/by-body`) with
/// `limit`; returns every key in walk order and the size of each page.
fn walk(host: &Host, path: &str, limit: usize) -> Result<(Vec<String>, Vec<usize>)> {
    /// More pages than any test writes keys: a cursor that never ends fails instead of hanging.
    const MAX_PAGES: usize = 10_000;
    let mut keys = Vec::new();
    let mut sizes = Vec::new();
    let mut cursor = String::new();
    for _ in 0..MAX_PAGES {
        let body = send(
            host,
            "GET",
            &format!("{path}?limit={limit}&cursor={cursor}"),
            "",
            200,
        )?;
        let (page, next) = parse_page(&body)?;
        sizes.push(page.len());
        keys.extend(page);
        match next {
            Some(next) => cursor = next,
            None => return Ok((keys, sizes)),
        }
    }
    bail!("{path}: still a next cursor after {MAX_PAGES} pages")
}

fn unix_millis() -> Result<i64> {
    let since = SystemTime::now().duration_since(UNIX_EPOCH)?;
    Ok(i64::try_from(since.as_millis())?)
}

fn declared_reads_of_every_kind_reach_the_handler(store: &TestStore) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let host = probe_host(dir.path(), store)?;
    put(&host, "alpha", "one")?;
    put(&host, "beta", "two")?;
    for _ in 0..3 {
        send(&host, "POST", "/count/alpha", "", 200)?;
    }

    let before = unix_millis()?;
    let body = send(&host, "GET", "/reads/alpha", "", 200)?;
    let after = unix_millis()?;
    ensure!(read_line(&body, "value")? == "value one", "{body}");
    ensure!(read_line(&body, "hits")? == "number 3", "{body}");
    ensure!(read_line(&body, "total")? == "number 2", "{body}");
    ensure!(
        read_line(&body, "page")? == "page alpha,beta next=none",
        "{body}"
    );
    // Both clocks are the same machine's wall clock.
    let now: i64 = read_line(&body, "now")?
        .strip_prefix("number ")
        .and_then(|n| n.parse().ok())
        .with_context(|| format!("`now` is not a number: {body}"))?;
    ensure!(
        (before..=after).contains(&now),
        "now {now} outside [{before}, {after}]"
    );
    // Declared reads come first, in manifest order.
    let names: Vec<&str> = body
        .lines()
        .filter_map(|line| line.split_once(": ").map(|(name, _)| name))
        .collect();
    ensure!(names == ["value", "hits", "total", "page", "now"], "{body}");

    let body = send(&host, "GET", "/reads/nobody?limit=1", "", 200)?;
    ensure!(read_line(&body, "value")? == "absent", "{body}");
    ensure!(read_line(&body, "hits")? == "number 0", "{body}");
    let page = read_line(&body, "page")?;
    ensure!(
        page.starts_with("page alpha next=") && !page.ends_with("next=none"),
        "a limit of 1 gives one key and a cursor: {body}"
    );

    ensure!(value(&host, "alpha")?.as_deref() == Some("one"));
    ensure!(value(&host, "gamma")?.is_none());
    ensure!(counter(&host, "alpha")? == 3);
    Ok(())
}

fn dynamic_reads_follow_pointers_for_at_most_four_rounds(store: &TestStore) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let host = probe_host(dir.path(), store)?;
    // a0 -> a1 -> a2 -> a3 -> a4 -> a5 = "end": looking up a_i takes 5 - i dynamic reads.
    for i in 0..5 {
        put(&host, &format!("a{i}"), &format!("@a{}", i + 1))?;
    }
    put(&host, "a5", "end")?;
    put(&host, "dangling", "@nowhere")?;

    ensure!(send(&host, "GET", "/lookup/a5", "", 200)? == "end hops=0\n");
    ensure!(send(&host, "GET", "/lookup/a4", "", 200)? == "end hops=1\n");
    ensure!(send(&host, "GET", "/lookup/a1", "", 200)? == "end hops=4\n");
    ensure!(send(&host, "GET", "/lookup/dangling", "", 404)? == "absent after hops=1\n");
    ensure!(send(&host, "GET", "/lookup/nothing", "", 404)? == "absent after hops=0\n");

    // A fifth round is one too many (host/src/handler.rs, MAX_READ_ROUNDS).
    send(&host, "GET", "/lookup/a0", "", 500)?;
    host.wait_for_log_line(&["/lookup/{key}", "more than 4 times"])?;
    Ok(())
}

fn a_dynamic_read_outside_may_read_is_an_error_without_the_value(store: &TestStore) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let host = probe_host(dir.path(), store)?;
    put(&host, "alpha", "one")?;
    send(&host, "PUT", "/secret/plans", "classified", 200)?;
    // The secret is stored: its own route reads it.
    ensure!(send(&host, "GET", "/secret/plans", "", 200)? == "classified");

    // `GET /peek/...` may read `kv` only.
    ensure!(send(&host, "GET", "/peek/kv/alpha", "", 200)? == "value one\n");
    ensure!(send(&host, "GET", "/peek/kv/nothing", "", 200)? == "absent\n");
    for path in [
        "/peek/secret/plans",
        "/peek/hits/alpha",
        "/peek/undeclared/x",
    ] {
        let body = send(&host, "GET", path, "", 200)?;
        ensure!(
            body.starts_with("error ") && body.contains("not granted"),
            "GET {path}: {body}"
        );
        ensure!(!body.contains("classified"), "GET {path} leaked: {body}");
    }
    Ok(())
}

/// The probe's `GET /twice/{key}` reads `kv/{key}` (declared), counts for a while, then reads it
/// again (a `need` round); the test overwrites the key meanwhile. The second round must see what
/// the first saw: README "Reads of one request see one snapshot".
fn every_read_round_of_a_request_sees_one_snapshot(store: &TestStore) -> Result<()> {
    /// Attempts: the write must land after the first round and before the second, which a busy
    /// machine may make miss; each miss counts longer.
    const ATTEMPTS: u32 = 5;
    let dir = tempfile::tempdir()?;
    let host = probe_host(dir.path(), store)?;
    let mut spin: u64 = 300_000_000;
    for attempt in 0..ATTEMPTS {
        let before = format!("before-{attempt}");
        let after = format!("after-{attempt}");
        put(&host, "snap", &before)?;
        let addr = host.addr;
        let path = format!("/twice/snap?spin={spin}");
        let reader = std::thread::spawn(move || {
            let answer = request(addr, "GET", &path, &[], b"");
            (answer, Instant::now())
        });
        std::thread::sleep(Duration::from_millis(150));
        put(&host, "snap", &after)?;
        let written = Instant::now();
        let (answer, answered) = reader.join().expect("reader thread panicked");
        let body = answer?.text();
        let first = read_line(&body, "first")?;
        let again = read_line(&body, "again")?;
        if first == format!("value {after}") || answered < written {
            // The write landed before the first round, or the request ended before the write:
            // no write between the rounds. Count longer and try again.
            spin *= 2;
            continue;
        }
        ensure!(first == format!("value {before}"), "{body}");
        ensure!(
            again == first,
            "the second round saw a write made after the first: {body}"
        );
        // The write did land: a new request sees it.
        ensure!(value(&host, "snap")?.as_deref() == Some(after.as_str()));
        return Ok(());
    }
    bail!("no attempt of {ATTEMPTS} put the write between the two read rounds")
}

fn writes_land_and_survive_a_restart_on_the_same_data_folder(store: &TestStore) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let manifest = manifest(dir.path())?;
    let data_arg = data.path().to_str().context("temp path is not UTF-8")?;

    let mut first = store.host(&manifest, &["--data", data_arg])?;
    for (key, body) in [
        ("k1", "one"),
        ("k2", "two"),
        ("k3", "three"),
        ("k4", "four"),
    ] {
        put(&first, key, body)?;
    }
    put(&first, "k2", "two, again")?;
    send(&first, "DELETE", "/kv/k3", "", 200)?;
    for _ in 0..2 {
        send(&first, "POST", "/count/k1", "", 200)?;
    }
    let status = first.stop_gracefully()?;
    ensure!(status.success(), "exit {status}:\n{}", first.log());
    ensure!(
        data.path().join("nebula.redb").is_file() == (store.kind() == Store::Redb),
        "nebula.redb in the data folder only on redb"
    );

    let mut second = store.host(&manifest, &["--data", data_arg])?;
    ensure!(value(&second, "k1")?.as_deref() == Some("one"));
    ensure!(value(&second, "k2")?.as_deref() == Some("two, again"));
    ensure!(value(&second, "k3")?.is_none(), "k3 was deleted");
    ensure!(value(&second, "k4")?.as_deref() == Some("four"));
    ensure!(counter(&second, "k1")? == 2);
    let (keys, _) = walk(&second, "/list", 2)?;
    ensure!(keys == ["k1", "k2", "k4"], "primary keys: {keys:?}");
    // Descending by body: "two, again" > "one" > "four"; the overwrite moved k2's index entry.
    let (keys, _) = walk(&second, "/list/by-body", 2)?;
    ensure!(keys == ["k2", "k1", "k4"], "by-body: {keys:?}");
    let status = second.stop_gracefully()?;
    ensure!(status.success(), "exit {status}:\n{}", second.log());
    Ok(())
}

fn a_write_outside_the_grants_or_the_schema_writes_nothing(store: &TestStore) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let host = probe_host(dir.path(), store)?;
    // Each `POST /bad/{what}/{key}` returns a granted put of `kv/{key}` plus one bad write; the
    // needle is the reason the host logs.
    let cases = [
        ("grant", "`secret` is not granted"),
        ("index", "has no index `no-such-index`"),
        ("put-counter", "`put` to counter collection `hits`"),
        (
            "add-plain",
            "`add` to collection `kv`, which is not a counter",
        ),
        ("overflow", "would overflow"),
    ];
    for (what, reason) in cases {
        let key = format!("{what}-key");
        send(&host, "POST", &format!("/bad/{what}/{key}"), "", 500)?;
        host.wait_for_log_line(&["writes not applied", reason])?;
        ensure!(
            value(&host, &key)?.is_none(),
            "{what}: the granted put landed"
        );
        ensure!(
            value(&host, &format!("{key}-indexed"))?.is_none(),
            "{what}: the badly indexed put landed"
        );
        ensure!(
            send(&host, "GET", &format!("/secret/{key}"), "", 404)? == format!("absent {key}\n"),
            "{what}: the put to `secret` landed"
        );
        ensure!(counter(&host, &key)? == 0, "{what}: an add landed");
    }
    let body = send(&host, "GET", "/reads/any", "", 200)?;
    ensure!(read_line(&body, "total")? == "number 0", "{body}");
    ensure!(read_line(&body, "page")? == "page  next=none", "{body}");

    // The host still applies good writes.
    put(&host, "fine", "yes")?;
    ensure!(value(&host, "fine")?.as_deref() == Some("yes"));
    Ok(())
}

/// Host and SDK read a query alike: the probe stores under the key the SDK's `query_param` reads
/// from `?x=`, and the host finds it under `{query.x}` only if it decodes the same query to the
/// same text — for malformed escapes, `+`, bytes that are not UTF-8, repeated and empty parameters,
/// hand-picked and then random.
#[test]
fn the_manifest_and_the_sdk_read_a_query_alike() -> Result<()> {
    use proptest::test_runner::{Config, TestCaseError, TestRunner};

    let dir = tempfile::tempdir()?;
    // Query decoding is the host's, whatever the store: redb suffices.
    let store = TestStore::start(Store::Redb)?;
    let host = probe_host(dir.path(), &store)?;
    let case = std::cell::Cell::new(0);
    // Each case's `x` starts with its own plain prefix, so no case finds another's entry.
    let check = |rest: &str| -> Result<()> {
        case.set(case.get() + 1);
        let query = format!("x=case{}-{rest}", case.get());
        send(&host, "PUT", &format!("/by-query?{query}"), "", 200)?;
        let found = send(&host, "GET", &format!("/by-query?{query}"), "", 200)?;
        ensure!(found == "stored", "{query}: {found:?}");
        Ok(())
    };
    for rest in [
        "100%",
        "%zz%4",
        "a+b%21",
        "%ff",
        "caf%C3%A9",
        "%",
        "%%41",
        "%2",
        "+%2B+",
        "a=b",
        "v&x=second",
        "%E2%82",
        "%00",
        "~!$'()*,;:@/?",
    ] {
        check(rest)?;
    }
    // Missing or empty values are the empty key for both.
    send(&host, "PUT", "/by-query?y=1&x", "", 200)?;
    ensure!(send(&host, "GET", "/by-query?x=", "", 200)? == "stored");
    ensure!(send(&host, "GET", "/by-query?x=never-stored", "", 404)? == "absent \n");

    let mut runner = TestRunner::new(Config {
        cases: 100,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(
            &"([A-Za-z0-9+=&._~!$'()*,;:@/?-]|%[0-9a-fA-F]{0,2}){0,24}",
            |rest| check(&rest).map_err(|err| TestCaseError::fail(format!("{err:#}"))),
        )
        .map_err(|err| anyhow::anyhow!("{err}"))
}

/// docs/manifest.md: "Any failed check, trap or timeout writes nothing and answers 500." A
/// status outside 100..=599 is such a check: the client gets a 500, so it must be able to retry
/// without the writes being applied twice.
fn a_response_with_an_invalid_status_writes_nothing(store: &TestStore) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let host = probe_host(dir.path(), store)?;
    send(&host, "POST", "/bad/status/key", "", 500)?;
    host.wait_for_log_line(&["/bad/{what}/{key}", "invalid status 1000"])?;
    let landed = value(&host, "key")?;
    ensure!(
        landed.is_none(),
        "the host answered 500 for the invalid status, yet applied the handler's put \
         (kv/key = {landed:?})"
    );
    Ok(())
}

fn both_steps_of_a_pipeline_write(store: &TestStore) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let host = probe_host(dir.path(), store)?;
    let body = send(&host, "POST", "/pipe/p", "hello", 200)?;
    ensure!(body == "step 1 saw hello\n", "step 2 got {body:?}");
    ensure!(
        value(&host, "p-1")?.as_deref() == Some("one"),
        "step 1's put"
    );
    ensure!(
        value(&host, "p-2")?.as_deref() == Some("two"),
        "step 2's put"
    );
    Ok(())
}

fn a_trap_in_the_second_pipeline_step_writes_nothing(store: &TestStore) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let host = probe_host(dir.path(), store)?;
    send(&host, "POST", "/pipe-trap/t", "hello", 500)?;
    host.wait_for_log_line(&["/pipe-trap/{key}", "component `trap`"])?;
    ensure!(value(&host, "t-1")?.is_none(), "step 1's put landed");
    ensure!(value(&host, "t-2")?.is_none());
    // The same step 1 writes when the pipeline completes.
    send(&host, "POST", "/pipe/t", "hello", 200)?;
    ensure!(value(&host, "t-1")?.as_deref() == Some("one"));
    Ok(())
}

fn two_hundred_concurrent_increments_count_exactly_two_hundred(store: &TestStore) -> Result<()> {
    const THREADS: usize = 10;
    const PER_THREAD: usize = 20;
    let dir = tempfile::tempdir()?;
    let host = probe_host(dir.path(), store)?;
    let answers = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| -> Result<Vec<i64>> {
                    (0..PER_THREAD)
                        .map(|_| {
                            let text = send(&host, "POST", "/count/shared", "", 200)?;
                            Ok(text.trim().parse()?)
                        })
                        .collect()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("client thread panicked"))
            .collect::<Result<Vec<_>>>()
    })?;
    let total = (THREADS * PER_THREAD) as i64;
    // Each answer is the count the request read, plus one.
    for n in answers.iter().flatten() {
        ensure!((1..=total).contains(n), "an increment answered {n}");
    }
    ensure!(counter(&host, "shared")? == total);
    Ok(())
}

fn list_pagination_with_a_cursor_walks_every_key_once(store: &TestStore) -> Result<()> {
    const KEYS: usize = 57;
    let dir = tempfile::tempdir()?;
    let host = probe_host(dir.path(), store)?;
    // Bodies in another order than keys (37 and 57 are coprime: every body once).
    let body_of = |i: usize| format!("body-{:03}", (i * 37) % KEYS);
    for i in 0..KEYS {
        put(&host, &format!("key-{i:03}"), &body_of(i))?;
    }
    let mut by_key: Vec<String> = (0..KEYS).map(|i| format!("key-{i:03}")).collect();
    by_key.sort();
    let mut by_body_desc: Vec<(String, String)> = (0..KEYS)
        .map(|i| (body_of(i), format!("key-{i:03}")))
        .collect();
    by_body_desc.sort_by(|a, b| b.cmp(a));
    let by_body_desc: Vec<String> = by_body_desc.into_iter().map(|(_, key)| key).collect();

    let (keys, sizes) = walk(&host, "/list", 10)?;
    ensure!(keys == by_key, "primary keys, ascending: {keys:?}");
    ensure!(sizes == [10, 10, 10, 10, 10, 7], "page sizes {sizes:?}");

    let (keys, sizes) = walk(&host, "/list/by-body", 7)?;
    ensure!(keys == by_body_desc, "by body, descending: {keys:?}");
    ensure!(sizes.iter().all(|&n| n <= 7), "page sizes {sizes:?}");

    // Exactly `limit` keys left: the page holds them and no cursor follows.
    let (_, sizes) = walk(&host, "/list", 19)?;
    ensure!(sizes == [19, 19, 19], "page sizes {sizes:?}");

    // The limit is capped at the read's max_limit (50); no limit gives default_limit (10).
    let (page, next) = parse_page(&send(&host, "GET", "/list?limit=1000", "", 200)?)?;
    ensure!(page.len() == 50 && next.is_some(), "{} keys", page.len());
    let (page, _) = parse_page(&send(&host, "GET", "/list", "", 200)?)?;
    ensure!(page.len() == 10, "{} keys", page.len());

    // A cursor the host did not make is a read error the handler sees.
    let body = send(&host, "GET", "/list?cursor=zz", "", 400)?;
    ensure!(body.contains("malformed cursor"), "{body}");
    Ok(())
}

/// How the crash test's client stream ended.
#[derive(Debug)]
enum StreamEnd {
    /// A request got no answer: the host is gone.
    Failed(usize, anyhow::Error),
    /// The host answered a PUT with something other than 2xx.
    Refused(usize, u16, String),
    /// The stream ran out (count or time) before the host went away.
    Exhausted(usize),
}

/// PUTs `kv/crash-NNNNN` = `value-NNNNN` for N = 0, 1, ... one at a time, sending each answered
/// N to `acked`, until a request fails or `max` requests or `max_time` are done.
fn stream_puts(
    addr: SocketAddr,
    acked: &mpsc::Sender<usize>,
    max: usize,
    max_time: Duration,
) -> StreamEnd {
    let started = Instant::now();
    for i in 0..max {
        if started.elapsed() > max_time {
            return StreamEnd::Exhausted(i);
        }
        let path = format!("/kv/crash-{i:05}");
        let body = format!("value-{i:05}");
        match request(addr, "PUT", &path, &[], body.as_bytes()) {
            Ok(response) if (200..300).contains(&response.status) => {
                // The receiver stops listening after the kill; later acks still count below.
                let _ = acked.send(i);
            }
            Ok(response) => return StreamEnd::Refused(i, response.status, response.text()),
            Err(e) => return StreamEnd::Failed(i, e),
        }
    }
    StreamEnd::Exhausted(max)
}

fn every_write_acknowledged_before_a_kill_9_is_there_after_a_restart(
    store: &TestStore,
) -> Result<()> {
    /// Acknowledged writes to wait for before the kill.
    const KILL_AFTER: usize = 100;
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let cache = tempfile::tempdir()?;
    let manifest = manifest(dir.path())?;
    let data_arg = data.path().to_str().context("temp path is not UTF-8")?;

    let mut first = store.host_with_cache(&manifest, &["--data", data_arg], cache.path())?;
    let addr = first.addr;
    let (acks, acked) = mpsc::channel();
    let client =
        std::thread::spawn(move || stream_puts(addr, &acks, 2000, Duration::from_secs(20)));
    // Every ack arrives in order; the channel closes if the stream ends before the kill.
    let mut seen = 0;
    while seen < KILL_AFTER && acked.recv().is_ok() {
        seen += 1;
    }
    let killed = first.kill()?;
    let end = client.join().expect("client thread panicked");
    ensure!(
        killed.signal() == Some(9),
        "the host was not running at the kill: {killed}\n{}",
        first.log()
    );
    // Acks are sent in order, so they are 0..n.
    let acknowledged = seen + acked.try_iter().count();
    let in_flight = match end {
        StreamEnd::Failed(i, _) if i == acknowledged && acknowledged >= KILL_AFTER => i,
        StreamEnd::Failed(i, e) => bail!(
            "the stream failed at write {i} after {acknowledged} acknowledged ones: {e:#}\n{}",
            first.log()
        ),
        StreamEnd::Refused(i, status, text) => {
            bail!("write {i} was answered {status}: {text}\n{}", first.log())
        }
        StreamEnd::Exhausted(n) => bail!(
            "the stream ended after {n} writes ({acknowledged} acknowledged) before the kill; \
             nothing was in flight"
        ),
    };

    // The same data folder: the database opens (after redb's recovery, if needed).
    let mut second = store.host_with_cache(&manifest, &["--data", data_arg], cache.path())?;
    for i in 0..acknowledged {
        let key = format!("crash-{i:05}");
        let found = value(&second, &key)?;
        ensure!(
            found.as_deref() == Some(format!("value-{i:05}").as_str()),
            "acknowledged write {key} reads back as {found:?}"
        );
    }
    // The write in flight at the kill is all there or not at all.
    let key = format!("crash-{in_flight:05}");
    let found = value(&second, &key)?;
    let landed = match found.as_deref() {
        None => false,
        Some(v) if v == format!("value-{in_flight:05}") => true,
        Some(v) => bail!("the write in flight at the kill reads back as {v:?}"),
    };
    let expected: Vec<String> = (0..acknowledged + usize::from(landed))
        .map(|i| format!("crash-{i:05}"))
        .collect();
    let total = send(&second, "GET", "/reads/any", "", 200)?;
    ensure!(
        read_line(&total, "total")? == format!("number {}", expected.len()),
        "count after the restart, {} expected: {total}",
        expected.len()
    );
    // The index was written in the same transactions as the values.
    let (keys, _) = walk(&second, "/list", 50)?;
    ensure!(keys == expected, "primary keys after the restart: {keys:?}");
    let (mut keys, _) = walk(&second, "/list/by-body", 50)?;
    keys.reverse();
    ensure!(keys == expected, "by-body keys after the restart: {keys:?}");

    println!("killed after {acknowledged} acknowledged writes; the one in flight landed: {landed}");

    // New writes work on the recovered database.
    put(&second, "after-the-crash", "fine")?;
    ensure!(value(&second, "after-the-crash")?.as_deref() == Some("fine"));
    let status = second.stop_gracefully()?;
    ensure!(status.success(), "exit {status}:\n{}", second.log());
    Ok(())
}
