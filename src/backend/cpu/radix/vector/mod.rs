//! The in-cache sort of a bucket of 32-bit keys on a CPU with AVX-512: a quicksort whose
//! partitions and leaves work on sixteen keys at a time.
//!
//! After the split, a bucket of u32 keys still varies in about 21 bits, which the LSD sort
//! covers in two scatter passes and a histogram read: about a dozen scalar operations per key,
//! most of them loads and stores that wait on one another. Sixteen lanes do better:
//!
//! - a **partition** compares sixteen keys with the pivot at once and moves those at most the
//!   pivot to the front of the segment and the rest to its back, each group packed by one
//!   compress instruction;
//! - a segment of at most [`LEAF_MAX`] keys is a **leaf**: up to eight registers, sorted by a
//!   bitonic network of minimum and maximum instructions and written back in place.
//!
//! The partitions work **in place** (see [`partition_in_place`]), so a bucket of 8K keys
//! (32 KiB) keeps to L1 once its first partition has read it. That first partition reads the
//! bucket's keys where they are (the blocks of a blocked split, or the bucket itself), writes
//! them into the destination and maps signed and float keys to their ordered bits
//! ([`SortKey::ordered_bits`]); the leaves map them back as they write. Keys are compared as
//! unsigned integers, so the sort is not stable: it serves keys alone, where equal keys
//! cannot be told apart, and never pairs. In the cache it is faster than the LSD sort, whose
//! three passes over keys that vary in all 32 bits each move every key, and partitions in place
//! beat partitions between two buffers.
//!
//! A segment whose pivot turns out to be its largest key is partitioned again below it, and
//! the keys equal to the pivot are written out at once, so a run of equal keys costs two passes
//! at most; a segment still unsorted after [`DEPTH_LIMIT`] partitions (a pattern that defeats
//! the pivots) is finished by std's sort.
//!
//! The pivot of a segment is the median of 16 of its keys, or of three in a segment of at most
//! [`CHEAP_PIVOT_MAX`]. Like the LSD sort, the partitions prefetch the next bucket a few lines
//! at a time (see [`Ahead`]).
//!
//! **Where it runs.** The radix sort hands it every bucket it would otherwise sort by LSD
//! passes in the cache, with one exception: after a split into blocks, buckets of up to twice
//! the size a split aims for keep the LSD sort that reads them from their blocks: inside the
//! blocked split of 2^24 u32 keys on one thread (buckets of 32 KiB), the quicksort's buckets
//! made the whole sort slower, in place too, for reasons not yet found, where larger buckets
//! (2^26 keys, 128 KiB) it sorts faster.
//!
//! The algorithm is written once over [`Lanes`], sixteen lanes and the operations the sort
//! needs. `Avx512` runs it; the tests also run it on a plain-array model of the same
//! operations, so that its logic is checked on every machine and its instructions wherever
//! the CPU has them. Setting `SORTMARK_RADIX_VECTOR=off` in the environment keeps the scalar
//! LSD sort, to compare the two on one machine.

// Without AVX-512 (off x86-64, or with `--cfg sortmark_portable`) the algorithm over `Lanes` runs
// only in the tests, on the model lanes.
#![cfg_attr(any(not(target_arch = "x86_64"), sortmark_portable), allow(dead_code))]

mod network;
mod partition;

#[cfg(test)]
mod model;

#[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
mod x86;
#[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
use x86 as simd;

#[cfg(any(not(target_arch = "x86_64"), sortmark_portable))]
mod portable;
#[cfg(any(not(target_arch = "x86_64"), sortmark_portable))]
use portable as simd;

use crate::backend::cpu::radix::prefetch::{Ahead, Prefetch};
use crate::data::SortKey;
use Order::Unsigned;
use network::{finish_with_std, leaf};
use partition::{
    children, gather, median_of_three, partition_segment, partition_segment_in_place, pivot_of,
};
use std::any::TypeId;
use std::sync::OnceLock;

/// Segments of at most this many keys (eight registers) are sorted by a network in registers.
const LEAF_MAX: usize = 128;

/// Partitions a segment may go through before std's sort finishes it; a balanced quicksort of
/// the largest bucket ([`super::LSD_BYTES`] of keys) needs about 12.
pub(super) const DEPTH_LIMIT: usize = 48;

/// Segments of at most this many keys take the median of three keys as their pivot: a
/// median of 16 costs more than its better split saves there.
const CHEAP_PIVOT_MAX: usize = 512;

/// The sort's limits: leaves of 128 keys rather than 64, and pivots of three keys for short
/// segments, each of which makes the in-cache sort faster.
const LIMITS: PartitionLimits = PartitionLimits {
    depth: DEPTH_LIMIT,
    leaf: LEAF_MAX,
    cheap_pivot: CHEAP_PIVOT_MAX,
};

