//! `/metrics` on the admin listener: the host's counters in the Prometheus text format
//! (version 0.0.4), encoded with `prometheus-client` at each scrape from the `metering`
//! counters, the runtime and `/proc/self`. Names follow Prometheus' conventions (base units,
//! `_total` for counters); docs/operations.md lists them.
//!
//! It only reads: a scrape never takes a lock the request path takes, and never changes a count.

use std::fmt::Write as _;
use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::component::Runtime;
use crate::metering::{ComponentMeter, Histogram, Metering, RouteMeter};
use crate::reload::Reloads;

pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The exposition of everything the host counts, for one scrape.
pub fn render(metering: &Arc<Metering>, runtime: &Runtime, reloads: Reloads) -> String {
    let mut registry = Registry::default();
    registry.register_collector(Box::new(Exposed {
        metering: metering.clone(),
        instances_in_use: runtime.instances_in_use(),
        reloads,
    }));
    let mut text = String::new();
    if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut text, &registry) {
        // Writing to a String fails only if an encoder rejects a value; say so in the body.
        let _ = writeln!(text, "# encoding failed: {e}");
    }
    text
}

/// What one scrape shows: the counters, and the gauges read when it was taken.
#[derive(Debug)]
struct Exposed {
    metering: Arc<Metering>,
    instances_in_use: usize,
    reloads: Reloads,
}

type Labels<'a> = [(&'static str, &'a str)];

fn route(r: &RouteMeter) -> [(&'static str, &str); 1] {
    [("route", r.label.as_str())]
}

/// One metric family being written: its descriptor once, then a sample per label set.
struct Family<'e> {
    encoder: prometheus_client::encoding::MetricEncoder<'e>,
}

fn family<'e>(
    encoder: &'e mut DescriptorEncoder<'_>,
    name: &'e str,
    help: &str,
    metric_type: MetricType,
) -> Result<Family<'e>, std::fmt::Error> {
    Ok(Family {
        encoder: encoder.encode_descriptor(name, help, None, metric_type)?,
    })
}

impl Family<'_> {
    fn counter(&mut self, labels: &Labels<'_>, value: f64) -> std::fmt::Result {
        self.encoder
            .encode_family(&labels)?
            .encode_counter::<NoLabelSet, _, f64>(&value, None)
    }

    fn count(&mut self, labels: &Labels<'_>, value: u64) -> std::fmt::Result {
        self.encoder
            .encode_family(&labels)?
            .encode_counter::<NoLabelSet, _, u64>(&value, None)
    }

    fn gauge(&mut self, labels: &Labels<'_>, value: f64) -> std::fmt::Result {
        self.encoder.encode_family(&labels)?.encode_gauge(&value)
    }

    fn histogram(&mut self, labels: &Labels<'_>, h: &Histogram) -> std::fmt::Result {
        self.encoder
            .encode_family(&labels)?
            .encode_histogram::<NoLabelSet>(h.sum().as_secs_f64(), h.count(), &h.buckets(), None)
    }
}

fn load(n: &std::sync::atomic::AtomicU64) -> u64 {
    n.load(std::sync::atomic::Ordering::Relaxed)
}

fn micros_as_secs(us: u64) -> f64 {
    us as f64 / 1e6
}

