//! The command line end to end: runs on tiny definitions, and every refusal of a bad one.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::sortmark;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Runs a definition into a fresh archive root; returns (root, run folder, results.json).
fn run_ok(definition: &Path) -> (tempfile::TempDir, PathBuf, Value) {
    let root = tempfile::tempdir().unwrap();
    let out = sortmark()
        .args([
            "run",
            definition.to_str().unwrap(),
            "--out",
            root.path().to_str().unwrap(),
        ])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let dir = PathBuf::from(
        stdout
            .lines()
            .last()
            .expect("the run folder on the last line"),
    );
    let json: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    (root, dir, json)
}

#[test]
fn a_run_writes_a_verified_run_folder() {
    let def = fixture("tiny.toml");
    let (root, dir, json) = run_ok(&def);
    assert!(
        dir.starts_with(root.path().join("tiny")),
        "{}",
        dir.display()
    );
    for file in ["results.json", "results.csv", "definition.toml"] {
        assert!(dir.join(file).is_file(), "{file} is missing");
    }
    assert_eq!(
        fs::read_to_string(dir.join("definition.toml")).unwrap(),
        fs::read_to_string(&def).unwrap()
    );
    for field in [
        "schema",
        "run_id",
        "started_at",
        "finished_at",
        "complete",
        "command_line",
        "definition",
        "environment",
        "checks",
        "cases",
    ] {
        assert!(json.get(field).is_some(), "results.json lacks {field}");
    }
    assert_eq!(json["complete"], true);
    let cases = json["cases"].as_array().unwrap();
    // algos: std-* once (threads=1) and rayon-* at 1 and 2 threads: (2 + 2·2) × 3 keys × 2 dists × 2 sizes.
    // special: f32 runs, i64 is a recorded skip.
    assert_eq!(cases.len(), 6 * 3 * 2 * 2 + 2);
    for case in cases {
        let skipped = case["status"] == "skipped";
        if skipped {
            assert_eq!(case["key_type"], "i64");
            assert!(case["reason"].as_str().unwrap().contains("floating-point"));
            continue;
        }
        assert_eq!(case["status"], "ok", "{case}");
        assert_eq!(case["verified"], true);
        // Three repetitions in each of the default six rounds.
        assert_eq!(case["samples_s"].as_array().unwrap().len(), 18);
        let rounds = case["rounds_s"].as_array().unwrap();
        assert_eq!(rounds.len(), 6);
        assert!(rounds.iter().all(|r| r.as_array().unwrap().len() == 3));
        let stats = &case["stats"];
        for f in [
            "min_s",
            "median_s",
            "mean_s",
            "max_s",
            "stddev_s",
            "ci95_low_s",
            "ci95_high_s",
            "outliers",
        ] {
            assert!(stats.get(f).is_some(), "stats lacks {f}");
        }
        assert!(case["keys_per_s"].as_f64().unwrap() > 0.0);
        let stable = ["std-stable", "rayon-stable"].contains(&case["algorithm"].as_str().unwrap());
        let pairs = case["key_type"] == "u32-u32";
        assert_eq!(
            case["verification"]["stable"],
            if stable && pairs {
                Value::Bool(true)
            } else {
                Value::Null
            }
        );
    }
    // Speed-up and efficiency are derived for the two-thread rayon cases.
    let two = cases.iter().find(|c| c["threads"] == 2).unwrap();
    let (s, e) = (
        two["speedup"].as_f64().unwrap(),
        two["efficiency"].as_f64().unwrap(),
    );
    assert!((s / 2.0 - e).abs() < 1e-9);
    // …and the speed-up's interval, from the round medians of both cases.
    let interval = &two["speedup_interval"];
    let (low, high) = (
        interval["low"].as_f64().unwrap(),
        interval["high"].as_f64().unwrap(),
    );
    assert!(0.0 < low && low <= high, "{interval}");
    let csv = fs::read_to_string(dir.join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), cases.len() + 1);
    assert!(csv.starts_with("sweep,backend,algorithm,key_type,distribution,n,threads"));
}

