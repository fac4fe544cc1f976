//! The cases of a sweep: their table, and the headline lines `summary.md` quotes. The notes
//! under the table are in [`super::notes`].

use crate::measure::MeasureSettings;
use crate::measure::interval::{RatioInterval, Scope};
use crate::record::{CaseResult, CaseStatus, Instability, Run};
use crate::units::{self, RatePrefix, TimeUnit};

use super::super::table::{Header, Row, Table};
use super::leaders::{Leaders, leaders};

/// One row per case: its axes, median time and confidence interval, rate, scaling, rounds and
/// precision where they tell cases apart, and its status with what makes it unstable.
/// `measure` is the sweep's: its precision target heads the Precision column.
pub fn case_table(cases: &[&CaseResult], measure: &MeasureSettings) -> Table {
    let columns = Columns::of(cases, measure);
    Table {
        headers: columns.headers(),
        rows: cases.iter().map(|c| columns.row(c)).collect(),
    }
}

/// The columns a sweep's table has, and the units its time and rate columns read in.
struct Columns {
    time: TimeUnit,
    rate: RatePrefix,
    threads: bool,
    device: bool,
    scaling: bool,
    share: bool,
    transfers: bool,
    /// The cases were measured in different numbers of rounds (else a note says how many).
    rounds: bool,
    /// The precision asked for, when the sweep asked for one and its cases say whether they
    /// reached it.
    precision: Option<f64>,
}

impl Columns {
    /// The columns that `cases` fill: a column no case has a value for is left out.
    fn of(cases: &[&CaseResult], measure: &MeasureSettings) -> Columns {
        // One unit per column, chosen for the geometric middle of its range: a column spanning
        // 16 µs to 78 ms reads 0.0163 to 78.4 ms, neither 78400 µs nor 0.0000163 s.
        let medians = cases
            .iter()
            .filter_map(|c| c.stats.as_ref().map(|s| s.median_s));
        Columns {
            time: TimeUnit::fitting(geometric_middle(medians)),
            rate: RatePrefix::fitting(geometric_middle(cases.iter().filter_map(|c| c.keys_per_s))),
            threads: cases.iter().any(|c| c.threads.is_some()),
            device: cases.iter().any(|c| c.device.is_some()),
            scaling: cases
                .iter()
                .any(|c| c.speedup.is_some() && c.threads.is_some_and(|t| t > 1)),
            share: cases.iter().any(|c| c.bandwidth_share.is_some()),
            transfers: cases.iter().any(|c| c.transfers.is_some()),
            rounds: span(cases.iter().filter_map(|c| rounds(c))).is_some_and(|(a, b)| a != b),
            precision: measure
                .precision
                .filter(|_| cases.iter().any(|c| c.precision_reached.is_some())),
        }
    }

    /// The headings, each numeric one with its unit.
    fn headers(&self) -> Vec<Header> {
        let time = self.time.symbol;
        let mut headers = vec![
            Header::new("Algorithm", false),
            Header::new("Key", false),
            Header::new("Distribution", false),
            Header::new("Keys", true),
        ];
        if self.threads {
            headers.push(Header::new("Threads", true));
        }
        if self.device {
            headers.push(Header::new("GPU", true));
        }
        headers.push(Header::new(&format!("Median [{time}]"), true));
        headers.push(Header::new(&format!("Interval [{time}]"), true));
        headers.push(Header::new(
            &format!("Rate [{}keys/s]", self.rate.symbol),
            true,
        ));
        if self.scaling {
            headers.push(Header::new("Speed-up", true));
            headers.push(Header::new("Efficiency", true));
        }
        if self.share {
            headers.push(Header::new("Bandwidth share", true));
        }
        if self.transfers {
            headers.push(Header::new(&format!("H2D / D2H [{time}]"), true));
        }
        if self.rounds {
            headers.push(Header::new("Rounds", true));
        }
        if let Some(target) = self.precision {
            headers.push(Header::new(
                &format!("Precision (target ±{})", percent_text(target)),
                true,
            ));
        }
        headers.push(Header::new("Status", false));
        headers
    }

