//! Confidence intervals for a case's median time that state their true level.
//!
//! A case is measured in rounds: the whole list of cases runs R times, in a shuffled order per
//! round, and each round times the case k times. Two medians are of interest.
//!
//! - **Within one round**, the median of the times this round would give if it went on for
//!   ever. The order statistics of the round's k samples bracket it with an exact,
//!   distribution-free level ([`within_round`]). This is what a single run can say, and it is
//!   too narrow to say anything about the next run: slow drift, turbo and noisy neighbours move
//!   a whole round at once, and that movement is not in the scatter of one round.
//! - **Across rounds**, the median this machine gives the case in a round whose level varies at
//!   random from round to round (a random-effects view). Each round's level is drawn afresh, so
//!   a round's median is a random variable, and the estimand is the median of its distribution.
//!   The order statistics of the R observed round medians bracket it with an exact level
//!   ([`across_rounds`]); between-round variation is inside that interval by construction.
//!
//! Every interval carries the level it truly has and the level asked for. When too few samples
//! or rounds make the asked level unreachable, the widest interval is returned with its lower,
//! true level and `reached` is false: no interval is ever labelled with a level it lacks.
//!
//! The ratio of two cases' medians ([`ratio`]) is bracketed by the order statistics of all
//! pairwise ratios of their round medians, with an exact level from the Mann–Whitney
//! distribution.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::stats::percentile;

/// The confidence level asked for when nothing else is said.
pub const DEFAULT_LEVEL: f64 = 0.95;

/// Which median an interval is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// The median of one round's times: the interval holds only the scatter inside that round,
    /// so it says nothing about what another round or another run would give.
    WithinRound,
    /// The median of the distribution of round medians: the interval holds the variation
    /// between rounds as well.
    AcrossRounds,
}

/// An interval for a case's median time, with the level it truly has.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MedianInterval {
    /// The point estimate in seconds: the median of the round medians (of the samples when
    /// there is one round).
    pub estimate_s: f64,
    /// Lower end of the interval, seconds.
    pub low_s: f64,
    /// Upper end of the interval, seconds.
    pub high_s: f64,
    /// The exact probability that an interval made this way covers the median `scope` names
    /// (for continuous times; ties only raise it).
    pub level: f64,
    /// The level that was asked for.
    pub requested_level: f64,
    /// Rounds behind the interval.
    pub rounds: u32,
    /// Samples behind the interval, all rounds together.
    pub samples: u32,
    /// Whether `level` is at least `requested_level`.
    pub reached: bool,
    /// Which median the interval is about.
    pub scope: Scope,
    /// Each round's median in seconds, sorted; the ratio of two cases is made from these.
    pub round_medians_s: Vec<f64>,
}

impl MedianInterval {
    /// Half the interval's width over the estimate: 0.01 means ±1 %.
    pub fn relative_half_width(&self) -> f64 {
        relative_half_width(self.estimate_s, self.low_s, self.high_s)
    }
}

/// Half the width of `low..high` over `estimate`, what a precision target is held against.
pub fn relative_half_width(estimate: f64, low: f64, high: f64) -> f64 {
    (high - low) / 2.0 / estimate
}

/// A pair of symmetric order-statistic ranks and the exact level they give.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranks {
    /// The 1-based rank of the lower end; the upper end is at `n − lower + 1`.
    pub lower: usize,
    /// The exact coverage of the interval between the two ranks.
    pub level: f64,
}

/// The exact coverage of the median by the order statistics at ranks `j` and `n − j + 1` of
/// `n` independent samples of a continuous distribution: 1 − 2·P(Bin(n, ½) ≤ j − 1).
///
/// Each sample falls below the median with probability ½, so the interval misses low exactly
/// when fewer than `j` samples fall below it, and misses high likewise.
pub fn median_coverage(n: usize, j: usize) -> f64 {
    (1.0 - 2.0 * binomial_half_cdf(n, j.saturating_sub(1))).max(0.0)
}

