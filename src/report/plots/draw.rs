//! Drawing a [`Figure`] with plotters: axes, ticks, series, error bars, the ideal line and the
//! legend, on an SVG or a bitmap backend.
//!
//! The one routine [`draw`] serves both backends, so the SVG in `report.html` and the PNG in
//! `report.md` show the same picture. PNG text uses the bundled DejaVu Sans, so a picture renders
//! the same on a bare CI machine as on a desktop.

use std::cell::RefCell;
use std::sync::Once;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::units;

use super::glyphs::Glyphs;
use super::{Cores, Figure, HEIGHT, Ideal, PALETTE_LEN, Point, Series, Style, WIDTH, YFormat};

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
/// Text and axes.
pub(super) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
/// The oversubscribed region of a thread axis: a faint warm grey, behind the data.
pub(super) const OVERSUBSCRIBED: RGBColor = RGBColor(0xF3, 0xEE, 0xE6);
/// Its label: darker, so it reads on the shade.
const OVERSUBSCRIBED_INK: RGBColor = RGBColor(0x8A, 0x5A, 0x00);
/// How far apart the series of a line figure are drawn, as a share of the x axis's width:
/// points of equal value stay side by side, none hidden under another.
const DODGE: f64 = 0.008;

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
    /// Draws the picture onto `root`, noting in `hovers` what each point is, where it is.
    fn draw_on<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        hovers: &Hovers,
    ) -> DrawResult<DB>;
}

/// A point's position in pixels and the text a reader sees on hovering it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hover {
    /// Pixels from the left of the picture.
    pub x: i32,
    /// Pixels from the top.
    pub y: i32,
    /// The series, the x value, the value and its interval.
    pub text: String,
}

/// The hovers a drawing notes as it goes (the drawing routines take `&self`).
pub type Hovers = RefCell<Vec<Hover>>;

impl Drawing for Figure {
    fn name(&self) -> &str {
        &self.slug
    }

    fn size(&self) -> (u32, u32) {
        (WIDTH, HEIGHT)
    }

    fn draw_on<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        hovers: &Hovers,
    ) -> DrawResult<DB> {
        draw(self, root, hovers)
    }
}

/// The drawing as an SVG document, each point carrying its value and interval as a `<title>`
/// that a browser shows on hover.
pub fn draw_svg(drawing: &impl Drawing) -> anyhow::Result<String> {
    register_font();
    let mut svg = String::new();
    let hovers = Hovers::default();
    {
        let root = SVGBackend::with_string(&mut svg, drawing.size()).into_drawing_area();
        drawing
            .draw_on(&root, &hovers)
            .map_err(|e| anyhow!("could not draw {}: {e:?}", drawing.name()))?;
        root.present()
            .map_err(|e| anyhow!("could not draw {}: {e:?}", drawing.name()))?;
    }
    Ok(with_hovers(&svg, &hovers.into_inner()))
}

