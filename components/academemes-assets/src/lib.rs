//! `GET /assets/{*file}`: Academemes' CSS, JS and icon (`academemes_core::assets`).
//!
//! Pages link to `/assets/NAME?v=HASH`, so the content of a URL never changes: it is served
//! `immutable` for a year, with a strong ETag (the content hash) for clients that revalidate
//! anyway. A stale `?v=` still gets the current file rather than a 404, so a page cached during
//! a deploy is styled.
#![no_std]

extern crate alloc;

use academemes_core::assets;
use academemes_core::http::{Reply, not_modified, param};
use nebula_guest::{Guest, Input, Outcome, export_handler};

struct Assets;

impl Guest for Assets {
    fn handle(input: Input) -> Outcome {
        let Some(asset) = param(&input.request, "file").and_then(assets::find) else {
            return Reply::new(404)
                .body("text/plain; charset=utf-8", "no such asset\n")
                .done();
        };
        let etag = assets::etag(asset);
        let cache = "public, max-age=31536000, immutable";
        if not_modified(&input.request, &etag) {
            return Reply::new(304)
                .header("etag", etag)
                .header("cache-control", cache)
                .done();
        }
        Reply::new(200)
            .body(asset.content_type, asset.body)
            .header("etag", etag)
            .header("cache-control", cache)
            .header("x-content-type-options", "nosniff")
            .done()
    }
}

export_handler!(Assets);
