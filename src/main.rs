//! The sortmark command line: parse arguments, call the library, map outcomes to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use sortmark::runner::{self, DefinitionReadError, RunOptions};

/// Exit code of a run whose cases all verified.
const EXIT_OK: u8 = 0;
/// Exit code when a case failed (a wrong output, an error).
const EXIT_CASE_FAILED: u8 = 1;
/// Exit code for a definition that is missing or invalid; nothing ran.
const EXIT_BAD_DEFINITION: u8 = 2;
/// Exit code for any other error (I/O, a corrupt run folder). A run stopped by Ctrl-C or
/// SIGTERM exits with [`sortmark::interrupt::EXIT_INTERRUPTED`].
const EXIT_ERROR: u8 = 3;

#[derive(Parser)]
#[command(
    name = "sortmark",
    version,
    about = "Executed, archived, shareable reports on sort performance"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a report definition (default: the built-in reports/quick.toml).
    Run {
        /// The definition (a TOML file); leave out for the built-in quick report.
        #[arg(conflicts_with = "resume")]
        definition: Option<PathBuf>,
        /// Finish an interrupted run in RUN_DIR instead of starting a new one.
        #[arg(long, value_name = "RUN_DIR")]
        resume: Option<PathBuf>,
        /// Archive root: the run lands in OUT/<definition-name>/<run-id>/.
        #[arg(long, default_value = sortmark::record::archive::DEFAULT_ROOT)]
        out: PathBuf,
        /// Replace the host name and other identifying strings in the report.
        #[arg(long)]
        anonymize: bool,
    },
    /// Rebuild a run's reports from its results.json, without measuring again.
    Render {
        /// The run folder (it holds results.json).
        run_dir: PathBuf,
    },
    /// List the runs in an archive.
    List {
        /// Archive root.
        #[arg(long, default_value = sortmark::record::archive::DEFAULT_ROOT)]
        out: PathBuf,
    },
    /// Check a definition without running it.
    Check {
        /// The definition (a TOML file); leave out for the built-in quick report.
        definition: Option<PathBuf>,
    },
    /// Compare two runs of one definition case by case: same, slower, faster or inconclusive.
    ///
    /// Each case's ratio is NEW's median time over BASE's, with its interval from both runs'
    /// round medians at the level shown.
    #[command(after_help = COMPARE_HELP)]
    Compare {
        /// The base run folder (it holds results.json).
        base_run: PathBuf,
        /// The new run folder, measured against BASE_RUN.
        new_run: PathBuf,
        /// A case is slower or faster only when its whole ratio interval is beyond 1 ± PCT %.
        #[arg(long, value_name = "PCT", default_value = "2", value_parser = parse_percent)]
        threshold: f64,
        /// Output folder, created by the comparison (never overwritten) [default:
        /// NEW_RUN/compare-<BASE run id>/].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Run an archived run's definition again on this machine and compare it with the original.
    ///
    /// Same definition text and seed; peers from where the original found them while their
    /// sources are unchanged, else from the copies archived in RUN_DIR. A changed peer is
    /// refused before anything runs.
    #[command(after_help = REPRODUCE_HELP)]
    Reproduce {
        /// The original run folder (it holds results.json and definition.toml).
        run_dir: PathBuf,
        /// Archive root of the new run [default: the original's archive root].
        #[arg(long, value_name = "ROOT")]
        out: Option<PathBuf>,
        /// The comparison's folder, created (never overwritten) [default:
        /// NEW_RUN/compare-<original run id>/].
        #[arg(long, value_name = "DIR")]
        compare_out: Option<PathBuf>,
        /// A case is reproduced when its whole ratio interval is within 1 ± PCT %.
        #[arg(long, value_name = "PCT", default_value = "2", value_parser = parse_percent)]
        threshold: f64,
        /// Replace the host name and other identifying strings in the new run.
        #[arg(long)]
        anonymize: bool,
    },
    /// Export a run's ok cases for a continuous-benchmarking service.
    Export {
        /// The run folder (it holds results.json).
        run_dir: PathBuf,
        /// Bencher Metric Format, or github-action-benchmark's customSmallerIsBetter JSON.
        #[arg(long, value_enum)]
        format: sortmark::export::Format,
        /// Write here instead of to stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the JSON Schema of results.json, which the repository ships as
    /// reports/schema/results.schema.json.
    #[command(hide = true)]
    Schema,
}

/// The exit codes of `sortmark compare`, shown under its `--help`.
const COMPARE_HELP: &str = "\
Verdict with threshold t: same when the whole ratio interval lies within [1-t, 1+t]; slower when
its low end is above 1+t; faster when its high end is below 1-t; inconclusive otherwise.
Writes compare.json, compare.md, compare.html and compare-plots/ into the output folder.

Exit codes:
  0  no case is slower
  1  at least one case is slower
  2  the runs cannot be compared: different definitions, a run with itself, an interrupted or
     incomplete run
  3  any other error: no results.json, unreadable JSON, an output folder that exists or cannot
     be written";

/// The exit codes of `sortmark reproduce`, shown under its `--help`.
const REPRODUCE_HELP: &str = "\
Prints the comparison of the new run against the original, ending in
`reproduced: X of N cases within ±PCT %`, then the new run's folder as the last line.

Exit codes:
  0  no case is slower than the original
  1  at least one case is slower
  2  the run cannot be reproduced: it is not complete, a peer's source changed or is gone, or
     its definition is not valid here
  3  any other error (an unreadable run folder, a comparison folder that exists)
  130  interrupted (the new run is saved; finish it with `sortmark run --resume`)";

/// Exit code of a comparison with a slower case.
const EXIT_SLOWER: u8 = 1;
/// Exit code for runs that cannot be compared.
const EXIT_INCOMPARABLE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    relaunch_with_nvrtc();
    match cli.command {
        Command::Run {
            definition,
            resume,
            out,
            anonymize,
        } => {
            if let Err(e) = sortmark::interrupt::install() {
                eprintln!("warning: Ctrl-C will not save a partial run: {e}");
            }
            match resume {
                Some(dir) => resume_run(&dir),
                None => run(definition, out, anonymize),
            }
        }
        Command::Check { definition } => check(definition),
        Command::Render { run_dir } => render(&run_dir),
        Command::List { out } => list(&out),
        Command::Compare {
            base_run,
            new_run,
            threshold,
            out,
        } => compare(&base_run, &new_run, threshold, out.as_deref()),
        Command::Reproduce {
            run_dir,
            out,
            compare_out,
            threshold,
            anonymize,
        } => {
            if let Err(e) = sortmark::interrupt::install() {
                eprintln!("warning: Ctrl-C will not save a partial run: {e}");
            }
            let options = sortmark::reproduce::ReproduceOptions {
                archive_root: out,
                compare_out,
                threshold,
                anonymize,
                command_line: std::env::args().collect(),
            };
            reproduce(&run_dir, &options)
        }
        Command::Export {
            run_dir,
            format,
            out,
        } => export(&run_dir, format, out.as_deref()),
        Command::Schema => {
            print!("{}", sortmark::record::schema::results_schema());
            ExitCode::from(EXIT_OK)
        }
    }
}

