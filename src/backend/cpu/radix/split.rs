//! The single-threaded MSD split and the sort of each bucket it makes: the dispatch between
//! std's sort, a partition around a crowded value ([`partition_around`]), the in-cache sorts
//! and a further split.
//!
//! The sort is recursive, and the recursion runs through this file: it sits above the pieces it
//! calls (the [`lsd`] sort, the [`pivot`](super::pivot) pieces, the scatter and the counts),
//! none of which imports it. Where the in-cache sort hands tied runs back to [`sort_into`], it
//! takes it as a parameter (see [`finish_runs`](super::lsd::finish_runs)).

use std::mem::size_of_val;

use super::choose::{Split, choose_split};
use super::count::{Counts, bucket_starts, histogram_and_bits};
use super::layout::place;
use super::lsd::lsd;
use super::order::{presorted, small_sort};
use super::pivot::{Pivot, count_around, pivot, split_around, thirds};
use super::plan::{KnownBits, bits, same_top_bit};
use super::prefetch::{Ahead, next_buckets};
use super::prefix::Bucketer;
use super::scatter::{scatter_combined, streams};
use super::tuning::Tuning;
use crate::data::SortKey;

/// Sorts the keys in `src` (a bucket of a split, its keys differing in no bits outside `mask`),
/// with `dst` (same length) as scratch; the result ends in `dst` when `result_in_dst`, else in
/// `src`.
///
/// `mask` comes from the split's histogram pass, so the bucket needs no pass of its own to find
/// its varying bits: LSD passes over bits that happen not to vary within the bucket are skipped
/// by their histograms, and a further split checks its top bit (see [`KnownBits`]). `ahead` is
/// the bucket this thread sorts next, which the LSD passes prefetch (see [`Ahead`]).
pub(super) fn sort_into<T: Tuning, K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    mask: u64,
    ahead: Ahead,
) {
    if src.len() <= T::BUCKET_SMALL {
        small_sort(src);
        place(src, dst, result_in_dst);
        return;
    }
    if mask == 0 || presorted(src) {
        place(src, dst, result_in_dst);
        return;
    }
    if let Some(pivot) = pivot::<T, _>(src)
        && partition_around::<T, _>(src, dst, result_in_dst, pivot, mask)
    {
        return;
    }
    sort_varying::<T, _>(src, dst, result_in_dst, mask, KnownBits::Guess, ahead);
}

/// Sorts `src` (its result in `dst` when `result_in_dst`, else in `src`) by a stable
/// three-way partition around the key whose ordered bits are `pivot.value`: the keys below
/// it, the keys equal to it (sorted already), and the keys above it, in one pass into `dst`;
/// the keys below and above it (varying in no bits outside `mask`) are then sorted on.
///
/// Returns false, having changed nothing, where the partition does not pay after all (see
/// [`Pivot::pays`](super::pivot::Pivot::pays)): the first of the two reads only counts.
pub(super) fn partition_around<T: Tuning, K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    pivot: Pivot,
    mask: u64,
) -> bool {
    let value = pivot.value;
    let (below, equal) = count_around(src, value);
    if !pivot.pays(equal, src.len()) {
        return false;
    }
    split_around(src, value, dst, &mut [0, below, below + equal]);
    let [dst_below, dst_equal, dst_above] = thirds(dst, below, equal);
    let [src_below, src_equal, src_above] = thirds(src, below, equal);
    sort_into::<T, _>(dst_below, src_below, !result_in_dst, mask, Ahead::NONE);
    if result_in_dst || K::KEY_TYPE.has_values() {
        place(dst_equal, src_equal, !result_in_dst);
    } else {
        // Keys alone equal to the pivot are the same bits (see `equal_key`): copies of one
        // are a write, where a copy of `dst_equal` would read it too.
        src_equal.fill(dst_equal[0]);
    }
    sort_into::<T, _>(dst_above, src_above, !result_in_dst, mask, Ahead::NONE);
    true
}

