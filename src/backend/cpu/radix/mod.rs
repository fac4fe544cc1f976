//! sortmark's own CPU radix sort: a stable radix sort over [`SortKey::ordered_bits`],
//! single-threaded ([`radix_sort`]) and on the current rayon pool ([`par_radix_sort`]).
//!
//! # Design
//!
//! A plain 8-bit LSD radix sort streams the whole array through memory once per digit: four
//! read-and-write passes for a u32 key, eight for a u64. This sort instead makes **one**
//! memory-bound pass and does the rest inside the cache:
//!
//! 1. **Cheap checks first.** A short-circuiting scan recognises ascending input (done) and
//!    descending input (reversed). The sort then works only on the bits in which the keys
//!    differ from the first key: bits that never vary get no pass at all, so all-equal,
//!    few-unique, narrow-range and float inputs (whose exponent bits barely vary) sort in
//!    fewer passes, and the digits are laid over the bits that actually vary. The first split
//!    needs only the top varying bit, so it takes it from a sample of the keys and checks it
//!    while counting (splitting again in the rare case that the sample missed a higher bit).
//!    That count also yields the exact varying bits, which the buckets inherit, so they need
//!    no pass of their own to find them.
//! 2. **MSD split.** The keys are scattered by their top varying bits (up to 11 of them, enough
//!    to make buckets of about 32 KiB, and in the parallel sort at least 8 buckets per thread)
//!    into the scratch buffer. Where a sample shows those bits unevenly spread (float
//!    exponents, skewed keys), so that some buckets would not fit the cache, the buckets are
//!    instead ranges of a 16-bit prefix chosen from the sample to hold about equal shares,
//!    looked up in a table; a prefix whose keys alone would not fit the cache (the top
//!    exponents of f64 keys) gets several buckets, chosen by the bits below it. Each bucket
//!    knows the bits its keys share, so its sort plans its passes over the rest. Large splits
//!    go through *software write-combining*: each bucket gathers its keys in a cache-line
//!    buffer that is written out as a whole line, with non-temporal stores once the data
//!    cannot stay in cache, so the scatter pays neither a read-for-ownership nor a partial
//!    line per key. On sorted stretches, where consecutive keys share a bucket, the bucket's
//!    position stays in a register. On one thread, an input too large for the cache is split
//!    without counting first: each bucket gathers four lines at a time, which go into a chain
//!    of fixed-size blocks, and each bucket's sort reads its keys from its blocks and writes
//!    them into place (see [`blocked`]), which saves the histogram pass, a read of the whole
//!    input.
//! 3. **Buckets finished in cache.** Each bucket is then finished by an LSD radix sort over its
//!    remaining varying bits with digits of up to 11 bits (two passes for u32 keys), which runs at
//!    cache rather than memory speed. LSD passes over digits that do not vary within the bucket are
//!    skipped. Keys that would need more than three passes (u64 keys) are sorted by their top
//!    varying bits only (22 of them in a bucket of the usual size), which tell nearly all of a
//!    bucket's keys apart; one more read finds the few runs of keys that share them and sorts each
//!    run on its own, where three more passes would move every key. Such a bucket counts its keys'
//!    exact varying bits as it counts their digits, and plans again where the bits it inherited
//!    were too many. Each thread keeps its counters and a spare buffer from one bucket to the next;
//!    the passes go through the spare buffer, which stays in the cache, so that the result lands
//!    where it belongs without a copy. The bucket's other half, not touched since long before, is
//!    first read in order, which brings it into the cache at streaming speed rather than line by
//!    line through the scatter's random writes. On one thread, the passes of each bucket also
//!    prefetch the next bucket's keys and destination into L2, a few lines every 64 keys. A pass
//!    in which one digit value is common (skewed keys) fills each bucket from both ends at once,
//!    so that consecutive keys seldom wait on the same bucket's place. A bucket far larger than
//!    the split aimed for, most of it one value (skewed inputs) or all of it two or three values
//!    (few-unique inputs), is partitioned around that value (or the middle one) in one pass,
//!    stably (keys alone equal to it, all the same bits, are written as copies of one rather
//!    than moved), and only the keys on either side of it are sorted on; other buckets still too
//!    large for the cache are split again; buckets of a few dozen keys use std's stable sort.
//!    (Where a split would put several large values in one bucket, a prefix map that gives each
//!    its own is chosen instead where it can.) On a CPU with AVX-512, buckets of 32-bit keys
//!    alone (not pairs) are instead sorted by a quicksort that works on sixteen keys per
//!    instruction, in place (see [`vector`]).
//!
//! The parallel sort splits the input into one chunk per thread of the current rayon pool; each
//! chunk histograms and scatters its own keys into disjoint regions of every bucket (regions in
//! chunk order, so the split stays stable). The buckets are then spread over the threads by
//! rayon's work stealing; a bucket much larger than a thread's share (skewed inputs) is split
//! again in parallel instead of being left to one thread. An input too large for the cache, on
//! few enough threads that each can keep chains of blocks of its own, is split as on one
//! thread, without the histogram pass: each thread into its own chains (see [`blocked`]).
//!
//! The scratch buffer holds one copy of the input (and one block per bucket more, for the blocked
//! split). Faulting in the pages of a fresh buffer costs more than a pass (far more in a virtual
//! machine, or without transparent huge pages), so, as benchmark-grade radix sorts do, the sort
//! **keeps its scratch buffer between calls**: one buffer, as large as the largest input sorted
//! since it was last freed, made when a larger one is needed (marked for transparent huge pages on
//! Linux and written once, in parallel in the parallel sort, so that its pages are resident before
//! the first scatter). [`release_scratch`] frees it; sortmark calls it when a case's repetitions
//! are done, so the warm-up run pays the page faults and the timed runs do not. A sort that finds
//! the buffer in use by another sort running at the same time allocates its own, as does a key type
//! other than sortmark's own.
//!
//! Every pass is stable, so [`KeyValue`](crate::data::KeyValue) pairs keep the input order of
//! equal keys.

