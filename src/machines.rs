//! `sortmark machines RUN_DIR RUN_DIR...`: finished runs of one definition on several machines
//! side by side. Per sweep, a table of each case's median and interval on every machine and
//! the ratio of each machine to the first (the baseline) with its interval and verdict, made by
//! the comparison's own [`compare_case`]; and a plot of keys per second per case and machine.
//!
//! [`build`] checks the runs as `compare` does ([`check_comparable`]) and lines them up;
//! [`render`] draws every file in memory and [`write`] puts the folder in place whole or not at
//! all, through the comparison's [`crate::compare::write`].

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::compare::write::{Outputs, write_outputs};
use crate::compare::{
    CaseComparison, CompareError, Identity, Machine, Verdict, check_comparable, compare_case,
    format_percent, format_ratio, median_interval,
};
use crate::record::{CaseResult, CaseStatus, Run};
use crate::report::plots::{Figure, Point, Series, Style, YFormat, draw_png, draw_svg};
use crate::report::text::{escape_html as html, escape_inline};
use crate::units;

/// Values spanning more than this factor are drawn on a logarithmic axis.
const LOG_SPAN: f64 = 10.0;

/// One machine's column: the run it is and how the outputs name it.
#[derive(Debug, Clone)]
pub struct Column {
    /// The run's id.
    pub run_id: String,
    /// The machine it ran on.
    pub machine: Machine,
    /// A short label, distinct among the columns: `GPU-or-CPU host`, with the run id where two
    /// columns would read alike.
    pub label: String,
}

/// One case across the machines.
#[derive(Debug, Clone)]
pub struct Row {
    /// Which case.
    pub identity: Identity,
    /// Keys sorted per run.
    pub n: u64,
    /// Per machine, the median time in seconds with its interval's ends (`None`: not ok there).
    pub medians: Vec<Option<(f64, f64, f64)>>,
    /// Per machine after the first, its comparison with the baseline (`None`: no such case).
    pub ratios: Vec<Option<CaseComparison>>,
}

/// Runs of one definition on several machines, case by case.
#[derive(Debug, Clone)]
pub struct SideBySide {
    /// The definition's title.
    pub title: String,
    /// The machines, the baseline first.
    pub columns: Vec<Column>,
    /// The sweeps in definition order.
    pub sweeps: Vec<String>,
    /// Every case of the baseline, then those only other runs have.
    pub rows: Vec<Row>,
    /// A ratio is slower or faster only beyond 1 ± this fraction.
    pub threshold: f64,
}

impl SideBySide {
    /// How many cases of machine `column` (1 and up) got `verdict` against the baseline.
    pub fn count(&self, column: usize, verdict: Verdict) -> usize {
        self.rows
            .iter()
            .filter(|r| r.ratios[column - 1].as_ref().map(|c| c.verdict) == Some(verdict))
            .count()
    }

    /// The median of machine `column`'s ratios to the baseline, over the cases that have one.
    pub fn median_ratio(&self, column: usize) -> Option<f64> {
        let mut ratios: Vec<f64> = self
            .rows
            .iter()
            .filter_map(|r| r.ratios[column - 1].as_ref()?.ratio)
            .filter(|r| r.is_finite())
            .collect();
        ratios.sort_by(f64::total_cmp);
        let mid = ratios.len() / 2;
        match ratios.len() {
            0 => None,
            n if n % 2 == 1 => Some(ratios[mid]),
            _ => Some((ratios[mid - 1] + ratios[mid]) / 2.0),
        }
    }

    /// Machine `column` against the baseline in one line: `H200 host-b vs H100 host-a: median
    /// ratio 0.820 (58 faster, 3 same, 2 inconclusive)`; a ratio is time over the baseline's.
    pub fn summary(&self, column: usize) -> String {
        format!(
            "{} vs {}: {}",
            self.columns[column].label,
            self.columns[0].label,
            self.verdicts(column)
        )
    }

