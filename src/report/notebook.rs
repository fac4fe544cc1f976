//! `report.ipynb`: the executed notebook as nbformat 4.5 JSON.
//!
//! Markdown cells carry the narrative; each sweep is a code cell whose source is its spec and
//! whose outputs are its table (HTML and plain text) and plots (PNG and SVG). The sections
//! sortmark adds (environment, compatibility, reproducibility) are Markdown cells.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::record::Run;

use super::view::ReportView;

/// The notebook as pretty-printed JSON.
pub fn report(run: &Run, view: &ReportView) -> anyhow::Result<String> {
    let mut cells = Vec::new();
    let mut header = format!(
        "# {}\n\n{}\n\n*sortmark run `{}`, {}: {}, {}.*\n",
        super::markdown::escape_inline(&view.title),
        view.description_md.trim(),
        view.run_id,
        view.started_at,
        view.counts,
        view.state
    );
    for banner in [&view.failure_banner, &view.incomplete_banner] {
        if !banner.is_empty() {
            header.push_str(&format!("\n> **{banner}**\n"));
        }
    }
    cells.push(markdown_cell(cells.len(), &header));
    for cell in &view.cells {
        match &cell.sweep {
            None => cells.push(markdown_cell(cells.len(), &cell.markdown_md)),
            Some(sweep) => {
                let mut outputs = vec![json!({
                    "output_type": "display_data",
                    "data": {
                        "text/html": lines(&super::html::table(&sweep.table)?),
                        "text/plain": lines(&sweep.table_text),
                    },
                    "metadata": {},
                })];
                if !sweep.failure_banner.is_empty() {
                    outputs.insert(
                        0,
                        json!({
                            "output_type": "stream",
                            "name": "stderr",
                            "text": lines(&format!("{}\n", sweep.failure_banner)),
                        }),
                    );
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
                cells.push(json!({
                    "cell_type": "code",
                    "id": cell_id(cells.len()),
                    "metadata": {"sortmark": {"sweep": sweep.name, "backend": sweep.backend}},
                    "execution_count": sweep.number,
                    "source": lines(&sweep.source),
                    "outputs": outputs,
                }));
            }
        }
    }
    for section in ["md_environment.md", "md_checks.md", "md_repro.md"] {
        let text = super::templates::render(section, view)?;
        cells.push(markdown_cell(cells.len(), &text));
    }
    let (ok, skipped, failed) = run.counts();
    let notebook = json!({
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
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
        },
        "cells": cells,
    });
    Ok(serde_json::to_string_pretty(&notebook)? + "\n")
}

/// A stable cell id (nbformat 4.5): the cell's position.
fn cell_id(index: usize) -> String {
    format!("cell-{index}")
}

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
