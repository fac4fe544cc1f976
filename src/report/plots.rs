//! Plots of a sweep, chosen from the axes that vary in it, drawn with plotters.
//!
//! [`figures`] decides what to draw (pure data, easy to test); [`draw_svg`] and [`draw_png`]
//! run the same drawing code on two backends. PNG text uses the bundled DejaVu Sans, so a
//! picture renders the same on a bare CI machine as on a desktop.

use std::sync::Once;

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::definition::Sweep;
use crate::record::{CaseResult, CaseStatus, Run};
use crate::units;

/// Figure size in pixels.
pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 540;
/// Width of the legend column at the right of the plot, outside the data.
const LEGEND_WIDTH: u32 = 250;
/// The font family every text uses; the bundled DejaVu Sans is registered under it.
const FONT: &str = "sans-serif";
const TITLE_SIZE: f64 = 24.0;
const AXIS_DESC_SIZE: f64 = 16.0;
const TICK_SIZE: f64 = 14.0;
const LEGEND_SIZE: f64 = 14.0;
/// Legend rows that fit beside the plot with the ideal line and the error-bar note.
const MAX_LEGEND_ROWS: usize = 15;
/// Okabe & Ito's colour-blind-safe palette (black moved last, yellow late: weak on white).
const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xF0, 0xE4, 0x42),
    RGBColor(0x00, 0x00, 0x00),
];
const GRID: RGBColor = RGBColor(0xE4, 0xE4, 0xE4);
const IDEAL: RGBColor = RGBColor(0x70, 0x70, 0x70);
const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);

/// What a figure shows, before any drawing.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// File stem: `<sweep>-<kind>`.
    pub slug: String,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Tick positions and their labels (x is log2 of the value, or a category index).
    pub ticks: Vec<(f64, String)>,
    /// Bars (categories) or lines (log2 axes).
    pub bars: bool,
    pub y_format: YFormat,
    pub series: Vec<Series>,
    pub ideal: Option<Ideal>,
}

/// How the y axis's ticks read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YFormat {
    /// SI prefix, no unit (the unit is in the axis label).
    Si,
    Seconds,
    /// Values are log10 of seconds: a time axis spanning orders of magnitude.
    LogSeconds,
    Times,
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
    pub label: String,
    pub points: Vec<Point>,
    pub style: Style,
}

/// How a series is drawn: a palette colour, and which of that colour's variants.
///
/// Series that differ only in their GPU share a colour: the first GPU draws it plainly, each
/// further GPU lighter and with the next marker shape, so a sweep over two GPUs reads as pairs
/// instead of running through the palette twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub colour: usize,
    pub variant: usize,
}

impl Style {
    fn rgb(self) -> RGBColor {
        // Each variant moves the colour 40 % closer to white, up to 80 %.
        self.tint((0.4 * self.variant as f64).min(0.8))
    }

    /// The palette colour moved `share` of the way to white.
    fn tint(self, share: f64) -> RGBColor {
        let RGBColor(r, g, b) = PALETTE[self.colour % PALETTE.len()];
        let towards_white = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * share).round() as u8;
        RGBColor(towards_white(r), towards_white(g), towards_white(b))
    }

    /// The marker shape: colours repeat after eight series, and then the shapes shift, so no
    /// two of the first 32 series look alike; a colour's variants take the following shapes.
    fn shape(self) -> usize {
        (self.colour + self.colour / PALETTE.len() + self.variant) % 4
    }

    /// Whether this series's bars are hollow: a bar has no shape to change, so where the colours
    /// repeat (the second eight series, the fourth, ...) the bars are outlined in the colour
    /// over a pale fill, and no two of the first 16 bar series look alike.
    fn hollow(self) -> bool {
        (self.colour / PALETTE.len()) % 2 == 1
    }

    /// The fill of a hollow bar: the colour 80 % of the way to white.
    fn pale(self) -> RGBColor {
        self.tint(0.8)
    }
}

/// A value with its 95 % confidence interval where known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

/// The axes of a case, in the order labels name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Axis {
    Algorithm,
    Key,
    Distribution,
    Size,
    Threads,
    Device,
}

