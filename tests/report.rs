//! Reports rendered from a fixed synthetic run: snapshots of the Markdown and the HTML,
//! escaping of user text, self-containment of the HTML, the plots and the notebook.

use std::path::Path;

use sortmark::catalog::BackendKind;
use sortmark::definition::MachineLimits;
use sortmark::env::{Check, CheckStatus, Environment};
use sortmark::measure::{Measurement, Outcome};
use sortmark::record::{CaseResult, Run, SCHEMA_VERSION};

const DEFINITION: &str = r###"title = "TITLE"
description = """
DESCRIPTION
"""
seed = 7

[[cell]]
markdown = "## Sizes\nKeys per second as the input grows."

[[cell]]
sweep = { name = "size", backend = "cpu", algorithms = ["std-unstable", "rayon-unstable"], keys = ["u32"], sizes = ["2^10", "2^12", "2^14"], threads = [4] }

[[cell]]
markdown = "## Threads"

[[cell]]
sweep = { name = "threads", backend = "cpu", algorithms = ["rayon-unstable"], keys = ["u32"], sizes = ["2^14"], threads = [1, 2, 4] }

[[cell]]
sweep = { name = "shapes", backend = "cpu", algorithms = ["rayon-unstable"], keys = ["u32", "f64"], distributions = ["uniform", "sorted"], sizes = ["2^12"], threads = [4] }

[[cell]]
sweep = { name = "gpu", backend = "cuda", algorithms = ["radix"], keys = ["u32"], sizes = ["2^12"] }
"###;

/// A host that no machine depends on, built from JSON as `results.json` holds it.
fn environment() -> Environment {
    serde_json::from_value(serde_json::json!({
        "cpu": {
            "model": "Example CPU 9000",
            "vendor": "ExampleVendor",
            "architecture": "x86_64",
            "logical_cores": 4,
            "physical_cores": 2,
            "caches": [{"level": 2, "kind": "Unified", "size_bytes": 1 << 20, "shared_by": 2}],
            "frequency_mhz": 3000,
            "features": ["avx2"],
        },
        "memory": {"total_bytes": 16u64 << 30, "available_bytes": 12u64 << 30},
        "os": {"name": "Linux", "version": "1", "kernel": "6.1", "hostname": "testhost"},
        "toolchain": {
            "rustc": "rustc 1.85.0",
            "target": "x86_64-unknown-linux-gnu",
            "profile": "release",
        },
        "sortmark_version": "0.1.0",
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
        "git_dirty": false,
        "anonymized": false,
        "settings": {
            "variables": [], "transparent_hugepages": "madvise", "transparent_hugepages_defrag": "madvise",
            "cpu_governors": ["performance"], "cpu_boost": true, "smt": "on"
        },
        "cuda": {
            "stack": {"driver_version": 13000, "nvrtc_version": [13, 0], "device_count": 1, "cudarc_api": "12.8 (cuda-12080)"},
            "unavailable": null
        },
        "gpus": [{
            "ordinal": 0, "name": "NVIDIA H100 80GB HBM3", "compute_capability": [9, 0], "sm_count": 132,
            "memory_total_bytes": 85_899_345_920u64, "memory_free_bytes": 84_000_000_000u64, "l2_bytes": 52_428_800,
            "clock_khz": 1_980_000, "memory_clock_khz": 2_619_000, "memory_bus_width_bits": 5120,
            "pci_bus_id": "0000:19:00.0", "driver_version": 13000, "cuda_driver_api": "12.8 (cuda-12080)",
            "nvrtc_version": [13, 0], "copy_bandwidth_bytes_per_s": 2.95e12
        }],
        "gpu_links": [],
        "gpu_links_note": null,
    }))
    .expect("the synthetic environment matches the results format")
}

/// Deterministic timings: a sort costs about 10 ns a key, less with threads.
fn samples(n: u64, threads: u32, algorithm: &str) -> Vec<f64> {
    let factor = if algorithm.starts_with("std") {
        1.3
    } else {
        1.0
    };
    let base = n as f64 * 1e-8 * factor / f64::from(threads).powf(0.8);
    (0..7).map(|i| base * (1.0 + 0.01 * f64::from(i))).collect()
}

/// The same timings measured in six rounds, round r moved by `factor(r)`: what a sweep
/// measured in rounds records.
fn in_rounds(samples: &[f64], factor: impl Fn(u32) -> f64) -> Vec<Measurement> {
    (0..6)
        .map(|r| Measurement {
            samples_s: samples.iter().map(|s| s * factor(r)).collect(),
            timing: "host monotonic clock".to_string(),
            verification: Some(sortmark::measure::Verification::sorted_permutation()),
            ..Measurement::default()
        })
        .collect()
}

