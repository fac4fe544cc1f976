//! Whether a case's figures would come out the same again, and if not, why: the flags a report
//! shows beside an unstable case.
//!
//! Three things make a case unstable, each judged from the record alone, so that a report
//! rendered again judges an old run by the same rules:
//! - its interval is wide: half its width is more than [`WIDE_HALF_WIDTH`] of the median, too
//!   wide to tell apart two figures a few percent apart;
//! - its rounds disagree: their medians spread wider than the times inside a round
//!   ([`crate::measure::spread`]);
//! - it ran under load: the hypervisor stole, or other processes used, enough of the machine
//!   while it ran ([`Disturbance::flagged`]).

use crate::env::load::Disturbance;
use crate::measure::spread::{RoundSpread, round_spread};

use super::{CaseResult, CaseStatus};

/// The relative half-width of a median's interval above which a case is flagged: ±5 %.
pub const WIDE_HALF_WIDTH: f64 = 0.05;

/// One reason not to trust a case's figure to repeat.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Instability {
    /// The interval of the median is wider than [`WIDE_HALF_WIDTH`]: its relative half-width.
    WideInterval(f64),
    /// The round medians spread wider than the times inside a round.
    RoundsDisagree(RoundSpread),
    /// The machine was busy with other work while the case ran.
    UnderLoad(Disturbance),
}

impl CaseResult {
    /// Half the width of the interval of the median over the median (0.05 is ±5 %): the
    /// interval across rounds, or for runs recorded before rounds the bootstrap interval.
    pub fn relative_half_width(&self) -> Option<f64> {
        let median = match (&self.interval, &self.stats) {
            (Some(i), _) => i.estimate_s,
            (None, Some(s)) => s.median_s,
            (None, None) => return None,
        };
        let (low, high) = self.median_interval_s()?;
        Some(crate::measure::interval::relative_half_width(
            median, low, high,
        ))
        .filter(|w| w.is_finite())
    }

    /// What makes the case unstable, in the order a reader should weigh it; empty for a
    /// stable case and for cases that did not run.
    pub fn instabilities(&self) -> Vec<Instability> {
        if self.status != CaseStatus::Ok {
            return Vec::new();
        }
        let wide = self
            .relative_half_width()
            .filter(|w| *w > WIDE_HALF_WIDTH)
            .map(Instability::WideInterval);
        let disagree = round_spread(&self.rounds_s)
            .filter(RoundSpread::disagree)
            .map(Instability::RoundsDisagree);
        let load = self
            .disturbance
            .filter(Disturbance::flagged)
            .map(Instability::UnderLoad);
        [wide, disagree, load].into_iter().flatten().collect()
    }
}

#[cfg(test)]
mod tests {
    use crate::measure::{DEFAULT_LEVEL, across_rounds};

    use super::*;

    /// An ok case measured in `rounds_s`, with its interval, as the record makes it.
    fn case(rounds_s: Vec<Vec<f64>>) -> CaseResult {
        let mut case = crate::record::example_case();
        case.samples_s = rounds_s.concat();
        case.stats = crate::measure::summarize(&case.samples_s, 1);
        case.interval = across_rounds(&rounds_s, DEFAULT_LEVEL);
        case.rounds_s = rounds_s;
        case
    }

    /// Six rounds of seven samples 1 % apart, round r moved by `step`·r.
    fn rounds(step: f64) -> Vec<Vec<f64>> {
        (0..6)
            .map(|r| {
                let level = 1.0 + step * f64::from(r);
                (0..7)
                    .map(|i| level * (1.0 + 0.01 * f64::from(i)))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn steady_rounds_are_stable() {
        assert_eq!(case(rounds(0.001)).instabilities(), vec![]);
    }

    #[test]
    fn rounds_that_moved_are_flagged_and_so_is_a_wide_interval() {
        // Rounds 2 % apart: ±4.8 % overall, within the threshold, but beyond a round's 6 %.
        let drifting = case(rounds(0.02)).instabilities();
        assert!(
            matches!(drifting.as_slice(), [Instability::RoundsDisagree(s)] if s.ratio() > 1.5),
            "{drifting:?}"
        );
        let wide = case(rounds(0.03)).instabilities();
        assert!(
            matches!(wide.as_slice(), [Instability::WideInterval(w), Instability::RoundsDisagree(_)] if *w > 0.05),
            "{wide:?}"
        );
    }

    #[test]
    fn a_case_under_load_is_flagged() {
        let mut c = case(rounds(0.0));
        let quiet = Disturbance {
            other_load_share: 0.05,
            ..Disturbance::default()
        };
        c.disturbance = Some(quiet);
        assert_eq!(c.instabilities(), vec![]);
        let busy = Disturbance {
            other_load_share: 0.5,
            ..quiet
        };
        c.disturbance = Some(busy);
        assert_eq!(c.instabilities(), vec![Instability::UnderLoad(busy)]);
    }

    #[test]
    fn a_run_recorded_before_rounds_is_judged_by_its_bootstrap_interval() {
        let mut c = case(vec![vec![1.0, 1.3, 0.8, 1.1, 0.9, 1.2, 1.0]]);
        c.interval = None;
        c.rounds_s = Vec::new();
        assert!(matches!(
            c.instabilities().as_slice(),
            [Instability::WideInterval(_)]
        ));
        c.status = CaseStatus::Failed;
        assert_eq!(c.instabilities(), vec![]);
    }
}
