//! The classic meme caption in a real font: DejaVu Sans Bold (embedded, a subset covering
//! Latin with every accent, Greek, Cyrillic and common symbols; see the crate README for its
//! licence), rasterised by `fontdue`, white with a thick black outline and a soft shadow,
//! centred at the top or bottom, case as typed.
//!
//! The layout picks the largest size at which the text fits in at most three lines within
//! its band (about a third of the height, scaled by [`TextSize`]) without breaking a word;
//! failing that, it breaks words; very long text gets the smallest size and the lines it needs.
//! Characters the font lacks (CJK, emoji) are drawn as the font's missing-glyph box.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::canvas::{Canvas, hex};
use crate::math::{ceil, floor, sqrt};

/// DejaVu Sans Bold, subset (crate README, "Assets").
static FONT: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold-subset.ttf");

const MARGIN: f32 = 10.0;

/// Where a caption goes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Band {
    Top,
    Bottom,
}

/// How large captions may get.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TextSize {
    Small,
    #[default]
    Medium,
    Large,
}

impl TextSize {
    /// `small`, `medium` or `large` (as forms send it); `None` for anything else.
    pub fn parse(text: &str) -> Option<TextSize> {
        match text {
            "small" => Some(TextSize::Small),
            "medium" | "" => Some(TextSize::Medium),
            "large" => Some(TextSize::Large),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            TextSize::Small => "small",
            TextSize::Medium => "medium",
            TextSize::Large => "large",
        }
    }

    fn scale(self) -> f32 {
        match self {
            TextSize::Small => 0.7,
            TextSize::Medium => 1.0,
            TextSize::Large => 1.3,
        }
    }
}

/// The parsed font.
pub struct Face(fontdue::Font);

impl Face {
    pub fn load() -> Face {
        let settings = fontdue::FontSettings {
            collection_index: 0,
            scale: 48.0,
            load_substitutions: false,
        };
        // The embedded font is a fixed, tested file: failing to parse it is a build defect.
        Face(fontdue::Font::from_bytes(FONT, settings).expect("the embedded font parses"))
    }

    /// Whether the font draws `c` (rather than the missing-glyph box).
    #[cfg(test)]
    pub fn has(&self, c: char) -> bool {
        self.0.has_glyph(c)
    }

    fn advance(&self, c: char, px: f32) -> f32 {
        self.0.metrics(c, px).advance_width
    }

    fn measure(&self, text: &str, px: f32) -> f32 {
        text.chars().map(|c| self.advance(c, px)).sum()
    }
}

/// Caption text as it is drawn: control and bidi formatting characters removed, whitespace
/// runs collapsed, case kept.
pub fn clean(raw: &str) -> String {
    let kept: String = raw
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|&c| {
            !c.is_control()
                && !matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{061c}')
        })
        .collect();
    kept.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Greedy word wrap to `max` pixels; words wider than a line are broken when `breaks`.
