//! `sortmark merge`: joins the parts of a plan (runs made with `--shard K/N`) into one run
//! folder, as if one run had measured them all, with every report rendered once.
//!
//! Parts join only when they are parts of the same plan: the same definition text and
//! `--only`/`--set` (its [`definition_hash`](crate::record::parts::definition_hash)), split into
//! the same number of parts, each finished and each given once. A part that is missing is
//! refused by name unless the merge is told `partial`, and the merged run is then incomplete.
//! Nothing is written until every check passed, and the run folder appears whole: it is built
//! under a temporary name and renamed into place.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::env::Check;
use crate::plan::{CaseId, describe, plan};
use crate::record::archive::{self, new_run_id};
use crate::record::parts::{Part, ShardRecord};
use crate::record::{Run, SCHEMA_VERSION};
use crate::shard::Shard;

/// How to merge.
#[derive(Debug, Clone)]
pub struct MergeOptions {
    /// Archive root of the merged run (`None`: the first part's); it lands in
    /// `ROOT/<definition-name>/<run-id>/`.
    pub archive_root: Option<PathBuf>,
    /// Merge the parts given even when some are missing.
    pub partial: bool,
    /// The command line, recorded in the merged run.
    pub command_line: Vec<String>,
}

/// A merged run, saved and rendered.
#[derive(Debug)]
pub struct Merged {
    /// Its run folder.
    pub dir: PathBuf,
    /// The run.
    pub run: Run,
    /// The parts that were missing (only with `partial`).
    pub missing: Vec<Shard>,
}

/// Why parts could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("nothing to merge: name the run folders of the parts")]
    NoParts,
    #[error("could not read the part {dir}: {source:#}")]
    Load { dir: String, source: anyhow::Error },
    #[error(
        "{dir} has results of schema {found}; merge joins parts of schema {SCHEMA_VERSION} only: run that part again with this sortmark"
    )]
    Schema { dir: String, found: String },
    #[error("{0} is not a part: it measured its whole plan (parts are runs made with --shard K/N)")]
    NotAPart(String),
    #[error(
        "{0} is still running, or the sortmark running it was killed: wait for it, or finish it with `sortmark run --resume {0}`"
    )]
    Running(String),
    #[error("{0} was interrupted: finish it with `sortmark run --resume {0}`, then merge")]
    Interrupted(String),
    #[error(
        "{dir} is a part of another definition than {first} (definition SHA-256 {theirs} against {ours}: another text, or other --only/--set)"
    )]
    OtherDefinition {
        dir: String,
        first: String,
        theirs: String,
        ours: String,
    },
    #[error(
        "{dir} is a part of {theirs} parts, {first} of {ours}: they split the plan differently"
    )]
    OtherCount {
        dir: String,
        first: String,
        theirs: u32,
        ours: u32,
    },
    #[error(
        "{dir} planned other cases than {first} ({theirs} against {ours}): a sweep over \"all\" GPUs or \"all\" cores splits differently on machines of another shape; run every part on machines with the same GPUs and cores"
    )]
    OtherPlan {
        dir: String,
        first: String,
        theirs: String,
        ours: String,
    },
    #[error("part {shard} is given twice: {first} and {second}")]
    Overlap {
        shard: Shard,
        first: String,
        second: String,
    },
    #[error("the case {case} is in two parts, {first} and {second}")]
    CaseTwice {
        case: String,
        first: String,
        second: String,
    },
    #[error("{} missing: {}; merge them too, or pass --partial to merge the parts there are", if .0.len() == 1 { "a part is" } else { "parts are" }, list(.0))]
    Missing(Vec<Shard>),
    #[error("{0:#}")]
    Io(anyhow::Error),
}

impl MergeError {
    /// Whether the parts were refused as they are (as opposed to an unreadable folder or a
    /// failed write).
    pub fn refused(&self) -> bool {
        !matches!(self, MergeError::Load { .. } | MergeError::Io(_))
    }
}

fn list(shards: &[Shard]) -> String {
    let names: Vec<String> = shards.iter().map(|s| format!("part {s}")).collect();
    names.join(", ")
}

/// One part, read and checked on its own.
struct Loaded {
    dir: PathBuf,
    run: Run,
    record: ShardRecord,
}

/// Merges the parts in `dirs` into a new run folder: checks them all, then saves, renders and
/// indexes the merged run.
pub fn merge(dirs: &[PathBuf], options: &MergeOptions) -> Result<Merged, MergeError> {
    let mut parts = dirs
        .iter()
        .map(|d| load_part(d))
        .collect::<Result<Vec<_>, _>>()?;
    let missing = check_parts(&mut parts)?;
    if !missing.is_empty() && !options.partial {
        return Err(MergeError::Missing(missing));
    }
    let run = joined(&parts, &missing, options);
    let root = options.archive_root.clone().unwrap_or_else(|| {
        parts[0]
            .dir
            .parent()
            .and_then(Path::parent)
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    });
    let dir = write(&root, &run, &parts[0].dir).map_err(MergeError::Io)?;
    if let Err(e) = crate::report::index::update(&root) {
        crate::terminal::err_line(&format!(
            "warning: could not update the archive index: {e:#}"
        ));
    }
    Ok(Merged { dir, run, missing })
}

