//! Several GPUs side by side: one row per input with each GPU's rate, and a flag where two
//! GPUs of the same model differ by more than the measurement noise.

use std::collections::BTreeMap;

use crate::env::gpu::GpuInfo;
use crate::record::{CaseResult, CaseStatus};
use crate::units::{self, RatePrefix};

use super::super::table::{Header, Row, Table};

/// Two medians whose 95% intervals do not overlap and that differ by more than this share are
/// flagged: narrower differences are within what repeated runs of one GPU show.
const FLAG_SHARE: f64 = 0.02;

/// The comparison of one sweep's GPUs, when it ran on more than one.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// One row per input, one rate column per GPU.
    pub table: Table,
    /// One sentence per flagged input.
    pub flags: Vec<String>,
}

/// Compares the GPUs of `cases`; `None` when they ran on fewer than two GPUs.
pub fn compare_gpus(cases: &[&CaseResult], gpus: &[GpuInfo]) -> Option<Comparison> {
    let mut ordinals: Vec<u32> = cases.iter().filter_map(|c| c.device).collect();
    ordinals.sort_unstable();
    ordinals.dedup();
    if ordinals.len() < 2 {
        return None;
    }
    let name = |d: u32| {
        gpus.iter()
            .find(|g| g.ordinal == d as usize)
            .map_or_else(|| "unknown GPU".to_string(), |g| g.name.clone())
    };
    let rate = RatePrefix::fitting(
        cases
            .iter()
            .filter_map(|c| c.keys_per_s)
            .fold(f64::NAN, f64::max),
    );
    let mut rows = Vec::new();
    let mut flags = Vec::new();
    for ((_, input), by_gpu) in &inputs(cases) {
        let measured = measured(by_gpu);
        let beyond = beyond_noise(&measured, &name);
        let mut cells = vec![input.clone()];
        cells.extend(ordinals.iter().map(|d| rate_cell(by_gpu.get(d), rate)));
        cells.push(spread(&measured));
        cells.push(if beyond.is_empty() { "no" } else { "yes" }.to_string());
        for (a, b) in &beyond {
            flags.push(format!(
                "{input}: GPU {a} and GPU {b} are both {} but differ beyond their measurement noise",
                name(*a)
            ));
        }
        rows.push(Row {
            cells,
            status: if beyond.is_empty() { "ok" } else { "failed" }.to_string(),
        });
    }
    Some(Comparison {
        table: Table {
            headers: headers(&ordinals, rate),
            rows,
        },
        flags,
    })
}

/// An input (algorithm, key, distribution, size) and the position of its first case.
type Input = (usize, String);

/// The inputs in the order their cases ran, each with its GPUs' results.
fn inputs<'a>(cases: &[&'a CaseResult]) -> BTreeMap<Input, BTreeMap<u32, &'a CaseResult>> {
    let mut inputs: BTreeMap<Input, BTreeMap<u32, &CaseResult>> = BTreeMap::new();
    for (i, c) in cases.iter().enumerate() {
        let Some(d) = c.device else { continue };
        let key = format!(
            "{} {} {} n={}",
            c.algorithm,
            c.key_type,
            c.distribution,
            units::count(c.n)
        );
        let first = inputs
            .keys()
            .find(|(_, k)| *k == key)
            .map_or(i, |(first, _)| *first);
        inputs.entry((first, key)).or_default().insert(d, c);
    }
    inputs
}

/// The input, one rate column per GPU, the spread and the verdict.
fn headers(ordinals: &[u32], rate: RatePrefix) -> Vec<Header> {
    let mut headers = vec![Header::new("Input", false)];
    headers.extend(
        ordinals
            .iter()
            .map(|&d| Header::new(&format!("GPU {d} [{}keys/s]", rate.symbol), true)),
    );
    headers.push(Header::new("Spread", true));
    headers.push(Header::new("Beyond noise", false));
    headers
}

/// The GPUs whose case of an input ran and was timed.
fn measured<'a>(by_gpu: &BTreeMap<u32, &'a CaseResult>) -> Vec<(u32, &'a CaseResult)> {
    by_gpu
        .iter()
        .filter(|(_, c)| c.status == CaseStatus::Ok && c.stats.is_some() && c.keys_per_s.is_some())
        .map(|(d, c)| (*d, *c))
        .collect()
}

/// A GPU's rate for an input, its status where it has none, `–` where it did not run it.
fn rate_cell(case: Option<&&CaseResult>, rate: RatePrefix) -> String {
    case.map_or("–".to_string(), |c| match c.keys_per_s {
        Some(r) if c.status == CaseStatus::Ok => rate.format(r),
        _ => c.status.name().to_string(),
    })
}

/// How much faster the fastest GPU was than the slowest, `–` with fewer than two.
fn spread(measured: &[(u32, &CaseResult)]) -> String {
    let rates: Vec<f64> = measured.iter().filter_map(|(_, c)| c.keys_per_s).collect();
    if rates.len() < 2 {
        return "–".to_string();
    }
    let lo = rates.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = rates.iter().copied().fold(0.0, f64::max);
    units::percent(hi / lo - 1.0)
}

