//! A tiny anti-aliased vector rasteriser: shapes are signed distance functions, painted with
//! solid colours or gradients onto a floating-point RGB canvas.

use alloc::vec;
use alloc::vec::Vec;

use crate::math::{
    atan2_deg, ceil, clamp01, floor, hash01, sin_cos_deg, smoothstep, sqrt, value_noise,
};

/// A colour with straight (non-premultiplied) alpha; channels 0..=255, alpha 0..=1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rgb {
    pub r: f32,
    pub g: f32,
    pub b: f32,
    pub a: f32,
}

/// An opaque colour from `0xRRGGBB`.
pub const fn hex(v: u32) -> Rgb {
    Rgb {
        r: ((v >> 16) & 255) as f32,
        g: ((v >> 8) & 255) as f32,
        b: (v & 255) as f32,
        a: 1.0,
    }
}

impl Rgb {
    pub const fn alpha(self, a: f32) -> Rgb {
        Rgb { a, ..self }
    }

    pub fn lerp(self, o: Rgb, t: f32) -> Rgb {
        Rgb {
            r: self.r + (o.r - self.r) * t,
            g: self.g + (o.g - self.g) * t,
            b: self.b + (o.b - self.b) * t,
            a: self.a + (o.a - self.a) * t,
        }
    }

    /// Towards black (k < 1) or white (k > 1).
    pub fn shade(self, k: f32) -> Rgb {
        if k <= 1.0 {
            Rgb {
                r: self.r * k,
                g: self.g * k,
                b: self.b * k,
                a: self.a,
            }
        } else {
            self.lerp(hex(0xffffff).alpha(self.a), k - 1.0)
        }
    }
}

/// How a shape is coloured.
#[derive(Clone, Copy, Debug)]
pub enum Paint {
    Solid(Rgb),
    /// From `c0` at (x0, y0) to `c1` at (x1, y1), constant across.
    Linear {
        x0: f32,
        y0: f32,
        x1: f32,
        y1: f32,
        c0: Rgb,
        c1: Rgb,
    },
    /// From `c0` at the centre to `c1` at radius `r` and beyond.
    Radial {
        cx: f32,
        cy: f32,
        r: f32,
        c0: Rgb,
        c1: Rgb,
    },
}

impl From<Rgb> for Paint {
    fn from(c: Rgb) -> Paint {
        Paint::Solid(c)
    }
}

/// A vertical gradient from `c0` at y0 to `c1` at y1.
pub fn vgrad(y0: f32, y1: f32, c0: Rgb, c1: Rgb) -> Paint {
    Paint::Linear {
        x0: 0.0,
        y0,
        x1: 0.0,
        y1,
        c0,
        c1,
    }
}

/// A linear gradient between two points.
pub fn lgrad(x0: f32, y0: f32, x1: f32, y1: f32, c0: Rgb, c1: Rgb) -> Paint {
    Paint::Linear {
        x0,
        y0,
        x1,
        y1,
        c0,
        c1,
    }
}

/// A radial gradient.
pub fn rgrad(cx: f32, cy: f32, r: f32, c0: Rgb, c1: Rgb) -> Paint {
    Paint::Radial { cx, cy, r, c0, c1 }
}

impl Paint {
    fn at(&self, x: f32, y: f32) -> Rgb {
        match *self {
            Paint::Solid(c) => c,
            Paint::Linear {
                x0,
                y0,
                x1,
                y1,
                c0,
                c1,
            } => {
                let (dx, dy) = (x1 - x0, y1 - y0);
                let t = ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy).max(1e-6);
                c0.lerp(c1, clamp01(t))
            }
            Paint::Radial { cx, cy, r, c0, c1 } => {
                let (dx, dy) = (x - cx, y - cy);
                let t = sqrt(dx * dx + dy * dy) / r;
                c0.lerp(c1, clamp01(t))
            }
        }
    }
}

