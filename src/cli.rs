//! The shape of sortmark's command line: the clap types, the help texts and the exit codes.
//! `main.rs` parses with these and hands each subcommand to its module below.
//!
//! This module belongs to the binary, not to the library: its submodules only turn arguments
//! into library calls and outcomes into printed lines and exit codes.

pub mod check;
pub mod list;
pub mod results;
pub mod run;
pub mod shell;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use sortmark::definition::{Overrides, Setting};
use sortmark::runner::Verbosity;
use sortmark::shard::{self, Shard, ShardError, ShardRequest};

/// Success: every case that ran was verified (`run`), no case is slower (`compare`).
pub const EXIT_OK: u8 = 0;
/// A case failed (`run`), or a case is slower than its base (`compare`, `reproduce`).
pub const EXIT_FAILED: u8 = 1;
/// Refused before anything ran: an invalid definition, runs that cannot be compared, a run
/// that cannot be reproduced or resumed as it was.
pub const EXIT_REFUSED: u8 = 2;
/// Any other error: I/O, a missing or corrupt run folder.
pub const EXIT_ERROR: u8 = 3;
/// A definition with CUDA sweeps measured no GPU case: every one was skipped (no GPU, no
/// driver). The run is saved, but it is not the run its definition asked for.
pub const EXIT_NO_GPU: u8 = 4;
/// The command line itself is wrong (sysexits' `EX_USAGE`): clap's errors.
pub const EXIT_USAGE: u8 = 64;
/// A run stopped by Ctrl-C or SIGTERM, saved to be resumed.
pub const EXIT_INTERRUPTED: u8 = sortmark::interrupt::EXIT_INTERRUPTED;

/// Every exit code, shown under `sortmark --help` (the README's table says the same).
const EXIT_CODES_HELP: &str = "\
Exit codes:
  0    success: every case that ran was verified; no case is slower (compare, reproduce)
  1    a case failed (run), or a case is slower (compare, reproduce)
  2    refused, nothing ran: the definition is missing or invalid, or --only/--set do not fit
       it; a resumed run's definition or peer changed; the runs cannot be compared; the run
       cannot be reproduced; no such --shard part; the parts cannot be merged
  3    any other error: I/O, a missing or corrupt run folder, an output that exists
  4    a definition with CUDA sweeps measured no GPU case (run, reproduce): every one was
       skipped, e.g. without an NVIDIA driver; the run is saved with its CPU results
  64   usage error: an unknown subcommand or flag, a missing or malformed argument
  130  interrupted by Ctrl-C or SIGTERM (the run is saved: finish it with `run --resume`)";

