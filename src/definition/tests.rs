//! Definition format tests: what is accepted, and every refusal with its location.

use super::*;

const LIMITS: MachineLimits = MachineLimits {
    logical_cores: 4,
    host_memory_bytes: 8 << 30,
};

fn ok(text: &str) -> ReportDef {
    load("t.toml", text, &LIMITS).unwrap_or_else(|e| panic!("expected a valid definition:\n{e}"))
}

/// The single error of an invalid definition, as (line, column, message).
fn refused(text: &str) -> (usize, usize, String) {
    let e = load("t.toml", text, &LIMITS).expect_err("expected the definition to be refused");
    let first = &e.errors[0];
    (first.line, first.column, first.message.clone())
}

fn sweep(def: &ReportDef) -> &Sweep {
    def.sweeps().next().expect("a sweep")
}

const HEAD: &str = "title = \"t\"\n[[cell]]\n";

#[test]
fn the_built_in_definition_is_valid() {
    let def = load_builtin(&LIMITS).unwrap();
    assert_eq!(def.name, "quick");
    assert!(def.sweeps().count() >= 2);
}

#[test]
fn reads_every_axis_and_form() {
    let def = ok(r###"title = "Title"
description = "Some *markdown*"
seed = 7
[measure]
warmup = 2
repetitions = 3
min_time = 0.5
max_repetitions = 9

[[cell]]
markdown = "## Hello"

[[cell]]
[cell.sweep]
name = "big"
backend = "cpu"
algorithms = ["std-stable", "rayon-unstable"]
keys = ["u32", "i64", "f32", "u32-u32"]
distributions = ["uniform", "nearly-sorted", "special-values"]
sizes = { from = "2^10", to = "2^16", factor = 4 }
threads = [1, 2, "all", 8]
exclude = [{ algorithm = "std-stable", key = "i64" }]
measure = { repetitions = 4 }
"###);
    assert_eq!(def.name, "t");
    assert_eq!(
        (def.seed, def.measure.warmup, def.measure.min_time_s),
        (7, 2, 0.5)
    );
    assert!(matches!(&def.cells[0], Cell::Markdown { text } if text == "## Hello"));
    let s = sweep(&def);
    assert_eq!(s.name, "big");
    assert_eq!(s.cell, 1);
    assert_eq!(
        s.keys,
        vec![KeyType::U32, KeyType::I64, KeyType::F32, KeyType::U32U32]
    );
    assert_eq!(
        s.sizes.iter().map(|s| s.n).collect::<Vec<_>>(),
        vec![1 << 10, 1 << 12, 1 << 14, 1 << 16]
    );
    // "all" resolves to the logical core count; duplicates collapse.
    assert_eq!(s.threads, vec![1, 2, 4, 8]);
    assert_eq!(s.exclude.len(), 1);
    // The cell's measure overrides one field and inherits the rest.
    assert_eq!(
        (
            s.measure.repetitions,
            s.measure.warmup,
            s.measure.max_repetitions
        ),
        (4, 2, 9)
    );
    assert!(s.source.contains("name = \"big\""), "{}", s.source);
}

#[test]
fn size_lists_take_numbers_and_expressions() {
    let def = ok(&format!(
        "{HEAD}sweep = {{ backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [1000, \"2^20\", \"1Mi\", \"1e6\"] }}"
    ));
    let sizes: Vec<u64> = sweep(&def).sizes.iter().map(|s| s.n).collect();
    assert_eq!(sizes, vec![1000, 1 << 20, 1 << 20, 1_000_000]);
}

#[test]
fn unknown_key_suggests_the_closest_name() {
    let (line, col, msg) = refused(&format!(
        "{HEAD}sweep = {{ backend = \"cpu\", algoritms = [\"std-unstable\"], sizes = [8] }}"
    ));
    assert_eq!((line, col), (3, 28));
    assert!(
        msg.contains("unknown field `algoritms`") && msg.contains("did you mean `algorithms`?"),
        "{msg}"
    );
    let (line, _, msg) = refused("titel = \"x\"\n");
    assert_eq!(line, 1);
    assert!(msg.contains("did you mean `title`?"), "{msg}");
}

#[test]
fn unknown_values_suggest_the_closest_name() {
    let (_, _, msg) = refused(&format!(
        "{HEAD}sweep = {{ backend = \"cpu\", algorithms = [\"rayon-unstabel\"], sizes = [8] }}"
    ));
    assert!(msg.contains("did you mean `rayon-unstable`?"), "{msg}");
    let (_, _, msg) = refused(&format!(
        "{HEAD}sweep = {{ backend = \"cpu\", algorithms = [\"std-unstable\"], keys = [\"u33\"], sizes = [8] }}"
    ));
    assert!(msg.contains("did you mean `u32`?"), "{msg}");
    let (_, _, msg) = refused(&format!(
        "{HEAD}sweep = {{ backend = \"gpu\", algorithms = [\"radix\"], sizes = [8] }}"
    ));
    assert!(msg.contains("unknown variant `gpu`"), "{msg}");
}

#[test]
fn wrong_type_is_located() {
    let (line, col, msg) = refused("title = \"t\"\nseed = \"forty-two\"\n");
    assert_eq!((line, col), (2, 8));
    assert!(msg.contains("invalid type: string"), "{msg}");
}

#[test]
fn bad_size_expression_is_located() {
    let (line, col, msg) = refused(&format!(
        "{HEAD}sweep = {{ backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [\"2^\"] }}"
    ));
    assert_eq!((line, col), (3, 68));
    assert!(msg.contains("bad size expression `2^`"), "{msg}");
    let (_, _, msg) = refused(&format!(
        "{HEAD}sweep = {{ backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [\"12Q\"] }}"
    ));
    assert!(msg.contains("suffix"), "{msg}");
}

#[test]
fn empty_axes_are_refused() {
    for (axis, value) in [
        ("algorithms", "[]"),
        ("keys", "[]"),
        ("distributions", "[]"),
        ("sizes", "[]"),
        ("threads", "[]"),
    ] {
        let algorithms = if axis == "algorithms" {
            value.to_string()
        } else {
            "[\"rayon-unstable\"]".to_string()
        };
        let sizes = if axis == "sizes" { value } else { "[8]" };
        let extra = if ["keys", "distributions", "threads"].contains(&axis) {
            format!(", {axis} = {value}")
        } else {
            String::new()
        };
        let text = format!(
            "{HEAD}sweep = {{ backend = \"cpu\", algorithms = {algorithms}, sizes = {sizes}{extra} }}"
        );
        let (line, _, msg) = refused(&text);
        assert_eq!(line, 3, "{axis}");
        assert!(
            msg.contains(&format!("`{axis}` axis is empty")),
            "{axis}: {msg}"
        );
    }
}

#[test]
fn zero_threads_is_refused() {
    let (line, col, msg) = refused(&format!(
        "{HEAD}sweep = {{ backend = \"cpu\", algorithms = [\"rayon-unstable\"], sizes = [8], threads = [1, 0] }}"
    ));
    assert_eq!((line, col), (3, 88));
    assert!(msg.contains("zero threads"), "{msg}");
}

#[test]
fn a_case_larger_than_memory_is_refused_with_its_bytes() {
    let (line, col, msg) = refused(&format!(
        "{HEAD}sweep = {{ backend = \"cpu\", algorithms = [\"std-stable\"], keys = [\"u64\"], sizes = [\"2^20\", \"2^30\"] }}"
    ));
    assert_eq!((line, col), (3, 90));
    // 2^30 u64 keys: input, working copy and merge buffer, 8 GiB each.
    assert!(
        msg.contains("std-stable u64 n=2^30 needs 24.0 GiB (25769803776 bytes)"),
        "{msg}"
    );
    assert!(msg.contains("8.0 GiB in total"), "{msg}");
}

#[test]
fn a_gpu_sweep_refuses_a_thread_axis() {
    let (_, _, msg) = refused(&format!(
        "{HEAD}sweep = {{ backend = \"cuda\", algorithms = [\"radix\"], sizes = [8], threads = [1, 2] }}"
    ));
    assert!(msg.contains("a GPU sort does not use CPU threads"), "{msg}");
}

#[test]
fn a_cell_needs_exactly_one_kind() {
    let (line, _, msg) = refused("title = \"t\"\n[[cell]]\n");
    assert_eq!(line, 2);
    assert!(msg.contains("empty cell"), "{msg}");
    let (_, _, msg) = refused(&format!(
        "{HEAD}markdown = \"x\"\nsweep = {{ backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [8] }}"
    ));
    assert!(
        msg.contains("one of `markdown`, `sweep` or `figure`"),
        "{msg}"
    );
}

#[test]
fn an_exclude_that_matches_nothing_is_refused() {
    let (_, _, msg) = refused(&format!(
        "{HEAD}sweep = {{ backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [8], exclude = [{{ key = \"u64\" }}] }}"
    ));
    assert!(
        msg.contains("key `u64`") && msg.contains("leaves out nothing"),
        "{msg}"
    );
}

#[test]
fn rounds_default_to_six_and_a_precision_allows_more() {
    let plain = ok(&format!(
        "{HEAD}sweep = {{ backend = \"cpu\", algorithms = [\"radix\"], sizes = [16] }}\n"
    ));
    let m = sweep(&plain).measure;
    assert_eq!((m.rounds, m.max_rounds, m.precision), (6, 6, None));
    let precise = ok(
        "title = \"t\"\n[measure]\nrounds = 4\nprecision = 0.01\nmax_time = 5\n[[cell]]\nsweep = { backend = \"cpu\", algorithms = [\"radix\"], sizes = [16] }\n",
    );
    let m = sweep(&precise).measure;
    assert_eq!((m.rounds, m.max_rounds, m.precision), (4, 10, Some(0.01)));
    assert_eq!(m.max_time_s, 5.0);
}

#[test]
fn bad_round_settings_are_located() {
    let (line, column, message) =
        refused("title = \"t\"\n[measure]\nrounds = 0\n[[cell]]\nmarkdown = \"x\"\n");
    assert_eq!((line, column), (3, 10));
    assert!(message.contains("rounds must be at least 1"), "{message}");
    let (line, _, message) =
        refused("title = \"t\"\n[measure]\nprecision = 1.5\n[[cell]]\nmarkdown = \"x\"\n");
    assert_eq!(line, 3);
    assert!(
        message.contains("precision must be a fraction"),
        "{message}"
    );
    let (line, _, message) = refused(
        "title = \"t\"\n[measure]\nrounds = 5\nmax_rounds = 2\n[[cell]]\nmarkdown = \"x\"\n",
    );
    assert_eq!(line, 4);
    assert!(
        message.contains("max_rounds (2) is below rounds (5)"),
        "{message}"
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let e = load(
        "t.toml",
        &format!("{HEAD}sweep = {{ backend = \"cpu\", algorithms = [\"nope\"], sizes = [0], threads = [0] }}"),
        &LIMITS,
    )
    .unwrap_err();
    assert_eq!(e.errors.len(), 3, "{e}");
    assert!(e.to_string().starts_with("t.toml:3:"));
}

/// Where each problem of a refused definition is, and what it says.
fn problems(text: &str) -> Vec<(usize, usize, String)> {
    let e = load("t.toml", text, &LIMITS).expect_err("expected the definition to be refused");
    e.errors
        .iter()
        .map(|e| (e.line, e.column, e.message.clone()))
        .collect()
}

#[test]
fn every_reading_problem_is_reported_at_once_each_at_its_line_and_column() {
    let found = problems(
        "title = \"t\"\nsed = 3\n[measure]\nrepetitions = \"many\"\n\
         [[cell]]\nsweep = { backend = \"cpu\", algoritms = [\"radix\"], sizes = [8] }\n\
         [[cell]]\nsweep = { backend = \"cpu\", algorithms = [\"radix\"], keys = [\"u33\"], sizes = [8] }\n\
         [[cell]]\nsweep = { backend = \"cpu\", algorithms = [\"radix\"] }\n",
    );
    let at: Vec<(usize, usize)> = found.iter().map(|&(l, c, _)| (l, c)).collect();
    assert_eq!(
        at,
        [(2, 1), (4, 15), (6, 28), (8, 60), (10, 9)],
        "{found:?}"
    );
    let said = |i: usize, what: &str| assert!(found[i].2.contains(what), "{found:?}");
    said(0, "unknown field `sed`");
    said(0, "did you mean `seed`?");
    said(1, "invalid type: string \"many\"");
    said(2, "did you mean `algorithms`?");
    said(3, "unknown variant `u33`");
    said(4, "missing field `sizes`");
}

#[test]
fn a_syntax_error_is_reported_alone() {
    let found = problems("title = \"t\"\nsed = 3\n[[cell]]\nsweep = { backend = \"cpu\"\n");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, 4, "{found:?}");
}

#[test]
fn duplicate_sweep_names_are_refused() {
    let sweep =
        "sweep = { name = \"a\", backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [8] }";
    let (line, _, msg) = refused(&format!(
        "title = \"t\"\n[[cell]]\n{sweep}\n[[cell]]\n{sweep}\n"
    ));
    assert_eq!(line, 4);
    assert!(msg.contains("two sweeps are named `a`"), "{msg}");
}

mod hostile {
    //! Whatever the text, loading a definition returns a result: it never panics.

    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            let _ = load("fuzz.toml", &text, &LIMITS);
        }

        #[test]
        fn mutated_definitions_never_panic(at in 0usize..2000, len in 0usize..40, insert in "[\\[\\]{}=\",\\n a-z0-9^é]{0,12}") {
            let base = QUICK_TOML;
            let mut start = at.min(base.len());
            while !base.is_char_boundary(start) { start -= 1; }
            let mut end = (start + len).min(base.len());
            while !base.is_char_boundary(end) { end -= 1; }
            let text = format!("{}{}{}", &base[..start], insert, &base[end..]);
            if let Err(e) = load("fuzz.toml", &text, &LIMITS) {
                prop_assert!(!e.errors.is_empty());
                prop_assert!(e.to_string().starts_with("fuzz.toml:"));
            }
        }
    }

    #[test]
    fn multibyte_text_is_located_by_character() {
        // 'é' is not a bare-key character: the error is at it, column 2.
        let (line, col, _) = refused("title = \"é\"\nséed = 1\n");
        assert_eq!((line, col), (2, 2));
        let (line, col, _) = refused("title = \"ééé\" ; \n");
        // Counted in characters: 15, where counting bytes would say 18.
        assert_eq!((line, col), (1, 15));
    }
}

