//! The browser test: headless Chromium drives Academemes (`manifests/academemes.toml`) on a
//! real host, as a person would: the home page (desktop and a 390 px phone), a meme and its vote
//! button (once, not twice, and taken back), voting from a card, the upload form, the
//! generator's live preview and publish, a Unicode caption checked pixel by pixel against the
//! fallback "?", search from the header, a report that a moderator hides, and long titles. The
//! steps are a Node script, `tests/browser/academemes.mjs` (Playwright's `playwright-core` driving Debian's chromium);
//! this test starts the host, runs the script against it and passes when the script does.
//!
//! Screenshots are left in `target/browser-artifacts/` (`failure.png` too when a step fails).
//! `scripts/setup.sh` installs what this needs; without it the test fails and says so, rather
//! than skipping, so that CI cannot pass without running it.

use crate::harness::repo_root;
use crate::harness::site::ADMIN_TOKEN;
use anyhow::{Context, Result, bail, ensure};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The browser the script launches (Debian's `chromium` package).
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long the whole script may run; it bounds each of its own steps at 30 s.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(300);

const SETUP_HINT: &str = "run `bash scripts/setup.sh` (it installs Debian's chromium and \
                          `npm ci` in tests/browser)";

#[test]
fn academemes_in_a_real_browser() -> Result<()> {
    let root = repo_root();
    let browser_dir = root.join("tests/browser");
    prerequisites(&browser_dir)?;

    // A fresh data folder, so the site is freshly seeded, with the moderators' token.
    let host = crate::harness::site::site()?;

    // Each run overwrites the screenshots (their names are fixed); a failure's is removed first
    // so that it is never one left by an earlier run.
    let artifacts = root.join("target/browser-artifacts");
    std::fs::create_dir_all(&artifacts)?;
    let _ = std::fs::remove_file(artifacts.join("failure.png"));

    let base = format!("http://{}", host.addr);
    let started = Instant::now();
    let run = run_script(&browser_dir, &base, &artifacts)?;
    println!(
        "--- tests/browser/academemes.mjs against {base} ({:.1?}, {})\n{}{}",
        started.elapsed(),
        run.status,
        run.stdout,
        run.stderr
    );
    ensure!(
        run.ok,
        "the browser test failed ({}); see its output above and the screenshots in {}\n\
         --- host stderr\n{}",
        run.status,
        artifacts.display(),
        host.log()
    );
    Ok(())
}

/// Node, chromium and the script's `node_modules`, or an error that says how to get them.
fn prerequisites(browser_dir: &Path) -> Result<()> {
    let node = Command::new("node").arg("--version").output();
    match node {
        Ok(out) if out.status.success() => {}
        Ok(out) => bail!(
            "`node --version` failed ({}): {}; {SETUP_HINT}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(err) => bail!("Node.js is not installed (`node`: {err}); {SETUP_HINT}"),
    }
    ensure!(
        Path::new(CHROMIUM).is_file(),
        "{CHROMIUM} is missing; {SETUP_HINT}"
    );
    ensure!(
        browser_dir
            .join("node_modules/playwright-core/package.json")
            .is_file(),
        "{} has no node_modules/playwright-core; {SETUP_HINT}",
        browser_dir.display()
    );
    Ok(())
}

/// How the script ended, and what it printed.
struct ScriptRun {
    ok: bool,
    status: String,
    stdout: String,
    stderr: String,
}

/// `node academemes.mjs BASE ARTIFACTS` in `browser_dir`, in a process group of its own so
/// that a timeout ends Chromium too.
fn run_script(browser_dir: &Path, base: &str, artifacts: &Path) -> Result<ScriptRun> {
    let mut child = Command::new("node")
        .arg("academemes.mjs")
        .arg(base)
        .arg(artifacts)
        .current_dir(browser_dir)
        .env("NEBULA_CHROMIUM", CHROMIUM)
        .env("ACADEMEMES_ADMIN_TOKEN", ADMIN_TOKEN)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .with_context(|| {
            format!(
                "cannot start node in {}; {SETUP_HINT}",
                browser_dir.display()
            )
        })?;
    let stdout = read_all(child.stdout.take().expect("stdout is piped"));
    let stderr = read_all(child.stderr.take().expect("stderr is piped"));

    let deadline = Instant::now() + SCRIPT_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            kill_group(&mut child);
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    Ok(match status {
        Some(status) => ScriptRun {
            ok: status.success(),
            status: status.to_string(),
            stdout,
            stderr,
        },
        None => ScriptRun {
            ok: false,
            status: format!("killed after {SCRIPT_TIMEOUT:?}"),
            stdout,
            stderr,
        },
    })
}

fn read_all(mut stream: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// SIGKILL to the script's process group (node and the Chromium it started), then reaps node.
fn kill_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    let _ = child.kill();
    let _ = child.wait();
}
