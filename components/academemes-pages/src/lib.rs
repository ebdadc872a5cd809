//! Academemes' HTML pages and documents. Reads only, never writes (the manifest grants it no
//! `may_write`).
//!
//! * `GET /?sort=new|top&cursor=C&page=N`, `GET /tags/{tag}?cursor=C&page=N`: grids of memes,
//!   with the visitor's votes ([`views`]);
//! * `GET /search?q=Q&page=N`: ranked results of the search index;
//! * `GET /memes/{id}`: one meme with its vote, share and report forms;
//! * `GET /upload`, `GET /generate`, `GET /admin`: the forms (moderation loads its data
//!   through the guarded API);
//! * `GET /feed.xml`, `GET /sitemap.xml`, `GET /robots.txt`: for feed readers and crawlers;
//! * `GET /{*path}`: the friendly 404 for everything else.
#![no_std]

extern crate alloc;

mod views;

use alloc::collections::BTreeSet;
use alloc::string::String;
use alloc::vec::Vec;

use academemes_core::generate::{GenerateForm, page as generate_page};
use academemes_core::html::{UploadForm, error_page, not_found_page, upload_page};
use academemes_core::http::{Reply, html, number, page, param, query, value};
use academemes_core::listing::{self, Source, Step, Window};
use academemes_core::meme::{Meme, normalise_tag};
use academemes_core::search::{self, Query};
use academemes_core::share;
use academemes_core::visitor::Visitor;
use academemes_core::votes::{get_record, has_record};
use nebula_guest::{Guest, Input, Outcome, Read, export_handler, format};

use views::{Context, Grid};

/// Memes per page of a grid: divisible by 2, 3 and 4 columns.
const PAGE_SIZE: u32 = 24;

struct Pages;

impl Guest for Pages {
    fn handle(input: Input) -> Outcome {
        let base = share::base_url(&input.request);
        let path = match input.request.query.as_str() {
            "" => input.request.path.clone(),
            q => format!("{}?{q}", input.request.path),
        };
        let cx = Context {
            base: &base,
            path: &path,
        };
        match input.request.route.as_str() {
            "/" => grid(&input, cx, None),
            "/tags/{tag}" => match param(&input.request, "tag").and_then(normalise_tag) {
                Some(tag) => grid(&input, cx, Some(tag)),
                None => html(404, not_found_page()).done(),
            },
            "/search" => search_results(&input, cx),
            "/memes/{id}" => meme(&input, cx),
            "/upload" => html(200, upload_page(&UploadForm::default())).done(),
            "/generate" => html(200, generate_page(&GenerateForm::start())).done(),
            "/admin" => html(200, views::admin_page())
                .header("x-robots-tag", "noindex")
                .done(),
            "/feed.xml" => document(
                "application/atom+xml; charset=utf-8",
                share::atom(&base, &listed(&input)),
            ),
            "/sitemap.xml" => document(
                "application/xml; charset=utf-8",
                share::sitemap(&base, &listed(&input)),
            ),
            "/robots.txt" => document("text/plain; charset=utf-8", share::robots(&base)),
            _ => html(404, not_found_page()).done(),
        }
    }
}

/// The memes of the declared `list` read, newest first (hidden memes are not in the index).
fn listed(input: &Input) -> Vec<Meme> {
    match page(&input.reads, "list") {
        Some(Ok(p)) => p
            .entries
            .iter()
            .filter_map(|e| Meme::from_stored(&e.value))
            .filter(|m| !m.hidden)
            .collect(),
        _ => Vec::new(),
    }
}

fn document(content_type: &str, body: String) -> Outcome {
    Reply::new(200)
        .body(content_type, body)
        .header("cache-control", "public, max-age=300")
        .done()
}

/// `page=N` of a query: the page number to show (pages after the first are numbered).
fn page_number(input: &Input) -> u32 {
    query(&input.request, "page")
        .and_then(|p| p.parse::<u32>().ok())
        .filter(|&p| p >= 1)
        .unwrap_or(1)
}

/// The home grid (newest or top) or a tag's grid.
fn grid(input: &Input, cx: Context<'_>, tag: Option<String>) -> Outcome {
    let source = match tag {
        Some(tag) => Source::Tag(tag),
        None => Source::from_sort(query(&input.request, "sort").as_deref()).unwrap_or(Source::New),
    };
    let cursor = query(&input.request, "cursor");
    let window = Window {
        cursor: cursor.clone(),
        limit: PAGE_SIZE,
    };
    let visitor = Visitor::known(&input.request);
    let visitor = visitor.as_ref().map(|v| v.id.as_str());
    match listing::step(&input.reads, &source, &window, visitor) {
        Step::Need(reads) => Outcome::Need(reads),
        Step::BadCursor => html(
            400,
            error_page(400, "That page link is broken", "The link to this page of memes is not one we made. Start again from the first page."),
        )
        .done(),
        Step::Done(listing) => {
            // Without a cursor this is the first page, whatever the link says.
            let number = if cursor.is_some() { page_number(input).max(2) } else { 1 };
            let grid = Grid {
                memes: &listing.memes,
                voted: &listing.voted,
                next_cursor: listing.next_cursor.as_deref(),
                number,
            };
            html(200, views::grid_page(cx, &source, &grid)).done()
        }
    }
}

/// Results per page of the search page: as many as a grid page.
const SEARCH_PAGE: usize = PAGE_SIZE as usize;

fn search_results(input: &Input, cx: Context<'_>) -> Outcome {
    let q = query(&input.request, "q").unwrap_or_default();
    let number = page_number(input) as usize;
    let search = Query::new(&q, number, SEARCH_PAGE);
    match search::step(&input.reads, &search) {
        search::Step::Need(reads) => Outcome::Need(reads),
        search::Step::Done(results) => {
            let page = views::search_page(cx, &q, &results, number, &BTreeSet::new());
            html(200, page).header("x-robots-tag", "noindex").done()
        }
    }
}

/// The meme page, with the visitor's vote looked up when they have a cookie.
fn meme(input: &Input, cx: Context<'_>) -> Outcome {
    let Some(meme) = value(&input.reads, "meme")
        .and_then(Meme::from_stored)
        .filter(|m| !m.hidden)
    else {
        return html(404, not_found_page()).done();
    };
    let voted = match Visitor::known(&input.request) {
        None => false,
        Some(visitor) => match has_record(&input.reads, "voted") {
            Some(voted) => voted,
            None => {
                let read: Read = get_record("voted".into(), &meme.id, &visitor.id);
                return Outcome::Need([read].into());
            }
        },
    };
    let notice = if query(&input.request, "reported").is_some() {
        Some("reported")
    } else if query(&input.request, "report").is_some() {
        Some("invalid")
    } else {
        None
    };
    let votes = number(&input.reads, "votes").unwrap_or(0);
    html(200, views::meme_page(cx, &meme, votes, voted, notice)).done()
}

export_handler!(Pages);
