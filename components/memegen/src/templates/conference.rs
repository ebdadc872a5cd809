use super::{H, W};
use crate::canvas::*;
use crate::font::Font;
use crate::math::Rng;
use crate::text::{Align, label};

pub(super) fn conference(c: &mut Canvas, f: &Font) {
    c.fill(&Everywhere, vgrad(0.0, H, hex(0x1a2240), hex(0x0b1020)));
    c.soft(
        &poly(&[
            (120.0, -20.0),
            (150.0, -20.0),
            (190.0, 460.0),
            (20.0, 460.0),
        ]),
        hex(0xfff4d6),
        0.08,
        40.0,
    );

    // Screen and slide.
    let screen = rrect(172.0, 28.0, 404.0, 256.0, 6.0);
    c.soft(&screen, hex(0x9db4ff), 0.18, 60.0);
    c.shadow(&screen, 0.0, 8.0, 20.0, 0.6);
    c.fill(&screen, hex(0xd9dee8));
    let (sx, sy, sw, sh) = (182.0, 38.0, 384.0, 236.0);
    c.fill(&rect(sx, sy, sw, sh), hex(0xffffff));
    let blue = hex(0x2563eb);
    c.fill(
        &rect(sx, sy, sw, 44.0),
        vgrad(sy, sy + 44.0, hex(0x3b82f6), hex(0x1d4ed8)),
    );
    c.text(
        &label(
            f,
            "RESULTS",
            sx + 18.0,
            sy + 13.0,
            19.0,
            Align::Left,
            2.0,
            0.0,
        ),
        hex(0xffffff),
    );
    for (i, len) in [96.0, 72.0, 110.0, 60.0].iter().enumerate() {
        let y = sy + 76.0 + i as f32 * 30.0;
        c.fill(&circle(sx + 24.0, y, 4.5), blue);
        c.fill(
            &capsule(sx + 38.0, y, sx + 38.0 + len, y, 6.0),
            hex(0xc5cbd6),
        );
    }
    let (bx0, by0) = (sx + 208.0, sy + 206.0);
    let bars = [46.0, 62.0, 54.0, 140.0];
    for (i, &h) in bars.iter().enumerate() {
        let x = bx0 + 12.0 + i as f32 * 40.0;
        let col = if i == 3 {
            vgrad(by0 - h, by0, hex(0xffa94d), hex(0xf76707))
        } else {
            vgrad(by0 - h, by0, hex(0xb8c2d6), hex(0x8e9ab3))
        };
        c.fill(
            &Inter(rrect(x, by0 - h, 28.0, h + 6.0, 5.0), Above(by0)),
            col,
        );
    }
    c.fill(&capsule(bx0, by0, bx0 + 168.0, by0, 2.5), hex(0x475569));
    c.fill(&capsule(bx0, by0, bx0, by0 - 150.0, 2.5), hex(0x475569));
    c.text(
        &label(
            f,
            "2/97",
            sx + sw - 10.0,
            sy + sh - 18.0,
            10.0,
            Align::Right,
            1.8,
            0.0,
        ),
        hex(0x94a3b8),
    );
    let (lx, ly) = (bx0 + 12.0 + 3.0 * 40.0 + 14.0, by0 - 118.0);
    c.soft(&circle(lx, ly, 14.0), hex(0xff2020), 0.55, 16.0);
    c.fill(&circle(lx, ly, 3.5), hex(0xff4d4d));
    c.fill(&circle(lx, ly, 1.6), hex(0xffffff));

    // Speaker and podium.
    let suit = hex(0x2b3655);
    c.fill(&rrect(74.0, 222.0, 104.0, 90.0, 40.0), suit);
    c.fill(&circle(126.0, 196.0, 26.0), hex(0x34416a));
    c.fill(
        &poly(&[(116.0, 224.0), (136.0, 224.0), (126.0, 262.0)]),
        hex(0xe2e8f0),
    );
    c.fill(
        &poly(&[(122.0, 228.0), (130.0, 228.0), (126.0, 256.0)]),
        hex(0xdc2626),
    );
    let podium = poly(&[(48.0, 262.0), (204.0, 262.0), (192.0, 452.0), (60.0, 452.0)]);
    c.shadow(&podium, 6.0, 6.0, 16.0, 0.5);
    c.fill(
        &podium,
        lgrad(48.0, 0.0, 204.0, 0.0, hex(0x9a6435), hex(0x5e3a1a)),
    );
    c.fill(
        &rrect(38.0, 250.0, 176.0, 18.0, 5.0),
        vgrad(250.0, 268.0, hex(0xb77a43), hex(0x85542a)),
    );
    let logo = circle(126.0, 330.0, 28.0);
    c.fill(
        &logo,
        rgrad(118.0, 320.0, 34.0, hex(0xffffff), hex(0xdbe4f3)),
    );
    c.fill_a(&Outline(circle(126.0, 330.0, 22.0), 2.5), blue, 0.8);
    c.text(
        &label(f, "N", 126.0, 321.0, 18.0, Align::Center, 2.4, 0.0),
        blue,
    );
    let mut mic = Path::new();
    mic.poly(&[(170.0, 252.0), (172.0, 236.0), (160.0, 222.0)]);
    c.fill(&mic.stroke(3.0), hex(0x1f2937));
    c.fill(&capsule(158.0, 220.0, 152.0, 213.0, 9.0), hex(0x111827));

    // Audience.
    let mut rng = Rng::new(21);
    let mut x = -10.0;
    let mut i = 0;
    while x < W + 40.0 {
        let r = rng.range(23.0, 29.0);
        let y = 398.0 + rng.range(-6.0, 6.0);
        let shade = hex(0x05070d).lerp(hex(0x141a2b), rng.f());
        c.fill(&rrect(x - 46.0, y + r - 6.0, 92.0, 90.0, 38.0), shade);
        c.fill(&circle(x, y, r), shade);
        if i % 3 == 1 {
            let sc = rrect(x - 26.0, y + 30.0, 52.0, 30.0, 3.0);
            c.soft(&sc, hex(0x9bd1ff), 0.35, 26.0);
            c.fill(&sc, vgrad(y + 30.0, y + 60.0, hex(0xc9e7ff), hex(0x7fb2e5)));
            c.soft(&ellipse(x, y + 10.0, r, r * 0.6), hex(0x9bd1ff), 0.18, 14.0);
        }
        x += rng.range(64.0, 78.0);
        i += 1;
    }
}
