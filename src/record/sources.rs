//! The files a run's outside programs came from, by content: the definition and every peer
//! source its commands name, each with a SHA-256, so that a resume or a reproduction runs the
//! same programs or refuses to.
//!
//! A peer source is a word of a sweep's `command` that names a file relative to the definition's
//! folder (`peers/numpy_sort.py`, `peers/cub_sort.cu`), and the Python modules beside a Python
//! source that it imports (`peer_common.py`), since those change what the peer does as much as
//! the script itself. Programs found on the PATH (`python3`, `nvcc`) are the machine's software,
//! recorded by the environment checks instead.
//!
//! The sources are copied into the run folder at the same relative paths, so that the folder's
//! `definition.toml` runs from the folder itself, on any machine.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

use anyhow::Context;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::definition::ReportDef;
use crate::definition::template::Template;

/// Where a run's commands ran and the files they ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Sources {
    /// The absolute folder the commands ran in and relative paths started from: the
    /// definition's folder (the working directory for the built-in definition).
    pub folder: String,
    /// The definition file, by absolute path (`None`: the built-in definition).
    pub definition: Option<SourceFile>,
    /// Every peer source, by path relative to `folder`, sorted.
    pub peers: Vec<SourceFile>,
}

/// One file, by content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SourceFile {
    /// The path as the definition names it (peers: relative to the folder).
    pub path: String,
    /// SHA-256 of the contents, in lowercase hex.
    pub sha256: String,
    /// Whether a copy is kept in the run folder at `path`.
    pub archived: bool,
}

/// Why the programs of a run cannot be run again as they were.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error(
        "{path} changed since the run (SHA-256 {then} then, {now} now): running it would measure a different program"
    )]
    Changed {
        path: String,
        then: String,
        now: String,
    },
    #[error(
        "{path} is neither where the run found it ({original}) nor archived in the run folder: the run cannot be repeated without it"
    )]
    Missing { path: String, original: String },
}

impl Sources {
    /// The sources of `def`, whose relative paths start at `folder` (absolute); `definition`
    /// is the definition's absolute path and the text that ran (`None`: the built-in one).
    /// Words that name no file are left out; a file that exists but cannot be read is an error.
    pub fn collect(
        folder: &Path,
        definition: Option<(&Path, &str)>,
        def: &ReportDef,
    ) -> anyhow::Result<Sources> {
        let definition = definition.map(|(path, text)| SourceFile {
            path: path.display().to_string(),
            sha256: sha256_hex(text.as_bytes()),
            archived: false,
        });
        let mut peers = Vec::new();
        for relative in peer_paths(folder, def) {
            let path = folder.join(&relative);
            let bytes =
                fs::read(&path).with_context(|| format!("could not read {}", path.display()))?;
            peers.push(SourceFile {
                path: relative.display().to_string(),
                sha256: sha256_hex(&bytes),
                archived: is_plain_relative(&relative),
            });
        }
        Ok(Sources {
            folder: folder.display().to_string(),
            definition,
            peers,
        })
    }

