//! The view model: a [`Run`] turned into pre-formatted strings.
//!
//! Templates only place these strings; every number is formatted here, through
//! [`crate::units`], so the HTML, the Markdown and the notebook always agree. The cases'
//! tables and headlines are in [`cases`], the notes under the tables in [`notes`], the
//! environment and checks in [`environment`], the GPU comparison in [`gpus`] and the
//! reproduction recipe in [`repro`].

pub(crate) mod cases;
mod environment;
mod gpus;
pub mod leaders;
mod notes;
mod parts;
mod repro;

use serde::Serialize;

use crate::definition::{Cell, Sweep};
use crate::env::gpu::GpuInfo;
use crate::record::{CaseResult, CaseStatus, Run};
use crate::units;

use super::table::Table;
use super::text;

pub use cases::{case_label, case_table, headlines, short_label};
pub use environment::{CheckView, EnvSection, EnvView, Fact, environment, gpu_table};
pub use gpus::{Comparison, compare_gpus};
pub use notes::table_notes;
pub use repro::ReproView;

/// Everything a report shows, in order.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    /// The definition's title.
    pub title: String,
    /// The narrative as safe HTML.
    pub description_html: String,
    /// The narrative as Markdown with raw HTML escaped.
    pub description_md: String,
    /// The run folder's name.
    pub run_id: String,
    /// When the run started, in UTC.
    pub started_at: String,
    /// When it finished, or `not finished`.
    pub finished_at: String,
    /// Wall-clock time of the run, when it finished.
    pub duration: String,
    /// `complete`, `interrupted` or `incomplete`.
    pub state: String,
    /// `ok 12, skipped 1, failed 0` in words.
    pub counts: String,
    /// A loud line when any case failed; empty otherwise.
    pub failure_banner: String,
    /// A line when the run did not finish; empty otherwise.
    pub incomplete_banner: String,
    /// The definition's cells in order, each with its results.
    pub cells: Vec<CellView>,
    /// Headline results, one line per sweep (summary.md).
    pub headlines: Vec<String>,
    /// The machine the run saw.
    pub environment: EnvView,
    /// Every compatibility check.
    pub checks: Vec<CheckView>,
    /// Checks that warn or fail.
    pub warnings: Vec<CheckView>,
    /// How to run it again.
    pub repro: ReproView,
}

/// One cell of the executed notebook.
#[derive(Debug, Clone, Serialize)]
pub struct CellView {
    /// `markdown`, `sweep` or `figure`.
    pub kind: &'static str,
    /// A Markdown cell's text as safe HTML (empty for a sweep).
    pub markdown_html: String,
    /// A Markdown cell's text with raw HTML escaped (empty for a sweep).
    pub markdown_md: String,
    /// The sweep's results, for a sweep cell.
    pub sweep: Option<SweepView>,
    /// A figure cell's plots across sweeps.
    pub figure: Option<FigureView>,
}

/// A figure cell: one chart of several sweeps, and its ratio panel where one was asked for.
#[derive(Debug, Clone, Serialize)]
pub struct FigureView {
    /// The figure's name from the definition (the HTML anchor).
    pub name: String,
    /// Its title.
    pub title: String,
    /// The sweeps it draws, in words: `sortmark, cub`.
    pub sweeps: String,
    /// Filled in once the plots are drawn; empty when none of its sweeps measured a case.
    pub plots: Vec<PlotView>,
}

/// A sweep cell: its spec (the input) and its table and plots (the output).
#[derive(Debug, Clone, Serialize)]
pub struct SweepView {
    /// 1 for the first sweep, as a notebook numbers executed cells.
    pub number: usize,
    /// The sweep's name from the definition.
    pub name: String,
    /// The backend it ran on (`cpu`, `cuda`, `command`).
    pub backend: String,
    /// The cell's TOML as written.
    pub source: String,
    /// Its case counts in words.
    pub counts: String,
    /// A loud line when any of its cases failed; empty otherwise.
    pub failure_banner: String,
    /// One row per case.
    pub table: Table,
    /// Lines under the table: rounds, precision, what the speed-up intervals and the flags
    /// mean.
    pub table_notes: Vec<String>,
    /// The table in GitHub-flavoured Markdown.
    pub table_md: String,
    /// The table as aligned plain text.
    pub table_text: String,
    /// Filled in once the plots are drawn.
    pub plots: Vec<PlotView>,
    /// The GPUs side by side, when the sweep ran on more than one.
    pub gpu_comparison: Option<Table>,
    /// The same in Markdown (empty without a comparison).
    pub gpu_comparison_md: String,
    /// GPUs of one model that differ beyond their noise, one sentence per input.
    pub gpu_flags: Vec<String>,
}

