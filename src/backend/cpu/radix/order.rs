//! Inputs already in order: the checks for ascending and descending keys that let the sort
//! stop or merely reverse, and the comparison sort of short runs.

use rayon::prelude::*;

use super::layout::chunk_len;
use crate::data::SortKey;

/// Stable comparison sort for short runs.
pub(super) fn small_sort<K: SortKey>(keys: &mut [K]) {
    keys.sort_by_key(|k| k.ordered_bits());
}

/// Whether `keys` ascend (`Some(true)`), descend (`Some(false)`) or neither.
/// Both checks stop at the first key out of order, so unsorted input costs next to nothing.
fn run_order<K: SortKey>(keys: &[K]) -> Option<bool> {
    if keys.is_sorted_by_key(|k| k.ordered_bits()) {
        Some(true)
    } else if keys.is_sorted_by(|a, b| a.ordered_bits() >= b.ordered_bits()) {
        Some(false)
    } else {
        None
    }
}

/// Whether `keys` were already sorted; descending keys are reversed and count as sorted too.
pub(super) fn presorted<K: SortKey>(keys: &mut [K]) -> bool {
    match run_order(keys) {
        Some(true) => true,
        Some(false) => {
            keys.reverse();
            if K::KEY_TYPE.has_values() {
                restore_ties(keys);
            }
            true
        }
        None => false,
    }
}

/// After reversing descending keys, puts each run of equal keys back in its input order,
/// which keeps the sort stable. Only elements that carry a value need it: keys alone that
/// sort equal are the same bits, so it would be a read of every key that changes nothing.
fn restore_ties<K: SortKey>(keys: &mut [K]) {
    let mut start = 0;
    for i in 1..=keys.len() {
        if i == keys.len() || keys[i].ordered_bits() != keys[start].ordered_bits() {
            keys[start..i].reverse();
            start = i;
        }
    }
}

/// [`presorted`], checking and reversing chunk by chunk in parallel.
pub(super) fn par_presorted<K: SortKey>(keys: &mut [K], threads: usize) -> bool {
    let chunk = chunk_len(keys.len(), threads);
    let orders: Vec<Option<bool>> = keys.par_chunks(chunk).map(run_order).collect();
    let seams_hold = |ascending: bool| {
        (chunk..keys.len()).step_by(chunk).all(|i| {
            let (a, b) = (keys[i - 1].ordered_bits(), keys[i].ordered_bits());
            if ascending { a <= b } else { a >= b }
        })
    };
    let all = |want: bool| orders.iter().all(|&o| o == Some(want)) && seams_hold(want);
    if all(true) {
        return true;
    }
    if !all(false) {
        return false;
    }
    let (front, back) = keys.split_at_mut(keys.len() / 2);
    front
        .par_iter_mut()
        .zip(back.par_iter_mut().rev())
        .for_each(|(a, b)| std::mem::swap(a, b));
    if K::KEY_TYPE.has_values() {
        par_restore_ties(keys, chunk);
    }
    true
}

/// [`restore_ties`] in parallel: the keys are cut into pieces of about `chunk` keys, each cut
/// moved forward to the start of a run of equal keys so that no run spans two pieces.
fn par_restore_ties<K: SortKey>(keys: &mut [K], chunk: usize) {
    let n = keys.len();
    let mut cuts = Vec::new();
    let mut at = chunk;
    while at < n {
        let mut start = at;
        while start < n && keys[start].ordered_bits() == keys[start - 1].ordered_bits() {
            start += 1;
        }
        if start < n {
            cuts.push(start);
        }
        at = start + chunk;
    }
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut rest = keys;
    let mut done = 0;
    for cut in cuts {
        let (piece, tail) = rest.split_at_mut(cut - done);
        pieces.push(piece);
        rest = tail;
        done = cut;
    }
    pieces.push(rest);
    pieces.into_par_iter().for_each(restore_ties);
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{check, check_stable};
    use super::*;
    use crate::backend::cpu::radix::tuning::{Small, Tuning};
    use crate::data::KeyValue;

    #[test]
    fn parallel_tie_restoring_matches_the_serial_one() {
        // Descending keys with runs of ties, some of them across the piece boundaries.
        let mut keys: Vec<KeyValue> = (0..10_000u32)
            .map(|i| KeyValue {
                key: 10_000 - i / 7,
                value: i,
            })
            .collect();
        keys.reverse();
        let mut expected = keys.clone();
        restore_ties(&mut expected);
        for chunk in [1, 3, 7, 100, 9_999, 20_000] {
            let mut got = keys.clone();
            par_restore_ties(&mut got, chunk);
            assert_eq!(got, expected, "chunk {chunk}");
        }
    }

    #[test]
    fn handles_presorted_equal_and_reversed() {
        let n = Small::PAR_MIN * 2;
        let sorted: Vec<u64> = (0..n as u64).collect();
        check(&sorted);
        check(&sorted.iter().rev().copied().collect::<Vec<_>>());
        check(&vec![-3i32; n]);
        // Descending with ties: reversing alone would break stability.
        let pairs: Vec<KeyValue> = (0..n as u32)
            .map(|i| KeyValue {
                key: (n as u32 - i) / 3,
                value: i,
            })
            .collect();
        check_stable(&pairs);
        let strictly: Vec<KeyValue> = pairs.iter().step_by(3).copied().collect();
        check_stable(&strictly);
    }
}