#[test]
fn the_environment_is_recorded_and_can_be_anonymized() {
    let root = tempfile::tempdir().unwrap();
    let def = fixture("tiny.toml");
    let out = sortmark()
        .args([
            "run",
            def.to_str().unwrap(),
            "--anonymize",
            "--out",
            root.path().to_str().unwrap(),
        ])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let dir = PathBuf::from(stdout.lines().last().unwrap());
    let json: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    let env = &json["environment"];
    assert_eq!(env["os"]["hostname"], "anonymized");
    assert_eq!(env["anonymized"], true);
    assert!(env["cpu"]["logical_cores"].as_u64().unwrap() >= 1);
    assert!(env["memory"]["total_bytes"].as_u64().unwrap() > 0);
    assert!(!env["toolchain"]["rustc"].as_str().unwrap().is_empty());
    assert!(env["git_commit"].is_string());
    let real_host = fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .to_string();
    if !real_host.is_empty() {
        assert!(
            !fs::read_to_string(dir.join("results.json"))
                .unwrap()
                .contains(&format!("\"{real_host}\""))
        );
    }
}

/// Each bad definition: exit code 2, a `file:line:column` message, and nothing run.
#[test]
fn bad_definitions_are_refused_with_a_location_and_nothing_runs() {
    let head = "title = \"t\"\n[[cell]]\n";
    let cases = [
        (
            "unknown key",
            format!(
                "{head}sweep = {{ backend = \"cpu\", algoritms = [\"std-unstable\"], sizes = [8] }}\n"
            ),
            ":3:28:",
            "did you mean `algorithms`?",
        ),
        (
            "wrong type",
            "title = 5\n".to_string(),
            ":1:9:",
            "invalid type",
        ),
        (
            "bad size",
            format!(
                "{head}sweep = {{ backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [\"1.5Mi\"] }}\n"
            ),
            ":3:",
            "bad size expression `1.5Mi`",
        ),
        (
            "empty axis",
            format!(
                "{head}sweep = {{ backend = \"cpu\", algorithms = [\"std-unstable\"], keys = [], sizes = [8] }}\n"
            ),
            ":3:",
            "`keys` axis is empty",
        ),
        (
            "zero threads",
            format!(
                "{head}sweep = {{ backend = \"cpu\", algorithms = [\"rayon-unstable\"], sizes = [8], threads = [0] }}\n"
            ),
            ":3:",
            "zero threads",
        ),
        (
            "too large",
            format!(
                "{head}sweep = {{ backend = \"cpu\", algorithms = [\"std-stable\"], keys = [\"u64\"], sizes = [\"2^32\"] }}\n"
            ),
            ":3:",
            "above the 2^32 - 1 keys",
        ),
        ("syntax", "title = \"t\n".to_string(), ":1:", ""),
    ];
    for (what, text, location, message) in cases {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("bad.toml");
        fs::write(&path, &text).unwrap();
        let out = sortmark()
            .args([
                "run",
                path.to_str().unwrap(),
                "--out",
                root.path().join("archive").to_str().unwrap(),
            ])
            .assert()
            .code(2);
        let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(
            stderr.contains(&format!("bad.toml{location}")),
            "{what}: {stderr}"
        );
        assert!(stderr.contains(message), "{what}: {stderr}");
        assert!(
            !root.path().join("archive").exists(),
            "{what}: something ran"
        );
    }
}

#[test]
fn a_definition_with_three_kinds_of_problem_is_refused_naming_all_three() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("three.toml");
    let text = "title = \"t\"\nsed = 3\n\
                [[cell]]\nsweep = { backend = \"cpu\", algorithms = [\"radix\"], keys = [\"u33\"], sizes = [8] }\n\
                [[cell]]\nsweep = { backend = \"cpu\", algorithms = [\"radix\"] }\n";
    fs::write(&path, text).unwrap();
    let archive = root.path().join("archive");
    let definition = path.to_str().unwrap();
    for command in [
        vec!["check", definition],
        vec!["run", definition, "--out", archive.to_str().unwrap()],
    ] {
        let out = sortmark().args(&command).assert().code(2);
        let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        for (at, what) in [
            ("three.toml:2:1:", "unknown field `sed`"),
            ("three.toml:4:60:", "unknown variant `u33`"),
            ("three.toml:6:9:", "missing field `sizes`"),
        ] {
            assert!(
                stderr.contains(&format!("{at} {what}")),
                "{}: {stderr}",
                command[0]
            );
        }
    }
    assert!(!archive.exists(), "something ran");
}

