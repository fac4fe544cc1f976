//! Whether a case's rounds disagree: the spread of their medians against the spread of the
//! times inside a round.
//!
//! When rounds differ only by the scatter of their own samples, a round's median moves much
//! less than its samples spread (its scatter shrinks as 1/√k for k samples). When the spread of the
//! round medians exceeds the spread inside a typical round, something moved whole rounds:
//! drift, a change of clock, a neighbour that came and went. The interval across rounds
//! already holds that movement; the flag says that it is there, so that a reader knows the
//! figure depends on when the case ran.
//!
//! Both spreads are the range between the ⌈n/10⌉-th smallest and largest of n values: the full
//! range for ten values or fewer, the 10–90 % range beyond, so that many rounds or many samples
//! do not widen it by their number alone. Simulated without drift, rounds of seven samples or
//! more are flagged in under 2 % of cases, from two rounds to forty (the tests hold it under
//! 3 %); with fewer samples a round's own spread is too unsteady for the comparison (half of
//! all cases at six rounds of three samples), so such rounds are not judged.

use super::stats::percentile;

/// The fewest timed samples every round must have for its rounds to be judged.
pub const MIN_SAMPLES_PER_ROUND: usize = 7;

/// How far a case's round medians spread, and how far the times inside a round do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoundSpread {
    /// The spread of the round medians, seconds.
    pub between_s: f64,
    /// The median over rounds of each round's spread, seconds.
    pub within_s: f64,
}

impl RoundSpread {
    /// Whether the round medians spread wider than the times inside a typical round.
    pub fn disagree(&self) -> bool {
        self.between_s > self.within_s
    }

    /// How many times a round's spread the medians spread over.
    pub fn ratio(&self) -> f64 {
        self.between_s / self.within_s
    }
}

/// The spreads of `rounds_s` (seconds by round); `None` with fewer than two rounds or a round
/// of fewer than [`MIN_SAMPLES_PER_ROUND`] samples.
pub fn round_spread(rounds_s: &[Vec<f64>]) -> Option<RoundSpread> {
    if rounds_s.len() < 2 || rounds_s.iter().any(|r| r.len() < MIN_SAMPLES_PER_ROUND) {
        return None;
    }
    let rounds: Vec<Vec<f64>> = rounds_s.iter().map(|r| sorted(r)).collect();
    let medians = sorted(
        &rounds
            .iter()
            .map(|r| percentile(r, 0.5))
            .collect::<Vec<_>>(),
    );
    let spreads = sorted(&rounds.iter().map(|r| spread(r)).collect::<Vec<_>>());
    Some(RoundSpread {
        between_s: spread(&medians),
        within_s: percentile(&spreads, 0.5),
    })
}

/// The range from the ⌈n/10⌉-th smallest to the ⌈n/10⌉-th largest of sorted values.
fn spread(sorted: &[f64]) -> f64 {
    let trim = sorted.len().div_ceil(10);
    sorted[sorted.len() - trim] - sorted[trim - 1]
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

#[cfg(test)]
mod tests {
    use rand_chacha::ChaCha8Rng;
    use rand_chacha::rand_core::{Rng, SeedableRng};

    use super::*;

    #[test]
    fn the_spread_trims_a_tenth_from_each_end_beyond_ten_values() {
        assert_eq!(spread(&[1.0, 2.0, 5.0]), 4.0);
        let ten: Vec<f64> = (0..10).map(f64::from).collect();
        assert_eq!(spread(&ten), 9.0);
        let twenty: Vec<f64> = (0..20).map(f64::from).collect();
        assert_eq!(spread(&twenty), 17.0);
    }

    #[test]
    fn rounds_of_too_few_samples_are_not_judged() {
        let (six, seven) = (vec![1.0; 6], vec![1.0; 7]);
        assert_eq!(round_spread(&[seven.clone(), six]), None);
        assert!(round_spread(&[seven.clone(), seven.clone()]).is_some());
        assert_eq!(round_spread(&[seven]), None);
    }

    #[test]
    fn a_round_moved_beyond_the_scatter_disagrees() {
        let round = |level: f64| -> Vec<f64> {
            (0..7)
                .map(|i| level * (1.0 + 0.01 * f64::from(i)))
                .collect()
        };
        let steady = round_spread(&[round(1.0), round(1.001), round(0.999)]).unwrap();
        assert!(!steady.disagree(), "{steady:?}");
        let moved = round_spread(&[round(1.0), round(1.001), round(1.2)]).unwrap();
        assert!(moved.disagree() && moved.ratio() > 3.0, "{moved:?}");
    }

    /// The share of simulated cases flagged: lognormal noise of 2 % inside rounds, each round
    /// moved by a lognormal factor of `drift` (0: rounds differ by their scatter alone).
    fn flagged_share(rounds: usize, per_round: usize, drift: f64, seed: u64) -> f64 {
        const TRIALS: u32 = 1000;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let flagged = (0..TRIALS)
            .filter(|_| {
                let rounds_s: Vec<Vec<f64>> = (0..rounds)
                    .map(|_| {
                        let level = (drift * normal(&mut rng)).exp();
                        (0..per_round)
                            .map(|_| level * (0.02 * normal(&mut rng)).exp())
                            .collect()
                    })
                    .collect();
                round_spread(&rounds_s).is_some_and(|s| s.disagree())
            })
            .count();
        flagged as f64 / f64::from(TRIALS)
    }

    fn normal(rng: &mut ChaCha8Rng) -> f64 {
        let unit =
            |rng: &mut ChaCha8Rng| ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let radius = (-2.0 * unit(rng).ln()).sqrt();
        radius * (std::f64::consts::TAU * unit(rng)).cos()
    }

    #[test]
    fn rounds_that_differ_by_their_scatter_alone_are_rarely_flagged() {
        for (rounds, per_round) in [(2, 7), (6, 7), (6, 30), (20, 7), (40, 10)] {
            let share = flagged_share(rounds, per_round, 0.0, 17);
            assert!(share <= 0.03, "{rounds} rounds of {per_round}: {share}");
        }
    }

    #[test]
    fn drift_larger_than_the_scatter_is_flagged_mostly() {
        for (rounds, per_round) in [(6, 7), (6, 30), (20, 10)] {
            let share = flagged_share(rounds, per_round, 0.06, 18);
            assert!(share >= 0.8, "{rounds} rounds of {per_round}: {share}");
        }
    }
}