/// Keys a partition moves between two steps of the prefetch of the next bucket.
pub(super) const PREFETCH_KEYS: usize = 64;

/// How a key's 32 bits map to their order (see [`SortKey::ordered_bits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Order {
    /// u32: the bits are the order.
    Unsigned,
    /// i32: the sign bit flipped.
    Signed,
    /// f32: negative values flipped whole, positive ones their sign bit set.
    Float,
}

pub(super) const SIGN: u32 = 1 << 31;

/// The [`Order`] of `K`'s bits, for the key types this sort serves.
fn order_of<K: SortKey>() -> Option<Order> {
    let id = TypeId::of::<K>();
    if id == TypeId::of::<u32>() {
        Some(Order::Unsigned)
    } else if id == TypeId::of::<i32>() {
        Some(Order::Signed)
    } else if id == TypeId::of::<f32>() {
        Some(Order::Float)
    } else {
        None
    }
}

/// The key whose ordered bits are `bits`: the scalar inverse of [`to_ordered`].
pub(super) fn from_ordered_bits(bits: u32, order: Order) -> u32 {
    match order {
        Order::Unsigned => bits,
        Order::Signed => bits ^ SIGN,
        Order::Float if bits & SIGN != 0 => bits ^ SIGN,
        Order::Float => !bits,
    }
}

/// Whether [`sort_chunks`] and [`sort_slice`] sort keys of type `K` on this machine: 32-bit
/// keys alone, on a CPU with AVX-512, unless `SORTMARK_RADIX_VECTOR=off`.
pub(super) fn sorts<K: SortKey>() -> bool {
    order_of::<K>().is_some() && enabled()
}

/// Whether this CPU runs `Avx512` and the environment allows it; asked once.
fn enabled() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| {
        let allowed = std::env::var("SORTMARK_RADIX_VECTOR").map_or(true, |v| v != "off");
        allowed && simd::available()
    })
}

/// Sorts the keys of `chunks` (together as many as `out` holds) into `out`. Only for keys
/// and machines that [`sorts`] allows.
pub(super) fn sort_chunks<K: SortKey>(chunks: &[&[K]], out: &mut [K], ahead: Ahead) {
    let order = order_of::<K>().expect("called only for the key types `sorts` allows");
    let n = out.len();
    assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), n);
    let mut prefetch = prefetch_for(ahead, n);
    let sources = chunks.iter().map(|c| (c.as_ptr().cast::<u32>(), c.len()));
    // SAFETY: `K` is a plain 32-bit type (`order_of`), so its slices are slices of u32. The
    // chunks are read-only and apart from `out`, which is as long as they are together. The
    // caller checked for AVX-512 (`sorts`).
    unsafe {
        simd::sort(
            sources,
            out.as_mut_ptr().cast(),
            n,
            false,
            order,
            LIMITS,
            &mut prefetch,
        )
    }
}

/// Sorts `src` into `dst` (as long) when `result_in_dst`, else in place. Only for keys and
/// machines that [`sorts`] allows.
pub(super) fn sort_slice<K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    ahead: Ahead,
) {
    let order = order_of::<K>().expect("called only for the key types `sorts` allows");
    let n = src.len();
    assert_eq!(dst.len(), n);
    let mut prefetch = prefetch_for(ahead, n);
    let src = src.as_mut_ptr().cast::<u32>();
    let sources = std::iter::once((src.cast_const(), n));
    let (out, in_place) = if result_in_dst {
        (dst.as_mut_ptr().cast(), false)
    } else {
        (src, true)
    };
    // SAFETY: as in `sort_chunks`; sorted in place, the one chunk is `out` itself.
    unsafe { simd::sort(sources, out, n, in_place, order, LIMITS, &mut prefetch) }
}

/// The prefetch of the bucket `ahead`, spread over the partitions of a sort of `n` keys: about
/// one pass over them for each level of partitions above the leaves.
fn prefetch_for(ahead: Ahead, n: usize) -> Prefetch {
    let levels = (n / LEAF_MAX).max(2).ilog2() as usize;
    Prefetch::spread(ahead, levels * n.div_ceil(PREFETCH_KEYS))
}

