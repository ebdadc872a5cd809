//! Academemes' JSON API, votes and images (routes in manifests/academemes.toml):
//!
//! * `GET /api/memes?sort=new|top&limit=N&cursor=C`: a page of memes (two rounds of reads);
//! * `GET /api/memes/{id}`: one meme (declared reads `meme`, `votes`);
//! * `POST /api/memes/{id}/vote`: +1, answers the new count; `POST /memes/{id}/vote` does the
//!   same for the HTML form and answers 303 back to the meme page;
//! * `GET /memes/{id}/image`: the image bytes (declared read `image`), immutable, with an ETag.
#![no_std]

extern crate alloc;

use academemes_core::hash::{hash, hex};
use academemes_core::html::not_found_page;
use academemes_core::http::{
    Reply, html, json, json_error, not_modified, number, param, query, see_other, value,
};
use academemes_core::json::{array, object, optional_string};
use academemes_core::listing::{self, Source, Step, Window};
use academemes_core::meme::Meme;
use academemes_core::sniff;
use nebula_guest::{Add, Guest, Input, Outcome, Write, export_handler, format};

struct Api;

impl Guest for Api {
    fn handle(input: Input) -> Outcome {
        let route = input.request.route.as_str();
        match (input.request.method.as_str(), route) {
            ("GET" | "HEAD", "/api/memes") => list(&input),
            ("GET" | "HEAD", "/api/memes/{id}") => one(&input),
            ("POST", "/api/memes/{id}/vote") => vote(&input, false),
            ("POST", "/memes/{id}/vote") => vote(&input, true),
            ("GET" | "HEAD", "/memes/{id}/image") => image(&input),
            _ => json_error(404, "no such API route"),
        }
    }
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
    match listing::step(&input.reads, &source, &window) {
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
    match value(&input.reads, "meme").and_then(Meme::from_stored) {
        Some(meme) => json(200, meme.to_api(number(&input.reads, "votes").unwrap_or(0))).done(),
        None => json_error(404, "no meme with this id"),
    }
}

/// Adds one vote. The count answered is the one read before plus one: exact unless someone
/// else voted in between, and the stored counter never loses a vote (the host applies `add`
/// inside its write transaction).
fn vote(input: &Input, from_form: bool) -> Outcome {
    let Some(meme) = value(&input.reads, "meme").and_then(Meme::from_stored) else {
        return if from_form {
            html(404, not_found_page()).done()
        } else {
            json_error(404, "no meme with this id")
        };
    };
    let votes = number(&input.reads, "votes").unwrap_or(0) + 1;
    let writes = [Write::Add(Add {
        collection: "votes".into(),
        key: meme.id.clone(),
        delta: 1,
    })]
    .into();
    let reply = if from_form {
        see_other(&format!("/memes/{}#votes", meme.id))
    } else {
        json(
            200,
            object([
                ("id", academemes_core::json::string(&meme.id)),
                ("votes", academemes_core::json::number(votes)),
            ]),
        )
    };
    reply.writes(writes).done()
}

/// The stored bytes, typed by their magic bytes. An id's image never changes, so it may be
/// cached for a year; the ETag (a hash of the bytes) lets a client that kept it revalidate.
fn image(input: &Input) -> Outcome {
    let Some(bytes) = value(&input.reads, "image") else {
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
    let content_type = sniff::image_type(bytes).unwrap_or("application/octet-stream");
    let id = param(&input.request, "id").unwrap_or("meme");
    Reply::new(200)
        .body(content_type, bytes.to_vec())
        .header("etag", etag)
        .header("cache-control", cache)
        .header("x-content-type-options", "nosniff")
        .header("content-disposition", format!("inline; filename=\"{id}\""))
        .done()
}

export_handler!(Api);