impl Axis {
    fn value(self, c: &CaseResult) -> String {
        match self {
            Axis::Algorithm => c.algorithm.clone(),
            Axis::Key => c.key_type.to_string(),
            Axis::Distribution => c.distribution.to_string(),
            Axis::Size => units::count(c.n),
            Axis::Threads => match c.threads {
                Some(1) => "1 thread".to_string(),
                Some(t) => format!("{t} threads"),
                None => "–".to_string(),
            },
            Axis::Device => c.device.map_or("–".to_string(), |d| format!("GPU {d}")),
        }
    }

    /// A value that sorts as the axis does (numbers numerically).
    fn order(self, c: &CaseResult) -> (u64, String) {
        match self {
            Axis::Size => (c.n, String::new()),
            Axis::Threads => (u64::from(c.threads.unwrap_or(0)), String::new()),
            Axis::Device => (u64::from(c.device.unwrap_or(0)), String::new()),
            _ => (0, self.value(c)),
        }
    }

    const ALL: [Axis; 6] = [
        Axis::Algorithm,
        Axis::Key,
        Axis::Distribution,
        Axis::Size,
        Axis::Threads,
        Axis::Device,
    ];
}

/// The figures of every sweep, in definition order, with the cell each belongs to.
pub fn figures(run: &Run) -> Vec<(usize, Figure)> {
    run.definition
        .sweeps()
        .flat_map(|sweep| {
            let cases: Vec<&CaseResult> =
                run.cases.iter().filter(|c| c.cell == sweep.cell).collect();
            sweep_figures(sweep, &cases)
                .into_iter()
                .map(move |f| (sweep.cell, f))
        })
        .collect()
}

/// The figures of one sweep: chosen from the axes that vary among its cases.
pub fn sweep_figures(sweep: &Sweep, cases: &[&CaseResult]) -> Vec<Figure> {
    let measured: Vec<&CaseResult> = cases
        .iter()
        .copied()
        .filter(|c| c.status == CaseStatus::Ok && c.stats.is_some())
        .collect();
    if measured.is_empty() {
        return Vec::new();
    }
    // Skipped and failed cases are in the table; the figures show what was measured.
    let varying = varying_axes(&measured);
    let others = |x: Axis| -> Vec<Axis> { varying.iter().copied().filter(|a| *a != x).collect() };
    let mut figures = Vec::new();
    if varying.contains(&Axis::Size) {
        figures.push(line_figure(
            sweep,
            "keys-per-s",
            "Keys per second against input size",
            ("Input size [keys, log2 scale]", "Keys per second [keys/s]"),
            &measured,
            Axis::Size,
            &others(Axis::Size),
            rate_point,
            YFormat::Si,
            None,
        ));
    }
    if varying.contains(&Axis::Threads) {
        let series_axes = others(Axis::Threads);
        let labels = ("Threads [log2 scale]", "");
        figures.push(line_figure(
            sweep,
            "time",
            "Median time against thread count",
            (labels.0, "Median time per sort (95% CI)"),
            &measured,
            Axis::Threads,
            &series_axes,
            time_point,
            YFormat::Seconds,
            None,
        ));
        let scaled: Vec<&CaseResult> = measured
            .iter()
            .copied()
            .filter(|c| c.speedup.is_some())
            .collect();
        if !scaled.is_empty() {
            figures.push(line_figure(
                sweep,
                "speedup",
                "Speed-up over one thread",
                (labels.0, "Speed-up [×]"),
                &scaled,
                Axis::Threads,
                &series_axes,
                speedup_point,
                YFormat::Times,
                Some(Ideal::Linear),
            ));
            figures.push(line_figure(
                sweep,
                "efficiency",
                "Parallel efficiency (speed-up ÷ threads)",
                (labels.0, "Parallel efficiency [%]"),
                &scaled,
                Axis::Threads,
                &series_axes,
                |c| {
                    c.efficiency.map(|e| Point {
                        x: 0.0,
                        y: e,
                        lo: None,
                        hi: None,
                    })
                },
                YFormat::Percent,
                Some(Ideal::Constant(1.0)),
            ));
        }
    }
    if !varying.contains(&Axis::Size) && !varying.contains(&Axis::Threads) {
        let category = [Axis::Distribution, Axis::Key, Axis::Device, Axis::Algorithm]
            .into_iter()
            .find(|a| varying.contains(a))
            .unwrap_or(Axis::Algorithm);
        figures.push(bar_figure(sweep, &measured, category, &others(category)));
    }
    figures
}

