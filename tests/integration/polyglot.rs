//! Pure handlers in Python and JavaScript beside the Rust ones (issue #7), served in Academemes:
//! the quote of the day (`components/quote-py`, componentize-py) and the tag cloud
//! (`components/tagcloud-js`, ComponentizeJS).
//!
//! Both are built once per test binary by their own build scripts, the `build` commands of
//! `manifests/academemes.toml` (which skip themselves when their output is up to date, e.g. after
//! `scripts/build-guests.sh`), and each build's time is written to stderr outside the test
//! capture, so CI output shows it. Python and JavaScript components are big (about 19 and 12 MB):
//! `nebula-host check` compiles them once into `target/test-compile-cache` (which
//! `scripts/test.sh` warms the same way), and the hosts here start from that cache.
//!
//! `scripts/setup.sh` installs the toolchains (componentize-py from PyPI, ComponentizeJS from npm).

use crate::harness::{HOST_BIN, Host, Manifest, guests, repo_root};
use anyhow::{Context, Result, bail, ensure};
use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

/// The built components.
#[derive(Debug)]
pub(crate) struct Polyglot {
    /// Python: `GET /api/quote`, `/api/quotes`, `/fragments/quote`.
    quote: PathBuf,
    /// JavaScript: `GET /api/tagcloud`, `/fragments/tagcloud`.
    tagcloud: PathBuf,
}

