//! The sortmark command line: parse arguments, hand each subcommand to its module in
//! [`cli`], and end with the exit code it chose.

mod cli;

use sortmark::terminal;
use std::process::ExitCode;

use cli::Command;
use sortmark::reproduce::ReproduceOptions;
use sortmark::runner::Verbosity;

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(code) => return ExitCode::from(code),
    };
    relaunch_with_nvrtc();
    let verbosity = cli.verbosity();
    match cli.command {
        Command::Run(args) => cli::run::run(args, verbosity),
        Command::Check {
            definition,
            overrides,
            format,
        } => cli::check::check(
            definition.as_deref(),
            &overrides.overrides(),
            format,
            verbosity,
        ),
        Command::Render { run_dir } => cli::results::render(&run_dir),
        Command::List { out, format } => cli::list::list(&out, format),
        Command::Compare {
            base_run,
            new_run,
            threshold,
            out,
        } => cli::results::compare(
            &base_run,
            &new_run,
            threshold,
            out.as_deref(),
            verbosity == Verbosity::Quiet,
        ),
        Command::History {
            name,
            archive,
            out,
            threshold,
        } => cli::results::history(&name, &archive, out, threshold),
        Command::Machines {
            run_dirs,
            out,
            threshold,
        } => cli::results::machines(
            &run_dirs,
            out.as_deref(),
            threshold,
            verbosity == Verbosity::Quiet,
        ),
        Command::Merge {
            run_dirs,
            out,
            partial,
        } => cli::results::merge(&run_dirs, out, partial, verbosity),
        Command::Reproduce {
            run_dir,
            out,
            compare_out,
            threshold,
            anonymize,
        } => {
            let options = ReproduceOptions {
                archive_root: out,
                compare_out,
                threshold,
                anonymize,
                command_line: std::env::args().collect(),
                verbosity,
            };
            cli::run::reproduce(&run_dir, &options)
        }
        Command::Completions { shell } => cli::shell::completions(shell),
        Command::Man { out } => cli::shell::man(out.as_deref()),
        Command::Schema => {
            terminal::out_data(&sortmark::record::schema::results_schema());
            ExitCode::from(cli::EXIT_OK)
        }
        Command::Export {
            run_dir,
            format,
            out,
        } => cli::results::export(&run_dir, format, out.as_deref()),
    }
}

/// Starts sortmark again with NVRTC findable when only a newer major version's library name is
/// installed (see `backend::cuda::nvrtc_path`); returns only when no restart is needed.
fn relaunch_with_nvrtc() {
    #[cfg(unix)]
    if let Some(mut command) = sortmark::backend::cuda::nvrtc_path::relaunch_command() {
        use std::os::unix::process::CommandExt;
        let error = command.exec();
        terminal::err_line(&format!(
            "warning: could not restart with NVRTC on the library path: {error}"
        ));
    }
}