/// [`sort_into`] for keys that differ only in the bits of `mask` (not 0, as `check` says):
/// in the cache by the [`vector`] sort where it runs, else by an LSD sort; either prefetches
/// `ahead`.
pub(super) fn sort_varying<T: Tuning, K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    mask: u64,
    check: KnownBits,
    ahead: Ahead,
) {
    if size_of_val(src) <= T::LSD_BYTES {
        if super::vector::sorts::<K>() {
            super::vector::sort_slice(src, dst, result_in_dst, ahead);
        } else {
            lsd::<T, _>(src, dst, result_in_dst, mask, ahead, sort_into::<T, _>);
        }
        return;
    }
    split_once::<T, _>(src, dst, result_in_dst, mask, check);
}

/// One MSD split of `src` (varying in `mask`, not 0, as `check` says) into `dst`, then each
/// bucket sorted; the result ends in `dst` when `result_in_dst`.
pub(super) fn split_once<T: Tuning, K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    mask: u64,
    check: KnownBits,
) {
    match choose_split::<T, _>(src, mask, 1) {
        Split::Digit(digit) => {
            split_then_sort::<T, _, _>(src, dst, result_in_dst, &digit, mask, check)
        }
        Split::Map(map) => split_then_sort::<T, _, _>(src, dst, result_in_dst, &map, mask, check),
        Split::Spread(map) => {
            split_then_sort::<T, _, _>(src, dst, result_in_dst, &map, mask, check)
        }
    }
}

/// [`split_once`] by the bucketer `digit`.
fn split_then_sort<T: Tuning, K: SortKey, B: Bucketer>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    digit: &B,
    mask: u64,
    check: KnownBits,
) {
    let (counts, exact) = histogram_and_bits(src, digit, bits(src[0]));
    if check == KnownBits::Guess && !same_top_bit(mask, exact) {
        sort_varying::<T, _>(
            src,
            dst,
            result_in_dst,
            exact,
            KnownBits::Exact,
            Ahead::NONE,
        );
        return;
    }
    split::<T, _, _>(src, dst, digit, &counts);
    let counts = &counts[..digit.buckets()];
    let inner = inner_masks(digit, exact, counts);
    let pairs = bucket_pairs(dst, src, counts);
    let aheads = next_buckets::<T, _>(&pairs);
    for (((from, to), ahead), inner) in pairs.into_iter().zip(aheads).zip(inner) {
        sort_into::<T, _>(from, to, !result_in_dst, inner, ahead);
    }
}

/// Scatters `src` into `dst` by `digit` (one MSD split of a whole run on one thread).
pub(super) fn split<T: Tuning, K: SortKey, B: Bucketer>(
    src: &[K],
    dst: &mut [K],
    digit: &B,
    counts: &Counts,
) {
    let bytes = size_of_val(src);
    if bytes <= T::WC_BYTES {
        let mut next = bucket_starts(counts);
        for &k in src {
            let b = digit.of(k);
            dst[next[b]] = k;
            next[b] += 1;
        }
        return;
    }
    let mut regions = bucket_regions(dst, &counts[..digit.buckets()]);
    scatter_combined::<T, _, _>(src, &mut regions, digit, streams::<T>(bytes, 1));
}

/// `buf` cut into consecutive buckets whose sizes are `counts`.
pub(super) fn bucket_regions<'a, K>(mut buf: &'a mut [K], counts: &[usize]) -> Vec<&'a mut [K]> {
    counts
        .iter()
        .map(|&c| {
            let (head, tail) = std::mem::take(&mut buf).split_at_mut(c);
            buf = tail;
            head
        })
        .collect()
}

/// The bits in which the keys of each non-empty bucket of a split by `digit` may vary (of the
/// bits `exact` in which the keys of the split vary), in the order of [`bucket_pairs`].
pub(super) fn inner_masks<B: Bucketer>(digit: &B, exact: u64, counts: &[usize]) -> Vec<u64> {
    (0..counts.len())
        .filter(|&b| counts[b] > 0)
        .map(|b| exact & !digit.fixed_bits(b))
        .collect()
}

/// The buckets of `a` and `b` (both cut by `counts`) side by side, skipping empty ones.
pub(super) fn bucket_pairs<'a, K>(
    a: &'a mut [K],
    b: &'a mut [K],
    counts: &[usize],
) -> Vec<(&'a mut [K], &'a mut [K])> {
    bucket_regions(a, counts)
        .into_iter()
        .zip(bucket_regions(b, counts))
        .filter(|(x, _)| !x.is_empty())
        .collect()
}
