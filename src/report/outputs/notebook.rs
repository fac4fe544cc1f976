//! `report.ipynb`: the executed notebook as nbformat 4.5 JSON, a Python 3 notebook that runs.
//!
//! Its first code cell loads `results.json` (beside the notebook) into a pandas DataFrame,
//! `cases`, one row per case; a second defines how a sweep's table and plots are rebuilt from
//! it. Each sweep is a Markdown cell with its definition as a fenced TOML block, a code cell
//! that rebuilds its table and one code cell per plot. The code cells are stored with
//! sortmark's own outputs (its table as HTML and text, its PNG of the plot), so the notebook
//! reads on GitHub and nbviewer without running; "Run All" replaces them with pandas' and
//! matplotlib's. The sections sortmark adds (environment, compatibility, reproducibility) are
//! Markdown cells.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::record::Run;

use super::super::templates;
use super::super::text::{code_block, code_span, escape_inline};
use super::super::view::{FigureView, PlotView, ReportView, SweepView};
use super::Output;
use super::html::table_fragment;

/// The first code cell: `results.json` into the DataFrame `cases`.
const LOAD_CELL: &str = include_str!("../../../templates/notebook/load.py");
/// The second code cell: the functions that rebuild tables and plots from `cases`.
const HELPERS_CELL: &str = include_str!("../../../templates/notebook/helpers.py");

/// The executed notebook, readable in Jupyter and rendered by GitHub.
pub struct Notebook;

impl Output for Notebook {
    fn file_name(&self) -> &'static str {
        "report.ipynb"
    }

    fn render(&self, run: &Run, view: &ReportView) -> anyhow::Result<Vec<u8>> {
        Ok(notebook(run, view)?.into_bytes())
    }
}

/// The cells as they are built: code cells are numbered as a notebook run top to bottom
/// numbers them.
struct Cells {
    cells: Vec<Value>,
    executed: usize,
}

impl Cells {
    /// Appends a Markdown cell, trimmed as Jupyter saves one.
    fn markdown(&mut self, text: &str) {
        let id = cell_id(self.cells.len());
        self.cells.push(json!({
            "cell_type": "markdown",
            "id": id,
            "metadata": {},
            "source": lines(text.trim()),
        }));
    }

    /// Appends a code cell with `source` and the outputs `outputs` makes of its execution
    /// count; `role` tells tools (and the CI check) what the cell shows.
    fn code(&mut self, source: &str, role: Value, outputs: impl FnOnce(usize) -> Vec<Value>) {
        self.executed += 1;
        let id = cell_id(self.cells.len());
        // The helpers are long and the same in every notebook: Jupyter shows them collapsed.
        let hidden = role["role"] == "helpers";
        self.cells.push(json!({
            "cell_type": "code",
            "id": id,
            "metadata": {"sortmark": role, "jupyter": {"source_hidden": hidden}},
            "execution_count": self.executed,
            "source": lines(source.trim_end()),
            "outputs": outputs(self.executed),
        }));
    }
}

/// The notebook as pretty-printed JSON.
fn notebook(run: &Run, view: &ReportView) -> anyhow::Result<String> {
    let mut cells = Cells {
        cells: Vec::new(),
        executed: 0,
    };
    cells.markdown(&header(view));
    cells.code(LOAD_CELL, json!({"role": "load"}), |_| {
        vec![stdout(&format!(
            "{} cases of run {}\n",
            run.cases.len(),
            run.run_id
        ))]
    });
    cells.code(HELPERS_CELL, json!({"role": "helpers"}), |_| Vec::new());
    for cell in &view.cells {
        match (&cell.sweep, &cell.figure) {
            (Some(sweep), _) => sweep_cells(&mut cells, sweep)?,
            (None, Some(figure)) => figure_cell(&mut cells, figure),
            (None, None) => cells.markdown(&cell.markdown_md),
        }
    }
    for section in ["md_environment.md", "md_checks.md", "md_repro.md"] {
        cells.markdown(&templates::render(section, view)?);
    }
    let notebook = json!({
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": metadata(run, view),
        "cells": cells.cells,
    });
    Ok(serde_json::to_string_pretty(&notebook)? + "\n")
}

/// The first cell: the title, the narrative, the run's identity and its banners.
fn header(view: &ReportView) -> String {
    let mut header = format!(
        "# {}\n\n{}\n\n*sortmark run {}, {}: {}, {}.*\n",
        escape_inline(&view.title),
        view.description_md.trim(),
        code_span(&view.run_id),
        view.started_at,
        view.counts,
        view.state
    );
    for banner in [&view.failure_banner, &view.incomplete_banner] {
        if !banner.is_empty() {
            header.push_str(&format!("\n> **{banner}**\n"));
        }
    }
    header
}

/// A sweep's cells: its definition as a fenced TOML block, the code cell that rebuilds its
/// table (stored with sortmark's table), the notes under the table, and a code cell per plot
/// (stored with sortmark's PNG).
fn sweep_cells(cells: &mut Cells, sweep: &SweepView) -> anyhow::Result<()> {
    let mut intro = format!(
        "### Sweep {}: {} ({})\n\n{}\n\n",
        sweep.number,
        code_span(&sweep.name),
        sweep.backend,
        sweep.counts
    );
    if !sweep.failure_banner.is_empty() {
        intro.push_str(&format!("> **{}**\n\n", sweep.failure_banner));
    }
    intro.push_str(&code_block("toml", &sweep.source));
    cells.markdown(&intro);
    let name = python_str(&sweep.name);
    let table_html = table_fragment(&sweep.table)?;
    cells.code(
        &format!("sweep_table({name})"),
        json!({"role": "table", "sweep": sweep.name}),
        |count| {
            vec![json!({
                "output_type": "execute_result",
                "execution_count": count,
                "data": {
                    "text/html": lines(&table_html),
                    "text/plain": lines(&sweep.table_text),
                },
                "metadata": {},
            })]
        },
    );
    if !sweep.table_notes.is_empty() {
        let md: Vec<String> = sweep.table_notes.iter().map(|n| escape_inline(n)).collect();
        cells.markdown(&md.join("\n\n"));
    }
    for plot in &sweep.plots {
        let role = json!({"role": "plot", "sweep": sweep.name, "figure": plot.slug});
        cells.code(&plot_source(sweep, plot), role, |_| vec![png_output(plot)]);
    }
    Ok(())
}

