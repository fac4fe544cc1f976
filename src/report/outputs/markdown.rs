//! `report.md`: GitHub-flavoured Markdown with relative links to `plots/*.png`.

use crate::record::Run;

use super::super::templates;
use super::super::view::ReportView;
use super::Output;

/// The whole report in Markdown, for a repository or a pull request.
pub struct Markdown;

impl Output for Markdown {
    fn file_name(&self) -> &'static str {
        "report.md"
    }

    fn render(&self, _run: &Run, view: &ReportView) -> anyhow::Result<Vec<u8>> {
        Ok(templates::render("report.md", view)?.into_bytes())
    }
}
