//! The command backend end to end: fake peers (small shell scripts) that report well, fail,
//! print garbage, hang, are missing, report an unverified output or skip; each case must be
//! recorded with its status and reason, and the run must finish with sortmark's own cases run.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::make_executable;
use assert_cmd::Command;
use serde_json::Value;

/// A peer that checks its input file holds `n` u32 keys, then reports two samples.
const GOOD: &str = r#"#!/bin/sh
# args: n input checksum algorithm
size=$(wc -c < "$2")
if [ "$size" -ne $(( $1 * 4 )) ]; then echo "input holds $size bytes" >&2; exit 1; fi
echo "sorting $1 keys, checksum $3"
echo '{"protocol": 1, "samples_s": [0.002, 0.001], "timing": "host-clock", "verified": true, "verification": {"sorted": true, "checksum_matches": true}, "library": {"name": "fakesort", "version": "1.2"}, "notes": ["algorithm '"$4"'", "input '"$2"'"], "future_field": {"x": 1}}'
"#;

const EXIT_1: &str = "#!/bin/sh\necho 'some output'\necho 'first complaint' >&2\necho 'CUDA out of memory' >&2\nexit 1\n";
const GARBAGE: &str = "#!/bin/sh\necho 'Sorted in 0.1 s!'\necho 'a warning' >&2\n";
const HANG: &str = "#!/bin/sh\necho started\nsleep 60\necho never\n";
const UNVERIFIED: &str = r#"#!/bin/sh
echo '{"protocol": 1, "samples_s": [0.001], "timing": "cuda-events", "verified": false, "verification": {"sorted": false, "checksum_matches": true}}'
"#;
const HUGE: &str = r#"#!/bin/sh
echo '{"protocol": 1, "samples_s": [1.7e308, 1.7e308], "timing": "host-clock", "verified": true}'
"#;
/// A peer that starts a grandchild in a session of its own (out of the peer's process group),
/// notes its pid, and hangs.
const ESCAPES_AND_HANGS: &str = r#"#!/bin/sh
rm -f escaped.pid
setsid sh -c 'echo $$ > escaped.pid; exec sleep 60' > /dev/null 2>&1 &
while [ ! -s escaped.pid ]; do sleep 0.01; done
sleep 60
"#;
/// A peer that prints a good report and exits 0, leaving a sleeper (in a session of its own)
/// holding its stdout.
const EXITS_LEAVING_STDOUT_OPEN: &str = r#"#!/bin/sh
rm -f sleeper.pid
echo '{"protocol": 1, "samples_s": [0.001, 0.002], "timing": "host-clock", "verified": true}'
setsid sh -c 'echo $$ > sleeper.pid; exec sleep 60' &
while [ ! -s sleeper.pid ]; do sleep 0.01; done
exit 0
"#;
/// A protocol 2 peer that copies its input to its output as it is, and claims it verified.
const COPIES: &str = r#"#!/bin/sh
# args: input output
cp "$1" "$2"
echo '{"protocol": 2, "samples_s": [0.001, 0.002], "timing": "host-clock", "verified": true, "verification": {"sorted": true, "checksum_matches": true}}'
"#;
/// A protocol 2 peer that writes nothing to its output.
const WRITES_NOTHING: &str = r#"#!/bin/sh
echo '{"protocol": 2, "samples_s": [0.001, 0.002], "timing": "host-clock", "verified": true}'
"#;
const SKIP: &str = "#!/bin/sh\necho '{\"protocol\": 1, \"skip\": \"f16 is not supported\"}'\n";

/// A folder holding a definition and its peers, run by sortmark.
struct Bench {
    dir: tempfile::TempDir,
}

