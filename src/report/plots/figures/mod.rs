//! The figures a sweep gets, one module per kind of figure.
//!
//! Each kind looks at a sweep's measured cases and what varies among them, and returns its
//! figure or `None`; [`KINDS`] lists them in the order a report shows them. Adding a figure
//! means adding a module here and one line to [`KINDS`].

mod cross;
mod efficiency;
mod rate_bars;
mod rate_lines;
mod speedup;
mod time;

use crate::definition::{Cell, Sweep};
use crate::record::{CaseResult, CaseStatus, Run};
use crate::units;

use super::series::{Axis, group, varying_axes};
use super::{Cores, Figure, Ideal, LOG_SPAN, Point, Series, YFormat};

/// A kind of figure: its figure of a sweep, or `None` when the sweep's cases call for none.
type FigureKind = fn(&SweepCases<'_>) -> Option<Figure>;

/// Every kind of figure, in the order a sweep shows them.
const KINDS: [FigureKind; 5] = [
    rate_lines::figure,
    time::figure,
    speedup::figure,
    efficiency::figure,
    rate_bars::figure,
];

/// The figures of every sweep, in definition order, with the cell each belongs to.
pub fn figures(run: &Run) -> Vec<(usize, Figure)> {
    let cores = Some(run.environment.cpu.logical_cores).filter(|c| *c > 0);
    run.definition
        .sweeps()
        .flat_map(|sweep| {
            let cases: Vec<&CaseResult> =
                run.cases.iter().filter(|c| c.cell == sweep.cell).collect();
            sweep_figures(sweep, &cases, cores)
                .into_iter()
                .map(move |f| (sweep.cell, f))
        })
        .collect()
}

/// The figures of every figure cell (charts across sweeps), with the cell each belongs to.
pub fn cross_sweep_figures(run: &Run) -> Vec<(usize, Figure)> {
    run.definition
        .cells
        .iter()
        .enumerate()
        .filter_map(|(index, cell)| match cell {
            Cell::Figure(spec) => Some((index, spec)),
            _ => None,
        })
        .flat_map(|(index, spec)| {
            cross::figures(spec, run)
                .into_iter()
                .map(move |f| (index, f))
        })
        .collect()
}

/// The figures of one sweep: chosen from the axes that vary among its cases. `cores` is the
/// run's logical core count, beyond which thread counts are oversubscribed.
pub fn sweep_figures(sweep: &Sweep, cases: &[&CaseResult], cores: Option<u32>) -> Vec<Figure> {
    match SweepCases::new(sweep, cases, cores) {
        Some(cases) => KINDS.iter().filter_map(|kind| kind(&cases)).collect(),
        None => Vec::new(),
    }
}

/// What a kind of figure looks at: a sweep's measured cases, and the axes that vary among them.
struct SweepCases<'a> {
    sweep: &'a Sweep,
    /// The cases that ran and were timed: skipped and failed cases are in the table, the
    /// figures show what was measured.
    measured: Vec<&'a CaseResult>,
    varying: Vec<Axis>,
    /// The run's logical core count, where known.
    cores: Option<u32>,
}

impl<'a> SweepCases<'a> {
    /// The measured cases of `sweep`; `None` when none was measured.
    fn new(
        sweep: &'a Sweep,
        cases: &[&'a CaseResult],
        cores: Option<u32>,
    ) -> Option<SweepCases<'a>> {
        let measured: Vec<&CaseResult> = cases
            .iter()
            .copied()
            .filter(|c| c.status == CaseStatus::Ok && c.stats.is_some())
            .collect();
        if measured.is_empty() {
            return None;
        }
        Some(SweepCases {
            sweep,
            varying: varying_axes(&measured),
            measured,
            cores,
        })
    }

    /// Whether the cases differ along `axis`.
    fn varies(&self, axis: Axis) -> bool {
        self.varying.contains(&axis)
    }

    /// The varying axes other than `x`: each combination of their values is one series.
    fn others(&self, x: Axis) -> Vec<Axis> {
        self.varying.iter().copied().filter(|a| *a != x).collect()
    }

    /// The measured cases with a speed-up over one thread, where the thread count varies and
    /// some case has one: what the speed-up and efficiency figures draw.
    fn scaled_over_threads(&self) -> Option<Vec<&'a CaseResult>> {
        if !self.varies(Axis::Threads) {
            return None;
        }
        let scaled: Vec<&'a CaseResult> = self
            .measured
            .iter()
            .copied()
            .filter(|c| c.speedup.is_some())
            .collect();
        (!scaled.is_empty()).then_some(scaled)
    }
}

/// A line figure: a value of each case against a log2 axis (the size or the thread count).
struct LineFigure {
    /// The slug's suffix: `<sweep>-<kind>`.
    kind: &'static str,
    title: &'static str,
    x_label: &'static str,
    y_label: &'static str,
    /// The x axis: [`Axis::Size`] or [`Axis::Threads`].
    along: Axis,
    /// A case's value; its `x` is filled in from `along`.
    point: fn(&CaseResult) -> Option<Point>,
    y_format: YFormat,
    ideal: Option<Ideal>,
    /// What the error bars are an interval of (see [`Figure::error_bars`]).
    error_bars: &'static str,
}

