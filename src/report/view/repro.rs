//! How to reproduce a run: the command line, the version and commit, and the lines that run
//! the definition again or re-render the reports.

use serde::Serialize;

use crate::definition::template::shell_line;
use crate::record::Run;

use super::environment::commit;

/// How to reproduce the run.
#[derive(Debug, Clone, Serialize)]
pub struct ReproView {
    /// The command line that ran it, quoted for a shell.
    pub command_line: String,
    /// sortmark's version.
    pub version: String,
    /// The commit sortmark was built from, with its dirty flag.
    pub commit: String,
    /// The seed of every generated input and of the statistics' bootstrap.
    pub seed: String,
    /// Where the definition was read from.
    pub definition_path: String,
    /// The definition as it was read.
    pub definition_text: String,
    /// Shell lines that run the same definition again, with `cargo run --release --` from a
    /// checkout of sortmark (as every hint in a report is written).
    pub rerun: String,
    /// The shell line that re-renders this run's reports.
    pub rerender: String,
}

/// The recipe that reproduces `run`.
pub(super) fn repro(run: &Run) -> ReproView {
    let env = &run.environment;
    ReproView {
        command_line: shell_line(&run.command_line),
        version: env.sortmark_version.clone(),
        commit: commit(env),
        seed: run.definition.seed.to_string(),
        definition_path: run.definition_path.clone(),
        definition_text: run.definition_text.trim_end().to_string(),
        rerun: format!(
            "git checkout {}\n\
             # run the archived definition again and compare with this run:\n\
             cargo run --release -- reproduce RUN_FOLDER\n\
             # or only run it again (its peers are archived beside it):\n\
             cargo run --release -- run RUN_FOLDER/definition.toml{}",
            env.git_commit,
            overrides_args(run)
        ),
        // The same binary as the lines above: a checkout's, which needs no `cargo install`.
        rerender: "cargo run --release -- render RUN_FOLDER".to_string(),
    }
}

/// The run's `--only` and `--set`, as arguments to append to a command line (with a space
/// before them), or nothing.
fn overrides_args(run: &Run) -> String {
    let args = run.definition.overrides.to_args();
    if args.is_empty() {
        String::new()
    } else {
        format!(" {}", shell_line(&args))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_are_quoted_for_a_shell() {
        let args = ["sortmark", "run", "my defs/a.toml", "it's"].map(String::from);
        let line = shell_line(&args);
        assert_eq!(line, r#"sortmark run 'my defs/a.toml' "it's""#);
        assert_eq!(shlex::split(&line).unwrap(), args);
    }
}
