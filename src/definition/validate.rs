//! Checks a deserialized definition against the rules and the machine, producing a [`ReportDef`].
//!
//! Every problem is collected, not just the first, so a user fixes a definition in one pass.

use std::collections::HashSet;
use std::ops::Range;

use toml::Spanned;

use super::error::{DefinitionError, LoadError, closest};
use super::figure::{self, FigureRefs};
use super::raw::{RawCell, RawDef, RawExclude, RawMeasure, RawSizes, RawSweep, ThreadCount};
use super::size::Size;
use super::{Cell, DeviceSelection, Exclude, MAX_CASES, MeasureSettings, ReportDef, Sweep};
use crate::catalog::BackendKind;
use crate::data::{Distribution, KeyType};

/// What the machine allows, consulted while validating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MachineLimits {
    /// Logical CPU cores, what `threads = ["all"]` means.
    pub logical_cores: u32,
    /// Total host memory; a case needing more is refused before anything runs.
    pub host_memory_bytes: u64,
}

/// The most rounds a case gets by default when a precision asks for more than the minimum.
const DEFAULT_MAX_ROUNDS: u32 = 10;

/// Collects located errors while validating one definition.
struct Validator<'a> {
    path: &'a str,
    text: &'a str,
    limits: &'a MachineLimits,
    errors: Vec<DefinitionError>,
    /// The sweep names of the figure cells seen so far, checked once every sweep is known.
    figures: Vec<FigureRefs>,
}

impl Validator<'_> {
    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        self.errors
            .push(DefinitionError::at(self.path, self.text, span, message));
    }
}

pub fn validate(
    path: &str,
    text: &str,
    raw: RawDef,
    limits: &MachineLimits,
) -> Result<ReportDef, LoadError> {
    let mut v = Validator {
        path,
        text,
        limits,
        errors: Vec::new(),
        figures: Vec::new(),
    };
    if raw.title.get_ref().trim().is_empty() {
        v.error(raw.title.span(), "the title is empty");
    }
    let measure = v.measure(&MeasureSettings::default(), &raw.measure);
    if raw.cells.is_empty() {
        v.error(
            0..0,
            "the definition has no cells: add a [[cell]] with a sweep",
        );
    }
    let mut names = HashSet::new();
    let mut cells = Vec::new();
    let mut planned = 0u64;
    for (index, cell) in raw.cells.into_iter().enumerate() {
        let span = cell.span();
        if let Some(cell) = v.cell(index, span.clone(), cell.into_inner(), &measure) {
            if let Cell::Sweep(s) = &cell {
                let before = planned;
                planned = planned.saturating_add(s.planned_cases());
                if planned > MAX_CASES && before <= MAX_CASES {
                    v.error(
                        span.clone(),
                        format!(
                            "the definition plans more than {MAX_CASES} cases by this sweep \
                             ({} of its own): trim its axes or split the definition",
                            s.planned_cases()
                        ),
                    );
                }
            }
            if let Cell::Sweep(s) = &cell
                && !names.insert(s.name.clone())
            {
                v.error(
                    span,
                    format!(
                        "two sweeps are named `{}`: give each a unique `name`",
                        s.name
                    ),
                );
            }
            cells.push(cell);
        }
    }
    v.check_figures(&cells);
    v.errors.sort_by_key(|e| (e.line, e.column));
    if !v.errors.is_empty() {
        return Err(LoadError { errors: v.errors });
    }
    Ok(ReportDef {
        name: definition_name(path),
        title: raw.title.into_inner(),
        description: raw.description,
        seed: raw.seed,
        measure,
        cells,
        overrides: super::Overrides::default(),
    })
}

/// The archive name of a definition: its file stem, made a plain folder name by
/// [`crate::file_names::stem`] (a file named `...toml` or `a)b.toml` still runs, inside the
/// archive).
fn definition_name(path: &str) -> String {
    let stem = std::path::Path::new(path)
        .file_stem()
        .map(|s| s.to_string_lossy())
        .filter(|s| !s.is_empty())
        .unwrap_or(std::borrow::Cow::Borrowed("definition"));
    crate::file_names::stem(&stem)
}

/// Bounds on the measurement settings: beyond them a case would never end, or a number would
/// overflow somewhere on its way to a report.
const MAX_COUNT: u32 = 1_000;
const MAX_REPETITIONS: u32 = 100_000;
const MAX_MIN_TIME_S: f64 = 3_600.0;
const MAX_TIMEOUT_S: f64 = 86_400.0;
const MAX_TIME_S: f64 = 7.0 * 86_400.0;

