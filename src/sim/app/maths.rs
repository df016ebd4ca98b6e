//! The numbers behind the simulated apps: time as seconds, the traffic wave and its exact
//! integral, the log-normal latency distribution, and uniform draws from stable hashes.
//!
//! Everything here is a closed form, so a counter at any instant costs the same whether the
//! container has run for a minute or for a month.

use std::f64::consts::{PI, SQRT_2};

use jiff::{SignedDuration, Timestamp};

/// 2020-01-01T00:00:00Z: times are seconds since then, small enough for f64 to keep well under a
/// microsecond of precision and for the waves' phases to stay accurate.
const EPOCH_SECONDS: i64 = 1_577_836_800;

/// Seconds since [`EPOCH_SECONDS`].
pub fn secs(t: Timestamp) -> f64 {
    (t.as_second() - EPOCH_SECONDS) as f64 + f64::from(t.subsec_nanosecond()) / 1e9
}

/// The timestamp `secs` seconds after the epoch (saturating at jiff's range).
pub fn stamp(secs: f64) -> Timestamp {
    if secs.is_nan() {
        return stamp(0.0);
    }
    // Past jiff's range (about ±2.5e11 s): the ends of time.
    if secs > 3e11 {
        return Timestamp::MAX;
    }
    if secs < -3e11 {
        return Timestamp::MIN;
    }
    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9) as i32;
    let whole = (whole as i64).saturating_add(EPOCH_SECONDS);
    Timestamp::new(whole, nanos.clamp(0, 999_999_999)).unwrap_or(if whole > 0 {
        Timestamp::MAX
    } else {
        Timestamp::MIN
    })
}

/// `t` plus `secs` seconds, saturating.
pub fn plus(t: Timestamp, secs: f64) -> Timestamp {
    let d = SignedDuration::try_from_secs_f64(if secs.is_finite() { secs } else { 0.0 })
        .unwrap_or(SignedDuration::MAX);
    t.saturating_add(d).unwrap_or(Timestamp::MAX)
}

/// A uniform draw in `[0, 1)` from a hash.
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// A value in `[lo, hi)` from a hash.
pub fn between(h: u64, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * unit(h)
}

/// `x` if it is a finite number, otherwise `default`.
pub fn finite_or(x: f64, default: f64) -> f64 {
    if x.is_finite() { x } else { default }
}

/// A load level that rises and falls: `1 + Σ aᵢ·sin(2πt/periodᵢ + phaseᵢ)`, never below
/// `1 - Σ aᵢ` (kept positive), with an exact integral.
#[derive(Clone, Copy, Debug)]
pub struct Wave {
    parts: [(f64, f64, f64); 2],
}

impl Wave {
    /// The wave of one app: a 15-minute swing of ±20 % over an hourly one of ±10 %, phases from
    /// `h`, so every replica of an app sees the same load and apps differ.
    pub fn of(h: u64) -> Self {
        let phase = |salt: u64| 2.0 * PI * unit(crate::sim::app::splitmix(h ^ salt));
        Self {
            parts: [
                (0.2, 2.0 * PI / 900.0, phase(1)),
                (0.1, 2.0 * PI / 3_600.0, phase(2)),
            ],
        }
    }

    pub fn level(&self, t: f64) -> f64 {
        1.0 + self
            .parts
            .iter()
            .map(|&(a, w, p)| a * (w * t + p).sin())
            .sum::<f64>()
    }

    /// `∫ level(t) dt` over `[a, b)`.
    pub fn integral(&self, a: f64, b: f64) -> f64 {
        if b <= a {
            return 0.0;
        }
        let waves: f64 = self
            .parts
            .iter()
            .map(|&(amp, w, p)| amp / w * ((w * a + p).cos() - (w * b + p).cos()))
            .sum();
        ((b - a) + waves).max(0.0)
    }
}

/// The complementary error function (Numerical Recipes' `erfcc`, fractional error < 1.2e-7).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The standard normal CDF.
pub fn phi(x: f64) -> f64 {
    0.5 * erfc(-x / SQRT_2)
}

/// z of the 95th percentile of the standard normal.
const Z95: f64 = 1.644_853_6;

/// Request latency: a fixed `shift` (injected latency) plus a log-normal fitted to p50 and p95.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Latency {
    mu: f64,
    sigma: f64,
    pub shift: f64,
}

