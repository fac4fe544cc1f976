//! How a split assigns keys to buckets: the [`Bucketer`] trait, for a plain digit and for a
//! [`PrefixMap`] whose buckets are ranges of a wider prefix, chosen to hold even shares.

use super::plan::{Digit, MAX_BUCKETS, MAX_DIGIT_BITS, SPLIT_MAX_BITS, bits};
use crate::data::SortKey;

/// How an MSD split assigns keys to buckets: a [`Digit`], or a [`PrefixMap`] for inputs whose
/// top bits are unevenly spread.
pub(super) trait Bucketer: Sync {
    /// Number of buckets (at most [`MAX_BUCKETS`]).
    fn buckets(&self) -> usize;
    /// The bucket of `key`, below [`MAX_BUCKETS`]; buckets follow the key order.
    fn of<K: SortKey>(&self, key: K) -> usize;
    /// Bits in which all keys of `bucket` agree.
    fn fixed_bits(&self, bucket: usize) -> u64;
}

impl Bucketer for Digit {
    fn buckets(&self) -> usize {
        Digit::buckets(*self)
    }

    #[inline(always)]
    fn of<K: SortKey>(&self, key: K) -> usize {
        Digit::of(*self, key)
    }

    fn fixed_bits(&self, _bucket: usize) -> u64 {
        ((1 << self.width) - 1) << self.shift
    }
}

/// Buckets made of ranges of a wider prefix of the keys (up to [`PREFIX_BITS`] of their top
/// varying bits), the ranges chosen from a sample so that each bucket gets about as many keys.
/// Float keys (whose exponent bits are far from uniform) and skewed keys would otherwise
/// crowd into a few buckets of a plain digit, each too large for the cache, and need another
/// pass through memory.
///
/// A prefix whose keys would overflow the cache (the top exponents of f64 keys) is spread over
/// several buckets by the bits below it: `2^extra` buckets, one for each value of its next
/// `extra` bits. Without them, over half of uniform f64 keys fall into prefixes each holding
/// dozens of buckets' worth, and need a second split through memory. Finding a key's bucket
/// then costs a few more instructions, so only a map that `SPREAD`s a prefix reads the bits
/// below it.
pub(super) struct PrefixMap<const SPREAD: bool> {
    pub(super) shift: u32,
    /// For each prefix value, its first bucket (the low [`MAP_BASE_BITS`]) and the count of
    /// the bits below the prefix that choose among its buckets (the bits above); the table's
    /// length is a power of two.
    pub(super) table: Vec<u16>,
    pub(super) buckets: usize,
    /// The bits in which the keys of each bucket agree.
    pub(super) fixed: Vec<u64>,
}

/// Bits of a [`PrefixMap`] table entry that hold the prefix's first bucket.
const MAP_BASE_BITS: u32 = MAX_DIGIT_BITS;
const _: () = assert!(MAP_BASE_BITS + (SPLIT_MAX_BITS + 1).ilog2() < u16::BITS);

/// A [`PrefixMap`] table entry: the prefix's first bucket and the count of the bits below the
/// prefix that choose among its buckets.
#[inline(always)]
fn map_entry(e: u16) -> (usize, u32) {
    (
        usize::from(e) & ((1 << MAP_BASE_BITS) - 1),
        u32::from(e >> MAP_BASE_BITS),
    )
}

/// The [`PrefixMap`] table entry of a prefix whose buckets start at `first`, chosen among by
/// `extra` bits.
fn map_entry_of(first: usize, extra: u32) -> u16 {
    debug_assert!(first < 1 << MAP_BASE_BITS);
    (first | (extra as usize) << MAP_BASE_BITS) as u16
}

impl PrefixMap<true> {
    /// Whether the map spreads some prefix over several buckets.
    pub(super) fn spreads(&self) -> bool {
        self.table.iter().any(|&e| map_entry(e).1 > 0)
    }