/// Texture that modulates opacity: `lo + (1 - lo) * noise`.
#[derive(Clone, Copy, Debug)]
pub struct Grain {
    /// Noise lattice spacing in pixels; 1 or less gives per-pixel speckle.
    pub cell: f32,
    pub lo: f32,
    pub seed: u32,
}

/// Axis-aligned bounds: x0, y0, x1, y1.
pub type Bounds = [f32; 4];

const HUGE: Bounds = [-1.0e6, -1.0e6, 1.0e6, 1.0e6];

/// A shape given by its signed distance (negative inside), in pixels.
pub trait Shape {
    fn sdf(&self, x: f32, y: f32) -> f32;
    fn bounds(&self) -> Bounds;
}

impl<S: Shape + ?Sized> Shape for &S {
    fn sdf(&self, x: f32, y: f32) -> f32 {
        (**self).sdf(x, y)
    }
    fn bounds(&self) -> Bounds {
        (**self).bounds()
    }
}

fn len(x: f32, y: f32) -> f32 {
    sqrt(x * x + y * y)
}

/// A rectangle with rounded corners.
#[derive(Clone, Copy, Debug)]
pub struct RRect {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub r: f32,
}

pub fn rrect(x: f32, y: f32, w: f32, h: f32, r: f32) -> RRect {
    RRect { x, y, w, h, r }
}

pub fn rect(x: f32, y: f32, w: f32, h: f32) -> RRect {
    RRect { x, y, w, h, r: 0.0 }
}

impl Shape for RRect {
    fn sdf(&self, x: f32, y: f32) -> f32 {
        let r = self.r.min(self.w * 0.5).min(self.h * 0.5);
        let qx = (x - (self.x + self.w * 0.5)).abs() - (self.w * 0.5 - r);
        let qy = (y - (self.y + self.h * 0.5)).abs() - (self.h * 0.5 - r);
        len(qx.max(0.0), qy.max(0.0)) + qx.max(qy).min(0.0) - r
    }
    fn bounds(&self) -> Bounds {
        [self.x, self.y, self.x + self.w, self.y + self.h]
    }
}

/// An ellipse (a circle when rx == ry).
#[derive(Clone, Copy, Debug)]
pub struct Ellipse {
    pub cx: f32,
    pub cy: f32,
    pub rx: f32,
    pub ry: f32,
}

pub fn circle(cx: f32, cy: f32, r: f32) -> Ellipse {
    Ellipse {
        cx,
        cy,
        rx: r,
        ry: r,
    }
}

pub fn ellipse(cx: f32, cy: f32, rx: f32, ry: f32) -> Ellipse {
    Ellipse { cx, cy, rx, ry }
}

impl Shape for Ellipse {
    fn sdf(&self, x: f32, y: f32) -> f32 {
        let (px, py) = (x - self.cx, y - self.cy);
        if self.rx == self.ry {
            return len(px, py) - self.rx;
        }
        // Good first-order approximation: k0 (k0 - 1) / k1.
        let k0 = len(px / self.rx, py / self.ry);
        let k1 = len(px / (self.rx * self.rx), py / (self.ry * self.ry));
        if k1 < 1e-6 {
            -self.rx.min(self.ry)
        } else {
            k0 * (k0 - 1.0) / k1
        }
    }
    fn bounds(&self) -> Bounds {
        [
            self.cx - self.rx,
            self.cy - self.ry,
            self.cx + self.rx,
            self.cy + self.ry,
        ]
    }
}

/// A closed polygon (any winding, may be concave).
#[derive(Clone, Debug)]
pub struct Poly {
    pub pts: Vec<(f32, f32)>,
}

pub fn poly(pts: &[(f32, f32)]) -> Poly {
    Poly { pts: pts.to_vec() }
}

