//! `--only SWEEP` and `--set KEY=VALUE`: what runs, what is recorded, and that a resume or a
//! reproduction of such a run measures the same cases the same way.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{json, outcome};
use assert_cmd::Command;
use serde_json::Value;

/// Three small sweeps of sortmark's own sorts; six rounds of one repetition as written.
const DEFINITION: &str = r###"title = "overrides"
seed = 5
[measure]
warmup = 0
repetitions = 1
rounds = 6

[[cell]]
markdown = "## Sizes"

[[cell]]
sweep = { name = "sizes", backend = "cpu", algorithms = ["std-unstable", "std-stable"], sizes = [64, 128, 256] }

[[cell]]
sweep = { name = "keys", backend = "cpu", algorithms = ["std-unstable"], keys = ["u32", "u64", "f32"], sizes = [64] }

[[cell]]
sweep = { name = "threads", backend = "cpu", algorithms = ["rayon-unstable"], sizes = [256], threads = [1, 2] }
"###;

/// What `run` is given in these tests: two of the three sweeps, two rounds of two repetitions.
const OVERRIDES: [&str; 8] = [
    "--only",
    "keys",
    "--only",
    "sizes",
    "--set",
    "measure.rounds=2",
    "--set",
    "measure.repetitions=2",
];

fn sortmark(cwd: &Path) -> Command {
    let mut command = Command::cargo_bin("sortmark").expect("the sortmark binary is built");
    command.current_dir(cwd);
    command
}

/// `sortmark ARGS` in `cwd`: (exit code, stdout, stderr).
fn output(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    outcome(sortmark(cwd).args(args).output().unwrap())
}

/// A folder with `def.toml` and a run of it with [`OVERRIDES`]: (folder, run folder).
fn overridden_run() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("def.toml"), DEFINITION).unwrap();
    let mut args = vec!["-q", "run", "def.toml", "--out", "archive"];
    args.extend(OVERRIDES);
    let (code, stdout, stderr) = output(dir.path(), &args);
    assert_eq!(code, 0, "{stderr}");
    let run = dir.path().join(stdout.trim());
    (dir, run)
}

/// Each case's identity and its rounds × repetitions, in the order of `results.json`.
fn measured(results: &Value) -> Vec<(String, usize, usize)> {
    results["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let rounds = c["rounds_s"].as_array().unwrap();
            let identity = ["sweep", "algorithm", "key_type", "n", "threads"]
                .map(|f| c[f].to_string())
                .join("/");
            (identity, rounds.len(), rounds[0].as_array().unwrap().len())
        })
        .collect()
}