mod choose;
mod count;
mod layout;
mod lsd;
mod order;
mod parallel;
mod pivot;
mod plan;
mod prefetch;
mod prefix;
mod scatter;
mod scratch;
mod split;
#[cfg(test)]
mod test_support;
mod tuning;

mod blocked;
mod vector;

use std::mem::size_of_val;

use crate::data::SortKey;
use choose::sampled_bits;
use order::{par_presorted, presorted, small_sort};
use parallel::par_split;
use plan::{KnownBits, par_varying_bits, varying_bits};
use prefetch::Ahead;
use scatter::streams;
#[cfg(test)]
pub(crate) use scratch::kept_scratch_bytes;
use scratch::with_scratch;
pub use scratch::{release_scratch, reserve_scratch};
use split::{sort_varying, split_once};
use tuning::{Shipped, Tuning};

/// Inputs up to this length are sorted by std's stable sort without any radix pass.
const TOP_SMALL: usize = 256;

/// Sorts `keys` stably by [`SortKey::ordered_bits`] on the calling thread.
///
/// Uses one scratch buffer as long as `keys`, kept for the next call (see [`release_scratch`]).
pub fn radix_sort<K: SortKey>(keys: &mut [K]) {
    radix_sort_tuned::<Shipped, K>(keys);
}

/// [`radix_sort`] with the thresholds of `T`.
fn radix_sort_tuned<T: Tuning, K: SortKey>(keys: &mut [K]) {
    if keys.len() <= TOP_SMALL {
        small_sort(keys);
        return;
    }
    if presorted(keys) {
        return;
    }
    if size_of_val(keys) > T::LSD_BYTES {
        // A split needs only the top varying bit, which a sample nearly always shows; the
        // split's first pass checks it (see `KnownBits`), saving a pass over the keys.
        let sampled = sampled_bits(keys);
        if sampled != 0 {
            if streams::<T>(size_of_val(keys), 1) {
                // Too large for the cache: a split into blocks saves the histogram pass too.
                blocked::sort::<T, _>(keys, sampled);
            } else {
                with_scratch(keys.len(), keys[0], false, |scratch| {
                    split_once::<T, _>(keys, scratch, false, sampled, KnownBits::Guess)
                });
            }
            return;
        }
    }
    let mask = varying_bits(keys);
    if mask == 0 {
        return;
    }
    with_scratch(keys.len(), keys[0], false, |scratch| {
        sort_varying::<T, _>(keys, scratch, false, mask, KnownBits::Exact, Ahead::NONE)
    });
}

/// Sorts `keys` stably by [`SortKey::ordered_bits`] on all threads of the current rayon pool.
///
/// Run it inside [`rayon::ThreadPool::install`] to choose the threads. With one thread, or for
/// inputs too small to gain from threads, it is [`radix_sort`]. Uses one scratch buffer as long
/// as `keys`, kept for the next call (see [`release_scratch`]).
pub fn par_radix_sort<K: SortKey>(keys: &mut [K]) {
    par_radix_sort_tuned::<Shipped, K>(keys);
}

