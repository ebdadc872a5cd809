use super::H;
use crate::canvas::*;
use crate::font::Font;
use crate::text::{Align, label};

pub(super) fn p_value(c: &mut Canvas, f: &Font) {
    c.fill(&Everywhere, vgrad(0.0, H, hex(0xeef3f9), hex(0xcfdaea)));
    let card = rrect(46.0, 28.0, 508.0, 394.0, 18.0);
    c.shadow(&card, 0.0, 10.0, 30.0, 0.25);
    c.fill(&card, hex(0xffffff));

    let (x0, x1, base, top) = (112.0, 524.0, 362.0, 84.0);
    let py = |p: f32| base - p / 0.12 * (base - top);
    // Grid and tick labels.
    for i in 1..=6 {
        let y = py(i as f32 * 0.02);
        c.fill(&capsule(x0, y, x1, y, 1.5), hex(0xe7ebf1));
    }
    let tick = hex(0x8a94a6);
    for (p, s) in [(0.0, "0"), (0.1, ".10")] {
        c.text(
            &label(f, s, x0 - 10.0, py(p) - 5.0, 10.0, Align::Right, 1.7, 0.0),
            tick,
        );
    }
    c.text(
        &label(f, "P-VALUE", 64.0, 223.0, 12.0, Align::Center, 1.8, -90.0),
        hex(0x4a5568),
    );

    // Bars.
    let values = [0.094, 0.051, 0.112, 0.071, 0.049, 0.086];
    let bw = 44.0;
    let step = (x1 - x0) / values.len() as f32;
    for (i, &v) in values.iter().enumerate() {
        let bx = x0 + step * (i as f32 + 0.5) - bw * 0.5;
        let by = py(v);
        let bar = Inter(rrect(bx, by, bw, base - by + 10.0, 9.0), Above(base));
        let (c0, c1) = match i {
            1 => (hex(0xffc36b), hex(0xf2862b)),
            4 => (hex(0x6fdc9f), hex(0x27a862)),
            _ => (hex(0xaebfd8), hex(0x7e95b9)),
        };
        c.shadow(&bar, 3.0, 4.0, 10.0, 0.18);
        c.fill(&bar, vgrad(by, base, c0, c1));
        c.fill_a(
            &capsule(bx + 9.0, by + 10.0, bx + 9.0, base - 8.0, 5.0),
            hex(0xffffff),
            0.25,
        );
        c.text(
            &label(
                f,
                ["I", "II", "III", "IV", "V", "VI"][i],
                bx + bw * 0.5,
                base + 12.0,
                11.0,
                Align::Center,
                1.8,
                0.0,
            ),
            tick,
        );
    }
    // The threshold.
    let ty = py(0.05);
    let red = hex(0xe63946);
    let mut x = x0;
    let mut p = Path::new();
    while x < x1 {
        p.line(x, ty, (x + 13.0).min(x1), ty);
        x += 22.0;
    }
    c.fill(&p.stroke(3.5), red);
    c.text(
        &label(f, ".05", x0 - 9.0, ty - 6.0, 12.0, Align::Right, 2.2, 0.0),
        red,
    );
    // The hero and the near miss.
    let bx4 = x0 + step * 4.5;
    let s = star(bx4, py(0.049) - 26.0, 17.0, 7.5, 5, -90.0);
    c.shadow(&s, 1.0, 2.0, 5.0, 0.25);
    c.fill(
        &s,
        vgrad(
            py(0.049) - 43.0,
            py(0.049) - 10.0,
            hex(0xffe066),
            hex(0xf5b700),
        ),
    );
    let bx1 = x0 + step * 1.5;
    c.text(
        &label(
            f,
            ".051",
            bx1,
            py(0.051) - 46.0,
            13.0,
            Align::Center,
            1.9,
            0.0,
        ),
        hex(0xd9731c),
    );

    // Axes.
    let axis = hex(0x4a5568);
    let mut p = Path::new();
    p.poly(&[(x0, top - 12.0), (x0, base), (x1 + 6.0, base)]);
    c.fill(&p.stroke(3.0), axis);
}
