//! Report definitions: the TOML "notebook" a user writes, read and validated.
//!
//! Two stages, as in ripgrep's arguments: [`raw`] mirrors the TOML with spans and only
//! deserializes; [`validate`] checks it against the machine and produces a [`ReportDef`], the
//! plain, validated form that the planner runs and that `results.json` stores. A definition with
//! any problem is refused whole, with every problem located at `file:line:column`.

mod error;
mod figure;
mod overrides;
mod raw;
mod size;
pub mod template;
mod validate;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use crate::measure::MeasureSettings;
pub use error::{DefinitionError, LoadError, closest};
pub use figure::{FigureAxis, FigureMetric, FigureSpec, SeriesRef};
pub use overrides::{Overrides, Setting, SettingError};
pub use size::{Size, SizeError};
pub use validate::MachineLimits;

use crate::catalog::BackendKind;
use crate::data::{Distribution, KeyType};

/// The built-in default definition, `reports/quick.toml`, embedded in the binary.
pub const QUICK_TOML: &str = include_str!("../../reports/quick.toml");
/// The name the built-in definition is reported under.
pub const QUICK_PATH: &str = "<built-in reports/quick.toml>";

/// A validated report definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReportDef {
    /// Short name used for the archive folder (the file stem, e.g. `quick`).
    pub name: String,
    /// The report's title.
    pub title: String,
    /// Narrative Markdown shown under the title.
    pub description: String,
    /// Seed of every generated input and of the statistics' bootstrap.
    pub seed: u64,
    /// Measurement defaults for every sweep.
    pub measure: MeasureSettings,
    /// The cells, in definition order (with `--only`, its sweeps and every Markdown cell).
    pub cells: Vec<Cell>,
    /// What the command line changed (`--only`, `--set`); a resume or a reproduction applies
    /// it to the definition text again.
    pub overrides: Overrides,
}

impl ReportDef {
    /// The sweep cells, in definition order.
    pub fn sweeps(&self) -> impl Iterator<Item = &Sweep> {
        self.cells.iter().filter_map(|c| match c {
            Cell::Sweep(s) => Some(s),
            Cell::Markdown { .. } | Cell::Figure(_) => None,
        })
    }
}

/// One cell of the notebook.
///
/// A definition holds a handful of cells, so the size of a `Sweep` held inline costs nothing
/// worth the indirection of a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Cell {
    /// Narrative Markdown.
    Markdown { text: String },
    /// An experiment: the cross product of its axes, run on one backend.
    Sweep(Sweep),
    /// A figure drawing series from several sweeps on one chart.
    Figure(FigureSpec),
}

/// Which GPUs a CUDA sweep runs on: `"all"` or a list of ordinals (serde by hand in `raw`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceSelection {
    /// Every GPU the driver reports.
    All,
    /// These ordinals.
    List(Vec<u32>),
}

/// A combination of axis values that a sweep leaves out; unset fields match anything.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Exclude {
    pub algorithm: Option<String>,
    pub key: Option<KeyType>,
    pub distribution: Option<Distribution>,
    pub size: Option<u64>,
    pub threads: Option<u32>,
}

/// A sweep cell: the cross product of its axes, run on one backend.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Sweep {
    /// Position of the cell in the definition (0-based, counting Markdown cells).
    pub cell: usize,
    /// A short identifier, unique in the definition (used for plot file names).
    pub name: String,
    /// Where the cases run.
    pub backend: BackendKind,
    /// Algorithm names (for the command backend: labels passed as `{algorithm}`).
    pub algorithms: Vec<String>,
    /// Key types.
    pub keys: Vec<KeyType>,
    /// Input distributions.
    pub distributions: Vec<Distribution>,
    /// Input sizes, ascending as written.
    pub sizes: Vec<Size>,
    /// CPU thread counts, with `"all"` resolved to the logical core count (CPU sweeps only).
    pub threads: Vec<u32>,
    /// GPUs (CUDA sweeps only).
    pub devices: Option<DeviceSelection>,
    /// Combinations left out.
    pub exclude: Vec<Exclude>,
    /// Measurement settings, the definition's defaults overridden by the cell's.
    pub measure: MeasureSettings,
    /// The program line with placeholders (command backend only).
    pub command: Option<String>,
    /// The cell's TOML exactly as written, shown as the cell's input in reports.
    pub source: String,
}

/// Reads and validates a definition; `path` is used in error messages and for the name.
/// The largest number of cases a definition may plan: more would take days to measure and
/// gigabytes to plan.
pub const MAX_CASES: u64 = 100_000;

impl Sweep {
    /// The cases this sweep plans at most (before exclusions; `devices = "all"` counted as
    /// eight GPUs), saturating rather than overflowing.
    pub fn planned_cases(&self) -> u64 {
        let devices = match &self.devices {
            None => 1,
            Some(DeviceSelection::All) => 8,
            Some(DeviceSelection::List(list)) => list.len().max(1),
        };
        [
            self.algorithms.len(),
            self.keys.len(),
            self.distributions.len(),
            self.sizes.len(),
            self.threads.len().max(1),
            devices,
        ]
        .into_iter()
        .fold(1u64, |n, axis| n.saturating_mul(axis as u64))
    }
}

pub fn load(path: &str, text: &str, limits: &MachineLimits) -> Result<ReportDef, LoadError> {
    match raw::parse(path, text) {
        Ok(raw) => validate::validate(path, text, raw, limits),
        Err(mut reading) => {
            reading
                .errors
                .extend(problems_of_readable_parts(path, text, limits));
            reading.errors.sort_by_key(|e| (e.line, e.column));
            reading.errors.dedup();
            Err(reading)
        }
    }
}

/// The validation problems inside the parts of a definition that read (its `[measure]` and the
/// cells that read on their own), so that one `check` shows every problem, not the reading
/// problems first and the rest after they are fixed.
fn problems_of_readable_parts(
    path: &str,
    text: &str,
    limits: &MachineLimits,
) -> Vec<DefinitionError> {
    let Some((raw, kept)) = raw::readable_parts(text) else {
        return Vec::new();
    };
    let Err(problems) = validate::validate(path, text, raw, limits) else {
        return Vec::new();
    };
    // Line and column of a byte offset, as every definition error counts them.
    let position = |offset: usize| {
        let at = DefinitionError::at(path, text, offset..offset, "");
        (at.line, at.column)
    };
    let inside = |e: &DefinitionError| {
        kept.iter()
            .any(|span| (position(span.start)..=position(span.end)).contains(&(e.line, e.column)))
    };
    problems.errors.into_iter().filter(inside).collect()
}

/// Reads the built-in default definition.
pub fn load_builtin(limits: &MachineLimits) -> Result<ReportDef, LoadError> {
    Overrides::default().load_builtin(limits)
}

#[cfg(test)]
mod tests;
