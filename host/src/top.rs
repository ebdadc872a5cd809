//! `nebula-host top ADMIN_ADDR`: a live view of a running host, in the spirit of `htop`. It
//! scrapes the admin listener's `/metrics` each interval and shows what changed since the
//! previous scrape: requests per second, p50/p99 latency, guest CPU, memo hit rate and 5xx per
//! route; instances, RSS and the host's CPU. It only reads `/metrics`; it never talks to the
//! app's own listener.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{IsTerminal, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Why a scrape could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScrapeError {
    #[error(
        "cannot reach the admin listener at {addr}; hint: start the host with `--admin {addr}`"
    )]
    Connect {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the admin listener at {addr} answered `{status}` to GET /metrics")]
    Status { addr: SocketAddr, status: String },
    #[error("line {line} of /metrics is not `name{{labels}} value`: {text}")]
    Syntax { line: usize, text: String },
}

const TIMEOUT: Duration = Duration::from_secs(5);

/// One sample: metric name, labels, value.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of one scrape, and when it was taken.
#[derive(Debug)]
struct Scrape {
    at: Instant,
    samples: Vec<Sample>,
}

impl Scrape {
    /// Sums the samples of `name` whose labels include `with`, grouped by the label `by`.
    fn by(&self, name: &str, by: &str, with: &[(&str, &str)]) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for s in self.samples.iter().filter(|s| s.name == name) {
            if with
                .iter()
                .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            {
                let key = s.labels.get(by).cloned().unwrap_or_default();
                *out.entry(key).or_insert(0.0) += s.value;
            }
        }
        out
    }

    fn one(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .map(|s| s.value)
            .sum()
    }

    /// The cumulative buckets `(le, count)` of one route's latency histogram.
    fn buckets(&self, route: &str) -> Vec<(f64, f64)> {
        let mut buckets: Vec<(f64, f64)> = self
            .samples
            .iter()
            .filter(|s| s.name == "nebula_http_request_duration_seconds_bucket")
            .filter(|s| s.labels.get("route").map(String::as_str) == Some(route))
            .filter_map(|s| {
                let le = s.labels.get("le")?;
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                };
                Some((le, s.value))
            })
            .collect();
        buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        buckets
    }
}

/// GETs `/metrics` from `addr` (HTTP/1.1, one connection per scrape) and parses it.
fn scrape(addr: SocketAddr) -> anyhow::Result<Scrape> {
    let connect = |source| ScrapeError::Connect { addr, source };
    let mut stream = TcpStream::connect_timeout(&addr, TIMEOUT).map_err(connect)?;
    stream.set_read_timeout(Some(TIMEOUT)).map_err(connect)?;
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )
    .map_err(connect)?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(connect)?;
    let at = Instant::now();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .context("the admin listener's response has no end of head")?;
    let status = head.lines().next().unwrap_or_default();
    if !status.contains(" 200 ") {
        bail!(ScrapeError::Status {
            addr,
            status: status.to_owned()
        });
    }
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        bail!("the admin listener sent a chunked /metrics, which `top` does not read");
    }
    Ok(Scrape {
        at,
        samples: parse(body)?,
    })
}

/// Parses the Prometheus text format: `name{k="v",…} value` lines; `#` lines are comments.
fn parse(text: &str) -> Result<Vec<Sample>, ScrapeError> {
    let mut samples = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || ScrapeError::Syntax {
            line: i + 1,
            text: line.to_owned(),
        };
        let name_end = line.find(['{', ' ']).ok_or_else(bad)?;
        let name = line[..name_end].to_owned();
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.char_indices();
            let mut key = String::new();
            let close = loop {
                let (at, c) = chars.next().ok_or_else(bad)?;
                match c {
                    '}' => break at,
                    ',' | ' ' => {}
                    '=' => {
                        if chars.next().map(|(_, c)| c) != Some('"') {
                            return Err(bad());
                        }
                        let mut value = String::new();
                        loop {
                            match chars.next().ok_or_else(bad)?.1 {
                                '"' => break,
                                '\\' => match chars.next().ok_or_else(bad)?.1 {
                                    'n' => value.push('\n'),
                                    other => value.push(other),
                                },
                                other => value.push(other),
                            }
                        }
                        labels.insert(std::mem::take(&mut key), value);
                    }
                    other => key.push(other),
                }
            };
            rest = &inner[close + 1..];
        }
        let value = rest.split_whitespace().next().ok_or_else(bad)?;
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().map_err(|_| bad())?,
        };
        samples.push(Sample {
            name,
            labels,
            value,
        });
    }
    Ok(samples)
}

/// The `q` quantile from the difference of two cumulative bucket lists, interpolated within
/// its bucket as Prometheus' `histogram_quantile` does; `None` without observations.
fn quantile(q: f64, now: &[(f64, f64)], before: &[(f64, f64)]) -> Option<f64> {
    let delta: Vec<(f64, f64)> = now
        .iter()
        .map(|&(le, n)| {
            let was = before.iter().find(|b| b.0 == le).map_or(0.0, |b| b.1);
            (le, n - was)
        })
        .collect();
    let total = delta.last()?.1;
    if total <= 0.0 {
        return None;
    }
    let rank = q * total;
    let (mut lower, mut below) = (0.0, 0.0);
    for &(le, n) in &delta {
        if n >= rank {
            if le.is_infinite() {
                return Some(lower);
            }
            let inside = n - below;
            let part = if inside > 0.0 {
                (rank - below) / inside
            } else {
                1.0
            };
            return Some(lower + (le - lower) * part);
        }
        (lower, below) = (le, n);
    }
    None
}

