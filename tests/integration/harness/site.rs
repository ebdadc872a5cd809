//! Academemes (`manifests/academemes.toml`) for the tests: a host serving it on a fresh,
//! seeded database with a known moderator token, and the small things its tests share (JSON
//! fields, multipart forms, uploads, cookies).

use super::http::Response;
use super::{Host, repo_root};
use anyhow::{Context, Result, bail, ensure};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The moderators' token the test hosts start with (`ACADEMEMES_ADMIN_TOKEN`).
pub const ADMIN_TOKEN: &str = "test-moderator-token-0123456789abcdef";

/// The manifest, after building every component it points at (Rust, Python and JavaScript) and
/// compiling them into the shared compile cache (see `polyglot`).
pub fn manifest() -> PathBuf {
    super::polyglot::academemes().clone()
}

/// A host serving the site on a fresh, seeded database, started with `extra_args` (e.g.
/// `--rate-limits off`). It uses the compile cache `scripts/test.sh` warms with `nebula-host
/// check` (as the polyglot tests do), so that the Python and JavaScript components, which take
/// minutes to compile on a busy machine, are compiled once, not once per test run.
pub fn site_with(extra_args: &[&str]) -> Result<Host> {
    let host = Host::up_with_cache_and_env(
        &manifest(),
        extra_args,
        &repo_root().join("target/test-compile-cache"),
        &[("ACADEMEMES_ADMIN_TOKEN", ADMIN_TOKEN)],
    )?;
    // The host seeds before or just after it starts serving; wait (bounded) for the memes.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listing = host.get("/api/memes?limit=100")?;
        if listing.status == 200 && ids(&listing.text()).len() >= 12 {
            return Ok(host);
        }
        if Instant::now() >= deadline {
            bail!(
                "the site was not seeded with 12 memes within 60 s; last listing: {} {}\nhost log:\n{}",
                listing.status,
                listing.text(),
                host.log()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// [`site_with`] on `store`: its `--store` argument, nothing else.
pub fn site_on(store: &super::TestStore) -> Result<Host> {
    let args = store.args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    site_with(&args)
}

/// [`site_with`] the defaults.
pub fn site() -> Result<Host> {
    site_with(&[])
}

/// The string values of every `"name":"…"` member, in order (JSON escapes `"` inside strings,
/// so the first unescaped quote ends the value).
pub fn strings(json: &str, name: &str) -> Vec<String> {
    let key = format!("\"{name}\":\"");
    let mut out = Vec::new();
    let mut rest = json;
    while let Some(at) = rest.find(&key) {
        rest = &rest[at + key.len()..];
        let mut end = 0;
        let bytes = rest.as_bytes();
        while end < bytes.len() && !(bytes[end] == b'"' && (end == 0 || bytes[end - 1] != b'\\')) {
            end += 1;
        }
        out.push(rest[..end].to_owned());
        rest = &rest[end..];
    }
    out
}

/// The integer values of every `"name":N` member, in order.
pub fn numbers(json: &str, name: &str) -> Vec<i64> {
    let key = format!("\"{name}\":");
    json.match_indices(&key)
        .filter_map(|(at, _)| {
            let rest = &json[at + key.len()..];
            let end = rest
                .find(|c: char| c != '-' && !c.is_ascii_digit())
                .unwrap_or(rest.len());
            rest[..end].parse().ok()
        })
        .collect()
}

pub fn ids(json: &str) -> Vec<String> {
    strings(json, "id")
}

/// `next_cursor`: `None` for `null`.
pub fn next_cursor(json: &str) -> Option<String> {
    strings(json, "next_cursor").pop()
}

/// How many memes the site lists.
pub fn meme_count(host: &Host) -> Result<usize> {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/memes?limit=100&cursor={c}"),
            None => "/api/memes?limit=100".to_owned(),
        };
        let page = ok_json(host.get(&path)?, &path)?;
        count += ids(&page).len();
        cursor = next_cursor(&page);
        if cursor.is_none() {
            return Ok(count);
        }
    }
}

/// The body of a 200 JSON response, or an error that shows what came instead.
pub fn ok_json(response: Response, what: &str) -> Result<String> {
    ensure!(
        response.status == 200,
        "{what}: status {} ({})",
        response.status,
        response.text()
    );
    ensure!(
        response.header("content-type") == Some("application/json"),
        "{what}: content-type {:?}",
        response.header("content-type")
    );
    Ok(response.text())
}

/// The id of the newest meme.
pub fn first_id(host: &Host) -> Result<String> {
    ids(&ok_json(host.get("/api/memes?limit=1")?, "newest")?)
        .into_iter()
        .next()
        .context("no meme listed")
}

/// One form field: name, filename (for files) and content.
pub type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

/// A `multipart/form-data` body and its content type.
pub fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
    let boundary = "----academemes-test-boundary-7d3f";
    let mut body = Vec::new();
    for (name, filename, data) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        match filename {
            Some(file) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub fn post_form(host: &Host, path: &str, parts: &[Part<'_>]) -> Result<Response> {
    let (content_type, body) = multipart(parts);
    host.request("POST", path, &[("content-type", &content_type)], &body)
}

/// A real PNG: the image of the newest seeded meme.
pub fn some_png(host: &Host) -> Result<Vec<u8>> {
    let id = first_id(host)?;
    let image = host.get(&format!("/memes/{id}/image"))?;
    ensure!(
        image.status == 200 && image.body.starts_with(b"\x89PNG"),
        "seed image of {id}: {}",
        image.status
    );
    Ok(image.body)
}

/// Uploads through the API; returns the new meme's id.
pub fn upload(host: &Host, png: &[u8], title: &str, tags: &str) -> Result<String> {
    let response = post_form(
        host,
        "/api/memes",
        &[
            ("image", Some("meme.png"), png),
            ("title", None, title.as_bytes()),
            ("caption", None, b"a caption"),
            ("tags", None, tags.as_bytes()),
        ],
    )?;
    ensure!(
        response.status == 201,
        "upload: status {} ({})",
        response.status,
        response.text()
    );
    ids(&response.text())
        .into_iter()
        .next()
        .context("upload answered no id")
}

/// The `visitor=…` pair of a response's `Set-Cookie`, ready for a `Cookie` header.
pub fn visitor_cookie(response: &Response) -> Option<String> {
    let set = response.header("set-cookie")?;
    set.split(';')
        .next()
        .filter(|pair| pair.starts_with("visitor="))
        .map(str::to_owned)
}

/// `Authorization` with the moderators' token.
pub fn admin() -> (&'static str, String) {
    ("authorization", format!("Bearer {ADMIN_TOKEN}"))
}
