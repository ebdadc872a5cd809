use super::{H, W};
use crate::canvas::*;
use crate::font::Font;
use crate::math::{Rng, sin_cos_deg};
use crate::text::{Align, label, label_width};

pub(super) fn chalkboard(c: &mut Canvas, f: &Font) {
    // Wooden frame with a little grain.
    c.fill(&Everywhere, vgrad(0.0, H, hex(0xa0703f), hex(0x6a4223)));
    let mut rng = Rng::new(11);
    for y in [
        4.0, 9.0, 15.0, 397.0, 404.0, 411.0, 418.0, 425.0, 433.0, 441.0,
    ] {
        let mut p = Path::new();
        let mut x = -10.0;
        p.move_to(x, y);
        while x < W + 10.0 {
            x += 40.0;
            p.line_to(x, y + rng.range(-1.5, 1.5));
        }
        c.fill_a(&p.stroke(rng.range(1.0, 2.5)), hex(0x4a2c14), 0.22);
    }
    // The board.
    let board = rrect(22.0, 22.0, W - 44.0, 368.0, 5.0);
    c.shadow(&board, 0.0, 2.0, 10.0, 0.7);
    c.fill(
        &board,
        rgrad(290.0, 190.0, 420.0, hex(0x2f6149), hex(0x17352a)),
    );
    c.textured(
        &board,
        hex(0xd8e8dc),
        0.11,
        Grain {
            cell: 36.0,
            lo: 0.0,
            seed: 3,
        },
    );
    // Eraser smudges: wide, soft wipes.
    for &(cx, cy, rx, ry, a) in &[
        (170.0, 300.0, 150.0, 34.0, 0.10),
        (450.0, 120.0, 120.0, 30.0, 0.08),
        (330.0, 215.0, 210.0, 22.0, 0.06),
        (120.0, 80.0, 90.0, 26.0, 0.07),
    ] {
        c.soft(
            &Inter(ellipse(cx, cy, rx, ry), board),
            hex(0xe8f0ea),
            a,
            40.0,
        );
    }
    c.fill_a(&Outline(board, 3.0), hex(0x0c1f17), 0.6);

    // Chalk writing.
    let chalk = hex(0xf4f2e8);
    let grain = |seed| {
        Some(Grain {
            cell: 1.0,
            lo: 0.35,
            seed,
        })
    };
    let write = |c: &mut Canvas, s: &str, x: f32, y: f32, size: f32, angle: f32, seed: u32| {
        c.text_with(
            &label(f, s, x, y, size, Align::Left, 1.5, angle),
            chalk.into(),
            0.92,
            grain(seed),
        );
    };
    write(c, "E = MC", 58.0, 128.0, 34.0, -4.0, 20);
    let ew = label_width(f, "E = MC", 34.0, 1.5);
    write(c, "2", 58.0 + ew + 4.0, 108.0, 18.0, -4.0, 21);
    // An integral sign and its integrand.
    let mut p = Path::new();
    p.arc(92.0, 212.0, 8.0, 8.0, -20.0, -180.0)
        .line_to(84.0, 290.0)
        .arc(76.0, 290.0, 8.0, 8.0, 0.0, 160.0);
    c.paint(&p.stroke(5.0), &chalk.into(), 0.92, 1.0, grain(22));
    write(c, "F(X) DX = ?", 110.0, 236.0, 30.0, -2.0, 23);
    let mut p = Path::new();
    p.line(110.0, 285.0, 330.0, 278.0);
    c.paint(&p.stroke(3.5), &chalk.into(), 0.75, 1.0, grain(24));
    // A sketched function on axes.
    let mut p = Path::new();
    p.line(372.0, 270.0, 372.0, 130.0)
        .line_to(366.0, 142.0)
        .move_to(372.0, 130.0)
        .line_to(378.0, 142.0);
    p.line(362.0, 250.0, 548.0, 250.0)
        .line_to(536.0, 244.0)
        .move_to(548.0, 250.0)
        .line_to(536.0, 256.0);
    c.paint(&p.stroke(3.5), &chalk.into(), 0.9, 1.0, grain(25));
    let mut p = Path::new();
    for i in 0..=64 {
        let t = i as f32;
        let (s, _) = sin_cos_deg(t * 17.0);
        let y = 212.0 - 62.0 * s * (1.0 - t / 80.0);
        if i == 0 {
            p.move_to(376.0 + t * 2.6, y)
        } else {
            p.line_to(376.0 + t * 2.6, y)
        };
    }
    c.paint(&p.stroke(3.5), &hex(0xf9e79f).into(), 0.9, 1.0, grain(26));
    // A right triangle with its sides named.
    let mut p = Path::new();
    p.poly(&[
        (420.0, 338.0),
        (540.0, 338.0),
        (420.0, 285.0),
        (420.0, 338.0),
    ]);
    p.poly(&[(420.0, 326.0), (432.0, 326.0), (432.0, 338.0)]);
    c.paint(&p.stroke(3.0), &chalk.into(), 0.85, 1.0, grain(27));
    write(c, "A", 404.0, 306.0, 13.0, 0.0, 28);
    write(c, "B", 474.0, 344.0, 13.0, 0.0, 29);
    write(c, "C", 484.0, 292.0, 13.0, 0.0, 30);
    // P = NP?, with the = struck into a ≠, and a pink circle round it.
    write(c, "P = NP ?", 352.0, 52.0, 30.0, 3.0, 31);
    let mut p = Path::new();
    p.line(396.0, 86.0, 408.0, 56.0);
    c.paint(&p.stroke(3.5), &chalk.into(), 0.9, 1.0, grain(32));
    let mut p = Path::new();
    p.arc(425.0, 72.0, 92.0, 36.0, 160.0, 530.0);
    c.paint(&p.stroke(3.0), &hex(0xf6a5c0).into(), 0.85, 1.0, grain(33));

    // Chalk tray with chalk and an eraser.
    let tray = rrect(14.0, 388.0, W - 28.0, 22.0, 4.0);
    c.shadow(&tray, 0.0, 6.0, 12.0, 0.5);
    c.fill(&tray, vgrad(388.0, 410.0, hex(0xb9854e), hex(0x7b4f2a)));
    c.fill_a(
        &capsule(16.0, 389.0, W - 16.0, 389.0, 2.0),
        hex(0xe2b47c),
        0.6,
    );
    for &(x, w, col) in &[
        (90.0, 40.0, 0xf7f5ee),
        (142.0, 24.0, 0xf7e08a),
        (478.0, 30.0, 0xf4a7b9),
    ] {
        let s = rrect(x, 379.0, w, 10.0, 5.0);
        c.shadow(&s, 1.0, 2.0, 4.0, 0.35);
        c.fill(&s, vgrad(379.0, 389.0, hex(col), hex(col).shade(0.85)));
    }
    let felt = rrect(300.0, 372.0, 96.0, 18.0, 4.0);
    c.shadow(&felt, 2.0, 3.0, 6.0, 0.4);
    c.fill(&felt, hex(0x4a4f5c));
    c.fill(
        &rrect(300.0, 366.0, 96.0, 12.0, 4.0),
        vgrad(366.0, 378.0, hex(0xd7ac74), hex(0xa67843)),
    );
}