    /// A case's row, `–` where it has no value.
    fn row(&self, c: &CaseResult) -> Row {
        let dash = || "–".to_string();
        let time = &self.time;
        let mut cells = vec![
            c.algorithm.clone(),
            c.key_type.to_string(),
            c.distribution.to_string(),
            units::count(c.n),
        ];
        if self.threads {
            cells.push(c.threads.map_or_else(dash, |t| t.to_string()));
        }
        if self.device {
            cells.push(c.device.map_or_else(dash, |d| d.to_string()));
        }
        let stats = c.stats.as_ref();
        cells.push(stats.map_or_else(dash, |s| time.format(s.median_s)));
        cells.push(interval_text(c, time));
        cells.push(c.keys_per_s.map_or_else(dash, |r| self.rate.format(r)));
        if self.scaling {
            cells.push(speedup_text(c));
            cells.push(efficiency_text(c));
        }
        if self.share {
            cells.push(c.bandwidth_share.map_or_else(dash, units::percent));
        }
        if self.transfers {
            cells.push(c.transfers.map_or_else(dash, |t| {
                format!("{} / {}", time.format(t.h2d_s), time.format(t.d2h_s))
            }));
        }
        if self.rounds {
            cells.push(rounds(c).map_or_else(dash, |r| r.to_string()));
        }
        if self.precision.is_some() {
            cells.push(precision_text(c));
        }
        let instabilities = c.instabilities();
        // Where the Precision column shows each interval's width, a flag need not repeat it.
        let width_shown = self.precision.is_some();
        cells.push(status_text(c, &instabilities, width_shown));
        let status = if instabilities.is_empty() {
            c.status.name()
        } else {
            "unstable"
        };
        Row {
            cells,
            status: status.to_string(),
        }
    }
}

/// The interval of a case's median with the level it truly has, e.g. `1.02 – 1.05 (96.9 %)`;
/// a run recorded before rounds shows its bootstrap interval, marked as within the run.
fn interval_text(c: &CaseResult, time: &TimeUnit) -> String {
    let Some((low, high)) = c.median_interval_s() else {
        return "–".to_string();
    };
    let level = match &c.interval {
        Some(i) if i.scope == Scope::AcrossRounds => level_text(i.level),
        Some(i) => format!("{} within one round", level_text(i.level)),
        None => "95 % within the run".to_string(),
    };
    format!("{} – {} ({level})", time.format(low), time.format(high))
}

/// A confidence level with one decimal, as the order statistics give them (96.9 %, 75.0 %).
pub(super) fn level_text(level: f64) -> String {
    format!("{:.1} %", level * 100.0)
}

