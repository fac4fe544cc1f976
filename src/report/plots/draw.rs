//! Drawing a [`Figure`] with plotters: axes, ticks, series, error bars, the ideal line and the
//! legend, on an SVG or a bitmap backend.
//!
//! The one routine [`draw`] serves both backends, so the SVG in `report.html` and the PNG in
//! `report.md` show the same picture. PNG text uses the bundled DejaVu Sans, so a picture renders
//! the same on a bare CI machine as on a desktop.

use std::sync::Once;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::units;

use super::{Figure, HEIGHT, Ideal, PALETTE_LEN, Point, Series, Style, WIDTH, YFormat};

/// Width of the legend column at the right of the plot, outside the data.
const LEGEND_WIDTH: u32 = 250;
/// The font family every text uses; the bundled DejaVu Sans is registered under it.
pub(super) const FONT: &str = "sans-serif";
/// Font sizes in pixels.
pub(super) const TITLE_SIZE: f64 = 24.0;
pub(super) const AXIS_DESC_SIZE: f64 = 16.0;
pub(super) const TICK_SIZE: f64 = 14.0;
pub(super) const LEGEND_SIZE: f64 = 14.0;
/// Legend rows that fit beside the plot with the ideal line and the error-bar note.
const MAX_LEGEND_ROWS: usize = 15;
/// Height of a legend row in pixels.
const LEGEND_ROW: i32 = 26;
/// Okabe & Ito's colour-blind-safe palette (black moved last, yellow late: weak on white).
pub(super) const PALETTE: [RGBColor; PALETTE_LEN] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xF0, 0xE4, 0x42),
    RGBColor(0x00, 0x00, 0x00),
];
/// The grid lines: faint, behind the data.
pub(super) const GRID: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
/// The ideal line and the notes in the legend: grey, beside the series.
pub(super) const IDEAL: RGBColor = RGBColor(0x70, 0x70, 0x70);
/// Text, axes and error bars.
pub(super) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);

impl Style {
    /// The series's colour: the palette colour, lighter for each further variant.
    fn rgb(self) -> RGBColor {
        // Each variant moves the colour 40 % closer to white, up to 80 %.
        self.tint((0.4 * self.variant as f64).min(0.8))
    }

    /// The palette colour moved `share` of the way to white.
    fn tint(self, share: f64) -> RGBColor {
        let RGBColor(r, g, b) = PALETTE[self.colour % PALETTE_LEN];
        let towards_white = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * share).round() as u8;
        RGBColor(towards_white(r), towards_white(g), towards_white(b))
    }

    /// The fill of a hollow bar: the colour 80 % of the way to white.
    fn pale(self) -> RGBColor {
        self.tint(0.8)
    }
}

/// Registers the bundled font once; plotters looks fonts up by family name.
pub(super) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped in the dejavu crate; a failure would be
        // a packaging bug, and only costs the PNG its text.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// Something drawn with plotters on either backend: a report [`Figure`], or a comparison's
/// ratio plot.
pub trait Drawing {
    /// The name errors mention.
    fn name(&self) -> &str;
    /// Width and height in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws the picture onto `root`.
    fn draw_on<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB>;
}

impl Drawing for Figure {
    fn name(&self) -> &str {
        &self.slug
    }

    fn size(&self) -> (u32, u32) {
        (WIDTH, HEIGHT)
    }

    fn draw_on<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
        draw(self, root)
    }
}

/// The drawing as an SVG document.
pub fn draw_svg(drawing: &impl Drawing) -> anyhow::Result<String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, drawing.size()).into_drawing_area();
        drawing
            .draw_on(&root)
            .map_err(|e| anyhow!("could not draw {}: {e:?}", drawing.name()))?;
        root.present()
            .map_err(|e| anyhow!("could not draw {}: {e:?}", drawing.name()))?;
    }
    Ok(svg)
}

