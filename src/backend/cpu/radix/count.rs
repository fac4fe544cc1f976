//! Histograms: the counts of a split's digit, and of every LSD digit of a bucket in one read;
//! and [`UNROLL`], the keys that the per-key loops of the in-cache sort take in one turn.

use super::plan::{Digit, MAX_BUCKETS, MAX_PASSES, bits, bits_differing};
use super::prefix::Bucketer;
use super::tuning::Tuning;
#[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
use super::tuning::has_bmi2;
use crate::data::SortKey;

/// Keys the per-key loops of the in-cache sort ([`scatter_loop`](super::lsd::scatter_loop), [`count_loop`]) take in one
/// turn. Their bodies are a few instructions each, so the loop's own count and branch, paid
/// once per four keys rather than per key, were a good share of the work.
pub(super) const UNROLL: usize = 4;

/// Counts (or offsets) of the values of one digit; values past the digit's width stay 0.
pub(super) type Counts = [usize; MAX_BUCKETS];

/// Counts of the values of `digit` among `keys`, and the bits in which the keys differ from
/// `reference`, in one read.
pub(super) fn histogram_and_bits<K: SortKey, B: Bucketer>(
    keys: &[K],
    digit: &B,
    reference: u64,
) -> (Box<Counts>, u64) {
    let mut counts = Box::new([0; MAX_BUCKETS]);
    let mut differ = 0;
    for &k in keys {
        differ |= bits(k) ^ reference;
        counts[digit.of(k)] += 1;
    }
    (counts, differ)
}

/// Counts of the values of one LSD digit among the keys of a bucket: 32-bit, half the cache
/// of [`Counts`]. LSD sorts take at most [`Tuning::LSD_BYTES`] of keys, so the counts fit.
pub(super) type LsdCounts = [u32; MAX_BUCKETS];

/// Counts of the values of each of `digits` (at most [`MAX_PASSES`]) among the keys of
/// `chunks` (at most [`Tuning::LSD_BYTES`] of them, not none), in one read, into the first
/// `digits.len()` histograms of `counts`, and the bits in which the keys differ from the
/// first. Only the counters of each digit's values are cleared and counted.
///
/// Where `counts` holds [`COUNT_SETS`] histograms per digit, consecutive keys add to different
/// sets, which are summed into the first at the end (the others are left holding their part).
pub(super) fn histograms<T: Tuning, K: SortKey>(
    chunks: &[&[K]],
    digits: &[Digit],
    counts: &mut [LsdCounts],
) -> u64 {
    let n = digits.len();
    let sets = if COUNT_SETS * n <= counts.len() {
        COUNT_SETS
    } else {
        1
    };
    for (c, d) in counts[..sets * n].iter_mut().zip(digits.iter().cycle()) {
        c[..d.buckets()].fill(0);
    }
    let Some(&first) = chunks.iter().find_map(|c| c.first()) else {
        return 0;
    };
    let reference = bits(first);
    // A fixed number of digits and sets per call lets the compiler unroll the per-key loop.
    let count: fn(&[K], &[Digit], &mut [LsdCounts], u64) -> u64 = match (n, sets) {
        (0, _) => |keys, _, _, reference| bits_differing(keys, reference),
        (1, COUNT_SETS) => count_digits::<T, K, 1, COUNT_SETS>,
        (2, COUNT_SETS) => count_digits::<T, K, 2, COUNT_SETS>,
        (3, COUNT_SETS) => count_digits::<T, K, 3, COUNT_SETS>,
        (4, COUNT_SETS) => count_digits::<T, K, 4, COUNT_SETS>,
        (1, _) => count_digits::<T, K, 1, 1>,
        (2, _) => count_digits::<T, K, 2, 1>,
        (3, _) => count_digits::<T, K, 3, 1>,
        (4, _) => count_digits::<T, K, 4, 1>,
        (5, _) => count_digits::<T, K, 5, 1>,
        (6, _) => count_digits::<T, K, 6, 1>,
        (7, _) => count_digits::<T, K, 7, 1>,
        _ => count_digits::<T, K, MAX_PASSES, 1>,
    };
    let differ = chunks.iter().fold(0, |differ, keys| {
        differ | count(keys, digits, counts, reference)
    });
    add_sets(&mut counts[..sets * n], digits);
    differ
}

/// Adds every later set of histograms of `counts` (each one per digit of `digits`) into the
/// first.
fn add_sets(counts: &mut [LsdCounts], digits: &[Digit]) {
    if digits.is_empty() {
        return;
    }
    let (sums, others) = counts.split_at_mut(digits.len());
    for set in others.chunks_exact(digits.len()) {
        for ((sum, part), d) in sums.iter_mut().zip(set).zip(digits) {
            for (s, c) in sum[..d.buckets()].iter_mut().zip(&part[..d.buckets()]) {
                *s += c;
            }
        }
    }
}

