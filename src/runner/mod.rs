//! Executes a definition: probe the machine, plan the cases, measure each one on its backend,
//! and journal every case as it finishes so that a crash loses at most the cases in flight.

mod executor;
pub mod progress;
mod rounds;

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::backend::CaseContext;
use crate::backend::command::CommandBackend;
use crate::backend::cpu::CpuBackend;
use crate::backend::cuda::GpuSession;
use crate::catalog::BackendKind;
use crate::definition::{MachineLimits, Overrides, ReportDef};
use crate::env::{self, Environment};
use crate::plan::{Case, CaseId, plan};
use crate::record::archive;
use crate::record::journal::Journal;
use crate::record::parts::{ShardRecord, definition_hash, machine_label};
use crate::record::sources::{SourceError, Sources};
use crate::record::{Run, SCHEMA_VERSION};
use crate::shard::Shard;

pub use executor::Executor;
use progress::Progress;
pub use progress::Verbosity;

/// How to run a definition.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Archive root; the run lands in `ROOT/<definition-name>/<run-id>/`.
    pub archive_root: PathBuf,
    /// Replace identifying strings in the environment record.
    pub anonymize: bool,
    /// The command line, recorded for reproducibility.
    pub command_line: Vec<String>,
    /// How much the run tells on stderr as it goes.
    pub verbosity: Verbosity,
    /// Measure only this part of the plan (`--shard K/N`; `None`: the whole plan).
    pub shard: Option<Shard>,
}

/// A definition with where it came from and its exact text.
#[derive(Debug, Clone)]
pub struct Definition {
    /// Where it was read from, as given (or [`crate::definition::QUICK_PATH`]).
    pub path: String,
    pub text: String,
    pub def: ReportDef,
    /// The absolute folder its commands run in and its relative paths start from.
    pub folder: PathBuf,
    /// The absolute path of its file (`None`: the built-in definition).
    pub file: Option<PathBuf>,
}

/// Runs every case of `definition` in a new run folder; returns the folder and the run.
///
/// Every case is journaled as it finishes. When a stop is requested (Ctrl-C, SIGTERM), the case in
/// flight is dropped, the run is saved as interrupted, and [`resume`] can finish it later.
pub fn execute(definition: Definition, options: &RunOptions) -> anyhow::Result<(PathBuf, Run)> {
    let started = chrono::Utc::now();
    let (dir, run_id) =
        archive::create_run_dir(&options.archive_root, &definition.def.name, started)?;
    archive::write_atomic(&dir.join("definition.toml"), definition.text.as_bytes())?;
    let file = definition
        .file
        .as_deref()
        .map(|f| (f, definition.text.as_str()));
    let sources = Sources::collect(&definition.folder, file, &definition.def)?;
    sources.archive_into(&dir)?;

    let mut environment = Environment::probe(options.anonymize);
    let mut gpus = GpuSession::probe();
    let whole_plan = plan(&definition.def, gpus.device_count());
    let shard = options.shard.map(|shard| ShardRecord {
        shard,
        definition_sha256: definition_hash(&definition.text, &definition.def.overrides),
        machine: machine_label(&environment),
        plan_cases: whole_plan.len(),
    });
    let cases = match options.shard {
        Some(shard) => crate::shard::select(whole_plan, shard),
        None => whole_plan,
    };
    let uses_cuda = cases.iter().any(|c| c.backend == BackendKind::Cuda);
    if uses_cuda {
        gpus.prepare(&gpu_ordinals(&cases));
        environment.gpus = gpus.gpu_facts();
        if environment.gpus.len() > 1 {
            match env::topology::gpu_links() {
                Ok(links) => environment.gpu_links = links,
                Err(why) => environment.gpu_links_note = Some(why),
            }
        }
    }
    environment.cuda = Some(gpus.record());
    let max_threads = cases.iter().filter_map(|c| c.threads).max();
    let cuda_facts = uses_cuda.then(|| gpus.compat_facts());
    let checks = env::environment_checks(
        &environment,
        &definition.def,
        &definition.folder,
        max_threads,
        cuda_facts,
    );
    let mut run = Run {
        schema: SCHEMA_VERSION,
        run_id,
        started_at: timestamp(started),
        finished_at: None,
        complete: false,
        interrupted: false,
        resumed: Vec::new(),
        command_line: options.command_line.clone(),
        definition_path: definition.path,
        definition_text: definition.text,
        definition: definition.def,
        sources: Some(sources),
        checks,
        environment,
        cases: Vec::with_capacity(cases.len()),
        shard,
        parts: Vec::new(),
    };
    archive::save_results(&dir, &run)?;
    let mut executor = executor_for(&run, gpus, &definition.folder);
    let mut progress = progress::display(options.verbosity, cases.len() as u64);
    run_cases(
        &dir,
        &mut run,
        &cases,
        &cases,
        &mut executor,
        progress.as_mut(),
        &crate::interrupt::requested,
    )?;
    publish(&dir, &run);
    Ok((dir, run))
}