/// The drawing as a PNG file's bytes.
pub fn draw_png(drawing: &impl Drawing) -> anyhow::Result<Vec<u8>> {
    register_font();
    let (width, height) = drawing.size();
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        drawing
            .draw_on(&root)
            .map_err(|e| anyhow!("could not draw {}: {e:?}", drawing.name()))?;
        root.present()
            .map_err(|e| anyhow!("could not draw {}: {e:?}", drawing.name()))?;
    }
    encode_png(&pixels, width, height)
        .map_err(|e| anyhow!("could not encode {}: {e}", drawing.name()))
}

/// 8-bit RGB pixels, row by row, as a PNG file's bytes.
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(png)
}

/// What a drawing step returns on a backend `DB`.
pub type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The one drawing routine behind both backends.
fn draw<DB: DrawingBackend>(figure: &Figure, root: &DrawingArea<DB, Shift>) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let root = root.titled(&figure.title, (FONT, TITLE_SIZE).into_font().color(&INK))?;
    let (plot_area, legend_area) = root.split_horizontally(WIDTH - LEGEND_WIDTH);

    let (x_min, x_max) = x_range(figure);
    let (y_min, y_max) = y_range(figure, x_min, x_max);
    let mut chart = ChartBuilder::on(&plot_area)
        .margin(12)
        .x_label_area_size(if figure.bars { 56 } else { 52 })
        .y_label_area_size(78)
        .build_cartesian_2d(x_min..x_max, y_min..y_max)?;
    draw_mesh(figure, &mut chart)?;
    draw_x_ticks(figure, &mut chart, &plot_area, (y_min, y_max))?;
    draw_ideal(figure, &mut chart, (x_min, x_max), y_max)?;
    for (i, series) in figure.series.iter().enumerate() {
        if figure.bars {
            draw_bars(&mut chart, series, i, figure.series.len().max(1), y_min)?;
        } else {
            draw_line(&mut chart, series)?;
        }
    }
    draw_legend(figure, &legend_area)
}

/// The axes, their descriptions, the y ticks and the horizontal grid.
fn draw_mesh<DB: DrawingBackend>(figure: &Figure, chart: &mut Chart<'_, DB>) -> DrawResult<DB> {
    let y_format = figure.y_format;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(7)
        .y_label_formatter(&|v| format_y(y_format, *v))
        .x_desc(figure.x_label.as_str())
        .y_desc(figure.y_label.as_str())
        .axis_desc_style((FONT, AXIS_DESC_SIZE).into_font().color(&INK))
        .label_style((FONT, TICK_SIZE).into_font().color(&INK))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(INK)
        .draw()
}

/// Our own x ticks: exactly the values measured, labelled as the axis reads, where plotters
/// would place round numbers that no case ran.
fn draw_x_ticks<DB: DrawingBackend>(
    figure: &Figure,
    chart: &mut Chart<'_, DB>,
    plot_area: &DrawingArea<DB, Shift>,
    (y_min, y_max): (f64, f64),
) -> DrawResult<DB> {
    let (base_x, base_y) = plot_area.get_base_pixel();
    let tick_style = (FONT, TICK_SIZE)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Center, VPos::Top));
    for (x, label) in &figure.ticks {
        if !figure.bars {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(*x, y_min), (*x, y_max)],
                GRID,
            )))?;
        }
        let (px, py) = chart.backend_coord(&(*x, y_min));
        plot_area.draw(&Text::new(
            label.clone(),
            (px - base_x, py - base_y + 6),
            tick_style.clone(),
        ))?;
        plot_area.draw(&PathElement::new(
            vec![(px - base_x, py - base_y), (px - base_x, py - base_y + 4)],
            INK,
        ))?;
    }
    Ok(())
}

/// The dashed reference line, if the figure has one.
fn draw_ideal<DB: DrawingBackend>(
    figure: &Figure,
    chart: &mut Chart<'_, DB>,
    (x_min, x_max): (f64, f64),
    y_max: f64,
) -> DrawResult<DB> {
    match figure.ideal {
        Some(Ideal::Linear) => {
            // From the first thread count to the last, stopping where it leaves the plot.
            let first = figure.ticks.first().map_or(x_min, |t| t.0);
            let last = figure.ticks.last().map_or(x_max, |t| t.0).min(y_max.log2());
            let steps = 64;
            let points = (0..=steps).map(|i| {
                let x = first + (last - first) * f64::from(i) / f64::from(steps);
                (x, x.exp2())
            });
            chart.draw_series(DashedLineSeries::new(points, 8, 6, IDEAL.stroke_width(2)))?;
        }
        Some(Ideal::Constant(y)) => {
            chart.draw_series(DashedLineSeries::new(
                [(x_min, y), (x_max, y)],
                8,
                6,
                IDEAL.stroke_width(2),
            ))?;
        }
        None => {}
    }
    Ok(())
}