/// Builds both components the first time it is called (later calls wait and share the result).
/// `manifests/academemes.toml` names them: a test that starts it must call this (or
/// [`academemes`]) first.
pub(crate) fn polyglot() -> &'static Polyglot {
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
fn build(what: &str, dir: &Path, args: &[&str], out: &Path) -> PathBuf {
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
pub(crate) fn shared_cache() -> PathBuf {
    repo_root().join("target/test-compile-cache")
}

/// `manifests/academemes.toml` with every component built (the Rust guests by [`guests`], the
/// Python and JavaScript ones here) and compiled into [`shared_cache`] by `nebula-host check`,
/// which also judges each component pure. A cold compile of the two big components takes about a
/// minute on two cores; with this first, a host starts in a second.
pub(crate) fn academemes() -> &'static PathBuf {
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
fn host_cli(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
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

/// A host serving Academemes on a fresh database, once the seed's memes are listed.
fn site() -> Result<Host> {
    let token = [("ACADEMEMES_ADMIN_TOKEN", crate::harness::site::ADMIN_TOKEN)];
    let host = Host::up_with_cache_and_env(academemes(), &[], &shared_cache(), &token)?;
    wait_for_tags(&host, "/api/tagcloud")?;
    Ok(host)
}

/// Waits (up to 60 s) until the seed wrote its tags and `path` (a tag cloud) shows them.
fn wait_for_tags(host: &Host, path: &str) -> Result<()> {
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
fn get_ok(host: &Host, path: &str, content_type: &str) -> Result<String> {
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

#[test]
fn python_and_javascript_handlers_inspect_as_pure() -> Result<()> {
    // Compiled by `check` into the shared cache first, so `inspect` finds them there.
    academemes();
    let built = polyglot();
    for (wasm, extra_export) in [(&built.quote, Some("exports")), (&built.tagcloud, None)] {
        let (code, out) = host_cli(&[
            "inspect".as_ref(),
            wasm.as_os_str(),
            "--cache-dir".as_ref(),
            shared_cache().as_os_str(),
        ]);
        ensure!(code == Some(0), "{out}");
        ensure!(out.contains("kind:      nebula:pure handler"), "{out}");
        ensure!(
            out.contains("verdict:   pure (imports nothing that can act)"),
            "{out}"
        );
        // The only import is the types-only interface of the pure world: no WASI at all.
        ensure!(out.contains("nebula:pure/types@0.1.0"), "{out}");
        ensure!(!out.contains("wasi:"), "a WASI import is left: {out}");
        ensure!(out.lines().any(|l| l.trim() == "handle"), "{out}");
        // componentize-py adds an `exports` interface (its pre-initialisation hook); the host
        // judges by `handle` and never calls it.
        if let Some(export) = extra_export {
            ensure!(out.lines().any(|l| l.trim() == export), "{out}");
        }
    }
    Ok(())
}

#[test]
fn the_quote_of_the_day_depends_on_the_date_alone() -> Result<()> {
    let host = site()?;
    let list = json(&get_ok(&host, "/api/quotes", "application/json")?)?;
    let quotes: Vec<(String, String)> = list
        .get("quotes")
        .and_then(Json::arr)
        .context("no `quotes` array")?
        .iter()
        .map(|q| (q.str_of("quote"), q.str_of("author")))
        .collect();
    ensure!(
        quotes.len() >= 25 && quotes.iter().all(|(q, a)| !q.is_empty() && !a.is_empty()),
        "the curated list: {quotes:?}"
    );

    // Same date, same quote: also from a fresh instance (the second may be a memoized replay,
    // the third is a different URL for the same date).
    let first = get_ok(&host, "/api/quote?date=2026-11-26", "application/json")?;
    let again = get_ok(&host, "/api/quote?date=2026-11-26", "application/json")?;
    let other_url = get_ok(&host, "/api/quote?x=1&date=2026-11-26", "application/json")?;
    ensure!(
        first == again && first == other_url,
        "{first}\n{again}\n{other_url}"
    );
    let q = json(&first)?;
    ensure!(q.str_of("date") == "2026-11-26", "{first}");
    let pair = (q.str_of("quote"), q.str_of("author"));
    ensure!(quotes.contains(&pair), "{pair:?} is not in the list");

    // As many consecutive days as there are quotes, from 2027-01-01: a different quote every
    // day, all from the list.
    let mut seen = Vec::new();
    for day in 0..quotes.len() as i64 {
        let (y, m, d) = civil_from_days(20_819 + day);
        let date = format!("{y:04}-{m:02}-{d:02}");
        let q = json(&get_ok(
            &host,
            &format!("/api/quote?date={date}"),
            "application/json",
        )?)?;
        ensure!(q.str_of("date") == date, "asked for {date}");
        let pair = (q.str_of("quote"), q.str_of("author"));
        ensure!(
            quotes.contains(&pair),
            "{date}: {pair:?} is not in the list"
        );
        ensure!(
            !seen.contains(&pair),
            "{date}: {pair:?} came twice in {} days",
            quotes.len()
        );
        seen.push(pair);
    }

    // The HTML fragment shows the same quote as the JSON for that date.
    let html = get_ok(
        &host,
        "/fragments/quote?date=2026-11-26",
        "text/html; charset=utf-8",
    )?;
    ensure!(
        html.starts_with("<figure class=\"quote-of-the-day\"")
            && html.contains(&escape_html(&q.str_of("quote")))
            && html.contains("26 November 2026"),
        "{html}"
    );

    // No date: the handler asks the host for the clock and picks today's (UTC) quote.
    let before = today_utc();
    let today = json(&get_ok(&host, "/api/quote", "application/json")?)?;
    let after = today_utc();
    ensure!(
        [before.as_str(), after.as_str()].contains(&today.str_of("date").as_str()),
        "today is {before}, got {today:?}"
    );

    for bad in [
        "2026-02-29",
        "yesterday",
        "2026-1-1",
        "2026-13-01",
        "２０２６-01-01",
    ] {
        let reply = host.get(&format!("/api/quote?date={}", percent_encode(bad)))?;
        ensure!(
            reply.status == 400,
            "date {bad}: {} {}",
            reply.status,
            reply.text()
        );
        ensure!(reply.text().contains("YYYY-MM-DD"), "{}", reply.text());
    }
    Ok(())
}

#[test]
fn the_tag_cloud_counts_the_seeded_and_the_uploaded_tags() -> Result<()> {
    let host = site()?;
    let expected = tags_of_listed_memes(&host)?;
    let cloud = tag_cloud(&host, "/api/tagcloud?top=500")?;
    ensure!(
        cloud == expected,
        "tag cloud {cloud:?}\nbut the memes have {expected:?}"
    );
    let reply = json(&get_ok(&host, "/api/tagcloud?top=500", "application/json")?)?;
    ensure!(reply.get("distinct").and_then(Json::num) == Some(expected.len() as f64));
    ensure!(reply.get("truncated") == Some(&Json::Bool(false)));

    // Font sizes grow with the count; the top tags by count come first with `sort=count`.
    let tags = reply.get("tags").and_then(Json::arr).context("no tags")?;
    let size = |t: &Json| {
        t.str_of("size")
            .trim_end_matches("em")
            .parse::<f64>()
            .unwrap_or(-1.0)
    };
    for a in tags {
        for b in tags {
            if a.get("count").and_then(Json::num) > b.get("count").and_then(Json::num) {
                ensure!(size(a) > size(b), "{a:?} is not larger than {b:?}");
            }
        }
    }
    let top3 = json(&get_ok(
        &host,
        "/api/tagcloud?top=3&sort=count",
        "application/json",
    )?)?;
    let top3: Vec<f64> = top3
        .get("tags")
        .and_then(Json::arr)
        .context("no tags")?
        .iter()
        .filter_map(|t| t.get("count").and_then(Json::num))
        .collect();
    let mut counts: Vec<f64> = expected.values().map(|&n| n as f64).collect();
    counts.sort_by(|a, b| b.total_cmp(a));
    ensure!(top3 == counts[..3], "top 3 {top3:?}, counts {counts:?}");

    // An upload adds its tags (the cloud is memoized by the data's version, so no stale reply).
    let png = some_png(&host)?;
    upload(
        &host,
        &png,
        "Polyglot pipelines",
        "polyglot-test, statistics",
    )?;
    let mut after = expected.clone();
    *after.entry("polyglot-test".to_owned()).or_default() += 1;
    *after.entry("statistics".to_owned()).or_default() += 1;
    let cloud = tag_cloud(&host, "/api/tagcloud?top=500")?;
    ensure!(
        cloud == after,
        "after the upload: {cloud:?}\nexpected {after:?}"
    );

    let html = get_ok(
        &host,
        "/fragments/tagcloud?top=500",
        "text/html; charset=utf-8",
    )?;
    ensure!(
        html.starts_with("<nav class=\"tag-cloud\"")
            && html.contains("<a href=\"/tags/polyglot-test\"")
            && html.contains("title=\"1 meme\">#polyglot-test</a>"),
        "{html}"
    );
    Ok(())
}

/// The handler pages through the tags itself (`outcome::need`) when the declared read's page is
/// short: a manifest with the Academemes seed and a 5-entry first page counts the same tags.
#[test]
fn the_tag_cloud_asks_for_the_following_pages() -> Result<()> {
    academemes();
    let seed = repo_root().join("target/guests/wasm32-wasip2/release/academemes_seed.wasm");
    let list = |limit: u32| {
        format!(
            "reads = [{{ name = \"tags\", op = \"list\", collection = \"tags\", index = \"new\", \
             default_limit = {limit}, max_limit = {limit} }}]\n"
        )
    };
    let dir = tempfile::tempdir()?;
    let manifest = Manifest::new()
        .raw(
            "\n[collections.memes]\nindexes = [\"new\"]\n[collections.images]\n\
             [collections.thumbs]\n[collections.search]\n\
             [collections.votes]\ncounter = true\n[collections.tags]\nindexes = [\"new\"]\n",
        )
        // The limits of manifests/academemes.toml.
        .component_with_limits("seed", &seed, "memory = \"256 MiB\", timeout = \"120s\"")
        .component_with_limits(
            "tagcloud",
            &polyglot().tagcloud,
            "memory = \"64 MiB\", timeout = \"5s\"",
        )
        .route("GET /api/tagcloud", "tagcloud")
        .raw(&list(1000))
        .route("GET /paged/tagcloud", "tagcloud")
        .raw(&list(5))
        .route("POST /_internal/seed", "seed")
        .raw(
            "internal = true\nreads = [{ name = \"now\", op = \"now\" }, \
             { name = \"memes\", op = \"count\", collection = \"memes\" }]\n\
             may_write = [\"memes\", \"images\", \"thumbs\", \"votes\", \"tags\", \"search\"]\n\
             [startup]\nwhen_empty = \"memes\"\nrun = \"POST /_internal/seed\"\n",
        )
        .write(dir.path())?;
    let host = Host::up_with_cache(&manifest, &[], &shared_cache())?;
    wait_for_tags(&host, "/api/tagcloud")?;
    let whole = get_ok(&host, "/api/tagcloud?top=500", "application/json")?;
    let paged = get_ok(&host, "/paged/tagcloud?top=500", "application/json")?;
    let total = json(&whole)?
        .get("total")
        .and_then(Json::num)
        .unwrap_or(0.0);
    ensure!(
        total > 5.0,
        "the seed made only {total} tag entries: {whole}"
    );
    ensure!(whole == paged, "one page: {whole}\npaged: {paged}");
    Ok(())
}

/// A JavaScript build that leaves `fetch-event` on keeps `wasi:http/types`: `inspect`, `check`
/// and `up` refuse it, naming the import and the `disableFeatures` entry that removes it.
#[test]
fn a_leftover_wasi_import_is_refused_with_the_flag_that_removes_it() -> Result<()> {
    let root = repo_root();
    let wasm = build(
        "tagcloud-js with fetch-event left on",
        &root.join("components/tagcloud-js"),
        &[
            "-c",
            "node build.mjs --keep fetch-event --out ../../target/guests/polyglot/tagcloud_js_fetch_event.wasm",
        ],
        &root.join("target/guests/polyglot/tagcloud_js_fetch_event.wasm"),
    );
    let names_import_and_flag = |text: &str| {
        text.contains("wasi:http/types@0.2.")
            && text.contains("disableFeatures")
            && text.contains("'fetch-event'")
    };

    let cache = shared_cache();
    let dir = tempfile::tempdir()?;
    let manifest = Manifest::new()
        .component("leaky", &wasm)
        .route("GET /api/tagcloud", "leaky")
        .write(dir.path())?;
    let (code, out) = host_cli(&[
        "check".as_ref(),
        manifest.as_os_str(),
        "--cache-dir".as_ref(),
        cache.as_os_str(),
    ]);
    ensure!(code == Some(1), "check accepted it:\n{out}");
    ensure!(
        out.contains("`leaky`") && names_import_and_flag(&out),
        "{out}"
    );

    let (code, out) = host_cli(&[
        "inspect".as_ref(),
        wasm.as_os_str(),
        "--cache-dir".as_ref(),
        cache.as_os_str(),
    ]);
    ensure!(code == Some(1), "inspect says pure:\n{out}");
    ensure!(out.contains("wasi:http/types@0.2.10  [REFUSED]"), "{out}");
    ensure!(names_import_and_flag(&out), "{out}");
    // poll and streams are left too, and stubbed: not what makes it impure.
    ensure!(out.contains("wasi:io/poll@0.2.12  [stubbed"), "{out}");

    match Host::up_with_cache(&manifest, &[], &cache) {
        Ok(host) => bail!("up served it on {}", host.addr),
        Err(err) => {
            let err = format!("{err:#}");
            ensure!(
                err.contains("leaky") && names_import_and_flag(&err),
                "{err}"
            );
        }
    }
    Ok(())
}

// ---- Academemes data, as the tests see it ---------------------------------------------------

/// tag -> number of memes with it, from `/api/memes` (every page).
fn tags_of_listed_memes(host: &Host) -> Result<BTreeMap<String, u64>> {
    let mut counts = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/memes?limit=100&cursor={c}"),
            None => "/api/memes?limit=100".to_owned(),
        };
        let page = json(&get_ok(host, &path, "application/json")?)?;
        for meme in page.get("memes").and_then(Json::arr).context("no memes")? {
            for tag in meme.get("tags").and_then(Json::arr).context("no tags")? {
                *counts
                    .entry(tag.str().context("a tag")?.to_owned())
                    .or_default() += 1;
            }
        }
        cursor = page
            .get("next_cursor")
            .and_then(Json::str)
            .map(str::to_owned);
        if cursor.is_none() {
            return Ok(counts);
        }
    }
}

/// tag -> count, from the tag cloud's JSON.
fn tag_cloud(host: &Host, path: &str) -> Result<BTreeMap<String, u64>> {
    let cloud = json(&get_ok(host, path, "application/json")?)?;
    let mut counts = BTreeMap::new();
    for t in cloud.get("tags").and_then(Json::arr).context("no tags")? {
        let count = t.get("count").and_then(Json::num).context("a count")?;
        ensure!(
            t.str_of("url") == format!("/tags/{}", t.str_of("tag")),
            "{t:?}"
        );
        counts.insert(t.str_of("tag"), count as u64);
    }
    Ok(counts)
}

/// A real PNG: the image of the first listed meme.
fn some_png(host: &Host) -> Result<Vec<u8>> {
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
fn upload(host: &Host, png: &[u8], title: &str, tags: &str) -> Result<()> {
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

fn today_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 -> (year, month, day), proleptic Gregorian (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
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

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

// ---- A small JSON reader (the tests have no JSON crate) -------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum Json {
    Null,
    Bool(bool),
    Num(f64),
    Str(String),
    Arr(Vec<Json>),
    Obj(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
    fn arr(&self) -> Option<&Vec<Json>> {
        match self {
            Json::Arr(items) => Some(items),
            _ => None,
        }
    }
    fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }
    fn num(&self) -> Option<f64> {
        match self {
            Json::Num(n) => Some(*n),
            _ => None,
        }
    }
    /// The string field `key`, "" when absent.
    fn str_of(&self, key: &str) -> String {
        self.get(key)
            .and_then(Json::str)
            .unwrap_or_default()
            .to_owned()
    }
}

fn json(text: &str) -> Result<Json> {
    let mut reader = JsonReader {
        chars: text.chars().collect(),
        at: 0,
    };
    let value = reader
        .value()
        .with_context(|| format!("bad JSON: {text}"))?;
    reader.space();
    ensure!(
        reader.at == reader.chars.len(),
        "trailing text after JSON: {text}"
    );
    Ok(value)
}

struct JsonReader {
    chars: Vec<char>,
    at: usize,
}

impl JsonReader {
    fn space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn next(&mut self) -> Result<char> {
        let c = *self.chars.get(self.at).context("unexpected end")?;
        self.at += 1;
        Ok(c)
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json> {
        for expected in word.chars() {
            ensure!(self.next()? == expected, "expected `{word}`");
        }
        Ok(value)
    }

    fn value(&mut self) -> Result<Json> {
        self.space();
        match self.chars.get(self.at).copied().context("unexpected end")? {
            'n' => self.literal("null", Json::Null),
            't' => self.literal("true", Json::Bool(true)),
            'f' => self.literal("false", Json::Bool(false)),
            '"' => self.string().map(Json::Str),
            '[' => {
                self.at += 1;
                let mut items = Vec::new();
                self.space();
                if self.chars.get(self.at) == Some(&']') {
                    self.at += 1;
                    return Ok(Json::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    self.space();
                    match self.next()? {
                        ',' => {}
                        ']' => return Ok(Json::Arr(items)),
                        c => bail!("expected `,` or `]`, found `{c}`"),
                    }
                }
            }
            '{' => {
                self.at += 1;
                let mut fields = Vec::new();
                self.space();
                if self.chars.get(self.at) == Some(&'}') {
                    self.at += 1;
                    return Ok(Json::Obj(fields));
                }
                loop {
                    self.space();
                    let key = self.string()?;
                    self.space();
                    ensure!(self.next()? == ':', "expected `:`");
                    fields.push((key, self.value()?));
                    self.space();
                    match self.next()? {
                        ',' => {}
                        '}' => return Ok(Json::Obj(fields)),
                        c => bail!("expected `,` or `}}`, found `{c}`"),
                    }
                }
            }
            _ => {
                let start = self.at;
                while self
                    .chars
                    .get(self.at)
                    .is_some_and(|c| c.is_ascii_digit() || "+-.eE".contains(*c))
                {
                    self.at += 1;
                }
                let number: String = self.chars[start..self.at].iter().collect();
                Ok(Json::Num(
                    number
                        .parse()
                        .with_context(|| format!("bad number `{number}`"))?,
                ))
            }
        }
    }

    fn hex4(&mut self) -> Result<u32> {
        let hex: String = (0..4).map(|_| self.next()).collect::<Result<_>>()?;
        Ok(u32::from_str_radix(&hex, 16)?)
    }

    fn string(&mut self) -> Result<String> {
        ensure!(self.next()? == '"', "expected a string");
        let mut out = String::new();
        loop {
            match self.next()? {
                '"' => return Ok(out),
                '\\' => match self.next()? {
                    'n' => out.push('\n'),
                    't' => out.push('\t'),
                    'r' => out.push('\r'),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'u' => {
                        let first = self.hex4()?;
                        let code = if (0xD800..0xDC00).contains(&first) {
                            ensure!(
                                self.next()? == '\\' && self.next()? == 'u',
                                "lone surrogate"
                            );
                            let second = self.hex4()?;
                            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                        } else {
                            first
                        };
                        out.push(char::from_u32(code).context("bad \\u escape")?);
                    }
                    c => out.push(c),
                },
                c => out.push(c),
            }
        }
    }
}
