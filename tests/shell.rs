//! The command line as scripts and shells see it: exit codes, help, version, machine-readable
//! output, quiet and verbose runs, completions, the man page, and the README's account of them.

use std::fs;
use std::path::Path;

use crate::support::{outcome, sortmark};
use serde_json::Value;

/// Runs `sortmark ARGS` in `cwd`: (exit code, stdout, stderr).
fn output_in(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    outcome(sortmark().current_dir(cwd).args(args).output().unwrap())
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

/// Two cases that run and one that the plan skips (special values are floating-point only).
const SMALL: &str = r#"title = "small"
[measure]
warmup = 0
repetitions = 1
rounds = 2
[[cell]]
sweep = { name = "s", backend = "cpu", algorithms = ["std-unstable"], keys = ["u32", "f32"], distributions = ["uniform"], sizes = [64] }
[[cell]]
sweep = { name = "t", backend = "cpu", algorithms = ["std-unstable"], keys = ["u32"], distributions = ["special-values"], sizes = [64] }
"#;

/// A folder holding `small.toml` ([`SMALL`]).
fn small() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("small.toml"), SMALL).unwrap();
    dir
}

#[test]
fn quiet_prints_only_the_run_folder() {
    let dir = small();
    let (code, stdout, stderr) =
        output_in(dir.path(), &["-q", "run", "small.toml", "--out", "archive"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stderr, "", "nothing but errors and warnings on stderr");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        dir.path()
            .join(stdout.trim())
            .join("results.json")
            .is_file()
    );
    // The flag is global: after the subcommand too.
    let (code, stdout, stderr) = output_in(
        dir.path(),
        &["run", "small.toml", "--out", "archive", "--quiet"],
    );
    assert_eq!((code, stdout.lines().count(), stderr.as_str()), (0, 1, ""));
}

#[test]
fn verbose_gives_every_case_a_line_with_its_median_or_reason() {
    let dir = small();
    let (code, _, stderr) = output_in(dir.path(), &["run", "-v", "small.toml", "--out", "archive"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with('[')).collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert_eq!(
        lines.iter().filter(|l| l.contains("2 rounds)")).count(),
        2,
        "{stderr}"
    );
    assert!(lines.iter().any(|l| l.contains("skipped: ")), "{stderr}");
    let (code, _, stderr) = output_in(dir.path(), &["-q", "-v", "check", "small.toml"]);
    assert_eq!(code, 64, "-q and -v together are a usage error: {stderr}");
}

/// The identity of a case in `check --format json` or `results.json`.
fn identity(case: &Value) -> String {
    [
        "sweep",
        "backend",
        "algorithm",
        "key_type",
        "distribution",
        "n",
        "threads",
        "device",
    ]
    .map(|f| case[f].to_string())
    .join("/")
}

#[test]
fn check_as_json_lists_the_cases_a_run_records() {
    let dir = small();
    let (code, stdout, stderr) =
        output_in(dir.path(), &["check", "small.toml", "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let checked: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(checked["valid"], true);
    assert_eq!(checked["definition"], "small.toml");
    assert_eq!(
        (checked["name"].clone(), checked["title"].clone()),
        ("small".into(), "small".into())
    );
    let sweeps = checked["sweeps"].as_array().unwrap();
    assert_eq!(sweeps.len(), 2);
    assert_eq!(
        (
            sweeps[1]["name"].clone(),
            sweeps[1]["cases"].clone(),
            sweeps[1]["skipped"].clone()
        ),
        ("t".into(), 1.into(), 1.into())
    );
    assert_eq!(sweeps[0]["measure"]["rounds"], 2);
    let planned = checked["cases"].as_array().unwrap();
    assert_eq!(planned.len(), 3);
    let skipped: Vec<&Value> = planned.iter().filter(|c| !c["skip"].is_null()).collect();
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0]["skip"]
            .as_str()
            .unwrap()
            .contains("floating-point")
    );
    assert_eq!(skipped[0]["n"], 64);

    let (_, stdout, _) = output_in(dir.path(), &["-q", "run", "small.toml", "--out", "archive"]);
    let results: Value = serde_json::from_str(
        &fs::read_to_string(dir.path().join(stdout.trim()).join("results.json")).unwrap(),
    )
    .unwrap();
    let recorded: Vec<String> = results["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(identity)
        .collect();
    assert_eq!(planned.iter().map(identity).collect::<Vec<_>>(), recorded);
}

#[test]
fn check_as_text_summarizes_each_sweep_and_verbose_lists_every_case() {
    let dir = small();
    let (code, stdout, _) = output_in(dir.path(), &["check", "small.toml"]);
    assert_eq!(code, 0);
    assert!(
        stdout.starts_with("small.toml: valid, 3 cases in 2 sweeps, 1 skipped by the plan\n"),
        "{stdout}"
    );
    assert!(stdout.contains("s (cpu): 2 cases\n"), "{stdout}");
    assert!(stdout.contains("  keys           u32, f32\n"), "{stdout}");
    assert!(
        stdout.contains("  skipped        1 × the special-values distribution"),
        "{stdout}"
    );
    let (code, stdout, _) = output_in(dir.path(), &["check", "-v", "small.toml"]);
    assert_eq!(code, 0);
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains("std-unstable"))
        .collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    assert!(
        rows[2].contains("special-values") && rows[2].contains("floating-point"),
        "{stdout}"
    );
}

#[test]
fn check_as_json_locates_each_problem_of_an_invalid_definition() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("bad.toml"), "title = \"t\"\nseed = \"x\"\n").unwrap();
    let (code, stdout, stderr) = output_in(dir.path(), &["check", "bad.toml", "--format", "json"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("bad.toml:2:8:"),
        "the text stays on stderr: {stderr}"
    );
    let checked: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(checked["valid"], false);
    let error = &checked["errors"][0];
    assert_eq!(
        (
            error["path"].clone(),
            error["line"].clone(),
            error["column"].clone()
        ),
        ("bad.toml".into(), 2.into(), 8.into())
    );
    assert!(
        error["message"].as_str().unwrap().contains("invalid type"),
        "{error}"
    );
    assert!(checked.get("cases").is_none());

    let (code, stdout, _) = output_in(dir.path(), &["check", "missing.toml", "--format", "json"]);
    assert_eq!(code, 2);
    let checked: Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        checked["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("could not read definition missing.toml")
    );
}