impl Shape for Poly {
    fn sdf(&self, x: f32, y: f32) -> f32 {
        let v = &self.pts;
        let n = v.len();
        let mut d = (x - v[0].0) * (x - v[0].0) + (y - v[0].1) * (y - v[0].1);
        let mut inside = false;
        let mut j = n - 1;
        for i in 0..n {
            let (ex, ey) = (v[j].0 - v[i].0, v[j].1 - v[i].1);
            let (wx, wy) = (x - v[i].0, y - v[i].1);
            let t = ((wx * ex + wy * ey) / (ex * ex + ey * ey).max(1e-9)).clamp(0.0, 1.0);
            let (bx, by) = (wx - ex * t, wy - ey * t);
            d = d.min(bx * bx + by * by);
            let c1 = y >= v[i].1;
            let c2 = y < v[j].1;
            let c3 = ex * wy > ey * wx;
            if (c1 && c2 && c3) || (!c1 && !c2 && !c3) {
                inside = !inside;
            }
            j = i;
        }
        let d = sqrt(d);
        if inside { -d } else { d }
    }
    fn bounds(&self) -> Bounds {
        let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
        for &(x, y) in &self.pts {
            b = [b[0].min(x), b[1].min(y), b[2].max(x), b[3].max(y)];
        }
        b
    }
}

/// One stroke segment with its precomputed direction.
#[derive(Clone, Copy, Debug)]
struct Seg {
    ax: f32,
    ay: f32,
    dx: f32,
    dy: f32,
    inv: f32,
    /// Bounding box of the segment.
    b: Bounds,
}

/// Round-capped strokes of a given width along line segments (a zero-length segment is a dot).
#[derive(Clone, Debug, Default)]
pub struct Strokes {
    segs: Vec<Seg>,
    pub half: f32,
    b: Bounds,
}

impl Strokes {
    /// Squared distance to the nearest centre line.
    pub fn dist2(&self, x: f32, y: f32) -> f32 {
        self.dist2_below(x, y, f32::MAX)
    }

    /// Squared distance to the nearest centre line if it is below `limit2`, else `limit2`.
    pub fn dist2_below(&self, x: f32, y: f32, limit2: f32) -> f32 {
        let mut best = limit2;
        for s in &self.segs {
            // Skip segments whose bounding box is already farther than the best so far.
            let ex = (s.b[0] - x).max(x - s.b[2]).max(0.0);
            let ey = (s.b[1] - y).max(y - s.b[3]).max(0.0);
            if ex * ex + ey * ey >= best {
                continue;
            }
            let (px, py) = (x - s.ax, y - s.ay);
            let h = ((px * s.dx + py * s.dy) * s.inv).clamp(0.0, 1.0);
            let (qx, qy) = (px - s.dx * h, py - s.dy * h);
            best = best.min(qx * qx + qy * qy);
        }
        best
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.segs.is_empty()
    }
}

impl Shape for Strokes {
    fn sdf(&self, x: f32, y: f32) -> f32 {
        sqrt(self.dist2(x, y)) - self.half
    }
    fn bounds(&self) -> Bounds {
        let h = self.half;
        [self.b[0] - h, self.b[1] - h, self.b[2] + h, self.b[3] + h]
    }
}

/// Builds [`Strokes`] from polylines and elliptic arcs.
#[derive(Clone, Debug, Default)]
pub struct Path {
    segs: Vec<[f32; 4]>,
    cur: Option<(f32, f32)>,
}

impl Path {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn move_to(&mut self, x: f32, y: f32) -> &mut Self {
        self.cur = Some((x, y));
        self
    }

    /// A line from the current point (or a dot if there is none).
    pub fn line_to(&mut self, x: f32, y: f32) -> &mut Self {
        let (cx, cy) = self.cur.unwrap_or((x, y));
        self.segs.push([cx, cy, x, y]);
        self.cur = Some((x, y));
        self
    }

    pub fn line(&mut self, x0: f32, y0: f32, x1: f32, y1: f32) -> &mut Self {
        self.move_to(x0, y0).line_to(x1, y1)
    }

    /// Polyline through the points.
    pub fn poly(&mut self, pts: &[(f32, f32)]) -> &mut Self {
        for (i, &(x, y)) in pts.iter().enumerate() {
            if i == 0 {
                self.move_to(x, y);
            } else {
                self.line_to(x, y);
            }
        }
        self
    }

