//! `manifests/academemes.toml`, the showcase site: seeded on first start, its JSON API, its
//! pages, uploads and their refusals (which must store nothing), votes, the generate pipeline
//! and the assets.
//!
//! Every test starts its own host on a fresh store (so counts are its own), once per store
//! ([`per_store!`]: `academemes::on_redb::…`, `academemes::on_etcd::…`); the compile cache is
//! shared through `target/`, so only the first host compiles the components.

use crate::harness::{Host, TestStore, guests, per_store, repo_root, run_cli};
use anyhow::{Context, Result, bail, ensure};
use std::path::PathBuf;
use std::time::{Duration, Instant};

per_store!(
    seeds_a_dozen_memes_with_the_api_shape_on_first_start,
    lists_newest_and_top_in_order_across_cursor_pages,
    gets_one_meme_and_answers_unknown_ids_with_404_in_json_and_html,
    publishes_an_uploaded_png_first_and_serves_its_bytes_back,
    counts_votes_from_the_api_and_from_the_plain_form,
    refuses_bad_uploads_and_stores_nothing,
    escapes_a_script_title_in_html_and_json,
    lists_a_tagged_upload_on_its_tag_page,
    uploads_and_generates_from_the_html_forms_with_a_redirect,
    serves_assets_immutable_with_strong_etags_and_304,
    uploads_a_five_mib_image_and_serves_it_back_whole,
);

/// The manifest, after building the guests it points at.
fn manifest() -> PathBuf {
    guests();
    repo_root().join("manifests/academemes.toml")
}

