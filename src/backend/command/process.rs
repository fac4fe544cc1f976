//! Runs a program with a deadline, capturing its output, and ends every process it started.
//!
//! The program gets its own process group, and sortmark is a child subreaper
//! (`PR_SET_CHILD_SUBREAPER`), so that a descendant that leaves the group (`setsid`) and whose
//! parent dies becomes sortmark's child rather than init's. When the program ends (it exits, its
//! deadline passes, a stop is requested, or the caller panics) its group is killed, then every
//! process that became sortmark's child meanwhile, until none is left: nothing a peer started
//! outlives its case or keeps its output pipes open. A second Ctrl-C, which ends sortmark at
//! once, calls [`end_all`] first ([`crate::interrupt`]); should sortmark be killed outright,
//! the program gets SIGKILL from the kernel (`PR_SET_PDEATHSIG`).
//!
//! Output is read while the program runs and kept up to a bound; once the program has exited,
//! what it printed before is its output, even if a descendant held the pipe open.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long to wait for the output pipes to close once the program's processes are killed.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How often to look at the child.
const POLL: Duration = Duration::from_millis(5);
/// The most of stdout kept: a report is far smaller (100,000 samples take about 2 MB).
pub const STDOUT_LIMIT: usize = 16 << 20;
/// The most of stderr kept, its end (messages show its last lines).
const STDERR_LIMIT: usize = 1 << 20;

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
    /// Stdout went past [`STDOUT_LIMIT`]: only its beginning was kept.
    pub stdout_truncated: bool,
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
    #[cfg(target_os = "linux")]
    die_with_parent(&mut command);
    become_subreaper();
    let started = Instant::now();
    let mut tree = Tree::spawn(&mut command)?;
    let stdout = Capture::start(tree.child.stdout.take(), Keep::Head(STDOUT_LIMIT));
    let stderr = Capture::start(tree.child.stderr.take(), Keep::Tail(STDERR_LIMIT));
    let end = wait(&mut tree.child, started + timeout);
    // The program is done: whatever it left running ends now, which closes the pipes.
    drop(tree);
    let grace = Instant::now() + DRAIN_GRACE;
    let (stdout, stdout_truncated) = stdout.finish(grace);
    let (stderr, _) = stderr.finish(grace);
    Ok(Output {
        end,
        stdout,
        stderr,
        stdout_truncated,
        elapsed: started.elapsed(),
    })
}

/// The programs running now (one in a run; tests run several at once), which
/// [`kill_adopted`] leaves alone.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// A running program and what it may start: killed, all of it, when dropped.
struct Tree {
    child: Child,
}

impl Tree {
    fn spawn(command: &mut Command) -> std::io::Result<Tree> {
        let child = command.spawn()?;
        running().push(child.id());
        Ok(Tree { child })
    }
}

impl Drop for Tree {
    fn drop(&mut self) {
        kill_group(&self.child);
        let _ = self.child.kill();
        let _ = self.child.wait();
        running().retain(|&pid| pid != self.child.id());
        kill_adopted();
    }
}

fn running() -> std::sync::MutexGuard<'static, Vec<u32>> {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Kills every running program's group and every orphan of theirs, for a sortmark about to
/// exit in the middle of a case.
pub fn end_all() {
    for &pid in running().iter() {
        if let Ok(pid) = i32::try_from(pid) {
            // SAFETY: kill(2) on the program's own process group, then waitpid(2) on the
            // program (a child of this process), so that its orphans are sortmark's when
            // `kill_adopted` looks; no memory effects beyond the status written to a local.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
                let mut status = 0;
                libc::waitpid(pid, &mut status, 0);
            }
        }
    }
    kill_adopted();
}

/// Makes sortmark a child subreaper: orphans among its descendants become its children.
fn become_subreaper() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_CHILD_SUBREAPER, 1) sets a flag of this process; no memory effects.
    unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    }
}

/// Has the child killed when sortmark dies, even by SIGKILL (which nothing can catch).
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    // SAFETY: the closure runs in the forked child before exec and calls only prctl(2), which
    // is async-signal-safe.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(command, || {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            Ok(())
        });
    }
}

/// Kills the child's whole process group.
fn kill_group(child: &Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals that process group; it has no memory
        // effects. The group is the child's own (process_group(0) above).
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// Kills and reaps the processes that became sortmark's children by being orphaned (the
/// programs' descendants), again and again as their own orphans come to sortmark in turn.
/// Such an orphan is a child of sortmark outside sortmark's process group that is no running
/// program: what sortmark starts otherwise (a compiler, a probe) stays in its group.
fn kill_adopted() {
    #[cfg(target_os = "linux")]
    for _ in 0..1000 {
        // SAFETY: getpgrp(2) only reads this process's group.
        let own_group = unsafe { libc::getpgrp() };
        let adopted: Vec<i32> = children_of(std::process::id())
            .into_iter()
            .filter(|&(pid, group)| group != own_group && !running().contains(&(pid as u32)))
            .map(|(pid, _)| pid)
            .collect();
        if adopted.is_empty() {
            return;
        }
        for pid in adopted {
            // SAFETY: kill(2) and waitpid(2) on a child of this process; no memory effects
            // beyond the status written to a local.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                let mut status = 0;
                libc::waitpid(pid, &mut status, 0);
            }
        }
    }
}

