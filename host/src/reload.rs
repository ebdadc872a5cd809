//! Hot reload (`up --watch`, SIGHUP): which app serves, and its replacement by a new one.
//!
//! [`Live`] holds the app; the server and the admin listener read it once per request, so a
//! request runs to its end on the app it started on, and the next one meets the new app: no
//! request is refused or cut off by a reload. A [`Reloader`] builds the new app whole beside
//! the old one — manifest parsed and validated, changed components rebuilt (`build`) and
//! loaded, the running store reused — and swaps it in only once all of that worked. Anything
//! that fails leaves the old app serving and logs the diagnostic, with `file:line:col` as
//! `check` prints it.
//!
//! `--watch` polls modification times (twice a second; no inotify dependency): the manifest,
//! every component's `.wasm`, and the sources under the `build_dir` of components that have a
//! `build` command. A change waits until the files are still for one poll (an editor's save,
//! a build writing its output) before it is acted on.
//!
//! Owns the live app and the reload; never serves a request, and never opens a store.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use crate::app::{App, Dirs};
use crate::manifest::Manifest;
use crate::metering::usage::UsageLog;

/// How often `--watch` looks at the files.
const POLL: Duration = Duration::from_millis(500);

/// At most this many files are watched under one `build_dir` (a folder holding a whole tree of
/// other things is a mistake in the manifest, not something to walk twice a second).
const MAX_WATCHED: usize = 20_000;

/// Folders under a `build_dir` that hold build outputs or dependencies, never sources.
const SKIPPED_DIRS: [&str; 5] = ["target", "node_modules", ".git", "__pycache__", "dist"];

/// The app that serves new requests.
#[derive(Debug)]
pub struct Live {
    current: RwLock<Arc<App>>,
    /// Reloads that swapped in a new app, and those that kept the old one; for `/metrics`,
    /// whose other counters start again with each app.
    reloaded: AtomicU64,
    failed: AtomicU64,
}

/// How many reloads there were, by outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reloads {
    pub done: u64,
    pub failed: u64,
}

impl Live {
    pub fn new(app: Arc<App>) -> Arc<Live> {
        Arc::new(Live {
            current: RwLock::new(app),
            reloaded: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        })
    }

    pub fn reloads(&self) -> Reloads {
        Reloads {
            done: self.reloaded.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }

    /// The app for one request: an uncontended read lock and a reference count.
    pub fn app(&self) -> Arc<App> {
        self.current.read().expect("live app lock").clone()
    }

    /// Puts `app` in place; returns the one it replaces (requests that hold it finish on it).
    fn swap(&self, app: Arc<App>) -> Arc<App> {
        std::mem::replace(&mut *self.current.write().expect("live app lock"), app)
    }
}

/// What `up` was given, to build the app again the same way.
#[derive(Debug, Clone)]
pub struct Source {
    pub manifest: PathBuf,
    pub dirs: Dirs,
    /// `--rate-limits off` applies to every reloaded app too.
    pub rate_limits: bool,
}

/// Rebuilds and swaps the live app on SIGHUP and, with `--watch`, when its files change.
pub struct Reloader {
    source: Source,
    live: Arc<Live>,
    usage: Option<Arc<tokio::sync::Mutex<UsageLog>>>,
    /// The manifest of the live app: what is watched.
    manifest: Manifest,
    /// `--idle-unload`: each app has its own sweeper task, replaced with the app.
    idle_unload: Option<Duration>,
    sweeper: Option<tokio::task::AbortHandle>,
}

impl Reloader {
    pub fn new(
        source: Source,
        manifest: Manifest,
        live: Arc<Live>,
        usage: Option<Arc<tokio::sync::Mutex<UsageLog>>>,
        idle_unload: Option<Duration>,
    ) -> Reloader {
        let mut reloader = Reloader {
            source,
            live,
            usage,
            manifest,
            idle_unload,
            sweeper: None,
        };
        reloader.start_sweeper(&reloader.live.app());
        reloader
    }

    /// Reloads on each SIGHUP and, when `watch`, on each change of the watched files; forever.
    pub async fn run(mut self, watch: bool) -> anyhow::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangup = signal(SignalKind::hangup())?;
        // Without `--watch` nothing is looked at: SIGHUP alone reloads.
        let look = |r: &Reloader| match watch {
            true => Files::of(&r.manifest, &r.source.manifest, &r.live.app()),
            false => Files::default(),
        };
        let mut seen = look(&self);
        loop {
            tokio::select! {
                _ = hangup.recv() => {
                    self.reload("SIGHUP", BTreeSet::new()).await;
                }
                () = tokio::time::sleep(POLL), if watch => {
                    let mut now = seen.again();
                    if now == seen {
                        continue;
                    }
                    // Settled: unchanged over one more poll.
                    loop {
                        tokio::time::sleep(POLL).await;
                        let again = now.again();
                        if again == now {
                            break;
                        }
                        now = again;
                    }
                    let changed = seen.changed(&now);
                    let rebuild = self.to_rebuild(&changed);
                    let why = describe_files(&changed);
                    self.reload(&why, rebuild).await;
                }
            }
            // What the (possibly new) manifest names, as it is now: a build's own outputs
            // do not trigger another reload.
            seen = look(&self);
        }
    }

