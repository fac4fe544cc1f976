//! The parallel sort on the current rayon pool: chunked splits, partitions and the sort of
//! the buckets spread over the threads.

use std::mem::size_of_val;

use rayon::prelude::*;

use super::choose::{Split, choose_split};
use super::count::{Counts, histogram_and_bits};
use super::layout::chunk_len;
use super::order::par_presorted;
use super::pivot::{Pivot, count_around, equal_key, pivot, scatter_around, thirds};
use super::plan::{KnownBits, bits, par_varying_bits, same_top_bit};
use super::prefetch::Ahead;
use super::prefix::Bucketer;
use super::scatter::{scatter_combined, streams};
use super::split::{bucket_pairs, bucket_regions, inner_masks, sort_into};
use super::tuning::Tuning;
use crate::data::SortKey;

/// [`place`](super::layout::place) for large runs, copying in parallel.
fn par_place<K: SortKey>(src: &[K], dst: &mut [K], result_in_dst: bool) {
    if result_in_dst {
        let chunk = chunk_len(src.len(), rayon::current_num_threads());
        dst.par_chunks_mut(chunk)
            .zip(src.par_chunks(chunk))
            .for_each(|(d, s)| d.copy_from_slice(s));
    }
}

/// [`sort_into`] on all threads of the current pool.
fn par_sort_into<T: Tuning, K: SortKey>(src: &mut [K], dst: &mut [K], result_in_dst: bool) {
    let threads = rayon::current_num_threads();
    let mask = if par_presorted(src, threads) {
        0
    } else {
        par_varying_bits(src, threads)
    };
    if mask == 0 {
        par_place(src, dst, result_in_dst);
        return;
    }
    // A bucket this large that one value holds (of skewed keys) would otherwise take a
    // parallel split for each level of bits the value shares with its neighbours. (The
    // partition must be parallel too: `partition_around` on one thread would leave the other
    // threads waiting on the one pass over the bucket.)
    if let Some(pivot) = pivot::<T, _>(src)
        && par_partition_around::<T, _>(src, dst, result_in_dst, pivot, mask)
    {
        return;
    }
    par_split::<T, _>(src, dst, result_in_dst, mask, KnownBits::Exact);
}

/// [`partition_around`](super::split::partition_around) on all threads: each chunk of `src` counts its keys below and equal
/// to `value`, then moves them into a region of its own in each of the three parts, in chunk
/// order, so that the partition stays stable. The parts below and above are then sorted on.
pub(super) fn par_partition_around<T: Tuning, K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    pivot: Pivot,
    mask: u64,
) -> bool {
    let value = pivot.value;
    let chunk = chunk_len(src.len(), rayon::current_num_threads());
    let (belows, equals): (Vec<usize>, Vec<usize>) = src
        .par_chunks(chunk)
        .map(|keys| count_around(keys, value))
        .unzip();
    let (below, equal) = (belows.iter().sum(), equals.iter().sum());
    if !pivot.pays(equal, src.len()) {
        return false;
    }
    let aboves: Vec<usize> = src
        .chunks(chunk)
        .zip(belows.iter().zip(&equals))
        .map(|(keys, (b, e))| keys.len() - b - e)
        .collect();
    let pivot_key = equal_key::<K>(value);
    let [dst_below, dst_equal, dst_above] = thirds(dst, below, equal);
    let regions = bucket_regions(dst_below, &belows)
        .into_iter()
        .zip(bucket_regions(dst_equal, &equals))
        .zip(bucket_regions(dst_above, &aboves));
    src.par_chunks(chunk)
        .zip(regions.collect::<Vec<_>>())
        .for_each(|(keys, ((b, e), a))| scatter_around(keys, value, [b, e, a]));
    let [dst_below, dst_equal, dst_above] = thirds(dst, below, equal);
    let [src_below, src_equal, src_above] = thirds(src, below, equal);
    rayon::join(
        || par_sort_part::<T, _>(dst_below, src_below, !result_in_dst, mask),
        || par_sort_part::<T, _>(dst_above, src_above, !result_in_dst, mask),
    );
    match pivot_key {
        Some(key) => {
            let equal = if result_in_dst { dst_equal } else { src_equal };
            equal.par_chunks_mut(chunk).for_each(|part| part.fill(key));
        }
        None => par_place(dst_equal, src_equal, !result_in_dst),
    }
    true
}

/// Sorts a part of a bucket (keys varying in no bits outside `mask`) as [`sort_into`] does,
/// on all threads where it is large enough to gain from them.
fn par_sort_part<T: Tuning, K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    mask: u64,
) {
    if src.len() < T::PAR_MIN {
        sort_into::<T, _>(src, dst, result_in_dst, mask, Ahead::NONE);
    } else {
        par_sort_into::<T, _>(src, dst, result_in_dst);
    }
}