#[test]
fn the_archive_name_is_a_plain_folder_name_whatever_the_file_is_called() {
    let text = format!(
        "{HEAD}sweep = {{ backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [16] }}\n"
    );
    let name = |path: &str| load(path, &text, &LIMITS).unwrap().name;
    assert_eq!(name("reports/cpu-threads.toml"), "cpu-threads");
    for path in [
        "...toml",
        "..toml",
        "a)b.toml",
        "x/\u{1b}[31mred.toml",
        ".toml",
    ] {
        let n = name(path);
        assert!(
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "{path}: {n:?}"
        );
        assert!(!n.starts_with('.'), "{path}: {n:?}");
    }
    assert_ne!(name("a)b.toml"), name("a(b.toml"));
}

#[test]
fn cell_errors_point_at_their_own_header_whatever_its_spacing_or_text_before_it() {
    let sweep =
        "sweep = { name = \"a\", backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [8] }";
    // A `[[cell]]` line inside a Markdown string, and a header written with spaces.
    let (line, column, msg) = refused(&format!(
        "title = \"t\"\n[[cell]]\nmarkdown = \"\"\"\n[[cell]]\n\"\"\"\n[[cell]]\n{sweep}\n  [[ cell ]]\n{sweep}\n"
    ));
    assert_eq!((line, column), (8, 3), "{msg}");
    assert!(msg.contains("two sweeps are named `a`"), "{msg}");
    let (line, column, msg) = refused("title = \"t\"\n[[ cell ]]\n");
    assert_eq!((line, column), (2, 1), "{msg}");
    assert!(msg.contains("an empty cell"), "{msg}");
}