    /// The same map, for one that [`spreads`](Self::spreads) no prefix.
    pub(super) fn plain(self) -> PrefixMap<false> {
        debug_assert!(!self.spreads());
        let PrefixMap {
            shift,
            table,
            buckets,
            fixed,
        } = self;
        PrefixMap {
            shift,
            table,
            buckets,
            fixed,
        }
    }
}

impl<const SPREAD: bool> Bucketer for PrefixMap<SPREAD> {
    fn buckets(&self) -> usize {
        self.buckets
    }

    #[inline(always)]
    fn of<K: SortKey>(&self, key: K) -> usize {
        let x = bits(key);
        let prefix = (x >> self.shift) as usize & (self.table.len() - 1);
        let (base, extra) = map_entry(self.table[prefix]);
        if !SPREAD {
            return base & (MAX_BUCKETS - 1);
        }
        let below = (x >> (self.shift - extra)) as usize & ((1 << extra) - 1);
        (base + below) & (MAX_BUCKETS - 1)
    }

    fn fixed_bits(&self, bucket: usize) -> u64 {
        self.fixed[bucket]
    }
}

/// The [`PrefixMap`] over the prefixes at `shift` (as many as `counts` has entries, a power of
/// two, at least 2) into at most `buckets` (at least 2) buckets, and the sampled keys in each
/// bucket, given the sampled keys of each prefix in `counts`. A prefix with more than `too_big`
/// sampled keys may be spread by up to `room` bits below it (the varying bits below `shift`).
///
/// Consecutive prefixes share a bucket until it would get more than its share of the sample
/// still to place, which leaves buckets for the rest even after heavy prefixes. A prefix too
/// big for one bucket gets buckets of its own, about one per share of the sample (see
/// [`heavy_bits`]), its sampled keys counted as spread evenly over them. The top prefix bit
/// always starts a new bucket: the top varying bit is both clear and set in some keys, so at
/// least two buckets get keys and the recursion makes progress even where the sample missed
/// the keys that differ.
pub(super) fn prefix_map(
    counts: &[u32],
    shift: u32,
    room: u32,
    buckets: usize,
    too_big: usize,
) -> (PrefixMap<true>, Vec<usize>) {
    let half = counts.len() / 2;
    let extra = heavy_bits(counts, room.min(SPLIT_MAX_BITS), buckets, too_big);
    // Buckets owed to heavy prefixes still ahead.
    let mut reserved: usize = extra.iter().map(|&e| buckets_owed(e)).sum();
    let mut table = vec![0u16; counts.len()];
    let mut sums = vec![0usize];
    let mut left: usize = counts
        .iter()
        .zip(&extra)
        .filter(|&(_, &e)| e == 0)
        .map(|(&c, _)| c as usize)
        .sum();
    // Whether the last bucket belongs to a heavy prefix, so that the next prefix needs a new one.
    let mut closed = false;
    for (i, ((t, &c), &e)) in table.iter_mut().zip(counts).zip(&extra).enumerate() {
        let c = c as usize;
        let held = sums[sums.len() - 1];
        if e > 0 {
            reserved -= buckets_owed(e);
            if i == half || closed || held > 0 {
                sums.push(0);
            }
            let first = sums.len() - 1;
            *t = map_entry_of(first, e);
            sums[first] = c >> e;
            sums.extend(std::iter::repeat_n(c >> e, (1 << e) - 1));
            closed = true;
            continue;
        }
        // Buckets left after this one, one of them kept for the upper half.
        let spare = buckets - sums.len() - reserved - usize::from(i < half);
        if i == half
            || closed
            || (held > 0 && spare > 0 && held + c > (held + left).div_ceil(spare + 1))
        {
            sums.push(0);
        }
        closed = false;
        *t = map_entry_of(sums.len() - 1, 0);
        let last = sums.len() - 1;
        sums[last] += c;
        left -= c;
    }
    debug_assert!(sums.len() <= buckets, "{} buckets of {buckets}", sums.len());
    let fixed = fixed_bits_of_buckets(&table, shift, sums.len());
    let map = PrefixMap {
        shift,
        table,
        buckets: sums.len(),
        fixed,
    };
    (map, sums)
}

