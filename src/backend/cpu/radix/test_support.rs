//! Helpers shared by the radix sort's tests: reference results, checks of both sorts, and
//! deterministic inputs.

use super::pivot::Pivot;
use super::plan::bits;
use super::tuning::Small;
use super::{par_radix_sort_tuned, radix_sort_tuned};
use crate::data::{KeyValue, SortKey};

/// Bit patterns of `keys`, so that NaNs compare equal to themselves.
pub(super) fn patterns<K: SortKey>(keys: &[K]) -> Vec<u64> {
    keys.iter().map(|k| k.checksum_bits()).collect()
}

pub(super) fn expected<K: SortKey>(keys: &[K]) -> Vec<u64> {
    let mut v = keys.to_vec();
    v.sort_unstable_by(K::sort_cmp);
    patterns(&v)
}

pub(super) fn in_pool(threads: usize, f: impl FnOnce() + Send) {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f);
}

/// Checks both sorts, the parallel one on 1, 2 and 3 threads.
pub(super) fn check<K: SortKey>(keys: &[K]) {
    let want = expected(keys);
    let mut v = keys.to_vec();
    radix_sort_tuned::<Small, _>(&mut v);
    assert_eq!(patterns(&v), want, "radix_sort of {} keys", keys.len());
    for threads in 1..=3 {
        let mut v = keys.to_vec();
        in_pool(threads, || par_radix_sort_tuned::<Small, _>(&mut v));
        assert_eq!(patterns(&v), want, "par_radix_sort, {threads} threads");
    }
}

/// Checks that pairs come out sorted by key with equal keys in input order.
pub(super) fn check_stable(pairs: &[KeyValue]) {
    let mut want = pairs.to_vec();
    want.sort_by_key(|p| p.key);
    let mut v = pairs.to_vec();
    radix_sort_tuned::<Small, _>(&mut v);
    assert_eq!(v, want);
    for threads in 1..=3 {
        let mut v = pairs.to_vec();
        in_pool(threads, || par_radix_sort_tuned::<Small, _>(&mut v));
        assert_eq!(v, want, "{threads} threads");
    }
}

/// Deterministic pseudo-random numbers for the larger cases.
pub(super) fn lcg(n: usize, seed: u64) -> Vec<u64> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            crate::data::mix64(x)
        })
        .collect()
}

/// Pairs keyed by the bits `mask` of each of `r`, valued by their input position.
pub(super) fn numbered_pairs(r: &[u64], mask: u32) -> Vec<KeyValue> {
    r.iter()
        .enumerate()
        .map(|(i, &x)| KeyValue {
            key: (x as u32) & mask,
            value: i as u32,
        })
        .collect()
}

/// `n` numbered pairs, every other one (the first among them) keyed `key`, the others
/// keyed apart from each other above it: a value that holds half of them.
pub(super) fn half_one_key(n: u32, key: u32) -> Vec<KeyValue> {
    (0..n)
        .map(|i| KeyValue {
            key: if i % 2 == 0 { key } else { key + 1 + i },
            value: i,
        })
        .collect()
}

/// 3000 keys whose top 22 of `width` bits are shared in groups of 1 to 300 keys (runs
/// for insertion, for std's sort and for radix), and whose low bits take few values, so
/// that equal keys share runs.
pub(super) fn grouped_keys(width: u32) -> Vec<u64> {
    let group = |x: u64| match x % 8 {
        0..=3 => x % 2000,       // mostly alone
        4 | 5 => 2000 + x % 300, // runs of a few keys
        6 => 2300 + x % 40,      // runs of a few dozen
        _ => 2340 + x % 2,       // two runs of about 190
    };
    // Groups spread over the top 22 bits (an odd multiplier is a bijection).
    lcg(3000, 17)
        .iter()
        .map(|&x| {
            let top = group(x >> 8).wrapping_mul(0x9e37_79b1) & 0x3f_ffff;
            top << (width - 22) | (x >> 3) & 0x7
        })
        .collect()
}

/// Checks that `partition` (around `pivot`, a value that holds most of `pairs`) sorts
/// `pairs` stably, into either buffer; and that around a value that holds only half of
/// the keys (of many values), it declines and changes nothing.
pub(super) fn check_partition(
    pairs: &[KeyValue],
    pivot: Pivot,
    partition: fn(&mut [KeyValue], &mut [KeyValue], bool, Pivot, u64) -> bool,
) {
    let mut want = pairs.to_vec();
    want.sort_by_key(|p| p.key);
    for result_in_dst in [false, true] {
        let (mut src, mut dst) = (pairs.to_vec(), vec![pairs[0]; pairs.len()]);
        assert!(partition(
            &mut src,
            &mut dst,
            result_in_dst,
            pivot,
            u64::MAX
        ));
        assert_eq!(if result_in_dst { &dst } else { &src }, &want);
    }
    let halves = half_one_key(4000, 7);
    let seven = Pivot {
        value: bits(KeyValue { key: 7, value: 0 }),
        few: false,
    };
    let (mut src, mut dst) = (halves.clone(), halves.clone());
    assert!(!partition(&mut src, &mut dst, true, seven, u64::MAX));
    assert_eq!(src, halves);
}