/// A `--threshold` in percent (`2`, `2.5`, `2%`) as a fraction.
fn parse_percent(text: &str) -> Result<f64, String> {
    let number = text.trim().trim_end_matches('%').trim();
    let percent: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a percentage"))?;
    if (0.0..100.0).contains(&percent) {
        Ok(percent / 100.0)
    } else {
        Err(format!("{percent} % is outside 0 to 100 %"))
    }
}

fn compare(
    base: &std::path::Path,
    new: &std::path::Path,
    threshold: f64,
    out: Option<&std::path::Path>,
) -> ExitCode {
    match sortmark::compare::compare_dirs(base, new, threshold, out) {
        Ok((comparison, dir)) => {
            print!("{}", sortmark::compare::terminal::render(&comparison));
            eprintln!("wrote {}", dir.display());
            ExitCode::from(if comparison.any_slower() {
                EXIT_SLOWER
            } else {
                EXIT_OK
            })
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.runs_incomparable() {
                EXIT_INCOMPARABLE
            } else {
                EXIT_ERROR
            })
        }
    }
}

fn reproduce(
    run_dir: &std::path::Path,
    options: &sortmark::reproduce::ReproduceOptions,
) -> ExitCode {
    match sortmark::reproduce::reproduce(run_dir, options, &runner::machine_limits()) {
        Ok(done) => {
            let Some(comparison) = &done.comparison else {
                return finished(&done.run_dir, &done.run);
            };
            print!("{}", sortmark::compare::terminal::render(comparison));
            println!("{}", comparison.reproduction_summary());
            if let Some(dir) = &done.compare_dir {
                eprintln!("wrote {}", dir.display());
            }
            println!("{}", done.run_dir.display());
            ExitCode::from(if comparison.any_slower() {
                EXIT_SLOWER
            } else {
                EXIT_OK
            })
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.not_reproducible() {
                EXIT_INCOMPARABLE
            } else {
                EXIT_ERROR
            })
        }
    }
}

