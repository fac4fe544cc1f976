//! Plots of a sweep: what to draw, chosen from the axes that vary in it, and the drawing.
//!
//! [`figures`] decides what to draw as plain data (easy to test), one module per kind of figure
//! under `figures/`; [`draw_svg`] and [`draw_png`] in `draw` run the same plotters code on two
//! backends. `ratio` draws a comparison's ratio plot with the same setup. Nothing but `draw`
//! and `ratio` touches plotters.

mod draw;
mod figures;
mod glyphs;
mod ratio;
mod series;

pub use draw::{DrawResult, Drawing, draw_png, draw_svg};
pub use figures::{cross_sweep_figures, figures, sweep_figures};
pub use ratio::{RatioFigure, RatioMark, RatioPoint};

/// Figure width in pixels.
pub const WIDTH: u32 = 960;
/// Figure height in pixels.
pub const HEIGHT: u32 = 540;
/// How many colours the palette has: series beyond it repeat a colour in another shape and
/// a dashed line.
const PALETTE_LEN: usize = 8;
/// How many marker shapes there are.
const SHAPES: usize = 6;
/// Values spanning more than this factor get a logarithmic y axis: on a linear one the small
/// values are a few pixels above zero.
pub const LOG_SPAN: f64 = 10.0;

/// What a figure shows, before any drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// What the figure is, `<sweep>-<kind>`: the name its files are named after (through
    /// [`crate::file_names`]).
    pub slug: String,
    /// The heading drawn above the plot.
    pub title: String,
    /// The x axis's description.
    pub x_label: String,
    /// The y axis's description, with its unit.
    pub y_label: String,
    /// Tick positions and their labels (x is log2 of the value, or a category index).
    pub ticks: Vec<(f64, String)>,
    /// Bars (categories) or lines (log2 axes).
    pub bars: bool,
    /// How the y ticks read.
    pub y_format: YFormat,
    /// Whether the y axis is logarithmic (values spanning more than [`LOG_SPAN`]); the points
    /// keep their values, the drawing places them.
    pub log_y: bool,
    /// Where the thread axis leaves the machine's logical cores: the region beyond is shaded
    /// and labelled as oversubscribed, and the ideal speed-up stops rising there.
    pub cores: Option<Cores>,
    /// The data, one line or set of bars per series.
    pub series: Vec<Series>,
    /// A reference line, where there is an ideal to compare with.
    pub ideal: Option<Ideal>,
    /// What the error bars are an interval of, as the legend's note says it: `of the median`.
    pub error_bars: &'static str,
}

/// How the y axis's ticks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YFormat {
    /// SI prefix, no unit (the unit is in the axis label).
    Si,
    /// Seconds with an SI prefix.
    Seconds,
    /// A factor, `2.5×`.
    Times,
    /// A share, `85%`.
    Percent,
}

/// The machine's logical cores on a thread axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cores {
    /// How many logical cores the run's machine had.
    pub count: u32,
    /// Their position on the x axis (log2 of the count).
    pub x: f64,
}

/// A reference line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ideal {
    /// Speed-up equal to the thread count (x is log2 of the thread count).
    Linear,
    /// A horizontal line (efficiency 100 %).
    Constant(f64),
}

/// One line or one set of bars, with its legend label.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend label: the values of the axes that name the series.
    pub label: String,
    /// The points in x order.
    pub points: Vec<Point>,
    /// The colour and shape it is drawn in.
    pub style: Style,
}

/// How a series is drawn: a palette colour, and which of that colour's variants.
///
/// Series that differ only in their GPU share a colour: the first GPU draws it plainly, each
/// further GPU lighter and with the next marker shape, so a sweep over two GPUs reads as pairs
/// instead of running through the palette twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Index into the palette.
    pub colour: usize,
    /// 0 for the plain colour, 1 and up for lighter ones with further marker shapes.
    pub variant: usize,
}

impl Style {
    /// The marker shape: each series of the first six its own, then round again shifted by the
    /// times the colours went round, so that no two of the first 48 series share colour and
    /// shape; a colour's variants take the following shapes.
    fn shape(self) -> usize {
        (self.colour % PALETTE_LEN + self.colour / PALETTE_LEN + self.variant) % SHAPES
    }

    /// Whether the series's line is dashed: the second time round the palette, so that a
    /// colour's two series differ in their line as well as in their markers.
    fn dashed(self) -> bool {
        (self.colour / PALETTE_LEN) % 2 == 1
    }