impl Bench {
    fn new(peers: &[(&str, &str)]) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("peers")).unwrap();
        for (name, script) in peers {
            let path = dir.path().join("peers").join(name);
            fs::write(&path, script).unwrap();
            make_executable(&path);
        }
        Bench { dir }
    }

    /// Runs a definition made of `cells`; returns its cases and how long the run took.
    fn run(&self, cells: &str) -> (Vec<Value>, Duration) {
        let def = self.dir.path().join("def.toml");
        fs::write(
            &def,
            format!("title = \"peers\"\nseed = 3\n[measure]\nwarmup = 0\nrepetitions = 2\n{cells}"),
        )
        .unwrap();
        let out = self.dir.path().join("archive");
        let started = Instant::now();
        // Run from the folder above, naming the definition by a relative path: peer paths are
        // relative to the definition, not to the caller, and the peer runs in the definition's
        // folder.
        let parent = self.dir.path().parent().unwrap();
        let relative = def.strip_prefix(parent).unwrap();
        let output = Command::cargo_bin("sortmark")
            .unwrap()
            .current_dir(parent)
            .args([
                "run",
                relative.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        let folder = PathBuf::from(stdout.lines().last().unwrap_or_else(|| panic!("{stderr}")));
        let run: Value =
            serde_json::from_str(&fs::read_to_string(folder.join("results.json")).unwrap())
                .unwrap();
        assert_eq!(run["complete"], true, "{stderr}");
        (run["cases"].as_array().unwrap().clone(), elapsed)
    }
}

/// A command sweep cell over one size.
fn sweep(name: &str, command: &str, extra: &str) -> String {
    format!(
        "[[cell]]\nsweep = {{ name = \"{name}\", backend = \"command\", algorithms = [\"fake\"], sizes = [1000], command = \"{command}\"{extra} }}\n"
    )
}

fn one(bench: &Bench, peer: &str, extra: &str) -> (Value, Duration) {
    let (cases, elapsed) = bench.run(&sweep("peer", &format!("peers/{peer}"), extra));
    assert_eq!(cases.len(), 1);
    (cases[0].clone(), elapsed)
}

fn reason(case: &Value) -> &str {
    case["reason"].as_str().unwrap_or("")
}

#[test]
fn a_good_peer_is_measured_with_its_library_and_timing() {
    let bench = Bench::new(&[("good.sh", GOOD)]);
    let (cases, _) = bench.run(&sweep(
        "peer",
        "peers/good.sh {n} {input} {checksum} {algorithm}",
        "",
    ));
    let case = &cases[0];
    assert_eq!(case["status"], "ok", "{case}");
    assert_eq!(case["verified"], true);
    // The peer's two samples in each of the default six rounds.
    assert_eq!(
        case["samples_s"],
        serde_json::json!([0.002, 0.001].repeat(6))
    );
    assert_eq!(case["timing"], "host-clock");
    assert!(case["keys_per_s"].as_f64().unwrap() > 0.0);
    let notes: Vec<&str> = case["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(notes.contains(&"library: fakesort 1.2"), "{notes:?}");
    assert!(notes.contains(&"algorithm fake"), "{notes:?}");
    // One command note for all six rounds: the temporary input is named by its placeholder.
    let commands: Vec<&&str> = notes
        .iter()
        .filter(|n| n.starts_with("command: "))
        .collect();
    assert_eq!(commands.len(), 1, "{notes:?}");
    assert!(commands[0].contains("good.sh 1000 '{input}' "), "{notes:?}");
    // One note of the peer's run times, over all rounds.
    let ran: Vec<&&str> = notes
        .iter()
        .filter(|n| n.starts_with("the peer ran for"))
        .collect();
    assert_eq!(ran.len(), 1, "{notes:?}");
    assert!(ran[0].ends_with(" s a round (6 rounds)"), "{notes:?}");
    // Each round's input file (the peer names it in a note) is removed after the case.
    let inputs: Vec<&str> = notes
        .iter()
        .filter_map(|n| n.strip_prefix("input "))
        .collect();
    assert_eq!(inputs.len(), 6, "a fresh input file each round: {notes:?}");
    for input in inputs {
        assert!(input.contains("sortmark-input-"), "{input}");
        assert!(!Path::new(input).exists(), "{input} was left behind");
    }
}

#[test]
fn a_peer_exiting_non_zero_fails_with_the_end_of_its_stderr() {
    let bench = Bench::new(&[("exit1.sh", EXIT_1)]);
    let (case, _) = one(&bench, "exit1.sh", "");
    assert_eq!(case["status"], "failed");
    assert!(reason(&case).contains("exit status: 1"), "{case}");
    assert!(
        reason(&case).contains("first complaint\nCUDA out of memory"),
        "{case}"
    );
}

#[test]
fn a_peer_printing_garbage_fails_with_both_tails() {
    let bench = Bench::new(&[("garbage.sh", GARBAGE)]);
    let (case, _) = one(&bench, "garbage.sh", "");
    assert_eq!(case["status"], "failed");
    let r = reason(&case);
    assert!(r.contains("not a protocol JSON object"), "{r}");
    assert!(
        r.contains("Sorted in 0.1 s!") && r.contains("a warning"),
        "{r}"
    );
}

#[test]
fn a_hanging_peer_is_killed_at_the_timeout() {
    let bench = Bench::new(&[("hang.sh", HANG)]);
    let (case, elapsed) = one(&bench, "hang.sh", ", measure = { timeout = 1 }");
    assert_eq!(case["status"], "failed");
    assert!(reason(&case).contains("timed out after 1 s"), "{case}");
    assert!(
        elapsed < Duration::from_secs(20),
        "the run took {elapsed:?}"
    );
}

#[test]
fn a_missing_program_is_a_skip_with_the_os_error() {
    let bench = Bench::new(&[]);
    let (cases, _) = bench.run(&sweep("peer", "sortmark-no-such-peer {n}", ""));
    assert_eq!(cases[0]["status"], "skipped");
    let r = reason(&cases[0]);
    assert!(r.contains("could not start `sortmark-no-such-peer`"), "{r}");
    assert!(r.contains("No such file"), "{r}");
}

#[test]
fn a_peer_reporting_an_unverified_output_fails() {
    let bench = Bench::new(&[("unverified.sh", UNVERIFIED)]);
    let (case, _) = one(&bench, "unverified.sh", "");
    assert_eq!(case["status"], "failed");
    assert_eq!(case["verified"], false);
    assert!(reason(&case).contains("not sorted"), "{case}");
}

/// A peer's absurd numbers fail its own case only: the run, its other cases and every later
/// command on it (render, list) go on.
#[test]
fn a_peer_reporting_absurd_times_fails_its_case_and_the_run_still_renders() {
    let bench = Bench::new(&[("huge.sh", HUGE), ("good.sh", GOOD)]);
    let cells = format!(
        "{}{}",
        sweep("huge", "peers/huge.sh", ""),
        sweep(
            "good",
            "peers/good.sh {n} {input} {checksum} {algorithm}",
            ""
        )
    );
    let (cases, _) = bench.run(&cells);
    assert_eq!(cases[0]["status"], "failed");
    assert!(
        reason(&cases[0]).contains("longer than the case's timeout"),
        "{}",
        cases[0]
    );
    assert_eq!(cases[1]["status"], "ok", "{}", cases[1]);
    let archive = bench.dir.path().join("archive");
    let run_dir = fs::read_dir(archive.join("def"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("results.json").is_file())
        .unwrap();
    Command::cargo_bin("sortmark")
        .unwrap()
        .arg("render")
        .arg(&run_dir)
        .assert()
        .success();
    Command::cargo_bin("sortmark")
        .unwrap()
        .args(["list", "--out"])
        .arg(&archive)
        .assert()
        .success();
}

#[test]
fn a_peer_skip_is_recorded_with_its_reason() {
    let bench = Bench::new(&[("skip.sh", SKIP)]);
    let (case, _) = one(&bench, "skip.sh", "");
    assert_eq!(case["status"], "skipped");
    assert!(reason(&case).contains("f16 is not supported"), "{case}");
}

#[test]
fn failing_peers_never_stop_the_run_or_sortmarks_own_cases() {
    let bench = Bench::new(&[
        ("exit1.sh", EXIT_1),
        ("garbage.sh", GARBAGE),
        ("hang.sh", HANG),
        ("good.sh", GOOD),
    ]);
    let cells = [
        "[[cell]]\nsweep = { name = \"cpu-before\", backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [1000] }\n".to_string(),
        sweep("exit1", "peers/exit1.sh", ""),
        sweep("garbage", "peers/garbage.sh", ""),
        sweep("hang", "peers/hang.sh", ", measure = { timeout = 1 }"),
        sweep("missing", "sortmark-no-such-peer", ""),
        sweep("good", "peers/good.sh {n} {input} {checksum} {algorithm}", ""),
        "[[cell]]\nsweep = { name = \"cpu-after\", backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [1000] }\n".to_string(),
    ]
    .concat();
    let (cases, _) = bench.run(&cells);
    let status: Vec<(&str, &str)> = cases
        .iter()
        .map(|c| (c["sweep"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        status,
        [
            ("cpu-before", "ok"),
            ("exit1", "failed"),
            ("garbage", "failed"),
            ("hang", "failed"),
            ("missing", "skipped"),
            ("good", "ok"),
            ("cpu-after", "ok"),
        ]
    );
}

#[test]
fn an_unknown_placeholder_is_a_definition_error() {
    let dir = tempfile::tempdir().unwrap();
    let def = dir.path().join("def.toml");
    fs::write(
        &def,
        format!("title = \"t\"\n{}", sweep("peer", "peer {size}", "")),
    )
    .unwrap();
    let out = Command::cargo_bin("sortmark")
        .unwrap()
        .args(["check", def.to_str().unwrap()])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    assert!(stderr.contains("unknown placeholder `{size}`"), "{stderr}");
    assert!(stderr.contains("def.toml:3:"), "{stderr}");
}

#[test]
fn the_shipped_definitions_with_peers_are_valid() {
    for name in ["cpu.toml", "cudamark.toml", "gpu-vs-cub.toml"] {
        let def = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("reports")
            .join(name);
        Command::cargo_bin("sortmark")
            .unwrap()
            .args(["check", def.to_str().unwrap()])
            .assert()
            .success();
        // Every shipped peer writes its output back, so that sortmark verifies it itself.
        let text = fs::read_to_string(&def).unwrap();
        let commands: Vec<&str> = text.split("command = \"\"\"").skip(1).collect();
        assert!(!commands.is_empty(), "{name} runs a peer");
        for command in commands {
            let command = command.split("\"\"\"").next().unwrap();
            assert!(command.contains("--output {output}"), "{name}: {command}");
        }
    }
}

#[test]
fn a_cuda_peer_without_nvcc_is_a_skip() {
    if Path::new("/usr/local/cuda/bin/nvcc").exists() {
        return; // nvcc would be found there whatever the PATH says.
    }
    let bench = Bench::new(&[("peer.cu", "int main() { return 0; }\n")]);
    let def = bench.dir.path().join("def.toml");
    fs::write(
        &def,
        format!("title = \"t\"\n{}", sweep("cu", "peers/peer.cu {n}", "")),
    )
    .unwrap();
    let out = bench.dir.path().join("archive");
    let output = Command::cargo_bin("sortmark")
        .unwrap()
        .env("PATH", "/usr/bin:/bin")
        .env_remove("CUDA_HOME")
        .env_remove("CUDA_PATH")
        .args(["run", def.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let folder = PathBuf::from(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .unwrap(),
    );
    let run: Value =
        serde_json::from_str(&fs::read_to_string(folder.join("results.json")).unwrap()).unwrap();
    let case = &run["cases"][0];
    assert_eq!(case["status"], "skipped", "{case}");
    assert!(reason(case).contains("nvcc not found"), "{case}");
}

/// Whether the process whose pid `file` holds still runs (`kill -0`).
fn still_runs(file: &Path) -> bool {
    let pid = fs::read_to_string(file).unwrap();
    std::process::Command::new("kill")
        .args(["-0", pid.trim()])
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[test]
fn a_grandchild_that_left_the_group_of_a_timed_out_peer_is_killed_with_it() {
    let bench = Bench::new(&[("escapes.sh", ESCAPES_AND_HANGS)]);
    let (case, elapsed) = one(&bench, "escapes.sh", ", measure = { timeout = 1 }");
    assert_eq!(case["status"], "failed", "{case}");
    assert!(reason(&case).contains("timed out"), "{case}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    assert!(!still_runs(&bench.dir.path().join("escaped.pid")));
}

#[test]
fn a_peer_that_exits_while_its_child_holds_stdout_is_measured_and_the_child_killed() {
    let bench = Bench::new(&[("leaves.sh", EXITS_LEAVING_STDOUT_OPEN)]);
    let (case, elapsed) = one(&bench, "leaves.sh", ", measure = { rounds = 1 }");
    assert_eq!(case["status"], "ok", "{case}");
    assert_eq!(case["samples_s"], serde_json::json!([0.001, 0.002]));
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    assert!(!still_runs(&bench.dir.path().join("sleeper.pid")));
}

#[test]
fn ctrl_c_twice_during_a_peer_ends_sortmark_and_every_process_of_the_peer() {
    let bench = Bench::new(&[("escapes.sh", ESCAPES_AND_HANGS)]);
    let def = bench.dir.path().join("def.toml");
    let cells = sweep("peer", "peers/escapes.sh", ", measure = { timeout = 600 }");
    fs::write(&def, format!("title = \"peers\"\n{cells}")).unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("sortmark"))
        .current_dir(bench.dir.path())
        .args(["-q", "run", "def.toml", "--out", "archive"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = bench.dir.path().join("escaped.pid");
    let deadline = Instant::now() + Duration::from_secs(60);
    while fs::read_to_string(&pid_file).map_or(true, |p| p.trim().is_empty()) {
        assert!(Instant::now() < deadline, "the peer never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    for _ in 0..2 {
        let sent = std::process::Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(
        !still_runs(&pid_file),
        "the peer's grandchild outlived sortmark"
    );
}

#[test]
fn a_protocol_2_peer_whose_output_is_sorted_is_verified_by_sortmark() {
    let bench = Bench::new(&[("copies.sh", COPIES)]);
    let (case, _) = one(
        &bench,
        "copies.sh {input} {output}",
        ", distributions = [\"sorted\"]",
    );
    assert_eq!(case["status"], "ok", "{case}");
    assert_eq!(case["verified"], true);
    let notes = case["notes"].to_string();
    assert!(!notes.contains("verified by the peer"), "{notes}");
}

#[test]
fn a_protocol_2_peer_that_claims_verified_over_an_unsorted_output_fails() {
    let bench = Bench::new(&[("copies.sh", COPIES), ("nothing.sh", WRITES_NOTHING)]);
    let (case, _) = one(&bench, "copies.sh {input} {output}", "");
    assert_eq!(case["status"], "failed", "{case}");
    assert_eq!(case["verified"], false);
    assert!(reason(&case).contains("not sorted"), "{case}");
    assert!(
        case["notes"]
            .to_string()
            .contains("the peer reported its output as verified")
    );
    let (case, _) = one(&bench, "nothing.sh {output}", "");
    assert_eq!(case["status"], "failed", "{case}");
    assert!(
        reason(&case).contains("holds 0 bytes, expected 4000"),
        "{case}"
    );
}

#[test]
fn a_protocol_1_peer_still_works_and_its_case_says_it_verified_itself() {
    let bench = Bench::new(&[("good.sh", GOOD)]);
    let (case, _) = one(&bench, "good.sh {n} {input} {checksum} {algorithm}", "");
    assert_eq!(case["status"], "ok", "{case}");
    assert!(
        case["notes"].to_string().contains("verified by the peer"),
        "{case}"
    );
}
