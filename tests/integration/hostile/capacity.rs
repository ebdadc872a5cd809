//! Capacity: floods of looping requests meet admission control (503 with `Retry-After` or 504
//! at the deadline, never 500), and a neighbour component keeps serving meanwhile.

use super::{expect, hostile_host_with, nothing_written, still_serves};
use crate::harness::Host;
use crate::harness::http::Response;
use anyhow::{Result, ensure};

/// Sends `n` requests for `path` at once, each on its own connection, and returns their
/// responses; meanwhile the neighbour `hello` is asked `probes` times and must answer 200.
fn flood(host: &Host, path: &str, n: usize, probes: usize) -> Result<Vec<Response>> {
    std::thread::scope(|scope| {
        let flood: Vec<_> = (0..n).map(|_| scope.spawn(|| host.get(path))).collect();
        for i in 0..probes {
            let text = expect(host, &format!("/hello/n{i}"), 200)?;
            ensure!(text == format!("Hello, n{i}!\n"), "{text:?}");
        }
        flood
            .into_iter()
            .map(|t| t.join().expect("a flood thread panicked"))
            .collect()
    })
}

/// Every response is a 504 at the deadline or a 503 that says when to retry.
fn only_capacity_statuses(responses: &[Response]) -> Result<(usize, usize)> {
    let (mut busy, mut late) = (0, 0);
    for r in responses {
        match r.status {
            503 => {
                ensure!(r.header("retry-after") == Some("1"), "{:?}", r.headers);
                busy += 1;
            }
            504 => {
                ensure!(r.text().contains("deadline"), "{:?}", r.text());
                late += 1;
            }
            other => anyhow::bail!("status {other} ({:?}) in a flood", r.text()),
        }
    }
    Ok((busy, late))
}

#[test]
fn a_flood_of_300_loops_gets_503_or_504_and_the_neighbour_keeps_serving() -> Result<()> {
    // The default admission: each of the four components gets a quarter of the pool.
    let host = hostile_host_with("", &[])?;
    for path in ["/std/loop", "/nostd/loop"] {
        let responses = flood(&host, path, 300, 5)?;
        let (busy, late) = only_capacity_statuses(&responses)?;
        ensure!(busy + late == 300);
        // At most a quarter of the pool runs; the rest queue until their deadline, or find
        // the queue full.
        ensure!(busy > 0, "{path}: no request was turned away ({late} late)");
    }
    nothing_written(&host)?;
    still_serves(&host)
}

#[test]
fn a_full_queue_answers_503_at_once_and_a_queue_timeout_503_too() -> Result<()> {
    let host = hostile_host_with(
        r#", concurrency = 2, queue = 3, queue_timeout = "100ms""#,
        &[],
    )?;
    let responses = flood(&host, "/nostd/loop", 40, 3)?;
    let (busy, late) = only_capacity_statuses(&responses)?;
    // Two run to their deadline; the rest are turned away, by a full queue or its timeout.
    ensure!(late == 2 && busy == 38, "{late} late, {busy} busy");
    host.wait_for_log_line(&["component `nostd` turned a request away", "queue is full"])?;
    host.wait_for_log_line(&["component `nostd` turned a request away", "queue timeout"])?;
    still_serves(&host)
}

#[test]
fn an_exhausted_instance_pool_is_503_not_500() -> Result<()> {
    // More calls admitted than the pool of 256 instances holds: wasmtime refuses the rest.
    let host = hostile_host_with(", concurrency = 400, queue = 0", &[])?;
    let responses = flood(&host, "/nostd/loop", 300, 0)?;
    let (busy, late) = only_capacity_statuses(&responses)?;
    ensure!(late > 0, "nothing ran: {busy} busy");
    if busy > 0 {
        host.wait_for_log_line(&["every instance of the pool is in use"])?;
    }
    still_serves(&host)
}