impl LineFigure {
    /// The figure of `shown`, some of `cases`' measured cases, one series per combination of
    /// the other varying axes.
    fn figure(&self, cases: &SweepCases<'_>, shown: &[&CaseResult]) -> Figure {
        let mut figure = Figure {
            slug: format!("{}-{}", cases.sweep.name, self.kind),
            title: format!("{}: {}", cases.sweep.name, self.title),
            x_label: self.x_label.to_string(),
            y_label: self.y_label.to_string(),
            ticks: self.ticks(shown),
            bars: false,
            y_format: self.y_format,
            log_y: false,
            cores: None,
            series: self.series(shown, &cases.others(self.along)),
            ideal: self.ideal,
            error_bars: self.error_bars,
        };
        if self.along == Axis::Threads {
            figure = with_cores(figure, cases.cores);
        }
        // A share reads on a linear axis from 0; rates, times and factors spanning decades
        // read on a logarithmic one.
        if self.y_format != YFormat::Percent {
            set_log_axis(&mut figure);
        }
        figure
    }

    /// A case's position on the x axis: log2 of its size or thread count.
    fn x_of(&self, c: &CaseResult) -> f64 {
        match self.along {
            Axis::Threads => f64::from(c.threads.unwrap_or(1)).log2(),
            _ => (c.n as f64).log2(),
        }
    }

    /// One tick per distinct x value, labelled as the value reads.
    fn ticks(&self, cases: &[&CaseResult]) -> Vec<(f64, String)> {
        let mut ticks: Vec<(f64, String)> = Vec::new();
        for c in cases {
            let x = self.x_of(c);
            if !ticks.iter().any(|(t, _)| (t - x).abs() < 1e-9) {
                let label = match self.along {
                    Axis::Threads => c.threads.unwrap_or(1).to_string(),
                    _ => units::count(c.n),
                };
                ticks.push((x, label));
            }
        }
        ticks.sort_by(|a, b| a.0.total_cmp(&b.0));
        ticks
    }

    /// The series of `cases` grouped by `series_axes`, each sorted along x.
    fn series(&self, cases: &[&CaseResult], series_axes: &[Axis]) -> Vec<Series> {
        group(cases, series_axes)
            .into_iter()
            .map(|(label, style, members)| {
                let mut points: Vec<Point> = members
                    .iter()
                    .filter_map(|c| {
                        (self.point)(c).map(|p| Point {
                            x: self.x_of(c),
                            ..p
                        })
                    })
                    .collect();
                points.sort_by(|a, b| a.x.total_cmp(&b.x));
                Series {
                    label: if label.is_empty() {
                        fallback_label(cases, None)
                    } else {
                        label
                    },
                    points,
                    style,
                }
            })
            .collect()
    }
}

/// Whether the figure's values span more than [`LOG_SPAN`]: then a linear axis flattens
/// the small ones against zero.
pub(super) fn spans_decades(figure: &Figure) -> bool {
    let ys = figure.series.iter().flat_map(|s| &s.points).map(|p| p.y);
    let (lo, hi) = ys
        .filter(|y| y.is_finite() && *y > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
    lo.is_finite() && hi / lo > LOG_SPAN
}

/// Puts the figure on a logarithmic y axis where its values span decades, and says so in the
/// axis label.
pub(super) fn set_log_axis(figure: &mut Figure) {
    if spans_decades(figure) {
        figure.log_y = true;
        figure.y_label = format!("{} [log scale]", figure.y_label);
    }
}

/// A thread-axis figure with the run's `cores` marked, where some thread count drawn exceeds
/// them.
pub(super) fn with_cores(mut figure: Figure, cores: Option<u32>) -> Figure {
    figure.cores = cores.and_then(|count| {
        let x = f64::from(count).log2();
        figure
            .ticks
            .iter()
            .any(|(t, _)| *t > x + 1e-9)
            .then_some(Cores { count, x })
    });
    figure
}

/// The label of a lone series: what its cases share (the algorithm, or the input when the
/// algorithms are the categories).
fn fallback_label(cases: &[&CaseResult], category: Option<Axis>) -> String {
    cases.first().map_or_else(String::new, |c| match category {
        Some(Axis::Algorithm) => format!("{} {}", c.key_type, c.distribution),
        _ => c.algorithm.clone(),
    })
}

/// A case's rate in keys per second, with the rates its time interval bounds.
fn rate_point(c: &CaseResult) -> Option<Point> {
    let (low_s, high_s) = c.median_interval_s()?;
    let n = c.n as f64;
    Some(Point {
        x: 0.0,
        y: c.keys_per_s?,
        lo: (high_s > 0.0).then(|| n / high_s),
        hi: (low_s > 0.0).then(|| n / low_s),
    })
}
