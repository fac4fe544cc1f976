//! Unit tests of the verdict rule, the matching of cases and the refusals.

use super::*;
use crate::definition::MachineLimits;
use crate::measure::{Measurement, Outcome, Verification};
use crate::record::SCHEMA_VERSION;

const DEFINITION: &str = r#"
title = "unit"
seed = 1
[[cell]]
sweep = { name = "first", backend = "cpu", algorithms = ["std-unstable", "radix"], sizes = [16, 32], threads = [1] }
[[cell]]
sweep = { name = "second", backend = "cpu", algorithms = ["std-unstable"], sizes = [64], threads = [1] }
"#;

/// A finished run of `text` whose every case took `seconds(case index, round)`, in 6 rounds.
fn run_of(text: &str, run_id: &str, seconds: impl Fn(usize, usize) -> f64) -> Run {
    let limits = MachineLimits {
        logical_cores: 2,
        host_memory_bytes: 1 << 30,
    };
    let def = crate::definition::load("unit.toml", text, &limits).unwrap();
    let cases = crate::plan::plan(&def, None)
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let rounds_s: Vec<Vec<f64>> = (0..6).map(|r| vec![seconds(i, r); 3]).collect();
            let m = Measurement {
                samples_s: rounds_s.concat(),
                rounds_s,
                timing: "test".to_string(),
                verification: Some(Verification::sorted_permutation()),
                ..Measurement::default()
            };
            CaseResult::from_outcome(case, Outcome::Measured(m), 1, 2)
        })
        .collect();
    Run {
        schema: SCHEMA_VERSION,
        run_id: run_id.to_string(),
        started_at: "2026-12-06T00:00:00Z".to_string(),
        finished_at: Some("2026-12-06T00:01:00Z".to_string()),
        complete: true,
        interrupted: false,
        resumed: Vec::new(),
        command_line: Vec::new(),
        definition_path: "unit.toml".to_string(),
        definition_text: text.to_string(),
        definition: def,
        sources: None,
        environment: Environment::probe(true),
        checks: Vec::new(),
        cases,
        shard: None,
        parts: Vec::new(),
    }
}

/// Round `r`'s time: 1 ms with a spread of ±0.5 % between rounds, times `factor`.
fn timed(factor: f64) -> impl Fn(usize, usize) -> f64 {
    move |_, r| 1e-3 * factor * (1.0 + 0.002 * (r as f64 - 2.5))
}

#[test]
fn the_verdict_rule_holds_at_its_boundaries() {
    let t = 0.02;
    assert_eq!(verdict(0.98, 1.02, t), Verdict::Same);
    assert_eq!(verdict(0.979, 1.0, t), Verdict::Inconclusive);
    assert_eq!(verdict(1.0, 1.021, t), Verdict::Inconclusive);
    assert_eq!(verdict(1.02, 1.2, t), Verdict::Inconclusive);
    assert_eq!(verdict(1.0201, 1.2, t), Verdict::Slower);
    assert_eq!(verdict(0.8, 0.98, t), Verdict::Inconclusive);
    assert_eq!(verdict(0.8, 0.9799, t), Verdict::Faster);
    assert_eq!(verdict(0.9, 1.1, t), Verdict::Inconclusive);
    // A zero threshold: only an interval that is exactly 1 is the same.
    assert_eq!(verdict(1.0, 1.0, 0.0), Verdict::Same);
    assert_eq!(verdict(1.000_001, 1.1, 0.0), Verdict::Slower);
}

#[test]
fn a_ten_percent_shift_is_slower_and_an_equal_run_the_same() {
    let base = run_of(DEFINITION, "base", timed(1.0));
    let slower = compare(&base, &run_of(DEFINITION, "new", timed(1.1)), 0.02).unwrap();
    assert_eq!(slower.count(Verdict::Slower), slower.cases.len());
    assert!(slower.any_slower());
    let same = compare(&base, &run_of(DEFINITION, "new", timed(1.0)), 0.02).unwrap();
    assert_eq!(same.count(Verdict::Same), same.cases.len());
    assert!(
        same.summary()
            .starts_with("5 same, 0 inconclusive, 0 slower, 0 faster; ")
    );
    assert!(
        same.summary().contains("95.9 % intervals"),
        "{}",
        same.summary()
    );
    let r = same.cases[0].interval.unwrap();
    assert!(r.low <= 1.0 && r.high >= 1.0, "{r:?}");
}

