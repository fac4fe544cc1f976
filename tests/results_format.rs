//! `results.json` across versions: a file of every schema version sortmark has written loads
//! into the current version and renders.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use sortmark::record::SCHEMA_VERSION;
use sortmark::record::archive::load_run;

/// The fixture of `version`: a real run's `results.json` of that version, trimmed to a few
/// cases and anonymized.
fn fixture(version: u32) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/results")
        .join(format!("v{version}.json"))
}

/// A run folder holding the fixture of `version` as its `results.json`, and nothing else.
fn run_dir_with(version: u32) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture(version);
    fs::copy(&path, dir.path().join("results.json")).unwrap_or_else(|e| {
        panic!(
            "no fixture for schema {version} at {} ({e}): keep a real run's results.json of \
             every version there",
            path.display()
        )
    });
    dir
}

#[test]
fn a_results_file_of_every_version_loads_as_the_current_version() {
    for version in 1..=SCHEMA_VERSION {
        let dir = run_dir_with(version);
        let run = load_run(dir.path()).unwrap_or_else(|e| panic!("schema {version}: {e:#}"));
        assert_eq!(run.schema, SCHEMA_VERSION);
        assert!(!run.cases.is_empty(), "schema {version}: no cases");
    }
}

#[test]
fn a_results_file_of_every_version_renders() {
    for version in 1..=SCHEMA_VERSION {
        let dir = run_dir_with(version);
        Command::cargo_bin("sortmark")
            .unwrap()
            .arg("render")
            .arg(dir.path())
            .assert()
            .success();
        for output in ["report.html", "report.md", "results.csv"] {
            assert!(
                dir.path().join(output).is_file(),
                "schema {version}: no {output}"
            );
        }
    }
}
