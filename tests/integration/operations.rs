//! Operating the host: `/metrics` on the admin listener (scraped over HTTP and read back with a
//! real Prometheus text-format parser), the usage log and `nebula-host usage`, and `top`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use prometheus_parse::{Sample, Scrape, Value};

use crate::harness::{Host, Manifest, guests, request, run_cli};

/// hello (memoized GETs), a trapping route, and the effects probe writing to `kv`.
fn manifest(dir: &Path) -> Result<PathBuf> {
    Manifest::new()
        .component("hello", &guests().hello)
        .component("trap", &guests().trap)
        .component("probe", &guests().effects_probe)
        .component("http_hello", &guests().http_hello)
        .route("GET /hello/{name}", "hello")
        .route("GET /proxy", "http_hello")
        .route("GET /", "hello")
        .route("GET /trap", "trap")
        .raw(
            r#"
[collections.kv]
indexes = ["by-body"]

[[routes]]
route = "PUT /by-query"
component = "probe"
may_write = ["kv"]
"#,
        )
        .write(dir)
}

/// The admin address the host printed.
pub(crate) fn admin(host: &Host) -> Result<SocketAddr> {
    host.stdout()
        .lines()
        .find_map(|l| l.strip_prefix("nebula-host: admin on http://"))
        .context("no admin line in the host's output")?
        .trim()
        .parse()
        .context("the admin address")
}

/// `/metrics`, as text and parsed by `prometheus-parse`. (prometheus-parse 0.2 ends a label set
/// at the first `}`, even inside a quoted value, so it drops samples of route templates with
/// parameters: the test reads those from the text.)
pub(crate) fn scrape(admin: SocketAddr) -> Result<(String, Vec<Sample>)> {
    let response = request(admin, "GET", "/metrics", &[], b"")?;
    ensure!(response.status == 200, "/metrics: {}", response.status);
    let content_type = response.header("content-type").unwrap_or_default();
    ensure!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text();
    let lines = text.lines().map(|l| Ok(l.to_owned())).collect::<Vec<_>>();
    Ok((text, Scrape::parse(lines.into_iter())?.samples))
}

/// The value of a counter or gauge sample with these labels (0 when absent: not counted yet).
pub(crate) fn value(samples: &[Sample], metric: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match &s.value {
            Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
            Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            Value::Summary(_) => f64::NAN,
        })
        .sum()
}

