//! Names that become files: definition names that would put a run outside `--out`, and
//! temporary files that a planted link or a killed process could turn against sortmark.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::sortmark;

/// A definition of one tiny case, measured once.
const ONE_CASE: &str = r#"title = "One case"
[measure]
warmup = 0
repetitions = 1
rounds = 1
[[cell]]
sweep = { name = "s", backend = "cpu", algorithms = ["std-unstable"], sizes = [64] }
"#;

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

#[cfg(unix)]
#[test]
fn a_link_planted_at_the_old_temporary_name_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("victim.txt");
    fs::write(&victim, "precious").unwrap();
    // sortmark once wrote `.<name>.tmp-<pid>`: anyone could plant a link at that name.
    let planted = dir
        .path()
        .join(format!(".results.json.tmp-{}", std::process::id()));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    sortmark::record::archive::write_atomic(&dir.path().join("results.json"), b"{}").unwrap();
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    assert_eq!(
        fs::read_to_string(dir.path().join("results.json")).unwrap(),
        "{}"
    );
}

#[test]
fn render_removes_the_temporaries_a_killed_render_left() {
    let tmp = tempfile::tempdir().unwrap();
    let definition = tmp.path().join("one.toml");
    fs::write(&definition, ONE_CASE).unwrap();
    let dir = run(&definition, &tmp.path().join("archive"));
    // No process has an id this large (Linux allows at most 2^22).
    let dead = 2_000_000_000u32;
    let left = [
        dir.join(format!(".report.html.tmp-{dead}-00112233")),
        dir.join(format!(".results.json.tmp-{dead}")),
        dir.join("plots")
            .join(format!(".s-keys-per-s.png.tmp-{dead}-44556677")),
    ];
    for path in &left {
        fs::write(path, "half a file").unwrap();
    }
    sortmark().arg("render").arg(&dir).assert().success();
    for path in &left {
        assert!(!path.exists(), "{} is still there", path.display());
    }
    assert!(dir.join("report.html").is_file());
}

#[cfg(unix)]
#[test]
fn a_plots_folder_planted_as_a_link_is_refused_and_its_target_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let definition = tmp.path().join("one.toml");
    fs::write(&definition, ONE_CASE).unwrap();
    let dir = run(&definition, &tmp.path().join("archive"));
    let elsewhere = tmp.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    fs::write(elsewhere.join("precious.png"), "precious").unwrap();
    fs::remove_dir_all(dir.join("plots")).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("plots")).unwrap();
    let render = sortmark().arg("render").arg(&dir).output().unwrap();
    assert_eq!(render.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&render.stderr).contains("symbolic link"));
    let left: Vec<_> = fs::read_dir(&elsewhere).unwrap().collect();
    assert_eq!(left.len(), 1);
    assert_eq!(
        fs::read_to_string(elsewhere.join("precious.png")).unwrap(),
        "precious"
    );
}