/// The bars of the `i`-th of `count` series, each beside the other series' bars of its
/// category, standing on zero or, on a logarithmic axis, on the axis's bottom `y_min`.
fn draw_bars<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    series: &Series,
    i: usize,
    count: usize,
    y_min: f64,
) -> DrawResult<DB> {
    // A group of bars spans at most 80 % of its category; a lone bar is not a wall.
    let slot = (0.8 / count as f64).min(0.22);
    for p in &series.points {
        let x0 = p.x - slot * count as f64 / 2.0 + slot * i as f64;
        let inset = slot * 0.08;
        let corners = [(x0 + inset, y_min), (x0 + slot - inset, p.y)];
        for style in bar_styles(series.style) {
            chart.draw_series(std::iter::once(Rectangle::new(corners, style)))?;
        }
        draw_error_bar(chart, x0 + slot / 2.0, p)?;
    }
    Ok(())
}

/// A series as a line through its points, with their error bars and markers.
fn draw_line<DB: DrawingBackend>(chart: &mut Chart<'_, DB>, series: &Series) -> DrawResult<DB> {
    chart.draw_series(LineSeries::new(
        series.points.iter().map(|p| (p.x, p.y)),
        series.style.rgb().stroke_width(2),
    ))?;
    for p in &series.points {
        draw_error_bar(chart, p.x, p)?;
    }
    draw_markers(chart, series.style, &series.points)
}

/// An interval as a vertical bar with caps, in pixels so the caps keep their width.
fn draw_error_bar<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    x: f64,
    p: &Point,
) -> DrawResult<DB> {
    if let (Some(lo), Some(hi)) = (p.lo, p.hi) {
        let (px, top) = chart.backend_coord(&(x, hi));
        let (_, bottom) = chart.backend_coord(&(x, lo));
        let caps = [
            (px - 5, top),
            (px + 5, top),
            (px - 5, bottom),
            (px + 5, bottom),
        ];
        let area = chart.plotting_area().strip_coord_spec();
        let (bx, by) = area.get_base_pixel();
        let at = |(x, y): (i32, i32)| (x - bx, y - by);
        area.draw(&PathElement::new(
            vec![at((px, top)), at((px, bottom))],
            INK,
        ))?;
        area.draw(&PathElement::new(vec![at(caps[0]), at(caps[1])], INK))?;
        area.draw(&PathElement::new(vec![at(caps[2]), at(caps[3])], INK))?;
    }
    Ok(())
}

/// A chart with two linear `f64` axes, as every figure has.
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Markers whose shape, not only their colour, tells the series apart.
fn draw_markers<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    series_style: Style,
    points: &[Point],
) -> DrawResult<DB> {
    let color = series_style.rgb();
    let style = color.filled();
    let at = points.iter().map(|p| (p.x, p.y));
    match series_style.shape() {
        0 => chart.draw_series(at.map(|p| Circle::new(p, 5, style)))?,
        1 => chart.draw_series(at.map(|p| TriangleMarker::new(p, 7, style)))?,
        2 => chart.draw_series(
            at.map(|p| EmptyElement::at(p) + Rectangle::new([(-5, -5), (5, 5)], style)),
        )?,
        _ => chart.draw_series(at.map(|p| Cross::new(p, 5, color.stroke_width(3))))?,
    };
    Ok(())
}

