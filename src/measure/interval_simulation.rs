//! Coverage of the intervals by simulation: times drawn from known distributions, each round
//! moved by a random factor, and the share of intervals covering the true median held against
//! the level each interval states.
//!
//! Run with `--nocapture` to see the table of stated against empirical coverage.
#![expect(
    clippy::disallowed_macros,
    reason = "the simulation prints its own table of numbers for `--nocapture`"
)]

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

use super::*;

/// How far the empirical coverage may be from the stated level. With 4,000 trials the binomial
/// standard error is at most 0.7 points (at a stated 75 %) and 0.35 at 95 %, so a wrong level
/// cannot hide inside 2 points.
const TOLERANCE: f64 = 0.02;

/// Trials behind each median cell.
const MEDIAN_TRIALS: u32 = 4000;

/// Trials behind each ratio cell: each draws two cases, so fewer keep the time down, with a
/// standard error still at most 0.55 points (at a stated 90 %).
const RATIO_TRIALS: u32 = 3000;

/// Φ⁻¹(0.5 / 0.95), from Python's `statistics.NormalDist().inv_cdf`: with 5 % of samples three
/// times slower (and none of them near the median), the mixture's median is where the other
/// 95 % reach a cumulative share of 0.5 / 0.95.
const OUTLIER_MEDIAN_QUANTILE: f64 = 0.066_011_812_375_840_58;

/// Within-round noise: a factor on the case's time, of known median.
#[derive(Debug, Clone, Copy)]
enum Noise {
    /// exp(N(0, σ)): median 1.
    LogNormal { sigma: f64 },
    /// 1 + scale·Exp(1), skewed to the slow side: median 1 + scale·ln 2.
    ShiftedExponential { scale: f64 },
    /// exp(N(0, σ)), three times slower for one sample in twenty (a noisy neighbour).
    Outliers { sigma: f64 },
}

impl Noise {
    fn draw(self, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            Noise::LogNormal { sigma } => (sigma * normal(rng)).exp(),
            Noise::ShiftedExponential { scale } => 1.0 - scale * unit_open(rng).ln(),
            Noise::Outliers { sigma } => {
                let slowdown = if unit_open(rng) < 0.05 { 3.0 } else { 1.0 };
                slowdown * (sigma * normal(rng)).exp()
            }
        }
    }

    fn median(self) -> f64 {
        match self {
            Noise::LogNormal { .. } => 1.0,
            Noise::ShiftedExponential { scale } => 1.0 + scale * std::f64::consts::LN_2,
            Noise::Outliers { sigma } => (sigma * OUTLIER_MEDIAN_QUANTILE).exp(),
        }
    }
}

/// A uniform draw in (0, 1), never 0 so that its logarithm is finite.
fn unit_open(rng: &mut ChaCha8Rng) -> f64 {
    ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
}

/// A standard normal draw (Box–Muller, one of the pair).
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let radius = (-2.0 * unit_open(rng).ln()).sqrt();
    radius * (std::f64::consts::TAU * unit_open(rng)).cos()
}

/// How a case's times arise: noise inside a round, and a factor exp(N(0, σ)) per round.
#[derive(Debug, Clone, Copy)]
struct Scenario {
    name: &'static str,
    noise: Noise,
    drift_sigma: f64,
}

/// A GPU case: 0.3 % noise within a round, 0.2 % drift between rounds.
const GPU: Scenario = Scenario {
    name: "lognormal 0.3%, drift 0.2%",
    noise: Noise::LogNormal { sigma: 0.003 },
    drift_sigma: 0.002,
};

/// Skewed noise (a long slow tail) and a drift that dominates it.
const SKEWED: Scenario = Scenario {
    name: "shifted exp 5%, drift 2%",
    noise: Noise::ShiftedExponential { scale: 0.05 },
    drift_sigma: 0.02,
};

/// A noisy neighbour: one sample in twenty three times slower.
const NEIGHBOUR: Scenario = Scenario {
    name: "lognormal 2% + 5% at 3x, drift 1%",
    noise: Noise::Outliers { sigma: 0.02 },
    drift_sigma: 0.01,
};

