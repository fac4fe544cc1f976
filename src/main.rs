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
}

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
        Err(e @ (runner::ResumeError::DefinitionChanged(_) | runner::ResumeError::Invalid(_))) => {
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
