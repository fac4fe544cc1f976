//! The view model: a [`Run`] turned into pre-formatted strings, one function per table.
//!
//! Templates only place these strings; every number is formatted here, through
//! [`crate::units`], so the HTML, the Markdown and the notebook always agree.

use serde::Serialize;

use crate::catalog::BackendKind;
use crate::definition::Cell;
use crate::env::{CheckStatus, Environment};
use crate::record::{CaseResult, CaseStatus, Run};
use crate::units::{self, RatePrefix, TimeUnit};

use super::markdown;

/// Everything a report shows, in order.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub title: String,
    /// The narrative as safe HTML.
    pub description_html: String,
    /// The narrative as Markdown with raw HTML escaped.
    pub description_md: String,
    pub run_id: String,
    pub started_at: String,
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
    pub cells: Vec<CellView>,
    /// Headline results, one line per sweep (summary.md).
    pub headlines: Vec<String>,
    pub environment: EnvView,
    pub checks: Vec<CheckView>,
    /// Checks that warn or fail.
    pub warnings: Vec<CheckView>,
    pub repro: ReproView,
}

/// One cell of the executed notebook.
#[derive(Debug, Clone, Serialize)]
pub struct CellView {
    /// `markdown` or `sweep`.
    pub kind: &'static str,
    pub markdown_html: String,
    pub markdown_md: String,
    pub sweep: Option<SweepView>,
}

/// A sweep cell: its spec (the input) and its table and plots (the output).
#[derive(Debug, Clone, Serialize)]
pub struct SweepView {
    /// 1 for the first sweep, as a notebook numbers executed cells.
    pub number: usize,
    pub name: String,
    pub backend: String,
    /// The cell's TOML as written.
    pub source: String,
    pub counts: String,
    pub failure_banner: String,
    pub table: Table,
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

/// A drawn figure.
#[derive(Debug, Clone, Serialize)]
pub struct PlotView {
    pub title: String,
    /// The SVG document, inlined in the HTML.
    pub svg: String,
    /// Path of the PNG relative to the run folder (`plots/size-keys-per-s.png`).
    pub png_path: String,
    /// The PNG's bytes (for the notebook).
    #[serde(skip)]
    pub png: Vec<u8>,
}

/// A table of strings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub headers: Vec<Header>,
    pub rows: Vec<Row>,
}

/// A column heading; numeric columns are right-aligned.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Header {
    pub text: String,
    pub numeric: bool,
}

/// A table row; `status` (`ok`, `skipped`, `failed`, …) styles it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub cells: Vec<String>,
    pub status: String,
}

/// The environment: label–value sections, and tables where there are several devices.
#[derive(Debug, Clone, Serialize)]
pub struct EnvView {
    /// A one-line summary.
    pub one_line: String,
    pub sections: Vec<EnvSection>,
}

/// A headed list of facts, e.g. `Host` or `Software`.
#[derive(Debug, Clone, Serialize)]
pub struct EnvSection {
    pub heading: String,
    pub facts: Vec<Fact>,
    /// A table of devices (GPUs) under the facts; `None` when there is none.
    pub table: Option<Table>,
    /// The same table in Markdown.
    pub table_md: Option<String>,
}

/// One label and its value.
#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
}

/// A compatibility check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckView {
    pub id: String,
    pub component: String,
    pub status: String,
    pub summary: String,
    pub detail: String,
    pub remedy: String,
}

/// How to reproduce the run.
#[derive(Debug, Clone, Serialize)]
pub struct ReproView {
    pub command_line: String,
    pub version: String,
    pub commit: String,
    pub seed: String,
    pub definition_path: String,
    pub definition_text: String,
    /// Shell lines that run the same definition again.
    pub rerun: String,
    /// The shell line that re-renders this run's reports.
    pub rerender: String,
}

