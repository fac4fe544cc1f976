//! `report.html`: one self-contained page (inline CSS and SVG, no external requests).

use super::view::ReportView;

/// Renders the report page; every value is escaped except the narrative's and the plots'
/// markup, which the view made safe.
pub fn report(view: &ReportView) -> anyhow::Result<String> {
    super::templates::render("report.html", view)
}

/// A table as an HTML fragment (the notebook's `text/html` output).
pub fn table(table: &super::view::Table) -> anyhow::Result<String> {
    #[derive(serde::Serialize)]
    struct Context<'a> {
        table: &'a super::view::Table,
    }
    super::templates::render("table.html", &Context { table })
}