    /// Copies every archivable peer source into `run_dir` at its relative path, with its
    /// permissions (an executable peer stays executable).
    pub fn archive_into(&self, run_dir: &Path) -> anyhow::Result<()> {
        for peer in self.peers.iter().filter(|p| p.archived) {
            let from = Path::new(&self.folder).join(&peer.path);
            let to = run_dir.join(&peer.path);
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent)
                    .with_context(|| format!("could not create {}", parent.display()))?;
            }
            let bytes =
                fs::read(&from).with_context(|| format!("could not read {}", from.display()))?;
            crate::record::archive::write_atomic(&to, &bytes)?;
            let permissions = fs::metadata(&from)
                .with_context(|| format!("could not read {}", from.display()))?
                .permissions();
            fs::set_permissions(&to, permissions)
                .with_context(|| format!("could not set the permissions of {}", to.display()))?;
        }
        Ok(())
    }

    /// The folder to run the peers from again: where the run found them when every source is
    /// still there unchanged; else the run folder's archived copies when none of the sources is
    /// still there. A source that is there but changed is refused, whatever the copies hold: a
    /// user who edited a peer expects the edited one to run, or to be told.
    pub fn locate(&self, run_dir: &Path) -> Result<PathBuf, SourceError> {
        let original = PathBuf::from(&self.folder);
        let mut missing = Vec::new();
        for peer in &self.peers {
            match sha256_of(&original.join(&peer.path)) {
                Some(now) if now == peer.sha256 => {}
                Some(now) => {
                    return Err(SourceError::Changed {
                        path: original.join(&peer.path).display().to_string(),
                        then: short(&peer.sha256),
                        now: short(&now),
                    });
                }
                None => missing.push(peer),
            }
        }
        if missing.is_empty() {
            return Ok(original);
        }
        for peer in &self.peers {
            let copy = run_dir.join(&peer.path);
            match sha256_of(&copy) {
                Some(now) if peer.archived && now == peer.sha256 => {}
                Some(now) if peer.archived => {
                    return Err(SourceError::Changed {
                        path: copy.display().to_string(),
                        then: short(&peer.sha256),
                        now: short(&now),
                    });
                }
                _ => {
                    return Err(SourceError::Missing {
                        path: peer.path.clone(),
                        original: original.join(&peer.path).display().to_string(),
                    });
                }
            }
        }
        Ok(run_dir.to_path_buf())
    }
}

/// SHA-256 of a file's contents in lowercase hex, or `None` when it cannot be read.
pub fn sha256_of(path: &Path) -> Option<String> {
    fs::read(path).ok().map(|bytes| sha256_hex(&bytes))
}

/// SHA-256 of `bytes` in lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first 12 hex digits, enough to tell two versions apart in a message.
fn short(sha: &str) -> String {
    sha.chars().take(12).collect()
}

/// The relative paths of every peer source of `def`, sorted, each once.
fn peer_paths(folder: &Path, def: &ReportDef) -> BTreeSet<PathBuf> {
    let mut found = BTreeSet::new();
    let commands = def.sweeps().filter_map(|s| s.command.as_deref());
    for template in commands.filter_map(|c| Template::parse(c).ok()) {
        for word in template.literal_words() {
            let path = Path::new(word);
            if path.is_relative() && folder.join(path).is_file() {
                add_with_imports(folder, path.to_path_buf(), &mut found);
            }
        }
    }
    found
}

/// Adds `path` and, for a Python source, the modules beside it that it imports, transitively.
fn add_with_imports(folder: &Path, path: PathBuf, found: &mut BTreeSet<PathBuf>) {
    if !found.insert(path.clone()) || path.extension().is_none_or(|e| e != "py") {
        return;
    }
    let Ok(text) = fs::read_to_string(folder.join(&path)) else {
        return;
    };
    let beside = path.parent().unwrap_or(Path::new(""));
    for module in python_imports(&text) {
        let candidate = beside.join(format!("{module}.py"));
        if folder.join(&candidate).is_file() {
            add_with_imports(folder, candidate, found);
        }
    }
}

/// The top-level module names of a Python source's `import a, b` and `from a import x` lines.
fn python_imports(text: &str) -> Vec<&str> {
    let mut modules = Vec::new();
    for line in text.lines().map(str::trim_start) {
        let names = if let Some(rest) = line.strip_prefix("import ") {
            rest.split(',').collect()
        } else if let Some(rest) = line.strip_prefix("from ") {
            rest.split_whitespace().take(1).collect()
        } else {
            Vec::new()
        };
        for name in names {
            let name = name.split_whitespace().next().unwrap_or("");
            let top = name.split('.').next().unwrap_or("");
            if !top.is_empty() && top.chars().all(|c| c.is_alphanumeric() || c == '_') {
                modules.push(top);
            }
        }
    }
    modules
}