#[test]
fn list_as_json_gives_each_run_with_its_folder_and_counts() {
    let dir = small();
    let (_, stdout, _) = output_in(dir.path(), &["-q", "run", "small.toml", "--out", "archive"]);
    let run_dir = stdout.trim().to_string();
    // A run folder whose results cannot be read is listed too, with why.
    let broken = dir.path().join("archive/small/20000101T000000Z-0000");
    fs::create_dir_all(&broken).unwrap();
    fs::write(broken.join("results.json"), "{").unwrap();

    let (code, stdout, stderr) = output_in(
        dir.path(),
        &["list", "--out", "archive", "--format", "json"],
    );
    assert_eq!(code, 0, "{stderr}");
    let listing: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(listing["root"], "archive");
    let runs = listing["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let run = &runs[0];
    assert_eq!(Path::new(run["dir"].as_str().unwrap()), Path::new(&run_dir));
    assert_eq!(
        (
            run["name"].clone(),
            run["status"].clone(),
            run["title"].clone()
        ),
        ("small".into(), "complete".into(), "small".into())
    );
    assert_eq!(
        (
            run["ok"].clone(),
            run["skipped"].clone(),
            run["failed"].clone()
        ),
        (2.into(), 1.into(), 0.into())
    );
    assert!(run["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(run["logical_cores"].as_u64().unwrap() >= 1);
    assert!(run["gpus"].is_array() && run["error"].is_null());
    let broken = &runs[1];
    assert_eq!(broken["status"], "unreadable");
    assert!(
        broken["error"].as_str().unwrap().contains("not valid JSON"),
        "{broken}"
    );

    let (code, stdout, _) = output_in(
        dir.path(),
        &["list", "--out", "nowhere", "--format", "json"],
    );
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap()["runs"],
        Value::Array(Vec::new())
    );
}

/// The subcommands, as `sortmark --help` lists them.
fn subcommands() -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let (_, help, _) = output_in(dir.path(), &["--help"]);
    let listed = help
        .split("Commands:\n")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .expect("a Commands section");
    listed
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_shell_gets_a_completion_script() {
    let dir = tempfile::tempdir().unwrap();
    let (code, bash, _) = output_in(dir.path(), &["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(bash.contains("complete -F _sortmark"), "{bash}");
    let names = subcommands();
    assert!(names.len() >= 9, "{names:?}");
    for name in &names {
        assert!(
            bash.contains(&format!("sortmark,{name})")),
            "{name} is not completed"
        );
    }
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let (code, script, _) = output_in(dir.path(), &["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(
            script.contains("sortmark") && script.contains("reproduce"),
            "{shell}"
        );
    }
    let (code, _, _) = output_in(dir.path(), &["completions", "tcsh"]);
    assert_eq!(code, 64);
}

/// Sources the bash script in a real bash and asks it to complete `words` (the last one being
/// completed): the candidates it offers.
#[cfg(unix)]
fn bash_completes(words: &[&str]) -> Option<Vec<String>> {
    let bin = assert_cmd::cargo::cargo_bin("sortmark");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let script = format!(
        r#"source <("{bin}" completions bash) || exit 3
complete -p sortmark >/dev/null || exit 4
COMP_WORDS=({words})
COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1))
COMP_LINE="${{COMP_WORDS[*]}}"
COMP_POINT=${{#COMP_LINE}}
_sortmark sortmark "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#,
        bin = bin.display(),
        words = quoted.join(" ")
    );
    let output = std::process::Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &script])
        .output()
        .ok()?;
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect(),
    )
}

#[cfg(unix)]
#[test]
fn bash_completes_subcommands_flags_and_their_values() {
    let Some(first) = bash_completes(&["sortmark", ""]) else {
        return; // No bash on this machine.
    };
    for name in subcommands() {
        assert!(first.contains(&name), "{name} is not offered: {first:?}");
    }
    assert_eq!(bash_completes(&["sortmark", "ch"]).unwrap(), ["check"]);
    let run = bash_completes(&["sortmark", "run", "--"]).unwrap();
    for flag in ["--only", "--set", "--resume", "--out", "--quiet"] {
        assert!(run.contains(&flag.to_string()), "{flag}: {run:?}");
    }
    assert_eq!(
        bash_completes(&["sortmark", "list", "--format", ""]).unwrap(),
        ["text", "json"]
    );
}

#[test]
fn the_man_page_documents_the_subcommands_and_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let (code, page, _) = output_in(dir.path(), &["man"]);
    assert_eq!(code, 0);
    assert!(page.contains(".TH sortmark 1"), "{page}");
    for name in subcommands() {
        assert!(page.contains(&format!("sortmark\\-{name}(1)")), "{name}");
    }
    assert!(
        page.contains("Exit codes:") && page.contains("64   usage error"),
        "{page}"
    );

    let (code, stdout, _) = output_in(dir.path(), &["man", "--out", "pages"]);
    assert_eq!(code, 0);
    for name in subcommands() {
        let page = dir.path().join("pages").join(format!("sortmark-{name}.1"));
        assert!(page.is_file(), "{}", page.display());
        assert!(stdout.contains(&format!("sortmark-{name}.1")), "{stdout}");
    }
    let run_page = fs::read_to_string(dir.path().join("pages/sortmark-run.1")).unwrap();
    assert!(run_page.contains("\\-\\-only"), "{run_page}");
}

