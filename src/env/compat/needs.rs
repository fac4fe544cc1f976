//! What a run needs from the machine: derived from the report definition and the build, it
//! decides which facts are probed and which checks are made.

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
}

impl RunNeeds {
    /// What running `definition` with the build described by `environment` needs.
    pub fn new(
        environment: &Environment,
        definition: &ReportDef,
        max_threads: Option<u32>,
    ) -> Self {
        let mut interpreters: Vec<String> = Vec::new();
        for sweep in definition.sweeps() {
            if let Some(interpreter) = sweep.command.as_deref().and_then(python_interpreter)
                && !interpreters.contains(&interpreter)
            {
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
        }
    }
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
}
