//! `results.csv`: one tidy row per case, for spreadsheets and data frames.
//!
//! Written at render time like every other output, so `sortmark render` rebuilds it from
//! `results.json` too. Every column is one entry of [`COLUMNS`], its header beside the function
//! that writes its value, so that headers and values cannot drift apart. New columns go at the
//! end, so that a script that reads columns by position keeps working.
//!
//! The csv crate quotes fields as RFC 4180 asks; text cells from a definition, a peer or the
//! machine also get a guard against spreadsheet formulas ([`text_cell`]): one that starts with
//! `=`, `+`, `-`, `@`, a tab or a carriage return gets a `'` in front, which a spreadsheet shows
//! as text rather than running. Numbers are written as they are, negative ones included.

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
        to_csv(run)
    }
}

/// One column of `results.csv`: its header, and its value for a case of a run.
pub struct Column {
    pub header: &'static str,
    pub value: fn(&Run, &CaseResult) -> String,
}

/// The columns of `results.csv`, in order. Numbers are plain numbers in seconds, keys, bytes or
/// fractions as the header says (floats in Rust's `e` notation, which keeps every digit); a
/// value a case does not have is an empty field.
pub const COLUMNS: &[Column] = &[
    Column {
        header: "sweep",
        value: |_, c| text_cell(&c.sweep),
    },
    Column {
        header: "backend",
        value: |_, c| c.backend.name().to_string(),
    },
    Column {
        header: "algorithm",
        value: |_, c| text_cell(&c.algorithm),
    },
    Column {
        header: "key_type",
        value: |_, c| c.key_type.to_string(),
    },
    Column {
        header: "distribution",
        value: |_, c| c.distribution.to_string(),
    },
    Column {
        header: "n",
        value: |_, c| c.n.to_string(),
    },
    Column {
        header: "threads",
        value: |_, c| whole(c.threads),
    },
    Column {
        header: "device",
        value: |_, c| whole(c.device),
    },
    Column {
        header: "status",
        value: |_, c| c.status.name().to_string(),
    },
    Column {
        header: "verified",
        value: |_, c| c.verified.to_string(),
    },
    Column {
        header: "repetitions",
        value: |_, c| c.samples_s.len().to_string(),
    },
    Column {
        header: "min_s",
        value: |_, c| number(c.stats.as_ref().map(|s| s.min_s)),
    },
    Column {
        header: "median_s",
        value: |_, c| number(c.stats.as_ref().map(|s| s.median_s)),
    },
    Column {
        header: "mean_s",
        value: |_, c| number(c.stats.as_ref().map(|s| s.mean_s)),
    },
    Column {
        header: "max_s",
        value: |_, c| number(c.stats.as_ref().map(|s| s.max_s)),
    },
    Column {
        header: "stddev_s",
        value: |_, c| number(c.stats.as_ref().map(|s| s.stddev_s)),
    },
    Column {
        header: "mad_s",
        value: |_, c| number(c.stats.as_ref().map(|s| s.mad_s)),
    },
    Column {
        header: "ci95_low_s",
        value: |_, c| number(c.stats.as_ref().map(|s| s.ci95_low_s)),
    },
    Column {
        header: "ci95_high_s",
        value: |_, c| number(c.stats.as_ref().map(|s| s.ci95_high_s)),
    },
    Column {
        header: "keys_per_s",
        value: |_, c| number(c.keys_per_s),
    },
    Column {
        header: "speedup",
        value: |_, c| number(c.speedup),
    },
    Column {
        header: "efficiency",
        value: |_, c| number(c.efficiency),
    },
    Column {
        header: "oversubscribed",
        value: |_, c| c.oversubscribed.to_string(),
    },
    Column {
        header: "reason",
        value: |_, c| text_cell(c.reason.as_deref().unwrap_or_default()),
    },
    Column {
        header: "run_id",
        value: |run, _| run.run_id.clone(),
    },
    // The host name, or `anonymized` in a run made with --anonymize.
    Column {
        header: "host",
        value: |run, _| text_cell(&run.environment.os.hostname),
    },
    Column {
        header: "cpu_model",
        value: |run, _| text_cell(&run.environment.cpu.model),
    },
    Column {
        header: "gpu",
        value: gpu_name,
    },
    // The interval of the median across rounds, with the level it truly has (empty in runs
    // made before rounds, whose only interval is the bootstrap's `ci95_*`).
    Column {
        header: "interval_low_s",
        value: |_, c| number(c.interval.as_ref().map(|i| i.low_s)),
    },
    Column {
        header: "interval_high_s",
        value: |_, c| number(c.interval.as_ref().map(|i| i.high_s)),
    },
    Column {
        header: "interval_level",
        value: |_, c| number(c.interval.as_ref().map(|i| i.level)),
    },
    Column {
        header: "effective_bandwidth_bytes_per_s",
        value: |_, c| number(c.effective_bandwidth_bytes_per_s),
    },
    Column {
        header: "bandwidth_share",
        value: |_, c| number(c.bandwidth_share),
    },
    Column {
        header: "h2d_s",
        value: |_, c| number(c.transfers.map(|t| t.h2d_s)),
    },
    Column {
        header: "d2h_s",
        value: |_, c| number(c.transfers.map(|t| t.d2h_s)),
    },
];

/// Writes the cases as CSV, a header row first (RFC 4180 quoting, `\n` line ends).
pub fn to_csv(run: &Run) -> anyhow::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(COLUMNS.iter().map(|c| c.header))?;
    for case in &run.cases {
        out.write_record(COLUMNS.iter().map(|c| (c.value)(run, case)))?;
    }
    Ok(out.into_inner()?)
}

/// A float in `e` notation, or an empty field.
/// User text as a CSV cell a spreadsheet will not run: a `'` in front of a cell that starts
/// like a formula.
fn text_cell(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

fn number(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| format!("{v:e}"))
}

/// A whole number, or an empty field.
fn whole(v: Option<u32>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

/// The name of the GPU a CUDA case ran on, from the run's GPU records.
fn gpu_name(run: &Run, case: &CaseResult) -> String {
    case.device
        .and_then(|d| {
            run.environment
                .gpus
                .iter()
                .find(|g| g.ordinal == d as usize)
        })
        .map_or(String::new(), |g| g.name.clone())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn text_that_starts_like_a_formula_is_kept_text() {
        for formula in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(text_cell(formula), format!("'{formula}"));
        }
        assert_eq!(text_cell("plain = 1"), "plain = 1");
        assert_eq!(text_cell(""), "");
    }

    #[test]
    fn headers_are_unique() {
        let headers: HashSet<_> = COLUMNS.iter().map(|c| c.header).collect();
        assert_eq!(headers.len(), COLUMNS.len());
    }
}
