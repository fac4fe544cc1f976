//! Comparing two runs: cases matched by identity, the ratio of their medians with its
//! interval, and a verdict per case.
//!
//! Everything here is a pure function of the two [`Run`]s: [`compare`] checks that the runs
//! can be compared and builds a [`Comparison`]; the outputs (`terminal`, `json`, `markdown`,
//! `html`, `plots`) render it, and [`write`] puts the files in place whole or not at all.
//!
//! The verdict rule, with threshold t: `same` when the whole ratio interval lies within
//! [1 − t, 1 + t]; `slower` when its low end is above 1 + t; `faster` when its high end is below
//! 1 − t; `inconclusive` otherwise. A ratio above 1 means NEW takes longer. A case that
//! either run measured under load (its disturbance record flagged) is never `slower` or
//! `faster`: the difference may be the machine's, so it is `inconclusive` with the load named.

pub mod html;
pub mod json;
pub mod markdown;
pub mod plots;
pub mod table;
pub mod terminal;
pub mod write;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::definition::{ReportDef, Sweep};
use crate::env::Environment;
use crate::measure::interval::{RatioInterval, ratio};
use crate::measure::{DEFAULT_LEVEL, MedianInterval, across_rounds};
use crate::record::{CaseResult, CaseStatus, Run};

/// The threshold when none is given: 2 %.
pub const DEFAULT_THRESHOLD: f64 = 0.02;

/// Why two runs cannot be compared, or the comparison cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// Both arguments name the same run.
    #[error("cannot compare run {0} with itself")]
    SameRun(String),
    /// A run stopped early or misses cases.
    #[error("cannot compare {which} run {run_id}: it is {state}")]
    Incomplete {
        /// `BASE` or `NEW`.
        which: &'static str,
        /// The run's id.
        run_id: String,
        /// `interrupted` or `incomplete`, with a hint.
        state: String,
    },
    /// The runs executed different definitions.
    #[error("cannot compare runs of different definitions: {}", .0.join("; "))]
    DifferentDefinitions(Vec<String>),
    /// A run folder could not be read.
    #[error("cannot compare: {0:#}")]
    Unreadable(anyhow::Error),
    /// The output folder is there already.
    #[error("cannot write the comparison: {} already exists (remove it or pick another --out)", .0.display())]
    OutputExists(PathBuf),
    /// Writing the outputs failed.
    #[error("cannot write the comparison: {0:#}")]
    Write(anyhow::Error),
}

impl CompareError {
    /// Whether the runs themselves cannot be compared (exit code 2), as opposed to an
    /// error reading or writing files (exit code 3).
    pub fn runs_incomparable(&self) -> bool {
        matches!(
            self,
            CompareError::SameRun(_)
                | CompareError::Incomplete { .. }
                | CompareError::DifferentDefinitions(_)
        )
    }
}

/// What a case's comparison concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The whole ratio interval lies within 1 ± threshold.
    Same,
    /// The interval's low end is above 1 + threshold: NEW takes longer.
    Slower,
    /// The interval's high end is below 1 − threshold: NEW is quicker.
    Faster,
    /// The interval straddles a threshold, or there is none.
    Inconclusive,
    /// The case is in one run only, or was not ok in one of them.
    NotCompared,
}

impl Verdict {
    /// Every verdict, in the order a summary counts them.
    pub const ALL: [Verdict; 5] = [
        Verdict::Same,
        Verdict::Inconclusive,
        Verdict::Slower,
        Verdict::Faster,
        Verdict::NotCompared,
    ];

    /// The verdict as outputs write it.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Same => "same",
            Verdict::Slower => "slower",
            Verdict::Faster => "faster",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NotCompared => "not compared",
        }
    }
}

/// The verdict for a ratio interval `low..high` with `threshold` (0.02 = 2 %).
pub fn verdict(low: f64, high: f64, threshold: f64) -> Verdict {
    if low > 1.0 + threshold {
        Verdict::Slower
    } else if high < 1.0 - threshold {
        Verdict::Faster
    } else if low >= 1.0 - threshold && high <= 1.0 + threshold {
        Verdict::Same
    } else {
        Verdict::Inconclusive
    }
}

/// A case's identity across runs: every axis value but the backend.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Identity {
    /// The sweep's name.
    pub sweep: String,
    /// The algorithm.
    pub algorithm: String,
    /// The key type.
    pub key_type: String,
    /// The input distribution.
    pub distribution: String,
    /// Keys sorted.
    pub n: u64,
    /// Threads, for CPU cases.
    pub threads: Option<u32>,
    /// GPU ordinal, for GPU cases.
    pub device: Option<u32>,
}