impl Collector for Exposed {
    fn encode(&self, mut e: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let m = &*self.metering;
        let routes: Vec<_> = m.all_routes().collect();

        let mut f = family(
            &mut e,
            "nebula_http_requests",
            "Requests answered, by route (`-`: none matched) and status.",
            MetricType::Counter,
        )?;
        for r in &routes {
            for (status, n) in r.statuses() {
                let status = status.to_string();
                f.count(
                    &[("route", r.label.as_str()), ("status", status.as_str())],
                    n,
                )?;
            }
        }
        let mut f = family(
            &mut e,
            "nebula_http_unavailable_responses",
            "Requests answered 503 Service Unavailable (store unavailable, or no capacity).",
            MetricType::Counter,
        )?;
        let unavailable: u64 = routes
            .iter()
            .flat_map(|r| r.statuses())
            .filter(|&(s, _)| s == 503)
            .map(|(_, n)| n)
            .sum();
        f.count(&[], unavailable)?;
        let mut f = family(
            &mut e,
            "nebula_http_request_duration_seconds",
            "Time from a request's arrival to its response (its head, when streamed).",
            MetricType::Histogram,
        )?;
        for r in &routes {
            f.histogram(&route(r), &r.latency)?;
        }
        let mut f = family(
            &mut e,
            "nebula_memo_lookups",
            "Memoized routes' requests, by how the memo answered: hit (replayed), shared (joined an identical request in flight) or miss (executed).",
            MetricType::Counter,
        )?;
        for r in &m.routes {
            for (outcome, n) in [
                ("hit", &r.memo_hits),
                ("shared", &r.memo_shared),
                ("miss", &r.memo_misses),
            ] {
                f.count(
                    &[("route", r.label.as_str()), ("outcome", outcome)],
                    load(n),
                )?;
            }
        }
        type OfRoute = fn(&RouteMeter) -> f64;
        let per_route: [(&str, &str, OfRoute); 5] = [
            (
                "nebula_http_request_cpu_seconds",
                "Guest CPU time of requests, by route.",
                |r| micros_as_secs(load(&r.cpu_us)),
            ),
            (
                "nebula_http_request_body_bytes",
                "Request body bytes received, by route.",
                |r| load(&r.bytes_in) as f64,
            ),
            (
                "nebula_http_response_body_bytes",
                "Response body bytes sent (declared length when streamed), by route.",
                |r| load(&r.bytes_out) as f64,
            ),
            (
                "nebula_store_reads",
                "Store reads performed for requests, by route.",
                |r| load(&r.reads) as f64,
            ),
            (
                "nebula_store_writes",
                "Store writes applied for requests, by route.",
                |r| load(&r.writes) as f64,
            ),
        ];
        for (name, help, value) in per_route {
            let mut f = family(&mut e, name, help, MetricType::Counter)?;
            for r in &m.routes {
                f.counter(&route(r), value(r))?;
            }
        }
        let mut f = family(
            &mut e,
            "nebula_store_commit_duration_seconds",
            "Time to apply a request's writes to the store, in one transaction.",
            MetricType::Histogram,
        )?;
        f.histogram(&[], &m.store_commit)?;

        type Of = fn(&ComponentMeter) -> f64;
        let per_component: [(&str, &str, MetricType, Of); 12] = [
            (
                "nebula_component_calls",
                "Guest calls, by component.",
                MetricType::Counter,
                |c| load(&c.calls) as f64,
            ),
            (
                "nebula_component_call_failures",
                "Guest calls that trapped or ran past a limit, by component.",
                MetricType::Counter,
                |c| load(&c.failed) as f64,
            ),
            (
                "nebula_component_cpu_seconds",
                "CPU time of guest calls (thread CPU clock), by component.",
                MetricType::Counter,
                |c| micros_as_secs(load(&c.cpu_us)),
            ),
            (
                "nebula_component_fuel",
                "wasmtime fuel burned by guest calls (about one unit per wasm instruction; components with `limits.fuel` only), by component.",
                MetricType::Counter,
                |c| load(&c.fuel) as f64,
            ),
            (
                "nebula_component_wall_seconds",
                "Wall time of guest calls, instantiation included, by component.",
                MetricType::Counter,
                |c| micros_as_secs(load(&c.wall_us)),
            ),
            (
                "nebula_component_instantiation_seconds",
                "Wall time spent instantiating, by component.",
                MetricType::Counter,
                |c| micros_as_secs(load(&c.instantiate_us)),
            ),
            (
                "nebula_component_memory_gigabyte_seconds",
                "Peak linear memory × wall time of each call, summed (GB-seconds, GB = 2^30 bytes), by component.",
                MetricType::Counter,
                |c| load(&c.kib_us) as f64 * 1024.0 / 1e9 / 1e6,
            ),
            (
                "nebula_component_peak_memory_bytes",
                "The largest linear memory any call of the component had.",
                MetricType::Gauge,
                |c| load(&c.peak_memory) as f64,
            ),
            (
                "nebula_component_loads",
                "Times a component was loaded (at start, and again after idling).",
                MetricType::Counter,
                |c| load(&c.slot.loads) as f64,
            ),
            (
                "nebula_component_unloads",
                "Times a component was unloaded for idling.",
                MetricType::Counter,
                |c| load(&c.slot.unloads) as f64,
            ),
            (
                "nebula_admission_queue_depth",
                "Requests waiting now for a call of the component (`limits.queue`).",
                MetricType::Gauge,
                |c| f64::from(c.gate.waiting()),
            ),
            (
                "nebula_admission_refused",
                "Requests turned away (503) because the component's queue was full or the wait ran out.",
                MetricType::Counter,
                |c| c.gate.refused() as f64,
            ),
        ];
        for (name, help, metric_type, value) in per_component {
            let mut f = family(&mut e, name, help, metric_type)?;
            for c in &m.components {
                let labels = [("component", c.slot.id.as_str())];
                match metric_type {
                    MetricType::Gauge => f.gauge(&labels, value(c))?,
                    _ => f.counter(&labels, value(c))?,
                }
            }
        }

        let mut f = family(
            &mut e,
            "nebula_instances_in_use",
            "Component instances running now.",
            MetricType::Gauge,
        )?;
        f.gauge(&[], self.instances_in_use as f64)?;
        let mut f = family(
            &mut e,
            "nebula_reloads",
            "Reloads of the app (SIGHUP, `up --watch`), by result: `done` (a new app serves) or `failed` (the old one kept serving). Unlike the other counters, these do not start again with a reloaded app.",
            MetricType::Counter,
        )?;
        let Reloads { done, failed } = self.reloads;
        f.count(&[("result", "done")], done)?;
        f.count(&[("result", "failed")], failed)?;
        let mut f = family(
            &mut e,
            "nebula_uptime_seconds",
            "Seconds since the app was built.",
            MetricType::Gauge,
        )?;
        f.gauge(&[], m.started.elapsed().as_secs_f64())?;
        if let Some(process) = Process::read() {
            let mut f = family(
                &mut e,
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                MetricType::Gauge,
            )?;
            f.gauge(&[], process.resident_bytes as f64)?;
            let mut f = family(
                &mut e,
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                MetricType::Counter,
            )?;
            f.counter(&[], process.cpu_seconds)?;
        }
        Ok(())
    }
}

