//! The command line as scripts and shells see it: exit codes, help and version.

use std::fs;
use std::path::Path;

use assert_cmd::Command;

fn sortmark() -> Command {
    Command::cargo_bin("sortmark").expect("the sortmark binary is built")
}

/// Runs `sortmark ARGS` in `cwd`: (exit code, stdout, stderr).
fn output_in(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    let output = sortmark().current_dir(cwd).args(args).output().unwrap();
    (
        output.status.code().expect("an exit code, not a signal"),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// A definition with one tiny sweep of sortmark's own sort, and one of a peer that fails.
const ONE_FAILING_PEER: &str = r#"title = "exit codes"
[measure]
warmup = 0
repetitions = 1
rounds = 2
[[cell]]
sweep = { name = "own", backend = "cpu", algorithms = ["std-unstable"], sizes = [8] }
[[cell]]
sweep = { name = "peer", backend = "command", algorithms = ["x"], sizes = [8], command = "sh -c 'exit 1'" }
"#;

/// Every exit code that the top-level help lists, caused on purpose (130, an interrupted run,
/// is in `reliability.rs`).
#[test]
fn each_exit_code_means_one_thing() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    fs::write(
        dir.path().join("good.toml"),
        ONE_FAILING_PEER.replace("exit 1", "exit 0"),
    )
    .unwrap();
    fs::write(dir.path().join("failing.toml"), ONE_FAILING_PEER).unwrap();
    fs::write(dir.path().join("bad.toml"), "title = 5\n").unwrap();
    let cases: [(&[&str], i32, &str); 12] = [
        (&["check", &path("good.toml")], 0, "a valid definition"),
        (&["--help"], 0, "help"),
        (&["run", "--help"], 0, "a subcommand's help"),
        (&["--version"], 0, "the version"),
        (
            &["run", &path("failing.toml"), "--out", &path("archive")],
            1,
            "a failed case",
        ),
        (&["check", &path("bad.toml")], 2, "an invalid definition"),
        (&["check", &path("missing.toml")], 2, "a missing definition"),
        (&["render", &path("no-such-run")], 3, "a missing run folder"),
        (&["no-such-command"], 64, "an unknown subcommand"),
        (&["list", "--no-such-flag"], 64, "an unknown flag"),
        (&["compare", &path("a")], 64, "a missing argument"),
        (&[], 64, "no subcommand"),
    ];
    for (args, code, what) in cases {
        let (actual, _, stderr) = output_in(dir.path(), args);
        assert_eq!(actual, code, "{what}: sortmark {args:?}\n{stderr}");
    }
}

#[test]
fn a_usage_error_says_what_is_wrong_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, stderr) = output_in(dir.path(), &["compare", "a", "b", "--threshold", "x"]);
    assert_eq!(code, 64);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("`x` is not a percentage"), "{stderr}");
    assert!(stderr.contains("--help"), "{stderr}");
}

#[test]
fn the_help_lists_every_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let (_, help, _) = output_in(dir.path(), &["--help"]);
    let codes = help
        .split("Exit codes:")
        .nth(1)
        .expect("an exit code section");
    for code in ["0", "1", "2", "3", "64", "130"] {
        assert!(
            codes
                .lines()
                .any(|l| l.trim_start().starts_with(&format!("{code} "))),
            "{code} is missing from:\n{codes}"
        );
    }
}

#[test]
fn the_version_names_the_commit_it_was_built_from() {
    let dir = tempfile::tempdir().unwrap();
    let (code, stdout, _) = output_in(dir.path(), &["--version"]);
    assert_eq!(code, 0);
    let prefix = format!("sortmark {} (", env!("CARGO_PKG_VERSION"));
    assert!(stdout.starts_with(&prefix), "{stdout}");
    let commit = env!("SORTMARK_GIT_COMMIT");
    let expected = match commit {
        "unknown" => "commit unknown".to_string(),
        _ => format!("{} 20", &commit[..7]),
    };
    assert!(stdout[prefix.len()..].starts_with(&expected), "{stdout}");
    assert!(stdout.trim_end().ends_with(')'), "{stdout}");
}
