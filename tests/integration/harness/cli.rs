//! One-shot subcommands (`check`, `inspect`): run to completion, output captured.

use super::host::HOST_BIN;
use super::poll;
use anyhow::{Context, Result, bail};
use std::ffi::OsStr;
use std::io::Read;
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a one-shot command may run (it may compile components).
const CLI_TIMEOUT: Duration = Duration::from_secs(120);

/// How a `nebula-host` command ended.
#[derive(Debug)]
pub struct CliOutput {
    /// The exit code, `None` if a signal ended the process.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for CliOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs `nebula-host ARGS` with a fresh compile cache and data folder, waiting at most 120 s.
pub fn run_cli(args: &[&dyn AsRef<OsStr>]) -> Result<CliOutput> {
    let temp = tempfile::tempdir()?;
    let mut child = Command::new(HOST_BIN)
        .args(args.iter().map(|arg| arg.as_ref()))
        .env("NEBULA_CACHE_DIR", temp.path().join("cache"))
        .env("NEBULA_DATA_DIR", temp.path().join("data"))
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot start {HOST_BIN}"))?;
    let stdout = read_all(child.stdout.take().expect("stdout is piped"));
    let stderr = read_all(child.stderr.take().expect("stderr is piped"));

    let Some(status) = poll(CLI_TIMEOUT, || child.try_wait().ok().flatten()) else {
        let _ = child.kill();
        let _ = child.wait();
        bail!("nebula-host did not finish within {CLI_TIMEOUT:?}; killed it");
    };
    Ok(CliOutput {
        code: status.code(),
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    })
}

fn read_all(mut stream: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
