//! The command backend: each case runs an external peer program (a CuPy, NumPy or CUB sort)
//! that times and verifies its own sort and reports back in one line of JSON.
//!
//! For each case sortmark fills the sweep's `command` in ([`crate::definition::template`]), writes the case's
//! input to a temporary file when the command asks for `{input}`, runs the program with the
//! sweep's `timeout` ([`process`]), and reads the last non-empty line of its stdout as a
//! [`protocol::Report`]. The command runs in the folder that holds the definition file (the
//! working directory for the built-in definition), so relative paths in it, the program's
//! included, are relative to the definition. No shell is involved: the line is split into
//! words the way a POSIX shell splits them, and each placeholder fills exactly one word.
//!
//! Outcomes: a program that cannot be started (missing, no interpreter) skips the case with the
//! OS error; a non-zero exit fails it with the end of stderr; a missing or malformed report
//! fails it with the ends of stdout and stderr; a peer that reports `verified: false` fails it;
//! `skip` skips it with the peer's reason; past the timeout the program is killed and the case
//! fails. Whatever the program started, in its process group or not, ends with its case
//! ([`process`]). A program ending in `.cu` is compiled with nvcc first ([`nvcc`]); without
//! nvcc the case is skipped.

mod nvcc;
mod output;
mod process;
pub mod protocol;

use std::collections::HashMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::backend::{Backend, CaseContext};
use crate::data::{KeyData, try_generate};
use crate::definition::template::{Template, shell_line};
use crate::measure::Outcome;
use crate::measure::{Measurement, Verification};
use crate::plan::Case;
use protocol::Reading;

/// Kills every peer running now and every process it started: for a sortmark that must end
/// in the middle of a case (a second Ctrl-C).
pub fn end_running_peers() {
    process::end_all();
}

/// Lines of a peer's output quoted in a case's reason.
const TAIL_LINES: usize = 20;

/// Runs peers for the cases of one definition.
#[derive(Debug)]
pub struct CommandBackend {
    /// Where commands run and relative paths start: the definition's folder.
    dir: PathBuf,
    /// `.cu` peers built (or not) in this run, so that each source is compiled at most once.
    builds: HashMap<PathBuf, Result<nvcc::Built, nvcc::BuildError>>,
}

impl CommandBackend {
    /// A backend whose commands run in `dir` (absolute: a program path taken from it must not
    /// depend on the folder the program then runs in), the definition's folder.
    pub fn new(dir: PathBuf) -> CommandBackend {
        remove_stale_inputs(&std::env::temp_dir());
        CommandBackend {
            dir,
            builds: HashMap::new(),
        }
    }
}

impl Backend for CommandBackend {
    /// Runs the sweep's command for `case`.
    fn run(&mut self, case: &Case, context: &CaseContext) -> Outcome {
        let Some(command) = &case.command else {
            return Outcome::failed("the sweep has no command");
        };
        let template = match Template::parse(command) {
            Ok(t) => t,
            Err(e) => return Outcome::failed(e.to_string()),
        };
        let prepared = match prepare_input(case, &template, context.seed) {
            Ok(prepared) => prepared,
            Err(e) => {
                return Outcome::failed(format!("could not write the input for the peer: {e}"));
            }
        };
        let mut argv = template.fill(|p| placeholder_value(case, p, context.seed, &prepared));
        // The note names the temporary files as `{input}` and `{output}`: they are gone when
        // the case ends, and their names change every round, which would repeat the note.
        let mut shown = template.fill(|p| match p {
            "input" | "output" => format!("{{{p}}}"),
            _ => placeholder_value(case, p, context.seed, &prepared),
        });
        let mut notes = Vec::new();
        argv[0] = self.resolve(&argv[0]);
        if argv[0].ends_with(".cu") {
            let source = PathBuf::from(&argv[0]);
            let built = self
                .builds
                .entry(source.clone())
                .or_insert_with(|| nvcc::build(&source))
                .clone();
            match built {
                Ok(built) => {
                    argv[0] = built.executable.display().to_string();
                    notes.push(built.note);
                }
                Err(nvcc::BuildError::NoCompiler) => {
                    return Outcome::Skipped {
                        reason: format!(
                            "nvcc not found: the CUDA toolkit is needed to build {}",
                            template.program()
                        ),
                        notes,
                    };
                }
                Err(nvcc::BuildError::Failed(reason)) => return Outcome::Failed { reason, notes },
            }
        }
        shown[0].clone_from(&argv[0]);
        notes.push(format!("command: {}", shell_line(&shown)));
        let timeout = Duration::from_secs_f64(case.measure.timeout_s);
        let output = match process::run(&argv, &self.dir, timeout) {
            Ok(output) => output,
            Err(e) => {
                return Outcome::Skipped {
                    reason: format!("could not start `{}`: {e}", argv[0]),
                    notes,
                };
            }
        };
        let own_check = prepared
            .output
            .as_ref()
            .map(|(file, data)| (file.0.as_ref(), data));
        judge(output, case.measure.timeout_s, own_check, notes)
    }
}

