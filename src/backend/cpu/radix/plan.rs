//! Planning the sort from the bits in which the keys vary: the digits of an MSD split and of
//! the LSD passes of a bucket, and the varying bits themselves.

use rayon::prelude::*;

use super::layout::chunk_len;
use super::tuning::Tuning;
use crate::data::SortKey;

/// The widest LSD digit: two passes cover the 22 bits left of a u32 after a split.
const LSD_MAX_BITS: u32 = 11;
/// The widest MSD digit: its 2^11 write-combining buffers (128 KiB of single lines, 512 KiB of
/// the four lines a bucket of the blocked split gathers) stay in L2.
pub(super) const SPLIT_MAX_BITS: u32 = 11;
/// The widest digit of either kind.
pub(super) const MAX_DIGIT_BITS: u32 = if LSD_MAX_BITS > SPLIT_MAX_BITS {
    LSD_MAX_BITS
} else {
    SPLIT_MAX_BITS
};
/// Counters per digit.
pub(super) const MAX_BUCKETS: usize = 1 << MAX_DIGIT_BITS;
/// The most LSD passes (64-bit keys in 8-bit digits).
pub(super) const MAX_PASSES: usize = 8;
/// A parallel split makes at least this many buckets per thread, so that work stealing can
/// even out the threads' shares.
const BUCKETS_PER_THREAD: usize = 8;
/// Whether the varying bits handed to a split are exact or only a guess: from a sample, which
/// may miss some, or inherited from the split above, which may hold bits in which the keys of
/// one bucket do not differ. A split needs only their top bit (its digit or prefix starts
/// there): the split's histogram pass then also finds the exact bits, and where their top bit
/// differs from the guess's, the split is made again with them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum KnownBits {
    Exact,
    Guess,
}

/// Whether a split chosen with the top varying bit of `mask` is still right for keys that
/// vary in `exact`.
pub(super) fn same_top_bit(mask: u64, exact: u64) -> bool {
    mask.leading_zeros() == exact.leading_zeros()
}

/// The ordered bits of `key`, widened.
#[inline(always)]
pub(super) fn bits<K: SortKey>(key: K) -> u64 {
    key.ordered_bits().into()
}

/// A digit: `width` bits of a key's ordered bits, starting at bit `shift`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Digit {
    pub(super) shift: u32,
    pub(super) width: u32,
}

impl Digit {
    /// Number of values the digit takes.
    pub(super) fn buckets(self) -> usize {
        1 << self.width
    }

    /// The mask of the digit's values, below [`MAX_BUCKETS`] (which lets the compiler drop
    /// bound checks on counters indexed by digit).
    #[inline(always)]
    pub(super) fn mask(self) -> usize {
        (self.buckets() - 1) & (MAX_BUCKETS - 1)
    }

    /// The digit of `key`.
    #[inline(always)]
    pub(super) fn of<K: SortKey>(self, key: K) -> usize {
        ((bits(key) >> self.shift) as usize) & self.mask()
    }
}

/// The bits in which some key of `keys` differs from `reference`.
pub(super) fn bits_differing<K: SortKey>(keys: &[K], reference: u64) -> u64 {
    keys.iter().fold(0, |m, &k| m | (bits(k) ^ reference))
}

/// The bits in which the keys differ: the only bits that need sorting.
pub(super) fn varying_bits<K: SortKey>(keys: &[K]) -> u64 {
    keys.first().map_or(0, |&k| bits_differing(keys, bits(k)))
}

/// [`varying_bits`], computed in parallel.
pub(super) fn par_varying_bits<K: SortKey>(keys: &[K], threads: usize) -> u64 {
    let reference = bits(keys[0]);
    keys.par_chunks(chunk_len(keys.len(), threads))
        .map(|c| bits_differing(c, reference))
        .reduce(|| 0, |a, b| a | b)
}

