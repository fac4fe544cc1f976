//! The archive index: every run under an archive root, as `index.html`, `index.md` and the
//! table `sortmark list` prints.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;

use crate::record::Run;
use crate::record::archive;
use crate::units;

use super::table::{Header, Row, Table};
use super::templates;
use super::text;
use super::view;

/// One run as the index shows it.
#[derive(Debug, Clone, Serialize)]
pub struct IndexRow {
    /// The run's start, as the report shows it.
    pub date: String,
    /// The definition's title.
    pub title: String,
    /// The definition's name (the archive's first folder level).
    pub name: String,
    /// The run folder's name, which starts with its UTC start time.
    pub run_id: String,
    /// CPU, core count and host name.
    pub machine: String,
    /// The GPUs, in a few words.
    pub gpu: String,
    /// Cases that ran and verified.
    pub ok: usize,
    /// Cases skipped, each for a reason its row gives.
    pub skipped: usize,
    /// Cases that failed.
    pub failed: usize,
    /// `complete`, `FAILED`, `interrupted`, `incomplete` or why it could not be read.
    pub status: String,
    /// `ok`, `failed` or `skipped`: how the row is styled.
    pub row_class: String,
    /// The run folder relative to the root, with a trailing slash, as a link target: each
    /// folder name percent-encoded ([`text::url_segment`]).
    pub href: String,
    /// Whether `results.json` could be read.
    pub readable: bool,
}

/// The context of the index templates.
#[derive(Serialize)]
struct IndexView<'a> {
    runs: &'a [IndexRow],
}

/// Every run folder under `root` (`ROOT/<name>/<run-id>/results.json`), newest first.
pub fn scan(root: &Path) -> anyhow::Result<Vec<IndexRow>> {
    let mut rows: Vec<IndexRow> = run_dirs(root)?
        .into_iter()
        .map(|(name, run_id, dir)| row(&name, &run_id, &dir))
        .collect();
    // Run ids start with their UTC start time, so they sort by time.
    rows.sort_by(|a, b| b.run_id.cmp(&a.run_id).then(a.name.cmp(&b.name)));
    Ok(rows)
}

/// Every `(name, run id, folder)` under `root` that holds a `results.json`.
fn run_dirs(root: &Path) -> anyhow::Result<Vec<(String, String, PathBuf)>> {
    let mut dirs = Vec::new();
    let Ok(names) = std::fs::read_dir(root) else {
        return Ok(dirs);
    };
    for name in names.flatten().filter(|e| e.path().is_dir()) {
        let Ok(runs) = std::fs::read_dir(name.path()) else {
            continue;
        };
        for run in runs.flatten() {
            if run.path().join("results.json").is_file() {
                dirs.push((
                    name.file_name().to_string_lossy().into_owned(),
                    run.file_name().to_string_lossy().into_owned(),
                    run.path(),
                ));
            }
        }
    }
    Ok(dirs)
}

/// The row of one run folder; a folder that cannot be read still gets a row that says why.
fn row(name: &str, run_id: &str, dir: &Path) -> IndexRow {
    let href = format!("{}/{}/", text::url_segment(name), text::url_segment(run_id));
    match archive::load_run(dir) {
        Ok(run) => from_run(name, href, &run),
        Err(e) => IndexRow {
            date: run_id.get(..8).unwrap_or(run_id).to_string(),
            title: format!("{name}/{run_id}"),
            name: name.to_string(),
            run_id: run_id.to_string(),
            machine: "–".to_string(),
            gpu: "–".to_string(),
            ok: 0,
            skipped: 0,
            failed: 0,
            status: format!("unreadable: {}", first_line(&format!("{e:#}"))),
            row_class: "failed".to_string(),
            href,
            readable: false,
        },
    }
}

/// The first line of an error chain: a table cell has room for no more.
fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// The row of a run that could be read.
fn from_run(name: &str, href: String, run: &Run) -> IndexRow {
    let (ok, skipped, failed) = run.counts();
    let env = &run.environment;
    let status = if failed > 0 {
        "FAILED".to_string()
    } else {
        view::state(run).to_string()
    };
    IndexRow {
        date: units::timestamp(&run.started_at),
        title: run.definition.title.clone(),
        name: name.to_string(),
        run_id: run.run_id.clone(),
        machine: format!(
            "{} ({} cores), {}",
            env.cpu.model, env.cpu.logical_cores, env.os.hostname
        ),
        gpu: gpus(run),
        ok,
        skipped,
        failed,
        row_class: match (failed > 0, run.complete) {
            (true, _) => "failed",
            (false, false) => "skipped",
            (false, true) => "ok",
        }
        .to_string(),
        status,
        href,
        readable: true,
    }
}