/// Reads the part in `dir`: a run of this schema, made with `--shard`, finished.
fn load_part(dir: &Path) -> Result<Loaded, MergeError> {
    let shown = dir.display().to_string();
    let load = |source| MergeError::Load {
        dir: shown.clone(),
        source,
    };
    let path = dir.join("results.json");
    let text = fs::read_to_string(&path)
        .with_context(|| format!("could not read {}", path.display()))
        .map_err(load)?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))
        .map_err(load)?;
    let version = value.get("schema").and_then(serde_json::Value::as_u64);
    if version != Some(u64::from(SCHEMA_VERSION)) {
        // An earlier file has no shard to join by, and a newer one may mean other things.
        let found = version.map_or_else(|| "none".to_string(), |v| v.to_string());
        return Err(MergeError::Schema { dir: shown, found });
    }
    let run: Run = serde_json::from_value(value)
        .with_context(|| format!("{} does not match the results format", path.display()))
        .map_err(load)?;
    if run.interrupted {
        return Err(MergeError::Interrupted(shown));
    }
    if run.finished_at.is_none() || !run.complete {
        return Err(MergeError::Running(shown));
    }
    let record = run
        .shard
        .clone()
        .ok_or_else(|| MergeError::NotAPart(shown))?;
    Ok(Loaded {
        dir: dir.to_path_buf(),
        run,
        record,
    })
}

/// Checks that the parts belong together and none is given twice, sorts them by part, and
/// returns the parts of the plan that none of them is.
fn check_parts(parts: &mut [Loaded]) -> Result<Vec<Shard>, MergeError> {
    let first = parts.first().ok_or(MergeError::NoParts)?;
    let (hash, count, first_dir) = (
        first.record.definition_sha256.clone(),
        first.record.shard.count,
        first.dir.display().to_string(),
    );
    let mut seen: HashMap<u32, PathBuf> = HashMap::new();
    for part in parts.iter() {
        let dir = part.dir.display().to_string();
        if part.record.definition_sha256 != hash {
            return Err(MergeError::OtherDefinition {
                dir,
                first: first_dir,
                theirs: part.record.definition_sha256.clone(),
                ours: hash,
            });
        }
        if part.record.shard.count != count {
            return Err(MergeError::OtherCount {
                dir,
                first: first_dir,
                theirs: part.record.shard.count,
                ours: count,
            });
        }
        if let Some(other) = seen.insert(part.record.shard.index, part.dir.clone()) {
            return Err(MergeError::Overlap {
                shard: part.record.shard,
                first: other.display().to_string(),
                second: dir,
            });
        }
    }
    check_same_plan(parts)?;
    check_cases_once(parts)?;
    parts.sort_by_key(|p| p.record.shard.index);
    Ok((0..count)
        .filter(|k| !seen.contains_key(k))
        .map(|index| Shard { index, count })
        .collect())
}

/// Refuses parts whose whole plans differ. The definition's text is the same in every part, but
/// `devices = "all"` and `threads = ["all"]` plan by the machine: parts split on machines of
/// other shapes would leave cases in no part, and the merged run would not know.
fn check_same_plan(parts: &[Loaded]) -> Result<(), MergeError> {
    let first = &parts[0];
    let ours = planned_ids(&first.run);
    for part in &parts[1..] {
        let theirs = planned_ids(&part.run);
        if theirs != ours {
            return Err(MergeError::OtherPlan {
                dir: part.dir.display().to_string(),
                first: first.dir.display().to_string(),
                theirs: plan_shape(&part.run, theirs.len()),
                ours: plan_shape(&first.run, ours.len()),
            });
        }
    }
    Ok(())
}

/// The identities of every case of `run`'s whole plan (all parts), as its machine planned them.
fn planned_ids(run: &Run) -> Vec<String> {
    let mut ids: Vec<String> = plan(&run.definition, planned_gpu_count(run))
        .iter()
        .map(|c| describe(&c.id()))
        .collect();
    ids.sort();
    ids
}

/// The GPU count `run` was planned with: what the CUDA driver reported, as the runner plans.
fn planned_gpu_count(run: &Run) -> Option<usize> {
    let cuda = run.environment.cuda.as_ref()?;
    cuda.stack.as_ref().map(|s| s.device_count)
}

/// `14 cases on 2 GPUs and 16 logical cores`.
fn plan_shape(run: &Run, cases: usize) -> String {
    format!(
        "{cases} cases on {} GPUs and {} logical cores",
        planned_gpu_count(run).unwrap_or(0),
        run.environment.cpu.logical_cores
    )
}