/// Builds the view of a run (plots left empty: [`super::render_all`] draws them).
pub fn report(run: &Run) -> ReportView {
    let def = &run.definition;
    let (ok, skipped, failed) = run.counts();
    let mut sweeps = 0;
    let cells: Vec<CellView> = def
        .cells
        .iter()
        .enumerate()
        .map(|(index, cell)| match cell {
            Cell::Markdown { text } => CellView {
                kind: "markdown",
                markdown_html: markdown::to_html(text),
                markdown_md: markdown::neutralize_html(text),
                sweep: None,
            },
            Cell::Sweep(sweep) => {
                let cases: Vec<&CaseResult> =
                    run.cases.iter().filter(|c| c.cell == index).collect();
                CellView {
                    kind: "sweep",
                    markdown_html: String::new(),
                    markdown_md: String::new(),
                    sweep: Some(sweep_view(
                        {
                            sweeps += 1;
                            sweeps
                        },
                        &sweep.name,
                        sweep.backend,
                        &sweep.source,
                        &cases,
                        &run.environment.gpus,
                    )),
                }
            }
        })
        .collect();
    let checks: Vec<CheckView> = run.checks.iter().map(check_view).collect();
    let mut warnings: Vec<(CheckStatus, CheckView)> = run
        .checks
        .iter()
        .filter(|c| c.status >= CheckStatus::Warn)
        .map(|c| (c.status, check_view(c)))
        .collect();
    warnings.sort_by_key(|w| std::cmp::Reverse(w.0));
    ReportView {
        title: def.title.clone(),
        description_html: markdown::to_html(&def.description),
        description_md: markdown::neutralize_html(&def.description),
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
        state: state(run).to_string(),
        counts: counts(ok, skipped, failed),
        failure_banner: failure_banner(failed),
        incomplete_banner: if run.complete {
            String::new()
        } else if run.interrupted {
            "This run was interrupted: cases that had not run yet are missing.".to_string()
        } else {
            "This run did not finish: cases that had not run yet are missing.".to_string()
        },
        headlines: headlines(run),
        cells,
        environment: environment(&run.environment),
        checks,
        warnings: warnings.into_iter().map(|(_, c)| c).collect(),
        repro: repro(run),
    }
}

/// `complete`, `interrupted` or `incomplete`.
pub fn state(run: &Run) -> &'static str {
    match (run.complete, run.interrupted) {
        (true, _) => "complete",
        (false, true) => "interrupted",
        (false, false) => "incomplete",
    }
}

/// Case counts in words.
pub fn counts(ok: usize, skipped: usize, failed: usize) -> String {
    format!("{ok} ok, {skipped} skipped, {failed} failed")
}

fn failure_banner(failed: usize) -> String {
    match failed {
        0 => String::new(),
        1 => "1 case FAILED: its figures are not trustworthy; see the reason in its row.".into(),
        n => format!(
            "{n} cases FAILED: their figures are not trustworthy; see the reasons in their rows."
        ),
    }
}

fn sweep_view(
    number: usize,
    name: &str,
    backend: BackendKind,
    source: &str,
    cases: &[&CaseResult],
    gpus: &[crate::env::gpu::GpuInfo],
) -> SweepView {
    let table = case_table(cases);
    let comparison = super::gpus::compare(cases, gpus);
    let count = |s| cases.iter().filter(|c| c.status == s).count();
    SweepView {
        number,
        name: name.to_string(),
        backend: backend.name().to_string(),
        source: source.trim_end().to_string(),
        counts: counts(
            count(CaseStatus::Ok),
            count(CaseStatus::Skipped),
            count(CaseStatus::Failed),
        ),
        failure_banner: failure_banner(count(CaseStatus::Failed)),
        table_md: markdown::table(&table),
        table_text: markdown::plain_table(&table),
        table,
        plots: Vec::new(),
        gpu_comparison_md: comparison
            .as_ref()
            .map_or(String::new(), |c| markdown::table(&c.table)),
        gpu_flags: comparison.as_ref().map_or(Vec::new(), |c| c.flags.clone()),
        gpu_comparison: comparison.map(|c| c.table),
    }
}

