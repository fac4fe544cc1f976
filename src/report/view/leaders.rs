//! The leading results of a sweep, compared like with like: the best case of each algorithm
//! on the sweep's main input (its first key type, its first distribution that is not
//! degenerate, its largest size), never a degenerate input (sorted, reverse, all-equal) nor an
//! oversubscribed case (more threads than logical cores), each with its ratio to the best and
//! that ratio's interval; and the speed-up of the best parallel case over the fastest
//! one-thread case on the same input (a fair baseline: the best sequential sort, not the
//! same algorithm's slow one-thread run). The summary's headlines and the terminal's table
//! after a run both read this.

use std::collections::HashMap;

use crate::data::{Distribution, KeyType};
use crate::definition::Sweep;
use crate::measure::interval::RatioInterval;
use crate::record::{CaseResult, CaseStatus, speedup_interval};

/// The input a sweep's leading results are compared on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MainShape {
    /// The sweep's first key type.
    pub key: KeyType,
    /// The sweep's first distribution that is not degenerate (its first one when all are).
    pub distribution: Distribution,
    /// The largest size measured on that key type and distribution.
    pub n: u64,
}

/// One algorithm's best case on the main shape.
#[derive(Debug, Clone)]
pub struct Leader<'a> {
    /// The case.
    pub case: &'a CaseResult,
    /// Its median time over the best case's (1 for the best), with the interval where both
    /// were measured in rounds.
    pub vs_best: f64,
    /// The interval of `vs_best` (`None` for the best itself, or without rounds).
    pub vs_best_interval: Option<RatioInterval>,
}

/// The speed-up of the best parallel case over the fastest one-thread case.
#[derive(Debug, Clone)]
pub struct Scaling<'a> {
    /// The fastest one-thread case on the main shape.
    pub baseline: &'a CaseResult,
    /// The case it is measured for (the sweep's best, on more than one thread).
    pub case: &'a CaseResult,
    /// Baseline median time over the case's.
    pub speedup: f64,
    /// Its interval, where both were measured in rounds.
    pub interval: Option<RatioInterval>,
    /// Speed-up over threads.
    pub efficiency: f64,
}

/// A sweep's leading results.
#[derive(Debug, Clone)]
pub struct Leaders<'a> {
    /// The input they are compared on.
    pub shape: MainShape,
    /// One per algorithm, fastest first.
    pub leaders: Vec<Leader<'a>>,
    /// Where threads vary: the best case's speed-up over the fastest one-thread sort.
    pub scaling: Option<Scaling<'a>>,
    /// Verified cases on the main shape left out for running more threads than cores.
    pub oversubscribed: usize,
}

/// Whether a distribution's input is a special case no general claim should rest on.
pub fn degenerate(distribution: Distribution) -> bool {
    matches!(
        distribution,
        Distribution::Sorted | Distribution::Reverse | Distribution::AllEqual
    )
}

/// The leading results of `sweep` among `cases` (the run's cases of any sweep: those of other
/// cells are ignored); `None` when no case on its main shape was verified with a rate.
pub fn leaders<'a>(sweep: &Sweep, cases: &[&'a CaseResult]) -> Option<Leaders<'a>> {
    let cases: Vec<&CaseResult> = cases
        .iter()
        .copied()
        .filter(|c| c.cell == sweep.cell && c.status == CaseStatus::Ok && c.keys_per_s.is_some())
        .collect();
    let shape = main_shape(sweep, &cases)?;
    let on_shape: Vec<&CaseResult> = cases
        .into_iter()
        .filter(|c| (c.key_type, c.distribution, c.n) == (shape.key, shape.distribution, shape.n))
        .collect();
    let oversubscribed = on_shape.iter().filter(|c| c.oversubscribed).count();
    let fair: Vec<&CaseResult> = on_shape.into_iter().filter(|c| !c.oversubscribed).collect();
    let best_of_each = best_per_algorithm(&fair);
    let best = *best_of_each.first()?;
    let leaders = best_of_each
        .iter()
        .map(|&case| leader(case, best))
        .collect();
    Some(Leaders {
        shape,
        leaders,
        scaling: scaling(best, &fair),
        oversubscribed,
    })
}