/// `text` safe inside an XML element.
fn escape_xml(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `svg` with a transparent circle over each hovered point, titled with its text.
fn with_hovers(svg: &str, hovers: &[Hover]) -> String {
    if hovers.is_empty() {
        return svg.to_string();
    }
    let mut marks = String::from("<g class=\"hover\">\n");
    for h in hovers {
        marks.push_str(&format!(
            "<circle cx=\"{}\" cy=\"{}\" r=\"9\" fill=\"transparent\"><title>{}</title></circle>\n",
            h.x,
            h.y,
            escape_xml(&h.text)
        ));
    }
    marks.push_str("</g>\n");
    match svg.rfind("</svg>") {
        Some(end) => format!("{}{marks}{}", &svg[..end], &svg[end..]),
        None => svg.to_string(),
    }
}

/// The drawing as a PNG file's bytes.
pub fn draw_png(drawing: &impl Drawing) -> anyhow::Result<Vec<u8>> {
    register_font();
    let (width, height) = drawing.size();
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    {
        let bitmap = BitMapBackend::with_buffer(&mut pixels, (width, height));
        let root = Glyphs::new(bitmap).into_drawing_area();
        drawing
            .draw_on(&root, &Hovers::default())
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
fn draw<DB: DrawingBackend>(
    figure: &Figure,
    root: &DrawingArea<DB, Shift>,
    hovers: &Hovers,
) -> DrawResult<DB> {
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
    if let Some(cores) = figure.cores {
        draw_oversubscribed(&mut chart, cores, (x_max, y_min, y_max))?;
    }
    draw_mesh(figure, &mut chart)?;
    if figure.log_y {
        draw_log_y_ticks(
            figure,
            &mut chart,
            &plot_area,
            (x_min, x_max),
            (y_min, y_max),
        )?;
    }
    draw_x_ticks(figure, &mut chart, &plot_area, (y_min, y_max))?;
    draw_ideal(figure, &mut chart, (x_min, x_max), y_max)?;
    let count = figure.series.len().max(1);
    for (i, series) in figure.series.iter().enumerate() {
        let drawn = if figure.bars {
            draw_bars(figure, &mut chart, series, (i, count), y_min)?
        } else {
            let dodge = (i as f64 - (count - 1) as f64 / 2.0) * DODGE * (x_max - x_min);
            draw_line(figure, &mut chart, series, dodge)?
        };
        note_hovers(figure, &chart, series, &drawn, hovers);
    }
    draw_legend(figure, &legend_area)
}

/// A value's position on the y axis: its logarithm on a logarithmic axis (NaN for none).
fn y_at(figure: &Figure, v: f64) -> f64 {
    if !figure.log_y {
        v
    } else if v > 0.0 {
        v.log10()
    } else {
        f64::NAN
    }
}

/// Notes each drawn point of `series` (at the x it was drawn) with its hover text.
fn note_hovers<DB: DrawingBackend>(
    figure: &Figure,
    chart: &Chart<'_, DB>,
    series: &Series,
    drawn_at: &[f64],
    hovers: &Hovers,
) {
    for (p, x) in series.points.iter().zip(drawn_at) {
        let (px, py) = chart.backend_coord(&(*x, y_at(figure, p.y)));
        hovers.borrow_mut().push(Hover {
            x: px,
            y: py,
            text: hover_text(figure, series, p),
        });
    }
}

/// `radix, 4 threads: 1.23 G (interval 1.20 G – 1.25 G)`: the series, the x tick, the value.
fn hover_text(figure: &Figure, series: &Series, p: &Point) -> String {
    let at = figure
        .ticks
        .iter()
        .find(|(x, _)| (x - p.x).abs() < 1e-9)
        .map_or(String::new(), |(_, label)| format!(" at {label}"));
    let value = format_value(figure.y_format, p.y);
    let interval = match (p.lo, p.hi) {
        (Some(lo), Some(hi)) => format!(
            " (interval {} – {})",
            format_value(figure.y_format, lo),
            format_value(figure.y_format, hi)
        ),
        _ => String::new(),
    };
    format!("{}{at}: {value}{interval}", series.label)
}

/// The shaded region of thread counts beyond the machine's cores, labelled at its top.
fn draw_oversubscribed<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    cores: Cores,
    (x_max, y_min, y_max): (f64, f64, f64),
) -> DrawResult<DB> {
    chart.draw_series(std::iter::once(Rectangle::new(
        [(cores.x, y_min), (x_max, y_max)],
        OVERSUBSCRIBED.filled(),
    )))?;
    chart.draw_series(std::iter::once(PathElement::new(
        vec![(cores.x, y_min), (cores.x, y_max)],
        OVERSUBSCRIBED_INK.stroke_width(1),
    )))?;
    let style = (FONT, TICK_SIZE - 1.0)
        .into_font()
        .color(&OVERSUBSCRIBED_INK)
        .pos(Pos::new(HPos::Left, VPos::Top));
    let (px, py) = chart.backend_coord(&(cores.x, y_max));
    let area = chart.plotting_area().strip_coord_spec();
    let (bx, by) = area.get_base_pixel();
    let cores_text = match cores.count {
        1 => "1 core".to_string(),
        n => format!("{n} cores"),
    };
    area.draw(&Text::new(
        "oversubscribed".to_string(),
        (px - bx + 6, py - by + 6),
        style.clone(),
    ))?;
    area.draw(&Text::new(
        format!("(> {cores_text})"),
        (px - bx + 6, py - by + 24),
        style,
    ))
}

/// Ticks of a logarithmic y axis at 1, 2 and 5 times the powers of ten (1 alone where the
/// axis spans many decades), with their grid lines.
fn draw_log_y_ticks<DB: DrawingBackend>(
    figure: &Figure,
    chart: &mut Chart<'_, DB>,
    plot_area: &DrawingArea<DB, Shift>,
    (x_min, x_max): (f64, f64),
    (y_min, y_max): (f64, f64),
) -> DrawResult<DB> {
    let (base_x, base_y) = plot_area.get_base_pixel();
    let style = (FONT, TICK_SIZE)
        .into_font()
        .color(&INK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for v in log_ticks(y_min, y_max) {
        let y = v.log10();
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(x_min, y), (x_max, y)],
            GRID,
        )))?;
        let (px, py) = chart.backend_coord(&(x_min, y));
        plot_area.draw(&Text::new(
            format_value(figure.y_format, v),
            (px - base_x - 8, py - base_y),
            style.clone(),
        ))?;
        plot_area.draw(&PathElement::new(
            vec![(px - base_x - 4, py - base_y), (px - base_x, py - base_y)],
            INK,
        ))?;
    }
    Ok(())
}

