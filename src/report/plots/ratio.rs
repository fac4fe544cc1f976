//! The ratio plot of a comparison: one row per case, its NEW/BASE ratio as a point with its
//! interval as an error bar, a dashed line at 1 and the ±threshold band shaded behind.
//!
//! A forest plot (cases down, ratio across) keeps every case's label readable however many
//! cases a sweep has: the figure grows a row per case. It uses the report's font, palette and
//! sizes from `draw`, and draws through the same [`Drawing`] entry points.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::WIDTH;
use super::draw::{
    AXIS_DESC_SIZE, DrawResult, Drawing, FONT, GRID, Hovers, IDEAL, INK, PALETTE, TICK_SIZE,
    TITLE_SIZE,
};

/// Height of one case's row in pixels.
const ROW_HEIGHT: u32 = 24;
/// Height of the title, the axis and the note around the rows.
const FRAME_HEIGHT: u32 = 150;
/// Width of the case labels at the left.
const LABEL_WIDTH: u32 = 300;
/// Ratios spanning more than this factor get a logarithmic axis.
const LOG_SPAN: f64 = 10.0;
/// The shaded band around 1: the palette's sky blue, faint.
const BAND: RGBColor = RGBColor(0xDD, 0xEE, 0xF8);

/// How a case's verdict colours its point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RatioMark {
    /// Within the threshold: blue.
    Same,
    /// Slower beyond the threshold: vermillion.
    Slower,
    /// Faster beyond the threshold: bluish green.
    Faster,
    /// Undecided: grey.
    Inconclusive,
}

/// One case's row: its label, its ratio and the interval's ends where known.
#[derive(Debug, Clone, PartialEq)]
pub struct RatioPoint {
    /// The case, as the row's label.
    pub label: String,
    /// NEW's median over BASE's.
    pub ratio: f64,
    /// The interval's low end.
    pub low: Option<f64>,
    /// The interval's high end.
    pub high: Option<f64>,
    /// The verdict's colour.
    pub mark: RatioMark,
}

/// What a ratio plot shows, before any drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct RatioFigure {
    /// What the figure is (the sweep's name): the name its file is named after (through
    /// [`crate::file_names`]).
    pub slug: String,
    /// The heading drawn above the plot.
    pub title: String,
    /// One row per case, top to bottom.
    pub points: Vec<RatioPoint>,
    /// The verdict threshold as a fraction: the band is 1 ± threshold.
    pub threshold: f64,
    /// What the error bars are, e.g. "error bars: 95.9% intervals of the ratio".
    pub note: String,
}

impl RatioFigure {
    /// Whether the ratio axis is logarithmic: the values span more than [`LOG_SPAN`].
    pub fn log_axis(&self) -> bool {
        let (low, high) = self.value_range();
        high / low > LOG_SPAN
    }

    /// The smallest and largest value drawn: points, interval ends and the band.
    fn value_range(&self) -> (f64, f64) {
        let band = [1.0 - self.threshold, 1.0 + self.threshold];
        self.points
            .iter()
            .flat_map(|p| [Some(p.ratio), p.low, p.high])
            .flatten()
            .chain(band)
            .filter(|v| v.is_finite() && *v > 0.0)
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            })
    }

    /// The axis range in axis coordinates (the logarithm on a log axis), padded.
    fn axis_range(&self) -> (f64, f64) {
        let (low, high) = self.value_range();
        let (low, high) = (self.axis_position(low), self.axis_position(high));
        let pad = ((high - low) * 0.06).max(1e-3);
        (low - pad, high + pad)
    }

    /// A ratio's position on the axis.
    fn axis_position(&self, ratio: f64) -> f64 {
        if self.log_axis() {
            ratio.log10()
        } else {
            ratio
        }
    }

    /// The ratio at an axis position.
    fn ratio_at(&self, x: f64) -> f64 {
        if self.log_axis() { 10f64.powf(x) } else { x }
    }
}

impl Drawing for RatioFigure {
    fn name(&self) -> &str {
        &self.slug
    }

    fn size(&self) -> (u32, u32) {
        let rows = u32::try_from(self.points.len()).unwrap_or(u32::MAX);
        (WIDTH, FRAME_HEIGHT + ROW_HEIGHT * rows.max(1))
    }

    fn draw_on<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        _hovers: &Hovers,
    ) -> DrawResult<DB> {
        draw(self, root)
    }
}

/// A chart with the ratio across and the rows down.
type RatioChart<'a, DB> = ChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// Draws the whole figure.
fn draw<DB: DrawingBackend>(figure: &RatioFigure, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let root = root.titled(&figure.title, (FONT, TITLE_SIZE).into_font().color(&INK))?;
    let rows = figure.points.len().max(1) as f64;
    let (x_min, x_max) = figure.axis_range();
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(52)
        .y_label_area_size(LABEL_WIDTH)
        .build_cartesian_2d(x_min..x_max, -0.5..rows - 0.5)?;
    draw_mesh(figure, &mut chart)?;
    draw_band(figure, &mut chart, rows)?;
    for (i, point) in figure.points.iter().enumerate() {
        draw_point(figure, &mut chart, row_position(figure, i), point)?;
    }
    draw_labels(figure, &mut chart, &root)?;
    let note = (FONT, TICK_SIZE - 2.0)
        .into_font()
        .color(&IDEAL)
        .pos(Pos::new(HPos::Right, VPos::Top));
    let (width, _) = root.dim_in_pixel();
    root.draw(&Text::new(
        figure.note.clone(),
        (width as i32 - 14, 2),
        note,
    ))
}