fn wrap(face: &Face, text: &str, px: f32, max: f32) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    let space = face.advance(' ', px);
    for word in text.split(' ') {
        let ww = face.measure(word, px);
        if !line.is_empty() && face.measure(&line, px) + space + ww <= max {
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
        for c in word.chars() {
            if !line.is_empty() && face.measure(&line, px) + face.advance(c, px) > max {
                lines.push(core::mem::take(&mut line));
            }
            line.push(c);
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A caption laid out: its lines and font size in pixels.
struct Layout {
    lines: Vec<String>,
    px: f32,
}

fn outline_for(px: f32) -> f32 {
    (px * 0.08).clamp(2.0, 6.0)
}

fn line_height(px: f32) -> f32 {
    px * 1.12
}

fn block_height(lines: usize, px: f32) -> f32 {
    lines.max(1) as f32 * line_height(px) + 2.0 * outline_for(px)
}

fn layout(face: &Face, text: &str, w: f32, h: f32, size: TextSize) -> Layout {
    let scale = size.scale();
    let max_block = h * 0.31 * scale.min(1.15);
    let start = (h * 0.14 * scale).max(12.0);
    let widest = |px| {
        text.split(' ')
            .map(|wd| face.measure(wd, px))
            .fold(0.0, f32::max)
    };
    for breaks in [false, true] {
        let mut px = start;
        loop {
            let avail = w - 2.0 * MARGIN - 2.0 * outline_for(px);
            if breaks || widest(px) <= avail {
                let lines = wrap(face, text, px, avail);
                let fits = lines.len() <= 3 && block_height(lines.len(), px) <= max_block;
                if fits || (breaks && px <= 12.0) {
                    return Layout { lines, px };
                }
            }
            if px <= 12.0 {
                break;
            }
            px = (px * 0.94).max(12.0);
        }
    }
    unreachable!("the second pass always returns")
}

/// Draws a caption in the top or bottom band of the canvas.
pub fn caption(canvas: &mut Canvas, face: &Face, raw: &str, band: Band, size: TextSize) {
    let text = clean(raw);
    if text.is_empty() {
        return;
    }
    let (w, h) = (canvas.w as f32, canvas.h as f32);
    let Layout { lines, px } = layout(face, &text, w, h, size);
    let outline = outline_for(px);
    let block = block_height(lines.len(), px);
    let top = match band {
        Band::Top => MARGIN,
        Band::Bottom => h - MARGIN - block,
    };
    // The region the caption, its outline and its shadow can touch.
    let reach = ceil(outline + 4.0) as usize;
    let y0 = (top as usize).saturating_sub(reach);
    let y1 = ((top + block) as usize + reach + 4).min(canvas.h);
    let bw = canvas.w;
    let bh = y1.saturating_sub(y0);
    if bh == 0 {
        return;
    }
    // Glyph coverage of the whole block.
    let mut fill = vec![0f32; bw * bh];
    let ascent = face
        .0
        .horizontal_line_metrics(px)
        .map_or(px * 0.93, |m| m.ascent);
    for (i, line) in lines.iter().enumerate() {
        let lw = face.measure(line, px);
        let mut pen = floor((w - lw) * 0.5);
        let baseline = top + outline + i as f32 * line_height(px) + ascent;
        for c in line.chars() {
            let (m, bitmap) = face.0.rasterize(c, px);
            let gx = floor(pen + m.xmin as f32 + 0.5) as isize;
            let gy = floor(baseline - m.ymin as f32 - m.height as f32 + 0.5) as isize - y0 as isize;
            for row in 0..m.height {
                let y = gy + row as isize;
                if y < 0 || y >= bh as isize {
                    continue;
                }
                for col in 0..m.width {
                    let x = gx + col as isize;
                    if x < 0 || x >= bw as isize {
                        continue;
                    }
                    let a = f32::from(bitmap[row * m.width + col]) / 255.0;
                    let slot = &mut fill[y as usize * bw + x as usize];
                    *slot = slot.max(a);
                }
            }
            pen += m.advance_width;
        }
    }
    // The outline: coverage spread over a disc of radius `outline`, anti-aliased at its rim.
    let r = ceil(outline) as isize;
    let disc: Vec<(isize, isize, f32)> = (-r..=r)
        .flat_map(|dy| (-r..=r).map(move |dx| (dx, dy)))
        .filter_map(|(dx, dy)| {
            let d = sqrt((dx * dx + dy * dy) as f32);
            let a = (outline + 0.5 - d).clamp(0.0, 1.0);
            (a > 0.0).then_some((dx, dy, a))
        })
        .collect();
    let mut edge = vec![0f32; bw * bh];
    for y in 0..bh {
        for x in 0..bw {
            let a = fill[y * bw + x];
            if a <= 0.0 {
                continue;
            }
            for &(dx, dy, weight) in &disc {
                let (nx, ny) = (x as isize + dx, y as isize + dy);
                if nx < 0 || ny < 0 || nx >= bw as isize || ny >= bh as isize {
                    continue;
                }
                let slot = &mut edge[ny as usize * bw + nx as usize];
                *slot = slot.max(a * weight);
            }
        }
    }
    // The shadow: the outline, offset and blurred.
    let offset = (px * 0.06).clamp(1.0, 4.0) as usize;
    let shadow = blur(&edge, bw, bh, 2);
    let (ink, paper) = (hex(0x000000), hex(0xffffff));
    for y in 0..bh {
        for x in 0..bw {
            let (cx, cy) = (x, y + y0);
            if x >= offset && y >= offset {
                let s = shadow[(y - offset) * bw + (x - offset)];
                if s > 0.0 {
                    canvas.blend(cx, cy, ink, s * 0.5);
                }
            }
            let e = edge[y * bw + x];
            if e > 0.0 {
                canvas.blend(cx, cy, ink, e);
            }
            let f = fill[y * bw + x];
            if f > 0.0 {
                canvas.blend(cx, cy, paper, f);
            }
        }
    }
}

/// Two passes of a box blur of radius `r`, horizontal then vertical.
fn blur(src: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let n = (2 * r + 1) as f32;
    let mut tmp = vec![0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let (a, b) = (x.saturating_sub(r), (x + r + 1).min(w));
            tmp[y * w + x] = src[y * w + a..y * w + b].iter().sum::<f32>() / n;
        }
    }
    let mut out = vec![0f32; w * h];
    for y in 0..h {
        let (a, b) = (y.saturating_sub(r), (y + r + 1).min(h));
        for x in 0..w {
            out[y * w + x] = (a..b).map(|yy| tmp[yy * w + x]).sum::<f32>() / n;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_case_and_accents_and_drops_controls() {
        assert_eq!(
            clean("  Café über\tß \u{202e}Ωμέγα\u{7} "),
            "Café über ß Ωμέγα"
        );
    }

    #[test]
    fn the_font_covers_latin_greek_and_cyrillic() {
        let face = Face::load();
        for c in "ÀÉÎÕÜßŒœŁąčěğıňřşťůźżĳǅΑΩαωάΐЖЯжяЁёЇїҐґ€—…“”".chars()
        {
            assert!(face.has(c), "{c} ({:04X})", c as u32);
        }
        assert!(!face.has('日'), "no CJK in the subset");
    }

    #[test]
    fn long_captions_shrink_and_stay_within_three_lines() {
        let face = Face::load();
        let short = layout(&face, "Hi", 600.0, 450.0, TextSize::Medium);
        assert_eq!(short.lines.len(), 1);
        let long = layout(
            &face,
            "When the reviewer asks for one more experiment and you already spent the whole grant on coffee and conference posters",
            600.0,
            450.0,
            TextSize::Medium,
        );
        assert!(
            long.lines.len() > 1 && long.lines.len() <= 3,
            "{:?}",
            long.lines
        );
        assert!(long.px < short.px);
        for l in &long.lines {
            assert!(face.measure(l, long.px) <= 600.0 - 2.0 * MARGIN, "{l}");
        }
        let big = layout(&face, "Hi", 600.0, 450.0, TextSize::Large);
        let small = layout(&face, "Hi", 600.0, 450.0, TextSize::Small);
        assert!(small.px < short.px && short.px < big.px);
        // A word wider than a line is broken rather than overflowing.
        let word = layout(&face, &"Ж".repeat(60), 600.0, 450.0, TextSize::Large);
        assert!(word.lines.len() > 1);
    }
}
