//! The history as `history.html` (self-contained, a trend line with its interval band per case)
//! and `history.md`; numbers are formatted here, once, for both.

use std::fmt::Write as _;
use std::path::Path;

use crate::compare::{CaseComparison, format_ratio};
use crate::record::archive::write_atomic;
use crate::report::text::{escape_html as html, escape_inline};
use crate::units;

use super::{History, Series};

/// Width and height of a case's trend line in the HTML, in pixels.
const TREND_SIZE: (f64, f64) = (360.0, 60.0);

/// Writes `history.html` and `history.md` into `dir` (created).
pub fn write(history: &History, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    write_atomic(&dir.join("history.html"), render_html(history).as_bytes())?;
    write_atomic(&dir.join("history.md"), render_markdown(history).as_bytes())
}

/// A step's verdict with its ratio and interval: `slower ×1.12 [×1.08, ×1.15]`.
fn step_text(step: &CaseComparison) -> String {
    let mut text = step.verdict.name().to_string();
    if let Some(r) = step.interval {
        let _ = write!(
            text,
            " {} [{}, {}]",
            format_ratio(r.estimate),
            format_ratio(r.low),
            format_ratio(r.high)
        );
    } else if let Some(ratio) = step.ratio {
        let _ = write!(text, " {}", format_ratio(ratio));
    }
    text
}

/// The runs' table rows: number, id, start, version, commit, machines, cases.
fn run_rows(history: &History) -> Vec<[String; 7]> {
    history
        .runs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            [
                (i + 1).to_string(),
                r.run_id.clone(),
                units::timestamp(&r.started_at),
                r.sortmark_version.clone(),
                r.commit.clone(),
                r.machines.join(", "),
                format!("{} of {}", r.ok, r.cases),
            ]
        })
        .collect()
}

const RUN_HEADERS: [&str; 7] = ["#", "Run", "Started", "sortmark", "Commit", "Machine", "Ok"];

/// The history in Markdown: the runs, a summary row per case, and each case's runs in a
/// collapsed table.
pub fn render_markdown(history: &History) -> String {
    let mut md = format!(
        "# History of {}: {}\n\n{} run(s); a step is slower or faster when its whole ratio interval is beyond 1 ± {}.\n\n",
        escape_inline(&history.name),
        escape_inline(&history.title),
        history.runs.len(),
        units::percent(history.threshold)
    );
    md.push_str(&md_table(&RUN_HEADERS, run_rows(history)));
    for why in &history.left_out {
        let _ = writeln!(md, "\nLeft out: {}", escape_inline(why));
    }
    md.push_str("\n## Cases\n\n");
    let rows = history.series.iter().map(case_summary);
    md.push_str(&md_table(
        &["Sweep", "Case", "Runs", "First", "Latest", "Changes"],
        rows.collect(),
    ));
    for series in &history.series {
        let _ = write!(
            md,
            "\n<details><summary>{} {}</summary>\n\n",
            escape_inline(&series.identity.sweep),
            escape_inline(&series.identity.label())
        );
        let rows = series
            .points
            .iter()
            .map(|p| {
                [
                    (p.run + 1).to_string(),
                    history.runs[p.run].run_id.clone(),
                    units::seconds_with_interval(p.median),
                    p.step.as_ref().map_or("–".to_string(), step_text),
                ]
            })
            .collect();
        md.push_str(&md_table(&["#", "Run", "Median [interval]", "Step"], rows));
        md.push_str("\n</details>\n");
    }
    md
}

/// A case's summary row: sweep, case, runs, first and latest median, flagged steps.
fn case_summary(series: &Series) -> [String; 6] {
    let first = series.points.first().and_then(|p| p.median);
    let latest = series.points.last().and_then(|p| p.median);
    let changes: Vec<String> = series
        .changes()
        .map(|(p, step)| {
            format!(
                "#{}→#{}: {}",
                previous_run(series, p.run) + 1,
                p.run + 1,
                step_text(step)
            )
        })
        .collect();
    [
        series.identity.sweep.clone(),
        series.identity.label(),
        series.points.len().to_string(),
        units::seconds_with_interval(first),
        units::seconds_with_interval(latest),
        if changes.is_empty() {
            "none".to_string()
        } else {
            changes.join("; ")
        },
    ]
}

/// The run before `run` that has the series' case.
fn previous_run(series: &Series, run: usize) -> usize {
    series
        .points
        .iter()
        .map(|p| p.run)
        .take_while(|&r| r < run)
        .last()
        .unwrap_or(run)
}

