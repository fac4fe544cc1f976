//! `summary.md`: a short block of headline results to paste into an issue.

use crate::record::Run;

use super::super::templates;
use super::super::view::ReportView;
use super::Output;

/// The headline result of each sweep, short enough to quote in a discussion.
pub struct Summary;

impl Output for Summary {
    fn file_name(&self) -> &'static str {
        "summary.md"
    }

    fn render(&self, _run: &Run, view: &ReportView) -> anyhow::Result<Vec<u8>> {
        Ok(templates::render("summary.md", view)?.into_bytes())
    }
}
