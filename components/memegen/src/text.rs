//! Template labels in the stroke font (slide titles, chart annotations). Captions are
//! `caption.rs`, in a real font.

use alloc::vec::Vec;

use crate::canvas::{Canvas, Grain, Paint, Path, Rgb};
use crate::font::{CAP, Font, Xf};

/// Horizontal anchor of a label.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Align {
    Left,
    Center,
    Right,
}

/// One stroked label glyph by glyph (each glyph is its own shape, so bounds stay tight).
pub struct Label {
    pub glyphs: Vec<crate::canvas::Strokes>,
}

/// Lays out `text` (drawn as given, lower case as capitals) with capitals `size` pixels high,
/// anchored at (x, y) = (left/centre/right, top of capitals), rotated by `angle` degrees about
/// the anchor; `weight` is the stroke width in font units (2 is bold).
#[allow(clippy::too_many_arguments)] // a drawing call: position, size, style, angle
pub fn label(
    font: &Font,
    text: &str,
    x: f32,
    y: f32,
    size: f32,
    align: Align,
    weight: f32,
    angle: f32,
) -> Label {
    let u = size / CAP;
    let tracking = 0.9;
    let w = font.measure(text, weight, tracking);
    let shift = match align {
        Align::Left => 0.0,
        Align::Center => -w * 0.5,
        Align::Right => -w,
    };
    let mut xf = Xf::new(x, y, u, angle).advance(shift);
    let mut glyphs = Vec::new();
    for c in text.chars() {
        if c != ' ' {
            let mut p = Path::new();
            font.emit(c, &xf, weight, &mut p);
            glyphs.push(p.stroke(weight * u));
        }
        xf = xf.advance(font.advance(c, weight, tracking));
    }
    Label { glyphs }
}

/// Width in pixels of a label as [`label`] lays it out.
pub fn label_width(font: &Font, text: &str, size: f32, weight: f32) -> f32 {
    font.measure(text, weight, 0.9) * size / CAP
}

impl Canvas {
    /// Draws a label in one colour.
    pub fn text(&mut self, l: &Label, c: Rgb) {
        for g in &l.glyphs {
            self.fill(g, c);
        }
    }

    /// Draws a label with a paint, opacity and optional grain (chalk, ink).
    pub fn text_with(&mut self, l: &Label, p: Paint, opacity: f32, grain: Option<Grain>) {
        for g in &l.glyphs {
            self.paint(g, &p, opacity, 1.0, grain);
        }
    }
}
