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
        error_bars: "of the efficiency",
    };
    Some(line.figure(cases, &scaled))
}

/// A case's parallel efficiency with its interval, where it has one.
fn efficiency_point(c: &CaseResult) -> Option<Point> {
    let interval = c.efficiency_interval();
    c.efficiency.map(|e| Point {
        x: 0.0,
        y: e,
        lo: interval.map(|i| i.low),
        hi: interval.map(|i| i.high),
    })
}

#[cfg(test)]
mod tests {
    use crate::measure::interval::RatioInterval;

    use super::*;

    #[test]
    fn an_efficiency_point_carries_the_speedup_interval_over_threads() {
        let mut c = crate::record::example_case();
        (c.threads, c.efficiency) = (Some(2), Some(0.95));
        assert_eq!(efficiency_point(&c).unwrap().hi, None);
        c.speedup_interval = Some(RatioInterval {
            estimate: 1.9,
            low: 1.8,
            high: 2.0,
            level: 0.959,
            requested_level: 0.95,
            reached: true,
        });
        let p = efficiency_point(&c).unwrap();
        assert_eq!((p.y, p.lo, p.hi), (0.95, Some(0.9), Some(1.0)));
    }
}
