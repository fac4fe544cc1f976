//! Putting a comparison's files in place whole or not at all: every output is built in
//! memory, written into a temporary folder beside the destination, and renamed into place.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{CompareError, Comparison};

/// Every file of a comparison, by its path inside the comparison folder.
#[derive(Debug, Clone)]
pub struct Outputs {
    /// Relative path and contents.
    pub files: Vec<(String, Vec<u8>)>,
}

impl Outputs {
    /// Renders every output of `comparison` in memory.
    pub fn render(comparison: &Comparison) -> anyhow::Result<Outputs> {
        let plots = super::plots::draw(comparison)?;
        let mut files = vec![
            ("compare.json".to_string(), super::json::render(comparison)?),
            (
                "compare.md".to_string(),
                super::markdown::render(comparison, &plots).into_bytes(),
            ),
            (
                "compare.html".to_string(),
                super::html::render(comparison, &plots)?.into_bytes(),
            ),
        ];
        files.extend(plots.into_iter().map(|p| (p.png_path, p.png)));
        Ok(Outputs { files })
    }
}

/// Refuses a destination that exists: a comparison never overwrites anything.
pub fn refuse_existing(dir: &Path) -> Result<(), CompareError> {
    if dir.exists() {
        Err(CompareError::OutputExists(dir.to_path_buf()))
    } else {
        Ok(())
    }
}

/// Writes `outputs` as the new folder `dir`: into a temporary folder beside it, renamed into
/// place at the end, so `dir` appears complete or not at all.
pub fn write_outputs(dir: &Path, outputs: &Outputs) -> Result<(), CompareError> {
    refuse_existing(dir)?;
    let staging = staging_dir(dir).map_err(CompareError::Write)?;
    let written = write_files(&staging, outputs).and_then(|()| {
        fs::rename(&staging, dir)
            .with_context(|| format!("could not move the comparison to {}", dir.display()))
    });
    if written.is_err() {
        // A half-written staging folder is of no use; the error says what went wrong.
        let _ = fs::remove_dir_all(&staging);
    }
    written.map_err(CompareError::Write)
}

/// A fresh temporary folder beside `dir`, on the same file system so the rename is atomic:
/// created exclusively under an unpredictable name, so nothing planted beside `dir` is reused.
fn staging_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    let name = dir
        .file_name()
        .with_context(|| format!("{} has no folder name", dir.display()))?;
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let staging = parent.join(crate::file_names::temporary(&name.to_string_lossy()));
    fs::create_dir(&staging).with_context(|| format!("could not create {}", staging.display()))?;
    Ok(staging)
}

/// Writes every file under `root`, creating their folders.
fn write_files(root: &Path, outputs: &Outputs) -> anyhow::Result<()> {
    for (relative, bytes) in &outputs.files {
        let path = root.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .with_context(|| format!("could not create {}", parent.display()))?;
        }
        fs::write(&path, bytes).with_context(|| format!("could not write {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outputs() -> Outputs {
        Outputs {
            files: vec![
                ("a.json".to_string(), b"{}".to_vec()),
                ("sub/b.png".to_string(), b"png".to_vec()),
            ],
        }
    }

    #[test]
    fn the_folder_appears_whole_and_is_never_overwritten() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("cmp");
        write_outputs(&dir, &outputs()).unwrap();
        assert_eq!(fs::read(dir.join("sub/b.png")).unwrap(), b"png");
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 1);
        let e = write_outputs(&dir, &outputs()).unwrap_err();
        assert!(matches!(e, CompareError::OutputExists(_)), "{e}");
    }
}