/// The main shape among verified `cases` of `sweep`.
fn main_shape(sweep: &Sweep, cases: &[&CaseResult]) -> Option<MainShape> {
    let key = sweep.keys.first().copied()?;
    let distribution = sweep
        .distributions
        .iter()
        .copied()
        .find(|d| !degenerate(*d))
        .or_else(|| sweep.distributions.first().copied())?;
    let n = cases
        .iter()
        .filter(|c| c.key_type == key && c.distribution == distribution && !c.oversubscribed)
        .map(|c| c.n)
        .max()?;
    Some(MainShape {
        key,
        distribution,
        n,
    })
}

/// The fastest case of each algorithm, fastest first (ties kept in plan order).
fn best_per_algorithm<'a>(cases: &[&'a CaseResult]) -> Vec<&'a CaseResult> {
    let mut best: HashMap<&str, &CaseResult> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for &case in cases {
        match best.get(case.algorithm.as_str()) {
            Some(held) if rate(held) >= rate(case) => {}
            Some(_) => {
                best.insert(&case.algorithm, case);
            }
            None => {
                order.push(&case.algorithm);
                best.insert(&case.algorithm, case);
            }
        }
    }
    let mut leaders: Vec<&CaseResult> = order.iter().map(|a| best[a]).collect();
    leaders.sort_by(|a, b| rate(b).total_cmp(&rate(a)));
    leaders
}

/// A case's rate (0 without one).
fn rate(c: &CaseResult) -> f64 {
    c.keys_per_s.unwrap_or(0.0)
}

/// A case's median time (NaN without one).
fn median(c: &CaseResult) -> f64 {
    c.stats.as_ref().map_or(f64::NAN, |s| s.median_s)
}

/// `case` against `best`: its time over the best's, with an interval from both cases' rounds.
fn leader<'a>(case: &'a CaseResult, best: &CaseResult) -> Leader<'a> {
    let same = std::ptr::eq(case, best);
    // `speedup_interval` is the ratio of two cases' times whose intervals span rounds: here
    // this case's time over the best's.
    let vs_best_interval = if same {
        None
    } else {
        case.interval
            .as_ref()
            .zip(best.interval.as_ref())
            .and_then(|(this, base)| speedup_interval(this, base))
    };
    Leader {
        case,
        vs_best: if same {
            1.0
        } else {
            median(case) / median(best)
        },
        vs_best_interval,
    }
}

