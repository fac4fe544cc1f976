//! The split of a large input, made without a histogram pass: on one thread, and on a few
//! threads where each thread's chains fit beside the input ([`par_sort`]).
//!
//! A split into contiguous buckets must count every bucket's keys before it can place any,
//! which costs a read of the whole input: on one thread at 2^24 u32 keys, about a seventh of
//! the sort. This split needs no count. Each bucket's keys go, four cache lines at a time
//! through a write-combining buffer, into a chain of fixed-size blocks of the scratch buffer,
//! taken from it in turn as buckets fill them (bucket `b` starts in block `b`). The counts
//! come out of the scatter itself, so each bucket then knows where its keys belong in the
//! input buffer, and its in-cache sort reads them straight from its blocks: its first LSD pass
//! gathers them as it scatters, and its last writes them into place.
//!
//! The price is room: the last block of each bucket is part-filled, so the scratch buffer
//! holds one block per bucket more than the input (a quarter more for 2^24 u32 keys, less for
//! larger inputs, whose buckets are capped at 2^11). In the parallel sort each thread splits
//! its own chunk into chains of its own, so that room is paid once per thread, and the split
//! is made this way only where it stays under [`Tuning::PAR_ROOM`].

mod chains;

use std::mem::size_of_val;

use rayon::prelude::*;

use self::chains::{Blocks, block_len};
use super::parallel;
use crate::backend::cpu::radix::choose::{Split, choose_split};
use crate::backend::cpu::radix::layout::{chunk_len, line_len};
use crate::backend::cpu::radix::lsd::{counted_passes, finish_runs, pass_steps, scatter, touch};
use crate::backend::cpu::radix::order::small_sort;
use crate::backend::cpu::radix::pivot::{Pivot, count_around, pivot_in, split_around, thirds};
use crate::backend::cpu::radix::plan::{KnownBits, bits, same_top_bit};
use crate::backend::cpu::radix::prefetch::{Ahead, Prefetch};
use crate::backend::cpu::radix::prefix::Bucketer;
use crate::backend::cpu::radix::scratch::{with_lsd_work, with_scratch};
use crate::backend::cpu::radix::split::{bucket_regions, sort_into, sort_varying};
use crate::backend::cpu::radix::tuning::Tuning;
use crate::data::SortKey;

/// Buckets up to this size keep the LSD sort that reads them from their blocks, even where
/// the [`vector`](super::vector) sort runs: for buckets of about [`Tuning::BUCKET_BYTES`]
/// (those of 2^24 u32 keys) the vector sort made the whole sort slower; larger buckets (2^26
/// keys) it sorts faster.
const fn vector_min_bytes<T: Tuning>() -> usize {
    2 * T::BUCKET_BYTES
}

/// Sorts `keys`, too many for the cache (see [`streams`](super::scatter::streams)), on the calling thread, by
/// one split into blocks: `sampled` holds the top bit in which they vary, as a sample shows
/// it (see [`KnownBits`]).
///
/// Sorted stretches (nearly sorted keys) are split into blocks too: their consecutive keys
/// fill one bucket's buffer at a time, whose count stays in a register as in the counting
/// split (see [`Blocks::scatter`]), and the split saves the counting pass as for any keys.
pub(super) fn sort<T: Tuning, K: SortKey>(keys: &mut [K], sampled: u64) {
    match choose_split::<T, _>(keys, sampled, 1) {
        Split::Digit(digit) => split_by::<T, _, _>(keys, &digit, sampled),
        Split::Map(map) => split_by::<T, _, _>(keys, &map, sampled),
        Split::Spread(map) => split_by::<T, _, _>(keys, &map, sampled),
    }
}