/// Finishes an interrupted (or crashed) run: runs the cases it has no result for, with the
/// definition it started with and the same `--only` and `--set`. Refuses when the definition
/// file has changed since.
pub fn resume(
    dir: &Path,
    limits: &MachineLimits,
    verbosity: Verbosity,
) -> Result<(PathBuf, Run), ResumeError> {
    let mut run = archive::load_run(dir).map_err(ResumeError::Load)?;
    if run.complete {
        return Err(ResumeError::AlreadyComplete(dir.display().to_string()));
    }
    let saved = std::fs::read_to_string(dir.join("definition.toml"))
        .unwrap_or_else(|_| run.definition_text.clone());
    if saved != run.definition_text {
        return Err(ResumeError::DefinitionChanged(
            dir.join("definition.toml").display().to_string(),
        ));
    }
    let definition_file = run
        .sources
        .as_ref()
        .and_then(|s| s.definition.as_ref())
        .map(|d| d.path.clone())
        .or_else(|| {
            (run.definition_path != crate::definition::QUICK_PATH)
                .then(|| run.definition_path.clone())
        });
    if let Some(file) = definition_file
        && let Ok(current) = std::fs::read_to_string(&file)
        && current != run.definition_text
    {
        return Err(ResumeError::DefinitionChanged(file));
    }
    let folder = peer_folder(&run, dir).map_err(ResumeError::PeerChanged)?;
    let mut def = run
        .definition
        .overrides
        .load(&run.definition_path, &run.definition_text, limits)
        .map_err(|e| ResumeError::Invalid(e.to_string()))?;
    def.name = run.definition.name.clone();
    let mut gpus = GpuSession::probe();
    let mut planned = plan(&def, gpus.device_count());
    if let Some(record) = &run.shard {
        planned = crate::shard::select(planned, record.shard);
    }
    let remaining = remaining_cases(&run, planned.clone());
    run.interrupted = false;
    run.resumed.push(timestamp(chrono::Utc::now()));
    archive::remove_stale_temporaries(dir);
    gpus.prepare(&gpu_ordinals(&remaining));
    let mut executor = executor_for(&run, gpus, &folder);
    let mut progress = progress::display(verbosity, remaining.len() as u64);
    run_cases(
        dir,
        &mut run,
        &remaining,
        &planned,
        &mut executor,
        progress.as_mut(),
        &crate::interrupt::requested,
    )
    .map_err(ResumeError::Io)?;
    publish(dir, &run);
    Ok((dir.to_path_buf(), run))
}

/// The cases of `planned` that `run` has no result for yet, in plan order.
fn remaining_cases(run: &Run, planned: Vec<Case>) -> Vec<Case> {
    let done: std::collections::HashSet<CaseId<'_>> = run.cases.iter().map(|c| c.id()).collect();
    planned
        .into_iter()
        .filter(|c| !done.contains(&c.id()))
        .collect()
}

/// Why a run could not be resumed.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    #[error("{0:#}")]
    Load(anyhow::Error),
    #[error("the run in {0} is already complete: nothing to resume")]
    AlreadyComplete(String),
    #[error(
        "the definition {0} changed since the run started: resuming would mix two experiments (start a new run instead)"
    )]
    DefinitionChanged(String),
    #[error("the run's definition is no longer valid here:\n{0}")]
    Invalid(String),
    #[error("{0}; start a new run instead")]
    PeerChanged(SourceError),
    #[error("{0:#}")]
    Io(anyhow::Error),
}

