//! "Nebula Marker": a stroke font drawn for this crate (original work, see the crate README).
//!
//! Each glyph is a handful of centre lines on a grid whose capitals span y = 0 (top) to
//! y = 10 (baseline); the renderer strokes them with round caps, so glyphs scale smoothly to
//! any size and an outline is just a wider stroke of the same lines. Lower case is drawn with
//! the capitals (meme captions are upper case anyway).
//!
//! Table format, one glyph a line: the character (`SP` for space), the width of its centre
//! lines, then commands: `Mx,y` move, `Lx,y` line, `Acx,cy,rx,ry,a0,a1` an elliptic arc from
//! angle a0 to a1 in degrees (0° right, 90° down) joined to the current point, `B…` the same arc
//! starting a new stroke.

use crate::canvas::{Path, arc_steps};
use crate::math::sin_cos_deg;

const FONT: &str = r#"
SP 1.6
! 0 M0,0 L0,6.4 M0,10 L0,10
" 2.4 M0,0 L0,3.2 M2.4,0 L2.4,3.2
# 6 M2,0.5 L1.2,9.5 M4.8,0.5 L4,9.5 M0,3.3 L6,3.3 M0,6.7 L6,6.7
$ 5 B2.5,2.7,2.4,2.7,-25,-270 B2.5,7.3,2.5,2.7,-90,155 M2.5,-1.4 L2.5,11.4
% 6.4 M5.6,0.4 L0.8,9.6 B1.5,2,1.5,2,0,360 B4.9,8,1.5,2,0,360
& 6 M6,10 L1.4,4.1 A2.3,2.4,1.7,2.3,150,420 A2.6,7.5,2.6,2.5,200,-25
' 0 M0,0 L0,3.2
( 1.1 B3.6,5,3.6,7.6,225,135
) 1.1 B-2.5,5,3.6,7.6,-45,45
* 4.4 M2.2,0.4 L2.2,5.6 M0,1.7 L4.4,4.3 M0,4.3 L4.4,1.7
+ 5 M2.5,2.5 L2.5,7.5 M0,5 L5,5
, 0.9 M0.9,9.8 L0,12
- 3.4 M0,5.6 L3.4,5.6
. 0 M0,10 L0,10
/ 4.4 M4.4,-0.6 L0,10.6
0 5.4 B2.7,5,2.7,5,0,360
1 2.6 M0,2.2 L2.6,0 L2.6,10
2 5.2 B2.6,2.8,2.6,2.8,-165,30 L0,10 L5.2,10
3 5.1 B2.4,2.6,2.4,2.6,-155,90 M1.4,5 L2.6,5 B2.5,7.4,2.6,2.6,-90,155
4 5.4 M4,10 L4,0 L0,7 L5.4,7
5 5.2 M4.8,0 L0.7,0 L0.3,4.8 A2.5,6.9,2.7,3.1,-125,150
6 5.2 B2.8,4.6,2.8,4.6,-60,-180 L0,7.2 B2.6,7.2,2.6,2.8,0,360
7 5 M0,0 L5,0 L1.6,10
8 5.2 B2.6,2.5,2.2,2.5,0,360 B2.6,7.4,2.6,2.6,0,360
9 5.2 B2.6,2.8,2.6,2.8,0,360 M5.2,2.8 L5.2,5.4 A2.4,5.4,2.8,4.6,0,120
: 0 M0,3.6 L0,3.6 M0,10 L0,10
; 0.9 M0.9,3.6 L0.9,3.6 M0.9,9.8 L0,12
< 4.6 M4.6,1.4 L0,5.2 L4.6,9
= 5 M0,3.4 L5,3.4 M0,7 L5,7
> 4.6 M0,1.4 L4.6,5.2 L0,9
? 4.8 B2.4,2.6,2.4,2.6,-160,60 L2.4,6.6 M2.4,10 L2.4,10
@ 7.4 B3.7,5.2,1.6,2.1,0,360 M5.3,3 L5.3,7 A3.7,5.2,3.7,5.2,40,-270
A 6 M0,10 L3,0 L6,10 M1.1,6.6 L4.9,6.6
B 5 M0,10 L0,0 L2.5,0 A2.5,2.5,2.3,2.5,-90,90 L0,5 M2.6,5 A2.6,7.5,2.4,2.5,-90,90 L0,10
C 5.2 B2.9,5,2.9,5,-40,-320
D 5.2 M0,0 L0,10 L1.8,10 A1.8,5,3.4,5,90,-90 L0,0
E 4.6 M4.6,0 L0,0 L0,10 L4.6,10 M0,5 L4,5
F 4.6 M4.6,0 L0,0 L0,10 M0,5 L4,5
G 5.5 B2.9,5,2.9,5,-40,-330 L5.5,5.6 L3.2,5.6
H 5 M0,0 L0,10 M5,0 L5,10 M0,5 L5,5
I 0 M0,0 L0,10
J 4.4 M4.4,0 L4.4,7.4 A2.2,7.4,2.2,2.6,0,165
K 5 M0,0 L0,10 M5,0 L0.4,6 M1.9,4.3 L5,10
L 4.4 M0,0 L0,10 L4.4,10
M 6.6 M0,10 L0,0 L3.3,7 L6.6,0 L6.6,10
N 5.2 M0,10 L0,0 L5.2,10 L5.2,0
O 5.6 B2.8,5,2.8,5,0,360
P 5 M0,10 L0,0 L2.4,0 A2.4,2.8,2.6,2.8,-90,90 L0,5.6
Q 5.6 B2.8,5,2.8,5,0,360 M3.4,7 L5.8,10.4
R 5 M0,10 L0,0 L2.4,0 A2.4,2.8,2.6,2.8,-90,90 L0,5.6 M2.4,5.6 L5,10
S 5 B2.5,2.7,2.4,2.7,-25,-270 B2.5,7.3,2.5,2.7,-90,155
T 5.4 M0,0 L5.4,0 M2.7,0 L2.7,10
U 5.2 M0,0 L0,7.4 A2.6,7.4,2.6,2.6,180,0 L5.2,0
V 6 M0,0 L3,10 L6,0
W 7.8 M0,0 L1.9,10 L3.9,2.6 L5.9,10 L7.8,0
X 5.6 M0,0 L5.6,10 M5.6,0 L0,10
Y 6 M0,0 L3,5.2 L6,0 M3,5.2 L3,10
Z 5 M0,0 L5,0 L0,10 L5,10
[ 1.8 M1.8,-1 L0,-1 L0,11 L1.8,11
\ 4.4 M0,-0.6 L4.4,10.6
] 1.8 M0,-1 L1.8,-1 L1.8,11 L0,11
^ 4.4 M0,3.6 L2.2,0 L4.4,3.6
_ 5 M0,11.6 L5,11.6
` 1.2 M0,0 L1.2,1.8
{ 2.8 M2.8,-1 L1.6,-0.6 L1.4,4.2 L0,5 L1.4,5.8 L1.6,10.6 L2.8,11
| 0 M0,-1 L0,11
} 2.8 M0,-1 L1.2,-0.6 L1.4,4.2 L2.8,5 L1.4,5.8 L1.2,10.6 L0,11
~ 5.2 M0,6.2 L1.3,4.8 L3.9,6.2 L5.2,4.8
"#;

/// Height of the capitals in font units.
pub const CAP: f32 = 10.0;

/// A transform from font units to pixels: origin, pixels per unit, rotation.
#[derive(Clone, Copy, Debug)]
pub struct Xf {
    pub ox: f32,
    pub oy: f32,
    pub u: f32,
    pub cos: f32,
    pub sin: f32,
}

impl Xf {
    pub fn new(ox: f32, oy: f32, u: f32, angle_deg: f32) -> Self {
        let (sin, cos) = sin_cos_deg(angle_deg);
        Xf {
            ox,
            oy,
            u,
            cos,
            sin,
        }
    }

    pub fn apply(&self, x: f32, y: f32) -> (f32, f32) {
        (
            self.ox + self.u * (x * self.cos - y * self.sin),
            self.oy + self.u * (x * self.sin + y * self.cos),
        )
    }

    /// The same transform moved along its own x axis by `dx` units.
    pub fn advance(&self, dx: f32) -> Xf {
        let (ox, oy) = self.apply(dx, 0.0);
        Xf { ox, oy, ..*self }
    }
}

/// The parsed glyph table.
pub struct Font {
    glyphs: [(f32, &'static str); 95],
}

impl Font {
    pub fn new() -> Font {
        let mut glyphs = [(-1.0, ""); 95];
        for line in FONT.lines() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let mut parts = line.splitn(3, ' ');
            let key = parts.next().unwrap_or("");
            let c = if key == "SP" { b' ' } else { key.as_bytes()[0] };
            let width: f32 = parts.next().and_then(|w| w.parse().ok()).unwrap_or(0.0);
            glyphs[(c - b' ') as usize] = (width, parts.next().unwrap_or(""));
        }
        Font { glyphs }
    }

    /// Width and commands of the glyph drawn for `c` (lower case as upper case, '?' for
    /// anything the font lacks).
    fn glyph(&self, c: char) -> (f32, &'static str) {
        let c = c.to_ascii_uppercase();
        if (' '..='~').contains(&c) {
            let g = self.glyphs[c as usize - 32];
            if g.0 >= 0.0 {
                return g;
            }
        }
        self.glyphs[(b'?' - b' ') as usize]
    }

    /// Whether the font has a glyph of its own for `c`.
    #[cfg(test)]
    pub fn has(&self, c: char) -> bool {
        let c = c.to_ascii_uppercase();
        (' '..='~').contains(&c) && self.glyphs[c as usize - 32].0 >= 0.0
    }

    /// How far the pen moves after `c`, in font units, for a stroke `weight` units wide.
    pub fn advance(&self, c: char, weight: f32, tracking: f32) -> f32 {
        self.glyph(c).0 + weight + tracking
    }

    /// Width of a run of text in font units, from the left edge of the first stroke to the
    /// right edge of the last.
    pub fn measure(&self, text: &str, weight: f32, tracking: f32) -> f32 {
        let w: f32 = text
            .chars()
            .map(|c| self.advance(c, weight, tracking))
            .sum();
        (w - tracking).max(0.0)
    }

    /// Appends the centre lines of `c` to `path`, with the pen's left edge at the transform's
    /// origin (x) and the top of the capitals at its origin (y).
    pub fn emit(&self, c: char, xf: &Xf, weight: f32, path: &mut Path) {
        let inset = weight * 0.5;
        let pt = |x: f32, y: f32| xf.apply(x + inset, y);
        for cmd in self.glyph(c).1.split(' ') {
            let Some(op) = cmd.chars().next() else {
                continue;
            };
            let mut n = [0.0f32; 6];
            for (slot, v) in n.iter_mut().zip(cmd[1..].split(',')) {
                *slot = v.parse().unwrap_or(0.0);
            }
            match op {
                'M' => {
                    let (x, y) = pt(n[0], n[1]);
                    path.move_to(x, y);
                }
                'L' => {
                    let (x, y) = pt(n[0], n[1]);
                    path.line_to(x, y);
                }
                'A' | 'B' => {
                    if op == 'B' {
                        path.lift();
                    }
                    let [cx, cy, rx, ry, a0, a1] = n;
                    let steps = arc_steps(rx.max(ry) * xf.u, a1 - a0);
                    for i in 0..=steps {
                        let (s, c) = sin_cos_deg(a0 + (a1 - a0) * i as f32 / steps as f32);
                        let (x, y) = pt(cx + rx * c, cy + ry * s);
                        path.line_to(x, y);
                    }
                }
                _ => {}
            }
        }
        path.lift();
    }
}

impl Default for Font {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_printable_ascii() {
        let f = Font::new();
        for c in ' '..='~' {
            assert!(f.has(c), "missing glyph for {c:?}");
            let mut p = Path::new();
            f.emit(c, &Xf::new(0.0, 0.0, 1.0, 0.0), 2.0, &mut p);
            assert!(c == ' ' || !p.stroke(2.0).is_empty(), "empty glyph {c:?}");
        }
        assert!(!f.has('é'));
    }
}
