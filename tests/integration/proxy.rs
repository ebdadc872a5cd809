//! Standard `wasi:http/proxy` components served by the same host as pure ones (issue #5), checked
//! the way wasmtime's own p2 HTTP tests check `wasmtime serve`: streamed echo of large bodies,
//! hashing bodies fetched from a local upstream, forwarding, denied outbound hosts, forbidden
//! headers, a guest that sets no response, traps or runs past its deadline, a client that hangs
//! up, and header size limits. Plus what Nebula adds: grants from the manifest, the log prefix,
//! `inspect`, and refusals at load.
//!
//! The guests are components/http-* (std Rust, wasip2 or wasi bindings); [`upstream`] is a
//! plain HTTP server on 127.0.0.1:0 for them to call; [`wire`] is a raw client for chunked
//! bodies, trailers and hanging up.

mod sha256;
mod upstream;
mod wire;

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};

use crate::harness::{Host, Manifest, guests, run_cli};
use upstream::{Upstream, pattern};
use wire::Conn;

/// Starts `nebula-host up` on `manifest`, written into a temp folder that lives with the host.
fn up(manifest: Manifest) -> Result<Host> {
    manifest.up(&[])
}

/// The echo guest at every path, with `extra` TOML added to its component table.
fn echo_host(extra: &str) -> Result<Host> {
    up(Manifest::new()
        .component("echo-http", &guests().http_echo)
        .raw(extra)
        .route("* /{*path}", "echo-http"))
}