    /// Machine `column`'s median ratio and verdict counts: `median ratio 0.820 (58 faster, 3
    /// same)`.
    pub fn verdicts(&self, column: usize) -> String {
        let counts: Vec<String> = [
            Verdict::Faster,
            Verdict::Same,
            Verdict::Slower,
            Verdict::Inconclusive,
            Verdict::NotCompared,
        ]
        .into_iter()
        .filter(|v| self.count(column, *v) > 0)
        .map(|v| format!("{} {}", self.count(column, v), v.name()))
        .collect();
        format!(
            "median ratio {} ({})",
            self.median_ratio(column)
                .map_or("–".to_string(), format_ratio),
            counts.join(", ")
        )
    }

    /// The rows of `sweep`, in order.
    fn sweep_rows<'a>(&'a self, sweep: &'a str) -> impl Iterator<Item = &'a Row> {
        self.rows.iter().filter(move |r| r.identity.sweep == sweep)
    }
}

/// Loads the run folders and lines them up; refused (as `compare` refuses) unless there are at
/// least two, every one finished, none given twice and all of one definition.
pub fn build(dirs: &[PathBuf], threshold: f64) -> Result<SideBySide, CompareError> {
    let runs = dirs
        .iter()
        .map(|d| crate::record::archive::load_run(d).map_err(CompareError::Unreadable))
        .collect::<Result<Vec<Run>, _>>()?;
    from_runs(&runs, threshold)
}

/// The runs side by side, the first the baseline; refused as [`build`] says.
pub fn from_runs(runs: &[Run], threshold: f64) -> Result<SideBySide, CompareError> {
    let [base, others @ ..] = runs else {
        return Err(CompareError::Unreadable(anyhow::anyhow!("no runs given")));
    };
    if others.is_empty() {
        return Err(CompareError::Unreadable(anyhow::anyhow!(
            "machines needs at least two runs, got one ({})",
            base.run_id
        )));
    }
    for (i, run) in runs.iter().enumerate() {
        if runs[..i].iter().any(|r| r.run_id == run.run_id) {
            return Err(CompareError::SameRun(run.run_id.clone()));
        }
    }
    for other in others {
        check_comparable(base, other)?;
    }
    Ok(SideBySide {
        title: base.definition.title.clone(),
        columns: columns(runs),
        sweeps: base.definition.sweeps().map(|s| s.name.clone()).collect(),
        rows: rows(runs, threshold),
        threshold,
    })
}

/// Each run's column, labelled so that no two read alike.
fn columns(runs: &[Run]) -> Vec<Column> {
    let short = |m: &Machine| {
        let hardware = m.gpus.first().unwrap_or(&m.cpu);
        format!("{hardware} {}", m.host)
    };
    let machines: Vec<Machine> = runs.iter().map(|r| Machine::of(&r.environment)).collect();
    let labels: Vec<String> = machines.iter().map(short).collect();
    runs.iter()
        .zip(machines)
        .zip(&labels)
        .map(|((run, machine), label)| {
            let shared = labels.iter().filter(|l| *l == label).count() > 1;
            Column {
                run_id: run.run_id.clone(),
                label: if shared {
                    format!("{label} ({})", run.run_id)
                } else {
                    label.clone()
                },
                machine,
            }
        })
        .collect()
}

/// Every case of any run, the baseline's order first, sorted by sweep in definition order.
fn rows(runs: &[Run], threshold: f64) -> Vec<Row> {
    let by_id: Vec<HashMap<Identity, &CaseResult>> = runs
        .iter()
        .map(|r| r.cases.iter().map(|c| (Identity::of(c), c)).collect())
        .collect();
    let mut order: Vec<(Identity, u64)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for case in runs.iter().flat_map(|r| &r.cases) {
        let identity = Identity::of(case);
        if seen.insert(identity.clone()) {
            order.push((identity, case.n));
        }
    }
    let position: HashMap<String, usize> = runs[0]
        .definition
        .sweeps()
        .enumerate()
        .map(|(i, s)| (s.name.clone(), i))
        .collect();
    order.sort_by_key(|(id, _)| position.get(&id.sweep).copied().unwrap_or(usize::MAX));
    order
        .into_iter()
        .map(|(identity, n)| {
            let cases: Vec<Option<&CaseResult>> =
                by_id.iter().map(|m| m.get(&identity).copied()).collect();
            Row {
                medians: cases.iter().map(|c| c.and_then(median)).collect(),
                ratios: cases[1..]
                    .iter()
                    .map(|c| Some(compare_case(identity.clone(), cases[0]?, (*c)?, threshold)))
                    .collect(),
                identity,
                n,
            }
        })
        .collect()
}