/// The speed-up of `best` over the fastest one-thread case among `fair`, when `best` runs on
/// more than one thread and such a case exists.
fn scaling<'a>(best: &'a CaseResult, fair: &[&'a CaseResult]) -> Option<Scaling<'a>> {
    let threads = best.threads.filter(|t| *t > 1)?;
    let baseline = fair
        .iter()
        .copied()
        .filter(|c| c.threads == Some(1))
        .max_by(|a, b| rate(a).total_cmp(&rate(b)))?;
    let speedup = median(baseline) / median(best);
    let interval = baseline
        .interval
        .as_ref()
        .zip(best.interval.as_ref())
        .and_then(|(one, this)| speedup_interval(one, this));
    Some(Scaling {
        baseline,
        case: best,
        speedup,
        interval,
        efficiency: speedup / f64::from(threads),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::view::cases::tests::measured;

    /// A sweep over radix and std on uniform and sorted u32 keys, 1 and 4 threads.
    fn sweep() -> Sweep {
        let toml = r#"title = "t"
[[cell]]
sweep = { name = "s", backend = "cpu", algorithms = ["radix", "std-unstable"], keys = ["u32"], distributions = ["sorted", "uniform"], sizes = [1024], threads = [1, 4] }
"#;
        let limits = crate::definition::MachineLimits {
            logical_cores: 4,
            host_memory_bytes: 8 << 30,
        };
        let def = crate::definition::load("t.toml", toml, &limits).expect("a valid definition");
        def.sweeps().next().cloned().expect("a sweep")
    }

    /// An ok case of `algorithm` on `distribution` and `threads` taking `scale` ms.
    fn case(algorithm: &str, distribution: Distribution, threads: u32, scale: f64) -> CaseResult {
        let mut c = measured(0.0);
        c.algorithm = algorithm.to_string();
        c.distribution = distribution;
        c.threads = Some(threads);
        for s in c.samples_s.iter_mut() {
            *s *= scale;
        }
        c.stats = crate::measure::summarize(&c.samples_s, 1);
        for round in c.rounds_s.iter_mut() {
            for s in round.iter_mut() {
                *s *= scale;
            }
        }
        c.interval = crate::measure::across_rounds(&c.rounds_s, crate::measure::DEFAULT_LEVEL);
        c.keys_per_s = Some(1024.0 / (1e-3 * scale));
        c
    }

    #[test]
    fn the_fastest_is_never_a_sorted_input_nor_an_oversubscribed_case() {
        let sorted = case("std-unstable", Distribution::Sorted, 1, 0.1);
        let mut stress = case("radix", Distribution::Uniform, 4, 0.2);
        stress.oversubscribed = true;
        let radix1 = case("radix", Distribution::Uniform, 1, 1.0);
        let std1 = case("std-unstable", Distribution::Uniform, 1, 2.0);
        let std4 = case("std-unstable", Distribution::Uniform, 4, 0.5);
        let all = [&sorted, &stress, &radix1, &std1, &std4];
        let found = leaders(&sweep(), &all).expect("leaders");
        assert_eq!(found.shape.distribution, Distribution::Uniform);
        assert_eq!(found.oversubscribed, 1);
        let names: Vec<(&str, Option<u32>)> = found
            .leaders
            .iter()
            .map(|l| (l.case.algorithm.as_str(), l.case.threads))
            .collect();
        assert_eq!(names, [("std-unstable", Some(4)), ("radix", Some(1))]);
        assert!((found.leaders[1].vs_best - 2.0).abs() < 1e-9);
        let i = found.leaders[1].vs_best_interval.expect("an interval");
        assert!(i.low <= 2.0 && 2.0 <= i.high, "{i:?}");
        // The speed-up is over the fastest one-thread sort (radix), not std's own slow run.
        let s = found.scaling.as_ref().expect("a speed-up");
        assert_eq!(s.baseline.algorithm, "radix");
        assert!((s.speedup - 2.0).abs() < 1e-9 && (s.efficiency - 0.5).abs() < 1e-9);
        assert!(s.interval.is_some());
        let line = crate::report::view::cases::headline("s", &found);
        assert!(
            line.starts_with("s (u32 uniform 2^10 keys): fastest std-unstable, 4 threads at "),
            "{line}"
        );
        assert!(
            line.contains("; radix, 1 thread 2.00× the time ("),
            "{line}"
        );
        assert!(
            line.contains("; speed-up 2.00× (") && line.contains(") on 4 threads over the fastest one-thread sort (radix), 50 % efficiency; 1 oversubscribed case left out"),
            "{line}"
        );
    }

    #[test]
    fn a_sweep_of_degenerate_inputs_only_still_has_leaders() {
        let mut only_sorted = sweep();
        only_sorted.distributions = vec![Distribution::Sorted];
        let sorted = case("radix", Distribution::Sorted, 1, 1.0);
        let found = leaders(&only_sorted, &[&sorted]).expect("leaders");
        assert_eq!(found.shape.distribution, Distribution::Sorted);
        assert!(found.scaling.is_none());
    }
}