#[test]
fn measurement_settings_past_their_bounds_are_located_errors() {
    for (setting, message) in [
        ("timeout = 1e300", "timeout is 1e300 s; at most 86400 s"),
        ("warmup = 4000000000", "warmup is 4000000000; at most 1000"),
        ("min_time = 1e9", "min_time is 1e9 s; at most 3600 s"),
        (
            "repetitions = 3\nmax_repetitions = 4000000000",
            "max_repetitions is 4000000000",
        ),
        ("rounds = 100000", "rounds is 100000; at most 1000"),
        ("max_time = 1e12", "max_time is 1e12 s"),
    ] {
        let text = format!(
            "title = \"t\"\n[measure]\n{setting}\n[[cell]]\nsweep = {{ name = \"a\", backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [8] }}\n"
        );
        let e = load("t.toml", &text, &LIMITS).expect_err(setting);
        let first = &e.errors[0];
        assert!(
            first.message.contains(message),
            "{setting}: {}",
            first.message
        );
        assert!(first.line >= 3, "{setting}: line {}", first.line);
    }
}

#[test]
fn a_definition_that_plans_too_many_cases_is_refused_before_planning() {
    let keys = "[\"u32\", \"u64\", \"i32\", \"i64\", \"f32\", \"f64\", \"u32-u32\"]";
    let distributions =
        "[\"uniform\", \"sorted\", \"reverse\", \"few-unique\", \"skewed\", \"all-equal\"]";
    let sizes: Vec<String> = (1..=1000).map(|n| n.to_string()).collect();
    let text = format!(
        "title = \"t\"\n[[cell]]\nsweep = {{ name = \"small\", backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [8] }}\n[[cell]]\nsweep = {{ name = \"huge\", backend = \"cpu\", algorithms = [\"std-unstable\", \"std-stable\", \"rayon-unstable\"], keys = {keys}, distributions = {distributions}, sizes = [{}], threads = [1, 2, 3, 4] }}\n",
        sizes.join(", ")
    );
    let started = std::time::Instant::now();
    let (line, _, message) = refused(&text);
    assert_eq!(line, 4, "{message}");
    assert!(message.contains("more than 100000 cases"), "{message}");
    assert!(message.contains("(504000 of its own)"), "{message}");
    assert!(started.elapsed().as_secs() < 5);
}