#[test]
fn a_case_needing_more_memory_than_the_machine_has_is_refused() {
    let total = sortmark::env::memory().total_bytes;
    // The smallest power-of-two u64 std-stable case (three buffers of 8 bytes per key) above total.
    let mut n: u64 = 1 << 20;
    while 24 * n <= total {
        n *= 2;
    }
    if n > u64::from(u32::MAX) {
        return; // This machine holds any supported size: the unit tests cover the rule.
    }
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("big.toml");
    fs::write(&path, format!("title = \"t\"\n[[cell]]\nsweep = {{ backend = \"cpu\", algorithms = [\"std-stable\"], keys = [\"u64\"], sizes = [{n}] }}\n")).unwrap();
    let out = sortmark()
        .args([
            "run",
            path.to_str().unwrap(),
            "--out",
            root.path().to_str().unwrap(),
        ])
        .assert()
        .code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("big.toml:3:") && stderr.contains(&format!("({} bytes)", 24 * n)),
        "{stderr}"
    );
    assert!(stderr.contains("std-stable u64"), "{stderr}");
}

#[test]
fn the_built_in_definition_is_valid() {
    sortmark()
        .arg("check")
        .assert()
        .success()
        .stdout(predicates_contains("valid"));
}

#[test]
fn a_missing_definition_file_is_a_clear_error() {
    let out = sortmark()
        .args(["run", "/nonexistent/def.toml"])
        .assert()
        .code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("could not read definition /nonexistent/def.toml"),
        "{stderr}"
    );
}

fn predicates_contains(needle: &'static str) -> impl predicates::Predicate<[u8]> {
    predicates::function::function(move |out: &[u8]| String::from_utf8_lossy(out).contains(needle))
}

/// Without an NVIDIA driver, a GPU definition still completes: every CUDA case is a recorded
/// skip with its reason, and the environment says why CUDA could not run.
#[test]
fn a_gpu_definition_without_a_gpu_completes_with_every_cuda_case_skipped() {
    if Path::new("/dev/nvidiactl").exists() {
        return; // A machine with a GPU runs these cases for real.
    }
    let root = tempfile::tempdir().unwrap();
    let def = root.path().join("gpu.toml");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("reports/gpu.toml"),
        &def,
    )
    .unwrap();
    let out = sortmark()
        .args([
            "run",
            def.to_str().unwrap(),
            "--out",
            root.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    // Saved, but not a success: the run its definition asked for measured nothing.
    assert_eq!(out.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: no GPU case was measured: every CUDA case was skipped ("),
        "{stderr}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let dir = PathBuf::from(stdout.lines().last().expect("the run folder"));
    let json: Value =
        serde_json::from_str(&fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        assert_eq!(case["backend"], "cuda");
        assert_eq!(case["status"], "skipped", "{case}");
        assert!(
            case["reason"].as_str().unwrap().contains("NVIDIA driver"),
            "{case}"
        );
    }
    assert!(
        json["environment"]["cuda"]["unavailable"]
            .as_str()
            .unwrap()
            .contains("NVIDIA driver")
    );
    assert_eq!(json["complete"], true);
    let checks = json["checks"].as_array().unwrap();
    assert!(
        checks
            .iter()
            .any(|c| c["component"].as_str().unwrap_or("").contains("driver")),
        "{checks:#?}"
    );
}

/// An installed binary runs from any folder: nothing it needs is read from the source tree.
#[test]
fn the_binary_needs_nothing_from_the_source_tree() {
    let elsewhere = tempfile::tempdir().unwrap();
    let binary = assert_cmd::cargo::cargo_bin("sortmark");
    let copy = elsewhere.path().join("sortmark");
    std::fs::copy(&binary, &copy).unwrap();
    let work = elsewhere.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny.toml"),
        work.join("tiny.toml"),
    )
    .unwrap();
    let output = std::process::Command::new(&copy)
        .current_dir(&work)
        .args(["run", "tiny.toml"])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let run_dir = work.join(stdout.lines().last().unwrap());
    assert!(
        run_dir.starts_with(work.join("reports/archive")),
        "{stdout}"
    );
    for report in ["report.html", "report.md", "report.ipynb", "results.csv"] {
        assert!(run_dir.join(report).is_file(), "{report} missing");
    }
}

/// A definition that is not UTF-8 is refused at the first byte that is not, with its line,
/// column and byte offset.
#[test]
fn invalid_utf8_is_located_by_line_column_and_byte() {
    let root = tempfile::tempdir().unwrap();
    let path = root.path().join("latin1.toml");
    let mut bytes = b"title = \"t\"\ndescription = \"caf".to_vec();
    bytes.extend([0xe9, b'"', b'\n']);
    fs::write(&path, bytes).unwrap();
    let out = sortmark()
        .args(["check", path.to_str().unwrap()])
        .assert()
        .code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("latin1.toml:2:19"), "{stderr}");
    assert!(stderr.contains("invalid UTF-8 at byte 30"), "{stderr}");
}