/// One row per case: its axes, median time and confidence interval, rate, scaling, status.
pub fn case_table(cases: &[&CaseResult]) -> Table {
    // One unit per column, chosen for the geometric middle of its range: a column spanning
    // 16 µs to 78 ms reads 0.0163 to 78.4 ms, neither 78400 µs nor 0.0000163 s.
    let time = TimeUnit::fitting(geometric_middle(
        cases
            .iter()
            .filter_map(|c| c.stats.as_ref().map(|s| s.median_s)),
    ));
    let rate = RatePrefix::fitting(geometric_middle(cases.iter().filter_map(|c| c.keys_per_s)));
    let has_threads = cases.iter().any(|c| c.threads.is_some());
    let has_device = cases.iter().any(|c| c.device.is_some());
    let has_scaling = cases
        .iter()
        .any(|c| c.speedup.is_some() && c.threads.is_some_and(|t| t > 1));
    let has_share = cases.iter().any(|c| c.bandwidth_share.is_some());
    let has_transfers = cases.iter().any(|c| c.transfers.is_some());

    let mut headers = vec![
        header("Algorithm", false),
        header("Key", false),
        header("Distribution", false),
        header("Keys", true),
    ];
    if has_threads {
        headers.push(header("Threads", true));
    }
    if has_device {
        headers.push(header("GPU", true));
    }
    headers.push(header(&format!("Median [{}]", time.symbol), true));
    headers.push(header(&format!("95% CI [{}]", time.symbol), true));
    headers.push(header(&format!("Rate [{}keys/s]", rate.symbol), true));
    if has_scaling {
        headers.push(header("Speed-up", true));
        headers.push(header("Efficiency", true));
    }
    if has_share {
        headers.push(header("Bandwidth share", true));
    }
    if has_transfers {
        headers.push(header(&format!("H2D / D2H [{}]", time.symbol), true));
    }
    headers.push(header("Status", false));

    let dash = || "–".to_string();
    let rows = cases
        .iter()
        .map(|c| {
            let mut cells = vec![
                c.algorithm.clone(),
                c.key_type.to_string(),
                c.distribution.to_string(),
                units::count(c.n),
            ];
            if has_threads {
                cells.push(c.threads.map_or_else(dash, |t| t.to_string()));
            }
            if has_device {
                cells.push(c.device.map_or_else(dash, |d| d.to_string()));
            }
            let stats = c.stats.as_ref();
            cells.push(stats.map_or_else(dash, |s| time.format(s.median_s)));
            cells.push(stats.map_or_else(dash, |s| {
                format!(
                    "{} – {}",
                    time.format(s.ci95_low_s),
                    time.format(s.ci95_high_s)
                )
            }));
            cells.push(c.keys_per_s.map_or_else(dash, |r| rate.format(r)));
            if has_scaling {
                cells.push(c.speedup.map_or_else(dash, units::times));
                cells.push(c.efficiency.map_or_else(dash, units::percent));
            }
            if has_share {
                cells.push(c.bandwidth_share.map_or_else(dash, units::percent));
            }
            if has_transfers {
                cells.push(c.transfers.map_or_else(dash, |t| {
                    format!("{} / {}", time.format(t.h2d_s), time.format(t.d2h_s))
                }));
            }
            cells.push(status_text(c));
            Row {
                cells,
                status: c.status.name().to_string(),
            }
        })
        .collect();
    Table { headers, rows }
}

/// The geometric mean of the smallest and largest positive finite values (NaN if none).
fn geometric_middle(values: impl Iterator<Item = f64>) -> f64 {
    let (lo, hi) = values
        .filter(|x| x.is_finite() && *x > 0.0)
        .fold((f64::NAN, f64::NAN), |(lo, hi), x| (lo.min(x), hi.max(x)));
    (lo * hi).sqrt()
}

fn header(text: &str, numeric: bool) -> Header {
    Header {
        text: text.to_string(),
        numeric,
    }
}

/// The status cell: the status, the reason when there is one, and remarks.
fn status_text(c: &CaseResult) -> String {
    let mut text = match c.status {
        CaseStatus::Ok => "ok".to_string(),
        CaseStatus::Skipped => "skipped".to_string(),
        CaseStatus::Failed => "FAILED".to_string(),
    };
    if let Some(reason) = &c.reason {
        text.push_str(": ");
        text.push_str(reason);
    }
    if c.oversubscribed {
        text.push_str(" (oversubscribed)");
    }
    for note in &c.notes {
        text.push_str("; ");
        text.push_str(note);
    }
    text
}

/// One line per sweep: its fastest verified case, and its best speed-up where threads vary.
pub fn headlines(run: &Run) -> Vec<String> {
    run.definition
        .sweeps()
        .filter_map(|sweep| {
            let cases: Vec<&CaseResult> = run
                .cases
                .iter()
                .filter(|c| c.cell == sweep.cell && c.status == CaseStatus::Ok)
                .collect();
            let best = cases
                .iter()
                .filter(|c| c.keys_per_s.is_some())
                .max_by(|a, b| {
                    a.keys_per_s
                        .partial_cmp(&b.keys_per_s)
                        .unwrap_or(std::cmp::Ordering::Equal)
                })?;
            let mut line = format!(
                "{}: fastest {} at {} (median {})",
                sweep.name,
                case_label(best),
                units::keys_per_s(best.keys_per_s.unwrap_or(f64::NAN)),
                best.stats
                    .as_ref()
                    .map_or_else(|| "–".to_string(), |s| units::seconds(s.median_s)),
            );
            let scaled = cases
                .iter()
                .filter(|c| c.speedup.is_some() && c.threads.is_some_and(|t| t > 1))
                .max_by(|a, b| {
                    a.speedup
                        .partial_cmp(&b.speedup)
                        .unwrap_or(std::cmp::Ordering::Equal)
                });
            if let Some(s) = scaled {
                line.push_str(&format!(
                    "; best speed-up {} ({} efficiency) on {} threads{}",
                    units::times(s.speedup.unwrap_or(f64::NAN)),
                    units::percent(s.efficiency.unwrap_or(f64::NAN)),
                    s.threads.unwrap_or(1),
                    if s.oversubscribed {
                        ", oversubscribed"
                    } else {
                        ""
                    }
                ));
            }
            Some(line)
        })
        .collect()
}

