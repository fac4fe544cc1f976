//! `sortmark check`: validates a definition and shows the cases a run of it would plan on this
//! machine: per sweep in text (every case with `-v`), every case in JSON.

use sortmark::terminal;
use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use sortmark::catalog::BackendKind;
use sortmark::data::{Distribution, KeyType};
use sortmark::definition::{MeasureSettings, Overrides};
use sortmark::plan::Case;
use sortmark::report::table::{Header, Row, Table};
use sortmark::runner::{self, Definition, DefinitionReadError, Verbosity};

use super::{EXIT_ERROR, EXIT_OK, OutputFormat};

/// `sortmark check [DEFINITION] [--only SWEEP] [--set KEY=VALUE] [--format FORMAT]`.
pub fn check(
    definition: Option<&Path>,
    overrides: &Overrides,
    format: OutputFormat,
    verbosity: Verbosity,
) -> ExitCode {
    let read = runner::read_definition(definition, overrides, &runner::machine_limits());
    let shown = definition.map_or(sortmark::definition::QUICK_PATH.to_string(), |p| {
        p.display().to_string()
    });
    let printed = match (&read, format) {
        (Ok(d), OutputFormat::Text) => Ok(text(d, verbosity)),
        (Ok(d), OutputFormat::Json) => super::to_json(&Checked::valid(d)),
        (Err(_), OutputFormat::Text) => Ok(String::new()),
        (Err(e), OutputFormat::Json) => super::to_json(&Checked::invalid(shown, e)),
    };
    match printed {
        Ok(out) => terminal::out(&out),
        Err(e) => {
            terminal::err_line(&format!("error: {e:#}"));
            return ExitCode::from(EXIT_ERROR);
        }
    }
    match read {
        Ok(_) => ExitCode::from(EXIT_OK),
        Err(e) => super::run::definition_error(&e),
    }
}

/// The JSON of `check`: the definition, whether it is valid, and its cases or its errors.
#[derive(Serialize)]
struct Checked {
    /// Where the definition was read from, as given.
    definition: String,
    valid: bool,
    /// The archive name, the title and the seed (valid definitions).
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    /// The sweeps, in definition order (valid definitions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    sweeps: Vec<SweepPlan>,
    /// Every planned case, in plan order (valid definitions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cases: Vec<PlannedCase>,
    /// What is wrong (invalid definitions).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<Problem>,
}

/// A sweep and how many cases it plans.
#[derive(Serialize)]
struct SweepPlan {
    name: String,
    backend: BackendKind,
    /// Cases planned, skipped ones included.
    cases: usize,
    /// Cases the plan already skips, each with its reason in `cases`.
    skipped: usize,
    /// The sweep's measurement settings.
    measure: MeasureSettings,
}

/// One planned case: the identity a result will have in `results.json`, and why the plan
/// already skips it (`null`: it will run).
#[derive(Serialize)]
struct PlannedCase {
    sweep: String,
    backend: BackendKind,
    algorithm: String,
    key_type: KeyType,
    distribution: Distribution,
    n: u64,
    threads: Option<u32>,
    device: Option<u32>,
    skip: Option<String>,
}

/// One problem of an invalid definition, located where it can be.
#[derive(Serialize)]
struct Problem {
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    column: Option<usize>,
}

impl Checked {
    fn valid(d: &Definition) -> Checked {
        let cases = runner::planned_cases(&d.def);
        let sweeps = d
            .def
            .sweeps()
            .map(|s| {
                let of_sweep = || cases.iter().filter(|c| c.sweep == s.name);
                SweepPlan {
                    name: s.name.clone(),
                    backend: s.backend,
                    cases: of_sweep().count(),
                    skipped: of_sweep().filter(|c| c.skip.is_some()).count(),
                    measure: s.measure,
                }
            })
            .collect();
        Checked {
            definition: d.path.clone(),
            valid: true,
            name: Some(d.def.name.clone()),
            title: Some(d.def.title.clone()),
            seed: Some(d.def.seed),
            sweeps,
            cases: cases.iter().map(PlannedCase::from).collect(),
            errors: Vec::new(),
        }
    }

    fn invalid(definition: String, e: &DefinitionReadError) -> Checked {
        let errors = match e {
            DefinitionReadError::Invalid(load) => load
                .errors
                .iter()
                .map(|e| Problem {
                    message: e.message.clone(),
                    path: Some(e.path.clone()),
                    line: Some(e.line),
                    column: Some(e.column),
                })
                .collect(),
            other => vec![Problem {
                message: other.to_string(),
                path: None,
                line: None,
                column: None,
            }],
        };
        Checked {
            definition,
            valid: false,
            name: None,
            title: None,
            seed: None,
            sweeps: Vec::new(),
            cases: Vec::new(),
            errors,
        }
    }
}