/// The lowest and one past the highest varying bit of `mask` (not 0).
pub(super) fn span(mask: u64) -> (u32, u32) {
    (mask.trailing_zeros(), u64::BITS - mask.leading_zeros())
}

/// The digit of an MSD split of `bytes` of keys varying in `mask` on `threads` threads: its
/// top varying bits, enough of them for buckets of about [`Tuning::BUCKET_BYTES`] and, on several
/// threads, for [`BUCKETS_PER_THREAD`] buckets per thread. (More buckets than that would only
/// leave small inputs in buckets too small to sort well.)
pub(super) fn split_digit<T: Tuning>(mask: u64, bytes: usize, threads: usize) -> Digit {
    let (lo, hi) = span(mask);
    let bits_for = |buckets: usize| buckets.max(1).next_power_of_two().trailing_zeros();
    let wanted = bits_for(bytes / T::BUCKET_BYTES);
    let spread = if threads > 1 {
        bits_for(threads * BUCKETS_PER_THREAD)
    } else {
        1
    };
    let width = wanted
        .clamp(spread.min(SPLIT_MAX_BITS), SPLIT_MAX_BITS)
        .min(hi - lo);
    Digit {
        shift: hi - width,
        width,
    }
}

/// The LSD passes of a sort of `len` keys varying in `mask`: their digits, least significant
/// first (as few as cover the bits they sort, as even as possible, narrower for short runs,
/// whose counters would cost more than the keys), and the varying bits below them that the
/// passes leave to [`finish_runs`] (0 where they sort every varying bit).
///
/// Keys that vary in more bits than three of the widest passes cover (64-bit keys: five more passes
/// after a split) are sorted by the top varying bits that two passes cover, where those are enough
/// to tell nearly all keys apart where the keys spread evenly over them: [`TIE_MARGIN_BITS`] more
/// bits than the count of keys takes. (Where the keys crowd into a few values of those bits, the
/// runs take the work instead, at the cost of one more read.) The rare runs of keys that share them
/// are then finished on their own, which costs one read, where three or more passes would each move
/// every key. (32-bit keys keep their passes: where their top bits are crowded, as in a bucket of
/// float keys, runs of ties would cost more than the one pass saved.)
pub(super) fn lsd_plan(mask: u64, len: usize) -> (Vec<Digit>, u64) {
    let (lo, hi) = span(mask);
    let len_bits = usize::BITS - len.leading_zeros();
    let max_width = len_bits.clamp(u64::BITS / MAX_PASSES as u32, LSD_MAX_BITS);
    let top = 2 * max_width;
    let lo = if hi - lo > 3 * LSD_MAX_BITS && top >= len_bits + TIE_MARGIN_BITS {
        hi - top
    } else {
        lo
    };
    let passes = (hi - lo).div_ceil(max_width);
    let mut shift = lo;
    let digits = (0..passes)
        .map(|p| {
            let width = (hi - shift).div_ceil(passes - p);
            let digit = Digit { shift, width };
            shift += width;
            digit
        })
        .collect();
    (digits, mask & ((1 << lo) - 1))
}

/// The plan of an LSD sort of `len` keys whose exact varying bits `exact` its histogram pass
/// found, where the `planned` digits and low bits (from bits the keys were known to vary in
/// at most) would leave runs to [`finish_runs`] and the exact bits plan otherwise; `None`
/// where the planned passes stand.
pub(super) fn plan_again(
    planned: (&[Digit], u64),
    exact: u64,
    len: usize,
) -> Option<(Vec<Digit>, u64)> {
    let (digits, low) = planned;
    if low == 0 {
        return None;
    }
    let plan = if exact == 0 {
        (Vec::new(), 0)
    } else {
        lsd_plan(exact, len)
    };
    (plan.0 != digits || plan.1 != low).then_some(plan)
}