    /// Whether this series's bars are hollow: a bar has no shape to change, so where the colours
    /// repeat (the second eight series, the fourth, ...) the bars are outlined in the colour
    /// over a pale fill, and no two of the first 16 bar series look alike.
    fn hollow(self) -> bool {
        (self.colour / PALETTE_LEN) % 2 == 1
    }
}

/// A value with its 95 % confidence interval where known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Position on the x axis (log2 of the value, or a category index).
    pub x: f64,
    /// The value.
    pub y: f64,
    /// The low end of its interval.
    pub lo: Option<f64>,
    /// The high end of its interval.
    pub hi: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::figures::{set_log_axis, with_cores};
    use super::*;

    /// A line figure over 1, 2, 4 and 8 threads: one series whose values are `ys`, each with
    /// an interval of ±10 % where `intervals`.
    fn thread_figure(ys: [f64; 4], intervals: bool) -> Figure {
        let points = ys
            .iter()
            .enumerate()
            .map(|(i, y)| Point {
                x: i as f64,
                y: *y,
                lo: intervals.then_some(y * 0.9),
                hi: intervals.then_some(y * 1.1),
            })
            .collect();
        Figure {
            slug: "t-speedup".into(),
            title: "t".into(),
            x_label: "Threads [log2 scale]".into(),
            y_label: "Speed-up [×]".into(),
            ticks: (0..4)
                .map(|i| (f64::from(i), (1 << i).to_string()))
                .collect(),
            bars: false,
            y_format: YFormat::Times,
            log_y: false,
            cores: None,
            series: vec![Series {
                label: "radix".into(),
                points,
                style: Style {
                    colour: 0,
                    variant: 0,
                },
            }],
            ideal: Some(Ideal::Linear),
            error_bars: "of the speed-up",
        }
    }

    #[test]
    fn values_spanning_more_than_ten_times_get_a_log_axis_and_say_so() {
        let mut wide = thread_figure([1e5, 1e6, 2e6, 3e6], true);
        set_log_axis(&mut wide);
        assert!(wide.log_y);
        assert!(wide.y_label.ends_with("[log scale]"));
        let mut narrow = thread_figure([1.0, 1.9, 3.5, 6.0], true);
        set_log_axis(&mut narrow);
        assert!(!narrow.log_y);
        assert_eq!(narrow.y_label, "Speed-up [×]");
    }

    #[test]
    fn every_interval_is_drawn_as_an_error_bar_and_titled_on_hover() {
        let count = |svg: &str| svg.matches("<polyline").count();
        let with = draw_svg(&thread_figure([1.0, 1.9, 3.5, 6.0], true)).unwrap();
        let without = draw_svg(&thread_figure([1.0, 1.9, 3.5, 6.0], false)).unwrap();
        // A bar and two caps per point, and the legend's note.
        assert_eq!(count(&with), count(&without) + 4 * 3);
        assert!(with.contains("error bars: interval"));
        assert!(with.contains("<title>radix at 4: 3.5× (interval 3.15× – 3.85×)</title>"));
    }

    #[test]
    fn thread_counts_beyond_the_cores_are_shaded_and_labelled() {
        let on_two = with_cores(thread_figure([1.0, 1.9, 2.0, 2.0], true), Some(2));
        assert_eq!(on_two.cores, Some(Cores { count: 2, x: 1.0 }));
        let svg = draw_svg(&on_two).unwrap();
        assert!(svg.contains("fill=\"#F3EEE6\""), "no shade");
        assert!(svg.contains("oversubscribed") && svg.contains("(&gt; 2 cores)"));
        // On 8 cores nothing drawn is oversubscribed, and nothing is shaded.
        let on_eight = with_cores(thread_figure([1.0, 1.9, 3.5, 6.0], true), Some(8));
        assert_eq!(on_eight.cores, None);
        assert!(!draw_svg(&on_eight).unwrap().contains("oversubscribed"));
    }

    #[test]
    fn a_png_is_drawn_for_a_log_axis_with_shading() {
        let mut figure = with_cores(thread_figure([1e5, 1e6, 2e6, 3e6], true), Some(2));
        set_log_axis(&mut figure);
        assert!(draw_png(&figure).unwrap().starts_with(b"\x89PNG"));
    }
}