/// A figure across sweeps as a Markdown cell showing its plots, carried as attachments.
fn figure_cell(cells: &mut Cells, figure: &FigureView) {
    let mut text = format!(
        "**Figure {}** across sweeps {}\n",
        code_span(&figure.name),
        escape_inline(&figure.sweeps)
    );
    let mut attachments = serde_json::Map::new();
    for (i, plot) in figure.plots.iter().enumerate() {
        let name = format!("figure-{i}.png");
        text.push_str(&format!(
            "\n![{}](attachment:{name})\n",
            escape_inline(&plot.title)
        ));
        let png = base64::engine::general_purpose::STANDARD.encode(&plot.png);
        attachments.insert(name, json!({ "image/png": png }));
    }
    cells.markdown(&text);
    if let Some(cell) = cells.cells.last_mut() {
        cell["attachments"] = Value::Object(attachments);
    }
}

/// The code that redraws `plot` from `cases`: a call of the helper that draws its kind of
/// figure, or, for a kind the helpers do not know, the PNG sortmark drew.
fn plot_source(sweep: &SweepView, plot: &PlotView) -> String {
    let kind = plot
        .slug
        .strip_prefix(&sweep.name)
        .and_then(|k| k.strip_prefix('-'))
        .unwrap_or_default();
    let (name, title) = (python_str(&sweep.name), python_str(&plot.title));
    let call = |helper: &str, args: &str, y_label: &str| {
        format!(
            "{helper}({name}, {args},\n    title={title}, ylabel={})",
            python_str(y_label)
        )
    };
    match (kind, plot.bars) {
        ("keys-per-s", true) => call("plot_bars", "y=\"keys_per_s\"", "Keys per second [keys/s]"),
        ("keys-per-s", false) => call(
            "plot_lines",
            "x=\"n\", y=\"keys_per_s\", low=\"keys_per_s_low\", high=\"keys_per_s_high\"",
            "Keys per second [keys/s]",
        ),
        ("time", _) => call(
            "plot_lines",
            "x=\"threads\", y=\"median_s\", low=\"low_s\", high=\"high_s\"",
            "Median time per sort [s]",
        ),
        ("speedup", _) => call(
            "plot_lines",
            "x=\"threads\", y=\"speedup\", low=\"speedup_low\", high=\"speedup_high\", \
             ideal=\"linear\"",
            "Speed-up [×]",
        ),
        ("efficiency", _) => call(
            "plot_lines",
            "x=\"threads\", y=\"efficiency\", low=\"efficiency_low\", high=\"efficiency_high\", \
             ideal=1.0",
            "Parallel efficiency (1 = ideal)",
        ),
        _ => format!(
            "# Drawn by sortmark; no pandas recipe for this kind of figure yet.\n\
             from IPython.display import Image\n\
             Image(filename={})",
            python_str(&plot.png_path)
        ),
    }
}

/// A string as a Python literal: JSON's string syntax is a subset of Python's.
fn python_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".to_string())
}

/// A plot as the one image a cell shows: sortmark's PNG.
fn png_output(plot: &PlotView) -> Value {
    json!({
        "output_type": "display_data",
        "data": {
            "image/png": base64::engine::general_purpose::STANDARD.encode(&plot.png),
            "text/plain": [format!("<figure: {}>", plot.title)],
        },
        "metadata": {"image/png": {"alt": plot.title}},
    })
}

/// Text printed on standard output.
fn stdout(text: &str) -> Value {
    json!({"output_type": "stream", "name": "stdout", "text": lines(text)})
}

/// The notebook's metadata: a Python 3 kernel, and the run's identity, counts and environment
/// for tools that read notebooks without running them.
fn metadata(run: &Run, view: &ReportView) -> Value {
    let (ok, skipped, failed) = run.counts();
    json!({
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {
            "name": "python",
            "mimetype": "text/x-python",
            "file_extension": ".py",
            "pygments_lexer": "ipython3",
            "codemirror_mode": {"name": "ipython", "version": 3},
            "nbconvert_exporter": "python",
        },
        "title": view.title,
        "sortmark": {
            "run_id": run.run_id,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "complete": run.complete,
            "cases": {"ok": ok, "skipped": skipped, "failed": failed},
            "environment": view.environment.one_line,
            "sortmark_version": run.environment.sortmark_version,
            "git_commit": run.environment.git_commit,
        },
    })
}

/// A stable cell id (nbformat 4.5): the cell's position.
fn cell_id(index: usize) -> String {
    format!("cell-{index}")
}

/// Text as nbformat's list of lines, each but the last keeping its newline.
fn lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_python_string_literal_escapes_quotes_and_newlines() {
        assert_eq!(python_str("a\"b\nc\\"), r#""a\"b\nc\\""#);
    }
}