impl From<&Case> for PlannedCase {
    fn from(c: &Case) -> PlannedCase {
        PlannedCase {
            sweep: c.sweep.clone(),
            backend: c.backend,
            algorithm: c.algorithm.clone(),
            key_type: c.key_type,
            distribution: c.distribution,
            n: c.n,
            threads: c.threads,
            device: c.device,
            skip: c.skip.clone(),
        }
    }
}

/// The text of `check`: a headline, then each sweep's axes as planned, or with `-v` every case.
fn text(d: &Definition, verbosity: Verbosity) -> String {
    let cases = runner::planned_cases(&d.def);
    let skipped = cases.iter().filter(|c| c.skip.is_some()).count();
    let sweeps = d.def.sweeps().count();
    let mut out = format!(
        "{}: valid, {} cases in {sweeps} sweep{}{}\n",
        d.path,
        cases.len(),
        if sweeps == 1 { "" } else { "s" },
        match skipped {
            0 => String::new(),
            n => format!(", {n} skipped by the plan"),
        }
    );
    if verbosity == Verbosity::Verbose {
        out.push('\n');
        out.push_str(&case_table(&cases).to_plain());
        return out;
    }
    for sweep in d.def.sweeps() {
        let of_sweep: Vec<&Case> = cases.iter().filter(|c| c.sweep == sweep.name).collect();
        out.push('\n');
        out.push_str(&sweep_text(&sweep.name, sweep.backend, &of_sweep));
    }
    out.push_str("\nEvery case: sortmark check -v, or --format json for scripts.\n");
    out
}

/// One sweep in a few lines: its case count and the values each axis takes in its cases.
fn sweep_text(name: &str, backend: BackendKind, cases: &[&Case]) -> String {
    let skipped: Vec<&str> = cases.iter().filter_map(|c| c.skip.as_deref()).collect();
    let mut out = format!(
        "{name} ({}): {} case{}{}\n",
        backend.name(),
        cases.len(),
        if cases.len() == 1 { "" } else { "s" },
        match skipped.len() {
            0 => String::new(),
            n => format!(", {n} skipped by the plan"),
        }
    );
    let axes: [(&str, Vec<String>); 6] = [
        ("algorithms", values(cases, |c| Some(c.algorithm.clone()))),
        ("keys", values(cases, |c| Some(c.key_type.to_string()))),
        (
            "distributions",
            values(cases, |c| Some(c.distribution.to_string())),
        ),
        ("n", values(cases, |c| Some(size(c.n)))),
        (
            "threads",
            values(cases, |c| c.threads.map(|t| t.to_string())),
        ),
        (
            "devices",
            values(cases, |c| c.device.map(|d| d.to_string())),
        ),
    ];
    for (axis, values) in axes.iter().filter(|(_, v)| !v.is_empty()) {
        out.push_str(&format!("  {axis:<14} {}\n", values.join(", ")));
    }
    for (reason, count) in tally(&skipped) {
        out.push_str(&format!("  {:<14} {count} × {reason}\n", "skipped"));
    }
    out
}

/// The distinct values `value` gives over `cases`, in their first order.
fn values(cases: &[&Case], value: impl Fn(&Case) -> Option<String>) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for v in cases.iter().filter_map(|c| value(c)) {
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    seen
}

/// Each distinct reason with how often it occurs, in first order.
fn tally<'a>(reasons: &[&'a str]) -> Vec<(&'a str, usize)> {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for &reason in reasons {
        match counts.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, n)) => *n += 1,
            None => counts.push((reason, 1)),
        }
    }
    counts
}

/// A key count as a definition would write it: `2^20` where exact, else the plain number.
fn size(n: u64) -> String {
    if n >= 1024 && n.is_power_of_two() {
        format!("2^{}", n.trailing_zeros())
    } else {
        n.to_string()
    }
}

/// Every planned case as a table, with the plan's reason for each skipped one.
fn case_table(cases: &[Case]) -> Table {
    let or_dash = |v: Option<u32>| v.map_or("–".to_string(), |v| v.to_string());
    Table {
        headers: vec![
            Header::new("Sweep", false),
            Header::new("Backend", false),
            Header::new("Algorithm", false),
            Header::new("Key", false),
            Header::new("Distribution", false),
            Header::new("n", true),
            Header::new("Threads", true),
            Header::new("Device", true),
            Header::new("Skipped because", false),
        ],
        rows: cases
            .iter()
            .map(|c| Row {
                cells: vec![
                    c.sweep.clone(),
                    c.backend.name().to_string(),
                    c.algorithm.clone(),
                    c.key_type.to_string(),
                    c.distribution.to_string(),
                    size(c.n),
                    or_dash(c.threads),
                    or_dash(c.device),
                    c.skip.clone().unwrap_or_default(),
                ],
                status: if c.skip.is_some() { "skipped" } else { "ok" }.to_string(),
            })
            .collect(),
    }
}
