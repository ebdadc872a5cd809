//! A `nebula-host` child process: started, waited for until it serves, stopped on drop.

use super::http::{self, Response};
use super::poll;
use anyhow::{Context, Result, bail};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The host binary under test.
pub const HOST_BIN: &str = env!("CARGO_BIN_EXE_nebula-host");

/// How long a host may take to print its ready line. It compiles components first unless the
/// compile cache has them (`scripts/test.sh` warms it): a cold Academemes with its Python and
/// JavaScript handlers takes a minute or more on a busy 2-core machine.
const READY_TIMEOUT: Duration = Duration::from_secs(240);
/// The same for `up --build`, which first runs the build commands: `npm ci` and ComponentizeJS,
/// or componentize-py, take minutes on a busy machine.
const BUILD_READY_TIMEOUT: Duration = Duration::from_secs(900);
/// How long [`Host::wait_for_log_line`] waits for a line to appear.
const LOG_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a host may take to exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `nebula-host` serving on 127.0.0.1. Dropping it kills the process.
#[derive(Debug)]
pub struct Host {
    child: Child,
    /// The address the host printed in its ready line.
    pub addr: SocketAddr,
    stderr: Output,
    stdout: Output,
    /// Temp folders that must outlive the process.
    _temp: Vec<TempDir>,
}

/// A host process that exited before it printed its ready line.
#[derive(Debug)]
pub struct StartFailure {
    /// The exit code, `None` if a signal ended the process.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for StartFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "nebula-host exited with code {:?} before serving\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl std::error::Error for StartFailure {}

/// One compile cache for the hosts of this test run. Entries are keyed by the wasm's hash and
/// written atomically, so concurrent hosts share it safely.
fn shared_cache() -> &'static Path {
    static DIR: std::sync::OnceLock<TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("creating the shared compile cache"))
        .path()
}

impl Host {
    /// `nebula-host up MANIFEST --listen 127.0.0.1:0 EXTRA_ARGS`, with a fresh data folder and the
    /// compile cache the tests share (so each component is compiled once per run); returns once
    /// the host says it is serving. Tests of the cache itself use [`Host::up_with_cache`].
    pub fn up(manifest: &Path, extra_args: &[&str]) -> Result<Host> {
        Self::up_with_cache(manifest, extra_args, shared_cache())
    }

    /// Like [`Host::up`], but with the compile cache in `cache_dir`, which the caller keeps so
    /// that a second host can find what the first one cached.
    pub fn up_with_cache(manifest: &Path, extra_args: &[&str], cache_dir: &Path) -> Result<Host> {
        let mut args: Vec<OsString> = vec!["up".into(), manifest.into()];
        args.extend(extra_args.iter().map(OsString::from));
        Self::start(&args, cache_dir)
    }

    /// Like [`Host::up_with_cache`], with these environment variables set for the host (e.g.
    /// a route's bearer token).
    pub fn up_with_cache_and_env(
        manifest: &Path,
        extra_args: &[&str],
        cache_dir: &Path,
        env: &[(&str, &str)],
    ) -> Result<Host> {
        let mut args: Vec<OsString> = vec!["up".into(), manifest.into()];
        args.extend(extra_args.iter().map(OsString::from));
        Self::spawn(&args, cache_dir, READY_TIMEOUT, |command| {
            command.envs(env.iter().copied());
        })
    }

    /// `nebula-host serve COMPONENT --listen 127.0.0.1:0`: one component at every path.
    pub fn serve(component: &Path) -> Result<Host> {
        let args: Vec<OsString> = vec!["serve".into(), component.into()];
        Self::start(&args, shared_cache())
    }