#[test]
fn only_runs_the_named_sweeps_with_the_settings_and_records_both() {
    let (_dir, run) = overridden_run();
    let results = json(&run.join("results.json"));
    let cases = measured(&results);
    assert_eq!(
        cases.len(),
        6 + 3,
        "sizes and keys, in definition order: {cases:?}"
    );
    assert!(cases[..6].iter().all(|c| c.0.starts_with("\"sizes\"")));
    assert!(cases[6..].iter().all(|c| c.0.starts_with("\"keys\"")));
    assert!(cases.iter().all(|c| (c.1, c.2) == (2, 2)), "{cases:?}");
    let definition = &results["definition"];
    assert_eq!(
        definition["overrides"],
        serde_json::json!({"only": ["keys", "sizes"], "set": ["measure.rounds=2", "measure.repetitions=2"]})
    );
    assert_eq!(definition["measure"]["rounds"], 2);
    let sweeps: Vec<&str> = definition["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap_or("(markdown)"))
        .collect();
    assert_eq!(sweeps, ["(markdown)", "sizes", "keys"]);
    // The definition is archived as written; the overrides travel beside it.
    assert_eq!(
        fs::read_to_string(run.join("definition.toml")).unwrap(),
        DEFINITION
    );
    assert_eq!(results["definition_text"], DEFINITION);
    let report = fs::read_to_string(run.join("report.md")).unwrap();
    assert!(
        report.contains("definition.toml --only keys --only sizes --set 'measure.rounds=2'"),
        "the report's recipe to run it again names the overrides"
    );
}

#[test]
fn a_resumed_run_with_overrides_runs_the_same_cases_the_same_way() {
    let (dir, run) = overridden_run();
    let finished = json(&run.join("results.json"));
    // As if it had been stopped after its first four cases.
    let mut stopped = finished.clone();
    stopped["cases"].as_array_mut().unwrap().truncate(4);
    stopped["complete"] = Value::Bool(false);
    stopped["interrupted"] = Value::Bool(true);
    fs::write(run.join("results.json"), stopped.to_string()).unwrap();

    let (code, stdout, stderr) = output(
        dir.path(),
        &["-q", "run", "--resume", run.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(Path::new(stdout.trim()), run);
    let resumed = json(&run.join("results.json"));
    assert_eq!(resumed["complete"], true);
    assert_eq!(
        measured(&resumed),
        measured(&finished),
        "same cases, same rounds and repetitions"
    );
    assert_eq!(
        resumed["definition"]["overrides"],
        finished["definition"]["overrides"]
    );

    // A resume takes the overrides from the run, not from its own command line.
    let (code, _, stderr) = output(
        dir.path(),
        &["run", "--resume", run.to_str().unwrap(), "--only", "keys"],
    );
    assert_eq!(code, 64, "{stderr}");
}

#[test]
fn a_reproduction_of_a_run_with_overrides_runs_the_same_cases_the_same_way() {
    let (dir, run) = overridden_run();
    let (code, stdout, stderr) = output(dir.path(), &["-q", "reproduce", run.to_str().unwrap()]);
    assert!(
        [0, 1].contains(&code),
        "a verdict, whichever it is: {stderr}"
    );
    let new = dir.path().join(stdout.lines().last().unwrap());
    assert_ne!(new, run);
    let original = json(&run.join("results.json"));
    let reproduced = json(&new.join("results.json"));
    assert_eq!(measured(&reproduced), measured(&original));
    assert_eq!(
        reproduced["definition"]["overrides"],
        original["definition"]["overrides"]
    );
}

#[test]
fn an_unknown_sweep_is_refused_with_the_sweeps_and_the_closest() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("def.toml"), DEFINITION).unwrap();
    let (code, _, stderr) = output(
        dir.path(),
        &["run", "def.toml", "--only", "key", "--out", "archive"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("no sweep named `key` in def.toml; did you mean `keys`? (its sweeps: sizes, keys, threads)"),
        "{stderr}"
    );
    assert!(!dir.path().join("archive").exists(), "nothing ran");
}

#[test]
fn a_setting_is_checked_as_the_file_would_be_and_located_in_its_argument() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("def.toml"), DEFINITION).unwrap();
    let (code, _, stderr) = output(
        dir.path(),
        &["check", "def.toml", "--set", "measure.rounds=0"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("error: --set measure.rounds=0: rounds must be at least 1\n"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  | --set measure.rounds=0\n  |                      ^\n"),
        "the caret is under the value: {stderr}"
    );
    let (code, _, stderr) = output(
        dir.path(),
        &["check", "def.toml", "--set", "measure.round=3"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("did you mean `rounds`?"), "{stderr}");
    // A malformed argument is a usage error, whatever the definition.
    for bad in ["measure.rounds", "measure.rounds=three", "=3"] {
        let (code, _, stderr) = output(dir.path(), &["check", "def.toml", "--set", bad]);
        assert_eq!(code, 64, "{bad}: {stderr}");
    }
    // check shows what a run with them would plan.
    let (code, stdout, _) = output(
        dir.path(),
        &[
            "check", "def.toml", "--only", "threads", "--set", "seed=9", "--format", "json",
        ],
    );
    assert_eq!(code, 0);
    let checked: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(checked["seed"], 9);
    assert_eq!(checked["cases"].as_array().unwrap().len(), 2);
}
