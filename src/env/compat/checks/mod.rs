//! Pure functions from observed facts to checks, one file per part of the stack. Nothing here
//! reads the machine.

mod cuda;
mod gpu;
mod host;
mod python;
mod rules;
#[cfg(test)]
pub(super) mod test_support;

use super::Observations;
use super::known_issues::{KnownIssues, Rule};
use super::probe::{NvmlFacts, Observed};
use crate::catalog::BackendKind;
use crate::definition::ReportDef;
use crate::env::{Check, CheckStatus, Environment};

pub use cuda::cuda_checks;
pub use gpu::gpu_checks;
pub use host::host_checks;
pub use rules::python_fact_sets;

/// What the checks need to know about the run besides the facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// `release` or `debug`.
    pub profile: String,
    /// The target and rustc, shown with the profile.
    pub toolchain: String,
    /// The largest CPU thread count any case uses.
    pub max_threads: Option<u32>,
    /// Some sweep runs on sortmark's CUDA backend.
    pub uses_cuda: bool,
    /// Python interpreters the definition's peers run (as written: `python3`, a path ...).
    pub python: Vec<String>,
}

impl Context {
    /// The context of running `definition` with this build.
    pub fn new(
        environment: &Environment,
        definition: &ReportDef,
        max_threads: Option<u32>,
    ) -> Self {
        let mut python: Vec<String> = Vec::new();
        for sweep in definition.sweeps() {
            if let Some(interpreter) = sweep.command.as_deref().and_then(python_interpreter)
                && !python.contains(&interpreter)
            {
                python.push(interpreter);
            }
        }
        Context {
            profile: environment.toolchain.profile.clone(),
            toolchain: format!(
                "{}, {}",
                environment.toolchain.target, environment.toolchain.rustc
            ),
            max_threads,
            uses_cuda: definition.sweeps().any(|s| s.backend == BackendKind::Cuda),
            python,
        }
    }
}

/// The interpreter a peer's command line runs: its first word naming python (`python3`,
/// `/opt/venv/bin/python`, or after `env`/`uv run`), else `python3` for a bare `script.py`.
pub fn python_interpreter(command: &str) -> Option<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let is_python = |w: &&str| {
        let base = w.rsplit('/').next().unwrap_or(w);
        base.starts_with("python") && !base.ends_with(".py")
    };
    if let Some(word) = words.iter().find(|w| is_python(w)) {
        return Some(word.to_string());
    }
    words
        .first()
        .filter(|w| w.ends_with(".py"))
        .map(|_| "python3".to_string())
}

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
pub fn checks(observed: &Observations, context: &Context) -> Vec<Check> {
    let issues = KnownIssues::embedded();
    let mut out = host_checks(&observed.host, context);
    if context.uses_cuda {
        out.extend(cuda_checks(
            observed.cuda.as_ref(),
            observed.nvml.as_ref(),
            issues,
        ));
    }
    if let Some(nvml) = &observed.nvml {
        out.extend(gpu_checks(nvml));
    }
    let mut matched: Vec<&Rule> = Vec::new();
    let base = rules::cuda_facts(observed.cuda.as_ref(), observed.nvml.as_ref());
    if observed.python.is_empty() {
        matched.extend(issues.matching(&base));
    }
    for (i, (interpreter, python)) in observed.python.iter().enumerate() {
        let prefix = if i == 0 {
            "python".to_string()
        } else {
            format!("python{i}")
        };
        let rules = rules::python_rules(issues, &base, python);
        out.extend(python::python_checks(&prefix, interpreter, python, &rules));
        rules::add_new(&mut matched, rules);
    }
    out.extend(matched.into_iter().map(rules::known_issue));
    out
}

/// The kernel driver's version, from NVML when it answered.
pub(super) fn driver_version(nvml: Option<&Observed<NvmlFacts>>) -> Option<String> {
    nvml.and_then(|n| n.as_ref().ok())
        .and_then(|n| n.driver_version.as_ref().ok())
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::compat::checks::test_support::{context, healthy, run, status};

    #[test]
    fn a_healthy_machine_has_no_warnings() {
        let checks = run(&healthy(), &context(true, true, Some(8)));
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
        let checks = run(&healthy(), &context(false, false, None));
        let json = serde_json::to_value(&checks[0]).unwrap();
        let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            ["component", "detail", "id", "remedy", "status", "summary"]
        );
    }

    #[test]
    fn finds_the_interpreter_in_a_peer_command() {
        assert_eq!(
            python_interpreter("python3 reports/peers/cupy_sort.py {n}").as_deref(),
            Some("python3")
        );
        assert_eq!(
            python_interpreter("/opt/venv/bin/python peer.py").as_deref(),
            Some("/opt/venv/bin/python")
        );
        assert_eq!(
            python_interpreter("env python3.12 peer.py").as_deref(),
            Some("python3.12")
        );
        assert_eq!(
            python_interpreter("reports/peers/cupy_sort.py --n {n}").as_deref(),
            Some("python3")
        );
        assert_eq!(python_interpreter("./my_sorter --n {n}"), None);
    }
}