/// How the synthetic run measured a case: the threads sweep in six steady rounds (so its
/// speed-ups have intervals), one shape in six rounds that drift 4 % each (unstable), every
/// other case in one round, as runs recorded before rounds did.
fn measurement(case: &sortmark::plan::Case) -> Measurement {
    let samples = samples(case.n, case.threads.unwrap_or(1), &case.algorithm);
    let steady = |r: u32| 1.0 + 0.004 * f64::from((r * 5) % 6) - 0.01;
    let drifting = |r: u32| 1.0 + 0.04 * f64::from(r);
    match case.sweep.as_str() {
        "threads" => Measurement::from_rounds(in_rounds(&samples, steady)),
        "shapes"
            if case.distribution.to_string() == "sorted" && case.key_type.to_string() == "f64" =>
        {
            Measurement::from_rounds(in_rounds(&samples, drifting))
        }
        _ => Measurement {
            samples_s: samples,
            timing: "host monotonic clock".to_string(),
            verification: Some(sortmark::measure::Verification::sorted_permutation()),
            ..Measurement::default()
        },
    }
}

/// The synthetic run: measured, failed and skipped cases, and checks of every status.
pub fn synthetic_run(title: &str, description: &str) -> Run {
    let text = DEFINITION
        .replace("TITLE", title)
        .replace("DESCRIPTION", description);
    let limits = MachineLimits {
        logical_cores: 4,
        host_memory_bytes: 16 << 30,
    };
    let def = sortmark::definition::load("tests/synthetic.toml", &text, &limits)
        .expect("the synthetic definition is valid");
    let cases = sortmark::plan::plan(&def, None);
    let results = cases
        .iter()
        .map(|case| {
            if case.backend == BackendKind::Cuda {
                let outcome = Outcome::skipped("no CUDA driver on this machine");
                return CaseResult::from_outcome(case, outcome, def.seed, 4);
            }
            if case.algorithm == "std-unstable" && case.n == 1 << 14 {
                let outcome = Outcome::failed("output not sorted at index 17 | see log");
                return CaseResult::from_outcome(case, outcome, def.seed, 4);
            }
            let m = measurement(case);
            CaseResult::from_outcome(case, Outcome::Measured(m), def.seed, 4)
        })
        .collect();
    let env = environment();
    let checks = vec![
        Check {
            id: "build.profile".to_string(),
            component: "sortmark".to_string(),
            status: CheckStatus::Ok,
            summary: "sortmark is an optimised release build".to_string(),
            detail: format!(
                "profile {}, {}",
                env.toolchain.profile, env.toolchain.target
            ),
            remedy: None,
        },
        Check {
            id: "gpu.driver".to_string(),
            component: "NVIDIA driver".to_string(),
            status: CheckStatus::Fail,
            summary: "no NVIDIA driver: CUDA cases are skipped".to_string(),
            detail: "libcuda.so.1 not found".to_string(),
            remedy: Some("install the NVIDIA driver".to_string()),
        },
    ];
    let mut run = Run {
        schema: SCHEMA_VERSION,
        run_id: "20261124T060000Z-abcd".to_string(),
        started_at: "2026-11-24T06:00:00Z".to_string(),
        finished_at: Some("2026-11-24T06:01:05Z".to_string()),
        complete: true,
        interrupted: false,
        resumed: Vec::new(),
        command_line: vec![
            "sortmark".into(),
            "run".into(),
            "tests/synthetic.toml".into(),
        ],
        definition_path: "tests/synthetic.toml".to_string(),
        definition_text: text,
        definition: def,
        sources: None,
        environment: env,
        checks,
        cases: results,
        shard: None,
        parts: Vec::new(),
    };
    run.derive_thread_scaling();
    // The largest rayon case of the size sweep ran while other processes kept the machine busy.
    let busy = run
        .cases
        .iter_mut()
        .find(|c| c.sweep == "size" && c.algorithm == "rayon-unstable" && c.n == 1 << 14)
        .expect("the size sweep has rayon on 2^14 keys");
    busy.disturbance = Some(sortmark::env::load::Disturbance {
        steal_share: 0.01,
        other_load_share: 0.43,
        migrations: Some(12),
        mean_mhz: Some(2900.0),
    });
    run
}

