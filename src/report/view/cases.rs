//! The cases of a sweep: their table, and the headline lines `summary.md` quotes.

use crate::measure::interval::Scope;
use crate::record::{CaseResult, CaseStatus, Run};
use crate::units::{self, RatePrefix, TimeUnit};

use super::super::table::{Header, Row, Table};

/// One row per case: its axes, median time and confidence interval, rate, scaling, status.
pub fn case_table(cases: &[&CaseResult]) -> Table {
    let columns = Columns::of(cases);
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
}

impl Columns {
    /// The columns that `cases` fill: a column no case has a value for is left out.
    fn of(cases: &[&CaseResult]) -> Columns {
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
            cells.push(c.speedup.map_or_else(dash, units::times));
            cells.push(c.efficiency.map_or_else(dash, units::percent));
        }
        if self.share {
            cells.push(c.bandwidth_share.map_or_else(dash, units::percent));
        }
        if self.transfers {
            cells.push(c.transfers.map_or_else(dash, |t| {
                format!("{} / {}", time.format(t.h2d_s), time.format(t.d2h_s))
            }));
        }
        cells.push(status_text(c));
        Row {
            cells,
            status: c.status.name().to_string(),
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
fn level_text(level: f64) -> String {
    format!("{:.1} %", level * 100.0)
}

/// The geometric mean of the smallest and largest positive finite values (NaN if none).
fn geometric_middle(values: impl Iterator<Item = f64>) -> f64 {
    let (lo, hi) = values
        .filter(|x| x.is_finite() && *x > 0.0)
        .fold((f64::NAN, f64::NAN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    (lo * hi).sqrt()
}

/// The status cell: the status, the reason when there is one, and remarks.
fn status_text(c: &CaseResult) -> String {
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
    for note in &c.notes {
        text.push_str("; ");
        text.push_str(note);
    }
    text
}

/// One line per sweep: its fastest verified case, and its best speed-up where threads vary.
pub fn headlines(run: &Run) -> Vec<String> {
    run.definition
        .sweeps()
        .filter_map(|sweep| {
            let cases: Vec<&CaseResult> = run
                .cases
                .iter()
                .filter(|c| c.cell == sweep.cell && c.status == CaseStatus::Ok)
                .collect();
            let mut line = fastest(&sweep.name, &cases)?;
            line.push_str(&best_speedup(&cases));
            Some(line)
        })
        .collect()
}

/// `<sweep>: fastest <case> at <rate> (median <time>)`; `None` when no case has a rate.
fn fastest(sweep: &str, cases: &[&CaseResult]) -> Option<String> {
    let best = cases
        .iter()
        .filter(|c| c.keys_per_s.is_some())
        .max_by(|a, b| {
            a.keys_per_s
                .partial_cmp(&b.keys_per_s)
                .unwrap_or(std::cmp::Ordering::Equal)
        })?;
    Some(format!(
        "{}: fastest {} at {} (median {})",
        sweep,
        case_label(best),
        units::keys_per_s(best.keys_per_s.unwrap_or(f64::NAN)),
        best.stats
            .as_ref()
            .map_or_else(|| "–".to_string(), |s| units::seconds(s.median_s)),
    ))
}

/// `; best speed-up …` for the case on several threads that scaled best; empty when none did.
fn best_speedup(cases: &[&CaseResult]) -> String {
    let scaled = cases
        .iter()
        .filter(|c| c.speedup.is_some() && c.threads.is_some_and(|t| t > 1))
        .max_by(|a, b| {
            a.speedup
                .partial_cmp(&b.speedup)
                .unwrap_or(std::cmp::Ordering::Equal)
        });
    let Some(s) = scaled else {
        return String::new();
    };
    format!(
        "; best speed-up {} ({} efficiency) on {} threads{}",
        units::times(s.speedup.unwrap_or(f64::NAN)),
        units::percent(s.efficiency.unwrap_or(f64::NAN)),
        s.threads.unwrap_or(1),
        if s.oversubscribed {
            ", oversubscribed"
        } else {
            ""
        }
    )
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
mod tests {
    use super::*;

    #[test]
    fn column_units_fit_the_middle_of_the_range() {
        assert!((geometric_middle([1e-5, 1e-1].into_iter()) - 1e-3).abs() < 1e-12);
        assert!(geometric_middle(std::iter::empty()).is_nan());
        assert!((geometric_middle([f64::NAN, 4.0, -1.0, 1.0].into_iter()) - 2.0).abs() < 1e-12);
    }
}
