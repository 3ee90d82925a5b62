//! Sine and cosine from plain IEEE-754 arithmetic.
//!
//! `f64::sin`/`cos` call the platform's libm, whose last bits differ between
//! glibc, macOS and Windows; the simulation promises the same result on every
//! machine, so everything that feeds the state uses these instead. Only
//! `+ - * /` and `round` are used, which IEEE-754 defines bit-exactly (Rust
//! never fuses them into FMA on its own).
//!
//! Accuracy: within a few ULP of the true value on |x| < 1e6, which is far
//! more than gameplay needs; exactness across machines is the point.

use std::f64::consts::FRAC_PI_2;

/// π/2 split in two parts (the f64 nearest π/2, and the rest) so `x - k·π/2` loses no bits for moderate `k`
/// (Cody–Waite reduction).
const PI_2_HI: f64 = FRAC_PI_2;
const PI_2_LO: f64 = 6.123_233_995_736_766e-17_f64;

/// Taylor series of sin on |r| <= π/4; the next term is below 1e-17.
fn sin_poly(r: f64) -> f64 {
    let r2 = r * r;
    let mut sum = 1.0 / 1_307_674_368_000.0; // 1/15!
    sum = sum * -r2 + 1.0 / 6_227_020_800.0; // 1/13!
    sum = sum * -r2 + 1.0 / 39_916_800.0; // 1/11!
    sum = sum * -r2 + 1.0 / 362_880.0; // 1/9!
    sum = sum * -r2 + 1.0 / 5_040.0; // 1/7!
    sum = sum * -r2 + 1.0 / 120.0; // 1/5!
    sum = sum * -r2 + 1.0 / 6.0; // 1/3!
    r - r * r2 * sum
}

/// Taylor series of cos on |r| <= π/4.
fn cos_poly(r: f64) -> f64 {
    let r2 = r * r;
    let mut sum = 1.0 / 20_922_789_888_000.0; // 1/16!
    sum = sum * -r2 + 1.0 / 87_178_291_200.0; // 1/14!
    sum = sum * -r2 + 1.0 / 479_001_600.0; // 1/12!
    sum = sum * -r2 + 1.0 / 3_628_800.0; // 1/10!
    sum = sum * -r2 + 1.0 / 40_320.0; // 1/8!
    sum = sum * -r2 + 1.0 / 720.0; // 1/6!
    sum = sum * -r2 + 1.0 / 24.0; // 1/4!
    sum = sum * -r2 + 0.5; // 1/2!
    1.0 - r2 * sum
}

/// `(sin x, cos x)`, bit-identical on every IEEE-754 machine. Non-finite
/// input gives `(NaN, NaN)`.
pub fn sin_cos(x: f64) -> (f64, f64) {
    if !x.is_finite() {
        return (f64::NAN, f64::NAN);
    }
    let quadrant = (x / FRAC_PI_2).round();
    let r = (x - quadrant * PI_2_HI) - quadrant * PI_2_LO;
    let (s, c) = (sin_poly(r), cos_poly(r));
    // rem_euclid on an integral f64 is exact.
    match quadrant.rem_euclid(4.0) as u8 {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

/// Wraps an angle into `(-π, π]`.
pub fn wrap_angle(angle: f64) -> f64 {
    use std::f64::consts::{PI, TAU};
    if angle > PI || angle <= -PI {
        let wrapped = angle - TAU * ((angle + PI) / TAU).floor();
        if wrapped <= -PI {
            wrapped + TAU
        } else {
            wrapped
        }
    } else {
        angle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_libm_closely() {
        let mut x = -50.0;
        while x < 50.0 {
            let (s, c) = sin_cos(x);
            assert!((s - x.sin()).abs() < 1e-14, "sin {x}");
            assert!((c - x.cos()).abs() < 1e-14, "cos {x}");
            x += 0.001_3;
        }
    }

    #[test]
    fn exact_at_quadrant_points() {
        assert_eq!(sin_cos(0.0), (0.0, 1.0));
        let (s, c) = sin_cos(FRAC_PI_2);
        assert!((s - 1.0).abs() < 1e-16 && c.abs() < 1e-16);
        assert!(sin_cos(f64::NAN).0.is_nan());
        assert!(sin_cos(f64::INFINITY).1.is_nan());
    }

    #[test]
    fn wrap_angle_stays_in_range() {
        use std::f64::consts::PI;
        for &a in &[0.0, PI, -PI, 3.0 * PI, -7.5, 100.0, 1e-9] {
            let w = wrap_angle(a);
            assert!(w > -PI - 1e-12 && w <= PI + 1e-12, "{a} -> {w}");
            let (s1, c1) = sin_cos(a);
            let (s2, c2) = sin_cos(w);
            assert!((s1 - s2).abs() < 1e-9 && (c1 - c2).abs() < 1e-9);
        }
    }
}