/// For each prefix of [`prefix_map`], the count of the bits below it that spread it over
/// buckets of its own: none for a prefix of at most `too_big` sampled keys; for a larger one
/// with `s` shares of the sample, about `log2(s)` of them (at least one, at most `room`), so
/// that its buckets get about a share each. Where those buckets would leave too few for the
/// rest (each heavy prefix takes its own and one more for the light prefixes after it, plus
/// the first and the upper half's), shares and `too_big` are doubled until they fit.
fn heavy_bits(counts: &[u32], room: u32, buckets: usize, too_big: usize) -> Vec<u32> {
    let total: usize = counts.iter().map(|&c| c as usize).sum();
    let mut share = total.div_ceil(buckets).max(1);
    let mut too_big = too_big;
    loop {
        let extra: Vec<u32> = counts
            .iter()
            .map(|&c| match c as usize {
                c if c <= too_big => 0,
                c => (c / share).max(2).ilog2().min(room),
            })
            .collect();
        let used: usize = extra.iter().map(|&e| buckets_owed(e)).sum();
        if used + 2 <= buckets {
            return extra;
        }
        share *= 2;
        too_big = 2 * too_big.max(1);
    }
}

/// The buckets a prefix spread by `extra` bits takes in a [`PrefixMap`]: its own, and one for
/// the light prefixes after it; none for a prefix not spread.
fn buckets_owed(extra: u32) -> usize {
    if extra > 0 { (1 << extra) + 1 } else { 0 }
}