/// This process' RSS and CPU time, from `/proc/self` (Linux).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Process {
    pub resident_bytes: u64,
    pub cpu_seconds: f64,
}

impl Process {
    pub fn read() -> Option<Process> {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        Process::parse(&statm, &stat)
    }

    /// From `statm` (pages) and `stat` (ticks); pages of 4 KiB and 100 ticks a second, as on
    /// every Linux this host builds for.
    fn parse(statm: &str, stat: &str) -> Option<Process> {
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        // Fields after the command (which may hold spaces) start after its closing paren;
        // utime and stime are fields 14 and 15, so 12th and 13th after the state.
        let rest = &stat[stat.rfind(')')? + 1..];
        let mut fields = rest.split_whitespace().skip(11);
        let utime: u64 = fields.next()?.parse().ok()?;
        let stime: u64 = fields.next()?.parse().ok()?;
        Some(Process {
            resident_bytes: pages * 4096,
            cpu_seconds: (utime + stime) as f64 / 100.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_figures_come_from_statm_pages_and_stat_ticks() {
        let statm = "1000 250 100 1 0 300 0\n";
        let stat = "4242 (nebula host) S 1 4242 4242 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 8 0\n";
        let p = Process::parse(statm, stat).expect("parses");
        assert_eq!(p.resident_bytes, 250 * 4096);
        assert_eq!(p.cpu_seconds, 2.0);
    }
}