/// P(Bin(n, ½) ≤ at_most), summed in log space so that large `n` neither overflows nor
/// underflows to a wrong zero.
fn binomial_half_cdf(n: usize, at_most: usize) -> f64 {
    let ln_half_power = -(n as f64) * std::f64::consts::LN_2;
    let mut ln_choose = 0.0;
    let mut sum = 0.0;
    for i in 0..=at_most.min(n) {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        sum += (ln_choose + ln_half_power).exp();
    }
    sum.min(1.0)
}

/// The ranks of `n` samples whose exact level is the smallest at or above `requested_level`,
/// or the widest pair (1, n) with its lower level when none reaches it; `None` for no samples.
pub fn median_ranks(n: usize, requested_level: f64) -> Option<Ranks> {
    if n == 0 {
        return None;
    }
    // Coverage falls as the lower rank rises, so walk up while the next rank still reaches.
    let mut lower = 1;
    while lower < n.div_ceil(2) && median_coverage(n, lower + 1) >= requested_level {
        lower += 1;
    }
    Some(Ranks {
        lower,
        level: median_coverage(n, lower),
    })
}

/// The fewest samples (or rounds) whose widest interval, min..max, reaches `requested_level`:
/// the smallest n with 1 − 2^(1−n) ≥ level (6 for 95 %, 8 for 99 %).
pub fn needed_for_level(requested_level: f64) -> usize {
    let mut n = 1;
    while median_coverage(n, 1) < requested_level && n < 64 {
        n += 1;
    }
    n
}

/// The interval of one round's median from its samples (seconds, in any order).
///
/// The estimand is the median of this round's time distribution; the level is exact for
/// independent samples of a continuous distribution whatever its shape, and the interval is
/// unmoved by outliers beyond its ranks. `None` when there are no samples.
pub fn within_round(samples: &[f64], requested_level: f64) -> Option<MedianInterval> {
    let sorted = sorted(samples);
    let ranks = median_ranks(sorted.len(), requested_level)?;
    let (low_s, high_s) = bracket(&sorted, ranks.lower);
    let median = percentile(&sorted, 0.5);
    Some(MedianInterval {
        estimate_s: median,
        low_s,
        high_s,
        level: ranks.level,
        requested_level,
        rounds: 1,
        samples: count(sorted.len()),
        reached: ranks.level >= requested_level,
        scope: Scope::WithinRound,
        round_medians_s: vec![median],
    })
}

/// The interval of a case's median across rounds, from each round's samples (seconds).
///
/// The estimand is the median of the distribution of a round's median, where each round's
/// level is drawn at random (drift, turbo, neighbours): what a further round on this machine
/// gives the case, as a median. The round medians are independent draws of that distribution,
/// so their order statistics at ranks (j, R − j + 1) cover its median with the exact level
/// 1 − 2·P(Bin(R, ½) ≤ j − 1), whatever the shape of the timing noise and however large the
/// drift: 75 % at 3 rounds, 87.5 % at 4, 93.75 % at 5, 96.9 % at 6 (the fewest for 95 %).
/// More samples per round narrow the interval, down to the spread between rounds; only more
/// rounds raise its level.
///
/// The estimate is the median of the round medians: the natural estimate of the estimand,
/// always inside the interval, and, like the interval, untouched by one round gone wrong.
/// The median of all samples pooled would be a little steadier when rounds do not differ,
/// but it weighs a round by its sample count and may fall outside the interval.
///
/// A round's median is median-unbiased for that round's median when its sample count is odd,
/// so odd counts per round keep the level exact; even counts, whose median averages two
/// samples, are within a point of it in simulation.
///
/// With a single round no variation between rounds is seen, so the result is that round's
/// [`within_round`] interval with [`Scope::WithinRound`]. Empty rounds are ignored; `None`
/// when no round has a sample.
pub fn across_rounds<S: AsRef<[f64]>>(
    rounds: &[S],
    requested_level: f64,
) -> Option<MedianInterval> {
    let measured: Vec<&[f64]> = rounds
        .iter()
        .map(AsRef::as_ref)
        .filter(|round| !round.is_empty())
        .collect();
    if let [only] = measured.as_slice() {
        return within_round(only, requested_level);
    }
    let medians: Vec<f64> = measured
        .iter()
        .map(|round| percentile(&sorted(round), 0.5))
        .collect();
    let medians = sorted(&medians);
    let ranks = median_ranks(medians.len(), requested_level)?;
    let (low_s, high_s) = bracket(&medians, ranks.lower);
    Some(MedianInterval {
        estimate_s: percentile(&medians, 0.5),
        low_s,
        high_s,
        level: ranks.level,
        requested_level,
        rounds: count(medians.len()),
        samples: count(measured.iter().map(|round| round.len()).sum()),
        reached: ranks.level >= requested_level,
        scope: Scope::AcrossRounds,
        round_medians_s: medians,
    })
}