/// An ok case's median with its interval's ends.
fn median(case: &CaseResult) -> Option<(f64, f64, f64)> {
    (case.status == CaseStatus::Ok)
        .then(|| median_interval(case))
        .flatten()
        .map(|i| (i.estimate_s, i.low_s, i.high_s))
}

/// The default output folder: `FIRST_RUN/machines-<second run id>[-and-N-more]/`, named through
/// [`crate::file_names::stem`] so an edited run id cannot lead it elsewhere.
pub fn default_out_dir(first_dir: &Path, side: &SideBySide) -> PathBuf {
    let mut name = format!("machines-{}", side.columns[1].run_id);
    if side.columns.len() > 2 {
        let _ = write!(name, "-and-{}-more", side.columns.len() - 2);
    }
    first_dir.join(crate::file_names::stem(&name))
}

/// Renders `machines.md`, `machines.html` and a PNG per sweep, in memory.
pub fn render(side: &SideBySide) -> anyhow::Result<Outputs> {
    let mut stems = crate::file_names::Stems::new();
    let mut plots = Vec::new();
    for sweep in &side.sweeps {
        if let Some(figure) = figure(side, sweep) {
            let png_path = format!("machines-plots/{}.png", stems.unique(sweep));
            let svg = crate::report::inline_svg(&draw_svg(&figure)?);
            plots.push((sweep.clone(), png_path, draw_png(&figure)?, svg));
        }
    }
    let mut files = vec![
        (
            "machines.md".to_string(),
            render_markdown(side, &plots).into_bytes(),
        ),
        (
            "machines.html".to_string(),
            render_html(side, &plots).into_bytes(),
        ),
    ];
    files.extend(plots.into_iter().map(|(_, path, png, _)| (path, png)));
    Ok(Outputs { files })
}

/// Writes the outputs as the new folder `dir`, whole or not at all; an existing folder is refused.
pub fn write(side: &SideBySide, dir: &Path) -> Result<(), CompareError> {
    crate::compare::write::refuse_existing(dir)?;
    let outputs = render(side).map_err(CompareError::Write)?;
    write_outputs(dir, &outputs)
}

/// A sweep's plot: a group of bars per case, one bar per machine, in keys per second; a
/// logarithmic axis where the values span more than [`LOG_SPAN`].
fn figure(side: &SideBySide, sweep: &str) -> Option<Figure> {
    // Every row keeps its place, numbered as the table numbers it.
    let rows: Vec<&Row> = side.sweep_rows(sweep).collect();
    let rates = rows
        .iter()
        .flat_map(|r| r.medians.iter().flatten().map(|m| r.n as f64 / m.0));
    let (low, high) = rates.fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !(low > 0.0 && high.is_finite()) {
        return None;
    }
    let log = high / low > LOG_SPAN;
    let series = side
        .columns
        .iter()
        .enumerate()
        .map(|(m, column)| Series {
            label: column.label.clone(),
            style: Style {
                colour: m,
                variant: 0,
            },
            points: rows
                .iter()
                .enumerate()
                .filter_map(|(x, r)| {
                    let (median, lo, hi) = r.medians[m]?;
                    let n = r.n as f64;
                    Some(Point {
                        x: x as f64,
                        y: n / median,
                        lo: Some(n / hi),
                        hi: Some(n / lo),
                    })
                })
                .collect(),
        })
        .collect();
    Some(Figure {
        slug: format!("{sweep}-machines"),
        title: format!("{sweep}: keys per second per machine"),
        x_label: "Case (# in the table)".to_string(),
        y_label: if log {
            "Keys per second [keys/s] [log scale]".to_string()
        } else {
            "Keys per second [keys/s]".to_string()
        },
        ticks: rows
            .iter()
            .enumerate()
            .map(|(x, _)| (x as f64, (x + 1).to_string()))
            .collect(),
        bars: true,
        y_format: YFormat::Si,
        log_y: log,
        cores: None,
        series,
        ideal: None,
        error_bars: "of the median",
    })
}

