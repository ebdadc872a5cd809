use super::H;
use crate::canvas::*;
use crate::font::Font;
use crate::text::{Align, label, label_width};

pub(super) fn latex(c: &mut Canvas, f: &Font) {
    c.fill(&Everywhere, vgrad(0.0, H, hex(0x2d3442), hex(0x191d26)));
    let page = rrect(118.0, 16.0, 364.0, 420.0, 2.0);
    c.shadow(&page, 0.0, 10.0, 30.0, 0.55);
    c.fill(&page, hex(0xfdfdfb));
    let ink = hex(0x2b2b2b);
    let grey = hex(0x9aa0a8);
    let line = |c: &mut Canvas, x0: f32, x1: f32, y: f32, w: f32, col: Rgb| {
        c.fill(&capsule(x0, y, x1, y, w), col)
    };

    line(c, 215.0, 290.0, 58.0, 10.0, ink);
    line(c, 302.0, 385.0, 58.0, 10.0, ink);
    line(c, 245.0, 355.0, 80.0, 5.0, hex(0x555a62));
    line(c, 272.0, 328.0, 95.0, 4.0, grey);
    c.text(
        &label(f, "ABSTRACT", 300.0, 112.0, 8.0, Align::Center, 1.9, 0.0),
        ink,
    );
    for (i, y) in [130.0, 141.0, 152.0, 163.0].iter().enumerate() {
        line(c, 168.0, if i == 3 { 330.0 } else { 432.0 }, *y, 3.4, grey);
    }
    c.text(
        &label(
            f,
            "1  INTRODUCTION",
            148.0,
            178.0,
            11.0,
            Align::Left,
            2.1,
            0.0,
        ),
        ink,
    );
    for (i, y) in [206.0, 219.0, 232.0, 245.0, 258.0].iter().enumerate() {
        line(
            c,
            if i == 0 { 162.0 } else { 150.0 },
            if i == 4 { 360.0 } else { 452.0 },
            *y,
            3.4,
            grey,
        );
    }
    c.text(
        &label(f, "E = MC", 272.0, 306.0, 16.0, Align::Left, 1.6, 0.0),
        ink,
    );
    let ew = label_width(f, "E = MC", 16.0, 1.6);
    c.text(
        &label(f, "2", 275.0 + ew, 301.0, 9.0, Align::Left, 1.6, 0.0),
        ink,
    );
    c.text(
        &label(f, "(1)", 452.0, 308.0, 11.0, Align::Right, 1.6, 0.0),
        ink,
    );
    for (i, y) in [340.0, 353.0, 366.0, 379.0, 392.0, 405.0]
        .iter()
        .enumerate()
    {
        line(
            c,
            if i == 4 { 162.0 } else { 150.0 },
            if i == 3 { 300.0 } else { 452.0 },
            *y,
            3.4,
            grey,
        );
    }
    c.text(
        &label(f, "1", 300.0, 420.0, 7.0, Align::Center, 1.8, 0.0),
        grey,
    );

    // The error banner.
    let (by, bh) = (200.0, 86.0);
    let banner = rrect(28.0, by, 544.0, bh, 14.0);
    c.shadow(&banner, 0.0, 10.0, 26.0, 0.5);
    c.fill(&banner, vgrad(by, by + bh, hex(0xe5484d), hex(0xb4232a)));
    c.fill_a(
        &capsule(42.0, by + 3.5, 558.0, by + 3.5, 2.0),
        hex(0xffffff),
        0.3,
    );
    let tri = Grown(
        poly(&[(78.0, by + 18.0), (106.0, by + 68.0), (50.0, by + 68.0)]),
        4.0,
    );
    c.shadow(&tri, 0.0, 2.0, 4.0, 0.3);
    c.fill(
        &tri,
        vgrad(by + 14.0, by + 72.0, hex(0xffe066), hex(0xfab005)),
    );
    c.text(
        &label(f, "!", 78.0, by + 33.0, 24.0, Align::Center, 2.4, 0.0),
        hex(0x3b2f00),
    );
    c.text(
        &label(
            f,
            "! UNDEFINED CONTROL SEQUENCE.",
            128.0,
            by + 19.0,
            19.0,
            Align::Left,
            2.0,
            0.0,
        ),
        hex(0xffffff),
    );
    c.text_with(
        &label(
            f,
            "L.42 \\INCLUDEGRAPHICS{PROOF.PDF}",
            128.0,
            by + 52.0,
            13.0,
            Align::Left,
            1.8,
            0.0,
        ),
        hex(0xffe3e3).into(),
        0.9,
        None,
    );
}
