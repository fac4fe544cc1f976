//! Splitting a plan into parts for a cluster: `sortmark run DEF --shard K/N` runs the K-th of N
//! parts, and `sortmark merge` joins the parts' runs into one.
//!
//! Parts are numbered from 0, as Slurm array task ids (`--array=0-2`) and Kubernetes'
//! `JOB_COMPLETION_INDEX` are: `--shard 0/3`, `1/3` and `2/3` are the three parts of a plan.
//! The split is a function of the plan alone, so every machine that plans the same definition
//! gives each case to the same part, and every case to exactly one part.
//!
//! Parts are balanced by an estimate of each case's cost, largest first, each to the part with
//! the least work so far (longest-processing-time first, within 4/3 of the best split). The cases
//! of one algorithm on one input at every thread count stay together in one part, so that a
//! part measures a speed-up against its own one-thread case, on one machine.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::plan::{Case, CaseId};

/// Most parts a plan may be split into.
pub const MAX_PARTS: u32 = 10_000;

/// One part of a plan split into `count` parts: the part numbered `index`, from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub struct Shard {
    /// Which part, from 0 to `count - 1`.
    pub index: u32,
    /// How many parts the plan was split into.
    pub count: u32,
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Why a part could not be named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("`{0}` is not a part: write K/N with K from 0 to N-1 (e.g. 0/3, 1/3, 2/3), or auto")]
    Malformed(String),
    #[error("part {index} of {count} does not exist: parts are numbered from 0 to {last}", last = count.saturating_sub(1))]
    OutOfRange { index: u32, count: u32 },
    #[error("a plan can be split into 1 to {MAX_PARTS} parts, not {0}")]
    Count(u32),
    #[error("{0}")]
    Environment(String),
}

impl Shard {
    /// The part `index` of `count`, checked.
    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        if count == 0 || count > MAX_PARTS {
            return Err(ShardError::Count(count));
        }
        if index >= count {
            return Err(ShardError::OutOfRange { index, count });
        }
        Ok(Shard { index, count })
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<Shard, ShardError> {
        let malformed = || ShardError::Malformed(text.to_string());
        let (k, n) = text.trim().split_once('/').ok_or_else(malformed)?;
        let k: u32 = k.trim().parse().map_err(|_| malformed())?;
        let n: u32 = n.trim().parse().map_err(|_| malformed())?;
        Shard::new(k, n)
    }
}

/// What `--shard` asks for: a part named on the command line, or the part the job engine
/// gives this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardRequest {
    /// `--shard K/N`.
    Fixed(Shard),
    /// `--shard auto`.
    Auto,
}

impl FromStr for ShardRequest {
    type Err = ShardError;

    fn from_str(text: &str) -> Result<ShardRequest, ShardError> {
        if text.trim() == "auto" {
            Ok(ShardRequest::Auto)
        } else {
            text.parse().map(ShardRequest::Fixed)
        }
    }
}

/// The environment variable that gives the number of parts to a Kubernetes Indexed Job, when
/// `--shard-count` does not.
pub const COUNT_VARIABLE: &str = "SORTMARK_SHARD_COUNT";

/// The part the job engine gives this process (`--shard auto`), read through `var`:
///
/// - Slurm job arrays: `SLURM_ARRAY_TASK_ID` less `SLURM_ARRAY_TASK_MIN` is the part, and
///   `SLURM_ARRAY_TASK_MAX - SLURM_ARRAY_TASK_MIN + 1` (or `SLURM_ARRAY_TASK_COUNT`) the count,
///   so `--array=0-2` and `--array=1-3` both make parts 0/3 to 2/3. A stepped array
///   (`--array=0-10:2`) is refused: its ids do not number parts one by one.
/// - Kubernetes Indexed Jobs: `JOB_COMPLETION_INDEX` is the part; the count comes from
///   `count` (`--shard-count`) or [`COUNT_VARIABLE`], since Kubernetes does not pass
///   `completions` to the pod.
pub fn from_environment(
    var: &dyn Fn(&str) -> Option<String>,
    count: Option<u32>,
) -> Result<Shard, ShardError> {
    let number = |name: &str| -> Result<Option<u32>, ShardError> {
        var(name)
            .map(|v| {
                v.trim().parse::<u32>().map_err(|_| {
                    ShardError::Environment(format!("{name}={v:?} is not a whole number"))
                })
            })
            .transpose()
    };
    if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
        return slurm_shard(id, &number);
    }
    if let Some(index) = number("JOB_COMPLETION_INDEX")? {
        let count = match count {
            Some(c) => c,
            None => number(COUNT_VARIABLE)?.ok_or_else(|| {
                ShardError::Environment(format!(
                    "JOB_COMPLETION_INDEX={index} gives the part but not how many there are: pass --shard-count N or set {COUNT_VARIABLE} (the Job's completions)"
                ))
            })?,
        };
        return Shard::new(index, count);
    }
    Err(ShardError::Environment(
        "--shard auto found no job engine: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; name the part with --shard K/N".to_string(),
    ))
}

