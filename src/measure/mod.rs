//! The timing loop shared by every backend, and what a measured case yields.
//!
//! Warm-ups run first and are never counted; then repetitions run until both the minimum count
//! and the minimum total time are reached, never beyond the maximum count.

pub mod interval;
pub mod stats;
pub mod verify;

use serde::{Deserialize, Serialize};

pub use stats::{Outliers, Stats, summarize};
pub use verify::{Verification, verify};

/// How many times a case runs and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MeasureSettings {
    /// Untimed runs before the timed ones.
    pub warmup: u32,
    /// Fewest timed repetitions.
    pub repetitions: u32,
    /// Keep repeating until the timed repetitions add up to at least this many seconds…
    pub min_time_s: f64,
    /// …but never more than this many repetitions.
    pub max_repetitions: u32,
    /// A peer command is killed after this many seconds (command backend only).
    pub timeout_s: f64,
}

impl Default for MeasureSettings {
    fn default() -> Self {
        MeasureSettings {
            warmup: 1,
            repetitions: 5,
            min_time_s: 0.0,
            max_repetitions: 100,
            timeout_s: 300.0,
        }
    }
}

impl MeasureSettings {
    /// Whether another timed repetition is due after `samples` (seconds each): until both
    /// `repetitions` runs and `min_time_s` seconds are reached, never past `max_repetitions`.
    pub fn wants_more(&self, samples: &[f64]) -> bool {
        if samples.len() >= self.max_repetitions.max(1) as usize {
            return false;
        }
        samples.len() < self.repetitions.max(1) as usize
            || samples.iter().sum::<f64>() < self.min_time_s
    }
}

/// Host↔device copies of a GPU case, timed apart from the sort and reported apart.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
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
}
