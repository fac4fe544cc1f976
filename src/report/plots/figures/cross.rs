//! Figures across sweeps: a figure cell's series from several sweeps on one chart, and where
//! a baseline is named, a ratio panel of every other series against it.
//!
//! A sweep without the figure's x axis (a GPU sort on a thread axis) is drawn as a level: its
//! one value repeated at every x, so the CPU's curve reads against the GPU's line.

use crate::definition::{FigureAxis, FigureMetric, FigureSpec};
use crate::record::{CaseResult, CaseStatus, Run};
use crate::units;

use super::super::series::varying_axes;
use super::{
    Axis, Figure, Ideal, Point, Series, YFormat, rate_point, set_log_axis, time::time_point,
    with_cores,
};
use crate::report::plots::Style;

/// One drawn line before styling: whose it is, what it matches in the baseline, its points.
struct Line {
    label: String,
    sweep: String,
    algorithm: String,
    /// The values of the axes other than the sweep and algorithm (key type, distribution,
    /// ...): a ratio divides by the baseline line with the same.
    others: Vec<String>,
    points: Vec<Point>,
    /// Whether the cases lack the x axis and the line is their value repeated across.
    level: bool,
}

/// The figures of a figure cell: the chart, and the ratio panel where a baseline is named.
/// None when none of its sweeps measured a case.
pub fn figures(spec: &FigureSpec, run: &Run) -> Vec<Figure> {
    let cases: Vec<&CaseResult> = run
        .cases
        .iter()
        .filter(|c| spec.sweeps.contains(&c.sweep))
        .filter(|c| c.status == CaseStatus::Ok && c.stats.is_some())
        .collect();
    let lines = lines(spec, &cases);
    let ticks = ticks(spec, &cases);
    if lines.is_empty() || ticks.is_empty() {
        return Vec::new();
    }
    let lines = spread_levels(lines, &ticks);
    let cores = Some(run.environment.cpu.logical_cores).filter(|c| *c > 0);
    let mut out = vec![chart(spec, &lines, &ticks, cores)];
    if let Some(ratio) = ratio_panel(spec, &lines, &ticks, cores) {
        out.push(ratio);
    }
    out
}

/// The x axis as the cases' axis.
fn axis(spec: &FigureSpec) -> Axis {
    match spec.x {
        FigureAxis::Size => Axis::Size,
        FigureAxis::Threads => Axis::Threads,
    }
}

/// A case's x position, or None when it has no value on the axis (a GPU case's threads).
fn x_of(spec: &FigureSpec, c: &CaseResult) -> Option<f64> {
    match spec.x {
        FigureAxis::Size => Some((c.n as f64).log2()),
        FigureAxis::Threads => c.threads.map(|t| f64::from(t).log2()),
    }
}

/// One tick per distinct x value among the cases.
fn ticks(spec: &FigureSpec, cases: &[&CaseResult]) -> Vec<(f64, String)> {
    let mut ticks: Vec<(f64, String)> = Vec::new();
    for c in cases {
        if let Some(x) = x_of(spec, c)
            && !ticks.iter().any(|(t, _)| (t - x).abs() < 1e-9)
        {
            let label = match spec.x {
                FigureAxis::Size => units::count(c.n),
                FigureAxis::Threads => c.threads.unwrap_or(1).to_string(),
            };
            ticks.push((x, label));
        }
    }
    ticks.sort_by(|a, b| a.0.total_cmp(&b.0));
    ticks
}

