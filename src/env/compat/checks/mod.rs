//! Pure functions from observed facts to checks, one file per part of the stack. Nothing here
//! reads the machine.

mod cuda;
mod gpu;
mod host;
mod python;
mod rules;
#[cfg(test)]
pub(super) mod test_support;

use super::known_issues::{KnownIssues, Rule};
use super::probe::{NvmlFacts, Observed};
use super::{Observations, RunNeeds};
use crate::env::{Check, CheckStatus};

pub use cuda::cuda_checks;
pub use gpu::gpu_checks;
pub use host::host_checks;
pub use rules::python_rule_fact_sets;

/// A check from its parts, so that each check reads as one call.
pub(super) fn check(
    id: impl Into<String>,
    component: &str,
    status: CheckStatus,
    summary: impl Into<String>,
    detail: impl Into<String>,
    remedy: Option<String>,
) -> Check {
    Check {
        id: id.into(),
        component: component.to_string(),
        status,
        summary: summary.into(),
        detail: detail.into(),
        remedy,
    }
}

/// Every check for what was observed, host first, then CUDA, GPUs, Python and known issues.
pub fn checks(observed: &Observations, needs: &RunNeeds) -> Vec<Check> {
    let issues = KnownIssues::embedded();
    let mut out = host_checks(&observed.host, needs);
    if needs.uses_cuda {
        out.extend(cuda_checks(
            observed.cuda.as_ref(),
            observed.nvml.as_ref(),
            issues,
        ));
    }
    if let Some(nvml) = &observed.nvml {
        out.extend(gpu_checks(nvml));
    }
    // Without peers the rules test the CUDA facts alone; with peers each interpreter's facts
    // join them, and a rule that matches for several interpreters is reported once.
    let mut matched: Vec<&Rule> = Vec::new();
    let base = rules::cuda_rule_facts(observed.cuda.as_ref(), observed.nvml.as_ref());
    if observed.python.is_empty() {
        matched.extend(issues.matching(&base));
    }
    for (i, (interpreter, python)) in observed.python.iter().enumerate() {
        // The first interpreter's ids stay `python.*`, as most definitions have one.
        let prefix = if i == 0 {
            "python".to_string()
        } else {
            format!("python{i}")
        };
        // A peer without CuPy (NumPy's) needs the interpreter alone: CuPy's checks and rules
        // would only tell it about a library it does not use.
        if !needs.cupy_interpreters.contains(interpreter) {
            out.push(python::interpreter_check(&prefix, interpreter, python));
            continue;
        }
        let rules = rules::python_rules(issues, &base, python);
        out.extend(python::python_checks(&prefix, interpreter, python, &rules));
        rules::add_new(&mut matched, rules);
    }
    out.extend(matched.into_iter().map(rules::known_issue_check));
    out
}

/// The kernel driver's version, from NVML when it answered: libcuda only tells the CUDA version
/// it supports, so CUDA and the rules both need NVML for this.
pub(super) fn driver_version(nvml: Option<&Observed<NvmlFacts>>) -> Option<String> {
    nvml.and_then(|n| n.as_ref().ok())
        .and_then(|n| n.driver_version.as_ref().ok())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::compat::checks::test_support::{healthy, needs, run, status};

    #[test]
    fn a_numpy_only_peer_is_not_told_that_cupy_is_missing() {
        let mut probe = healthy();
        if let Ok(python) = probe.python.as_mut() {
            python.cupy = crate::env::compat::CupyImport::Missing;
        }
        let mut numpy_only = needs(false, true, Some(4));
        numpy_only.cupy_interpreters.clear();
        let checks = run(&probe, &numpy_only);
        assert_eq!(status(&checks, "python.interpreter"), CheckStatus::Ok);
        assert!(!checks.iter().any(|c| c.component == "CuPy"), "{checks:#?}");
        // With a CuPy peer the same machine fails.
        let checks = run(&probe, &needs(false, true, Some(4)));
        assert_eq!(status(&checks, "python.cupy"), CheckStatus::Fail);
    }

    #[test]
    fn a_healthy_machine_has_no_warnings() {
        let checks = run(&healthy(), &needs(true, true, Some(8)));
        let bad: Vec<&Check> = checks
            .iter()
            .filter(|c| c.status >= CheckStatus::Warn)
            .collect();
        assert!(bad.is_empty(), "{bad:#?}");
        assert_eq!(status(&checks, "cuda.driver"), CheckStatus::Ok);
        assert_eq!(status(&checks, "python.cupy"), CheckStatus::Ok);
        assert!(!checks.iter().any(|c| c.id.starts_with("known-issue.")));
    }

    #[test]
    fn checks_serialize_in_the_results_shape() {
        let checks = run(&healthy(), &needs(false, false, None));
        let json = serde_json::to_value(&checks[0]).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["component", "detail", "id", "remedy", "status", "summary"]
        );
    }
}
