//! `sortmark reproduce`: runs an archived definition again on this machine and compares the new
//! run against the original, case by case.
//!
//! The new run executes the archived definition text with the original's `--only` and `--set`
//! (so the same seed, sweeps, sizes and settings), with its peers taken from where the original
//! found them while they are unchanged, else from the copies archived in the run folder
//! ([`crate::record::sources`]); a peer whose source changed is refused before anything runs.
//! Refusals come before the measuring starts, so a refused reproduction writes nothing.

use std::path::{Path, PathBuf};

use crate::compare::{self, CompareError, Comparison};
use crate::definition::MachineLimits;
use crate::record::sources::SourceError;
use crate::record::{Run, archive};
use crate::runner::{self, Definition, RunOptions};

/// What to reproduce and where the results go.
#[derive(Debug, Clone)]
pub struct ReproduceOptions {
    /// Archive root of the new run (`None`: the original's, so that both sit side by side).
    pub archive_root: Option<PathBuf>,
    /// The comparison's folder (`None`: `NEW_RUN/compare-<original run id>/`).
    pub compare_out: Option<PathBuf>,
    /// The verdict threshold (0.02 = 2 %).
    pub threshold: f64,
    /// Replace identifying strings in the new run's environment record.
    pub anonymize: bool,
    /// The command line, recorded in the new run.
    pub command_line: Vec<String>,
    /// How much the new run tells on stderr as it goes.
    pub verbosity: runner::Verbosity,
}

/// A finished reproduction.
#[derive(Debug)]
pub struct Reproduction {
    /// The new run's folder.
    pub run_dir: PathBuf,
    /// The new run.
    pub run: Run,
    /// The new run against the original (`None` when the new run was interrupted).
    pub comparison: Option<Comparison>,
    /// Where the comparison was written.
    pub compare_dir: Option<PathBuf>,
}

/// Why a run could not be reproduced.
#[derive(Debug, thiserror::Error)]
pub enum ReproduceError {
    /// The run folder or its results cannot be read.
    #[error("{0:#}")]
    Load(anyhow::Error),
    /// The original run did not finish: there is nothing whole to reproduce.
    #[error(
        "the run in {0} is not complete: finish it with `sortmark run --resume {0}` before reproducing it"
    )]
    Unfinished(String),
    /// A peer's source is not what the original ran.
    #[error("cannot reproduce: {0}")]
    Source(#[from] SourceError),
    /// The archived definition does not load on this machine.
    #[error("cannot reproduce: the run's definition is not valid on this machine:\n{0}")]
    Invalid(String),
    /// The new run failed to start or save.
    #[error("{0:#}")]
    Run(anyhow::Error),
    /// The comparison could not be made or written (the new run is saved).
    #[error("the new run is in {dir}, but {source}")]
    Compare {
        dir: PathBuf,
        #[source]
        source: CompareError,
    },
}

impl ReproduceError {
    /// Whether the run cannot be reproduced as it is (exit code 2), as opposed to an error
    /// reading or writing files (exit code 3).
    pub fn not_reproducible(&self) -> bool {
        match self {
            ReproduceError::Unfinished(_)
            | ReproduceError::Source(_)
            | ReproduceError::Invalid(_) => true,
            ReproduceError::Compare { source, .. } => source.runs_incomparable(),
            ReproduceError::Load(_) | ReproduceError::Run(_) => false,
        }
    }
}

/// Runs the definition archived in `run_dir` again and compares the new run against it.
pub fn reproduce(
    run_dir: &Path,
    options: &ReproduceOptions,
    limits: &MachineLimits,
) -> Result<Reproduction, ReproduceError> {
    let original = archive::load_run(run_dir).map_err(ReproduceError::Load)?;
    if !original.complete || original.interrupted {
        return Err(ReproduceError::Unfinished(run_dir.display().to_string()));
    }
    let definition = archived_definition(&original, run_dir, limits)?;
    let run_options = RunOptions {
        archive_root: options
            .archive_root
            .clone()
            .unwrap_or_else(|| archive_root_of(run_dir)),
        anonymize: options.anonymize,
        command_line: options.command_line.clone(),
        verbosity: options.verbosity,
        // A part is reproduced as the same part of the same plan.
        shard: original.shard.as_ref().map(|record| record.shard),
    };
    let (new_dir, run) = runner::execute(definition, &run_options).map_err(ReproduceError::Run)?;
    if run.interrupted {
        return Ok(Reproduction {
            run_dir: new_dir,
            run,
            comparison: None,
            compare_dir: None,
        });
    }
    let (comparison, compare_dir) = compare::compare_dirs(
        run_dir,
        &new_dir,
        options.threshold,
        options.compare_out.as_deref(),
    )
    .map_err(|source| ReproduceError::Compare {
        dir: new_dir.clone(),
        source,
    })?;
    Ok(Reproduction {
        run_dir: new_dir,
        run,
        comparison: Some(comparison),
        compare_dir: Some(compare_dir),
    })
}

/// The original's definition as it ran (its text with the same `--only` and `--set`), with its
/// peers located, ready to run again.
fn archived_definition(
    original: &Run,
    run_dir: &Path,
    limits: &MachineLimits,
) -> Result<Definition, ReproduceError> {
    let folder = runner::peer_folder(original, run_dir)?;
    let mut def = original
        .definition
        .overrides
        .load(&original.definition_path, &original.definition_text, limits)
        .map_err(|e| ReproduceError::Invalid(e.to_string()))?;
    def.name = original.definition.name.clone();
    let archived = run_dir.join("definition.toml");
    Ok(Definition {
        path: original.definition_path.clone(),
        text: original.definition_text.clone(),
        def,
        folder,
        file: archived
            .is_file()
            .then(|| std::path::absolute(&archived).unwrap_or(archived)),
    })
}

/// The archive root a run folder sits in (`ROOT/<definition-name>/<run-id>/`), or the default
/// root for a folder that is not in an archive.
fn archive_root_of(run_dir: &Path) -> PathBuf {
    match run_dir.parent().and_then(Path::parent) {
        None => PathBuf::from(archive::DEFAULT_ROOT),
        // `name/run-id` relative to here: the archive root is this folder.
        Some(root) if root.as_os_str().is_empty() => PathBuf::from("."),
        Some(root) => root.to_path_buf(),
    }
}