/// What a stop-on-precision rule should do next with a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The level is reached and the interval is within the precision.
    Done,
    /// More rounds can still raise the level or narrow the interval.
    MoreRounds,
    /// The rounds allowed are spent, or too few to ever reach the level.
    OutOfReach,
}

/// Whether `interval` meets the level it was asked for and `precision` (a relative half-width,
/// 0.01 = ±1 %; `f64::INFINITY` asks for the level only), and if not, whether more rounds, up
/// to `max_rounds` in all, could still get there.
///
/// Rounds, not samples, are what is asked for: the level across rounds depends only on their
/// number, and the width cannot shrink below the spread between rounds however many samples a
/// round takes. Whether a given precision will be met cannot be known beforehand; it is
/// treated as reachable while rounds remain.
pub fn progress(interval: &MedianInterval, precision: f64, max_rounds: u32) -> Progress {
    let precise = interval.relative_half_width() <= precision;
    if interval.reached && interval.scope == Scope::AcrossRounds && precise {
        return Progress::Done;
    }
    let level_within_reach = needed_for_level(interval.requested_level) <= max_rounds as usize;
    if interval.rounds < max_rounds && level_within_reach {
        Progress::MoreRounds
    } else {
        Progress::OutOfReach
    }
}

/// The ratio of two cases' medians (NEW over BASE) with an interval and the level it truly has.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RatioInterval {
    /// NEW's estimate over BASE's.
    pub estimate: f64,
    /// Lower end of the interval of the ratio.
    pub low: f64,
    /// Upper end of the interval of the ratio.
    pub high: f64,
    /// The exact coverage of the true ratio when the two cases' round medians differ by a
    /// factor only (see [`ratio`]).
    pub level: f64,
    /// The level that was asked for.
    pub requested_level: f64,
    /// Whether `level` is at least `requested_level`.
    pub reached: bool,
}

impl RatioInterval {
    /// Half the interval's width over the estimate: 0.01 means ±1 %.
    pub fn relative_half_width(&self) -> f64 {
        relative_half_width(self.estimate, self.low, self.high)
    }
}

/// The ratio of `new`'s median to `base`'s, from their round medians.
///
/// The interval is made of the order statistics of the m·n ratios of a round median of `new`
/// to one of `base`: from the d-th smallest to the d-th largest. In log space the ratios are
/// differences, and this is the distribution-free interval for a shift between two samples:
/// when the two cases' log round medians have one shape and differ by a shift (the same
/// relative drift and noise, a factor apart), it misses low exactly when the Mann–Whitney
/// count of the shifted samples is below d, so its level is 1 − 2·P(U ≤ d − 1), with U
/// counted exactly. The cases are taken as independent; rounds shared by both only make the
/// level conservative, as common drift cancels in the ratio. When one case's round medians
/// spread much more than the other's the level is somewhat optimistic (3 rounds each, one
/// three times as spread: 86 % where 90 % is stated).
///
/// Three rounds each give 90 %, four give 97.1 %, five 96.8 %. The estimate is the ratio of
/// the two estimates, so it matches the medians shown beside it. `None` when either side has
/// no round medians.
pub fn ratio(
    new: &MedianInterval,
    base: &MedianInterval,
    requested_level: f64,
) -> Option<RatioInterval> {
    let (m, n) = (new.round_medians_s.len(), base.round_medians_s.len());
    if m == 0 || n == 0 {
        return None;
    }
    let mut ratios: Vec<f64> = new
        .round_medians_s
        .iter()
        .flat_map(|a| base.round_medians_s.iter().map(move |b| a / b))
        .collect();
    ratios.sort_by(f64::total_cmp);
    let (depth, level) = shift_depth(m, n, requested_level);
    let (low, high) = bracket(&ratios, depth);
    Some(RatioInterval {
        estimate: new.estimate_s / base.estimate_s,
        low,
        high,
        level,
        requested_level,
        reached: level >= requested_level,
    })
}