/// The axes whose values differ between cases. Thread counts and GPUs count only where
/// they differ for one algorithm: std's sorts always run on one thread, and a sweep of std
/// against rayon on every core is no thread sweep.
fn varying_axes(cases: &[&CaseResult]) -> Vec<Axis> {
    let distinct = |a: Axis, of: &mut dyn Iterator<Item = &&CaseResult>| {
        let mut values: Vec<String> = of.map(|c| a.value(c)).collect();
        values.sort();
        values.dedup();
        values.len()
    };
    Axis::ALL
        .into_iter()
        .filter(|&a| match a {
            Axis::Threads | Axis::Device => cases
                .iter()
                .any(|c| distinct(a, &mut cases.iter().filter(|o| o.algorithm == c.algorithm)) > 1),
            _ => distinct(a, &mut cases.iter()) > 1,
        })
        .collect()
}

fn rate_point(c: &CaseResult) -> Option<Point> {
    let s = c.stats.as_ref()?;
    let n = c.n as f64;
    Some(Point {
        x: 0.0,
        y: c.keys_per_s?,
        lo: (s.ci95_high_s > 0.0).then(|| n / s.ci95_high_s),
        hi: (s.ci95_low_s > 0.0).then(|| n / s.ci95_low_s),
    })
}

fn time_point(c: &CaseResult) -> Option<Point> {
    let s = c.stats.as_ref()?;
    Some(Point {
        x: 0.0,
        y: s.median_s,
        lo: Some(s.ci95_low_s),
        hi: Some(s.ci95_high_s),
    })
}

fn speedup_point(c: &CaseResult) -> Option<Point> {
    Some(Point {
        x: 0.0,
        y: c.speedup?,
        lo: None,
        hi: None,
    })
}

/// Groups cases into series by the values of `axes`, in the order the cases ran (the
/// definition's order), each with its legend label and style.
fn group<'a>(cases: &[&'a CaseResult], axes: &[Axis]) -> Vec<(String, Style, Vec<&'a CaseResult>)> {
    let mut groups: Vec<(Vec<String>, Vec<&CaseResult>)> = Vec::new();
    for c in cases {
        let key: Vec<String> = axes.iter().map(|a| a.value(c)).collect();
        match groups.iter_mut().find(|g| g.0 == key) {
            Some(g) => g.1.push(c),
            None => groups.push((key, vec![c])),
        }
    }
    let keys: Vec<Vec<String>> = groups.iter().map(|g| g.0.clone()).collect();
    let device_at = axes.iter().position(|a| *a == Axis::Device);
    groups
        .into_iter()
        .zip(styles(&keys, device_at))
        .map(|((key, members), style)| (key.join(", "), style, members))
        .collect()
}

/// The style of each series, given the axis values that name it and which of them (if any)
/// is the GPU. Where the GPU is one of several axes, series that differ only in it share a
/// colour (see [`Style`]); otherwise every series has its own.
fn styles(keys: &[Vec<String>], device_at: Option<usize>) -> Vec<Style> {
    let without_device = |key: &Vec<String>, d: usize| -> Vec<String> {
        key.iter()
            .enumerate()
            .filter(|(i, _)| *i != d)
            .map(|(_, v)| v.clone())
            .collect()
    };
    let Some(d) = device_at else {
        return plain_styles(keys.len());
    };
    let mut colours: Vec<Vec<String>> = Vec::new();
    let colour_of: Vec<usize> = keys
        .iter()
        .map(|key| index_or_push(&mut colours, without_device(key, d)))
        .collect();
    if colours.len() < 2 {
        return plain_styles(keys.len());
    }
    // Variants count within their colour (cases run GPU by GPU in order), so a series on one GPU
    // only, or on the CPU, is drawn plainly whatever the other series ran on.
    let mut per_colour = vec![0; colours.len()];
    colour_of
        .into_iter()
        .map(|colour| {
            let variant = per_colour[colour];
            per_colour[colour] += 1;
            Style { colour, variant }
        })
        .collect()
}

