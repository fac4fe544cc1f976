//! The ratio plot of each sweep, drawn with the report's plotting setup.

use crate::report::plots::{RatioFigure, RatioMark, RatioPoint, draw_png, draw_svg};

use super::{CaseComparison, Comparison, Verdict};

/// A sweep's ratio plot, drawn.
#[derive(Debug, Clone)]
pub struct SweepPlot {
    /// The sweep's name.
    pub sweep: String,
    /// The PNG's path inside the comparison folder: `compare-plots/<sweep's stem>.png`.
    pub png_path: String,
    /// The PNG's bytes.
    pub png: Vec<u8>,
    /// The SVG element to inline in HTML.
    pub svg: String,
}

/// The ratio plot of every sweep with at least one ratio.
pub fn draw(comparison: &Comparison) -> anyhow::Result<Vec<SweepPlot>> {
    let mut stems = crate::file_names::Stems::new();
    comparison
        .sweeps
        .iter()
        .filter_map(|sweep| figure(comparison, sweep))
        .map(|(sweep, figure)| {
            Ok(SweepPlot {
                png_path: format!("compare-plots/{}.png", stems.unique(&figure.slug)),
                png: draw_png(&figure)?,
                svg: crate::report::inline_svg(&draw_svg(&figure)?),
                sweep,
            })
        })
        .collect()
}

/// The figure of `sweep`: a row per case that has a ratio; `None` when none has.
fn figure(comparison: &Comparison, sweep: &str) -> Option<(String, RatioFigure)> {
    let points: Vec<RatioPoint> = comparison.sweep_cases(sweep).filter_map(point).collect();
    if points.is_empty() {
        return None;
    }
    Some((
        sweep.to_string(),
        RatioFigure {
            slug: sweep.to_string(),
            title: format!("{sweep}: NEW / BASE"),
            points,
            threshold: comparison.threshold,
            note: format!(
                "error bars: {}; band: ±{}",
                comparison.levels(),
                super::format_percent(comparison.threshold)
            ),
        },
    ))
}

/// A case's row in the plot, where it has a ratio.
fn point(case: &CaseComparison) -> Option<RatioPoint> {
    Some(RatioPoint {
        label: case.identity.label(),
        ratio: case.ratio?,
        low: case.interval.map(|r| r.low),
        high: case.interval.map(|r| r.high),
        mark: mark(case.verdict),
    })
}

/// The colour a verdict is drawn in.
fn mark(verdict: Verdict) -> RatioMark {
    match verdict {
        Verdict::Same => RatioMark::Same,
        Verdict::Slower => RatioMark::Slower,
        Verdict::Faster => RatioMark::Faster,
        Verdict::Inconclusive | Verdict::NotCompared => RatioMark::Inconclusive,
    }
}
