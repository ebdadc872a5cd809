//! Billing units and the usage log: what the counters add up to, written durably beside the
//! data folder so that totals survive restarts, and read back by `nebula-host usage`.
//!
//! * Units: CPU-ms (the guest's thread CPU time, exact), GB-seconds (each call's peak linear
//!   memory × its wall time, GB = 2³⁰ bytes, as Lambda bills) and an energy estimate in joules
//!   from [`EnergyModel`].
//! * The log: folder `DATA-usage` next to the data folder `DATA`; file `usage.log`, one JSON
//!   object per line ([`Record`]), each holding what one component or route used since the
//!   previous line for it. Lines are appended once requests came in, at most every
//!   [`INTERVAL`], and at shutdown. Past [`ROTATE_BYTES`] the file is renamed
//!   `usage-UNIXSECONDS.log` and a new one begun; rotated files are kept (they are billing
//!   records) and read like the current one.
//!
//! It never changes a count and never blocks a request: the writer runs in a task of its own.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::Metering;

/// How often, at most, the log gets its lines while requests come in.
pub const INTERVAL: Duration = Duration::from_secs(10);
/// The size past which `usage.log` is rotated.
pub const ROTATE_BYTES: u64 = 8 << 20;
const CURRENT: &str = "usage.log";

/// Why the usage log could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("cannot write the usage log in `{}`", dir.display())]
    Write {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "cannot read the usage log in `{}`; hint: it is kept next to the data folder (pass the host's --data)",
        dir.display()
    )]
    Read {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The usage log's folder for a data folder: `DATA-usage`, beside it.
pub fn dir_for(data: &Path) -> PathBuf {
    let mut name = data
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "data".into());
    name.push("-usage");
    data.with_file_name(name)
}

/// GB-seconds from KiB·µs (GB = 2³⁰ bytes).
pub fn gb_seconds(kib_us: u64) -> f64 {
    kib_us as f64 / f64::from(1u32 << 20) / 1e6
}

/// The energy estimate: `cpu_seconds × watts_per_core + gb_seconds × watts_per_gb`. The
/// defaults are round figures for a server: 15 W per busy core (a 32-core, 480 W package), and
/// 0.4 W per GB of DRAM in use. Both are set per run of `usage` (the log stores the raw units).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EnergyModel {
    pub watts_per_core: f64,
    pub watts_per_gb: f64,
}

impl Default for EnergyModel {
    fn default() -> Self {
        EnergyModel {
            watts_per_core: 15.0,
            watts_per_gb: 0.4,
        }
    }
}

impl EnergyModel {
    pub fn joules(&self, counts: &Counts) -> f64 {
        counts.cpu_us as f64 / 1e6 * self.watts_per_core
            + gb_seconds(counts.kib_us) * self.watts_per_gb
    }
}

/// What one component or route used (a period's, or a total).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Counts {
    /// Requests answered (routes).
    #[serde(skip_serializing_if = "is_zero")]
    pub requests: u64,
    /// Of which answered 5xx (routes).
    #[serde(skip_serializing_if = "is_zero")]
    pub errors: u64,
    /// Guest calls (components).
    #[serde(skip_serializing_if = "is_zero")]
    pub calls: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub cpu_us: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub wall_us: u64,
    /// Peak memory × wall time, in KiB·µs.
    #[serde(skip_serializing_if = "is_zero")]
    pub kib_us: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub bytes_in: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub bytes_out: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub reads: u64,
    #[serde(skip_serializing_if = "is_zero")]
    pub writes: u64,
    /// wasmtime fuel burned (components with `limits.fuel`).
    #[serde(skip_serializing_if = "is_zero")]
    pub fuel: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Counts {
    fn fields(&mut self) -> [&mut u64; 11] {
        [
            &mut self.requests,
            &mut self.errors,
            &mut self.calls,
            &mut self.cpu_us,
            &mut self.wall_us,
            &mut self.kib_us,
            &mut self.bytes_in,
            &mut self.bytes_out,
            &mut self.reads,
            &mut self.writes,
            &mut self.fuel,
        ]
    }

    fn add(&mut self, mut other: Counts) {
        for (a, b) in self.fields().into_iter().zip(other.fields()) {
            *a = a.saturating_add(*b);
        }
    }

    /// What was added since `earlier` (counters only grow).
    fn since(mut self, mut earlier: Counts) -> Counts {
        for (a, b) in self.fields().into_iter().zip(earlier.fields()) {
            *a = a.saturating_sub(*b);
        }
        self
    }

    fn is_empty(&self) -> bool {
        *self == Counts::default()
    }
}

/// One line of the usage log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The end of the period, in seconds since the Unix epoch.
    pub at: u64,
    /// The component, for a component's line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// The route (`METHOD /template`), for a route's line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
}

/// Whose counts: a component's or a route's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Subject {
    Component(String),
    Route(String),
}

fn load(n: &AtomicU64) -> u64 {
    n.load(Ordering::Relaxed)
}

