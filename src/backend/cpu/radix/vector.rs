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
//! cannot be told apart, and never pairs.
//!
//! Through [`super::radix_sort`], 2^13-key inputs held in the cache sorted one after another
//! at 2.4 ns a key on a 2-core Xeon with AVX-512, against 2.9 with the partitions between two
//! buffers that this sort first made, and 3.3 by the LSD sort (three passes over keys that
//! vary in all 32 bits); on the 16-core device at 4.2 against the LSD sort's 5.3.
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
//! the size a split aims for keep the LSD sort that reads them from their blocks. Inside the
//! blocked split of 2^24 u32 keys on one thread (buckets of 32 KiB), the quicksort's buckets
//! still made the whole sort slower, in place too: 221 Mkeys/s against 261 on the 2-core Xeon,
//! and no faster on the 16-core device, for reasons not yet found; with larger buckets
//! (2^26 keys, 128 KiB) it was about 10 % faster there.
//!
//! The algorithm is written once over [`Lanes`], sixteen lanes and the operations the sort
//! needs. `Avx512` runs it; the tests also run it on a plain-array model of the same
//! operations, so that its logic is checked on every machine and its instructions wherever
//! the CPU has them. Setting `SORTMARK_RADIX_VECTOR=off` in the environment keeps the scalar
//! LSD sort, to compare the two on one machine.

use std::any::TypeId;
use std::ops::Range;
use std::ptr;
use std::sync::OnceLock;

use super::{Ahead, Prefetch};
use crate::data::SortKey;
use Order::Unsigned;

/// Segments of at most this many keys (eight registers) are sorted by a network in registers.
const LEAF_MAX: usize = 128;

/// Partitions a segment may go through before std's sort finishes it; a balanced quicksort of
/// the largest bucket ([`super::LSD_BYTES`] of keys) needs about 12.
const DEPTH_LIMIT: usize = 48;

/// Segments of at most this many keys take the median of three keys as their pivot: a
/// median of 16 costs more than its better split saves there.
const CHEAP_PIVOT_MAX: usize = 512;

/// The sort's limits. Leaves of 128 keys rather than 64, and pivots of three keys for short
/// segments, each made the in-cache sort faster on the 16-core device.
const LIMITS: Limits = Limits {
    depth: DEPTH_LIMIT,
    leaf: LEAF_MAX,
    cheap_pivot: CHEAP_PIVOT_MAX,
};

/// Keys a partition moves between two steps of the prefetch of the next bucket.
const PREFETCH_KEYS: usize = 64;

/// How a key's 32 bits map to their order (see [`SortKey::ordered_bits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Order {
    /// u32: the bits are the order.
    Unsigned,
    /// i32: the sign bit flipped.
    Signed,
    /// f32: negative values flipped whole, positive ones their sign bit set.
    Float,
}