impl Identity {
    /// The identity of `case`.
    pub fn of(case: &CaseResult) -> Identity {
        Identity {
            sweep: case.sweep.clone(),
            algorithm: case.algorithm.clone(),
            key_type: case.key_type.to_string(),
            distribution: case.distribution.to_string(),
            n: case.n,
            threads: case.threads,
            device: case.device,
        }
    }

    /// A short label without the sweep: `algorithm key distribution n [t=threads] [gpu=device]`.
    pub fn label(&self) -> String {
        let mut label = format!(
            "{} {} {} {}",
            self.algorithm,
            self.key_type,
            self.distribution,
            crate::units::count(self.n)
        );
        if let Some(t) = self.threads {
            label.push_str(&format!(" t={t}"));
        }
        if let Some(d) = self.device {
            label.push_str(&format!(" gpu={d}"));
        }
        label
    }
}

/// One case's comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseComparison {
    /// Which case.
    pub identity: Identity,
    /// The verdict.
    pub verdict: Verdict,
    /// NEW's median over BASE's, where both have one.
    pub ratio: Option<f64>,
    /// The interval of the ratio, where one could be made.
    pub interval: Option<RatioInterval>,
    /// BASE's median time in seconds.
    pub base_median_s: Option<f64>,
    /// NEW's median time in seconds.
    pub new_median_s: Option<f64>,
    /// Why the verdict is `inconclusive` without an interval, or `not compared`; or, beside a
    /// verdict, what makes it doubtful (a run that measured the case under load).
    pub reason: Option<String>,
}

/// The machine a run is from, as a comparison names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Machine {
    /// CPU model.
    pub cpu: String,
    /// GPU names, in ordinal order.
    pub gpus: Vec<String>,
    /// The host name (or "anonymized").
    pub host: String,
}

impl Machine {
    /// The machine of a run's environment.
    pub fn of(environment: &Environment) -> Machine {
        Machine {
            cpu: environment.cpu.model.clone(),
            gpus: environment.gpus.iter().map(|g| g.name.clone()).collect(),
            host: environment.os.hostname.clone(),
        }
    }

    /// One line: `host: CPU, GPUs`.
    pub fn one_line(&self) -> String {
        let gpus = if self.gpus.is_empty() {
            "no GPU".to_string()
        } else {
            self.gpus.join(", ")
        };
        format!("{}: {}; {}", self.host, self.cpu, gpus)
    }
}

/// One run as a comparison names it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSide {
    /// The run's id.
    pub run_id: String,
    /// When it started.
    pub started_at: String,
    /// The machine it ran on.
    pub machine: Machine,
}

impl RunSide {
    fn of(run: &Run) -> RunSide {
        RunSide {
            run_id: run.run_id.clone(),
            started_at: run.started_at.clone(),
            machine: Machine::of(&run.environment),
        }
    }
}

/// Two runs compared case by case.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The definition's title.
    pub title: String,
    /// The base run.
    pub base: RunSide,
    /// The new run.
    pub new: RunSide,
    /// The verdict threshold (0.02 = 2 %).
    pub threshold: f64,
    /// The sweeps in definition order.
    pub sweeps: Vec<String>,
    /// Every case of either run, grouped by sweep in definition order.
    pub cases: Vec<CaseComparison>,
}

