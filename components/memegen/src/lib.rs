//! Academemes' meme generator: academic meme templates drawn entirely by code (or a picture of
//! one's own), captioned in the classic style (white text in DejaVu Sans Bold, black outline,
//! top and bottom, any Latin, Greek or Cyrillic text as typed), encoded as PNG.
//!
//! `no_std` + `alloc`, deterministic (same input, same bytes, on every platform: the
//! rasteriser uses only IEEE basic arithmetic), and free of I/O, so it runs inside a pure
//! Nebula handler as well as in native tests.
//!
//! ```
//! let png = memegen::render("p-value", "p = 0.051", "rounds to significant").unwrap();
//! assert!(png.starts_with(b"\x89PNG"));
//! ```
#![no_std]

extern crate alloc;

mod canvas;
mod caption;
mod font;
mod math;
pub mod png;
mod templates;
mod text;
pub mod web;

pub use caption::TextSize;

use alloc::vec::Vec;
use core::fmt;

/// Width of every rendered meme, in pixels.
pub const WIDTH: u32 = 600;
/// Height of every rendered meme, in pixels.
pub const HEIGHT: u32 = 450;
/// The most characters (Unicode scalar values) accepted for the top or bottom text.
pub const MAX_TEXT_CHARS: usize = 120;

/// A template the generator can draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TemplateInfo {
    /// Stable, URL-safe identifier (lower case, digits, hyphens).
    pub id: &'static str,
    /// Human-readable name.
    pub name: &'static str,
    /// What the picture shows, usable as alt text.
    pub description: &'static str,
}

/// Every template, in display order.
pub fn templates() -> &'static [TemplateInfo] {
    &templates::INFO
}

/// The template with this id.
pub fn template(id: &str) -> Option<&'static TemplateInfo> {
    templates::INFO.iter().find(|t| t.id == id)
}

/// Why a meme could not be rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenderError {
    /// No template has this id.
    UnknownTemplate,
    /// The top or bottom text has more than [`MAX_TEXT_CHARS`] characters.
    TextTooLong {
        /// "top" or "bottom".
        field: &'static str,
    },
}

impl fmt::Display for RenderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RenderError::UnknownTemplate => f.write_str("unknown template"),
            RenderError::TextTooLong { field } => {
                write!(f, "{field} text is longer than {MAX_TEXT_CHARS} characters")
            }
        }
    }
}

impl core::error::Error for RenderError {}

/// What a meme is drawn on.
#[derive(Clone, Copy, Debug)]
pub enum Base<'a> {
    /// One of [`templates`], by id.
    Template(&'a str),
    /// A picture of its own: 8-bit RGB pixels, row-major, `width` × `height`.
    Picture {
        width: u32,
        height: u32,
        rgb: &'a [u8],
    },
}

/// Renders a meme as 8-bit RGB pixels, row-major, [`WIDTH`] x [`HEIGHT`].
pub fn render_rgb(template_id: &str, top: &str, bottom: &str) -> Result<Vec<u8>, RenderError> {
    render_on(Base::Template(template_id), top, bottom, TextSize::Medium).map(|(_, _, rgb)| rgb)
}

/// Renders a meme on `base` with captions at `size`: width, height and 8-bit RGB pixels.
pub fn render_on(
    base: Base<'_>,
    top: &str,
    bottom: &str,
    size: TextSize,
) -> Result<(u32, u32, Vec<u8>), RenderError> {
    Renderer::new().render_on(base, top, bottom, size)
}

/// Renders several memes with one parsed font: parsing it is most of a caption's memory and
/// time, and a guest's allocator may never give memory back within a request.
pub struct Renderer {
    /// Parsed on the first caption: template galleries render without any.
    face: core::cell::OnceCell<caption::Face>,
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer::new()
    }
}

impl Renderer {
    pub fn new() -> Renderer {
        Renderer {
            face: core::cell::OnceCell::new(),
        }
    }

    /// [`render_on`] with this renderer's font.
    pub fn render_on(
        &self,
        base: Base<'_>,
        top: &str,
        bottom: &str,
        size: TextSize,
    ) -> Result<(u32, u32, Vec<u8>), RenderError> {
        for (field, s) in [("top", top), ("bottom", bottom)] {
            if s.chars().count() > MAX_TEXT_CHARS {
                return Err(RenderError::TextTooLong { field });
            }
        }
        let mut canvas = match base {
            Base::Template(id) => {
                let font = font::Font::new();
                let mut canvas =
                    canvas::Canvas::new(WIDTH as usize, HEIGHT as usize, canvas::hex(0xffffff));
                if !templates::draw(id, &mut canvas, &font) {
                    return Err(RenderError::UnknownTemplate);
                }
                canvas
            }
            Base::Picture { width, height, rgb } => {
                canvas::Canvas::from_rgb8(width as usize, height as usize, rgb)
            }
        };
        for (text, band) in [(top, caption::Band::Top), (bottom, caption::Band::Bottom)] {
            if !caption::clean(text).is_empty() {
                let face = self.face.get_or_init(caption::Face::load);
                caption::caption(&mut canvas, face, text, band, size);
            }
        }
        Ok((canvas.w as u32, canvas.h as u32, canvas.to_rgb8()))
    }
}

