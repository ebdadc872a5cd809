//! Academemes' Python and JavaScript handlers for the tests: built by their own build scripts,
//! the manifest checked (which compiles every component into the shared compile cache), a host
//! whose tag cloud is ready, and what the polyglot tests do with the site (fetch, upload).
//!
//! The Python and JavaScript builds are the `build` commands of `manifests/academemes.toml` (they
//! skip themselves when their output is up to date, e.g. after `scripts/build-guests.sh`); each
//! build's time is written to stderr outside the test capture, so CI output shows it. Their
//! components are big (about 19 and 12 MB): `nebula-host check` compiles them once into
//! `target/test-compile-cache` (which `scripts/test.sh` warms the same way), and the hosts start
//! from that cache.

use super::json::{Json, json};
use super::{HOST_BIN, Host, guests, repo_root};
use anyhow::{Context, Result, bail, ensure};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// The built components.
#[derive(Debug)]
pub struct Polyglot {
    /// Python: `GET /api/quote`, `/api/quotes`, `/fragments/quote`.
    pub quote: PathBuf,
    /// JavaScript: `GET /api/tagcloud`, `/fragments/tagcloud`.
    pub tagcloud: PathBuf,
}

/// Builds both components the first time it is called (later calls wait and share the result).
/// `manifests/academemes.toml` names them: a test that starts it must call this (or
/// [`academemes`]) first.
pub fn polyglot() -> &'static Polyglot {
    static BUILT: OnceLock<Polyglot> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = repo_root();
        let polyglot = root.join("target/guests/polyglot");
        Polyglot {
            quote: build(
                "quote-py (Python, componentize-py)",
                &root.join("components/quote-py"),
                &["build.sh"],
                &polyglot.join("quote_py.wasm"),
            ),
            tagcloud: build(
                "tagcloud-js (JavaScript, ComponentizeJS)",
                &root.join("components/tagcloud-js"),
                &["build.sh"],
                &polyglot.join("tagcloud_js.wasm"),
            ),
        }
    })
}

/// Runs `sh ARGS` in `dir`, which must make `out`; reports the time it took on stderr.
pub fn build(what: &str, dir: &Path, args: &[&str], out: &Path) -> PathBuf {
    let started = Instant::now();
    let output = Command::new("sh")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run `sh {}` in {}: {e}",
                args.join(" "),
                dir.display()
            )
        });
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "building {what} failed ({}); did scripts/setup.sh run?\n--- stdout\n{stdout}--- stderr\n{stderr}",
        output.status
    );
    assert!(out.is_file(), "building {what} made no {}", out.display());
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    let said = stdout.lines().last().unwrap_or_default();
    report(&format!(
        "polyglot: {what}: {:.1} s, {:.1} MB: {said}",
        took.as_secs_f64(),
        size as f64 / 1e6
    ));
    out.to_path_buf()
}

/// A line on the real stderr: the test harness captures `println!`/`eprintln!` of passing
/// tests, and build times should be seen in every CI log.
fn report(line: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// The compile cache that `scripts/test.sh` warms with `nebula-host check` on every manifest.
pub fn shared_cache() -> PathBuf {
    repo_root().join("target/test-compile-cache")
}

/// `manifests/academemes.toml` with every component built (the Rust guests by [`guests`], the
/// Python and JavaScript ones here) and compiled into [`shared_cache`] by `nebula-host check`,
/// which also judges each component pure. A cold compile of the two big components takes about a
/// minute on two cores; with this first, a host starts in a second.
pub fn academemes() -> &'static PathBuf {
    static CHECKED: OnceLock<PathBuf> = OnceLock::new();
    CHECKED.get_or_init(|| {
        guests();
        polyglot();
        let manifest = repo_root().join("manifests/academemes.toml");
        let started = Instant::now();
        let (code, out) = host_cli(&[
            "check".as_ref(),
            manifest.as_os_str(),
            "--cache-dir".as_ref(),
            shared_cache().as_os_str(),
        ]);
        assert!(
            code == Some(0),
            "check of the academemes manifest failed:\n{out}"
        );
        report(&format!(
            "polyglot: checked and compiled manifests/academemes.toml in {:.1} s",
            started.elapsed().as_secs_f64()
        ));
        manifest
    })
}

/// Runs `nebula-host ARGS` to completion (at most 10 minutes: it may compile big components);
/// returns the exit code and stdout + stderr.
pub fn host_cli(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let mut child = Command::new(HOST_BIN)
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start nebula-host");
    let deadline = Instant::now() + Duration::from_secs(600);
    while child.try_wait().ok().flatten().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("nebula-host {args:?} ran for 10 minutes; killed it");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().expect("nebula-host output");
    (
        output.status.code(),
        format!(
            "--- stdout\n{}--- stderr\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// A host serving Academemes on a fresh database (see [`super::site::site`]), once the seed's
/// tags show in the Python tag cloud.
pub fn site() -> Result<Host> {
    let host = super::site::site()?;
    wait_for_tags(&host, "/api/tagcloud")?;
    Ok(host)
}

/// Waits (up to 60 s) until the seed wrote its tags and `path` (a tag cloud) shows them.
pub fn wait_for_tags(host: &Host, path: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reply = host.get(path)?;
        if reply.status == 200 && json(&reply.text())?.get("total").and_then(Json::num) > Some(0.0)
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!(
                "no tags within 60 s; {path}: {} {}\nhost log:\n{}",
                reply.status,
                reply.text(),
                host.log()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `GET path` answered 200 with `content_type`; the body as text.
pub fn get_ok(host: &Host, path: &str, content_type: &str) -> Result<String> {
    let reply = host.get(path)?;
    ensure!(
        reply.status == 200,
        "GET {path}: status {} ({})\nhost log:\n{}",
        reply.status,
        reply.text(),
        host.log()
    );
    ensure!(
        reply.header("content-type") == Some(content_type),
        "GET {path}: content-type {:?}",
        reply.header("content-type")
    );
    Ok(reply.text())
}

/// A real PNG: the image of the first listed meme.
pub fn some_png(host: &Host) -> Result<Vec<u8>> {
    let listing = json(&get_ok(host, "/api/memes?limit=1", "application/json")?)?;
    let first = listing
        .get("memes")
        .and_then(Json::arr)
        .and_then(|m| m.first());
    let url = first.context("no meme listed")?.str_of("image_url");
    let image = host.get(&url)?;
    ensure!(
        image.status == 200 && image.body.starts_with(b"\x89PNG"),
        "{url}"
    );
    Ok(image.body)
}

/// Uploads a meme through the API (multipart, as the site's form sends it).
pub fn upload(host: &Host, png: &[u8], title: &str, tags: &str) -> Result<()> {
    let boundary = "----polyglot-test-boundary-4b1e";
    let mut body = Vec::new();
    let mut part = |name: &str, file: Option<&str>, data: &[u8]| {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let disposition = match file {
            Some(file) => format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                 Content-Type: image/png\r\n\r\n"
            ),
            None => format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n"),
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    };
    part("image", Some("meme.png"), png);
    part("title", None, title.as_bytes());
    part("caption", None, b"Three languages, one pure world.");
    part("tags", None, tags.as_bytes());
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let reply = host.request(
        "POST",
        "/api/memes",
        &[("content-type", &content_type)],
        &body,
    )?;
    ensure!(
        reply.status == 201,
        "upload: {} {}",
        reply.status,
        reply.text()
    );
    Ok(())
}

pub fn today_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 -> (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
