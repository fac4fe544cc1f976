//! Executes a definition: probe the machine, plan the cases, measure each one on its backend,
//! and save the run after every case so that a crash loses at most the case in flight.

mod executor;
pub mod progress;

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::backend::CaseContext;
use crate::backend::command::CommandBackend;
use crate::backend::cpu::CpuBackend;
use crate::backend::cuda::GpuSession;
use crate::catalog::BackendKind;
use crate::definition::{MachineLimits, ReportDef};
use crate::env::{self, Environment};
use crate::plan::{Case, plan};
use crate::record::archive;
use crate::record::{Run, SCHEMA_VERSION};

pub use executor::Executor;
use progress::{Progress, TerminalProgress};

/// How to run a definition.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Archive root; the run lands in `ROOT/<definition-name>/<run-id>/`.
    pub archive_root: PathBuf,
    /// Replace identifying strings in the environment record.
    pub anonymize: bool,
    /// The command line, recorded for reproducibility.
    pub command_line: Vec<String>,
}

/// A definition with where it came from and its exact text.
#[derive(Debug, Clone)]
pub struct Definition {
    pub path: String,
    pub text: String,
    pub def: ReportDef,
}

/// Runs every case of `definition` in a new run folder; returns the folder and the run.
///
/// The run is saved after every case. When a stop is requested (Ctrl-C, SIGTERM), the case in
/// flight is dropped, the run is saved as interrupted, and [`resume`] can finish it later.
pub fn execute(definition: Definition, options: &RunOptions) -> anyhow::Result<(PathBuf, Run)> {
    let started = chrono::Utc::now();
    let run_id = archive::new_run_id(started);
    let dir = archive::create_run_dir(&options.archive_root, &definition.def.name, &run_id)?;
    archive::write_atomic(&dir.join("definition.toml"), definition.text.as_bytes())?;

    let mut environment = Environment::probe(options.anonymize);
    let mut gpus = GpuSession::probe();
    let cases = plan(&definition.def, gpus.device_count());
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
    let checks = env::environment_checks(&environment, &definition.def, max_threads, cuda_facts);
    let mut run = Run {
        schema: SCHEMA_VERSION,
        run_id,
        started_at: timestamp(started),
        finished_at: None,
        complete: false,
        interrupted: false,
        command_line: options.command_line.clone(),
        definition_path: definition.path,
        definition_text: definition.text,
        definition: definition.def,
        checks,
        environment,
        cases: Vec::with_capacity(cases.len()),
    };
    archive::save_results(&dir, &run)?;
    let mut executor = executor_for(&run, gpus);
    let mut progress = TerminalProgress::new(cases.len() as u64);
    run_cases(
        &dir,
        &mut run,
        &cases,
        &mut executor,
        &mut progress,
        &crate::interrupt::requested,
    )?;
    publish(&dir, &run);
    Ok((dir, run))
}

/// Finishes an interrupted (or crashed) run: runs the cases it has no result for, with the
/// definition it started with. Refuses when the definition file has changed since.
pub fn resume(dir: &Path, limits: &MachineLimits) -> Result<(PathBuf, Run), ResumeError> {
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
    if run.definition_path != crate::definition::QUICK_PATH
        && let Ok(current) = std::fs::read_to_string(&run.definition_path)
        && current != run.definition_text
    {
        return Err(ResumeError::DefinitionChanged(run.definition_path.clone()));
    }
    let mut def = crate::definition::load(&run.definition_path, &run.definition_text, limits)
        .map_err(|e| ResumeError::Invalid(e.to_string()))?;
    def.name = run.definition.name.clone();
    let mut gpus = GpuSession::probe();
    let remaining = remaining_cases(&run, plan(&def, gpus.device_count()));
    run.interrupted = false;
    archive::remove_stale_temporaries(dir);
    gpus.prepare(&gpu_ordinals(&remaining));
    let mut executor = executor_for(&run, gpus);
    let mut progress = TerminalProgress::new(remaining.len() as u64);
    run_cases(
        dir,
        &mut run,
        &remaining,
        &mut executor,
        &mut progress,
        &crate::interrupt::requested,
    )
    .map_err(ResumeError::Io)?;
    publish(dir, &run);
    Ok((dir.to_path_buf(), run))
}

