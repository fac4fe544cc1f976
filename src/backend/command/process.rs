//! Runs a program with a deadline, capturing its output.
//!
//! The program gets its own process group, so that at the deadline (or on Ctrl-C) the whole
//! group is killed: a peer that is a script running another program leaves nothing behind, and
//! nothing keeps the output pipes open.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long to wait for the output pipes to close after a kill before giving up on them.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How often to look at the child.
const POLL: Duration = Duration::from_millis(5);

/// How a program ended.
#[derive(Debug)]
pub enum End {
    /// It exited by itself.
    Exited(ExitStatus),
    /// It ran past the deadline and was killed.
    TimedOut,
    /// A stop was requested (Ctrl-C, SIGTERM) and it was killed.
    Interrupted,
}

/// A finished program: how it ended, its output, and how long it ran.
#[derive(Debug)]
pub struct Output {
    pub end: End,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

/// Runs `argv` in `dir` until it exits or `timeout` passes. `Err` only when it cannot start.
pub fn run(argv: &[String], dir: &Path, timeout: Duration) -> std::io::Result<Output> {
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let started = Instant::now();
    let mut child = command.spawn()?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let end = wait(&mut child, started + timeout);
    let grace = Instant::now() + DRAIN_GRACE;
    let collect = |rx: mpsc::Receiver<Vec<u8>>| {
        let left = grace.saturating_duration_since(Instant::now());
        String::from_utf8_lossy(&rx.recv_timeout(left).unwrap_or_default()).into_owned()
    };
    Ok(Output {
        end,
        stdout: collect(stdout),
        stderr: collect(stderr),
        elapsed: started.elapsed(),
    })
}

/// Reads a pipe to its end on a thread; the bytes arrive on the returned channel.
fn drain(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        let _ = tx.send(bytes);
    });
    rx
}

fn wait(child: &mut Child, deadline: Instant) -> End {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return End::Exited(status),
            Ok(None) => {}
            Err(_) => {
                kill(child);
                return End::TimedOut;
            }
        }
        if crate::interrupt::requested() {
            kill(child);
            return End::Interrupted;
        }
        if Instant::now() >= deadline {
            kill(child);
            return End::TimedOut;
        }
        std::thread::sleep(POLL);
    }
}

/// Kills the child's whole process group, then reaps the child.
fn kill(child: &mut Child) {
    #[cfg(unix)]
    {
        if let Ok(pid) = i32::try_from(child.id()) {
            // SAFETY: kill(2) with a negative pid signals that process group; it has no memory
            // effects. The group is the child's own (process_group(0) above).
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The last `lines` non-empty lines of `text`, for messages.
pub fn tail(text: &str, lines: usize) -> String {
    let kept: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = kept.len().saturating_sub(lines);
    let mut out = kept[start..].join("\n");
    if start > 0 {
        out = format!("[… {start} earlier lines]\n{out}");
    }
    const MAX_CHARS: usize = 4000;
    if out.chars().count() > MAX_CHARS {
        let skip = out.chars().count() - MAX_CHARS;
        out = format!("[…]{}", out.chars().skip(skip).collect::<String>());
    }
    out
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn sh(script: &str, timeout: f64) -> Output {
        let argv = ["sh", "-c", script].map(String::from);
        run(&argv, Path::new("."), Duration::from_secs_f64(timeout)).unwrap()
    }

    #[test]
    fn captures_output_and_status() {
        let out = sh("echo out; echo err >&2; exit 3", 10.0);
        assert!(matches!(out.end, End::Exited(s) if s.code() == Some(3)));
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
    }

    #[test]
    fn kills_the_whole_group_at_the_deadline() {
        // The shell's child `sleep` holds the pipes too: it must die with the group.
        let out = sh("echo started; sleep 30; echo never", 0.3);
        assert!(matches!(out.end, End::TimedOut));
        assert!(out.elapsed < Duration::from_secs(5), "{:?}", out.elapsed);
        assert_eq!(out.stdout, "started\n");
    }

    #[test]
    fn a_missing_program_is_an_error_to_start() {
        let argv = ["sortmark-no-such-program".to_string()];
        let e = run(&argv, Path::new("."), Duration::from_secs(1)).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::NotFound);
    }

    #[test]
    fn tails_keep_the_last_lines() {
        assert_eq!(tail("a\n\nb\nc\n", 2), "[… 1 earlier lines]\nb\nc");
        assert_eq!(tail("a\n", 5), "a");
    }
}
