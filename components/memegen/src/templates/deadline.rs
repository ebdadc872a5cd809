use super::vignette;
use crate::canvas::*;
use crate::font::Font;
use crate::math::sin_cos_deg;
use crate::text::{Align, label};

pub(super) fn deadline(c: &mut Canvas, f: &Font) {
    let (cx, cy) = (300.0, 235.0);
    c.fill(
        &Everywhere,
        rgrad(cx, cy, 440.0, hex(0xffe2ad), hex(0xff7e5f)),
    );
    c.fill_a(
        &Sunburst {
            cx,
            cy,
            n: 24,
            duty: 0.5,
            start: 0.0,
        },
        hex(0xffffff),
        0.13,
    );
    vignette(c, 0.2);

    // Calendar.
    let (kx, ky, kw, kh) = (52.0, 96.0, 236.0, 282.0);
    let card = rrect(kx, ky, kw, kh, 14.0);
    c.shadow(&card, 6.0, 10.0, 22.0, 0.3);
    c.fill(&card, hex(0xfffdf9));
    let head_h = 56.0;
    c.fill(
        &Inter(card, Above(ky + head_h)),
        vgrad(ky, ky + head_h, hex(0xf05252), hex(0xc81e1e)),
    );
    c.text(
        &label(
            f,
            "JUNE",
            kx + kw * 0.5,
            ky + 18.0,
            24.0,
            Align::Center,
            2.0,
            0.0,
        ),
        hex(0xffffff),
    );
    for rx in [kx + 50.0, kx + kw - 50.0] {
        c.fill(&circle(rx, ky + 8.0, 5.0), hex(0x8c1414));
        let ring = capsule(rx, ky - 14.0, rx, ky + 8.0, 8.0);
        c.shadow(&ring, 1.0, 2.0, 4.0, 0.3);
        c.fill(
            &ring,
            lgrad(rx - 4.0, 0.0, rx + 4.0, 0.0, hex(0x9aa1ad), hex(0x4b5563)),
        );
    }
    let (gx, gy) = (kx + 14.0, ky + head_h + 12.0);
    let (cw, ch) = ((kw - 28.0) / 7.0, (kh - head_h - 22.0) / 5.0);
    let red = hex(0xdc2626);
    for day in 1..=30u32 {
        let cell = day + 1;
        let (col, row) = ((cell % 7) as f32, (cell / 7) as f32);
        let (x, y) = (gx + col * cw, gy + row * ch);
        let num = alloc::format!("{day}");
        let ink = if day < 17 {
            hex(0xa3a9b4)
        } else {
            hex(0x4b5563)
        };
        c.text(
            &label(
                f,
                &num,
                x + cw * 0.5,
                y + ch * 0.5 - 6.0,
                12.0,
                Align::Center,
                1.8,
                0.0,
            ),
            ink,
        );
        if day < 17 {
            let mut p = Path::new();
            p.line(x + 7.0, y + 8.0, x + cw - 7.0, y + ch - 8.0).line(
                x + cw - 7.0,
                y + 8.0,
                x + 7.0,
                y + ch - 8.0,
            );
            c.fill_a(&p.stroke(2.4), red, 0.75);
        }
        if day == 17 {
            let mut p = Path::new();
            p.arc(
                x + cw * 0.5,
                y + ch * 0.5,
                cw * 0.62,
                ch * 0.5,
                -150.0,
                235.0,
            );
            c.fill_a(&p.stroke(4.0), red, 0.9);
        }
    }

    // Alarm clock.
    let (ox, oy, r) = (438.0, 246.0, 96.0);
    for side in [-1.0f32, 1.0] {
        let (s, co) = sin_cos_deg(-90.0 + side * 36.0);
        let (bx, by) = (ox + 104.0 * co, oy + 104.0 * s);
        let leg = capsule(
            ox + side * 52.0,
            oy + 70.0,
            ox + side * 72.0,
            oy + 118.0,
            12.0,
        );
        c.fill(&leg, hex(0x7f1d1d));
        let bell = Inter(circle(bx, by, 34.0), Above(by + 12.0));
        c.shadow(&bell, 2.0, 4.0, 8.0, 0.3);
        c.fill(
            &bell,
            rgrad(bx - 10.0, by - 14.0, 44.0, hex(0xf8fafc), hex(0x8b95a5)),
        );
        c.fill(
            &capsule(bx - side * 6.0, by + 8.0, bx + side * 6.0, by + 16.0, 8.0),
            hex(0x6b7280),
        );
    }
    c.fill(&capsule(ox, oy - 100.0, ox, oy - 128.0, 8.0), hex(0x6b7280));
    c.fill(
        &capsule(ox - 16.0, oy - 130.0, ox + 16.0, oy - 130.0, 9.0),
        hex(0x4b5563),
    );
    let body = circle(ox, oy, r);
    c.shadow(&body, 6.0, 10.0, 22.0, 0.35);
    c.fill(
        &body,
        rgrad(ox - 30.0, oy - 40.0, 140.0, hex(0xff6b6b), hex(0xb91c1c)),
    );
    let face = circle(ox, oy, r - 16.0);
    c.fill(
        &face,
        rgrad(ox, oy - 20.0, 100.0, hex(0xffffff), hex(0xe8ebf0)),
    );
    c.fill_a(&Outline(face, 3.0), hex(0x7f1d1d), 0.5);
    for i in 0..12 {
        let (s, co) = sin_cos_deg(i as f32 * 30.0);
        let (a, b, w) = if i % 3 == 0 {
            (56.0, 70.0, 5.0)
        } else {
            (62.0, 70.0, 3.0)
        };
        c.fill(
            &capsule(ox + a * co, oy + a * s, ox + b * co, oy + b * s, w),
            hex(0x374151),
        );
    }
    let hand = |c: &mut Canvas, deg: f32, len: f32, w: f32, col: Rgb| {
        let (s, co) = sin_cos_deg(deg);
        let h = capsule(
            ox - 10.0 * co,
            oy - 10.0 * s,
            ox + len * co,
            oy + len * s,
            w,
        );
        c.shadow(&h, 1.5, 2.5, 4.0, 0.3);
        c.fill(&h, col);
    };
    hand(c, -90.0 - 0.5 * 30.0 / 60.0 * 1.0, 40.0, 9.0, hex(0x1f2937));
    hand(c, -96.0, 60.0, 6.0, hex(0x1f2937));
    hand(c, 150.0, 64.0, 2.5, red);
    c.fill(&circle(ox, oy, 7.0), hex(0x1f2937));
    c.fill(&circle(ox, oy, 3.0), red);
    let mut p = Path::new();
    p.arc(ox, oy, r - 30.0, r - 30.0, 200.0, 250.0);
    c.soft(&p.stroke(9.0), hex(0xffffff), 0.6, 4.0);
    // Shaking.
    for side in [-1.0f32, 1.0] {
        for k in 0..3 {
            let rr = 132.0 + k as f32 * 14.0;
            let mut p = Path::new();
            let mid = if side < 0.0 { 215.0 } else { -35.0 };
            p.arc(ox, oy - 40.0, rr, rr, mid - 9.0, mid + 9.0);
            c.fill_a(&p.stroke(5.0), hex(0x7f1d1d), 0.55);
        }
    }
}
