//! Known-issue rules applied to a run: the facts rules test, gathered from the CUDA stack and
//! from each Python interpreter, the rules that match them, and each match as a check.

use super::{check, driver_version};
use crate::env::Check;
use crate::env::compat::known_issues::{KnownIssues, Rule, RuleFacts};
use crate::env::compat::probe::{CudaFacts, CupyImport, NvmlFacts, Observed, PythonFacts};

/// A matched rule as a check.
pub(super) fn known_issue_check(rule: &Rule) -> Check {
    check(
        format!("known-issue.{}", rule.id),
        &rule.component,
        rule.status,
        rule.symptom.clone(),
        format!("{} Source: {}", rule.cause, rule.source),
        Some(rule.remedy.clone()),
    )
}

/// The facts rules can test, from the CUDA side.
pub(super) fn cuda_rule_facts(
    cuda: Option<&CudaFacts>,
    nvml: Option<&Observed<NvmlFacts>>,
) -> RuleFacts {
    let mut facts = RuleFacts::new();
    if let Some(v) = driver_version(nvml) {
        facts.insert("driver", v);
    }
    let nvml_cuda = nvml
        .and_then(|n| n.as_ref().ok())
        .and_then(|n| n.cuda_version.as_ref().ok())
        .cloned();
    if let Some(cuda) = cuda {
        if let Some(v) = cuda
            .driver
            .as_ref()
            .ok()
            .and_then(|d| d.cuda_version.clone())
        {
            facts.insert("driver_cuda", v);
        }
        if let Ok(n) = &cuda.nvrtc {
            facts.insert("nvrtc", n.version.clone());
        }
    }
    // NVML knows the driver's CUDA version too, for when the CUDA backend did not ask libcuda.
    if let Some(v) = nvml_cuda {
        facts.entry("driver_cuda").or_insert(v);
    }
    facts
}

/// The rules that apply to one interpreter: those matching the CUDA facts together with any one
/// of the interpreter's fact sets, each once, in the order first matched. An interpreter that
/// could not be probed contributes no facts of its own.
pub(super) fn python_rules<'a>(
    issues: &'a KnownIssues,
    cuda: &RuleFacts,
    python: &Observed<PythonFacts>,
) -> Vec<&'a Rule> {
    let sets = match python {
        Ok(p) => python_rule_fact_sets(p),
        Err(_) => vec![RuleFacts::new()],
    };
    let mut rules: Vec<&Rule> = Vec::new();
    for set in sets {
        let mut facts = cuda.clone();
        facts.extend(set);
        add_new(&mut rules, issues.matching(&facts));
    }
    rules
}

/// Appends each rule of `more` whose id `rules` does not hold yet, so that a rule matched by
/// several fact sets or interpreters becomes one check.
pub(super) fn add_new<'a>(rules: &mut Vec<&'a Rule>, more: impl IntoIterator<Item = &'a Rule>) {
    for rule in more {
        if !rules.iter().any(|r| r.id == rule.id) {
            rules.push(rule);
        }
    }
}