#[test]
fn metrics_parse_as_prometheus_text_and_counters_move_with_requests() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let host = Host::up(&manifest(dir.path())?, &["--admin", "127.0.0.1:0"])?;
    let admin = admin(&host)?;
    let (_, before) = scrape(admin)?;
    let index = [("route", "GET /"), ("status", "200")];
    ensure!(value(&before, "nebula_http_requests_total", &index) == 0.0);
    ensure!(
        value(
            &before,
            "nebula_component_loads_total",
            &[("component", "hello")]
        ) == 1.0
    );

    for _ in 0..3 {
        ensure!(host.get("/")?.status == 200);
    }
    ensure!(host.get("/hello/ada")?.status == 200);
    ensure!(host.get("/trap")?.status == 500);
    ensure!(host.get("/nowhere")?.status == 404);
    let put = request(host.addr, "PUT", "/by-query?x=a", &[], b"twelve bytes")?;
    ensure!(put.status == 200, "PUT: {} {}", put.status, put.text());

    let (text, after) = scrape(admin)?;
    let v = |metric: &str, labels: &[(&str, &str)]| value(&after, metric, labels);
    ensure!(v("nebula_http_requests_total", &index) == 3.0);
    let templated = "nebula_http_requests_total{route=\"GET /hello/{name}\",status=\"200\"} 1\n";
    ensure!(text.contains(templated), "{text}");
    ensure!(
        v(
            "nebula_http_requests_total",
            &[("route", "GET /trap"), ("status", "500")]
        ) == 1.0
    );
    ensure!(
        v(
            "nebula_http_requests_total",
            &[("route", "-"), ("status", "404")]
        ) == 1.0
    );
    let memo = |outcome| {
        v(
            "nebula_memo_lookups_total",
            &[("route", "GET /"), ("outcome", outcome)],
        )
    };
    ensure!(
        (memo("miss"), memo("hit")) == (1.0, 2.0),
        "memo: {} {}",
        memo("miss"),
        memo("hit")
    );
    // The latency histogram counts every request of the route.
    ensure!(
        v(
            "nebula_http_request_duration_seconds",
            &[("route", "GET /")]
        ) == 3.0
    );
    let hello_calls = v("nebula_component_calls_total", &[("component", "hello")]);
    ensure!(
        hello_calls == 2.0,
        "memo hits replay without a call: {hello_calls}"
    );
    ensure!(
        v(
            "nebula_component_call_failures_total",
            &[("component", "trap")]
        ) == 1.0
    );
    ensure!(
        v(
            "nebula_component_cpu_seconds_total",
            &[("component", "hello")]
        ) > 0.0
    );
    ensure!(
        v(
            "nebula_http_request_cpu_seconds_total",
            &[("route", "GET /")]
        ) > 0.0
    );
    ensure!(
        v(
            "nebula_component_peak_memory_bytes",
            &[("component", "hello")]
        ) >= 65536.0
    );
    ensure!(
        v(
            "nebula_component_memory_gigabyte_seconds_total",
            &[("component", "hello")]
        ) > 0.0
    );
    let put = [("route", "PUT /by-query")];
    ensure!(v("nebula_http_request_body_bytes_total", &put) == 12.0);
    ensure!(v("nebula_store_writes_total", &put) == 1.0);
    ensure!(v("nebula_store_commit_duration_seconds", &[]) >= 1.0);
    ensure!(v("nebula_instances_in_use", &[]) == 0.0);
    ensure!(v("process_resident_memory_bytes", &[]) > 1e6);
    ensure!(v("process_cpu_seconds_total", &[]) > 0.0);

    // A wasi:http guest runs on after its response head: its usage is counted when it ends.
    ensure!(host.get("/proxy")?.status == 200);
    let http_hello = [("component", "http_hello")];
    let mut counted = Vec::new();
    for _ in 0..100 {
        counted = scrape(admin)?.1;
        if value(&counted, "nebula_component_calls_total", &http_hello) == 1.0 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    ensure!(value(&counted, "nebula_component_calls_total", &http_hello) == 1.0);
    ensure!(value(&counted, "nebula_component_cpu_seconds_total", &http_hello) > 0.0);
    let proxy = [("route", "GET /proxy"), ("status", "200")];
    ensure!(value(&counted, "nebula_http_requests_total", &proxy) == 1.0);

    // Nothing of this is on the app's own routes.
    ensure!(host.get("/metrics")?.status == 404);
    Ok(())
}

/// hello requests with distinct names: each one a memo miss, so each one a call.
fn greet(host: &Host, names: std::ops::Range<u32>) -> Result<()> {
    for i in names {
        let response = host.get(&format!("/hello/n{i}"))?;
        ensure!(response.status == 200, "{}", response.status);
    }
    Ok(())
}

#[test]
fn usage_totals_survive_a_restart_and_print_per_component_and_route() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let data = tempfile::tempdir()?;
    let manifest = manifest(dir.path())?;
    let data_dir = data.path().join("data");
    let data_arg = data_dir.to_str().context("temp path is not UTF-8")?;

    let mut first = Host::up(&manifest, &["--data", data_arg])?;
    greet(&first, 0..3)?;
    ensure!(first.stop_gracefully()?.success(), "{}", first.log());
    let mut second = Host::up(&manifest, &["--data", data_arg])?;
    greet(&second, 3..5)?;
    ensure!(second.get("/trap")?.status == 500);
    ensure!(second.stop_gracefully()?.success(), "{}", second.log());
    ensure!(data.path().join("data-usage").join("usage.log").is_file());

    let out = run_cli(&[&"usage", &"--data", &data_arg, &"--json", &"--since", &"1h"])?;
    ensure!(out.code == Some(0), "{out}");
    let report: serde_json::Value = serde_json::from_str(&out.stdout).context("usage --json")?;
    let named = |list: &str, name: &str| {
        report[list]
            .as_array()
            .and_then(|l| l.iter().find(|e| e["name"] == name).cloned())
            .unwrap_or_default()
    };
    let hello = named("components", "hello");
    ensure!(hello["calls"] == 5, "{hello}");
    ensure!(
        hello["cpu_ms"].as_f64().is_some_and(|ms| ms > 0.0),
        "{hello}"
    );
    ensure!(
        hello["gb_seconds"].as_f64().is_some_and(|gbs| gbs > 0.0),
        "{hello}"
    );
    ensure!(hello["joules"].as_f64().is_some_and(|j| j > 0.0), "{hello}");
    let route = named("routes", "GET /hello/{name}");
    ensure!(route["requests"] == 5 && route["errors"] == 0, "{route}");
    let trap = named("routes", "GET /trap");
    ensure!(trap["requests"] == 1 && trap["errors"] == 1, "{trap}");

    // The tables show the same.
    let out = run_cli(&[&"usage", &"--data", &data_arg])?;
    ensure!(
        out.code == Some(0) && out.stdout.contains("GET /hello/{name}"),
        "{out}"
    );
    let hello_line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("hello "))
        .context("a hello line")?;
    ensure!(
        hello_line.split_whitespace().nth(1) == Some("5"),
        "{hello_line}"
    );

    let out = run_cli(&[&"usage", &"--data", &"/nonexistent/nebula-data"])?;
    ensure!(
        out.code == Some(1) && out.stderr.contains("--data"),
        "{out}"
    );
    Ok(())
}