/// One simulated case: its rounds' samples, and the factor its first round was moved by.
struct Case {
    rounds: Vec<Vec<f64>>,
    first_round_factor: f64,
}

fn draw_case(
    rng: &mut ChaCha8Rng,
    scenario: &Scenario,
    rounds: usize,
    per_round: usize,
    scale: f64,
) -> Case {
    let mut first_round_factor = 1.0;
    let rounds = (0..rounds)
        .map(|round| {
            let factor = (scenario.drift_sigma * normal(rng)).exp();
            if round == 0 {
                first_round_factor = factor;
            }
            (0..per_round)
                .map(|_| scale * factor * scenario.noise.draw(rng))
                .collect()
        })
        .collect();
    Case {
        rounds,
        first_round_factor,
    }
}

/// The coverage of one kind of interval in one setting.
struct Cell {
    label: String,
    stated: f64,
    hits: u32,
    trials: u32,
}

impl Cell {
    fn empirical(&self) -> f64 {
        f64::from(self.hits) / f64::from(self.trials)
    }

    fn agrees(&self) -> bool {
        (self.empirical() - self.stated).abs() <= TOLERANCE
    }

    fn row(&self) -> String {
        format!(
            "{:<58} stated {:>6.2}%  empirical {:>6.2}%  {}",
            self.label,
            100.0 * self.stated,
            100.0 * self.empirical(),
            if self.agrees() { "ok" } else { "WRONG" }
        )
    }
}

/// A seed of its own for each setting, so that cells do not share draws.
fn seed(scenario: &Scenario, rounds: usize, per_round: usize) -> u64 {
    let name_hash = scenario
        .name
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
    name_hash ^ ((rounds as u64) << 32) ^ per_round as u64
}

/// Coverage of [`across_rounds`] at 95 %: of the median across rounds when there are several,
/// of the round's own median when there is one (what each interval says it is about).
fn median_cell(scenario: &Scenario, rounds: usize, per_round: usize) -> Cell {
    let mut rng = ChaCha8Rng::seed_from_u64(seed(scenario, rounds, per_round));
    let true_median = scenario.noise.median();
    let mut stated = None;
    let mut hits = 0;
    for _ in 0..MEDIAN_TRIALS {
        let case = draw_case(&mut rng, scenario, rounds, per_round, 1.0);
        let interval = across_rounds(&case.rounds, DEFAULT_LEVEL).unwrap();
        let target = match interval.scope {
            Scope::WithinRound => true_median * case.first_round_factor,
            Scope::AcrossRounds => true_median,
        };
        assert_eq!(*stated.get_or_insert(interval.level), interval.level);
        hits += u32::from(interval.low_s <= target && target <= interval.high_s);
    }
    Cell {
        label: format!("{}, R={rounds}, k={per_round}", scenario.name),
        stated: stated.unwrap(),
        hits,
        trials: MEDIAN_TRIALS,
    }
}

/// Coverage of [`ratio`] at 95 % for NEW (drawn from `new`, `true_ratio` times slower) over
/// BASE (drawn from `base`), both with `rounds` rounds of `per_round` samples.
fn ratio_cell(
    new: &Scenario,
    base: &Scenario,
    true_ratio: f64,
    rounds: usize,
    per_round: usize,
) -> Cell {
    let mut rng = ChaCha8Rng::seed_from_u64(seed(new, rounds, per_round) ^ true_ratio.to_bits());
    let target = true_ratio * new.noise.median() / base.noise.median();
    let mut stated = None;
    let mut hits = 0;
    for _ in 0..RATIO_TRIALS {
        let new_case = draw_case(&mut rng, new, rounds, per_round, true_ratio);
        let base_case = draw_case(&mut rng, base, rounds, per_round, 1.0);
        let new_interval = across_rounds(&new_case.rounds, DEFAULT_LEVEL).unwrap();
        let base_interval = across_rounds(&base_case.rounds, DEFAULT_LEVEL).unwrap();
        let interval = ratio(&new_interval, &base_interval, DEFAULT_LEVEL).unwrap();
        assert_eq!(*stated.get_or_insert(interval.level), interval.level);
        assert!(interval.low <= interval.estimate && interval.estimate <= interval.high);
        hits += u32::from(interval.low <= target && target <= interval.high);
    }
    Cell {
        label: format!(
            "ratio {true_ratio} of {} / {}, R={rounds}, k={per_round}",
            new.name, base.name
        ),
        stated: stated.unwrap(),
        hits,
        trials: RATIO_TRIALS,
    }
}