/// The legend, in its own column so it never covers data.
fn draw_legend<DB: DrawingBackend>(
    figure: &Figure,
    area: &DrawingArea<DB, Shift>,
) -> DrawResult<DB> {
    let mut y = 24;
    let shown = if figure.series.len() > MAX_LEGEND_ROWS {
        MAX_LEGEND_ROWS - 1
    } else {
        figure.series.len()
    };
    for series in figure.series.iter().take(shown) {
        draw_legend_series(area, figure.bars, series, y)?;
        y += LEGEND_ROW;
    }
    if shown < figure.series.len() {
        let more = format!("… and {} more (see the table)", figure.series.len() - shown);
        area.draw(&Text::new(more, (4, y), legend_text()))?;
        y += LEGEND_ROW;
    }
    if figure.ideal.is_some() {
        draw_legend_ideal(area, y)?;
        y += LEGEND_ROW;
    }
    let has_intervals = figure
        .series
        .iter()
        .flat_map(|s| &s.points)
        .any(|p| p.lo.is_some());
    if has_intervals {
        draw_error_bar_note(area, y, figure.error_bars)?;
    }
    Ok(())
}

/// The legend's text style, left-aligned and centred on its row.
fn legend_text() -> TextStyle<'static> {
    (FONT, LEGEND_SIZE)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Left, VPos::Center))
}

/// A series's legend row at height `y`: a bar swatch, or a line with its marker, and the label.
fn draw_legend_series<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    bars: bool,
    series: &Series,
    y: i32,
) -> DrawResult<DB> {
    if bars {
        for style in bar_styles(series.style) {
            area.draw(&Rectangle::new([(6, y - 7), (34, y + 7)], style))?;
        }
    } else {
        area.draw(&PathElement::new(
            vec![(4, y), (36, y)],
            series.style.rgb().stroke_width(2),
        ))?;
        draw_marker_px(area, series.style, (20, y))?;
    }
    area.draw(&Text::new(
        shorten(&series.label, 27),
        (44, y),
        legend_text(),
    ))
}

/// The ideal line's legend row at height `y`: three dashes and the word.
fn draw_legend_ideal<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, y: i32) -> DrawResult<DB> {
    for (from, to) in [(4, 12), (18, 26), (32, 36)] {
        area.draw(&PathElement::new(
            vec![(from, y), (to, y)],
            IDEAL.stroke_width(2),
        ))?;
    }
    area.draw(&Text::new("ideal", (44, y), legend_text()))
}

/// What the error bars mean, in two small grey lines below the legend rows: `of` says what
/// they are an interval of (`of the median`).
fn draw_error_bar_note<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    y: i32,
    of: &str,
) -> DrawResult<DB> {
    let note = (FONT, LEGEND_SIZE - 2.0)
        .into_font()
        .color(&IDEAL)
        .pos(Pos::new(HPos::Left, VPos::Center));
    area.draw(&Text::new("error bars: interval", (4, y + 6), note.clone()))?;
    area.draw(&Text::new(of, (4, y + 24), note))
}

/// How a bar of a series is drawn, in order: filled in its colour, or for a hollow one (see
/// [`Style::hollow`]) filled pale and then outlined.
fn bar_styles(series_style: Style) -> Vec<ShapeStyle> {
    let color = series_style.rgb();
    if series_style.hollow() {
        vec![series_style.pale().filled(), color.stroke_width(2)]
    } else {
        vec![color.filled()]
    }
}

/// A marker in pixel coordinates, for the legend.
fn draw_marker_px<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    series_style: Style,
    at: (i32, i32),
) -> DrawResult<DB> {
    let color = series_style.rgb();
    let style = color.filled();
    match series_style.shape() {
        0 => area.draw(&Circle::new(at, 5, style)),
        1 => area.draw(&TriangleMarker::new(at, 7, style)),
        2 => area.draw(&Rectangle::new(
            [(at.0 - 5, at.1 - 5), (at.0 + 5, at.1 + 5)],
            style,
        )),
        _ => area.draw(&Cross::new(at, 5, color.stroke_width(3))),
    }
}

/// `s` cut to `max` characters with an ellipsis: the legend column has a fixed width.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let head: String = s.chars().take(max - 1).collect();
        format!("{head}…")
    }
}