    /// An elliptic arc from angle `a0` to `a1` (degrees, 0° right, 90° down), joined to the
    /// current point by a line if there is one.
    pub fn arc(&mut self, cx: f32, cy: f32, rx: f32, ry: f32, a0: f32, a1: f32) -> &mut Self {
        let n = arc_steps(rx.max(ry), a1 - a0);
        for i in 0..=n {
            let (s, c) = sin_cos_deg(a0 + (a1 - a0) * i as f32 / n as f32);
            let (x, y) = (cx + rx * c, cy + ry * s);
            if i == 0 && self.cur.is_none() {
                self.move_to(x, y);
            } else {
                self.line_to(x, y);
            }
        }
        self
    }

    /// Ends the current polyline.
    pub fn lift(&mut self) -> &mut Self {
        self.cur = None;
        self
    }

    pub fn stroke(&self, width: f32) -> Strokes {
        let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
        let segs = self
            .segs
            .iter()
            .map(|&[ax, ay, bx, by]| {
                b = [
                    b[0].min(ax).min(bx),
                    b[1].min(ay).min(by),
                    b[2].max(ax).max(bx),
                    b[3].max(ay).max(by),
                ];
                let (dx, dy) = (bx - ax, by - ay);
                let l2 = dx * dx + dy * dy;
                let sb = [ax.min(bx), ay.min(by), ax.max(bx), ay.max(by)];
                Seg {
                    ax,
                    ay,
                    dx,
                    dy,
                    inv: if l2 > 1e-12 { 1.0 / l2 } else { 0.0 },
                    b: sb,
                }
            })
            .collect();
        Strokes {
            segs,
            half: width * 0.5,
            b,
        }
    }
}

/// A single round-capped line.
pub fn capsule(x0: f32, y0: f32, x1: f32, y1: f32, width: f32) -> Strokes {
    let mut p = Path::new();
    p.line(x0, y0, x1, y1);
    p.stroke(width)
}

/// A `w` x `h` rectangle centred on (cx, cy), rotated by `deg` degrees.
pub fn rot_rect(cx: f32, cy: f32, w: f32, h: f32, deg: f32) -> Poly {
    let (s, c) = sin_cos_deg(deg);
    let (hw, hh) = (w * 0.5, h * 0.5);
    let pts = [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)]
        .iter()
        .map(|&(x, y)| (cx + x * c - y * s, cy + x * s + y * c))
        .collect();
    Poly { pts }
}

/// A star with `n` points between radii `r_in` and `r_out`, first point at angle `deg`.
pub fn star(cx: f32, cy: f32, r_out: f32, r_in: f32, n: usize, deg: f32) -> Poly {
    let pts = (0..2 * n)
        .map(|i| {
            let r = if i % 2 == 0 { r_out } else { r_in };
            let (s, c) = sin_cos_deg(deg + 180.0 * i as f32 / n as f32);
            (cx + r * c, cy + r * s)
        })
        .collect();
    Poly { pts }
}

/// How many segments flatten an arc of this radius (pixels) and sweep (degrees).
pub fn arc_steps(radius: f32, sweep: f32) -> usize {
    let per_turn = radius.clamp(12.0, 96.0);
    (ceil(sweep.abs() / 360.0 * per_turn) as usize).max(2)
}

/// A shape moved by (dx, dy).
pub struct Moved<S>(pub S, pub f32, pub f32);

impl<S: Shape> Shape for Moved<S> {
    fn sdf(&self, x: f32, y: f32) -> f32 {
        self.0.sdf(x - self.1, y - self.2)
    }
    fn bounds(&self) -> Bounds {
        let b = self.0.bounds();
        [b[0] + self.1, b[1] + self.2, b[2] + self.1, b[3] + self.2]
    }
}

/// A shape grown (or shrunk, when negative) by a distance.
pub struct Grown<S>(pub S, pub f32);

