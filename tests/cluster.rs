//! A plan split into parts (`run --shard K/N`) and joined again (`merge`): real small CPU runs
//! of tests/fixtures/shards.toml.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::support::{json, outcome, run_folder, sortmark};

const DEFINITION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shards.toml");

/// The three parts of the definition, a plain run of it, and the archive they are in; made
/// once for every test here.
struct Runs {
    _root: tempfile::TempDir,
    archive: PathBuf,
    parts: Vec<PathBuf>,
    plain: PathBuf,
}

fn runs() -> &'static Runs {
    static RUNS: OnceLock<Runs> = OnceLock::new();
    RUNS.get_or_init(|| {
        let root = tempfile::tempdir().unwrap();
        let archive = root.path().join("archive");
        let out = archive.to_str().unwrap();
        let parts = (0..3)
            .map(|k| {
                run_folder(&[
                    "-q",
                    "run",
                    DEFINITION,
                    "--shard",
                    &format!("{k}/3"),
                    "--out",
                    out,
                ])
            })
            .collect();
        let plain = run_folder(&["-q", "run", DEFINITION, "--out", out]);
        Runs {
            _root: root,
            archive,
            parts,
            plain,
        }
    })
}

/// A case's identity as text, for comparing case sets.
fn case_key(case: &Value) -> String {
    [
        "sweep",
        "algorithm",
        "key_type",
        "distribution",
        "n",
        "threads",
        "device",
    ]
    .iter()
    .map(|f| case[f].to_string())
    .collect::<Vec<_>>()
    .join(" ")
}

fn case_keys(run: &Value) -> Vec<String> {
    run["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(case_key)
        .collect()
}

/// Copies a run folder's results.json into a fresh folder, changed by `edit`.
fn edited_copy(dir: &Path, edit: impl FnOnce(&mut Value)) -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    let mut results = json(&dir.join("results.json"));
    edit(&mut results);
    fs::write(
        copy.path().join("results.json"),
        serde_json::to_vec(&results).unwrap(),
    )
    .unwrap();
    copy
}

/// `merge` of `dirs` into a fresh archive root: (code, stderr, what the root holds after).
fn merge_into_fresh(dirs: &[&Path], extra: &[&str]) -> (i32, String, Vec<String>) {
    let out = tempfile::tempdir().unwrap();
    let mut command = sortmark();
    command
        .arg("merge")
        .args(dirs)
        .arg("--out")
        .arg(out.path())
        .args(extra);
    let (code, _, stderr) = outcome(command.output().unwrap());
    let mut left = Vec::new();
    if let Ok(entries) = fs::read_dir(out.path().join("shards")) {
        left = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
    }
    (code, stderr, left)
}