/// `sortmark --version`: the version and the commit it was built from, with the commit's date
/// (`0.1.0 (abc1234 2026-12-07)`; `, modified` when built with uncommitted changes).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("SORTMARK_BUILD_DETAIL"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "sortmark",
    version = VERSION,
    about = "Executed, archived, shareable reports on sort performance",
    after_help = EXIT_CODES_HELP
)]
pub struct Cli {
    /// Print no progress and no summary: only errors, warnings and the run folder.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print every case as it finishes, with its median and interval or why it was skipped or
    /// failed (check: every planned case).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// What `-q` and `-v` ask for.
    pub fn verbosity(&self) -> Verbosity {
        match (self.quiet, self.verbose) {
            (true, _) => Verbosity::Quiet,
            (false, true) => Verbosity::Verbose,
            (false, false) => Verbosity::Normal,
        }
    }
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a report definition (default: the built-in reports/quick.toml).
    Run(RunArgs),
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
        /// A table for people, or JSON for scripts (see the README for its shape).
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Check a definition without running it, and show the cases it plans.
    ///
    /// The text shows each sweep's cases (-v: every case); JSON lists every case.
    Check {
        /// The definition (a TOML file); leave out for the built-in quick report.
        definition: Option<PathBuf>,
        #[command(flatten)]
        overrides: OverrideArgs,
        /// A table for people, or JSON for scripts (see the README for its shape).
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
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
    /// Every archived run of one definition as a trend report (history.html, history.md).
    ///
    /// Per case: its median and interval in each run, and each step between consecutive runs
    /// with the comparison's verdict; each run's sortmark version and commit.
    History {
        /// The definition's name (its folder in the archive).
        name: String,
        /// Archive root.
        #[arg(long, default_value = sortmark::record::archive::DEFAULT_ROOT)]
        archive: PathBuf,
        /// Output folder, created where missing [default: ARCHIVE/NAME/history/].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// A step is slower or faster only when its whole ratio interval is beyond 1 ± PCT %.
        #[arg(long, value_name = "PCT", default_value = "2", value_parser = parse_percent)]
        threshold: f64,
    },
    /// Finished runs of one definition on several machines side by side (machines.html,
    /// machines.md), the first run the baseline.
    ///
    /// Per sweep: each case's median and interval on every machine, each machine's ratio to the
    /// baseline with its interval and the comparison's verdict, and a plot of keys per second.
    #[command(after_help = MACHINES_HELP)]
    Machines {
        /// The runs' folders (each holds results.json), the baseline first.
        #[arg(required = true, num_args = 2.., value_name = "RUN_DIR")]
        run_dirs: Vec<PathBuf>,
        /// Output folder, created (never overwritten) [default: FIRST_RUN/machines-<second run
        /// id>/].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// A ratio is slower or faster only when its whole interval is beyond 1 ± PCT %.
        #[arg(long, value_name = "PCT", default_value = "2", value_parser = parse_percent)]
        threshold: f64,
    },
    /// Join the parts of a plan (runs made with `run --shard K/N`) into one run folder.
    ///
    /// Every report is rendered once, for the whole. Parts that ran on several machines keep
    /// each case's machine, and the environment lists every machine.
    #[command(after_help = MERGE_HELP)]
    Merge {
        /// The parts' run folders (each holds results.json).
        #[arg(required = true, value_name = "RUN_DIR")]
        run_dirs: Vec<PathBuf>,
        /// Archive root: the merged run lands in OUT/<definition-name>/<run-id>/ [default: the
        /// first part's archive root].
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Merge even when parts are missing; the merged run is then marked incomplete.
        #[arg(long)]
        partial: bool,
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
    /// Print a shell's completion script for sortmark.
    ///
    /// bash: `source <(sortmark completions bash)`, or save it as
    /// ~/.local/share/bash-completion/completions/sortmark. zsh: save it as `_sortmark` in a
    /// folder of $fpath. fish: save it as ~/.config/fish/completions/sortmark.fish.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print sortmark's man page (roff), or write one page per subcommand into a folder.
    ///
    /// `sortmark man | man -l -` reads it; `sortmark man --out DIR` writes sortmark.1,
    /// sortmark-run.1 and the others, for a folder of $MANPATH.
    Man {
        /// Write sortmark.1 and a page per subcommand into DIR (created) instead of printing.
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Print the JSON Schema of results.json, which the repository ships as
    /// reports/schema/results.schema.json.
    #[command(hide = true)]
    Schema,
}

/// How `list` and `check` print what they found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Aligned text for people.
    Text,
    /// One JSON document for scripts.
    Json,
}

/// The arguments of `sortmark run`.
#[derive(Args)]
pub struct RunArgs {
    /// The definition (a TOML file); leave out for the built-in quick report.
    #[arg(conflicts_with = "resume")]
    pub definition: Option<PathBuf>,
    /// Finish an interrupted run in RUN_DIR instead of starting a new one (with the --only and
    /// --set it started with).
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["only", "set"])]
    pub resume: Option<PathBuf>,
    #[command(flatten)]
    pub overrides: OverrideArgs,
    /// Archive root: the run lands in OUT/<definition-name>/<run-id>/.
    #[arg(long, default_value = sortmark::record::archive::DEFAULT_ROOT)]
    pub out: PathBuf,
    /// Replace the host name and other identifying strings in the report.
    #[arg(long)]
    pub anonymize: bool,
    /// Run only part K of N of the plan, numbered from 0 (0/3, 1/3, 2/3), balanced by estimated
    /// cost; `auto` takes it from a Slurm job array (SLURM_ARRAY_TASK_ID less
    /// SLURM_ARRAY_TASK_MIN, of MAX - MIN + 1) or a Kubernetes Indexed Job
    /// (JOB_COMPLETION_INDEX, of --shard-count or SORTMARK_SHARD_COUNT). Join the parts with
    /// `sortmark merge`.
    #[arg(long, value_name = "K/N|auto", conflicts_with = "resume")]
    pub shard: Option<ShardRequest>,
    /// How many parts `--shard auto` splits into where the engine does not say (Kubernetes).
    #[arg(long, value_name = "N", requires = "shard")]
    pub shard_count: Option<u32>,
}

