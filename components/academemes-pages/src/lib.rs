//! Academemes' HTML pages. Reads only, never writes (the manifest grants it no `may_write`).
//!
//! * `GET /?sort=new|top&cursor=C`, `GET /tags/{tag}?cursor=C`: grids of memes ([`views`]);
//! * `GET /memes/{id}`: one meme with its vote form (declared reads `meme`, `votes`);
//! * `GET /upload`, `GET /generate`: the forms;
//! * `GET /{*path}`: the friendly 404 for everything else.
#![no_std]

extern crate alloc;

mod generate;
mod views;

use academemes_core::html::{UploadForm, error_page, not_found_page, upload_page};
use academemes_core::http::{html, number, param, query, value};
use academemes_core::listing::{self, Source, Step, Window};
use academemes_core::meme::{Meme, normalise_tag};
use nebula_guest::{Guest, Input, Outcome, export_handler};

/// Memes per page of a grid: divisible by 2, 3 and 4 columns.
const PAGE_SIZE: u32 = 24;

struct Pages;

impl Guest for Pages {
    fn handle(input: Input) -> Outcome {
        match input.request.route.as_str() {
            "/" => grid(&input, None),
            "/tags/{tag}" => match param(&input.request, "tag").and_then(normalise_tag) {
                Some(tag) => grid(&input, Some(tag)),
                None => html(404, not_found_page()).done(),
            },
            "/memes/{id}" => match value(&input.reads, "meme").and_then(Meme::from_stored) {
                Some(meme) => html(
                    200,
                    views::meme_page(&meme, number(&input.reads, "votes").unwrap_or(0)),
                )
                .done(),
                None => html(404, not_found_page()).done(),
            },
            "/upload" => html(200, upload_page(&UploadForm::default())).done(),
            "/generate" => html(200, generate::page()).done(),
            _ => html(404, not_found_page()).done(),
        }
    }
}

/// The home grid (newest or top) or a tag's grid.
fn grid(input: &Input, tag: Option<alloc::string::String>) -> Outcome {
    let source = match tag {
        Some(tag) => Source::Tag(tag),
        None => Source::from_sort(query(&input.request, "sort").as_deref()).unwrap_or(Source::New),
    };
    let window = Window {
        cursor: query(&input.request, "cursor"),
        limit: PAGE_SIZE,
    };
    match listing::step(&input.reads, &source, &window) {
        Step::Need(reads) => Outcome::Need(reads),
        Step::BadCursor => html(
            400,
            error_page(400, "That page link is broken", "The link to this page of memes is not one we made. Start again from the first page."),
        )
        .done(),
        Step::Done(page) => html(200, views::grid_page(&source, &page, window.cursor.is_some())).done(),
    }
}

export_handler!(Pages);
