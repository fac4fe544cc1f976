//! What a run needs from the machine: derived from the report definition and the build, it
//! decides which facts are probed and which checks are made.

use std::path::Path;

use crate::catalog::BackendKind;
use crate::definition::ReportDef;
use crate::env::Environment;

/// What a run needs from the machine, as far as the compatibility checks care: which build
/// runs it, how many CPU threads it uses at most, whether it runs CUDA and which Python
/// interpreters its peers run. It decides what is probed and which checks are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunNeeds {
    /// `release` or `debug`.
    pub profile: String,
    /// The target and rustc, shown with the profile.
    pub toolchain: String,
    /// The largest CPU thread count any case uses.
    pub max_threads: Option<u32>,
    /// Some sweep runs on sortmark's CUDA backend.
    pub uses_cuda: bool,
    /// Python interpreters the definition's peers run (as written: `python3`, a path ...).
    pub python_interpreters: Vec<String>,
    /// Those of `python_interpreters` that run a peer using CuPy: only they get CuPy's checks,
    /// so that a NumPy-only definition is not told that CuPy is missing.
    pub cupy_interpreters: Vec<String>,
}

impl RunNeeds {
    /// What running `definition` with the build described by `environment` needs; `folder`
    /// is the definition's, where its peers' paths start.
    pub fn new(
        environment: &Environment,
        definition: &ReportDef,
        max_threads: Option<u32>,
        folder: &Path,
    ) -> Self {
        let mut interpreters: Vec<String> = Vec::new();
        let mut cupy_interpreters: Vec<String> = Vec::new();
        for command in definition.sweeps().filter_map(|s| s.command.as_deref()) {
            let Some(interpreter) = python_interpreter(command) else {
                continue;
            };
            if uses_cupy(command, folder) && !cupy_interpreters.contains(&interpreter) {
                cupy_interpreters.push(interpreter.clone());
            }
            if !interpreters.contains(&interpreter) {
                interpreters.push(interpreter);
            }
        }
        RunNeeds {
            profile: environment.toolchain.profile.clone(),
            toolchain: format!(
                "{}, {}",
                environment.toolchain.target, environment.toolchain.rustc
            ),
            max_threads,
            uses_cuda: definition.sweeps().any(|s| s.backend == BackendKind::Cuda),
            python_interpreters: interpreters,
            cupy_interpreters,
        }
    }
}

/// Whether a Python peer's command may use CuPy: its command line names CuPy, or a script it
/// runs (a `.py` word, read from `folder`) mentions it. A command whose scripts cannot be read
/// counts as using CuPy, so that its checks are made rather than missed.
pub fn uses_cupy(command: &str, folder: &Path) -> bool {
    if command.to_lowercase().contains("cupy") {
        return true;
    }
    let scripts: Vec<Option<String>> = command
        .split_whitespace()
        .map(|w| w.trim_matches(['"', '\'']))
        .filter(|w| w.ends_with(".py"))
        .map(|w| std::fs::read_to_string(folder.join(w)).ok())
        .collect();
    scripts.is_empty()
        || scripts
            .iter()
            .any(|s| s.as_ref().is_none_or(|text| text.contains("cupy")))
}

/// The interpreter a peer's command line runs: its first word naming python (`python3`,
/// `/opt/venv/bin/python`, or after `env`/`uv run`), else `python3` for a bare `script.py`.
pub fn python_interpreter(command: &str) -> Option<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let is_python = |w: &&str| {
        let base = w.rsplit('/').next().unwrap_or(w);
        base.starts_with("python") && !base.ends_with(".py")
    };
    if let Some(word) = words.iter().find(|w| is_python(w)) {
        return Some(word.to_string());
    }
    words
        .first()
        .filter(|w| w.ends_with(".py"))
        .map(|_| "python3".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_interpreter_in_a_peer_command() {
        assert_eq!(
            python_interpreter("python3 reports/peers/cupy_sort.py {n}").as_deref(),
            Some("python3")
        );
        assert_eq!(
            python_interpreter("/opt/venv/bin/python peer.py").as_deref(),
            Some("/opt/venv/bin/python")
        );
        assert_eq!(
            python_interpreter("env python3.12 peer.py").as_deref(),
            Some("python3.12")
        );
        assert_eq!(
            python_interpreter("reports/peers/cupy_sort.py --n {n}").as_deref(),
            Some("python3")
        );
        assert_eq!(python_interpreter("./my_sorter --n {n}"), None);
    }

    #[test]
    fn only_peers_that_may_use_cupy_get_its_checks() {
        let folder = tempfile::tempdir().unwrap();
        let write =
            |name: &str, text: &str| std::fs::write(folder.path().join(name), text).unwrap();
        write("numpy_sort.py", "import numpy as np\n");
        write("gpu_sort.py", "import cupy as cp\n");
        let uses = |command: &str| uses_cupy(command, folder.path());
        assert!(!uses("python3 numpy_sort.py --n {n}"));
        assert!(uses("python3 gpu_sort.py --n {n}"));
        assert!(uses("python3 peers/cupy_sort.py --n {n}"), "named for CuPy");
        assert!(
            uses("python3 missing.py"),
            "unreadable: checked rather than missed"
        );
    }
}
