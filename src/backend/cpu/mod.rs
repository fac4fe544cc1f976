//! CPU sorts: std's, rayon's and sortmark's own radix sort, run inside a rayon thread pool
//! per thread count.

mod pages;
pub mod radix;

use std::collections::HashMap;
use std::time::Instant;

use rayon::prelude::*;

use super::{Backend, CaseContext};
use crate::catalog::CpuAlgorithm;
use crate::data::{AllocFailure, KeyData, SortKey, checksum, try_generate};
use crate::measure::{MeasureSettings, Measurement, Outcome, Verification, repeat, verify};
use crate::plan::Case;
use crate::with_keys;

/// Sorts `keys` with `algorithm` in sort order, using the current rayon pool's threads where
/// the algorithm is parallel.
pub fn sort<K: SortKey>(algorithm: CpuAlgorithm, keys: &mut [K]) {
    match algorithm {
        CpuAlgorithm::StdStable => keys.sort_by(K::sort_cmp),
        CpuAlgorithm::StdUnstable => keys.sort_unstable_by(K::sort_cmp),
        CpuAlgorithm::RayonStable => keys.par_sort_by(K::sort_cmp),
        CpuAlgorithm::RayonUnstable => keys.par_sort_unstable_by(K::sort_cmp),
        CpuAlgorithm::Radix => radix::par_radix_sort(keys),
    }
}

/// The CPU backend: each case is sorted inside a rayon pool of its thread count.
#[derive(Default)]
pub struct CpuBackend {
    pools: ThreadPools,
}

impl Backend for CpuBackend {
    fn run(&mut self, case: &Case, context: &CaseContext) -> Outcome {
        let Some(algorithm) = CpuAlgorithm::from_name(&case.algorithm) else {
            return Outcome::failed(format!("unknown CPU algorithm `{}`", case.algorithm));
        };
        let threads = case.threads.unwrap_or(1);
        let pool = match self.pools.get(threads) {
            Ok(pool) => pool,
            Err(e) => return Outcome::failed(format!("could not start {threads} threads: {e}")),
        };
        let measured = try_generate(
            case.key_type,
            case.distribution,
            case.n as usize,
            context.seed,
        )
        .and_then(|input| measure(algorithm, &input, &case.measure, pool));
        match measured {
            Ok(measurement) => Outcome::Measured(measurement),
            // A buffer the case cannot have fails the case; the run goes on.
            Err(failure) => Outcome::failed(failure.to_string()),
        }
    }
}

/// One rayon thread pool per thread count, built on first use and reused for every case.
#[derive(Default)]
pub struct ThreadPools {
    pools: HashMap<u32, rayon::ThreadPool>,
}

impl ThreadPools {
    /// The pool with `threads` threads.
    pub fn get(&mut self, threads: u32) -> Result<&rayon::ThreadPool, rayon::ThreadPoolBuildError> {
        if let std::collections::hash_map::Entry::Vacant(e) = self.pools.entry(threads) {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads as usize)
                .thread_name(move |i| format!("sortmark-{threads}t-{i}"))
                .build()?;
            e.insert(pool);
        }
        Ok(&self.pools[&threads])
    }
}

/// Measures one CPU case: every repetition sorts a fresh copy of `input` (the copy is not
/// timed, and its buffer asks for huge pages, see `pages.rs`) inside `pool`, and every
/// output, warm-ups included, is verified. A buffer that cannot be allocated (the working
/// copy, the radix sort's scratch) is an error before anything is timed.
pub fn measure(
    algorithm: CpuAlgorithm,
    input: &KeyData,
    settings: &MeasureSettings,
    pool: &rayon::ThreadPool,
) -> Result<Measurement, AllocFailure> {
    // The radix sort keeps its scratch buffer from one repetition to the next (its page faults
    // are paid once, in the warm-up); when the case is done, even by a panic, the memory goes
    // back.
    let _release = ReleaseScratch;
    with_keys!(input, keys => {
        if algorithm == CpuAlgorithm::Radix {
            reserve_radix_scratch(keys, pool)?;
        }
        measure_with(keys, settings, pool, algorithm.is_stable(), |v| sort(algorithm, v))
    })
}

/// Makes the radix sort's kept scratch buffer for `keys` on `pool`, before any timing.
fn reserve_radix_scratch<K: SortKey>(
    keys: &[K],
    pool: &rayon::ThreadPool,
) -> Result<(), AllocFailure> {
    pool.install(|| radix::reserve_scratch::<K>(keys.len()))
}

/// Frees the radix sort's kept scratch buffer when dropped.
struct ReleaseScratch;