fn export(
    run_dir: &std::path::Path,
    format: sortmark::export::Format,
    out: Option<&std::path::Path>,
) -> ExitCode {
    let exported = sortmark::record::archive::load_run(run_dir)
        .and_then(|run| sortmark::export::export(&run, format));
    let written = exported.and_then(|text| match out {
        Some(path) => sortmark::record::archive::write_atomic(path, text.as_bytes()),
        None => {
            print!("{text}");
            Ok(())
        }
    });
    match written {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn render(run_dir: &std::path::Path) -> ExitCode {
    match sortmark::report::render_dir(run_dir) {
        Ok(_) => {
            println!("{}", run_dir.display());
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn list(root: &std::path::Path) -> ExitCode {
    match sortmark::report::index::list(root) {
        Ok(table) => {
            print!("{table}");
            ExitCode::from(EXIT_OK)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Starts sortmark again with NVRTC findable when only a newer major version's library name is
/// installed (see `backend::cuda::nvrtc_path`); returns only when no restart is needed.
fn relaunch_with_nvrtc() {
    #[cfg(unix)]
    if let Some(mut command) = sortmark::backend::cuda::nvrtc_path::relaunch_command() {
        use std::os::unix::process::CommandExt;
        let error = command.exec();
        eprintln!("warning: could not restart with NVRTC on the library path: {error}");
    }
}

fn run(definition: Option<PathBuf>, out: PathBuf, anonymize: bool) -> ExitCode {
    let definition = match runner::read_definition(definition.as_deref(), &runner::machine_limits())
    {
        Ok(d) => d,
        Err(e) => return definition_error(&e),
    };
    let options = RunOptions {
        archive_root: out,
        anonymize,
        command_line: std::env::args().collect(),
    };
    match runner::execute(definition, &options) {
        Ok((dir, run)) => finished(&dir, &run),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn resume_run(dir: &std::path::Path) -> ExitCode {
    match runner::resume(dir, &runner::machine_limits()) {
        Ok((dir, run)) => finished(&dir, &run),
        Err(
            e @ (runner::ResumeError::DefinitionChanged(_)
            | runner::ResumeError::Invalid(_)
            | runner::ResumeError::PeerChanged(_)),
        ) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_BAD_DEFINITION)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Reports a run's outcome and prints its folder as the last line of stdout.
fn finished(dir: &std::path::Path, run: &sortmark::record::Run) -> ExitCode {
    let (ok, skipped, failed) = run.counts();
    eprintln!("{ok} ok, {skipped} skipped, {failed} failed");
    if run.has_failures() {
        eprintln!(
            "error: {failed} case(s) FAILED; see their reasons in {}",
            dir.join("results.json").display()
        );
    }
    if run.interrupted {
        eprintln!(
            "interrupted: the finished cases are saved; finish with `sortmark run --resume {}`",
            dir.display()
        );
    }
    println!("{}", dir.display());
    let code = if run.interrupted {
        sortmark::interrupt::EXIT_INTERRUPTED
    } else if run.has_failures() {
        EXIT_CASE_FAILED
    } else {
        EXIT_OK
    };
    ExitCode::from(code)
}

fn check(definition: Option<PathBuf>) -> ExitCode {
    match runner::read_definition(definition.as_deref(), &runner::machine_limits()) {
        Ok(d) => {
            let cases = sortmark::plan::plan(&d.def, None);
            println!("{}: valid, {} cases", d.path, cases.len());
            ExitCode::from(EXIT_OK)
        }
        Err(e) => definition_error(&e),
    }
}

fn definition_error(e: &DefinitionReadError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(EXIT_BAD_DEFINITION)
}