/// Runs `cases` sweep by sweep, each in rounds, appending each case's result to `run` and to
/// the run's journal as soon as the case is done; at the end the run is ordered by plan (see
/// [`order_by_plan`]) and saved whole with the journal folded in. Stops early as soon as `stop`
/// says so, dropping the cases whose rounds were not done (the run is then saved as
/// interrupted, to be resumed).
fn run_cases(
    dir: &Path,
    run: &mut Run,
    cases: &[Case],
    planned: &[Case],
    executor: &mut Executor,
    progress: &mut dyn Progress,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<()> {
    let seed = run.definition.seed;
    let mut journal = Journal::open(dir)?;
    for sweep in cases.chunk_by(|a, b| a.cell == b.cell) {
        if stop() {
            break;
        }
        // One line per case: saving costs the same at the last case as at the first.
        let mut save = |result| {
            journal
                .append(&result)
                .context("could not save results after a case")?;
            run.cases.push(result);
            Ok(())
        };
        if !rounds::measure_sweep(sweep, executor, progress, stop, seed, &mut save)? {
            break;
        }
    }
    progress.finished();
    run.derive_thread_scaling();
    order_by_plan(run, planned);
    run.interrupted = stop();
    run.complete = !run.interrupted;
    run.finished_at = Some(timestamp(chrono::Utc::now()));
    archive::save_folded(dir, run)
}

/// Puts the run's cases in the order of `planned` (the whole plan of the definition), which is
/// the order reports show them in, whatever order the rounds finished them in.
fn order_by_plan(run: &mut Run, planned: &[Case]) {
    let position: std::collections::HashMap<CaseId<'_>, usize> = planned
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id(), i))
        .collect();
    run.cases
        .sort_by_key(|c| position.get(&c.id()).copied().unwrap_or(usize::MAX));
}

/// The executor of a run: sortmark's CPU sorts, the GPUs of `gpus`, and the definition's peers,
/// which run in `folder`.
fn executor_for(run: &Run, gpus: GpuSession, folder: &Path) -> Executor {
    let context = CaseContext {
        seed: run.definition.seed,
    };
    Executor::new(context, run.environment.cpu.logical_cores)
        .with(BackendKind::Cpu, Box::new(CpuBackend::default()))
        .with(BackendKind::Cuda, Box::new(gpus))
        .with(
            BackendKind::Command,
            Box::new(CommandBackend::new(folder.to_path_buf())),
        )
}

/// The folder to run `run`'s peers from again: where the run found them while they are
/// unchanged, else the copies archived in `run_dir` ([`Sources::locate`]). A run recorded
/// before sources were kept runs them from its definition's folder, as it did.
pub fn peer_folder(run: &Run, run_dir: &Path) -> Result<PathBuf, SourceError> {
    match &run.sources {
        Some(sources) => sources.locate(run_dir),
        None => Ok(definition_folder(
            (run.definition_path != crate::definition::QUICK_PATH)
                .then(|| Path::new(&run.definition_path)),
        )),
    }
}

/// The absolute folder of a definition file (`None`, the built-in one: the working directory),
/// where its commands run and its relative paths start.
fn definition_folder(file: Option<&Path>) -> PathBuf {
    let dir = file
        .and_then(Path::parent)
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::path::absolute(&dir).unwrap_or(dir)
}

/// Renders the run's reports and updates the archive index (`ROOT/<name>/<run-id>/` → `ROOT`).
/// The results are already saved: a report that cannot be rendered is a warning, not a lost run.
fn publish(dir: &Path, run: &Run) {
    if let Err(e) = crate::report::render_all(run, dir) {
        crate::terminal::err_line(&format!(
            "warning: could not render the reports ({e:#}); retry with `sortmark render {}`",
            dir.display()
        ));
    }
    if let Some(root) = dir.parent().and_then(Path::parent)
        && let Err(e) = crate::report::index::update(root)
    {
        crate::terminal::err_line(&format!(
            "warning: could not update the archive index: {e:#}"
        ));
    }
}

fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The GPU ordinals CUDA cases ask for, each once.
fn gpu_ordinals(cases: &[Case]) -> Vec<u32> {
    let mut ordinals: Vec<u32> = cases.iter().filter_map(|c| c.device).collect();
    ordinals.sort_unstable();
    ordinals.dedup();
    ordinals
}