/// Sets of counters [`histograms`] spreads consecutive keys over. Keys of few distinct values
/// (skewed keys) often add to the same counter as the key before them, and each such add
/// waits for the previous one's store to be read back; with two sets, consecutive keys never
/// share a counter, and the adds overlap.
const COUNT_SETS: usize = 2;
// The thread's workspace holds the sets of a plan of up to four digits (see [`histograms`]).
const _: () = assert!(COUNT_SETS * 4 <= MAX_PASSES);

/// The body of [`histograms`] for exactly `N` digits, over one chunk of keys: adds to the
/// first `SETS * N` histograms of `counts` (key `i` of every four to set `i % SETS`), and
/// returns the bits in which the keys differ from `reference`.
fn count_digits<T: Tuning, K: SortKey, const N: usize, const SETS: usize>(
    keys: &[K],
    digits: &[Digit],
    counts: &mut [LsdCounts],
    reference: u64,
) -> u64 {
    #[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
    if has_bmi2::<T>() {
        #[target_feature(enable = "bmi2")]
        unsafe fn bmi2<K: SortKey, const N: usize, const SETS: usize>(
            keys: &[K],
            digits: &[Digit],
            counts: &mut [LsdCounts],
            reference: u64,
        ) -> u64 {
            count_loop::<K, N, SETS>(keys, digits, counts, reference)
        }
        // SAFETY: the CPU has BMI2 (just checked).
        return unsafe { bmi2::<K, N, SETS>(keys, digits, counts, reference) };
    }
    count_loop::<K, N, SETS>(keys, digits, counts, reference)
}

/// The body of [`count_digits`] (see [`has_bmi2`]).
#[inline(always)]
fn count_loop<K: SortKey, const N: usize, const SETS: usize>(
    keys: &[K],
    digits: &[Digit],
    counts: &mut [LsdCounts],
    reference: u64,
) -> u64 {
    let digits: &[Digit; N] = digits.try_into().expect("N digits");
    let counts = &mut counts[..SETS * N];
    // Shifts and masks in locals rather than read through `digits` for every key.
    let shifts: [u32; N] = std::array::from_fn(|i| digits[i].shift);
    let masks: [usize; N] = std::array::from_fn(|i| digits[i].mask());
    let mut count = |k: K, set: usize| {
        let x = bits(k);
        for i in 0..N {
            counts[set * N + i][((x >> shifts[i]) as usize) & masks[i]] += 1;
        }
        x ^ reference
    };
    let mut differ = 0;
    // `UNROLL` keys to a turn of the loop.
    let (quads, rest) = keys.as_chunks::<UNROLL>();
    for quad in quads {
        for (j, &k) in quad.iter().enumerate() {
            differ |= count(k, j % SETS);
        }
    }
    for &k in rest {
        differ |= count(k, 0);
    }
    differ
}

/// Exclusive prefix sums: where each bucket starts.
pub(super) fn bucket_starts(counts: &Counts) -> Box<Counts> {
    let mut starts = Box::new([0; MAX_BUCKETS]);
    let mut sum = 0;
    for (s, &c) in starts.iter_mut().zip(counts) {
        *s = sum;
        sum += c;
    }
    starts
}

#[cfg(test)]
mod tests {
    use super::super::test_support::lcg;
    use super::*;
    use crate::backend::cpu::radix::tuning::Small;

    #[test]
    fn histograms_in_two_sets_count_every_key_once() {
        // Runs of equal keys (each adds to the same counters as the key before it) among
        // spread ones, in uneven chunks whose lengths are not multiples of four.
        let keys: Vec<u32> = lcg(5003, 23)
            .iter()
            .map(|&x| {
                if x % 3 == 0 {
                    0x1234_5678
                } else {
                    (x >> 7) as u32
                }
            })
            .collect();
        let mut rest = &keys[..];
        let mut chunks = Vec::new();
        for len in [0, 3, 1001, 1, 0, 2998] {
            let (chunk, after) = rest.split_at(len);
            chunks.push(chunk);
            rest = after;
        }
        chunks.push(rest);
        let all =
            [(0, 11), (11, 11), (22, 10), (28, 4)].map(|(shift, width)| Digit { shift, width });
        for n in 1..=all.len() {
            let digits = &all[..n];
            let want: Vec<Vec<u32>> = digits
                .iter()
                .map(|d| {
                    let mut c = vec![0; d.buckets()];
                    keys.iter().for_each(|&k| c[d.of(k)] += 1);
                    c
                })
                .collect();
            // Room for two sets, and for one only.
            for room in [COUNT_SETS * n, n] {
                let mut counts = vec![[7u32; MAX_BUCKETS]; room];
                assert_eq!(
                    histograms::<Small, _>(&chunks, digits, &mut counts),
                    0xffff_ffff
                );
                for (i, d) in digits.iter().enumerate() {
                    assert_eq!(
                        counts[i][..d.buckets()],
                        want[i][..],
                        "{n} digits, room {room}"
                    );
                }
            }
        }
    }
}
