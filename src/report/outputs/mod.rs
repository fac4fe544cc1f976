//! The files rendered into a run folder, one module per file.
//!
//! Each output implements [`Output`]; [`ALL`] lists them, and [`super::render_all`] writes
//! every one. Adding an output means adding a module here and one line to [`ALL`].

mod csv;
mod html;
mod markdown;
mod notebook;
mod summary;

use crate::record::Run;

use super::view::ReportView;

/// One file of a run folder, rendered from the run and its view.
///
/// The view already holds the drawn plots (see [`super::view::PlotView`]), so an output needs
/// nothing else: `sortmark render` rebuilds every output from `results.json` alone.
pub trait Output: Sync {
    /// The file's name in the run folder, e.g. `report.html`.
    fn file_name(&self) -> &'static str;

    /// The file's bytes.
    fn render(&self, run: &Run, view: &ReportView) -> anyhow::Result<Vec<u8>>;
}

/// Every output, in the order they are written.
pub const ALL: &[&dyn Output] = &[
    &html::Html,
    &markdown::Markdown,
    &summary::Summary,
    &notebook::Notebook,
    &csv::Csv,
];
