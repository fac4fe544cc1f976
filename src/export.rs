//! Exporting a run's ok cases for continuous-benchmarking services.
//!
//! - [`Format::Bencher`]: Bencher Metric Format JSON, `{"<benchmark>": {"latency": {"value",
//!   "lower_value", "upper_value"}, "throughput": {...}}}`, latency in nanoseconds (Bencher's
//!   built-in `latency` measure) and throughput in keys per second (its `throughput` measure,
//!   operations per second).
//! - [`Format::GithubActionBenchmark`]: github-action-benchmark's `customSmallerIsBetter`
//!   JSON, `[{"name", "unit", "value", "range", "extra"}]`, the median in nanoseconds.
//!
//! The value is the median across rounds and the bounds are its interval (`interval` in
//! `results.json`, made from the samples for a run recorded without one).

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::compare::{Identity, format_level, median_interval};
use crate::measure::MedianInterval;
use crate::record::{CaseResult, CaseStatus, Run};

/// Nanoseconds in a second.
const NS_PER_S: f64 = 1e9;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Bencher Metric Format JSON.
    Bencher,
    /// github-action-benchmark's `customSmallerIsBetter` JSON.
    GithubActionBenchmark,
}

/// The export of `run` in `format`, as pretty JSON ending in a newline.
pub fn export(run: &Run, format: Format) -> anyhow::Result<String> {
    let value = match format {
        Format::Bencher => bencher(run),
        Format::GithubActionBenchmark => serde_json::to_value(github_action_benchmark(run))?,
    };
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    Ok(text)
}

/// The ok cases of `run` with their median intervals.
fn measured(run: &Run) -> impl Iterator<Item = (&CaseResult, MedianInterval)> {
    run.cases
        .iter()
        .filter(|c| c.status == CaseStatus::Ok)
        .filter_map(|c| Some((c, median_interval(c)?)))
        .filter(|(_, i)| i.estimate_s > 0.0 && i.low_s > 0.0)
}

/// A case's benchmark name: its identity, `sweep/algorithm/key/distribution/n` and the
/// thread count and GPU where it has them.
pub fn benchmark_name(case: &CaseResult) -> String {
    let id = Identity::of(case);
    let mut name = format!(
        "{}/{}/{}/{}/n={}",
        id.sweep, id.algorithm, id.key_type, id.distribution, id.n
    );
    if let Some(t) = id.threads {
        name.push_str(&format!("/threads={t}"));
    }
    if let Some(d) = id.device {
        name.push_str(&format!("/gpu={d}"));
    }
    name
}

/// Bencher Metric Format: latency and throughput of every ok case.
fn bencher(run: &Run) -> Value {
    let mut benchmarks = Map::new();
    for (case, interval) in measured(run) {
        let n = case.n as f64;
        let measures = json!({
            "latency": {
                "value": interval.estimate_s * NS_PER_S,
                "lower_value": interval.low_s * NS_PER_S,
                "upper_value": interval.high_s * NS_PER_S,
            },
            "throughput": {
                "value": n / interval.estimate_s,
                "lower_value": n / interval.high_s,
                "upper_value": n / interval.low_s,
            },
        });
        benchmarks.insert(benchmark_name(case), measures);
    }
    Value::Object(benchmarks)
}

/// One entry of github-action-benchmark's custom JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomEntry {
    /// The benchmark's name.
    pub name: String,
    /// The value's unit.
    pub unit: String,
    /// The median time in nanoseconds.
    pub value: f64,
    /// `± x`: the larger distance from the median to an end of its interval, in `unit`.
    pub range: String,
    /// The interval, its level and what it is made of.
    pub extra: String,
}

/// github-action-benchmark's `customSmallerIsBetter` entries of every ok case.
fn github_action_benchmark(run: &Run) -> Vec<CustomEntry> {
    measured(run)
        .map(|(case, interval)| {
            let ns = |s: f64| s * NS_PER_S;
            let half = (ns(interval.high_s) - ns(interval.estimate_s))
                .max(ns(interval.estimate_s) - ns(interval.low_s));
            CustomEntry {
                name: benchmark_name(case),
                unit: "ns".to_string(),
                value: ns(interval.estimate_s),
                range: format!("± {}", round3(half)),
                extra: format!(
                    "{} interval {}–{} ns of the median; {} rounds, {} samples; run {}",
                    format_level(interval.level),
                    round3(ns(interval.low_s)),
                    round3(ns(interval.high_s)),
                    interval.rounds,
                    interval.samples,
                    run.run_id
                ),
            }
        })
        .collect()
}

/// A number with at most three decimals, without trailing zeros.
fn round3(v: f64) -> String {
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}
