//! The Run: everything one execution of a definition produced, serialized as `results.json`.
//!
//! `results.json` is the single source of truth: every report is rendered from a [`Run`] alone.
//! Every field is written and every field is read: a change to the format (a field added,
//! removed, renamed or given another meaning) is a new [`SCHEMA_VERSION`], with a step in
//! [`super::migrate`] that makes a file of the previous version into one of the new.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::BackendKind;
use crate::data::{Distribution, KeyType};
use crate::definition::ReportDef;
use crate::env::load::Disturbance;
use crate::env::{Check, Environment};
use crate::measure::interval::{RatioInterval, Scope, ratio};
use crate::measure::{
    DEFAULT_LEVEL, Measurement, MedianInterval, Outcome, Stats, Transfers, Verification,
    across_rounds, half_width_at_level, summarize,
};
use crate::plan::{Case, CaseId};
use crate::record::parts::{Part, ShardRecord};
use crate::record::sources::Sources;

/// The version of the `results.json` format this build writes.
pub const SCHEMA_VERSION: u32 = 4;

/// One execution of a report definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Run {
    /// Format version of this file.
    #[schemars(extend("const" = SCHEMA_VERSION))]
    pub schema: u32,
    /// Unique id, also the run folder's name: `YYYYMMDDTHHMMSSZ-xxxx`.
    pub run_id: String,
    /// When the run started, RFC 3339 UTC.
    pub started_at: String,
    /// When the run ended, finished or interrupted, RFC 3339 UTC (`None` while it runs, and
    /// after a crash).
    pub finished_at: Option<String>,
    /// Every planned case has a result.
    pub complete: bool,
    /// The run stopped early (Ctrl-C, SIGTERM); `complete` is then false.
    pub interrupted: bool,
    /// When the run was resumed (`sortmark run --resume`), RFC 3339 UTC, oldest first; empty
    /// for a run that ran in one go.
    pub resumed: Vec<String>,
    /// The command line as typed.
    pub command_line: Vec<String>,
    /// Where the definition came from (a path, or the built-in default).
    pub definition_path: String,
    /// The exact definition text that ran (also saved as `definition.toml`).
    pub definition_text: String,
    /// The parsed, validated definition.
    pub definition: ReportDef,
    /// The folder its commands ran in and the files they ran, by content (`None` in runs made
    /// before sources were recorded).
    pub sources: Option<Sources>,
    /// The machine and software the run saw.
    pub environment: Environment,
    /// Compatibility checks.
    pub checks: Vec<Check>,
    /// One result per case, in plan order.
    pub cases: Vec<CaseResult>,
    /// The part of the plan this run measured (`sortmark run --shard`; `None`: the whole plan).
    pub shard: Option<ShardRecord>,
    /// The parts this run was joined from (`sortmark merge`; empty for a run that measured).
    pub parts: Vec<Part>,
}

/// Whether a case produced trustworthy figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CaseStatus {
    /// Ran, and every output was verified.
    Ok,
    /// Did not run; `reason` says why.
    Skipped,
    /// Ran and went wrong (a wrong output, an error, a crash); `reason` says what.
    Failed,
}

impl CaseStatus {
    /// The lowercase name used in results and reports.
    pub fn name(self) -> &'static str {
        match self {
            CaseStatus::Ok => "ok",
            CaseStatus::Skipped => "skipped",
            CaseStatus::Failed => "failed",
        }
    }
}