/// The ratio axis with its ticks and vertical grid; the rows carry their own labels.
fn draw_mesh<DB: DrawingBackend>(
    figure: &RatioFigure,
    chart: &mut RatioChart<'_, DB>,
) -> DrawResult<DB> {
    let format = |x: &f64| format_ratio(figure.ratio_at(*x));
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .x_labels(9)
        .x_label_formatter(&format)
        .x_desc("NEW / BASE median time (right of 1: NEW is slower)")
        .axis_desc_style((FONT, AXIS_DESC_SIZE).into_font().color(&INK))
        .label_style((FONT, TICK_SIZE).into_font().color(&INK))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(INK)
        .draw()
}

/// The shaded ±threshold band and the dashed line at 1.
fn draw_band<DB: DrawingBackend>(
    figure: &RatioFigure,
    chart: &mut RatioChart<'_, DB>,
    rows: f64,
) -> DrawResult<DB> {
    let low = figure.axis_position(1.0 - figure.threshold);
    let high = figure.axis_position(1.0 + figure.threshold);
    chart.draw_series(std::iter::once(Rectangle::new(
        [(low, -0.5), (high, rows - 0.5)],
        BAND.filled(),
    )))?;
    let one = figure.axis_position(1.0);
    chart.draw_series(DashedLineSeries::new(
        [(one, -0.5), (one, rows - 0.5)],
        8,
        6,
        IDEAL.stroke_width(2),
    ))?;
    Ok(())
}

/// A case's point and its interval as a horizontal error bar with caps.
fn draw_point<DB: DrawingBackend>(
    figure: &RatioFigure,
    chart: &mut RatioChart<'_, DB>,
    row: f64,
    point: &RatioPoint,
) -> DrawResult<DB> {
    let colour = mark_colour(point.mark);
    if let (Some(low), Some(high)) = (point.low, point.high) {
        let (left, right) = (figure.axis_position(low), figure.axis_position(high));
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(left, row), (right, row)],
            colour.stroke_width(2),
        )))?;
        for end in [left, right] {
            chart.draw_series(std::iter::once(
                EmptyElement::at((end, row))
                    + PathElement::new(vec![(0, -5), (0, 5)], colour.stroke_width(2)),
            ))?;
        }
    }
    chart.draw_series(std::iter::once(Circle::new(
        (figure.axis_position(point.ratio), row),
        5,
        colour.filled(),
    )))?;
    Ok(())
}

/// Each row's label, right-aligned left of the plot.
fn draw_labels<DB: DrawingBackend>(
    figure: &RatioFigure,
    chart: &mut RatioChart<'_, DB>,
    root: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let style = (FONT, TICK_SIZE)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    let (base_x, base_y) = root.get_base_pixel();
    let x_min = chart.x_range().start;
    for (i, point) in figure.points.iter().enumerate() {
        let (px, py) = chart.backend_coord(&(x_min, row_position(figure, i)));
        root.draw(&Text::new(
            shorten(&point.label, 40),
            (px - base_x - 8, py - base_y),
            style.clone(),
        ))?;
    }
    Ok(())
}

/// Where the `i`-th point's row is: the first at the top, as the tables list them.
fn row_position(figure: &RatioFigure, i: usize) -> f64 {
    (figure.points.len() - 1 - i) as f64
}

/// The colour a verdict is drawn in.
fn mark_colour(mark: RatioMark) -> RGBColor {
    match mark {
        RatioMark::Same => PALETTE[0],
        RatioMark::Slower => PALETTE[3],
        RatioMark::Faster => PALETTE[2],
        RatioMark::Inconclusive => IDEAL,
    }
}

/// A ratio tick: `1.05×`, as the report's factor axes read.
fn format_ratio(ratio: f64) -> String {
    if ratio >= 10.0 {
        format!("{ratio:.0}×")
    } else if ratio >= 0.1 {
        format!("{ratio:.2}×")
    } else {
        format!("{ratio:.3}×")
    }
}

/// `s` cut to `max` characters with an ellipsis: the label column has a fixed width.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let head: String = s.chars().take(max - 1).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(ratios: &[f64]) -> RatioFigure {
        RatioFigure {
            slug: "s".into(),
            title: "t".into(),
            points: ratios
                .iter()
                .map(|&r| RatioPoint {
                    label: format!("{r}"),
                    ratio: r,
                    low: Some(r * 0.9),
                    high: Some(r * 1.1),
                    mark: RatioMark::Same,
                })
                .collect(),
            threshold: 0.02,
            note: "error bars".into(),
        }
    }

    #[test]
    fn the_axis_turns_logarithmic_beyond_a_tenfold_span() {
        assert!(!figure(&[0.9, 1.2]).log_axis());
        assert!(figure(&[0.05, 2.0]).log_axis());
    }

    #[test]
    fn the_figure_grows_a_row_per_case_and_draws_on_both_backends() {
        let f = figure(&[0.9, 1.0, 1.1]);
        assert_eq!(f.size().1, FRAME_HEIGHT + 3 * ROW_HEIGHT);
        assert!(super::super::draw_svg(&f).unwrap().contains("<svg"));
        assert!(super::super::draw_png(&f).unwrap().starts_with(b"\x89PNG"));
    }
}