    /// `nebula-host up MANIFEST --build EXTRA_ARGS`: runs the components' build commands first,
    /// in an environment without the outer `cargo test`'s variables (as a developer's shell
    /// would be) plus `env`. The build counts against the ready timeout.
    pub fn up_building(
        manifest: &Path,
        extra_args: &[&str],
        env: &[(&str, &Path)],
    ) -> Result<Host> {
        let mut args: Vec<OsString> = vec!["up".into(), manifest.into(), "--build".into()];
        args.extend(extra_args.iter().map(OsString::from));
        Self::spawn(&args, shared_cache(), BUILD_READY_TIMEOUT, |command| {
            super::guests::scrub_outer_cargo_env(command);
            for (name, value) in env {
                command.env(name, value);
            }
        })
    }

    /// Keeps `dir` (e.g. the manifest's folder) until the host is dropped.
    pub fn keep(&mut self, dir: TempDir) {
        self._temp.push(dir);
    }

    /// Runs `nebula-host up MANIFEST` expecting it to refuse to start: returns how it exited, or
    /// an error if it started serving.
    pub fn up_expecting_failure(manifest: &Path, extra_args: &[&str]) -> Result<StartFailure> {
        match Self::up(manifest, extra_args) {
            Ok(host) => bail!(
                "nebula-host started serving on {} but should have refused; stderr:\n{}",
                host.addr,
                host.log()
            ),
            Err(err) => err.downcast::<StartFailure>(),
        }
    }

    fn start(args: &[OsString], cache_dir: &Path) -> Result<Host> {
        Self::spawn(args, cache_dir, READY_TIMEOUT, |_| {})
    }

    fn spawn(
        args: &[OsString],
        cache_dir: &Path,
        ready_timeout: Duration,
        setup: impl FnOnce(&mut Command),
    ) -> Result<Host> {
        let data = tempfile::tempdir()?;
        // A free port unless the test names one (e.g. to restart a host behind a balancer).
        let listen: &[&str] = if args.iter().any(|a| a == "--listen") {
            &[]
        } else {
            &["--listen", "127.0.0.1:0"]
        };
        let mut command = Command::new(HOST_BIN);
        setup(&mut command);
        let mut child = command
            .args(args)
            .args(listen)
            .env("NEBULA_CACHE_DIR", cache_dir)
            .env("NEBULA_DATA_DIR", data.path())
            // Each test chooses its store (harness/store.rs); a developer's must not leak in.
            .env_remove("NEBULA_STORE")
            // The tests read the host's default log lines; a developer's filter must not hide them.
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start {HOST_BIN}"))?;

        let stderr = Output::collect(child.stderr.take().expect("stderr is piped"), None);
        let (lines, ready_lines) = mpsc::channel();
        let stdout = Output::collect(child.stdout.take().expect("stdout is piped"), Some(lines));

        let deadline = Instant::now() + ready_timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match ready_lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(addr) = ready_address(&line) {
                        return Ok(Host {
                            child,
                            addr,
                            stderr,
                            stdout,
                            _temp: vec![data],
                        });
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    bail!(
                        "nebula-host printed no `serving on http://…` line within {ready_timeout:?}\n\
                         --- stdout\n{}--- stderr\n{}",
                        stdout.text(),
                        stderr.text()
                    );
                }
                Err(RecvTimeoutError::Disconnected) => {
                    // stdout closed: the process is exiting.
                    let status = wait_bounded(&mut child, STOP_TIMEOUT)?;
                    stderr.wait_closed();
                    return Err(StartFailure {
                        code: status.code(),
                        stdout: stdout.text(),
                        stderr: stderr.text(),
                    }
                    .into());
                }
            }
        }
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> Result<Response> {
        http::get(self.addr, path)
    }

    /// Any request; `headers` come after `Host` and before `Connection: close`.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response> {
        http::request(self.addr, method, path, headers, body)
    }

    /// Everything the host wrote to stderr so far.
    pub fn log(&self) -> String {
        self.stderr.text()
    }

    /// Waits (up to 10 s) for a stderr line that contains every one of `needles`, and returns
    /// it; the error shows the whole log.
    pub fn wait_for_log_line(&self, needles: &[&str]) -> Result<String> {
        let found = poll(LOG_TIMEOUT, || {
            self.log()
                .lines()
                .find(|line| needles.iter().all(|needle| line.contains(needle)))
                .map(str::to_owned)
        });
        found.with_context(|| {
            format!(
                "no stderr line containing all of {needles:?} within {LOG_TIMEOUT:?}; stderr:\n{}",
                self.log()
            )
        })
    }

    /// Sends SIGTERM and waits (up to 30 s) for the process to exit.
    pub fn stop_gracefully(&mut self) -> Result<ExitStatus> {
        let pid = self.child.id().to_string();
        let kill = Command::new("kill")
            .args([OsStr::new("-TERM"), OsStr::new(&pid)])
            .status()
            .context("cannot run `kill`")?;
        if !kill.success() {
            bail!("`kill -TERM {pid}` failed: {kill}");
        }
        let status = wait_bounded(&mut self.child, STOP_TIMEOUT)?;
        self.stderr.wait_closed();
        Ok(status)
    }

    /// Kills the process with SIGKILL (`kill -9`: no shutdown, no flushing) and waits for it to
    /// be gone, so that another host may open the same data folder.
    pub fn kill(&mut self) -> Result<ExitStatus> {
        // On Unix, `Child::kill` sends SIGKILL.
        self.child.kill().context("cannot kill nebula-host")?;
        let status = wait_bounded(&mut self.child, STOP_TIMEOUT)?;
        self.stderr.wait_closed();
        Ok(status)
    }

    /// The process id, e.g. to read `/proc/PID`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits (up to `timeout`) for the process to exit by itself.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Result<ExitStatus> {
        let status = wait_bounded(&mut self.child, timeout)?;
        self.stderr.wait_closed();
        Ok(status)
    }

    /// Everything the host wrote to stdout so far (the ready line included).
    pub fn stdout(&self) -> String {
        self.stdout.text()
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// The address in `nebula-host: serving on http://127.0.0.1:PORT`.
fn ready_address(line: &str) -> Option<SocketAddr> {
    let (_, rest) = line.split_once("serving on http://")?;
    rest.trim().trim_end_matches('/').parse().ok()
}

/// Waits up to `timeout` for `child` to exit; kills it if it does not.
fn wait_bounded(child: &mut Child, timeout: Duration) -> Result<ExitStatus> {
    let exited = poll(timeout, || child.try_wait().ok().flatten());
    match exited {
        Some(status) => Ok(status),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            bail!("nebula-host did not exit within {timeout:?}; killed it")
        }
    }
}

