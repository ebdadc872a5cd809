use alloc::vec::Vec;

use super::{H, W};
use crate::canvas::*;
use crate::font::Font;
use crate::math::{Rng, sin_cos_deg};
use crate::text::{Align, label};

pub(super) fn lab(c: &mut Canvas, f: &Font) {
    c.fill(&Everywhere, vgrad(0.0, 340.0, hex(0xe6f7f5), hex(0xbfe6e1)));
    for i in 0..13 {
        let x = i as f32 * 50.0;
        c.fill_a(&rect(x - 1.0, 0.0, 2.0, 340.0), hex(0xffffff), 0.55);
    }
    for i in 0..7 {
        let y = i as f32 * 50.0;
        c.fill_a(&rect(0.0, y - 1.0, W, 2.0), hex(0xffffff), 0.55);
    }
    // A benzene ring on the wall.
    let teal = hex(0x3d7f86);
    let mut p = Path::new();
    let mut pts = Vec::new();
    for i in 0..=6 {
        let (s, co) = sin_cos_deg(i as f32 * 60.0 - 90.0);
        pts.push((84.0 + 34.0 * co, 82.0 + 34.0 * s));
    }
    p.poly(&pts).lift();
    p.arc(84.0, 82.0, 19.0, 19.0, 0.0, 360.0);
    c.fill_a(&p.stroke(4.0), teal, 0.55);
    for &(x, y) in pts.iter().take(6) {
        c.fill_a(&circle(x, y, 6.0), teal, 0.55);
    }
    c.text_with(
        &label(f, "C6H6", 84.0, 128.0, 11.0, Align::Center, 1.8, 0.0),
        teal.into(),
        0.6,
        None,
    );

    // Bench.
    c.fill(
        &rect(0.0, 344.0, W, 106.0),
        vgrad(344.0, H, hex(0x3d4a5c), hex(0x222a36)),
    );
    c.fill(
        &rect(0.0, 336.0, W, 10.0),
        vgrad(336.0, 346.0, hex(0x6b7c93), hex(0x4a5870)),
    );

    let glass = hex(0xffffff);
    let rim = hex(0x4f8a94);

    // Round-bottom flask with green liquid.
    let rb = Union(
        circle(118.0, 282.0, 54.0),
        rrect(104.0, 170.0, 28.0, 80.0, 4.0),
    );
    c.soft(&ellipse(118.0, 338.0, 60.0, 6.0), hex(0x000000), 0.35, 10.0);
    c.fill_a(&rb, glass, 0.4);
    let liquid = Inter(Grown(&rb, -4.0), Below(272.0));
    c.fill(&liquid, vgrad(272.0, 336.0, hex(0x9af0a4), hex(0x23a455)));
    c.fill_a(&capsule(80.0, 272.0, 156.0, 272.0, 3.0), hex(0xd7ffdc), 0.8);
    c.fill_a(&Outline(&rb, 3.0), rim, 0.75);
    c.fill(&rrect(100.0, 164.0, 36.0, 12.0, 4.0), hex(0xc8925a));
    c.fill_a(&capsule(86.0, 256.0, 80.0, 290.0, 7.0), hex(0xffffff), 0.55);

    // Erlenmeyer flask, bubbling.
    let er = Grown(
        poly(&[
            (280.0, 116.0),
            (320.0, 116.0),
            (320.0, 196.0),
            (402.0, 330.0),
            (198.0, 330.0),
            (280.0, 196.0),
        ]),
        5.0,
    );
    c.soft(
        &ellipse(300.0, 338.0, 118.0, 8.0),
        hex(0x000000),
        0.35,
        12.0,
    );
    c.fill_a(&er, glass, 0.42);
    let level = 236.0;
    c.fill(
        &Inter(Grown(&er, -4.0), Below(level)),
        vgrad(level, 334.0, hex(0xff6fb0), hex(0x8e3bd6)),
    );
    c.fill_a(
        &capsule(254.0, level, 346.0, level, 3.5),
        hex(0xffd1ea),
        0.9,
    );
    let mut rng = Rng::new(12);
    for _ in 0..14 {
        let y = rng.range(level + 12.0, 320.0);
        let half = 22.0 + (y - 196.0) * 0.61;
        let x = 300.0 + rng.range(-half + 12.0, half - 12.0);
        let r = rng.range(2.0, 6.0);
        c.fill_a(&circle(x, y, r), hex(0xffffff), 0.45);
    }
    c.fill_a(&Outline(&er, 3.5), rim, 0.75);
    c.fill(
        &rrect(270.0, 104.0, 60.0, 14.0, 5.0),
        lgrad(270.0, 0.0, 330.0, 0.0, hex(0xe8f6f8), hex(0x9cc9cf)),
    );
    c.fill_a(
        &capsule(288.0, 128.0, 288.0, 188.0, 6.0),
        hex(0xffffff),
        0.7,
    );
    c.fill_a(
        &capsule(272.0, 212.0, 226.0, 300.0, 8.0),
        hex(0xffffff),
        0.45,
    );
    for &(x, y, r) in &[(296.0, 86.0, 7.0), (308.0, 58.0, 10.0), (292.0, 28.0, 13.0)] {
        let b = circle(x, y, r);
        c.fill_a(&b, hex(0xf3c6ff), 0.35);
        c.fill_a(&Outline(b, 2.5), hex(0xb06ad8), 0.7);
        c.fill_a(
            &circle(x - r * 0.35, y - r * 0.35, r * 0.25),
            hex(0xffffff),
            0.9,
        );
    }

    // Test tubes in a rack.
    c.soft(&ellipse(505.0, 340.0, 76.0, 6.0), hex(0x000000), 0.35, 10.0);
    c.fill(
        &rrect(440.0, 318.0, 130.0, 14.0, 4.0),
        vgrad(318.0, 332.0, hex(0xd9a066), hex(0xa36a33)),
    );
    for (i, &(col0, col1, lv)) in [
        (0xffc266u32, 0xff8a1f, 250.0),
        (0x7cc4ff, 0x1f7ae0, 228.0),
        (0xfff080, 0xf2c500, 268.0),
    ]
    .iter()
    .enumerate()
    {
        let x = 470.0 + i as f32 * 38.0;
        let tube = capsule(x, 180.0, x, 312.0, 24.0);
        c.fill_a(&tube, glass, 0.45);
        c.fill(
            &Inter(Grown(&tube, -3.0), Below(lv)),
            vgrad(lv, 318.0, hex(col0), hex(col1)),
        );
        c.fill_a(&Outline(&tube, 2.5), rim, 0.75);
        c.fill_a(
            &capsule(x - 5.0, 190.0, x - 5.0, 300.0, 4.0),
            hex(0xffffff),
            0.6,
        );
    }
    c.fill(
        &rrect(440.0, 262.0, 130.0, 14.0, 4.0),
        vgrad(262.0, 276.0, hex(0xe3ab72), hex(0xb27640)),
    );
    c.fill(&rect(444.0, 270.0, 8.0, 50.0), hex(0xa36a33));
    c.fill(&rect(558.0, 270.0, 8.0, 50.0), hex(0xa36a33));
}
