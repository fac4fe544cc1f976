//! The `results.json` format: the schema the repository ships is the one the types generate,
//! real files match it, and a file of every schema version sortmark has written loads into the
//! current version and renders.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;
use sortmark::record::SCHEMA_VERSION;
use sortmark::record::archive::load_run;
use sortmark::record::{migrate, schema};

fn repository(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The fixture of `version`: a real run's `results.json` of that version, trimmed to a few
/// cases and anonymized.
fn fixture(version: u32) -> PathBuf {
    repository(&format!("tests/fixtures/results/v{version}.json"))
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

/// The schema as the repository ships it, ready to validate with.
fn shipped_schema() -> jsonschema::Validator {
    let text = fs::read_to_string(repository(schema::SCHEMA_FILE)).unwrap();
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).expect("the shipped schema is a valid JSON Schema")
}

/// Fails, naming every mismatch, unless `file` matches the shipped schema.
fn assert_matches_schema(file: &Value, what: &str) {
    let validator = shipped_schema();
    let errors: Vec<String> = validator
        .iter_errors(file)
        .map(|e| format!("  at {}: {e}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match {}:\n{}",
        schema::SCHEMA_FILE,
        errors.join("\n")
    );
}

#[test]
fn the_shipped_schema_is_the_one_the_types_generate() {
    let shipped = fs::read_to_string(repository(schema::SCHEMA_FILE)).unwrap_or_default();
    assert!(
        shipped == schema::results_schema(),
        "{} is not the schema of this build's results.json: regenerate it with `{}` (and, if \
         the format changed, raise SCHEMA_VERSION with a migration step)",
        schema::SCHEMA_FILE,
        schema::REGENERATE
    );
}

#[test]
fn a_fresh_run_matches_the_schema() {
    let root = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("sortmark")
        .unwrap()
        .arg("run")
        .arg(repository("tests/fixtures/tiny.toml"))
        .arg("--out")
        .arg(root.path())
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let dir = PathBuf::from(stdout.lines().last().unwrap());
    let file: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    assert_matches_schema(&file, "a fresh run's results.json");
}

#[test]
fn a_results_file_of_every_version_matches_the_schema_once_migrated() {
    for version in 1..=SCHEMA_VERSION {
        let file: Value =
            serde_json::from_str(&fs::read_to_string(fixture(version)).unwrap()).unwrap();
        let current = migrate::to_current(file).unwrap();
        assert_matches_schema(&current, &format!("the schema-{version} fixture, migrated"));
    }
}

#[test]
fn the_schema_refuses_an_earlier_version_and_a_missing_field() {
    let read = |version| -> Value {
        serde_json::from_str(&fs::read_to_string(fixture(version)).unwrap()).unwrap()
    };
    let validator = shipped_schema();
    let mut current = read(SCHEMA_VERSION);
    assert!(validator.is_valid(&current));
    current["schema"] = Value::from(SCHEMA_VERSION - 1);
    assert!(!validator.is_valid(&current), "an earlier version matched");
    let mut current = read(SCHEMA_VERSION);
    current["cases"][0]
        .as_object_mut()
        .unwrap()
        .remove("rounds_s");
    assert!(
        !validator.is_valid(&current),
        "a case without rounds_s matched"
    );
}
