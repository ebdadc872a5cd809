//! The meme the generator rendered. Its payload (generator/src/lib.rs, "Carried payload") is
//! one JSON header line with `template`, `title`, `top` and `bottom`, then the PNG; the caption
//! and tags come from the form that both steps see (multipart or urlencoded).

use alloc::vec::Vec;

use academemes_core::http::header;
use academemes_core::json::{self, Value};
use academemes_core::meme::Meme;
use academemes_core::upload::{Form, Prepared, Rejection, accept};
use memegen::web::split_carried;
use nebula_guest::Input;

/// The meme to publish with its prepared image, or why not (with the form's fields, so the
/// form can be shown again).
pub fn meme(input: &Input, now: i64) -> Result<(Meme, Prepared), Rejection> {
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
    let form = Form::parse(header(&input.request, "content-type"), &input.request.body)?;
    // Without a caption of its own, the meme's words are its caption: they become the image's
    // alt text, so a screen reader gets the joke too.
    let mut caption = form.text("caption");
    if caption.trim().is_empty() {
        caption = [text("top").trim(), text("bottom").trim()]
            .into_iter()
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" / ");
    }
    accept(
        now,
        png,
        text("title"),
        &caption,
        &form.text("tags"),
        &crate::prepare::generated,
    )
}
