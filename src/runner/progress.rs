//! Progress of a run as it goes: an observer with no-op hooks, so that the runner reports to
//! whatever watches (the terminal, or nothing in tests) without knowing which. How much the
//! terminal is told is the run's [`Verbosity`], chosen by `-q`/`-v` on the command line.

use std::io::IsTerminal;
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::plan::Case;
use crate::record::{CaseResult, CaseStatus};
use crate::terminal;

/// How much a run tells on stderr as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verbosity {
    /// No bar, no closing count: only a line for each failed case (`-q`).
    Quiet,
    /// A bar on a terminal (a line for each failed case), a line for each case otherwise.
    #[default]
    Normal,
    /// A line for each case, on a terminal too, with its median, interval and notes (`-v`).
    Verbose,
}

/// The progress display of a run of `total` cases at `verbosity`.
pub fn display(verbosity: Verbosity, total: u64) -> Box<dyn Progress> {
    match verbosity {
        Verbosity::Quiet => Box::new(FailuresOnly { total, done: 0 }),
        Verbosity::Normal => Box::new(TerminalProgress::new(total, false)),
        Verbosity::Verbose => Box::new(TerminalProgress::new(total, true)),
    }
}

/// What watches a run's cases; every hook does nothing unless implemented.
pub trait Progress {
    /// A case is about to run.
    fn case_started(&mut self, _case: &Case) {}
    /// A case has its result (it is saved next).
    fn case_finished(&mut self, _result: &CaseResult) {}
    /// No more cases will run.
    fn finished(&mut self) {}
}

/// Watches nothing.
pub struct Silent;

impl Progress for Silent {}

/// A line on stderr for each failed case and nothing else: a quiet run still says why a case
/// failed.
pub struct FailuresOnly {
    total: u64,
    done: u64,
}

impl Progress for FailuresOnly {
    fn case_finished(&mut self, result: &CaseResult) {
        self.done += 1;
        if result.status == CaseStatus::Failed {
            terminal::err_line(&case_line(self.done, self.total, result, false));
        }
    }
}

/// `[3/12] radix u32 uniform 2^20, 4 threads  812 Mkeys/s`, on one line.
fn case_line(done: u64, total: u64, result: &CaseResult, verbose: bool) -> String {
    terminal::one_line(&format!(
        "[{done}/{total}] {}  {}",
        crate::plan::describe(&result.id()),
        outcome_text(result, verbose)
    ))
}

/// Whether stderr can draw a progress bar: a terminal that is not `TERM=dumb` (and has a
/// `TERM` at all). Elsewhere (logs, CI, Emacs shells) every case gets a plain line.
fn can_draw_bar() -> bool {
    let term = std::env::var("TERM").unwrap_or_default();
    std::io::stderr().is_terminal() && !term.is_empty() && term != "dumb"
}

/// Whether colour is allowed: `NO_COLOR` unset or empty (<https://no-color.org>).
fn colour_allowed() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Progress on stderr: a bar on a terminal, plain lines otherwise (logs, CI); each line one
/// [`terminal::one_line`], so that a peer's multi-line stderr in a reason stays on its line and
/// its escape sequences show as text.
pub struct TerminalProgress {
    bar: Option<ProgressBar>,
    /// A line for every case, with its details, rather than for failed cases only.
    verbose: bool,
    total: u64,
    started: Instant,
    done: u64,
}

impl TerminalProgress {
    /// Progress over `total` cases; `verbose` gives every case a detailed line.
    pub fn new(total: u64, verbose: bool) -> TerminalProgress {
        let bar = can_draw_bar().then(|| {
            let template = if colour_allowed() {
                "{bar:30.cyan/blue} {pos}/{len} cases, {eta} left  {msg}"
            } else {
                "{bar:30} {pos}/{len} cases, {eta} left  {msg}"
            };
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        TerminalProgress {
            bar,
            verbose,
            total,
            started: Instant::now(),
            done: 0,
        }
    }
}

impl Progress for TerminalProgress {
    fn case_started(&mut self, case: &Case) {
        if let Some(bar) = &self.bar {
            bar.set_message(terminal::one_line(&case.label()));
        }
    }

    fn case_finished(&mut self, result: &CaseResult) {
        self.done += 1;
        let line = case_line(self.done, self.total, result, self.verbose);
        match &self.bar {
            Some(bar) => {
                if self.verbose || result.status == CaseStatus::Failed {
                    bar.println(line);
                }
                bar.inc(1);
            }
            None => terminal::err_line(&line),
        }
    }

    fn finished(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        terminal::err_line(&format!(
            "{} cases in {:.1} s",
            self.done,
            self.started.elapsed().as_secs_f64()
        ));
    }
}

/// A case's result in a few words: its speed, or why it was skipped or failed; `verbose` adds
/// the median with its interval, and the case's notes.
fn outcome_text(result: &CaseResult, verbose: bool) -> String {
    let text = match result.status {
        CaseStatus::Ok => result
            .keys_per_s
            .map_or("ok".to_string(), crate::units::keys_per_s),
        CaseStatus::Skipped => format!("skipped: {}", result.reason.as_deref().unwrap_or("")),
        CaseStatus::Failed => format!("FAILED: {}", result.reason.as_deref().unwrap_or("")),
    };
    if !verbose {
        return text;
    }
    let mut parts = vec![text];
    if let Some(i) = &result.interval {
        parts.push(format!(
            "median {} ({} – {}, {} rounds)",
            crate::units::seconds(i.estimate_s),
            crate::units::seconds(i.low_s),
            crate::units::seconds(i.high_s),
            i.rounds
        ));
    }
    parts.extend(result.notes.iter().cloned());
    parts.join("; ")
}