/// A host serving the site on `store`, freshly seeded.
fn site(store: &TestStore) -> Result<Host> {
    let host = store.host(&manifest(), &[])?;
    // The host seeds before or just after it starts serving; wait (bounded) for the memes.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listing = get(&host, "/api/memes?limit=100")?;
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

/// A response as received (the harness's own type is not exported).
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// `GET path`.
fn get(host: &Host, path: &str) -> Result<Reply> {
    let r = host.get(path)?;
    Ok(Reply {
        status: r.status,
        headers: r.headers,
        body: r.body,
    })
}

/// Any request.
fn send(
    host: &Host,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Reply> {
    let r = host.request(method, path, headers, body)?;
    Ok(Reply {
        status: r.status,
        headers: r.headers,
        body: r.body,
    })
}

/// The string values of every `"name":"…"` member, in order (JSON escapes `"` inside strings,
/// so the first unescaped quote ends the value).
fn strings(json: &str, name: &str) -> Vec<String> {
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
fn numbers(json: &str, name: &str) -> Vec<i64> {
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

fn ids(json: &str) -> Vec<String> {
    strings(json, "id")
}

/// `next_cursor`: `None` for `null`.
fn next_cursor(json: &str) -> Option<String> {
    strings(json, "next_cursor").pop()
}

/// How many memes the site lists.
fn meme_count(host: &Host) -> Result<usize> {
    let mut count = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/memes?limit=100&cursor={c}"),
            None => "/api/memes?limit=100".to_owned(),
        };
        let page = ok_json(get(host, &path)?, &path)?;
        count += ids(&page).len();
        cursor = next_cursor(&page);
        if cursor.is_none() {
            return Ok(count);
        }
    }
}

/// The body of a 200 JSON response, or an error that shows what came instead.
fn ok_json(response: Reply, what: &str) -> Result<String> {
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

/// One form field: name, filename (for files) and content.
type Part<'a> = (&'a str, Option<&'a str>, &'a [u8]);

/// A `multipart/form-data` body.
fn multipart(parts: &[Part<'_>]) -> (String, Vec<u8>) {
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

fn post_form(host: &Host, path: &str, parts: &[Part<'_>]) -> Result<Reply> {
    let (content_type, body) = multipart(parts);
    send(
        host,
        "POST",
        path,
        &[("content-type", &content_type)],
        &body,
    )
}

/// A real PNG: the image of the first seeded meme.
fn some_png(host: &Host) -> Result<Vec<u8>> {
    let listing = ok_json(get(host, "/api/memes?limit=1")?, "first meme")?;
    let id = ids(&listing).into_iter().next().context("no meme listed")?;
    let image = get(host, &format!("/memes/{id}/image"))?;
    ensure!(
        image.status == 200 && image.body.starts_with(b"\x89PNG"),
        "seed image of {id}: {}",
        image.status
    );
    Ok(image.body)
}

/// Uploads through the API; returns the new meme's id.
fn upload(host: &Host, png: &[u8], title: &str, tags: &str) -> Result<String> {
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

#[test]
fn academemes_manifest_passes_check() -> Result<()> {
    let output = run_cli(&[&"check", &manifest()])?;
    ensure!(output.code == Some(0), "{output}");
    Ok(())
}

fn seeds_a_dozen_memes_with_the_api_shape_on_first_start(store: &TestStore) -> Result<()> {
    let host = site(store)?;
    let body = ok_json(get(&host, "/api/memes?limit=100")?, "list")?;
    let ids = ids(&body);
    ensure!(ids.len() >= 12, "only {} memes seeded: {body}", ids.len());
    ensure!(
        body.ends_with(r#""next_cursor":null}"#),
        "one page holds every seed: {body}"
    );
    for field in [
        "\"title\":",
        "\"caption\":",
        "\"tags\":[",
        "\"votes\":",
        "\"created\":\"",
        "\"image_url\":\"/memes/",
    ] {
        ensure!(
            body.matches(field).count() == ids.len(),
            "{field} not on every meme: {body}"
        );
    }
    for created in strings(&body, "created") {
        let b = created.as_bytes();
        let shape = b.len() == 20 && b[4] == b'-' && b[10] == b'T' && b[19] == b'Z';
        ensure!(
            shape,
            "created {created:?} is not RFC 3339 UTC like 2026-11-26T01:48:31Z"
        );
    }
    let first = &ids[0];
    ensure!(
        body.contains(&format!("\"image_url\":\"/memes/{first}/image\"")),
        "{body}"
    );
    Ok(())
}

fn lists_newest_and_top_in_order_across_cursor_pages(store: &TestStore) -> Result<()> {
    let host = site(store)?;
    let total = ids(&ok_json(get(&host, "/api/memes?limit=100")?, "all")?).len();
    for sort in ["new", "top"] {
        let mut seen = Vec::new();
        let mut votes = Vec::new();
        let mut created = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/memes?sort={sort}&limit=5&cursor={c}"),
                None => format!("/api/memes?sort={sort}&limit=5"),
            };
            let page = ok_json(get(&host, &path)?, &path)?;
            let page_ids = ids(&page);
            ensure!(page_ids.len() <= 5, "{path}: {} memes", page_ids.len());
            seen.extend(page_ids);
            votes.extend(numbers(&page, "votes"));
            created.extend(strings(&page, "created"));
            pages += 1;
            cursor = next_cursor(&page);
            if cursor.is_none() {
                break;
            }
            ensure!(pages < 100, "{sort}: the cursors never end");
        }
        ensure!(
            seen.len() == total,
            "{sort}: {} memes over pages, {total} in one page",
            seen.len()
        );
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        ensure!(
            unique.len() == seen.len(),
            "{sort}: a meme appears on two pages: {seen:?}"
        );
        if sort == "top" {
            ensure!(
                votes.windows(2).all(|w| w[0] >= w[1]),
                "top is not by votes: {votes:?}"
            );
        } else {
            // RFC 3339 in UTC with a fixed width sorts like time.
            ensure!(
                created.windows(2).all(|w| w[0] >= w[1]),
                "new is not newest first: {created:?}"
            );
        }
    }
    let bad = get(&host, "/api/memes?sort=sideways")?;
    ensure!(bad.status == 400, "unknown sort: status {}", bad.status);
    let bad = get(&host, "/api/memes?cursor=not-a-cursor")?;
    ensure!(
        bad.status == 400,
        "foreign cursor: status {} ({})",
        bad.status,
        bad.text()
    );
    Ok(())
}

fn gets_one_meme_and_answers_unknown_ids_with_404_in_json_and_html(
    store: &TestStore,
) -> Result<()> {
    let host = site(store)?;
    let id = ids(&ok_json(get(&host, "/api/memes?limit=1")?, "list")?).remove(0);
    let one = ok_json(get(&host, &format!("/api/memes/{id}"))?, "one")?;
    ensure!(
        one.starts_with(&format!("{{\"id\":\"{id}\",\"title\":")),
        "{one}"
    );

    let missing = get(&host, "/api/memes/aaaaaaaaaaaa")?;
    ensure!(missing.status == 404, "API: status {}", missing.status);
    ensure!(
        missing.header("content-type") == Some("application/json"),
        "API 404 is JSON"
    );
    ensure!(missing.text().contains("\"error\""), "{}", missing.text());

    for path in ["/memes/aaaaaaaaaaaa", "/no/such/page"] {
        let page = get(&host, path)?;
        ensure!(page.status == 404, "{path}: status {}", page.status);
        ensure!(
            page.header("content-type")
                .is_some_and(|t| t.starts_with("text/html")),
            "{path}: not HTML"
        );
        ensure!(
            page.text().contains("still under review"),
            "{path}: not the friendly page"
        );
    }
    let meme_page = get(&host, &format!("/memes/{id}"))?;
    ensure!(meme_page.status == 200, "meme page: {}", meme_page.status);
    ensure!(
        meme_page
            .text()
            .contains(&format!("action=\"/memes/{id}/vote\"")),
        "no vote form"
    );
    Ok(())
}

fn publishes_an_uploaded_png_first_and_serves_its_bytes_back(store: &TestStore) -> Result<()> {
    let host = site(store)?;
    let png = some_png(&host)?;
    let id = upload(&host, &png, "Fresh upload", "uploads")?;

    let newest = ok_json(get(&host, "/api/memes?sort=new&limit=1")?, "newest")?;
    ensure!(
        ids(&newest) == [id.clone()],
        "the upload is not first: {newest}"
    );
    ensure!(numbers(&newest, "votes") == [0], "{newest}");

    let image = get(&host, &format!("/memes/{id}/image"))?;
    ensure!(image.status == 200, "image: {}", image.status);
    ensure!(
        image.body == png,
        "the image came back changed ({} vs {} bytes)",
        image.body.len(),
        png.len()
    );
    ensure!(
        image.header("content-type") == Some("image/png"),
        "{:?}",
        image.header("content-type")
    );
    ensure!(
        image.header("cache-control") == Some("public, max-age=31536000, immutable"),
        "{:?}",
        image.header("cache-control")
    );
    let etag = image
        .header("etag")
        .context("no ETag on the image")?
        .to_owned();
    ensure!(
        etag.starts_with('"') && etag.ends_with('"'),
        "ETag {etag} is not a strong tag"
    );

    let again = send(
        &host,
        "GET",
        &format!("/memes/{id}/image"),
        &[("if-none-match", &etag)],
        b"",
    )?;
    ensure!(
        again.status == 304,
        "If-None-Match: status {}",
        again.status
    );
    ensure!(again.body.is_empty(), "a 304 has no body");
    Ok(())
}

fn counts_votes_from_the_api_and_from_the_plain_form(store: &TestStore) -> Result<()> {
    let host = site(store)?;
    let id = ids(&ok_json(get(&host, "/api/memes?limit=1")?, "list")?).remove(0);
    let before = numbers(
        &ok_json(get(&host, &format!("/api/memes/{id}"))?, "before")?,
        "votes",
    )[0];

    let vote = ok_json(
        send(&host, "POST", &format!("/api/memes/{id}/vote"), &[], b"")?,
        "vote",
    )?;
    ensure!(
        vote == format!("{{\"id\":\"{id}\",\"votes\":{}}}", before + 1),
        "{vote}"
    );

    let form = send(
        &host,
        "POST",
        &format!("/memes/{id}/vote"),
        &[("content-type", "application/x-www-form-urlencoded")],
        b"",
    )?;
    ensure!(form.status == 303, "form vote: status {}", form.status);
    ensure!(
        form.header("location")
            .is_some_and(|l| l.starts_with(&format!("/memes/{id}"))),
        "{:?}",
        form.header("location")
    );

    let after = numbers(
        &ok_json(get(&host, &format!("/api/memes/{id}"))?, "after")?,
        "votes",
    )[0];
    ensure!(after == before + 2, "votes went from {before} to {after}");

    let unknown = send(&host, "POST", "/api/memes/aaaaaaaaaaaa/vote", &[], b"")?;
    ensure!(unknown.status == 404, "vote on unknown: {}", unknown.status);
    Ok(())
}

fn refuses_bad_uploads_and_stores_nothing(store: &TestStore) -> Result<()> {
    let host = site(store)?;
    let png = some_png(&host)?;
    let count = meme_count(&host)?;
    let mut big = png.clone();
    big.resize(5 * 1024 * 1024 + 1, 0);

    let cases: Vec<(&str, u16, Vec<Part<'_>>)> = vec![
        (
            "a text file",
            415,
            vec![
                ("image", Some("notes.txt"), b"just some text"),
                ("title", None, b"Text"),
            ],
        ),
        (
            "an image over 5 MiB",
            413,
            vec![("image", Some("big.png"), &big), ("title", None, b"Big")],
        ),
        ("no title", 400, vec![("image", Some("m.png"), &png)]),
        (
            "a blank title",
            400,
            vec![("image", Some("m.png"), &png), ("title", None, b"   ")],
        ),
        (
            "a title over 120 characters",
            400,
            vec![
                ("image", Some("m.png"), &png),
                ("title", None, &[b'x'; 121]),
            ],
        ),
        (
            "a tag with a slash",
            400,
            vec![
                ("image", Some("m.png"), &png),
                ("title", None, b"t"),
                ("tags", None, b"a/b"),
            ],
        ),
    ];
    for (what, status, parts) in cases {
        let response = post_form(&host, "/api/memes", &parts)?;
        ensure!(
            response.status == status,
            "{what}: status {} ({})",
            response.status,
            response.text()
        );
        ensure!(
            response.text().contains("\"error\""),
            "{what}: {}",
            response.text()
        );
        ensure!(meme_count(&host)? == count, "{what}: a meme was stored");
    }
    // Past the route's `max_body` (6 MiB) the host refuses before the handler runs.
    let mut huge = png.clone();
    huge.resize(7 * 1024 * 1024, 0);
    let response = post_form(
        &host,
        "/api/memes",
        &[("image", Some("huge.png"), &huge), ("title", None, b"Huge")],
    )?;
    ensure!(
        response.status == 413,
        "a 7 MiB body: status {}",
        response.status
    );
    ensure!(
        meme_count(&host)? == count,
        "a 7 MiB body: a meme was stored"
    );

    let title_error = post_form(&host, "/api/memes", &[("image", Some("m.png"), &png)])?.text();
    ensure!(
        title_error.contains("title is required"),
        "the message should say the title is missing: {title_error}"
    );

    let malformed = send(
        &host,
        "POST",
        "/api/memes",
        &[("content-type", "multipart/form-data; boundary=xyz")],
        b"--xyz\r\nno headers and no end",
    )?;
    ensure!(
        malformed.status == 400,
        "malformed multipart: status {}",
        malformed.status
    );
    ensure!(
        meme_count(&host)? == count,
        "malformed multipart: a meme was stored"
    );

    let html = post_form(
        &host,
        "/upload",
        &[
            ("image", Some("notes.txt"), b"text"),
            ("title", None, b"Kept <title>"),
        ],
    )?;
    ensure!(
        html.status == 415,
        "HTML upload of text: status {}",
        html.status
    );
    ensure!(
        html.header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "not an HTML page"
    );
    ensure!(
        html.text().contains("role=\"alert\""),
        "the form does not announce the error"
    );
    ensure!(
        html.text().contains("value=\"Kept &lt;title&gt;\""),
        "the form lost the title"
    );
    ensure!(
        meme_count(&host)? == count,
        "HTML upload: a meme was stored"
    );
    Ok(())
}

fn escapes_a_script_title_in_html_and_json(store: &TestStore) -> Result<()> {
    let host = site(store)?;
    let png = some_png(&host)?;
    let title = "<script>alert('reviewer 2')</script>";
    let id = upload(&host, &png, title, "xss")?;

    let json = ok_json(get(&host, &format!("/api/memes/{id}"))?, "one")?;
    ensure!(!json.contains("<script>"), "raw markup in JSON: {json}");
    ensure!(
        json.contains(r"\u003cscript\u003ealert('reviewer 2')\u003c/script\u003e"),
        "{json}"
    );

    for path in [
        format!("/memes/{id}"),
        "/".to_owned(),
        "/tags/xss".to_owned(),
    ] {
        let page = get(&host, &path)?;
        ensure!(page.status == 200, "{path}: status {}", page.status);
        let text = page.text();
        ensure!(
            !text.contains("<script>alert"),
            "{path}: the title runs as a script"
        );
        ensure!(
            text.contains("&lt;script&gt;alert(&#39;reviewer 2&#39;)&lt;/script&gt;"),
            "{path}: title not shown as text"
        );
    }
    Ok(())
}

fn lists_a_tagged_upload_on_its_tag_page(store: &TestStore) -> Result<()> {
    let host = site(store)?;
    let png = some_png(&host)?;
    let id = upload(&host, &png, "Tagged", "Peer Review, fresh-tag")?;

    let tag_page = get(&host, "/tags/fresh-tag")?;
    ensure!(tag_page.status == 200, "tag page: {}", tag_page.status);
    let text = tag_page.text();
    ensure!(
        text.contains(&format!("href=\"/memes/{id}\"")),
        "the upload is not on its tag page"
    );
    ensure!(
        text.matches("class=\"card meme-card\"").count() == 1,
        "other memes on a new tag's page"
    );

    let meme_page = get(&host, &format!("/memes/{id}"))?.text();
    ensure!(
        meme_page.contains("href=\"/tags/peer-review\""),
        "tags are not links to tag pages"
    );
    let shared = get(&host, "/tags/peer-review")?.text();
    ensure!(
        shared.contains(&format!("href=\"/memes/{id}\"")),
        "normalised tag page lacks the upload"
    );
    Ok(())
}

fn uploads_and_generates_from_the_html_forms_with_a_redirect(store: &TestStore) -> Result<()> {
    let host = site(store)?;
    let png = some_png(&host)?;
    let count = meme_count(&host)?;

    let uploaded = post_form(
        &host,
        "/upload",
        &[
            ("image", Some("m.png"), &png),
            ("title", None, b"From the form"),
        ],
    )?;
    ensure!(
        uploaded.status == 303,
        "HTML upload: status {} ({})",
        uploaded.status,
        uploaded.text()
    );
    let location = uploaded
        .header("location")
        .context("no Location")?
        .to_owned();
    ensure!(
        get(&host, &location)?.text().contains("From the form"),
        "{location} does not show the meme"
    );

    let form =
        "template=p-value&top=p+%3D+0.049&bottom=Publish+it&title=Just+made+it&tags=statistics";
    let generated = send(
        &host,
        "POST",
        "/generate",
        &[("content-type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    )?;
    ensure!(
        generated.status == 303,
        "generate: status {} ({})",
        generated.status,
        generated.text()
    );
    let location = generated
        .header("location")
        .context("no Location")?
        .to_owned();
    let id = location.trim_start_matches("/memes/").to_owned();
    let image = get(&host, &format!("/memes/{id}/image"))?;
    ensure!(
        image.body.starts_with(b"\x89PNG"),
        "the generated meme's image is not a PNG"
    );
    ensure!(
        meme_count(&host)? == count + 2,
        "two memes should have been added"
    );

    let untitled = send(
        &host,
        "POST",
        "/generate",
        &[("content-type", "application/x-www-form-urlencoded")],
        b"template=latex&top=a",
    )?;
    ensure!(
        untitled.status == 400,
        "generate without a title: status {}",
        untitled.status
    );
    ensure!(
        meme_count(&host)? == count + 2,
        "a meme without a title was stored"
    );
    Ok(())
}

fn serves_assets_immutable_with_strong_etags_and_304(store: &TestStore) -> Result<()> {
    let host = site(store)?;
    let home = get(&host, "/")?.text();
    for (name, content_type) in [("app.css", "text/css"), ("app.js", "text/javascript")] {
        let start = home
            .find(&format!("/assets/{name}?v="))
            .with_context(|| format!("home does not link {name}"))?;
        let link = &home[start..];
        let link = &link[..link.find('"').unwrap_or(link.len())];
        let asset = get(&host, link)?;
        ensure!(asset.status == 200, "{link}: {}", asset.status);
        ensure!(
            asset
                .header("content-type")
                .is_some_and(|t| t.starts_with(content_type)),
            "{link}: type"
        );
        ensure!(
            asset.header("cache-control") == Some("public, max-age=31536000, immutable"),
            "{link}: cache"
        );
        let etag = asset.header("etag").context("no ETag")?.to_owned();
        ensure!(etag.starts_with('"'), "{link}: weak or bare ETag {etag}");
        let again = send(&host, "GET", link, &[("if-none-match", &etag)], b"")?;
        ensure!(
            again.status == 304,
            "{link}: If-None-Match gave {}",
            again.status
        );
    }
    ensure!(
        get(&host, "/assets/nope.css")?.status == 404,
        "unknown asset"
    );
    Ok(())
}

/// `png` grown to `size` bytes by a private ancillary chunk (`npAd`, which decoders skip) before
/// its `IEND`: still a valid PNG.
fn padded_png(png: &[u8], size: usize) -> Result<Vec<u8>> {
    ensure!(png.ends_with(b"IEND\xaeB`\x82"), "not a PNG ending in IEND");
    let (body, iend) = png.split_at(png.len() - 12);
    let pad = size
        .checked_sub(png.len() + 12)
        .context("the PNG is already larger")?;
    let mut chunk = b"npAd".to_vec();
    chunk.resize(4 + pad, 0x5a);
    let mut out = body.to_vec();
    out.extend_from_slice(&u32::try_from(pad)?.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    out.extend_from_slice(iend);
    Ok(out)
}

/// CRC-32 (ISO 3309, as PNG chunks use), bit by bit: test data only.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The site's largest image, 5 MiB: on etcd it is more than one request may carry (1.5 MiB),
/// so it is stored in chunks (docs/stores.md).
fn uploads_a_five_mib_image_and_serves_it_back_whole(store: &TestStore) -> Result<()> {
    let host = site(store)?;
    let png = padded_png(&some_png(&host)?, 5 * 1024 * 1024)?;
    let id = upload(&host, &png, "Five mebibytes of peer review", "big")?;
    let image = get(&host, &format!("/memes/{id}/image"))?;
    ensure!(image.status == 200, "image: {}", image.status);
    ensure!(
        image.body == png,
        "the image came back changed ({} vs {} bytes)",
        image.body.len(),
        png.len()
    );
    let listing = ok_json(get(&host, "/api/memes?sort=new&limit=1")?, "newest")?;
    ensure!(ids(&listing) == [id], "{listing}");
    Ok(())
}