    /// Components whose sources (under their `build_dir`) are among `changed`. The manifest is
    /// not a source, though it often sits in the `build_dir`.
    fn to_rebuild(&self, changed: &[PathBuf]) -> BTreeSet<String> {
        let manifest = self.source.manifest.canonicalize().ok();
        let changed: Vec<&PathBuf> = changed
            .iter()
            .filter(|f| f.canonicalize().ok() != manifest)
            .collect();
        self.manifest
            .components
            .values()
            .filter(|decl| {
                decl.build.as_ref().is_some_and(|b| {
                    changed
                        .iter()
                        .any(|f| f.starts_with(&b.dir) && **f != decl.path)
                })
            })
            .map(|decl| decl.id.clone())
            .collect()
    }

    /// Builds the new app (running the `build` of `rebuild` first) and swaps it in, or logs why
    /// not and keeps the old one.
    async fn reload(&mut self, why: &str, rebuild: BTreeSet<String>) {
        let started = Instant::now();
        let old = self.live.app();
        let source = self.source.clone();
        let building = {
            let old = old.clone();
            tokio::task::spawn_blocking(move || build(&source, &old, &rebuild))
        };
        let (app, manifest) = match building.await {
            Ok(Ok(built)) => built,
            Ok(Err(e)) => {
                self.live.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!(
                    "reload ({why}) failed; still serving the previous app:\n{}",
                    format!("{e:#}").trim_end()
                );
                return;
            }
            Err(e) => {
                self.live.failed.fetch_add(1, Ordering::Relaxed);
                tracing::error!("reload ({why}) failed; still serving the previous app: {e}");
                return;
            }
        };
        let app = Arc::new(app);
        let changes = describe_changes(&old, &app);
        drop(old);
        let replaced = self.live.swap(app.clone());
        self.live.reloaded.fetch_add(1, Ordering::Relaxed);
        self.start_sweeper(&app);
        if let Some(usage) = &self.usage {
            usage.lock().await.switch(app.metering.clone());
        }
        self.manifest = manifest;
        drop(replaced);
        tracing::info!(
            "reloaded `{}` ({why}): {changes}; took {} ms",
            self.source.manifest.display(),
            started.elapsed().as_millis()
        );
    }

    /// `--idle-unload` for `app`, in place of the previous app's sweeper (which would keep that
    /// app's components alive).
    fn start_sweeper(&mut self, app: &Arc<App>) {
        let Some(ttl) = self.idle_unload else { return };
        if let Some(previous) = self.sweeper.take() {
            previous.abort();
        }
        let memo = app.memo.clone();
        let sweeper = app.sweeper.clone().run(ttl, move || {
            memo.clear();
            crate::memory::idle();
        });
        self.sweeper = Some(tokio::spawn(sweeper).abort_handle());
    }
}

/// The new app, built whole; `Err` is the diagnostic to print (the old app keeps serving).
fn build(
    source: &Source,
    old: &App,
    rebuild: &BTreeSet<String>,
) -> anyhow::Result<(App, Manifest)> {
    // The parse error is the whole diagnostic (`file:line:col`, the line, a hint), as `check`
    // prints it.
    let manifest = Manifest::load(&source.manifest).map_err(|e| anyhow::anyhow!("{e}"))?;
    for id in rebuild {
        if let Some(decl) = manifest.components.get(id) {
            crate::build::run(decl)?;
        }
    }
    let mut app = old
        .reload(&manifest, &source.dirs)
        .map_err(|e| anyhow::anyhow!("{e:#}\n  --> {}", source.manifest.display()))?;
    if !source.rate_limits {
        app.guards.disable_rate_limits();
    }
    Ok((app, manifest))
}

/// Routes added and removed, and components whose code changed, from `old` to `new`.
fn describe_changes(old: &App, new: &App) -> String {
    let routes =
        |app: &App| -> BTreeSet<String> { app.routes.iter().map(|r| r.label.clone()).collect() };
    let digests = |app: &App| -> BTreeMap<String, [u8; 32]> {
        (app.routes.iter().flat_map(|r| &r.steps))
            .map(|s| (s.component.id.clone(), s.component.digest))
            .collect()
    };
    let (was, now) = (routes(old), routes(new));
    let added: Vec<_> = now.difference(&was).map(String::as_str).collect();
    let removed: Vec<_> = was.difference(&now).map(String::as_str).collect();
    let (old_code, new_code) = (digests(old), digests(new));
    let changed: Vec<_> = (new_code.iter())
        .filter(|&(id, digest)| old_code.get(id).is_some_and(|d| d != digest))
        .map(|(id, _)| id.as_str())
        .collect();
    let mut parts = Vec::new();
    if !added.is_empty() {
        parts.push(format!("routes added: {}", added.join(", ")));
    }
    if !removed.is_empty() {
        parts.push(format!("routes removed: {}", removed.join(", ")));
    }
    if !changed.is_empty() {
        parts.push(format!("components changed: {}", changed.join(", ")));
    }
    if parts.is_empty() {
        parts.push("no route or component changed".to_owned());
    }
    parts.join("; ")
}