/// The README's "The command line" section, up to the next top-level section.
fn readme_cli_section() -> String {
    let readme =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("\n## The command line\n")
        .expect("the README has a command-line section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_string()
}

/// The `sortmark …` lines of the section's shell blocks.
fn readme_command_lines(section: &str) -> Vec<String> {
    section
        .split("```sh\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .flat_map(str::lines)
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| l.starts_with("sortmark "))
        .map(str::to_string)
        .collect()
}

#[test]
fn the_readme_names_every_subcommand_and_only_flags_that_exist() {
    let section = readme_cli_section();
    let names = subcommands();
    for name in &names {
        assert!(
            section.contains(&format!("sortmark {name}")),
            "the README's command-line section does not show `sortmark {name}`"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let (_, top_help, _) = output_in(dir.path(), &["--help"]);
    let lines = readme_command_lines(&section);
    assert!(lines.len() >= names.len(), "{lines:?}");
    for line in lines {
        let words: Vec<&str> = line.split_whitespace().skip(1).collect();
        let sub = words.iter().find(|w| !w.starts_with('-')).copied();
        let help = match sub {
            Some(sub) => {
                assert!(
                    names.iter().any(|n| n == sub),
                    "`{line}`: no subcommand `{sub}`"
                );
                output_in(dir.path(), &[sub, "--help"]).1
            }
            None => top_help.clone(),
        };
        for flag in words.iter().filter(|w| w.starts_with('-')) {
            let flag = flag.split('=').next().unwrap();
            assert!(help.contains(flag), "`{line}`: {flag} is not in its --help");
        }
    }
}

#[test]
fn the_readme_and_the_help_list_the_same_exit_codes() {
    let section = readme_cli_section();
    let readme_codes: Vec<&str> = section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|c| c.parse::<u8>().is_ok())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let (_, help, _) = output_in(dir.path(), &["--help"]);
    let help_codes: Vec<&str> = help
        .split("Exit codes:\n")
        .nth(1)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| c.parse::<u8>().is_ok())
        .collect();
    assert_eq!(readme_codes, help_codes);
}

/// Three CPU sorts on sorted and uniform keys, on one and two threads; a second sweep whose
/// only case is skipped.
const LEADERS: &str = r#"title = "leaders"
[measure]
warmup = 0
repetitions = 1
rounds = 3
[[cell]]
sweep = { name = "algos", backend = "cpu", algorithms = ["std-unstable", "rayon-unstable", "radix"], keys = ["u32"], distributions = ["sorted", "uniform"], sizes = [2048], threads = [1, 2] }
[[cell]]
sweep = { name = "floats", backend = "cpu", algorithms = ["std-unstable"], keys = ["u32"], distributions = ["special-values"], sizes = [64] }
"#;

#[test]
fn a_run_on_a_dumb_terminal_prints_its_leaders_then_its_checks_then_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("leaders.toml"), LEADERS).unwrap();
    let (code, stdout, stderr) = outcome(
        sortmark()
            .current_dir(dir.path())
            .env("TERM", "dumb")
            .env("NO_COLOR", "1")
            .args(["run", "leaders.toml", "--out", "archive"])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let folder = dir.path().join(lines.last().expect("a last line"));
    let results = crate::support::json(&folder.join("results.json"));
    // Every case gets a plain progress line where no bar can be drawn; nothing moves the cursor.
    let planned = results["cases"].as_array().unwrap().len();
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with('[')).count(),
        planned,
        "{stderr}"
    );
    assert!(!format!("{stdout}{stderr}").contains('\u{1b}'));
    // The table compares the sorts on the main input (uniform, not sorted), best first.
    let heading = lines
        .iter()
        .position(|l| *l == "algos: u32 uniform 2^11 keys")
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(lines[heading + 1].contains("Time vs best"), "{stdout}");
    let rows: Vec<&str> = lines[heading + 3..heading + 6].to_vec();
    assert!(rows[0].trim_end().ends_with("1.00×"), "{stdout}");
    for algorithm in ["std-unstable", "rayon-unstable", "radix"] {
        assert!(
            rows.iter().any(|r| r.trim_start().starts_with(algorithm)),
            "{algorithm}: {stdout}"
        );
    }
    assert!(lines.contains(&"floats: no verified results"), "{stdout}");
    // Then every check that failed or warned, one line each, after the tables.
    let flagged: Vec<String> = results["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["status"] == "fail" || c["status"] == "warn")
        .map(|c| {
            format!(
                "{:<4}  {}: ",
                c["status"].as_str().unwrap().to_uppercase(),
                c["component"].as_str().unwrap()
            )
        })
        .collect();
    let check_lines: Vec<usize> = (0..lines.len())
        .filter(|i| lines[*i].starts_with("WARN  ") || lines[*i].starts_with("FAIL  "))
        .collect();
    assert_eq!(check_lines.len(), flagged.len(), "{stdout}");
    for prefix in &flagged {
        assert!(
            lines.iter().any(|l| l.starts_with(prefix)),
            "{prefix}: {stdout}"
        );
    }
    assert!(check_lines.iter().all(|i| *i > heading + 5), "{stdout}");
}

#[test]
fn failed_reasons_show_without_a_terminal_even_when_quiet() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("failing.toml"), ONE_FAILING_PEER).unwrap();
    let (code, stdout, stderr) = outcome(
        sortmark()
            .current_dir(dir.path())
            .env_remove("TERM")
            .args(["-q", "run", "failing.toml", "--out", "archive"])
            .output()
            .unwrap(),
    );
    assert_eq!(code, 1, "{stderr}");
    let failed = stderr
        .lines()
        .find(|l| l.contains("FAILED: "))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(failed.contains("exit status: 1"), "{failed}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
}
