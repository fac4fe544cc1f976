//! Figure cells: one chart drawing series from several sweeps, with an optional ratio panel
//! against a baseline series.
//!
//! ```toml
//! [[cell]]
//! figure = { name = "radix-vs-cub", sweeps = ["sortmark", "cub"], x = "size",
//!            metric = "keys-per-s", baseline = "cub/cub-radix" }
//! ```
//! The sweep names are checked once every sweep is known (a figure may name a sweep defined
//! after it), each error located at the name it is about.

use std::ops::Range;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::Cell;
use super::error::closest;

/// What a figure cell draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FigureSpec {
    /// The figure's name: its plot files are named after it.
    pub name: String,
    /// The heading drawn above it.
    pub title: String,
    /// The sweeps whose measured cases it draws, in legend order.
    pub sweeps: Vec<String>,
    /// The x axis.
    pub x: FigureAxis,
    /// The value drawn.
    pub metric: FigureMetric,
    /// The series every other is divided by in a ratio panel, where one is asked for.
    pub baseline: Option<SeriesRef>,
}

/// A figure's x axis: a sweep without it is drawn as a level across the figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FigureAxis {
    /// Input size, log2 scale.
    Size,
    /// CPU thread count, log2 scale.
    Threads,
}

/// The value a figure draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FigureMetric {
    /// Keys per second.
    KeysPerS,
    /// Median time per sort.
    Time,
}

/// A series named `sweep/algorithm`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SeriesRef {
    /// The sweep's name.
    pub sweep: String,
    /// One of its algorithms.
    pub algorithm: String,
}

/// A figure cell as TOML spells it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFigure {
    pub name: Option<Spanned<String>>,
    pub title: Option<String>,
    pub sweeps: Spanned<Vec<Spanned<String>>>,
    #[serde(default = "default_axis")]
    pub x: FigureAxis,
    #[serde(default = "default_metric")]
    pub metric: FigureMetric,
    pub baseline: Option<Spanned<String>>,
}

fn default_axis() -> FigureAxis {
    FigureAxis::Size
}

fn default_metric() -> FigureMetric {
    FigureMetric::KeysPerS
}

/// A problem found in a figure cell: where, and what.
pub type FigureProblem = (Range<usize>, String);

/// The names a figure refers to, kept with their spans until every sweep is known.
#[derive(Debug)]
pub struct FigureRefs {
    /// The figure's name, where it is written (or where its sweeps are, for a default name).
    pub name: Spanned<String>,
    /// Where the figure's `sweeps` list is (for an empty one).
    sweeps_span: Range<usize>,
    /// Each sweep name and where it is.
    sweeps: Vec<Spanned<String>>,
    /// The baseline as written, and where.
    baseline: Option<Spanned<String>>,
}

/// The figure of `raw`, numbered `number` among the figure cells (for its default name), and
/// the names to check once every sweep is known.
pub fn figure(raw: RawFigure, number: usize) -> (FigureSpec, FigureRefs) {
    let sweeps: Vec<String> = raw
        .sweeps
        .get_ref()
        .iter()
        .map(|s| s.get_ref().clone())
        .collect();
    let name = raw
        .name
        .as_ref()
        .map_or_else(|| format!("figure-{number}"), |n| n.get_ref().clone());
    let spec = FigureSpec {
        title: raw.title.unwrap_or_else(|| sweeps.join(" against ")),
        name,
        baseline: raw.baseline.as_ref().and_then(|b| split_ref(b.get_ref())),
        sweeps,
        x: raw.x,
        metric: raw.metric,
    };
    let refs = FigureRefs {
        name: raw
            .name
            .unwrap_or_else(|| Spanned::new(raw.sweeps.span(), spec.name.clone())),
        sweeps_span: raw.sweeps.span(),
        sweeps: raw.sweeps.into_inner(),
        baseline: raw.baseline,
    };
    (spec, refs)
}

/// `sweep/algorithm` split at its slash.
fn split_ref(text: &str) -> Option<SeriesRef> {
    let (sweep, algorithm) = text.split_once('/')?;
    (!sweep.is_empty() && !algorithm.is_empty()).then(|| SeriesRef {
        sweep: sweep.to_string(),
        algorithm: algorithm.to_string(),
    })
}

/// Every problem with a figure's references, given all the definition's cells: unknown or
/// repeated sweeps, a malformed baseline, or one naming a sweep or algorithm it does not draw.
pub fn check(refs: &FigureRefs, cells: &[Cell]) -> Vec<FigureProblem> {
    let sweeps: Vec<&super::Sweep> = cells
        .iter()
        .filter_map(|c| match c {
            Cell::Sweep(s) => Some(s),
            _ => None,
        })
        .collect();
    let names: Vec<&str> = sweeps.iter().map(|s| s.name.as_str()).collect();
    let mut problems = Vec::new();
    if refs.sweeps.is_empty() {
        problems.push((
            refs.sweeps_span.clone(),
            "a figure draws at least one sweep: name them in `sweeps`".to_string(),
        ));
    }
    for (i, sweep) in refs.sweeps.iter().enumerate() {
        let name = sweep.get_ref();
        if !names.contains(&name.as_str()) {
            problems.push((sweep.span(), unknown_sweep(name, &names)));
        } else if refs.sweeps[..i].iter().any(|s| s.get_ref() == name) {
            problems.push((sweep.span(), format!("sweep `{name}` is listed twice")));
        }
    }
    if let Some(baseline) = &refs.baseline {
        let mut drawn: Vec<&str> = Vec::new();
        for s in &refs.sweeps {
            if !drawn.contains(&s.get_ref().as_str()) {
                drawn.push(s.get_ref());
            }
        }
        if let Some(problem) = baseline_problem(baseline.get_ref(), &drawn, &sweeps) {
            problems.push((baseline.span(), problem));
        }
    }
    problems
}

/// What is wrong with a baseline `text`, if anything.
fn baseline_problem(text: &str, drawn: &[&str], sweeps: &[&super::Sweep]) -> Option<String> {
    let Some(series) = split_ref(text) else {
        return Some(format!(
            "the baseline `{text}` is not `sweep/algorithm`, e.g. `{}/{}`",
            drawn.first().unwrap_or(&"cub"),
            sweeps
                .iter()
                .find(|s| drawn.first() == Some(&s.name.as_str()))
                .and_then(|s| s.algorithms.first())
                .map_or("radix", String::as_str)
        ));
    };
    if !drawn.contains(&series.sweep.as_str()) {
        return Some(format!(
            "the baseline's sweep `{}` is not one this figure draws ({})",
            series.sweep,
            drawn.join(", ")
        ));
    }
    let sweep = sweeps.iter().find(|s| s.name == series.sweep)?;
    if sweep.algorithms.contains(&series.algorithm) {
        return None;
    }
    let hint = closest(
        &series.algorithm,
        sweep.algorithms.iter().map(String::as_str),
    )
    .map_or(String::new(), |c| format!("; did you mean `{c}`?"));
    Some(format!(
        "sweep `{}` has no algorithm `{}` (it runs {}){hint}",
        series.sweep,
        series.algorithm,
        sweep.algorithms.join(", ")
    ))
}

/// An unknown sweep's message, with the closest name.
fn unknown_sweep(name: &str, names: &[&str]) -> String {
    let hint = closest(name, names.iter().copied())
        .map_or(String::new(), |c| format!("; did you mean `{c}`?"));
    format!(
        "no sweep named `{name}` in this definition{hint} (its sweeps: {})",
        names.join(", ")
    )
}
