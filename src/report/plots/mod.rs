//! Plots of a sweep: what to draw, chosen from the axes that vary in it, and the drawing.
//!
//! [`figures`] decides what to draw as plain data (easy to test), one module per kind of figure
//! under `figures/`; [`draw_svg`] and [`draw_png`] in `draw` run the same plotters code on two
//! backends. `ratio` draws a comparison's ratio plot with the same setup. Nothing but `draw`
//! and `ratio` touches plotters.

mod draw;
mod figures;
mod ratio;
mod series;

pub use draw::{DrawResult, Drawing, draw_png, draw_svg};
pub use figures::{figures, sweep_figures};
pub use ratio::{RatioFigure, RatioMark, RatioPoint};

/// Figure width in pixels.
pub const WIDTH: u32 = 960;
/// Figure height in pixels.
pub const HEIGHT: u32 = 540;
/// How many colours the palette has: series beyond it repeat a colour in another shape.
const PALETTE_LEN: usize = 8;

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
    /// Values are log10 of seconds: a time axis spanning orders of magnitude.
    LogSeconds,
    /// Values are log10 of an SI quantity: a rate axis spanning orders of magnitude.
    LogSi,
    /// A factor, `2.5×`.
    Times,
    /// A share, `85%`.
    Percent,
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
    /// The marker shape: colours repeat after eight series, and then the shapes shift, so no
    /// two of the first 32 series look alike; a colour's variants take the following shapes.
    fn shape(self) -> usize {
        (self.colour + self.colour / PALETTE_LEN + self.variant) % 4
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
