//! Crowded values: a large bucket that one value (or two or three) holds is partitioned
//! around it in one stable pass rather than sorted by radix. This file finds the value
//! ([`pivot`]) and holds the pieces of the pass (counting, cutting, scattering around it); the
//! partitions that use them and sort on what lies either side live with the sorts they recurse
//! into: [`partition_around`](super::split::partition_around) on one thread,
//! [`par_partition_around`](super::parallel::par_partition_around) on all.

use std::mem::size_of;

use super::plan::bits;
use super::tuning::Tuning;
use crate::data::SortKey;

/// Buckets up to this size are not looked at for a value to partition around: a split aims at
/// buckets a quarter as large.
const fn pivot_bytes<T: Tuning>() -> usize {
    4 * T::BUCKET_BYTES
}

/// Keys read to look for a value to partition a bucket around.
const PIVOT_SAMPLES: usize = 64;

/// A bucket whose sampled keys take at most this many values is taken to hold only those: a
/// partition around the middle one leaves at most one value on either side.
const FEW_VALUES: usize = 3;

/// A value to partition a large bucket around (see [`partition_around`](super::split::partition_around)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pivot {
    /// The value's ordered bits.
    pub(super) value: u64,
    /// Whether the sample showed at most [`FEW_VALUES`] values (the pivot the one holding
    /// most of them, or else the middle one); otherwise the pivot seemed to hold more than
    /// half of the keys.
    pub(super) few: bool,
}

impl Pivot {
    /// Whether a partition pays, with `equal` of the bucket's `n` keys equal to the pivot.
    ///
    /// A bucket of a few values is left with at most one value on either side (each found
    /// sorted in one read), whatever share the pivot holds. Otherwise the keys on either side
    /// still need sorting, and moving them all once more pays only where the pivot's keys,
    /// which need no sorting, are more than half of them.
    pub(super) fn pays(self, equal: usize, n: usize) -> bool {
        if self.few { equal > 0 } else { 2 * equal > n }
    }
}

/// The value to partition `keys` around, judged from [`PIVOT_SAMPLES`] evenly spaced keys, in
/// buckets so much larger than a split aims for that a few values probably crowd them: a
/// value that seems to hold more than half of the keys (skewed keys), else the middle one of
/// the sampled values where they are at most [`FEW_VALUES`] (few-unique keys, two or three of
/// whose values can share a bucket of a split by the top bits, as float keys do).
///
/// The crowding value comes first even where the sample shows few values: a sample of a
/// skewed bucket can show it beside one or two rare ones, where the bucket holds many more,
/// and a partition around the middle of those would leave the crowding value to be
/// partitioned once more, its keys moved twice (as the top value's bucket of Zipf keys would
/// be).
///
/// Sorting such a bucket by radix spends whole passes moving equal keys, and one too large
/// for the cache is split once more first; [`partition_around`](super::split::partition_around) the value moves each key once.
pub(super) fn pivot<T: Tuning, K: SortKey>(keys: &[K]) -> Option<Pivot> {
    pivot_in::<T, _>(&[keys])
}

/// [`pivot`] of the keys of `chunks`, taken in order.
pub(super) fn pivot_in<T: Tuning, K: SortKey>(chunks: &[&[K]]) -> Option<Pivot> {
    let n: usize = chunks.iter().map(|c| c.len()).sum();
    // Small buckets are not looked at, nor (with the tests' tiny thresholds) buckets of fewer
    // keys than the sample reads.
    if n * size_of::<K>() <= pivot_bytes::<T>() || n < PIVOT_SAMPLES {
        return None;
    }
    let step = n / PIVOT_SAMPLES;
    let mut sample = Vec::with_capacity(PIVOT_SAMPLES);
    // `at`: where the next sampled key lies, counted from the start of the chunk.
    let mut at = 0;
    'fill: for chunk in chunks {
        while at < chunk.len() {
            if sample.len() == PIVOT_SAMPLES {
                break 'fill;
            }
            sample.push(bits(chunk[at]));
            at += step;
        }
        at -= chunk.len();
    }
    // Sorted, the sample shows its distinct values in order, and a value that holds more than
    // half of it is the one in the middle.
    sample.sort_unstable();
    let mut values = sample.clone();
    values.dedup();
    let few = values.len() <= FEW_VALUES;
    let middle = sample[sample.len() / 2];
    let held = sample.iter().filter(|&&b| b == middle).count();
    if 2 * held > sample.len() {
        return Some(Pivot { value: middle, few });
    }
    few.then(|| Pivot {
        value: values[values.len() / 2],
        few,
    })
}

