//! The timing loop shared by every backend, and what a measured case yields.
//!
//! Warm-ups run first and are never counted; then repetitions run until both the minimum count
//! and the minimum total time are reached, never beyond the maximum count.

pub mod interval;
pub mod spread;
pub mod stats;
pub mod verify;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use interval::{DEFAULT_LEVEL, MedianInterval, across_rounds};
pub use stats::{Outliers, Stats, summarize};
pub use verify::{Verification, verify};

/// How many times a case runs and for how long.
///
/// A sweep's cases are measured in rounds: each round measures every case of the sweep once
/// (its warm-ups, then its repetitions), in an order shuffled per round, so that slow drift, a
/// noisy neighbour or a change of clock hits every case alike rather than whichever ran at that
/// moment. Repetitions, `min_time_s` and `max_repetitions` apply to each round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MeasureSettings {
    /// Untimed runs before the timed ones, in every round.
    pub warmup: u32,
    /// Fewest timed repetitions in a round.
    pub repetitions: u32,
    /// Keep repeating until a round's timed repetitions add up to at least this many seconds…
    pub min_time_s: f64,
    /// …but never more than this many repetitions in a round.
    pub max_repetitions: u32,
    /// A peer command is killed after this many seconds (command backend only).
    pub timeout_s: f64,
    /// Rounds every case is measured in, at least (1 in runs made before rounds existed,
    /// which measured every case once).
    pub rounds: u32,
    /// The most rounds a case gets while its interval is wider than `precision`.
    pub max_rounds: u32,
    /// The relative half-width of the median's interval at which a case needs no more rounds;
    /// `None`: exactly `rounds` rounds.
    pub precision: Option<f64>,
    /// No more rounds for a case once its timed samples add up to this many seconds.
    pub max_time_s: f64,
}

/// Rounds by default: the fewest whose round medians bracket the median at 95 % (96.9 %), see
/// [`interval::needed_for_level`].
pub const DEFAULT_ROUNDS: u32 = 6;

impl Default for MeasureSettings {
    fn default() -> Self {
        MeasureSettings {
            warmup: 1,
            repetitions: 3,
            min_time_s: 0.0,
            max_repetitions: 100,
            timeout_s: 300.0,
            rounds: DEFAULT_ROUNDS,
            max_rounds: DEFAULT_ROUNDS,
            precision: None,
            max_time_s: 60.0,
        }
    }
}

impl MeasureSettings {
    /// Whether another timed repetition is due in a round after `samples` (seconds each):
    /// until both `repetitions` runs and `min_time_s` seconds are reached, never past
    /// `max_repetitions`.
    pub fn wants_more(&self, samples: &[f64]) -> bool {
        if samples.len() >= self.max_repetitions.max(1) as usize {
            return false;
        }
        samples.len() < self.repetitions.max(1) as usize
            || samples.iter().sum::<f64>() < self.min_time_s
    }

    /// Whether a case needs another round after `rounds_s`, the samples of its rounds so far,
    /// whose median's interval has relative half-width `half_width` (`None`: its level is not
    /// reached yet, so no width counts).
    pub fn wants_another_round(&self, rounds_s: &[Vec<f64>], half_width: Option<f64>) -> bool {
        let done = rounds_s.len() as u32;
        if done < self.rounds.max(1) {
            return true;
        }
        let Some(precision) = self.precision else {
            return false;
        };
        let timed: f64 = rounds_s.iter().flatten().sum();
        done < self.max_rounds
            && timed < self.max_time_s
            && half_width.is_none_or(|w| w > precision)
    }

    /// Whether a case whose interval, at the level asked for, has relative half-width
    /// `half_width` (`None`: that level was not reached) reached the precision asked for
    /// (`None`: none was asked for).
    pub fn precision_reached(&self, half_width: Option<f64>) -> Option<bool> {
        self.precision
            .map(|precision| half_width.is_some_and(|w| w <= precision))
    }
}

/// Host↔device copies of a GPU case, timed apart from the sort and reported apart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Transfers {
    /// Seconds to copy the input to the device.
    pub h2d_s: f64,
    /// Seconds to copy the sorted output back.
    pub d2h_s: f64,
}

/// What a backend measured for one case.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Measurement {
    /// Seconds of each timed repetition, in the order they ran.
    pub samples_s: Vec<f64>,
    /// The same samples by round, where the case ran in several (see [`Measurement::from_rounds`]).
    pub rounds_s: Vec<Vec<f64>>,
    /// How the samples were timed ("host monotonic clock", "CUDA events", a peer's words).
    pub timing: String,
    /// The checks made on the output; `None` when nothing could be checked.
    pub verification: Option<Verification>,
    /// GPU transfers, timed separately.
    pub transfers: Option<Transfers>,
    /// Bytes the algorithm moves through memory in one sort, from its model (GPU cases).
    pub bytes_moved: Option<u64>,
    /// The device's own measured copy bandwidth, what the effective bandwidth is held against
    /// (GPU cases).
    pub copy_bandwidth_bytes_per_s: Option<f64>,
    /// A failure the backend was told of although the checks it could make passed (a peer
    /// that reported its own output as wrong); it fails the case.
    pub failure: Option<String>,
    /// Notes worth showing beside the case (for example a peer's stderr tail).
    pub notes: Vec<String>,
    /// Seconds the outside program ran, start to exit, once per round (command cases): kept
    /// as figures rather than a note per round, so that rounds do not repeat a note that
    /// differs only in its number.
    pub program_wall_s: Vec<f64>,
}