/// The depth d for the pairwise-difference interval of samples of sizes `m` and `n` whose
/// exact level is the smallest at or above `requested_level` (or d = 1 with its lower level),
/// and that level.
fn shift_depth(m: usize, n: usize, requested_level: f64) -> (usize, f64) {
    let probabilities = mann_whitney_probabilities(m, n);
    let mut below = probabilities[0];
    let mut depth = 1;
    while depth < (m * n).div_ceil(2) {
        let next_level = 1.0 - 2.0 * (below + probabilities[depth]);
        if next_level < requested_level {
            break;
        }
        below += probabilities[depth];
        depth += 1;
    }
    (depth, (1.0 - 2.0 * below).max(0.0))
}

/// P(U = u) for u = 0..=m·n, where U is the Mann–Whitney count of samples of sizes `m` and `n`
/// from one distribution: how many of the m·n pairs have the first sample's member larger.
///
/// The counts of orderings follow c(i, j, u) = c(i − 1, j, u − j) + c(i, j − 1, u) (the largest
/// of all i + j values is either from the first sample, above all j of the second, or not);
/// kept in floating point so that large sizes do not overflow. Cost grows as (m·n)², fine for
/// the tens of rounds a case gets.
fn mann_whitney_probabilities(m: usize, n: usize) -> Vec<f64> {
    // counts[j] holds c(i, j, ·) for the current i; row 0 is one ordering with U = 0.
    let mut counts: Vec<Vec<f64>> = vec![vec![1.0]; n + 1];
    for i in 1..=m {
        let mut row: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
        row.push(vec![1.0]);
        for j in 1..=n {
            let mut c = vec![0.0; i * j + 1];
            for (u, slot) in c.iter_mut().enumerate() {
                let from_first = if u >= j {
                    counts[j].get(u - j).copied().unwrap_or(0.0)
                } else {
                    0.0
                };
                let from_second = row[j - 1].get(u).copied().unwrap_or(0.0);
                *slot = from_first + from_second;
            }
            row.push(c);
        }
        counts = row;
    }
    let orderings = &counts[n];
    let total: f64 = orderings.iter().sum();
    orderings.iter().map(|c| c / total).collect()
}

/// The values at 1-based rank `lower` and its mirror from the top of `sorted`.
fn bracket(sorted: &[f64], lower: usize) -> (f64, f64) {
    (sorted[lower - 1], sorted[sorted.len() - lower])
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted
}