impl<S: Shape> Shape for Grown<S> {
    fn sdf(&self, x: f32, y: f32) -> f32 {
        self.0.sdf(x, y) - self.1
    }
    fn bounds(&self) -> Bounds {
        let (b, r) = (self.0.bounds(), self.1.max(0.0));
        [b[0] - r, b[1] - r, b[2] + r, b[3] + r]
    }
}

/// The outline of a shape, `width` wide, centred on its edge.
pub struct Outline<S>(pub S, pub f32);

impl<S: Shape> Shape for Outline<S> {
    fn sdf(&self, x: f32, y: f32) -> f32 {
        self.0.sdf(x, y).abs() - self.1 * 0.5
    }
    fn bounds(&self) -> Bounds {
        let (b, r) = (self.0.bounds(), self.1 * 0.5);
        [b[0] - r, b[1] - r, b[2] + r, b[3] + r]
    }
}

/// The intersection of two shapes.
pub struct Inter<A, B>(pub A, pub B);

impl<A: Shape, B: Shape> Shape for Inter<A, B> {
    fn sdf(&self, x: f32, y: f32) -> f32 {
        self.0.sdf(x, y).max(self.1.sdf(x, y))
    }
    fn bounds(&self) -> Bounds {
        let (a, b) = (self.0.bounds(), self.1.bounds());
        [
            a[0].max(b[0]),
            a[1].max(b[1]),
            a[2].min(b[2]),
            a[3].min(b[3]),
        ]
    }
}

/// The first shape with the second cut out of it.
pub struct Minus<A, B>(pub A, pub B);

impl<A: Shape, B: Shape> Shape for Minus<A, B> {
    fn sdf(&self, x: f32, y: f32) -> f32 {
        self.0.sdf(x, y).max(-self.1.sdf(x, y))
    }
    fn bounds(&self) -> Bounds {
        self.0.bounds()
    }
}

/// The union of two shapes.
pub struct Union<A, B>(pub A, pub B);

impl<A: Shape, B: Shape> Shape for Union<A, B> {
    fn sdf(&self, x: f32, y: f32) -> f32 {
        self.0.sdf(x, y).min(self.1.sdf(x, y))
    }
    fn bounds(&self) -> Bounds {
        let (a, b) = (self.0.bounds(), self.1.bounds());
        [
            a[0].min(b[0]),
            a[1].min(b[1]),
            a[2].max(b[2]),
            a[3].max(b[3]),
        ]
    }
}

/// Everything below the horizontal line y = `y` (screen coordinates: larger y).
pub struct Below(pub f32);

impl Shape for Below {
    fn sdf(&self, _x: f32, y: f32) -> f32 {
        self.0 - y
    }
    fn bounds(&self) -> Bounds {
        [HUGE[0], self.0, HUGE[2], HUGE[3]]
    }
}

/// Everything above the horizontal line y = `y` (smaller y).
pub struct Above(pub f32);

impl Shape for Above {
    fn sdf(&self, _x: f32, y: f32) -> f32 {
        y - self.0
    }
    fn bounds(&self) -> Bounds {
        [HUGE[0], HUGE[1], HUGE[2], self.0]
    }
}

/// Rays from a centre: `n` wedges, each `duty` (0..1) of its sector wide, the first starting
/// at angle `start` degrees.
pub struct Sunburst {
    pub cx: f32,
    pub cy: f32,
    pub n: u32,
    pub duty: f32,
    pub start: f32,
}

impl Shape for Sunburst {
    fn sdf(&self, x: f32, y: f32) -> f32 {
        let (dx, dy) = (x - self.cx, y - self.cy);
        let sector = 360.0 / self.n as f32;
        let ray = sector * self.duty;
        let a = atan2_deg(dy, dx) - self.start + 720.0;
        let local = a - floor(a / sector) * sector;
        let deg = if local < ray {
            -local.min(ray - local)
        } else {
            (local - ray).min(sector - local)
        };
        deg.clamp(-57.0, 57.0) * (core::f32::consts::PI / 180.0) * len(dx, dy)
    }
    fn bounds(&self) -> Bounds {
        HUGE
    }
}

