//! Helpers every topic's tests share: the binary, its outcome, JSON files and executables.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

/// The sortmark binary under test.
pub fn sortmark() -> Command {
    Command::cargo_bin("sortmark").expect("the sortmark binary is built")
}

/// A finished command as (exit code, stdout, stderr).
pub fn outcome(output: Output) -> (i32, String, String) {
    (
        output.status.code().expect("an exit code, not a signal"),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

/// A JSON file, parsed.
pub fn json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// Marks a peer script executable.
#[cfg(unix)]
pub fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs sortmark with `args` and returns the run folder it printed last, checking it succeeded.
pub fn run_folder(args: &[&str]) -> PathBuf {
    let (code, stdout, stderr) = outcome(sortmark().args(args).output().unwrap());
    assert_eq!(code, 0, "{args:?}: {stderr}");
    PathBuf::from(stdout.lines().last().expect("the run folder"))
}
