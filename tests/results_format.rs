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

/// `results.csv` of a run folder, read back with the csv crate: each row as (header, value)
/// pairs, in order.
fn read_csv(dir: &Path) -> Vec<Vec<(String, String)>> {
    let mut reader = csv::Reader::from_path(dir.join("results.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|row| {
            let row = row.unwrap();
            assert_eq!(row.len(), headers.len(), "a row unlike the header");
            headers
                .iter()
                .zip(row.iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// The value of `column` in `row`.
fn cell<'a>(row: &'a [(String, String)], column: &str) -> &'a str {
    row.iter()
        .find(|(h, _)| h == column)
        .unwrap_or_else(|| panic!("results.csv has no {column} column"))
        .1
        .as_str()
}

/// A number of `results.csv`; `None` for an empty field.
fn number(row: &[(String, String)], column: &str) -> Option<f64> {
    let text = cell(row, column);
    (!text.is_empty()).then(|| {
        text.parse()
            .unwrap_or_else(|e| panic!("{column} {text}: {e}"))
    })
}

#[test]
fn results_csv_agrees_with_results_json() {
    for version in 1..=SCHEMA_VERSION {
        let dir = run_dir_with(version);
        sortmark::report::render_dir(dir.path()).unwrap();
        let run = load_run(dir.path()).unwrap();
        let rows = read_csv(dir.path());
        assert_eq!(rows.len(), run.cases.len(), "schema {version}");
        for (row, case) in rows.iter().zip(&run.cases) {
            assert_eq!(cell(row, "sweep"), case.sweep);
            assert_eq!(cell(row, "n"), case.n.to_string());
            assert_eq!(cell(row, "status"), case.status.name());
            assert_eq!(cell(row, "run_id"), run.run_id);
            assert_eq!(cell(row, "host"), run.environment.os.hostname);
            assert_eq!(cell(row, "cpu_model"), run.environment.cpu.model);
            let median = case.stats.as_ref().map(|s| s.median_s);
            assert_eq!(number(row, "median_s"), median);
            assert_eq!(number(row, "keys_per_s"), case.keys_per_s);
            assert_eq!(number(row, "speedup"), case.speedup);
            let interval = case.interval.as_ref();
            assert_eq!(number(row, "interval_low_s"), interval.map(|i| i.low_s));
            assert_eq!(number(row, "interval_level"), interval.map(|i| i.level));
            assert_eq!(
                number(row, "effective_bandwidth_bytes_per_s"),
                case.effective_bandwidth_bytes_per_s
            );
            assert_eq!(number(row, "bandwidth_share"), case.bandwidth_share);
            assert_eq!(number(row, "h2d_s"), case.transfers.map(|t| t.h2d_s));
            assert_eq!(number(row, "d2h_s"), case.transfers.map(|t| t.d2h_s));
        }
    }
}

#[test]
fn results_csv_names_the_gpu_and_the_transfers_of_a_cuda_case() {
    let dir = run_dir_with(1);
    sortmark::report::render_dir(dir.path()).unwrap();
    let rows = read_csv(dir.path());
    let cuda = rows.iter().find(|r| cell(r, "backend") == "cuda").unwrap();
    assert_eq!(cell(cuda, "gpu"), "NVIDIA H100 80GB HBM3");
    assert_eq!(cell(cuda, "host"), "anonymized");
    assert!(number(cuda, "bandwidth_share").is_some_and(|s| s > 0.0 && s < 1.0));
    assert!(number(cuda, "h2d_s").is_some_and(|s| s > 0.0));
    // A peer's case names no device, so no GPU either.
    let peer = rows
        .iter()
        .find(|r| cell(r, "backend") == "command")
        .unwrap();
    assert_eq!(cell(peer, "gpu"), "");
}

#[test]
fn results_csv_keeps_a_reason_with_commas_quotes_and_line_breaks() {
    let dir = run_dir_with(SCHEMA_VERSION);
    let mut run = load_run(dir.path()).unwrap();
    let reason = "failed, \"badly\"\nat index 3";
    run.cases[0].reason = Some(reason.to_string());
    sortmark::report::render_all(&run, dir.path()).unwrap();
    assert_eq!(cell(&read_csv(dir.path())[0], "reason"), reason);
}

#[test]
fn the_readme_names_every_column_of_results_csv() {
    let readme = fs::read_to_string(repository("README.md")).unwrap();
    let section = readme
        .split("## Results format")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README.md has a Results format section");
    let dir = run_dir_with(SCHEMA_VERSION);
    sortmark::report::render_dir(dir.path()).unwrap();
    for (header, _) in &read_csv(dir.path())[0] {
        let named = section
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|word| word == header);
        assert!(
            named,
            "README.md's Results format does not name the column {header}"
        );
    }
}

/// The `results.json` of a real run of each shipped definition (`reports/*.toml`), whatever
/// schema it was written in: cpu and gpu-vs-cub from the 16-core machine with an H100 (schema
/// 1), gpu and cudamark from a 2-core machine without a GPU (schema 2, CUDA cases skipped).
/// Once migrated, each must match the shipped schema and load. A run of the built-in quick
/// definition is checked fresh by `.ci/run`.
#[test]
fn runs_of_the_shipped_definitions_match_the_schema_once_migrated() {
    let dir = repository("tests/fixtures/results/shipped");
    let mut checked = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(
            repository(&format!("reports/{name}.toml")).is_file(),
            "{} is not the run of a shipped definition",
            path.display()
        );
        let file: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        let migrated = migrate::to_current(file).unwrap();
        assert_matches_schema(&migrated, &path.display().to_string());
        let run_dir = tempfile::tempdir().unwrap();
        fs::copy(&path, run_dir.path().join("results.json")).unwrap();
        let run = load_run(run_dir.path()).unwrap_or_else(|e| panic!("{name}: {e:#}"));
        assert!(run.complete && !run.cases.is_empty(), "{name}");
        checked.push(name);
    }
    checked.sort();
    assert_eq!(checked, ["cpu", "cudamark", "gpu", "gpu-vs-cub"]);
}
