//! The vector sort's partitions: the pivot of a segment, and the partitions around it, from
//! the bucket's chunks into the output and in place.

use std::ops::Range;
use std::ptr;

use super::Unsigned;
use super::network::sort_regs;
use super::{Lanes, Order, PREFETCH_KEYS, Segment, first, from_ordered_bits, to_ordered};
use crate::backend::cpu::radix::prefetch::Prefetch;

/// The median of the keys at a quarter, half and three quarters of the `len` at `src`.
///
/// # Safety
/// `src` is valid for reading `len` u32s, `len` at least 4.
#[inline(always)]
pub(super) unsafe fn median_of_three(src: *const u32, len: usize) -> u32 {
    let [a, b, c] = [len / 4, len / 2, len / 4 * 3].map(|i| unsafe { src.add(i).read() });
    a.max(b).min(a.min(b).max(c))
}

/// The result of [`partition_segment`]: how many keys went to the front, and whether the
/// others are done (all equal, and written out).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Parts {
    below: usize,
    rest_done: bool,
}

/// The segments left to sort once `seg` is partitioned into `parts`.
pub(super) fn children(seg: Segment, parts: Parts) -> impl Iterator<Item = Segment> {
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
pub(super) unsafe fn gather<I: Iterator<Item = (*const u32, usize)>>(sources: I, dst: *mut u32) {
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
pub(super) unsafe fn pivot_of<V: Lanes, I>(sources: I, n: usize, load: Order) -> u32
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
pub(super) unsafe fn partition_segment<V: Lanes, I>(
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
pub(super) unsafe fn partition_segment_in_place<V: Lanes>(
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

#[cfg(test)]
mod tests {
    use super::super::SIGN;
    use super::super::model::{Model, chunked};
    use super::*;
    use crate::backend::cpu::radix::prefetch::Ahead;
    use crate::backend::cpu::radix::test_support::lcg;

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
}
