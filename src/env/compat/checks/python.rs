//! Python peer checks: the interpreter, whether `import cupy` works, and which CuPy packages
//! are installed and how they were built.

use super::check;
use super::rules::python_rule_fact_sets;
use crate::env::compat::known_issues::Rule;
use crate::env::compat::probe::{CupyImport, Observed, PythonFacts};
use crate::env::{Check, CheckStatus};

/// Whether `interpreter` runs, id `PREFIX.interpreter`: all that a peer without CuPy needs.
pub(super) fn interpreter_check(
    prefix: &str,
    interpreter: &str,
    python: &Observed<PythonFacts>,
) -> Check {
    match python {
        Err(e) => check(
            format!("{prefix}.interpreter"),
            "Python",
            CheckStatus::Fail,
            format!("`{interpreter}` could not be probed: the Python peer will not run"),
            e.clone(),
            Some(format!(
                "install Python 3, put `{interpreter}` on PATH, or name the interpreter in the sweep's command"
            )),
        ),
        Ok(python) => check(
            format!("{prefix}.interpreter"),
            "Python",
            CheckStatus::Ok,
            format!("Python {} ({interpreter})", python.version),
            format!("`{interpreter}` is {}", python.executable),
            None,
        ),
    }
}

/// One interpreter's checks, ids under `prefix`: whether it runs, whether `import cupy`
/// works (with the remedy of a matched CuPy rule that fails), and the installed CuPy packages.
pub(super) fn python_checks(
    prefix: &str,
    interpreter: &str,
    python: &Observed<PythonFacts>,
    rules: &[&Rule],
) -> Vec<Check> {
    let mut out = vec![interpreter_check(prefix, interpreter, python)];
    let Ok(python) = python else {
        return out;
    };
    let cupy_rule = rules
        .iter()
        .find(|r| r.component == "CuPy" && r.status == CheckStatus::Fail);
    out.push(match &python.cupy {
        CupyImport::Missing => check(
            format!("{prefix}.cupy"),
            "CuPy",
            CheckStatus::Fail,
            format!("CuPy is not installed for {interpreter}"),
            format!("`import cupy` raised ModuleNotFoundError in {}", python.executable),
            Some("install a prebuilt wheel matching the driver: `pip install cupy-cuda12x` (or `cupy-cuda13x`)".to_string()),
        ),
        CupyImport::Imported { version, .. } => check(
            format!("{prefix}.cupy"),
            "CuPy",
            cupy_rule.map_or(CheckStatus::Ok, |r| r.status),
            format!("CuPy {version} imports"),
            format!("`import cupy` succeeded in {}", python.executable),
            cupy_rule.map(|r| r.remedy.clone()),
        ),
        CupyImport::Failed { exception_type, message, traceback_tail, .. } => check(
            format!("{prefix}.cupy"),
            "CuPy",
            CheckStatus::Fail,
            format!("`import cupy` fails: {exception_type}: {message}"),
            traceback_tail.join("\n"),
            Some(cupy_rule.map_or_else(
                || "reinstall CuPy from a prebuilt wheel (`pip install cupy-cuda12x`); see https://docs.cupy.dev/en/stable/install.html".to_string(),
                |r| format!("{} (known issue {}: {})", r.remedy, r.id, r.source),
            )),
        ),
    });
    if !python.cupy_distributions.is_empty() {
        let cython = python_rule_fact_sets(python)
            .into_iter()
            .find_map(|f| f.get("cupy_cython").cloned());
        let packages: Vec<String> = python
            .cupy_distributions
            .iter()
            .map(|d| {
                format!(
                    "{} {} ({}{})",
                    d.name,
                    d.version,
                    d.build_kind().name(),
                    d.installer
                        .as_deref()
                        .map_or(String::new(), |i| format!(", installed by {i}"))
                )
            })
            .collect();
        let cython = cython.map_or("an unknown Cython".to_string(), |c| format!("Cython {c}"));
        let several = packages.len() > 1;
        out.push(check(
            format!("{prefix}.cupy-build"),
            "CuPy",
            CheckStatus::Info,
            if several {
                format!("{} CuPy packages are installed at once (see known-issue.cupy-several-packages): {}", packages.len(), packages.join(", "))
            } else {
                format!("{}, built with {cython}", packages[0])
            },
            format!(
                "packages: {}; CuPy built with {cython}; wheel tags: {}",
                packages.join(", "),
                python.cupy_distributions.iter().flat_map(|d| d.wheel_tags.iter().cloned()).collect::<Vec<_>>().join(", ")
            ),
            None,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::env::CheckStatus;
    use crate::env::compat::checks::test_support::{dist, find, healthy, needs, run, status};
    use crate::env::compat::probe::CupyImport;

    /// The failure sortmark grew out of: cudamark.py's `import cupy` with a source-built CuPy 13.4.1.
    const CUPY_9128: &str =
        "attribute '__name__' of 'builtin_function_or_method' objects is not writable";

    fn cupy_9128_import(cython_build: Option<&str>) -> CupyImport {
        CupyImport::Failed {
            exception_type: "AttributeError".to_string(),
            message: CUPY_9128.to_string(),
            traceback_tail: vec![
                "  File \"cupy/cuda/device.pyx\", line 105, in init cupy.cuda.device".to_string(),
                "  File \"cupy/_util.pyx\", line 52, in cupy._util.memoize.decorator".to_string(),
                "  File \"/usr/lib/python3.12/functools.py\", line 56, in update_wrapper"
                    .to_string(),
                "    setattr(wrapper, attr, value)".to_string(),
                format!("AttributeError: {CUPY_9128}"),
            ],
            cython_build: cython_build.map(str::to_string),
        }
    }

    #[test]
    fn cupy_13_4_1_source_build_with_cython_3_1_fails_with_the_9128_remedy() {
        let mut probe = healthy();
        if let Ok(p) = probe.python.as_mut() {
            p.cupy = cupy_9128_import(Some("3.1.2"));
            p.cupy_distributions = vec![dist("cupy", "13.4.1", "cp312-cp312-linux_x86_64")];
        }
        let checks = run(&probe, &needs(false, true, None));
        let import = find(&checks, "python.cupy");
        assert_eq!(import.status, CheckStatus::Fail);
        assert!(import.summary.contains("AttributeError") && import.summary.contains(CUPY_9128));
        assert!(import.detail.contains("update_wrapper"));
        let remedy = import.remedy.as_ref().unwrap();
        assert!(
            remedy.contains("cupy-cuda12x")
                && remedy.contains("13.5")
                && remedy.contains("cython<3.1"),
            "{remedy}"
        );
        assert!(remedy.contains("https://github.com/cupy/cupy/issues/9128"));
        let known = find(&checks, "known-issue.cupy-9128-cython-3.1");
        assert_eq!(known.status, CheckStatus::Fail);
        let build = find(&checks, "python.cupy-build");
        assert!(
            build.summary.contains("source") && build.summary.contains("Cython 3.1.2"),
            "{}",
            build.summary
        );
    }

    #[test]
    fn a_fake_probe_whose_cupy_import_fails_with_the_attribute_error_gets_the_9128_remedy() {
        // Only the exception is known: no package metadata, no Cython version.
        let mut probe = healthy();
        if let Ok(p) = probe.python.as_mut() {
            p.cupy = cupy_9128_import(None);
            p.cupy_distributions = Vec::new();
        }
        let checks = run(&probe, &needs(false, true, None));
        let import = find(&checks, "python.cupy");
        assert_eq!(import.status, CheckStatus::Fail);
        assert!(
            import
                .remedy
                .as_ref()
                .unwrap()
                .contains("cupy-9128-cython-3.1")
        );
        assert_eq!(
            status(&checks, "known-issue.cupy-9128-cython-3.1"),
            CheckStatus::Fail
        );
    }

    #[test]
    fn python_missing_or_cupy_missing_fails() {
        let mut probe = healthy();
        probe.python = Err("could not run `python3`: No such file or directory".to_string());
        let checks = run(&probe, &needs(false, true, None));
        assert_eq!(status(&checks, "python.interpreter"), CheckStatus::Fail);
        let mut probe = healthy();
        if let Ok(p) = probe.python.as_mut() {
            p.cupy = CupyImport::Missing;
            p.cupy_distributions = Vec::new();
        }
        let checks = run(&probe, &needs(false, true, None));
        assert_eq!(status(&checks, "python.cupy"), CheckStatus::Fail);
    }
}