/// The whole plane.
pub struct Everywhere;

impl Shape for Everywhere {
    fn sdf(&self, _x: f32, _y: f32) -> f32 {
        -1.0e6
    }
    fn bounds(&self) -> Bounds {
        HUGE
    }
}

/// A floating-point RGB image; channels 0..=255.
pub struct Canvas {
    pub w: usize,
    pub h: usize,
    px: Vec<f32>,
}

impl Canvas {
    pub fn new(w: usize, h: usize, bg: Rgb) -> Self {
        let mut px = vec![0.0; w * h * 3];
        for p in px.chunks_exact_mut(3) {
            p.copy_from_slice(&[bg.r, bg.g, bg.b]);
        }
        Canvas { w, h, px }
    }

    /// The pixel rows covering `b` (expanded by `pad`), clipped to the canvas.
    fn span(&self, b: Bounds, pad: f32) -> Option<(usize, usize, usize, usize)> {
        let x0 = floor(b[0] - pad).max(0.0) as usize;
        let y0 = floor(b[1] - pad).max(0.0) as usize;
        let x1 = (ceil(b[2] + pad).max(0.0) as usize).min(self.w);
        let y1 = (ceil(b[3] + pad).max(0.0) as usize).min(self.h);
        (x0 < x1 && y0 < y1).then_some((x0, y0, x1, y1))
    }

    /// A canvas holding 8-bit RGB pixels, row-major.
    pub fn from_rgb8(w: usize, h: usize, rgb: &[u8]) -> Self {
        let px = rgb[..w * h * 3].iter().map(|&v| f32::from(v)).collect();
        Canvas { w, h, px }
    }

    /// Blends colour `c` into pixel (x, y) with alpha `a`.
    #[inline]
    pub fn blend(&mut self, x: usize, y: usize, c: Rgb, a: f32) {
        let i = (y * self.w + x) * 3;
        let p = &mut self.px[i..i + 3];
        p[0] += (c.r - p[0]) * a;
        p[1] += (c.g - p[1]) * a;
        p[2] += (c.b - p[2]) * a;
    }

    pub fn fill(&mut self, s: &impl Shape, p: impl Into<Paint>) {
        self.paint(s, &p.into(), 1.0, 1.0, None);
    }

    pub fn fill_a(&mut self, s: &impl Shape, p: impl Into<Paint>, opacity: f32) {
        self.paint(s, &p.into(), opacity, 1.0, None);
    }

    /// A blurred fill: the edge fades over `feather` pixels (soft shadows, glows, smudges).
    pub fn soft(&mut self, s: &impl Shape, p: impl Into<Paint>, opacity: f32, feather: f32) {
        self.paint(s, &p.into(), opacity, feather, None);
    }

    /// A fill whose opacity is modulated by noise (chalk, paper).
    pub fn textured(&mut self, s: &impl Shape, p: impl Into<Paint>, opacity: f32, grain: Grain) {
        self.paint(s, &p.into(), opacity, 1.0, Some(grain));
    }

    /// A soft drop shadow of `s`, offset by (dx, dy). For shapes then painted opaque: the
    /// shadow is not computed where `s` itself will hide it.
    pub fn shadow(&mut self, s: &impl Shape, dx: f32, dy: f32, blur: f32, opacity: f32) {
        self.paint_under(
            &Moved(s, dx, dy),
            &Paint::Solid(hex(0x101020)),
            opacity,
            blur,
            None,
            Some(s),
        );
    }

    /// Paints `s`. The area is walked in tiles: one distance sample at a tile's centre tells
    /// (distance functions change by at most one pixel per pixel) whether the whole tile is
    /// outside (skipped) or inside (no more distance samples), so only edge tiles pay for a
    /// distance per pixel.
    pub fn paint(
        &mut self,
        s: &impl Shape,
        p: &Paint,
        opacity: f32,
        feather: f32,
        grain: Option<Grain>,
    ) {
        self.paint_under(s, p, opacity, feather, grain, None);
    }

