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

use view::{CellView, PlotView, ReportView};

/// Writes every report of `run` into its folder `dir`, first removing the temporary files a
/// killed run or render left there.
///
/// A stop requested meanwhile (Ctrl-C, SIGTERM) ends it between two files with
/// [`Interrupted`]: every file is written whole or not at all, and `sortmark render` redoes
/// the rest.
pub fn render_all(run: &Run, dir: &Path) -> anyhow::Result<()> {
    render_until(run, dir, &crate::interrupt::requested)
}

/// Rendering stopped at a request (Ctrl-C, SIGTERM) before every file was written.
#[derive(Debug, thiserror::Error)]
#[error("rendering was interrupted")]
pub struct Interrupted;

/// [`render_all`], asking `stop` before each file.
fn render_until(run: &Run, dir: &Path, stop: &dyn Fn() -> bool) -> anyhow::Result<()> {
    let go_on = || if stop() { Err(Interrupted) } else { Ok(()) };
    remove_stale_temporaries(dir);
    let run = &*crate::record::anonymize::for_writing(run, dir)?;
    let mut view = ReportView::from_run(run);
    draw_plots(run, &mut view, &dir.join("plots"), &go_on)?;
    for output in outputs::ALL {
        go_on()?;
        let bytes = output.render(run, &view)?;
        write_atomic(&dir.join(output.file_name()), &bytes)?;
    }
    Ok(())
}

/// Draws every figure of `run` into `plots_dir` as SVG and PNG, and adds each to its sweep in
/// `view`, where the outputs find them.
fn draw_plots(
    run: &Run,
    view: &mut ReportView,
    plots_dir: &Path,
    go_on: &dyn Fn() -> Result<(), Interrupted>,
) -> anyhow::Result<()> {
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
    let all = plots::figures(run)
        .into_iter()
        .chain(plots::cross_sweep_figures(run));
    for (cell, figure) in all {
        go_on()?;
        let stem = stems.unique(&figure.slug);
        let svg = plots::draw_svg(&figure)?;
        let png = plots::draw_png(&figure)?;
        write_atomic(&plots_dir.join(format!("{stem}.svg")), svg.as_bytes())?;
        write_atomic(&plots_dir.join(format!("{stem}.png")), &png)?;
        let plot = PlotView {
            title: figure.title.clone(),
            slug: figure.slug.clone(),
            bars: figure.bars,
            svg: inline_svg(&svg),
            png_path: format!("plots/{stem}.png"),
            png,
        };
        // A sweep's own figures go under its table; a figure cell's are the cell.
        match view.cells.get_mut(cell) {
            Some(CellView {
                sweep: Some(sweep), ..
            }) => sweep.plots.push(plot),
            Some(CellView {
                figure: Some(figure),
                ..
            }) => figure.plots.push(plot),
            _ => {}
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

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    fn example_run() -> Run {
        serde_json::from_str(include_str!("../../tests/fixtures/results/v4.json")).unwrap()
    }

    /// Every file under `dir`, by its path relative to `dir`, with its bytes.
    fn files(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
        let mut found = Vec::new();
        for folder in [dir.to_path_buf(), dir.join("plots")] {
            for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
                if entry.path().is_file() {
                    let bytes = std::fs::read(entry.path()).unwrap();
                    found.push((entry.path().strip_prefix(dir).unwrap().to_path_buf(), bytes));
                }
            }
        }
        found.sort();
        found
    }

    #[test]
    fn a_stop_during_rendering_ends_it_between_files_leaving_only_whole_ones() {
        let run = example_run();
        let whole = tempfile::tempdir().unwrap();
        render_until(&run, whole.path(), &|| false).unwrap();
        let complete = files(whole.path());
        for allowed in [0, 1, 2, 5] {
            let dir = tempfile::tempdir().unwrap();
            let asked = Cell::new(0);
            let stop = || {
                asked.set(asked.get() + 1);
                asked.get() > allowed
            };
            let e = render_until(&run, dir.path(), &stop).unwrap_err();
            assert!(e.downcast_ref::<Interrupted>().is_some(), "{e:#}");
            let written = files(dir.path());
            assert!(written.len() < complete.len());
            for file in &written {
                assert!(complete.contains(file), "{} is whole", file.0.display());
            }
        }
    }
}