/// Renders a meme: the template with `top` and `bottom` captions, as a PNG file
/// ([`WIDTH`] x [`HEIGHT`], 8-bit RGB). Text is drawn as typed in DejaVu Sans Bold; characters
/// the font lacks are drawn as its missing-glyph box; empty text draws nothing.
pub fn render(template_id: &str, top: &str, bottom: &str) -> Result<Vec<u8>, RenderError> {
    render_png(Base::Template(template_id), top, bottom, TextSize::Medium)
}

/// [`render_on`], encoded as PNG.
pub fn render_png(
    base: Base<'_>,
    top: &str,
    bottom: &str,
    size: TextSize,
) -> Result<Vec<u8>, RenderError> {
    let (w, h, rgb) = render_on(base, top, bottom, size)?;
    Ok(png::encode_rgb(w, h, &rgb))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::png::tests::decode;
    use alloc::string::String;

    #[test]
    fn every_template_renders_a_valid_png() {
        assert!(templates().len() >= 8);
        for t in templates() {
            let png = render(t.id, "top text", "bottom text").unwrap();
            let (w, h, px) = decode(&png);
            assert_eq!((w, h), (WIDTH, HEIGHT), "{}", t.id);
            // Not a blank image: plenty of distinct colours.
            let mut seen = alloc::collections::BTreeSet::new();
            for p in px.chunks(3).step_by(97) {
                seen.insert((p[0], p[1], p[2]));
            }
            assert!(
                seen.len() > 50,
                "{} looks flat ({} colours)",
                t.id,
                seen.len()
            );
        }
    }

    #[test]
    fn template_metadata_is_sane() {
        let mut ids = alloc::vec::Vec::new();
        for t in templates() {
            assert!(
                t.id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            );
            assert!(!t.name.is_empty() && t.description.len() > 30, "{}", t.id);
            assert!(!ids.contains(&t.id), "duplicate {}", t.id);
            ids.push(t.id);
            assert_eq!(template(t.id), Some(t));
        }
    }

    #[test]
    fn deterministic_bytes() {
        let a = render("reviewer-2", "Minor revisions", "Rewrite the whole paper").unwrap();
        let b = render("reviewer-2", "Minor revisions", "Rewrite the whole paper").unwrap();
        assert_eq!(a, b);
        let c = render("reviewer-2", "Minor revisions", "Rewrite the paper").unwrap();
        assert_ne!(a, c);
    }

    #[test]
    fn unknown_template_errors() {
        assert_eq!(render("nope", "", ""), Err(RenderError::UnknownTemplate));
        assert_eq!(render("", "a", "b"), Err(RenderError::UnknownTemplate));
    }

    #[test]
    fn text_length_is_capped() {
        let ok: String = core::iter::repeat_n('é', MAX_TEXT_CHARS).collect();
        assert!(render("latex", &ok, &ok).is_ok());
        let long: String = core::iter::repeat_n('x', MAX_TEXT_CHARS + 1).collect();
        assert_eq!(
            render("latex", &long, ""),
            Err(RenderError::TextTooLong { field: "top" })
        );
        assert_eq!(
            render("latex", "", &long),
            Err(RenderError::TextTooLong { field: "bottom" })
        );
    }

    #[test]
    fn captions_change_only_their_band() {
        let plain = render_rgb("graph", "", "").unwrap();
        let top = render_rgb("graph", "HELLO", "").unwrap();
        let bottom = render_rgb("graph", "", "HELLO").unwrap();
        let row = (WIDTH * 3) as usize;
        let differs = |a: &[u8], b: &[u8], rows: core::ops::Range<usize>| {
            rows.into_iter()
                .any(|y| a[y * row..(y + 1) * row] != b[y * row..(y + 1) * row])
        };
        let h = HEIGHT as usize;
        assert!(differs(&plain, &top, 0..h / 4));
        assert!(!differs(&plain, &top, h / 2..h));
        assert!(differs(&plain, &bottom, 3 * h / 4..h));
        assert!(!differs(&plain, &bottom, 0..h / 2));
    }

    #[test]
    fn caption_pixels_are_white_and_black() {
        // A big "I" centred at the top: white in the middle, black outline beside it.
        let px = render_rgb("chalkboard", "I", "").unwrap();
        let at = |x: usize, y: usize| {
            let i = (y * WIDTH as usize + x) * 3;
            (px[i], px[i + 1], px[i + 2])
        };
        let cx = WIDTH as usize / 2;
        let white_row = (20..80).find(|&y| at(cx, y) == (255, 255, 255));
        let y = white_row.expect("caption stroke is white");
        assert!(
            (cx..cx + 30).any(|x| at(x, y) == (0, 0, 0)),
            "outline is black"
        );
    }
}
