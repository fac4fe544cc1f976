//! The run archive: run ids, the folder layout, and files written whole or not at all.
//!
//! Layout: `ROOT/<definition-name>/<run-id>/` holding `results.json`, `results.csv`,
//! `definition.toml` and the rendered reports.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow};

use crate::record::{Run, migrate};

/// The default archive root, relative to the working directory.
pub const DEFAULT_ROOT: &str = "reports/archive";

/// A new run id: the UTC start time and four hex digits against collisions.
pub fn new_run_id(started: chrono::DateTime<chrono::Utc>) -> String {
    let nanos = started.timestamp_subsec_nanos() as u64;
    let salt = crate::data::mix64(nanos ^ (u64::from(std::process::id()) << 32));
    format!("{}-{:04x}", started.format("%Y%m%dT%H%M%SZ"), salt & 0xffff)
}

/// Creates and returns the folder of a new run.
pub fn create_run_dir(root: &Path, definition_name: &str, run_id: &str) -> anyhow::Result<PathBuf> {
    let dir = root.join(definition_name).join(run_id);
    fs::create_dir_all(&dir)
        .with_context(|| format!("could not create run folder {}", dir.display()))?;
    Ok(dir)
}

/// Writes `contents` to `path` through a temporary file renamed into place, so a reader never
/// sees half a file, even if the process dies mid-write.
pub fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let file_name = path
        .file_name()
        .with_context(|| format!("{} has no file name", path.display()))?;
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().with_context(|| format!("could not write {}", path.display()))
}

/// Removes temporary files a killed process left behind in a run folder.
pub fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.contains(".tmp-") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Saves a run's `results.json` (its reports, `results.csv` among them, are rendered from it).
pub fn save_results(dir: &Path, run: &Run) -> anyhow::Result<()> {
    let json = serde_json::to_vec_pretty(run).context("could not serialize the run")?;
    write_atomic(&dir.join("results.json"), &json)
}

/// Reads a run folder's `results.json` of any schema version up to this build's, made into the
/// current version by [`migrate::to_current`].
pub fn load_run(dir: &Path) -> anyhow::Result<Run> {
    let path = dir.join("results.json");
    let text =
        fs::read_to_string(&path).with_context(|| format!("could not read {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let value = migrate::to_current(value).map_err(|e| anyhow!("{} {e}", path.display()))?;
    serde_json::from_value(value)
        .with_context(|| format!("{} does not match the results format", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_by_time() {
        let a = chrono::DateTime::parse_from_rfc3339("2026-11-24T06:00:00Z")
            .unwrap()
            .to_utc();
        let b = chrono::DateTime::parse_from_rfc3339("2026-11-24T07:00:00Z")
            .unwrap()
            .to_utc();
        let (ia, ib) = (new_run_id(a), new_run_id(b));
        assert!(
            ia.starts_with("20261124T060000Z-") && ia.len() == 21,
            "{ia}"
        );
        assert!(ia < ib);
    }

    #[test]
    fn atomic_write_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        write_atomic(&path, b"{}").unwrap();
        write_atomic(&path, b"[1]").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "[1]");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        fs::write(dir.path().join(".x.json.tmp-99"), "half").unwrap();
        remove_stale_temporaries(dir.path());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn refuses_foreign_and_future_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("results.json"), r#"{"schema": 999}"#).unwrap();
        let e = load_run(dir.path()).unwrap_err().to_string();
        assert!(e.contains("newer"), "{e}");
        fs::write(dir.path().join("results.json"), r#"{"hello": 1}"#).unwrap();
        assert!(
            load_run(dir.path())
                .unwrap_err()
                .to_string()
                .contains("no `schema`")
        );
        fs::write(dir.path().join("results.json"), "{not json").unwrap();
        assert!(
            load_run(dir.path())
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );
    }
}
