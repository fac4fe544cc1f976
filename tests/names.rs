//! Names that become files: definition names that would put a run outside `--out`, and
//! temporary files that a planted link or a killed process could turn against sortmark.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// A definition of one tiny case, measured once.
const ONE_CASE: &str = r#"title = "One case"
[measure]
warmup = 0
repetitions = 1
rounds = 1
[[cell]]
sweep = { name = "s", backend = "cpu", algorithms = ["std-unstable"], sizes = [64] }
"#;

fn sortmark() -> Command {
    Command::cargo_bin("sortmark").expect("the sortmark binary is built")
}

/// Runs `definition` into the archive `out`; returns the run folder it printed last.
fn run(definition: &Path, out: &Path) -> PathBuf {
    let output = sortmark()
        .arg("run")
        .arg(definition)
        .arg("--out")
        .arg(out)
        .assert()
        .success();
    let stdout = String::from_utf8(output.get_output().stdout.clone()).unwrap();
    PathBuf::from(
        stdout
            .lines()
            .last()
            .expect("the run folder on the last line"),
    )
}

#[test]
fn a_definition_named_dot_dot_runs_inside_the_archive_and_is_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("archive");
    for file in ["...toml", "..toml", "a)b.toml"] {
        let definition = tmp.path().join(file);
        fs::write(&definition, ONE_CASE).unwrap();
        let dir = run(&definition, &out);
        let inside = dir.canonicalize().unwrap();
        let root = out.canonicalize().unwrap();
        assert!(
            inside.parent().and_then(Path::parent) == Some(root.as_path()),
            "{file}: the run landed in {}, not in ROOT/<name>/<run-id>",
            inside.display()
        );
    }
    let listed = sortmark()
        .arg("list")
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8(listed.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout.matches("One case").count(), 3, "{stdout}");
    let entries: Vec<_> = fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(
        entries.len(),
        4,
        "three definitions and the archive, nothing beside them"
    );
}