#[test]
fn a_figure_cell_names_its_sweeps_axis_metric_and_baseline() {
    let def = ok(r#"title = "t"
[[cell]]
sweep = { name = "a", backend = "cpu", algorithms = ["radix"], sizes = ["2^10"] }
[[cell]]
figure = { sweeps = ["b", "a"], x = "threads", metric = "time", baseline = "a/radix" }
[[cell]]
sweep = { name = "b", backend = "cpu", algorithms = ["std-stable"], sizes = ["2^10"] }
"#);
    let Cell::Figure(figure) = &def.cells[1] else {
        panic!("expected a figure cell");
    };
    assert_eq!(figure.name, "figure-1");
    assert_eq!(figure.title, "b against a");
    assert_eq!(figure.sweeps, ["b", "a"]);
    assert_eq!(
        (figure.x, figure.metric),
        (FigureAxis::Threads, FigureMetric::Time)
    );
    let baseline = figure.baseline.as_ref().unwrap();
    assert_eq!(
        (baseline.sweep.as_str(), baseline.algorithm.as_str()),
        ("a", "radix")
    );
}

#[test]
fn every_problem_of_a_figure_cell_is_reported_where_it_is() {
    let text = r#"title = "t"
[[cell]]
sweep = { name = "a", backend = "cpu", algorithms = ["radix"], sizes = ["2^10"] }
[[cell]]
figure = { sweeps = ["a", "bb"], baseline = "a/radx" }
[[cell]]
figure = { name = "f", sweeps = ["a", "a"], baseline = "b/radix" }
[[cell]]
figure = { name = "f", sweeps = [], baseline = "radix" }
"#;
    let e = load("t.toml", text, &LIMITS).expect_err("expected the definition to be refused");
    let got: Vec<(usize, usize, &str)> = e
        .errors
        .iter()
        .map(|e| (e.line, e.column, e.message.as_str()))
        .collect();
    let expected = [
        (
            5,
            27,
            "no sweep named `bb` in this definition; did you mean `a`?",
        ),
        (
            5,
            45,
            "sweep `a` has no algorithm `radx` (it runs radix); did you mean `radix`?",
        ),
        (7, 39, "sweep `a` is listed twice"),
        (
            7,
            56,
            "the baseline's sweep `b` is not one this figure draws (a)",
        ),
        (9, 19, "two figures are named `f`"),
        (9, 33, "a figure draws at least one sweep"),
        (9, 48, "the baseline `radix` is not `sweep/algorithm`"),
    ];
    assert_eq!(got.len(), expected.len(), "{got:#?}");
    for ((line, column, message), (l, c, m)) in got.iter().zip(expected) {
        assert_eq!((*line, *column), (l, c), "{message}");
        assert!(message.starts_with(m), "{message}");
    }
}

#[test]
fn a_cell_with_a_figure_and_a_sweep_is_refused() {
    let (line, _, message) = refused(&format!(
        "{HEAD}markdown = \"x\"\nfigure = {{ sweeps = [\"a\"] }}\n"
    ));
    assert_eq!(line, 2);
    assert!(
        message.contains("one of `markdown`, `sweep` or `figure`"),
        "{message}"
    );
}

#[test]
fn the_gpu_definitions_draw_their_sweeps_together_against_a_baseline() {
    let shipped = [
        (
            "gpu-vs-cub.toml",
            include_str!("../../reports/gpu-vs-cub.toml"),
        ),
        ("cudamark.toml", include_str!("../../reports/cudamark.toml")),
    ];
    for (name, text) in shipped {
        let def = load(name, text, &LIMITS).unwrap_or_else(|e| panic!("{name}:\n{e}"));
        let figure = def
            .cells
            .iter()
            .find_map(|c| match c {
                Cell::Figure(f) => Some(f),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{name} has no figure cell"));
        assert!(figure.sweeps.len() >= 2, "{name}");
        assert!(figure.baseline.is_some(), "{name}");
    }
}

#[test]
fn problems_of_the_parts_that_read_come_with_the_reading_problems() {
    let text = r#"title = "bad"
seed = "x"
[[cell]]
sweep = { name = "a", backend = "cpu", algorithms = ["nosuch"], sizes = [16] }
[[cell]]
sweep = { name = "b", backend = "cpu", algorithms = ["radix"], sizes = ["2^99"] }
[[cell]]
sweep = { name = "c", backend = "cpu", algorithms = ["radix"], sizes = [16], threads = [0] }
[[cell]]
figure = { name = "f", sweeps = ["b"], x = "size", metric = "keys-per-s" }
"#;
    let limits = MachineLimits {
        logical_cores: 2,
        host_memory_bytes: 1 << 30,
    };
    let errors = crate::definition::load("bad.toml", text, &limits)
        .unwrap_err()
        .errors;
    let found: Vec<(usize, &str)> = errors
        .iter()
        .map(|e| (e.line, e.message.split(':').next().unwrap()))
        .collect();
    assert_eq!(
        found,
        [
            (2, "invalid type"),
            (
                4,
                "unknown cpu algorithm `nosuch`, expected one of `std-stable`, `std-unstable`, `rayon-stable`, `rayon-unstable`, `radix`"
            ),
            (6, "bad size expression `2^99`"),
            (8, "zero threads cannot sort anything"),
        ],
        "reading problems (lines 2 and 6) and validation problems (4 and 8) in line order; the \
         figure naming the sweep that did not read is not blamed"
    );
}