/// Sixteen 32-bit lanes and the operations the sort is written in.
pub(super) trait Lanes: Copy {
    /// Every lane `x`.
    fn splat(x: u32) -> Self;
    /// The lanes of `lanes`.
    fn from_array(lanes: &[u32; 16]) -> Self;
    /// The lanes as an array.
    fn to_array(self) -> [u32; 16];
    /// The first `count` (at most 16) lanes read from `src`, the others `fill`.
    ///
    /// # Safety
    /// `src` is valid for reading `count` u32s.
    unsafe fn load(src: *const u32, count: usize, fill: u32) -> Self;
    /// Writes the first `count` (at most 16) lanes to `dst`.
    ///
    /// # Safety
    /// `dst` is valid for writing `count` u32s.
    unsafe fn store(self, dst: *mut u32, count: usize);
    /// Lane-wise unsigned minimum.
    fn min(self, other: Self) -> Self;
    /// Lane-wise unsigned maximum.
    fn max(self, other: Self) -> Self;
    /// The maximum of `self` and `other` in the lanes of `max_lanes`, their minimum elsewhere.
    fn min_max(self, other: Self, max_lanes: u16) -> Self;
    /// Lane `i` of the result is lane `index[i]` (below 16) of `self`.
    fn permute(self, index: Self) -> Self;
    /// Lane `i` of the result is lane `index[i]` of `self` where that is below 16, else
    /// lane `index[i] - 16` (below 16) of `other`.
    fn permute2(self, index: Self, other: Self) -> Self;
    /// Bit `i` set where lane `i` is at most `pivot`'s, unsigned.
    fn at_most(self, pivot: Self) -> u16;
    /// The lanes of `lanes` moved, in order, to the front; the others 0.
    fn compress(self, lanes: u16) -> Self;
    /// Lane-wise exclusive or.
    fn xor(self, other: Self) -> Self;
    /// Lane-wise or.
    fn or(self, other: Self) -> Self;
    /// Each lane's top bit copied into all of its bits.
    fn sign_fill(self) -> Self;
}

/// The bit mask of the first `count` lanes.
#[inline(always)]
pub(super) fn first(count: usize) -> u16 {
    if count >= 16 {
        u16::MAX
    } else {
        (1 << count) - 1
    }
}

/// Keys in `order` mapped to their ordered bits.
#[inline(always)]
pub(super) fn to_ordered<V: Lanes>(keys: V, order: Order) -> V {
    match order {
        Order::Unsigned => keys,
        Order::Signed => keys.xor(V::splat(SIGN)),
        Order::Float => keys.xor(keys.sign_fill().or(V::splat(SIGN))),
    }
}

/// Ordered bits mapped back to keys in `order`.
#[inline(always)]
pub(super) fn from_ordered<V: Lanes>(bits: V, order: Order) -> V {
    match order {
        Order::Unsigned => bits,
        Order::Signed => bits.xor(V::splat(SIGN)),
        Order::Float => bits.xor(bits.sign_fill().xor(V::splat(u32::MAX)).or(V::splat(SIGN))),
    }
}

/// A range of the output still to sort, as ordered bits.
#[derive(Clone, Copy, Default)]
pub(super) struct Segment {
    start: usize,
    end: usize,
    /// Partitions it has been through.
    depth: usize,
}

/// The sort of the module docs over the lanes `V`: sorts the `n` keys read from `sources`
/// (address and length of each chunk, in order), in `order`, into `out`, partitioning within
/// `limits`; `step` is called every [`PREFETCH_KEYS`] keys a partition moves. With `in_place`,
/// the one chunk is `out` itself; otherwise the first partition moves the keys from the
/// chunks to `out`. Every later partition works in place.
///
/// # Safety
/// `out` is valid for reading and writing `n` u32s; the chunks are valid for reading and add
/// up to `n` u32s; they do not overlap `out` unless `in_place`, where they are `out`.
#[inline(always)]
pub(super) unsafe fn sort_lanes<V: Lanes, I>(
    sources: I,
    out: *mut u32,
    n: usize,
    in_place: bool,
    order: Order,
    limits: PartitionLimits,
    prefetch: &mut Prefetch,
) where
    I: Iterator<Item = (*const u32, usize)> + Clone,
{
    unsafe {
        if n <= limits.leaf {
            if !in_place {
                gather(sources, out);
            }
            leaf::<V>(out, out, n, order, order);
            return;
        }
        let pivot = pivot_of::<V, _>(sources.clone(), n, order);
        let parts = if in_place {
            partition_segment_in_place::<V>(out, n, pivot, (order, order), prefetch)
        } else {
            partition_segment::<V, _>(sources, out, n, pivot, (order, order), prefetch)
        };
        let root = Segment {
            start: 0,
            end: n,
            depth: 0,
        };
        let mut stack = [Segment::default(); DEPTH_LIMIT + 2];
        let mut waiting = 0;
        for child in children(root, parts) {
            stack[waiting] = child;
            waiting += 1;
        }
        while waiting > 0 {
            waiting -= 1;
            let seg = stack[waiting];
            let len = seg.end - seg.start;
            let keys = out.add(seg.start);
            if len <= limits.leaf {
                leaf::<V>(keys, keys, len, Unsigned, order);
                continue;
            }
            if seg.depth >= limits.depth.min(DEPTH_LIMIT) {
                finish_with_std(keys, len, order);
                continue;
            }
            let pivot = if len <= limits.cheap_pivot {
                median_of_three(keys, len)
            } else {
                pivot_of::<V, _>(std::iter::once((keys.cast_const(), len)), len, Unsigned)
            };
            let parts =
                partition_segment_in_place::<V>(keys, len, pivot, (Unsigned, order), prefetch);
            for child in children(seg, parts) {
                stack[waiting] = child;
                waiting += 1;
            }
        }
    }
}