/// One screen: the change between two scrapes.
fn render(now: &Scrape, before: &Scrape, admin: SocketAddr) -> String {
    let secs = now.at.duration_since(before.at).as_secs_f64().max(1e-3);
    let rate = |a: f64, b: f64| (a - b).max(0.0) / secs;
    let mut out = String::new();
    let rss = now.one("process_resident_memory_bytes") / (1 << 20) as f64;
    let cpu = rate(
        now.one("process_cpu_seconds_total"),
        before.one("process_cpu_seconds_total"),
    );
    let _ = writeln!(
        out,
        "nebula-host at {admin}   up {:.0}s   instances {}   RSS {rss:.1} MiB   host CPU {:.0}%",
        now.one("nebula_uptime_seconds"),
        now.one("nebula_instances_in_use"),
        cpu * 100.0
    );
    let _ = writeln!(
        out,
        "\n{:<32} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}",
        "ROUTE", "REQ/S", "P50 ms", "P99 ms", "CPU %", "MEMO %", "5XX/S"
    );
    let requests = |s: &Scrape| s.by("nebula_http_requests_total", "route", &[]);
    let (req_now, req_before) = (requests(now), requests(before));
    let cpu_by = |s: &Scrape| s.by("nebula_http_request_cpu_seconds_total", "route", &[]);
    let (cpu_now, cpu_before) = (cpu_by(now), cpu_by(before));
    let memo = |s: &Scrape, outcome| {
        s.by(
            "nebula_memo_lookups_total",
            "route",
            &[("outcome", outcome)],
        )
    };
    let fivexx = |s: &Scrape| {
        let mut by = BTreeMap::new();
        for sample in s
            .samples
            .iter()
            .filter(|x| x.name == "nebula_http_requests_total")
        {
            if sample
                .labels
                .get("status")
                .is_some_and(|st| st.starts_with('5'))
            {
                let route = sample.labels.get("route").cloned().unwrap_or_default();
                *by.entry(route).or_insert(0.0) += sample.value;
            }
        }
        by
    };
    let (err_now, err_before) = (fivexx(now), fivexx(before));
    let get = |m: &BTreeMap<String, f64>, k: &str| m.get(k).copied().unwrap_or(0.0);
    for (route, &n) in &req_now {
        let per_sec = rate(n, get(&req_before, route));
        let (b_now, b_before) = (now.buckets(route), before.buckets(route));
        let ms = |q| {
            quantile(q, &b_now, &b_before).map_or("-".to_owned(), |s| format!("{:.2}", s * 1e3))
        };
        let hits = rate(
            get(&memo(now, "hit"), route),
            get(&memo(before, "hit"), route),
        ) + rate(
            get(&memo(now, "shared"), route),
            get(&memo(before, "shared"), route),
        );
        let misses = rate(
            get(&memo(now, "miss"), route),
            get(&memo(before, "miss"), route),
        );
        let lookups = hits + misses;
        let memo_rate = if lookups > 0.0 {
            format!("{:.0}", hits / lookups * 100.0)
        } else {
            "-".to_owned()
        };
        let _ = writeln!(
            out,
            "{:<32} {:>9.1} {:>9} {:>9} {:>7.1} {:>7} {:>7.1}",
            route,
            per_sec,
            ms(0.5),
            ms(0.99),
            rate(get(&cpu_now, route), get(&cpu_before, route)) * 100.0,
            memo_rate,
            rate(get(&err_now, route), get(&err_before, route)),
        );
    }
    out
}

/// Refreshes every `interval` until interrupted, or `iterations` times.
pub fn run(admin: SocketAddr, iterations: Option<u64>, interval: Duration) -> anyhow::Result<()> {
    let terminal = std::io::stdout().is_terminal();
    let mut before = scrape(admin)?;
    let mut shown = 0;
    while iterations.is_none_or(|n| shown < n) {
        std::thread::sleep(interval);
        let now = scrape(admin)?;
        let screen = render(&now, &before, admin);
        let mut stdout = std::io::stdout().lock();
        if terminal {
            // Home and clear: one screen, redrawn in place.
            write!(stdout, "\x1b[H\x1b[2J")?;
        } else if shown > 0 {
            writeln!(stdout)?;
        }
        write!(stdout, "{screen}")?;
        stdout.flush()?;
        before = now;
        shown += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_parse_with_escaped_labels_and_infinite_bounds() {
        let text = "# HELP x y\nnebula_x_total{route=\"GET /a/{b}\",q=\"say \\\"hi\\\"\"} 3\nb{le=\"+Inf\"} +Inf\nup 1\n";
        let samples = parse(text).expect("parses");
        assert_eq!(samples.len(), 3);
        assert_eq!(samples[0].labels["route"], "GET /a/{b}");
        assert_eq!(samples[0].labels["q"], "say \"hi\"");
        assert_eq!(samples[0].value, 3.0);
        assert!(samples[1].value.is_infinite());
        assert_eq!((samples[2].name.as_str(), samples[2].value), ("up", 1.0));
    }

    #[test]
    fn a_line_without_a_value_is_an_error_naming_its_line() {
        let err = parse("ok 1\nbroken{a=\"b\"}\n").unwrap_err();
        assert!(err.to_string().starts_with("line 2 "), "{err}");
    }

    #[test]
    fn quantiles_interpolate_within_the_bucket_of_the_difference() {
        let before = [(0.001, 10.0), (0.01, 10.0), (f64::INFINITY, 10.0)];
        let now = [(0.001, 10.0), (0.01, 110.0), (f64::INFINITY, 110.0)];
        // 100 new observations, all between 1 and 10 ms: the median is half way.
        let p50 = quantile(0.5, &now, &before).expect("observations");
        assert!((p50 - 0.0055).abs() < 1e-9, "{p50}");
        assert_eq!(quantile(0.5, &before, &before), None);
    }
}