/// A count for the record, saturating rather than wrapping.
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
#[path = "interval_simulation.rs"]
mod simulation;

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn coverage_is_the_binomial_tail() {
        assert!(close(median_coverage(3, 1), 0.75));
        assert!(close(median_coverage(5, 1), 0.9375));
        assert!(close(median_coverage(6, 1), 0.96875));
        // P(Bin(10, ½) ≤ 1) = (1 + 10)/1024.
        assert!(close(median_coverage(10, 2), 1.0 - 22.0 / 1024.0));
        assert!(close(median_coverage(1, 1), 0.0));
        // The middle rank of an odd count is the median itself: no coverage.
        assert!(close(median_coverage(7, 4), 0.0));
        // Large counts neither overflow nor underflow.
        assert!(median_coverage(2000, 956) > 0.9 && median_coverage(2000, 956) < 1.0);
    }

    #[test]
    fn ranks_give_the_smallest_level_at_or_above_the_request() {
        assert_eq!(median_ranks(0, 0.95), None);
        let ten = median_ranks(10, 0.95).unwrap();
        assert_eq!(ten.lower, 2);
        assert!(close(ten.level, 1.0 - 22.0 / 1024.0));
        // P(Bin(20, ½) ≤ 5) = 21700/2^20; rank 7 would give 88.5 %.
        let twenty = median_ranks(20, 0.95).unwrap();
        assert_eq!(twenty.lower, 6);
        assert!(close(twenty.level, 1.0 - 2.0 * 21700.0 / 1048576.0));
        for n in 1..200 {
            let ranks = median_ranks(n, 0.95).unwrap();
            let next = median_coverage(n, ranks.lower + 1);
            assert!(ranks.level >= 0.95 || ranks.lower == 1, "n = {n}");
            assert!(next < 0.95 || ranks.lower == n.div_ceil(2), "n = {n}");
        }
    }

    #[test]
    fn too_few_samples_give_min_to_max_with_their_true_level() {
        let interval = within_round(&[3.0, 1.0, 2.0], 0.95).unwrap();
        assert_eq!((interval.low_s, interval.high_s), (1.0, 3.0));
        assert!(close(interval.level, 0.75));
        assert!(!interval.reached);
        assert_eq!(interval.scope, Scope::WithinRound);
        let five = within_round(&[5.0, 4.0, 3.0, 2.0, 1.0], 0.95).unwrap();
        assert!(close(five.level, 0.9375) && !five.reached);
        let six = within_round(&[6.0, 5.0, 4.0, 3.0, 2.0, 1.0], 0.95).unwrap();
        assert!(close(six.level, 0.96875) && six.reached);
        assert_eq!((six.low_s, six.high_s, six.estimate_s), (1.0, 6.0, 3.5));
        assert!(within_round(&[], 0.95).is_none());
    }

    #[test]
    fn the_fewest_for_a_level() {
        assert_eq!(needed_for_level(0.95), 6);
        assert_eq!(needed_for_level(0.75), 3);
        assert_eq!(needed_for_level(0.99), 8);
    }

    #[test]
    fn rounds_are_summarised_by_their_medians() {
        let rounds = vec![
            vec![1.0, 1.2, 1.1],
            vec![2.0, 2.1, 1.9, 100.0],
            vec![],
            vec![1.5, 1.4, 1.6],
        ];
        let interval = across_rounds(&rounds, 0.95).unwrap();
        assert_eq!(interval.round_medians_s, vec![1.1, 1.5, 2.05]);
        assert_eq!((interval.low_s, interval.high_s), (1.1, 2.05));
        assert!(close(interval.estimate_s, 1.5));
        assert!(close(interval.level, 0.75) && !interval.reached);
        assert_eq!((interval.rounds, interval.samples), (3, 10));
        assert_eq!(interval.scope, Scope::AcrossRounds);
        assert!(close(
            interval.relative_half_width(),
            (2.05 - 1.1) / 2.0 / 1.5
        ));
    }

    #[test]
    fn one_round_is_a_within_round_interval() {
        let samples = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02];
        let one = across_rounds(&[samples], 0.95).unwrap();
        assert_eq!(one, within_round(&samples, 0.95).unwrap());
        assert_eq!(one.scope, Scope::WithinRound);
        assert!(across_rounds::<Vec<f64>>(&[], 0.95).is_none());
        assert!(across_rounds(&[Vec::<f64>::new()], 0.95).is_none());
    }

    #[test]
    fn the_record_round_trips() {
        let rounds = [[1.0, 2.0, 3.0], [2.0, 3.0, 4.0]];
        let interval = across_rounds(&rounds, 0.95).unwrap();
        let json = serde_json::to_string(&interval).unwrap();
        assert!(json.contains("\"scope\":\"across_rounds\""), "{json}");
        let back: MedianInterval = serde_json::from_str(&json).unwrap();
        assert_eq!(back, interval);
    }

    fn interval_with(rounds: u32, level: f64, low_s: f64, high_s: f64) -> MedianInterval {
        MedianInterval {
            estimate_s: 1.0,
            low_s,
            high_s,
            level,
            requested_level: 0.95,
            rounds,
            samples: rounds * 5,
            reached: level >= 0.95,
            scope: Scope::AcrossRounds,
            round_medians_s: vec![1.0; rounds as usize],
        }
    }

    #[test]
    fn progress_asks_for_rounds_until_level_and_precision() {
        let few = interval_with(3, 0.75, 0.99, 1.01);
        assert_eq!(progress(&few, 0.02, 10), Progress::MoreRounds);
        assert_eq!(progress(&few, 0.02, 3), Progress::OutOfReach);
        // Five rounds can never give 95 %.
        assert_eq!(progress(&few, 0.02, 5), Progress::OutOfReach);
        let wide = interval_with(6, 0.96875, 0.9, 1.1);
        assert_eq!(progress(&wide, 0.05, 10), Progress::MoreRounds);
        assert_eq!(progress(&wide, f64::INFINITY, 10), Progress::Done);
        assert_eq!(progress(&wide, 0.11, 10), Progress::Done);
        assert_eq!(progress(&wide, 0.05, 6), Progress::OutOfReach);
        let mut one_round = interval_with(1, 0.97, 0.999, 1.001);
        one_round.scope = Scope::WithinRound;
        assert_eq!(progress(&one_round, 0.01, 10), Progress::MoreRounds);
    }

    #[test]
    fn mann_whitney_counts_match_enumeration() {
        // Two and two: of the six orderings, U = 0, 1, 2, 2, 3, 4.
        let p = mann_whitney_probabilities(2, 2);
        let expected = [1.0, 1.0, 2.0, 1.0, 1.0].map(|c| c / 6.0);
        assert_eq!(p.len(), expected.len());
        assert!(p.iter().zip(expected).all(|(a, b)| close(*a, b)));
        for (m, n) in [(1, 1), (3, 5), (6, 6), (8, 3)] {
            let p = mann_whitney_probabilities(m, n);
            assert!(close(p.iter().sum::<f64>(), 1.0));
            assert!(p.iter().zip(p.iter().rev()).all(|(a, b)| close(*a, *b)));
            assert!(close(p[0], 1.0 / choose(m + n, m)));
        }
    }

    fn choose(n: usize, k: usize) -> f64 {
        (0..k).fold(1.0, |c, i| c * (n - i) as f64 / (i + 1) as f64)
    }

    #[test]
    fn ratio_levels_follow_the_round_counts() {
        let case = |rounds: usize, scale: f64| {
            let medians: Vec<Vec<f64>> = (0..rounds)
                .map(|r| vec![scale * (1.0 + r as f64 / 100.0)])
                .collect();
            across_rounds(&medians, 0.95).unwrap()
        };
        let three = ratio(&case(3, 1.1), &case(3, 1.0), 0.95).unwrap();
        assert!(close(three.level, 0.9) && !three.reached);
        assert!(close(three.estimate, 1.1));
        assert!(close(three.low, 1.1 / 1.02) && close(three.high, 1.1 * 1.02));
        let four = ratio(&case(4, 1.1), &case(4, 1.0), 0.95).unwrap();
        assert!(close(four.level, 1.0 - 2.0 / 70.0) && four.reached);
        let five = ratio(&case(5, 1.0), &case(5, 1.0), 0.95).unwrap();
        assert!(close(five.level, 1.0 - 8.0 / 252.0));
        assert!(five.low < 1.0 && five.high > 1.0);
        let single = ratio(&case(1, 1.0), &case(1, 2.0), 0.95).unwrap();
        assert!(close(single.level, 0.0) && close(single.estimate, 0.5));
    }
}
