//! Interrupted runs resume, a killed run leaves whole files, and broken inputs give clear errors.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn binary() -> PathBuf {
    assert_cmd::cargo::cargo_bin("sortmark")
}

/// Starts a run of `definition` in the background with a copy of the definition in `root`.
fn start_run(root: &Path, definition: &str) -> (Child, PathBuf) {
    let def = root.join(definition);
    fs::copy(fixture(definition), &def).unwrap();
    let child = Process::new(binary())
        .args([
            "run",
            def.to_str().unwrap(),
            "--out",
            root.join("archive").to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (child, def)
}

/// The run folder under `root/archive/<name>/`, once it exists.
fn run_dir(root: &Path, name: &str) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(entry) = fs::read_dir(root.join("archive").join(name))
            .ok()
            .and_then(|mut d| d.next())
        {
            return entry.unwrap().path();
        }
        assert!(Instant::now() < deadline, "no run folder appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn results(dir: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(dir.join("results.json")).unwrap())
        .expect("results.json is whole")
}

/// Waits until the run has saved at least `n` cases (a run in flight journals each case as a
/// line of cases.jsonl; results.json is written whole at its start and end).
fn wait_for_cases(dir: &Path, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let journaled = fs::read_to_string(dir.join("cases.jsonl"))
            .map_or(0, |text| text.matches('\n').count());
        let saved = fs::read_to_string(dir.join("results.json"))
            .ok()
            .and_then(|text| serde_json::from_str::<Value>(&text).ok())
            .and_then(|v| v["cases"].as_array().map(Vec::len))
            .unwrap_or(0);
        if journaled + saved >= n {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the run never reached {n} cases");
}

fn signal(child: &Child, name: &str) {
    let status = Process::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn resume(dir: &Path) -> assert_cmd::assert::Assert {
    Command::new(binary())
        .args(["run", "--resume", dir.to_str().unwrap()])
        .assert()
}

#[test]
fn an_interrupted_run_keeps_its_cases_and_resumes_marked_as_resumed() {
    let root = tempfile::tempdir().unwrap();
    let (mut child, _) = start_run(root.path(), "slow.toml");
    let dir = run_dir(root.path(), "slow");
    wait_for_cases(&dir, 3);
    signal(&child, "INT");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "an interrupted run exits 130");

    let partial = results(&dir);
    assert_eq!(
        (partial["complete"].clone(), partial["interrupted"].clone()),
        (Value::Bool(false), Value::Bool(true))
    );
    let kept = partial["cases"].as_array().unwrap().len();
    assert!((3..40).contains(&kept), "kept {kept} cases");
    assert_eq!(partial["resumed"], serde_json::json!([]), "not resumed yet");

    resume(&dir).success();
    let done = results(&dir);
    assert_eq!(done["complete"], true);
    let resumed = done["resumed"].as_array().unwrap();
    assert_eq!(resumed.len(), 1, "resumed once: {resumed:?}");
    let when = resumed[0].as_str().unwrap();
    assert!(
        chrono::DateTime::parse_from_rfc3339(when).is_ok()
            && when >= done["started_at"].as_str().unwrap(),
        "resumed at {when}, after the start"
    );
    for report in ["report.md", "summary.md"] {
        let text = fs::read_to_string(dir.join(report)).unwrap();
        assert!(
            text.contains("complete, resumed at "),
            "{report} does not say the run was resumed:\n{text}"
        );
    }
    let cases = done["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 40, "every planned case exactly once");
    let keys: std::collections::HashSet<String> = cases
        .iter()
        .map(|c| format!("{}/{}/{}", c["algorithm"], c["key_type"], c["distribution"]))
        .collect();
    assert_eq!(keys.len(), 40);
    assert!(cases.iter().all(|c| c["status"] == "ok"));
    // A finished run has nothing left to resume.
    resume(&dir).code(3);
}

#[test]
fn a_killed_run_leaves_whole_files_and_resumes() {
    let root = tempfile::tempdir().unwrap();
    let (mut child, _) = start_run(root.path(), "slow.toml");
    let dir = run_dir(root.path(), "slow");
    wait_for_cases(&dir, 2);
    // SIGKILL cannot be caught: whatever was being written must still be whole.
    signal(&child, "KILL");
    child.wait().unwrap();
    let partial = results(&dir);
    assert_eq!(partial["complete"], false);
    assert_eq!(
        fs::read_to_string(dir.join("definition.toml")).unwrap(),
        fs::read_to_string(fixture("slow.toml")).unwrap()
    );
    resume(&dir).success();
    assert_eq!(results(&dir)["cases"].as_array().unwrap().len(), 40);
    // results.csv is rendered from results.json with the other reports, once the run is done.
    assert!(
        fs::read_to_string(dir.join("results.csv"))
            .unwrap()
            .starts_with("sweep,")
    );
}

#[test]
fn resuming_refuses_a_changed_definition() {
    let root = tempfile::tempdir().unwrap();
    let (mut child, def) = start_run(root.path(), "slow.toml");
    let dir = run_dir(root.path(), "slow");
    wait_for_cases(&dir, 1);
    signal(&child, "TERM");
    assert_eq!(child.wait().unwrap().code(), Some(130));
    fs::write(
        &def,
        fs::read_to_string(&def)
            .unwrap()
            .replace("seed = 3", "seed = 4"),
    )
    .unwrap();
    let out = resume(&dir).code(2);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("changed since the run started"), "{stderr}");
}

#[test]
fn a_corrupted_results_file_is_a_clear_error() {
    let root = tempfile::tempdir().unwrap();
    fs::write(
        root.path().join("results.json"),
        "{\"schema\": 1, \"run_id\": 5",
    )
    .unwrap();
    let out = resume(root.path()).code(3);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("results.json is not valid JSON"),
        "{stderr}"
    );
    fs::write(
        root.path().join("results.json"),
        "{\"schema\": 1, \"run_id\": 5}",
    )
    .unwrap();
    let out = resume(root.path()).code(3);
    let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
    assert!(
        stderr.contains("does not match the results format"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn two_runs_at_once_both_land_in_the_archive_index() {
    let root = tempfile::tempdir().unwrap();
    let archive = root.path().join("archive");
    let def = fixture("tiny.toml");
    let children: Vec<Child> = (0..2)
        .map(|_| {
            Process::new(binary())
                .args([
                    "run",
                    def.to_str().unwrap(),
                    "--out",
                    archive.to_str().unwrap(),
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let runs: Vec<String> = fs::read_dir(archive.join("tiny"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(runs.len(), 2);
    let index = fs::read_to_string(archive.join("index.md")).unwrap();
    for run in &runs {
        assert!(
            index.contains(run.as_str()),
            "{run} missing from the index:\n{index}"
        );
    }
}