/// [`sort`] by the bucketer `digit`.
fn split_by<T: Tuning, K: SortKey, B: Bucketer>(keys: &mut [K], digit: &B, sampled: u64) {
    let n = keys.len();
    let room = n + room_beyond::<T, K>(digit.buckets());
    with_scratch(room, keys[0], false, |scratch| {
        let blocks = Blocks::scatter::<T, _>(keys, scratch, digit);
        let exact = blocks.exact;
        if !same_top_bit(sampled, exact) {
            // The sample missed a higher varying bit: split again, by the exact bits.
            drop(blocks);
            sort_varying::<T, _>(
                keys,
                &mut scratch[..n],
                false,
                exact,
                KnownBits::Exact,
                Ahead::NONE,
            );
            return;
        }
        blocks.sort_buckets_into::<T, _>(keys, digit, sort_bucket::<T, _>);
    });
}

/// Sorts `keys`, too many for the cache (see [`streams`](super::scatter::streams)), on the current rayon pool,
/// by one split into blocks: each thread scatters its chunk of the keys into chains of its
/// own, and the buckets are then sorted, spread over the threads, from the chains of every
/// chunk (in chunk order, so the split stays stable). `sampled` is as for [`sort`].
///
/// Each thread's chains take one block per bucket more than its chunk, so where that room
/// would exceed [`Tuning::PAR_ROOM`] (many threads, or inputs too small for the cap of 2^11 buckets
/// to keep buckets large), the counting split of [`par_split`](super::parallel::par_split) makes the split instead.
///
/// A bucket much larger than a thread's share is sorted on all threads by `par_sort_whole`, the
/// parallel sort itself ([`par_radix_sort_tuned`](super::par_radix_sort_tuned), whose path this
/// is): passed in, so that the blocked split need not import the folder's entry points.
pub(super) fn par_sort<T: Tuning, K: SortKey>(
    keys: &mut [K],
    sampled: u64,
    par_sort_whole: impl Fn(&mut [K]) + Sync,
) {
    match choose_split::<T, _>(keys, sampled, rayon::current_num_threads()) {
        Split::Digit(digit) => par_split_by::<T, _, _>(keys, &digit, sampled, &par_sort_whole),
        Split::Map(map) => par_split_by::<T, _, _>(keys, &map, sampled, &par_sort_whole),
        Split::Spread(map) => par_split_by::<T, _, _>(keys, &map, sampled, &par_sort_whole),
    }
}

/// [`par_sort`] by the bucketer `digit`.
fn par_split_by<T: Tuning, K: SortKey, B: Bucketer>(
    keys: &mut [K],
    digit: &B,
    sampled: u64,
    par_sort_whole: &(impl Fn(&mut [K]) + Sync),
) {
    let n = keys.len();
    let chunk = chunk_len(n, rayon::current_num_threads());
    let parts = n.div_ceil(chunk);
    if !chains_fit::<T, K>(n, parts, digit.buckets()) {
        with_scratch(n, keys[0], true, |scratch| {
            parallel::par_split_by::<T, _, _>(
                keys,
                scratch,
                false,
                digit,
                sampled,
                KnownBits::Guess,
            )
        });
        return;
    }
    let room = chunk + room_beyond::<T, K>(digit.buckets());
    with_scratch(parts * room, keys[0], true, |scratch| {
        let splits: Vec<Blocks<K>> = keys
            .par_chunks(chunk)
            .zip(scratch.par_chunks_mut(room))
            .map(|(keys, pool)| Blocks::scatter::<T, _>(keys, pool, digit))
            .collect();
        // Each chunk's bits are those in which its keys differ from its first.
        let reference = bits(keys[0]);
        let exact = splits
            .iter()
            .zip(keys.chunks(chunk))
            .fold(0, |m, (split, keys)| {
                m | split.exact | (bits(keys[0]) ^ reference)
            });
        if !same_top_bit(sampled, exact) {
            drop(splits);
            parallel::par_split::<T, _>(keys, &mut scratch[..n], false, exact, KnownBits::Exact);
            return;
        }
        par_sort_buckets_into::<T, _, _>(&splits, keys, digit, exact, par_sort_whole);
    });
}

/// Whether `parts` chunks of `n` keys, each split into `buckets` chains of blocks, take no
/// more room beyond the keys than [`Tuning::PAR_ROOM`] allows.
fn chains_fit<T: Tuning, K>(n: usize, parts: usize, buckets: usize) -> bool {
    parts * room_beyond::<T, K>(buckets) * T::PAR_ROOM.1 <= n * T::PAR_ROOM.0
}

