//! `sortmark compare` and `sortmark export` end to end, on real runs of a synthetic peer.
//!
//! The peer (`tests/fixtures/peers/synthetic.sh`) reports times with a known factor
//! (`SYNTHETIC_SHIFT`), drift between rounds and noise within them, seeded: a 10 % slower
//! run must be found slower in every case, and two runs of the same speed with different
//! noise must never be called slower or faster.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::support::{json, make_executable, outcome, sortmark};
use serde_json::Value;

/// The definition the runs execute: two sweeps of the synthetic peer, six rounds.
const DEFINITION: &str = r#"title = "synthetic peer"
seed = 3
[measure]
warmup = 0
repetitions = 3
rounds = 6
[[cell]]
sweep = { name = "peer", backend = "command", algorithms = ["fast", "slowsort"], sizes = [1000, 4000], command = "./synthetic.sh {n} {algorithm} {repetitions}" }
[[cell]]
sweep = { name = "other", backend = "command", algorithms = ["quick"], sizes = [2000], command = "./synthetic.sh {n} {algorithm} {repetitions}" }
"#;

/// Cases in [`DEFINITION`].
const CASES: usize = 5;

/// The runs every test shares, made once: a base, a 10 % slower run, and a run of the base's
/// speed with other noise.
struct Runs {
    /// Keeps the folder alive for the whole test binary.
    _dir: tempfile::TempDir,
    base: PathBuf,
    slower: PathBuf,
    same_speed: PathBuf,
}

fn runs() -> &'static Runs {
    static RUNS: OnceLock<Runs> = OnceLock::new();
    RUNS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let peer = dir.path().join("synthetic.sh");
        fs::copy(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/peers/synthetic.sh"),
            &peer,
        )
        .unwrap();
        make_executable(&peer);
        fs::write(dir.path().join("def.toml"), DEFINITION).unwrap();
        Runs {
            base: run(dir.path(), "1.0", "11"),
            slower: run(dir.path(), "1.1", "12"),
            same_speed: run(dir.path(), "1.0", "13"),
            _dir: dir,
        }
    })
}