/// The relative half-width of the across-rounds interval of `rounds_s` where it reaches the
/// default level; `None` where it does not (too few rounds) or there are no samples.
pub fn half_width_at_level(rounds_s: &[Vec<f64>]) -> Option<f64> {
    across_rounds(rounds_s, DEFAULT_LEVEL)
        .filter(|i| i.reached)
        .map(|i| i.relative_half_width())
}

impl Measurement {
    /// One measurement from the rounds of one case, in the order they ran: every sample kept,
    /// and by round; the first failure or failed check wins, so a single bad round fails the
    /// case; transfers and bandwidth are the last round's (they are measured the same way in
    /// each); notes are kept once each.
    pub fn from_rounds(rounds: Vec<Measurement>) -> Measurement {
        let mut merged = Measurement::default();
        for round in rounds {
            merged.samples_s.extend_from_slice(&round.samples_s);
            merged.rounds_s.push(round.samples_s);
            let passed = merged
                .verification
                .as_ref()
                .is_none_or(Verification::passed);
            if passed && round.verification.is_some() {
                merged.verification = round.verification;
            }
            merged.failure = merged.failure.or(round.failure);
            merged.timing = round.timing;
            merged.transfers = round.transfers.or(merged.transfers);
            merged.bytes_moved = round.bytes_moved.or(merged.bytes_moved);
            merged.copy_bandwidth_bytes_per_s = round
                .copy_bandwidth_bytes_per_s
                .or(merged.copy_bandwidth_bytes_per_s);
            for note in round.notes {
                if !merged.notes.contains(&note) {
                    merged.notes.push(note);
                }
            }
            merged.program_wall_s.extend(round.program_wall_s);
        }
        merged
            .notes
            .extend(program_wall_note(&merged.program_wall_s));
        merged
    }
}

/// `the peer ran for 1.12 s`, or over several rounds `the peer ran for 1.12–5.30 s a round (6
/// rounds)`: its start-up (an interpreter, an import) is in these and in no sample.
fn program_wall_note(wall_s: &[f64]) -> Option<String> {
    let low = wall_s.iter().copied().reduce(f64::min)?;
    let high = wall_s.iter().copied().fold(low, f64::max);
    let (low, high) = (format!("{low:.2}"), format!("{high:.2}"));
    let range = if low == high {
        low
    } else {
        format!("{low}–{high}")
    };
    Some(if wall_s.len() == 1 {
        format!("the peer ran for {range} s")
    } else {
        format!(
            "the peer ran for {range} s a round ({} rounds)",
            wall_s.len()
        )
    })
}

/// What a backend made of one case: the one thing every backend returns. The record turns
/// it into a case result (`CaseResult::from_outcome`), so no backend builds a record itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The case ran; its verification (and `failure`) say whether its outputs were right.
    Measured(Measurement),
    /// The case did not run (no GPU, no memory, a peer that cannot run it); `reason` says why.
    Skipped { reason: String, notes: Vec<String> },
    /// The case went wrong before it could be measured; `reason` says what.
    Failed { reason: String, notes: Vec<String> },
}

impl Outcome {
    /// A skip with no notes.
    pub fn skipped(reason: impl Into<String>) -> Outcome {
        Outcome::Skipped {
            reason: reason.into(),
            notes: Vec::new(),
        }
    }

    /// A failure with no notes.
    pub fn failed(reason: impl Into<String>) -> Outcome {
        Outcome::Failed {
            reason: reason.into(),
            notes: Vec::new(),
        }
    }
}

/// Runs `repetition` `settings.warmup` times untimed, then until the settings are satisfied.
///
/// `repetition` returns the seconds one run took, or an error that ends the case.
pub fn repeat(
    settings: &MeasureSettings,
    mut repetition: impl FnMut() -> Result<f64, String>,
) -> Result<Vec<f64>, String> {
    for _ in 0..settings.warmup {
        stop_if_interrupted()?;
        repetition()?;
    }
    let mut samples = Vec::new();
    while settings.wants_more(&samples) {
        stop_if_interrupted()?;
        samples.push(repetition()?);
    }
    Ok(samples)
}

/// The error a repetition loop ends with when the run is being interrupted.
pub const INTERRUPTED: &str = "interrupted";