/// The room a split into `buckets` chains of blocks needs beyond the keys it scatters.
fn room_beyond<T: Tuning, K>(buckets: usize) -> usize {
    buckets * block_len::<T, K>() + line_len::<K>()
}

/// Sorts every bucket of the chunks' `splits` (made by `digit`, the keys varying in `exact`)
/// into its place in `keys`, the buckets spread over the threads. A bucket much larger than a
/// thread's share (of skewed keys) is gathered and sorted on all threads, by `par_sort_whole`
/// (see [`par_sort`]).
fn par_sort_buckets_into<T: Tuning, K: SortKey, B: Bucketer>(
    splits: &[Blocks<K>],
    keys: &mut [K],
    digit: &B,
    exact: u64,
    par_sort_whole: &(impl Fn(&mut [K]) + Sync),
) {
    let buckets = digit.buckets();
    let totals: Vec<usize> = (0..buckets)
        .map(|b| splits.iter().map(|split| split.counts[b]).sum())
        .collect();
    let big = (keys.len() / (2 * rayon::current_num_threads())).max(T::PAR_MIN);
    bucket_regions(keys, &totals)
        .into_par_iter()
        .enumerate()
        .with_max_len(1)
        .filter(|(_, out)| !out.is_empty())
        .for_each_init(Vec::new, |spill, (b, out)| {
            let chunks: Vec<&[K]> = splits
                .iter()
                .flat_map(|split| split.chunks::<T>(b))
                .filter(|chunk| !chunk.is_empty())
                .collect();
            if out.len() > big {
                gather(&chunks, out);
                par_sort_whole(out);
            } else {
                // No prefetching here: the bucket after this one may go to another thread.
                let mask = exact & !digit.fixed_bits(b);
                sort_bucket::<T, _>(&chunks, out, mask, Ahead::NONE, spill);
            }
        });
}

/// Sorts the keys of `chunks` (not none), which vary in no bits outside `mask`, into `out`;
/// `spill` is room to grow for the buckets that need a buffer as long as themselves.
///
/// A bucket for the in-cache sort is sorted straight from its blocks. The few others are
/// gathered into place and left to [`sort_into`]: buckets too small for radix, and those (of
/// skewed keys) too large for the cache or mostly one value.
pub(super) fn sort_bucket<T: Tuning, K: SortKey>(
    chunks: &[&[K]],
    out: &mut [K],
    mask: u64,
    ahead: Ahead,
    spill: &mut Vec<K>,
) {
    if mask == 0 {
        // All keys equal.
        gather(chunks, out);
        return;
    }
    if let Some(pivot) = pivot_in::<T, _>(chunks) {
        // A bucket of one value (few-unique keys) is found sorted in one read, cheaper than
        // any partition.
        if ascending(chunks) {
            gather(chunks, out);
            return;
        }
        if partition_into::<T, _>(chunks, out, pivot, mask, spill) {
            return;
        }
    }
    let bytes = size_of_val(out);
    if super::vector::sorts::<K>() && bytes > vector_min_bytes::<T>() && bytes <= T::LSD_BYTES {
        super::vector::sort_chunks(chunks, out, ahead);
        return;
    }
    if out.len() > T::BUCKET_SMALL && bytes <= T::LSD_BYTES {
        lsd::<T, _>(chunks, out, mask, ahead, spill);
        return;
    }
    gather(chunks, out);
    if out.len() <= T::BUCKET_SMALL {
        small_sort(out);
        return;
    }
    sort_into::<T, _>(out, room(spill, out.len(), out[0]), false, mask, ahead);
}