/// A colour of its own for each of `count` series.
fn plain_styles(count: usize) -> Vec<Style> {
    (0..count)
        .map(|colour| Style { colour, variant: 0 })
        .collect()
}

/// Where `value` is in `list`, appending it first if it is not there.
fn index_or_push<T: PartialEq>(list: &mut Vec<T>, value: T) -> usize {
    list.iter().position(|v| *v == value).unwrap_or_else(|| {
        list.push(value);
        list.len() - 1
    })
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call per figure kind reads best flat"
)]
fn line_figure(
    sweep: &Sweep,
    kind: &str,
    title: &str,
    (x_label, y_label): (&str, &str),
    cases: &[&CaseResult],
    along: Axis,
    series_axes: &[Axis],
    point: fn(&CaseResult) -> Option<Point>,
    y_format: YFormat,
    ideal: Option<Ideal>,
) -> Figure {
    let x_of = |c: &CaseResult| -> f64 {
        match along {
            Axis::Threads => f64::from(c.threads.unwrap_or(1)).log2(),
            _ => (c.n as f64).log2(),
        }
    };
    let mut ticks: Vec<(f64, String)> = Vec::new();
    for c in cases {
        let x = x_of(c);
        if !ticks.iter().any(|(t, _)| (t - x).abs() < 1e-9) {
            let label = match along {
                Axis::Threads => c.threads.unwrap_or(1).to_string(),
                _ => units::count(c.n),
            };
            ticks.push((x, label));
        }
    }
    ticks.sort_by(|a, b| a.0.total_cmp(&b.0));
    let series: Vec<Series> = group(cases, series_axes)
        .into_iter()
        .map(|(label, style, members)| {
            let mut points: Vec<Point> = members
                .iter()
                .filter_map(|c| point(c).map(|p| Point { x: x_of(c), ..p }))
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
        .collect();
    let mut figure = Figure {
        slug: format!("{}-{kind}", sweep.name),
        title: format!("{}: {title}", sweep.name),
        x_label: x_label.to_string(),
        y_label: y_label.to_string(),
        ticks,
        bars: false,
        y_format,
        series,
        ideal,
    };
    if y_format == YFormat::Seconds && spans_decades(&figure) {
        to_log_seconds(&mut figure);
    }
    figure
}

/// Whether the figure's values span more than a factor of 30: then a linear axis flattens
/// the small ones against zero.
fn spans_decades(figure: &Figure) -> bool {
    let ys = figure.series.iter().flat_map(|s| &s.points).map(|p| p.y);
    let (lo, hi) = ys
        .filter(|y| y.is_finite() && *y > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), y| {
            (lo.min(y), hi.max(y))
        });
    lo.is_finite() && hi / lo > 30.0
}

/// Moves a time figure onto a logarithmic axis.
fn to_log_seconds(figure: &mut Figure) {
    let log = |v: f64| if v > 0.0 { v.log10() } else { f64::NAN };
    for p in figure.series.iter_mut().flat_map(|s| s.points.iter_mut()) {
        p.y = log(p.y);
        p.lo = p.lo.map(log);
        p.hi = p.hi.map(log);
    }
    figure.y_format = YFormat::LogSeconds;
    figure.y_label = format!("{} [log scale]", figure.y_label);
}

/// The label of a lone series: what its cases share (the algorithm, or the input when the
/// algorithms are the categories).
fn fallback_label(cases: &[&CaseResult], category: Option<Axis>) -> String {
    cases.first().map_or_else(String::new, |c| match category {
        Some(Axis::Algorithm) => format!("{} {}", c.key_type, c.distribution),
        _ => c.algorithm.clone(),
    })
}

fn bar_figure(
    sweep: &Sweep,
    cases: &[&CaseResult],
    category: Axis,
    series_axes: &[Axis],
) -> Figure {
    let mut categories: Vec<((u64, String), String)> = Vec::new();
    for c in cases {
        let key = category.order(c);
        if !categories.iter().any(|(k, _)| *k == key) {
            categories.push((key, category.value(c)));
        }
    }
    // Distributions and key types keep definition order; numbers sort numerically.
    if matches!(category, Axis::Device) {
        categories.sort();
    }
    let index_of = |c: &CaseResult| {
        let key = category.order(c);
        categories.iter().position(|(k, _)| *k == key).unwrap_or(0) as f64
    };
    let series = group(cases, series_axes)
        .into_iter()
        .map(|(label, style, members)| Series {
            label: if label.is_empty() {
                fallback_label(cases, Some(category))
            } else {
                label
            },
            style,
            points: members
                .iter()
                .filter_map(|c| {
                    rate_point(c).map(|p| Point {
                        x: index_of(c),
                        ..p
                    })
                })
                .collect(),
        })
        .collect();
    let what = match category {
        Axis::Distribution => "Input distribution",
        Axis::Key => "Key type",
        Axis::Device => "GPU",
        _ => "Algorithm",
    };
    Figure {
        slug: format!("{}-keys-per-s", sweep.name),
        title: format!("{}: keys per second by {}", sweep.name, what.to_lowercase()),
        x_label: what.to_string(),
        y_label: "Keys per second [keys/s]".to_string(),
        ticks: categories
            .into_iter()
            .enumerate()
            .map(|(i, (_, label))| (i as f64, label))
            .collect(),
        bars: true,
        y_format: YFormat::Si,
        series,
        ideal: None,
    }
}

/// Registers the bundled font once; plotters looks fonts up by family name.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped in the dejavu crate; a failure would be
        // a packaging bug, and only costs the PNG its text.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}

/// The figure as an SVG document.
pub fn draw_svg(figure: &Figure) -> anyhow::Result<String> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(figure, &root).map_err(|e| anyhow!("could not draw {}: {e:?}", figure.slug))?;
        root.present()
            .map_err(|e| anyhow!("could not draw {}: {e:?}", figure.slug))?;
    }
    Ok(svg)
}

