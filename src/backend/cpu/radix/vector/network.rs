//! The vector sort's leaves: segments of up to eight registers sorted by a network of minimum
//! and maximum instructions, and the std sort that finishes segments too deep.

use super::{Lanes, Order, from_ordered, from_ordered_bits, to_ordered};

/// Sorts the `len` (at most [`LEAF_MAX`]) keys at `src`, in `load` order, into `out` (which
/// may be `src`), in `store` order.
///
/// # Safety
/// `src` is valid for reading and `out` for writing `len` u32s.
#[inline(always)]
pub(super) unsafe fn leaf<V: Lanes>(
    src: *const u32,
    out: *mut u32,
    len: usize,
    load: Order,
    store: Order,
) {
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
pub(super) unsafe fn finish_with_std(keys: *mut u32, len: usize, store: Order) {
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
/// 128 keys takes about two thirds of the instructions of the network in row order.
#[inline(always)]
pub(super) fn sort_regs<V: Lanes, const R: usize>(regs: &mut [V; R]) {
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

#[cfg(test)]
mod tests {
    use std::array;

    use super::super::model::Model;
    use super::*;
    use crate::backend::cpu::radix::test_support::lcg;

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
}