/// The GPUs a run saw, in a few words.
fn gpus(run: &Run) -> String {
    let names: Vec<&str> = run
        .environment
        .gpus
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    match names.as_slice() {
        [] => "none".to_string(),
        [one] => (*one).to_string(),
        [first, ..] if names.iter().all(|n| n == first) => format!("{} × {first}", names.len()),
        _ => names.join(", "),
    }
}

/// How long a run waits for another sortmark to finish writing the index before it gives up
/// (its own results are saved either way; the next run or render writes the index).
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// Takes the exclusive lock on `file`, trying every 50 ms for at most `wait`, and giving up at
/// once when `stop` says so (Ctrl-C): a lock held by a hung process must not hang this one.
fn lock_within(
    file: &std::fs::File,
    wait: std::time::Duration,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
        }
        if stop() {
            anyhow::bail!("interrupted while waiting for another sortmark to release it");
        }
        if started.elapsed() >= wait {
            anyhow::bail!(
                "another sortmark has held it for {} s; the index was left as it was",
                wait.as_secs()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Writes `index.html` and `index.md` at the root of the archive.
///
/// The index is rebuilt from every run folder under an exclusive lock on `ROOT/.index.lock`,
/// so two runs finishing at once each write an index that holds the other's entry too; the
/// temporary files a killed writer left at the root are removed. The lock file is removed
/// again before the lock is let go, so the archive keeps no empty file behind.
pub fn update(root: &Path) -> anyhow::Result<()> {
    let lock_path = root.join(".index.lock");
    let lock = take_lock(&lock_path)?;
    let written = write_index(root);
    // Removed while held: a writer waiting on this file finds, once it holds it, that the
    // path no longer names it, and takes the lock again on a new file (see `take_lock`).
    let _ = std::fs::remove_file(&lock_path);
    drop(lock);
    written
}

/// The index files, written under the lock.
fn write_index(root: &Path) -> anyhow::Result<()> {
    archive::remove_stale_temporaries(root);
    let rows = scan(root)?;
    let view = IndexView { runs: &rows };
    let html = templates::render("index.html", &view)?;
    archive::write_atomic(&root.join("index.html"), html.as_bytes())?;
    let md = templates::render("index.md", &view)?;
    archive::write_atomic(&root.join("index.md"), md.as_bytes())
}

/// The exclusive lock on the file at `path`, created if missing. A lock taken on a file that
/// its last holder removed meanwhile locks nothing the next writer sees, so it is taken again
/// until the locked file is the one the path names.
fn take_lock(path: &Path) -> anyhow::Result<std::fs::File> {
    loop {
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .with_context(|| format!("could not open {}", path.display()))?;
        lock_within(&lock, LOCK_WAIT, &crate::interrupt::requested)
            .with_context(|| format!("could not lock {}", path.display()))?;
        if names_file(path, &lock) {
            return Ok(lock);
        }
    }
}

/// Whether `path` still names the open `file` (the same device and inode).
#[cfg(unix)]
fn names_file(path: &Path, file: &std::fs::File) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(path), file.metadata()) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

/// Elsewhere a locked file cannot be removed, so the path always names it.
#[cfg(not(unix))]
fn names_file(_path: &Path, _file: &std::fs::File) -> bool {
    true
}

/// The runs as a plain-text table, as `sortmark list` prints it.
pub fn list(root: &Path) -> anyhow::Result<String> {
    let rows = scan(root)?;
    if rows.is_empty() {
        return Ok(format!("no runs under {}\n", root.display()));
    }
    Ok(table(&rows).to_plain())
}

/// The archive as `sortmark list --format json` gives it to scripts: raw values, not the
/// table's words.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    /// The archive root, as given.
    pub root: String,
    /// Every run under it, newest first.
    pub runs: Vec<ListedRun>,
}

/// One run of a [`Listing`].
#[derive(Debug, Clone, Serialize)]
pub struct ListedRun {
    /// The definition's name (the archive's first folder level).
    pub name: String,
    /// The run folder's name, which starts with its UTC start time.
    pub run_id: String,
    /// The run folder: the root joined with name and run id.
    pub dir: String,
    /// `complete`, `failed` (a case failed), `interrupted`, `incomplete` or `unreadable`.
    pub status: &'static str,
    /// Why `results.json` could not be read (`unreadable` only).
    pub error: Option<String>,
    /// The definition's title.
    pub title: Option<String>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: Option<String>,
    /// When it finished (RFC 3339, UTC); none while it runs or after a crash.
    pub finished_at: Option<String>,
    /// The host's name as recorded (`anonymized` in an anonymized run).
    pub host: Option<String>,
    /// The CPU model.
    pub cpu: Option<String>,
    /// The CPU's logical cores.
    pub logical_cores: Option<u32>,
    /// The GPUs' names, one per GPU.
    pub gpus: Vec<String>,
    /// Cases that ran and verified.
    pub ok: usize,
    /// Cases skipped, each for a reason `results.json` gives.
    pub skipped: usize,
    /// Cases that failed.
    pub failed: usize,
}