/// The cases of `planned` that `run` has no result for yet, in plan order.
fn remaining_cases(run: &Run, planned: Vec<Case>) -> Vec<Case> {
    let done: std::collections::HashSet<String> = run.cases.iter().map(|c| c.id().key()).collect();
    planned
        .into_iter()
        .filter(|c| !done.contains(&c.key()))
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
    #[error("{0:#}")]
    Io(anyhow::Error),
}

/// Runs `cases`, appending each result to `run` and saving after every case; stops early,
/// dropping the case in flight, as soon as `stop` says so (the run is then saved as interrupted,
/// to be resumed).
fn run_cases(
    dir: &Path,
    run: &mut Run,
    cases: &[Case],
    executor: &mut Executor,
    progress: &mut dyn Progress,
    stop: &dyn Fn() -> bool,
) -> anyhow::Result<()> {
    for case in cases {
        if stop() {
            break;
        }
        progress.case_started(case);
        let result = executor.run_case(case);
        if stop() {
            // The case in flight may have been cut short: drop it, resume runs it again.
            break;
        }
        progress.case_finished(&result);
        run.cases.push(result);
        run.derive_thread_scaling();
        archive::save_results(dir, run).context("could not save results after a case")?;
    }
    progress.finished();
    run.interrupted = stop();
    run.complete = !run.interrupted;
    run.finished_at = Some(timestamp(chrono::Utc::now()));
    archive::save_results(dir, run)
}

/// The executor of a run: sortmark's CPU sorts, the GPUs of `gpus`, and the definition's peers,
/// which run in the definition's folder.
fn executor_for(run: &Run, gpus: GpuSession) -> Executor {
    let definition_path = (run.definition_path != crate::definition::QUICK_PATH)
        .then(|| Path::new(&run.definition_path));
    let context = CaseContext {
        seed: run.definition.seed,
    };
    Executor::new(context, run.environment.cpu.logical_cores)
        .with(BackendKind::Cpu, Box::new(CpuBackend::default()))
        .with(BackendKind::Cuda, Box::new(gpus))
        .with(
            BackendKind::Command,
            Box::new(CommandBackend::new(definition_path)),
        )
}

