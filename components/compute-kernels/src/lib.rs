//! Four programs of the Computer Language Benchmarks Game, written once for two targets:
//! the `compute` pure component (wasm32-wasip2) and the native baseline (`bench/native`).
//!
//! Each kernel is the plain single-threaded version of the benchmark (no SIMD intrinsics, no
//! threads: a pure handler runs on one thread), and returns its result as text, the same bytes
//! on both targets, so the harness can check that the two runs computed the same thing.
//!
//! On wasm32 the kernels are compiled with `simd128` (`#[target_feature]`, safe on wasm), the
//! 128-bit SIMD that x86_64 has natively as SSE2: LLVM may then auto-vectorize both targets alike
//! (n-body's three-component vectors, notably). wasmtime enables wasm SIMD by default.
//!
//! `no_std` + `alloc`: the guest has no std (see components/sdk). `f64::sqrt` is not in `core`,
//! so [`sqrt`] uses the square-root instruction of each target directly.
#![no_std]

extern crate alloc;

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt::Write as _;

/// The benchmarks, by the names used in routes and on the command line.
pub const NAMES: [&str; 4] = ["nbody", "fannkuch-redux", "mandelbrot", "binary-trees"];

/// Runs benchmark `name` with size `n`; `None` for an unknown name or a size out of range.
pub fn run(name: &str, n: u64) -> Option<String> {
    match name {
        "nbody" => Some(nbody(n)),
        "fannkuch-redux" | "fannkuch" if (1..=12).contains(&n) => Some(fannkuch_redux(n as usize)),
        "mandelbrot" if (1..=32_000).contains(&n) => Some(mandelbrot(n as usize)),
        "binary-trees" if n <= 24 => Some(binary_trees(n as u32)),
        _ => None,
    }
}

/// Square root with the target's instruction (`sqrtsd` / `f64.sqrt`).
#[inline(always)]
pub fn sqrt(x: f64) -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        // `f64_sqrt` (scalar `f64.sqrt`) is unstable; the simd128 form is stable. Lane 0 of
        // `f64x2.sqrt` is the same IEEE square root, as `sqrtpd` is on x86_64 below.
        use core::arch::wasm32::{f64x2_extract_lane, f64x2_splat, f64x2_sqrt};
        f64x2_extract_lane::<0>(f64x2_sqrt(f64x2_splat(x)))
    }
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_cvtsd_f64, _mm_set_sd, _mm_sqrt_pd};
        // SAFETY: SSE2 is part of the x86_64 baseline, so these instructions always exist.
        unsafe { _mm_cvtsd_f64(_mm_sqrt_pd(_mm_set_sd(x))) }
    }
    #[cfg(not(any(target_arch = "wasm32", target_arch = "x86_64")))]
    {
        // Newton's method: only for targets the benchmark does not run on.
        if x <= 0.0 {
            return 0.0;
        }
        let mut r = if x > 1.0 { x / 2.0 } else { 1.0 };
        for _ in 0..64 {
            r = 0.5 * (r + x / r);
        }
        r
    }
}

// ---- n-body ---------------------------------------------------------------------------------

const PI: f64 = core::f64::consts::PI;
const SOLAR_MASS: f64 = 4.0 * PI * PI;
const DAYS_PER_YEAR: f64 = 365.24;

#[derive(Clone, Copy)]
struct Body {
    pos: [f64; 3],
    vel: [f64; 3],
    mass: f64,
}