#[test]
fn requests_turned_away_by_admission_show_as_refusals_and_503s() -> Result<()> {
    // One call at a time and no queue: while a loop runs to its deadline, the rest get 503.
    let limits = r#"timeout = "500ms", concurrency = 1, queue = 0"#;
    let host = Manifest::new()
        .component_with_limits("nostd", &guests().hostile_nostd, limits)
        .raw("[[routes]]\nroute = \"GET /nostd/{what}\"\ncomponent = \"nostd\"\nmemo = false\n")
        .up(&["--admin", "127.0.0.1:0"])?;
    let admin = admin(&host)?;
    let responses: Vec<_> = std::thread::scope(|s| {
        let flood: Vec<_> = (0..6)
            .map(|_| s.spawn(|| host.get("/nostd/loop")))
            .collect();
        flood
            .into_iter()
            .map(|t| t.join().expect("a flood thread"))
            .collect()
    });
    let mut busy = 0.0;
    for r in responses {
        match r?.status {
            503 => busy += 1.0,
            504 => {}
            other => anyhow::bail!("status {other} in a flood"),
        }
    }
    ensure!(busy >= 1.0, "no request was turned away");
    let (_, after) = scrape(admin)?;
    let v = |metric: &str, labels: &[(&str, &str)]| value(&after, metric, labels);
    let nostd = [("component", "nostd")];
    ensure!(v("nebula_admission_refused_total", &nostd) == busy);
    ensure!(v("nebula_http_unavailable_responses_total", &[]) == busy);
    ensure!(v("nebula_admission_queue_depth", &nostd) == 0.0);
    Ok(())
}

#[test]
fn top_shows_each_route_s_request_rate_from_a_live_host() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let host = Host::up(&manifest(dir.path())?, &["--admin", "127.0.0.1:0"])?;
    let admin = admin(&host)?.to_string();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let out = std::thread::scope(|s| {
        let load = s.spawn(|| -> Result<u32> {
            let mut sent = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && sent < 20_000 {
                ensure!(host.get("/hello/top")?.status == 200);
                sent += 1;
            }
            Ok(sent)
        });
        let out = run_cli(&[&"top", &admin, &"--iterations", &"3", &"--interval", &"0.3"]);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let sent = load.join().expect("the load thread")?;
        anyhow::Ok((out?, sent))
    });
    let (out, sent) = out?;
    ensure!(out.code == Some(0), "{out}");
    ensure!(sent > 0);
    ensure!(out.stdout.matches("nebula-host at ").count() == 3, "{out}");
    let rates: Vec<f64> = out
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("GET /hello/{name}"))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .collect();
    ensure!(rates.len() == 3 && rates.iter().any(|&r| r > 0.0), "{out}");

    // No listener there: a clear error, not a hang.
    let out = run_cli(&[&"top", &"127.0.0.1:9", &"--iterations", &"1"])?;
    ensure!(
        out.code == Some(1) && out.stderr.contains("--admin"),
        "{out}"
    );
    Ok(())
}