/// A Markdown table with its cells escaped.
fn md_table<const N: usize>(headers: &[&str; N], rows: Vec<[String; N]>) -> String {
    let mut out = format!("| {} |\n|{}\n", headers.join(" | "), " --- |".repeat(N));
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| escape_inline(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

/// The history as one self-contained HTML page.
pub fn render_html(history: &History) -> String {
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>History of {name}</title>\n<style>{STYLE}</style></head><body>\n<h1>History of {name}: {title}</h1>\n<p>{n} run(s); a step is <span class=\"slower\">slower</span> or <span class=\"faster\">faster</span> when its whole ratio interval is beyond 1 ± {t}. Each line is a case's median over the runs, the band its interval.</p>\n",
        name = html(&history.name),
        title = html(&history.title),
        n = history.runs.len(),
        t = html(&units::percent(history.threshold)),
    );
    page.push_str("<h2>Cases</h2>\n<table><tr><th>Sweep</th><th>Case</th><th>Trend</th><th>Runs</th><th>First</th><th>Latest</th><th>Changes</th></tr>\n");
    for series in &history.series {
        let row = case_summary(series);
        let class = if series.changes().next().is_some() {
            " class=\"changed\""
        } else {
            ""
        };
        let _ = writeln!(
            page,
            "<tr{class}><td>{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            html(&row[0]),
            html(&row[1]),
            trend_svg(series, history.runs.len()),
            html(&row[2]),
            html(&row[3]),
            html(&row[4]),
            html(&row[5]),
        );
    }
    page.push_str("</table>\n");
    page.push_str("<h2>Runs</h2>\n");
    page.push_str(&html_table(&RUN_HEADERS, run_rows(history)));
    for why in &history.left_out {
        let _ = writeln!(page, "<p>Left out: {}</p>", html(why));
    }
    page.push_str("</body></html>\n");
    page
}

/// A table of escaped cells.
fn html_table<const N: usize>(headers: &[&str; N], rows: Vec<[String; N]>) -> String {
    let mut out = String::from("<table><tr>");
    for h in headers {
        let _ = write!(out, "<th>{}</th>", html(h));
    }
    out.push_str("</tr>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in &row {
            let _ = write!(out, "<td>{}</td>", html(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    out
}

/// A case's medians over the runs as a small SVG line with its interval band; each step
/// flagged slower or faster is marked with a dot in its colour.
fn trend_svg(series: &Series, runs: usize) -> String {
    let (w, h) = TREND_SIZE;
    let points: Vec<(usize, (f64, f64, f64))> = series
        .points
        .iter()
        .filter_map(|p| Some((p.run, p.median?)))
        .collect();
    if points.is_empty() {
        return String::new();
    }
    let low = points.iter().map(|(_, m)| m.1).fold(f64::MAX, f64::min);
    let high = points.iter().map(|(_, m)| m.2).fold(0.0_f64, f64::max);
    let span = (high - low).max(high * 1e-6).max(f64::MIN_POSITIVE);
    let x = |r: usize| 4.0 + (w - 8.0) * r as f64 / (runs.max(2) - 1) as f64;
    let y = |s: f64| h - 4.0 - (h - 8.0) * (s - low) / span;
    let line = |f: &dyn Fn(&(f64, f64, f64)) -> f64| -> Vec<String> {
        points
            .iter()
            .map(|(r, m)| format!("{:.1},{:.1}", x(*r), y(f(m))))
            .collect()
    };
    let upper = line(&|m| m.2);
    let mut lower = line(&|m| m.1);
    lower.reverse();
    let mut svg = format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\"><polygon class=\"band\" points=\"{} {}\"/><polyline class=\"median\" points=\"{}\"/>",
        upper.join(" "),
        lower.join(" "),
        line(&|m| m.0).join(" ")
    );
    for (p, step) in series.changes() {
        if let Some(m) = p.median {
            let _ = write!(
                svg,
                "<circle class=\"{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\"/>",
                step.verdict.name(),
                x(p.run),
                y(m.0)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #ddd;padding:3px 8px;text-align:left;font-size:14px}td.num{text-align:right;white-space:nowrap}tr.changed{background:#fff8e6}.band{fill:#9ecae1;opacity:.5}.median{fill:none;stroke:#08519c;stroke-width:1.5}circle.slower,.slower{fill:#c0392b;color:#c0392b}circle.faster,.faster{fill:#27ae60;color:#27ae60}";
