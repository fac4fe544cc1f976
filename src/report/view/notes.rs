//! The lines under a sweep's table that say what its cells do not: how many rounds of how many
//! timed runs the cases had, whether they reached the precision asked for, what the speed-up
//! intervals are and what each flag in the Status column means.

use crate::env::load::{LOAD_FLAG, STEAL_FLAG};
use crate::measure::MeasureSettings;
use crate::measure::interval::{DEFAULT_LEVEL, RatioInterval};
use crate::measure::spread::MIN_SAMPLES_PER_ROUND;
use crate::record::{CaseResult, Instability, WIDE_HALF_WIDTH};
use crate::units;

use super::cases::{level_text, percent_text, rounds, span};

/// The notes under the table of `cases`; `measure` is the sweep's.
pub fn table_notes(cases: &[&CaseResult], measure: &MeasureSettings) -> Vec<String> {
    [
        rounds_note(cases),
        precision_note(cases, measure),
        speedup_note(cases),
        flags_note(cases),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// `Measured in 6 rounds per case, of 1 to 10 timed runs each.`; `None` when nothing ran.
fn rounds_note(cases: &[&CaseResult]) -> Option<String> {
    let rounds = span(cases.iter().filter_map(|c| rounds(c)))?;
    let per_round = span(
        cases
            .iter()
            .filter(|c| !c.samples_s.is_empty())
            .flat_map(|c| per_round_counts(c)),
    )?;
    let plural = |n: usize, word: &str| {
        if n == 1 {
            word.to_string()
        } else {
            format!("{word}s")
        }
    };
    Some(format!(
        "Measured in {} {} per case, of {} timed {} each.",
        span_text(rounds),
        plural(rounds.1, "round"),
        span_text(per_round),
        plural(per_round.1, "run"),
    ))
}

/// `6` or `6 to 12`.
fn span_text((low, high): (usize, usize)) -> String {
    if low == high {
        low.to_string()
    } else {
        format!("{low} to {high}")
    }
}

/// The timed runs in each round of a case (all its samples for a run recorded before rounds).
fn per_round_counts(c: &CaseResult) -> Vec<usize> {
    let counts: Vec<usize> = c.rounds_s.iter().map(Vec::len).filter(|n| *n > 0).collect();
    if counts.is_empty() {
        vec![c.samples_s.len()]
    } else {
        counts
    }
}

/// `Precision asked for: an interval within ±1 % of the median at 95 % or more, in at most 12
/// rounds; 10 of 12 cases reached it.`; `None` when none was asked for.
fn precision_note(cases: &[&CaseResult], measure: &MeasureSettings) -> Option<String> {
    let target = measure.precision?;
    let judged: Vec<bool> = cases.iter().filter_map(|c| c.precision_reached).collect();
    if judged.is_empty() {
        return None;
    }
    let reached = judged.iter().filter(|r| **r).count();
    Some(format!(
        "Precision asked for: an interval within ±{} of the median at {} or more, in at most {} rounds; {reached} of {} cases reached it.",
        percent_text(target),
        units::percent(DEFAULT_LEVEL),
        measure.max_rounds,
        judged.len(),
    ))
}

/// What the speed-up column holds and the level of its intervals: `95.9 %`, a range, and where
/// some fall short of the level asked for, the level given in their cells; `None` when no
/// speed-up has an interval.
fn speedup_note(cases: &[&CaseResult]) -> Option<String> {
    let intervals: Vec<RatioInterval> = cases.iter().filter_map(|c| c.speedup_interval).collect();
    if intervals.is_empty() {
        return None;
    }
    let reached: Vec<f64> = intervals
        .iter()
        .filter(|i| i.reached)
        .map(|i| i.level)
        .collect();
    let levels = level_range(&reached);
    let short = intervals
        .iter()
        .any(|i| !i.reached)
        .then(|| "the level given in the cell".to_string());
    let level: Vec<String> = [levels, short].into_iter().flatten().collect();
    Some(format!(
        "Speed-up: the median time on one thread over this case's, with the interval of that ratio across rounds ({}); efficiency: speed-up ÷ threads.",
        level.join(", or ")
    ))
}

/// `95.9 %`, or `95.7 % to 97.1 %` when the levels differ; `None` for none.
fn level_range(levels: &[f64]) -> Option<String> {
    let low = levels.iter().copied().reduce(f64::min)?;
    let high = levels.iter().copied().reduce(f64::max)?;
    Some(if level_text(low) == level_text(high) {
        level_text(low)
    } else {
        format!("{} to {}", level_text(low), level_text(high))
    })
}

/// What each flag in the Status column means, for the flags the table shows; `None` when it
/// shows none.
fn flags_note(cases: &[&CaseResult]) -> Option<String> {
    let flags: Vec<Instability> = cases.iter().flat_map(|c| c.instabilities()).collect();
    let has = |f: fn(&Instability) -> bool| flags.iter().any(f);
    let meanings = [
        has(|f| matches!(f, Instability::WideInterval(_))).then(|| {
            format!(
                "“unstable” when half the interval's width is more than {} of the median",
                percent_text(WIDE_HALF_WIDTH)
            )
        }),
        has(|f| matches!(f, Instability::RoundsDisagree(_))).then(|| {
            format!(
                "“rounds disagree” when the round medians spread wider than the times inside a round (judged with {MIN_SAMPLES_PER_ROUND} timed runs a round or more)"
            )
        }),
        has(|f| matches!(f, Instability::UnderLoad(_))).then(|| {
            format!(
                "“under load” when other processes used more than {} of the machine's CPU time, or the hypervisor stole more than {}, while the case ran",
                units::percent(LOAD_FLAG),
                units::percent(STEAL_FLAG)
            )
        }),
    ];
    let meanings: Vec<String> = meanings.into_iter().flatten().collect();
    (!meanings.is_empty()).then(|| format!("Flags: {}.", meanings.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::super::cases::tests::measured;
    use super::*;

    #[test]
    fn the_notes_explain_only_the_flags_shown() {
        let (steady, drifting) = (measured(0.0), measured(0.03));
        let notes = table_notes(&[&steady], &MeasureSettings::default());
        assert_eq!(
            notes,
            ["Measured in 6 rounds per case, of 7 timed runs each."]
        );
        let notes = table_notes(&[&steady, &drifting], &MeasureSettings::default());
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[1].contains("“unstable” when") && notes[1].contains("“rounds disagree”"));
        assert!(!notes[1].contains("under load"), "{notes:?}");
    }

    #[test]
    fn the_precision_note_counts_the_cases_that_reached_it() {
        let mut c = measured(0.0);
        let asked = MeasureSettings {
            precision: Some(0.01),
            ..MeasureSettings::default()
        };
        assert_eq!(table_notes(&[&c], &asked).len(), 1);
        c.precision_reached = Some(false);
        let notes = table_notes(&[&c], &asked);
        assert!(
            notes[1].contains("within ±1 % of the median at 95 % or more"),
            "{notes:?}"
        );
        assert!(notes[1].contains("0 of 1 cases reached it"), "{notes:?}");
    }

    #[test]
    fn the_speedup_note_gives_the_levels_of_its_intervals() {
        let interval = |level: f64| RatioInterval {
            estimate: 2.0,
            low: 1.9,
            high: 2.1,
            level,
            requested_level: DEFAULT_LEVEL,
            reached: level >= DEFAULT_LEVEL,
        };
        let (mut a, mut b) = (measured(0.0), measured(0.0));
        assert_eq!(speedup_note(&[&a, &b]), None);
        a.speedup_interval = Some(interval(0.959));
        b.speedup_interval = Some(interval(0.9));
        let note = speedup_note(&[&a, &b]).unwrap();
        assert!(
            note.contains("(95.9 %, or the level given in the cell)"),
            "{note}"
        );
        b.speedup_interval = Some(interval(0.971));
        let note = speedup_note(&[&a, &b]).unwrap();
        assert!(note.contains("(95.9 % to 97.1 %)"), "{note}");
    }
}
