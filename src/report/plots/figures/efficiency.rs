//! Parallel efficiency (speed-up ÷ threads) against thread count, beside the ideal of 100 %:
//! where the threads stop paying for themselves.

use crate::record::CaseResult;

use super::{Axis, Figure, Ideal, LineFigure, Point, SweepCases, YFormat};

/// The figure, when the thread count varies and some case has a speed-up.
pub(super) fn figure(cases: &SweepCases<'_>) -> Option<Figure> {
    let scaled = cases.scaled_over_threads()?;
    let line = LineFigure {
        kind: "efficiency",
        title: "Parallel efficiency (speed-up ÷ threads)",
        x_label: "Threads [log2 scale]",
        y_label: "Parallel efficiency [%]",
        along: Axis::Threads,
        point: efficiency_point,
        y_format: YFormat::Percent,
        ideal: Some(Ideal::Constant(1.0)),
    };
    Some(line.figure(cases, &scaled))
}

/// A case's parallel efficiency.
fn efficiency_point(c: &CaseResult) -> Option<Point> {
    c.efficiency.map(|e| Point {
        x: 0.0,
        y: e,
        lo: None,
        hi: None,
    })
}
