//! `report.ipynb`: the executed notebook as nbformat 4.5 JSON.
//!
//! Markdown cells carry the narrative; each sweep is a code cell whose source is its spec and
//! whose outputs are its table (HTML and plain text) and plots (PNG and SVG). The sections
//! sortmark adds (environment, compatibility, reproducibility) are Markdown cells.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::record::Run;

use super::super::templates;
use super::super::text::{code_span, escape_inline};
use super::super::view::{FigureView, ReportView, SweepView};
use super::Output;
use super::html::table_fragment;

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

/// The notebook as pretty-printed JSON.
fn notebook(run: &Run, view: &ReportView) -> anyhow::Result<String> {
    let mut cells = vec![markdown_cell(0, &header(view))];
    for cell in &view.cells {
        let json = match (&cell.sweep, &cell.figure) {
            (Some(sweep), _) => sweep_cell(cells.len(), sweep)?,
            (None, Some(figure)) => figure_cell(cells.len(), figure),
            (None, None) => markdown_cell(cells.len(), &cell.markdown_md),
        };
        cells.push(json);
    }
    for section in ["md_environment.md", "md_checks.md", "md_repro.md"] {
        let text = templates::render(section, view)?;
        cells.push(markdown_cell(cells.len(), &text));
    }
    let notebook = json!({
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": metadata(run, view),
        "cells": cells,
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

/// A sweep as an executed code cell: its spec as the source, a failure on stderr, its table
/// (HTML and plain text), the notes under it and its plots (PNG and SVG) as outputs.
fn sweep_cell(index: usize, sweep: &SweepView) -> anyhow::Result<Value> {
    let mut outputs = Vec::new();
    if !sweep.failure_banner.is_empty() {
        outputs.push(json!({
            "output_type": "stream",
            "name": "stderr",
            "text": lines(&format!("{}\n", sweep.failure_banner)),
        }));
    }
    outputs.push(json!({
        "output_type": "display_data",
        "data": {
            "text/html": lines(&table_fragment(&sweep.table)?),
            "text/plain": lines(&sweep.table_text),
        },
        "metadata": {},
    }));
    if !sweep.table_notes.is_empty() {
        let md: Vec<String> = sweep.table_notes.iter().map(|n| escape_inline(n)).collect();
        outputs.push(json!({
            "output_type": "display_data",
            "data": {
                "text/markdown": lines(&md.join("\n\n")),
                "text/plain": lines(&sweep.table_notes.join("\n")),
            },
            "metadata": {},
        }));
    }
    for plot in &sweep.plots {
        outputs.push(json!({
            "output_type": "display_data",
            "data": {
                "image/png": base64::engine::general_purpose::STANDARD.encode(&plot.png),
                "image/svg+xml": lines(&plot.svg),
                "text/plain": [format!("<figure: {}>", plot.title)],
            },
            "metadata": {"image/png": {"alt": plot.title}},
        }));
    }
    Ok(json!({
        "cell_type": "code",
        "id": cell_id(index),
        "metadata": {"sortmark": {"sweep": sweep.name, "backend": sweep.backend}},
        "execution_count": sweep.number,
        "source": lines(&sweep.source),
        "outputs": outputs,
    }))
}

/// A figure across sweeps as a Markdown cell showing its plots, carried as attachments.
fn figure_cell(index: usize, figure: &FigureView) -> Value {
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
    let mut cell = markdown_cell(index, &text);
    cell["attachments"] = Value::Object(attachments);
    cell
}

/// The notebook's metadata: the run's identity, counts and environment, for tools that read
/// notebooks without running them.
fn metadata(run: &Run, view: &ReportView) -> Value {
    let (ok, skipped, failed) = run.counts();
    json!({
            "language_info": {"name": "toml"},
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

/// A Markdown cell, trimmed as Jupyter saves one.
fn markdown_cell(index: usize, text: &str) -> Value {
    json!({
        "cell_type": "markdown",
        "id": cell_id(index),
        "metadata": {},
        "source": lines(text.trim()),
    })
}

/// Text as nbformat's list of lines, each but the last keeping its newline.
fn lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}