impl Comparison {
    /// How many cases got `verdict`.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.cases.iter().filter(|c| c.verdict == verdict).count()
    }

    /// Whether any case is slower: the comparison fails a CI gate.
    pub fn any_slower(&self) -> bool {
        self.count(Verdict::Slower) > 0
    }

    /// The line `sortmark reproduce` ends with, NEW being the reproduction: `reproduced: 101
    /// of 103 cases within ±2 % (2 inconclusive)`.
    pub fn reproduction_summary(&self) -> String {
        let others: Vec<String> = Verdict::ALL[1..]
            .iter()
            .filter(|v| self.count(**v) > 0)
            .map(|v| format!("{} {}", self.count(*v), v.name()))
            .collect();
        let mut line = format!(
            "reproduced: {} of {} cases within ±{}",
            self.count(Verdict::Same),
            self.cases.len(),
            format_percent(self.threshold)
        );
        if !others.is_empty() {
            line.push_str(&format!(" ({})", others.join(", ")));
        }
        line
    }

    /// The cases of `sweep`, in order.
    pub fn sweep_cases<'a>(&'a self, sweep: &'a str) -> impl Iterator<Item = &'a CaseComparison> {
        self.cases.iter().filter(move |c| c.identity.sweep == sweep)
    }

    /// The levels of the intervals, as a phrase: `95.9 % intervals`, or a range when cases
    /// differ, or `no intervals`.
    pub fn levels(&self) -> String {
        let levels: Vec<f64> = self
            .cases
            .iter()
            .filter_map(|c| c.interval.map(|r| r.level))
            .collect();
        let low = levels.iter().copied().fold(f64::INFINITY, f64::min);
        let high = levels.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if levels.is_empty() {
            "no intervals".to_string()
        } else if format_level(low) == format_level(high) {
            format!("{} intervals", format_level(low))
        } else {
            format!(
                "intervals at {} to {}",
                format_level(low),
                format_level(high)
            )
        }
    }

    /// A note when most cases moved the same way by more than the threshold: what a change
    /// to the whole build looks like, and also what a machine that ran slower (or faster) for
    /// the whole of one run looks like. Measured on the shared 16-core device, an A/A pair of
    /// one CPU definition had 74 of 86 cases slower by over 2 % (median ratio 1.11) with no
    /// steal recorded: rounds inside one run cannot see a shift of the whole run, so the
    /// reader is told, and the verdicts (and the exit code) stay as they are.
    pub fn broad_shift(&self) -> Option<String> {
        let mut ratios: Vec<f64> = self.cases.iter().filter_map(|c| c.ratio).collect();
        ratios.sort_by(f64::total_cmp);
        if ratios.len() < BROAD_SHIFT_MIN_CASES {
            return None;
        }
        let t = self.threshold;
        let slower = ratios.iter().filter(|&&r| r > 1.0 + t).count();
        let faster = ratios.iter().filter(|&&r| r < 1.0 - t).count();
        let (moved, way) = if slower >= faster {
            (slower, "slower")
        } else {
            (faster, "faster")
        };
        let median = crate::measure::stats::percentile(&ratios, 0.5);
        let broad =
            moved as f64 >= BROAD_SHIFT_SHARE * ratios.len() as f64 && (median - 1.0).abs() > t;
        broad.then(|| {
            format!(
                "broad shift: {moved} of {} cases ran {way} by over {} (median ratio {}); \
                 if nothing but time passed between the runs, the machine's speed moved, \
                 not the code's",
                ratios.len(),
                format_percent(t),
                format_ratio(median)
            )
        })
    }

    /// The summary line: `102 same, 1 inconclusive, 0 slower, 0 faster; 95.9 % intervals`.
    pub fn summary(&self) -> String {
        let mut counts: Vec<String> = Verdict::ALL[..4]
            .iter()
            .map(|v| format!("{} {}", self.count(*v), v.name()))
            .collect();
        let not_compared = self.count(Verdict::NotCompared);
        if not_compared > 0 {
            counts.push(format!("{not_compared} not compared"));
        }
        format!(
            "{}; {}; threshold ±{}",
            counts.join(", "),
            self.levels(),
            format_percent(self.threshold)
        )
    }
}

/// The share of the compared cases that must move one way for [`Comparison::broad_shift`].
const BROAD_SHIFT_SHARE: f64 = 0.75;
/// The fewest compared cases a broad shift is judged on.
const BROAD_SHIFT_MIN_CASES: usize = 5;

/// A level as `95.9 %`.
pub fn format_level(level: f64) -> String {
    format!("{:.1} %", level * 100.0)
}

/// A fraction as a percentage without needless digits: `2 %`, `2.5 %`.
pub fn format_percent(fraction: f64) -> String {
    let text = format!("{:.2}", fraction * 100.0);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text} %")
}

/// A ratio as `1.053`.
pub fn format_ratio(ratio: f64) -> String {
    format!("{ratio:.3}")
}

/// The default output folder: `NEW_RUN/compare-<BASE run id>/`, named through
/// [`crate::file_names::stem`]: a run id read from an edited `results.json` cannot lead it out
/// of NEW_RUN.
pub fn default_out_dir(new_dir: &Path, base_run_id: &str) -> PathBuf {
    new_dir.join(crate::file_names::stem(&format!("compare-{base_run_id}")))
}

/// `sortmark compare`: loads both run folders, compares them with `threshold`, and writes
/// the outputs into `out` (default: [`default_out_dir`]); returns the comparison and where
/// its files are.
pub fn compare_dirs(
    base_dir: &Path,
    new_dir: &Path,
    threshold: f64,
    out: Option<&Path>,
) -> Result<(Comparison, PathBuf), CompareError> {
    let base = crate::record::archive::load_run(base_dir).map_err(CompareError::Unreadable)?;
    let new = crate::record::archive::load_run(new_dir).map_err(CompareError::Unreadable)?;
    let comparison = compare(&base, &new, threshold)?;
    let dir = out.map_or_else(|| default_out_dir(new_dir, &base.run_id), Path::to_path_buf);
    // Refused before anything is drawn: an existing folder is never touched.
    write::refuse_existing(&dir)?;
    let outputs = write::Outputs::render(&comparison).map_err(CompareError::Write)?;
    write::write_outputs(&dir, &outputs)?;
    Ok((comparison, dir))
}

