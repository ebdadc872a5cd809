//! The meme the generator rendered. Its payload (generator/src/lib.rs, "Carried payload") is
//! one JSON header line with `template`, `title`, `top` and `bottom`, then the PNG; the caption
//! and tags come from the urlencoded form that both steps see.

use alloc::string::String;
use alloc::vec::Vec;

use academemes_core::json::{self, Value};
use academemes_core::meme::Meme;
use academemes_core::upload::{Rejection, accept};
use memegen::web::split_carried;
use nebula_guest::{Input, query_param};

/// The meme to publish, and its image.
pub fn meme(input: &Input, now: i64) -> Result<(Meme, Vec<u8>), Rejection> {
    let broken = || Rejection {
        status: 500,
        message: "The generator passed on something unexpected.".into(),
        ..Rejection::default()
    };
    let (head, png) = input
        .carried
        .as_deref()
        .and_then(split_carried)
        .ok_or_else(broken)?;
    let head = json::parse(head.as_bytes()).ok_or_else(broken)?;
    let text = |name| head.get(name).and_then(Value::as_str).unwrap_or_default();
    let form = String::from_utf8_lossy(&input.request.body);
    let field = |name| query_param(&form, name).unwrap_or_default();
    // Without a caption of its own, the meme's words are its caption: they become the image's
    // alt text, so a screen reader gets the joke too.
    let mut caption = field("caption");
    if caption.trim().is_empty() {
        caption = [text("top").trim(), text("bottom").trim()]
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" / ");
    }
    let meme = accept(now, png, text("title"), &caption, &field("tags"))?;
    Ok((meme, png.to_vec()))
}