/// The part of a Slurm array task `id`, from the array's bounds.
fn slurm_shard(
    id: u32,
    number: &dyn Fn(&str) -> Result<Option<u32>, ShardError>,
) -> Result<Shard, ShardError> {
    let min = number("SLURM_ARRAY_TASK_MIN")?;
    let max = number("SLURM_ARRAY_TASK_MAX")?;
    let listed = number("SLURM_ARRAY_TASK_COUNT")?;
    let (min, span) = match (min, max) {
        (Some(min), Some(max)) if min <= id && id <= max => (min, max - min + 1),
        _ => {
            return Err(ShardError::Environment(format!(
                "SLURM_ARRAY_TASK_ID={id} needs SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_MAX around it to number the parts"
            )));
        }
    };
    if listed.is_some_and(|c| c != span) {
        return Err(ShardError::Environment(format!(
            "the Slurm array has {} tasks between ids {min} and {}: a stepped or sparse array does not number parts one by one; use --array={min}-{} or name the part with --shard K/N",
            listed.unwrap_or(0),
            min + span - 1,
            min + span - 1
        )));
    }
    Shard::new(id - min, span)
}

/// A rough cost of a case, in arbitrary units: keys sorted over all its timed and warm-up runs,
/// times log2 of the size (a sort's work). A case the plan already skipped costs one unit.
pub fn estimated_cost(case: &Case) -> f64 {
    if case.skip.is_some() {
        return 1.0;
    }
    let n = case.n.max(2) as f64;
    let m = &case.measure;
    let runs = f64::from(m.rounds.max(1)) * f64::from(m.warmup + m.repetitions.max(1));
    n * n.log2() * runs
}

/// The part of each case of `cases` when split into `count` parts (index by index). The cases
/// of one algorithm on one input at every thread count form one group; groups go largest
/// first, each to the part with the least estimated cost so far (the lowest part on a tie).
pub fn assign(cases: &[Case], count: u32) -> Vec<u32> {
    let mut groups: Vec<(CaseId<'_>, Vec<usize>, f64)> = Vec::new();
    let mut group_of: HashMap<CaseId<'_>, usize> = HashMap::new();
    for (i, case) in cases.iter().enumerate() {
        let key = CaseId {
            threads: None,
            ..case.id()
        };
        let g = *group_of.entry(key).or_insert_with(|| {
            groups.push((key, Vec::new(), 0.0));
            groups.len() - 1
        });
        groups[g].1.push(i);
        groups[g].2 += estimated_cost(case);
    }
    // Largest first; equal costs keep plan order, so the split is the same on every machine.
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| groups[b].2.total_cmp(&groups[a].2).then(a.cmp(&b)));
    let mut load = vec![0.0_f64; count.max(1) as usize];
    let mut part = vec![0; cases.len()];
    for g in order {
        let lightest = (0..load.len())
            .min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b)))
            .unwrap_or(0);
        load[lightest] += groups[g].2;
        for &i in &groups[g].1 {
            part[i] = lightest as u32;
        }
    }
    part
}

