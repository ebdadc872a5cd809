use super::{H, W};
use crate::canvas::*;
use crate::font::Font;
use crate::math::{Rng, sin_cos_deg};
use crate::text::{Align, label};

pub(super) fn thesis(c: &mut Canvas, f: &Font) {
    c.fill(&Everywhere, vgrad(0.0, 360.0, hex(0x1b1f45), hex(0x3a2d5f)));
    // Window with the moon.
    let frame = rrect(40.0, 44.0, 156.0, 124.0, 6.0);
    c.shadow(&frame, 3.0, 5.0, 10.0, 0.35);
    c.fill(&frame, hex(0x4c4577));
    let sky = rect(49.0, 53.0, 138.0, 106.0);
    c.fill(&sky, vgrad(53.0, 159.0, hex(0x0b1030), hex(0x253674)));
    let mut rng = Rng::new(9);
    for _ in 0..18 {
        let (x, y) = (rng.range(52.0, 184.0), rng.range(56.0, 150.0));
        c.fill_a(
            &circle(x, y, rng.range(0.7, 1.6)),
            hex(0xffffff),
            rng.range(0.5, 0.95),
        );
    }
    c.soft(&circle(150.0, 86.0, 30.0), hex(0xfff3c4), 0.25, 24.0);
    c.fill(
        &Minus(circle(150.0, 86.0, 19.0), circle(160.0, 80.0, 16.0)),
        hex(0xfff1bd),
    );
    c.fill(&rect(114.0, 53.0, 5.0, 106.0), hex(0x4c4577));
    c.fill(&rect(49.0, 102.0, 138.0, 5.0), hex(0x4c4577));

    // Lamp light.
    c.fill(
        &Everywhere,
        rgrad(
            450.0,
            210.0,
            330.0,
            hex(0xffcf7a).alpha(0.42),
            hex(0xffcf7a).alpha(0.0),
        ),
    );
    c.soft(
        &poly(&[
            (412.0, 196.0),
            (498.0, 196.0),
            (610.0, 362.0),
            (300.0, 362.0),
        ]),
        hex(0xffe2a8),
        0.18,
        30.0,
    );

    // Desk.
    c.fill(
        &rect(0.0, 360.0, W, 90.0),
        vgrad(360.0, H, hex(0x6f4a2c), hex(0x3f2816)),
    );
    c.fill_a(&rect(0.0, 360.0, W, 3.0), hex(0xc08a58), 0.8);
    c.fill(
        &Everywhere,
        rgrad(
            450.0,
            372.0,
            260.0,
            hex(0xffd28a).alpha(0.25),
            hex(0xffd28a).alpha(0.0),
        ),
    );

    // The stack.
    c.soft(
        &ellipse(238.0, 366.0, 120.0, 10.0),
        hex(0x000000),
        0.45,
        14.0,
    );
    let mut rng = Rng::new(4);
    let mut y = 354.0;
    let mut i = 0;
    while y > 128.0 {
        let lean = (354.0 - y) * 0.05;
        let x = 150.0 + rng.range(-5.0, 5.0) + lean;
        let w = 178.0 + rng.range(-4.0, 4.0);
        let sheet = rrect(x, y, w, 7.0, 1.5);
        let col = if i % 3 == 0 {
            hex(0xf2ead8)
        } else {
            hex(0xfbf7ee)
        };
        c.fill(&sheet, lgrad(x, 0.0, x + w, 0.0, col.shade(0.9), col));
        c.fill_a(
            &capsule(x + 1.0, y + 6.5, x + w - 1.0, y + 6.5, 1.0),
            hex(0xa8957a),
            0.7,
        );
        y -= 7.0;
        i += 1;
    }
    let top_y = y + 7.0;
    let lean = (354.0 - top_y) * 0.05;
    let cover = rrect(146.0 + lean, top_y - 10.0, 186.0, 12.0, 3.0);
    c.fill(
        &cover,
        vgrad(top_y - 10.0, top_y + 2.0, hex(0xc0392b), hex(0x8e2418)),
    );
    let note = rot_rect(268.0 + lean, top_y - 34.0, 92.0, 64.0, -7.0);
    c.shadow(&note, 2.0, 4.0, 8.0, 0.35);
    c.fill(
        &note,
        vgrad(top_y - 66.0, top_y - 2.0, hex(0xfff27a), hex(0xf7d94c)),
    );
    let blue = hex(0x1e3a8a);
    c.text(
        &label(
            f,
            "FINAL_V7",
            268.0 + lean,
            top_y - 56.0,
            14.0,
            Align::Center,
            1.7,
            -7.0,
        ),
        blue,
    );
    c.text(
        &label(
            f,
            "(REAL)",
            271.0 + lean,
            top_y - 34.0,
            12.0,
            Align::Center,
            1.6,
            -7.0,
        ),
        blue,
    );

    // Coffee mug with steam.
    let (mx, my, mw, mh) = (392.0, 282.0, 74.0, 80.0);
    c.soft(
        &ellipse(mx + mw * 0.5 + 6.0, my + mh + 2.0, 52.0, 7.0),
        hex(0x000000),
        0.45,
        10.0,
    );
    c.fill(
        &Outline(ellipse(mx + mw, my + 36.0, 20.0, 23.0), 10.0),
        hex(0x1b7f74),
    );
    let body = rrect(mx, my, mw, mh, 12.0);
    c.fill(
        &body,
        lgrad(mx, 0.0, mx + mw, 0.0, hex(0x3cc8b4), hex(0x167065)),
    );
    c.fill(
        &ellipse(mx + mw * 0.5, my + 2.0, mw * 0.5, 8.0),
        hex(0x1b8f82),
    );
    c.fill(
        &ellipse(mx + mw * 0.5, my + 3.0, mw * 0.5 - 5.0, 5.5),
        hex(0x4a2a14),
    );
    c.fill_a(
        &capsule(mx + 12.0, my + 18.0, mx + 12.0, my + mh - 14.0, 6.0),
        hex(0xffffff),
        0.3,
    );
    c.text(
        &label(
            f,
            "PHD",
            mx + mw * 0.5 + 3.0,
            my + 34.0,
            16.0,
            Align::Center,
            2.0,
            0.0,
        ),
        hex(0xffffff),
    );
    for k in 0..3 {
        let x = mx + 20.0 + k as f32 * 17.0;
        let mut p = Path::new();
        for i in 0..=20 {
            let t = i as f32 / 20.0;
            let (s, _) = sin_cos_deg(t * 400.0 + k as f32 * 70.0);
            let (px, py) = (x + 6.0 * s, my - 12.0 - t * 70.0);
            if i == 0 {
                p.move_to(px, py)
            } else {
                p.line_to(px, py)
            };
        }
        c.soft(&p.stroke(5.0), hex(0xffffff), 0.35, 5.0);
    }
    // Coffee rings and a crumpled page.
    c.fill_a(
        &Outline(ellipse(110.0, 404.0, 34.0, 9.0), 3.0),
        hex(0x2a170a),
        0.35,
    );
    c.fill_a(
        &Outline(ellipse(330.0, 420.0, 30.0, 8.0), 3.0),
        hex(0x2a170a),
        0.3,
    );
    let (bx, by) = (50.0, 384.0);
    let ball = circle(bx, by, 17.0);
    c.shadow(&ball, 2.0, 4.0, 6.0, 0.4);
    c.fill(
        &ball,
        rgrad(bx - 5.0, by - 6.0, 20.0, hex(0xfffdf6), hex(0xd9d0bd)),
    );
    let mut p = Path::new();
    p.poly(&[(bx - 12.0, by - 8.0), (bx, by + 2.0), (bx - 4.0, by + 12.0)])
        .poly(&[(bx + 6.0, by - 12.0), (bx, by + 2.0), (bx + 12.0, by + 8.0)]);
    c.fill_a(&p.stroke(1.5), hex(0x9b8f78), 0.8);

    // Desk lamp.
    c.fill(&ellipse(548.0, 362.0, 34.0, 8.0), hex(0x2b2b33));
    let mut arm = Path::new();
    arm.poly(&[(548.0, 358.0), (568.0, 258.0), (470.0, 168.0)]);
    c.fill(&arm.stroke(7.0), hex(0x3a3a44));
    c.fill(&circle(568.0, 258.0, 7.0), hex(0x2b2b33));
    let shade = poly(&[
        (432.0, 150.0),
        (484.0, 150.0),
        (502.0, 196.0),
        (412.0, 196.0),
    ]);
    c.fill(
        &Grown(shade, 3.0),
        lgrad(412.0, 0.0, 502.0, 0.0, hex(0x3b3b47), hex(0x23232b)),
    );
    c.soft(&ellipse(457.0, 197.0, 42.0, 9.0), hex(0xfff1c9), 0.95, 6.0);
}
