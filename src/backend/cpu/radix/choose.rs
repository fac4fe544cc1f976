//! The sample of the keys that chooses an MSD split, and the bits in which it varies
//! ([`sampled_bits`]); choosing the bucketer of the split from it: a plain digit, or a prefix
//! map where the sample shows the top bits unevenly spread.

use std::mem::size_of_val;

use super::plan::{Digit, SPLIT_MAX_BITS, bits, span, split_digit};
use super::prefix::{Bucketer, PrefixMap, prefix_map};
use super::tuning::Tuning;
use crate::data::SortKey;

/// The bucketer [`choose_split`] picks.
pub(super) enum Split {
    Digit(Digit),
    Map(PrefixMap<false>),
    Spread(PrefixMap<true>),
}

/// The widest prefix a [`PrefixMap`] reads (its table then takes 128 KiB).
const PREFIX_BITS: u32 = 16;
/// Keys sampled to choose a split.
const SAMPLES: usize = 1 << 14;

/// Consecutive keys taken from each place a sample reads.
const SAMPLE_RUN: usize = 16;

/// How a sample of `n` keys reads them: `SAMPLE_RUN` consecutive keys from each of this many
/// evenly spaced places, this many keys apart. At most one key in 16 and at most [`SAMPLES`]
/// (enough for a few dozen per bucket); runs of keys rather than single keys touch 16 times
/// fewer cache lines and pages, which a sample of a large input would otherwise fault through
/// the TLB one by one, on one thread.
fn sample_places(n: usize) -> (usize, usize) {
    let places = (n / 16).min(SAMPLES).div_ceil(SAMPLE_RUN).max(1);
    (places, n / places)
}

/// The keys that choose a split of `keys` (see [`sample_places`]).
pub(super) fn sample<K: SortKey>(keys: &[K]) -> impl Iterator<Item = K> + '_ {
    let (places, gap) = sample_places(keys.len());
    (0..places).flat_map(move |p| {
        let start = p * gap;
        keys[start..(start + SAMPLE_RUN).min(keys.len())]
            .iter()
            .copied()
    })
}

/// The bits in which the keys that choose a split (see [`sample`]) differ from the first key:
/// some of the bits in which the keys differ.
pub(super) fn sampled_bits<K: SortKey>(keys: &[K]) -> u64 {
    let Some(&first) = keys.first() else { return 0 };
    sample(keys).fold(0, |m, k| m | (bits(k) ^ bits(first)))
}

/// The bucketer of an MSD split of `keys` (varying in `mask`, not 0) on `threads` threads:
/// the plain `digit` from [`split_digit`], unless a sample shows that a [`PrefixMap`] would
/// keep a good share of the keys (an eighth or more) out of costly buckets (see
/// [`costly_samples`]), each of which would cost its keys another pass through memory; and a
/// map that spreads heavy prefixes only where it keeps another such share out. (Where each
/// large value already has a bucket of its own, no split helps, and the plain digit is
/// cheaper to compute.)
pub(super) fn choose_split<T: Tuning, K: SortKey>(keys: &[K], mask: u64, threads: usize) -> Split {
    let digit = split_digit::<T>(mask, size_of_val(keys), threads);
    let (lo, hi) = span(mask);
    // A prefix 5 bits wider than the digit: 32 prefix values per bucket of the digit, and a
    // small table for the small splits.
    let width = (hi - lo).min(PREFIX_BITS).min(digit.width + 5);
    if width <= digit.width {
        return Split::Digit(digit);
    }
    let shift = hi - width;
    let mut counts = vec![0u32; 1 << width];
    let mut samples = 0usize;
    for k in sample(keys) {
        counts[(bits(k) >> shift) as usize & ((1 << width) - 1)] += 1;
        samples += 1;
    }
    // Buckets with more sampled keys than this would overflow the cache.
    let too_big = samples * T::LSD_BYTES / size_of_val(keys);
    let plain = costly_samples(keys, &digit, too_big);
    if plain <= samples / 8 {
        return Split::Digit(digit);
    }
    // Each choice must keep an eighth of the sample more out of costly buckets than the
    // cheaper one before it.
    let map = prefix_map(&counts, shift, 0, digit.buckets(), too_big)
        .0
        .plain();
    let mapped = costly_samples(keys, &map, too_big);
    let mut best = if plain.saturating_sub(mapped) > samples / 8 {
        Split::Map(map)
    } else {
        Split::Digit(digit)
    };
    // Spreading can only take out of costly buckets the keys of heavy prefixes that differ
    // in the bits below them; it pays only where those are another good share.
    if mapped <= samples / 8
        || spreadable_samples(keys, &counts, shift, shift - lo, too_big) <= samples / 8
    {
        return best;
    }
    let spread = prefix_map(&counts, shift, shift - lo, digit.buckets(), too_big).0;
    if spread.spreads()
        && plain
            .min(mapped)
            .saturating_sub(costly_samples(keys, &spread, too_big))
            > samples / 8
    {
        best = Split::Spread(spread);
    }
    best
}

