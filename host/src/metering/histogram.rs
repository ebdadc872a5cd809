//! A latency histogram of fixed buckets, in atomics: observing is a search over 16 bounds and
//! two relaxed adds, with no lock. Prometheus' buckets are cumulative; the encoder sums them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds of the buckets, in µs: 100 µs to 10 s, roughly ×2.5 apart (Prometheus' usual
/// spread, shifted down because a pure call takes tens of microseconds).
pub const BOUNDS_US: [u64; 16] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000,
    1_000_000, 2_500_000, 5_000_000, 10_000_000,
];

/// Counts of observations per bucket (the last is `+Inf`), and their sum.
#[derive(Debug)]
pub struct Histogram {
    buckets: [AtomicU64; BOUNDS_US.len() + 1],
    sum_us: AtomicU64,
}

impl Default for Histogram {
    fn default() -> Histogram {
        Histogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_us: AtomicU64::new(0),
        }
    }
}

impl Histogram {
    pub fn observe(&self, d: Duration) {
        let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        let i = BOUNDS_US.partition_point(|&bound| bound < us);
        self.buckets[i].fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(us, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    pub fn sum(&self) -> Duration {
        Duration::from_micros(self.sum_us.load(Ordering::Relaxed))
    }

    /// `(upper bound in seconds, observations in this bucket)` for each finite bound; the
    /// `+Inf` bucket holds the rest of [`Histogram::count`].
    pub fn buckets(&self) -> Vec<(f64, u64)> {
        BOUNDS_US
            .iter()
            .zip(&self.buckets)
            .map(|(&bound, n)| (bound as f64 / 1e6, n.load(Ordering::Relaxed)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_observation_lands_in_the_first_bucket_whose_bound_is_not_below_it() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(100));
        h.observe(Duration::from_micros(101));
        h.observe(Duration::from_secs(60));
        let buckets = h.buckets();
        assert_eq!(buckets[0], (0.0001, 1));
        assert_eq!(buckets[1], (0.00025, 1));
        assert_eq!(buckets.last(), Some(&(10.0, 0)));
        assert_eq!(h.count(), 3);
        assert_eq!(h.sum(), Duration::from_micros(60_000_201));
    }
}