/// The result of one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseResult {
    /// Index of the sweep's cell in the definition.
    pub cell: usize,
    /// The sweep's name.
    pub sweep: String,
    /// Where the case ran.
    pub backend: BackendKind,
    /// The algorithm's name (for a peer: its label).
    pub algorithm: String,
    /// The element type sorted.
    pub key_type: KeyType,
    /// How the input keys were distributed.
    pub distribution: Distribution,
    /// Number of keys.
    pub n: u64,
    /// CPU threads (CPU cases only).
    pub threads: Option<u32>,
    /// CUDA ordinal of the GPU (CUDA cases only).
    pub device: Option<u32>,
    /// Whether the case produced trustworthy figures.
    pub status: CaseStatus,
    /// Why the case was skipped or failed.
    pub reason: Option<String>,
    /// Untimed warm-up runs before the samples.
    pub warmup: u32,
    /// Seconds of every timed repetition.
    pub samples_s: Vec<f64>,
    /// Statistics of `samples_s` (`None` when nothing was timed).
    pub stats: Option<Stats>,
    /// Keys per second at the median time.
    pub keys_per_s: Option<f64>,
    /// Every output was checked and passed.
    pub verified: bool,
    /// What was checked.
    pub verification: Option<Verification>,
    /// How the samples were timed.
    pub timing: String,
    /// More threads than logical cores.
    pub oversubscribed: bool,
    /// Median time of the same case with one thread over this one's (thread sweeps).
    pub speedup: Option<f64>,
    /// Speed-up divided by the thread count.
    pub efficiency: Option<f64>,
    /// The interval of the speed-up, from the round medians of this case and the one-thread
    /// case (see [`speedup_interval`]); absent for the one-thread case itself and where either
    /// case has fewer than two rounds.
    pub speedup_interval: Option<RatioInterval>,
    /// GPU transfers, timed apart from the sort.
    pub transfers: Option<Transfers>,
    /// Bytes one sort moves through memory by the algorithm's model.
    pub bytes_moved: Option<u64>,
    /// `bytes_moved` over the median time.
    pub effective_bandwidth_bytes_per_s: Option<f64>,
    /// Effective bandwidth as a fraction of the device's measured copy bandwidth.
    pub bandwidth_share: Option<f64>,
    /// Remarks shown beside the case.
    pub notes: Vec<String>,
    /// The samples by round, in the order the rounds ran (one round in runs made before
    /// rounds existed, where this is empty).
    pub rounds_s: Vec<Vec<f64>>,
    /// The interval of the median across rounds, with the level it truly has: the figure a
    /// comparison of two runs can trust (`stats.ci95_*` holds only the scatter within this run).
    pub interval: Option<MedianInterval>,
    /// Whether the median's interval reached the sweep's `precision` (`None`: none asked for).
    pub precision_reached: Option<bool>,
    /// What else the machine did while the case ran (CPU cases, where Linux tells).
    pub disturbance: Option<Disturbance>,
    /// The machine the case ran on, in a run merged from parts ([`Part::machine`]); `None` in
    /// a run that measured, whose machine is its environment.
    pub machine: Option<String>,
}

impl CaseResult {
    /// A result for `case` with no measurement yet.
    fn from_case(
        case: &Case,
        status: CaseStatus,
        reason: Option<String>,
        logical_cores: u32,
    ) -> CaseResult {
        CaseResult {
            cell: case.cell,
            sweep: case.sweep.clone(),
            backend: case.backend,
            algorithm: case.algorithm.clone(),
            key_type: case.key_type,
            distribution: case.distribution,
            n: case.n,
            threads: case.threads,
            device: case.device,
            status,
            reason,
            warmup: case.measure.warmup,
            samples_s: Vec::new(),
            stats: None,
            keys_per_s: None,
            verified: false,
            verification: None,
            timing: String::new(),
            oversubscribed: case.threads.is_some_and(|t| t > logical_cores),
            speedup: None,
            efficiency: None,
            speedup_interval: None,
            transfers: None,
            bytes_moved: None,
            effective_bandwidth_bytes_per_s: None,
            bandwidth_share: None,
            notes: Vec::new(),
            rounds_s: Vec::new(),
            interval: None,
            precision_reached: None,
            disturbance: None,
            machine: None,
        }
    }