/// Renders the run's reports and updates the archive index (`ROOT/<name>/<run-id>/` → `ROOT`).
/// The results are already saved: a report that cannot be rendered is a warning, not a lost run.
fn publish(dir: &Path, run: &Run) {
    if let Err(e) = crate::report::render_all(run, dir) {
        eprintln!(
            "warning: could not render the reports ({e:#}); retry with `sortmark render {}`",
            dir.display()
        );
    }
    if let Some(root) = dir.parent().and_then(Path::parent)
        && let Err(e) = crate::report::index::update(root)
    {
        eprintln!("warning: could not update the archive index: {e:#}");
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

/// What this machine allows a definition: its logical cores and its total memory.
pub fn machine_limits() -> MachineLimits {
    MachineLimits {
        logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        host_memory_bytes: env::memory().total_bytes,
    }
}

/// Reads a definition file, or the built-in default when `path` is `None`.
pub fn read_definition(
    path: Option<&Path>,
    limits: &MachineLimits,
) -> Result<Definition, DefinitionReadError> {
    match path {
        None => Ok(Definition {
            path: crate::definition::QUICK_PATH.to_string(),
            text: crate::definition::QUICK_TOML.to_string(),
            def: crate::definition::load_builtin(limits)?,
        }),
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| DefinitionReadError::Io {
                path: path.display().to_string(),
                source: e,
            })?;
            let shown = path.display().to_string();
            let def = crate::definition::load(&shown, &text, limits)?;
            Ok(Definition {
                path: shown,
                text,
                def,
            })
        }
    }
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
    use std::rc::Rc;
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::backend::Backend;
    use crate::measure::{Measurement, Outcome, Verification};
    use crate::record::CaseStatus;

    /// A backend that measures nothing: it records which cases reached it and answers with
    /// fixed samples, or panics, or asks the run to stop, as a test tells it.
    #[derive(Default)]
    struct MockBackend {
        ran: Arc<Mutex<Vec<String>>>,
        /// Cases of this algorithm panic.
        panic_on: Option<&'static str>,
        /// The case with this index (counting from 0 in this backend) asks the run to stop.
        stop_at: Option<(usize, Rc<Cell<bool>>)>,
    }

    impl Backend for MockBackend {
        fn run(&mut self, case: &Case, _context: &CaseContext) -> Outcome {
            let index = {
                let mut ran = self.ran.lock().unwrap();
                ran.push(case.key());
                ran.len() - 1
            };
            if self.panic_on == Some(case.algorithm.as_str()) {
                panic!("mock backend broke on {}", case.algorithm);
            }
            if let Some((at, stop)) = &self.stop_at
                && *at == index
            {
                stop.set(true);
            }
            Outcome::Measured(Measurement {
                samples_s: vec![1e-3, 2e-3, 3e-3],
                timing: "mock".to_string(),
                verification: Some(Verification {
                    sorted: true,
                    permutation: true,
                    stable: None,
                    first_unsorted: None,
                }),
                ..Measurement::default()
            })
        }
    }

    const DEFINITION: &str = r#"
title = "mock"
seed = 5
[[cell]]
sweep = { backend = "cpu", algorithms = ["std-unstable", "radix"], keys = ["u32", "i32"], distributions = ["uniform", "special-values"], sizes = [16, 32], threads = [1, 2] }
"#;

    /// A run of [`DEFINITION`] with no case yet, in a fresh folder, and its planned cases.
    fn new_run() -> (tempfile::TempDir, Run, Vec<Case>) {
        let limits = MachineLimits {
            logical_cores: 2,
            host_memory_bytes: 1 << 30,
        };
        let def = crate::definition::load("mock.toml", DEFINITION, &limits).unwrap();
        let cases = plan(&def, None);
        let dir = tempfile::tempdir().unwrap();
        let run = Run {
            schema: SCHEMA_VERSION,
            run_id: "20261206T000000Z-0000".to_string(),
            started_at: "2026-12-06T00:00:00Z".to_string(),
            finished_at: None,
            complete: false,
            interrupted: false,
            command_line: Vec::new(),
            definition_path: "mock.toml".to_string(),
            definition_text: DEFINITION.to_string(),
            definition: def,
            environment: Environment::probe(false),
            checks: Vec::new(),
            cases: Vec::new(),
        };
        (dir, run, cases)
    }

    fn mock_executor(backend: MockBackend) -> Executor {
        Executor::new(CaseContext { seed: 5 }, 2).with(BackendKind::Cpu, Box::new(backend))
    }

    fn keys(run: &Run) -> Vec<String> {
        run.cases.iter().map(|c| c.id().key()).collect()
    }

    #[test]
    fn every_case_runs_once_in_plan_order_and_the_run_is_saved_complete() {
        let (dir, mut run, cases) = new_run();
        let mock = MockBackend::default();
        let ran = mock.ran.clone();
        let mut executor = mock_executor(mock);
        run_cases(
            dir.path(),
            &mut run,
            &cases,
            &mut executor,
            &mut progress::Silent,
            &|| false,
        )
        .unwrap();
        let planned: Vec<String> = cases.iter().map(Case::key).collect();
        assert_eq!(keys(&run), planned);
        assert!(run.complete && !run.interrupted && run.finished_at.is_some());
        let saved = archive::load_run(dir.path()).unwrap();
        assert_eq!(saved, run);
        // Skipped cases never reached the backend.
        let skipped = cases.iter().filter(|c| c.skip.is_some()).count();
        assert!(skipped > 0, "the definition plans cases the plan skips");
        assert_eq!(ran.lock().unwrap().len(), cases.len() - skipped);
    }

    #[test]
    fn a_case_the_plan_skipped_is_recorded_with_its_reason_and_not_run() {
        let (dir, mut run, cases) = new_run();
        let mock = MockBackend::default();
        let ran = mock.ran.clone();
        let mut executor = mock_executor(mock);
        run_cases(
            dir.path(),
            &mut run,
            &cases,
            &mut executor,
            &mut progress::Silent,
            &|| false,
        )
        .unwrap();
        for (case, result) in cases.iter().zip(&run.cases) {
            let Some(reason) = &case.skip else { continue };
            assert_eq!(result.status, CaseStatus::Skipped);
            assert_eq!(result.reason.as_ref(), Some(reason));
            assert!(!ran.lock().unwrap().contains(&case.key()));
        }
    }

    #[test]
    fn a_panicking_backend_fails_its_case_and_the_run_goes_on() {
        let (dir, mut run, cases) = new_run();
        let mut executor = mock_executor(MockBackend {
            panic_on: Some("radix"),
            ..MockBackend::default()
        });
        run_cases(
            dir.path(),
            &mut run,
            &cases,
            &mut executor,
            &mut progress::Silent,
            &|| false,
        )
        .unwrap();
        assert_eq!(run.cases.len(), cases.len());
        for result in &run.cases {
            let expected = if result.distribution.to_string() == "special-values" {
                CaseStatus::Skipped
            } else if result.algorithm == "radix" {
                CaseStatus::Failed
            } else {
                CaseStatus::Ok
            };
            assert_eq!(result.status, expected, "{}", result.id().key());
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
    fn a_kind_without_a_backend_fails_its_cases_with_the_reason() {
        let (dir, mut run, cases) = new_run();
        let mut executor = Executor::new(CaseContext { seed: 5 }, 2);
        run_cases(
            dir.path(),
            &mut run,
            &cases,
            &mut executor,
            &mut progress::Silent,
            &|| false,
        )
        .unwrap();
        let failed = run
            .cases
            .iter()
            .find(|c| c.status == CaseStatus::Failed)
            .unwrap();
        assert_eq!(failed.reason.as_deref(), Some("no cpu backend in this run"));
    }

    #[test]
    fn a_stop_drops_the_case_in_flight_and_resume_finishes_exactly_the_rest() {
        let (dir, mut run, cases) = new_run();
        let stop = Rc::new(Cell::new(false));
        let mut executor = mock_executor(MockBackend {
            stop_at: Some((3, stop.clone())),
            ..MockBackend::default()
        });
        let stop_flag = stop.clone();
        run_cases(
            dir.path(),
            &mut run,
            &cases,
            &mut executor,
            &mut progress::Silent,
            &move || stop_flag.get(),
        )
        .unwrap();
        assert!(run.interrupted && !run.complete);
        let saved = archive::load_run(dir.path()).unwrap();
        assert_eq!(saved, run, "the interrupted run is saved");
        // The fourth case that reached the backend asked to stop: it is dropped, and so is
        // every case after it.
        let in_flight = cases.iter().filter(|c| c.skip.is_none()).nth(3).unwrap();
        assert!(!keys(&run).contains(&in_flight.key()));
        let done = run.cases.len();
        assert!(done < cases.len());

        // Resume: the saved run, the same plan, only the cases without a result.
        let mut run = archive::load_run(dir.path()).unwrap();
        run.interrupted = false;
        let remaining = remaining_cases(&run, cases.clone());
        assert_eq!(remaining.len(), cases.len() - done);
        assert_eq!(remaining[0].key(), in_flight.key());
        let mock = MockBackend::default();
        let ran = mock.ran.clone();
        let mut executor = mock_executor(mock);
        run_cases(
            dir.path(),
            &mut run,
            &remaining,
            &mut executor,
            &mut progress::Silent,
            &|| false,
        )
        .unwrap();
        assert!(run.complete && !run.interrupted);
        let mut resumed = keys(&run);
        let mut planned: Vec<String> = cases.iter().map(Case::key).collect();
        resumed.sort();
        planned.sort();
        assert_eq!(resumed, planned, "every planned case exactly once");
        assert!(
            ran.lock()
                .unwrap()
                .iter()
                .all(|k| remaining.iter().any(|c| &c.key() == k)),
            "resume ran no case that already had a result"
        );
    }
}
