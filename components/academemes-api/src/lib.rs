//! Academemes' JSON API, votes, reports, images and moderation (routes in
//! manifests/academemes.toml):
//!
//! * `GET /api/memes?sort=new|top&limit=N&cursor=C`: a page of memes (two rounds of reads);
//! * `GET /api/memes/{id}`: one meme (declared reads `meme`, `votes`);
//! * `GET /api/search?q=Q&page=N`: ranked search results ([`academemes_core::search`]);
//! * votes and reports ([`visitor`]): `POST`/`DELETE /api/memes/{id}/vote`, the plain form's
//!   `POST /memes/{id}/vote`, `POST /api/memes/{id}/report` and the form's
//!   `POST /memes/{id}/report`;
//! * `GET /memes/{id}/image` and `/thumb`: the stored bytes, immutable, with an ETag;
//! * [`admin`]: `GET /api/admin/reports`, `POST /api/admin/memes/{id}/hide|unhide`,
//!   `DELETE /api/admin/memes/{id}` (the host checks the moderator's token first).
#![no_std]

extern crate alloc;

mod admin;
mod visitor;

use academemes_core::hash::{hash, hex};
use academemes_core::http::{Reply, json, json_error, not_modified, number, param, query, value};
use academemes_core::json::{array, number as json_number, object, optional_string};
use academemes_core::listing::{self, Source, Step, Window};
use academemes_core::meme::Meme;
use academemes_core::search::{self, Query};
use nebula_guest::{Guest, Input, Outcome, export_handler, format};

struct Api;

impl Guest for Api {
    fn handle(input: Input) -> Outcome {
        let route = input.request.route.as_str();
        match (input.request.method.as_str(), route) {
            ("GET" | "HEAD", "/api/memes") => list(&input),
            ("GET" | "HEAD", "/api/memes/{id}") => one(&input),
            ("GET" | "HEAD", "/api/search") => search(&input),
            ("POST" | "DELETE", "/api/memes/{id}/vote" | "/memes/{id}/vote") => {
                visitor::vote(&input)
            }
            ("POST", "/api/memes/{id}/report" | "/memes/{id}/report") => visitor::report(&input),
            ("GET" | "HEAD", "/memes/{id}/image") => image(&input, "image"),
            ("GET" | "HEAD", "/memes/{id}/thumb") => image(&input, "thumb"),
            (_, r) if r.starts_with("/api/admin/") => admin::handle(&input),
            _ => json_error(404, "no such API route"),
        }
    }
}

/// The meme of the declared read `meme`, unless it is absent or hidden.
pub(crate) fn visible_meme(input: &Input) -> Option<Meme> {
    value(&input.reads, "meme")
        .and_then(Meme::from_stored)
        .filter(|m| !m.hidden)
}

fn list(input: &Input) -> Outcome {
    let request = &input.request;
    let sort = query(request, "sort");
    let Some(source) = Source::from_sort(sort.as_deref()) else {
        return json_error(400, "sort must be \"new\" or \"top\"");
    };
    let limit = match listing::limit(query(request, "limit").as_deref(), 20, 100) {
        Ok(limit) => limit,
        Err(message) => return json_error(400, &message),
    };
    let window = Window {
        cursor: query(request, "cursor"),
        limit,
    };
    match listing::step(&input.reads, &source, &window, None) {
        Step::Need(reads) => Outcome::Need(reads),
        Step::BadCursor => json_error(400, "cursor is not one this API gave out"),
        Step::Done(page) => {
            let memes = page.memes.iter().map(|(meme, votes)| meme.to_api(*votes));
            let body = object([
                ("memes", array(memes)),
                ("next_cursor", optional_string(page.next_cursor.as_deref())),
            ]);
            json(200, body).done()
        }
    }
}

fn one(input: &Input) -> Outcome {
    match visible_meme(input) {
        Some(meme) => json(200, meme.to_api(number(&input.reads, "votes").unwrap_or(0))).done(),
        None => json_error(404, "no meme with this id"),
    }
}

/// Results per page of the search API.
const SEARCH_PAGE: usize = 20;

fn search(input: &Input) -> Outcome {
    let q = query(&input.request, "q").unwrap_or_default();
    let page = match query(&input.request, "page").map(|p| p.parse::<usize>()) {
        None => 1,
        Some(Ok(n)) if n >= 1 => n,
        Some(_) => return json_error(400, "page must be a whole number from 1"),
    };
    let query = Query::new(&q, page, SEARCH_PAGE);
    if query.terms.is_empty() {
        return json_error(
            400,
            "q needs a word of at least two letters or digits, e.g. ?q=reviewer",
        );
    }
    match search::step(&input.reads, &query) {
        search::Step::Need(reads) => Outcome::Need(reads),
        search::Step::Done(results) => {
            let memes = results.memes.iter().map(|(m, votes)| m.to_api(*votes));
            let body = object([
                ("query", academemes_core::json::string(&q)),
                ("total", json_number(results.total as i64)),
                ("page", json_number(page as i64)),
                ("pages", json_number(results.pages as i64)),
                ("memes", array(memes)),
            ]);
            json(200, body).done()
        }
    }
}

/// The stored bytes (the image or its thumbnail), typed by their signature. An id's image
/// never changes, so it may be cached for a year; the ETag (a hash of the bytes) lets a client
/// that kept it revalidate. A hidden meme's image is not served.
fn image(input: &Input, read: &str) -> Outcome {
    let bytes = value(&input.reads, read).filter(|_| visible_meme(input).is_some());
    let Some(bytes) = bytes else {
        return Reply::new(404)
            .body("text/plain; charset=utf-8", "no image with this id\n")
            .done();
    };
    let etag = format!("\"{}\"", hex(hash(bytes)));
    let cache = "public, max-age=31536000, immutable";
    if not_modified(&input.request, &etag) {
        return Reply::new(304)
            .header("etag", etag)
            .header("cache-control", cache)
            .done();
    }
    let content_type = academemes_image_type(bytes);
    let id = param(&input.request, "id").unwrap_or("meme");
    Reply::new(200)
        .body(content_type, bytes.to_vec())
        .header("etag", etag)
        .header("cache-control", cache)
        .header("x-content-type-options", "nosniff")
        .header("content-disposition", format!("inline; filename=\"{id}\""))
        .done()
}

/// The media type of bytes the site stored (it writes only PNG and JPEG; older uploads were
/// stored as sent, in one of the four accepted formats).
fn academemes_image_type(bytes: &[u8]) -> &'static str {
    if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        "image/jpeg"
    } else if bytes.starts_with(b"GIF8") {
        "image/gif"
    } else if bytes.len() >= 12 && &bytes[8..12] == b"WEBP" {
        "image/webp"
    } else {
        "application/octet-stream"
    }
}

export_handler!(Api);
