//! `compare.json`: the comparison as data, for scripts and dashboards.
//!
//! The shape is fixed: `{"base", "new", "threshold", "cases": [{"sweep", "algorithm",
//! "key_type", "distribution", "n", "threads", "device", "verdict", "ratio", "ratio_low",
//! "ratio_high"}]}`; fields are only ever added ("level", "reason", the machines, the
//! medians), never renamed.

use serde::Serialize;

use super::{CaseComparison, Comparison, Machine};

/// The file's top level.
#[derive(Serialize)]
struct CompareJson<'a> {
    base: &'a str,
    new: &'a str,
    threshold: f64,
    base_machine: &'a Machine,
    new_machine: &'a Machine,
    summary: String,
    cases: Vec<CaseJson<'a>>,
}

/// One case.
#[derive(Serialize)]
struct CaseJson<'a> {
    sweep: &'a str,
    algorithm: &'a str,
    key_type: &'a str,
    distribution: &'a str,
    n: u64,
    threads: Option<u32>,
    device: Option<u32>,
    verdict: &'a str,
    ratio: Option<f64>,
    ratio_low: Option<f64>,
    ratio_high: Option<f64>,
    level: Option<f64>,
    base_median_s: Option<f64>,
    new_median_s: Option<f64>,
    reason: Option<&'a str>,
}

impl<'a> CaseJson<'a> {
    fn of(case: &'a CaseComparison) -> CaseJson<'a> {
        let id = &case.identity;
        CaseJson {
            sweep: &id.sweep,
            algorithm: &id.algorithm,
            key_type: &id.key_type,
            distribution: &id.distribution,
            n: id.n,
            threads: id.threads,
            device: id.device,
            verdict: json_verdict(case),
            ratio: case.ratio,
            ratio_low: case.interval.map(|r| r.low),
            ratio_high: case.interval.map(|r| r.high),
            level: case.interval.map(|r| r.level),
            base_median_s: case.base_median_s,
            new_median_s: case.new_median_s,
            reason: case.reason.as_deref(),
        }
    }
}

/// The verdict as JSON spells it: one word, `not_compared` with an underscore.
fn json_verdict(case: &CaseComparison) -> &'static str {
    match case.verdict {
        super::Verdict::NotCompared => "not_compared",
        other => other.name(),
    }
}

/// `compare.json`'s bytes.
pub fn render(comparison: &Comparison) -> anyhow::Result<Vec<u8>> {
    let json = CompareJson {
        base: &comparison.base.run_id,
        new: &comparison.new.run_id,
        threshold: comparison.threshold,
        base_machine: &comparison.base.machine,
        new_machine: &comparison.new.machine,
        summary: comparison.summary(),
        cases: comparison.cases.iter().map(CaseJson::of).collect(),
    };
    let mut bytes = serde_json::to_vec_pretty(&json)?;
    bytes.push(b'\n');
    Ok(bytes)
}
