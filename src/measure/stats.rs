//! Summary statistics of timing samples: order statistics, spread, a bootstrap confidence
//! interval of the median and Tukey outlier counts.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Bootstrap resamples behind the median's confidence interval.
const BOOTSTRAP_RESAMPLES: usize = 2000;

/// Statistics of one case's timed repetitions, all in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Stats {
    /// The fastest sample.
    pub min_s: f64,
    /// The median sample.
    pub median_s: f64,
    /// The mean of the samples.
    pub mean_s: f64,
    /// The slowest sample.
    pub max_s: f64,
    /// Sample standard deviation (n − 1); 0 for a single sample.
    pub stddev_s: f64,
    /// Median absolute deviation from the median (unscaled).
    pub mad_s: f64,
    /// 95% percentile-bootstrap confidence interval of the median of all samples (seeded, so
    /// reproducible). It holds only the scatter within this run; the interval a comparison of
    /// runs can trust is the case's across-rounds `interval`. This is its lower end.
    pub ci95_low_s: f64,
    /// The upper end of the same bootstrap interval.
    pub ci95_high_s: f64,
    /// Samples outside Tukey's fences.
    pub outliers: Outliers,
}

/// Samples beyond Tukey's fences: mild beyond 1.5 IQR from the quartiles, severe beyond 3 IQR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Outliers {
    pub low_severe: u32,
    pub low_mild: u32,
    pub high_mild: u32,
    pub high_severe: u32,
}

impl Outliers {
    /// All outliers, mild and severe, on both sides.
    pub fn total(&self) -> u32 {
        self.low_severe + self.low_mild + self.high_mild + self.high_severe
    }
}

/// The `p`-quantile (0 ≤ p ≤ 1) of sorted samples by linear interpolation (Hyndman–Fan type 7).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        len => {
            let rank = p.clamp(0.0, 1.0) * (len - 1) as f64;
            let lo = rank.floor() as usize;
            let hi = (lo + 1).min(len - 1);
            sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo as f64)
        }
    }
}

/// Summarises samples; `None` when there are none. `seed` drives the bootstrap.
pub fn summarize(samples: &[f64], seed: u64) -> Option<Stats> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (mean, stddev) = mean_and_stddev(&sorted);
    let median = percentile(&sorted, 0.5);
    let mut deviations: Vec<f64> = sorted.iter().map(|x| (x - median).abs()).collect();
    deviations.sort_by(f64::total_cmp);
    let (ci95_low_s, ci95_high_s) = bootstrap_median_ci(&sorted, seed);
    Some(Stats {
        min_s: sorted[0],
        median_s: median,
        mean_s: mean,
        max_s: sorted[sorted.len() - 1],
        stddev_s: stddev,
        mad_s: percentile(&deviations, 0.5),
        ci95_low_s,
        ci95_high_s,
        outliers: tukey_outliers(&sorted),
    })
}

/// The mean and sample standard deviation, computed on values scaled by the largest magnitude
/// so that neither the sum nor the squares can overflow, whatever finite values come in.
fn mean_and_stddev(values: &[f64]) -> (f64, f64) {
    let scale = values.iter().fold(0.0_f64, |m, x| m.max(x.abs()));
    if !(scale > 0.0 && scale.is_finite()) {
        return (values.iter().sum::<f64>() / values.len() as f64, 0.0);
    }
    let n = values.len() as f64;
    let mean = values.iter().map(|x| x / scale).sum::<f64>() / n;
    let variance = if values.len() > 1 {
        values
            .iter()
            .map(|x| (x / scale - mean).powi(2))
            .sum::<f64>()
            / (n - 1.0)
    } else {
        0.0
    };
    (mean * scale, variance.sqrt() * scale)
}

/// 95% percentile-bootstrap interval of the median.
fn bootstrap_median_ci(sorted: &[f64], seed: u64) -> (f64, f64) {
    if sorted.len() == 1 {
        return (sorted[0], sorted[0]);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut resample = vec![0.0; sorted.len()];
    let mut medians: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| {
            for slot in resample.iter_mut() {
                *slot = sorted[(rng.next_u64() % sorted.len() as u64) as usize];
            }
            resample.sort_by(f64::total_cmp);
            percentile(&resample, 0.5)
        })
        .collect();
    medians.sort_by(f64::total_cmp);
    (percentile(&medians, 0.025), percentile(&medians, 0.975))
}