/// The misbehaving guest at every path, with a short deadline.
fn misbehaving_host() -> Result<Host> {
    up(Manifest::new()
        .component_with_limits("wild", &guests().http_misbehave, r#"timeout = "500ms""#)
        .route("* /{*path}", "wild"))
}

/// Checks that a host still serves a calm request.
fn still_calm(host: &Host) -> Result<()> {
    let response = host.get("/calm")?;
    ensure!(
        response.status == 200 && response.text() == "calm\n",
        "after a failure: {} {}",
        response.status,
        response.text()
    );
    Ok(())
}

#[test]
fn hello_answers_the_same_under_serve_and_from_a_manifest_route() -> Result<()> {
    let served = Host::serve(&guests().http_hello)?;
    let routed = up(Manifest::new()
        .component("hello-http", &guests().http_hello)
        .route("GET /hello/{name}", "hello-http"))?;

    let a = served.get("/hello/ada")?;
    let b = routed.get("/hello/ada")?;
    ensure!(
        a.status == 200 && a.text() == "Hello, ada!\n",
        "serve: {a:?}"
    );
    ensure!(
        (b.status, b.text()) == (a.status, a.text()),
        "manifest route: {b:?}"
    );
    for name in ["content-type", "content-length"] {
        ensure!(a.header(name) == b.header(name), "`{name}`: {a:?} vs {b:?}");
    }
    // Pure and proxy routes share the router: an unrouted path is still 404.
    ensure!(routed.get("/elsewhere")?.status == 404);
    // Guest output becomes host log lines, prefixed with the component id.
    served.wait_for_log_line(&["[main] greeting ada"])?;
    routed.wait_for_log_line(&["[hello-http] greeting ada"])?;
    routed.wait_for_log_line(&["[hello-http] done greeting ada"])?;
    Ok(())
}

#[test]
fn serves_concurrent_requests_each_in_a_fresh_instance() -> Result<()> {
    let served = Host::serve(&guests().http_hello)?;
    let addr = served.addr;
    let threads: Vec<_> = (0..16)
        .map(|i| {
            std::thread::spawn(move || {
                crate::harness::request(addr, "GET", &format!("/n{i}"), &[], b"")
            })
        })
        .collect();
    for (i, thread) in threads.into_iter().enumerate() {
        let response = thread.join().expect("client thread")?;
        ensure!(response.text() == format!("Hello, n{i}!\n"), "{response:?}");
    }
    Ok(())
}

#[test]
fn inspect_recognises_a_proxy_component_and_its_capabilities() -> Result<()> {
    let out = run_cli(&[&"inspect", &guests().http_echo])?;
    ensure!(out.code == Some(0), "{out}");
    for needle in [
        "kind:      wasi:http/proxy component",
        "wasi:http/incoming-handler@0.2.12",
        "servable as a wasi:http/proxy component (not pure",
        "outbound HTTP   only to the component's `allowed_outbound_hosts`",
        "files           none (no preopened directories)",
        "[environment: only the declared `env`]",
    ] {
        ensure!(out.stdout.contains(needle), "no {needle:?} in:\n{out}");
    }
    // The WASI 0.2.2 guest is recognised the same way.
    let out = run_cli(&[&"inspect", &guests().http_misbehave])?;
    ensure!(
        out.code == Some(0) && out.stdout.contains("wasi:http/incoming-handler@0.2.2"),
        "{out}"
    );

    let out = run_cli(&[&"inspect", &guests().http_sockets])?;
    ensure!(out.code == Some(1), "{out}");
    ensure!(
        out.stdout.contains("wasi:sockets/tcp@0.2.12  [REFUSED]")
            && out.stdout.contains("outside the proxy world"),
        "{out}"
    );
    Ok(())
}

#[test]
fn a_proxy_component_that_imports_sockets_is_refused_at_load() -> Result<()> {
    let failure = Manifest::new()
        .component("net", &guests().http_sockets)
        .route("GET /", "net")
        .up_expecting_failure(&[])?;
    ensure!(failure.code == Some(1), "{failure}");
    for needle in [
        "component `net` is refused: it is a wasi:http/proxy component",
        "`wasi:sockets/tcp@0.2.12`",
        "allowed_outbound_hosts",
        "nebula.toml:3:13",
    ] {
        ensure!(
            failure.stderr.contains(needle),
            "no {needle:?} in:\n{failure}"
        );
    }
    Ok(())
}

#[test]
fn a_proxy_component_in_a_pipeline_or_with_storage_is_refused_with_the_route_location() -> Result<()>
{
    let manifest = Manifest::new()
        .raw("\n[collections.notes]\n")
        .component("hello", &guests().hello)
        .component("echo-http", &guests().http_echo)
        .raw("\n[[routes]]\nroute = \"GET /both\"\npipeline = [\"hello\", \"echo-http\"]\n")
        .raw(
            "\n[[routes]]\nroute = \"GET /notes/{id}\"\ncomponent = \"echo-http\"\n\
             reads = [{ name = \"note\", op = \"get\", collection = \"notes\", key = \"{id}\" }]\n",
        )
        .route("GET /fine", "echo-http");
    let failure = manifest.up_expecting_failure(&[])?;
    for needle in [
        "route `GET /both` runs wasi:http component `echo-http` in a pipeline",
        "nebula.toml:12:9",
        "route `GET /notes/{id}` gives wasi:http component `echo-http` storage",
        "nebula.toml:16:9",
    ] {
        ensure!(
            failure.stderr.contains(needle),
            "no {needle:?} in:\n{failure}"
        );
    }
    ensure!(!failure.stderr.contains("GET /fine"), "{failure}");

    // `check` finds the same problems without starting.
    let out = run_cli(&[&"check", &manifest.write_temp()?.path])?;
    ensure!(
        out.code == Some(1) && out.stderr.contains("in a pipeline"),
        "{out}"
    );
    Ok(())
}

#[test]
fn echo_streams_a_1_mib_body_in_16_kib_frames_back_byte_identical() -> Result<()> {
    let host = echo_host("")?;
    let body = pattern(1 << 20);
    let (mut conn, mut writer) = Conn::open(host.addr)?;
    writer.head(
        "POST",
        "/echo",
        &[
            ("content-type", "application/x-nebula-test"),
            ("transfer-encoding", "chunked"),
        ],
    )?;
    // Send on a thread: the echo streams back while the request is still going out.
    let sent = body.clone();
    let sender = std::thread::spawn(move || -> Result<()> {
        for frame in sent.chunks(16 << 10) {
            writer.chunk(frame)?;
        }
        writer.end(&[])
    });
    let response = conn.read_response()?;
    sender.join().expect("sender thread")?;
    ensure!(
        response.status == 200 && response.complete,
        "{}",
        response.status
    );
    ensure!(
        response.header("content-type") == Some("application/x-nebula-test"),
        "{:?}",
        response.headers
    );
    ensure!(
        response.body == body,
        "echoed {} bytes, not the {} sent (or not the same ones)",
        response.body.len(),
        body.len()
    );
    Ok(())
}

#[test]
fn echo_answers_before_the_request_body_has_ended() -> Result<()> {
    let host = echo_host("")?;
    let (mut conn, mut writer) = Conn::open(host.addr)?;
    writer.head("PUT", "/echo", &[("transfer-encoding", "chunked")])?;
    writer.chunk(&pattern(16 << 10))?;
    // Nothing more is sent until the first frame has come back: a host that buffered the
    // request would wait here until the read timeout.
    let head = conn.read_head()?;
    ensure!(head.status == 200, "{head:?}");
    let arrived = conn.read_at_least(16 << 10)?;
    ensure!(arrived >= 16 << 10, "only {arrived} bytes came back");
    writer.chunk(b"the end")?;
    writer.end(&[])?;
    let response = conn.read_body(head)?;
    let mut expected = pattern(16 << 10);
    expected.extend_from_slice(b"the end");
    ensure!(response.complete && response.body == expected);
    Ok(())
}

#[test]
fn echo_passes_request_trailers_through_as_response_trailers() -> Result<()> {
    let host = echo_host("")?;
    let (mut conn, mut writer) = Conn::open(host.addr)?;
    writer.head(
        "POST",
        "/echo",
        &[
            ("transfer-encoding", "chunked"),
            ("te", "trailers"),
            ("trailer", "x-checksum"),
        ],
    )?;
    writer.chunk(b"hello, ")?;
    writer.chunk(b"trailers")?;
    writer.end(&[("x-checksum", "abc123")])?;
    let response = conn.read_response()?;
    ensure!(
        response.complete && response.body == b"hello, trailers",
        "{response:?}"
    );
    ensure!(
        response.trailers == [("x-checksum".to_owned(), "abc123".to_owned())],
        "{response:?}"
    );
    Ok(())
}

#[test]
fn a_request_body_over_max_body_is_refused_or_cut_off() -> Result<()> {
    let host = up(Manifest::new()
        .component_with_limits("echo-http", &guests().http_echo, r#"max_body = "64 KiB""#)
        .route("* /{*path}", "echo-http"))?;
    // Declared too large: refused before any instance runs.
    let response = wire::request(host.addr, "POST", "/echo", &[], &pattern(100 << 10))?;
    ensure!(response.status == 413, "{}", response.status);

    // Chunked past the limit: the guest's read fails, so it never finishes its body.
    let (mut conn, mut writer) = Conn::open(host.addr)?;
    writer.head("POST", "/echo", &[("transfer-encoding", "chunked")])?;
    let sender = std::thread::spawn(move || {
        for frame in pattern(100 << 10).chunks(16 << 10) {
            if writer.chunk(frame).is_err() {
                return;
            }
        }
        let _ = writer.end(&[]);
    });
    let response = conn.read_response()?;
    let _ = sender.join();
    ensure!(
        !response.complete && response.body.len() <= 64 << 10,
        "{} bytes, complete: {}",
        response.body.len(),
        response.complete
    );
    host.wait_for_log_line(&["[echo-http] reading the request body failed"])?;
    Ok(())
}

#[test]
fn a_chunked_body_over_max_body_never_gets_a_complete_looking_answer() -> Result<()> {
    // The lenient echo treats the failed read as the end of the body and finishes the response
    // anyway, as wasmtime's streaming proxy example does: the host must cut it off (or answer
    // 413 if the response had not begun).
    let host = up(Manifest::new()
        .component_with_limits("echo-http", &guests().http_echo, r#"max_body = "64 KiB""#)
        .route("* /{*path}", "echo-http"))?;
    let (mut conn, mut writer) = Conn::open(host.addr)?;
    writer.head("POST", "/echo-lenient", &[("transfer-encoding", "chunked")])?;
    let sender = std::thread::spawn(move || {
        for frame in pattern((64 << 10) + 1).chunks(16 << 10) {
            if writer.chunk(frame).is_err() {
                return;
            }
        }
        let _ = writer.end(&[]);
    });
    let response = conn.read_response();
    let _ = sender.join();
    if let Ok(response) = response {
        ensure!(
            response.status == 413 || !response.complete,
            "a cut-off body looked whole: {} with {} bytes",
            response.status,
            response.body.len()
        );
    }
    host.wait_for_log_line(&["[echo-http] reading the request body failed"])?;
    still_calm_echo(&host)
}

#[test]
fn a_streamed_response_over_max_response_is_cut_off_with_a_log_line() -> Result<()> {
    let host = echo_host("limits = { max_response = \"16 KiB\" }\n")?;
    let (mut conn, mut writer) = Conn::open(host.addr)?;
    writer.head("GET", "/big?bytes=100000", &[])?;
    if let Ok(response) = conn.read_response() {
        ensure!(
            !response.complete && response.body.len() <= 16 << 10,
            "{} bytes, complete: {}",
            response.body.len(),
            response.complete
        );
    }
    host.wait_for_log_line(&["component `echo-http` answered a body over its `max_response`"])?;
    // Under the limit is a response like any other.
    let response = host.get("/big?bytes=1000")?;
    ensure!(response.status == 200 && response.body.len() == 1000);
    Ok(())
}

/// The echo host still answers a plain echo.
fn still_calm_echo(host: &Host) -> Result<()> {
    let response = host.request("POST", "/echo", &[], b"still here")?;
    ensure!(
        response.status == 200 && response.body == b"still here",
        "{response:?}"
    );
    Ok(())
}

/// A host serving the fetching guest with `allowed` as its grant, at `/granted/...`, and the
/// same guest without any grant at `/ungranted/...`.
fn fetch_host(allowed: &[String]) -> Result<Host> {
    let hosts: Vec<String> = allowed.iter().map(|h| format!("{h:?}")).collect();
    up(Manifest::new()
        .component("fetch", &guests().http_fetch)
        .raw(&format!(
            "allowed_outbound_hosts = [{}]\n",
            hosts.join(", ")
        ))
        .component("fetch-nothing", &guests().http_fetch)
        .route("* /granted/{*rest}", "fetch")
        .route("* /ungranted/{*rest}", "fetch-nothing"))
}

#[test]
fn hashes_several_bodies_fetched_from_an_allowed_upstream() -> Result<()> {
    let upstream = Upstream::start()?;
    let host = fetch_host(&[upstream.origin()])?;
    let sizes = [100_000, 1 << 20, 0, 65_537];
    let urls: Vec<String> = sizes
        .iter()
        .map(|n| format!("{}/bytes/{n}", upstream.origin()))
        .collect();
    let headers: Vec<(&str, &str)> = urls.iter().map(|u| ("url", u.as_str())).collect();
    let response = host.request("GET", "/granted/hash", &headers, b"")?;
    ensure!(response.status == 200, "{response:?}");
    let expected: String = urls
        .iter()
        .zip(sizes)
        .map(|(url, n)| format!("{url} {}\n", sha256::hex(&pattern(n))))
        .collect();
    ensure!(
        response.text() == expected,
        "got:\n{}\nexpected:\n{expected}",
        response.text()
    );
    ensure!(upstream.accepted() == sizes.len());
    Ok(())
}

#[test]
fn forwards_a_request_and_copies_status_headers_and_body_back() -> Result<()> {
    let upstream = Upstream::start()?;
    let host = fetch_host(&[upstream.origin()])?;
    let target = format!("{}/teapot", upstream.origin());
    let response = host.request(
        "POST",
        "/granted/forward",
        &[("x-forward-to", &target), ("x-test", "passed along")],
        b"ping",
    )?;
    ensure!(response.status == 418, "{response:?}");
    ensure!(
        response.header("x-upstream") == Some("teapot"),
        "{response:?}"
    );
    ensure!(
        response.text() == "POST /teapot\nx-test: passed along\n\nping",
        "{:?}",
        response.text()
    );
    Ok(())
}

#[test]
fn outbound_requests_outside_the_grant_are_denied_before_connecting() -> Result<()> {
    let allowed = Upstream::start()?;
    let other = Upstream::start()?;
    let host = fetch_host(&[allowed.origin()])?;
    let ok = format!("{}/bytes/10", allowed.origin());
    let other_port = format!("{}/bytes/10", other.origin());
    let other_scheme = format!("https://{}/bytes/10", allowed.addr);
    let response = host.request(
        "GET",
        "/granted/hash",
        &[("url", &other_port), ("url", &ok), ("url", &other_scheme)],
        b"",
    )?;
    let expected = format!(
        "{other_port} error: ErrorCode::HttpRequestDenied\n{ok} {}\n{other_scheme} error: ErrorCode::HttpRequestDenied\n",
        sha256::hex(&pattern(10))
    );
    ensure!(response.text() == expected, "{}", response.text());

    // Without `allowed_outbound_hosts`, nothing is allowed.
    let response = host.request("GET", "/ungranted/hash", &[("url", &ok)], b"")?;
    ensure!(
        response.text() == format!("{ok} error: ErrorCode::HttpRequestDenied\n"),
        "{}",
        response.text()
    );
    ensure!(
        other.accepted() == 0 && allowed.accepted() == 1,
        "denied requests must not connect"
    );
    host.wait_for_log_line(&["[fetch-nothing] outbound request to", "denied"])?;
    Ok(())
}

#[test]
fn forbidden_headers_are_hidden_from_and_refused_to_the_guest() -> Result<()> {
    let host = echo_host("")?;
    let response = host.request(
        "GET",
        "/headers?x=1",
        &[
            ("keep-alive", "timeout=5"),
            ("proxy-authorization", "Basic eDp5"),
            ("proxy-connection", "keep-alive"),
            ("http2-settings", "AAMAAABkAAQAAP__"),
            ("x-custom", "kept"),
        ],
        b"",
    )?;
    let text = response.text();
    let (first, headers) = text.split_once('\n').context("no first line")?;
    // Scheme and authority are given to the guest, from the connection and `Host`.
    ensure!(
        first == format!("GET http {} /headers?x=1", host.addr),
        "{first:?}"
    );
    ensure!(headers.contains("x-custom: kept\n"), "{text}");
    for hidden in [
        "keep-alive",
        "proxy-authorization",
        "proxy-connection",
        "http2-settings",
        "connection",
        "host",
    ] {
        ensure!(
            !headers
                .lines()
                .any(|l| l.starts_with(&format!("{hidden}:"))),
            "the guest saw `{hidden}`:\n{text}"
        );
    }

    let refused = host.get("/forbidden")?.text();
    for name in [
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
        "host",
        "http2-settings",
    ] {
        ensure!(
            refused.contains(&format!("{name}: refused (HeaderError::Forbidden)\n")),
            "`{name}` was not refused:\n{refused}"
        );
    }
    ensure!(refused.contains("x-allowed: ok\n"), "{refused}");
    Ok(())
}

#[test]
fn a_guest_sees_only_its_declared_env_and_no_files() -> Result<()> {
    let host = echo_host("env = { GREETING = \"hi\", EMPTY = \"\" }\n")?;
    ensure!(host.get("/env")?.text() == "EMPTY=\nGREETING=hi\n");
    let fs = host.get("/fs")?.text();
    ensure!(fs.starts_with("no files: "), "{fs}");

    let bare = Host::serve(&guests().http_echo)?;
    ensure!(bare.get("/env")?.text().is_empty(), "`serve` grants no env");
    Ok(())
}

#[test]
fn guest_stdout_and_stderr_become_prefixed_log_lines() -> Result<()> {
    let host = echo_host("")?;
    ensure!(host.get("/log")?.text() == "logged\n");
    for line in [
        "[echo-http] to stdout",
        "[echo-http] to stderr",
        "[echo-http] half a line, then the rest",
        // The unterminated last line is written when the request's instance is gone.
        "[echo-http] no newline at the end",
    ] {
        host.wait_for_log_line(&[line])?;
    }
    Ok(())
}

#[test]
fn a_guest_that_never_sets_a_response_gets_500_and_a_log_line() -> Result<()> {
    let host = misbehaving_host()?;
    let response = host.get("/never")?;
    ensure!(response.status == 500, "{response:?}");
    host.wait_for_log_line(&["component `wild` returned without setting a response"])?;
    still_calm(&host)
}

#[test]
fn a_trap_or_an_error_code_is_500_and_the_host_serves_on() -> Result<()> {
    let host = misbehaving_host()?;
    ensure!(host.get("/trap")?.status == 500);
    host.wait_for_log_line(&["component `wild` trapped"])?;
    ensure!(host.get("/error")?.status == 500);
    host.wait_for_log_line(&["component `wild` answered with error code", "asked to fail"])?;
    still_calm(&host)
}

#[test]
fn a_trap_after_the_response_began_cuts_the_body_off() -> Result<()> {
    let host = misbehaving_host()?;
    let (mut conn, mut writer) = Conn::open(host.addr)?;
    writer.head("GET", "/partial", &[])?;
    // The client can tell: the connection closes without the final chunk (or before hyper
    // sent anything at all), never as if the body were whole.
    if let Ok(response) = conn.read_response() {
        ensure!(response.status == 200, "{response:?}");
        ensure!(
            !response.complete,
            "a truncated body looked whole: {response:?}"
        );
    }
    host.wait_for_log_line(&["component `wild`, after its response began"])?;
    still_calm(&host)
}

#[test]
fn past_the_deadline_is_504_whether_the_guest_spins_or_waits_on_the_host() -> Result<()> {
    let host = misbehaving_host()?;
    for path in ["/spin", "/sleep"] {
        let started = Instant::now();
        let response = host.get(path)?;
        let took = started.elapsed();
        ensure!(response.status == 504, "{path}: {response:?}");
        ensure!(took < Duration::from_secs(5), "{path} took {took:?}");
    }
    host.wait_for_log_line(&["component `wild` ran past its deadline of 500ms"])?;
    still_calm(&host)
}

#[test]
fn a_client_that_hangs_up_early_harms_neither_guest_nor_host() -> Result<()> {
    let host = echo_host("")?;
    // Mid-response: the guest's next write fails, and it stops.
    let (mut conn, mut writer) = Conn::open(host.addr)?;
    writer.head("GET", "/drip", &[])?;
    ensure!(conn.read_head()?.status == 200);
    conn.read_at_least(10)?;
    drop((conn, writer));
    host.wait_for_log_line(&["[echo-http] the client went away after"])?;

    // Mid-request: the guest's read fails, and it stops.
    let (conn, mut writer) = Conn::open(host.addr)?;
    writer.head("POST", "/echo", &[("content-length", "1048576")])?;
    writer.send(&pattern(16 << 10))?;
    std::thread::sleep(Duration::from_millis(200));
    drop((conn, writer));
    host.wait_for_log_line(&["[echo-http] reading the request body failed"])?;

    let response = host.get("/headers")?;
    ensure!(response.status == 200, "{response:?}");
    ensure!(!host.log().contains("trapped"), "{}", host.log());
    Ok(())
}

/// `count` headers `x-hN: vvv…` whose lines (`name: value\r\n`) take `line` bytes each.
fn many_headers(count: usize, line: usize) -> Vec<(String, String)> {
    (0..count)
        .map(|i| {
            let name = format!("x-h{i}");
            let value = "v".repeat(line - name.len() - 4);
            (name, value)
        })
        .collect()
}

/// Sends `GET /headers` with `headers`; the status, and how many `x-h` headers the guest saw.
fn send_headers(host: &Host, headers: &[(String, String)]) -> Result<(u16, usize)> {
    let (mut conn, mut writer) = Conn::open(host.addr)?;
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    writer.head("GET", "/headers", &headers)?;
    let response = conn.read_response()?;
    let seen = String::from_utf8_lossy(&response.body)
        .lines()
        .filter(|l| l.starts_with("x-h"))
        .count();
    Ok((response.status, seen))
}

#[test]
fn request_heads_near_the_header_limit_pass_and_over_it_get_431() -> Result<()> {
    // The default limit, 64 KiB.
    let host = echo_host("")?;
    ensure!(send_headers(&host, &many_headers(90, 700))? == (200, 90));
    ensure!(send_headers(&host, &many_headers(95, 700))?.0 == 431);
    // More header fields than hyper's 100 (as for `wasmtime serve`), however small.
    ensure!(send_headers(&host, &many_headers(97, 16))? == (200, 97));
    ensure!(send_headers(&host, &many_headers(120, 16))?.0 == 431);
    still_serves_headers(&host)?;

    // A smaller limit from `[limits]`, for pure and proxy routes alike.
    let host = up(Manifest::new()
        .raw("\n[limits]\nmax_header_bytes = \"8 KiB\"\n")
        .component("echo-http", &guests().http_echo)
        .component("hello", &guests().hello)
        .route("GET /hello/{name}", "hello")
        .route("* /{*path}", "echo-http"))?;
    ensure!(send_headers(&host, &many_headers(10, 700))? == (200, 10));
    ensure!(send_headers(&host, &many_headers(12, 700))?.0 == 431);
    let (mut conn, mut writer) = Conn::open(host.addr)?;
    let big: Vec<(String, String)> = many_headers(12, 700);
    let big: Vec<(&str, &str)> = big.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    writer.head("GET", "/hello/x", &big)?;
    ensure!(conn.read_response()?.status == 431);
    ensure!(host.get("/hello/again")?.status == 200);
    Ok(())
}

fn still_serves_headers(host: &Host) -> Result<()> {
    let response = host.get("/headers")?;
    ensure!(response.status == 200, "{response:?}");
    Ok(())
}