    /// The one door from a backend to the record: the result of `case` from what its backend
    /// made of it. A measured case is ok when every output verified and the backend reported
    /// no failure; its statistics use a bootstrap stream derived from the run's `seed` and the
    /// case, and `logical_cores` tells whether its thread count oversubscribed the machine.
    pub fn from_outcome(
        case: &Case,
        outcome: Outcome,
        seed: u64,
        logical_cores: u32,
    ) -> CaseResult {
        match outcome {
            Outcome::Measured(m) => Self::measured(case, m, seed, logical_cores),
            Outcome::Skipped { reason, notes } => {
                let mut r = Self::from_case(case, CaseStatus::Skipped, Some(reason), logical_cores);
                r.notes = notes;
                r
            }
            Outcome::Failed { reason, notes } => {
                let mut r = Self::from_case(case, CaseStatus::Failed, Some(reason), logical_cores);
                r.notes = notes;
                r
            }
        }
    }

    /// A measured case: ok when every output verified, failed otherwise.
    fn measured(case: &Case, m: Measurement, seed: u64, logical_cores: u32) -> CaseResult {
        let failure = match &m.verification {
            None => Some("the output could not be verified".to_string()),
            Some(v) => v.failure(),
        }
        .or(m.failure);
        let status = if failure.is_none() && !m.samples_s.is_empty() {
            CaseStatus::Ok
        } else {
            CaseStatus::Failed
        };
        let mut r = Self::from_case(case, status, failure, logical_cores);
        // Each case gets its own bootstrap stream, derived from the run's seed and the case.
        let case_seed = crate::data::mix64(crate::data::fnv1a64(case.id().seed_text().as_bytes()));
        let stats = summarize(&m.samples_s, seed ^ case_seed);
        r.keys_per_s = stats
            .as_ref()
            .filter(|s| s.median_s > 0.0)
            .map(|s| case.n as f64 / s.median_s);
        r.effective_bandwidth_bytes_per_s = m
            .bytes_moved
            .zip(stats.as_ref())
            .filter(|(_, s)| s.median_s > 0.0)
            .map(|(b, s)| b as f64 / s.median_s);
        r.bandwidth_share = r
            .effective_bandwidth_bytes_per_s
            .zip(m.copy_bandwidth_bytes_per_s)
            .map(|(e, c)| e / c);
        r.stats = stats;
        r.verified = status == CaseStatus::Ok;
        r.verification = m.verification;
        r.rounds_s = if m.rounds_s.is_empty() {
            vec![m.samples_s.clone()]
        } else {
            m.rounds_s
        };
        r.interval = across_rounds(&r.rounds_s, DEFAULT_LEVEL);
        r.precision_reached = case
            .measure
            .precision_reached(half_width_at_level(&r.rounds_s));
        r.samples_s = m.samples_s;
        r.timing = m.timing;
        r.transfers = m.transfers;
        r.bytes_moved = m.bytes_moved;
        r.notes = m.notes;
        r
    }

    /// The ends of the interval of the case's median time, in seconds: its interval across
    /// rounds where it has one, else (runs recorded before rounds) the bootstrap interval of its
    /// samples.
    pub fn median_interval_s(&self) -> Option<(f64, f64)> {
        match (&self.interval, &self.stats) {
            (Some(i), _) => Some((i.low_s, i.high_s)),
            (None, Some(s)) => Some((s.ci95_low_s, s.ci95_high_s)),
            (None, None) => None,
        }
    }

    /// The interval of the parallel efficiency: the speed-up's divided by the thread count.
    pub fn efficiency_interval(&self) -> Option<RatioInterval> {
        let threads = f64::from(self.threads?);
        self.speedup_interval.map(|s| RatioInterval {
            estimate: s.estimate / threads,
            low: s.low / threads,
            high: s.high / threads,
            ..s
        })
    }

    /// The axis values that identify the case, as for [`Case::id`].
    pub fn id(&self) -> CaseId<'_> {
        CaseId {
            sweep: &self.sweep,
            backend: self.backend,
            algorithm: &self.algorithm,
            key_type: self.key_type,
            distribution: self.distribution,
            n: self.n,
            threads: self.threads,
            device: self.device,
        }
    }
}

