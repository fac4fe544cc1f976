//! Output escaping: user text that would add markup to a Markdown output, a formula to
//! results.csv, or control characters to the terminal, each tried on every output it reaches.

use std::fs;

use pulldown_cmark::{Event, Options, Parser};
use sortmark::definition::Cell;
use sortmark::record::Run;

use crate::report::{read, render, synthetic_run, with_sweeps_renamed};

/// The synthetic run with backticks where a Markdown output places definition text: in sweep
/// names (shown as code), in a sweep's source and in the definition (shown in fenced blocks),
/// and a fence the narrative leaves open.
fn backtick_run() -> Run {
    let mut run = with_sweeps_renamed(
        synthetic_run(
            "<script>alert('title')</script>",
            "Narrative.\n\n````\n<img src=x onerror=alert('narrative')>\n",
        ),
        &[
            ("size", "a` <img src=x onerror=alert('name')> `b"),
            ("threads", "``<script>alert('ticks')</script>``"),
        ],
    );
    for cell in &mut run.definition.cells {
        if let Cell::Sweep(sweep) = cell {
            sweep
                .source
                .push_str("\n# ````\n# <img src=x onerror=alert('source')>");
        }
    }
    run
}

/// The raw HTML a GitHub-flavoured Markdown reader passes through from `md`, less the
/// `<details>` and `<summary>` tags sortmark writes itself.
fn raw_html(md: &str) -> Vec<String> {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    Parser::new_ext(md, options)
        .filter_map(|e| match e {
            Event::Html(h) | Event::InlineHtml(h) => Some(h.trim().to_string()),
            _ => None,
        })
        .filter(|h| {
            !["<details>", "</details>", "<summary>", "</summary>"]
                .iter()
                .any(|own| h.starts_with(own))
        })
        .collect()
}

/// The text of every Markdown cell of a notebook.
fn notebook_markdown(ipynb: &str) -> Vec<String> {
    let nb: serde_json::Value = serde_json::from_str(ipynb).unwrap();
    nb["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["cell_type"] == "markdown")
        .map(|c| {
            c["source"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l.as_str().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn backticks_in_names_and_definition_text_add_no_html_to_markdown_outputs() {
    let dir = render(&backtick_run());
    for name in ["report.md", "summary.md"] {
        let md = read(dir.path(), name);
        assert_eq!(
            raw_html(&md),
            Vec::<String>::new(),
            "raw HTML in {name}:\n{md}"
        );
    }
    let md = read(dir.path(), "report.md");
    assert!(
        md.contains("**Sweep ``a` <img"),
        "the name is shown as code: {md}"
    );
    for cell in notebook_markdown(&read(dir.path(), "report.ipynb")) {
        assert_eq!(
            raw_html(&cell),
            Vec::<String>::new(),
            "raw HTML in a notebook cell:\n{cell}"
        );
    }
}

#[test]
fn a_parenthesis_in_a_folder_name_adds_no_html_to_the_index() {
    let root = tempfile::tempdir().unwrap();
    let name = "x)<img src=x onerror=alert(1)>";
    let run_dir = root.path().join(name).join("20261124T060000Z-abcd");
    fs::create_dir_all(&run_dir).unwrap();
    let run = synthetic_run("Synthetic sorts", "Plain.");
    sortmark::record::archive::save_results(&run_dir, &run).unwrap();
    sortmark::report::index::update(root.path()).unwrap();
    let md = read(root.path(), "index.md");
    assert_eq!(raw_html(&md), Vec::<String>::new(), "{md}");
    assert!(
        md.contains(
            "](x%29%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E/20261124T060000Z-abcd/report.md)"
        ),
        "{md}"
    );
    let html = read(root.path(), "index.html");
    assert!(!html.contains("<img"), "{html}");
}

#[test]
fn csv_text_cells_that_start_like_formulas_stay_text_and_numbers_stay_numbers() {
    let mut run = with_sweeps_renamed(
        synthetic_run("Synthetic sorts", "Plain."),
        &[("size", "=1+1"), ("threads", "@SUM(A1)")],
    );
    let failed = run
        .cases
        .iter_mut()
        .find(|c| c.reason.is_some())
        .expect("a case with a reason");
    failed.reason = Some("-2+3 from a peer".to_string());
    let negative = run
        .cases
        .iter_mut()
        .find(|c| c.speedup.is_some())
        .expect("a case with a speed-up");
    negative.speedup = Some(-1.5);
    let dir = render(&run);
    let csv = read(dir.path(), "results.csv");
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    for row in &rows {
        for cell in [row[column("sweep")], row[column("reason")]] {
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "a formula in results.csv: {cell}"
            );
        }
    }
    let cells: Vec<&str> = rows.iter().flatten().copied().collect();
    for guarded in ["'=1+1", "'@SUM(A1)", "'-2+3 from a peer"] {
        assert!(cells.contains(&guarded), "{guarded} missing:\n{csv}");
    }
    assert!(
        rows.iter().any(|r| r[column("speedup")] == "-1.5e0"),
        "a negative number was changed:\n{csv}"
    );
}

/// A definition whose title and peer's stderr hold escape sequences (clear the screen, set
/// the window's title, ring the bell) and line breaks.
#[cfg(unix)]
const ESCAPING_PEER: &str = r#"title = "Peer \u001b[2J\u001b]0;pwned\u0007 title\nsecond line"
[measure]
warmup = 0
repetitions = 1
rounds = 1
[[cell]]
sweep = { name = "p", backend = "command", algorithms = ["x"], sizes = [16], command = '''sh -c 'printf "\033[2Jboom\033]0;pwned\007\nline two\n" >&2; exit 3' ''' }
"#;

/// Whether `text` holds a character a terminal would act on (line breaks aside).
#[cfg(unix)]
fn has_controls(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n')
}

#[cfg(unix)]
#[test]
fn titles_and_a_peers_stderr_reach_the_terminal_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    let definition = tmp.path().join("peer.toml");
    fs::write(&definition, ESCAPING_PEER).unwrap();
    let out = tmp.path().join("archive");
    let run = assert_cmd::Command::cargo_bin("sortmark")
        .unwrap()
        .arg("run")
        .arg(&definition)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1), "the peer's case failed");
    let stderr = String::from_utf8(run.stderr).unwrap();
    assert!(!has_controls(&stderr), "{stderr:?}");
    let failed: Vec<&str> = stderr.lines().filter(|l| l.contains("FAILED:")).collect();
    assert_eq!(failed.len(), 1, "{stderr}");
    assert!(
        failed[0].contains("␛[2Jboom") && failed[0].contains("line two"),
        "the peer's stderr is shown on the progress line: {}",
        failed[0]
    );
    let list = assert_cmd::Command::cargo_bin("sortmark")
        .unwrap()
        .arg("list")
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(list.status.success());
    let stdout = String::from_utf8(list.stdout).unwrap();
    assert!(!has_controls(&stdout), "{stdout:?}");
    assert_eq!(
        stdout.lines().count(),
        3,
        "a heading, a rule and one row:\n{stdout}"
    );
    assert!(
        stdout.contains("Peer ␛[2J␛]0;pwned␇ title second line"),
        "{stdout}"
    );
}
