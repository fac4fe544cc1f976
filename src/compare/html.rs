//! `compare.html`: the comparison as one self-contained page, the ratio plots inlined as SVG
//! and every piece of run text escaped by the template engine.

use serde::Serialize;

use crate::report::table::Table;
use crate::report::templates;

use super::plots::SweepPlot;
use super::table::{machines, sweep_table};
use super::{Comparison, format_percent};

/// What the template places.
#[derive(Serialize)]
struct PageView {
    title: String,
    base: String,
    new: String,
    summary: String,
    /// The broad-shift note, if most cases moved one way.
    shift: Option<String>,
    any_slower: bool,
    threshold: String,
    machines: Table,
    sweeps: Vec<SweepView>,
}

/// One sweep's section.
#[derive(Serialize)]
struct SweepView {
    name: String,
    table: Table,
    /// The inline SVG, made by plotters from escaped text.
    svg: Option<String>,
}

/// `compare.html`'s text; `plots` are the sweeps' drawn ratio plots.
pub fn render(comparison: &Comparison, plots: &[SweepPlot]) -> anyhow::Result<String> {
    let view = PageView {
        title: comparison.title.clone(),
        base: comparison.base.run_id.clone(),
        new: comparison.new.run_id.clone(),
        summary: comparison.summary(),
        shift: comparison.broad_shift(),
        any_slower: comparison.any_slower(),
        threshold: format_percent(comparison.threshold),
        machines: machines(comparison),
        sweeps: comparison
            .sweeps
            .iter()
            .map(|sweep| SweepView {
                name: sweep.clone(),
                table: sweep_table(comparison, sweep),
                svg: plots
                    .iter()
                    .find(|p| &p.sweep == sweep)
                    .map(|p| p.svg.clone()),
            })
            .collect(),
    };
    templates::render("compare.html", &view)
}
