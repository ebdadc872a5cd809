use alloc::vec::Vec;

use super::{H, W};
use crate::canvas::*;
use crate::font::Font;
use crate::math::Rng;
use crate::text::{Align, label, label_width};

pub(super) fn graph(c: &mut Canvas, f: &Font) {
    c.fill(&Everywhere, hex(0xfbfaf4));
    for i in 0..=30 {
        let v = i as f32 * 20.0;
        let major = i % 5 == 0;
        let (col, w) = if major {
            (hex(0xb9d0e8), 1.6)
        } else {
            (hex(0xdde8f3), 1.0)
        };
        c.fill(&rect(v - w * 0.5, 0.0, w, H), col);
        if v <= H {
            c.fill(&rect(0.0, v - w * 0.5, W, w), col);
        }
    }
    let (ox, oy) = (70.0, 390.0);
    let axis = hex(0x334155);
    c.fill(&capsule(ox, oy, 556.0, oy, 3.5), axis);
    c.fill(&capsule(ox, oy, ox, 44.0, 3.5), axis);
    c.fill(
        &Grown(
            poly(&[(570.0, oy), (552.0, oy - 8.0), (552.0, oy + 8.0)]),
            1.0,
        ),
        axis,
    );
    c.fill(
        &Grown(poly(&[(ox, 30.0), (ox - 8.0, 48.0), (ox + 8.0, 48.0)]), 1.0),
        axis,
    );
    c.text(
        &label(f, "X", 566.0, oy + 14.0, 14.0, Align::Center, 2.0, 0.0),
        axis,
    );
    c.text(
        &label(f, "Y", ox - 22.0, 34.0, 14.0, Align::Center, 2.0, 0.0),
        axis,
    );

    // The data: no pattern whatsoever.
    let mut rng = Rng::new(77);
    let mut pts = Vec::new();
    for _ in 0..64 {
        pts.push((rng.range(92.0, 540.0), rng.range(70.0, 372.0)));
    }
    for &(x, y) in &pts {
        c.shadow(&circle(x, y, 6.5), 1.0, 2.0, 4.0, 0.2);
    }
    for (i, &(x, y)) in pts.iter().enumerate() {
        let col = if i % 4 == 0 {
            hex(0x14b8a6)
        } else {
            hex(0x4f6df5)
        };
        c.fill(&circle(x, y, 7.0), hex(0xffffff));
        c.fill_a(&circle(x, y, 5.5), col, 0.85);
    }

    // The hero.
    let (x0, y0, x1, y1) = (84.0, 372.0, 548.0, 74.0);
    c.soft(&capsule(x0, y0, x1, y1, 30.0), hex(0xffd166), 0.55, 24.0);
    c.shadow(&capsule(x0, y0, x1, y1, 9.0), 2.0, 4.0, 8.0, 0.3);
    c.fill(
        &capsule(x0, y0, x1, y1, 9.0),
        lgrad(x0, y0, x1, y1, hex(0xff9f1c), hex(0xff3d6e)),
    );
    c.fill_a(
        &capsule(x0 + 6.0, y0 - 6.0, x1 - 4.0, y1 - 3.0, 2.0),
        hex(0xffffff),
        0.5,
    );
    for &(x, y, r) in &[
        (x1 + 4.0, y1 - 4.0, 20.0),
        (x1 - 40.0, y1 - 8.0, 10.0),
        (x1 + 16.0, y1 + 30.0, 8.0),
    ] {
        c.soft(&circle(x, y, r * 0.6), hex(0xffe08a), 0.6, r);
        c.fill(&star(x, y, r, r * 0.28, 4, -90.0), hex(0xffc93c));
        c.fill(&star(x, y, r * 0.55, r * 0.16, 4, -90.0), hex(0xffffff));
    }

    // Its proud label.
    let card = rrect(372.0, 262.0, 162.0, 44.0, 12.0);
    c.shadow(&card, 0.0, 5.0, 14.0, 0.25);
    c.fill(&card, hex(0xffffff));
    c.fill_a(&Outline(card, 2.0), hex(0xff9f1c), 0.9);
    let ink = hex(0x1f2937);
    c.text(
        &label(f, "R", 392.0, 276.0, 17.0, Align::Left, 2.0, 0.0),
        ink,
    );
    let rw = label_width(f, "R", 17.0, 2.0);
    c.text(
        &label(f, "2", 394.0 + rw, 270.0, 10.0, Align::Left, 1.8, 0.0),
        ink,
    );
    c.text(
        &label(f, "= 0.03", 408.0 + rw, 276.0, 17.0, Align::Left, 2.0, 0.0),
        ink,
    );
}