impl RunArgs {
    /// The part of the plan to run, from `--shard` and, for `auto`, the job engine's
    /// environment (`None`: the whole plan).
    pub fn shard_to_run(&self) -> Result<Option<Shard>, ShardError> {
        match self.shard {
            None => Ok(None),
            Some(ShardRequest::Fixed(shard)) => Ok(Some(shard)),
            Some(ShardRequest::Auto) => {
                shard::from_environment(&|name| std::env::var(name).ok(), self.shard_count)
                    .map(Some)
            }
        }
    }
}

/// What `run` and `check` change in a definition, recorded with the run so that a resume or a
/// reproduction runs the same experiment.
#[derive(Args)]
pub struct OverrideArgs {
    /// Run only the sweep named SWEEP (repeat for several); Markdown cells stay.
    #[arg(long, value_name = "SWEEP")]
    pub only: Vec<String>,
    /// Replace a value of the definition before it is checked, e.g. measure.repetitions=3 or
    /// seed=7 (repeatable; VALUE is TOML, so text is quoted).
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<Setting>,
}

impl OverrideArgs {
    /// The overrides these arguments ask for.
    pub fn overrides(&self) -> Overrides {
        Overrides {
            only: self.only.clone(),
            set: self.set.clone(),
        }
    }
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
     be written
  64  usage error";

/// The exit codes of `sortmark machines`, shown under its `--help`.
const MACHINES_HELP: &str = "\
Prints one line per machine against the baseline (-q: none), then the output folder as the
last line.

Exit codes:
  0  written
  2  the runs cannot be set side by side: different definitions, a run given twice, an
     interrupted or incomplete run
  3  any other error: no results.json, unreadable JSON, an output folder that exists
  64  usage error (fewer than two runs)";

/// The exit codes of `sortmark merge`, shown under its `--help`.
const MERGE_HELP: &str = "\
Prints the merged run's folder as the last line of stdout.

Exit codes:
  0  merged, and every case that ran was verified
  1  merged, and a case of a part failed
  2  the parts cannot be merged: parts of other definitions or other splits, a part given
     twice, a missing part (without --partial), a part still running or interrupted, results
     of another schema version, a run that is not a part; nothing was written
  3  any other error: an unreadable part, a folder that cannot be written
  64  usage error";

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
  64  usage error
  130  interrupted (the new run is saved; finish it with `sortmark run --resume`)";

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

/// `value` as pretty JSON ending in a newline, the form of every JSON that sortmark prints.
fn to_json(value: &impl serde::Serialize) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// Parses the command line; a usage error or a request for help or the version is printed
/// here and comes back as the exit code to end with (help and version: 0; errors: 64).
pub fn parse() -> Result<Cli, u8> {
    Cli::try_parse().map_err(|e| {
        // Nothing more useful can be done when stdout or stderr is gone.
        let _ = e.print();
        match e.kind() {
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => EXIT_OK,
            _ => EXIT_USAGE,
        }
    })
}