fn stop_if_interrupted() -> Result<(), String> {
    if crate::interrupt::requested() {
        Err(INTERRUPTED.to_string())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(
        warmup: u32,
        repetitions: u32,
        min_time_s: f64,
        max_repetitions: u32,
    ) -> MeasureSettings {
        MeasureSettings {
            warmup,
            repetitions,
            min_time_s,
            max_repetitions,
            ..MeasureSettings::default()
        }
    }

    #[test]
    fn the_stop_rule_needs_both_count_and_time_within_the_cap() {
        let r = settings(2, 3, 1.0, 5);
        assert!(r.wants_more(&[]));
        assert!(r.wants_more(&[10.0, 10.0])); // repetitions not reached
        assert!(!r.wants_more(&[10.0, 10.0, 10.0])); // both reached
        assert!(r.wants_more(&[0.1, 0.1, 0.1])); // min_time not reached
        assert!(!r.wants_more(&[0.1; 5])); // capped by max_repetitions
    }

    #[test]
    fn warmups_are_not_counted() {
        let mut calls = 0;
        let samples = repeat(&settings(2, 3, 0.0, 10), || {
            calls += 1;
            Ok(calls as f64)
        })
        .unwrap();
        assert_eq!(samples, vec![3.0, 4.0, 5.0]);
    }

    #[test]
    fn repeats_until_the_minimum_time_within_the_cap() {
        let samples = repeat(&settings(0, 2, 1.0, 100), || Ok(0.3)).unwrap();
        assert_eq!(samples.len(), 4);
        let capped = repeat(&settings(0, 2, 100.0, 6), || Ok(0.3)).unwrap();
        assert_eq!(capped.len(), 6);
    }

    #[test]
    fn an_error_ends_the_case() {
        let mut n = 0;
        let r = repeat(&settings(1, 5, 0.0, 10), || {
            n += 1;
            if n == 3 { Err("boom".into()) } else { Ok(1.0) }
        });
        assert_eq!(r, Err("boom".to_string()));
    }

    #[test]
    fn rounds_stop_at_the_minimum_without_a_precision() {
        let m = MeasureSettings::default();
        assert!(m.wants_another_round(&[vec![1.0], vec![1.0]], None));
        assert!(!m.wants_another_round(&vec![vec![1.0]; 6], Some(0.5)));
        assert!(!m.wants_another_round(&vec![vec![1.0]; 6], None));
    }

    #[test]
    fn with_a_precision_rounds_go_on_until_it_is_reached_or_rounds_or_time_run_out() {
        let m = MeasureSettings {
            rounds: 3,
            precision: Some(0.01),
            max_rounds: 5,
            max_time_s: 10.0,
            ..MeasureSettings::default()
        };
        let three = vec![vec![1.0]; 3];
        assert!(m.wants_another_round(&three, Some(0.02)));
        assert!(m.wants_another_round(&three, None));
        assert!(!m.wants_another_round(&three, Some(0.005)));
        assert!(
            !m.wants_another_round(&vec![vec![1.0]; 5], Some(0.02)),
            "max_rounds"
        );
        assert!(
            !m.wants_another_round(&vec![vec![4.0]; 3], Some(0.02)),
            "max_time"
        );
        assert_eq!(m.precision_reached(Some(0.005)), Some(true));
        assert_eq!(m.precision_reached(Some(0.02)), Some(false));
        assert_eq!(
            MeasureSettings::default().precision_reached(Some(0.0)),
            None
        );
    }

    #[test]
    fn rounds_merge_keeping_every_sample_and_any_failure() {
        let round = |samples: Vec<f64>, sorted: bool| Measurement {
            samples_s: samples,
            verification: Some(Verification {
                sorted,
                permutation: true,
                stable: None,
                first_unsorted: None,
            }),
            notes: vec!["same note".to_string()],
            ..Measurement::default()
        };
        let merged = Measurement::from_rounds(vec![
            round(vec![1.0, 2.0], true),
            round(vec![3.0], false),
            round(vec![4.0], true),
        ]);
        assert_eq!(merged.samples_s, vec![1.0, 2.0, 3.0, 4.0]);
        assert_eq!(merged.rounds_s, vec![vec![1.0, 2.0], vec![3.0], vec![4.0]]);
        assert!(
            !merged.verification.unwrap().passed(),
            "a bad round fails the case"
        );
        assert_eq!(merged.notes, vec!["same note".to_string()]);
    }

    #[test]
    fn an_outside_programs_run_times_make_one_note_over_its_rounds() {
        let round = |wall_s: f64| Measurement {
            samples_s: vec![0.1],
            notes: vec!["command: peer {input}".to_string()],
            program_wall_s: vec![wall_s],
            ..Measurement::default()
        };
        let merged = Measurement::from_rounds(vec![round(5.3), round(1.123), round(1.2)]);
        assert_eq!(merged.program_wall_s, vec![5.3, 1.123, 1.2]);
        assert_eq!(
            merged.notes,
            vec![
                "command: peer {input}".to_string(),
                "the peer ran for 1.12–5.30 s a round (3 rounds)".to_string()
            ]
        );
        let one = Measurement::from_rounds(vec![round(0.5)]);
        assert_eq!(one.notes[1], "the peer ran for 0.50 s");
        let alike = Measurement::from_rounds(vec![round(0.011), round(0.012)]);
        assert_eq!(alike.notes[1], "the peer ran for 0.01 s a round (2 rounds)");
        let none = Measurement::from_rounds(vec![Measurement::default()]);
        assert!(none.notes.is_empty(), "no outside program, no note");
    }
}