fn describe_files(changed: &[PathBuf]) -> String {
    let shown: Vec<_> = changed
        .iter()
        .take(3)
        .map(|p| p.display().to_string())
        .collect();
    match changed.len() {
        0..=3 => format!("changed: {}", shown.join(", ")),
        n => format!("changed: {} and {} more", shown.join(", "), n - 3),
    }
}

/// The watched files and their modification time and size (`None`: missing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Files {
    stamps: BTreeMap<PathBuf, Option<(SystemTime, u64)>>,
    /// Where the data lives (canonical): never watched, even under a `build_dir` (every write
    /// changes it).
    skip: Vec<PathBuf>,
}

impl Files {
    /// What `manifest` names: itself, every component's `.wasm`, every source file under the
    /// `build_dir` of a component with a `build` command.
    fn of(manifest: &Manifest, manifest_path: &Path, app: &App) -> Files {
        // Compared with the folders met on the walk, which may be spelled differently (`--data`
        // may be relative): both canonical.
        let data = &app.data;
        let skip = [data.clone(), crate::metering::usage::dir_for(data)]
            .into_iter()
            .filter_map(|dir| dir.canonicalize().ok())
            .collect();
        let mut files = Files {
            stamps: BTreeMap::new(),
            skip,
        };
        let mut paths = vec![manifest_path.to_owned()];
        let mut dirs = BTreeSet::new();
        for decl in manifest.components.values() {
            paths.push(decl.path.clone());
            if let Some(build) = &decl.build {
                dirs.insert(build.dir.clone());
            }
        }
        for dir in dirs {
            files.walk(&dir, &mut paths);
        }
        files.stamps = paths.into_iter().map(|p| (p.clone(), stamp(&p))).collect();
        files
    }

    /// The same files, looked at now (new files under the build dirs are not seen until the
    /// next reload: a new source file is only used once an existing one names it).
    fn again(&self) -> Files {
        Files {
            stamps: self.stamps.keys().map(|p| (p.clone(), stamp(p))).collect(),
            skip: self.skip.clone(),
        }
    }

    fn changed(&self, now: &Files) -> Vec<PathBuf> {
        now.stamps
            .iter()
            .filter(|&(p, s)| self.stamps.get(p) != Some(s))
            .map(|(p, _)| p.clone())
            .collect()
    }

    /// Adds the regular files under `dir`, skipping outputs, dependencies and the data.
    fn walk(&self, dir: &Path, into: &mut Vec<PathBuf>) {
        let mut pending = vec![dir.to_owned()];
        let mut found = 0;
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let name = entry.file_name();
                if kind.is_dir() {
                    let skipped = SKIPPED_DIRS.iter().any(|s| name == *s)
                        || path.canonicalize().is_ok_and(|p| self.skip.contains(&p));
                    if !skipped {
                        pending.push(path);
                    }
                } else if kind.is_file() && path.extension().is_none_or(|e| e != "wasm") {
                    if found == MAX_WATCHED {
                        tracing::warn!(
                            "--watch: more than {MAX_WATCHED} files under {}; watching the first ones only",
                            dir.display()
                        );
                        return;
                    }
                    found += 1;
                    into.push(path);
                }
            }
        }
    }
}

fn stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(stamps: &[(&str, u64)]) -> Files {
        Files {
            stamps: stamps
                .iter()
                .map(|&(p, len)| (PathBuf::from(p), Some((SystemTime::UNIX_EPOCH, len))))
                .collect(),
            skip: Vec::new(),
        }
    }

    #[test]
    fn a_file_whose_size_or_time_changed_is_named_and_unchanged_ones_are_not() {
        let before = files(&[("/a/nebula.toml", 10), ("/a/x.wasm", 5)]);
        let after = files(&[("/a/nebula.toml", 12), ("/a/x.wasm", 5)]);
        assert_eq!(before.changed(&after), [PathBuf::from("/a/nebula.toml")]);
        assert!(after.changed(&after).is_empty());
    }

    #[test]
    fn the_walk_skips_outputs_dependencies_and_the_data_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        for file in [
            "src/lib.rs",
            "target/debug/big.rlib",
            "node_modules/x/index.js",
            "data/nebula.redb",
            "out.wasm",
        ] {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(&path, b"x").expect("write");
        }
        let watcher = Files {
            stamps: BTreeMap::new(),
            skip: vec![dir.path().join("data").canonicalize().expect("exists")],
        };
        let mut found = Vec::new();
        watcher.walk(dir.path(), &mut found);
        assert_eq!(found, [dir.path().join("src/lib.rs")]);
    }
}