/// The cases a run of `def` would plan on this machine. The GPUs are counted only when a CUDA
/// sweep asks for all of them (opening the driver takes a moment).
pub fn planned_cases(def: &ReportDef) -> Vec<Case> {
    let asks_for_all = def.sweeps().any(|s| {
        s.backend == BackendKind::Cuda
            && matches!(s.devices, Some(crate::definition::DeviceSelection::All))
    });
    let gpus = asks_for_all
        .then(|| GpuSession::probe().device_count())
        .flatten();
    plan(def, gpus)
}

/// What this machine allows a definition: its logical cores and its total memory.
pub fn machine_limits() -> MachineLimits {
    MachineLimits {
        logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        host_memory_bytes: env::memory().total_bytes,
    }
}

/// Reads a definition file, or the built-in default when `path` is `None`, with what the
/// command line changes in it.
pub fn read_definition(
    path: Option<&Path>,
    overrides: &Overrides,
    limits: &MachineLimits,
) -> Result<Definition, DefinitionReadError> {
    match path {
        None => Ok(Definition {
            path: crate::definition::QUICK_PATH.to_string(),
            text: crate::definition::QUICK_TOML.to_string(),
            def: overrides.load_builtin(limits)?,
            folder: definition_folder(None),
            file: None,
        }),
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| DefinitionReadError::Io {
                path: path.display().to_string(),
                source: e,
            })?;
            let shown = path.display().to_string();
            let text = utf8_text(&shown, bytes)?;
            let def = overrides.load(&shown, &text, limits)?;
            Ok(Definition {
                path: shown,
                text,
                def,
                folder: definition_folder(Some(path)),
                file: Some(std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())),
            })
        }
    }
}

/// The bytes of a definition file as text; invalid UTF-8 is a definition error located at
/// the first byte that is not (line, column and byte offset).
fn utf8_text(path: &str, bytes: Vec<u8>) -> Result<String, crate::definition::LoadError> {
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        // The text before `offset` is valid, so its positions are the same in the lossy copy.
        let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
        let error = crate::definition::DefinitionError::at(
            path,
            &lossy,
            offset..offset + 1,
            format!("invalid UTF-8 at byte {offset}: a definition must be UTF-8 text"),
        );
        crate::definition::LoadError {
            errors: vec![error],
        }
    })
}

/// A definition that could not be read or is not valid.
#[derive(Debug, thiserror::Error)]
pub enum DefinitionReadError {
    #[error("could not read definition {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Invalid(#[from] crate::definition::LoadError),
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::collections::HashMap;
    use std::rc::Rc;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::backend::Backend;
    use crate::measure::{Measurement, Outcome, Verification};
    use crate::record::journal;
    use crate::record::{CaseResult, CaseStatus};

    /// A backend that measures nothing: it records which cases reached it, in order, and
    /// answers with fixed samples, or panics, fails, or asks the run to stop, as a test tells it.
    #[derive(Default)]
    struct MockBackend {
        ran: Arc<Mutex<Vec<String>>>,
        /// Cases of this algorithm panic.
        panic_on: Option<&'static str>,
        /// Cases of this algorithm fail in their second round.
        fail_second_round_of: Option<&'static str>,
        /// The round with this index (counting every round that reached the backend from 0)
        /// asks the run to stop.
        stop_at: Option<(usize, Rc<Cell<bool>>)>,
        /// Cases of this algorithm get samples that differ from round to round.
        noisy: Option<&'static str>,
        /// The run folder whose `results.json` size each round notes down.
        watch: Option<(PathBuf, Arc<Mutex<Vec<u64>>>)>,
    }

    impl Backend for MockBackend {
        fn run(&mut self, case: &Case, _context: &CaseContext) -> Outcome {
            let (index, round) = {
                let mut ran = self.ran.lock().unwrap();
                ran.push(key(case.id()));
                let round = ran.iter().filter(|k| **k == key(case.id())).count();
                (ran.len() - 1, round)
            };
            if self.panic_on == Some(case.algorithm.as_str()) {
                panic!("mock backend broke on {}", case.algorithm);
            }
            if self.fail_second_round_of == Some(case.algorithm.as_str()) && round == 2 {
                return Outcome::failed("the second round went wrong");
            }
            if let Some((dir, sizes)) = &self.watch {
                let size = std::fs::metadata(dir.join("results.json")).map_or(0, |m| m.len());
                sizes.lock().unwrap().push(size);
            }
            if let Some((at, stop)) = &self.stop_at
                && *at == index
            {
                stop.set(true);
            }
            let level = if self.noisy == Some(case.algorithm.as_str()) {
                1.0 + round as f64 * 0.5
            } else {
                1.0
            };
            Outcome::Measured(Measurement {
                samples_s: vec![1e-3 * level; 3],
                timing: "mock".to_string(),
                verification: Some(Verification::sorted_permutation()),
                ..Measurement::default()
            })
        }
    }