impl CommandBackend {
    /// A program path with a folder in it, relative, is taken from the definition's folder; a
    /// bare name is looked up on the PATH.
    fn resolve(&self, program: &str) -> String {
        let path = Path::new(program);
        if path.is_relative() && path.components().count() > 1 {
            self.dir.join(path).display().to_string()
        } else {
            program.to_string()
        }
    }
}

/// What a case's command gets from sortmark: its input file, the input's checksum, and (with
/// `{output}`, protocol 2) the file the peer writes its sorted result to, with the input kept
/// to verify it against.
#[derive(Debug, Default)]
struct Prepared {
    input: Option<TempInput>,
    checksum: Option<u64>,
    output: Option<(TempInput, KeyData)>,
}

/// Generates the case's input when the command needs it, and writes it when asked to.
fn prepare_input(case: &Case, template: &Template, seed: u64) -> std::io::Result<Prepared> {
    if !["input", "checksum", "output"]
        .iter()
        .any(|p| template.uses(p))
    {
        return Ok(Prepared::default());
    }
    let data = try_generate(case.key_type, case.distribution, case.n as usize, seed)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::OutOfMemory, e))?;
    let input = if template.uses("input") {
        Some(TempInput::write(&data)?)
    } else {
        None
    };
    let checksum = Some(data.checksum());
    let output = if template.uses("output") {
        Some((TempInput::empty(&data)?, data))
    } else {
        None
    };
    Ok(Prepared {
        input,
        checksum,
        output,
    })
}

/// The value of placeholder `name` for `case`.
fn placeholder_value(case: &Case, name: &str, seed: u64, prepared: &Prepared) -> String {
    let m = &case.measure;
    match name {
        "n" => case.n.to_string(),
        "key_type" => case.key_type.to_string(),
        "distribution" => case.distribution.to_string(),
        "seed" => seed.to_string(),
        "repetitions" => m.repetitions.to_string(),
        "max_repetitions" => m.max_repetitions.to_string(),
        "warmup" => m.warmup.to_string(),
        "min_time" => m.min_time_s.to_string(),
        "timeout" => m.timeout_s.to_string(),
        "device" => case.device.unwrap_or(0).to_string(),
        "algorithm" => case.algorithm.clone(),
        "input" => prepared
            .input
            .as_ref()
            .map_or_else(String::new, |i| i.0.display().to_string()),
        "checksum" => prepared
            .checksum
            .map_or_else(String::new, |c| c.to_string()),
        "output" => prepared
            .output
            .as_ref()
            .map_or_else(String::new, |(o, _)| o.0.display().to_string()),
        _ => String::new(),
    }
}