/// A ratio's cell: `0.820 [0.801, 0.840] faster`, or why there is none.
fn ratio_text(ratio: Option<&CaseComparison>) -> String {
    let Some(case) = ratio else {
        return "–".to_string();
    };
    let mut text = match (case.ratio, case.interval) {
        (_, Some(r)) => format!(
            "{} [{}, {}] ",
            format_ratio(r.estimate),
            format_ratio(r.low),
            format_ratio(r.high)
        ),
        (Some(r), None) => format!("{} ", format_ratio(r)),
        (None, None) => String::new(),
    };
    text.push_str(case.verdict.name());
    if let Some(reason) = &case.reason {
        let _ = write!(text, " ({reason})");
    }
    text
}

/// A sweep's table: headers and rows of plain text cells.
fn sweep_table(side: &SideBySide, sweep: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut headers = vec!["#".to_string(), "Case".to_string()];
    headers.extend(side.columns.iter().map(|c| c.label.clone()));
    headers.extend(
        side.columns[1..]
            .iter()
            .map(|c| format!("{} / {}", c.label, side.columns[0].label)),
    );
    let rows = side
        .sweep_rows(sweep)
        .enumerate()
        .map(|(i, r)| {
            let mut cells = vec![(i + 1).to_string(), r.identity.label()];
            cells.extend(r.medians.iter().map(|m| units::seconds_with_interval(*m)));
            cells.extend(r.ratios.iter().map(|c| ratio_text(c.as_ref())));
            cells
        })
        .collect();
    (headers, rows)
}

/// The opening paragraph: what the numbers are.
fn preamble(side: &SideBySide) -> String {
    format!(
        "Median time per case with its interval on each machine, and each machine's time over the first's (the baseline) with the ratio's interval and verdict: slower or faster when the whole interval is beyond 1 ± {}.",
        format_percent(side.threshold)
    )
}

/// The machines' list: label, run and the machine in full.
fn machine_lines(side: &SideBySide) -> Vec<String> {
    side.columns
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let role = if i == 0 {
                " (baseline)".to_string()
            } else {
                format!(": {}", side.verdicts(i))
            };
            format!(
                "{} — run {}, {}{role}",
                c.label,
                c.run_id,
                c.machine.one_line()
            )
        })
        .collect()
}

/// The side-by-side view in Markdown.
pub fn render_markdown(side: &SideBySide, plots: &[(String, String, Vec<u8>, String)]) -> String {
    let mut md = format!(
        "# {}: machines side by side\n\n{}\n\n",
        escape_inline(&side.title),
        preamble(side)
    );
    for line in machine_lines(side) {
        let _ = writeln!(md, "- {}", escape_inline(&line));
    }
    for sweep in &side.sweeps {
        let _ = write!(md, "\n## {}\n\n", escape_inline(sweep));
        if let Some((_, path, _, _)) = plots.iter().find(|p| &p.0 == sweep) {
            let _ = write!(md, "![{}]({path})\n\n", escape_inline(sweep));
        }
        let (headers, rows) = sweep_table(side, sweep);
        let escaped: Vec<String> = headers.iter().map(|h| escape_inline(h)).collect();
        let _ = writeln!(md, "| {} |", escaped.join(" | "));
        let _ = writeln!(md, "|{}", " --- |".repeat(headers.len()));
        for row in rows {
            let cells: Vec<String> = row.iter().map(|c| escape_inline(c)).collect();
            let _ = writeln!(md, "| {} |", cells.join(" | "));
        }
    }
    md
}