/// The cases of `cases` that fall to `shard`, in their plan order.
pub fn select(cases: Vec<Case>, shard: Shard) -> Vec<Case> {
    let parts = assign(&cases, shard.count);
    cases
        .into_iter()
        .zip(parts)
        .filter(|(_, p)| *p == shard.index)
        .map(|(c, _)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tests::cases;

    fn wide_plan() -> Vec<Case> {
        cases(
            r#"title = "t"
[[cell]]
sweep = { backend = "cpu", algorithms = ["std-unstable", "rayon-unstable", "radix"], keys = ["u32", "u64", "f32"], distributions = ["uniform", "sorted"], sizes = [16, 1000, "2^16", "2^20"], threads = [1, 2, 4] }
[[cell]]
sweep = { name = "peers", backend = "command", algorithms = ["a", "b"], sizes = [16, "2^10"], command = "peer" }
"#,
        )
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn every_case_falls_to_exactly_one_part_for_every_count() {
        let plan = wide_plan();
        for count in 1..=40 {
            let mut seen = std::collections::HashMap::new();
            for index in 0..count {
                for case in select(plan.clone(), Shard::new(index, count).unwrap()) {
                    *seen.entry(case.label() + &case.sweep).or_insert(0) += 1;
                }
            }
            assert_eq!(seen.len(), plan.len(), "count {count}");
            assert!(seen.values().all(|&n| n == 1), "count {count}");
        }
    }

    #[test]
    fn parts_keep_plan_order() {
        let plan = wide_plan();
        let position = |c: &Case| plan.iter().position(|p| p.id() == c.id()).unwrap();
        for index in 0..3 {
            let part = select(plan.clone(), Shard::new(index, 3).unwrap());
            let positions: Vec<usize> = part.iter().map(position).collect();
            assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
        }
    }

    #[test]
    fn parts_are_balanced_by_estimated_cost() {
        let plan = wide_plan();
        let total: f64 = plan.iter().map(estimated_cost).sum();
        let largest_group = plan
            .iter()
            .filter(|c| c.n == 1 << 20 && c.algorithm == "rayon-unstable")
            .map(estimated_cost)
            .fold(0.0_f64, f64::max)
            * 3.0;
        for count in [2, 3, 4, 5] {
            let parts = assign(&plan, count);
            let mut load = vec![0.0; count as usize];
            for (case, part) in plan.iter().zip(&parts) {
                load[*part as usize] += estimated_cost(case);
            }
            let (max, min) = (
                load.iter().cloned().fold(0.0_f64, f64::max),
                load.iter().cloned().fold(f64::MAX, f64::min),
            );
            // Greedy largest-first leaves parts at most one group apart.
            assert!(max - min <= largest_group, "count {count}: {load:?}");
            assert!(max <= total / f64::from(count) + largest_group, "{load:?}");
        }
    }

    #[test]
    fn one_algorithm_on_one_input_stays_in_one_part_at_every_thread_count() {
        let plan = wide_plan();
        let parts = assign(&plan, 7);
        let group = |c: &Case| {
            CaseId {
                threads: None,
                ..c.id()
            }
            .seed_text()
        };
        for (a, pa) in plan.iter().zip(&parts) {
            for (b, pb) in plan.iter().zip(&parts) {
                if group(a) == group(b) && a.sweep == b.sweep {
                    assert_eq!(pa, pb, "{} and {}", a.label(), b.label());
                }
            }
        }
    }

    #[test]
    fn more_parts_than_cases_leaves_parts_empty_but_loses_none() {
        let plan = cases(
            "title = \"t\"\n[[cell]]\nsweep = { backend = \"cpu\", algorithms = [\"std-unstable\"], sizes = [16, 32] }\n",
        );
        let sizes: usize = (0..5)
            .map(|k| select(plan.clone(), Shard::new(k, 5).unwrap()).len())
            .sum();
        assert_eq!(sizes, 2);
    }

    #[test]
    fn shards_parse_from_zero_and_refuse_what_does_not_exist() {
        assert_eq!("0/3".parse(), Ok(Shard { index: 0, count: 3 }));
        assert_eq!("2/3".parse(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(
            "3/3".parse::<Shard>(),
            Err(ShardError::OutOfRange { index: 3, count: 3 })
        );
        assert_eq!("1/0".parse::<Shard>(), Err(ShardError::Count(0)));
        assert!(matches!(
            "two/3".parse::<Shard>(),
            Err(ShardError::Malformed(_))
        ));
        assert_eq!("auto".parse(), Ok(ShardRequest::Auto));
    }

    #[test]
    fn a_slurm_array_numbers_parts_from_its_first_id() {
        let zero = env(&[
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ]);
        assert_eq!(from_environment(&zero, None), Shard::new(2, 3));
        let one = env(&[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "3"),
        ]);
        assert_eq!(from_environment(&one, None), Shard::new(0, 3));
    }

    #[test]
    fn a_stepped_slurm_array_is_refused() {
        let stepped = env(&[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_MAX", "10"),
            ("SLURM_ARRAY_TASK_COUNT", "6"),
        ]);
        let e = from_environment(&stepped, None).unwrap_err().to_string();
        assert!(e.contains("stepped"), "{e}");
    }

    #[test]
    fn a_kubernetes_index_takes_its_count_from_the_flag_or_the_environment() {
        let pod = env(&[("JOB_COMPLETION_INDEX", "1")]);
        assert_eq!(from_environment(&pod, Some(4)), Shard::new(1, 4));
        let e = from_environment(&pod, None).unwrap_err().to_string();
        assert!(e.contains("--shard-count"), "{e}");
        let counted = env(&[("JOB_COMPLETION_INDEX", "3"), (COUNT_VARIABLE, "4")]);
        assert_eq!(from_environment(&counted, None), Shard::new(3, 4));
        let beyond = env(&[("JOB_COMPLETION_INDEX", "4"), (COUNT_VARIABLE, "4")]);
        assert!(from_environment(&beyond, None).is_err());
    }

    #[test]
    fn auto_without_an_engine_says_so() {
        let e = from_environment(&env(&[]), None).unwrap_err().to_string();
        assert!(e.contains("SLURM_ARRAY_TASK_ID") && e.contains("JOB_COMPLETION_INDEX"));
    }
}
