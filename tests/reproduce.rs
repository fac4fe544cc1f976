//! `sortmark reproduce` end to end, on real runs of the synthetic peer
//! (`tests/fixtures/peers/synthetic.sh`, see `compare.rs`): a reproduction of the same speed,
//! one of a slower machine, a peer that changed or is gone, and runs that cannot be reproduced.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{json, outcome, sortmark};
use serde_json::Value;

/// Two sweeps of the synthetic peer, six rounds; the peer is a word of the command, so the run
/// records and archives it.
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

/// A folder with the definition and its peer, and one finished run of it.
struct Original {
    dir: tempfile::TempDir,
    run: PathBuf,
}

fn original() -> Original {
    let dir = tempfile::tempdir().unwrap();
    let peer = dir.path().join("synthetic.sh");
    fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/peers/synthetic.sh"),
        &peer,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&peer, fs::Permissions::from_mode(0o755)).unwrap();
    fs::write(dir.path().join("def.toml"), DEFINITION).unwrap();
    let out = sortmark()
        .current_dir(dir.path())
        .env("SYNTHETIC_SEED", "21")
        .args(["run", "def.toml", "--out", "archive"])
        .assert()
        .success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    let run = dir
        .path()
        .join(stdout.lines().last().expect("the run folder"));
    Original { dir, run }
}

/// `sortmark reproduce RUN` run from `cwd` with the peer's `shift`: (exit code, stdout, stderr).
fn reproduce(cwd: &Path, run: &Path, shift: &str) -> (i32, String, String) {
    outcome(
        sortmark()
            .current_dir(cwd)
            .env("SYNTHETIC_SHIFT", shift)
            .env("SYNTHETIC_SEED", "22")
            .arg("reproduce")
            .arg(run)
            .output()
            .unwrap(),
    )
}

/// The run folders in the archive's `synthetic-peer`-named folder (the definition's name).
fn runs_beside(run: &Path) -> usize {
    fs::read_dir(run.parent().unwrap())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().join("results.json").is_file())
        .count()
}

#[test]
fn a_run_records_and_archives_its_peer_by_content() {
    let original = original();
    let results = json(&original.run.join("results.json"));
    let sources = &results["sources"];
    assert_eq!(
        Path::new(sources["folder"].as_str().unwrap()),
        original.dir.path()
    );
    let peers = sources["peers"].as_array().unwrap();
    assert_eq!(peers.len(), 1, "{sources}");
    assert_eq!(peers[0]["path"], "./synthetic.sh");
    assert_eq!(peers[0]["sha256"].as_str().unwrap().len(), 64);
    let copy = original.run.join("synthetic.sh");
    assert_eq!(
        fs::read(&copy).unwrap(),
        fs::read(original.dir.path().join("synthetic.sh")).unwrap()
    );
    use std::os::unix::fs::PermissionsExt;
    assert_ne!(fs::metadata(&copy).unwrap().permissions().mode() & 0o111, 0);
}

#[test]
fn a_reproduction_from_another_folder_compares_against_the_original() {
    let original = original();
    let elsewhere = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = reproduce(elsewhere.path(), &original.run, "1.0");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("reproduced: "))
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    assert!(summary.contains(" of 5 cases within ±2 %"), "{summary}");
    // The new run sits beside the original, with the same definition text and seed.
    let new_run = PathBuf::from(stdout.lines().last().unwrap());
    assert_eq!(new_run.parent(), original.run.parent());
    assert_eq!(runs_beside(&original.run), 2);
    let (old, new) = (
        json(&original.run.join("results.json")),
        json(&new_run.join("results.json")),
    );
    assert_eq!(old["definition_text"], new["definition_text"]);
    assert_eq!(new["definition"]["seed"], 3);
    let compare = json(
        &new_run
            .join(format!("compare-{}", old["run_id"].as_str().unwrap()))
            .join("compare.json"),
    );
    assert_eq!(compare["base"], old["run_id"]);
    assert_eq!(compare["new"], new["run_id"]);
    let cases = compare["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    assert!(
        cases
            .iter()
            .all(|c| c["verdict"] == "same" || c["verdict"] == "inconclusive"),
        "{compare}"
    );
}

#[test]
fn a_slower_reproduction_is_slower_and_exits_one() {
    let original = original();
    let (code, stdout, stderr) = reproduce(original.dir.path(), &original.run, "1.1");
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("reproduced: 0 of 5 cases within ±2 % (5 slower)"),
        "{stdout}"
    );
}

#[test]
fn a_changed_peer_is_refused_before_anything_runs() {
    let original = original();
    let peer = original.dir.path().join("synthetic.sh");
    let mut text = fs::read_to_string(&peer).unwrap();
    text.push_str("# edited\n");
    fs::write(&peer, text).unwrap();
    let (code, stdout, stderr) = reproduce(original.dir.path(), &original.run, "1.0");
    assert_eq!(code, 2, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("synthetic.sh changed since the run (SHA-256 "),
        "{stderr}"
    );
    assert_eq!(runs_beside(&original.run), 1, "nothing may be written");
    // A resume is refused the same way.
    let (code, _, stderr) = resume_of_interrupted_copy(&original);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("changed since the run"), "{stderr}");
}

/// Marks a copy of the original interrupted and resumes it: (exit code, stdout, stderr).
fn resume_of_interrupted_copy(original: &Original) -> (i32, String, String) {
    let copy = original.dir.path().join("archive/copy/run");
    fs::create_dir_all(&copy).unwrap();
    for file in ["results.json", "definition.toml"] {
        fs::copy(original.run.join(file), copy.join(file)).unwrap();
    }
    let mut results = json(&copy.join("results.json"));
    results["complete"] = Value::Bool(false);
    results["interrupted"] = Value::Bool(true);
    results["cases"].as_array_mut().unwrap().pop();
    fs::write(copy.join("results.json"), results.to_string()).unwrap();
    let other = tempfile::tempdir().unwrap();
    outcome(
        sortmark()
            .current_dir(other.path())
            .arg("run")
            .arg("--resume")
            .arg(&copy)
            .output()
            .unwrap(),
    )
}

#[test]
fn a_peer_that_is_gone_runs_from_the_archived_copy() {
    let original = original();
    fs::remove_file(original.dir.path().join("synthetic.sh")).unwrap();
    let (code, stdout, stderr) = reproduce(original.dir.path(), &original.run, "1.0");
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let new_run = PathBuf::from(stdout.lines().last().unwrap());
    let new = json(&new_run.join("results.json"));
    assert_eq!(
        Path::new(new["sources"]["folder"].as_str().unwrap()),
        std::path::absolute(&original.run).unwrap()
    );
    assert!(
        new["cases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "ok"),
        "{new}"
    );
}

#[test]
fn unfinished_and_missing_runs_are_refused_with_their_codes() {
    let original = original();
    let (code, _, stderr) = reproduce(original.dir.path(), original.dir.path(), "1.0");
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("results.json"), "{stderr}");

    let results = original.run.join("results.json");
    let mut run = json(&results);
    run["complete"] = Value::Bool(false);
    fs::write(&results, run.to_string()).unwrap();
    let (code, _, stderr) = reproduce(original.dir.path(), &original.run, "1.0");
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is not complete"), "{stderr}");
    assert_eq!(runs_beside(&original.run), 1);
}