    const DEFINITION: &str = r#"
title = "mock"
seed = 5
[[cell]]
sweep = { name = "first", backend = "cpu", algorithms = ["std-unstable", "radix"], keys = ["u32", "i32"], distributions = ["uniform", "special-values"], sizes = [16, 32], threads = [1, 2] }
[[cell]]
sweep = { name = "second", backend = "cpu", algorithms = ["std-unstable", "radix"], keys = ["u32"], sizes = [16, 32, 64], threads = [1, 2] }
"#;

    /// A run of `text` with no case yet, in a fresh folder, and its planned cases.
    fn new_run(text: &str) -> (tempfile::TempDir, Run, Vec<Case>) {
        let limits = MachineLimits {
            logical_cores: 2,
            host_memory_bytes: 1 << 30,
        };
        let def = crate::definition::load("mock.toml", text, &limits).unwrap();
        let cases = plan(&def, None);
        let dir = tempfile::tempdir().unwrap();
        let run = Run {
            schema: SCHEMA_VERSION,
            run_id: "20261206T000000Z-0000".to_string(),
            started_at: "2026-12-06T00:00:00Z".to_string(),
            finished_at: None,
            complete: false,
            interrupted: false,
            resumed: Vec::new(),
            command_line: Vec::new(),
            definition_path: "mock.toml".to_string(),
            definition_text: text.to_string(),
            definition: def,
            sources: None,
            environment: Environment::probe(false),
            checks: Vec::new(),
            cases: Vec::new(),
            shard: None,
            parts: Vec::new(),
        };
        (dir, run, cases)
    }

    fn mock_executor(backend: MockBackend) -> Executor {
        Executor::new(CaseContext { seed: 5 }, 2).with(BackendKind::Cpu, Box::new(backend))
    }

    fn run_all(dir: &Path, run: &mut Run, cases: &[Case], executor: &mut Executor) {
        resume_all(dir, run, cases, cases, executor);
    }

    /// Runs `cases` of the plan `planned` to the end.
    fn resume_all(
        dir: &Path,
        run: &mut Run,
        cases: &[Case],
        planned: &[Case],
        executor: &mut Executor,
    ) {
        run_cases(
            dir,
            run,
            cases,
            planned,
            executor,
            &mut progress::Silent,
            &|| false,
        )
        .unwrap();
    }

    /// Rounds that reach the backend in the sweep named "first" (six for each case it runs).
    fn rounds_of_first(cases: &[Case]) -> usize {
        6 * cases
            .iter()
            .filter(|c| c.sweep == "first" && c.skip.is_none())
            .count()
    }

    /// Runs `cases` until the round with index `at` (counting every round that reached the
    /// backend) asks the run to stop.
    fn run_stopping_at(dir: &Path, run: &mut Run, cases: &[Case], at: usize) {
        let stop = Rc::new(Cell::new(false));
        let mut executor = mock_executor(MockBackend {
            stop_at: Some((at, stop.clone())),
            ..MockBackend::default()
        });
        let stopped = move || stop.get();
        run_cases(
            dir,
            run,
            cases,
            cases,
            &mut executor,
            &mut progress::Silent,
            &stopped,
        )
        .unwrap();
    }

    /// A case's id as text that tells every two cases apart (its fields, strings quoted).
    fn key(id: CaseId<'_>) -> String {
        format!("{id:?}")
    }

    fn keys(run: &Run) -> Vec<String> {
        run.cases.iter().map(|c| key(c.id())).collect()
    }