/// Every component's and route's counts so far.
fn snapshot(metering: &Metering) -> BTreeMap<Subject, Counts> {
    let mut now = BTreeMap::new();
    for c in &metering.components {
        let counts = Counts {
            calls: load(&c.calls),
            cpu_us: load(&c.cpu_us),
            wall_us: load(&c.wall_us),
            kib_us: load(&c.kib_us),
            fuel: load(&c.fuel),
            ..Counts::default()
        };
        now.insert(Subject::Component(c.slot.id.clone()), counts);
    }
    for r in metering.all_routes() {
        let counts = Counts {
            requests: r.requests(),
            errors: r
                .statuses()
                .filter(|&(s, _)| s >= 500)
                .map(|(_, n)| n)
                .sum(),
            cpu_us: load(&r.cpu_us),
            kib_us: load(&r.kib_us),
            bytes_in: load(&r.bytes_in),
            bytes_out: load(&r.bytes_out),
            reads: load(&r.reads),
            writes: load(&r.writes),
            ..Counts::default()
        };
        // Internal routes and `serve` share labels with nothing; a repeated label adds up.
        now.entry(Subject::Route(r.label.clone()))
            .or_insert_with(Counts::default)
            .add(counts);
    }
    now
}

/// The writer of the usage log: appends what changed since its last lines.
#[derive(Debug)]
pub struct UsageLog {
    dir: PathBuf,
    /// The live app's counters last; before them, those of apps replaced by a reload whose
    /// requests may still be finishing (dropped once logged after the app is gone).
    sources: Vec<Source>,
}

/// One app's counters, and what of them is already in the log.
#[derive(Debug)]
struct Source {
    metering: Arc<Metering>,
    logged: BTreeMap<Subject, Counts>,
}

impl UsageLog {
    /// The log for the data folder `data`; its folder is created now, so that a host that
    /// cannot keep it fails at start rather than losing usage later.
    pub fn open(data: &Path, metering: Arc<Metering>) -> Result<UsageLog, UsageError> {
        let dir = dir_for(data);
        std::fs::create_dir_all(&dir).map_err(|source| UsageError::Write {
            dir: dir.clone(),
            source,
        })?;
        Ok(UsageLog {
            dir,
            sources: vec![Source {
                metering,
                logged: BTreeMap::new(),
            }],
        })
    }

    /// The live app's counters.
    fn current(&self) -> Arc<Metering> {
        self.sources
            .last()
            .expect("a usage log always has the live app's counters")
            .metering
            .clone()
    }

    /// Follows a reloaded app's counters from now on; the replaced app's are still logged
    /// until its last request has finished.
    pub fn switch(&mut self, metering: Arc<Metering>) {
        let replaced = self.current();
        self.sources.push(Source {
            metering,
            logged: BTreeMap::new(),
        });
        // `run` waits on the replaced app's counters: let it look again.
        replaced.nudge();
    }

    /// Writes a period's lines, forever: each time requests were counted, after [`INTERVAL`].
    pub async fn run(log: Arc<tokio::sync::Mutex<UsageLog>>) {
        loop {
            let metering = log.lock().await.current();
            metering.counted_since_logged().await;
            tokio::time::sleep(INTERVAL).await;
            if let Err(e) = log.lock().await.append() {
                tracing::error!("{}", crate::log::Chain(&e));
            }
        }
    }

    /// Appends one line per component and route whose counts changed, and syncs the file.
    pub fn append(&mut self) -> Result<(), UsageError> {
        // Replaced apps no one holds any more count nothing after this: once these lines are
        // written, they are done. (Checked before reading, so no late count is missed.)
        let last = self.sources.len() - 1;
        let done: Vec<bool> = (self.sources.iter().enumerate())
            .map(|(i, s)| i < last && Arc::strong_count(&s.metering) == 1)
            .collect();
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut text = String::new();
        let mut snapshots = Vec::with_capacity(self.sources.len());
        for source in &self.sources {
            let now = snapshot(&source.metering);
            lines(&mut text, at, &now, &source.logged);
            snapshots.push(now);
        }
        if !text.is_empty() {
            self.write(text.as_bytes())
                .map_err(|source| UsageError::Write {
                    dir: self.dir.clone(),
                    source,
                })?;
        }
        for (source, now) in self.sources.iter_mut().zip(snapshots) {
            source.logged = now;
        }
        let mut done = done.into_iter();
        self.sources.retain(|_| !done.next().unwrap_or(false));
        Ok(())
    }

    fn write(&self, text: &[u8]) -> std::io::Result<()> {
        let current = self.dir.join(CURRENT);
        if std::fs::metadata(&current).is_ok_and(|m| m.len() >= ROTATE_BYTES) {
            let secs = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            std::fs::rename(&current, self.dir.join(format!("usage-{secs}.log")))?;
        }
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&current)?;
        // One write per period: a crash leaves at most a torn last line, which readers skip.
        file.write_all(text)?;
        file.sync_data()
    }
}

