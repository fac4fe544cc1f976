//! `sortmark history NAME`: every archived run of one definition as a trend report, as asv and
//! github-action-benchmark show their users: per case its median and interval in each run, the
//! sortmark version and commit of each run, and each step between consecutive runs with the
//! comparison's verdict ([`crate::compare::compare_case`]), so that a change shows as the step
//! where it happened.
//!
//! [`build`] reads the runs into a [`History`]; [`render`] writes it as `history.html` and
//! `history.md`.

mod render;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::compare::{CaseComparison, Identity, Verdict, compare_case, median_interval};
use crate::record::Run;
use crate::record::archive::load_run;

pub use render::{render_html, render_markdown, write};

/// A case's place in one run: its median and interval, and the step from the run before.
#[derive(Debug, Clone)]
pub struct Point {
    /// Index of the run in [`History::runs`].
    pub run: usize,
    /// The median time in seconds, with the ends of its interval (`None`: not ok there).
    pub median: Option<(f64, f64, f64)>,
    /// The comparison with the previous run that has this case (`None`: the first).
    pub step: Option<CaseComparison>,
}

/// One case over every run that has it.
#[derive(Debug, Clone)]
pub struct Series {
    /// Which case.
    pub identity: Identity,
    /// Its points, oldest first.
    pub points: Vec<Point>,
}

impl Series {
    /// The steps whose verdict is slower or faster.
    pub fn changes(&self) -> impl Iterator<Item = (&Point, &CaseComparison)> {
        self.points.iter().filter_map(|p| {
            let step = p.step.as_ref()?;
            matches!(step.verdict, Verdict::Slower | Verdict::Faster).then_some((p, step))
        })
    }
}

/// What the history shows of one run.
#[derive(Debug, Clone)]
pub struct RunEntry {
    /// The run id.
    pub run_id: String,
    /// When it started, RFC 3339 UTC.
    pub started_at: String,
    /// The sortmark version that ran it.
    pub sortmark_version: String,
    /// The commit sortmark was built from (`+dirty` with uncommitted changes).
    pub commit: String,
    /// The machines it ran on (one; several for a run merged from parts).
    pub machines: Vec<String>,
    /// Cases ok, of all.
    pub ok: usize,
    /// Cases in all.
    pub cases: usize,
}

/// Every finished run of one definition, oldest first, and every case across them.
#[derive(Debug, Clone)]
pub struct History {
    /// The definition's name.
    pub name: String,
    /// The latest run's title.
    pub title: String,
    /// The runs, oldest first.
    pub runs: Vec<RunEntry>,
    /// Run folders left out, with why (unreadable, interrupted or incomplete).
    pub left_out: Vec<String>,
    /// Every case, in the order the latest run that has it shows it (sweep by sweep).
    pub series: Vec<Series>,
    /// A step is slower or faster only beyond 1 ± this fraction.
    pub threshold: f64,
}

/// Reads every run of the definition `name` under the archive `root` into a history.
pub fn build(root: &Path, name: &str, threshold: f64) -> anyhow::Result<History> {
    let folder = root.join(name);
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&folder)
        .with_context(|| format!("no runs of {name:?} in {}", root.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("results.json").is_file())
        .collect();
    dirs.sort();
    let mut runs = Vec::new();
    let mut left_out = Vec::new();
    for dir in dirs {
        match load_run(&dir) {
            Ok(run) if run.complete && !run.interrupted => runs.push(run),
            Ok(run) => left_out.push(format!("{}: not finished", run.run_id)),
            Err(e) => left_out.push(format!("{}: {e:#}", dir.display())),
        }
    }
    anyhow::ensure!(
        !runs.is_empty(),
        "no finished run of {name:?} in {}",
        folder.display()
    );
    runs.sort_by(|a, b| (&a.started_at, &a.run_id).cmp(&(&b.started_at, &b.run_id)));
    Ok(from_runs(name, &runs, left_out, threshold))
}

/// The history of `runs` (oldest first).
pub fn from_runs(name: &str, runs: &[Run], left_out: Vec<String>, threshold: f64) -> History {
    let mut series: Vec<Series> = Vec::new();
    let mut index: HashMap<Identity, usize> = HashMap::new();
    // The latest run's order first, then cases only older runs had.
    let order: Vec<usize> = (0..runs.len()).rev().collect();
    for &r in &order {
        for case in &runs[r].cases {
            let identity = Identity::of(case);
            index.entry(identity.clone()).or_insert_with(|| {
                series.push(Series {
                    identity,
                    points: Vec::new(),
                });
                series.len() - 1
            });
        }
    }
    let mut last: Vec<Option<(usize, usize)>> = vec![None; series.len()];
    for (r, run) in runs.iter().enumerate() {
        for (c, case) in run.cases.iter().enumerate() {
            let s = index[&Identity::of(case)];
            let step = last[s].map(|(pr, pc)| {
                compare_case(
                    series[s].identity.clone(),
                    &runs[pr].cases[pc],
                    case,
                    threshold,
                )
            });
            let median = (case.status == crate::record::CaseStatus::Ok)
                .then(|| median_interval(case))
                .flatten()
                .map(|i| (i.estimate_s, i.low_s, i.high_s));
            series[s].points.push(Point {
                run: r,
                median,
                step,
            });
            last[s] = Some((r, c));
        }
    }
    History {
        name: name.to_string(),
        title: runs
            .last()
            .map(|r| r.definition.title.clone())
            .unwrap_or_default(),
        runs: runs.iter().map(entry).collect(),
        left_out,
        series,
        threshold,
    }
}

/// What the history shows of `run`.
fn entry(run: &Run) -> RunEntry {
    let env = &run.environment;
    let mut machines: Vec<String> = run.parts.iter().map(|p| p.machine.clone()).collect();
    machines.sort();
    machines.dedup();
    if machines.is_empty() {
        machines.push(crate::record::parts::machine_label(env));
    }
    let (ok, _, _) = run.counts();
    let dirty = if env.git_dirty == Some(true) {
        "+dirty"
    } else {
        ""
    };
    RunEntry {
        run_id: run.run_id.clone(),
        started_at: run.started_at.clone(),
        sortmark_version: env.sortmark_version.clone(),
        commit: format!(
            "{}{dirty}",
            env.git_commit.chars().take(10).collect::<String>()
        ),
        machines,
        ok,
        cases: run.cases.len(),
    }
}