fn plain_run() -> Run {
    synthetic_run(
        "Synthetic sorts",
        "A fixed run for the report tests, with *emphasis* and `code`.",
    )
}

pub fn render(run: &Run) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    sortmark::report::render_all(run, dir.path()).unwrap();
    dir
}

pub fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap()
}

/// Markdown without its fenced code blocks.
fn outside_code_blocks(md: &str) -> String {
    let mut inside = false;
    let mut out = String::new();
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
        } else if !inside {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// The HTML without the style sheet and the inlined SVG documents (their details are the
/// style's and plotters' business; the snapshot is about content).
fn without_svg(html: &str) -> String {
    let html = cut(html, "<style>", "</style>", "<style>…</style>");
    cut(&html, "<svg", "</svg>", "<svg …/>")
}

/// `text` with every span from `open` to `close` replaced by `with`.
fn cut(text: &str, open: &str, close: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        out.push_str(&rest[..start]);
        out.push_str(with);
        let end = rest[start..]
            .find(close)
            .map_or(rest.len(), |e| start + e + close.len());
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn markdown_snapshot() {
    let dir = render(&plain_run());
    insta::assert_snapshot!("report_md", read(dir.path(), "report.md"));
    insta::assert_snapshot!("summary_md", read(dir.path(), "summary.md"));
}

#[test]
fn html_snapshot() {
    let dir = render(&plain_run());
    insta::assert_snapshot!("report_html", without_svg(&read(dir.path(), "report.html")));
}

#[test]
fn summary_is_short_and_has_no_images() {
    let dir = render(&plain_run());
    let summary = read(dir.path(), "summary.md");
    assert!(summary.lines().count() < 60, "{summary}");
    assert!(!summary.contains("!["), "{summary}");
    assert!(summary.contains("no NVIDIA driver"), "{summary}");
}

#[test]
fn html_makes_no_external_requests() {
    let dir = render(&plain_run());
    let html = read(dir.path(), "report.html").to_lowercase();
    for needle in [
        "<script", "<link", "<img", "<iframe", "@import", "url(", "src=", "http://", "https://",
    ] {
        // The only URLs allowed are the SVG namespace, which names and loads nothing.
        let hits = html.matches(needle).count();
        let allowed = if needle == "http://" {
            html.matches("http://www.w3.org/2000/svg").count()
                + html.matches("http://www.w3.org/1999/xlink").count()
        } else {
            0
        };
        assert_eq!(hits, allowed, "report.html contains {needle}");
    }
}

#[test]
fn user_text_is_escaped_everywhere() {
    let run = synthetic_run(
        "Sorts <script>alert('t')</script> | piped",
        "Narrative <script>alert('n')</script> with a | pipe and <b>bold</b>.",
    );
    let dir = render(&run);
    let html = read(dir.path(), "report.html");
    assert!(!html.contains("<script"), "raw <script> in report.html");
    assert!(
        !html.contains("<b>bold"),
        "raw HTML from the narrative in report.html"
    );
    assert!(
        html.contains("&lt;script&gt;"),
        "the title is not shown escaped"
    );
    // Markdown shows code blocks (the definition's text) as text: only prose must be inert.
    for name in ["report.md", "summary.md"] {
        let text = outside_code_blocks(&read(dir.path(), name));
        assert!(!text.contains("<script"), "raw <script> in {name}: {text}");
    }
    let nb: serde_json::Value = serde_json::from_str(&read(dir.path(), "report.ipynb")).unwrap();
    for cell in nb["cells"].as_array().unwrap() {
        let source: String = cell["source"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect();
        if cell["cell_type"] == "markdown" {
            let prose = outside_code_blocks(&source);
            assert!(
                !prose.contains("<script"),
                "raw <script> in a notebook cell: {prose}"
            );
        }
        for output in cell["outputs"].as_array().into_iter().flatten() {
            let html = output["data"]["text/html"].to_string();
            assert!(
                !html.contains("<script"),
                "raw <script> in a notebook output"
            );
        }
    }
    let md = read(dir.path(), "report.md");
    assert!(
        md.contains(r"\| piped"),
        "the title's | is not escaped in report.md"
    );
    // A reason containing `|` stays inside its table cell.
    assert!(md.contains(r"index 17 \| see log"), "{md}");
    for line in md.lines().filter(|l| l.starts_with("| std-unstable")) {
        assert_eq!(
            line.matches(" | ").count(),
            line.replace(r"\|", "").matches(" | ").count()
        );
    }
}

#[test]
fn failed_and_skipped_cases_are_visible() {
    let dir = render(&plain_run());
    let html = read(dir.path(), "report.html");
    assert!(html.contains("1 case FAILED"), "no failure banner");
    assert!(html.contains("output not sorted at index 17"));
    assert!(html.contains("no CUDA driver on this machine"));
    assert!(html.contains(r#"<tr class="failed">"#));
    assert!(html.contains(r#"<tr class="skipped">"#));
}

#[test]
fn png_plots_decode_to_the_expected_size() {
    let dir = render(&plain_run());
    let plots: Vec<_> = std::fs::read_dir(dir.path().join("plots"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    // size: keys/s; threads: time, speed-up, efficiency; shapes: bars; gpu: nothing measured.
    let mut names: Vec<String> = plots
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "shapes-keys-per-s.png",
            "size-keys-per-s.png",
            "threads-efficiency.png",
            "threads-speedup.png",
            "threads-time.png"
        ]
    );
    for path in plots {
        let png = png::Decoder::new(std::fs::File::open(&path).unwrap())
            .read_info()
            .unwrap();
        assert_eq!(
            (png.info().width, png.info().height),
            (960, 540),
            "{}",
            path.display()
        );
    }
    let md = read(dir.path(), "report.md");
    assert!(md.contains("](plots/size-keys-per-s.png)"), "{md}");
}

#[test]
fn notebook_is_nbformat_4_5_with_outputs() {
    let dir = render(&plain_run());
    let nb: serde_json::Value = serde_json::from_str(&read(dir.path(), "report.ipynb")).unwrap();
    assert_eq!(nb["nbformat"], 4);
    assert_eq!(nb["nbformat_minor"], 5);
    assert_eq!(
        nb["metadata"]["sortmark"]["run_id"],
        "20261124T060000Z-abcd"
    );
    let cells = nb["cells"].as_array().unwrap();
    let mut ids: Vec<&str> = cells.iter().map(|c| c["id"].as_str().unwrap()).collect();
    ids.dedup();
    assert_eq!(ids.len(), cells.len(), "cell ids are not unique");
    assert_eq!(nb["metadata"]["kernelspec"]["name"], "python3");
    assert_eq!(nb["metadata"]["language_info"]["name"], "python");
    let code: Vec<_> = cells.iter().filter(|c| c["cell_type"] == "code").collect();
    let source = |cell: &serde_json::Value| -> String {
        cell["source"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap())
            .collect()
    };
    assert!(
        source(code[0]).contains("Path(\"results.json\")"),
        "the first code cell does not load results.json: {}",
        source(code[0])
    );
    assert!(source(code[0]).contains("pd.DataFrame("));
    // The definition is shown, as a fenced TOML block, never run as code.
    for cell in &code {
        let text = source(cell);
        assert!(!text.contains("sweep = {"), "TOML in a code cell:\n{text}");
    }
    let markdown: String = cells
        .iter()
        .filter(|c| c["cell_type"] == "markdown")
        .map(&source)
        .collect();
    assert!(
        markdown.contains("```toml\nsweep = { name = \"size\""),
        "{markdown}"
    );
    let role = |c: &serde_json::Value| c["metadata"]["sortmark"]["role"].clone();
    let tables: Vec<_> = code.iter().filter(|c| role(c) == "table").collect();
    assert_eq!(tables.len(), 4, "one table cell per sweep");
    assert_eq!(source(tables[0]), "sweep_table(\"size\")");
    assert!(tables[0]["outputs"][0]["data"]["text/html"].is_array());
    // One image per plot, in one format: the PNG of each file under plots/.
    let plots: Vec<_> = code.iter().filter(|c| role(c) == "plot").collect();
    let pngs = std::fs::read_dir(dir.path().join("plots"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "png")
        })
        .count();
    assert_eq!(plots.len(), pngs);
    for plot in plots {
        let outputs = plot["outputs"].as_array().unwrap();
        assert_eq!(outputs.len(), 1, "{outputs:?}");
        let data = outputs[0]["data"].as_object().unwrap();
        assert!(data["image/png"].is_string());
        assert!(!data.contains_key("image/svg+xml"));
        assert!(source(plot).starts_with("plot_"), "{}", source(plot));
    }
}

#[test]
fn render_rebuilds_reports_from_results_json() {
    let dir = tempfile::tempdir().unwrap();
    sortmark::record::archive::save_results(dir.path(), &plain_run()).unwrap();
    sortmark::report::render_dir(dir.path()).unwrap();
    for name in ["report.html", "report.md", "summary.md", "report.ipynb"] {
        assert!(dir.path().join(name).is_file(), "{name} missing");
    }
}

#[test]
fn a_results_json_from_before_rounds_still_renders() {
    let dir = tempfile::tempdir().unwrap();
    let mut results = serde_json::to_value(plain_run()).unwrap();
    // A version 1 file, as sortmark wrote them before rounds: it lacked these fields.
    results["schema"] = serde_json::json!(1);
    results["environment"]
        .as_object_mut()
        .unwrap()
        .remove("settings");
    results["definition"]
        .as_object_mut()
        .unwrap()
        .remove("overrides");
    for case in results["cases"].as_array_mut().unwrap() {
        let case = case.as_object_mut().unwrap();
        for field in [
            "notes",
            "rounds_s",
            "interval",
            "precision_reached",
            "disturbance",
            "speedup_interval",
        ] {
            assert!(case.remove(field).is_some(), "no {field} to remove");
        }
    }
    let text = serde_json::to_string_pretty(&results).unwrap();
    std::fs::write(dir.path().join("results.json"), text).unwrap();
    sortmark::report::render_dir(dir.path()).unwrap();
    let md = read(dir.path(), "report.md");
    // Speed-ups without intervals, bootstrap intervals marked as such, one round a case.
    let two = md
        .lines()
        .find(|l| l.starts_with("| rayon-unstable | u32 | uniform | 2^14 | 2 |"))
        .expect("the two-thread row");
    assert!(two.contains("| 1.74× | 87 % |"), "{two}");
    assert!(two.contains("(95 % within the run)"), "{two}");
    assert!(md.contains("Measured in 1 round per case"), "{md}");
    assert!(!md.contains("under load"), "{md}");
}

#[test]
fn render_of_an_edited_results_json_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    sortmark::record::archive::save_results(dir.path(), &plain_run()).unwrap();
    let path = dir.path().join("results.json");
    let edited = std::fs::read_to_string(&path).unwrap().replacen(
        "\"cases\": [",
        "\"cases\": [{\"cell\": \"two\"},",
        1,
    );
    std::fs::write(&path, edited).unwrap();
    let e = sortmark::report::render_dir(dir.path()).unwrap_err();
    assert!(
        format!("{e:#}").contains("does not match the results format"),
        "{e:#}"
    );
    std::fs::write(&path, "{\"schema\": 1, \"run_id\": ").unwrap();
    let e = sortmark::report::render_dir(dir.path()).unwrap_err();
    assert!(format!("{e:#}").contains("not valid JSON"), "{e:#}");
}

#[test]
fn odd_numbers_render_without_panicking() {
    let mut run = plain_run();
    for (i, case) in run.cases.iter_mut().enumerate() {
        match i % 4 {
            0 => case.keys_per_s = Some(f64::NAN),
            1 => case.threads = Some(0),
            2 => {
                if let Some(s) = case.stats.as_mut() {
                    s.median_s = -1.0;
                    s.ci95_low_s = f64::INFINITY;
                }
            }
            _ => case.cell = 99,
        }
    }
    render(&run);
}

#[test]
fn archive_index_lists_runs() {
    let root = tempfile::tempdir().unwrap();
    let run_dir = root.path().join("synthetic").join("20261124T060000Z-abcd");
    std::fs::create_dir_all(&run_dir).unwrap();
    sortmark::record::archive::save_results(&run_dir, &plain_run()).unwrap();
    let broken = root.path().join("synthetic").join("20261124T070000Z-beef");
    std::fs::create_dir_all(&broken).unwrap();
    std::fs::write(broken.join("results.json"), "{").unwrap();
    sortmark::report::index::update(root.path()).unwrap();
    let html = read(root.path(), "index.html");
    assert!(
        html.contains(r#"href="synthetic/20261124T060000Z-abcd/report.html""#),
        "{html}"
    );
    assert!(html.contains("unreadable"), "{html}");
    let md = read(root.path(), "index.md");
    assert!(
        md.contains("| 2026-11-24 06:00 UTC | [Synthetic sorts]"),
        "{md}"
    );
    let list = sortmark::report::index::list(root.path()).unwrap();
    assert!(list.contains("synthetic/20261124T060000Z-abcd"), "{list}");
    assert!(list.contains("Example CPU 9000"), "{list}");
}

#[test]
fn render_command_reports_a_corrupt_run_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("results.json"),
        "{\"schema\": 1, \"cases\": 3}",
    )
    .unwrap();
    let output = assert_cmd::Command::cargo_bin("sortmark")
        .unwrap()
        .arg("render")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("does not match the results format"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn list_command_prints_the_archive() {
    let root = tempfile::tempdir().unwrap();
    let run_dir = root.path().join("synthetic").join("20261124T060000Z-abcd");
    std::fs::create_dir_all(&run_dir).unwrap();
    sortmark::record::archive::save_results(&run_dir, &plain_run()).unwrap();
    let output = assert_cmd::Command::cargo_bin("sortmark")
        .unwrap()
        .args(["list", "--out"])
        .arg(root.path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Synthetic sorts"), "{stdout}");
}

/// `run` with its sweeps renamed, in its definition and in its cases alike.
pub fn with_sweeps_renamed(mut run: Run, renames: &[(&str, &str)]) -> Run {
    let renamed = |name: &mut String| {
        if let Some((_, to)) = renames.iter().find(|(from, _)| from == name) {
            *name = (*to).to_string();
        }
    };
    for cell in &mut run.definition.cells {
        if let sortmark::definition::Cell::Sweep(sweep) = cell {
            renamed(&mut sweep.name);
        }
    }
    for case in &mut run.cases {
        renamed(&mut case.sweep);
    }
    run
}

/// The PNG linked under the figure whose title starts with `title` in report.md.
fn png_of(md: &str, title: &str) -> String {
    let start = md
        .find(&format!("![{title}"))
        .unwrap_or_else(|| panic!("no figure {title} in {md}"));
    let link = &md[start..];
    let open = link.find("](").unwrap() + 2;
    let close = link[open..].find(')').unwrap() + open;
    link[open..close].to_string()
}

#[test]
fn sweeps_named_alike_or_at_length_each_get_plot_files_of_their_own() {
    let long = "very long sweep name ".repeat(15);
    let run = with_sweeps_renamed(
        plain_run(),
        &[("size", "a/b"), ("shapes", "a:b"), ("threads", long.trim())],
    );
    let dir = render(&run);
    let names: Vec<String> = std::fs::read_dir(dir.path().join("plots"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 10, "5 figures, each as PNG and SVG: {names:?}");
    assert!(names.iter().all(|n| n.len() < 120), "{names:?}");
    let md = read(dir.path(), "report.md");
    let (slash, colon) = (png_of(&md, "a/b:"), png_of(&md, "a:b:"));
    assert_ne!(slash, colon, "two sweeps share one plot file");
    for png in [slash, colon, png_of(&md, "very long")] {
        assert!(
            dir.path().join(&png).is_file(),
            "{png} is linked but missing"
        );
    }
}

#[test]
fn a_figure_cell_draws_several_sweeps_on_one_chart_with_a_ratio_panel_in_every_output() {
    use sortmark::definition::{Cell, FigureAxis, FigureMetric, FigureSpec, SeriesRef};
    let mut run = synthetic_run("Figures", "Across sweeps.");
    run.definition.cells.push(Cell::Figure(FigureSpec {
        name: "together".to_string(),
        title: "Size and threads together".to_string(),
        sweeps: vec!["size".to_string(), "threads".to_string()],
        x: FigureAxis::Size,
        metric: FigureMetric::KeysPerS,
        baseline: Some(SeriesRef {
            sweep: "size".to_string(),
            algorithm: "rayon-unstable".to_string(),
        }),
    }));
    let dir = render(&run);
    for png in ["together.png", "together-ratio.png"] {
        assert!(dir.path().join("plots").join(png).is_file(), "{png}");
    }
    let html = read(dir.path(), "report.html");
    assert!(html.contains("id=\"figure-together\""), "no figure cell");
    // Each point titled for hover, with the series from both sweeps.
    assert!(
        html.contains("<title>threads: rayon-unstable"),
        "no hover on the threads line"
    );
    assert!(
        html.contains("<title>size: std-unstable"),
        "no hover on the size line"
    );
    assert!(html.contains("speed relative to size/rayon-unstable"));
    let md = read(dir.path(), "report.md");
    assert!(md.contains("](plots/together-ratio.png)"), "{md}");
    let notebook: serde_json::Value =
        serde_json::from_str(&read(dir.path(), "report.ipynb")).unwrap();
    let figure_cell = notebook["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["attachments"].is_object())
        .expect("a notebook cell with the figure's images");
    assert_eq!(figure_cell["attachments"].as_object().unwrap().len(), 2);
}
