//! The tables every output shows: the machines side by side, and one table per sweep.

use crate::report::table::{Header, Row, Table};
use crate::units;

use super::{CaseComparison, Comparison, Verdict, format_level, format_ratio};

/// The two runs and their machines side by side.
pub fn machines(comparison: &Comparison) -> Table {
    let (base, new) = (&comparison.base, &comparison.new);
    let gpus = |g: &[String]| {
        if g.is_empty() {
            "none".to_string()
        } else {
            g.join(", ")
        }
    };
    let rows = [
        ("run", base.run_id.clone(), new.run_id.clone()),
        ("started", base.started_at.clone(), new.started_at.clone()),
        ("host", base.machine.host.clone(), new.machine.host.clone()),
        ("CPU", base.machine.cpu.clone(), new.machine.cpu.clone()),
        ("GPUs", gpus(&base.machine.gpus), gpus(&new.machine.gpus)),
    ];
    Table {
        headers: vec![
            Header::new("", false),
            Header::new("BASE", false),
            Header::new("NEW", false),
        ],
        rows: rows
            .into_iter()
            .map(|(what, b, n)| Row {
                cells: vec![what.to_string(), b, n],
                status: "ok".to_string(),
            })
            .collect(),
    }
}

/// The cases of `sweep`: medians, ratio, its interval and level, verdict and note.
pub fn sweep_table(comparison: &Comparison, sweep: &str) -> Table {
    Table {
        headers: vec![
            Header::new("case", false),
            Header::new("BASE median", true),
            Header::new("NEW median", true),
            Header::new("ratio", true),
            Header::new("interval", true),
            Header::new("level", true),
            Header::new("verdict", false),
            Header::new("note", false),
        ],
        rows: comparison.sweep_cases(sweep).map(case_row).collect(),
    }
}

/// One case's row.
fn case_row(case: &CaseComparison) -> Row {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "–".to_string());
    let interval = case
        .interval
        .map(|r| format!("{}–{}", format_ratio(r.low), format_ratio(r.high)));
    Row {
        cells: vec![
            case.identity.label(),
            or_dash(case.base_median_s.map(units::seconds)),
            or_dash(case.new_median_s.map(units::seconds)),
            or_dash(case.ratio.map(format_ratio)),
            or_dash(interval),
            or_dash(case.interval.map(|r| format_level(r.level))),
            case.verdict.name().to_string(),
            case.reason.clone().unwrap_or_default(),
        ],
        status: row_status(case.verdict).to_string(),
    }
}

/// The report's row style a verdict takes: a slower case reads as a failure.
fn row_status(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Same | Verdict::Faster => "ok",
        Verdict::Slower => "failed",
        Verdict::Inconclusive | Verdict::NotCompared => "skipped",
    }
}
