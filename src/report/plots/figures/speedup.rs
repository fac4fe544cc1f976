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
        error_bars: "of the speed-up",
    };
    Some(line.figure(cases, &scaled))
}

/// A case's speed-up with its interval, where both cases were measured in rounds.
fn speedup_point(c: &CaseResult) -> Option<Point> {
    Some(Point {
        x: 0.0,
        y: c.speedup?,
        lo: c.speedup_interval.map(|i| i.low),
        hi: c.speedup_interval.map(|i| i.high),
    })
}

#[cfg(test)]
mod tests {
    use crate::measure::interval::RatioInterval;

    use super::*;

    #[test]
    fn a_speedup_point_carries_its_interval_where_it_has_one() {
        let mut c = crate::record::example_case();
        c.speedup = Some(1.9);
        assert_eq!(speedup_point(&c).unwrap().lo, None);
        c.speedup_interval = Some(RatioInterval {
            estimate: 1.9,
            low: 1.8,
            high: 2.0,
            level: 0.959,
            requested_level: 0.95,
            reached: true,
        });
        let p = speedup_point(&c).unwrap();
        assert_eq!((p.y, p.lo, p.hi), (1.9, Some(1.8), Some(2.0)));
    }
}