/// The cases grouped into lines: by sweep, algorithm and every other axis that varies,
/// in the figure's sweep order.
fn lines(spec: &FigureSpec, cases: &[&CaseResult]) -> Vec<Line> {
    let others: Vec<Axis> = varying_axes(cases)
        .into_iter()
        .filter(|a| *a != Axis::Algorithm && *a != axis(spec))
        .collect();
    let mut lines: Vec<Line> = Vec::new();
    for sweep in &spec.sweeps {
        for c in cases.iter().filter(|c| &c.sweep == sweep) {
            let values: Vec<String> = others.iter().map(|a| a.value(c)).collect();
            let Some(point) = metric_point(spec, c) else {
                continue;
            };
            let x = x_of(spec, c);
            let index = lines.iter().position(|l| {
                l.sweep == c.sweep && l.algorithm == c.algorithm && l.others == values
            });
            let index = index.unwrap_or_else(|| {
                let mut label = format!("{}: {}", c.sweep, c.algorithm);
                for v in &values {
                    label.push_str(&format!(", {v}"));
                }
                lines.push(Line {
                    label,
                    sweep: c.sweep.clone(),
                    algorithm: c.algorithm.clone(),
                    others: values.clone(),
                    points: Vec::new(),
                    level: x.is_none(),
                });
                lines.len() - 1
            });
            lines[index].points.push(Point {
                x: x.unwrap_or(0.0),
                ..point
            });
        }
    }
    for line in &mut lines {
        line.points.sort_by(|a, b| a.x.total_cmp(&b.x));
    }
    lines
}

/// A case's value in the figure's metric.
fn metric_point(spec: &FigureSpec, c: &CaseResult) -> Option<Point> {
    match spec.metric {
        FigureMetric::KeysPerS => rate_point(c),
        FigureMetric::Time => time_point(c),
    }
}

/// Each level line's one value repeated at every tick, and labelled as a level.
fn spread_levels(lines: Vec<Line>, ticks: &[(f64, String)]) -> Vec<Line> {
    lines
        .into_iter()
        .map(|mut line| {
            if line.level
                && let Some(p) = line.points.first().copied()
            {
                line.points = ticks.iter().map(|(x, _)| Point { x: *x, ..p }).collect();
                line.label.push_str(" (no thread axis)");
            }
            line
        })
        .collect()
}

/// The main chart: every line, styled in order.
fn chart(spec: &FigureSpec, lines: &[Line], ticks: &[(f64, String)], cores: Option<u32>) -> Figure {
    let (y_label, y_format, error_bars) = match spec.metric {
        FigureMetric::KeysPerS => ("Keys per second [keys/s]", YFormat::Si, "of the median"),
        FigureMetric::Time => ("Median time per sort", YFormat::Seconds, "of the median"),
    };
    let series = lines
        .iter()
        .enumerate()
        .map(|(i, l)| series(l.label.clone(), l.points.clone(), i))
        .collect();
    finish(
        spec,
        Figure {
            slug: spec.name.clone(),
            title: spec.title.clone(),
            x_label: x_label(spec).to_string(),
            y_label: y_label.to_string(),
            ticks: ticks.to_vec(),
            bars: false,
            y_format,
            log_y: false,
            cores: None,
            series,
            ideal: None,
            error_bars,
        },
        cores,
    )
}

/// The ratio panel: every line that is not the baseline, divided by the baseline line with
/// the same other axis values (or by the baseline's only line), point by point at equal x;
/// above 1 is faster than the baseline.
fn ratio_panel(
    spec: &FigureSpec,
    lines: &[Line],
    ticks: &[(f64, String)],
    cores: Option<u32>,
) -> Option<Figure> {
    let baseline = spec.baseline.as_ref()?;
    let is_base = |l: &Line| l.sweep == baseline.sweep && l.algorithm == baseline.algorithm;
    let bases: Vec<&Line> = lines.iter().filter(|l| is_base(l)).collect();
    let mut drawn = Vec::new();
    for (i, line) in lines.iter().enumerate().filter(|(_, l)| !is_base(l)) {
        // The baseline line of the same key type, input and so on; else its first line (a
        // CPU line has no GPU to match).
        let base = bases
            .iter()
            .copied()
            .find(|b| b.others == line.others)
            .or(bases.first().copied());
        let Some(base) = base else { continue };
        let points: Vec<Point> = line
            .points
            .iter()
            .filter_map(|p| {
                let b = base.points.iter().find(|b| (b.x - p.x).abs() < 1e-9)?;
                speed_ratio(spec.metric, p, b)
            })
            .collect();
        if !points.is_empty() {
            drawn.push(series(line.label.clone(), points, i));
        }
    }
    if drawn.is_empty() {
        return None;
    }
    let name = format!("{}/{}", baseline.sweep, baseline.algorithm);
    Some(finish(
        spec,
        Figure {
            slug: format!("{}-ratio", spec.name),
            title: format!("{}: speed relative to {name}", spec.title),
            x_label: x_label(spec).to_string(),
            y_label: format!("Speed relative to {name} [×]"),
            ticks: ticks.to_vec(),
            bars: false,
            y_format: YFormat::Times,
            log_y: false,
            cores: None,
            series: drawn,
            ideal: Some(Ideal::Constant(1.0)),
            error_bars: "of the ratio (from the two intervals' ends)",
        },
        cores,
    ))
}

