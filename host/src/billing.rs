//! `nebula-host usage`: what each component and route used, read from the usage log (see
//! `metering::usage`) and printed as tables or one JSON object, in billing units: CPU-ms,
//! GB-seconds and joules from the energy model given. It only reads the log.

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::metering::usage::{self, Counts, EnergyModel, Totals};

/// One component's or route's line, in billing units.
#[derive(Debug, Serialize)]
struct Billed {
    name: String,
    requests: u64,
    errors: u64,
    calls: u64,
    cpu_ms: f64,
    gb_seconds: f64,
    joules: f64,
    bytes_in: u64,
    bytes_out: u64,
    reads: u64,
    writes: u64,
    /// wasmtime fuel burned: deterministic, for components with `limits.fuel` (0 otherwise).
    fuel: u64,
}

fn billed(name: &str, counts: &Counts, model: &EnergyModel) -> Billed {
    Billed {
        name: name.to_owned(),
        requests: counts.requests,
        errors: counts.errors,
        calls: counts.calls,
        cpu_ms: counts.cpu_us as f64 / 1e3,
        gb_seconds: usage::gb_seconds(counts.kib_us),
        joules: model.joules(counts),
        bytes_in: counts.bytes_in,
        bytes_out: counts.bytes_out,
        reads: counts.reads,
        writes: counts.writes,
        fuel: counts.fuel,
    }
}

#[derive(Debug, Serialize)]
struct Report {
    /// Seconds of history covered (`None`: all of it).
    since_seconds: Option<u64>,
    model: EnergyModel,
    components: Vec<Billed>,
    routes: Vec<Billed>,
    skipped_lines: usize,
}

fn report(totals: &Totals, since: Option<Duration>, model: EnergyModel) -> Report {
    let lines = |map: &std::collections::BTreeMap<String, Counts>| {
        map.iter()
            .map(|(name, counts)| billed(name, counts, &model))
            .collect()
    };
    Report {
        since_seconds: since.map(|d| d.as_secs()),
        model,
        components: lines(&totals.components),
        routes: lines(&totals.routes),
        skipped_lines: totals.skipped,
    }
}

/// Prints the usage of the host whose data folder is `data`.
pub fn run(
    data: &Path,
    since: Option<Duration>,
    json: bool,
    model: EnergyModel,
) -> anyhow::Result<()> {
    let from = since.map(|d| SystemTime::now() - d);
    let totals = usage::read(data, from)?;
    let report = report(&totals, since, model);
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", tables(&report));
    }
    if report.skipped_lines > 0 {
        eprintln!(
            "warning: skipped {} damaged line(s) of the usage log (a crash mid-write leaves one)",
            report.skipped_lines
        );
    }
    Ok(())
}

fn tables(report: &Report) -> String {
    let mut out = String::new();
    let model = &report.model;
    let _ = writeln!(
        out,
        "energy model: {} W per busy core, {} W per GB of memory",
        model.watts_per_core, model.watts_per_gb
    );
    let _ = writeln!(
        out,
        "\n{:<24} {:>10} {:>12} {:>12} {:>12} {:>16}",
        "COMPONENT", "CALLS", "CPU-ms", "GB-s", "JOULES", "FUEL"
    );
    for c in &report.components {
        // Fuel is counted only for components with `limits.fuel`: `-` for the others.
        let fuel = match c.fuel {
            0 => "-".to_owned(),
            n => n.to_string(),
        };
        let _ = writeln!(
            out,
            "{:<24} {:>10} {:>12.3} {:>12.6} {:>12.4} {:>16}",
            c.name, c.calls, c.cpu_ms, c.gb_seconds, c.joules, fuel
        );
    }
    let _ = writeln!(
        out,
        "\n{:<32} {:>10} {:>6} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "ROUTE", "REQUESTS", "5XX", "CPU-ms", "GB-s", "JOULES", "BYTES IN", "BYTES OUT"
    );
    for r in &report.routes {
        let _ = writeln!(
            out,
            "{:<32} {:>10} {:>6} {:>12.3} {:>12.6} {:>12.4} {:>12} {:>12}",
            r.name, r.requests, r.errors, r.cpu_ms, r.gb_seconds, r.joules, r.bytes_in, r.bytes_out
        );
    }
    out
}