/// For keys alone, the key whose ordered bits are `value`; `None` for elements that carry
/// values, which that value does not make.
///
/// Keys alone that sort equal are the same bits, so a partition need not move the keys equal
/// to its pivot: [`scatter_around`] skips them, and their part of the result is filled with
/// copies of this one, a write where moving them is a read and a write, twice. Most of a
/// large bucket of skewed keys is the pivot's.
pub(super) fn equal_key<K: SortKey>(value: u64) -> Option<K> {
    (!K::KEY_TYPE.has_values()).then(|| K::from_ordered_bits(value))
}

/// How many of `keys` lie below the key whose ordered bits are `value`, and how many equal it.
pub(super) fn count_around<K: SortKey>(keys: &[K], value: u64) -> (usize, usize) {
    let (mut below, mut equal) = (0, 0);
    for &k in keys {
        let b = bits(k);
        below += usize::from(b < value);
        equal += usize::from(b == value);
    }
    (below, equal)
}

/// `buf` cut into its first `below` keys, the `equal` keys after them, and the rest.
pub(super) fn thirds<K>(buf: &mut [K], below: usize, equal: usize) -> [&mut [K]; 3] {
    let (low, rest) = buf.split_at_mut(below);
    let (middle, high) = rest.split_at_mut(equal);
    [low, middle, high]
}

/// Moves `keys`, stably, into `parts`: those below the key whose ordered bits are `value`,
/// those equal to it, and those above it, each part exactly as long as its keys. Keys alone
/// equal to `value` are not moved (see [`equal_key`]): their part is left as it was.
pub(super) fn scatter_around<K: SortKey>(keys: &[K], value: u64, parts: [&mut [K]; 3]) {
    let [below, equal, above] = parts;
    let move_equal = K::KEY_TYPE.has_values();
    let (mut next_below, mut next_equal, mut next_above) = (0, 0, 0);
    for &k in keys {
        let b = bits(k);
        if b < value {
            below[next_below] = k;
            next_below += 1;
        } else if b > value {
            above[next_above] = k;
            next_above += 1;
        } else if move_equal {
            equal[next_equal] = k;
            next_equal += 1;
        }
    }
}

/// Moves `keys`, stably, into `out`: those below the key whose ordered bits are `value` from
/// `at[0]` on, those equal to it from `at[1]`, those above it from `at[2]`, moving each place
/// on past the keys written there. Branch-free: the place of each key is chosen, not branched
/// to, since keys on either side of a large share of equal keys follow no pattern that a
/// branch predictor could learn. ([`scatter_around`] writes the parts of one chunk of a
/// parallel partition, which lie apart.)
pub(super) fn split_around<K: SortKey>(keys: &[K], value: u64, out: &mut [K], at: &mut [usize; 3]) {
    let [mut below, mut equal, mut above] = *at;
    for &k in keys {
        let b = bits(k);
        let (lt, gt) = (b < value, b > value);
        let i = if lt {
            below
        } else if gt {
            above
        } else {
            equal
        };
        out[i] = k;
        below += usize::from(lt);
        above += usize::from(gt);
        equal += usize::from(!lt && !gt);
    }
    *at = [below, equal, above];
}

#[cfg(test)]
mod tests {
    use super::super::parallel::par_partition_around;
    use super::super::split::partition_around;
    use super::super::test_support::{
        check_partition, check_stable, expected, in_pool, lcg, patterns,
    };
    use std::mem::size_of;

    use super::*;
    use crate::backend::cpu::radix::tuning::{Small, Tuning};
    use crate::data::KeyValue;

    #[test]
    fn a_value_holding_most_of_a_bucket_is_partitioned_around_stably() {
        let r = lcg(4000, 11);
        // Two keys in three are 1000; the rest lie on both sides of it.
        let pairs: Vec<KeyValue> = r
            .iter()
            .enumerate()
            .map(|(i, &x)| KeyValue {
                key: if x % 3 == 0 {
                    (x >> 40) as u32 % 2000
                } else {
                    1000
                },
                value: i as u32,
            })
            .collect();
        let found = pivot::<Small, _>(&pairs).expect("1000 holds two keys in three");
        let value = bits(KeyValue {
            key: 1000,
            value: 0,
        });
        assert_eq!(found, Pivot { value, few: false });
        check_partition(&pairs, found, partition_around::<Small, _>);
        check_stable(&pairs);
        // Uniform keys have no value to partition around, and small buckets are not looked at.
        let uniform: Vec<u32> = r.iter().map(|&x| x as u32).collect();
        assert_eq!(pivot::<Small, _>(&uniform), None);
        assert_eq!(
            pivot::<Small, _>(&vec![5u32; 4 * Small::BUCKET_BYTES / size_of::<u32>()]),
            None
        );
        // Nor are buckets of fewer keys than the sample reads, however many bytes they hold.
        let few_wide = vec![5u64; 4 * Small::BUCKET_BYTES / 8 + 1];
        assert!(few_wide.len() < PIVOT_SAMPLES);
        assert_eq!(pivot::<Small, _>(&few_wide), None);
    }