/// How many times faster `p` is than the baseline `b`, with the widest interval their
/// intervals allow: a rate divides by the rate, a time is divided into the time.
fn speed_ratio(metric: FigureMetric, p: &Point, b: &Point) -> Option<Point> {
    let (num, den) = match metric {
        FigureMetric::KeysPerS => ((p.y, p.lo, p.hi), (b.y, b.lo, b.hi)),
        FigureMetric::Time => ((b.y, b.lo, b.hi), (p.y, p.lo, p.hi)),
    };
    if den.0 <= 0.0 {
        return None;
    }
    let lo = num.1.zip(den.2).map(|(n, d)| n / d);
    let hi = num.2.zip(den.1).map(|(n, d)| n / d);
    Some(Point {
        x: p.x,
        y: num.0 / den.0,
        lo: lo.zip(hi).map(|(l, _)| l),
        hi: lo.zip(hi).map(|(_, h)| h),
    })
}

/// A series in the `i`-th line's style, so a line keeps its look from chart to ratio panel.
fn series(label: String, points: Vec<Point>, i: usize) -> Series {
    Series {
        label,
        points,
        style: Style {
            colour: i,
            variant: 0,
        },
    }
}

/// The x axis's description.
fn x_label(spec: &FigureSpec) -> &'static str {
    match spec.x {
        FigureAxis::Size => "Input size [keys, log2 scale]",
        FigureAxis::Threads => "Threads [log2 scale]",
    }
}

/// The figure on a log axis where its values span decades, with oversubscription marked on a
/// thread axis.
fn finish(spec: &FigureSpec, mut figure: Figure, cores: Option<u32>) -> Figure {
    if spec.x == FigureAxis::Threads {
        figure = with_cores(figure, cores);
    }
    set_log_axis(&mut figure);
    figure
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(x: f64, y: f64) -> Point {
        Point {
            x,
            y,
            lo: Some(y * 0.9),
            hi: Some(y * 1.1),
        }
    }

    #[test]
    fn a_sweep_without_the_x_axis_is_a_level_at_every_tick() {
        let gpu = Line {
            label: "gpu: radix".into(),
            sweep: "gpu".into(),
            algorithm: "radix".into(),
            others: Vec::new(),
            points: vec![point(0.0, 5e9)],
            level: true,
        };
        let ticks: Vec<(f64, String)> = (0..4).map(|i| (f64::from(i), String::new())).collect();
        let spread = spread_levels(vec![gpu], &ticks);
        let xs: Vec<f64> = spread[0].points.iter().map(|p| p.x).collect();
        assert_eq!(xs, [0.0, 1.0, 2.0, 3.0]);
        assert!(spread[0].points.iter().all(|p| p.y == 5e9));
        assert_eq!(spread[0].label, "gpu: radix (no thread axis)");
    }

    #[test]
    fn a_ratio_is_above_one_when_faster_than_the_baseline_with_the_widest_interval() {
        let (fast, base) = (point(1.0, 2e9), point(1.0, 1e9));
        let rate = speed_ratio(FigureMetric::KeysPerS, &fast, &base).unwrap();
        assert_eq!(rate.y, 2.0);
        assert!((rate.lo.unwrap() - 1.8 / 1.1).abs() < 1e-12);
        assert!((rate.hi.unwrap() - 2.2 / 0.9).abs() < 1e-12);
        // Half the time is twice the speed.
        let (quick, slow) = (point(1.0, 0.5), point(1.0, 1.0));
        assert_eq!(
            speed_ratio(FigureMetric::Time, &quick, &slow).unwrap().y,
            2.0
        );
    }
}
