//! `results.csv`: one tidy row per case, for spreadsheets and data frames.
//!
//! Written at render time like every other output, so `sortmark render` rebuilds it from
//! `results.json` too.
//!
//! CSV's escaping lives here: RFC 4180 quoting for every field ([`csv_field`]) and, for text
//! cells only, a guard against spreadsheet formulas ([`text_cell`]): a text cell that starts
//! with `=`, `+`, `-`, `@`, a tab or a carriage return gets a `'` in front, which a spreadsheet
//! shows as text rather than running. Numbers are written as they are, negative ones included.

use crate::record::{CaseResult, Run};

use super::super::view::ReportView;
use super::Output;

/// The cases as comma-separated values.
pub struct Csv;

impl Output for Csv {
    fn file_name(&self) -> &'static str {
        "results.csv"
    }

    fn render(&self, run: &Run, _view: &ReportView) -> anyhow::Result<Vec<u8>> {
        Ok(to_csv(run).into_bytes())
    }
}

/// The columns of `results.csv`, one tidy row per case.
pub const CSV_COLUMNS: [&str; 24] = [
    "sweep",
    "backend",
    "algorithm",
    "key_type",
    "distribution",
    "n",
    "threads",
    "device",
    "status",
    "verified",
    "repetitions",
    "min_s",
    "median_s",
    "mean_s",
    "max_s",
    "stddev_s",
    "mad_s",
    "ci95_low_s",
    "ci95_high_s",
    "keys_per_s",
    "speedup",
    "efficiency",
    "oversubscribed",
    "reason",
];

/// Writes the cases as CSV (RFC 4180 quoting).
pub fn to_csv(run: &Run) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push('\n');
    for c in &run.cases {
        let row: Vec<String> = fields(c).iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

/// A case's fields in the order of [`CSV_COLUMNS`]; numbers in Rust's `e` notation, which
/// keeps every digit, and an empty field where a value is missing; text through [`text_cell`].
fn fields(c: &CaseResult) -> [String; CSV_COLUMNS.len()] {
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:e}"));
    let s = c.stats.as_ref();
    [
        text_cell(&c.sweep),
        c.backend.name().to_string(),
        text_cell(&c.algorithm),
        c.key_type.to_string(),
        c.distribution.to_string(),
        c.n.to_string(),
        c.threads.map_or(String::new(), |t| t.to_string()),
        c.device.map_or(String::new(), |d| d.to_string()),
        c.status.name().to_string(),
        c.verified.to_string(),
        c.samples_s.len().to_string(),
        opt(s.map(|s| s.min_s)),
        opt(s.map(|s| s.median_s)),
        opt(s.map(|s| s.mean_s)),
        opt(s.map(|s| s.max_s)),
        opt(s.map(|s| s.stddev_s)),
        opt(s.map(|s| s.mad_s)),
        opt(s.map(|s| s.ci95_low_s)),
        opt(s.map(|s| s.ci95_high_s)),
        opt(c.keys_per_s),
        opt(c.speedup),
        opt(c.efficiency),
        c.oversubscribed.to_string(),
        text_cell(c.reason.as_deref().unwrap_or_default()),
    ]
}

/// User text as a CSV cell a spreadsheet will not run: a `'` in front of a cell that starts
/// like a formula.
fn text_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// A field quoted where RFC 4180 asks: when it holds a comma, a quote or a line break.
fn csv_field(f: &str) -> String {
    if f.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", f.replace('"', "\"\""))
    } else {
        f.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_awkward_fields() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn text_that_starts_like_a_formula_is_kept_text() {
        for formula in ["=HYPERLINK(\"x\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(text_cell(formula), format!("'{formula}"));
        }
        assert_eq!(text_cell("plain = 1"), "plain = 1");
        assert_eq!(text_cell(""), "");
    }
}
