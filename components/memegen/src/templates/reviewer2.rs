use alloc::vec::Vec;

use super::{H, vignette};
use crate::canvas::*;
use crate::font::Font;
use crate::math::{Rng, sin_cos_deg};
use crate::text::{Align, label};

pub(super) fn reviewer2(c: &mut Canvas, f: &Font) {
    c.fill(&Everywhere, vgrad(0.0, H, hex(0xe4ebf2), hex(0xb4c3d3)));
    vignette(c, 0.22);

    // A page underneath, askew.
    let under = rot_rect(296.0, 232.0, 300.0, 410.0, 5.0);
    c.shadow(&under, 3.0, 6.0, 18.0, 0.3);
    c.fill(&under, hex(0xf1ede4));

    let page = rrect(150.0, 22.0, 300.0, 412.0, 3.0);
    c.shadow(&page, 4.0, 8.0, 22.0, 0.35);
    c.fill(&page, vgrad(22.0, 434.0, hex(0xfffefa), hex(0xf6f2ea)));

    let ink = hex(0x3a3f47);
    let grey = hex(0xb9bec7);
    // Title, authors, abstract heading.
    c.fill(&capsule(192.0, 52.0, 300.0, 52.0, 9.0), ink);
    c.fill(&capsule(312.0, 52.0, 408.0, 52.0, 9.0), ink);
    c.fill(&capsule(230.0, 70.0, 370.0, 70.0, 5.0), hex(0x7b8290));
    c.text(
        &label(f, "ABSTRACT", 300.0, 86.0, 8.0, Align::Center, 1.8, 0.0),
        ink,
    );
    // Body text lines.
    let mut rng = Rng::new(2);
    let mut lines = Vec::new();
    let mut y = 108.0;
    while y < 420.0 {
        let end = if rng.f() < 0.2 {
            rng.range(240.0, 380.0)
        } else {
            425.0
        };
        c.fill(&capsule(176.0, y, end, y, 4.5), grey);
        lines.push((y, end));
        y += if end < 425.0 { 22.0 } else { 14.0 };
    }

    let red = hex(0xd7263d);
    // Strike-throughs.
    for &i in &[1usize, 2, 9] {
        let (y, end) = lines[i];
        let mut p = Path::new();
        p.line(170.0, y + 1.5, end + 6.0, y - 2.0);
        c.fill_a(&p.stroke(3.2), red, 0.9);
    }
    // A scribbled-over paragraph.
    let (ya, yb) = (lines[12].0 - 4.0, lines[15].0 + 4.0);
    let mut p = Path::new();
    let mut x = 178.0;
    p.move_to(x, ya);
    let mut up = false;
    while x < 300.0 {
        x += 9.0;
        p.line_to(x, if up { ya } else { yb });
        up = !up;
    }
    c.fill_a(&p.stroke(2.6), red, 0.85);
    // Margin notes.
    c.text(
        &label(f, "WHY?", 184.0, 170.0, 18.0, Align::Left, 1.6, -6.0),
        red,
    );
    c.text(
        &label(f, "CITE ME", 196.0, 262.0, 16.0, Align::Left, 1.6, 4.0),
        red,
    );
    c.text(
        &label(f, "NO.", 312.0, 354.0, 20.0, Align::Left, 1.7, -8.0),
        red,
    );
    let mut p = Path::new();
    p.arc(208.0, 179.0, 34.0, 19.0, 190.0, 560.0);
    c.fill_a(&p.stroke(2.6), red, 0.85);

    // The big circled 2.
    let two = label(f, "2", 404.0, 158.0, 150.0, Align::Center, 2.2, 7.0);
    c.text_with(
        &two,
        red.into(),
        0.95,
        Some(Grain {
            cell: 1.0,
            lo: 0.82,
            seed: 5,
        }),
    );
    let mut p = Path::new();
    for i in 0..=90 {
        let t = -115.0 + 395.0 * i as f32 / 90.0;
        let (s, co) = sin_cos_deg(t);
        let (w1, _) = sin_cos_deg(t * 3.0);
        let r = 1.0 + 0.035 * w1 + 0.05 * (i as f32 / 90.0);
        let (x, y) = (402.0 + 100.0 * r * co, 236.0 + 112.0 * r * s);
        if i == 0 {
            p.move_to(x, y)
        } else {
            p.line_to(x, y)
        };
    }
    c.paint(
        &p.stroke(7.0),
        &red.into(),
        0.92,
        1.0,
        Some(Grain {
            cell: 1.0,
            lo: 0.8,
            seed: 6,
        }),
    );

    // A red pen on the desk.
    let (x0, y0, x1, y1) = (28.0, 430.0, 172.0, 318.0);
    let body = capsule(x0, y0, x1, y1, 18.0);
    c.shadow(&body, 4.0, 7.0, 10.0, 0.35);
    c.fill(
        &body,
        lgrad(100.0, 364.0, 110.0, 378.0, hex(0xe8464f), hex(0x9e1b24)),
    );
    c.fill(
        &capsule(x0 + 10.0, y0 - 8.0, x0 + 62.0, y0 - 48.0, 19.0),
        lgrad(55.0, 400.0, 65.0, 414.0, hex(0x4a4e57), hex(0x23262c)),
    );
    c.fill(
        &capsule(x0 + 64.0, y0 - 50.0, x0 + 66.0, y0 - 51.5, 19.5),
        hex(0xc9ced6),
    );
    c.fill(
        &poly(&[
            (x1 - 6.0, y1 - 7.0),
            (x1 + 6.0, y1 + 7.0),
            (x1 + 24.0, y1 - 18.0),
        ]),
        hex(0xe0c9a6),
    );
    c.fill(&circle(x1 + 22.0, y1 - 16.0, 3.0), red);
}