/// The sampled keys of `keys` that `bucketer` would put in costly buckets: those whose keys,
/// other than those of their commonest value (as a majority vote finds it), are more than
/// `too_big` sampled keys (too many for [`Tuning::LSD_BYTES`], so another pass through memory).
///
/// A bucket of one value is found sorted in one read, however large, and one that a value
/// dominates is partitioned around it in one pass, the rest sorted in the cache (see
/// [`pivot`]); but a bucket of two or more large values (few-unique float keys, whose values
/// crowd the top bits) costs at least another pass through memory, which a split that gives
/// each value a bucket of its own saves.
fn costly_samples<K: SortKey, B: Bucketer>(keys: &[K], bucketer: &B, too_big: usize) -> usize {
    let buckets = bucketer.buckets();
    // Boyer-Moore majority vote in each bucket, then the votes of each bucket's candidate
    // (where no value holds most of a bucket, they leave more than half of it).
    let (mut held, mut candidate, mut lead) =
        (vec![0; buckets], vec![0; buckets], vec![0; buckets]);
    for k in sample(keys) {
        let (b, x) = (bucketer.of(k), bits(k));
        held[b] += 1;
        if lead[b] == 0 {
            candidate[b] = x;
        }
        lead[b] = if candidate[b] == x {
            lead[b] + 1
        } else {
            lead[b] - 1
        };
    }
    let mut votes = vec![0; buckets];
    for k in sample(keys) {
        let b = bucketer.of(k);
        votes[b] += usize::from(candidate[b] == bits(k));
    }
    (0..buckets)
        .filter(|&b| held[b] - votes[b] > too_big)
        .map(|b| held[b])
        .sum()
}

/// The sampled keys (of those that `counts` holds by prefix at `shift`) that a [`PrefixMap`]
/// spreading prefixes by up to `room` bits could move out of oversized buckets: the keys of
/// each prefix with more than `too_big` of them whose sampled keys differ in the bits just
/// below it that the map would read. A prefix of one value (few-unique or skewed keys) keeps
/// all its keys in one bucket however many it is given.
fn spreadable_samples<K: SortKey>(
    keys: &[K],
    counts: &[u32],
    shift: u32,
    room: u32,
    too_big: usize,
) -> usize {
    let below = shift - room.min(SPLIT_MAX_BITS);
    if below == shift {
        return 0;
    }
    let heavy: Vec<usize> = (0..counts.len())
        .filter(|&p| counts[p] as usize > too_big)
        .collect();
    let mut first = vec![None; heavy.len()];
    let mut varies = vec![false; heavy.len()];
    for k in sample(keys) {
        let x = bits(k);
        let prefix = (x >> shift) as usize & (counts.len() - 1);
        if let Ok(i) = heavy.binary_search(&prefix) {
            // Keys of one prefix agree from `shift` up: any difference is in the bits below.
            let f: u64 = *first[i].get_or_insert(x);
            varies[i] |= (f ^ x) >> below != 0;
        }
    }
    heavy
        .iter()
        .zip(&varies)
        .filter(|&(_, &v)| v)
        .map(|(&p, _)| counts[p] as usize)
        .sum()
}

#[cfg(test)]
mod tests {
    use std::mem::size_of_val;

    use super::super::plan::{MAX_BUCKETS, varying_bits};
    use super::super::test_support::{check, lcg};
    use super::*;
    use crate::backend::cpu::radix::tuning::Small;
    use crate::data::{Distribution, KeyData, KeyType, SortKey, generate};