/// The facts rules can test, from one interpreter: one set per CuPy distribution that may be
/// the one `import cupy` loads (the one of the imported version; when the import failed, every
/// installed one, since any of them may have left the files that failed), or a single set
/// without package facts when none is installed.
pub fn python_rule_fact_sets(python: &PythonFacts) -> Vec<RuleFacts> {
    let mut facts = RuleFacts::new();
    facts.insert("python", python.version.clone());
    facts.insert("cupy_packages", python.cupy_distributions.len().to_string());
    let version = match &python.cupy {
        CupyImport::Missing => None,
        CupyImport::Imported {
            version,
            cython_build,
        } => {
            facts.insert("cupy", version.clone());
            if let Some(c) = cython_build {
                facts.insert("cupy_cython", c.clone());
            }
            Some(version.as_str())
        }
        CupyImport::Failed {
            exception_type,
            message,
            cython_build,
            ..
        } => {
            facts.insert("cupy_import_error", format!("{exception_type}: {message}"));
            if let Some(c) = cython_build {
                facts.insert("cupy_cython", c.clone());
            }
            None
        }
    };
    let all = &python.cupy_distributions;
    let imported: Vec<_> = all
        .iter()
        .filter(|d| Some(d.version.as_str()) == version)
        .collect();
    let candidates = if imported.is_empty() {
        all.iter().collect()
    } else {
        imported
    };
    if candidates.is_empty() {
        return vec![facts];
    }
    candidates
        .into_iter()
        .map(|d| {
            let mut set = facts.clone();
            set.entry("cupy").or_insert_with(|| d.version.clone());
            set.insert("cupy_build", d.build_kind().name().to_string());
            set
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::env::CheckStatus;
    use crate::env::compat::checks::test_support::{dist, find, healthy, needs, run, status};
    use crate::env::compat::probe::CupyImport;

    #[test]
    fn python_3_13_with_cupy_13_3_fails() {
        let mut probe = healthy();
        if let Ok(p) = probe.python.as_mut() {
            p.version = "3.13.1".to_string();
            p.cupy = CupyImport::Imported {
                version: "13.3.0".to_string(),
                cython_build: Some("0.29.37".to_string()),
            };
            p.cupy_distributions = vec![dist("cupy", "13.3.0", "cp313-cp313-linux_x86_64")];
        }
        let checks = run(&probe, &needs(false, true, None));
        let c = find(&checks, "known-issue.cupy-python-3.13");
        assert_eq!(c.status, CheckStatus::Fail);
        assert!(c.remedy.as_ref().unwrap().contains("13.4"));
        assert!(
            c.detail
                .contains("https://github.com/cupy/cupy/issues/8651")
        );
    }

    #[test]
    fn two_cupy_packages_warn() {
        let mut probe = healthy();
        if let Ok(p) = probe.python.as_mut() {
            p.cupy_distributions.push(dist(
                "cupy-cuda11x",
                "13.6.0",
                "cp312-cp312-manylinux2014_x86_64",
            ));
        }
        let checks = run(&probe, &needs(false, true, None));
        let c = find(&checks, "known-issue.cupy-several-packages");
        assert_eq!(c.status, CheckStatus::Warn);
        assert!(
            find(&checks, "python.cupy-build")
                .summary
                .contains("cupy-cuda11x")
        );
    }

    #[test]
    fn a_failed_import_is_matched_against_every_installed_cupy() {
        // A source-built 13.4.1 left beside a 13.6 wheel: either may own the files that failed.
        let mut probe = healthy();
        if let Ok(p) = probe.python.as_mut() {
            p.cupy = CupyImport::Failed {
                exception_type: "ImportError".to_string(),
                message: "something else".to_string(),
                traceback_tail: Vec::new(),
                cython_build: Some("3.1.0".to_string()),
            };
            p.cupy_distributions = vec![
                dist("cupy-cuda12x", "13.6.0", "cp312-cp312-manylinux2014_x86_64"),
                dist("cupy", "13.4.1", "cp312-cp312-linux_x86_64"),
            ];
        }
        let checks = run(&probe, &needs(false, true, None));
        assert_eq!(
            status(&checks, "known-issue.cupy-9128-cython-3.1"),
            CheckStatus::Fail
        );
        assert_eq!(
            status(&checks, "known-issue.cupy-several-packages"),
            CheckStatus::Warn
        );
        // An import that worked is judged by the distribution of the imported version only.
        let mut probe = healthy();
        if let Ok(p) = probe.python.as_mut() {
            p.cupy_distributions
                .push(dist("cupy", "13.4.1", "cp312-cp312-linux_x86_64"));
        }
        let checks = run(&probe, &needs(false, true, None));
        assert!(
            !checks
                .iter()
                .any(|c| c.id == "known-issue.cupy-9128-cython-3.1")
        );
    }
}