/// [`par_radix_sort`] with the thresholds of `T`.
fn par_radix_sort_tuned<T: Tuning, K: SortKey>(keys: &mut [K]) {
    let threads = rayon::current_num_threads();
    if threads <= 1 || keys.len() < T::PAR_MIN {
        radix_sort_tuned::<T, K>(keys);
        return;
    }
    if par_presorted(keys, threads) {
        return;
    }
    // As in `radix_sort`: the varying bits from a sample, checked by the histogram pass.
    let sampled = sampled_bits(keys);
    if sampled != 0 {
        if streams::<T>(size_of_val(keys), threads) {
            // As on one thread: a split into blocks saves the histogram pass.
            blocked::par_sort::<T, _>(keys, sampled, par_radix_sort_tuned::<T, _>);
            return;
        }
        with_scratch(keys.len(), keys[0], true, |scratch| {
            par_split::<T, _>(keys, scratch, false, sampled, KnownBits::Guess)
        });
        return;
    }
    let mask = par_varying_bits(keys, threads);
    if mask == 0 {
        return;
    }
    with_scratch(keys.len(), keys[0], true, |scratch| {
        par_split::<T, _>(keys, scratch, false, mask, KnownBits::Exact)
    });
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::test_support::{
        check, check_stable, expected, in_pool, lcg, numbered_pairs, patterns,
    };
    use super::tuning::{Portable, Small, has_bmi2};
    use super::*;
    use crate::data::{Distribution, KeyType, KeyValue, generate};

    /// Sizes around the thresholds, weighted towards small ones.
    fn size() -> impl Strategy<Value = usize> {
        prop_oneof![
            4 => 0usize..=300,
            1 => Just(Small::BUCKET_SMALL + 1),
            1 => 300usize..3000,
        ]
    }

    /// Vectors of `size()` elements drawn from `element`.
    fn vec_of<S: Strategy + Clone>(element: S) -> impl Strategy<Value = Vec<S::Value>> {
        size().prop_flat_map(move |n| prop::collection::vec(element.clone(), n))
    }

    /// Keys from a narrow or a full range, so that both constant and varying digits occur.
    fn u64s() -> impl Strategy<Value = Vec<u64>> {
        (0u32..64).prop_flat_map(|shift| vec_of(any::<u64>().prop_map(move |x| x >> shift)))
    }

    fn special_f64() -> impl Strategy<Value = f64> + Clone {
        prop_oneof![
            Just(f64::NAN),
            Just(-f64::NAN),
            Just(f64::from_bits(0xfff0_0000_0000_0001)),
            Just(0.0),
            Just(-0.0),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::from_bits(1)),
            Just(-f64::from_bits(3)),
            Just(f64::MIN_POSITIVE),
            any::<f64>(),
            -1e6f64..1e6,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn sorts_u32(v in u64s()) {
            check(&v.iter().map(|&x| x as u32).collect::<Vec<_>>());
        }

        #[test]
        fn sorts_u64(v in u64s()) {
            check(&v);
        }

        #[test]
        fn sorts_i32(v in u64s()) {
            check(&v.iter().map(|&x| x as i32).collect::<Vec<_>>());
        }

        #[test]
        fn sorts_i64(v in u64s()) {
            check(&v.iter().map(|&x| x as i64).collect::<Vec<_>>());
        }

        #[test]
        fn sorts_f32(v in vec_of(special_f64())) {
            check(&v.iter().map(|&x| x as f32).collect::<Vec<_>>());
        }

        #[test]
        fn sorts_f64(v in vec_of(special_f64())) {
            check(&v);
        }

        #[test]
        fn sorts_pairs_stably(keys in vec_of(0u32..40), wide in any::<bool>()) {
            let pairs: Vec<KeyValue> = keys
                .iter()
                .enumerate()
                .map(|(i, &k)| KeyValue { key: if wide { k.wrapping_mul(0x9e37_79b9) } else { k }, value: i as u32 })
                .collect();
            check_stable(&pairs);
        }
    }

    #[test]
    fn sorts_large_inputs_through_every_path() {
        // Large enough for the in-cache split, the write-combining scatter and the parallel
        // split with a bucket that is split again in parallel.
        let n = (Small::WC_BYTES / 4) + 12345;
        let r = lcg(n, 1);
        check(&r.iter().map(|&x| x as u32).collect::<Vec<_>>());
        // Skewed: half the keys share a value, so one bucket is far bigger than the rest.
        let skewed: Vec<u32> = r
            .iter()
            .map(|&x| if x & 1 == 0 { 77 } else { x as u32 })
            .collect();
        check(&skewed);
        let floats: Vec<f64> = r
            .iter()
            .take(Small::PAR_MIN * 3)
            .map(|&x| f64::from_bits(x))
            .collect();
        check(&floats);
    }

    #[test]
    fn large_pairs_stay_stable() {
        check_stable(&numbered_pairs(
            &lcg(Small::WC_BYTES / 8 + 999, 2),
            0xff00_0fff,
        ));
    }

    /// Checks [`radix_sort`] and [`par_radix_sort`], with the thresholds sortmark ships, on
    /// `keys`: the parallel sort on 1, 2 and 4 threads. Equal keys keep their input order.
    fn check_shipped<K: SortKey>(keys: &[K], what: &str) {
        let mut stable = keys.to_vec();
        stable.sort_by(K::sort_cmp);
        let want = patterns(&stable);
        let mut v = keys.to_vec();
        radix_sort(&mut v);
        assert!(patterns(&v) == want, "radix_sort, {what}");
        for threads in [1, 2, 4] {
            let mut v = keys.to_vec();
            in_pool(threads, || par_radix_sort(&mut v));
            assert!(
                patterns(&v) == want,
                "par_radix_sort on {threads} threads, {what}"
            );
        }
    }

    #[test]
    #[cfg_attr(
        debug_assertions,
        ignore = "shipped thresholds need large inputs: run with cargo test --release"
    )]
    fn sorts_past_every_shipped_threshold() {
        // Inputs of each key type just past each threshold in bytes: buckets for the in-cache
        // sorts only; past the parallel sort's minimum length; a split in the cache; past the
        // write-combining split (the blocked split on one and two threads, the counting split
        // with write-combining lines on four); past the non-temporal stores on any threads.
        let sizes = [
            3 * Shipped::BUCKET_BYTES,
            8 * Shipped::PAR_MIN + 8,
            2 * Shipped::LSD_BYTES + 24,
            Shipped::WC_BYTES + 1000,
            Shipped::NT_BYTES + 4000,
        ];
        let distributions = [
            Distribution::Uniform,
            Distribution::Skewed,
            Distribution::FewUnique,
            Distribution::NearlySorted,
        ];
        for (seed, bytes) in sizes.into_iter().enumerate() {
            for key_type in KeyType::ALL {
                let n = bytes / key_type.element_bytes() as usize;
                for distribution in distributions {
                    let what = format!("{n} {} keys, {}", key_type.name(), distribution.name());
                    let data = generate(key_type, distribution, n, seed as u64);
                    crate::with_keys!(data, keys => check_shipped(&keys, &what));
                }
            }
        }
        // Two threads split into blocks of their own where the threads' chains fit: 2^24 u32
        // keys and more.
        let n = (1 << 24) + 100;
        let data = generate(KeyType::U32, Distribution::Uniform, n, 9);
        crate::with_keys!(data, keys => check_shipped(&keys, "2^24 + 100 u32 keys"));
    }

    #[test]
    fn the_portable_and_bmi2_builds_of_the_loops_sort_alike() {
        // Through the counting split with write-combining lines, and the blocked split.
        assert!(!has_bmi2::<Portable>());
        for n in [2 * Small::WC_BYTES / 4, 3 * Small::NT_BYTES / 4] {
            let r = lcg(n, 21);
            let u32s: Vec<u32> = r.iter().map(|&x| x as u32).collect();
            let f32s: Vec<f32> = r.iter().map(|&x| f32::from_bits(x as u32)).collect();
            let pairs: Vec<KeyValue> = r
                .iter()
                .enumerate()
                .map(|(i, &x)| KeyValue {
                    key: x as u32 & 0xff00_ff0f,
                    value: i as u32,
                })
                .collect();
            sorts_alike::<Small>(&u32s, &r, &f32s, &pairs, "bmi2 where the CPU has it");
            sorts_alike::<Portable>(&u32s, &r, &f32s, &pairs, "portable");
        }
    }

    /// Checks that [`radix_sort_tuned`] with the loops of `T` sorts each of the keys.
    fn sorts_alike<T: Tuning>(
        u32s: &[u32],
        r: &[u64],
        f32s: &[f32],
        pairs: &[KeyValue],
        loops: &str,
    ) {
        let n = r.len();
        for keys in [u32s, &u32s[..n / 3]] {
            let mut v = keys.to_vec();
            radix_sort_tuned::<T, _>(&mut v);
            assert_eq!(patterns(&v), expected(keys), "{n} u32, {loops}");
        }
        let mut v = r.to_vec();
        radix_sort_tuned::<T, _>(&mut v);
        assert_eq!(patterns(&v), expected(r), "{n} u64, {loops}");
        let mut v = f32s.to_vec();
        radix_sort_tuned::<T, _>(&mut v);
        assert_eq!(patterns(&v), expected(f32s), "{n} f32, {loops}");
        let mut v = pairs.to_vec();
        radix_sort_tuned::<T, _>(&mut v);
        let mut stable = pairs.to_vec();
        stable.sort_by_key(|p| p.key);
        assert_eq!(v, stable, "{n} pairs, {loops}");
    }
}
