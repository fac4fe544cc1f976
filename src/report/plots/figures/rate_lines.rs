//! Keys per second against input size, one line per combination of the other varying axes:
//! where a sort leaves the caches, its rate drops.

use super::{Axis, Figure, LineFigure, SweepCases, YFormat, rate_point};

/// The figure, when the input size varies.
pub(super) fn figure(cases: &SweepCases<'_>) -> Option<Figure> {
    if !cases.varies(Axis::Size) {
        return None;
    }
    let line = LineFigure {
        kind: "keys-per-s",
        title: "Keys per second against input size",
        x_label: "Input size [keys, log2 scale]",
        y_label: "Keys per second [keys/s]",
        along: Axis::Size,
        point: rate_point,
        y_format: YFormat::Si,
        ideal: None,
        error_bars: "of the median",
    };
    Some(line.figure(cases, &cases.measured))
}