impl Drop for ReleaseScratch {
    fn drop(&mut self) {
        radix::release_scratch();
    }
}

/// The timing loop of [`measure`] for any sort function, so that tests can hand it a broken one.
pub fn measure_with<K: SortKey>(
    input: &[K],
    settings: &MeasureSettings,
    pool: &rayon::ThreadPool,
    claims_stable: bool,
    sort: impl Fn(&mut [K]) + Sync,
) -> Result<Measurement, AllocFailure> {
    let input_checksum = checksum(input);
    let mut work = pages::huge_page_copy(input)?;
    let mut last: Option<Verification> = None;
    let samples = repeat(settings, || {
        work.copy_from_slice(input);
        let start = Instant::now();
        pool.install(|| sort(&mut work));
        let elapsed = start.elapsed().as_secs_f64();
        let verification = verify(input_checksum, &work, claims_stable);
        last = Some(verification);
        match verification.failure() {
            None => Ok(elapsed),
            Some(failure) => Err(failure),
        }
    });
    Ok(Measurement {
        samples_s: samples.unwrap_or_default(),
        timing: "host monotonic clock around the sort call".to_string(),
        verification: last,
        ..Measurement::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_sorter_fails_verification() {
        let input: Vec<u32> = (0..1000).rev().collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let settings = MeasureSettings::default();
        // Sorts all but the last element: not sorted.
        let m = measure_with(&input, &settings, &pool, false, |v: &mut [u32]| {
            let n = v.len();
            v[..n - 1].sort_unstable();
        })
        .unwrap();
        let v = m.verification.unwrap();
        assert!(!v.sorted && v.permutation, "{v:?}");
        assert!(m.samples_s.is_empty());
        // Sorts correctly but overwrites an element: not a permutation.
        let m = measure_with(&input, &settings, &pool, false, |v: &mut [u32]| {
            v.sort_unstable();
            v[0] = v[1];
        })
        .unwrap();
        assert!(!m.verification.unwrap().permutation);
        // A correct sort passes and yields the requested repetitions.
        let m = measure_with(&input, &settings, &pool, false, |v: &mut [u32]| {
            v.sort_unstable()
        })
        .unwrap();
        assert!(m.verification.unwrap().passed());
        assert_eq!(m.samples_s.len(), settings.repetitions as usize);
    }

    #[test]
    fn a_radix_case_gives_its_scratch_back() {
        let input = crate::data::generate(
            crate::data::KeyType::U32,
            crate::data::Distribution::Uniform,
            1 << 17,
            3,
        );
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let m = measure(
            CpuAlgorithm::Radix,
            &input,
            &MeasureSettings::default(),
            &pool,
        )
        .unwrap();
        assert!(m.verification.unwrap().passed());
        // Other tests may sort at the same time and keep a buffer of their own size; none
        // of them sorts 2^17 keys.
        assert!(radix::kept_scratch_bytes() < (1 << 17) * 4);
    }

    #[test]
    fn a_case_whose_input_cannot_be_allocated_fails_with_the_reason() {
        let case = Case {
            cell: 0,
            sweep: "huge".to_string(),
            backend: crate::catalog::BackendKind::Cpu,
            algorithm: "radix".to_string(),
            key_type: crate::data::KeyType::U64,
            distribution: crate::data::Distribution::Uniform,
            n: u64::MAX / 4,
            threads: Some(1),
            device: None,
            measure: MeasureSettings::default(),
            command: None,
            skip: None,
        };
        let context = CaseContext { seed: 1 };
        let Outcome::Failed { reason, .. } = CpuBackend::default().run(&case, &context) else {
            panic!("the case should fail");
        };
        assert!(
            reason.starts_with("could not allocate ") && reason.contains(" for the input: "),
            "{reason}"
        );
    }

    #[test]
    fn every_algorithm_sorts_floats_in_total_order() {
        let input = [3.0f64, f64::NAN, -0.0, 0.0, f64::NEG_INFINITY, -1.0];
        let mut pools = ThreadPools::default();
        for a in CpuAlgorithm::ALL {
            let mut v = input;
            pools.get(2).unwrap().install(|| sort(a, &mut v));
            let bits: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
            let mut expected = input;
            expected.sort_by(f64::total_cmp);
            assert_eq!(
                bits,
                expected.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                "{a:?}"
            );
        }
    }

    #[test]
    fn pools_are_reused() {
        let mut pools = ThreadPools::default();
        let first = pools.get(3).unwrap() as *const _;
        assert_eq!(pools.get(3).unwrap().current_num_threads(), 3);
        assert_eq!(first, pools.get(3).unwrap() as *const _);
    }
}
