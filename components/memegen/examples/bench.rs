//! Times every template natively: `cargo run --release -p memegen --example bench --target
//! x86_64-unknown-linux-gnu`. Prints the best of several runs of drawing and of PNG encoding.

use std::time::Instant;

fn main() {
    let (top, bottom) = ("When the proof is left", "as an exercise to the reader");
    for t in memegen::templates() {
        let (mut draw, mut encode, mut size) = (u128::MAX, u128::MAX, 0);
        for _ in 0..7 {
            let s = Instant::now();
            let rgb = memegen::render_rgb(t.id, top, bottom).unwrap();
            draw = draw.min(s.elapsed().as_micros());
            let s = Instant::now();
            let png = memegen::png::encode_rgb(memegen::WIDTH, memegen::HEIGHT, &rgb);
            encode = encode.min(s.elapsed().as_micros());
            size = png.len();
        }
        println!(
            "{:<12} draw {:>6.1} ms  png {:>6.1} ms  total {:>6.1} ms  {:>7} bytes",
            t.id,
            draw as f64 / 1000.0,
            encode as f64 / 1000.0,
            (draw + encode) as f64 / 1000.0,
            size
        );
    }
}