/// Turns a finished peer into the case's outcome; `own_check` is the `{output}` file and the
/// input it must be a sorted permutation of (protocol 2), which sortmark verifies itself.
fn judge(
    output: process::Output,
    timeout_s: f64,
    own_check: Option<(&Path, &KeyData)>,
    mut notes: Vec<String>,
) -> Outcome {
    let tails = || {
        format!(
            "stdout ends:\n{}\nstderr ends:\n{}",
            or_nothing(process::tail(&output.stdout, TAIL_LINES)),
            or_nothing(process::tail(&output.stderr, TAIL_LINES))
        )
    };
    let status = match output.end {
        process::End::TimedOut => {
            notes.push(format!(
                "stderr ends:\n{}",
                process::tail(&output.stderr, TAIL_LINES)
            ));
            return Outcome::Failed {
                reason: format!("timed out after {timeout_s} s (the peer was killed)"),
                notes,
            };
        }
        process::End::Interrupted => {
            return Outcome::Failed {
                reason: "interrupted".to_string(),
                notes,
            };
        }
        process::End::Exited(status) => status,
    };
    if !status.success() {
        return Outcome::Failed {
            reason: format!(
                "the peer exited with {status}; stderr ends:\n{}",
                or_nothing(process::tail(&output.stderr, TAIL_LINES))
            ),
            notes,
        };
    }
    let wall_s = output.elapsed.as_secs_f64();
    if output.stdout_truncated {
        return Outcome::Failed {
            reason: format!(
                "the peer printed more than {} MiB on stdout (a report is one line)",
                process::STDOUT_LIMIT >> 20
            ),
            notes,
        };
    }
    match protocol::read(&output.stdout) {
        Err(e) => Outcome::Failed {
            reason: format!("{e}\n{}", tails()),
            notes,
        },
        Ok(Reading::Skip(reason)) => Outcome::Skipped {
            reason: format!("the peer cannot run this case: {reason}"),
            notes,
        },
        Ok(Reading::Measured {
            samples_s,
            timing,
            verified,
            verification,
            transfers,
            notes: peer_notes,
        }) => {
            notes.extend(peer_notes);
            if let Some(longest) = samples_s.iter().copied().find(|s| *s > timeout_s) {
                return Outcome::Failed {
                    reason: format!(
                        "the peer reported a sample of {longest} s, longer than the case's \
                         timeout of {timeout_s} s: it cannot have been measured"
                    ),
                    notes,
                };
            }
            let (verification, failure) = match own_check {
                Some((file, input)) => {
                    let claims_stable = verification.and_then(|v| v.stable).is_some();
                    match output::verify_file(file, input, claims_stable) {
                        Err(reason) => return Outcome::Failed { reason, notes },
                        Ok((checked, found)) => {
                            add_new(&mut notes, found);
                            if verified != checked.passed() {
                                notes.push(format!(
                                    "the peer reported its output as {}verified",
                                    if verified { "" } else { "not " }
                                ));
                            }
                            (Some(checked), checked.failure())
                        }
                    }
                }
                None => peer_verification(verified, verification, &mut notes),
            };
            Outcome::Measured(Measurement {
                samples_s,
                rounds_s: Vec::new(),
                timing,
                verification,
                transfers,
                bytes_moved: None,
                copy_bandwidth_bytes_per_s: None,
                failure,
                notes,
                program_wall_s: vec![wall_s],
            })
        }
    }
}

/// A protocol 1 peer's word on its output, which sortmark never saw: the verification and
/// the failure it stands for, and a note saying who verified.
fn peer_verification(
    verified: bool,
    verification: Option<Verification>,
    notes: &mut Vec<String>,
) -> (Option<Verification>, Option<String>) {
    notes.push(
        "verified by the peer: sortmark did not see its output (a protocol 2 peer writes it to \
         {output})"
            .to_string(),
    );
    if verified && verification.is_none() {
        notes.push("the peer reported its output verified without details".to_string());
    }
    let verification = verification.or(verified.then_some(Verification::sorted_permutation()));
    let failure = (!verified).then(|| "the peer reported its output as not verified".to_string());
    (verification, failure)
}

/// Adds the notes of `found` that `notes` does not hold yet.
fn add_new(notes: &mut Vec<String>, found: Vec<String>) {
    for note in found {
        if !notes.contains(&note) {
            notes.push(note);
        }
    }
}

fn or_nothing(s: String) -> String {
    if s.is_empty() {
        "(nothing)".to_string()
    } else {
        s
    }
}

/// How a peer's input file is named: `sortmark-input-<pid>-<key type>-<n>-<random>.bin`.
const INPUT_PREFIX: &str = "sortmark-input-";

