//! The host's log: one access-log line per request, readable by default and one JSON object per
//! line with `--log-format json`.

use crate::harness::{Host, Manifest, guests};
use anyhow::{Context, Result, ensure};

fn hello_manifest(dir: &std::path::Path) -> Result<std::path::PathBuf> {
    Manifest::new()
        .component("hello", &guests().hello)
        .route("GET /hello/{name}", "hello")
        .write(dir)
}

#[test]
fn json_logs_parse_line_by_line_with_one_access_line_per_request() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let host = Host::up(&hello_manifest(dir.path())?, &["--log-format", "json"])?;
    ensure!(host.get("/hello/ada")?.status == 200);
    ensure!(host.get("/hello/ada")?.status == 200);
    ensure!(host.get("/nowhere")?.status == 404);
    host.wait_for_log_line(&["\"status\":404"])?;

    let mut access = Vec::new();
    for line in host.log().lines() {
        let event: serde_json::Value = serde_json::from_str(line)
            .with_context(|| format!("a log line that is not JSON: {line}"))?;
        ensure!(
            event["level"].is_string() && event["timestamp"].is_string(),
            "{line}"
        );
        if event["target"] == "nebula_host::access" {
            access.push(event);
        }
    }
    ensure!(access.len() == 3, "access lines: {access:#?}");
    // The miss ran the guest, whose CPU time the line carries; the memo hit ran nothing.
    ensure!(
        access[0]["cpu_us"].as_u64().is_some_and(|us| us > 0),
        "{:#?}",
        access[0]
    );
    ensure!(access[1]["cpu_us"].as_u64() == Some(0), "{:#?}", access[1]);
    let fields = |e: &serde_json::Value| {
        (
            e["method"].as_str().map(str::to_owned),
            e["route"].as_str().map(str::to_owned),
            e["status"].as_u64(),
            e["component"].as_str().map(str::to_owned),
            e["memo"].as_str().map(str::to_owned),
        )
    };
    let s = |v: &str| Some(v.to_owned());
    ensure!(
        fields(&access[0])
            == (
                s("GET"),
                s("/hello/{name}"),
                Some(200),
                s("hello"),
                s("miss")
            )
    );
    ensure!(
        fields(&access[1])
            == (
                s("GET"),
                s("/hello/{name}"),
                Some(200),
                s("hello"),
                s("hit")
            )
    );
    ensure!(fields(&access[2]) == (s("GET"), s("-"), Some(404), s("-"), s("off")));
    ensure!(access.iter().all(|e| e["us"].is_u64()), "{access:#?}");
    Ok(())
}

#[test]
fn the_readable_access_line_names_route_status_component_and_memo() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let host = Host::up(&hello_manifest(dir.path())?, &[])?;
    ensure!(host.get("/hello/bo")?.status == 200);
    let line = host.wait_for_log_line(&["method=GET", "route=/hello/{name}", "status=200"])?;
    for field in ["component=hello", "memo=miss", "us=", "INFO"] {
        ensure!(line.contains(field), "no {field:?} in {line:?}");
    }
    // Nothing is logged per connection at the default level.
    ensure!(!host.log().contains("connection closed"), "{}", host.log());
    Ok(())
}