    #[test]
    fn keys_alone_equal_to_the_pivot_are_written_as_copies_of_one() {
        let r = lcg(4000, 19);
        // Two keys in three are 1000; the rest lie on both sides of it.
        let keys: Vec<u32> = r
            .iter()
            .map(|&x| {
                if x % 3 == 0 {
                    (x >> 40) as u32 % 2000
                } else {
                    1000
                }
            })
            .collect();
        let found = pivot::<Small, _>(&keys).expect("1000 holds two keys in three");
        assert_eq!(equal_key::<u32>(found.value), Some(1000));
        type Partition = fn(&mut [u32], &mut [u32], bool, Pivot, u64) -> bool;
        let partitions: [(usize, Partition); 2] = [
            (1, partition_around::<Small, _>),
            (3, par_partition_around::<Small, _>),
        ];
        for (threads, partition) in partitions {
            for result_in_dst in [false, true] {
                let (mut src, mut dst) = (keys.clone(), vec![7u32; keys.len()]);
                in_pool(threads, || {
                    assert!(partition(
                        &mut src,
                        &mut dst,
                        result_in_dst,
                        found,
                        u64::MAX
                    ))
                });
                let result = if result_in_dst { &dst } else { &src };
                assert_eq!(
                    patterns(result),
                    expected(&keys),
                    "{threads} threads, result in dst {result_in_dst}"
                );
            }
        }
        // Elements with values move: equal keys are told apart by their values.
        let pair = KeyValue {
            key: 1000,
            value: 0,
        };
        assert_eq!(equal_key::<KeyValue>(bits(pair)), None);
    }

    #[test]
    fn a_bucket_of_a_few_values_is_partitioned_around_the_middle_one() {
        // Keys 3, 7 and 11 in shares of two, one and two fifths: no value holds most of them.
        let r = lcg(4000, 13);
        let keyed = |values: &[u32]| -> Vec<KeyValue> {
            r.iter()
                .enumerate()
                .map(|(i, &x)| KeyValue {
                    key: values[(x >> 33) as usize % values.len()],
                    value: i as u32,
                })
                .collect()
        };
        let three = keyed(&[3, 3, 7, 11, 11]);
        let seven = bits(KeyValue { key: 7, value: 0 });
        let found = pivot::<Small, _>(&three).expect("a bucket of three values");
        assert_eq!(
            found,
            Pivot {
                value: seven,
                few: true
            }
        );
        // The partition pays though 7 holds a fifth of the keys: 3 and 11 are left on either
        // side, each found sorted in one read.
        for result_in_dst in [false, true] {
            let (mut src, mut dst) = (three.clone(), three.clone());
            assert!(partition_around::<Small, _>(
                &mut src,
                &mut dst,
                result_in_dst,
                found,
                u64::MAX
            ));
            let mut want = three.clone();
            want.sort_by_key(|p| p.key);
            assert_eq!(if result_in_dst { &dst } else { &src }, &want);
        }
        // Of two values, the one holding most of the keys, whichever end it is.
        let value = |key| bits(KeyValue { key, value: 0 });
        let two = keyed(&[3, 11, 11]);
        assert_eq!(pivot::<Small, _>(&two).map(|p| p.value), Some(value(11)));
        assert_eq!(
            pivot::<Small, _>(&keyed(&[3, 3, 11])).map(|p| p.value),
            Some(value(3))
        );
        check_stable(&two);
        check_stable(&three);
        // Four values in equal shares are too many, and none holds most of them.
        assert_eq!(pivot::<Small, _>(&keyed(&[3, 7, 11, 15])), None);
    }

    #[test]
    fn a_value_crowding_a_bucket_is_the_pivot_though_the_sample_shows_few_values() {
        // 4000 keys, nearly all 1000; the rest are rare values below it, two of them where the
        // sample reads (every 62nd key), so that the sample shows three values, 1000 the top
        // one. The partition goes around 1000, not the middle value, 2.
        let (n, step) = (4000, 4000 / PIVOT_SAMPLES);
        let pairs: Vec<KeyValue> = (0..n)
            .map(|i| KeyValue {
                key: match i {
                    0 => 1,
                    _ if i == step => 2,
                    _ if i % 50 == 7 => 3 + (i % 997) as u32,
                    _ => 1000,
                },
                value: i as u32,
            })
            .collect();
        let crowding = bits(KeyValue {
            key: 1000,
            value: 0,
        });
        let found = pivot::<Small, _>(&pairs).expect("a crowded bucket");
        assert_eq!(
            found,
            Pivot {
                value: crowding,
                few: true
            }
        );
        check_partition(&pairs, found, partition_around::<Small, _>);
        check_stable(&pairs);
    }
}