/// One parallel MSD split of `src` (keys varying in `mask`, not 0, as `check` says) into
/// `dst`, then the buckets sorted in parallel; the result ends in `dst` when `result_in_dst`.
pub(super) fn par_split<T: Tuning, K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    mask: u64,
    check: KnownBits,
) {
    match choose_split::<T, _>(src, mask, rayon::current_num_threads()) {
        Split::Digit(digit) => {
            par_split_by::<T, _, _>(src, dst, result_in_dst, &digit, mask, check)
        }
        Split::Map(map) => par_split_by::<T, _, _>(src, dst, result_in_dst, &map, mask, check),
        Split::Spread(map) => par_split_by::<T, _, _>(src, dst, result_in_dst, &map, mask, check),
    }
}

/// [`par_split`] by the bucketer `digit`.
pub(super) fn par_split_by<T: Tuning, K: SortKey, B: Bucketer>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    digit: &B,
    mask: u64,
    check: KnownBits,
) {
    let threads = rayon::current_num_threads();
    let n = src.len();
    let chunk = chunk_len(n, threads);
    let reference = bits(src[0]);
    let (chunk_counts, differ): (Vec<Box<Counts>>, Vec<u64>) = src
        .par_chunks(chunk)
        .map(|keys| histogram_and_bits(keys, digit, reference))
        .unzip();
    let exact = differ.iter().fold(0, |m, &d| m | d);
    if check == KnownBits::Guess && !same_top_bit(mask, exact) {
        par_split::<T, _>(src, dst, result_in_dst, exact, KnownBits::Exact);
        return;
    }
    let regions = chunk_regions(dst, &chunk_counts, digit.buckets());
    let streaming = streams::<T>(size_of_val(src), threads);
    src.par_chunks(chunk)
        .zip(regions)
        .for_each(|(keys, mut regions)| {
            scatter_combined::<T, _, _>(keys, &mut regions, digit, streaming)
        });

    let totals: Vec<usize> = (0..digit.buckets())
        .map(|b| chunk_counts.iter().map(|c| c[b]).sum())
        .collect();
    let big = (n / (2 * threads)).max(T::PAR_MIN);
    let inner = inner_masks(digit, exact, &totals);
    bucket_pairs(dst, src, &totals)
        .into_par_iter()
        .zip(inner)
        .with_max_len(1)
        .for_each(|((from, to), inner)| {
            if from.len() > big {
                par_sort_into::<T, _>(from, to, !result_in_dst);
            } else {
                // No prefetching here: the bucket after this one may go to another thread.
                sort_into::<T, _>(from, to, !result_in_dst, inner, Ahead::NONE);
            }
        });
}

/// `dst` cut into each chunk's region of each bucket: bucket by bucket, and within a bucket
/// chunk by chunk, so that the parallel scatter stays stable.
fn chunk_regions<'a, K>(
    dst: &'a mut [K],
    chunk_counts: &[Box<Counts>],
    buckets: usize,
) -> Vec<Vec<&'a mut [K]>> {
    let mut regions: Vec<Vec<&'a mut [K]>> = chunk_counts
        .iter()
        .map(|_| Vec::with_capacity(buckets))
        .collect();
    let mut rest = dst;
    for b in 0..buckets {
        for (row, counts) in regions.iter_mut().zip(chunk_counts) {
            let (head, tail) = rest.split_at_mut(counts[b]);
            row.push(head);
            rest = tail;
        }
    }
    regions
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{check_partition, check_stable, in_pool, lcg};
    use super::*;
    use crate::backend::cpu::radix::tuning::{Small, Tuning};
    use crate::data::KeyValue;

    #[test]
    fn a_value_holding_most_of_a_large_bucket_is_partitioned_around_on_all_threads() {
        // Three keys in five are 2^30; three in ten lie just below or above it, in its bucket
        // of a split by the top bits, and enough of them for parallel sorts of their own;
        // the rest lie anywhere.
        let centre = 1u32 << 30;
        let pairs: Vec<KeyValue> = lcg(40_000, 12)
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let near = (x >> 40) as u32 % (1 << 20) + 1;
                let key = match x % 20 {
                    0 | 1 => (x >> 32) as u32,
                    2..5 => centre - near,
                    5..8 => centre + near,
                    _ => centre,
                };
                KeyValue {
                    key,
                    value: i as u32,
                }
            })
            .collect();
        let centre_pivot = Pivot {
            value: bits(KeyValue {
                key: centre,
                value: 0,
            }),
            few: false,
        };
        let below = pairs.iter().filter(|p| p.key < centre).count();
        assert!(below > 2 * Small::PAR_MIN, "{below} keys below");
        in_pool(3, || {
            check_partition(&pairs, centre_pivot, par_partition_around::<Small, _>)
        });
        check_stable(&pairs);
    }
}