/// Removes the input files in `dir` that a sortmark which no longer runs left behind (killed
/// mid-case, its files were never dropped); those of running ones are left alone.
fn remove_stale_inputs(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let owner = name
            .strip_prefix(INPUT_PREFIX)
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if owner.is_some_and(|pid| !crate::file_names::process_runs(pid)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The case's input as raw little-endian bytes in a temporary file, created exclusively
/// under an unpredictable name and removed when dropped.
///
/// Elements are written in order, each in its type's little-endian layout; a u32-u32 pair is
/// its key followed by its value (the element's original index), 8 bytes per element.
#[derive(Debug)]
struct TempInput(tempfile::TempPath);

impl TempInput {
    /// A new, empty file named for `data` (the `{output}` file of protocol 2, which the peer
    /// fills), removed when dropped like an input.
    fn empty(data: &KeyData) -> std::io::Result<TempInput> {
        Ok(TempInput(Self::create(data, ".out.bin")?.into_temp_path()))
    }

    /// A new, empty file named for `data` with the given suffix.
    fn create(data: &KeyData, suffix: &str) -> std::io::Result<tempfile::NamedTempFile> {
        tempfile::Builder::new()
            .prefix(&format!(
                "{INPUT_PREFIX}{}-{}-{}-",
                std::process::id(),
                data.key_type(),
                data.len()
            ))
            .suffix(suffix)
            .tempfile()
    }

    fn write(data: &KeyData) -> std::io::Result<TempInput> {
        let (file, path) = Self::create(data, ".bin")?.into_parts();
        let mut w = BufWriter::with_capacity(1 << 20, file);
        macro_rules! each {
            ($v:expr, $x:ident => $($bytes:expr),+) => {
                for $x in $v {
                    $(w.write_all(&$bytes.to_le_bytes())?;)+
                }
            };
        }
        match data {
            KeyData::U32(v) => each!(v, x => x),
            KeyData::U64(v) => each!(v, x => x),
            KeyData::I32(v) => each!(v, x => x),
            KeyData::I64(v) => each!(v, x => x),
            KeyData::F32(v) => each!(v, x => x),
            KeyData::F64(v) => each!(v, x => x),
            KeyData::U32U32(v) => each!(v, p => p.key, p.value),
        }
        w.flush()?;
        Ok(TempInput(path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::{MachineLimits, ReportDef, load};

    fn def(command: &str) -> ReportDef {
        let toml = format!(
            "title = \"t\"\n[[cell]]\nsweep = {{ backend = \"command\", algorithms = [\"x\"], sizes = [16], command = '{command}' }}\n"
        );
        let limits = MachineLimits {
            logical_cores: 2,
            host_memory_bytes: 1 << 30,
        };
        load("d/t.toml", &toml, &limits).unwrap()
    }

    #[test]
    fn inputs_of_a_sortmark_that_is_gone_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let mine = format!("{INPUT_PREFIX}{}-u32-16-abc.bin", std::process::id());
        // Above Linux's largest pid_max, so no process has it.
        let gone = format!("{INPUT_PREFIX}{}-u32-16-abc.bin", 4_194_305);
        let other = "unrelated-file.bin";
        for name in [mine.as_str(), gone.as_str(), other] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        remove_stale_inputs(dir.path());
        assert!(dir.path().join(&mine).exists());
        assert!(!dir.path().join(&gone).exists());
        assert!(dir.path().join(other).exists());
    }

    #[test]
    fn fills_every_placeholder() {
        let d = def("peer");
        let mut case = crate::plan::plan(&d, None).remove(0);
        case.measure.min_time_s = 0.5;
        let defs = std::env::current_dir().unwrap().join("defs");
        let backend = CommandBackend::new(defs.clone());
        let template = Template::parse(
            "peer {n} {key_type} {distribution} {seed} {repetitions} {max_repetitions} {warmup} {min_time} {timeout} {device} {algorithm} {checksum}",
        )
        .unwrap();
        let prepared = Prepared {
            checksum: Some(99),
            ..Prepared::default()
        };
        let words = template.fill(|p| placeholder_value(&case, p, 7, &prepared));
        assert_eq!(
            words,
            [
                "peer", "16", "u32", "uniform", "7", "3", "100", "1", "0.5", "300", "0", "x", "99"
            ]
        );
        assert_eq!(
            backend.resolve("peers/p.py"),
            defs.join("peers/p.py").display().to_string()
        );
        assert_eq!(backend.resolve("python3"), "python3");
        assert_eq!(backend.resolve("/bin/sh"), "/bin/sh");
    }

    #[test]
    fn writes_the_input_as_little_endian_bytes() {
        let data = KeyData::U32U32(vec![crate::data::KeyValue {
            key: 0x0102_0304,
            value: 1,
        }]);
        let input = TempInput::write(&data).unwrap();
        assert_eq!(std::fs::read(&input.0).unwrap(), [4, 3, 2, 1, 1, 0, 0, 0]);
        let path = input.0.to_path_buf();
        drop(input);
        assert!(!path.exists());
    }
}
