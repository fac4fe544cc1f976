//! The journal of a run in flight: one JSON line per finished case, appended to
//! `cases.jsonl` beside `results.json` as soon as the case is done.
//!
//! Saving a case writes only its own line, so the 10,000th case costs what the first did;
//! rewriting `results.json` after every case made a run's saving cost grow with the square of
//! its cases. `results.json` is written whole when the run starts and when it ends (the
//! journal folded in, then removed); in between, and after a crash, [`fold_into`] reads the
//! journal's cases into the run that [`super::archive::load_run`] returns, so `render`, `list`
//! and `--resume` see every case that finished.
//!
//! A process killed mid-line leaves a last line without its newline: such a line, or any line
//! that is not a case, is not a result, and its case runs again on resume.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::plan::CaseId;
use crate::record::{CaseResult, Run};

/// The journal's file name in a run folder.
pub const FILE: &str = "cases.jsonl";

/// A run folder's journal, open for appending.
#[derive(Debug)]
pub struct Journal {
    file: File,
    path: PathBuf,
}

impl Journal {
    /// Opens (or creates) the journal of the run folder `dir` for appending. A last line cut
    /// short by a killed process is closed first, so the next case starts a line of its own.
    pub fn open(dir: &Path) -> anyhow::Result<Journal> {
        let path = dir.join(FILE);
        let mut file = open_append(&path)
            .with_context(|| format!("could not open the journal {}", path.display()))?;
        if !ends_with_newline(&mut file)? {
            file.write_all(b"\n")
                .with_context(|| format!("could not write {}", path.display()))?;
        }
        Ok(Journal { file, path })
    }

    /// Appends one finished case as one line, written by one call and flushed to the disk: a
    /// case the journal took survives the process being killed, and a power loss.
    pub fn append(&mut self, case: &CaseResult) -> anyhow::Result<()> {
        let mut line = serde_json::to_vec(case).context("could not serialize a case")?;
        line.push(b'\n');
        self.file
            .write_all(&line)
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("could not write {}", self.path.display()))
    }
}

/// Opens `path` for appending, creating it private to the run's files; never follows a link.
fn open_append(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options.open(path)
}

/// Whether the file is empty or its last byte is a newline.
fn ends_with_newline(file: &mut File) -> anyhow::Result<bool> {
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(true);
    }
    let mut last = [0u8];
    file.seek(SeekFrom::Start(len - 1))?;
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

/// The cases of the journal in `dir`, in the order they finished; no journal is no case.
/// Only whole lines that are cases count (see the module's doc).
pub fn read(dir: &Path) -> anyhow::Result<Vec<CaseResult>> {
    let path = dir.join(FILE);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("could not read {}", path.display())),
    };
    let whole = bytes
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(&[][..], |end| &bytes[..end]);
    Ok(whole
        .split(|&b| b == b'\n')
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect())
}

/// Adds to `run` the journal's cases it does not hold yet (each case once, however often the
/// journal names it), and derives what depends on other cases again. Returns how many it added.
pub fn fold_into(dir: &Path, run: &mut Run) -> anyhow::Result<usize> {
    let journaled = read(dir)?;
    let before = run.cases.len();
    let mut seen: HashSet<String> = run.cases.iter().map(|c| key(c.id())).collect();
    for case in journaled {
        if seen.insert(key(case.id())) {
            run.cases.push(case);
        }
    }
    let added = run.cases.len() - before;
    if added > 0 {
        run.derive_thread_scaling();
    }
    Ok(added)
}

/// A case id as an owned key (its fields, strings quoted, so no two ids share one).
fn key(id: CaseId<'_>) -> String {
    format!("{id:?}")
}

/// Removes the journal of `dir`, once its cases are in `results.json`.
pub fn remove(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join(FILE);
    match fs::remove_file(&path) {
        Ok(()) => crate::file_names::sync_folder(dir)
            .with_context(|| format!("could not sync {}", dir.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e).with_context(|| format!("could not remove {}", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{archive, example_case};

    /// The example case of size `n`.
    fn case(n: u64) -> CaseResult {
        CaseResult {
            n,
            ..example_case()
        }
    }

    fn sizes(cases: &[CaseResult]) -> Vec<u64> {
        cases.iter().map(|c| c.n).collect()
    }

    #[test]
    fn each_case_is_one_line_read_back_in_the_order_it_finished() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path()).unwrap();
        for n in [64, 16, 32] {
            journal.append(&case(n)).unwrap();
        }
        let text = fs::read_to_string(dir.path().join(FILE)).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert_eq!(sizes(&read(dir.path()).unwrap()), [64, 16, 32]);
    }

    #[test]
    fn appending_a_case_writes_its_line_alone_whatever_came_before() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path()).unwrap();
        let line = serde_json::to_vec(&case(7)).unwrap().len() as u64 + 1;
        let mut growth = Vec::new();
        for _ in 0..200 {
            let before = fs::metadata(dir.path().join(FILE)).unwrap().len();
            journal.append(&case(7)).unwrap();
            growth.push(fs::metadata(dir.path().join(FILE)).unwrap().len() - before);
        }
        assert!(growth.iter().all(|&g| g == line), "{growth:?}");
    }

    #[test]
    fn a_line_cut_short_by_a_kill_is_no_case_and_the_next_case_starts_its_own_line() {
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path()).unwrap();
        journal.append(&case(1)).unwrap();
        let whole = serde_json::to_string(&case(2)).unwrap();
        let mut file = open_append(&dir.path().join(FILE)).unwrap();
        file.write_all(&whole.as_bytes()[..whole.len() / 2])
            .unwrap();
        assert_eq!(
            sizes(&read(dir.path()).unwrap()),
            [1],
            "the torn line is no case"
        );
        let mut resumed = Journal::open(dir.path()).unwrap();
        resumed.append(&case(3)).unwrap();
        assert_eq!(sizes(&read(dir.path()).unwrap()), [1, 3]);
    }

    #[test]
    fn no_journal_is_no_case() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read(dir.path()).unwrap().is_empty());
        remove(dir.path()).unwrap();
    }

    /// A run saved with `saved` cases in `results.json` and `journaled` in its journal.
    fn run_folder(saved: &[u64], journaled: &[u64]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let mut run: Run =
            serde_json::from_str(include_str!("../../tests/fixtures/results/v4.json")).unwrap();
        run.cases = saved.iter().map(|&n| case(n)).collect();
        archive::save_results(dir.path(), &run).unwrap();
        let mut journal = Journal::open(dir.path()).unwrap();
        for &n in journaled {
            journal.append(&case(n)).unwrap();
        }
        dir
    }

    #[test]
    fn loading_a_run_folds_in_its_journal_each_case_once() {
        // A crash after results.json was written whole and before the journal was removed
        // leaves cases in both.
        let dir = run_folder(&[1, 2], &[2, 3, 4, 3]);
        let run = archive::load_run(dir.path()).unwrap();
        assert_eq!(sizes(&run.cases), [1, 2, 3, 4]);
    }

    #[test]
    fn saving_folded_keeps_every_case_in_results_json_and_removes_the_journal() {
        let dir = run_folder(&[1], &[2, 3]);
        let run = archive::load_run(dir.path()).unwrap();
        archive::save_folded(dir.path(), &run).unwrap();
        assert!(!dir.path().join(FILE).exists());
        assert_eq!(
            sizes(&archive::load_run(dir.path()).unwrap().cases),
            [1, 2, 3]
        );
    }
}
