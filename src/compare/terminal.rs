//! The comparison on the terminal: the runs and machines, one aligned line per case grouped
//! by sweep, and the summary line. User text (the title, sweep names) is one line each; the
//! whole is printed through [`crate::terminal`], which shows control characters as text.

use crate::terminal::one_line;

use super::table::sweep_table;
use super::{Comparison, RunSide};

/// The text `sortmark compare` prints on stdout.
pub fn render(comparison: &Comparison) -> String {
    let mut out = format!(
        "{}: NEW {} against BASE {}\n",
        one_line(&comparison.title),
        one_line(&comparison.new.run_id),
        one_line(&comparison.base.run_id)
    );
    out.push_str(&side_line("BASE", &comparison.base));
    out.push_str(&side_line("NEW ", &comparison.new));
    for sweep in &comparison.sweeps {
        out.push_str(&format!("\nsweep {}\n", one_line(sweep)));
        for line in sweep_table(comparison, sweep).to_plain().lines() {
            out.push_str(&format!("  {}\n", line.trim_end()));
        }
    }
    out.push('\n');
    out.push_str(&comparison.summary());
    out.push('\n');
    if let Some(shift) = comparison.broad_shift() {
        out.push_str(&format!("note: {shift}\n"));
    }
    out
}

/// `BASE run-id on host: CPU; GPUs`.
fn side_line(which: &str, side: &RunSide) -> String {
    format!("  {which} {} on {}\n", side.run_id, side.machine.one_line())
}