/// The values of a logarithmic axis's ticks between 10^`low` and 10^`high`.
pub(super) fn log_ticks(low: f64, high: f64) -> Vec<f64> {
    let steps: &[f64] = if high - low > 3.0 {
        &[1.0]
    } else if high - low > 1.5 {
        &[1.0, 3.0]
    } else {
        &[1.0, 2.0, 5.0]
    };
    let mut ticks = Vec::new();
    let mut decade = low.floor() as i32;
    while f64::from(decade) <= high {
        for step in steps {
            let v = step * 10f64.powi(decade);
            if (low..=high).contains(&v.log10()) {
                ticks.push(v);
            }
        }
        decade += 1;
    }
    ticks
}

/// The axes, their descriptions, the y ticks and the horizontal grid.
fn draw_mesh<DB: DrawingBackend>(figure: &Figure, chart: &mut Chart<'_, DB>) -> DrawResult<DB> {
    let y_format = figure.y_format;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(if figure.log_y { 0 } else { 7 })
        .y_label_formatter(&|v| format_value(y_format, *v))
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
            // From the first thread count to the last, stopping where it leaves the plot; flat
            // beyond the cores, as more threads than cores cannot add speed.
            let first = figure.ticks.first().map_or(x_min, |t| t.0);
            let top = if figure.log_y {
                10f64.powf(y_max)
            } else {
                y_max
            };
            let cores = figure.cores.map_or(f64::INFINITY, |c| c.x);
            let last_tick = figure.ticks.last().map_or(x_max, |t| t.0);
            // A line still rising leaves the plot at the top; a flat one runs to the end.
            let last = if cores < top.log2() {
                last_tick
            } else {
                last_tick.min(top.log2())
            };
            let steps = 64;
            let points = (0..=steps).map(|i| {
                let x = first + (last - first) * f64::from(i) / f64::from(steps);
                (x, y_at(figure, x.min(cores).exp2()))
            });
            chart.draw_series(DashedLineSeries::new(points, 8, 6, IDEAL.stroke_width(2)))?;
        }
        Some(Ideal::Constant(y)) => {
            let y = y_at(figure, y);
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
/// category, rising from `floor` (zero, or the bottom of a logarithmic axis); returns where
/// each bar's middle is.
fn draw_bars<DB: DrawingBackend>(
    figure: &Figure,
    chart: &mut Chart<'_, DB>,
    series: &Series,
    (i, count): (usize, usize),
    floor: f64,
) -> Result<Vec<f64>, DrawingAreaErrorKind<DB::ErrorType>> {
    // A group of bars spans at most 80 % of its category; a lone bar is not a wall.
    let slot = (0.8 / count as f64).min(0.22);
    let mut middles = Vec::new();
    for p in &series.points {
        let x0 = p.x - slot * count as f64 / 2.0 + slot * i as f64;
        let inset = slot * 0.08;
        let top = y_at(figure, p.y);
        if top.is_finite() {
            let corners = [(x0 + inset, floor), (x0 + slot - inset, top)];
            for style in bar_styles(series.style) {
                chart.draw_series(std::iter::once(Rectangle::new(corners, style)))?;
            }
        }
        draw_error_bar(figure, chart, x0 + slot / 2.0, p, INK)?;
        middles.push(x0 + slot / 2.0);
    }
    Ok(middles)
}

/// A series as a line through its points moved `dodge` along x, with their error bars and
/// markers; returns where each point was drawn.
fn draw_line<DB: DrawingBackend>(
    figure: &Figure,
    chart: &mut Chart<'_, DB>,
    series: &Series,
    dodge: f64,
) -> Result<Vec<f64>, DrawingAreaErrorKind<DB::ErrorType>> {
    let at: Vec<(f64, f64)> = series
        .points
        .iter()
        .map(|p| (p.x + dodge, y_at(figure, p.y)))
        .filter(|(_, y)| y.is_finite())
        .collect();
    let line = series.style.rgb().stroke_width(2);
    if series.style.dashed() {
        chart.draw_series(DashedLineSeries::new(at.iter().copied(), 10, 5, line))?;
    } else {
        chart.draw_series(LineSeries::new(at.iter().copied(), line))?;
    }
    for p in &series.points {
        draw_error_bar(figure, chart, p.x + dodge, p, series.style.rgb())?;
    }
    draw_markers(chart, series.style, &at)?;
    Ok(series.points.iter().map(|p| p.x + dodge).collect())
}

/// An interval as a vertical bar with caps in `color`, in pixels so the caps keep their
/// width.
fn draw_error_bar<DB: DrawingBackend>(
    figure: &Figure,
    chart: &mut Chart<'_, DB>,
    x: f64,
    p: &Point,
    color: RGBColor,
) -> DrawResult<DB> {
    let interval = (p.lo.map(|v| y_at(figure, v)), p.hi.map(|v| y_at(figure, v)));
    if let (Some(lo), Some(hi)) = interval
        && lo.is_finite()
        && hi.is_finite()
    {
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
        let style = color.stroke_width(1);
        area.draw(&PathElement::new(
            vec![at((px, top)), at((px, bottom))],
            style,
        ))?;
        area.draw(&PathElement::new(vec![at(caps[0]), at(caps[1])], style))?;
        area.draw(&PathElement::new(vec![at(caps[2]), at(caps[3])], style))?;
    }
    Ok(())
}

/// A chart with two linear `f64` axes, as every figure has.
type Chart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Markers whose shape, not only their colour, tells the series apart, at chart positions.
fn draw_markers<DB: DrawingBackend>(
    chart: &mut Chart<'_, DB>,
    series_style: Style,
    at: &[(f64, f64)],
) -> DrawResult<DB> {
    let area = chart.plotting_area().strip_coord_spec();
    let (bx, by) = area.get_base_pixel();
    for p in at {
        let (px, py) = chart.backend_coord(p);
        draw_marker_px(&area, series_style, (px - bx, py - by))?;
    }
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
    if let Some(ideal) = figure.ideal {
        let word = match ideal {
            Ideal::Constant(_) if figure.y_format == YFormat::Times => "equal speed",
            _ => "ideal",
        };
        draw_legend_ideal(area, y, word)?;
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
        let line = series.style.rgb().stroke_width(2);
        if series.style.dashed() {
            for (from, to) in [(4, 12), (28, 36)] {
                area.draw(&PathElement::new(vec![(from, y), (to, y)], line))?;
            }
        } else {
            area.draw(&PathElement::new(vec![(4, y), (36, y)], line))?;
        }
        draw_marker_px(area, series.style, (20, y))?;
    }
    area.draw(&Text::new(
        shorten(&series.label, 27),
        (44, y),
        legend_text(),
    ))
}

/// The reference line's legend row at height `y`: three dashes and `word`.
fn draw_legend_ideal<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    y: i32,
    word: &str,
) -> DrawResult<DB> {
    for (from, to) in [(4, 12), (18, 26), (32, 36)] {
        area.draw(&PathElement::new(
            vec![(from, y), (to, y)],
            IDEAL.stroke_width(2),
        ))?;
    }
    area.draw(&Text::new(word.to_string(), (44, y), legend_text()))
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
    let (x, y) = at;
    let polygon = |corners: &[(i32, i32)]| {
        Polygon::new(
            corners
                .iter()
                .map(|(dx, dy)| (x + dx, y + dy))
                .collect::<Vec<_>>(),
            style,
        )
    };
    match series_style.shape() {
        0 => area.draw(&Circle::new(at, 5, style)),
        1 => area.draw(&polygon(&[(0, -7), (6, 4), (-6, 4)])),
        2 => area.draw(&Rectangle::new([(x - 5, y - 5), (x + 5, y + 5)], style)),
        3 => area.draw(&polygon(&[(0, -7), (7, 0), (0, 7), (-7, 0)])),
        4 => area.draw(&polygon(&[(0, 7), (6, -4), (-6, -4)])),
        _ => area.draw(&Cross::new(at, 5, color.stroke_width(3))),
    }
}