#[test]
fn a_case_measured_under_load_is_inconclusive_and_says_why() {
    let base = run_of(DEFINITION, "base", timed(1.0));
    let mut new = run_of(DEFINITION, "new", timed(1.1));
    new.cases[0].disturbance = Some(crate::env::load::Disturbance {
        steal_share: 0.0,
        other_load_share: 0.5,
        migrations: None,
        mean_mhz: None,
    });
    let comparison = compare(&base, &new, 0.02).unwrap();
    let loaded = comparison
        .cases
        .iter()
        .find(|c| c.reason.is_some())
        .expect("the loaded case has a note");
    // 10 % slower, but measured under load: the machine's doing as much as the change's.
    assert_eq!(loaded.verdict, Verdict::Inconclusive);
    assert_eq!(
        loaded.reason.as_deref(),
        Some("NEW under load: 50 % other processes, 0 % steal")
    );
    assert_eq!(
        comparison
            .cases
            .iter()
            .filter(|c| c.reason.is_some())
            .count(),
        1
    );
    // The quiet cases keep the verdict their 10 % earns.
    assert_eq!(
        comparison.count(Verdict::Slower),
        comparison.cases.len() - 1
    );
}

#[test]
fn cases_are_grouped_by_sweep_and_unmatched_ones_are_listed() {
    let base = run_of(DEFINITION, "base", timed(1.0));
    let mut new = run_of(DEFINITION, "new", timed(1.0));
    new.cases.remove(0);
    new.cases[0].status = CaseStatus::Skipped;
    new.cases[0].reason = Some("not today".to_string());
    let c = compare(&base, &new, 0.02).unwrap();
    assert_eq!(c.cases.len(), 5);
    assert_eq!(c.sweeps, ["first", "second"]);
    let sweeps: Vec<&str> = c.cases.iter().map(|c| c.identity.sweep.as_str()).collect();
    assert_eq!(sweeps, ["first", "first", "first", "first", "second"]);
    assert_eq!(c.count(Verdict::NotCompared), 2);
    let reasons: Vec<&str> = c.cases.iter().filter_map(|c| c.reason.as_deref()).collect();
    assert_eq!(reasons, ["only in BASE", "skipped in NEW: not today"]);
    assert!(c.summary().contains("2 not compared"), "{}", c.summary());
}

#[test]
fn a_run_without_rounds_is_inconclusive_with_its_reason() {
    let base = run_of(DEFINITION, "base", timed(1.0));
    let mut new = run_of(DEFINITION, "new", timed(2.0));
    for case in &mut new.cases {
        case.interval = None;
        case.rounds_s = Vec::new();
    }
    let c = compare(&base, &new, 0.02).unwrap();
    let case = &c.cases[0];
    assert_eq!(case.verdict, Verdict::Inconclusive);
    assert!((case.ratio.unwrap() - 2.0).abs() < 0.01, "{case:?}");
    assert!(case.interval.is_none());
    assert!(
        case.reason
            .as_deref()
            .unwrap()
            .contains("NEW has one round")
    );
}

#[test]
fn runs_that_cannot_be_compared_are_refused_with_what_differs() {
    let base = run_of(DEFINITION, "base", timed(1.0));
    let same = compare(&base, &base, 0.02).unwrap_err();
    assert!(same.runs_incomparable());
    assert_eq!(same.to_string(), "cannot compare run base with itself");

    let mut interrupted = run_of(DEFINITION, "new", timed(1.0));
    interrupted.interrupted = true;
    interrupted.complete = false;
    let e = compare(&base, &interrupted, 0.02).unwrap_err().to_string();
    assert!(
        e.starts_with("cannot compare NEW run new: it is interrupted"),
        "{e}"
    );

    let other = DEFINITION
        .replace("title = \"unit\"", "title = \"other\"")
        .replace("sizes = [16, 32]", "sizes = [16, 48]");
    let e = compare(&base, &run_of(&other, "new", timed(1.0)), 0.02).unwrap_err();
    assert!(e.runs_incomparable());
    assert_eq!(
        e.to_string(),
        "cannot compare runs of different definitions: the title differs (BASE “unit”, NEW “other”); sweep “first” differs in its sizes"
    );
}

