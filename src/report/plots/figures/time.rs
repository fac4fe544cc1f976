//! Median time against thread count, with the interval of its median: how a parallel sort scales, in
//! the units a reader waits in.

use crate::record::CaseResult;

use super::{Axis, Figure, LineFigure, Point, SweepCases, YFormat};

/// The figure, when the thread count varies.
pub(super) fn figure(cases: &SweepCases<'_>) -> Option<Figure> {
    if !cases.varies(Axis::Threads) {
        return None;
    }
    let line = LineFigure {
        kind: "time",
        title: "Median time against thread count",
        x_label: "Threads [log2 scale]",
        y_label: "Median time per sort",
        along: Axis::Threads,
        point: time_point,
        y_format: YFormat::Seconds,
        ideal: None,
        error_bars: "of the median",
    };
    Some(line.figure(cases, &cases.measured))
}

/// A case's median time with the interval of its median.
pub(super) fn time_point(c: &CaseResult) -> Option<Point> {
    let s = c.stats.as_ref()?;
    let (low_s, high_s) = c.median_interval_s()?;
    Some(Point {
        x: 0.0,
        y: s.median_s,
        lo: Some(low_s),
        hi: Some(high_s),
    })
}