#[test]
fn each_part_records_its_shard_definition_hash_and_machine() {
    let runs = runs();
    let mut hashes = BTreeSet::new();
    for (k, dir) in runs.parts.iter().enumerate() {
        let run = json(&dir.join("results.json"));
        assert_eq!(run["shard"]["shard"]["index"], k);
        assert_eq!(run["shard"]["shard"]["count"], 3);
        assert_eq!(
            run["shard"]["machine"],
            run["environment"]["os"]["hostname"]
        );
        hashes.insert(
            run["shard"]["definition_sha256"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(hashes.len(), 1, "{hashes:?}");
    assert_eq!(json(&runs.plain.join("results.json"))["shard"], Value::Null);
}

#[test]
fn three_merged_parts_hold_the_plain_runs_cases_each_once_and_verified() {
    let runs = runs();
    let plain = json(&runs.plain.join("results.json"));
    let mut by_parts: Vec<String> = Vec::new();
    for dir in &runs.parts {
        by_parts.extend(case_keys(&json(&dir.join("results.json"))));
    }
    assert_eq!(
        by_parts.len(),
        case_keys(&plain).len(),
        "every case in exactly one part"
    );
    let dirs: Vec<&Path> = runs.parts.iter().map(PathBuf::as_path).collect();
    let merged_dir = run_folder(
        &[
            &["-q", "merge"][..],
            &dirs.iter().map(|d| d.to_str().unwrap()).collect::<Vec<_>>(),
            &["--out", runs.archive.to_str().unwrap()],
        ]
        .concat(),
    );
    let merged = json(&merged_dir.join("results.json"));
    assert_eq!(
        case_keys(&merged),
        case_keys(&plain),
        "the plain run's cases, in plan order"
    );
    assert_eq!(merged["complete"], true);
    assert_eq!(merged["shard"], Value::Null);
    assert_eq!(merged["parts"].as_array().unwrap().len(), 3);
    for case in merged["cases"].as_array().unwrap() {
        let expected_ok = case["reason"]
            .as_str()
            .is_none_or(|r| !r.contains("special-values"));
        assert_eq!(case["verified"], expected_ok, "{}", case_key(case));
        assert!(case["machine"].is_string(), "{}", case_key(case));
    }
    for output in ["report.html", "report.md", "results.csv", "definition.toml"] {
        assert!(merged_dir.join(output).is_file(), "no {output}");
    }
    let html = fs::read_to_string(merged_dir.join("report.html")).unwrap();
    assert!(html.contains("part 2/3"), "the environment lists the parts");
}

#[test]
fn parts_of_another_definition_are_refused_and_nothing_is_written() {
    let runs = runs();
    let other = edited_copy(&runs.parts[1], |r| {
        r["shard"]["definition_sha256"] = Value::from("0".repeat(64));
    });
    let (code, stderr, left) = merge_into_fresh(&[&runs.parts[0], other.path()], &["--partial"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("another definition"), "{stderr}");
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_part_planned_on_a_machine_of_another_shape_is_refused() {
    let runs = runs();
    // As if part 1 had run where `threads = ["all"]` meant four cores: its plan has cases the
    // other parts' plans do not, so the split leaves some in no part.
    let other = edited_copy(&runs.parts[1], |r| {
        let cells = r["definition"]["cells"].as_array_mut().unwrap();
        let sizes = cells.iter_mut().find(|c| c["name"] == "sizes").unwrap();
        sizes["threads"] = serde_json::json!([1, 2, 4]);
        r["environment"]["cpu"]["logical_cores"] = Value::from(4);
    });
    let (code, stderr, left) = merge_into_fresh(
        &[&runs.parts[0], other.path(), &runs.parts[2]],
        &["--partial"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("planned other cases than"), "{stderr}");
    assert!(stderr.contains("and 4 logical cores"), "{stderr}");
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_part_given_twice_is_refused_naming_both_folders() {
    let runs = runs();
    let copy = edited_copy(&runs.parts[0], |_| {});
    let (code, stderr, left) = merge_into_fresh(
        &[&runs.parts[0], &runs.parts[1], &runs.parts[2], copy.path()],
        &[],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("part 0/3 is given twice"), "{stderr}");
    assert!(
        stderr.contains(&copy.path().display().to_string()),
        "{stderr}"
    );
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_missing_part_is_named_and_partial_merges_an_incomplete_run() {
    let runs = runs();
    let (code, stderr, left) = merge_into_fresh(&[&runs.parts[0], &runs.parts[2]], &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("a part is missing: part 1/3"), "{stderr}");
    assert!(stderr.contains("--partial"), "{stderr}");
    assert!(left.is_empty(), "{left:?}");
    let (code, stderr, left) = merge_into_fresh(&[&runs.parts[0], &runs.parts[2]], &["--partial"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("part 1/3 is missing"), "{stderr}");
    assert_eq!(left.len(), 1, "one run folder and no temporary: {left:?}");
}

#[test]
fn a_part_still_running_or_interrupted_is_refused() {
    let runs = runs();
    let running = edited_copy(&runs.parts[1], |r| {
        r["finished_at"] = Value::Null;
        r["complete"] = Value::from(false);
    });
    let (code, stderr, _) = merge_into_fresh(&[&runs.parts[0], running.path()], &["--partial"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("still running"), "{stderr}");
    let interrupted = edited_copy(&runs.parts[1], |r| {
        r["interrupted"] = Value::from(true);
        r["complete"] = Value::from(false);
    });
    let (code, stderr, left) =
        merge_into_fresh(&[&runs.parts[0], interrupted.path()], &["--partial"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("was interrupted") && stderr.contains("--resume"),
        "{stderr}"
    );
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn a_run_of_another_schema_or_a_whole_run_is_not_a_part() {
    let runs = runs();
    let older = edited_copy(&runs.parts[1], |r| r["schema"] = Value::from(2));
    let (code, stderr, _) = merge_into_fresh(&[&runs.parts[0], older.path()], &["--partial"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("schema 2"), "{stderr}");
    let (code, stderr, _) = merge_into_fresh(&[&runs.parts[0], &runs.plain], &["--partial"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is not a part"), "{stderr}");
}

#[test]
fn shard_auto_reads_a_slurm_array_task() {
    let runs = runs();
    let out = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = outcome(
        sortmark()
            .args(["-q", "run", DEFINITION, "--shard", "auto", "--out"])
            .arg(out.path())
            .env("SLURM_ARRAY_TASK_ID", "3")
            .env("SLURM_ARRAY_TASK_MIN", "1")
            .env("SLURM_ARRAY_TASK_MAX", "3")
            .output()
            .unwrap(),
    );
    assert_eq!(code, 0, "{stderr}");
    let run = json(&Path::new(stdout.lines().last().unwrap()).join("results.json"));
    assert_eq!(
        run["shard"]["shard"],
        serde_json::json!({"index": 2, "count": 3})
    );
    let part = json(&runs.parts[2].join("results.json"));
    assert_eq!(case_keys(&run), case_keys(&part));
}

#[test]
fn shard_auto_outside_a_job_engine_is_refused() {
    let (code, _, stderr) = outcome(
        sortmark()
            .args(["run", DEFINITION, "--shard", "auto"])
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("JOB_COMPLETION_INDEX")
            .output()
            .unwrap(),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("no job engine"), "{stderr}");
}

/// Copies the plain run's results.json into `archive` as run `index`, its times scaled by
/// `factor` (the interval is left to be made again from the scaled rounds).
fn archived_copy(archive: &Path, index: usize, factor: f64) {
    let mut run = json(&runs().plain.join("results.json"));
    let run_id = format!("20261201T00{index:02}00Z-000{index}");
    run["run_id"] = Value::from(run_id.clone());
    run["started_at"] = Value::from(format!("2026-12-01T00:{index:02}:00Z"));
    for case in run["cases"].as_array_mut().unwrap() {
        case["interval"] = Value::Null;
        for round in case["rounds_s"].as_array_mut().unwrap() {
            for sample in round.as_array_mut().unwrap() {
                *sample = Value::from(sample.as_f64().unwrap() * factor);
            }
        }
    }
    let dir = archive.join("shards").join(run_id);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("results.json"), serde_json::to_vec(&run).unwrap()).unwrap();
}

#[test]
fn history_shows_every_run_and_flags_the_step_where_cases_got_slower() {
    let archive = tempfile::tempdir().unwrap();
    for (index, factor) in [(1, 1.0), (2, 1.0), (3, 3.0)] {
        archived_copy(archive.path(), index, factor);
    }
    let (code, stdout, stderr) = outcome(
        sortmark()
            .args(["history", "shards", "--archive"])
            .arg(archive.path())
            .output()
            .unwrap(),
    );
    assert_eq!(code, 0, "{stderr}");
    let dir = PathBuf::from(stdout.lines().last().unwrap());
    assert_eq!(dir, archive.path().join("shards").join("history"));
    let md = fs::read_to_string(dir.join("history.md")).unwrap();
    assert!(md.contains("3 run(s)"), "{md}");
    for run in ["20261201T000100Z-0001", "20261201T000300Z-0003"] {
        assert!(md.contains(run), "{run} missing");
    }
    assert!(md.contains(r"\#2→\#3: slower"), "{md}");
    assert!(!md.contains(r"\#1→\#2: slower"), "{md}");
    let html = fs::read_to_string(dir.join("history.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("circle class=\"slower\""));
}

#[test]
fn history_of_a_definition_with_no_runs_says_so() {
    let archive = tempfile::tempdir().unwrap();
    let (code, _, stderr) = outcome(
        sortmark()
            .args(["history", "nothing", "--archive"])
            .arg(archive.path())
            .output()
            .unwrap(),
    );
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("no runs of \"nothing\""), "{stderr}");
}