/// How deep and how fine [`sort_lanes`] partitions.
#[derive(Clone, Copy, Debug)]
pub(super) struct PartitionLimits {
    /// Partitions a segment may go through before std's sort finishes it.
    depth: usize,
    /// The longest segment sorted as a leaf, at most [`LEAF_MAX`].
    leaf: usize,
    /// The longest segment whose pivot is the median of three keys rather than of 16.
    cheap_pivot: usize,
}

#[cfg(test)]
mod tests {
    use super::model::{
        Model, chunked, every_partition_limits, inputs, on_every_lanes, ordered, reference,
    };
    use super::*;
    use crate::backend::cpu::radix::test_support::lcg;

    #[test]
    fn sorts_every_shape_from_chunks_in_every_key_order() {
        on_every_lanes(|sort| {
            for keys in inputs() {
                for order in [Order::Unsigned, Order::Signed, Order::Float] {
                    for limits in every_partition_limits() {
                        let mut out = vec![0; keys.len()];
                        sort(&chunked(&keys), &mut out, order, limits);
                        let n = keys.len();
                        assert_eq!(
                            out,
                            reference(&keys, order),
                            "{order:?}, {n} keys, {limits:?}"
                        );
                    }
                }
            }
        });
    }

    #[test]
    fn floats_sort_as_their_total_order_with_every_special_value() {
        let specials = [
            0.0f32,
            -0.0,
            1.0,
            -1.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MIN_POSITIVE,
            -f32::MIN_POSITIVE,
            f32::MAX,
            f32::MIN,
            1e-45,
            -1e-45,
        ];
        let nans = [
            f32::NAN.to_bits(),
            (-f32::NAN).to_bits(),
            0x7fc0_0001,
            0xffff_ffff,
        ];
        let mut keys: Vec<u32> = specials.iter().map(|f| f.to_bits()).chain(nans).collect();
        let random = lcg(300, 99);
        keys.extend(random.iter().map(|&x| (x as f32 - 2e18).to_bits()));
        keys = keys.iter().cycle().take(keys.len() * 3).copied().collect();
        on_every_lanes(|sort| {
            let mut out = vec![0; keys.len()];
            sort(
                &[&keys],
                &mut out,
                Order::Float,
                every_partition_limits()[0],
            );
            let expected: Vec<u32> = {
                let mut floats: Vec<f32> = keys.iter().map(|&k| f32::from_bits(k)).collect();
                floats.sort_by(f32::total_cmp);
                floats.iter().map(|f| f.to_bits()).collect()
            };
            assert_eq!(out, expected);
        });
    }

    #[test]
    fn a_segment_too_deep_is_finished_by_std_sort() {
        // With a limit of 2, every input over a few hundred keys reaches it.
        let keys: Vec<u32> = lcg(5000, 3).iter().map(|&x| x as u32).collect();
        on_every_lanes(|sort| {
            for order in [Order::Unsigned, Order::Float] {
                let mut out = vec![0; keys.len()];
                sort(
                    &[&keys],
                    &mut out,
                    order,
                    PartitionLimits {
                        depth: 2,
                        ..every_partition_limits()[0]
                    },
                );
                assert_eq!(out, reference(&keys, order));
            }
        });
    }

    #[test]
    fn the_scalar_inverse_matches_sortkey() {
        for bits in lcg(1000, 5)
            .iter()
            .map(|&x| x as u32)
            .chain([0, SIGN, u32::MAX, SIGN - 1])
        {
            assert_eq!(
                from_ordered_bits(bits, Order::Signed),
                i32::from_ordered_bits(bits.into()) as u32
            );
            assert_eq!(
                from_ordered_bits(bits, Order::Float),
                f32::from_ordered_bits(bits.into()).to_bits()
            );
            for order in [Order::Unsigned, Order::Signed, Order::Float] {
                let lanes = Model::splat(bits);
                assert_eq!(
                    from_ordered(lanes, order).0[0],
                    from_ordered_bits(bits, order)
                );
                assert_eq!(ordered(from_ordered_bits(bits, order), order), bits);
                assert_eq!(
                    to_ordered(Model::splat(from_ordered_bits(bits, order)), order).0[0],
                    bits
                );
            }
        }
    }
}
