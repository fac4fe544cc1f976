//! `sortmark run` (a new run or `--resume`) and `sortmark reproduce`: the commands that
//! measure, each ending with the run folder as the last line of stdout.

use sortmark::terminal;
use std::path::Path;
use std::process::ExitCode;

use sortmark::record::Run;
use sortmark::reproduce::{ReproduceError, ReproduceOptions};
use sortmark::runner::{self, DefinitionReadError, ResumeError, RunOptions, Verbosity};

use super::{
    EXIT_ERROR, EXIT_FAILED, EXIT_INTERRUPTED, EXIT_NO_GPU, EXIT_OK, EXIT_REFUSED, RunArgs,
};

/// Installs the Ctrl-C and SIGTERM handlers of a command that measures; a second Ctrl-C kills
/// the running peers' processes before sortmark exits.
fn catch_interrupts() {
    if let Err(e) = sortmark::interrupt::install(sortmark::backend::command::end_running_peers) {
        terminal::err_line(&format!("warning: Ctrl-C will not save a partial run: {e}"));
    }
}

/// `sortmark run [DEFINITION]` and `sortmark run --resume RUN_DIR`.
pub fn run(args: RunArgs, verbosity: Verbosity) -> ExitCode {
    catch_interrupts();
    if let Some(dir) = &args.resume {
        return resume(dir, verbosity);
    }
    let shard = match args.shard_to_run() {
        Ok(shard) => shard,
        Err(e) => {
            terminal::err_line(&format!("error: {e}"));
            return ExitCode::from(EXIT_REFUSED);
        }
    };
    let limits = runner::machine_limits();
    let overrides = args.overrides.overrides();
    let definition = match runner::read_definition(args.definition.as_deref(), &overrides, &limits)
    {
        Ok(d) => d,
        Err(e) => return definition_error(&e),
    };
    let options = RunOptions {
        archive_root: args.out,
        anonymize: args.anonymize,
        command_line: std::env::args().collect(),
        verbosity,
        shard,
    };
    match runner::execute(definition, &options) {
        Ok((dir, run)) => finished(&dir, &run, verbosity),
        Err(e) => {
            terminal::err_line(&format!("error: {e:#}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// `sortmark run --resume RUN_DIR`.
fn resume(dir: &Path, verbosity: Verbosity) -> ExitCode {
    match runner::resume(dir, &runner::machine_limits(), verbosity) {
        Ok((dir, run)) => finished(&dir, &run, verbosity),
        Err(
            e @ (ResumeError::DefinitionChanged(_)
            | ResumeError::Invalid(_)
            | ResumeError::PeerChanged(_)),
        ) => {
            terminal::err_line(&format!("error: {e}"));
            ExitCode::from(EXIT_REFUSED)
        }
        Err(e) => {
            terminal::err_line(&format!("error: {e}"));
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// `sortmark reproduce RUN_DIR`; with `-q`, only the new run's folder is printed.
pub fn reproduce(run_dir: &Path, options: &ReproduceOptions) -> ExitCode {
    catch_interrupts();
    let quiet = options.verbosity == Verbosity::Quiet;
    match sortmark::reproduce::reproduce(run_dir, options, &runner::machine_limits()) {
        Ok(done) => {
            let Some(comparison) = &done.comparison else {
                return finished(&done.run_dir, &done.run, options.verbosity);
            };
            if !quiet {
                terminal::out(&sortmark::report::terminal::render(&done.run));
                terminal::out(&sortmark::compare::terminal::render(comparison));
                terminal::out_line(&comparison.reproduction_summary());
                if let Some(dir) = &done.compare_dir {
                    terminal::err_line(&format!("wrote {}", dir.display()));
                }
            }
            terminal::out_line(&format!("{}", done.run_dir.display()));
            ExitCode::from(if comparison.any_slower() {
                EXIT_FAILED
            } else {
                EXIT_OK
            })
        }
        Err(e) => reproduce_error(&e),
    }
}

fn reproduce_error(e: &ReproduceError) -> ExitCode {
    terminal::err_line(&format!("error: {e}"));
    ExitCode::from(if e.not_reproducible() {
        EXIT_REFUSED
    } else {
        EXIT_ERROR
    })
}

/// Reports a run's outcome and prints its folder as the last line of stdout (`-q`: the
/// folder and what went wrong only).
///
/// The results and the checks that failed or warned go to stdout, the counts and errors to
/// stderr: `run_dir=$(sortmark run … | tail -n 1)` takes the folder, and a reader who
/// redirects stdout to a file keeps the results with it.
fn finished(dir: &Path, run: &Run, verbosity: Verbosity) -> ExitCode {
    let (ok, skipped, failed) = run.counts();
    if verbosity != Verbosity::Quiet {
        terminal::out(&sortmark::report::terminal::render(run));
        terminal::err_line(&format!("{ok} ok, {skipped} skipped, {failed} failed"));
    }
    if run.has_failures() {
        terminal::err_line(&format!(
            "error: {failed} case(s) FAILED; see their reasons in {}",
            dir.join("results.json").display()
        ));
    }
    if run.interrupted {
        terminal::err_line(&format!(
            "interrupted: the finished cases are saved; finish with `sortmark run --resume {}`",
            dir.display()
        ));
    }
    let no_gpu = run.gpu_unmeasured();
    if let Some(reason) = no_gpu {
        terminal::err_line(&format!(
            "error: no GPU case was measured: every CUDA case was skipped ({reason}); the run holds CPU results only"
        ));
    }
    terminal::out_line(&format!("{}", dir.display()));
    // A stop during rendering, after the last case, still ends the run as interrupted.
    let code = if run.interrupted || sortmark::interrupt::requested() {
        EXIT_INTERRUPTED
    } else if run.has_failures() {
        EXIT_FAILED
    } else if no_gpu.is_some() {
        EXIT_NO_GPU
    } else {
        EXIT_OK
    };
    ExitCode::from(code)
}

/// A definition that could not be read or is not valid: nothing ran.
pub fn definition_error(e: &DefinitionReadError) -> ExitCode {
    terminal::err_line(&format!("error: {e}"));
    ExitCode::from(EXIT_REFUSED)
}