    /// Asserts that the prefix map `split` of `keys` makes buckets that follow the key order,
    /// none with more than a `fraction`th of the keys.
    fn assert_even_buckets_in_order<K: SortKey>(split: &Split, keys: &[K], fraction: usize) {
        let bucket = |k: K| match split {
            Split::Map(map) => map.of(k),
            Split::Spread(map) => map.of(k),
            Split::Digit(_) => panic!("a plain digit for uneven keys"),
        };
        let mut counts = vec![0; MAX_BUCKETS];
        keys.iter().for_each(|&k| counts[bucket(k)] += 1);
        let largest = counts.iter().max().copied().unwrap_or(0);
        assert!(
            largest * fraction < keys.len(),
            "largest bucket {largest} of {}",
            keys.len()
        );
        let mut sorted = keys.to_vec();
        sorted.sort_by(K::sort_cmp);
        assert!(sorted.windows(2).all(|w| bucket(w[0]) <= bucket(w[1])));
    }

    #[test]
    fn uneven_top_bits_get_a_prefix_map_with_even_buckets() {
        // Floats like the uniform generator's: most keys share the top exponents.
        let n = 40_000;
        let floats: Vec<f32> = lcg(n, 4)
            .iter()
            .map(|&x| ((x >> 40) as i64 - (1 << 23)) as f32 / 8.0)
            .collect();
        let split = choose_split::<Small, _>(&floats, varying_bits(&floats), 1);
        assert!(
            matches!(split, Split::Map(_)),
            "plain buckets fit the cache"
        );
        assert_even_buckets_in_order(&split, &floats, 8);
        check(&floats);
        // Twice as many keys of twice the width: the top prefixes no longer fit the cache,
        // and the bits below them spread them over buckets of their own.
        let doubles: Vec<f64> = lcg(2 * n, 4)
            .iter()
            .map(|&x| ((x >> 11) as i64 - (1 << 52)) as f64 / 8.0)
            .collect();
        let split = choose_split::<Small, _>(&doubles, varying_bits(&doubles), 1);
        assert!(matches!(split, Split::Spread(_)), "heavy prefixes spread");
        assert_even_buckets_in_order(&split, &doubles, 32);
        check(&doubles);
        // Keys the sample misses (between the samples, smaller than the rest) still sort.
        let hidden: Vec<u32> = (0..n as u32)
            .map(|i| if i % 16 == 1 { i } else { 1 << 31 | 5 })
            .collect();
        check(&hidden);
        // Uniform integers keep the plain digit; so do keys of a few values, each too big
        // for a bucket, whose prefixes no bits below them would spread.
        let ints: Vec<u32> = lcg(n, 5).iter().map(|&x| x as u32).collect();
        assert!(matches!(
            choose_split::<Small, _>(&ints, varying_bits(&ints), 1),
            Split::Digit(_)
        ));
        let values = lcg(16, 6);
        let few: Vec<u64> = lcg(n, 7).iter().map(|&x| values[x as usize % 16]).collect();
        assert!(matches!(
            choose_split::<Small, _>(&few, varying_bits(&few), 1),
            Split::Digit(_)
        ));
        check(&few);
    }

    #[test]
    fn bits_the_sample_misses_are_found() {
        let n = 40_000;
        // Keys halfway between two places the sample reads.
        let (_, gap) = sample_places(n);
        assert!(gap >= 2 * SAMPLE_RUN);
        let unsampled = |i: usize| i % gap == gap / 2;
        let low: Vec<u32> = lcg(n, 6).iter().map(|&x| x as u32 >> 12).collect();
        // A higher top bit than the sample shows: the split is made again.
        let mut high = low.clone();
        high[gap + gap / 2] = 1 << 31;
        assert_eq!(sampled_bits(&high) >> 20, 0);
        check(&high);
        // The sample sees no varying bit at all.
        let hidden: Vec<u32> = (0..n as u32)
            .map(|i| if unsampled(i as usize) { i } else { 7 })
            .collect();
        assert_eq!(sampled_bits(&hidden), 0);
        check(&hidden);
        // The sample misses only low bits: the buckets find them.
        let fine: Vec<u64> = (0..n as u64)
            .map(|i| ((i * 7919) % 1000) << 20 | u64::from(unsampled(i as usize)))
            .collect();
        assert_eq!(sampled_bits(&fine) & 1, 0);
        check(&fine);
    }