impl Latency {
    /// From the median and 95th percentile in seconds (sanitised: positive, p95 ≥ p50).
    pub fn new(p50: f64, p95: f64, shift: f64) -> Self {
        let p50 = finite_or(p50, 0.025).clamp(1e-4, 600.0);
        let p95 = finite_or(p95, p50 * 4.0).clamp(p50, 3_600.0);
        Self {
            mu: p50.ln(),
            sigma: ((p95 / p50).ln() / Z95).clamp(0.05, 3.0),
            shift: finite_or(shift, 0.0).clamp(0.0, 3_600.0),
        }
    }

    /// P(latency ≤ x).
    pub fn cdf(&self, x: f64) -> f64 {
        let x = x - self.shift;
        if x <= 0.0 {
            return 0.0;
        }
        phi((x.ln() - self.mu) / self.sigma)
    }

    pub fn mean(&self) -> f64 {
        self.shift + (self.mu + self.sigma * self.sigma / 2.0).exp()
    }

    /// One latency drawn from two uniform draws (Box–Muller).
    pub fn sample(&self, u1: f64, u2: f64) -> f64 {
        let z = (-2.0 * (1.0 - u1).max(1e-12).ln()).sqrt() * (2.0 * PI * u2).cos();
        self.shift + (self.mu + self.sigma * z).exp()
    }
}

/// Seconds as Python's `str(timedelta)` prints whole seconds: `1:00:00`, `2 days, 3:04:05`.
pub fn python_timedelta(secs: i64) -> String {
    let secs = secs.max(0);
    let (days, rest) = (secs / 86_400, secs % 86_400);
    let hms = format!("{}:{:02}:{:02}", rest / 3_600, rest % 3_600 / 60, rest % 60);
    match days {
        0 => hms,
        1 => format!("1 day, {hms}"),
        d => format!("{d} days, {hms}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        let t: Timestamp = "2026-03-04T05:06:07.25Z".parse().unwrap();
        assert_eq!(stamp(secs(t)), t);
        assert_eq!(plus(t, 1.5), "2026-03-04T05:06:08.75Z".parse().unwrap());
        assert_eq!(plus(t, f64::NAN), t);
        assert_eq!(stamp(f64::INFINITY), Timestamp::MAX);
        assert_eq!(stamp(-1e300), Timestamp::MIN);
        assert_eq!(stamp(2.6e11), Timestamp::MAX);
        let _ = plus(Timestamp::MAX, 1e300);
    }

    #[test]
    fn wave_integral_matches_a_riemann_sum() {
        let w = Wave::of(42);
        let (a, b) = (1_000.0, 4_600.0);
        let n = 36_000;
        let dt = (b - a) / n as f64;
        let sum: f64 = (0..n)
            .map(|i| w.level(a + (i as f64 + 0.5) * dt) * dt)
            .sum();
        assert!(
            (sum - w.integral(a, b)).abs() < 1e-3,
            "{sum} vs {}",
            w.integral(a, b)
        );
        // Additive over a split, and positive everywhere.
        let mid = 2_345.6;
        let split = w.integral(a, mid) + w.integral(mid, b);
        assert!((split - w.integral(a, b)).abs() < 1e-6);
        assert!((0..10_000).all(|i| w.level(f64::from(i)) > 0.6));
    }

    #[test]
    fn latency_fits_its_percentiles() {
        let l = Latency::new(0.025, 0.120, 0.0);
        assert!((l.cdf(0.025) - 0.5).abs() < 1e-6);
        assert!((l.cdf(0.120) - 0.95).abs() < 1e-5);
        assert_eq!(l.cdf(0.0), 0.0);
        let shifted = Latency::new(0.025, 0.120, 2.0);
        assert_eq!(shifted.cdf(1.9), 0.0);
        assert!((shifted.cdf(2.025) - 0.5).abs() < 1e-6);
        assert!(shifted.mean() > 2.025);
        assert!((phi(0.0) - 0.5).abs() < 1e-6 && phi(-8.0) < 1e-9 && phi(8.0) > 1.0 - 1e-9);
        // Nonsense in, sane numbers out.
        let odd = Latency::new(f64::NAN, -1.0, f64::INFINITY);
        assert!(odd.cdf(1.0).is_finite() && odd.mean().is_finite());
    }

    #[test]
    fn timedelta_like_python() {
        assert_eq!(python_timedelta(3_600), "1:00:00");
        assert_eq!(python_timedelta(59), "0:00:59");
        assert_eq!(python_timedelta(90_061), "1 day, 1:01:01");
        assert_eq!(python_timedelta(200_000), "2 days, 7:33:20");
    }
}