/// A drawn figure, as every output places it.
#[derive(Debug, Clone, Serialize)]
pub struct PlotView {
    /// The figure's title, also the PNG's alternative text.
    pub title: String,
    /// What the figure is, `<sweep>-<kind>` (see [`crate::report::plots::Figure::slug`]): the
    /// notebook rebuilds a figure it knows by its kind.
    pub slug: String,
    /// Whether it draws bars (categories) rather than lines.
    pub bars: bool,
    /// The SVG document, inlined in the HTML.
    pub svg: String,
    /// Path of the PNG relative to the run folder (`plots/size-keys-per-s.png`).
    pub png_path: String,
    /// The PNG's bytes (for the notebook).
    #[serde(skip)]
    pub png: Vec<u8>,
}

impl ReportView {
    /// The view of a run, plots left empty: [`super::render_all`] draws them and fills them in.
    pub fn from_run(run: &Run) -> ReportView {
        let def = &run.definition;
        let (ok, skipped, failed) = run.counts();
        ReportView {
            title: def.title.clone(),
            description_html: text::to_html(&def.description),
            description_md: text::neutralize_html(&def.description),
            run_id: run.run_id.clone(),
            started_at: units::timestamp(&run.started_at),
            finished_at: run
                .finished_at
                .as_deref()
                .map_or("not finished".to_string(), units::timestamp),
            duration: run
                .finished_at
                .as_deref()
                .and_then(|f| units::elapsed(&run.started_at, f))
                .unwrap_or_default(),
            state: state_with_resumes(run),
            counts: counts(ok, skipped, failed),
            failure_banner: failure_banner(failed),
            incomplete_banner: incomplete_banner(run),
            headlines: headlines(run),
            cells: cell_views(run),
            environment: environment_with_parts(run),
            checks: run.checks.iter().map(environment::check_view).collect(),
            warnings: environment::warnings(&run.checks),
            repro: repro::repro(run),
        }
    }
}

/// One view per cell of the definition; sweeps are numbered from 1 as a notebook numbers the
/// cells it executed.
fn cell_views(run: &Run) -> Vec<CellView> {
    let mut sweeps = 0;
    run.definition
        .cells
        .iter()
        .enumerate()
        .map(|(index, cell)| match cell {
            Cell::Markdown { text } => CellView {
                kind: "markdown",
                markdown_html: text::to_html(text),
                markdown_md: text::neutralize_html(text),
                sweep: None,
                figure: None,
            },
            Cell::Figure(spec) => CellView {
                kind: "figure",
                markdown_html: String::new(),
                markdown_md: String::new(),
                sweep: None,
                figure: Some(FigureView {
                    name: spec.name.clone(),
                    title: spec.title.clone(),
                    sweeps: spec.sweeps.join(", "),
                    plots: Vec::new(),
                }),
            },
            Cell::Sweep(sweep) => {
                sweeps += 1;
                let cases: Vec<&CaseResult> =
                    run.cases.iter().filter(|c| c.cell == index).collect();
                CellView {
                    kind: "sweep",
                    markdown_html: String::new(),
                    markdown_md: String::new(),
                    sweep: Some(sweep_view(sweeps, sweep, &cases, &run.environment.gpus)),
                    figure: None,
                }
            }
        })
        .collect()
}

/// `complete`, `interrupted` or `incomplete`.
pub fn state(run: &Run) -> &'static str {
    match (run.complete, run.interrupted) {
        (true, _) => "complete",
        (false, true) => "interrupted",
        (false, false) => "incomplete",
    }
}

/// The run's state, followed by how often it was resumed and when last, if it was: e.g.
/// `complete, resumed twice, last at 2026-12-07 05:50 UTC`. A resumed run's cases were
/// measured in several sittings, so a reader should know before comparing them.
fn state_with_resumes(run: &Run) -> String {
    let state = state(run);
    let Some(last) = run.resumed.last() else {
        return state.to_string();
    };
    let last = units::timestamp(last);
    match run.resumed.len() {
        1 => format!("{state}, resumed at {last}"),
        2 => format!("{state}, resumed twice, last at {last}"),
        n => format!("{state}, resumed {n} times, last at {last}"),
    }
}

/// Case counts in words.
pub fn counts(ok: usize, skipped: usize, failed: usize) -> String {
    format!("{ok} ok, {skipped} skipped, {failed} failed")
}