/// Prints every cell and fails, naming them, if any is off its stated level.
fn assert_all_agree(cells: &[Cell]) {
    for cell in cells {
        println!("{}", cell.row());
    }
    let wrong: Vec<String> = cells
        .iter()
        .filter(|c| !c.agrees())
        .map(Cell::row)
        .collect();
    assert!(wrong.is_empty(), "coverage off:\n{}", wrong.join("\n"));
}

/// Every (R, k) of the grid for one scenario.
fn median_grid(scenario: &Scenario) -> Vec<Cell> {
    let mut cells = Vec::new();
    for rounds in [1, 3, 5, 8] {
        for per_round in [3, 5, 10, 20] {
            cells.push(median_cell(scenario, rounds, per_round));
        }
    }
    cells
}

#[test]
fn gpu_like_noise_is_covered_at_the_stated_level() {
    assert_all_agree(&median_grid(&GPU));
}

#[test]
fn skewed_noise_is_covered_at_the_stated_level() {
    assert_all_agree(&median_grid(&SKEWED));
}

#[test]
fn outliers_are_covered_at_the_stated_level() {
    assert_all_agree(&median_grid(&NEIGHBOUR));
}

#[test]
fn ratios_are_covered_at_the_stated_level() {
    let mut cells = Vec::new();
    for scenario in [GPU, SKEWED, NEIGHBOUR] {
        for rounds in [3, 5, 8] {
            for per_round in [3, 10] {
                cells.push(ratio_cell(&scenario, &scenario, 1.1, rounds, per_round));
            }
        }
    }
    cells.push(ratio_cell(&GPU, &GPU, 1.0, 5, 5));
    assert_all_agree(&cells);
}

/// The coverage check must be able to fail: min..max of three samples labelled 95 % (it is
/// 75 %) is caught.
#[test]
fn the_check_rejects_a_wrong_level() {
    let mut cell = median_cell(&GPU, 1, 3);
    assert!(cell.agrees(), "{}", cell.row());
    cell.stated = 0.95;
    assert!(!cell.agrees(), "{}", cell.row());
}

/// What a single run's interval misses: under drift, one round's interval covers the median
/// across rounds far less often than its level says.
#[test]
fn one_round_misses_the_median_across_rounds_under_drift() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let trials = 2000;
    let mut hits = 0;
    let mut level = 0.0;
    for _ in 0..trials {
        let case = draw_case(&mut rng, &GPU, 1, 20, 1.0);
        let interval = across_rounds(&case.rounds, DEFAULT_LEVEL).unwrap();
        level = interval.level;
        let target = GPU.noise.median();
        hits += u32::from(interval.low_s <= target && target <= interval.high_s);
    }
    let coverage = f64::from(hits) / f64::from(trials);
    println!(
        "one round of 20 under drift: level {level:.4}, covers the median across rounds {coverage:.4}"
    );
    assert!(coverage < level - 0.2, "{coverage} against {level}");
}

/// Where the ratio's level is optimistic: NEW's round medians spread three times as much as
/// BASE's, with three rounds each.
#[test]
fn unequal_spreads_make_the_ratio_level_somewhat_optimistic() {
    let noisy = Scenario {
        name: "lognormal 0.9%, drift 0.6%",
        noise: Noise::LogNormal { sigma: 0.009 },
        drift_sigma: 0.006,
    };
    let cell = ratio_cell(&noisy, &GPU, 1.1, 3, 5);
    let shortfall = cell.stated - cell.empirical();
    println!("{} (known shortfall)", cell.row());
    assert!((0.0..0.07).contains(&shortfall), "{}", cell.row());
}
