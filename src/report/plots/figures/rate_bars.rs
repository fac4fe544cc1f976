//! Keys per second by input shape: bars per distribution, key type, GPU or algorithm, for a
//! sweep with neither a size nor a thread axis to draw lines along.

use crate::record::CaseResult;

use super::{
    Axis, Figure, Point, Series, SweepCases, YFormat, fallback_label, group, rate_point,
    set_log_axis,
};

/// The figure, when neither the input size nor the thread count varies.
pub(super) fn figure(cases: &SweepCases<'_>) -> Option<Figure> {
    if cases.varies(Axis::Size) || cases.varies(Axis::Threads) {
        return None;
    }
    let category = [Axis::Distribution, Axis::Key, Axis::Device, Axis::Algorithm]
        .into_iter()
        .find(|a| cases.varies(*a))
        .unwrap_or(Axis::Algorithm);
    let measured = &cases.measured;
    let categories = categories(measured, category);
    let what = match category {
        Axis::Distribution => "Input distribution",
        Axis::Key => "Key type",
        Axis::Device => "GPU",
        _ => "Algorithm",
    };
    let name = &cases.sweep.name;
    let mut figure = Figure {
        slug: format!("{name}-keys-per-s"),
        title: format!("{name}: keys per second by {}", what.to_lowercase()),
        x_label: what.to_string(),
        y_label: "Keys per second [keys/s]".to_string(),
        series: series(measured, category, &categories, &cases.others(category)),
        ticks: categories
            .into_iter()
            .enumerate()
            .map(|(i, (_, label))| (i as f64, label))
            .collect(),
        bars: true,
        y_format: YFormat::Si,
        log_y: false,
        cores: None,
        ideal: None,
        error_bars: "of the median",
    };
    set_log_axis(&mut figure);
    Some(figure)
}

/// A category's sort key and its label.
type Category = ((u64, String), String);

/// The categories in the order the cases ran, with GPUs sorted by ordinal.
fn categories(cases: &[&CaseResult], category: Axis) -> Vec<Category> {
    let mut categories: Vec<Category> = Vec::new();
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
    categories
}

/// One series of bars per combination of `series_axes`, each bar at its category's index.
fn series(
    cases: &[&CaseResult],
    category: Axis,
    categories: &[Category],
    series_axes: &[Axis],
) -> Vec<Series> {
    let index_of = |c: &CaseResult| {
        let key = category.order(c);
        categories.iter().position(|(k, _)| *k == key).unwrap_or(0) as f64
    };
    group(cases, series_axes)
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
        .collect()
}