/// `rayon-unstable u32 uniform 2^20, 4 threads`.
pub fn case_label(c: &CaseResult) -> String {
    let mut label = format!(
        "{} {} {} {}",
        c.algorithm,
        c.key_type,
        c.distribution,
        units::count(c.n)
    );
    if let Some(t) = c.threads {
        label.push_str(&format!(", {t} thread{}", if t == 1 { "" } else { "s" }));
    }
    if let Some(d) = c.device {
        label.push_str(&format!(", GPU {d}"));
    }
    label
}

/// The environment as sections of facts.
pub fn environment(env: &Environment) -> EnvView {
    let cpu = &env.cpu;
    let caches = cpu
        .caches
        .iter()
        .map(|c| {
            let shared = c
                .shared_by
                .map_or(String::new(), |n| format!(", shared by {n}"));
            format!(
                "L{} {} {}{shared}",
                c.level,
                c.kind.to_lowercase(),
                units::bytes(c.size_bytes)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let or_unknown = |s: String| {
        if s.trim().is_empty() {
            "unknown".to_string()
        } else {
            s
        }
    };
    let host = vec![
        fact("CPU", cpu.model.clone()),
        fact(
            "Vendor / architecture",
            format!("{} / {}", or_unknown(cpu.vendor.clone()), cpu.architecture),
        ),
        fact(
            "Cores",
            format!(
                "{} logical, {} physical",
                cpu.logical_cores,
                cpu.physical_cores
                    .map_or("unknown".to_string(), |c| c.to_string())
            ),
        ),
        fact(
            "Frequency",
            if cpu.frequency_mhz == 0 {
                "unknown".to_string()
            } else {
                units::mhz(cpu.frequency_mhz)
            },
        ),
        fact("Caches", or_unknown(caches)),
        fact("Features", or_unknown(cpu.features.join(", "))),
        fact(
            "Memory",
            format!(
                "{} total, {} available at start",
                units::bytes(env.memory.total_bytes),
                units::bytes(env.memory.available_bytes)
            ),
        ),
        fact("Host name", or_unknown(env.os.hostname.clone())),
    ];
    let software = vec![
        fact(
            "Operating system",
            or_unknown(format!("{} {}", env.os.name, env.os.version)),
        ),
        fact("Kernel", or_unknown(env.os.kernel.clone())),
        fact(
            "sortmark",
            format!("{} ({})", env.sortmark_version, commit(env)),
        ),
        fact(
            "Build",
            format!(
                "{} profile, {}, {}",
                env.toolchain.profile, env.toolchain.target, env.toolchain.rustc
            ),
        ),
    ];
    let mut sections = vec![
        EnvSection {
            heading: "Host".to_string(),
            facts: host,
            table: None,
            table_md: None,
        },
        EnvSection {
            heading: "Software".to_string(),
            facts: software,
            table: None,
            table_md: None,
        },
    ];
    sections.push(gpu_section(env));
    EnvView {
        one_line: env.one_line(),
        sections,
    }
}

/// The GPUs: the CUDA stack as facts, and one table row per GPU a CUDA sweep used.
fn gpu_section(env: &Environment) -> EnvSection {
    let mut facts = Vec::new();
    match &env.cuda {
        None => facts.push(fact("CUDA", "not probed".to_string())),
        Some(record) => {
            if let Some(why) = &record.unavailable {
                facts.push(fact("CUDA", format!("unavailable: {why}")));
            }
            if let Some(stack) = &record.stack {
                facts.push(fact(
                    "CUDA driver",
                    format!(
                        "supports CUDA {}.{}, {} GPU(s)",
                        stack.driver_version / 1000,
                        (stack.driver_version % 1000) / 10,
                        stack.device_count
                    ),
                ));
                facts.push(fact(
                    "NVRTC",
                    format!("{}.{}", stack.nvrtc_version.0, stack.nvrtc_version.1),
                ));
                facts.push(fact("Driver API (bindings)", stack.cudarc_api.clone()));
            }
        }
    }
    if let Some(note) = &env.gpu_links_note {
        facts.push(fact("Links", format!("unknown: {note}")));
    }
    for link in &env.gpu_links {
        facts.push(fact(
            &format!("GPU {} ↔ GPU {}", link.a, link.b),
            format!("{} ({})", link.kind, link.detail),
        ));
    }
    let table = (!env.gpus.is_empty()).then(|| gpu_table(&env.gpus));
    EnvSection {
        heading: "GPUs".to_string(),
        facts,
        table_md: table.as_ref().map(super::markdown::table),
        table,
    }
}

/// One row per GPU: what it is, its memory and clocks, and its measured copy bandwidth.
pub fn gpu_table(gpus: &[crate::env::gpu::GpuInfo]) -> Table {
    let header = |text: &str, numeric| Header {
        text: text.to_string(),
        numeric,
    };
    let khz = |k: Option<u32>| k.map_or("–".to_string(), |k| units::mhz(u64::from(k) / 1000));
    Table {
        headers: vec![
            header("GPU", false),
            header("Name", false),
            header("Compute capability", false),
            header("SMs", true),
            header("Memory", true),
            header("L2", true),
            header("SM clock", true),
            header("Memory clock", true),
            header("PCI bus", false),
            header("Copy bandwidth", true),
        ],
        rows: gpus
            .iter()
            .map(|g| Row {
                cells: vec![
                    g.ordinal.to_string(),
                    g.name.clone(),
                    format!("{}.{}", g.compute_capability.0, g.compute_capability.1),
                    g.sm_count.to_string(),
                    units::bytes(g.memory_total_bytes),
                    units::bytes(g.l2_bytes),
                    khz(g.clock_khz),
                    khz(g.memory_clock_khz),
                    g.pci_bus_id.clone(),
                    g.copy_bandwidth_bytes_per_s
                        .map_or("–".to_string(), units::bytes_per_s),
                ],
                status: "ok".to_string(),
            })
            .collect(),
    }
}

fn fact(label: &str, value: String) -> Fact {
    Fact {
        label: label.to_string(),
        value,
    }
}

/// The commit with its dirty flag: `1d9a201c…`, `… (uncommitted changes)`.
fn commit(env: &Environment) -> String {
    let short: String = env.git_commit.chars().take(12).collect();
    match env.git_dirty {
        Some(true) => format!("commit {short}, with uncommitted changes"),
        Some(false) => format!("commit {short}"),
        None => format!("commit {short}, clean state unknown"),
    }
}

fn check_view(c: &crate::env::Check) -> CheckView {
    CheckView {
        id: c.id.clone(),
        component: c.component.clone(),
        status: c.status.name().to_string(),
        summary: c.summary.clone(),
        detail: c.detail.clone(),
        remedy: c.remedy.clone().unwrap_or_default(),
    }
}

fn repro(run: &Run) -> ReproView {
    let env = &run.environment;
    ReproView {
        command_line: shell_words(&run.command_line),
        version: env.sortmark_version.clone(),
        commit: commit(env),
        seed: run.definition.seed.to_string(),
        definition_path: run.definition_path.clone(),
        definition_text: run.definition_text.trim_end().to_string(),
        rerun: format!(
            "git checkout {}\ncargo run --release -- run RUN_FOLDER/definition.toml",
            env.git_commit
        ),
        rerender: "sortmark render RUN_FOLDER".to_string(),
    }
}

/// Arguments joined into one shell line, quoting those that need it.
pub fn shell_words(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            let plain = !a.is_empty()
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%^".contains(c));
            if plain {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_quote_what_needs_it() {
        let args = ["sortmark", "run", "my defs/a.toml", "it's"].map(String::from);
        assert_eq!(
            shell_words(&args),
            r"sortmark run 'my defs/a.toml' 'it'\''s'"
        );
    }

    #[test]
    fn column_units_fit_the_middle_of_the_range() {
        assert!((geometric_middle([1e-5, 1e-1].into_iter()) - 1e-3).abs() < 1e-12);
        assert!(geometric_middle(std::iter::empty()).is_nan());
        assert!((geometric_middle([f64::NAN, 4.0, -1.0, 1.0].into_iter()) - 2.0).abs() < 1e-12);
    }

    #[test]
    fn banners_count_failures() {
        assert_eq!(failure_banner(0), "");
        assert!(failure_banner(2).starts_with("2 cases FAILED"));
    }
}
