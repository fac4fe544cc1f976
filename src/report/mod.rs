//! Reports: every output of a run rendered from its [`Run`] alone.
//!
//! [`render_all`] builds the [`view`] model, draws the [`plots`] into it and writes every file of
//! [`outputs::ALL`]: `report.html` (self-contained, plots inlined as SVG), `report.md` with
//! `plots/*.png`, `summary.md`, `report.ipynb` and `results.csv`. Numbers are formatted once,
//! in the view; templates under `templates/` only place them. Because nothing here reads
//! anything but the `Run`, `sortmark render RUN_DIR` rebuilds an old run's reports.
//!
//! Dependencies run one way: [`text`] (escaping) ← [`table`] ← [`view`] ← [`outputs`], the
//! outputs rendering through `templates`, which needs only [`text`]; [`plots`] needs nothing
//! else here, and [`index`] only the table, the templates, the text helpers and the view's run
//! state.

#![warn(missing_docs)]

pub mod index;
pub mod outputs;
pub mod plots;
pub mod table;
pub(crate) mod templates;
pub mod terminal;
pub mod text;
pub mod view;

use std::path::Path;

use anyhow::Context;

use crate::record::Run;
use crate::record::archive::{remove_stale_temporaries, write_atomic};

use view::{PlotView, ReportView};

/// Writes every report of `run` into its folder `dir`, first removing the temporary files a
/// killed run or render left there.
pub fn render_all(run: &Run, dir: &Path) -> anyhow::Result<()> {
    remove_stale_temporaries(dir);
    let mut view = ReportView::from_run(run);
    draw_plots(run, &mut view, &dir.join("plots"))?;
    for output in outputs::ALL {
        let bytes = output.render(run, &view)?;
        write_atomic(&dir.join(output.file_name()), &bytes)?;
    }
    Ok(())
}

/// Draws every figure of `run` into `plots_dir` as SVG and PNG, and adds each to its sweep in
/// `view`, where the outputs find them.
fn draw_plots(run: &Run, view: &mut ReportView, plots_dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(plots_dir)
        .with_context(|| format!("could not create {}", plots_dir.display()))?;
    // Old plots are removed and new ones written here: through a link, that would be in
    // another folder.
    let meta = std::fs::symlink_metadata(plots_dir)
        .with_context(|| format!("could not read {}", plots_dir.display()))?;
    if !meta.is_dir() {
        anyhow::bail!(
            "{} is not a folder (a symbolic link?): sortmark writes plots only inside the run folder",
            plots_dir.display()
        );
    }
    remove_old_plots(plots_dir);
    remove_stale_temporaries(plots_dir);
    let mut stems = crate::file_names::Stems::new();
    for (cell, figure) in plots::figures(run) {
        let stem = stems.unique(&figure.slug);
        let svg = plots::draw_svg(&figure)?;
        let png = plots::draw_png(&figure)?;
        write_atomic(&plots_dir.join(format!("{stem}.svg")), svg.as_bytes())?;
        write_atomic(&plots_dir.join(format!("{stem}.png")), &png)?;
        if let Some(sweep) = view.cells.get_mut(cell).and_then(|c| c.sweep.as_mut()) {
            sweep.plots.push(PlotView {
                title: figure.title.clone(),
                svg: inline_svg(&svg),
                png_path: format!("plots/{stem}.png"),
                png,
            });
        }
    }
    Ok(())
}

/// Re-renders the reports of the run folder `dir` from its `results.json`.
pub fn render_dir(dir: &Path) -> anyhow::Result<Run> {
    let run = crate::record::archive::load_run(dir)?;
    render_all(&run, dir)?;
    Ok(run)
}

/// Removes the plots of an earlier rendering: a re-render may draw other figures.
fn remove_old_plots(plots_dir: &Path) {
    let Ok(entries) = std::fs::read_dir(plots_dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "png" || e == "svg") {
            // A file that cannot be removed is only a stale picture, never a wrong one linked.
            let _ = std::fs::remove_file(path);
        }
    }
}

/// The SVG document as an element to inline in HTML: without the XML declaration, and
/// scaling with its container.
pub(crate) fn inline_svg(svg: &str) -> String {
    let svg = svg.trim();
    let svg = match svg.strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map_or(svg, |(_, body)| body.trim_start()),
        None => svg,
    };
    if svg.contains("viewBox") {
        svg.to_string()
    } else {
        svg.replacen(
            "<svg ",
            &format!("<svg viewBox=\"0 0 {} {}\" ", plots::WIDTH, plots::HEIGHT),
            1,
        )
    }
}
