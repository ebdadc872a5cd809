//! Uploads and the generator: what is published, what is refused (storing nothing), what
//! comes back (decoded, re-encoded, without metadata, with a thumbnail), escaping and tags.

use crate::harness::site::{
    Part, first_id, ids, meme_count, numbers, ok_json, post_form, site, site_on, site_with,
    some_png, upload,
};
use crate::harness::{TestStore, per_store};
use anyhow::{Context, Result, ensure};

per_store!(
    publishes_an_uploaded_png_first_and_serves_its_bytes_back,
    escapes_a_script_title_in_html_and_json,
    lists_a_tagged_upload_on_its_tag_page,
    uploads_and_generates_from_the_html_forms_with_a_redirect,
    stores_a_5_mib_upload_and_serves_its_bytes_back_unchanged,
);

fn publishes_an_uploaded_png_first_and_serves_its_bytes_back(store: &TestStore) -> Result<()> {
    let host = site_on(store)?;
    let png = some_png(&host)?;
    let id = upload(&host, &png, "Fresh upload", "uploads")?;

    let newest = ok_json(host.get("/api/memes?sort=new&limit=1")?, "newest")?;
    ensure!(
        ids(&newest) == [id.clone()],
        "the upload is not first: {newest}"
    );
    ensure!(numbers(&newest, "votes") == [0], "{newest}");

    let image = host.get(&format!("/memes/{id}/image"))?;
    ensure!(image.status == 200, "image: {}", image.status);
    // Re-encoded from its pixels: a PNG of the same size (IHDR's width and height).
    ensure!(
        image.body.starts_with(b"\x89PNG") && image.body[16..24] == png[16..24],
        "the image came back as something else ({} bytes)",
        image.body.len()
    );
    let thumb = host.get(&format!("/memes/{id}/thumb"))?;
    ensure!(
        thumb.status == 200 && thumb.header("content-type") == Some("image/jpeg"),
        "thumbnail: {} {:?}",
        thumb.status,
        thumb.header("content-type")
    );
    ensure!(
        thumb.body.len() < image.body.len(),
        "the thumbnail ({} bytes) is not smaller than the image ({} bytes)",
        thumb.body.len(),
        image.body.len()
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

    let again = host.request(
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

#[test]
fn refuses_bad_uploads_and_stores_nothing() -> Result<()> {
    // More refusals than the upload rate limit allows in a minute: lifted for this test.
    let host = site_with(&["--rate-limits", "off"])?;
    let png = some_png(&host)?;
    let count = meme_count(&host)?;
    let mut big = png.clone();
    big.resize(5 * 1024 * 1024 + 1, 0);

    // PNG magic bytes, then junk: sniffing would take it, decoding does not.
    let junk_png = [&png[..8], &[0x42; 300][..]].concat();
    let cases: Vec<(&str, u16, Vec<Part<'_>>)> = vec![
        (
            "a PNG signature followed by junk",
            415,
            vec![
                ("image", Some("broken.png"), &junk_png),
                ("title", None, b"Junk"),
            ],
        ),
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

    let junk = post_form(
        &host,
        "/api/memes",
        &[
            ("image", Some("broken.png"), &junk_png),
            ("title", None, b"Junk"),
        ],
    )?
    .text();
    ensure!(
        junk.contains("starts like a PNG image but does not decode"),
        "the 415 should say why: {junk}"
    );

    let title_error = post_form(&host, "/api/memes", &[("image", Some("m.png"), &png)])?.text();
    ensure!(
        title_error.contains("title is required"),
        "the message should say the title is missing: {title_error}"
    );

    let malformed = host.request(
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
    let host = site_on(store)?;
    let png = some_png(&host)?;
    let title = "<script>alert('reviewer 2')</script>";
    let id = upload(&host, &png, title, "xss")?;

    let json = ok_json(host.get(&format!("/api/memes/{id}"))?, "one")?;
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
        let page = host.get(&path)?;
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
    let host = site_on(store)?;
    let png = some_png(&host)?;
    let id = upload(&host, &png, "Tagged", "Peer Review, fresh-tag")?;

    let tag_page = host.get("/tags/fresh-tag")?;
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

    let meme_page = host.get(&format!("/memes/{id}"))?.text();
    ensure!(
        meme_page.contains("href=\"/tags/peer-review\""),
        "tags are not links to tag pages"
    );
    let shared = host.get("/tags/peer-review")?.text();
    ensure!(
        shared.contains(&format!("href=\"/memes/{id}\"")),
        "normalised tag page lacks the upload"
    );
    Ok(())
}

fn uploads_and_generates_from_the_html_forms_with_a_redirect(store: &TestStore) -> Result<()> {
    let host = site_on(store)?;
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
        host.get(&location)?.text().contains("From the form"),
        "{location} does not show the meme"
    );

    let form =
        "template=p-value&top=p+%3D+0.049&bottom=Publish+it&title=Just+made+it&tags=statistics";
    let generated = host.request(
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
    let image = host.get(&format!("/memes/{id}/image"))?;
    ensure!(
        image.body.starts_with(b"\x89PNG"),
        "the generated meme's image is not a PNG"
    );
    ensure!(
        meme_count(&host)? == count + 2,
        "two memes should have been added"
    );

    let untitled = host.request(
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

#[test]
fn stores_uploads_without_their_metadata_and_titles_without_bidi_controls() -> Result<()> {
    let host = site()?;
    // A real JPEG (a seeded meme's thumbnail) with an EXIF segment holding a position.
    let id = first_id(&host)?;
    let jpeg = host.get(&format!("/memes/{id}/thumb"))?.body;
    ensure!(
        jpeg.starts_with(&[0xff, 0xd8]),
        "the thumbnail is not a JPEG"
    );
    let exif = b"Exif\0\0GPSLatitude 59.9139 N GPSLongitude 10.7522 E";
    let mut tagged = jpeg[..2].to_vec();
    tagged.extend_from_slice(&[0xff, 0xe1, 0, (exif.len() + 2) as u8]);
    tagged.extend_from_slice(exif);
    tagged.extend_from_slice(&jpeg[2..]);
    let title = "\u{202e}LTR means right-to-left";
    let response = post_form(
        &host,
        "/api/memes",
        &[
            ("image", Some("holiday.jpg"), &tagged),
            ("title", None, title.as_bytes()),
            ("caption", None, "cap\u{2067}tion".as_bytes()),
        ],
    )?;
    ensure!(
        response.status == 201,
        "upload: {} {}",
        response.status,
        response.text()
    );
    let body = response.text();
    ensure!(
        body.contains("\"title\":\"LTR means right-to-left\"")
            && body.contains("\"caption\":\"caption\""),
        "bidi controls were kept: {body}"
    );
    let new = ids(&body).remove(0);
    let stored = host.get(&format!("/memes/{new}/image"))?;
    ensure!(
        stored.header("content-type") == Some("image/jpeg"),
        "{:?}",
        stored.header("content-type")
    );
    let has = |needle: &[u8]| stored.body.windows(needle.len()).any(|w| w == needle);
    ensure!(
        !has(b"Exif") && !has(b"GPS"),
        "the stored image kept the EXIF segment"
    );
    Ok(())
}

/// The largest image an upload may carry (`MAX_IMAGE` in academemes-core): etcd refuses a
/// request over 1.5 MiB by default, so on etcd this goes through the store's chunks.
const MAX_IMAGE: usize = 5 * 1024 * 1024;

fn stores_a_5_mib_upload_and_serves_its_bytes_back_unchanged(store: &TestStore) -> Result<()> {
    let host = site_on(store)?;
    // Random pixels do not compress, so the re-encoded image stays about as large as the
    // upload: 1320 × 1320 RGB is 4.98 MiB of pixels, and a comment chunk pads the file to
    // exactly the limit.
    let (width, height) = (1320, 1320);
    let upload_png = noise_png(width, height, MAX_IMAGE);
    ensure!(upload_png.len() == MAX_IMAGE, "{} bytes", upload_png.len());
    let first = upload(&host, &upload_png, "Five mebibytes of noise", "large")?;
    let stored = host.get(&format!("/memes/{first}/image"))?;
    ensure!(
        stored.status == 200 && stored.body.starts_with(b"\x89PNG"),
        "image: {} ({} bytes)",
        stored.status,
        stored.body.len()
    );
    ensure!(
        png_size(&stored.body) == (width, height),
        "stored as {:?}",
        png_size(&stored.body)
    );
    ensure!(
        stored.body.len() > 4 * 1024 * 1024 && stored.body.len() <= MAX_IMAGE,
        "the re-encoded image is {} bytes: too small to need chunks, or over the limit",
        stored.body.len()
    );

    // Academemes re-encodes every upload (dropping the comment), so the bytes to compare are
    // an image already in its encoding: uploading the stored image again must store it, and
    // serve it, byte for byte.
    let second = upload(&host, &stored.body, "The same noise again", "large")?;
    let page = host.get(&format!("/memes/{second}"))?;
    ensure!(page.status == 200, "meme page: {}", page.status);
    ensure!(
        page.text().contains(&format!(
            r#"<img src="/memes/{second}/image" width="{width}" height="{height}""#
        )) && page.text().contains("The same noise again"),
        "the meme page does not show the image at its size"
    );
    for attempt in ["served", "served again"] {
        let image = host.get(&format!("/memes/{second}/image"))?;
        ensure!(image.status == 200, "{attempt}: status {}", image.status);
        ensure!(
            image.body == stored.body,
            "{attempt}: {} bytes came back for the {} uploaded, first difference at byte {:?}",
            image.body.len(),
            stored.body.len(),
            image
                .body
                .iter()
                .zip(&stored.body)
                .position(|(a, b)| a != b)
        );
    }
    Ok(())
}

/// A PNG of `width` × `height` random RGB pixels (a fixed seed), stored uncompressed (deflate
/// blocks of type 0), padded with a `tEXt` comment to exactly `len` bytes.
fn noise_png(width: u32, height: u32, len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut raw = Vec::with_capacity((width as usize * 3 + 1) * height as usize);
    for _ in 0..height {
        raw.extend_from_slice(&[0]); // filter: none
        for _ in 0..width * 3 {
            // xorshift64: enough to defeat compression.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            raw.push((state >> 32) as u8);
        }
    }
    let mut zlib = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(0xffff).collect();
    for (i, block) in blocks.iter().enumerate() {
        zlib.push(u8::from(i + 1 == blocks.len()));
        let n = block.len() as u16;
        zlib.extend_from_slice(&n.to_le_bytes());
        zlib.extend_from_slice(&(!n).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit truecolour, deflate, no interlace
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(&mut png, b"IDAT", &zlib);
    // What is left after this chunk's 12 bytes of framing and IEND's 12.
    let pad = len.saturating_sub(png.len() + 24);
    let mut comment = b"Comment\0".to_vec();
    comment.resize(pad.max(comment.len()), b'.');
    png_chunk(&mut png, b"tEXt", &comment);
    png_chunk(&mut png, b"IEND", &[]);
    png
}

fn png_chunk(png: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    png.extend_from_slice(&(data.len() as u32).to_be_bytes());
    png.extend_from_slice(kind);
    png.extend_from_slice(data);
    png.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// The CRC-32 of the concatenated `parts` that PNG chunks end with (ISO 3309, reflected,
/// polynomial 0xEDB88320; PNG specification section 5.5).
fn crc32(parts: &[&[u8]]) -> u32 {
    let table: Vec<u32> = (0..256u32)
        .map(|n| {
            (0..8).fold(n, |c, _| {
                if c & 1 == 1 {
                    0xedb8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
        .collect();
    let mut crc = !0u32;
    for &byte in parts.iter().flat_map(|part| part.iter()) {
        crc = table[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// zlib's checksum of the uncompressed data (RFC 1950 section 8).
fn adler32(data: &[u8]) -> u32 {
    let (mut a, mut b) = (1u32, 0u32);
    for chunk in data.chunks(5552) {
        for &byte in chunk {
            a += u32::from(byte);
            b += a;
        }
        a %= 65521;
        b %= 65521;
    }
    (b << 16) | a
}

/// Width and height from a PNG's IHDR.
fn png_size(png: &[u8]) -> (u32, u32) {
    let field = |at: usize| {
        png.get(at..at + 4)
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    (field(16), field(20))
}
