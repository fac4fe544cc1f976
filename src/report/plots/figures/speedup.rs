//! Speed-up over one thread against thread count, beside the ideal of one per thread.

use crate::record::CaseResult;

use super::{Axis, Figure, Ideal, LineFigure, Point, SweepCases, YFormat};

/// The figure, when the thread count varies and some case has a speed-up.
pub(super) fn figure(cases: &SweepCases<'_>) -> Option<Figure> {
    let scaled = cases.scaled_over_threads()?;
    let line = LineFigure {
        kind: "speedup",
        title: "Speed-up over one thread",
        x_label: "Threads [log2 scale]",
        y_label: "Speed-up [×]",
        along: Axis::Threads,
        point: speedup_point,
        y_format: YFormat::Times,
        ideal: Some(Ideal::Linear),
    };
    Some(line.figure(cases, &scaled))
}

/// A case's speed-up; it has no interval of its own.
fn speedup_point(c: &CaseResult) -> Option<Point> {
    Some(Point {
        x: 0.0,
        y: c.speedup?,
        lo: None,
        hi: None,
    })
}
