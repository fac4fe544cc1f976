//! Memory limits: a case larger than the memory the process may take is skipped with the limit
//! named, and the run and its resume go on, where an allocation past the limit aborted both.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// The address-space limit the runs below are held to.
const LIMIT_BYTES: u64 = 3 << 29; // 1.5 GiB

/// A definition with one small case and one whose two 1 GiB buffers cannot fit the limit.
const DEFINITION: &str = r#"
title = "Memory limits"
seed = 1

[measure]
rounds = 1
warmup = 0
repetitions = 1
min_time = 0
max_repetitions = 1

[[cell]]
sweep = { name = "sizes", backend = "cpu", algorithms = ["std-unstable"], keys = ["u64"], sizes = ["2^10", "2^27"], threads = [1] }
"#;

/// sortmark with `args`, its address space limited to [`LIMIT_BYTES`]: (exit code, stdout).
fn limited_sortmark(args: &[&str]) -> (Option<i32>, String) {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("sortmark"));
    command.args(args);
    // SAFETY: setrlimit is async-signal-safe, and the closure touches nothing else.
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: LIMIT_BYTES,
                rlim_max: LIMIT_BYTES,
            };
            match libc::setrlimit(libc::RLIMIT_AS, &limit) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        });
    }
    let output = command.output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[test]
fn a_case_past_the_address_space_limit_is_skipped_and_the_run_and_its_resume_go_on() {
    let root = tempfile::tempdir().unwrap();
    let definition = root.path().join("limits.toml");
    fs::write(&definition, DEFINITION).unwrap();
    let out = root.path().join("archive");
    let (code, stdout) = limited_sortmark(&[
        "run",
        definition.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    // Before, the 2^27 case aborted the run (SIGABRT, no exit code).
    assert_eq!(code, Some(0), "{stdout}");
    let folder = stdout.lines().last().unwrap().trim();
    let results = crate::support::json(&Path::new(folder).join("results.json"));
    let cases = results["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0]["status"], "ok");
    assert_eq!(cases[1]["status"], "skipped");
    let reason = cases[1]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("needs 2.0 GiB of host memory but only ")
            && reason.ends_with(" is available under the address-space limit (RLIMIT_AS)"),
        "{reason}"
    );
    // A resume under the same limit ends normally too.
    let (code, stdout) = limited_sortmark(&["run", "--resume", folder]);
    assert!(code.is_some_and(|c| c != 134), "{code:?} {stdout}");
}
