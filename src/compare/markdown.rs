//! `compare.md`: the comparison for a blog post or a pull request, with the ratio plots as
//! PNG files beside it.

use crate::report::text::{code_span, escape_inline};

use super::plots::SweepPlot;
use super::table::{machines, sweep_table};
use super::{Comparison, format_percent};

/// `compare.md`'s text; `plots` are the sweeps' drawn ratio plots.
pub fn render(comparison: &Comparison, plots: &[SweepPlot]) -> String {
    let mut out = format!(
        "# Comparison: {}\n\nNEW run {} against BASE run {}.\n\n**{}**\n\n{}{}\n\n## Machines\n\n{}",
        escape_inline(&comparison.title),
        code_span(&comparison.new.run_id),
        code_span(&comparison.base.run_id),
        comparison.summary(),
        comparison
            .broad_shift()
            .map(|shift| format!("> **Note:** {shift}\n\n"))
            .unwrap_or_default(),
        verdict_rule(comparison.threshold),
        machines(comparison).to_markdown(),
    );
    for sweep in &comparison.sweeps {
        out.push_str(&format!("\n## {}\n\n", escape_inline(sweep)));
        out.push_str(&sweep_table(comparison, sweep).to_markdown());
        if let Some(plot) = plots.iter().find(|p| &p.sweep == sweep) {
            out.push_str(&format!(
                "\n![{}: NEW / BASE ratios]({})\n",
                escape_inline(sweep),
                plot.png_path
            ));
        }
    }
    out
}

/// The verdict rule in one paragraph, shared with the HTML page.
pub fn verdict_rule(threshold: f64) -> String {
    let t = format_percent(threshold);
    format!(
        "Ratio = NEW median time / BASE median time (above 1: NEW is slower), with the interval \
         of the ratio from both runs' round medians at the level shown. Verdict with threshold \
         {t}: *same* when the whole interval lies within 1 ± {t}; *slower* when its low end is \
         above 1 + {t}; *faster* when its high end is below 1 − {t}; *inconclusive* otherwise, \
         and for a case either run measured under load (named beside it), whose difference may \
         be the machine's."
    )
}