fn bodies() -> [Body; 5] {
    let body = |pos: [f64; 3], vel: [f64; 3], mass: f64| Body {
        pos,
        vel: [
            vel[0] * DAYS_PER_YEAR,
            vel[1] * DAYS_PER_YEAR,
            vel[2] * DAYS_PER_YEAR,
        ],
        mass: mass * SOLAR_MASS,
    };
    [
        // Sun
        Body {
            pos: [0.0; 3],
            vel: [0.0; 3],
            mass: SOLAR_MASS,
        },
        // Jupiter
        body(
            [
                4.841_431_442_464_72e0,
                -1.160_320_044_027_428_4e0,
                -1.036_220_444_711_231_1e-1,
            ],
            [
                1.660_076_642_744_037e-3,
                7.699_011_184_197_404e-3,
                -6.904_600_169_720_63e-5,
            ],
            9.547_919_384_243_266e-4,
        ),
        // Saturn
        body(
            [
                8.343_366_718_244_58e0,
                4.124_798_564_124_305e0,
                -4.035_234_171_143_214e-1,
            ],
            [
                -2.767_425_107_268_624e-3,
                4.998_528_012_349_172e-3,
                2.304_172_975_737_639_3e-5,
            ],
            2.858_859_806_661_308e-4,
        ),
        // Uranus
        body(
            [
                1.289_436_956_213_913_1e1,
                -1.511_115_140_169_863_1e1,
                -2.233_075_788_926_557_3e-1,
            ],
            [
                2.964_601_375_647_616e-3,
                2.378_471_739_594_809_5e-3,
                -2.965_895_685_402_375_6e-5,
            ],
            4.366_244_043_351_563e-5,
        ),
        // Neptune
        body(
            [
                1.537_969_711_485_091_1e1,
                -2.591_931_460_998_796_4e1,
                1.792_587_729_503_711_8e-1,
            ],
            [
                2.680_677_724_903_893_2e-3,
                1.628_241_700_382_423e-3,
                -9.515_922_545_197_159e-5,
            ],
            5.151_389_020_466_114_5e-5,
        ),
    ]
}

#[expect(
    clippy::needless_range_loop,
    reason = "vector components, as in the reference program"
)]
fn offset_momentum(bodies: &mut [Body; 5]) {
    let mut p = [0.0; 3];
    for b in bodies.iter() {
        for k in 0..3 {
            p[k] += b.vel[k] * b.mass;
        }
    }
    for k in 0..3 {
        bodies[0].vel[k] = -p[k] / SOLAR_MASS;
    }
}

#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
fn energy(bodies: &[Body; 5]) -> f64 {
    let mut e = 0.0;
    for i in 0..bodies.len() {
        let b = &bodies[i];
        e += 0.5 * b.mass * (b.vel[0] * b.vel[0] + b.vel[1] * b.vel[1] + b.vel[2] * b.vel[2]);
        for c in &bodies[i + 1..] {
            let d = [
                b.pos[0] - c.pos[0],
                b.pos[1] - c.pos[1],
                b.pos[2] - c.pos[2],
            ];
            e -= b.mass * c.mass / sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        }
    }
    e
}

#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
#[expect(
    clippy::needless_range_loop,
    reason = "vector components, as in the reference program"
)]
fn advance(bodies: &mut [Body; 5], dt: f64) {
    for i in 0..bodies.len() {
        let (head, tail) = bodies.split_at_mut(i + 1);
        let b = &mut head[i];
        for c in tail.iter_mut() {
            let d = [
                b.pos[0] - c.pos[0],
                b.pos[1] - c.pos[1],
                b.pos[2] - c.pos[2],
            ];
            let d2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
            let mag = dt / (d2 * sqrt(d2));
            let (bm, cm) = (b.mass * mag, c.mass * mag);
            for k in 0..3 {
                b.vel[k] -= d[k] * cm;
                c.vel[k] += d[k] * bm;
            }
        }
    }
    for b in bodies.iter_mut() {
        for k in 0..3 {
            b.pos[k] += dt * b.vel[k];
        }
    }
}

/// n-body: `steps` steps of 0.01 of the Jovian planets; the energy before and after (9 decimals).
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
pub fn nbody(steps: u64) -> String {
    let mut b = bodies();
    offset_momentum(&mut b);
    let mut out = String::new();
    let _ = writeln!(out, "{:.9}", energy(&b));
    for _ in 0..steps {
        advance(&mut b, 0.01);
    }
    let _ = writeln!(out, "{:.9}", energy(&b));
    out
}

// ---- fannkuch-redux -------------------------------------------------------------------------