/// The geometric mean of the smallest and largest positive finite values (NaN if none).
fn geometric_middle(values: impl Iterator<Item = f64>) -> f64 {
    let (lo, hi) = values
        .filter(|x| x.is_finite() && *x > 0.0)
        .fold((f64::NAN, f64::NAN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    (lo * hi).sqrt()
}

/// The status cell: the status, the reason when there is one, what makes the case unstable
/// (without the interval's width where `width_shown` says a column beside gives it), and
/// remarks.
fn status_text(c: &CaseResult, instabilities: &[Instability], width_shown: bool) -> String {
    let mut text = match c.status {
        CaseStatus::Ok => "ok".to_string(),
        CaseStatus::Skipped => "skipped".to_string(),
        CaseStatus::Failed => "FAILED".to_string(),
    };
    if let Some(reason) = &c.reason {
        text.push_str(": ");
        text.push_str(reason);
    }
    if c.oversubscribed {
        text.push_str(" (oversubscribed)");
    }
    for flag in instabilities {
        text.push_str("; ");
        match flag {
            Instability::WideInterval(_) if width_shown => text.push_str("unstable"),
            _ => text.push_str(&instability_text(flag)),
        }
    }
    // Runs recorded before the load flag was read from the record noted it themselves.
    let load_note = c.disturbance.map(|d| d.describe());
    for note in c.notes.iter().filter(|n| Some(*n) != load_note.as_ref()) {
        text.push_str("; ");
        text.push_str(note);
    }
    text
}

/// A flag in a few words: `unstable: ±7 %`, `rounds disagree (2.3× a round's spread)`,
/// `under load: 43 % other processes, 1 % steal`.
fn instability_text(flag: &Instability) -> String {
    match flag {
        Instability::WideInterval(w) => format!("unstable: ±{}", percent_text(*w)),
        Instability::RoundsDisagree(s) => {
            format!("rounds disagree ({:.1}× a round's spread)", s.ratio())
        }
        Instability::UnderLoad(d) => d.describe(),
    }
}

/// A relative width as a percentage to two significant digits, no trailing zero: `5 %`,
/// `9.1 %`, `12 %`, `0.83 %`.
pub(super) fn percent_text(fraction: f64) -> String {
    let p = fraction * 100.0;
    if !p.is_finite() || p <= 0.0 {
        return format!("{p} %");
    }
    let decimals = (1 - p.log10().floor() as i32).max(0);
    let scale = 10f64.powi(decimals);
    format!("{} %", (p * scale).round() / scale)
}

/// The speed-up with its interval, `1.93× (1.88 – 1.99)`, and the interval's level where it
/// falls short of the level asked for, `(1.62 – 2.31, 90.0 %)`.
fn speedup_text(c: &CaseResult) -> String {
    let Some(speedup) = c.speedup else {
        return "–".to_string();
    };
    match c.speedup_interval {
        Some(i) => format!(
            "{} ({} – {}{})",
            units::times(speedup),
            units::three_digits(i.low),
            units::three_digits(i.high),
            short_level(&i)
        ),
        None => units::times(speedup),
    }
}

/// The efficiency with the interval of the speed-up over the threads, `48 % (47 – 50 %)`.
fn efficiency_text(c: &CaseResult) -> String {
    let Some(efficiency) = c.efficiency else {
        return "–".to_string();
    };
    match c.efficiency_interval() {
        Some(i) => format!(
            "{} ({:.0} – {}{})",
            units::percent(efficiency),
            i.low * 100.0,
            units::percent(i.high),
            short_level(&i)
        ),
        None => units::percent(efficiency),
    }
}

/// `, 90.0 %` for a ratio interval whose level falls short of the level asked for; empty
/// otherwise (the note under the table gives those levels).
fn short_level(i: &RatioInterval) -> String {
    if i.reached {
        String::new()
    } else {
        format!(", {}", level_text(i.level))
    }
}

/// The rounds a measured case ran; `None` for a case that did not run. A run recorded before
/// rounds measured every case once.
pub(super) fn rounds(c: &CaseResult) -> Option<usize> {
    if c.samples_s.is_empty() {
        return None;
    }
    Some(c.rounds_s.iter().filter(|r| !r.is_empty()).count().max(1))
}

/// The precision cell: the interval's relative half-width, and whether it reached the sweep's
/// target: `±0.62 %`, `±3.1 %, not reached`.
fn precision_text(c: &CaseResult) -> String {
    let Some(reached) = c.precision_reached else {
        return "–".to_string();
    };
    let width = c
        .relative_half_width()
        .map_or_else(|| "–".to_string(), |w| format!("±{}", percent_text(w)));
    if reached {
        width
    } else {
        format!("{width}, not reached")
    }
}

/// The smallest and largest of `values`; `None` when there are none.
pub(super) fn span<T: Copy + Ord>(values: impl Iterator<Item = T>) -> Option<(T, T)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// One line per sweep: its leading results compared on its main input (see
/// [`super::leaders`]): the fastest case with its median and interval, the best of each other
/// algorithm with its time against the fastest, and the speed-up over the fastest one-thread
/// sort where threads vary, each ratio with its interval.
pub fn headlines(run: &Run) -> Vec<String> {
    let cases: Vec<&CaseResult> = run.cases.iter().collect();
    run.definition
        .sweeps()
        .filter_map(|sweep| Some(headline(&sweep.name, &leaders(sweep, &cases)?)))
        .collect()
}

/// A sweep's headline from its leaders.
pub(super) fn headline(sweep: &str, found: &Leaders) -> String {
    let shape = found.shape;
    let best = found.leaders[0].case;
    let mut line = format!(
        "{sweep} ({} {} {} keys): fastest {} at {} (median {}",
        shape.key,
        shape.distribution,
        units::count(shape.n),
        short_label(best),
        units::keys_per_s(best.keys_per_s.unwrap_or(f64::NAN)),
        best.stats
            .as_ref()
            .map_or_else(|| "–".to_string(), |s| units::seconds(s.median_s)),
    );
    if let (Some((low, high)), Some(i)) = (best.median_interval_s(), &best.interval) {
        line.push_str(&format!(
            ", {} interval {} – {}",
            level_text(i.level),
            units::seconds(low),
            units::seconds(high)
        ));
    }
    line.push(')');
    for other in found.leaders.iter().skip(1).take(HEADLINE_OTHERS) {
        line.push_str(&format!(
            "; {} {} the time{}",
            short_label(other.case),
            units::times(other.vs_best),
            ratio_interval(other.vs_best_interval.as_ref())
        ));
    }
    if let Some(s) = &found.scaling {
        line.push_str(&format!(
            "; speed-up {}{} on {} threads over the fastest one-thread sort ({}), {} efficiency",
            units::times(s.speedup),
            ratio_interval(s.interval.as_ref()),
            s.case.threads.unwrap_or(1),
            s.baseline.algorithm,
            units::percent(s.efficiency)
        ));
    }
    if found.oversubscribed > 0 {
        line.push_str(&format!(
            "; {} oversubscribed case{} left out",
            found.oversubscribed,
            if found.oversubscribed == 1 { "" } else { "s" }
        ));
    }
    line
}

/// The most other algorithms a headline names after the fastest.
const HEADLINE_OTHERS: usize = 3;

/// ` (1.88 – 1.99)`, with the level where it falls short of the one asked for; empty without
/// an interval.
fn ratio_interval(interval: Option<&RatioInterval>) -> String {
    interval.map_or(String::new(), |i| {
        format!(
            " ({} – {}{})",
            units::three_digits(i.low),
            units::three_digits(i.high),
            short_level(i)
        )
    })
}

/// A case's label without its input, which the headline gives once: `radix, 4 threads`.
pub fn short_label(c: &CaseResult) -> String {
    let mut label = c.algorithm.clone();
    if let Some(t) = c.threads {
        label.push_str(&format!(", {t} thread{}", if t == 1 { "" } else { "s" }));
    }
    if let Some(d) = c.device {
        label.push_str(&format!(", GPU {d}"));
    }
    label
}

/// `rayon-unstable u32 uniform 2^20, 4 threads`.
pub fn case_label(c: &CaseResult) -> String {
    let mut label = format!(
        "{} {} {} {}",
        c.algorithm,
        c.key_type,
        c.distribution,
        units::count(c.n)
    );
    if let Some(t) = c.threads {
        label.push_str(&format!(", {t} thread{}", if t == 1 { "" } else { "s" }));
    }
    if let Some(d) = c.device {
        label.push_str(&format!(", GPU {d}"));
    }
    label
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    use crate::env::load::Disturbance;
    use crate::measure::{DEFAULT_LEVEL, across_rounds, summarize};
    use crate::record::example_case;

    /// An ok case measured in six rounds of seven samples 1 % apart, round r moved by `step`·r.
    pub(in crate::report::view) fn measured(step: f64) -> CaseResult {
        let rounds_s: Vec<Vec<f64>> = (0..6)
            .map(|r| {
                let level = 1e-3 * (1.0 + step * f64::from(r));
                (0..7)
                    .map(|i| level * (1.0 + 0.01 * f64::from(i)))
                    .collect()
            })
            .collect();
        let mut case = example_case();
        case.samples_s = rounds_s.concat();
        case.stats = summarize(&case.samples_s, 1);
        case.interval = across_rounds(&rounds_s, DEFAULT_LEVEL);
        case.rounds_s = rounds_s;
        case
    }

    fn status(c: &CaseResult) -> String {
        status_text(c, &c.instabilities(), false)
    }

    #[test]
    fn the_status_cell_says_why_a_case_is_unstable() {
        assert_eq!(status(&measured(0.0)), "ok");
        assert_eq!(
            status(&measured(0.03)),
            "ok; unstable: ±7 %; rounds disagree (2.4× a round's spread)"
        );
        let mut busy = measured(0.0);
        let load = Disturbance {
            other_load_share: 0.43,
            steal_share: 0.01,
            ..Disturbance::default()
        };
        busy.disturbance = Some(load);
        // A run recorded when the runner noted the load itself says it once.
        busy.notes = vec![load.describe(), "peer said hello".to_string()];
        assert_eq!(
            status(&busy),
            "ok; under load: 43 % other processes, 1 % steal; peer said hello"
        );
    }

    #[test]
    fn speedups_show_their_interval_and_a_level_short_of_the_one_asked() {
        let mut c = measured(0.0);
        c.threads = Some(4);
        (c.speedup, c.efficiency) = (Some(1.934), Some(1.934 / 4.0));
        assert_eq!(
            (speedup_text(&c), efficiency_text(&c)),
            ("1.93×".into(), "48 %".into())
        );
        let interval = RatioInterval {
            estimate: 1.93,
            low: 1.881,
            high: 1.992,
            level: 0.959,
            requested_level: 0.95,
            reached: true,
        };
        c.speedup_interval = Some(interval);
        assert_eq!(speedup_text(&c), "1.93× (1.88 – 1.99)");
        assert_eq!(efficiency_text(&c), "48 % (47 – 50 %)");
        c.speedup_interval = Some(RatioInterval {
            level: 0.9,
            reached: false,
            ..interval
        });
        assert_eq!(speedup_text(&c), "1.93× (1.88 – 1.99, 90.0 %)");
        assert_eq!(
            ratio_interval(c.speedup_interval.as_ref()),
            " (1.88 – 1.99, 90.0 %)"
        );
    }

    #[test]
    fn precision_is_a_column_only_where_it_was_asked_for() {
        let mut c = measured(0.0);
        let asked = MeasureSettings {
            precision: Some(0.01),
            ..MeasureSettings::default()
        };
        assert_eq!(case_table(&[&c], &asked).headers.len(), 9);
        c.precision_reached = Some(false);
        let table = case_table(&[&c], &asked);
        assert_eq!(
            table.headers[table.headers.len() - 2].text,
            "Precision (target ±1 %)"
        );
        let cell = &table.rows[0].cells[table.headers.len() - 2];
        assert!(cell.ends_with(", not reached"), "{cell}");
        // The column gives the width, so a wide interval's flag does not repeat it.
        let mut wide = measured(0.03);
        wide.precision_reached = Some(false);
        let table = case_table(&[&wide], &asked);
        let cells = &table.rows[0].cells;
        assert_eq!(cells[cells.len() - 2], "±7 %, not reached");
        assert!(cells[cells.len() - 1].starts_with("ok; unstable; rounds disagree"));
    }

    #[test]
    fn relative_widths_read_to_two_digits() {
        assert_eq!(percent_text(0.05), "5 %");
        assert_eq!(percent_text(0.0912), "9.1 %");
        assert_eq!(percent_text(0.1249), "12 %");
        assert_eq!(percent_text(0.008_33), "0.83 %");
        assert_eq!(percent_text(0.01), "1 %");
    }

    #[test]
    fn column_units_fit_the_middle_of_the_range() {
        assert!((geometric_middle([1e-5, 1e-1].into_iter()) - 1e-3).abs() < 1e-12);
        assert!(geometric_middle(std::iter::empty()).is_nan());
        assert!((geometric_middle([f64::NAN, 4.0, -1.0, 1.0].into_iter()) - 2.0).abs() < 1e-12);
    }
}
