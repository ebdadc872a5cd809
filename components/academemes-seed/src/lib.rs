//! `POST /_internal/seed`: the memes a new Academemes starts with. The host runs this internal
//! route once at start when `memes` is empty (`[startup]` in manifests/academemes.toml); it
//! renders every meme of [`SEEDS`] with `memegen`, spaced back in time from the `now` read,
//! and answers with all their writes (memes, images, thumbnails, starting votes, tags, search
//! entries) in one batch.
#![no_std]

extern crate alloc;

mod seeds;

use academemes_core::http::{Reply, number};
use academemes_core::meme::{Draft, THUMB_HEIGHT, THUMB_WIDTH};
use academemes_image::{Image, encode_jpeg, resize};
use nebula_guest::{Guest, Input, Outcome, Vec, export_handler, format};

use seeds::SEEDS;

/// An hour, in milliseconds.
const HOUR: i64 = 3_600_000;

struct Seed;

impl Guest for Seed {
    fn handle(input: Input) -> Outcome {
        let text = |status, body: &str| {
            Reply::new(status)
                .body("text/plain; charset=utf-8", format!("{body}\n"))
                .done()
        };
        let Some(now) = number(&input.reads, "now") else {
            return text(500, "the seed route must declare the read `now`");
        };
        // Defensive: the host runs the seed only on an empty `memes`, but a second run must
        // never duplicate the front page.
        if number(&input.reads, "memes").is_some_and(|n| n > 0) {
            return text(200, "already seeded");
        }
        let mut writes = Vec::new();
        let renderer = memegen::Renderer::new();
        for (i, seed) in SEEDS.iter().enumerate() {
            let base = memegen::Base::Template(seed.template);
            let medium = memegen::TextSize::Medium;
            let rgb = match renderer.render_on(base, seed.top, seed.bottom, medium) {
                Ok((_, _, rgb)) => rgb,
                Err(e) => return text(500, &format!("seed {i} ({}): {e}", seed.template)),
            };
            let (w, h) = (memegen::WIDTH, memegen::HEIGHT);
            let png = memegen::png::encode_rgb(w, h, &rgb);
            // Sized once: a `collect` would double its way up, and every outgrown block stays
            // behind as a hole in the guest's heap.
            let mut rgba = Vec::with_capacity(rgb.len() / 3 * 4);
            for p in rgb.chunks_exact(3) {
                rgba.extend_from_slice(&[p[0], p[1], p[2], 255]);
            }
            drop(rgb);
            let image = Image {
                width: w,
                height: h,
                rgba,
            };
            let thumb = encode_jpeg(&resize(&image, THUMB_WIDTH, THUMB_HEIGHT), 80);
            let draft = match Draft::new(seed.title, seed.caption, seed.tags) {
                Ok(draft) => draft,
                Err(e) => return text(500, &format!("seed {i}: {e}")),
            };
            // The first seed is the newest; the others go back about 19 hours each, so the
            // front page looks like a site with a past.
            let created = now - HOUR - (i as i64) * 19 * HOUR - (i as i64 % 3) * 17 * 60_000;
            let meme = draft.into_meme(created, &png, "image/png", (w, h));
            writes.extend(meme.publish(png, thumb, seed.votes));
        }
        Reply::new(201)
            .body(
                "text/plain; charset=utf-8",
                format!("seeded {} memes\n", SEEDS.len()),
            )
            .writes(writes)
            .done()
    }
}

export_handler!(Seed);