/// fannkuch-redux: the checksum and the maximum flip count over all permutations of 1..=n.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
pub fn fannkuch_redux(n: usize) -> String {
    let mut perm = vec![0usize; n];
    let mut perm1: Vec<usize> = (0..n).collect();
    let mut count = vec![0usize; n];
    let (mut max_flips, mut checksum, mut perm_count) = (0usize, 0i64, 0usize);
    let mut r = n;
    loop {
        while r != 1 {
            count[r - 1] = r;
            r -= 1;
        }
        perm.copy_from_slice(&perm1);
        let mut flips = 0;
        let mut k = perm[0];
        while k != 0 {
            perm[..=k].reverse();
            flips += 1;
            k = perm[0];
        }
        max_flips = max_flips.max(flips);
        checksum += if perm_count % 2 == 0 {
            flips as i64
        } else {
            -(flips as i64)
        };
        // Next permutation, in the benchmark's order.
        loop {
            if r == n {
                let mut out = String::new();
                let _ = write!(out, "{checksum}\nPfannkuchen({n}) = {max_flips}\n");
                return out;
            }
            let first = perm1[0];
            perm1.copy_within(1..=r, 0);
            perm1[r] = first;
            count[r] -= 1;
            if count[r] > 0 {
                break;
            }
            r += 1;
        }
        perm_count += 1;
    }
}

// ---- mandelbrot -----------------------------------------------------------------------------

/// mandelbrot: the n×n P4 bitmap of the set (50 iterations, limit 2), answered as its size and
/// its FNV-1a 64 hash instead of the bytes.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
pub fn mandelbrot(n: usize) -> String {
    let row_bytes = n.div_ceil(8);
    let mut bitmap = vec![0u8; row_bytes * n];
    let inv = 2.0 / n as f64;
    for y in 0..n {
        let ci = y as f64 * inv - 1.0;
        let row = &mut bitmap[y * row_bytes..(y + 1) * row_bytes];
        for (xb, byte) in row.iter_mut().enumerate() {
            let mut bits = 0u8;
            for bit in 0..8 {
                let x = xb * 8 + bit;
                bits <<= 1;
                if x >= n {
                    continue;
                }
                let cr = x as f64 * inv - 1.5;
                let (mut zr, mut zi, mut tr, mut ti) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
                let mut i = 0;
                while i < 50 && tr + ti <= 4.0 {
                    zi = 2.0 * zr * zi + ci;
                    zr = tr - ti + cr;
                    tr = zr * zr;
                    ti = zi * zi;
                    i += 1;
                }
                if tr + ti <= 4.0 {
                    bits |= 1;
                }
            }
            *byte = bits;
        }
    }
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in &bitmap {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "P4 {n} {n}: {} bytes, fnv1a64 {hash:016x}",
        bitmap.len()
    );
    out
}

// ---- binary-trees ---------------------------------------------------------------------------

struct Tree {
    children: Option<(Box<Tree>, Box<Tree>)>,
}

fn bottom_up(depth: u32) -> Box<Tree> {
    Box::new(Tree {
        children: (depth > 0).then(|| (bottom_up(depth - 1), bottom_up(depth - 1))),
    })
}

fn check(tree: &Tree) -> u32 {
    1 + tree
        .children
        .as_ref()
        .map_or(0, |(l, r)| check(l) + check(r))
}

/// binary-trees: allocate and walk perfect binary trees (with the global allocator of each
/// target: the nebula-guest SDK's in the guest, the system allocator natively); the benchmark's
/// report lines.
#[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
pub fn binary_trees(n: u32) -> String {
    let min_depth = 4;
    let max_depth = n.max(min_depth + 2);
    let mut out = String::new();
    {
        let depth = max_depth + 1;
        let tree = bottom_up(depth);
        let _ = writeln!(
            out,
            "stretch tree of depth {depth}\t check: {}",
            check(&tree)
        );
    }
    let long_lived = bottom_up(max_depth);
    let mut depth = min_depth;
    while depth <= max_depth {
        let iterations = 1u32 << (max_depth - depth + min_depth);
        let mut chk = 0;
        for _ in 0..iterations {
            chk += check(&bottom_up(depth));
        }
        let _ = writeln!(out, "{iterations}\t trees of depth {depth}\t check: {chk}");
        depth += 2;
    }
    let _ = writeln!(
        out,
        "long lived tree of depth {max_depth}\t check: {}",
        check(&long_lived)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_outputs() {
        // The Benchmarks Game's published outputs for the small sizes.
        assert_eq!(nbody(1000), "-0.169075164\n-0.169087605\n");
        assert_eq!(fannkuch_redux(7), "228\nPfannkuchen(7) = 16\n");
        assert!(binary_trees(10).starts_with("stretch tree of depth 11\t check: 4095\n"));
        assert!(binary_trees(10).ends_with("long lived tree of depth 10\t check: 2047\n"));
        assert!(mandelbrot(200).starts_with("P4 200 200: 5000 bytes"));
    }
}