/// Runs the definition in `dir` with the peer's `shift` and `seed`; returns the run folder.
fn run(dir: &Path, shift: &str, seed: &str) -> PathBuf {
    let out = sortmark()
        .current_dir(dir)
        .env("SYNTHETIC_SHIFT", shift)
        .env("SYNTHETIC_SEED", seed)
        .args(["run", "def.toml", "--out", "archive"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    dir.join(stdout.lines().last().expect("the run folder"))
}

/// `sortmark compare BASE NEW --out OUT` with `extra` arguments: (exit code, stdout, stderr).
fn compare(base: &Path, new: &Path, out: &Path, extra: &[&str]) -> (i32, String, String) {
    outcome(
        sortmark()
            .arg("compare")
            .arg(base)
            .arg(new)
            .arg("--out")
            .arg(out)
            .args(extra)
            .output()
            .unwrap(),
    )
}

fn verdicts(compare_json: &Value) -> Vec<String> {
    compare_json["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap().to_string())
        .collect()
}

/// A copy of the run folder `run` at `to`, its results.json changed by `edit`.
fn edited_copy(run: &Path, to: &Path, edit: impl Fn(&mut Value)) -> PathBuf {
    fs::create_dir_all(to).unwrap();
    let mut results = json(&run.join("results.json"));
    edit(&mut results);
    fs::write(to.join("results.json"), results.to_string()).unwrap();
    to.to_path_buf()
}

#[test]
fn a_ten_percent_slower_run_is_slower_in_every_case_and_fails_the_gate() {
    let runs = runs();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("cmp");
    let (code, stdout, stderr) = compare(&runs.base, &runs.slower, &dir, &[]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let result = json(&dir.join("compare.json"));
    assert_eq!(verdicts(&result), vec!["slower"; CASES], "{stdout}");
    for case in result["cases"].as_array().unwrap() {
        let ratio = case["ratio"].as_f64().unwrap();
        assert!((1.05..1.15).contains(&ratio), "{case}");
    }
    assert!(
        stdout.contains("0 same, 0 inconclusive, 5 slower, 0 faster; 95.9 % intervals"),
        "{stdout}"
    );
}

#[test]
fn two_runs_of_one_speed_are_never_slower_or_faster() {
    let runs = runs();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("cmp");
    let (code, stdout, stderr) = compare(&runs.base, &runs.same_speed, &dir, &[]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let result = json(&dir.join("compare.json"));
    for verdict in verdicts(&result) {
        assert!(verdict == "same" || verdict == "inconclusive", "{stdout}");
    }
    // The noise differs between the runs, so the ratios are not all exactly 1.
    assert!(
        result["cases"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["ratio"].as_f64() != Some(1.0)),
        "{stdout}"
    );
}

#[test]
fn the_outputs_have_their_documented_shapes() {
    let runs = runs();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("cmp");
    let (code, stdout, _) = compare(&runs.base, &runs.slower, &dir, &["--threshold", "5"]);
    assert_eq!(code, 1);
    assert!(stdout.contains("sweep peer") && stdout.contains("sweep other"));
    let result = json(&dir.join("compare.json"));
    let base_id = runs.base.file_name().unwrap().to_str().unwrap();
    assert_eq!(result["base"], base_id);
    assert_eq!(result["threshold"], 0.05);
    let case = &result["cases"][0];
    for (field, is_type) in [
        ("sweep", Value::is_string as fn(&Value) -> bool),
        ("algorithm", Value::is_string),
        ("key_type", Value::is_string),
        ("distribution", Value::is_string),
        ("n", Value::is_u64),
        ("threads", Value::is_null),
        ("device", Value::is_null),
        ("verdict", Value::is_string),
        ("ratio", Value::is_f64),
        ("ratio_low", Value::is_f64),
        ("ratio_high", Value::is_f64),
        ("level", Value::is_f64),
    ] {
        assert!(is_type(&case[field]), "{field} in {case}");
    }
    assert!(result["base_machine"]["cpu"].is_string());
    let md = fs::read_to_string(dir.join("compare.md")).unwrap();
    assert!(md.contains("## Machines") && md.contains("| CPU |"), "{md}");
    assert!(md.contains("](compare-plots/peer.png)"), "{md}");
    assert!(
        fs::read(dir.join("compare-plots/other.png"))
            .unwrap()
            .starts_with(b"\x89PNG")
    );
    let html = fs::read_to_string(dir.join("compare.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("95.9 %"), "{html}");
    assert!(!html.contains("<img") && !html.contains("src=\"http"));
}

#[test]
fn the_default_folder_is_inside_the_new_run() {
    let runs = runs();
    let copies = tempfile::tempdir().unwrap();
    let new = edited_copy(&runs.slower, &copies.path().join("new"), |_| {});
    let output = sortmark()
        .arg("compare")
        .arg(&runs.base)
        .arg(&new)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let base_id = runs.base.file_name().unwrap().to_str().unwrap();
    assert!(
        new.join(format!("compare-{base_id}/compare.json"))
            .is_file()
    );
}

#[test]
fn a_run_compared_with_itself_is_refused() {
    let runs = runs();
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = compare(&runs.base, &runs.base, &out.path().join("cmp"), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("cannot compare run ") && stderr.contains("with itself"));
    assert!(!out.path().join("cmp").exists());
}

#[test]
fn a_folder_without_results_is_an_error() {
    let runs = runs();
    let empty = tempfile::tempdir().unwrap();
    let (code, _, stderr) = compare(&runs.base, empty.path(), &empty.path().join("cmp"), &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("cannot compare: could not read"),
        "{stderr}"
    );
    assert!(stderr.contains("results.json"), "{stderr}");
}

#[test]
fn an_interrupted_run_is_refused() {
    let runs = runs();
    let copies = tempfile::tempdir().unwrap();
    let stopped = edited_copy(&runs.slower, &copies.path().join("stopped"), |r| {
        r["interrupted"] = Value::Bool(true);
        r["complete"] = Value::Bool(false);
    });
    let (code, _, stderr) = compare(&runs.base, &stopped, &copies.path().join("cmp"), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot compare NEW run ") && stderr.contains("it is interrupted"),
        "{stderr}"
    );
}

#[test]
fn runs_of_different_definitions_are_refused_with_what_differs() {
    let runs = runs();
    let copies = tempfile::tempdir().unwrap();
    let other = edited_copy(&runs.slower, &copies.path().join("other"), |r| {
        r["definition"]["title"] = Value::String("another title".to_string());
        r["definition"]["cells"][1]["algorithms"] = serde_json::json!(["merge"]);
    });
    let (code, _, stderr) = compare(&runs.base, &other, &copies.path().join("cmp"), &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(
            "cannot compare runs of different definitions: the title differs (BASE “synthetic peer”, NEW “another title”); sweep “other” differs in its algorithms"
        ),
        "{stderr}"
    );
}

#[test]
fn an_existing_output_folder_is_left_alone() {
    let runs = runs();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("cmp");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("keep.txt"), "mine").unwrap();
    let (code, _, stderr) = compare(&runs.base, &runs.slower, &dir, &[]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("cannot write the comparison: ") && stderr.contains("already exists"),
        "{stderr}"
    );
    let left: Vec<_> = fs::read_dir(&dir).unwrap().flatten().collect();
    assert_eq!(left.len(), 1);
    assert_eq!(fs::read_to_string(dir.join("keep.txt")).unwrap(), "mine");
    // Nothing was staged beside it either.
    assert_eq!(fs::read_dir(out.path()).unwrap().count(), 1);
}

#[test]
fn help_documents_the_exit_codes() {
    let output = sortmark().args(["compare", "--help"]).output().unwrap();
    let help = String::from_utf8(output.stdout).unwrap();
    assert!(help.contains("1  at least one case is slower"), "{help}");
    assert!(help.contains("--threshold <PCT>"), "{help}");
}

/// `sortmark export RUN --format FORMAT` on stdout, as JSON.
fn export(run: &Path, format: &str) -> Value {
    let output = sortmark()
        .arg("export")
        .arg(run)
        .args(["--format", format])
        .output()
        .unwrap();
    assert!(output.status.success());
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn bencher_export_is_bencher_metric_format() {
    let exported = export(&runs().base, "bencher");
    let benchmarks = exported.as_object().unwrap();
    assert_eq!(benchmarks.len(), CASES);
    let case = &benchmarks["peer/fast/u32/uniform/n=1000"];
    let latency = &case["latency"];
    let value = latency["value"].as_f64().unwrap();
    // 1 µs per key, 1000 keys: about a millisecond, in nanoseconds.
    assert!((0.9e6..1.1e6).contains(&value), "{latency}");
    assert!(latency["lower_value"].as_f64().unwrap() <= value);
    assert!(latency["upper_value"].as_f64().unwrap() >= value);
    let throughput = &case["throughput"];
    for field in ["value", "lower_value", "upper_value"] {
        assert!(throughput[field].is_f64(), "{throughput}");
    }
    assert_eq!(latency.as_object().unwrap().len(), 3);
}

#[test]
fn github_action_benchmark_export_is_custom_smaller_is_better() {
    let runs = runs();
    let exported = export(&runs.base, "github-action-benchmark");
    let entries = exported.as_array().unwrap();
    assert_eq!(entries.len(), CASES);
    for entry in entries {
        assert_eq!(entry.as_object().unwrap().len(), 5, "{entry}");
        assert!(entry["name"].is_string());
        assert_eq!(entry["unit"], "ns");
        assert!(entry["value"].is_f64());
        assert!(
            entry["range"].as_str().unwrap().starts_with("± "),
            "{entry}"
        );
        assert!(
            entry["extra"].as_str().unwrap().contains("96.9 % interval"),
            "{entry}"
        );
    }
    let file = tempfile::tempdir().unwrap();
    let path = file.path().join("bench.json");
    sortmark()
        .arg("export")
        .arg(&runs.base)
        .args(["--format", "github-action-benchmark", "--out"])
        .arg(&path)
        .assert()
        .success()
        .stdout("");
    assert_eq!(json(&path), exported);
}