#[test]
fn thresholds_and_levels_read_plainly() {
    assert_eq!(format_percent(0.02), "2 %");
    assert_eq!(format_percent(0.025), "2.5 %");
    assert_eq!(format_level(0.959), "95.9 %");
}

#[test]
fn run_text_is_escaped_in_every_output() {
    let hostile = DEFINITION.replace("title = \"unit\"", "title = \"<script>x</script> | *y*\"");
    let base = run_of(&hostile, "base", timed(1.0));
    let c = compare(&base, &run_of(&hostile, "new", timed(1.05)), 0.02).unwrap();
    let outputs = write::Outputs::render(&c).unwrap();
    let file = |name: &str| {
        let (_, bytes) = outputs.files.iter().find(|(n, _)| n == name).unwrap();
        String::from_utf8(bytes.clone()).unwrap()
    };
    let html = file("compare.html");
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;"));
    assert!(html.matches("<svg").count() == 2, "a plot per sweep");
    let md = file("compare.md");
    assert!(
        md.starts_with("# Comparison: &lt;script&gt;x&lt;/script&gt; \\| \\*y\\*\n"),
        "{md}"
    );
    assert!(md.contains("![first: NEW / BASE ratios](compare-plots/first.png)"));
    let names: Vec<&str> = outputs.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "compare.json",
            "compare.md",
            "compare.html",
            "compare-plots/first.png",
            "compare-plots/second.png"
        ]
    );
}

#[test]
fn sweeps_named_alike_get_ratio_plots_of_their_own() {
    let text = DEFINITION
        .replace("name = \"first\"", "name = \"a/b\"")
        .replace("name = \"second\"", "name = \"a:b\"");
    let base = run_of(&text, "base", timed(1.0));
    let c = compare(&base, &run_of(&text, "new", timed(1.05)), 0.02).unwrap();
    let outputs = write::Outputs::render(&c).unwrap();
    let plots: Vec<&str> = outputs
        .files
        .iter()
        .map(|(n, _)| n.as_str())
        .filter(|n| n.starts_with("compare-plots/"))
        .collect();
    assert_eq!(plots.len(), 2);
    assert_ne!(plots[0], plots[1]);
}

#[test]
fn the_default_output_folder_stays_inside_the_new_run() {
    let new = Path::new("archive/quick/new");
    assert_eq!(
        default_out_dir(new, "20261124T060000Z-abcd"),
        new.join("compare-20261124T060000Z-abcd")
    );
    let edited = default_out_dir(new, "x/../../../../elsewhere");
    assert_eq!(edited.parent(), Some(new), "{}", edited.display());
}

#[test]
fn a_shift_of_every_case_is_named_and_scattered_differences_are_not() {
    let base = run_of(DEFINITION, "base", timed(1.0));
    let shifted = compare(&base, &run_of(DEFINITION, "new", timed(1.1)), 0.02).unwrap();
    let note = shifted
        .broad_shift()
        .expect("every case 10 % slower is a broad shift");
    assert!(
        note.starts_with("broad shift: 5 of 5 cases ran slower by over 2 % (median ratio 1.100)"),
        "{note}"
    );
    assert!(super::terminal::render(&shifted).contains(&format!("note: {note}")));
    assert!(super::markdown::render(&shifted, &[]).contains(&note));
    assert!(
        super::html::render(&shifted, &[])
            .unwrap()
            .contains("broad shift: 5 of 5")
    );
    // Two of five cases 10 % slower, one 10 % faster: differences, but no shift of the run.
    let mixed = run_of(DEFINITION, "new", |i, r| {
        timed([1.1, 1.1, 0.9, 1.0, 1.0][i])(i, r)
    });
    let scattered = compare(&base, &mixed, 0.02).unwrap();
    assert_eq!(scattered.count(Verdict::Slower), 2);
    assert_eq!(scattered.broad_shift(), None);
    assert!(!super::terminal::render(&scattered).contains("note:"));
    // Four of five faster is a broad shift the other way.
    let faster = run_of(DEFINITION, "new", |i, r| {
        timed([0.9, 0.9, 0.9, 0.9, 1.0][i])(i, r)
    });
    let note = compare(&base, &faster, 0.02)
        .unwrap()
        .broad_shift()
        .unwrap();
    assert!(
        note.starts_with("broad shift: 4 of 5 cases ran faster"),
        "{note}"
    );
}