impl Validator<'_> {
    /// An error at `span` unless `value` of `what` is at most `max`.
    fn at_most(&mut self, span: Range<usize>, what: &str, value: u32, max: u32) {
        if value > max {
            self.error(span, format!("{what} is {value}; at most {max} is allowed"));
        }
    }

    /// An error at `span` unless `seconds` of `what` are at most `max` (a NaN was refused
    /// already).
    fn seconds_at_most(&mut self, span: Range<usize>, what: &str, seconds: f64, max: f64) {
        if seconds > max {
            self.error(
                span,
                format!("{what} is {seconds:e} s; at most {max} s is allowed"),
            );
        }
    }

    fn measure(&mut self, base: &MeasureSettings, raw: &RawMeasure) -> MeasureSettings {
        let mut m = *base;
        if let Some(w) = &raw.warmup {
            m.warmup = *w.get_ref();
            self.at_most(w.span(), "warmup", m.warmup, MAX_COUNT);
        }
        if let Some(r) = &raw.repetitions {
            if *r.get_ref() == 0 {
                self.error(r.span(), "repetitions must be at least 1");
            }
            self.at_most(r.span(), "repetitions", *r.get_ref(), MAX_REPETITIONS);
            m.repetitions = *r.get_ref();
        }
        if let Some(t) = &raw.min_time {
            if !(t.get_ref().is_finite() && *t.get_ref() >= 0.0) {
                self.error(t.span(), "min_time must be a number of seconds, 0 or more");
            }
            self.seconds_at_most(t.span(), "min_time", *t.get_ref(), MAX_MIN_TIME_S);
            m.min_time_s = *t.get_ref();
        }
        if let Some(r) = &raw.max_repetitions {
            m.max_repetitions = *r.get_ref();
            self.at_most(
                r.span(),
                "max_repetitions",
                m.max_repetitions,
                MAX_REPETITIONS,
            );
            if m.max_repetitions < m.repetitions {
                self.error(
                    r.span(),
                    format!(
                        "max_repetitions ({}) is below repetitions ({})",
                        m.max_repetitions, m.repetitions
                    ),
                );
            }
        }
        if let Some(t) = &raw.timeout {
            if !(t.get_ref().is_finite() && *t.get_ref() > 0.0) {
                self.error(t.span(), "timeout must be a positive number of seconds");
            }
            self.seconds_at_most(t.span(), "timeout", *t.get_ref(), MAX_TIMEOUT_S);
            m.timeout_s = *t.get_ref();
        }
        self.rounds(&mut m, raw);
        m
    }

    /// The round settings: at least one round, a precision between 0 and 1, and room for more
    /// rounds than the minimum only where a precision asks for them.
    fn rounds(&mut self, m: &mut MeasureSettings, raw: &RawMeasure) {
        if let Some(r) = &raw.rounds {
            if *r.get_ref() == 0 {
                self.error(r.span(), "rounds must be at least 1");
            }
            self.at_most(r.span(), "rounds", *r.get_ref(), MAX_COUNT);
            m.rounds = *r.get_ref();
            m.max_rounds = m.max_rounds.max(m.rounds);
        }
        if let Some(p) = &raw.precision {
            let precision = *p.get_ref();
            if !(precision.is_finite() && precision > 0.0 && precision < 1.0) {
                self.error(
                    p.span(),
                    "precision must be a fraction above 0 and below 1 (0.01 for 1 %)",
                );
            }
            m.precision = Some(precision);
            m.max_rounds = m.max_rounds.max(DEFAULT_MAX_ROUNDS);
        }
        if let Some(r) = &raw.max_rounds {
            m.max_rounds = *r.get_ref();
            self.at_most(r.span(), "max_rounds", m.max_rounds, MAX_COUNT);
            if m.max_rounds < m.rounds {
                self.error(
                    r.span(),
                    format!(
                        "max_rounds ({}) is below rounds ({})",
                        m.max_rounds, m.rounds
                    ),
                );
            }
        }
        if let Some(t) = &raw.max_time {
            if !(t.get_ref().is_finite() && *t.get_ref() > 0.0) {
                self.error(t.span(), "max_time must be a positive number of seconds");
            }
            self.seconds_at_most(t.span(), "max_time", *t.get_ref(), MAX_TIME_S);
            m.max_time_s = *t.get_ref();
        }
    }

    fn cell(
        &mut self,
        index: usize,
        span: Range<usize>,
        raw: RawCell,
        measure: &MeasureSettings,
    ) -> Option<Cell> {
        match (raw.markdown, raw.sweep, raw.figure) {
            (Some(text), None, None) => Some(Cell::Markdown { text }),
            (None, Some(sweep), None) => {
                let source = sweep_source(self.text, sweep.span());
                let sweep_span = sweep.span();
                self.sweep(index, sweep_span, sweep.into_inner(), measure, source)
                    .map(Cell::Sweep)
            }
            (None, None, Some(raw)) => {
                let (spec, refs) = figure::figure(raw.into_inner(), self.figures.len() + 1);
                self.figures.push(refs);
                Some(Cell::Figure(spec))
            }
            (None, None, None) => {
                self.error(
                    span,
                    "an empty cell: give it `markdown = \"…\"`, `sweep = { … }` or `figure = { … }`",
                );
                None
            }
            _ => {
                self.error(
                    span,
                    "a cell holds one of `markdown`, `sweep` or `figure`: split it in several cells",
                );
                None
            }
        }
    }

    /// Checks every figure's sweep names against the definition's sweeps, and that no two
    /// figures share a name (their plot files would).
    fn check_figures(&mut self, cells: &[Cell]) {
        let mut names = HashSet::new();
        for refs in std::mem::take(&mut self.figures) {
            for (span, message) in figure::check(&refs, cells) {
                self.error(span, message);
            }
            if !names.insert(refs.name.get_ref().clone()) {
                self.error(
                    refs.name.span(),
                    format!(
                        "two figures are named `{}`: give each a unique `name`",
                        refs.name.get_ref()
                    ),
                );
            }
        }
    }

    fn sweep(
        &mut self,
        index: usize,
        span: Range<usize>,
        raw: RawSweep,
        measure: &MeasureSettings,
        source: String,
    ) -> Option<Sweep> {
        let backend = *raw.backend.get_ref();
        let errors_before = self.errors.len();
        let algorithms = self.algorithms(backend, &raw.algorithms);
        let keys = self.non_empty_axis("keys", raw.keys, vec![KeyType::U32]);
        let distributions = self.non_empty_axis(
            "distributions",
            raw.distributions,
            vec![Distribution::Uniform],
        );
        let sizes = self.sizes(&raw.sizes);
        let threads = self.threads(backend, raw.threads);
        let devices = self.devices(backend, raw.devices, span.clone());
        let command = self.command(backend, raw.command, span.clone());
        let measure = raw
            .measure
            .as_ref()
            .map_or(*measure, |m| self.measure(measure, m));
        let name = raw
            .name
            .map_or_else(|| format!("sweep-{}", index + 1), |n| n.into_inner());
        let exclude = raw
            .exclude
            .into_iter()
            .filter_map(|e| self.exclude(e, &algorithms, &keys, &distributions, &sizes, &threads))
            .collect();
        let sweep = Sweep {
            cell: index,
            name,
            backend,
            algorithms,
            keys,
            distributions,
            sizes: sizes.iter().map(|s| s.get_ref().clone()).collect(),
            threads,
            devices,
            exclude,
            measure,
            command,
            source,
        };
        if self.errors.len() == errors_before {
            self.memory(&sweep, &sizes);
        }
        Some(sweep)
    }

    fn algorithms(
        &mut self,
        backend: BackendKind,
        raw: &Spanned<Vec<Spanned<String>>>,
    ) -> Vec<String> {
        if raw.get_ref().is_empty() {
            self.error(
                raw.span(),
                "the `algorithms` axis is empty: name at least one algorithm",
            );
        }
        let mut out = Vec::new();
        for algorithm in raw.get_ref() {
            let name = algorithm.get_ref();
            if let Some(known) = backend.algorithm_names()
                && !known.contains(&name.as_str())
            {
                let hint = closest(name, known.iter().copied())
                    .map_or(String::new(), |c| format!("; did you mean `{c}`?"));
                self.error(
                    algorithm.span(),
                    format!(
                        "unknown {} algorithm `{name}`, expected one of {}{hint}",
                        backend.name(),
                        quoted(known)
                    ),
                );
                continue;
            }
            if out.contains(name) {
                self.error(
                    algorithm.span(),
                    format!("algorithm `{name}` is listed twice"),
                );
                continue;
            }
            out.push(name.clone());
        }
        out
    }

    fn non_empty_axis<T: PartialEq>(
        &mut self,
        axis: &str,
        raw: Option<Spanned<Vec<T>>>,
        default: Vec<T>,
    ) -> Vec<T> {
        let Some(raw) = raw else { return default };
        if raw.get_ref().is_empty() {
            self.error(
                raw.span(),
                format!("the `{axis}` axis is empty: list at least one value or leave it out"),
            );
        }
        let mut out: Vec<T> = Vec::new();
        for value in raw.into_inner() {
            if !out.contains(&value) {
                out.push(value);
            }
        }
        out
    }

    fn sizes(&mut self, raw: &Spanned<RawSizes>) -> Vec<Spanned<Size>> {
        let sizes = match raw.get_ref() {
            RawSizes::List(list) => {
                if list.is_empty() {
                    self.error(
                        raw.span(),
                        "the `sizes` axis is empty: list at least one size",
                    );
                }
                list.clone()
            }
            RawSizes::Range(range) => {
                let (from, to, factor) = (
                    range.from.get_ref().n,
                    range.to.get_ref().n,
                    *range.factor.get_ref(),
                );
                if factor < 2 {
                    self.error(
                        range.factor.span(),
                        "a size range's factor must be at least 2",
                    );
                    return Vec::new();
                }
                if from > to {
                    self.error(
                        raw.span(),
                        format!("the size range is empty: from ({from}) is above to ({to})"),
                    );
                    return Vec::new();
                }
                let mut out = Vec::new();
                let mut n = from;
                while n <= to {
                    out.push(Spanned::new(raw.span(), Size::from_n(n)));
                    match n.checked_mul(factor) {
                        Some(next) => n = next,
                        None => break,
                    }
                }
                out
            }
        };
        for size in &sizes {
            if size.get_ref().n == 0 {
                self.error(size.span(), "a size of 0 keys measures nothing");
            } else if size.get_ref().n > u64::from(u32::MAX) {
                self.error(
                    size.span(),
                    format!(
                        "{} keys is above the 2^32 - 1 keys sortmark supports",
                        size.get_ref().n
                    ),
                );
            }
        }
        sizes
    }

    fn threads(
        &mut self,
        backend: BackendKind,
        raw: Option<Spanned<Vec<Spanned<ThreadCount>>>>,
    ) -> Vec<u32> {
        let Some(raw) = raw else {
            return match backend {
                BackendKind::Cpu => vec![self.limits.logical_cores],
                BackendKind::Cuda | BackendKind::Command => Vec::new(),
            };
        };
        match backend {
            BackendKind::Cpu => {}
            BackendKind::Cuda => {
                self.error(raw.span(), "a cuda sweep cannot have a `threads` axis: a GPU sort does not use CPU threads, so sweeping them only repeats the same measurement (use `devices` to choose GPUs)");
                return Vec::new();
            }
            BackendKind::Command => {
                self.error(raw.span(), "a command sweep has no `threads` axis: pass a thread count in the command line instead");
                return Vec::new();
            }
        }
        if raw.get_ref().is_empty() {
            self.error(
                raw.span(),
                "the `threads` axis is empty: list at least one thread count or leave it out",
            );
        }
        let mut out = Vec::new();
        for t in raw.get_ref() {
            let count = match *t.get_ref() {
                ThreadCount::All => self.limits.logical_cores,
                ThreadCount::Count(0) => {
                    self.error(
                        t.span(),
                        "zero threads cannot sort anything: thread counts start at 1",
                    );
                    continue;
                }
                ThreadCount::Count(n) if n > 4096 => {
                    self.error(
                        t.span(),
                        format!("{n} threads is more than sortmark supports (4096)"),
                    );
                    continue;
                }
                ThreadCount::Count(n) => n as u32,
            };
            if !out.contains(&count) {
                out.push(count);
            }
        }
        out
    }

    fn devices(
        &mut self,
        backend: BackendKind,
        raw: Option<Spanned<DeviceSelection>>,
        sweep: Range<usize>,
    ) -> Option<DeviceSelection> {
        match (backend, raw) {
            (BackendKind::Cuda, None) => Some(DeviceSelection::List(vec![0])),
            (BackendKind::Cuda, Some(d)) => {
                if let DeviceSelection::List(list) = d.get_ref()
                    && list.is_empty()
                {
                    self.error(
                        d.span(),
                        "the `devices` axis is empty: list GPU ordinals or write \"all\"",
                    );
                }
                Some(d.into_inner())
            }
            (_, Some(d)) => {
                self.error(
                    d.span(),
                    format!(
                        "`devices` applies to cuda sweeps only, not to this {} sweep",
                        backend.name()
                    ),
                );
                let _ = sweep;
                None
            }
            (_, None) => None,
        }
    }

    fn command(
        &mut self,
        backend: BackendKind,
        raw: Option<Spanned<String>>,
        sweep: Range<usize>,
    ) -> Option<String> {
        match (backend, raw) {
            (BackendKind::Command, Some(c)) => {
                if let Err(e) = super::template::Template::parse(c.get_ref()) {
                    self.error(c.span(), e.to_string());
                }
                Some(c.into_inner())
            }
            (BackendKind::Command, None) => {
                self.error(
                    sweep.start..sweep.start + 1,
                    "a command sweep needs `command`, the program line to run for each case",
                );
                None
            }
            (_, Some(c)) => {
                self.error(
                    c.span(),
                    format!(
                        "`command` applies to command sweeps only, not to this {} sweep",
                        backend.name()
                    ),
                );
                None
            }
            (_, None) => None,
        }
    }

    fn exclude(
        &mut self,
        raw: Spanned<RawExclude>,
        algorithms: &[String],
        keys: &[KeyType],
        distributions: &[Distribution],
        sizes: &[Spanned<Size>],
        threads: &[u32],
    ) -> Option<Exclude> {
        let span = raw.span();
        let raw = raw.into_inner();
        let exclude = Exclude {
            algorithm: raw.algorithm.as_ref().map(|a| a.get_ref().clone()),
            key: raw.key,
            distribution: raw.distribution,
            size: raw.size.map(|s| s.n),
            threads: raw.threads,
        };
        if exclude == Exclude::default() {
            self.error(
                span,
                "an empty exclude would leave out every case: name at least one axis value",
            );
            return None;
        }
        let unmatched = [
            exclude
                .algorithm
                .as_ref()
                .filter(|a| !algorithms.contains(a))
                .map(|a| format!("algorithm `{a}`")),
            exclude
                .key
                .filter(|k| !keys.contains(k))
                .map(|k| format!("key `{k}`")),
            exclude
                .distribution
                .filter(|d| !distributions.contains(d))
                .map(|d| format!("distribution `{d}`")),
            exclude
                .size
                .filter(|n| !sizes.iter().any(|s| s.get_ref().n == *n))
                .map(|n| format!("size {n}")),
            exclude
                .threads
                .filter(|t| !threads.contains(t))
                .map(|t| format!("threads {t}")),
        ];
        if let Some(what) = unmatched.into_iter().flatten().next() {
            self.error(span, format!("this exclude names {what}, which is not on the sweep's axes, so it leaves out nothing"));
            return None;
        }
        Some(exclude)
    }

    /// Refuses a case that needs more host memory than the machine has in total.
    fn memory(&mut self, sweep: &Sweep, sizes: &[Spanned<Size>]) {
        if self.limits.host_memory_bytes == 0 {
            return; // The machine's memory could not be read: nothing to hold cases against.
        }
        for size in sizes {
            for algorithm in &sweep.algorithms {
                for &key in &sweep.keys {
                    // On one thread: the least a case of this size needs, so that only a
                    // case that cannot fit on any thread count is refused.
                    let bytes = crate::catalog::host_bytes_needed(
                        sweep.backend,
                        algorithm,
                        key,
                        size.get_ref().n,
                        1,
                    );
                    if bytes > self.limits.host_memory_bytes {
                        self.error(
                            size.span(),
                            format!(
                                "case {} {algorithm} {key} n={} needs {} ({bytes} bytes) of memory, more than this machine's {} in total",
                                sweep.backend.name(),
                                size.get_ref(),
                                crate::units::bytes(bytes),
                                crate::units::bytes(self.limits.host_memory_bytes),
                            ),
                        );
                        return;
                    }
                }
            }
        }
    }
}

/// The sweep's TOML as written: an inline table as `sweep = { … }`, a `[cell.sweep]` table
/// from its header to the next header.
fn sweep_source(text: &str, span: Range<usize>) -> String {
    let slice = &text[span.clone()];
    if !slice.starts_with('[') {
        return format!("sweep = {slice}");
    }
    let mut end = text.len();
    let mut offset = span.end;
    for line in text[span.end..].split_inclusive('\n') {
        if offset > span.end && line.trim_start().starts_with('[') {
            end = offset;
            break;
        }
        offset += line.len();
    }
    text[span.start..end].trim_end().to_string()
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