/// The bits in which all keys of each of `buckets` buckets agree, given the [`PrefixMap`]
/// `table` over the prefixes at `shift`: those above the highest bit in which the smallest and
/// the largest key that the bucket can hold differ.
fn fixed_bits_of_buckets(table: &[u16], shift: u32, buckets: usize) -> Vec<u64> {
    let mut lowest = vec![u64::MAX; buckets];
    let mut highest = vec![0u64; buckets];
    for (prefix, &e) in table.iter().enumerate() {
        let (first, extra) = map_entry(e);
        let below = shift - extra;
        for sub in 0..1u64 << extra {
            let low = (prefix as u64) << shift | sub << below;
            let b = first + sub as usize;
            lowest[b] = lowest[b].min(low);
            highest[b] = highest[b].max(low | ((1 << below) - 1));
        }
    }
    lowest
        .iter()
        .zip(&highest)
        .map(|(&lo, &hi)| match lo ^ hi {
            0 => u64::MAX,
            differ => !(u64::MAX >> differ.leading_zeros()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::ops::Range;

    use super::super::test_support::lcg;
    use super::*;

    /// The buckets of `prefix` in `map`: its first and one past its last.
    fn buckets_of<const S: bool>(map: &PrefixMap<S>, prefix: usize) -> Range<usize> {
        let (first, extra) = map_entry(map.table[prefix]);
        first..first + (1 << extra)
    }

    #[test]
    fn prefix_maps_keep_order_and_split_at_the_top_bit() {
        // Every sampled key in one prefix of the lower half: the bits below it spread it over
        // about one bucket per share, and the upper half still gets its own bucket.
        let mut counts = vec![0u32; 64];
        counts[5] = 1000;
        let (map, sums) = prefix_map(&counts, 26, 26, 16, 200);
        let of = |prefix: u64, below: u64| map.of(prefix << 26 | below);
        assert_eq!(buckets_of(&map, 5), 0..8);
        let spread: Vec<usize> = (0..8).map(|b| of(5, b << 23 | 12345)).collect();
        assert_eq!(spread, (0..8).collect::<Vec<_>>());
        assert!(of(5, (1 << 26) - 1) < of(6, 0));
        assert!(of(31, (1 << 26) - 1) < of(32, 0));
        assert_eq!(sums[..8], [125; 8]);
        // Without varying bits below the prefix, it keeps one bucket.
        let (map, sums) = prefix_map(&counts, 26, 0, 16, 200);
        assert!(!map.spreads());
        assert_eq!(buckets_of(&map, 5), 0..1);
        assert_eq!(sums[0], 1000);
        assert!(map.table[31] < map.table[32]);
        // Two heavy prefixes among light ones: each gets buckets of its own, about a share
        // each; light prefixes share buckets, and buckets follow the prefix order.
        let mut counts = vec![1u32; 1 << 12];
        counts[100] = 5000;
        counts[3000] = 7000;
        let (map, sums) = prefix_map(&counts, 20, 20, 64, 1000);
        assert!(map.buckets <= 64);
        for (prefix, held) in [(100, 5000), (3000, 7000)] {
            let own = buckets_of(&map, prefix);
            assert_eq!(own.len(), 16, "prefix {prefix}");
            assert!(sums[own.clone()].iter().all(|&s| s == held / 16));
            assert!(buckets_of(&map, prefix - 1).end <= own.start);
            assert_eq!(buckets_of(&map, prefix + 1).start, own.end);
        }
        let heavy = |b: usize| {
            [100, 3000]
                .iter()
                .any(|&p| buckets_of(&map, p).contains(&b))
        };
        let light: Vec<usize> = (0..map.buckets)
            .filter(|&b| !heavy(b))
            .map(|b| sums[b])
            .collect();
        assert!(light.iter().all(|&s| s < 300), "{light:?}");
    }

    #[test]
    fn prefix_maps_fit_their_buckets_and_know_each_buckets_fixed_bits() {
        let shift = 20;
        let mut spread = 0;
        for (round, &(width, buckets, room)) in [
            (6, 2, 20),
            (6, 16, 20),
            (6, 3, 5),
            (10, 16, 20),
            (12, 64, 0),
            (12, 64, 3),
            (16, 2048, 11),
            (16, 1024, 20),
        ]
        .iter()
        .enumerate()
        {
            // One prefix in 97 holds up to 200,000 sampled keys, the others a few or none.
            let counts: Vec<u32> = lcg(1 << width, round as u64)
                .iter()
                .enumerate()
                .map(|(p, &x)| match p % 97 {
                    5 => 1000 + (x >> 32) as u32 % 200_000,
                    _ => (x >> 62) as u32,
                })
                .collect();
            let (map, sums) = prefix_map(&counts, shift, room, buckets, 1000);
            let what = format!("width {width}, {buckets} buckets, room {room}");
            assert!(
                map.buckets <= buckets && sums.len() == map.buckets,
                "{what}"
            );
            assert!(sums.iter().sum::<usize>() <= counts.iter().map(|&c| c as usize).sum());
            // Each prefix's buckets come after the last one's; the upper half starts anew.
            for p in 1..counts.len() {
                let (before, here) = (buckets_of(&map, p - 1), buckets_of(&map, p));
                assert!(before.end - 1 <= here.start, "{what}: prefix {p}");
                assert!(here.end <= map.buckets, "{what}: prefix {p}");
                if p == counts.len() / 2 {
                    assert!(before.end <= here.start, "{what}: the upper half");
                }
            }
            // Keys that share a bucket agree in its fixed bits, and buckets follow key order.
            let mut keys: Vec<u64> = lcg(20_000, 7 + round as u64)
                .iter()
                .map(|&x| x >> (64 - shift - width))
                .collect();
            keys.sort_unstable();
            let mut first_of = vec![None; map.buckets];
            for (&k, b) in keys.iter().zip(keys.iter().map(|&k| map.of(k))) {
                let first = *first_of[b].get_or_insert(k);
                assert_eq!((first ^ k) & map.fixed_bits(b), 0, "{what}: bucket {b}");
            }
            assert!(
                keys.windows(2).all(|w| map.of(w[0]) <= map.of(w[1])),
                "{what}"
            );
            spread += usize::from((0..counts.len()).any(|p| buckets_of(&map, p).len() > 1));
        }
        assert!(spread >= 4, "only {spread} maps spread a heavy prefix");
    }
}