/// The processes whose parent is `parent`, each with its process group, from /proc.
#[cfg(target_os = "linux")]
fn children_of(parent: u32) -> Vec<(i32, i32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let (ppid, group) = parent_and_group(pid)?;
            (ppid == parent).then_some((pid, group))
        })
        .collect()
}

/// A process's parent and process group, from /proc/PID/stat (whose second field, the name,
/// may hold spaces and parentheses: after the last `)` come the state, the parent, the group).
#[cfg(target_os = "linux")]
fn parent_and_group(pid: i32) -> Option<(u32, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace().skip(1);
    Some((fields.next()?.parse().ok()?, fields.next()?.parse().ok()?))
}

/// Which part of a stream to keep.
#[derive(Clone, Copy)]
enum Keep {
    /// The first so many bytes.
    Head(usize),
    /// The last so many bytes.
    Tail(usize),
}

/// A pipe read to its end on a thread, into a buffer the caller can take at any time.
struct Capture {
    bytes: Arc<Mutex<(Vec<u8>, bool)>>,
    done: std::sync::mpsc::Receiver<()>,
}

impl Capture {
    fn start(pipe: Option<impl Read + Send + 'static>, keep: Keep) -> Capture {
        let bytes = Arc::new(Mutex::new((Vec::new(), false)));
        let (tx, done) = std::sync::mpsc::channel();
        let shared = bytes.clone();
        std::thread::spawn(move || {
            if let Some(mut pipe) = pipe {
                let mut chunk = vec![0u8; 64 << 10];
                while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                    let mut guard = shared.lock().unwrap_or_else(|e| e.into_inner());
                    let (buffer, cut) = &mut *guard;
                    *cut |= keep_bytes(buffer, &chunk[..n], keep);
                }
            }
            let _ = tx.send(());
        });
        Capture { bytes, done }
    }

    /// What was read by the end of the pipe, or by `grace` if a pipe stays open; and whether
    /// some of it was dropped for the bound.
    fn finish(self, grace: Instant) -> (String, bool) {
        let _ = self
            .done
            .recv_timeout(grace.saturating_duration_since(Instant::now()));
        let guard = self.bytes.lock().unwrap_or_else(|e| e.into_inner());
        (String::from_utf8_lossy(&guard.0).into_owned(), guard.1)
    }
}

/// Adds `chunk` to `buffer` within the bound of `keep`; whether some bytes were dropped.
fn keep_bytes(buffer: &mut Vec<u8>, chunk: &[u8], keep: Keep) -> bool {
    match keep {
        Keep::Head(limit) => {
            let room = limit.saturating_sub(buffer.len());
            buffer.extend_from_slice(&chunk[..chunk.len().min(room)]);
            chunk.len() > room
        }
        Keep::Tail(limit) => {
            buffer.extend_from_slice(chunk);
            // Trimmed only once twice the bound: each byte is moved at most once on average.
            if buffer.len() > 2 * limit {
                buffer.drain(..buffer.len() - limit);
            }
            false
        }
    }
}

fn wait(child: &mut Child, deadline: Instant) -> End {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return End::Exited(status),
            Ok(None) => {}
            Err(_) => return End::TimedOut,
        }
        if crate::interrupt::requested() {
            return End::Interrupted;
        }
        if Instant::now() >= deadline {
            return End::TimedOut;
        }
        std::thread::sleep(POLL);
    }
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
    fn a_flood_on_stdout_is_kept_to_its_bound_and_marked() {
        let out = sh(
            "head -c 40000000 /dev/zero | tr '\\0' x; echo >&2 done",
            60.0,
        );
        assert!(matches!(out.end, End::Exited(s) if s.success()));
        assert!(out.stdout_truncated);
        assert_eq!(out.stdout.len(), STDOUT_LIMIT);
        assert_eq!(out.stderr, "done\n");
    }

    #[test]
    fn stderr_keeps_its_end() {
        let mut kept = Vec::new();
        for chunk in [b"abc".as_slice(), b"defg", b"hij"] {
            keep_bytes(&mut kept, chunk, Keep::Tail(2));
        }
        assert!(kept.len() <= 4 && kept.ends_with(b"ij"), "{kept:?}");
        let mut head = Vec::new();
        assert!(!keep_bytes(&mut head, b"ab", Keep::Head(3)));
        assert!(keep_bytes(&mut head, b"cd", Keep::Head(3)));
        assert_eq!(head, b"abc");
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
