//! Executes a definition: probe the machine, plan the cases, measure each one on its backend,
//! and save the run after every case so that a crash loses at most the case in flight.

use std::io::IsTerminal;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use crate::backend::command::CommandBackend;
use crate::backend::cpu::{CpuAlgorithm, ThreadPools};
use crate::backend::cuda::GpuSession;
use crate::catalog::BackendKind;
use crate::data::generate;
use crate::definition::{Cell, ReportDef};
use crate::env::{self, Environment};
use crate::plan::{Case, plan};
use crate::record::archive;
use crate::record::{CaseResult, CaseStatus, Run, SCHEMA_VERSION};

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
    run_cases(&dir, &mut run, &cases, gpus)?;
    Ok((dir, run))
}

/// Finishes an interrupted (or crashed) run: runs the cases it has no result for, with the
/// definition it started with. Refuses when the definition file has changed since.
pub fn resume(
    dir: &Path,
    limits: &crate::definition::Limits,
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
    if run.definition_path != crate::definition::QUICK_PATH
        && let Ok(current) = std::fs::read_to_string(&run.definition_path)
        && current != run.definition_text
    {
        return Err(ResumeError::DefinitionChanged(run.definition_path.clone()));
    }
    let mut def = crate::definition::load(&run.definition_path, &run.definition_text, limits)
        .map_err(|e| ResumeError::Invalid(e.to_string()))?;
    def.name = run.definition.name.clone();
    let done: std::collections::HashSet<String> = run.cases.iter().map(|c| c.id().key()).collect();
    let mut gpus = GpuSession::probe();
    let remaining: Vec<Case> = plan(&def, gpus.device_count())
        .into_iter()
        .filter(|c| !done.contains(&c.key()))
        .collect();
    run.interrupted = false;
    archive::remove_stale_temporaries(dir);
    gpus.prepare(&gpu_ordinals(&remaining));
    run_cases(dir, &mut run, &remaining, gpus).map_err(ResumeError::Io)?;
    Ok((dir.to_path_buf(), run))
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

/// Runs `cases`, appending each result to `run` and saving after every case.
fn run_cases(dir: &Path, run: &mut Run, cases: &[Case], gpus: GpuSession) -> anyhow::Result<()> {
    let definition_path = (run.definition_path != crate::definition::QUICK_PATH)
        .then(|| Path::new(&run.definition_path));
    let mut executor = Executor {
        pools: ThreadPools::default(),
        seed: run.definition.seed,
        logical_cores: run.environment.cpu.logical_cores,
        command: CommandBackend::new(definition_path, run.definition.seed),
        commands: command_lines(&run.definition),
        gpus,
    };
    let progress = Progress::new(cases.len() as u64);
    for case in cases {
        if crate::interrupt::requested() {
            break;
        }
        progress.start(case);
        let result = executor.run_case(case);
        if crate::interrupt::requested() {
            // The case in flight may have been cut short: drop it, resume runs it again.
            break;
        }
        progress.finish(&result);
        run.cases.push(result);
        run.derive_thread_scaling();
        archive::save_results(dir, run).context("could not save results after a case")?;
    }
    progress.done();
    run.interrupted = crate::interrupt::requested();
    run.complete = !run.interrupted;
    run.finished_at = Some(timestamp(chrono::Utc::now()));
    archive::save_results(dir, run)?;
    publish(dir, run);
    Ok(())
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

/// The command line of every command sweep, by cell index.
fn command_lines(def: &ReportDef) -> std::collections::HashMap<usize, String> {
    def.cells
        .iter()
        .filter_map(|c| match c {
            Cell::Sweep(s) => Some((s.cell, s.command.clone()?)),
            Cell::Markdown { .. } => None,
        })
        .collect()
}

/// Runs cases, holding what is reused between them (thread pools, the peers' folder).
struct Executor {
    pools: ThreadPools,
    seed: u64,
    logical_cores: u32,
    command: CommandBackend,
    commands: std::collections::HashMap<usize, String>,
    gpus: GpuSession,
}

impl Executor {
    /// Runs one case; a panic inside a backend fails that case, never the run.
    fn run_case(&mut self, case: &Case) -> CaseResult {
        if let Some(reason) = &case.skip {
            return CaseResult::skipped(case, reason.clone(), self.logical_cores);
        }
        if let Some(reason) = host_memory_shortfall(case) {
            return CaseResult::skipped(case, reason, self.logical_cores);
        }
        match catch_unwind(AssertUnwindSafe(|| self.dispatch(case))) {
            Ok(result) => result,
            Err(panic) => CaseResult::failed(
                case,
                format!(
                    "the case panicked: {}",
                    crate::backend::panic_message(&panic)
                ),
                self.logical_cores,
            ),
        }
    }

    fn dispatch(&mut self, case: &Case) -> CaseResult {
        match case.backend {
            BackendKind::Cpu => self.run_cpu(case),
            BackendKind::Cuda => self.gpus.run(case, self.seed, self.logical_cores),
            BackendKind::Command => match self.commands.get(&case.cell) {
                Some(command) => {
                    self.command
                        .run(case, command)
                        .into_result(case, self.seed, self.logical_cores)
                }
                None => CaseResult::failed(case, "the sweep has no command", self.logical_cores),
            },
        }
    }

    fn run_cpu(&mut self, case: &Case) -> CaseResult {
        let Some(algorithm) = CpuAlgorithm::from_name(&case.algorithm) else {
            return CaseResult::failed(
                case,
                format!("unknown CPU algorithm `{}`", case.algorithm),
                self.logical_cores,
            );
        };
        let threads = case.threads.unwrap_or(1);
        let pool = match self.pools.get(threads) {
            Ok(pool) => pool,
            Err(e) => {
                return CaseResult::failed(
                    case,
                    format!("could not start {threads} threads: {e}"),
                    self.logical_cores,
                );
            }
        };
        let input = generate(case.key_type, case.distribution, case.n as usize, self.seed);
        let measurement = crate::backend::cpu::measure(algorithm, &input, &case.measure, pool);
        CaseResult::measured(case, measurement, self.seed, None, self.logical_cores)
    }
}

/// Why a case would not fit in the host memory available now, if it would not.
fn host_memory_shortfall(case: &Case) -> Option<String> {
    let needed =
        crate::backend::host_bytes_needed(case.backend, &case.algorithm, case.key_type, case.n);
    let available = crate::env::memory().available_bytes;
    (available > 0 && needed > available).then(|| {
        format!(
            "needs {} of host memory but only {} is available",
            crate::units::bytes(needed),
            crate::units::bytes(available)
        )
    })
}

/// Progress on stderr: a bar on a terminal, plain lines otherwise (logs, CI).
struct Progress {
    bar: Option<ProgressBar>,
    total: u64,
    started: Instant,
    done: std::cell::Cell<u64>,
}

impl Progress {
    fn new(total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30.cyan/blue} {pos}/{len} cases, {eta} left  {msg}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            total,
            started: Instant::now(),
            done: std::cell::Cell::new(0),
        }
    }

    fn start(&self, case: &Case) {
        if let Some(bar) = &self.bar {
            bar.set_message(case.label());
        }
    }

    fn finish(&self, result: &CaseResult) {
        self.done.set(self.done.get() + 1);
        let outcome = match result.status {
            CaseStatus::Ok => result
                .keys_per_s
                .map_or("ok".to_string(), crate::units::keys_per_s),
            CaseStatus::Skipped => format!("skipped: {}", result.reason.as_deref().unwrap_or("")),
            CaseStatus::Failed => format!("FAILED: {}", result.reason.as_deref().unwrap_or("")),
        };
        let line = format!(
            "[{}/{}] {}  {}",
            self.done.get(),
            self.total,
            crate::plan::describe(&result.id()),
            outcome
        );
        match &self.bar {
            Some(bar) => {
                if result.status == CaseStatus::Failed {
                    bar.println(line);
                }
                bar.inc(1);
            }
            None => eprintln!("{line}"),
        }
    }

    fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        eprintln!(
            "{} cases in {:.1} s",
            self.done.get(),
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// Reads a definition file, or the built-in default when `path` is `None`.
pub fn read_definition(
    path: Option<&Path>,
    limits: &crate::definition::Limits,
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