/// The figure as a PNG file's bytes.
pub fn draw_png(figure: &Figure) -> anyhow::Result<Vec<u8>> {
    use image::ImageEncoder;
    register_font();
    let mut pixels = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (WIDTH, HEIGHT)).into_drawing_area();
        draw(figure, &root).map_err(|e| anyhow!("could not draw {}: {e:?}", figure.slug))?;
        root.present()
            .map_err(|e| anyhow!("could not draw {}: {e:?}", figure.slug))?;
    }
    let mut png = Vec::new();
    image::codecs::png::PngEncoder::new(&mut png)
        .write_image(&pixels, WIDTH, HEIGHT, image::ColorType::Rgb8)
        .map_err(|e| anyhow!("could not encode {}: {e}", figure.slug))?;
    Ok(png)
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

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
        .draw()?;

    // Our own x ticks: exactly the values measured, labelled as the axis reads.
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

    let count = figure.series.len().max(1);
    for (i, series) in figure.series.iter().enumerate() {
        let color = series.style.rgb();
        if figure.bars {
            // A group of bars spans at most 80 % of its category; a lone bar is not a wall.
            let slot = (0.8 / count as f64).min(0.22);
            for p in &series.points {
                let x0 = p.x - slot * count as f64 / 2.0 + slot * i as f64;
                let inset = slot * 0.08;
                let corners = [(x0 + inset, 0.0), (x0 + slot - inset, p.y)];
                for style in bar_styles(series.style) {
                    chart.draw_series(std::iter::once(Rectangle::new(corners, style)))?;
                }
                draw_error_bar(&mut chart, x0 + slot / 2.0, p)?;
            }
        } else {
            chart.draw_series(LineSeries::new(
                series.points.iter().map(|p| (p.x, p.y)),
                color.stroke_width(2),
            ))?;
            for p in &series.points {
                draw_error_bar(&mut chart, p.x, p)?;
            }
            draw_markers(&mut chart, series.style, &series.points)?;
        }
    }
    draw_legend(figure, &legend_area)
}

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
    let text = (FONT, LEGEND_SIZE).into_font().color(&INK);
    let row = 26;
    let mut y = 24;
    let shown = if figure.series.len() > MAX_LEGEND_ROWS {
        MAX_LEGEND_ROWS - 1
    } else {
        figure.series.len()
    };
    for series in figure.series.iter().take(shown) {
        let color = series.style.rgb();
        if figure.bars {
            for style in bar_styles(series.style) {
                area.draw(&Rectangle::new([(6, y - 7), (34, y + 7)], style))?;
            }
        } else {
            area.draw(&PathElement::new(
                vec![(4, y), (36, y)],
                color.stroke_width(2),
            ))?;
            draw_marker_px(area, series.style, (20, y))?;
        }
        area.draw(&Text::new(
            shorten(&series.label, 27),
            (44, y),
            text.clone().pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        y += row;
    }
    if shown < figure.series.len() {
        area.draw(&Text::new(
            format!("… and {} more (see the table)", figure.series.len() - shown),
            (4, y),
            text.clone().pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        y += row;
    }
    if figure.ideal.is_some() {
        area.draw(&PathElement::new(
            vec![(4, y), (12, y)],
            IDEAL.stroke_width(2),
        ))?;
        area.draw(&PathElement::new(
            vec![(18, y), (26, y)],
            IDEAL.stroke_width(2),
        ))?;
        area.draw(&PathElement::new(
            vec![(32, y), (36, y)],
            IDEAL.stroke_width(2),
        ))?;
        area.draw(&Text::new(
            "ideal",
            (44, y),
            text.clone().pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        y += row;
    }
    if figure
        .series
        .iter()
        .flat_map(|s| &s.points)
        .any(|p| p.lo.is_some())
    {
        area.draw(&Text::new(
            "error bars: 95% CI",
            (4, y + 6),
            (FONT, LEGEND_SIZE - 2.0)
                .into_font()
                .color(&IDEAL)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
        area.draw(&Text::new(
            "of the median",
            (4, y + 24),
            (FONT, LEGEND_SIZE - 2.0)
                .into_font()
                .color(&IDEAL)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))?;
    }
    Ok(())
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

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let head: String = s.chars().take(max - 1).collect();
        format!("{head}…")
    }
}

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
    if figure.y_format != YFormat::LogSeconds {
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

fn format_y(format: YFormat, v: f64) -> String {
    match format {
        YFormat::Si => units::si_short(v),
        YFormat::Seconds if v == 0.0 => "0".to_string(),
        YFormat::Seconds => units::seconds(v),
        YFormat::LogSeconds => units::seconds(10f64.powf(v)),
        YFormat::Times => format!("{}×", units::si_short(v)),
        YFormat::Percent => units::percent(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(rows: &[[&str; 2]]) -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| r.iter().map(|v| v.to_string()).collect())
            .collect()
    }

    #[test]
    fn series_that_differ_only_in_their_gpu_share_a_colour() {
        let named = keys(&[
            ["u32", "GPU 0"],
            ["u32", "GPU 1"],
            ["u64", "GPU 0"],
            ["u64", "GPU 1"],
        ]);
        let got: Vec<(usize, usize)> = styles(&named, Some(1))
            .iter()
            .map(|s| (s.colour, s.variant))
            .collect();
        assert_eq!(got, [(0, 0), (0, 1), (1, 0), (1, 1)]);
    }

    #[test]
    fn a_cpu_series_beside_two_gpus_leaves_the_first_gpu_plain() {
        let named = keys(&[["std", "–"], ["radix", "GPU 0"], ["radix", "GPU 1"]]);
        let got: Vec<(usize, usize)> = styles(&named, Some(1))
            .iter()
            .map(|s| (s.colour, s.variant))
            .collect();
        assert_eq!(got, [(0, 0), (1, 0), (1, 1)]);
    }

    #[test]
    fn without_a_gpu_axis_or_with_only_gpus_every_series_has_its_own_colour() {
        let named = keys(&[["u32", "radix"], ["u64", "radix"]]);
        let got: Vec<usize> = styles(&named, None).iter().map(|s| s.colour).collect();
        assert_eq!(got, [0, 1]);
        let gpus_only = keys(&[["radix", "GPU 0"], ["radix", "GPU 1"]]);
        let got: Vec<(usize, usize)> = styles(&gpus_only, Some(1))
            .iter()
            .map(|s| (s.colour, s.variant))
            .collect();
        assert_eq!(got, [(0, 0), (1, 0)]);
    }

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