/// A relative path that stays below its folder (no `..`, no root): safe to copy into a run
/// folder at the same path.
fn is_plain_relative(path: &Path) -> bool {
    path.components()
        .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::definition::MachineLimits;

    const LIMITS: MachineLimits = MachineLimits {
        logical_cores: 4,
        host_memory_bytes: 1 << 34,
    };

    /// A definition in `dir` with one command sweep running `command`.
    fn definition(dir: &Path, command: &str) -> ReportDef {
        let text = format!(
            "title = \"t\"\n[[cell]]\nsweep = {{ name = \"p\", backend = \"command\", algorithms = [\"x\"], \
             keys = [\"u32\"], sizes = [\"2^10\"], command = {command:?} }}\n"
        );
        let path = dir.join("def.toml");
        fs::write(&path, &text).unwrap();
        crate::definition::load(&path.display().to_string(), &text, &LIMITS).unwrap()
    }

    fn peer_folder() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("peers")).unwrap();
        fs::write(
            dir.path().join("peers/sort.py"),
            "import sys, json\nfrom common import report\n",
        )
        .unwrap();
        fs::write(dir.path().join("peers/common.py"), "import os\n").unwrap();
        fs::write(dir.path().join("peers/unused.py"), "").unwrap();
        dir
    }

    #[test]
    fn peers_are_the_named_files_and_their_local_imports() {
        let dir = peer_folder();
        let def = definition(dir.path(), "python3 peers/sort.py --n {n} --out x.bin");
        let text = fs::read_to_string(dir.path().join("def.toml")).unwrap();
        let sources = Sources::collect(
            dir.path(),
            Some((&dir.path().join("def.toml"), &text)),
            &def,
        )
        .unwrap();
        let paths: Vec<&str> = sources.peers.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["peers/common.py", "peers/sort.py"]);
        assert!(
            sources
                .peers
                .iter()
                .all(|p| p.archived && p.sha256.len() == 64)
        );
        assert_eq!(
            sources.definition.unwrap().sha256,
            sha256_hex(text.as_bytes())
        );
    }

    #[test]
    fn unchanged_sources_run_where_they_were() {
        let dir = peer_folder();
        let def = definition(dir.path(), "python3 peers/sort.py");
        let sources = Sources::collect(dir.path(), None, &def).unwrap();
        let run_dir = tempfile::tempdir().unwrap();
        assert_eq!(sources.locate(run_dir.path()).unwrap(), dir.path());
    }

    #[test]
    fn a_changed_source_is_refused_with_both_hashes() {
        let dir = peer_folder();
        let def = definition(dir.path(), "python3 peers/sort.py");
        let sources = Sources::collect(dir.path(), None, &def).unwrap();
        fs::write(dir.path().join("peers/common.py"), "import os  # edited\n").unwrap();
        let run_dir = tempfile::tempdir().unwrap();
        let e = sources.locate(run_dir.path()).unwrap_err();
        assert!(
            matches!(&e, SourceError::Changed { path, .. } if path.ends_with("peers/common.py"))
        );
        assert!(
            e.to_string().contains(&sources.peers[0].sha256[..12]),
            "{e}"
        );
    }

    #[test]
    fn archived_copies_stand_in_when_the_originals_are_gone() {
        let dir = peer_folder();
        let def = definition(dir.path(), "python3 peers/sort.py");
        let sources = Sources::collect(dir.path(), None, &def).unwrap();
        let run_dir = tempfile::tempdir().unwrap();
        sources.archive_into(run_dir.path()).unwrap();
        assert!(run_dir.path().join("peers/common.py").is_file());
        fs::remove_dir_all(dir.path().join("peers")).unwrap();
        assert_eq!(sources.locate(run_dir.path()).unwrap(), run_dir.path());
        fs::write(run_dir.path().join("peers/sort.py"), "tampered").unwrap();
        assert!(matches!(
            sources.locate(run_dir.path()),
            Err(SourceError::Changed { .. })
        ));
        fs::remove_file(run_dir.path().join("peers/sort.py")).unwrap();
        assert!(matches!(
            sources.locate(run_dir.path()),
            Err(SourceError::Missing { .. })
        ));
    }

    #[test]
    fn python_imports_reads_both_forms() {
        let text = "import a, b.c as d\nfrom e.f import g\n  import h\nx = 'import no'\n";
        assert_eq!(python_imports(text), ["a", "b", "e", "h"]);
    }
}