/// Sorts the keys of `chunks`, which vary in no bits outside `mask`, into `out` by a stable
/// partition around `pivot`, as [`partition_around`](super::split::partition_around) sorts a bucket held in one slice,
/// but straight from the blocks: the keys below and above the pivot go into place, and are
/// then sorted there, with `spill` as room.
///
/// Returns false, having changed nothing, where the partition does not pay after all: for
/// elements that carry values, whose partition first counts. Keys alone are partitioned in
/// one read whatever it finds (see [`split_keys_around`]).
fn partition_into<T: Tuning, K: SortKey>(
    chunks: &[&[K]],
    out: &mut [K],
    pivot: Pivot,
    mask: u64,
    spill: &mut Vec<K>,
) -> bool {
    let value = pivot.value;
    let (below, equal) = if K::KEY_TYPE.has_values() {
        let (below, equal) = chunks.iter().fold((0, 0), |(below, equal), chunk| {
            let (b, e) = count_around(chunk, value);
            (below + b, equal + e)
        });
        if !pivot.pays(equal, out.len()) {
            return false;
        }
        let mut at = [0, below, below + equal];
        for chunk in chunks {
            split_around(chunk, value, out, &mut at);
        }
        (below, equal)
    } else {
        split_keys_around(chunks, value, out)
    };
    let [out_below, _, out_above] = thirds(out, below, equal);
    for side in [out_below, out_above] {
        if !side.is_empty() {
            sort_into::<T, _>(
                side,
                room(spill, side.len(), side[0]),
                false,
                mask,
                Ahead::NONE,
            );
        }
    }
    true
}

/// Partitions the keys alone of `chunks`, some of which have the ordered bits `value`, into
/// `out` in one read, without counting first: the keys below `value` from the front, those
/// above it from the back (in reverse order, which for keys alone, about to be sorted, makes
/// no difference), and the equal keys, which are all the same bits, written into the gap left
/// between as the key that `value` makes. Returns how many keys are below and how many equal.
///
/// Branch-free: each key is written at both the front and the back, and only the right side
/// moves on. The other write lands where a later key or the equal keys will overwrite it:
/// at least one key equals `value`, so the two sides never meet.
fn split_keys_around<K: SortKey>(chunks: &[&[K]], value: u64, out: &mut [K]) -> (usize, usize) {
    let n = out.len();
    let (mut front, mut back) = (0, n);
    for chunk in chunks {
        for &k in *chunk {
            let b = bits(k);
            let (lt, gt) = (b < value, b > value);
            out[front] = k;
            out[back - 1] = k;
            front += usize::from(lt);
            back -= usize::from(gt);
        }
    }
    out[front..back].fill(K::from_ordered_bits(value));
    (front, back - front)
}

/// The first `n` keys of `spill`, grown with copies of `fill` where it is shorter.
pub(super) fn room<K: SortKey>(spill: &mut Vec<K>, n: usize, fill: K) -> &mut [K] {
    if spill.len() < n {
        spill.resize(n, fill);
    }
    &mut spill[..n]
}

/// Whether the keys of `chunks`, taken in order, are in ascending order.
fn ascending<K: SortKey>(chunks: &[&[K]]) -> bool {
    let mut last = 0;
    chunks.iter().all(|chunk| {
        let sorted =
            chunk.first().is_none_or(|&k| bits(k) >= last) && chunk.is_sorted_by_key(|&k| bits(k));
        if let Some(&k) = chunk.last() {
            last = bits(k);
        }
        sorted
    })
}

/// Copies the keys of `chunks`, in order, into `out` (exactly as long).
pub(super) fn gather<K: SortKey>(chunks: &[&[K]], out: &mut [K]) {
    let mut at = 0;
    for chunk in chunks {
        out[at..at + chunk.len()].copy_from_slice(chunk);
        at += chunk.len();
    }
}