    /// [`Canvas::paint`], skipping whole tiles that lie inside `hidden`, a shape that will be
    /// painted opaque on top afterwards.
    pub fn paint_under(
        &mut self,
        s: &impl Shape,
        p: &Paint,
        opacity: f32,
        feather: f32,
        grain: Option<Grain>,
        hidden: Option<&dyn Shape>,
    ) {
        const TILE: usize = 16;
        // Half the tile diagonal, with slack for distance estimates that are not exact.
        const REACH: f32 = TILE as f32 * 0.5 * 1.4143 * 1.25 + 1.0;
        let feather = feather.max(1.0);
        let soft = feather > 1.5;
        let Some((x0, y0, x1, y1)) = self.span(s.bounds(), feather * 0.5 + 1.0) else {
            return;
        };
        for ty in (y0..y1).step_by(TILE) {
            let ty1 = (ty + TILE).min(y1);
            for tx in (x0..x1).step_by(TILE) {
                let tx1 = (tx + TILE).min(x1);
                let d = s.sdf((tx + tx1) as f32 * 0.5, (ty + ty1) as f32 * 0.5);
                if d - REACH >= feather * 0.5 {
                    continue;
                }
                let inside = d + REACH <= -feather * 0.5;
                if let Some(h) = hidden
                    && h.sdf((tx + tx1) as f32 * 0.5, (ty + ty1) as f32 * 0.5) + REACH <= -1.0
                {
                    continue;
                }
                for y in ty..ty1 {
                    let fy = y as f32 + 0.5;
                    for x in tx..tx1 {
                        let fx = x as f32 + 0.5;
                        let mut cov = 1.0;
                        if !inside {
                            cov = clamp01(0.5 - s.sdf(fx, fy) / feather);
                            if cov <= 0.0 {
                                continue;
                            }
                            if soft {
                                cov = smoothstep(cov);
                            }
                        }
                        if let Some(g) = grain {
                            let n = if g.cell <= 1.0 {
                                hash01(x as i32, y as i32, g.seed)
                            } else {
                                value_noise(fx / g.cell, fy / g.cell, g.seed)
                            };
                            cov *= g.lo + (1.0 - g.lo) * n;
                        }
                        let c = p.at(fx, fy);
                        let a = cov * opacity * c.a;
                        if a > 0.0 {
                            self.blend(x, y, c, a);
                        }
                    }
                }
            }
        }
    }

    /// The image as 8-bit RGB, row-major.
    pub fn to_rgb8(&self) -> Vec<u8> {
        self.px
            .iter()
            .map(|&v| (v.clamp(0.0, 255.0) + 0.5) as u8)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rect_sdf_signs() {
        let r = rrect(10.0, 10.0, 20.0, 10.0, 3.0);
        assert!(r.sdf(20.0, 15.0) < 0.0);
        assert!(r.sdf(0.0, 0.0) > 0.0);
        assert!((r.sdf(35.0, 15.0) - 5.0).abs() < 1e-4);
    }

    #[test]
    fn polygon_inside_outside() {
        let p = poly(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)]);
        assert!((p.sdf(5.0, 5.0) + 5.0).abs() < 1e-4);
        assert!((p.sdf(15.0, 5.0) - 5.0).abs() < 1e-4);
    }

    #[test]
    fn fill_covers_pixels() {
        let mut c = Canvas::new(10, 10, hex(0x000000));
        c.fill(&rect(2.0, 2.0, 4.0, 4.0), hex(0xffffff));
        let px = c.to_rgb8();
        assert_eq!(px[(3 * 10 + 3) * 3], 255);
        assert_eq!(px[(8 * 10 + 8) * 3], 0);
    }

    #[test]
    fn stroke_distance() {
        let mut p = Path::new();
        p.line(0.0, 0.0, 10.0, 0.0);
        let s = p.stroke(4.0);
        assert!((s.sdf(5.0, 3.0) - 1.0).abs() < 1e-4);
        assert!((s.sdf(13.0, 0.0) - 1.0).abs() < 1e-4);
    }
}