/// One JSON line per subject whose counts grew from `logged` to `now`.
fn lines(
    text: &mut String,
    at: u64,
    now: &BTreeMap<Subject, Counts>,
    logged: &BTreeMap<Subject, Counts>,
) {
    for (subject, counts) in now {
        let period = counts.since(logged.get(subject).copied().unwrap_or_default());
        if period.is_empty() {
            continue;
        }
        let (component, route) = match subject {
            Subject::Component(id) => (Some(id.clone()), None),
            Subject::Route(label) => (None, Some(label.clone())),
        };
        let record = Record {
            at,
            component,
            route,
            counts: period,
        };
        text.push_str(&serde_json::to_string(&record).expect("a record serializes"));
        text.push('\n');
    }
}

/// Totals read back from a usage log.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct Totals {
    pub components: BTreeMap<String, Counts>,
    pub routes: BTreeMap<String, Counts>,
    /// Lines that were not records (a torn last line after a crash), skipped.
    pub skipped: usize,
}

/// Adds up the records of the usage log for `data` (every file, rotated ones included) whose
/// period ended at or after `since`.
pub fn read(data: &Path, since: Option<SystemTime>) -> Result<Totals, UsageError> {
    let dir = dir_for(data);
    let failed = |source| UsageError::Read {
        dir: dir.clone(),
        source,
    };
    let since = since.map_or(0, |t| {
        t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
    });
    let mut totals = Totals::default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(failed)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("usage") && n.ends_with(".log"))
        })
        .collect();
    files.sort();
    for path in files {
        let file = File::open(&path).map_err(failed)?;
        for line in BufReader::new(file).lines() {
            let line = line.map_err(failed)?;
            if line.trim().is_empty() {
                continue;
            }
            let Ok(record) = serde_json::from_str::<Record>(&line) else {
                totals.skipped += 1;
                continue;
            };
            if record.at < since {
                continue;
            }
            let entry = match (record.component, record.route) {
                (Some(id), _) => totals.components.entry(id).or_default(),
                (None, Some(label)) => totals.routes.entry(label).or_default(),
                (None, None) => {
                    totals.skipped += 1;
                    continue;
                }
            };
            entry.add(record.counts);
        }
    }
    Ok(totals)
}

/// A duration like `90s`, `15m`, `2h`, `7d` (a number and one unit).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (n, unit) = s.split_at(split);
    let n: u64 = n.parse().map_err(|_| {
        format!("`{s}` is not a duration; write a number and a unit, like 90s, 15m, 2h or 7d")
    })?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "`{s}` has no known unit; use s, m, h or d, like 15m or 7d"
            ));
        }
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usage_folder_is_beside_the_data_folder() {
        assert_eq!(
            dir_for(Path::new("/srv/app/data")),
            Path::new("/srv/app/data-usage")
        );
    }

    #[test]
    fn durations_take_one_unit_and_anything_else_says_how_to_write_one() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(604_800)));
        assert!(parse_duration("2 weeks").unwrap_err().contains("unit"));
        assert!(parse_duration("h").unwrap_err().contains("like"));
    }

    #[test]
    fn energy_is_cpu_seconds_times_watts_plus_gb_seconds_times_watts() {
        let counts = Counts {
            cpu_us: 2_000_000,
            kib_us: 1 << 20, // 1 GiB for 1 µs... ×1e6: see below
            ..Counts::default()
        };
        let model = EnergyModel {
            watts_per_core: 10.0,
            watts_per_gb: 1e6,
        };
        // 2 CPU-seconds × 10 W + 1e-6 GB-s × 1e6 W.
        assert!((model.joules(&counts) - 21.0).abs() < 1e-9);
    }

    #[test]
    fn records_add_up_across_files_skip_torn_lines_and_filter_by_time() {
        let root = tempfile::tempdir().expect("temp dir");
        let data = root.path().join("data");
        let dir = dir_for(&data);
        std::fs::create_dir_all(&dir).expect("usage dir");
        let line = |at: u64, cpu: u64| {
            format!("{{\"at\":{at},\"component\":\"hello\",\"calls\":1,\"cpu_us\":{cpu}}}\n")
        };
        std::fs::write(dir.join("usage-1.log"), line(100, 5) + &line(200, 7)).expect("write");
        std::fs::write(
            dir.join(CURRENT),
            line(300, 11) + "{\"at\":400,\"route\":\"GET /\",\"requests\":2}\n{\"at\":5",
        )
        .expect("write");
        let all = read(&data, None).expect("reads");
        assert_eq!(all.components["hello"].cpu_us, 23);
        assert_eq!(all.components["hello"].calls, 3);
        assert_eq!(all.routes["GET /"].requests, 2);
        assert_eq!(all.skipped, 1);
        let recent = read(&data, Some(UNIX_EPOCH + Duration::from_secs(200))).expect("reads");
        assert_eq!(recent.components["hello"].cpu_us, 18);
    }

    #[test]
    fn a_missing_usage_log_names_its_folder_and_the_flag() {
        let root = tempfile::tempdir().expect("temp dir");
        let err = read(&root.path().join("nowhere"), None).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("nowhere-usage") && message.contains("--data"),
            "{message}"
        );
    }
}