    #[test]
    fn costly_buckets_are_those_with_too_many_keys_outside_their_commonest_value() {
        // 16 buckets by the top 4 bits; every run of 16 keys (the sample reads such runs)
        // gives 4 keys to each of four buckets: one value; one value in 3 keys of 4; two
        // values half and half; four values.
        let keys: Vec<u32> = (0..4096u32)
            .map(|i| match i % 16 {
                0..4 => 1 << 28,
                j @ 4..8 => 2 << 28 | u32::from(j == 7),
                j @ 8..12 => 3 << 28 | (j % 2),
                j => 5 << 28 | j,
            })
            .collect();
        let digit = Digit {
            shift: 28,
            width: 4,
        };
        let per_bucket = sample(&keys).count() / 4;
        assert_eq!(per_bucket, 64);
        // Keys outside the commonest value: none, a quarter, a half, three quarters.
        assert_eq!(costly_samples(&keys, &digit, 40), per_bucket);
        assert_eq!(costly_samples(&keys, &digit, 20), 2 * per_bucket);
        assert_eq!(costly_samples(&keys, &digit, 10), 3 * per_bucket);
        assert_eq!(costly_samples(&keys, &digit, per_bucket), 0);
    }

    #[test]
    fn few_values_crowded_in_the_top_bits_get_buckets_of_their_own() {
        // Few-unique floats as the generator makes them: their exponents crowd the 16 values
        // into a few buckets of the plain digit, several values in some of them.
        let KeyData::F32(floats) = generate(KeyType::F32, Distribution::FewUnique, 16_000, 42)
        else {
            unreachable!("f32 keys")
        };
        let mask = varying_bits(&floats);
        // Keys in buckets of more than one value, each such bucket a split of its own.
        let mixed = |bucket: &dyn Fn(f32) -> usize| {
            let mut values: Vec<Vec<u32>> = vec![Vec::new(); MAX_BUCKETS];
            let mut held = vec![0; MAX_BUCKETS];
            for &k in &floats {
                let b = bucket(k);
                held[b] += 1;
                if !values[b].contains(&k.to_bits()) {
                    values[b].push(k.to_bits());
                }
            }
            (0..MAX_BUCKETS)
                .filter(|&b| values[b].len() > 1)
                .map(|b| held[b])
                .sum::<usize>()
        };
        let digit = split_digit::<Small>(mask, size_of_val(&floats[..]), 1);
        assert!(mixed(&|k| digit.of(k)) > floats.len() / 8);
        let mapped = match choose_split::<Small, _>(&floats, mask, 1) {
            Split::Map(map) => mixed(&|k| map.of(k)),
            Split::Spread(map) => mixed(&|k| map.of(k)),
            Split::Digit(_) => panic!("a plain digit for crowded values"),
        };
        assert!(
            mapped <= floats.len() / 8,
            "{mapped} keys in buckets of several values"
        );
        check(&floats);
    }

    #[test]
    fn only_heavy_prefixes_that_vary_just_below_are_worth_spreading() {
        // Keys per prefix above bit 40, with prefixes of more than 100 sampled keys heavy.
        let spreadable = |keys: &[u64], room: u32| {
            let mut counts = vec![0u32; 256];
            sample(keys).for_each(|k| counts[(k >> 40) as usize & 255] += 1);
            let n = spreadable_samples(keys, &counts, 40, room, 100);
            (n, sample(keys).count())
        };
        let n = 40_000;
        let two_values: Vec<u64> = (0..n).map(|i| [5u64, 9][i % 2] << 40).collect();
        assert_eq!(spreadable(&two_values, 40).0, 0);
        let spread: Vec<u64> = (0..n).map(|i| 5 << 40 | (i as u64 % 3) << 38).collect();
        let (held, samples) = spreadable(&spread, 40);
        assert_eq!(held, samples);
        assert_eq!(spreadable(&spread, 0).0, 0);
        // Differences far below the bits a map would read do not count.
        let low: Vec<u64> = (0..n).map(|i| (5 << 40) | (i as u64 % 3)).collect();
        assert_eq!(spreadable(&low, 40).0, 0);
        // Half the keys in a heavy prefix of one value, half in one that varies.
        let mixed: Vec<u64> = (0..n)
            .map(|i| match i % 2 {
                0 => 5 << 40,
                _ => 9 << 40 | (i as u64 % 7) << 36,
            })
            .collect();
        let (held, samples) = spreadable(&mixed, 40);
        assert_eq!(held, samples / 2);
        // Light prefixes do not count.
        let light: Vec<u64> = (0..n)
            .map(|i| {
                if i % 64 == 0 {
                    7 << 40 | (i as u64) << 20
                } else {
                    5 << 40
                }
            })
            .collect();
        assert_eq!(spreadable(&light, 40).0, 0);
    }
}