/// The x axis's range: the ticks, padded so the outer points are not on the frame.
fn x_range(figure: &Figure) -> (f64, f64) {
    let xs = figure.ticks.iter().map(|(x, _)| *x);
    let min = xs.clone().fold(f64::INFINITY, f64::min);
    let max = xs.fold(f64::NEG_INFINITY, f64::max);
    if !min.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if figure.bars {
        0.5
    } else {
        ((max - min) * 0.06).max(0.3)
    };
    (min - pad, max + pad)
}

/// The y axis's range: from zero, or around the data on a logarithmic axis.
fn y_range(figure: &Figure, x_min: f64, x_max: f64) -> (f64, f64) {
    if !matches!(figure.y_format, YFormat::LogSeconds | YFormat::LogSi) {
        return (0.0, y_max(figure, x_min, x_max));
    }
    let values = figure
        .series
        .iter()
        .flat_map(|s| &s.points)
        .flat_map(|p| [Some(p.y), p.lo, p.hi])
        .flatten()
        .filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if lo.is_finite() && hi.is_finite() {
        let pad = ((hi - lo) * 0.08).max(0.1);
        (lo - pad, hi + pad)
    } else {
        (0.0, 1.0)
    }
}

/// The top of a linear y axis: above the data, their intervals and the ideal line.
fn y_max(figure: &Figure, x_min: f64, x_max: f64) -> f64 {
    let data = figure
        .series
        .iter()
        .flat_map(|s| &s.points)
        .map(|p| p.hi.unwrap_or(p.y).max(p.y))
        .fold(0.0, f64::max);
    let last_tick = figure.ticks.last().map_or(x_max, |t| t.0);
    let ideal = match figure.ideal {
        // The ideal line may run off the top rather than flatten the data.
        Some(Ideal::Linear) => last_tick.max(x_min).exp2().min(data * 2.0),
        Some(Ideal::Constant(y)) => y,
        None => 0.0,
    };
    let top = data.max(ideal);
    if top > 0.0 && top.is_finite() {
        top * 1.1
    } else {
        1.0
    }
}

/// A y tick's label, as the figure's [`YFormat`] reads.
fn format_y(format: YFormat, v: f64) -> String {
    match format {
        YFormat::Si => units::si_short(v),
        YFormat::Seconds if v == 0.0 => "0".to_string(),
        YFormat::Seconds => units::seconds(v),
        YFormat::LogSeconds => units::seconds(10f64.powf(v)),
        YFormat::LogSi => units::si_short(10f64.powf(v)),
        YFormat::Times => format!("{}×", units::si_short(v)),
        YFormat::Percent => units::percent(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_colours_variants_are_lighter_and_change_shape() {
        let first = Style {
            colour: 2,
            variant: 0,
        };
        let second = Style {
            colour: 2,
            variant: 1,
        };
        assert_eq!(first.rgb(), PALETTE[2]);
        let (RGBColor(r0, g0, b0), RGBColor(r1, g1, b1)) = (first.rgb(), second.rgb());
        assert!(r1 >= r0 && g1 >= g0 && b1 >= b0 && (r1, g1, b1) != (r0, g0, b0));
        assert_ne!(first.shape(), second.shape());
    }

    /// Asserts that the first `count` plain series differ in `look`.
    fn assert_plain_series_differ<L: PartialEq>(count: usize, look: impl Fn(Style) -> L) {
        let looks: Vec<L> = (0..count)
            .map(|colour| look(Style { colour, variant: 0 }))
            .collect();
        for (i, a) in looks.iter().enumerate() {
            assert!(looks[i + 1..].iter().all(|b| b != a), "series {i} repeats");
        }
    }

    #[test]
    fn the_first_16_bar_series_never_repeat_colour_and_fill_together() {
        assert_plain_series_differ(16, |s| (s.rgb(), s.hollow()));
        // A hollow bar's fill is paler than its outline.
        let ninth = Style {
            colour: 8,
            variant: 0,
        };
        let (RGBColor(r, g, b), RGBColor(pr, pg, pb)) = (ninth.rgb(), ninth.pale());
        assert!(pr > r && pg > g && pb > b);
    }

    #[test]
    fn the_first_32_plain_series_never_repeat_colour_and_shape_together() {
        assert_plain_series_differ(32, |s| (s.rgb(), s.shape()));
    }
}
