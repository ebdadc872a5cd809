//! Pure handlers in Python and JavaScript beside the Rust ones (issue #7), served in Academemes:
//! the quote of the day (`components/quote-py`, componentize-py) and the tag cloud
//! (`components/tagcloud-js`, ComponentizeJS). The builds, the checked manifest and the site
//! helpers are in [`crate::harness::polyglot`].
//!
//! `scripts/setup.sh` installs the toolchains (componentize-py from PyPI, ComponentizeJS from npm).

use crate::harness::json::{Json, json};
use crate::harness::polyglot::{
    academemes, build, civil_from_days, escape_html, get_ok, host_cli, percent_encode, polyglot,
    shared_cache, site, some_png, today_utc, upload, wait_for_tags,
};
use crate::harness::{Host, Manifest, guests, repo_root};
use anyhow::{Context, Result, bail, ensure};
use std::collections::BTreeMap;

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
        // (In the imports list only: the printed WIT world may say `stub-wasi: bool`.)
        let imports = out
            .split_once("imports:")
            .and_then(|(_, rest)| rest.split_once("exports:"))
            .map(|(imports, _)| imports)
            .unwrap_or_default();
        ensure!(!imports.contains("wasi:"), "a WASI import is left: {out}");
        ensure!(out.lines().any(|l| l.trim() == "handle"), "{out}");
        // componentize-py adds an `exports` interface (its pre-initialisation hook); the host
        // judges by `handle` and never calls it.
        if let Some(export) = extra_export {
            ensure!(out.lines().any(|l| l.trim() == export), "{out}");
        }
    }
    Ok(())
}

/// With an empty compile cache, the Python component (19 MB of wasm) is judged before the host
/// listens and compiled after it does; a request for it waits for that compile, and its
/// deadline (the default 5 s) starts only once the component is ready, so a slow compile on a
/// busy machine is not a 504.
#[test]
fn a_large_component_missing_from_the_cache_is_compiled_after_the_host_listens() -> Result<()> {
    let written = Manifest::new()
        .component_with_limits("quote", &polyglot().quote, r#"memory = "64 MiB""#)
        .route("GET /api/quote", "quote")
        .component("hello", &guests().hello)
        .route("GET /hello/{name}", "hello")
        .write_temp()?;
    let cache = tempfile::tempdir()?;
    let host = Host::up_with_cache(&written.path, &[], cache.path())?;
    let log = host.log();
    ensure!(
        log.contains(
            "component `quote`: a pure handler, not in the compile cache; compiled after the host starts listening"
        ),
        "{log}"
    );
    ensure!(
        log.contains("component `hello`: baseline code compiled in"),
        "a small component is compiled at start: {log}"
    );
    let hello = host.get("/hello/later")?;
    ensure!(hello.status == 200, "{} {}", hello.status, hello.text());
    let quote = host.get("/api/quote?date=2026-11-26")?;
    ensure!(
        quote.status == 200 && json(&quote.text())?.str_of("date") == "2026-11-26",
        "{} {}\n{}",
        quote.status,
        quote.text(),
        host.log()
    );
    host.wait_for_log_line(&["component `quote`: loaded after the host started listening"])?;
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