    fn times_each_ran(ran: &[String]) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for key in ran {
            *counts.entry(key.clone()).or_insert(0) += 1;
        }
        counts
    }

    #[test]
    fn every_case_runs_once_a_round_and_the_run_is_saved_complete_in_plan_order() {
        let (dir, mut run, cases) = new_run(DEFINITION);
        let mock = MockBackend::default();
        let ran = mock.ran.clone();
        run_all(dir.path(), &mut run, &cases, &mut mock_executor(mock));
        let planned: Vec<String> = cases.iter().map(|c| key(c.id())).collect();
        assert_eq!(keys(&run), planned);
        assert!(run.complete && !run.interrupted && run.finished_at.is_some());
        assert_eq!(archive::load_run(dir.path()).unwrap(), run);
        let counts = times_each_ran(&ran.lock().unwrap());
        for case in &cases {
            let expected = if case.skip.is_some() { 0 } else { 6 };
            assert_eq!(counts.get(&key(case.id())).copied().unwrap_or(0), expected);
        }
        for result in run.cases.iter().filter(|c| c.status == CaseStatus::Ok) {
            assert_eq!(result.rounds_s.len(), 6);
            assert_eq!(result.samples_s.len(), 18);
        }
    }

    #[test]
    fn each_round_runs_the_sweep_in_its_own_order_fixed_by_the_seed() {
        let orders = || {
            let (dir, mut run, cases) = new_run(DEFINITION);
            let mock = MockBackend::default();
            let ran = mock.ran.clone();
            run_all(dir.path(), &mut run, &cases, &mut mock_executor(mock));
            let ran = ran.lock().unwrap().clone();
            let second: Vec<String> = cases
                .iter()
                .filter(|c| c.sweep == "second")
                .map(|c| key(c.id()))
                .collect();
            let rounds: Vec<Vec<String>> = ran
                .iter()
                .filter(|k| second.contains(k))
                .cloned()
                .collect::<Vec<_>>()
                .chunks(second.len())
                .map(<[String]>::to_vec)
                .collect();
            (second, rounds)
        };
        let (second, rounds) = orders();
        assert_eq!(rounds.len(), 6);
        for round in &rounds {
            let mut sorted = round.clone();
            sorted.sort();
            let mut expected = second.clone();
            expected.sort();
            assert_eq!(sorted, expected, "a round runs every case once");
        }
        assert!(
            rounds[0] != rounds[1] || rounds[1] != rounds[2],
            "orders differ"
        );
        assert_ne!(rounds[0], second, "the first round is shuffled too");
        assert_eq!(orders().1, rounds, "the same seed gives the same orders");
    }

    #[test]
    fn a_case_the_plan_skipped_is_recorded_with_its_reason_and_not_run() {
        let (dir, mut run, cases) = new_run(DEFINITION);
        let mock = MockBackend::default();
        let ran = mock.ran.clone();
        run_all(dir.path(), &mut run, &cases, &mut mock_executor(mock));
        for (case, result) in cases.iter().zip(&run.cases) {
            let Some(reason) = &case.skip else { continue };
            assert_eq!(result.status, CaseStatus::Skipped);
            assert_eq!(result.reason.as_ref(), Some(reason));
            assert!(!ran.lock().unwrap().contains(&key(case.id())));
        }
    }

    #[test]
    fn a_panicking_backend_fails_its_case_and_the_run_goes_on() {
        let (dir, mut run, cases) = new_run(DEFINITION);
        let mut executor = mock_executor(MockBackend {
            panic_on: Some("radix"),
            ..MockBackend::default()
        });
        run_all(dir.path(), &mut run, &cases, &mut executor);
        assert_eq!(run.cases.len(), cases.len());
        for result in &run.cases {
            let expected = if result.distribution.to_string() == "special-values" {
                CaseStatus::Skipped
            } else if result.algorithm == "radix" {
                CaseStatus::Failed
            } else {
                CaseStatus::Ok
            };
            assert_eq!(result.status, expected, "{}", key(result.id()));
        }
        let failed = run
            .cases
            .iter()
            .find(|c| c.status == CaseStatus::Failed)
            .unwrap();
        assert!(
            failed
                .reason
                .as_ref()
                .unwrap()
                .contains("the case panicked: mock backend broke on radix")
        );
        assert!(run.complete && run.has_failures());
    }

    #[test]
    fn a_failed_round_fails_the_case_and_ends_its_rounds() {
        let (dir, mut run, cases) = new_run(DEFINITION);
        let mock = MockBackend {
            fail_second_round_of: Some("radix"),
            ..MockBackend::default()
        };
        let ran = mock.ran.clone();
        run_all(dir.path(), &mut run, &cases, &mut mock_executor(mock));
        let counts = times_each_ran(&ran.lock().unwrap());
        for result in run
            .cases
            .iter()
            .filter(|c| c.algorithm == "radix" && c.distribution.to_string() == "uniform")
        {
            assert_eq!(result.status, CaseStatus::Failed);
            assert_eq!(
                result.reason.as_deref(),
                Some("the second round went wrong")
            );
            assert_eq!(counts[&key(result.id())], 2, "no third round");
        }
    }

    #[test]
    fn with_a_precision_a_steady_case_stops_at_its_rounds_and_a_noisy_one_runs_on() {
        let text = DEFINITION.replace(
            "seed = 5",
            "seed = 5\n[measure]\nrounds = 6\nprecision = 0.05\nmax_rounds = 9",
        );
        let (dir, mut run, cases) = new_run(&text);
        let mock = MockBackend {
            noisy: Some("radix"),
            ..MockBackend::default()
        };
        let ran = mock.ran.clone();
        run_all(dir.path(), &mut run, &cases, &mut mock_executor(mock));
        let counts = times_each_ran(&ran.lock().unwrap());
        for result in run.cases.iter().filter(|c| c.status == CaseStatus::Ok) {
            let (rounds, reached) = if result.algorithm == "radix" {
                (9, false)
            } else {
                (6, true)
            };
            assert_eq!(counts[&key(result.id())], rounds, "{}", key(result.id()));
            assert_eq!(result.rounds_s.len(), rounds);
            assert_eq!(result.precision_reached, Some(reached));
        }
    }

    #[test]
    fn resume_runs_a_case_whose_joined_names_match_a_finished_one() {
        // Joined with `/`, both cases read `a/b/c/u32/uniform/16/-/-`.
        let text = r#"title = "t"
[[cell]]
sweep = { name = "a", backend = "command", algorithms = ["b/c"], sizes = [16], command = "peer" }
[[cell]]
sweep = { name = "a/b", backend = "command", algorithms = ["c"], sizes = [16], command = "peer" }
"#;
        let (_dir, mut run, cases) = new_run(text);
        let done = CaseResult::from_outcome(&cases[0], Outcome::skipped("done"), 5, 2);
        run.cases.push(done);
        assert_eq!(remaining_cases(&run, cases.clone()), [cases[1].clone()]);
    }

    #[test]
    fn a_kind_without_a_backend_fails_its_cases_with_the_reason() {
        let (dir, mut run, cases) = new_run(DEFINITION);
        let mut executor = Executor::new(CaseContext { seed: 5 }, 2);
        run_all(dir.path(), &mut run, &cases, &mut executor);
        let failed = run
            .cases
            .iter()
            .find(|c| c.status == CaseStatus::Failed)
            .unwrap();
        assert_eq!(failed.reason.as_deref(), Some("no cpu backend in this run"));
    }

    #[test]
    fn a_stop_drops_the_sweep_in_flight_and_resume_finishes_exactly_the_rest() {
        let (dir, mut run, cases) = new_run(DEFINITION);
        let first: Vec<String> = cases
            .iter()
            .filter(|c| c.sweep == "first")
            .map(|c| key(c.id()))
            .collect();
        // The fifth round of the second sweep asks to stop.
        run_stopping_at(dir.path(), &mut run, &cases, rounds_of_first(&cases) + 4);
        assert!(run.interrupted && !run.complete);
        assert_eq!(
            archive::load_run(dir.path()).unwrap(),
            run,
            "the interrupted run is saved"
        );
        assert_eq!(
            keys(&run),
            first,
            "the finished sweep is kept, the one in flight dropped"
        );

        // Resume: the saved run, the same plan, only the cases without a result.
        let mut run = archive::load_run(dir.path()).unwrap();
        run.interrupted = false;
        let remaining = remaining_cases(&run, cases.clone());
        assert!(remaining.iter().all(|c| c.sweep == "second"));
        assert_eq!(remaining.len(), cases.len() - first.len());
        let mock = MockBackend::default();
        let ran = mock.ran.clone();
        resume_all(
            dir.path(),
            &mut run,
            &remaining,
            &cases,
            &mut mock_executor(mock),
        );
        assert!(run.complete && !run.interrupted);
        let planned: Vec<String> = cases.iter().map(|c| key(c.id())).collect();
        assert_eq!(
            keys(&run),
            planned,
            "every planned case exactly once, in plan order"
        );
        assert!(
            ran.lock().unwrap().iter().all(|k| !first.contains(k)),
            "resume ran no case that already had a result"
        );
    }

    #[test]
    fn a_finished_case_is_journaled_and_results_json_is_written_only_at_the_start_and_end() {
        let (dir, mut run, cases) = new_run(DEFINITION);
        archive::save_results(dir.path(), &run).unwrap();
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let mock = MockBackend {
            watch: Some((dir.path().to_path_buf(), sizes.clone())),
            ..MockBackend::default()
        };
        run_all(dir.path(), &mut run, &cases, &mut mock_executor(mock));
        let sizes = sizes.lock().unwrap();
        assert!(sizes.len() > 100);
        assert!(
            sizes.iter().all(|&s| s == sizes[0]),
            "results.json is not rewritten while cases finish"
        );
        assert!(
            !dir.path().join(journal::FILE).exists(),
            "folded in at the end"
        );
        assert_eq!(archive::load_run(dir.path()).unwrap(), run);
    }

    #[test]
    fn resume_after_a_kill_reads_the_journal_and_runs_only_the_cases_it_lacks() {
        let (dir, mut run, cases) = new_run(DEFINITION);
        run_all(
            dir.path(),
            &mut run,
            &cases,
            &mut mock_executor(MockBackend::default()),
        );
        // What a run killed after seven cases leaves: results.json as it started, seven lines
        // in the journal and half of an eighth.
        let finished = run.cases.clone();
        let killed = tempfile::tempdir().unwrap();
        let mut started = run.clone();
        started.cases.clear();
        (started.complete, started.finished_at) = (false, None);
        archive::save_results(killed.path(), &started).unwrap();
        let mut journal = Journal::open(killed.path()).unwrap();
        for case in &finished[..7] {
            journal.append(case).unwrap();
        }
        let torn = serde_json::to_string(&finished[7]).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(killed.path().join(journal::FILE))
            .and_then(|mut f| std::io::Write::write_all(&mut f, &torn.as_bytes()[..40]))
            .unwrap();

        let mut run = archive::load_run(killed.path()).unwrap();
        assert_eq!(
            keys(&run),
            finished[..7]
                .iter()
                .map(|c| key(c.id()))
                .collect::<Vec<_>>()
        );
        let remaining = remaining_cases(&run, cases.clone());
        assert_eq!(remaining.len(), cases.len() - 7);
        let mock = MockBackend::default();
        let ran = mock.ran.clone();
        resume_all(
            killed.path(),
            &mut run,
            &remaining,
            &cases,
            &mut mock_executor(mock),
        );
        let planned: Vec<String> = cases.iter().map(|c| key(c.id())).collect();
        assert_eq!(keys(&archive::load_run(killed.path()).unwrap()), planned);
        assert!(run.complete);
        let done: Vec<String> = finished[..7].iter().map(|c| key(c.id())).collect();
        assert!(ran.lock().unwrap().iter().all(|k| !done.contains(k)));
    }

    #[test]
    fn a_stop_in_the_last_round_keeps_the_cases_it_finished() {
        let (dir, mut run, cases) = new_run(DEFINITION);
        let first = cases.iter().filter(|c| c.sweep == "first").count();
        let second = cases.len() - first;
        // The third case of the second sweep's last round asks to stop.
        let at = rounds_of_first(&cases) + 5 * second + 2;
        run_stopping_at(dir.path(), &mut run, &cases, at);
        assert!(run.interrupted);
        assert_eq!(run.cases.len(), first + 2);
        let planned: Vec<String> = cases.iter().map(|c| key(c.id())).collect();
        let kept = keys(&run);
        let in_plan_order: Vec<&String> = planned.iter().filter(|k| kept.contains(k)).collect();
        assert_eq!(kept.iter().collect::<Vec<_>>(), in_plan_order);
    }
}
