//! Text: folding arbitrary input onto the font, word wrapping, template labels, and the
//! classic meme caption (white capitals, thick black outline, soft shadow).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::canvas::{Canvas, Grain, Paint, Path, Rgb, hex};
use crate::font::{CAP, Font, Xf};
use crate::math::{ceil, clamp01, floor, smoothstep, sqrt};

/// What an input character is drawn as: accents stripped (é → E), typographic punctuation
/// simplified, anything else the font lacks as '?'. Control characters vanish.
pub fn fold_char(c: char, out: &mut String) {
    let s: &str = match c {
        ' '..='~' => {
            out.push(c.to_ascii_uppercase());
            return;
        }
        'À'..='Å' | 'à'..='å' | 'Ā'..='ą' | 'ª' => "A",
        'Æ' | 'æ' => "AE",
        'Ç' | 'ç' | 'Ć'..='č' => "C",
        'Ð' | 'ð' | 'Ď'..='đ' => "D",
        'È'..='Ë' | 'è'..='ë' | 'Ē'..='ě' => "E",
        'Ĝ'..='ģ' => "G",
        'Ĥ'..='ħ' => "H",
        'Ì'..='Ï' | 'ì'..='ï' | 'Ĩ'..='ı' => "I",
        'Ĳ' | 'ĳ' => "IJ",
        'Ĵ' | 'ĵ' => "J",
        'Ķ' | 'ķ' => "K",
        'Ĺ'..='ł' => "L",
        'Ñ' | 'ñ' | 'Ń'..='ŋ' => "N",
        'Ò'..='Ö' | 'Ø' | 'ò'..='ö' | 'ø' | 'Ō'..='ő' | 'º' => "O",
        'Œ' | 'œ' => "OE",
        'Ŕ'..='ř' => "R",
        'ß' => "SS",
        'Ś'..='š' | 'Ș' | 'ș' => "S",
        'Ţ'..='ŧ' | 'Ț' | 'ț' => "T",
        'Þ' | 'þ' => "TH",
        'Ù'..='Ü' | 'ù'..='ü' | 'Ũ'..='ų' => "U",
        'Ŵ' | 'ŵ' => "W",
        'Ý' | 'ý' | 'ÿ' | 'Ŷ'..='Ÿ' => "Y",
        'Ź'..='ž' => "Z",
        '‘' | '’' | '‚' | '‛' | '′' | '´' => "'",
        '“' | '”' | '„' | '‟' | '″' | '«' | '»' => "\"",
        '‐'..='―' | '−' => "-",
        '…' => "...",
        '×' => "X",
        '÷' => "/",
        '¿' => "?",
        '¡' => "!",
        '·' | '•' => ".",
        '²' => "2",
        '³' => "3",
        '¹' => "1",
        '°' => "O",
        '€' => "EUR",
        '£' => "GBP",
        c if c.is_whitespace() => " ",
        c if c.is_control() => "",
        _ => "?",
    };
    out.push_str(s);
}

