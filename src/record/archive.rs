//! The run archive: run ids, the folder layout, and files written whole or not at all.
//!
//! Layout: `ROOT/<definition-name>/<run-id>/` holding `results.json`, `results.csv`,
//! `definition.toml` and the rendered reports.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, anyhow, bail};

use crate::file_names;
use crate::record::{Run, journal, migrate};

/// The default archive root, relative to the working directory.
pub const DEFAULT_ROOT: &str = "reports/archive";

/// The most run ids tried for one run before giving up: each collision takes the next id.
const RUN_ID_ATTEMPTS: u16 = 64;

/// A new run id: the UTC start time and four hex digits against collisions.
pub fn new_run_id(started: chrono::DateTime<chrono::Utc>) -> String {
    run_id(started, 0)
}

/// The run id of the `attempt`th try (from 0) for a run started at `started`: the first from
/// the clock and the process, each next one the following four hex digits.
fn run_id(started: chrono::DateTime<chrono::Utc>, attempt: u16) -> String {
    let nanos = started.timestamp_subsec_nanos() as u64;
    let salt = crate::data::mix64(nanos ^ (u64::from(std::process::id()) << 32)) as u16;
    format!(
        "{}-{:04x}",
        started.format("%Y%m%dT%H%M%SZ"),
        salt.wrapping_add(attempt)
    )
}

/// Creates the folder of a new run, `ROOT/<definition-name>/<run-id>/`, and returns it with
/// its run id.
///
/// The run folder is created exclusively: a folder that exists (another run that started in
/// the same second, or anything put there) is never reused, and the next id is taken instead.
/// The definition's name must be one plain folder name (as [`crate::file_names::stem`] makes
/// them), and its folder a real folder, so that every run lands inside `root`.
pub fn create_run_dir(
    root: &Path,
    definition_name: &str,
    started: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<(PathBuf, String)> {
    let parent = definition_dir(root, definition_name)?;
    for attempt in 0..RUN_ID_ATTEMPTS {
        let id = run_id(started, attempt);
        let dir = parent.join(&id);
        match fs::create_dir(&dir) {
            Ok(()) => {
                file_names::sync_folder(&parent)
                    .with_context(|| format!("could not sync {}", parent.display()))?;
                return Ok((dir, id));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("could not create run folder {}", dir.display()));
            }
        }
    }
    bail!(
        "could not create a run folder in {}: {RUN_ID_ATTEMPTS} run ids in a row were taken",
        parent.display()
    )
}

/// The folder of a definition's runs, `ROOT/<definition-name>/`, created where missing;
/// refuses a name that is not one plain folder name or a folder that is a symbolic link.
fn definition_dir(root: &Path, definition_name: &str) -> anyhow::Result<PathBuf> {
    let mut components = Path::new(definition_name).components();
    let plain = matches!(
        (components.next(), components.next()),
        (Some(std::path::Component::Normal(n)), None) if n == definition_name
    );
    if !plain || definition_name.contains(['/', '\\']) {
        bail!(
            "the definition name {definition_name:?} is not a plain folder name: a run folder must stay inside {}",
            root.display()
        );
    }
    let dir = root.join(definition_name);
    fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    let meta =
        fs::symlink_metadata(&dir).with_context(|| format!("could not read {}", dir.display()))?;
    if !meta.is_dir() {
        bail!(
            "{} is not a folder (a symbolic link?): sortmark keeps runs inside {}",
            dir.display(),
            root.display()
        );
    }
    Ok(dir)
}

/// Writes `contents` to `path` through a temporary file renamed into place, so a reader never
/// sees half a file, even if the process dies mid-write (see [`file_names::write_whole`]: the
/// temporary file is created exclusively under a name nobody can predict).
pub fn write_atomic(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    file_names::write_whole(path, contents)
        .with_context(|| format!("could not write {}", path.display()))
}

/// Removes the temporary files and folders that a killed process (a run, a render, a
/// comparison) left in `dir`: those whose writer no longer runs. A live writer's are left
/// alone, as is anything that is not a temporary name.
pub fn remove_stale_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = file_names::temporary_owner(&name.to_string_lossy()) else {
            continue;
        };
        if file_names::process_runs(owner) {
            continue;
        }
        let path = entry.path();
        // A link is removed itself, never what it points to.
        let _ = match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => fs::remove_dir_all(&path),
            _ => fs::remove_file(&path),
        };
    }
}

