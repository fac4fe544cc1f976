//! Expands sweep cells into cases: the cross product of their axes, less the exclusions.
//!
//! Planning is where the design's honesty rules about axes live: a single-threaded algorithm is
//! planned once per input, not once per thread count (sweeping threads over a sort that uses one
//! thread only repeats a measurement), and a combination that cannot run on this machine becomes
//! a case that is already skipped, with its reason, rather than vanishing.

use serde::{Deserialize, Serialize};

use crate::catalog::{BackendKind, CpuAlgorithm};
use crate::data::{Distribution, KeyType};
use crate::definition::{DeviceSelection, Exclude, MeasureSettings, ReportDef, Sweep};

/// One measurement to make: a point of a sweep's cross product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Case {
    /// Index of the sweep's cell in the definition.
    pub cell: usize,
    /// The sweep's name.
    pub sweep: String,
    pub backend: BackendKind,
    pub algorithm: String,
    pub key_type: KeyType,
    pub distribution: Distribution,
    /// Number of keys.
    pub n: u64,
    /// CPU threads (CPU sweeps only).
    pub threads: Option<u32>,
    /// GPU ordinal (CUDA sweeps only).
    pub device: Option<u32>,
    /// Repetitions and time limits for this case.
    pub measure: MeasureSettings,
    /// The sweep's program line with placeholders (command sweeps only).
    pub command: Option<String>,
    /// Set when the case cannot run at all; it is recorded as skipped with this reason.
    pub skip: Option<String>,
}

impl Case {
    /// A one-line label for progress output and error messages.
    pub fn label(&self) -> String {
        describe(&self.id())
    }

    /// The axis values that identify the case within its run (resume and plan order match on
    /// them, field by field).
    pub fn id(&self) -> CaseId<'_> {
        CaseId {
            sweep: &self.sweep,
            backend: self.backend,
            algorithm: &self.algorithm,
            key_type: self.key_type,
            distribution: self.distribution,
            n: self.n,
            threads: self.threads,
            device: self.device,
        }
    }
}

/// The axis values that identify a case, shared by planned cases and their results.
///
/// Two cases are the same case when every field is equal: the id is compared and hashed field
/// by field, never as a string joined from its fields, where a separator inside a name (a
/// sweep "a/b", a peer's algorithm "b/c") could make two cases one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaseId<'a> {
    pub sweep: &'a str,
    pub backend: BackendKind,
    pub algorithm: &'a str,
    pub key_type: KeyType,
    pub distribution: Distribution,
    pub n: u64,
    pub threads: Option<u32>,
    pub device: Option<u32>,
}

impl CaseId<'_> {
    /// The text a case's bootstrap stream is derived from,
    /// `sweep/algorithm/key/distribution/n/threads/device`: not an identity (two cases may share
    /// it, and then only share a stream), kept so that statistics stay as earlier runs made them.
    pub fn seed_text(&self) -> String {
        let or_dash = |v: Option<u32>| v.map_or("-".to_string(), |v| v.to_string());
        format!(
            "{}/{}/{}/{}/{}/{}/{}",
            self.sweep,
            self.algorithm,
            self.key_type,
            self.distribution,
            self.n,
            or_dash(self.threads),
            or_dash(self.device)
        )
    }
}

/// A one-line, human-readable description of a case.
pub fn describe(id: &CaseId<'_>) -> String {
    let mut label = format!(
        "{} {} {} {} n={}",
        id.backend.name(),
        id.algorithm,
        id.key_type,
        id.distribution,
        crate::units::count(id.n)
    );
    if let Some(t) = id.threads {
        label.push_str(&format!(" threads={t}"));
    }
    if let Some(d) = id.device {
        label.push_str(&format!(" gpu={d}"));
    }
    label
}

/// The GPUs a CUDA sweep asks for, given how many the driver reports (`None`: no driver).
pub fn resolve_devices(selection: &DeviceSelection, available: Option<usize>) -> Vec<u32> {
    match selection {
        DeviceSelection::List(list) => list.clone(),
        // With no GPU, "all" still plans one case per input so that each is recorded as skipped.
        DeviceSelection::All => (0..available.unwrap_or(0).max(1) as u32).collect(),
    }
}

/// Expands every sweep of a definition into its cases, in definition order.
pub fn plan(def: &ReportDef, gpu_count: Option<usize>) -> Vec<Case> {
    def.sweeps()
        .flat_map(|s| plan_sweep(s, gpu_count))
        .collect()
}

fn plan_sweep(sweep: &Sweep, gpu_count: Option<usize>) -> Vec<Case> {
    let threads: Vec<Option<u32>> = match sweep.backend {
        BackendKind::Cpu => sweep.threads.iter().map(|&t| Some(t)).collect(),
        BackendKind::Cuda | BackendKind::Command => vec![None],
    };
    let devices: Vec<Option<u32>> = match &sweep.devices {
        Some(selection) => resolve_devices(selection, gpu_count)
            .into_iter()
            .map(Some)
            .collect(),
        None => vec![None],
    };
    let mut cases = Vec::new();
    for algorithm in &sweep.algorithms {
        let single_threaded = sweep.backend == BackendKind::Cpu
            && CpuAlgorithm::from_name(algorithm).is_some_and(|a| !a.is_parallel());
        for &key_type in &sweep.keys {
            for &distribution in &sweep.distributions {
                for size in &sweep.sizes {
                    let thread_axis: Vec<Option<u32>> = if single_threaded {
                        vec![Some(1)]
                    } else {
                        threads.clone()
                    };
                    for &threads in &thread_axis {
                        for &device in &devices {
                            let case = Case {
                                cell: sweep.cell,
                                sweep: sweep.name.clone(),
                                backend: sweep.backend,
                                algorithm: algorithm.clone(),
                                key_type,
                                distribution,
                                n: size.n,
                                threads,
                                device,
                                measure: sweep.measure,
                                command: sweep.command.clone(),
                                skip: skip_reason(key_type, distribution),
                            };
                            if !sweep.exclude.iter().any(|e| excludes(e, &case)) {
                                cases.push(case);
                            }
                        }
                    }
                }
            }
        }
    }
    cases
}