fn tukey_outliers(sorted: &[f64]) -> Outliers {
    let q1 = percentile(sorted, 0.25);
    let q3 = percentile(sorted, 0.75);
    let iqr = q3 - q1;
    let mut o = Outliers::default();
    for &x in sorted {
        if x < q1 - 3.0 * iqr {
            o.low_severe += 1;
        } else if x < q1 - 1.5 * iqr {
            o.low_mild += 1;
        } else if x > q3 + 3.0 * iqr {
            o.high_severe += 1;
        } else if x > q3 + 1.5 * iqr {
            o.high_mild += 1;
        }
    }
    o
}

#[cfg(test)]
mod tests {

    #[test]
    fn huge_finite_samples_give_finite_statistics() {
        let s = summarize(&[1.7e308, 1.6e308, 1.5e308], 1).unwrap();
        for v in [
            s.mean_s,
            s.stddev_s,
            s.median_s,
            s.ci95_low_s,
            s.ci95_high_s,
        ] {
            assert!(v.is_finite(), "{s:?}");
        }
        assert!((s.mean_s / 1.6e308 - 1.0).abs() < 1e-12, "{s:?}");
        assert!((s.stddev_s / 1e307 - 1.0).abs() < 1e-9, "{s:?}");
        let plain = summarize(&[1.0, 2.0, 3.0], 1).unwrap();
        assert!((plain.mean_s - 2.0).abs() < 1e-15 && (plain.stddev_s - 1.0).abs() < 1e-15);
    }

    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn matches_hand_computed_values() {
        // Samples 1..=5 and one outlier 100: sorted [1, 2, 3, 4, 5, 100].
        let s = summarize(&[5.0, 3.0, 100.0, 1.0, 4.0, 2.0], 1).unwrap();
        assert_eq!((s.min_s, s.max_s), (1.0, 100.0));
        assert!(close(s.median_s, 3.5));
        assert!(close(s.mean_s, 115.0 / 6.0));
        // Σ(x − mean)² = Σx² − n·mean² = 10055 − 13225/6 = 7850.8333…, over n − 1 = 5.
        assert!(
            close(s.stddev_s, ((10055.0 - 13225.0 / 6.0) / 5.0f64).sqrt()),
            "{}",
            s.stddev_s
        );
        // |x − 3.5| = [2.5, 1.5, 0.5, 0.5, 1.5, 96.5] → sorted median (1.5 + 1.5) / 2.
        assert!(close(s.mad_s, 1.5));
        // Quartiles 2.25 and 4.75, IQR 2.5: 100 is beyond 4.75 + 7.5, a severe high outlier.
        assert_eq!(
            s.outliers,
            Outliers {
                high_severe: 1,
                ..Outliers::default()
            }
        );
        assert!(s.ci95_low_s <= s.median_s && s.median_s <= s.ci95_high_s);
        assert!(s.ci95_low_s >= 1.0 && s.ci95_high_s <= 100.0);
    }

    #[test]
    fn percentile_interpolates() {
        let v = [10.0, 20.0, 30.0, 40.0];
        assert!(close(percentile(&v, 0.0), 10.0));
        assert!(close(percentile(&v, 1.0 / 3.0), 20.0));
        assert!(close(percentile(&v, 0.5), 25.0));
        assert!(close(percentile(&v, 0.9), 37.0));
    }

    #[test]
    fn one_sample_has_no_spread() {
        let s = summarize(&[0.25], 7).unwrap();
        assert_eq!(
            (s.stddev_s, s.mad_s, s.ci95_low_s, s.ci95_high_s),
            (0.0, 0.0, 0.25, 0.25)
        );
        assert!(summarize(&[], 7).is_none());
    }

    #[test]
    fn bootstrap_is_seeded() {
        let samples = [1.0, 1.1, 0.9, 1.3, 1.05, 0.97, 1.2];
        assert_eq!(summarize(&samples, 3), summarize(&samples, 3));
        let s = summarize(&samples, 3).unwrap();
        assert!(s.ci95_low_s < s.median_s && s.median_s < s.ci95_high_s);
    }
}