/// Every run under `root`, newest first, for scripts.
pub fn listing(root: &Path) -> anyhow::Result<Listing> {
    let mut runs: Vec<ListedRun> = run_dirs(root)?
        .into_iter()
        .map(|(name, run_id, dir)| listed(name, run_id, &dir))
        .collect();
    runs.sort_by(|a, b| b.run_id.cmp(&a.run_id).then(a.name.cmp(&b.name)));
    Ok(Listing {
        root: root.display().to_string(),
        runs,
    })
}

/// One run folder as listed; a folder that cannot be read is listed with why.
fn listed(name: String, run_id: String, dir: &Path) -> ListedRun {
    let mut entry = ListedRun {
        dir: dir.display().to_string(),
        name,
        run_id,
        status: "unreadable",
        error: None,
        title: None,
        started_at: None,
        finished_at: None,
        host: None,
        cpu: None,
        logical_cores: None,
        gpus: Vec::new(),
        ok: 0,
        skipped: 0,
        failed: 0,
    };
    let run = match archive::load_run(dir) {
        Ok(run) => run,
        Err(e) => {
            entry.error = Some(format!("{e:#}"));
            return entry;
        }
    };
    let (ok, skipped, failed) = run.counts();
    let env = &run.environment;
    ListedRun {
        status: if failed > 0 {
            "failed"
        } else {
            view::state(&run)
        },
        title: Some(run.definition.title.clone()),
        started_at: Some(run.started_at.clone()),
        finished_at: run.finished_at.clone(),
        host: Some(env.os.hostname.clone()),
        cpu: Some(env.cpu.model.clone()),
        logical_cores: Some(env.cpu.logical_cores),
        gpus: env.gpus.iter().map(|g| g.name.clone()).collect(),
        ok,
        skipped,
        failed,
        ..entry
    }
}

/// The index as a table of strings.
pub fn table(rows: &[IndexRow]) -> Table {
    Table {
        headers: vec![
            Header::new("Date", false),
            Header::new("Run", false),
            Header::new("Title", false),
            Header::new("Machine", false),
            Header::new("GPU", false),
            Header::new("OK", true),
            Header::new("Skipped", true),
            Header::new("Failed", true),
            Header::new("Status", false),
        ],
        rows: rows
            .iter()
            .map(|r| Row {
                cells: vec![
                    r.date.clone(),
                    format!("{}/{}", r.name, r.run_id),
                    r.title.clone(),
                    r.machine.clone(),
                    r.gpu.clone(),
                    r.ok.to_string(),
                    r.skipped.to_string(),
                    r.failed.to_string(),
                    r.status.clone(),
                ],
                status: r.row_class.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// A lock held by another open file of the same path, as another sortmark would hold it.
    fn held_lock() -> (tempfile::TempDir, std::fs::File, std::fs::File) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".index.lock");
        let open = || {
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .unwrap()
        };
        let holder = open();
        holder.lock().unwrap();
        (dir, holder, open())
    }

    #[test]
    fn a_lock_held_elsewhere_is_waited_for_a_bounded_time() {
        let (_dir, _holder, waiter) = held_lock();
        let started = Instant::now();
        let e = lock_within(&waiter, Duration::from_millis(200), &|| false).unwrap_err();
        assert!(e.to_string().contains("has held it for"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn a_stop_ends_the_wait_at_once() {
        let (_dir, _holder, waiter) = held_lock();
        let started = Instant::now();
        let e = lock_within(&waiter, Duration::from_secs(60), &|| true).unwrap_err();
        assert!(e.to_string().contains("interrupted"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn updating_the_index_leaves_no_lock_file() {
        let dir = tempfile::tempdir().unwrap();
        update(dir.path()).unwrap();
        assert!(dir.path().join("index.html").is_file());
        assert!(!dir.path().join(".index.lock").exists());
    }

    #[test]
    fn a_lock_on_a_removed_file_is_taken_again_on_the_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".index.lock");
        let stale = std::fs::File::create(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(!names_file(&path, &stale));
        let lock = take_lock(&path).unwrap();
        assert!(names_file(&path, &lock));
    }

    #[test]
    fn a_free_lock_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let file = std::fs::File::create(dir.path().join(".index.lock")).unwrap();
        lock_within(&file, Duration::from_millis(10), &|| false).unwrap();
    }
}