/// Compares `new` against `base` with `threshold` (0.02 = 2 %).
pub fn compare(base: &Run, new: &Run, threshold: f64) -> Result<Comparison, CompareError> {
    check_comparable(base, new)?;
    let sweeps: Vec<String> = base.definition.sweeps().map(|s| s.name.clone()).collect();
    let mut cases = match_cases(base, new, threshold);
    let position: HashMap<&str, usize> = sweeps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    cases.sort_by_key(|c| {
        position
            .get(c.identity.sweep.as_str())
            .copied()
            .unwrap_or(usize::MAX)
    });
    Ok(Comparison {
        title: base.definition.title.clone(),
        base: RunSide::of(base),
        new: RunSide::of(new),
        threshold,
        sweeps,
        cases,
    })
}

/// Refuses a run compared with itself, an unfinished run, and runs of different definitions.
pub fn check_comparable(base: &Run, new: &Run) -> Result<(), CompareError> {
    if base.run_id == new.run_id {
        return Err(CompareError::SameRun(base.run_id.clone()));
    }
    check_finished("BASE", base)?;
    check_finished("NEW", new)?;
    let differences = definition_differences(&base.definition, &new.definition);
    if differences.is_empty() {
        Ok(())
    } else {
        Err(CompareError::DifferentDefinitions(differences))
    }
}

/// Refuses a run that was interrupted or misses cases.
fn check_finished(which: &'static str, run: &Run) -> Result<(), CompareError> {
    let state = if run.interrupted {
        "interrupted (finish it with `sortmark run --resume`)"
    } else if !run.complete {
        "incomplete (finish it with `sortmark run --resume`)"
    } else {
        return Ok(());
    };
    Err(CompareError::Incomplete {
        which,
        run_id: run.run_id.clone(),
        state: state.to_string(),
    })
}

/// What differs between two definitions, as far as case identities go: the title, the
/// sweeps, and each sweep's axes. Measurement settings and commands may differ: comparing
/// them is what a comparison is for.
pub fn definition_differences(base: &ReportDef, new: &ReportDef) -> Vec<String> {
    let mut differences = Vec::new();
    if base.title != new.title {
        differences.push(format!(
            "the title differs (BASE “{}”, NEW “{}”)",
            base.title, new.title
        ));
    }
    let names = |d: &ReportDef| d.sweeps().map(|s| s.name.clone()).collect::<Vec<_>>();
    let (base_names, new_names) = (names(base), names(new));
    if base_names != new_names {
        differences.push(format!(
            "the sweeps differ (BASE {}, NEW {})",
            base_names.join(", "),
            new_names.join(", ")
        ));
        return differences;
    }
    for (b, n) in base.sweeps().zip(new.sweeps()) {
        let axes = differing_axes(b, n);
        if !axes.is_empty() {
            differences.push(format!(
                "sweep “{}” differs in its {}",
                b.name,
                axes.join(", ")
            ));
        }
    }
    differences
}

/// The names of the axes whose values differ between two sweeps of one name.
fn differing_axes(base: &Sweep, new: &Sweep) -> Vec<&'static str> {
    let checks = [
        ("backend", base.backend == new.backend),
        ("algorithms", base.algorithms == new.algorithms),
        ("keys", base.keys == new.keys),
        ("distributions", base.distributions == new.distributions),
        ("sizes", base.sizes == new.sizes),
        ("threads", base.threads == new.threads),
        ("devices", base.devices == new.devices),
        ("exclusions", base.exclude == new.exclude),
    ];
    checks
        .iter()
        .filter(|(_, same)| !same)
        .map(|(name, _)| *name)
        .collect()
}

/// Every case of either run, compared where both have it ok; BASE's order, then NEW's extras.
fn match_cases(base: &Run, new: &Run, threshold: f64) -> Vec<CaseComparison> {
    let new_by_id: HashMap<Identity, &CaseResult> =
        new.cases.iter().map(|c| (Identity::of(c), c)).collect();
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for b in &base.cases {
        let identity = Identity::of(b);
        seen.insert(identity.clone());
        out.push(match new_by_id.get(&identity) {
            Some(n) => compare_case(identity, b, n, threshold),
            None => not_compared(identity, "only in BASE".to_string()),
        });
    }
    for n in &new.cases {
        let identity = Identity::of(n);
        if !seen.contains(&identity) {
            out.push(not_compared(identity, "only in NEW".to_string()));
        }
    }
    out
}