/// A child's output stream, read line by line on a thread into a shared buffer.
#[derive(Debug, Clone)]
struct Output {
    text: Arc<Mutex<String>>,
    closed: Arc<AtomicBool>,
}

impl Output {
    /// Starts the reader thread; each line also goes to `lines` while someone listens.
    fn collect(stream: impl Read + Send + 'static, lines: Option<mpsc::Sender<String>>) -> Output {
        let output = Output {
            text: Arc::default(),
            closed: Arc::default(),
        };
        let shared = output.clone();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stream);
            let mut line = Vec::new();
            // Lines are read as bytes so that invalid UTF-8 cannot stop the reader.
            while matches!(reader.read_until(b'\n', &mut line), Ok(n) if n > 0) {
                let text = String::from_utf8_lossy(&line).into_owned();
                shared.text.lock().expect("log lock").push_str(&text);
                if let Some(lines) = &lines {
                    let _ = lines.send(text);
                }
                line.clear();
            }
            shared.closed.store(true, Ordering::SeqCst);
        });
        output
    }

    fn text(&self) -> String {
        self.text.lock().expect("log lock").clone()
    }

    /// Waits (bounded) until the stream reached its end, so `text` is complete.
    fn wait_closed(&self) {
        poll(Duration::from_secs(10), || {
            self.closed.load(Ordering::SeqCst).then_some(())
        });
    }
}