/// How many more top bits than a count of keys takes an LSD sort must cover to leave the
/// rest of the bits to [`finish_runs`]: where the keys spread evenly over those bits, about
/// one key in 2^this shares them with another.
const TIE_MARGIN_BITS: u32 = 6;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::radix::tuning::{Small, Tuning};

    #[test]
    fn a_split_aims_at_buckets_of_a_fixed_size_in_bytes() {
        let mask = u64::from(u32::MAX);
        let buckets = |bytes| split_digit::<Small>(mask, bytes, 1).buckets();
        // 64 buckets' worth of bytes: as many buckets for u32 keys as for half as many u64 keys.
        let keys = 64 * Small::BUCKET_BYTES / 4;
        assert_eq!(buckets(keys * 4), 64);
        assert_eq!(buckets(keys / 2 * 8), 64);
        assert_eq!(buckets(keys * 8), 128);
        // At most SPLIT_MAX_BITS, however large the input; on 4 threads, at least
        // BUCKETS_PER_THREAD each, however small.
        assert_eq!(buckets(usize::MAX / 2), 1 << SPLIT_MAX_BITS);
        assert_eq!(
            split_digit::<Small>(mask, Small::BUCKET_BYTES, 4).buckets(),
            4 * BUCKETS_PER_THREAD
        );
    }

    #[test]
    fn lsd_sorts_wide_keys_by_their_top_bits_where_those_tell_them_apart() {
        // 64 varying bits, 2^14 keys: two 11-bit passes over the top 22 bits, the rest left.
        let (digits, low) = lsd_plan(u64::MAX, 1 << 14);
        let covered: Vec<(u32, u32)> = digits.iter().map(|d| (d.shift, d.width)).collect();
        assert_eq!(covered, [(42, 11), (53, 11)]);
        assert_eq!(low, (1 << 42) - 1);
        // Holes in the mask stay holes in what is left.
        assert_eq!(lsd_plan(0xffff_ffff_0000_ff00, 1 << 14).1, 0x3ff_0000_ff00);
        // 22 bits: two passes sort them all; 32 bits: three passes.
        let (digits, low) = lsd_plan(0x3f_ffff, 1 << 14);
        assert_eq!((digits.len(), low), (2, 0));
        let (digits, low) = lsd_plan(u64::from(u32::MAX), 1 << 14);
        assert_eq!((digits.len(), low), (3, 0));
        // Nor are short runs of 32-bit keys, whose passes are narrower.
        let (digits, low) = lsd_plan(u64::from(u32::MAX), 300);
        assert_eq!((digits.len(), low), (4, 0));
        // 2^16 keys: 22 bits would leave too many ties, so all 64 get passes.
        let (digits, low) = lsd_plan(u64::MAX, 1 << 16);
        assert_eq!((digits.len(), low), (6, 0));
    }

    #[test]
    fn a_bucket_plans_again_from_the_bits_its_keys_exactly_vary_in() {
        let len = 1 << 14;
        let wide = lsd_plan(u64::MAX, len);
        let planned = (&wide.0[..], wide.1);
        // Keys varying in their low 40 bits only: the passes move to those bits' top 22.
        let (digits, low) = plan_again(planned, (1 << 40) - 1, len).expect("a new plan");
        assert_eq!(digits.last().map(|d| d.shift + d.width), Some(40));
        assert_eq!(low, (1 << 18) - 1);
        // Keys varying in 20 bits: passes cover them all, no runs.
        let (digits, low) = plan_again(planned, 0xf_ffff, len).expect("a new plan");
        assert_eq!((digits.len(), low), (2, 0));
        // Keys all equal: nothing to do.
        assert_eq!(plan_again(planned, 0, len), Some((Vec::new(), 0)));
        // The planned bits were exact, or leave no runs: the plan stands.
        assert_eq!(plan_again(planned, u64::MAX, len), None);
        let narrow = lsd_plan(0xf_ffff, len);
        assert_eq!(plan_again((&narrow.0, narrow.1), 0xff, len), None);
    }
}