const SIGN: u32 = 1 << 31;

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
fn from_ordered_bits(bits: u32, order: Order) -> u32 {
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
        allowed && avx512::available()
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
        avx512::sort(
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
    unsafe { avx512::sort(sources, out, n, in_place, order, LIMITS, &mut prefetch) }
}

/// The prefetch of the bucket `ahead`, spread over the partitions of a sort of `n` keys: about
/// one pass over them for each level of partitions above the leaves.
fn prefetch_for(ahead: Ahead, n: usize) -> Prefetch {
    let levels = (n / LEAF_MAX).max(2).ilog2() as usize;
    Prefetch::spread(ahead, levels * n.div_ceil(PREFETCH_KEYS))
}

/// Sixteen 32-bit lanes and the operations the sort is written in.
trait Lanes: Copy {
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
fn first(count: usize) -> u16 {
    if count >= 16 {
        u16::MAX
    } else {
        (1 << count) - 1
    }
}

/// Keys in `order` mapped to their ordered bits.
#[inline(always)]
fn to_ordered<V: Lanes>(keys: V, order: Order) -> V {
    match order {
        Order::Unsigned => keys,
        Order::Signed => keys.xor(V::splat(SIGN)),
        Order::Float => keys.xor(keys.sign_fill().or(V::splat(SIGN))),
    }
}

/// Ordered bits mapped back to keys in `order`.
#[inline(always)]
fn from_ordered<V: Lanes>(bits: V, order: Order) -> V {
    match order {
        Order::Unsigned => bits,
        Order::Signed => bits.xor(V::splat(SIGN)),
        Order::Float => bits.xor(bits.sign_fill().xor(V::splat(u32::MAX)).or(V::splat(SIGN))),
    }
}

/// A range of the output still to sort, as ordered bits.
#[derive(Clone, Copy, Default)]
struct Segment {
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
unsafe fn sort_lanes<V: Lanes, I>(
    sources: I,
    out: *mut u32,
    n: usize,
    in_place: bool,
    order: Order,
    limits: Limits,
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
struct Limits {
    /// Partitions a segment may go through before std's sort finishes it.
    depth: usize,
    /// The longest segment sorted as a leaf, at most [`LEAF_MAX`].
    leaf: usize,
    /// The longest segment whose pivot is the median of three keys rather than of 16.
    cheap_pivot: usize,
}

/// The median of the keys at a quarter, half and three quarters of the `len` at `src`.
///
/// # Safety
/// `src` is valid for reading `len` u32s, `len` at least 4.
#[inline(always)]
unsafe fn median_of_three(src: *const u32, len: usize) -> u32 {
    let [a, b, c] = [len / 4, len / 2, len / 4 * 3].map(|i| unsafe { src.add(i).read() });
    a.max(b).min(a.min(b).max(c))
}

/// The result of [`partition_segment`]: how many keys went to the front, and whether the
/// others are done (all equal, and written out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Parts {
    below: usize,
    rest_done: bool,
}

/// The segments left to sort once `seg` is partitioned into `parts`.
fn children(seg: Segment, parts: Parts) -> impl Iterator<Item = Segment> {
    let middle = seg.start + parts.below;
    let child = |start, end| Segment {
        start,
        end,
        depth: seg.depth + 1,
    };
    let front = (parts.below > 0).then(|| child(seg.start, middle));
    let back = (!parts.rest_done && middle < seg.end).then(|| child(middle, seg.end));
    front.into_iter().chain(back)
}

/// Copies the keys of `sources` to `dst`, in order.
///
/// # Safety
/// As for [`sort_lanes`]; `dst` has room for them all.
#[inline(always)]
unsafe fn gather<I: Iterator<Item = (*const u32, usize)>>(sources: I, dst: *mut u32) {
    let mut at = 0;
    for (src, len) in sources {
        unsafe { ptr::copy_nonoverlapping(src, dst.add(at), len) };
        at += len;
    }
}

/// A pivot for the `n` keys of `sources` (more than 16, in `load` order): the median of 16
/// evenly spaced ones, as ordered bits.
///
/// # Safety
/// As for [`sort_lanes`].
#[inline(always)]
unsafe fn pivot_of<V: Lanes, I>(sources: I, n: usize, load: Order) -> u32
where
    I: Iterator<Item = (*const u32, usize)>,
{
    let mut samples = [0u32; 16];
    let (mut taken, mut base) = (0, 0);
    for (src, len) in sources {
        while taken < 16 {
            let at = (2 * taken + 1) * n / 32;
            if at >= base + len {
                break;
            }
            samples[taken] = unsafe { *src.add(at - base) };
            taken += 1;
        }
        base += len;
    }
    let mut regs = [to_ordered(V::from_array(&samples), load)];
    sort_regs::<V, 1>(&mut regs);
    regs[0].to_array()[7]
}

/// Partitions the `n` keys of `sources` (in `order.0`) into `out`, as ordered bits: those at
/// most `pivot` to the front, the others to the back. When that moves them all (the pivot is
/// their largest), partitions them again below the pivot and writes the keys equal to it
/// into their place as keys (in `order.1`).
///
/// # Safety
/// As for [`sort_lanes`]; `out` has room for `n` keys and overlaps no chunk.
#[inline(always)]
unsafe fn partition_segment<V: Lanes, I>(
    sources: I,
    out: *mut u32,
    n: usize,
    pivot: u32,
    order: (Order, Order),
    prefetch: &mut Prefetch,
) -> Parts
where
    I: Iterator<Item = (*const u32, usize)> + Clone,
{
    unsafe {
        let below = partition::<V, _>(sources.clone(), out, n, pivot, order.0, prefetch);
        if below < n {
            return Parts {
                below,
                rest_done: false,
            };
        }
        let below = match pivot.checked_sub(1) {
            Some(under) => partition::<V, _>(sources, out, n, under, order.0, prefetch),
            None => 0,
        };
        write_equal(out, below..n, pivot, order.1)
    }
}

/// [`partition_segment`] of the `n` keys at `keys`, in place.
///
/// # Safety
/// `keys` is valid for reading and writing `n` u32s.
#[inline(always)]
unsafe fn partition_segment_in_place<V: Lanes>(
    keys: *mut u32,
    n: usize,
    pivot: u32,
    order: (Order, Order),
    prefetch: &mut Prefetch,
) -> Parts {
    unsafe {
        let below = partition_in_place::<V>(keys, n, pivot, order.0, prefetch);
        if below < n {
            return Parts {
                below,
                rest_done: false,
            };
        }
        // The first partition left them all as ordered bits.
        let below = match pivot.checked_sub(1) {
            Some(under) => partition_in_place::<V>(keys, n, under, Unsigned, prefetch),
            None => 0,
        };
        write_equal(keys, below..n, pivot, order.1)
    }
}

/// Writes the key whose ordered bits are `pivot` (in `store` order) over `range` of `out`,
/// the keys equal to a pivot that was their segment's largest: those are done.
///
/// # Safety
/// `out` is valid for writing `range`.
#[inline(always)]
unsafe fn write_equal(out: *mut u32, range: Range<usize>, pivot: u32, store: Order) -> Parts {
    let key = from_ordered_bits(pivot, store);
    let below = range.start;
    for i in range {
        unsafe { out.add(i).write(key) };
    }
    Parts {
        below,
        rest_done: true,
    }
}

/// Moves the `n` keys of `sources` (in `load` order), as ordered bits, into `dst`: those at
/// most `pivot` packed at the front in order, the others at the back. Returns how many went
/// to the front.
///
/// # Safety
/// As for [`partition_segment`].
#[inline(always)]
unsafe fn partition<V: Lanes, I>(
    sources: I,
    dst: *mut u32,
    n: usize,
    pivot: u32,
    load: Order,
    prefetch: &mut Prefetch,
) -> usize
where
    I: Iterator<Item = (*const u32, usize)>,
{
    let pivot = V::splat(pivot);
    let mut ends = (0, n);
    let mut place = |keys: V, count: usize| {
        // SAFETY: `dst` has room for the `n` keys, and the two ends meet only after the last.
        unsafe { write_sides(keys, count, pivot, dst, &mut ends, false) }
    };
    for (src, len) in sources {
        let mut i = 0;
        while i + 64 <= len {
            for lane in (i..i + 64).step_by(16) {
                place(
                    to_ordered(unsafe { V::load(src.add(lane), 16, 0) }, load),
                    16,
                );
            }
            prefetch.step();
            i += 64;
        }
        while i + 16 <= len {
            place(to_ordered(unsafe { V::load(src.add(i), 16, 0) }, load), 16);
            i += 16;
        }
        if i < len {
            let count = len - i;
            place(
                to_ordered(unsafe { V::load(src.add(i), count, 0) }, load),
                count,
            );
        }
    }
    debug_assert_eq!(ends.0, ends.1);
    ends.0
}

/// Writes the first `count` keys of `keys` to the two ends of a partition at `dst`: those at
/// most `pivot` to the front at `ends.0`, in order, the others to the back, just below
/// `ends.1`; moves the ends past them. With `whole_front`, the front gets a whole vector, the
/// lanes past its keys landing in the room after them.
///
/// # Safety
/// `dst` is valid for writing at both ends: `count` keys below `ends.1`, and from `ends.0`
/// the keys at most `pivot`, or sixteen with `whole_front`.
#[inline(always)]
unsafe fn write_sides<V: Lanes>(
    keys: V,
    count: usize,
    pivot: V,
    dst: *mut u32,
    ends: &mut (usize, usize),
    whole_front: bool,
) {
    let (below, above) = ends;
    let low = keys.at_most(pivot) & first(count);
    let low_count = low.count_ones() as usize;
    let high_count = count - low_count;
    *above -= high_count;
    let front_count = if whole_front { 16 } else { low_count };
    unsafe {
        keys.compress(low).store(dst.add(*below), front_count);
        keys.compress(!low & first(count))
            .store(dst.add(*above), high_count);
    }
    *below += low_count;
}

/// Vectors of keys an in-place partition reads from one end at a time.
const UNROLL: usize = 4;
const _: () = assert!(16 * UNROLL == PREFETCH_KEYS);

/// The keys an in-place partition holds in registers before it writes any: the first and last
/// [`UNROLL`] vectors and the odd keys at the front.
const HELD_MAX: usize = 2 * 16 * UNROLL + 15;

/// Moves the `n` keys at `keys` (in `load` order), as ordered bits, within their place: those
/// at most `pivot` to the front, the others to the back. Returns how many went to the front.
///
/// It first holds the vectors at both ends in registers, which leaves room at each end; each
/// step then reads [`UNROLL`] vectors from the end with less room and writes the keys of each,
/// compressed, to the front (a whole vector, the lanes past the keys into the room) and the
/// back. The room at the two ends together stays what the registers hold, at least two steps'
/// worth, so neither write reaches keys still unread. At most [`HELD_MAX`] keys go through a
/// buffer on the stack instead.
///
/// # Safety
/// `keys` is valid for reading and writing `n` u32s.
#[inline(always)]
unsafe fn partition_in_place<V: Lanes>(
    keys: *mut u32,
    n: usize,
    pivot: u32,
    load: Order,
    prefetch: &mut Prefetch,
) -> usize {
    unsafe {
        if n <= HELD_MAX {
            let mut held = [0u32; HELD_MAX];
            ptr::copy_nonoverlapping(keys, held.as_mut_ptr(), n);
            let whole = std::iter::once((held.as_ptr(), n));
            return partition::<V, _>(whole, keys, n, pivot, load, prefetch);
        }
        let pivot = V::splat(pivot);
        let read = |at: usize, count: usize| to_ordered(V::load(keys.add(at), count, 0), load);
        let odd = n % 16;
        // (Loops rather than `array::from_fn`, which is not always inlined, and its
        // instructions outside this function would be calls.)
        let (mut front, mut back) = ([V::splat(0); UNROLL], [V::splat(0); UNROLL]);
        for u in 0..UNROLL {
            front[u] = read(odd + 16 * u, 16);
            back[u] = read(n - 16 * (u + 1), 16);
        }
        let head = read(0, odd);
        // Unread keys lie in `left..right`; the front is written up to `ends.0`, the back
        // from `ends.1`.
        let (mut left, mut right) = (odd + 16 * UNROLL, n - 16 * UNROLL);
        let mut ends = (0, n);
        let place = |lanes: V, count: usize, whole_front: bool, ends: &mut (usize, usize)| {
            // SAFETY: the room argued above.
            write_sides(lanes, count, pivot, keys, ends, whole_front)
        };
        while right - left >= 16 * UNROLL {
            let from_front = left - ends.0 <= ends.1 - right;
            if from_front {
                for u in 0..UNROLL {
                    place(read(left + 16 * u, 16), 16, true, &mut ends);
                }
                left += 16 * UNROLL;
            } else {
                // From the top down, so that the back's writes stay above what is unread.
                for u in 1..=UNROLL {
                    place(read(right - 16 * u, 16), 16, true, &mut ends);
                }
                right -= 16 * UNROLL;
            }
            prefetch.step();
        }
        while right > left {
            if left - ends.0 <= ends.1 - right {
                place(read(left, 16), 16, true, &mut ends);
                left += 16;
            } else {
                right -= 16;
                place(read(right, 16), 16, true, &mut ends);
            }
        }
        // The room left is exactly what the registers hold: no more whole vectors.
        for lanes in front.iter().chain(&back) {
            place(*lanes, 16, false, &mut ends);
        }
        place(head, odd, false, &mut ends);
        debug_assert_eq!(ends.0, ends.1);
        ends.0
    }
}

/// Sorts the `len` (at most [`LEAF_MAX`]) keys at `src`, in `load` order, into `out` (which
/// may be `src`), in `store` order.
///
/// # Safety
/// `src` is valid for reading and `out` for writing `len` u32s.
#[inline(always)]
unsafe fn leaf<V: Lanes>(src: *const u32, out: *mut u32, len: usize, load: Order, store: Order) {
    unsafe {
        match len.div_ceil(16) {
            0 => {}
            1 => leaf_of::<V, 1>(src, out, len, load, store),
            2 => leaf_of::<V, 2>(src, out, len, load, store),
            3 | 4 => leaf_of::<V, 4>(src, out, len, load, store),
            _ => leaf_of::<V, 8>(src, out, len, load, store),
        }
    }
}

/// [`leaf`] in `R` registers; lanes past `len` hold the largest ordered bits.
#[inline(always)]
unsafe fn leaf_of<V: Lanes, const R: usize>(
    src: *const u32,
    out: *mut u32,
    len: usize,
    load: Order,
    store: Order,
) {
    let count = |r: usize| len.saturating_sub(16 * r).min(16);
    let fill = from_ordered_bits(u32::MAX, load);
    let mut regs = [V::splat(fill); R];
    for (r, keys) in regs.iter_mut().enumerate() {
        *keys = to_ordered(unsafe { V::load(src.add(16 * r), count(r), fill) }, load);
    }
    sort_regs::<V, R>(&mut regs);
    for (r, keys) in regs.into_iter().enumerate() {
        unsafe { from_ordered(keys, store).store(out.add(16 * r), count(r)) };
    }
}

/// Sorts the `len` ordered bits at `keys` with std's sort and writes them back as keys in
/// `store` order.
///
/// # Safety
/// `keys` is valid for reading and writing `len` u32s.
unsafe fn finish_with_std(keys: *mut u32, len: usize, store: Order) {
    let keys = unsafe { std::slice::from_raw_parts_mut(keys, len) };
    keys.sort_unstable();
    for key in keys {
        *key = from_ordered_bits(*key, store);
    }
}

/// Sorts the `16 * R` lanes of `regs` (lane `i` of register `r` is key `16 * r + i`)
/// ascending, by a bitonic network: `R` is 1, 2, 4 or 8.
///
/// The network works in column order: lane `l` of register `r` holds key `R * l + r` until
/// the last step moves the keys into row order. Each lane's `R` keys (a column) are sorted
/// first, by a small sorting network over whole registers; runs of `K / 2` keys are then
/// merged into runs of `K`, from `2 R` up to all of them, each merge all ascending: a first
/// stage compares key `i` with key `i ^ (K - 1)` (the two runs' ends folded onto each other),
/// and the stages after it key `i` with key `i ^ J`, for `J` from `K / 4` down to 1, the lower
/// key going to the lower index. Stages with `J < R` pair whole registers (two instructions
/// for sixteen pairs) rather than lanes of one register (a permute and two more), which for
/// 128 keys takes about two thirds of the instructions of the network in row order; on a
/// 2-core Xeon, through [`super::radix_sort`], inputs of 2^13 keys in the cache sorted at
/// 2.4 ns a key rather than 2.6, and of 2^15 at 2.8 rather than 3.1.
#[inline(always)]
fn sort_regs<V: Lanes, const R: usize>(regs: &mut [V; R]) {
    const { assert!(R == 1 || R == 2 || R == 4 || R == 8) };
    macro_rules! merge {
        ($k:literal: $($j:literal)*) => {
            fold::<V, R, $k>(regs);
            $( half_clean::<V, R, $j>(regs); )*
        };
    }
    // Comparators in a macro, not a loop over an array of pairs, which was not unrolled and
    // so kept every register in memory.
    macro_rules! exchange {
        ($(($a:literal, $b:literal))+) => { $( exchange(regs, $a, $b); )+ };
    }
    match R {
        1 => {
            merge!(2:);
            merge!(4: 1);
            merge!(8: 2 1);
            merge!(16: 4 2 1);
        }
        2 => {
            exchange!((0, 1));
            merge!(4: 1);
            merge!(8: 2 1);
            merge!(16: 4 2 1);
            merge!(32: 8 4 2 1);
        }
        4 => {
            exchange!((0, 1)(2, 3)(0, 2)(1, 3)(1, 2));
            merge!(8: 2 1);
            merge!(16: 4 2 1);
            merge!(32: 8 4 2 1);
            merge!(64: 16 8 4 2 1);
        }
        _ => {
            // An optimal network for eight: 19 comparators in six layers.
            exchange!((0, 2)(1, 3)(4, 6)(5, 7));
            exchange!((0, 4)(1, 5)(2, 6)(3, 7));
            exchange!((0, 1)(2, 3)(4, 5)(6, 7));
            exchange!((2, 4)(3, 5));
            exchange!((1, 4)(3, 6));
            exchange!((1, 2)(3, 4)(5, 6));
            merge!(16: 4 2 1);
            merge!(32: 8 4 2 1);
            merge!(64: 16 8 4 2 1);
            merge!(128: 32 16 8 4 2 1);
        }
    }
    to_rows(regs);
}

/// Registers `a` and `b` (`a` below `b`) compared lane by lane: `a` keeps the smaller keys.
#[inline(always)]
fn exchange<V: Lanes, const R: usize>(regs: &mut [V; R], a: usize, b: usize) {
    (regs[a], regs[b]) = (regs[a].min(regs[b]), regs[a].max(regs[b]));
}

/// The first stage of a merge into runs of `K` keys in the column order of [`sort_regs`]:
/// key `i` against key `i ^ (K - 1)`, which lies in register `R - 1 - r` (for key `i` in
/// register `r`) at lane `l ^ (K / R - 1)`; the key in the lower half of the run takes the
/// smaller.
#[inline(always)]
fn fold<V: Lanes, const R: usize, const K: usize>(regs: &mut [V; R]) {
    // (`saturating_sub`: the arms of `sort_regs` for other register counts are built too,
    // never run.)
    let partners = V::from_array(&const { partner_lanes((K / R).saturating_sub(1)) });
    // Lanes of register `r` (below `R / 2`, or the only one) whose keys lie in the run's
    // upper half.
    let upper: u16 = const { lanes_with_bit(K / (2 * R)) };
    if R == 1 {
        // The one register is its own partner.
        regs[0] = regs[0].min_max(regs[0].permute(partners), upper);
        return;
    }
    for r in 0..R / 2 {
        let (a, b) = (regs[r], regs[R - 1 - r].permute(partners));
        regs[r] = a.min_max(b, upper);
        regs[R - 1 - r] = a.min_max(b, !upper).permute(partners);
    }
}

/// A later stage of a merge in the column order of [`sort_regs`]: key `i` against key
/// `i ^ J`, the lower key to the lower index; whole registers where `J < R`, else lanes of
/// each register.
#[inline(always)]
fn half_clean<V: Lanes, const R: usize, const J: usize>(regs: &mut [V; R]) {
    if J < R {
        // A plain counted loop, which is unrolled (a filtered range was not, and kept the
        // registers in memory).
        for a in 0..R {
            if a & J == 0 {
                exchange(regs, a, a | J);
            }
        }
    } else {
        let partners = V::from_array(&const { partner_lanes(J / R) });
        let upper: u16 = const { lanes_with_bit(J / R) };
        for keys in regs.iter_mut() {
            *keys = keys.min_max(keys.permute(partners), upper);
        }
    }
}

/// The lanes whose index has bit `bit` (a power of two) set.
const fn lanes_with_bit(bit: usize) -> u16 {
    let mut mask = 0;
    let mut lane = 0;
    while lane < 16 {
        if lane & bit != 0 {
            mask |= 1 << lane;
        }
        lane += 1;
    }
    mask
}

/// Moves the keys of `R` registers in the column order of [`sort_regs`] into
/// row order: key `R * l + r`, in lane `l` of register `r`, to lane `(R * l + r) % 16` of
/// register `(R * l + r) / 16`.
///
/// Seen as bits, a key's register holds its low index bits and its lane the high ones; each
/// round swaps one bit of the register with one of the lane, between the pairs of registers
/// that differ in it (two two-register permutes a pair), and the last one also rotates the
/// lane bits into place.
#[inline(always)]
fn to_rows<V: Lanes, const R: usize>(regs: &mut [V; R]) {
    let reg_bits = R.trailing_zeros() as usize;
    macro_rules! round {
        ($bit:literal) => {
            if $bit < reg_bits {
                let step = 1 << $bit;
                let low = V::from_array(&const { swap_index::<R>($bit, false) });
                let high = V::from_array(&const { swap_index::<R>($bit, true) });
                for a in 0..R {
                    if a & step == 0 {
                        let (x, y) = (regs[a], regs[a | step]);
                        regs[a] = x.permute2(low, y);
                        regs[a | step] = x.permute2(high, y);
                    }
                }
            }
        };
    }
    round!(2);
    round!(1);
    round!(0);
}

/// For [`to_rows`], the two-register permute of the round that swaps register bit `bit`
/// (of `R` registers) with lane bit `bit + 4 - log2 R`, into the register of the pair whose
/// bit is `high`; the last round (`bit` 0) also rotates the lane bits so that the low index
/// bits held in the lane go on top.
const fn swap_index<const R: usize>(bit: usize, high: bool) -> [u32; 16] {
    let reg_bits = R.trailing_zeros() as usize;
    let lane_bit = 1 << (bit + 4 - reg_bits);
    let mut index = [0; 16];
    let mut lane = 0;
    while lane < 16 {
        // The new lane `lane` of the register for `high` takes, from the pair's low (0..16)
        // or high (16..32) register, the key whose lane bit is `high`: the new lane bit says
        // which register it came from.
        let from_high = lane & lane_bit != 0;
        let source = if high {
            lane | lane_bit
        } else {
            lane & !lane_bit
        };
        let pick = if from_high { 16 + source } else { source } as u32;
        // In the last round, the new lane `lane` goes to lane `rotated`.
        let rotated = if bit == 0 {
            let low_bits = 4 - reg_bits;
            ((lane & ((1 << low_bits) - 1)) << reg_bits) | (lane >> low_bits)
        } else {
            lane
        };
        index[rotated] = pick;
        lane += 1;
    }
    index
}

/// The permutation that brings lane `i ^ j` to lane `i`.
const fn partner_lanes(j: usize) -> [u32; 16] {
    let mut index = [0; 16];
    let mut i = 0;
    while i < 16 {
        index[i] = (i ^ j) as u32;
        i += 1;
    }
    index
}

/// The lanes of AVX-512: sixteen u32 in a `zmm` register.
#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::{Lanes, Limits, Order, Prefetch, first, sort_lanes};

    /// Whether this CPU has the instructions [`sort`] uses.
    pub(super) fn available() -> bool {
        is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("popcnt")
    }

    /// [`sort_lanes`] on AVX-512, with its whole algorithm compiled for it.
    ///
    /// # Safety
    /// As for [`sort_lanes`]; the CPU has AVX-512 ([`available`]).
    #[target_feature(enable = "avx512f,popcnt")]
    pub(super) unsafe fn sort<I>(
        sources: I,
        out: *mut u32,
        n: usize,
        in_place: bool,
        order: Order,
        limits: Limits,
        prefetch: &mut Prefetch,
    ) where
        I: Iterator<Item = (*const u32, usize)> + Clone,
    {
        // One copy of the sort for each order, so that the mapping of keys to their order,
        // and back, is a constant in each.
        unsafe {
            match order {
                Order::Unsigned => sort_lanes::<Avx512, I>(
                    sources,
                    out,
                    n,
                    in_place,
                    Order::Unsigned,
                    limits,
                    prefetch,
                ),
                Order::Signed => sort_lanes::<Avx512, I>(
                    sources,
                    out,
                    n,
                    in_place,
                    Order::Signed,
                    limits,
                    prefetch,
                ),
                Order::Float => sort_lanes::<Avx512, I>(
                    sources,
                    out,
                    n,
                    in_place,
                    Order::Float,
                    limits,
                    prefetch,
                ),
            }
        }
    }

    /// Sixteen u32 lanes in a `zmm` register. Its operations are only ever inlined into
    /// [`sort`], whose target features make them single instructions.
    #[derive(Clone, Copy)]
    pub(super) struct Avx512(__m512i);

    // SAFETY (every block below): the intrinsics need AVX-512F, which `sort`, the only
    // function these are inlined into, enables.
    impl Lanes for Avx512 {
        #[inline(always)]
        fn splat(x: u32) -> Self {
            Avx512(unsafe { _mm512_set1_epi32(x as i32) })
        }
        #[inline(always)]
        fn from_array(lanes: &[u32; 16]) -> Self {
            Avx512(unsafe { _mm512_loadu_epi32(lanes.as_ptr().cast()) })
        }
        #[inline(always)]
        fn to_array(self) -> [u32; 16] {
            let mut lanes = [0u32; 16];
            unsafe { _mm512_storeu_epi32(lanes.as_mut_ptr().cast(), self.0) };
            lanes
        }
        #[inline(always)]
        unsafe fn load(src: *const u32, count: usize, fill: u32) -> Self {
            unsafe {
                if count >= 16 {
                    Avx512(_mm512_loadu_epi32(src.cast()))
                } else {
                    let fill = _mm512_set1_epi32(fill as i32);
                    Avx512(_mm512_mask_loadu_epi32(fill, first(count), src.cast()))
                }
            }
        }
        #[inline(always)]
        unsafe fn store(self, dst: *mut u32, count: usize) {
            unsafe { _mm512_mask_storeu_epi32(dst.cast(), first(count), self.0) }
        }
        #[inline(always)]
        fn min(self, other: Self) -> Self {
            Avx512(unsafe { _mm512_min_epu32(self.0, other.0) })
        }
        #[inline(always)]
        fn max(self, other: Self) -> Self {
            Avx512(unsafe { _mm512_max_epu32(self.0, other.0) })
        }
        #[inline(always)]
        fn min_max(self, other: Self, max_lanes: u16) -> Self {
            unsafe {
                let low = _mm512_min_epu32(self.0, other.0);
                Avx512(_mm512_mask_max_epu32(low, max_lanes, self.0, other.0))
            }
        }
        #[inline(always)]
        fn permute(self, index: Self) -> Self {
            Avx512(unsafe { _mm512_permutexvar_epi32(index.0, self.0) })
        }
        #[inline(always)]
        fn permute2(self, index: Self, other: Self) -> Self {
            Avx512(unsafe { _mm512_permutex2var_epi32(self.0, index.0, other.0) })
        }
        #[inline(always)]
        fn at_most(self, pivot: Self) -> u16 {
            unsafe { _mm512_cmple_epu32_mask(self.0, pivot.0) }
        }
        #[inline(always)]
        fn compress(self, lanes: u16) -> Self {
            Avx512(unsafe { _mm512_maskz_compress_epi32(lanes, self.0) })
        }
        #[inline(always)]
        fn xor(self, other: Self) -> Self {
            Avx512(unsafe { _mm512_xor_si512(self.0, other.0) })
        }
        #[inline(always)]
        fn or(self, other: Self) -> Self {
            Avx512(unsafe { _mm512_or_si512(self.0, other.0) })
        }
        #[inline(always)]
        fn sign_fill(self) -> Self {
            Avx512(unsafe { _mm512_srai_epi32::<31>(self.0) })
        }
    }
}

/// No AVX-512 off x86-64: [`sorts`] is always false.
#[cfg(not(target_arch = "x86_64"))]
mod avx512 {
    use super::{Limits, Order, Prefetch};

    pub(super) fn available() -> bool {
        false
    }

    pub(super) unsafe fn sort<I>(
        _: I,
        _: *mut u32,
        _: usize,
        _: bool,
        _: Order,
        _: Limits,
        _: &mut impl FnMut(),
    ) {
        unreachable!("`sorts` is false without AVX-512")
    }
}

#[cfg(test)]
mod tests {
    use std::array;

    use super::super::tests::lcg;
    use super::*;

    /// The lanes as a plain array, each operation written out as the AVX-512 manual defines
    /// its instruction: the sort's logic, checked on every machine.
    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Model([u32; 16]);

    impl Model {
        fn map(self, other: Self, f: impl Fn(u32, u32) -> u32) -> Self {
            Model(array::from_fn(|i| f(self.0[i], other.0[i])))
        }
    }

    impl Lanes for Model {
        fn splat(x: u32) -> Self {
            Model([x; 16])
        }
        fn from_array(lanes: &[u32; 16]) -> Self {
            Model(*lanes)
        }
        fn to_array(self) -> [u32; 16] {
            self.0
        }
        unsafe fn load(src: *const u32, count: usize, fill: u32) -> Self {
            Model(array::from_fn(|i| {
                if i < count {
                    unsafe { src.add(i).read() }
                } else {
                    fill
                }
            }))
        }
        unsafe fn store(self, dst: *mut u32, count: usize) {
            for (i, &lane) in self.0.iter().enumerate().take(count) {
                unsafe { dst.add(i).write(lane) };
            }
        }
        fn min(self, other: Self) -> Self {
            self.map(other, u32::min)
        }
        fn max(self, other: Self) -> Self {
            self.map(other, u32::max)
        }
        fn min_max(self, other: Self, max_lanes: u16) -> Self {
            Model(array::from_fn(|i| {
                let (a, b) = (self.0[i], other.0[i]);
                if max_lanes >> i & 1 == 1 {
                    a.max(b)
                } else {
                    a.min(b)
                }
            }))
        }
        fn permute(self, index: Self) -> Self {
            Model(array::from_fn(|i| self.0[index.0[i] as usize % 16]))
        }
        fn permute2(self, index: Self, other: Self) -> Self {
            Model(array::from_fn(|i| {
                let lane = index.0[i] as usize % 32;
                if lane < 16 {
                    self.0[lane]
                } else {
                    other.0[lane - 16]
                }
            }))
        }
        fn at_most(self, pivot: Self) -> u16 {
            (0..16)
                .filter(|&i| self.0[i] <= pivot.0[i])
                .map(|i| 1 << i)
                .sum()
        }
        fn compress(self, lanes: u16) -> Self {
            let mut packed = [0; 16];
            let kept = (0..16).filter(|&i| lanes >> i & 1 == 1).map(|i| self.0[i]);
            for (slot, lane) in packed.iter_mut().zip(kept) {
                *slot = lane;
            }
            Model(packed)
        }
        fn xor(self, other: Self) -> Self {
            self.map(other, |a, b| a ^ b)
        }
        fn or(self, other: Self) -> Self {
            self.map(other, |a, b| a | b)
        }
        fn sign_fill(self) -> Self {
            Model(self.0.map(|a| ((a as i32) >> 31) as u32))
        }
    }

    /// The lanes a sort in a test runs on.
    #[derive(Clone, Copy)]
    enum On {
        Model,
        Avx512,
    }

    /// Runs `check` with the model lanes, and with AVX-512 where this CPU has it, each sorting
    /// from the chunks into the output and (the chunks first copied there) in place.
    fn on_every_lanes(check: impl Fn(&dyn Fn(&[&[u32]], &mut [u32], Order, Limits))) {
        let mut lanes = vec![On::Model];
        if avx512::available() {
            lanes.push(On::Avx512);
        } else {
            eprintln!("no AVX-512 on this CPU: the sort ran on the model lanes only");
        }
        for on in lanes {
            for in_place in [false, true] {
                check(&|chunks, out, order, limits| {
                    sort_with(on, chunks, out, in_place, order, limits)
                });
            }
        }
    }

    /// The sort on lanes `on`, from `chunks` into `out` or, the chunks first copied into
    /// `out`, in place, within `limits`.
    fn sort_with(
        on: On,
        chunks: &[&[u32]],
        out: &mut [u32],
        in_place: bool,
        order: Order,
        limits: Limits,
    ) {
        let (sources, n) = sources(chunks, out, in_place);
        let out = out.as_mut_ptr();
        let prefetch = &mut Prefetch::spread(Ahead::NONE, 1);
        unsafe {
            match on {
                On::Model => {
                    sort_lanes::<Model, _>(sources, out, n, in_place, order, limits, prefetch)
                }
                On::Avx512 => avx512::sort(sources, out, n, in_place, order, limits, prefetch),
            }
        }
    }

    /// The chunks to sort into `out` and their length; to sort in place, `out` itself, the
    /// chunks copied into it.
    fn sources(
        chunks: &[&[u32]],
        out: &mut [u32],
        in_place: bool,
    ) -> (std::vec::IntoIter<(*const u32, usize)>, usize) {
        let n = out.len();
        let listed: Vec<(*const u32, usize)> = if in_place {
            out.copy_from_slice(&chunks.concat());
            vec![(out.as_ptr(), n)]
        } else {
            chunks.iter().map(|c| (c.as_ptr(), c.len())).collect()
        };
        (listed.into_iter(), n)
    }

    /// The ordered bits of `key` in `order`, as [`SortKey::ordered_bits`] gives them.
    fn ordered(key: u32, order: Order) -> u32 {
        match order {
            Order::Unsigned => key,
            Order::Signed => (key as i32).ordered_bits(),
            Order::Float => f32::from_bits(key).ordered_bits(),
        }
    }

    /// `keys` sorted by their ordered bits in `order`, with std's sort.
    fn reference(keys: &[u32], order: Order) -> Vec<u32> {
        let mut sorted = keys.to_vec();
        sorted.sort_by_key(|&k| ordered(k, order));
        sorted
    }

    /// Inputs of many lengths and shapes, the awkward ones included.
    fn inputs() -> Vec<Vec<u32>> {
        let mut all = Vec::new();
        for n in (0..=70).chain([100, 129, 500, 1000, 4097, 20_000]) {
            let random: Vec<u32> = lcg(n, n as u64 + 1).iter().map(|&x| x as u32).collect();
            all.push(random.clone());
            all.push(random.iter().map(|x| x % 3).collect());
            all.push(random.iter().map(|x| x % 2 * u32::MAX).collect());
            all.push(vec![7; n]);
            all.push((0..n as u32).collect());
            all.push((0..n as u32).rev().collect());
            all.push(random.iter().map(|x| x >> 20 << 20).collect());
        }
        all
    }

    /// Each leaf size, with pivots of three keys and of sixteen.
    fn every_limits() -> Vec<Limits> {
        [(64, 0), (128, 0), (32, 1000), (64, 200)]
            .map(|(leaf, cheap_pivot)| Limits {
                depth: DEPTH_LIMIT,
                leaf,
                cheap_pivot,
            })
            .to_vec()
    }

    /// Splits `keys` into uneven chunks, empty ones among them.
    fn chunked(keys: &[u32]) -> Vec<&[u32]> {
        let mut chunks = Vec::new();
        let mut rest = keys;
        for size in [0, 1, 17, 0, 100, 33].iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (chunk, later) = rest.split_at(rest.len().min(*size));
            chunks.push(chunk);
            rest = later;
        }
        chunks
    }

    #[test]
    fn networks_sort_every_16_lane_input_of_zeros_and_ones_and_random_wider_ones_exactly() {
        // A comparator network sorts every input if it sorts every input of 0s and 1s.
        for pattern in 0..=u16::MAX {
            let lanes = array::from_fn(|i| u32::from(pattern >> i & 1 == 1));
            let mut regs = [Model(lanes)];
            sort_regs::<Model, 1>(&mut regs);
            let ones = pattern.count_ones() as usize;
            let expected: [u32; 16] = array::from_fn(|i| u32::from(i >= 16 - ones));
            assert_eq!(regs[0].0, expected, "pattern {pattern:016b}");
        }
        for seed in 0..2000u64 {
            let bits = lcg(4, seed);
            let lanes = |r: usize| Model(array::from_fn(|i| (bits[r] >> i & 1) as u32));
            let mut two = [lanes(0), lanes(1)];
            let mut four = [lanes(0), lanes(1), lanes(2), lanes(3)];
            let mut eight = [0, 1, 2, 3, 3, 2, 1, 0].map(lanes);
            sort_regs::<Model, 2>(&mut two);
            sort_regs::<Model, 4>(&mut four);
            sort_regs::<Model, 8>(&mut eight);
            let flat = |regs: &[Model]| regs.iter().flat_map(|m| m.0).collect::<Vec<u32>>();
            assert!(flat(&two).is_sorted(), "seed {seed}");
            assert!(flat(&four).is_sorted(), "seed {seed}");
            assert!(flat(&eight).is_sorted(), "seed {seed}");
            let ones: u32 = (0..4).map(|r| lanes(r).0.iter().sum::<u32>()).sum();
            assert_eq!(flat(&four).iter().sum::<u32>(), ones, "seed {seed}");
        }
        for seed in 0..500u64 {
            // Wide keys, and keys of few values, each set of registers sorted into exactly
            // its own keys: the networks of four and eight registers also move every key
            // from the column order into place.
            let wide: Vec<u32> = lcg(128, seed).iter().map(|&x| x as u32).collect();
            let narrow: Vec<u32> = wide.iter().map(|&x| x % 5).collect();
            for keys in [wide, narrow] {
                assert_sorts_in::<1>(&keys);
                assert_sorts_in::<2>(&keys);
                assert_sorts_in::<4>(&keys);
                assert_sorts_in::<8>(&keys);
            }
        }
    }

    /// Asserts that [`sort_regs`] on `R` registers of the first keys of `keys` sorts them.
    fn assert_sorts_in<const R: usize>(keys: &[u32]) {
        let mut regs: [Model; R] = array::from_fn(|r| Model(array::from_fn(|i| keys[16 * r + i])));
        sort_regs::<Model, R>(&mut regs);
        let mut expected = keys[..16 * R].to_vec();
        expected.sort_unstable();
        let sorted: Vec<u32> = regs.iter().flat_map(|m| m.0).collect();
        assert_eq!(sorted, expected, "{R} registers");
    }

    #[test]
    fn sorts_every_shape_from_chunks_in_every_key_order() {
        on_every_lanes(|sort| {
            for keys in inputs() {
                for order in [Order::Unsigned, Order::Signed, Order::Float] {
                    for limits in every_limits() {
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
            sort(&[&keys], &mut out, Order::Float, every_limits()[0]);
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
                    Limits {
                        depth: 2,
                        ..every_limits()[0]
                    },
                );
                assert_eq!(out, reference(&keys, order));
            }
        });
    }

    #[test]
    fn a_partition_keeps_the_order_of_the_keys_below_the_pivot() {
        let keys: Vec<u32> = (0..100).map(|i| (i * 37) % 100).collect();
        let mut dst = vec![0; 100];
        let sources = chunked(&keys).into_iter().map(|c| (c.as_ptr(), c.len()));
        let below = unsafe {
            partition::<Model, _>(
                sources,
                dst.as_mut_ptr(),
                100,
                49,
                Unsigned,
                &mut Prefetch::spread(Ahead::NONE, 1),
            )
        };
        assert_eq!(below, 50);
        let expected: Vec<u32> = keys.iter().copied().filter(|&k| k <= 49).collect();
        assert_eq!(dst[..50], expected);
        assert!(dst[50..].iter().all(|&k| k > 49));
    }

    #[test]
    fn keys_equal_to_a_largest_pivot_are_written_out_at_once() {
        let keys = [5u32, 9, 9, 1, 9, 9, 9, 0, 9, 9, 9, 9, 9, 9, 9, 9, 9, 3];
        let mut out = [0; 18];
        let sources = std::iter::once((keys.as_ptr(), keys.len()));
        let order = (Unsigned, Order::Signed);
        let parts = unsafe {
            partition_segment::<Model, _>(
                sources,
                out.as_mut_ptr(),
                18,
                9,
                order,
                &mut Prefetch::spread(Ahead::NONE, 1),
            )
        };
        let done = Parts {
            below: 4,
            rest_done: true,
        };
        assert_eq!(parts, done);
        assert_eq!(out[..4], [5, 1, 0, 3]);
        assert!(out[4..].iter().all(|&k| k == 9 ^ SIGN));
        // In place, from keys that the first partition maps to ordered bits.
        let mut keys: Vec<u32> = keys.iter().cycle().take(180).map(|k| k ^ SIGN).collect();
        let order = (Order::Signed, Order::Signed);
        let parts = unsafe {
            partition_segment_in_place::<Model>(
                keys.as_mut_ptr(),
                180,
                9,
                order,
                &mut Prefetch::spread(Ahead::NONE, 1),
            )
        };
        assert_eq!(parts.below, 40);
        assert!(parts.rest_done);
        assert!(keys[..40].iter().all(|&k| k < 9));
        assert!(keys[40..].iter().all(|&k| k == 9 ^ SIGN));
    }

    #[test]
    fn an_in_place_partition_moves_each_key_to_its_side_at_every_length() {
        for n in (0..=400).chain([1000, 4097]) {
            for pivot in [0, 1 << 30, 1 << 31, 3 << 30, u32::MAX] {
                let keys: Vec<u32> = lcg(n, n as u64 + 7).iter().map(|&x| x as u32).collect();
                let mut moved = keys.clone();
                let below = unsafe {
                    let at = moved.as_mut_ptr();
                    partition_in_place::<Model>(
                        at,
                        n,
                        pivot,
                        Unsigned,
                        &mut Prefetch::spread(Ahead::NONE, 1),
                    )
                };
                let low = keys.iter().filter(|&&k| k <= pivot).count();
                assert_eq!(below, low, "{n} keys, pivot {pivot}");
                assert!(moved[..below].iter().all(|&k| k <= pivot), "{n}, {pivot}");
                assert!(moved[below..].iter().all(|&k| k > pivot), "{n}, {pivot}");
                let (mut a, mut b) = (keys, moved);
                a.sort_unstable();
                b.sort_unstable();
                assert_eq!(a, b, "{n} keys, pivot {pivot}: not the same keys");
            }
        }
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