impl Run {
    /// Number of cases with each status: (ok, skipped, failed).
    pub fn counts(&self) -> (usize, usize, usize) {
        let count = |s| self.cases.iter().filter(|c| c.status == s).count();
        (
            count(CaseStatus::Ok),
            count(CaseStatus::Skipped),
            count(CaseStatus::Failed),
        )
    }

    /// Why a definition with CUDA sweeps measured nothing on the GPU: the first CUDA case's
    /// skip reason, when every CUDA case was skipped; `None` when one ran, or when there are
    /// none.
    pub fn gpu_unmeasured(&self) -> Option<&str> {
        let mut cuda = self
            .cases
            .iter()
            .filter(|c| c.backend == BackendKind::Cuda)
            .peekable();
        let first = cuda.peek().copied()?;
        cuda.all(|c| c.status == CaseStatus::Skipped)
            .then(|| first.reason.as_deref().unwrap_or("skipped"))
    }

    /// Whether any case ran and failed (a wrong output or an error).
    pub fn has_failures(&self) -> bool {
        self.cases.iter().any(|c| c.status == CaseStatus::Failed)
    }

    /// Fills in speed-up and parallel efficiency of every multi-threaded case against the
    /// same algorithm's one-thread case on the same input, and the speed-up's interval where
    /// both cases were measured in rounds.
    pub fn derive_thread_scaling(&mut self) {
        let baselines: std::collections::HashMap<CaseId<'_>, (f64, Option<MedianInterval>)> = self
            .cases
            .iter()
            .filter(|c| c.threads == Some(1))
            .filter_map(|c| {
                let median_s = c.stats.as_ref()?.median_s;
                Some((scaling_key(c), (median_s, c.interval.clone())))
            })
            .collect();
        let scaling: Vec<Option<(f64, f64, Option<RatioInterval>)>> = self
            .cases
            .iter()
            .map(|case| {
                let (Some(threads), Some(stats)) = (case.threads, case.stats.as_ref()) else {
                    return None;
                };
                let (base, base_interval) = baselines.get(&scaling_key(case))?;
                (stats.median_s > 0.0).then(|| {
                    let speedup = base / stats.median_s;
                    let interval = (threads > 1)
                        .then(|| {
                            base_interval
                                .as_ref()
                                .zip(case.interval.as_ref())
                                .and_then(|(one, this)| speedup_interval(one, this))
                        })
                        .flatten();
                    (speedup, speedup / f64::from(threads), interval)
                })
            })
            .collect();
        for (case, scaled) in self.cases.iter_mut().zip(scaling) {
            if let Some((speedup, efficiency, interval)) = scaled {
                case.speedup = Some(speedup);
                case.efficiency = Some(efficiency);
                case.speedup_interval = interval;
            }
        }
    }
}

/// The interval of a speed-up, one thread's median time over `this` case's, at the default
/// level: [`ratio`] of the one-thread case to this one (time on one thread over time on
/// several, so above 1 when the threads help), from the two cases' round medians. `None`
/// unless both were measured in two rounds or more: one round shows no variation between
/// rounds to make an interval from.
pub fn speedup_interval(
    one_thread: &MedianInterval,
    this: &MedianInterval,
) -> Option<RatioInterval> {
    let across = |i: &MedianInterval| i.scope == Scope::AcrossRounds;
    if !(across(one_thread) && across(this)) {
        return None;
    }
    ratio(one_thread, this, DEFAULT_LEVEL)
}

/// A case's identity without its thread count (compared field by field): the key of its
/// one-thread baseline.
fn scaling_key(c: &CaseResult) -> CaseId<'_> {
    CaseId {
        threads: None,
        ..c.id()
    }
}