/// Saves a run's `results.json` (its reports, `results.csv` among them, are rendered from it).
pub fn save_results(dir: &Path, run: &Run) -> anyhow::Result<()> {
    let run = super::anonymize::for_writing(run, dir)?;
    let json = serde_json::to_vec_pretty(&*run).context("could not serialize the run")?;
    write_atomic(&dir.join("results.json"), &json)
}

/// Saves a run's `results.json` holding every case, then removes its [`journal`], whose cases
/// it now holds (a crash between the two leaves cases named twice, which reading folds once).
pub fn save_folded(dir: &Path, run: &Run) -> anyhow::Result<()> {
    save_results(dir, run)?;
    journal::remove(dir)
}

/// Reads a run folder's `results.json` of any schema version up to this build's, made into the
/// current version by [`migrate::to_current`], with the cases of its [`journal`] (those that
/// finished since `results.json` was last written whole) folded in.
pub fn load_run(dir: &Path) -> anyhow::Result<Run> {
    let mut run = load_results(dir)?;
    journal::fold_into(dir, &mut run)?;
    Ok(run)
}

/// Reads a run folder's `results.json` alone (see [`load_run`]).
fn load_results(dir: &Path) -> anyhow::Result<Run> {
    let path = dir.join("results.json");
    let text =
        fs::read_to_string(&path).with_context(|| format!("could not read {}", path.display()))?;
    let value: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let value = migrate::to_current(value).map_err(|e| anyhow!("{} {e}", path.display()))?;
    serde_json::from_value(value)
        .with_context(|| format!("{} does not match the results format", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_sort_by_time() {
        let a = chrono::DateTime::parse_from_rfc3339("2026-11-24T06:00:00Z")
            .unwrap()
            .to_utc();
        let b = chrono::DateTime::parse_from_rfc3339("2026-11-24T07:00:00Z")
            .unwrap()
            .to_utc();
        let (ia, ib) = (new_run_id(a), new_run_id(b));
        assert!(
            ia.starts_with("20261124T060000Z-") && ia.len() == 21,
            "{ia}"
        );
        assert!(ia < ib);
    }

    fn started() -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::parse_from_rfc3339("2026-11-24T06:00:00Z")
            .unwrap()
            .to_utc()
    }

    #[test]
    fn a_taken_run_folder_is_never_reused_but_takes_the_next_id() {
        let root = tempfile::tempdir().unwrap();
        let taken = root.path().join("quick").join(new_run_id(started()));
        fs::create_dir_all(&taken).unwrap();
        fs::write(taken.join("results.json"), "someone else's").unwrap();
        let (dir, id) = create_run_dir(root.path(), "quick", started()).unwrap();
        assert_ne!(dir, taken);
        assert_eq!(dir, root.path().join("quick").join(&id));
        assert!(id.starts_with("20261124T060000Z-"), "{id}");
        assert_eq!(
            fs::read_to_string(taken.join("results.json")).unwrap(),
            "someone else's"
        );
        let (again, _) = create_run_dir(root.path(), "quick", started()).unwrap();
        assert!(again != dir && again != taken);
    }

    #[test]
    fn a_definition_name_that_leaves_the_root_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let out = root.path().join("out");
        for name in ["..", ".", "", "a/b", "../x", "/abs", "a\\b"] {
            let e = create_run_dir(&out, name, started()).unwrap_err();
            assert!(
                e.to_string().contains("not a plain folder name"),
                "{name}: {e}"
            );
        }
        assert_eq!(
            fs::read_dir(root.path()).unwrap().count(),
            0,
            "nothing was created"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_definition_folder_that_is_a_link_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), root.path().join("quick")).unwrap();
        let e = create_run_dir(root.path(), "quick", started()).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }

    #[test]
    fn atomic_write_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        write_atomic(&path, b"{}").unwrap();
        write_atomic(&path, b"[1]").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "[1]");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn stale_temporaries_are_removed_and_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        // No process has an id this large (Linux allows at most 2^22).
        let dead = 2_000_000_000u32;
        let live = std::process::id();
        let stale = [
            format!(".x.json.tmp-{dead}"),
            format!(".x.json.tmp-{dead}-0123456789abcdef"),
        ];
        for name in &stale {
            fs::write(dir.path().join(name), "half").unwrap();
        }
        fs::create_dir(dir.path().join(format!(".compare-x.tmp-{dead}-01"))).unwrap();
        let kept = [
            format!(".y.json.tmp-{live}-0123"),
            "x.json".to_string(),
            ".tmp-x".to_string(),
        ];
        for name in &kept {
            fs::write(dir.path().join(name), "keep").unwrap();
        }
        remove_stale_temporaries(dir.path());
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        let mut expected = kept.to_vec();
        expected.sort();
        assert_eq!(left, expected);
    }

    mod round_trip {
        use proptest::prelude::*;

        use super::*;
        use crate::record::journal::Journal;

        /// Any finite f64: huge, tiny, subnormal, zero of either sign. (Non-finite numbers
        /// never reach a record: samples are checked where they enter, and the statistics
        /// cannot overflow.)
        fn number() -> impl Strategy<Value = f64> {
            use proptest::num::f64::{NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
            prop_oneof![
                POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO,
                Just(f64::MAX),
                Just(-f64::MAX),
                Just(f64::MIN_POSITIVE),
                Just(5e-324),
            ]
        }

        /// The fixture run, its first measured case given the numbers `x` and the text `s`.
        fn run_with(x: &[f64], s: &str) -> Run {
            let mut run: Run =
                serde_json::from_str(include_str!("../../tests/fixtures/results/v4.json")).unwrap();
            let case = run.cases.iter_mut().find(|c| c.stats.is_some()).unwrap();
            let at = |i: usize| x[i % x.len()];
            case.samples_s = x.to_vec();
            case.rounds_s = vec![x.to_vec(), x.to_vec()];
            case.keys_per_s = Some(at(1));
            case.speedup = Some(at(2));
            case.efficiency = Some(at(3));
            case.effective_bandwidth_bytes_per_s = Some(at(4));
            case.bandwidth_share = Some(at(5));
            let stats = case.stats.as_mut().unwrap();
            (stats.min_s, stats.median_s, stats.mean_s, stats.max_s) = (at(0), at(1), at(2), at(3));
            (stats.stddev_s, stats.mad_s) = (at(4), at(5));
            (stats.ci95_low_s, stats.ci95_high_s) = (at(6), at(7));
            case.sweep = s.to_string();
            case.algorithm = s.chars().rev().collect();
            case.reason = Some(s.to_string());
            case.timing = s.to_string();
            case.notes = vec![s.to_string(), String::new()];
            run.definition_text = s.to_string();
            run
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            #[test]
            fn any_case_result_saved_loads_back_the_same(
                x in proptest::collection::vec(number(), 1..12),
                s in any::<String>(),
            ) {
                let run = run_with(&x, &s);
                let dir = tempfile::tempdir().unwrap();
                save_results(dir.path(), &run).unwrap();
                prop_assert_eq!(&load_run(dir.path()).unwrap(), &run);

                // The same case through the journal of a run in flight.
                let journaled = tempfile::tempdir().unwrap();
                let mut started = run.clone();
                let case = started.cases.remove(0);
                save_results(journaled.path(), &started).unwrap();
                Journal::open(journaled.path()).unwrap().append(&case).unwrap();
                let loaded = load_run(journaled.path()).unwrap();
                let back = loaded.cases.last().unwrap();
                // Only what other cases derive (thread scaling) may differ.
                prop_assert_eq!(
                    (&back.samples_s, &back.rounds_s, &back.stats, &back.notes, &back.reason),
                    (&case.samples_s, &case.rounds_s, &case.stats, &case.notes, &case.reason)
                );
            }
        }
    }

    #[test]
    fn refuses_foreign_and_future_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("results.json"), r#"{"schema": 999}"#).unwrap();
        let e = load_run(dir.path()).unwrap_err().to_string();
        assert!(e.contains("newer"), "{e}");
        fs::write(dir.path().join("results.json"), r#"{"hello": 1}"#).unwrap();
        assert!(
            load_run(dir.path())
                .unwrap_err()
                .to_string()
                .contains("no `schema`")
        );
        fs::write(dir.path().join("results.json"), "{not json").unwrap();
        assert!(
            load_run(dir.path())
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );
    }
}