/// A case that could not be compared, with why.
fn not_compared(identity: Identity, reason: String) -> CaseComparison {
    CaseComparison {
        identity,
        verdict: Verdict::NotCompared,
        ratio: None,
        interval: None,
        base_median_s: None,
        new_median_s: None,
        reason: Some(reason),
    }
}

/// The comparison of a case both runs have.
pub fn compare_case(
    identity: Identity,
    base: &CaseResult,
    new: &CaseResult,
    threshold: f64,
) -> CaseComparison {
    if let Some(reason) = not_ok_reason(base, new) {
        return not_compared(identity, reason);
    }
    let (Some(b), Some(n)) = (median_interval(base), median_interval(new)) else {
        return not_compared(identity, "no samples to compare".to_string());
    };
    let mut case = CaseComparison {
        identity,
        verdict: Verdict::Inconclusive,
        ratio: Some(n.estimate_s / b.estimate_s),
        interval: None,
        base_median_s: Some(b.estimate_s),
        new_median_s: Some(n.estimate_s),
        reason: None,
    };
    if let Some(reason) = no_interval_reason(&b, &n) {
        case.reason = Some(reason);
        return case;
    }
    case.interval = ratio(&n, &b, DEFAULT_LEVEL);
    if let Some(r) = case.interval {
        case.verdict = verdict(r.low, r.high, threshold);
    }
    case.reason = load_note(base, new);
    if case.reason.is_some() && matches!(case.verdict, Verdict::Slower | Verdict::Faster) {
        // A neighbour's work or the hypervisor's steal moves a median by more than any
        // threshold; calling it the change's would fail (or pass) a CI gate on the machine's
        // account. Within ±threshold despite the load is still `same`.
        case.verdict = Verdict::Inconclusive;
    }
    case
}

/// Which run measured the case while the machine was busy with other work or stolen from, as
/// its disturbance record flagged it: a verdict from such a run may be the machine's, not the
/// change's.
fn load_note(base: &CaseResult, new: &CaseResult) -> Option<String> {
    let flagged = |c: &CaseResult| c.disturbance.filter(|d| d.flagged());
    let notes: Vec<String> = [("BASE", flagged(base)), ("NEW", flagged(new))]
        .into_iter()
        .filter_map(|(side, d)| Some(format!("{side} {}", d?.describe())))
        .collect();
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// Why a case both runs have cannot be compared: it is not ok in one of them.
fn not_ok_reason(base: &CaseResult, new: &CaseResult) -> Option<String> {
    let describe = |which: &str, c: &CaseResult| {
        (c.status != CaseStatus::Ok).then(|| {
            let why = c.reason.as_deref().unwrap_or("no reason recorded");
            let why = why.lines().next().unwrap_or(why);
            format!("{} in {which}: {why}", c.status.name())
        })
    };
    let reasons: Vec<String> = [describe("BASE", base), describe("NEW", new)]
        .into_iter()
        .flatten()
        .collect();
    (!reasons.is_empty()).then(|| reasons.join("; "))
}

/// A case's interval across rounds: the recorded one, or one made from its samples for a run
/// recorded without it (one round).
pub fn median_interval(case: &CaseResult) -> Option<MedianInterval> {
    if let Some(interval) = &case.interval {
        return Some(interval.clone());
    }
    if case.rounds_s.iter().any(|r| !r.is_empty()) {
        across_rounds(&case.rounds_s, DEFAULT_LEVEL)
    } else {
        across_rounds(&[case.samples_s.as_slice()], DEFAULT_LEVEL)
    }
}

/// Why two cases' medians give no ratio interval: a side with one round has no round-to-round
/// variation to make one from.
fn no_interval_reason(base: &MedianInterval, new: &MedianInterval) -> Option<String> {
    let one_round = |which: &str, i: &MedianInterval| {
        (i.round_medians_s.len() < 2).then(|| format!("{which} has one round"))
    };
    let sides: Vec<String> = [one_round("BASE", base), one_round("NEW", new)]
        .into_iter()
        .flatten()
        .collect();
    (!sides.is_empty()).then(|| {
        format!(
            "{}: no interval across rounds (rerun with `rounds` of 2 or more)",
            sides.join(" and ")
        )
    })
}

#[cfg(test)]
mod tests;