/// The side-by-side view as one self-contained HTML page, plots inline.
pub fn render_html(side: &SideBySide, plots: &[(String, String, Vec<u8>, String)]) -> String {
    let title = format!("{}: machines side by side", side.title);
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\n<style>{STYLE}</style></head><body>\n<h1>{t}</h1>\n<p>{}</p>\n<ul>\n",
        html(&preamble(side)),
        t = html(&title),
    );
    for line in machine_lines(side) {
        let _ = writeln!(page, "<li>{}</li>", html(&line));
    }
    page.push_str("</ul>\n");
    for sweep in &side.sweeps {
        let _ = writeln!(page, "<h2>{}</h2>", html(sweep));
        if let Some((_, _, _, svg)) = plots.iter().find(|p| &p.0 == sweep) {
            let _ = writeln!(page, "<figure>{svg}</figure>");
        }
        let (headers, rows) = sweep_table(side, sweep);
        page.push_str("<table><tr>");
        for h in &headers {
            let _ = write!(page, "<th>{}</th>", html(h));
        }
        page.push_str("</tr>\n");
        let medians = side.columns.len();
        for (row, data) in rows.iter().zip(side.sweep_rows(sweep)) {
            page.push_str("<tr>");
            for (i, cell) in row.iter().enumerate() {
                // Cells: #, case, a median per machine, a ratio per other machine.
                let class = match i {
                    0 => " class=\"num\"".to_string(),
                    1 => String::new(),
                    i if i <= medians + 1 => " class=\"num\"".to_string(),
                    i => {
                        let verdict = data.ratios[i - medians - 2].as_ref().map(|c| c.verdict);
                        format!(
                            " class=\"ratio {}\"",
                            verdict.map_or("", |v| v.name()).replace(' ', "-")
                        )
                    }
                };
                let _ = write!(page, "<td{class}>{}</td>", html(cell));
            }
            page.push_str("</tr>\n");
        }
        page.push_str("</table>\n");
    }
    page.push_str("</body></html>\n");
    page
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}figure{margin:1em 0}svg{max-width:100%;height:auto}table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;font-size:14px}td.num{text-align:right;white-space:nowrap}td.ratio{min-width:16em}.slower{color:#c0392b}.faster{color:#1e8449}.inconclusive,.not-compared{color:#777}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_ratio_is_the_middle_of_the_ratios() {
        let identity = Identity {
            sweep: "s".to_string(),
            algorithm: "a".to_string(),
            key_type: "u32".to_string(),
            distribution: "uniform".to_string(),
            n: 10,
            threads: None,
            device: None,
        };
        let row = |ratio: f64| Row {
            identity: identity.clone(),
            n: 10,
            medians: vec![None, None],
            ratios: vec![Some(CaseComparison {
                identity: identity.clone(),
                verdict: Verdict::Faster,
                ratio: Some(ratio),
                interval: None,
                base_median_s: None,
                new_median_s: None,
                reason: None,
            })],
        };
        let machine = Machine {
            cpu: "c".to_string(),
            gpus: vec![],
            host: "h".to_string(),
        };
        let column = |id: &str| Column {
            run_id: id.to_string(),
            machine: machine.clone(),
            label: id.to_string(),
        };
        let side = SideBySide {
            title: "t".to_string(),
            columns: vec![column("a"), column("b")],
            sweeps: vec!["s".to_string()],
            rows: vec![row(0.5), row(2.0), row(0.8)],
            threshold: 0.02,
        };
        assert_eq!(side.median_ratio(1), Some(0.8));
        assert_eq!(side.count(1, Verdict::Faster), 3);
        assert_eq!(side.summary(1), "b vs a: median ratio 0.800 (3 faster)");
    }
}