/// `s` cut to `max` characters with an ellipsis in the middle: the legend column has a fixed
/// width, and a label's end (its key type, its GPU) tells series apart as often as its start.
fn shorten(s: &str, max: usize) -> String {
    let count = s.chars().count();
    if count <= max {
        return s.to_string();
    }
    let tail = (max / 3).min(10);
    let head: String = s.chars().take(max - 1 - tail).collect();
    let end: String = s.chars().skip(count - tail).collect();
    format!("{head}…{end}")
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

/// The y axis's range: from zero, or around the data on a logarithmic axis (in decades).
fn y_range(figure: &Figure, x_min: f64, x_max: f64) -> (f64, f64) {
    if !figure.log_y {
        return (0.0, y_max(figure, x_min, x_max));
    }
    let ideal = match figure.ideal {
        Some(Ideal::Constant(y)) => Some(y),
        _ => None,
    };
    let values = figure
        .series
        .iter()
        .flat_map(|s| &s.points)
        .flat_map(|p| [Some(p.y), p.lo, p.hi])
        .chain([ideal])
        .flatten()
        .map(|v| y_at(figure, v))
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

/// A value as the figure's [`YFormat`] reads it, on a tick or on hover.
fn format_value(format: YFormat, v: f64) -> String {
    match format {
        YFormat::Si => units::si_short(v),
        YFormat::Seconds if v == 0.0 => "0".to_string(),
        YFormat::Seconds => units::seconds(v),
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
    fn the_first_48_plain_series_never_repeat_colour_and_shape_together() {
        assert_plain_series_differ(48, |s| (s.rgb(), s.shape()));
    }

    #[test]
    fn ten_series_differ_in_colour_shape_and_a_repeated_colour_in_its_line() {
        assert_plain_series_differ(6, |s| s.shape());
        assert_plain_series_differ(8, |s| s.rgb());
        assert_plain_series_differ(16, |s| (s.rgb(), s.dashed()));
    }

    #[test]
    fn palette_colours_are_far_apart() {
        // Euclidean distance in RGB: Okabe & Ito's colours are at least ~90 apart; a near
        // duplicate (two blues a reader cannot tell apart) would be under 60.
        for (i, RGBColor(r, g, b)) in PALETTE.iter().enumerate() {
            for RGBColor(r2, g2, b2) in &PALETTE[i + 1..] {
                let d = |x: &u8, y: &u8| (f64::from(*x) - f64::from(*y)).powi(2);
                let distance = (d(r, r2) + d(g, g2) + d(b, b2)).sqrt();
                assert!(
                    distance > 60.0,
                    "colour {i} is close to another: {distance}"
                );
            }
        }
    }

    #[test]
    fn log_ticks_fall_on_round_values_inside_the_axis() {
        assert_eq!(log_ticks(0.0, 1.0), [1.0, 2.0, 5.0, 10.0]);
        assert_eq!(log_ticks(5.2, 7.1), [300_000.0, 1e6, 3e6, 1e7]);
        assert_eq!(log_ticks(-3.5, 1.0).len(), 5);
    }
}