/// Folds the text onto the font, upper-cased, with runs of whitespace collapsed and trimmed.
pub fn normalize(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    for c in text.chars() {
        fold_char(c, &mut folded);
    }
    let mut out = String::with_capacity(folded.len());
    for word in folded.split_ascii_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// Greedy word wrap to `max` font units; words wider than a line are broken.
pub fn wrap(font: &Font, text: &str, max: f32, weight: f32, tracking: f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let space = font.advance(' ', weight, tracking);
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let ww = font.measure(word, weight, tracking);
        if !line.is_empty() && font.measure(&line, weight, tracking) + tracking + space + ww <= max
        {
            line.push(' ');
            line.push_str(word);
            continue;
        }
        if !line.is_empty() {
            lines.push(core::mem::take(&mut line));
        }
        if ww <= max {
            line.push_str(word);
            continue;
        }
        // Too long for any line: break it wherever it overflows.
        for c in word.chars() {
            line.push(c);
            if font.measure(&line, weight, tracking) > max && line.chars().count() > 1 {
                line.pop();
                lines.push(core::mem::take(&mut line));
                line.push(c);
            }
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

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

/// Stroke weight of captions, in font units.
const WEIGHT: f32 = 2.1;
const TRACKING: f32 = 1.0;
const MARGIN: f32 = 10.0;

/// Where a caption goes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Band {
    Top,
    Bottom,
}

/// A caption laid out: lines, pixels per font unit, outline width.
struct Layout {
    lines: Vec<String>,
    u: f32,
    outline: f32,
}

fn outline_for(u: f32) -> f32 {
    (u * 0.95).max(2.0)
}

fn line_pitch(u: f32, outline: f32) -> f32 {
    u * (CAP + WEIGHT + 2.0) + outline * 2.0
}

fn block_height(lines: usize, u: f32, outline: f32) -> f32 {
    (lines.max(1) - 1) as f32 * line_pitch(u, outline) + u * (CAP + WEIGHT) + 2.0 * outline
}

/// Picks the largest size at which the text fits in at most three lines within its band
/// without breaking a word; failing that, the largest at which it fits with words broken;
/// very long text falls back to the smallest size and as many lines as it needs.
fn layout(font: &Font, text: &str, w: f32, h: f32) -> Layout {
    let max_block = h * 0.31;
    let widest_word = text
        .split(' ')
        .map(|wd| font.measure(wd, WEIGHT, TRACKING))
        .fold(0.0, f32::max);
    for allow_breaks in [false, true] {
        let mut u = 5.0;
        loop {
            let outline = outline_for(u);
            let avail = (w - 2.0 * MARGIN - 2.0 * outline) / u;
            if allow_breaks || widest_word <= avail {
                let lines = wrap(font, text, avail, WEIGHT, TRACKING);
                if lines.len() <= 3 && block_height(lines.len(), u, outline) <= max_block {
                    return Layout { lines, u, outline };
                }
            }
            if u < 1.45 {
                if allow_breaks {
                    let lines = wrap(font, text, avail, WEIGHT, TRACKING);
                    return Layout { lines, u, outline };
                }
                break;
            }
            u *= 0.95;
        }
    }
    unreachable!("the second pass always returns")
}

/// Draws a caption in the top or bottom band of the canvas.
pub fn caption(canvas: &mut Canvas, font: &Font, raw: &str, band: Band) {
    let text = normalize(raw);
    if text.is_empty() {
        return;
    }
    let (w, h) = (canvas.w as f32, canvas.h as f32);
    let Layout { lines, u, outline } = layout(font, &text, w, h);
    let half = u * WEIGHT * 0.5;
    let pitch = line_pitch(u, outline);
    let block = block_height(lines.len(), u, outline);
    let top = match band {
        Band::Top => MARGIN,
        Band::Bottom => h - MARGIN - block,
    };
    // Shadow geometry.
    let (sdx, sdy, blur) = (floor(u * 0.5 + 1.0), floor(u * 0.8 + 1.0), u * 1.6 + 2.0);
    // Farthest distance that still shows: the shadow's soft edge.
    let reach = half + outline + blur * 0.5 + 1.0;

    // Distance field of all glyph centre lines over the caption's area.
    let x0 = 0usize;
    let x1 = canvas.w;
    let y0 = floor(top - reach).max(0.0) as usize;
    let y1 = (ceil(top + block + reach + sdy) as usize).min(canvas.h);
    if y0 >= y1 {
        return;
    }
    let bw = x1 - x0;
    let mut dist = vec![f32::MAX; bw * (y1 - y0)];
    for (i, line) in lines.iter().enumerate() {
        let lw = font.measure(line, WEIGHT, TRACKING) * u;
        let lx = floor((w - lw) * 0.5);
        let ly = top + outline + half + i as f32 * pitch;
        let mut xf = Xf::new(lx, ly, u, 0.0);
        for c in line.chars() {
            if c != ' ' {
                let mut p = Path::new();
                font.emit(c, &xf, WEIGHT, &mut p);
                let g = p.stroke(0.0);
                let b = g.line_bounds();
                let lim2 = (reach + 2.0) * (reach + 2.0);
                let gx0 = floor(b[0] - reach).max(x0 as f32) as usize;
                let gx1 = (ceil(b[2] + reach + sdx) as usize).min(x1);
                let gy0 = floor(b[1] - reach).max(y0 as f32) as usize;
                let gy1 = (ceil(b[3] + reach + sdy) as usize).min(y1);
                // In 8 x 8 tiles, skipping those whose centre is too far for any pixel to matter.
                const T: usize = 8;
                let skip = reach + 2.0 + T as f32 * 0.7072;
                for ty in (gy0..gy1).step_by(T) {
                    for tx in (gx0..gx1).step_by(T) {
                        let (ty1, tx1) = ((ty + T).min(gy1), (tx + T).min(gx1));
                        let centre = g.dist2_below(
                            (tx + tx1) as f32 * 0.5,
                            (ty + ty1) as f32 * 0.5,
                            skip * skip,
                        );
                        if centre >= skip * skip {
                            continue;
                        }
                        for y in ty..ty1 {
                            let row = &mut dist[(y - y0) * bw..(y - y0 + 1) * bw];
                            for x in tx..tx1 {
                                let d = g.dist2_below(x as f32 + 0.5, y as f32 + 0.5, lim2);
                                if d < row[x - x0] {
                                    row[x - x0] = d;
                                }
                            }
                        }
                    }
                }
            }
            xf = xf.advance(font.advance(c, WEIGHT, TRACKING));
        }
    }

    let (sdx, sdy) = (sdx as usize, sdy as usize);
    let ink = hex(0x000000);
    let paper = hex(0xffffff);
    let shadow = hex(0x000000);
    let lim2 = (reach + 1.0) * (reach + 1.0);
    for y in y0..y1 {
        for x in x0..x1 {
            // Shadow: the outline's distance field seen from (x - sdx, y - sdy).
            if x >= x0 + sdx && y >= y0 + sdy {
                let ds2 = dist[(y - sdy - y0) * bw + (x - sdx - x0)];
                if ds2 < lim2 {
                    let ds = sqrt(ds2);
                    let a = smoothstep(((half + outline) - ds) / blur + 0.5);
                    if a > 0.0 {
                        canvas.blend(x, y, shadow, a * 0.55);
                    }
                }
            }
            let d2 = dist[(y - y0) * bw + (x - x0)];
            let lim = half + outline + 1.0;
            if d2 >= lim * lim {
                continue;
            }
            let d = sqrt(d2);
            let a_out = clamp01(half + outline - d + 0.5);
            if a_out > 0.0 {
                canvas.blend(x, y, ink, a_out);
            }
            let a_in = clamp01(half - d + 0.5);
            if a_in > 0.0 {
                canvas.blend(x, y, paper, a_in);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn folds_accents_and_punctuation() {
        assert_eq!(normalize("Café crème — naïve"), "CAFE CREME - NAIVE");
        assert_eq!(normalize("Straße Œuvre"), "STRASSE OEUVRE");
        assert_eq!(normalize("“quoted” it’s…"), "\"QUOTED\" IT'S...");
        assert_eq!(
            normalize("  many   spaces\tand\nlines  "),
            "MANY SPACES AND LINES"
        );
        assert_eq!(normalize("日本 🎓"), "?? ?");
        assert_eq!(normalize("a\u{7}b"), "AB");
    }

    #[test]
    fn wraps_long_text() {
        let f = Font::new();
        let lines = wrap(
            &f,
            "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
            60.0,
            2.0,
            1.0,
        );
        assert!(lines.len() > 1);
        for l in &lines {
            assert!(f.measure(l, 2.0, 1.0) <= 60.0, "{l}");
        }
        assert_eq!(
            lines.join(" "),
            "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG"
        );
        // A word wider than a line is broken.
        let lines = wrap(&f, "SUPERCALIFRAGILISTICEXPIALIDOCIOUS", 50.0, 2.0, 1.0);
        assert!(lines.len() > 1);
        assert_eq!(lines.concat(), "SUPERCALIFRAGILISTICEXPIALIDOCIOUS");
    }

    #[test]
    fn long_captions_shrink_and_stay_within_three_lines() {
        let f = Font::new();
        // A long word shrinks the text rather than being broken.
        let word = layout(&f, "THESIS_FINAL_V8_REAL_FINAL.PDF", 600.0, 450.0);
        assert_eq!(word.lines, ["THESIS_FINAL_V8_REAL_FINAL.PDF"]);
        let short = layout(&f, "HI", 600.0, 450.0);
        assert_eq!(short.lines.len(), 1);
        let long_text = "WHEN THE REVIEWER ASKS FOR ONE MORE EXPERIMENT AND YOU ALREADY SPENT THE WHOLE GRANT ON COFFEE AND CONFERENCE POSTERS".to_string();
        let long = layout(&f, &long_text, 600.0, 450.0);
        assert!(
            long.lines.len() > 1 && long.lines.len() <= 3,
            "{:?}",
            long.lines
        );
        assert!(long.u < short.u);
        for l in &long.lines {
            let px = f.measure(l, WEIGHT, TRACKING) * long.u;
            assert!(px <= 600.0 - 2.0 * MARGIN, "{l}: {px}");
        }
    }
}