/// Why a combination cannot be measured, known before running anything.
fn skip_reason(key_type: KeyType, distribution: Distribution) -> Option<String> {
    (distribution == Distribution::SpecialValues && !key_type.is_float()).then(|| {
        format!("the special-values distribution (NaN, ±0.0, ±inf) applies to floating-point keys only, not {key_type}")
    })
}

fn excludes(e: &Exclude, case: &Case) -> bool {
    e.algorithm.as_ref().is_none_or(|a| *a == case.algorithm)
        && e.key.is_none_or(|k| k == case.key_type)
        && e.distribution.is_none_or(|d| d == case.distribution)
        && e.size.is_none_or(|n| n == case.n)
        && e.threads.is_none_or(|t| Some(t) == case.threads)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::definition::{MachineLimits, load};

    const LIMITS: MachineLimits = MachineLimits {
        logical_cores: 8,
        host_memory_bytes: 1 << 34,
    };

    /// The plan of the definition `toml` on an 8-core machine with no GPU (shared with the
    /// shard tests).
    pub(crate) fn cases(toml: &str) -> Vec<Case> {
        plan(
            &load("t.toml", toml, &LIMITS).expect("valid definition"),
            None,
        )
    }

    #[test]
    fn expands_the_cross_product() {
        let c = cases(
            r#"title = "t"
[[cell]]
sweep = { backend = "cpu", algorithms = ["rayon-unstable", "rayon-stable"], keys = ["u32", "f64"], sizes = [16, 32, 64], threads = [1, 2] }
"#,
        );
        assert_eq!(c.len(), 2 * 2 * 3 * 2);
        assert!(c.iter().all(|c| c.distribution == Distribution::Uniform));
    }

    #[test]
    fn single_threaded_algorithms_run_once_per_input() {
        let c = cases(
            r#"title = "t"
[[cell]]
sweep = { backend = "cpu", algorithms = ["std-unstable"], sizes = [16], threads = [1, 2, 4, "all"] }
"#,
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].threads, Some(1));
    }

    #[test]
    fn parallel_algorithms_run_at_every_thread_count() {
        let c = cases(
            r#"title = "t"
[[cell]]
sweep = { backend = "cpu", algorithms = ["rayon-stable", "rayon-unstable", "radix"], sizes = [16], threads = [1, 2, 4] }
"#,
        );
        for algorithm in ["rayon-stable", "rayon-unstable", "radix"] {
            let threads: Vec<_> = c
                .iter()
                .filter(|c| c.algorithm == algorithm)
                .map(|c| c.threads)
                .collect();
            assert_eq!(threads, vec![Some(1), Some(2), Some(4)], "{algorithm}");
        }
    }

    #[test]
    fn exclusions_remove_matching_cases() {
        let c = cases(
            r#"title = "t"
[[cell]]
sweep = { backend = "cpu", algorithms = ["rayon-unstable", "rayon-stable"], keys = ["u32", "u64"], sizes = [16], threads = [1], exclude = [{ algorithm = "rayon-stable", key = "u64" }] }
"#,
        );
        assert_eq!(c.len(), 3);
        assert!(
            !c.iter()
                .any(|c| c.algorithm == "rayon-stable" && c.key_type == KeyType::U64)
        );
    }

    #[test]
    fn special_values_on_integers_is_a_recorded_skip() {
        let c = cases(
            r#"title = "t"
[[cell]]
sweep = { backend = "cpu", algorithms = ["std-unstable"], keys = ["u32", "f32"], distributions = ["special-values"], sizes = [16] }
"#,
        );
        assert_eq!(c.len(), 2);
        assert!(
            c[0].skip
                .as_deref()
                .unwrap_or("")
                .contains("floating-point")
        );
        assert!(c[1].skip.is_none());
    }

    #[test]
    fn all_devices_without_a_gpu_still_plans_one_case() {
        assert_eq!(resolve_devices(&DeviceSelection::All, None), vec![0]);
        assert_eq!(resolve_devices(&DeviceSelection::All, Some(2)), vec![0, 1]);
        assert_eq!(
            resolve_devices(&DeviceSelection::List(vec![3]), Some(1)),
            vec![3]
        );
    }

    #[test]
    fn case_keys_are_unique_within_a_plan() {
        let c = cases(
            r#"title = "t"
[[cell]]
sweep = { backend = "cpu", algorithms = ["rayon-unstable"], keys = ["u32", "i32"], distributions = ["uniform", "sorted"], sizes = [16, 32], threads = [1, 2] }
"#,
        );
        let ids: std::collections::HashSet<_> = c.iter().map(Case::id).collect();
        assert_eq!(ids.len(), c.len());
    }

    #[test]
    fn cases_whose_joined_names_agree_are_still_two_cases() {
        let c = cases(
            r#"title = "t"
[[cell]]
sweep = { name = "a", backend = "command", algorithms = ["b/c"], sizes = [16], command = "peer" }
[[cell]]
sweep = { name = "a/b", backend = "command", algorithms = ["c"], sizes = [16], command = "peer" }
"#,
        );
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].id().seed_text(), c[1].id().seed_text());
        assert_ne!(c[0].id(), c[1].id());
    }
}