/// LSD radix sort of the keys of `chunks` (which vary in no bits outside `mask`, not 0) into
/// `out`, as [`lsd`](super::lsd::lsd) sorts a bucket held in one slice: the first pass reads the blocks,
/// and the passes alternate between `out` and this thread's spare buffer so that the last one
/// lands in `out`.
fn lsd<T: Tuning, K: SortKey>(
    chunks: &[&[K]],
    out: &mut [K],
    mask: u64,
    ahead: Ahead,
    spill: &mut Vec<K>,
) {
    let n = out.len();
    let low = with_lsd_work(n, out[0], |all_counts, spare| {
        let (passes, low) = counted_passes::<T, _>(chunks, mask, all_counts);
        let count = passes.len();
        if count == 0 {
            gather(chunks, out);
            return low;
        }
        // As in `super::lsd`: `out` has not been touched since the input was read.
        touch(out);
        let mut prefetch = Prefetch::spread(ahead, pass_steps(count, n));
        for (i, (digit, counts)) in passes.into_iter().enumerate() {
            let into_out = (count - i) % 2 == 1;
            match (i, into_out) {
                (0, true) => scatter::<T, _>(chunks, out, digit, counts, &mut prefetch),
                (0, false) => scatter::<T, _>(chunks, spare, digit, counts, &mut prefetch),
                (_, true) => scatter::<T, _>(&[&*spare], out, digit, counts, &mut prefetch),
                (_, false) => scatter::<T, _>(&[&*out], spare, digit, counts, &mut prefetch),
            }
        }
        low
    });
    if low != 0 {
        finish_runs(out, room(spill, n, out[0]), low, sort_into::<T, _>);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::radix::choose::sampled_bits;
    use crate::backend::cpu::radix::pivot::pivot;
    use crate::backend::cpu::radix::plan::varying_bits;
    use crate::backend::cpu::radix::test_support::{
        check_stable, expected, grouped_keys, half_one_key, in_pool, lcg, numbered_pairs, patterns,
    };
    use crate::backend::cpu::radix::tuning::{Small, Tuning};
    use crate::backend::cpu::radix::{par_radix_sort_tuned, radix_sort_tuned};
    use crate::data::{KeyValue, SortKey};

    #[test]
    fn lsd_from_blocks_lands_in_place_after_any_number_of_passes() {
        let keys: Vec<u32> = lcg(3000, 5).iter().map(|&x| x as u32).collect();
        let cut = |keys: &[u32]| -> Vec<Vec<u32>> {
            // Uneven chunks, as a chain of blocks and a part line leave them.
            let mut rest = keys;
            let mut chunks: Vec<Vec<u32>> = [0, 1000, 64, 1, 900, 0]
                .iter()
                .map(|&len| {
                    let (chunk, after) = rest.split_at(len);
                    rest = after;
                    chunk.to_vec()
                })
                .collect();
            chunks.push(rest.to_vec());
            chunks
        };
        // No pass (all keys equal), and one, two and three passes.
        for mask in [0, 0xff_u32, 0x3f_ffff, 0xffff_ffff] {
            let masked: Vec<u32> = keys.iter().map(|&k| k & mask).collect();
            let chunks = cut(&masked);
            let chunks: Vec<&[u32]> = chunks.iter().map(Vec::as_slice).collect();
            let mut out = vec![7u32; masked.len()];
            let mut spill = Vec::new();
            // All equal: bits they might vary in, in none of which they do.
            let mask = varying_bits(&masked).max(0xff);
            lsd::<Small, _>(&chunks, &mut out, mask, Ahead::NONE, &mut spill);
            assert_eq!(patterns(&out), expected(&masked), "mask {mask:#x}");
        }
        // Wide keys: passes over the top bits, the runs they leave tied finished in `spill`.
        let wide = grouped_keys(64);
        let chunks: Vec<&[u64]> = wide.chunks(700).collect();
        let mut out = vec![0u64; wide.len()];
        let mut spill = Vec::new();
        lsd::<Small, _>(
            &chunks,
            &mut out,
            varying_bits(&wide),
            Ahead::NONE,
            &mut spill,
        );
        assert_eq!(patterns(&out), expected(&wide));
        assert_eq!(spill.len(), wide.len(), "the runs had room to be sorted");
    }

    #[test]
    fn large_inputs_sort_through_blocks_stably_whatever_their_buckets() {
        let n = 3 * Small::NT_BYTES / 8 + 777;
        let r = lcg(n, 12);
        // Pairs: the order of equal keys survives the blocks and the buckets' passes.
        check_stable(&numbered_pairs(&r, 0xf00f_00ff));
        // Buckets of every kind: empty, a few keys, in-cache sized, and one that a value
        // crowds (every other key is 5).
        let mixed: Vec<u32> = r
            .iter()
            .enumerate()
            .map(|(i, &x)| if i % 2 == 0 { 5 } else { (x as u32) >> (i % 7) })
            .collect();
        let mut v = mixed.clone();
        radix_sort_tuned::<Small, _>(&mut v);
        assert_eq!(patterns(&v), expected(&mixed));
    }

    #[test]
    fn sorted_stretches_sort_through_blocks_stably() {
        // Pairs in key order, three to a key, then one in a hundred swapped with another.
        let n = 3 * Small::NT_BYTES / 8 + 777;
        let r = lcg(n / 100, 31);
        let mut pairs: Vec<KeyValue> = (0..n)
            .map(|i| KeyValue {
                key: (i / 3) as u32 * 4099,
                value: i as u32,
            })
            .collect();
        for (j, &x) in r.iter().enumerate() {
            pairs.swap(j * 100, x as usize % n);
        }
        let sampled = sampled_bits(&pairs);
        let in_runs = match choose_split::<Small, _>(&pairs, sampled, 1) {
            Split::Digit(digit) => crate::backend::cpu::radix::scatter::in_runs(&pairs, &digit),
            Split::Map(map) => crate::backend::cpu::radix::scatter::in_runs(&pairs, &map),
            Split::Spread(map) => crate::backend::cpu::radix::scatter::in_runs(&pairs, &map),
        };
        assert!(in_runs, "consecutive keys mostly in one bucket");
        assert!(fit_on(&pairs, 2));
        check_stable(&pairs);
    }

    /// Whether the chains of `threads` threads' splits of `keys` fit [`Tuning::PAR_ROOM`].
    fn fit_on<K: SortKey>(keys: &[K], threads: usize) -> bool {
        let buckets = match choose_split::<Small, _>(keys, sampled_bits(keys), threads) {
            Split::Digit(digit) => digit.buckets(),
            Split::Map(map) => map.buckets(),
            Split::Spread(map) => map.buckets(),
        };
        let parts = keys.len().div_ceil(chunk_len(keys.len(), threads));
        chains_fit::<Small, K>(keys.len(), parts, buckets)
    }

    /// `keys` sorted by [`par_sort`] on `threads` threads, as bit patterns.
    fn par_sorted<K: SortKey>(keys: &[K], threads: usize) -> Vec<u64> {
        let mut v = keys.to_vec();
        let sampled = sampled_bits(&v);
        in_pool(threads, || {
            par_sort::<Small, _>(&mut v, sampled, par_radix_sort_tuned::<Small, _>)
        });
        patterns(&v)
    }

    #[test]
    fn on_two_threads_a_large_input_sorts_through_each_threads_blocks() {
        let n = 3 * Small::NT_BYTES / 8 + 777;
        let r = lcg(n, 21);
        let uniform: Vec<u32> = r.iter().map(|&x| x as u32).collect();
        let floats: Vec<f64> = r.iter().map(|&x| (x as f64) - 1e18).collect();
        // Every other key 5: a bucket of half the keys, sorted on all threads.
        let crowded: Vec<u32> = r
            .iter()
            .enumerate()
            .map(|(i, &x)| if i % 2 == 0 { 5 } else { (x as u32) >> (i % 7) })
            .collect();
        assert!(fit_on(&uniform, 2) && fit_on(&floats, 2) && fit_on(&crowded, 2));
        assert_eq!(par_sorted(&uniform, 2), expected(&uniform));
        assert_eq!(par_sorted(&floats, 2), expected(&floats));
        assert_eq!(par_sorted(&crowded, 2), expected(&crowded));
        // Equal keys keep their input order across the two threads' chains.
        let pairs = numbered_pairs(&r, 0x3ff);
        assert!(fit_on(&pairs, 2));
        let mut v = pairs.clone();
        let sampled = sampled_bits(&v);
        in_pool(2, || {
            par_sort::<Small, _>(&mut v, sampled, par_radix_sort_tuned::<Small, _>)
        });
        let mut want: Vec<KeyValue> = pairs.clone();
        want.sort_by_key(|p| p.key);
        assert_eq!(v, want);
    }

    #[test]
    fn with_too_many_threads_for_their_chains_the_counting_split_sorts() {
        let keys: Vec<u32> = lcg(3 * Small::NT_BYTES / 8 + 777, 22)
            .iter()
            .map(|&x| x as u32)
            .collect();
        assert!(!fit_on(&keys, 8));
        assert_eq!(par_sorted(&keys, 8), expected(&keys));
    }

    #[test]
    fn a_bucket_in_blocks_that_one_value_crowds_is_partitioned_from_its_blocks() {
        let r = lcg(2000, 6);
        // 9 at three keys in four, the rest on both sides of it.
        let keys: Vec<u32> = r
            .iter()
            .map(|&x| if x % 4 == 0 { (x >> 40) as u32 % 20 } else { 9 })
            .collect();
        let pairs = numbered_pairs(&keys.iter().map(|&k| u64::from(k)).collect::<Vec<_>>(), !0);
        for len in [1, 64, 333, 2000] {
            let chunks: Vec<&[u32]> = keys.chunks(len).collect();
            let pivot = pivot_in::<Small, _>(&chunks).expect("9 holds three keys in four");
            let mut out = vec![0u32; keys.len()];
            let (below, equal) = split_keys_around(&chunks, pivot.value, &mut out);
            assert_eq!(below, keys.iter().filter(|&&k| k < 9).count());
            assert_eq!(equal, keys.iter().filter(|&&k| k == 9).count());
            assert!(out[below..below + equal].iter().all(|&k| k == 9));
            let mut out = vec![0u32; keys.len()];
            assert!(partition_into::<Small, _>(
                &chunks,
                &mut out,
                pivot,
                u64::MAX,
                &mut Vec::new()
            ));
            assert_eq!(patterns(&out), expected(&keys), "chunks of {len}");
            // Pairs keep their input order among equal keys.
            let chunks: Vec<&[KeyValue]> = pairs.chunks(len).collect();
            let pivot = pivot_in::<Small, _>(&chunks).expect("9 holds three keys in four");
            let mut out = vec![pairs[0]; pairs.len()];
            assert!(partition_into::<Small, _>(
                &chunks,
                &mut out,
                pivot,
                u64::MAX,
                &mut Vec::new()
            ));
            let mut want = pairs.clone();
            want.sort_by_key(|p| p.key);
            assert_eq!(out, want, "pairs in chunks of {len}");
        }
        // Where 9 turns out to hold only half of the pairs, their partition declines.
        let halves = half_one_key(2000, 9);
        let nine = Pivot {
            value: bits(halves[0]),
            few: false,
        };
        let mut out = halves.clone();
        assert!(!partition_into::<Small, _>(
            &[&halves[..]],
            &mut out,
            nine,
            u64::MAX,
            &mut Vec::new()
        ));
        // A bucket of one value is found in order, and only copied.
        let one = vec![9u32; 1000];
        let chunks: Vec<&[u32]> = one.chunks(77).collect();
        assert!(ascending(&chunks) && !ascending(&keys.chunks(77).collect::<Vec<_>>()));
        let mut out = vec![0u32; one.len()];
        sort_bucket::<Small, _>(&chunks, &mut out, u64::MAX, Ahead::NONE, &mut Vec::new());
        assert_eq!(out, one);
    }

    #[test]
    fn a_bucket_in_blocks_is_looked_at_for_a_pivot_as_in_one_slice() {
        let r = lcg(1000, 4);
        for every in [4, 2, 1] {
            // Value 9 at three keys in four, at every other key, and at none.
            let keys: Vec<u32> = (0..r.len())
                .map(|i| if i % 4 < 4 - every { 9 } else { r[i] as u32 })
                .collect();
            let whole = pivot::<Small, _>(&keys);
            for len in [1, 7, 64, 333] {
                let chunks: Vec<&[u32]> = keys.chunks(len).collect();
                assert_eq!(pivot_in::<Small, _>(&chunks), whole, "chunks of {len}");
            }
            assert_eq!(whole.is_some(), every == 1, "9 in {} of 4", 4 - every);
        }
    }
}
