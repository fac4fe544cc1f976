//! Runs of one definition on several machines side by side (`sortmark machines`): real small
//! CPU runs of tests/fixtures/shards.toml, the second's environment edited to another host.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde_json::Value;

use crate::support::{json, outcome, run_folder, sortmark};

const DEFINITION: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/shards.toml");

/// Two runs of the definition, the second as if from host-b with another CPU; made once.
struct Runs {
    root: tempfile::TempDir,
    first: PathBuf,
    second: PathBuf,
}

fn runs() -> &'static Runs {
    static RUNS: OnceLock<Runs> = OnceLock::new();
    RUNS.get_or_init(|| {
        let root = tempfile::tempdir().unwrap();
        let archive = root.path().join("archive");
        let out = archive.to_str().unwrap();
        let first = run_folder(&["-q", "run", DEFINITION, "--out", out]);
        let second = run_folder(&["-q", "run", DEFINITION, "--out", out]);
        edit_results(&second, |results| {
            results["environment"]["os"]["hostname"] = "host-b".into();
            results["environment"]["cpu"]["model"] = "Other CPU 9000".into();
        });
        Runs {
            root,
            first,
            second,
        }
    })
}

/// Loads a run's results.json, changes it and writes it back.
fn edit_results(run: &Path, edit: impl FnOnce(&mut Value)) {
    let path = run.join("results.json");
    let mut results = json(&path);
    edit(&mut results);
    fs::write(&path, serde_json::to_string_pretty(&results).unwrap()).unwrap();
}

/// A fresh output folder's path (not created).
fn out_dir(name: &str) -> PathBuf {
    runs().root.path().join(name)
}

/// `sortmark machines ARGS`: (exit code, stdout, stderr).
fn machines(args: &[&Path]) -> (i32, String, String) {
    outcome(sortmark().arg("machines").args(args).output().unwrap())
}

#[test]
fn both_machines_are_side_by_side_with_the_comparisons_verdicts() {
    let runs = runs();
    let out = out_dir("side-by-side");
    let (code, stdout, stderr) = machines(&[&runs.first, &runs.second, Path::new("--out"), &out]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[1], out.to_str().unwrap());
    let base = json(&runs.first.join("results.json"));
    let base_label = format!(
        "{} {}",
        base["environment"]["cpu"]["model"].as_str().unwrap(),
        base["environment"]["os"]["hostname"].as_str().unwrap()
    );
    assert!(
        lines[0].starts_with(&format!(
            "Other CPU 9000 host-b vs {base_label}: median ratio "
        )),
        "{stdout}"
    );

    // The verdict counts are the comparison's, case for case.
    let compare_out = out_dir("compare");
    let (code, _, stderr) = outcome(
        sortmark()
            .args(["-q", "compare"])
            .args([&runs.first, &runs.second])
            .arg("--out")
            .arg(&compare_out)
            .output()
            .unwrap(),
    );
    assert!(code <= 1, "{stderr}");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for case in json(&compare_out.join("compare.json"))["cases"]
        .as_array()
        .unwrap()
    {
        *counts
            .entry(case["verdict"].as_str().unwrap().replace('_', " "))
            .or_default() += 1;
    }
    for (verdict, count) in &counts {
        assert!(
            lines[0].contains(&format!("{count} {verdict}")),
            "{verdict}: {count} in {stdout}"
        );
    }
    assert_eq!(counts.values().sum::<usize>(), 14, "{counts:?}");

    // Per sweep: a column per machine and the ratio column, a plot each.
    let md = fs::read_to_string(out.join("machines.md")).unwrap();
    let header = format!(
        "| \\# | Case | {base_label} | Other CPU 9000 host-b | Other CPU 9000 host-b / {base_label} |"
    );
    assert_eq!(md.matches(&header).count(), 2, "{md}");
    assert!(
        md.contains("| 1 | std-unstable u32 uniform 500 t=1 |"),
        "{md}"
    );
    let html = fs::read_to_string(out.join("machines.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 2);
    for sweep in ["sizes", "special"] {
        let png = fs::read(out.join(format!("machines-plots/{sweep}.png"))).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "{sweep}");
    }

    // The folder is never overwritten.
    let (code, _, stderr) = machines(&[&runs.first, &runs.second, Path::new("--out"), &out]);
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("already exists"), "{stderr}");
}

#[test]
fn runs_on_one_host_are_told_apart_by_their_run_ids() {
    let runs = runs();
    // A copy of the first run under another id: the same host and CPU.
    let copy = runs.root.path().join("copy");
    fs::create_dir(&copy).unwrap();
    fs::copy(runs.first.join("results.json"), copy.join("results.json")).unwrap();
    edit_results(&copy, |results| results["run_id"] = "copy-of-first".into());
    let out = out_dir("one-host");
    let (code, stdout, stderr) = machines(&[&runs.first, &copy, Path::new("--out"), &out]);
    assert_eq!(code, 0, "{stderr}");
    let first_id = runs.first.file_name().unwrap().to_str().unwrap();
    let line = stdout.lines().next().unwrap();
    assert!(
        line.contains("(copy-of-first) vs ") && line.contains(&format!("({first_id}):")),
        "{line}"
    );
    // The same samples: every case with an interval is the same.
    assert!(
        !line.contains("faster") && !line.contains("slower"),
        "{line}"
    );
}

#[test]
fn the_default_folder_is_under_the_first_run() {
    let runs = runs();
    let third = runs.root.path().join("third");
    fs::create_dir(&third).unwrap();
    fs::copy(runs.second.join("results.json"), third.join("results.json")).unwrap();
    edit_results(&third, |results| results["run_id"] = "../../escape".into());
    let (code, stdout, stderr) = machines(&[Path::new("-q"), &runs.first, &third]);
    assert_eq!(
        stdout.lines().count(),
        1,
        "-q prints the folder alone: {stdout}"
    );
    assert_eq!(code, 0, "{stderr}");
    let dir = PathBuf::from(stdout.lines().last().unwrap());
    assert_eq!(dir.parent(), Some(runs.first.as_path()), "{stdout}");
    assert!(dir.join("machines.html").is_file());
}

#[test]
fn runs_that_cannot_stand_side_by_side_are_refused_and_nothing_is_written() {
    let runs = runs();
    let out = out_dir("refused");

    let (code, _, stderr) = machines(&[&runs.first, Path::new("--out"), &out]);
    assert_eq!(code, 64, "{stderr}");
    assert!(stderr.contains("2 values required"), "{stderr}");

    let (code, _, stderr) = machines(&[&runs.first, &runs.first, Path::new("--out"), &out]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("with itself"), "{stderr}");

    let other_def = runs.root.path().join("other.toml");
    let text = fs::read_to_string(DEFINITION).unwrap();
    fs::write(
        &other_def,
        text.replace("title = \"Shards\"", "title = \"Other\""),
    )
    .unwrap();
    let archive = runs.root.path().join("other-archive");
    let other = run_folder(&[
        "-q",
        "run",
        other_def.to_str().unwrap(),
        "--only",
        "special",
        "--out",
        archive.to_str().unwrap(),
    ]);
    let (code, _, stderr) =
        machines(&[&runs.first, &runs.second, &other, Path::new("--out"), &out]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot compare runs of different definitions: the title differs"),
        "{stderr}"
    );
    assert!(!out.exists());
}
