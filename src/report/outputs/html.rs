//! `report.html`: one self-contained page (inline CSS and SVG, no external requests).

use serde::Serialize;

use crate::record::Run;

use super::super::table::Table;
use super::super::templates;
use super::super::view::ReportView;
use super::Output;

/// The report page; every value is escaped except the narrative's and the plots' markup,
/// which the view made safe.
pub struct Html;

impl Output for Html {
    fn file_name(&self) -> &'static str {
        "report.html"
    }

    fn render(&self, _run: &Run, view: &ReportView) -> anyhow::Result<Vec<u8>> {
        Ok(templates::render("report.html", view)?.into_bytes())
    }
}

/// The context of the `table.html` template: the one table it renders.
#[derive(Serialize)]
struct TableContext<'a> {
    table: &'a Table,
}

/// A table as an HTML fragment (the notebook's `text/html` output), made by the same template
/// as the page's tables so that both look alike.
pub fn table_fragment(table: &Table) -> anyhow::Result<String> {
    templates::render("table.html", &TableContext { table })
}