/// A loud line when cases failed, so that nobody quotes their figures by mistake.
fn failure_banner(failed: usize) -> String {
    match failed {
        0 => String::new(),
        1 => "1 case FAILED: its figures are not trustworthy; see the reason in its row.".into(),
        n => format!(
            "{n} cases FAILED: their figures are not trustworthy; see the reasons in their rows."
        ),
    }
}

/// A line when the run did not finish: the missing cases are not in any table.
fn incomplete_banner(run: &Run) -> String {
    if run.complete {
        String::new()
    } else if run.interrupted {
        "This run was interrupted: cases that had not run yet are missing.".to_string()
    } else {
        "This run did not finish: cases that had not run yet are missing.".to_string()
    }
}

/// A sweep cell: its spec, its table in every form, and its GPU comparison.
fn sweep_view(number: usize, sweep: &Sweep, cases: &[&CaseResult], gpus: &[GpuInfo]) -> SweepView {
    let shown = without_absent_gpus(cases, gpus);
    let table = case_table(&shown.iter().collect::<Vec<_>>(), &sweep.measure);
    let comparison = compare_gpus(cases, gpus);
    let count = |s| cases.iter().filter(|c| c.status == s).count();
    SweepView {
        number,
        name: sweep.name.clone(),
        backend: sweep.backend.name().to_string(),
        source: sweep.source.trim_end().to_string(),
        counts: counts(
            count(CaseStatus::Ok),
            count(CaseStatus::Skipped),
            count(CaseStatus::Failed),
        ),
        failure_banner: failure_banner(count(CaseStatus::Failed)),
        table_md: table.to_markdown(),
        table_text: table.to_plain(),
        table,
        table_notes: table_notes(cases, &sweep.measure),
        plots: Vec::new(),
        gpu_comparison_md: comparison
            .as_ref()
            .map_or(String::new(), |c| c.table.to_markdown()),
        gpu_flags: comparison.as_ref().map_or(Vec::new(), |c| c.flags.clone()),
        gpu_comparison: comparison.map(|c| c.table),
    }
}

/// The run's environment, with the parts it was merged from (and their machines) last.
fn environment_with_parts(run: &Run) -> EnvView {
    let mut view = environment(&run.environment);
    view.sections.extend(parts::parts_section(run));
    view
}

/// The cases as their table shows them: on a machine where no GPU was found, the device a
/// skipped case was planned for (`GPU 0`, the plan's stand-in) names nothing, and is left out.
fn without_absent_gpus(cases: &[&CaseResult], gpus: &[GpuInfo]) -> Vec<CaseResult> {
    cases
        .iter()
        .map(|&c| {
            let mut shown = c.clone();
            if gpus.is_empty() && c.status == CaseStatus::Skipped {
                shown.device = None;
            }
            shown
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_skipped_gpu_case_names_no_gpu_on_a_machine_without_one() {
        let mut skipped = crate::record::example_case();
        (skipped.status, skipped.device) = (CaseStatus::Skipped, Some(0));
        let shown = without_absent_gpus(&[&skipped], &[]);
        assert_eq!(shown[0].device, None);
        let measure = crate::measure::MeasureSettings::default();
        let table = case_table(&shown.iter().collect::<Vec<_>>(), &measure);
        assert!(!table.headers.iter().any(|h| h.text == "GPU"));
    }

    #[test]
    fn banners_count_failures() {
        assert_eq!(failure_banner(0), "");
        assert!(failure_banner(2).starts_with("2 cases FAILED"));
    }

    #[test]
    fn a_resumed_run_says_how_often_and_when_last() {
        let file = serde_json::from_str(include_str!("../../../tests/fixtures/results/v3.json"));
        let current = crate::record::migrate::to_current(file.unwrap()).unwrap();
        let mut run: Run = serde_json::from_value(current).unwrap();
        assert_eq!(state_with_resumes(&run), "complete");
        run.resumed.push("2026-12-07T05:00:00Z".to_string());
        assert_eq!(
            state_with_resumes(&run),
            "complete, resumed at 2026-12-07 05:00 UTC"
        );
        run.resumed.push("2026-12-07T05:50:00Z".to_string());
        assert_eq!(
            state_with_resumes(&run),
            "complete, resumed twice, last at 2026-12-07 05:50 UTC"
        );
        run.resumed.push("2026-12-07T06:10:00Z".to_string());
        assert!(
            state_with_resumes(&run).ends_with("resumed 3 times, last at 2026-12-07 06:10 UTC")
        );
    }
}
