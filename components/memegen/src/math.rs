//! Float helpers that `core` lacks, written with the four IEEE basic operations only, so that
//! every platform (native test runs and wasm32 alike) computes bit-identical pixels.

/// Square root: a bit-level guess of 1/sqrt(x) refined by three Newton steps (multiplications
/// only), then times x. Relative error about 1e-7, and the same bits on every platform.
#[inline]
pub fn sqrt(x: f32) -> f32 {
    if x <= 0.0 {
        return 0.0;
    }
    let h = 0.5 * x;
    let mut y = f32::from_bits(0x5f37_5a86 - (x.to_bits() >> 1));
    y *= 1.5 - h * y * y;
    y *= 1.5 - h * y * y;
    y *= 1.5 - h * y * y;
    x * y
}

/// Largest integer not above `x` (for the coordinate ranges used here).
pub fn floor(x: f32) -> f32 {
    let i = x as i32 as f32;
    if i > x { i - 1.0 } else { i }
}

/// Smallest integer not below `x`.
pub fn ceil(x: f32) -> f32 {
    -floor(-x)
}

pub fn clamp01(x: f32) -> f32 {
    x.clamp(0.0, 1.0)
}

pub fn smoothstep(t: f32) -> f32 {
    let t = clamp01(t);
    t * t * (3.0 - 2.0 * t)
}

pub fn lerp(a: f32, b: f32, t: f32) -> f32 {
    a + (b - a) * t
}

const FRAC_PI_2: f32 = core::f32::consts::FRAC_PI_2;

/// Sine and cosine of an angle in degrees (0° points right, 90° points down on screen).
pub fn sin_cos_deg(deg: f32) -> (f32, f32) {
    let x = deg / 90.0;
    let q = floor(x + 0.5);
    let r = (x - q) * FRAC_PI_2; // in [-pi/4, pi/4]
    let r2 = r * r;
    let s = r * (1.0 - r2 / 6.0 * (1.0 - r2 / 20.0 * (1.0 - r2 / 42.0 * (1.0 - r2 / 72.0))));
    let c = 1.0 - r2 / 2.0 * (1.0 - r2 / 12.0 * (1.0 - r2 / 30.0 * (1.0 - r2 / 56.0)));
    match (q as i32).rem_euclid(4) {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

/// The angle of (x, y) in degrees, in (-180, 180] (0° right, 90° down); error below 0.001°.
pub fn atan2_deg(y: f32, x: f32) -> f32 {
    let (ax, ay) = (x.abs(), y.abs());
    let (lo, hi) = (ax.min(ay), ax.max(ay));
    if hi == 0.0 {
        return 0.0;
    }
    let a = lo / hi;
    let s = a * a;
    let mut r =
        ((((0.020_835_1 * s - 0.085_133) * s + 0.180_141) * s - 0.330_299_5) * s + 0.999_866) * a;
    if ay > ax {
        r = FRAC_PI_2 - r;
    }
    if x < 0.0 {
        r = core::f32::consts::PI - r;
    }
    if y < 0.0 {
        r = -r;
    }
    r * (180.0 / core::f32::consts::PI)
}

/// A well-mixed 32-bit hash of a lattice point and a seed.
pub fn hash(x: i32, y: i32, seed: u32) -> u32 {
    let mut h = (x as u32).wrapping_mul(0x27d4_eb2d)
        ^ (y as u32).wrapping_mul(0x1656_67b1)
        ^ seed.wrapping_mul(0x9e37_79b9);
    h ^= h >> 15;
    h = h.wrapping_mul(0x2c1b_3c6d);
    h ^= h >> 12;
    h = h.wrapping_mul(0x297a_2d39);
    h ^ (h >> 15)
}

/// Hash noise in [0, 1).
pub fn hash01(x: i32, y: i32, seed: u32) -> f32 {
    (hash(x, y, seed) >> 8) as f32 / 16_777_216.0
}

/// Smooth value noise in [0, 1) with lattice spacing 1.
pub fn value_noise(x: f32, y: f32, seed: u32) -> f32 {
    let fx = floor(x);
    let fy = floor(y);
    let (ix, iy) = (fx as i32, fy as i32);
    let tx = smoothstep(x - fx);
    let ty = smoothstep(y - fy);
    let a = hash01(ix, iy, seed);
    let b = hash01(ix + 1, iy, seed);
    let c = hash01(ix, iy + 1, seed);
    let d = hash01(ix + 1, iy + 1, seed);
    lerp(lerp(a, b, tx), lerp(c, d, tx), ty)
}

/// A small deterministic generator for scattering things in templates.
pub struct Rng(u32);

impl Rng {
    pub fn new(seed: u32) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9) ^ 0x5bd1_e995)
    }

    pub fn next_u32(&mut self) -> u32 {
        // xorshift32, then a mixing step
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        hash(x as i32, 0, 7)
    }

    /// Uniform in [0, 1).
    pub fn f(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 / 16_777_216.0
    }

    /// Uniform in [a, b).
    pub fn range(&mut self, a: f32, b: f32) -> f32 {
        a + (b - a) * self.f()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqrt_is_accurate() {
        for &x in &[0.0001f32, 0.25, 1.0, 2.0, 9.0, 1234.5, 1.0e6] {
            let s = sqrt(x);
            assert!((s * s - x).abs() <= x * 1e-6, "{x} -> {s}");
            assert!((sqrt(x * x) - x).abs() <= x * 1e-6, "{x}");
        }
        assert_eq!(sqrt(-1.0), 0.0);
    }

    #[test]
    fn trig_is_accurate() {
        let (s, c) = sin_cos_deg(0.0);
        assert!(s.abs() < 1e-6 && (c - 1.0).abs() < 1e-6);
        let (s, c) = sin_cos_deg(90.0);
        assert!((s - 1.0).abs() < 1e-6 && c.abs() < 1e-6);
        let (s, c) = sin_cos_deg(-135.0);
        assert!((s + 0.70710677).abs() < 1e-5 && (c + 0.70710677).abs() < 1e-5);
        for i in -720..720 {
            let (s, c) = sin_cos_deg(i as f32 * 0.5);
            assert!((s * s + c * c - 1.0).abs() < 1e-5);
        }
    }

    #[test]
    fn atan2_is_accurate() {
        for i in -179..=180 {
            let (s, c) = sin_cos_deg(i as f32);
            for r in [0.5f32, 3.0, 200.0] {
                let a = atan2_deg(s * r, c * r);
                let diff = (a - i as f32 + 540.0) % 360.0 - 180.0;
                assert!(diff.abs() < 0.01, "{i}: {a}");
            }
        }
        assert_eq!(atan2_deg(0.0, 0.0), 0.0);
    }

    #[test]
    fn floor_and_ceil() {
        assert_eq!(floor(1.5), 1.0);
        assert_eq!(floor(-1.5), -2.0);
        assert_eq!(floor(-2.0), -2.0);
        assert_eq!(ceil(1.2), 2.0);
        assert_eq!(ceil(3.0), 3.0);
    }
}