/// An ok CPU case of radix on 1,024 u32 keys with one thread and nothing measured, with no
/// rounds, interval or notes (as a run recorded before rounds holds it): tests fill in what
/// they need.
#[cfg(test)]
pub(crate) fn example_case() -> CaseResult {
    serde_json::from_value(serde_json::json!({
        "cell": 0, "sweep": "s", "backend": "cpu", "algorithm": "radix", "key_type": "u32",
        "distribution": "uniform", "n": 1024, "threads": 1, "device": null, "status": "ok",
        "reason": null, "warmup": 1, "samples_s": [], "stats": null, "keys_per_s": null,
        "verified": true, "verification": null, "timing": "", "oversubscribed": false,
        "speedup": null, "efficiency": null, "transfers": null, "bytes_moved": null,
        "effective_bandwidth_bytes_per_s": null, "bandwidth_share": null, "notes": [],
        "rounds_s": [], "interval": null, "precision_reached": null, "disturbance": null, "machine": null,
        "speedup_interval": null
    }))
    .expect("the example case matches the results format")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rounds whose medians are `scale` times 1 + spread·(r − 2) for r = 0..6: a spread of
    /// 0.01 moves the rounds by ±2 or 3 %.
    fn rounds(scale: f64, spread: f64) -> MedianInterval {
        let rounds: Vec<Vec<f64>> = (0..6)
            .map(|r| {
                let level = scale * (1.0 + spread * (f64::from(r) - 2.0));
                vec![level * 0.99, level, level * 1.01]
            })
            .collect();
        across_rounds(&rounds, DEFAULT_LEVEL).unwrap()
    }

    #[test]
    fn a_speedup_interval_holds_one_thread_over_this_case() {
        let one = rounds(2.0, 0.01);
        let four = rounds(1.0, 0.01);
        let s = speedup_interval(&one, &four).unwrap();
        assert!((s.estimate - 2.0).abs() < 1e-9, "{s:?}");
        assert!(s.low < 2.0 && 2.0 < s.high, "{s:?}");
        assert!(s.low > 1.8 && s.high < 2.2, "{s:?}");
        assert!(s.reached && s.level >= DEFAULT_LEVEL, "{s:?}");
    }

    #[test]
    fn tighter_rounds_give_a_narrower_speedup_interval() {
        let loose = speedup_interval(&rounds(2.0, 0.02), &rounds(1.0, 0.02)).unwrap();
        let tight = speedup_interval(&rounds(2.0, 0.005), &rounds(1.0, 0.005)).unwrap();
        assert!(
            tight.high - tight.low < (loose.high - loose.low) / 2.0,
            "{tight:?} {loose:?}"
        );
        assert!(tight.low < 2.0 && 2.0 < tight.high, "{tight:?}");
    }

    #[test]
    fn one_round_gives_no_speedup_interval() {
        let one_round = across_rounds(&[vec![2.0, 2.1, 1.9]], DEFAULT_LEVEL).unwrap();
        assert_eq!(speedup_interval(&one_round, &rounds(1.0, 0.01)), None);
        assert_eq!(speedup_interval(&rounds(2.0, 0.01), &one_round), None);
    }

    #[test]
    fn efficiency_interval_is_the_speedup_interval_over_threads() {
        let mut case = example_case();
        (case.threads, case.speedup, case.efficiency) = (Some(4), Some(3.0), Some(0.75));
        assert_eq!(case.speedup_interval, None);
        assert_eq!(case.efficiency_interval(), None);
        case.speedup_interval = speedup_interval(&rounds(3.0, 0.01), &rounds(1.0, 0.01));
        let (s, e) = (
            case.speedup_interval.unwrap(),
            case.efficiency_interval().unwrap(),
        );
        assert!((e.low - s.low / 4.0).abs() < 1e-12 && (e.high - s.high / 4.0).abs() < 1e-12);
        assert!((e.estimate - 0.75).abs() < 1e-9 && e.level == s.level);
    }
}