/// Refuses a case that two parts both measured (parts of one split never share one).
fn check_cases_once(parts: &[Loaded]) -> Result<(), MergeError> {
    let mut owner: HashMap<CaseId<'_>, &Path> = HashMap::new();
    for part in parts {
        for case in &part.run.cases {
            if let Some(other) = owner.insert(case.id(), &part.dir) {
                return Err(MergeError::CaseTwice {
                    case: describe(&case.id()),
                    first: other.display().to_string(),
                    second: part.dir.display().to_string(),
                });
            }
        }
    }
    Ok(())
}

/// The merged run of `parts` (sorted by part): the first part's definition and environment,
/// every part's cases in plan order, each labelled with its machine, and every part listed.
fn joined(parts: &[Loaded], missing: &[Shard], options: &MergeOptions) -> Run {
    let now = chrono::Utc::now();
    let base = &parts[0].run;
    let mut run = base.clone();
    run.run_id = new_run_id(now);
    run.command_line = options.command_line.clone();
    run.started_at = parts
        .iter()
        .map(|p| p.run.started_at.clone())
        .min()
        .unwrap_or_default();
    run.finished_at = parts.iter().filter_map(|p| p.run.finished_at.clone()).max();
    run.complete = missing.is_empty();
    run.interrupted = false;
    // Each part's own results.json keeps when it was resumed; the merged run was not.
    run.resumed = Vec::new();
    run.shard = None;
    run.checks = joined_checks(parts);
    run.cases = parts
        .iter()
        .flat_map(|p| {
            p.run.cases.iter().cloned().map(|mut c| {
                c.machine = Some(p.record.machine.clone());
                c
            })
        })
        .collect();
    order_by_plan(&mut run);
    run.derive_thread_scaling();
    run.parts = parts.iter().map(part_of).collect();
    run
}

/// Every part's checks, each once (parts on one machine see the same).
fn joined_checks(parts: &[Loaded]) -> Vec<Check> {
    let mut seen = HashSet::new();
    parts
        .iter()
        .flat_map(|p| p.run.checks.iter())
        .filter(|c| seen.insert((c.id.clone(), c.summary.clone())))
        .cloned()
        .collect()
}

/// Puts the merged cases in the order of the definition's plan, as one run keeps them.
fn order_by_plan(run: &mut Run) {
    let planned = plan(&run.definition, planned_gpu_count(run));
    let position: HashMap<CaseId<'_>, usize> = planned
        .iter()
        .enumerate()
        .map(|(i, c)| (c.id(), i))
        .collect();
    let mut keyed: BTreeMap<(usize, usize), crate::record::CaseResult> = BTreeMap::new();
    for (i, case) in std::mem::take(&mut run.cases).into_iter().enumerate() {
        let at = position.get(&case.id()).copied().unwrap_or(usize::MAX);
        keyed.insert((at, i), case);
    }
    run.cases = keyed.into_values().collect();
}

/// What the merged run keeps of one part.
fn part_of(part: &Loaded) -> Part {
    Part {
        run_id: part.run.run_id.clone(),
        shard: part.record.shard,
        machine: part.record.machine.clone(),
        started_at: part.run.started_at.clone(),
        finished_at: part.run.finished_at.clone(),
        command_line: part.run.command_line.clone(),
        cases: part.run.cases.len(),
        environment: part.run.environment.clone(),
    }
}

/// Writes the merged run into a temporary folder beside its final place, renders its reports
/// there, and renames it into `ROOT/<name>/<run-id>/`: a reader sees the whole run or none.
fn write(root: &Path, run: &Run, first_part: &Path) -> anyhow::Result<PathBuf> {
    let parent = root.join(&run.definition.name);
    fs::create_dir_all(&parent)
        .with_context(|| format!("could not create {}", parent.display()))?;
    let temporary = parent.join(crate::file_names::temporary(&run.run_id));
    fs::create_dir(&temporary)
        .with_context(|| format!("could not create {}", temporary.display()))?;
    let filled = fill(&temporary, run, first_part);
    let dir = parent.join(&run.run_id);
    let placed = filled.and_then(|()| {
        anyhow::ensure!(
            !dir.exists(),
            "{} exists: merge again for a new run id",
            dir.display()
        );
        fs::rename(&temporary, &dir)
            .with_context(|| format!("could not rename {} into place", temporary.display()))
    });
    if placed.is_err() {
        let _ = fs::remove_dir_all(&temporary);
    }
    placed.map(|()| dir)
}

/// The files of the merged run in `dir`: its definition, the peers the first part archived,
/// results.json and every report.
fn fill(dir: &Path, run: &Run, first_part: &Path) -> anyhow::Result<()> {
    archive::write_atomic(&dir.join("definition.toml"), run.definition_text.as_bytes())?;
    if let Some(sources) = &run.sources {
        let mut copies = sources.clone();
        copies.folder = first_part.display().to_string();
        copies.archive_into(dir)?;
    }
    archive::save_results(dir, run)?;
    crate::report::render_all(run, dir)
}