/// Pairs of same-model GPUs whose median-time intervals do not overlap and whose medians differ
/// by more than [`FLAG_SHARE`].
fn beyond_noise(measured: &[(u32, &CaseResult)], name: &dyn Fn(u32) -> String) -> Vec<(u32, u32)> {
    let mut pairs = Vec::new();
    for (i, (a, ca)) in measured.iter().enumerate() {
        for (b, cb) in &measured[i + 1..] {
            let (Some(sa), Some(sb)) = (&ca.stats, &cb.stats) else {
                continue;
            };
            let (Some((low_a, high_a)), Some((low_b, high_b))) =
                (ca.median_interval_s(), cb.median_interval_s())
            else {
                continue;
            };
            let disjoint = high_a < low_b || high_b < low_a;
            let share = (sa.median_s - sb.median_s).abs() / sa.median_s.min(sb.median_s);
            if name(*a) == name(*b) && disjoint && share > FLAG_SHARE {
                pairs.push((*a, *b));
            }
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(device: u32, n: u64, median: f64, half_width: f64) -> CaseResult {
        let json = serde_json::json!({
            "cell": 0, "sweep": "s", "backend": "cuda", "algorithm": "radix", "key_type": "u32",
            "distribution": "uniform", "n": n, "threads": null, "device": device, "status": "ok",
            "reason": null, "warmup": 1, "samples_s": [median],
            "stats": {
                "min_s": median, "median_s": median, "mean_s": median, "max_s": median,
                "stddev_s": 0.0, "mad_s": 0.0, "ci95_low_s": median - half_width,
                "ci95_high_s": median + half_width,
                "outliers": {"low_severe": 0, "low_mild": 0, "high_mild": 0, "high_severe": 0}
            },
            "keys_per_s": n as f64 / median, "verified": true, "verification": null, "timing": "",
            "oversubscribed": false, "speedup": null, "efficiency": null, "transfers": null,
            "bytes_moved": null, "effective_bandwidth_bytes_per_s": null, "bandwidth_share": null,
            "notes": [], "rounds_s": [], "interval": null, "precision_reached": null,
            "disturbance": null, "machine": null
        });
        serde_json::from_value(json).unwrap()
    }

    fn gpu(ordinal: usize, name: &str) -> GpuInfo {
        serde_json::from_value(serde_json::json!({
            "ordinal": ordinal, "name": name, "compute_capability": [9, 0], "sm_count": 132,
            "memory_total_bytes": 1, "memory_free_bytes": 1, "l2_bytes": 1, "clock_khz": null,
            "memory_clock_khz": null, "memory_bus_width_bits": null, "pci_bus_id": "",
            "driver_version": 13000, "cuda_driver_api": "", "nvrtc_version": [13, 0],
            "copy_bandwidth_bytes_per_s": null
        }))
        .unwrap()
    }

    #[test]
    fn one_gpu_has_no_comparison() {
        let a = case(0, 1024, 1e-3, 1e-5);
        assert_eq!(compare_gpus(&[&a], &[gpu(0, "H200")]), None);
    }

    #[test]
    fn flags_identical_gpus_that_differ_beyond_noise() {
        let gpus = [gpu(0, "H200"), gpu(1, "H200")];
        // Size 1024: 10% apart with tight intervals: flagged. Size 2048: within noise.
        let cases = [
            case(0, 1024, 1.00e-3, 1e-5),
            case(1, 1024, 1.10e-3, 1e-5),
            case(0, 2048, 2.00e-3, 5e-5),
            case(1, 2048, 2.03e-3, 5e-5),
        ];
        let refs: Vec<&CaseResult> = cases.iter().collect();
        let c = compare_gpus(&refs, &gpus).unwrap();
        assert_eq!(c.table.rows.len(), 2);
        assert_eq!(c.table.headers.len(), 1 + 2 + 2);
        assert_eq!(c.table.rows[0].cells.last().unwrap(), "yes");
        assert_eq!(c.table.rows[1].cells.last().unwrap(), "no");
        assert_eq!(c.flags.len(), 1);
        assert!(
            c.flags[0].contains("GPU 0 and GPU 1 are both H200"),
            "{:?}",
            c.flags
        );
    }

    #[test]
    fn different_models_are_compared_but_not_flagged() {
        let gpus = [gpu(0, "H100"), gpu(1, "H200")];
        let cases = [case(0, 1024, 1.0e-3, 1e-6), case(1, 1024, 1.5e-3, 1e-6)];
        let refs: Vec<&CaseResult> = cases.iter().collect();
        let c = compare_gpus(&refs, &gpus).unwrap();
        assert!(c.flags.is_empty());
        assert_eq!(c.table.rows[0].cells[3], units::percent(0.5));
    }
}
