//! sortmark's own CPU radix sort: a stable radix sort over [`SortKey::ordered_bits`],
//! single-threaded ([`radix_sort`]) and on the current rayon pool ([`par_radix_sort`]).
//!
//! # Design
//!
//! A plain 8-bit LSD radix sort streams the whole array through memory once per digit: four
//! read-and-write passes for a u32 key, eight for a u64. This sort instead makes **one**
//! memory-bound pass and does the rest inside the cache:
//!
//! 1. **Cheap checks first.** A short-circuiting scan recognises ascending input (done) and
//!    descending input (reversed). The sort then works only on the bits in which the keys
//!    differ from the first key: bits that never vary get no pass at all, so all-equal,
//!    few-unique, narrow-range and float inputs (whose exponent bits barely vary) sort in
//!    fewer passes, and the digits are laid over the bits that actually vary. The first split
//!    needs only the top varying bit, so it takes it from a sample of the keys and checks it
//!    while counting (splitting again in the rare case that the sample missed a higher bit).
//!    That count also yields the exact varying bits, which the buckets inherit, so they need
//!    no pass of their own to find them.
//! 2. **MSD split.** The keys are scattered by their top varying bits (up to 11 of them, enough
//!    to make buckets of about 32 KiB, and in the parallel sort at least 8 buckets per thread)
//!    into the scratch buffer. Where a sample shows those bits unevenly spread (float
//!    exponents, skewed keys), so that some buckets would not fit the cache, the buckets are
//!    instead ranges of a 16-bit prefix chosen from the sample to hold about equal shares,
//!    looked up in a table; a prefix whose keys alone would not fit the cache (the top
//!    exponents of f64 keys) gets several buckets, chosen by the bits below it. Each bucket
//!    knows the bits its keys share, so its sort plans its passes over the rest. Large splits
//!    go through *software write-combining*: each bucket gathers its keys in a cache-line
//!    buffer that is written out as a whole line, with non-temporal stores once the data
//!    cannot stay in cache, so the scatter pays neither a read-for-ownership nor a partial
//!    line per key. On sorted stretches, where consecutive keys share a bucket, the bucket's
//!    position stays in a register. On one thread, an input too large for the cache is split
//!    without counting first: each bucket gathers four lines at a time, which go into a chain
//!    of fixed-size blocks, and each bucket's sort reads its keys from its blocks and writes
//!    them into place (see [`blocked`]), which saves the histogram pass, a read of the whole
//!    input.
//! 3. **Buckets finished in cache.** Each bucket is then finished by an LSD radix sort over its
//!    remaining varying bits with digits of up to 11 bits (two passes for u32 keys), which runs at
//!    cache rather than memory speed. LSD passes over digits that do not vary within the bucket are
//!    skipped. Keys that would need more than three passes (u64 keys) are sorted by their top
//!    varying bits only (22 of them in a bucket of the usual size), which tell nearly all of a
//!    bucket's keys apart; one more read finds the few runs of keys that share them and sorts each
//!    run on its own, where three more passes would move every key. Such a bucket counts its keys'
//!    exact varying bits as it counts their digits, and plans again where the bits it inherited
//!    were too many. Each thread keeps its counters and a spare buffer from one bucket to the next;
//!    the passes go through the spare buffer, which stays in the cache, so that the result lands
//!    where it belongs without a copy. The bucket's other half, not touched since long before, is
//!    first read in order, which brings it into the cache at streaming speed rather than line by
//!    line through the scatter's random writes. On one thread, the passes of each bucket also
//!    prefetch the next bucket's keys and destination into L2, a few lines every 64 keys. A pass
//!    in which one digit value is common (skewed keys) fills each bucket from both ends at once,
//!    so that consecutive keys seldom wait on the same bucket's place. A bucket far larger than
//!    the split aimed for, most of it one value (skewed inputs) or all of it two or three values
//!    (few-unique inputs), is partitioned around that value (or the middle one) in one pass,
//!    stably (keys alone equal to it, all the same bits, are written as copies of one rather
//!    than moved), and only the keys on either side of it are sorted on; other buckets still too
//!    large for the cache are split again; buckets of a few dozen keys use std's stable sort.
//!    (Where a split would put several large values in one bucket, a prefix map that gives each
//!    its own is chosen instead where it can.) On a CPU with AVX-512, buckets of 32-bit keys
//!    alone (not pairs) are instead sorted by a quicksort that works on sixteen keys per
//!    instruction, in place (see [`vector`]).
//!
//! The parallel sort splits the input into one chunk per thread of the current rayon pool; each
//! chunk histograms and scatters its own keys into disjoint regions of every bucket (regions in
//! chunk order, so the split stays stable). The buckets are then spread over the threads by
//! rayon's work stealing; a bucket much larger than a thread's share (skewed inputs) is split
//! again in parallel instead of being left to one thread. An input too large for the cache, on
//! few enough threads that each can keep chains of blocks of its own, is split as on one
//! thread, without the histogram pass: each thread into its own chains (see [`blocked`]).
//!
//! The scratch buffer holds one copy of the input (and one block per bucket more, for the blocked
//! split). Faulting in the pages of a fresh buffer costs more than a pass (far more in a virtual
//! machine, or without transparent huge pages), so, as benchmark-grade radix sorts do, the sort
//! **keeps its scratch buffer between calls**: one buffer, as large as the largest input sorted
//! since it was last freed, made when a larger one is needed (marked for transparent huge pages on
//! Linux and written once, in parallel in the parallel sort, so that its pages are resident before
//! the first scatter). [`release_scratch`] frees it; sortmark calls it when a case's repetitions
//! are done, so the warm-up run pays the page faults and the timed runs do not. A sort that finds
//! the buffer in use by another sort running at the same time allocates its own, as does a key type
//! other than sortmark's own.
//!
//! Every pass is stable, so [`KeyValue`](crate::data::KeyValue) pairs keep the input order of
//! equal keys.

use std::any::TypeId;
use std::cell::RefCell;
use std::mem::{size_of, size_of_val};
use std::sync::{Mutex, PoisonError, TryLockError};

use rayon::prelude::*;

use super::pages::advise_huge_pages;
use crate::data::{KeyValue, SortKey};

mod blocked;
mod vector;

/// The widest LSD digit: two passes cover the 22 bits left of a u32 after a split.
const LSD_MAX_BITS: u32 = 11;
/// The widest MSD digit: its 2^11 write-combining buffers (128 KiB of single lines, 512 KiB of
/// the four lines a bucket of the blocked split gathers) stay in L2.
const SPLIT_MAX_BITS: u32 = 11;
/// The widest digit of either kind.
const MAX_DIGIT_BITS: u32 = if LSD_MAX_BITS > SPLIT_MAX_BITS {
    LSD_MAX_BITS
} else {
    SPLIT_MAX_BITS
};
/// Counters per digit.
const MAX_BUCKETS: usize = 1 << MAX_DIGIT_BITS;
/// The most LSD passes (64-bit keys in 8-bit digits).
const MAX_PASSES: usize = 8;
/// A parallel split makes at least this many buckets per thread, so that work stealing can
/// even out the threads' shares.
const BUCKETS_PER_THREAD: usize = 8;
/// Inputs up to this length are sorted by std's stable sort without any radix pass.
const TOP_SMALL: usize = 256;
/// Buckets up to this length are finished by std's stable sort, which beats clearing and
/// scanning the radix counters for so few keys.
#[cfg(not(test))]
const BUCKET_SMALL: usize = 256;
/// An MSD split aims at buckets of about this many bytes (8K u32 keys, 4K u64 keys). An LSD
/// pass scatters a bucket into a buffer as large, so the smaller the bucket, the more of
/// that buffer stays in L1 (48 KiB on the 16-core Xeon); buckets of twice this size made
/// one-thread sorts about 10 % slower there for u32 and u64 keys (floats within the noise),
/// even though fewer buckets save write-combining lines in the split and counter scans in
/// the buckets.
#[cfg(not(test))]
const BUCKET_BYTES: usize = 1 << 15;
/// Buckets up to this many bytes are finished by an LSD sort in cache; larger ones are split
/// by their top varying bits first.
#[cfg(not(test))]
const LSD_BYTES: usize = 1 << 20;
/// Splits of more than this many bytes go through write-combining buffers.
#[cfg(not(test))]
const WC_BYTES: usize = 1 << 22;
/// Splits of more than this many bytes write whole lines with non-temporal stores, on any
/// number of threads (see [`streams`]).
#[cfg(not(test))]
const NT_BYTES: usize = 1 << 25;
/// The L2 cache of one core of the 16-core device and of the 2-core Xeon: 2 MiB.
#[cfg(not(test))]
const L2_BYTES: usize = 1 << 21;
/// Below this length the parallel sort runs the single-threaded one.
#[cfg(not(test))]
const PAR_MIN: usize = 1 << 16;

// Tests use small thresholds so that small inputs take every path.
#[cfg(test)]
const BUCKET_SMALL: usize = 48;
#[cfg(test)]
const BUCKET_BYTES: usize = 1 << 6;
#[cfg(test)]
const LSD_BYTES: usize = 1 << 10;
#[cfg(test)]
const WC_BYTES: usize = 1 << 12;
#[cfg(test)]
const NT_BYTES: usize = 1 << 14;
#[cfg(test)]
const L2_BYTES: usize = 1 << 13;
#[cfg(test)]
const PAR_MIN: usize = 1 << 10;

/// Sorts `keys` stably by [`SortKey::ordered_bits`] on the calling thread.
///
/// Uses one scratch buffer as long as `keys`, kept for the next call (see [`release_scratch`]).
pub fn radix_sort<K: SortKey>(keys: &mut [K]) {
    if keys.len() <= TOP_SMALL {
        small_sort(keys);
        return;
    }
    if presorted(keys) {
        return;
    }
    if size_of_val(keys) > LSD_BYTES {
        // A split needs only the top varying bit, which a sample nearly always shows; the
        // split's first pass checks it (see `Check`), saving a pass over the keys.
        let sampled = sampled_bits(keys);
        if sampled != 0 {
            if streams(size_of_val(keys), 1) {
                // Too large for the cache: a split into blocks saves the histogram pass too.
                blocked::sort(keys, sampled);
            } else {
                with_scratch(keys.len(), keys[0], false, |scratch| {
                    split_once(keys, scratch, false, sampled, Check::Guess)
                });
            }
            return;
        }
    }
    let mask = varying_bits(keys);
    if mask == 0 {
        return;
    }
    with_scratch(keys.len(), keys[0], false, |scratch| {
        sort_varying(keys, scratch, false, mask, Check::Exact, Ahead::NONE)
    });
}

/// Sorts `keys` stably by [`SortKey::ordered_bits`] on all threads of the current rayon pool.
///
/// Run it inside [`rayon::ThreadPool::install`] to choose the threads. With one thread, or for
/// inputs too small to gain from threads, it is [`radix_sort`]. Uses one scratch buffer as long
/// as `keys`, kept for the next call (see [`release_scratch`]).
pub fn par_radix_sort<K: SortKey>(keys: &mut [K]) {
    let threads = rayon::current_num_threads();
    if threads <= 1 || keys.len() < PAR_MIN {
        radix_sort(keys);
        return;
    }
    if par_presorted(keys, threads) {
        return;
    }
    // As in `radix_sort`: the varying bits from a sample, checked by the histogram pass.
    let sampled = sampled_bits(keys);
    if sampled != 0 {
        if streams(size_of_val(keys), threads) {
            // As on one thread: a split into blocks saves the histogram pass.
            blocked::par_sort(keys, sampled);
            return;
        }
        with_scratch(keys.len(), keys[0], true, |scratch| {
            par_split(keys, scratch, false, sampled, Check::Guess)
        });
        return;
    }
    let mask = par_varying_bits(keys, threads);
    if mask == 0 {
        return;
    }
    with_scratch(keys.len(), keys[0], true, |scratch| {
        par_split(keys, scratch, false, mask, Check::Exact)
    });
}

/// Whether a split of `bytes` on `threads` threads writes its lines with non-temporal
/// stores (and, of a whole input, on one thread or a few, into blocks): where the input is
/// larger than the threads' L2 caches hold, and always above [`NT_BYTES`]. Its lines' plain
/// stores would each read a line from memory first, and the keys would not stay in the
/// cache for their buckets' sorts anyway.
///
/// On 16 threads this is [`NT_BYTES`], as it was for any number of threads. Below it, on a
/// 2-core Xeon, u32 keys at 2^21, 2^22 and 2^23 sorted at 206, 199 and 239 Mkeys/s on one
/// thread this way, against 168, 99 and 96 with plain stores through the counting split (u64,
/// f32 and pairs at 2^22 about twice as fast too); on two threads at 376, 383 and 415 against
/// 333, 236 and 189 (u64 and pairs at 2^22 about twice as fast, skewed u32 within the noise).
/// At 2^19 and 2^20 on one thread, both ran alike.
fn streams(bytes: usize, threads: usize) -> bool {
    bytes > (threads * L2_BYTES).clamp(WC_BYTES, NT_BYTES)
}

/// Whether the varying bits handed to a split are exact or only a guess: from a sample, which
/// may miss some, or inherited from the split above, which may hold bits in which the keys of
/// one bucket do not differ. A split needs only their top bit (its digit or prefix starts
/// there): the split's histogram pass then also finds the exact bits, and where their top bit
/// differs from the guess's, the split is made again with them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    Exact,
    Guess,
}

/// Whether a split chosen with the top varying bit of `mask` is still right for keys that
/// vary in `exact`.
fn same_top_bit(mask: u64, exact: u64) -> bool {
    mask.leading_zeros() == exact.leading_zeros()
}

/// The ordered bits of `key`, widened.
#[inline(always)]
fn bits<K: SortKey>(key: K) -> u64 {
    key.ordered_bits().into()
}

/// A digit: `width` bits of a key's ordered bits, starting at bit `shift`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Digit {
    shift: u32,
    width: u32,
}

impl Digit {
    /// Number of values the digit takes.
    fn buckets(self) -> usize {
        1 << self.width
    }

    /// The mask of the digit's values, below [`MAX_BUCKETS`] (which lets the compiler drop
    /// bound checks on counters indexed by digit).
    #[inline(always)]
    fn mask(self) -> usize {
        (self.buckets() - 1) & (MAX_BUCKETS - 1)
    }

    /// The digit of `key`.
    #[inline(always)]
    fn of<K: SortKey>(self, key: K) -> usize {
        ((bits(key) >> self.shift) as usize) & self.mask()
    }
}

/// Stable comparison sort for short runs.
fn small_sort<K: SortKey>(keys: &mut [K]) {
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
fn presorted<K: SortKey>(keys: &mut [K]) -> bool {
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
fn par_presorted<K: SortKey>(keys: &mut [K], threads: usize) -> bool {
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

/// The bits in which the keys that choose a split (see [`sample`]) differ from the first key:
/// some of the bits in which the keys differ.
fn sampled_bits<K: SortKey>(keys: &[K]) -> u64 {
    let Some(&first) = keys.first() else { return 0 };
    sample(keys).fold(0, |m, k| m | (bits(k) ^ bits(first)))
}

/// The bits in which some key of `keys` differs from `reference`.
fn bits_differing<K: SortKey>(keys: &[K], reference: u64) -> u64 {
    keys.iter().fold(0, |m, &k| m | (bits(k) ^ reference))
}

/// The bits in which the keys differ: the only bits that need sorting.
fn varying_bits<K: SortKey>(keys: &[K]) -> u64 {
    keys.first().map_or(0, |&k| bits_differing(keys, bits(k)))
}

/// [`varying_bits`], computed in parallel.
fn par_varying_bits<K: SortKey>(keys: &[K], threads: usize) -> u64 {
    let reference = bits(keys[0]);
    keys.par_chunks(chunk_len(keys.len(), threads))
        .map(|c| bits_differing(c, reference))
        .reduce(|| 0, |a, b| a | b)
}

/// The lowest and one past the highest varying bit of `mask` (not 0).
fn span(mask: u64) -> (u32, u32) {
    (mask.trailing_zeros(), u64::BITS - mask.leading_zeros())
}

/// The digit of an MSD split of `bytes` of keys varying in `mask` on `threads` threads: its
/// top varying bits, enough of them for buckets of about [`BUCKET_BYTES`] and, on several
/// threads, for [`BUCKETS_PER_THREAD`] buckets per thread. (More buckets than that would only
/// leave small inputs in buckets too small to sort well.)
fn split_digit(mask: u64, bytes: usize, threads: usize) -> Digit {
    let (lo, hi) = span(mask);
    let bits_for = |buckets: usize| buckets.max(1).next_power_of_two().trailing_zeros();
    let wanted = bits_for(bytes / BUCKET_BYTES);
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

/// How an MSD split assigns keys to buckets: a [`Digit`], or a [`PrefixMap`] for inputs whose
/// top bits are unevenly spread.
trait Bucketer: Sync {
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
struct PrefixMap<const SPREAD: bool> {
    shift: u32,
    /// For each prefix value, its first bucket (the low [`MAP_BASE_BITS`]) and the count of
    /// the bits below the prefix that choose among its buckets (the bits above); the table's
    /// length is a power of two.
    table: Vec<u16>,
    buckets: usize,
    /// The bits in which the keys of each bucket agree.
    fixed: Vec<u64>,
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
    fn spreads(&self) -> bool {
        self.table.iter().any(|&e| map_entry(e).1 > 0)
    }

    /// The same map, for one that [`spreads`](Self::spreads) no prefix.
    fn plain(self) -> PrefixMap<false> {
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

/// The bucketer [`choose_split`] picks.
enum Split {
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
fn sample<K: SortKey>(keys: &[K]) -> impl Iterator<Item = K> + '_ {
    let (places, gap) = sample_places(keys.len());
    (0..places).flat_map(move |p| {
        let start = p * gap;
        keys[start..(start + SAMPLE_RUN).min(keys.len())]
            .iter()
            .copied()
    })
}

/// The bucketer of an MSD split of `keys` (varying in `mask`, not 0) on `threads` threads:
/// the plain `digit` from [`split_digit`], unless a sample shows that a [`PrefixMap`] would
/// keep a good share of the keys (an eighth or more) out of costly buckets (see
/// [`costly_samples`]), each of which would cost its keys another pass through memory; and a
/// map that spreads heavy prefixes only where it keeps another such share out. (Where each
/// large value already has a bucket of its own, no split helps, and the plain digit is
/// cheaper to compute.)
fn choose_split<K: SortKey>(keys: &[K], mask: u64, threads: usize) -> Split {
    let digit = split_digit(mask, size_of_val(keys), threads);
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
    let too_big = samples * LSD_BYTES / size_of_val(keys);
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
/// `too_big` sampled keys (too many for [`LSD_BYTES`], so another pass through memory).
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
fn prefix_map(
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
fn lsd_plan(mask: u64, len: usize) -> (Vec<Digit>, u64) {
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
fn plan_again(planned: (&[Digit], u64), exact: u64, len: usize) -> Option<(Vec<Digit>, u64)> {
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

/// Runs of at most this many keys that an LSD sort left tied are finished by insertion.
const INSERTION_MAX: usize = 16;

/// Sorts by their bits in `low` the runs of consecutive `keys` that agree in every other bit
/// (keys sorted stably by those other bits, as an LSD sort planned by [`lsd_plan`] leaves
/// them), stably; `scratch` (as long as `keys`) is free to use.
fn finish_runs<K: SortKey>(keys: &mut [K], scratch: &mut [K], low: u64) {
    let high = !low;
    let mut start = 0;
    while start + 1 < keys.len() {
        let shared = bits(keys[start]) & high;
        let mut end = start + 1;
        while end < keys.len() && bits(keys[end]) & high == shared {
            end += 1;
        }
        if end - start > INSERTION_MAX {
            let (run, free) = (&mut keys[start..end], &mut scratch[start..end]);
            sort_into(run, free, false, low, Ahead::NONE);
        } else if end - start > 1 {
            insertion_sort(&mut keys[start..end]);
        }
        start = end;
    }
}

/// Stable insertion sort, for runs of a few keys.
fn insertion_sort<K: SortKey>(keys: &mut [K]) {
    for i in 1..keys.len() {
        let key = keys[i];
        let b = bits(key);
        let mut j = i;
        while j > 0 && bits(keys[j - 1]) > b {
            keys[j] = keys[j - 1];
            j -= 1;
        }
        keys[j] = key;
    }
}

/// Counts (or offsets) of the values of one digit; values past the digit's width stay 0.
type Counts = [usize; MAX_BUCKETS];

/// Counts of the values of `digit` among `keys`, and the bits in which the keys differ from
/// `reference`, in one read.
fn histogram_and_bits<K: SortKey, B: Bucketer>(
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
/// of [`Counts`]. LSD sorts take at most [`LSD_BYTES`] of keys, so the counts fit.
type LsdCounts = [u32; MAX_BUCKETS];
const _: () = assert!(LSD_BYTES <= u32::MAX as usize);

/// Counts of the values of each of `digits` (at most [`MAX_PASSES`]) among the keys of
/// `chunks` (at most [`LSD_BYTES`] of them, not none), in one read, into the first
/// `digits.len()` histograms of `counts`, and the bits in which the keys differ from the
/// first. Only the counters of each digit's values are cleared and counted.
///
/// Where `counts` holds [`COUNT_SETS`] histograms per digit, consecutive keys add to different
/// sets, which are summed into the first at the end (the others are left holding their part).
fn histograms<K: SortKey>(chunks: &[&[K]], digits: &[Digit], counts: &mut [LsdCounts]) -> u64 {
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
        (1, COUNT_SETS) => count_digits::<K, 1, COUNT_SETS>,
        (2, COUNT_SETS) => count_digits::<K, 2, COUNT_SETS>,
        (3, COUNT_SETS) => count_digits::<K, 3, COUNT_SETS>,
        (4, COUNT_SETS) => count_digits::<K, 4, COUNT_SETS>,
        (1, _) => count_digits::<K, 1, 1>,
        (2, _) => count_digits::<K, 2, 1>,
        (3, _) => count_digits::<K, 3, 1>,
        (4, _) => count_digits::<K, 4, 1>,
        (5, _) => count_digits::<K, 5, 1>,
        (6, _) => count_digits::<K, 6, 1>,
        (7, _) => count_digits::<K, 7, 1>,
        _ => count_digits::<K, MAX_PASSES, 1>,
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
///
/// On the 16-core device, one thread, over three interleaved rounds at 2^24 keys, skewed f32
/// keys sorted at 180–182 Mkeys/s (medians) against 120–130 with one set, and skewed u32 keys
/// faster in two rounds of three; uniform keys and pairs were within that instance's noise.
/// On a 2-core Xeon the whole sorts ran as before, and single buckets of skewed pairs in the
/// cache about 5 % faster (10 % for buckets of 12K to 20K pairs).
const COUNT_SETS: usize = 2;
// The thread's workspace holds the sets of a plan of up to four digits (see [`histograms`]).
const _: () = assert!(COUNT_SETS * 4 <= MAX_PASSES);

/// The body of [`histograms`] for exactly `N` digits, over one chunk of keys: adds to the
/// first `SETS * N` histograms of `counts` (key `i` of every four to set `i % SETS`), and
/// returns the bits in which the keys differ from `reference`.
fn count_digits<K: SortKey, const N: usize, const SETS: usize>(
    keys: &[K],
    digits: &[Digit],
    counts: &mut [LsdCounts],
    reference: u64,
) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if has_bmi2() {
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
fn bucket_starts(counts: &Counts) -> Box<Counts> {
    let mut starts = Box::new([0; MAX_BUCKETS]);
    let mut sum = 0;
    for (s, &c) in starts.iter_mut().zip(counts) {
        *s = sum;
        sum += c;
    }
    starts
}

/// Leaves the keys held in `src` where the caller wants them: in `dst` when `result_in_dst`.
fn place<K: SortKey>(src: &[K], dst: &mut [K], result_in_dst: bool) {
    if result_in_dst {
        dst.copy_from_slice(src);
    }
}

/// Sorts the keys in `src` (a bucket of a split, its keys differing in no bits outside `mask`),
/// with `dst` (same length) as scratch; the result ends in `dst` when `result_in_dst`, else in
/// `src`.
///
/// `mask` comes from the split's histogram pass, so the bucket needs no pass of its own to find
/// its varying bits: LSD passes over bits that happen not to vary within the bucket are skipped
/// by their histograms, and a further split checks its top bit (see [`Check`]). `ahead` is
/// the bucket this thread sorts next, which the LSD passes prefetch (see [`Ahead`]).
fn sort_into<K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    mask: u64,
    ahead: Ahead,
) {
    if src.len() <= BUCKET_SMALL {
        small_sort(src);
        place(src, dst, result_in_dst);
        return;
    }
    if mask == 0 || presorted(src) {
        place(src, dst, result_in_dst);
        return;
    }
    if let Some(pivot) = pivot(src)
        && partition_around(src, dst, result_in_dst, pivot, mask)
    {
        return;
    }
    sort_varying(src, dst, result_in_dst, mask, Check::Guess, ahead);
}

/// Buckets up to this size are not looked at for a value to partition around: a split aims at
/// buckets a quarter as large.
const PIVOT_BYTES: usize = 4 * BUCKET_BYTES;

/// Keys read to look for a value to partition a bucket around.
const PIVOT_SAMPLES: usize = 64;

/// A bucket whose sampled keys take at most this many values is taken to hold only those: a
/// partition around the middle one leaves at most one value on either side.
const FEW_VALUES: usize = 3;

/// A value to partition a large bucket around (see [`partition_around`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pivot {
    /// The value's ordered bits.
    value: u64,
    /// Whether the sample showed at most [`FEW_VALUES`] values (the pivot the one holding
    /// most of them, or else the middle one); otherwise the pivot seemed to hold more than
    /// half of the keys.
    few: bool,
}

impl Pivot {
    /// Whether a partition pays, with `equal` of the bucket's `n` keys equal to the pivot.
    ///
    /// A bucket of a few values is left with at most one value on either side (each found
    /// sorted in one read), whatever share the pivot holds. Otherwise the keys on either side
    /// still need sorting, and moving them all once more pays only where the pivot's keys,
    /// which need no sorting, are more than half of them.
    fn pays(self, equal: usize, n: usize) -> bool {
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
/// partitioned once more, its keys moved twice. (Sorting i32 Zipf keys on one thread of a
/// 2-core Xeon, the top value's bucket was partitioned twice that way, and the whole sort took
/// 12 % longer than with the crowding value first.)
///
/// Sorting such a bucket by radix spends whole passes moving equal keys, and one too large
/// for the cache is split once more first; [`partition_around`] the value moves each key once.
fn pivot<K: SortKey>(keys: &[K]) -> Option<Pivot> {
    pivot_in(&[keys])
}

/// [`pivot`] of the keys of `chunks`, taken in order.
fn pivot_in<K: SortKey>(chunks: &[&[K]]) -> Option<Pivot> {
    let n: usize = chunks.iter().map(|c| c.len()).sum();
    // Small buckets are not looked at, nor (with the tests' tiny thresholds) buckets of fewer
    // keys than the sample reads.
    if n * size_of::<K>() <= PIVOT_BYTES || n < PIVOT_SAMPLES {
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

/// Sorts `src` (its result in `dst` when `result_in_dst`, else in `src`) by a stable
/// three-way partition around the key whose ordered bits are `pivot.value`: the keys below
/// it, the keys equal to it (sorted already), and the keys above it, in one pass into `dst`;
/// the keys below and above it (varying in no bits outside `mask`) are then sorted on.
///
/// Returns false, having changed nothing, where the partition does not pay after all (see
/// [`Pivot::pays`]): the first of the two reads only counts.
fn partition_around<K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    pivot: Pivot,
    mask: u64,
) -> bool {
    let value = pivot.value;
    let (below, equal) = count_around(src, value);
    if !pivot.pays(equal, src.len()) {
        return false;
    }
    split_around(src, value, dst, &mut [0, below, below + equal]);
    let [dst_below, dst_equal, dst_above] = thirds(dst, below, equal);
    let [src_below, src_equal, src_above] = thirds(src, below, equal);
    sort_into(dst_below, src_below, !result_in_dst, mask, Ahead::NONE);
    if result_in_dst || K::KEY_TYPE.has_values() {
        place(dst_equal, src_equal, !result_in_dst);
    } else {
        // Keys alone equal to the pivot are the same bits (see `equal_key`): copies of one
        // are a write, where a copy of `dst_equal` would read it too.
        src_equal.fill(dst_equal[0]);
    }
    sort_into(dst_above, src_above, !result_in_dst, mask, Ahead::NONE);
    true
}

/// For keys alone, the key whose ordered bits are `value`; `None` for elements that carry
/// values, which that value does not make.
///
/// Keys alone that sort equal are the same bits, so a partition need not move the keys equal
/// to its pivot: [`scatter_around`] skips them, and their part of the result is filled with
/// copies of this one, a write where moving them is a read and a write, twice. Most of a
/// large bucket of skewed keys is the pivot's.
fn equal_key<K: SortKey>(value: u64) -> Option<K> {
    (!K::KEY_TYPE.has_values()).then(|| K::from_ordered_bits(value))
}

/// How many of `keys` lie below the key whose ordered bits are `value`, and how many equal it.
fn count_around<K: SortKey>(keys: &[K], value: u64) -> (usize, usize) {
    let (mut below, mut equal) = (0, 0);
    for &k in keys {
        let b = bits(k);
        below += usize::from(b < value);
        equal += usize::from(b == value);
    }
    (below, equal)
}

/// `buf` cut into its first `below` keys, the `equal` keys after them, and the rest.
fn thirds<K>(buf: &mut [K], below: usize, equal: usize) -> [&mut [K]; 3] {
    let (low, rest) = buf.split_at_mut(below);
    let (middle, high) = rest.split_at_mut(equal);
    [low, middle, high]
}

/// Moves `keys`, stably, into `parts`: those below the key whose ordered bits are `value`,
/// those equal to it, and those above it, each part exactly as long as its keys. Keys alone
/// equal to `value` are not moved (see [`equal_key`]): their part is left as it was.
fn scatter_around<K: SortKey>(keys: &[K], value: u64, parts: [&mut [K]; 3]) {
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
fn split_around<K: SortKey>(keys: &[K], value: u64, out: &mut [K], at: &mut [usize; 3]) {
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

/// [`sort_into`] for keys that differ only in the bits of `mask` (not 0, as `check` says):
/// in the cache by the [`vector`] sort where it runs, else by an LSD sort; either prefetches
/// `ahead`.
fn sort_varying<K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    mask: u64,
    check: Check,
    ahead: Ahead,
) {
    if size_of_val(src) <= LSD_BYTES {
        if vector::sorts::<K>() {
            vector::sort_slice(src, dst, result_in_dst, ahead);
        } else {
            lsd(src, dst, result_in_dst, mask, ahead);
        }
        return;
    }
    split_once(src, dst, result_in_dst, mask, check);
}

/// One MSD split of `src` (varying in `mask`, not 0, as `check` says) into `dst`, then each
/// bucket sorted; the result ends in `dst` when `result_in_dst`.
fn split_once<K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    mask: u64,
    check: Check,
) {
    match choose_split(src, mask, 1) {
        Split::Digit(digit) => split_then_sort(src, dst, result_in_dst, &digit, mask, check),
        Split::Map(map) => split_then_sort(src, dst, result_in_dst, &map, mask, check),
        Split::Spread(map) => split_then_sort(src, dst, result_in_dst, &map, mask, check),
    }
}

/// [`split_once`] by the bucketer `digit`.
fn split_then_sort<K: SortKey, B: Bucketer>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    digit: &B,
    mask: u64,
    check: Check,
) {
    let (counts, exact) = histogram_and_bits(src, digit, bits(src[0]));
    if check == Check::Guess && !same_top_bit(mask, exact) {
        sort_varying(src, dst, result_in_dst, exact, Check::Exact, Ahead::NONE);
        return;
    }
    split(src, dst, digit, &counts);
    let counts = &counts[..digit.buckets()];
    let inner = inner_masks(digit, exact, counts);
    let pairs = bucket_pairs(dst, src, counts);
    let aheads = next_buckets(&pairs);
    for (((from, to), ahead), inner) in pairs.into_iter().zip(aheads).zip(inner) {
        sort_into(from, to, !result_in_dst, inner, ahead);
    }
}

/// Reads one key of every cache line of `buf`, which loads `buf` into the cache.
fn touch<K: SortKey>(buf: &[K]) {
    let step = line_len::<K>();
    let mut acc = 0u64;
    for i in (0..buf.len()).step_by(step) {
        acc ^= bits(buf[i]);
    }
    std::hint::black_box(acc);
}

/// LSD radix sort of `src` over the varying bits `mask` (of wide keys, over their top bits,
/// the ties then finished run by run: see [`lsd_plan`]), with `dst` and this thread's spare
/// buffer (see [`with_lsd_work`]) as scratch; the result ends in `dst` when `result_in_dst`.
/// Its passes prefetch the bucket `ahead`.
fn lsd<K: SortKey>(src: &mut [K], dst: &mut [K], result_in_dst: bool, mask: u64, ahead: Ahead) {
    let low = with_lsd_work(src.len(), src[0], |all_counts, spare| {
        let (passes, low) = counted_passes(&[&*src], mask, all_counts);
        let result = if result_in_dst { Buf::Dst } else { Buf::Src };
        let (targets, copy_back) = pass_targets(passes.len(), result);
        if targets.contains(&Buf::Dst) {
            // `dst` is usually a region of memory not touched for a long time. Reading it
            // first, in order, brings it into the cache at streaming speed; the scatter would
            // otherwise fault in its lines one by one, in random order, each a wait on memory.
            touch(dst);
        }
        let mut prefetch = Prefetch::spread(ahead, pass_steps(targets.len(), src.len()));
        let mut bufs = LsdBufs { src, dst, spare };
        let mut from = Buf::Src;
        for ((digit, counts), &to) in passes.into_iter().zip(&targets) {
            let (keys, out) = bufs.pair(from, to);
            scatter(&[keys], out, digit, counts, &mut prefetch);
            from = to;
        }
        if copy_back {
            bufs.src.copy_from_slice(bufs.spare);
        } else if targets.is_empty() {
            place(bufs.src, bufs.dst, result_in_dst);
        }
        low
    });
    if low != 0 {
        // After the workspace is given back: a long run is sorted by `sort_into`, which
        // takes it again.
        let (result, free) = if result_in_dst {
            (dst, src)
        } else {
            (src, dst)
        };
        finish_runs(result, free, low);
    }
}

/// The passes of an LSD sort of the keys of `chunks` (at most [`LSD_BYTES`], not none), which
/// vary in no bits outside `mask`: each digit with its histogram (in `all_counts`), skipping
/// digits whose value every key shares, and the low bits the passes leave to
/// [`finish_runs`] (see [`lsd_plan`]).
fn counted_passes<'c, K: SortKey>(
    chunks: &[&[K]],
    mask: u64,
    all_counts: &'c mut [LsdCounts],
) -> (Vec<(Digit, &'c mut LsdCounts)>, u64) {
    let len = chunks.iter().map(|c| c.len()).sum();
    let (mut digits, mut low) = lsd_plan(mask, len);
    let exact = histograms(chunks, &digits, all_counts);
    // `mask` may hold bits in which these keys agree (inherited from a split by a prefix
    // map, of float or skewed keys). Passes planned from it that leave the low bits to
    // `finish_runs` might sort by top bits that all keys share and leave it all the work;
    // where the exact bits plan otherwise, count again by their plan.
    if let Some(plan) = plan_again((&digits, low), exact, len) {
        // Keys all equal (no digits) need no count at all.
        let recount = plan.0 != digits && !plan.0.is_empty();
        (digits, low) = plan;
        if recount {
            histograms(chunks, &digits, all_counts);
        }
    }
    let n = len as u32;
    let passes = digits
        .iter()
        .zip(all_counts.iter_mut())
        .filter(|(d, c)| !c[..d.buckets()].contains(&n))
        .map(|(&d, c)| (d, c))
        .collect();
    (passes, low)
}

/// The [`Prefetch`] steps of `passes` LSD passes over `len` keys.
fn pass_steps(passes: usize, len: usize) -> usize {
    passes * len.div_ceil(AHEAD_STEP)
}

/// The three buffers an LSD sort moves keys between.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Buf {
    /// The keys to sort.
    Src,
    /// The caller's other buffer, usually cold.
    Dst,
    /// This thread's spare buffer, warm from the previous bucket.
    Spare,
}

/// Where each of `passes` LSD passes from [`Buf::Src`] writes, so that the last one lands in
/// `result` (`Src` or `Dst`), and whether the spare buffer must then be copied back to `Src`
/// (a single pass that should end where it started).
///
/// Intermediate passes alternate between the spare buffer and whichever of `Src` and `Dst`
/// does not hold the result: a plain ping-pong between `Src` and `Dst` ends in the wrong one
/// after an even number of passes (two for a u32 bucket), which would cost a copy of the
/// bucket, and writes the cold `Dst` more often than needed.
fn pass_targets(passes: usize, result: Buf) -> (Vec<Buf>, bool) {
    if passes == 0 {
        return (Vec::new(), false);
    }
    if passes == 1 && result == Buf::Src {
        return (vec![Buf::Spare], true);
    }
    let other = if result == Buf::Dst {
        Buf::Src
    } else {
        Buf::Dst
    };
    let targets = (0..passes)
        .map(|i| match (i + 1 == passes, i % 2) {
            (true, _) => result,
            (false, 0) => Buf::Spare,
            (false, _) => other,
        })
        .collect();
    (targets, false)
}

/// The buffers of one LSD sort, all of one length.
struct LsdBufs<'a, K> {
    src: &'a mut [K],
    dst: &'a mut [K],
    spare: &'a mut [K],
}

impl<K> LsdBufs<'_, K> {
    /// Buffer `from` to read and buffer `to` (another one) to write.
    fn pair(&mut self, from: Buf, to: Buf) -> (&[K], &mut [K]) {
        match (from, to) {
            (Buf::Src, Buf::Dst) => (self.src, self.dst),
            (Buf::Src, Buf::Spare) => (self.src, self.spare),
            (Buf::Dst, Buf::Src) => (self.dst, self.src),
            (Buf::Dst, Buf::Spare) => (self.dst, self.spare),
            (Buf::Spare, Buf::Src) => (self.spare, self.src),
            (Buf::Spare, Buf::Dst) => (self.spare, self.dst),
            _ => unreachable!("an LSD pass reads and writes one buffer: {from:?}"),
        }
    }
}

/// Scatters the keys of `chunks` (in order) into `dst` by `digit`, stably; `counts` is the
/// histogram of that digit, and is used up (turned into the positions of the keys).
fn scatter<K: SortKey>(
    chunks: &[&[K]],
    dst: &mut [K],
    digit: Digit,
    counts: &mut LsdCounts,
    prefetch: &mut Prefetch,
) {
    #[cfg(target_arch = "x86_64")]
    if has_bmi2() {
        #[target_feature(enable = "bmi2")]
        unsafe fn bmi2<K: SortKey>(
            chunks: &[&[K]],
            dst: &mut [K],
            digit: Digit,
            counts: &mut LsdCounts,
            prefetch: &mut Prefetch,
        ) {
            scatter_loop(chunks, dst, digit, counts, prefetch)
        }
        // SAFETY: the CPU has BMI2 (just checked).
        return unsafe { bmi2(chunks, dst, digit, counts, prefetch) };
    }
    scatter_loop(chunks, dst, digit, counts, prefetch)
}

/// The body of [`scatter`] (see [`has_bmi2`]).
#[inline(always)]
fn scatter_loop<K: SortKey>(
    chunks: &[&[K]],
    dst: &mut [K],
    digit: Digit,
    counts: &mut LsdCounts,
    prefetch: &mut Prefetch,
) {
    // 32-bit positions, the digit's shift and mask read once rather than per key.
    let next = counts;
    let (mut sum, mut most) = (0u32, 0u32);
    for s in &mut next[..digit.buckets()] {
        let c = *s;
        *s = sum;
        sum = sum.wrapping_add(c);
        most = most.max(c);
    }
    if most as usize * CROWDED > sum as usize {
        scatter_both_ends(chunks, dst, digit, next, sum, prefetch);
        return;
    }
    let (shift, mask) = (digit.shift, digit.mask());
    for block in chunks.iter().flat_map(|c| c.chunks(AHEAD_STEP)) {
        // `UNROLL` keys to a turn of the loop.
        let (quads, rest) = block.as_chunks::<UNROLL>();
        for quad in quads {
            for &k in quad {
                place_key(k, dst, next, shift, mask);
            }
        }
        for &k in rest {
            place_key(k, dst, next, shift, mask);
        }
        prefetch.step();
    }
}

/// A digit value held by more than one key in this many makes a pass *crowded*: consecutive
/// keys then often share a bucket, and each waits for the previous one's update of the
/// bucket's place (a store read back), which [`scatter_both_ends`] halves.
const CROWDED: usize = 16;

/// [`scatter_loop`] for a crowded digit (see [`CROWDED`]), `next` already turned into the
/// buckets' first places and `len` the keys' count: the first half of the keys fills each
/// bucket from its first place forwards while the second half, read backwards, fills it from
/// its end backwards, in turn, so that two consecutive keys update different places. Each
/// half lands in input order, and they meet exactly, so the pass stays stable.
///
/// On a 2-core Xeon, one thread, skewed u32 keys at 2^24 sorted about 7 % faster with the
/// second of their two passes made this way, and 6 % faster again with the first too. Passes
/// of evenly spread keys keep the plain loop, which was about 1 % faster for them.
#[inline(always)]
fn scatter_both_ends<K: SortKey>(
    chunks: &[&[K]],
    dst: &mut [K],
    digit: Digit,
    next: &mut LsdCounts,
    len: u32,
    prefetch: &mut Prefetch,
) {
    let (shift, mask, buckets) = (digit.shift, digit.mask(), digit.buckets());
    // One past the last place of each bucket: the first place of the next.
    let mut ends = [0u32; MAX_BUCKETS];
    ends[..buckets - 1].copy_from_slice(&next[1..buckets]);
    ends[buckets - 1] = len;
    let (front, back) = halves(chunks, len as usize / 2);
    let (mut fronts, mut backs) = (front.into_iter(), back.into_iter().rev());
    let (mut ahead, mut behind): (&[K], &[K]) = (&[], &[]);
    loop {
        ahead = next_nonempty(ahead, &mut fronts);
        behind = next_nonempty(behind, &mut backs);
        if ahead.is_empty() {
            break;
        }
        // The second half is at least as long as the first: `behind` has keys too.
        let m = ahead.len().min(behind.len()).min(AHEAD_STEP / 2);
        let (these, later) = ahead.split_at(m);
        let (earlier, those) = behind.split_at(behind.len() - m);
        for (&k, &j) in these.iter().zip(those.iter().rev()) {
            place_key(k, dst, next, shift, mask);
            place_key_back(j, dst, &mut ends, shift, mask);
        }
        (ahead, behind) = (later, earlier);
        prefetch.step();
    }
    // The middle key, where the count is odd.
    for &j in behind
        .iter()
        .rev()
        .chain(backs.flat_map(|c| c.iter().rev()))
    {
        place_key_back(j, dst, &mut ends, shift, mask);
    }
}

/// `keys` where it has any left, else the next of `rest` that has, else an empty slice.
fn next_nonempty<'a, K>(keys: &'a [K], rest: &mut impl Iterator<Item = &'a [K]>) -> &'a [K] {
    if keys.is_empty() {
        rest.find(|c| !c.is_empty()).unwrap_or(&[])
    } else {
        keys
    }
}

/// The keys of `chunks` cut in two, the first `half` keys and the rest, each as chunks.
fn halves<'a, K>(chunks: &[&'a [K]], half: usize) -> (Vec<&'a [K]>, Vec<&'a [K]>) {
    let (mut front, mut back) = (Vec::new(), Vec::new());
    let mut left = half;
    for &chunk in chunks {
        let (first, rest) = chunk.split_at(left.min(chunk.len()));
        left -= first.len();
        front.push(first);
        back.push(rest);
    }
    (front, back)
}

/// Writes `k` to the place before the last one taken of its bucket of the digit
/// `(shift, mask)` in `dst`, counting down from its end in `ends`.
#[inline(always)]
fn place_key_back<K: SortKey>(k: K, dst: &mut [K], ends: &mut LsdCounts, shift: u32, mask: usize) {
    let b = ((bits(k) >> shift) as usize) & mask;
    let p = ends[b].wrapping_sub(1);
    dst[p as usize] = k;
    ends[b] = p;
}

/// Keys the per-key loops of the in-cache sort ([`scatter_loop`], [`count_loop`]) take in one
/// turn. Their bodies are a few instructions each, so the loop's own count and branch, paid
/// once per four keys rather than per key, were a good share of the work: with four keys to a
/// turn, a one-thread sort of 2^24 keys on a 2-core AMD EPYC went from 148–153 to 155–158
/// Mkeys/s for u32 keys and from 91 to 126 for f32 keys.
const UNROLL: usize = 4;

/// Writes `k` to the next place of its bucket of the digit `(shift, mask)` in `dst`, and
/// moves that place on.
#[inline(always)]
fn place_key<K: SortKey>(k: K, dst: &mut [K], next: &mut LsdCounts, shift: u32, mask: usize) {
    let b = ((bits(k) >> shift) as usize) & mask;
    let p = next[b];
    dst[p as usize] = k;
    next[b] = p.wrapping_add(1);
}

/// Keys an LSD pass moves between two steps of its [`Prefetch`].
const AHEAD_STEP: usize = 64;

/// Where the bucket sorted after this one lies: its keys (in one slice, or in the blocks of a
/// blocked split) and the region they go to. The LSD passes of the bucket before it load them
/// into L2 a few lines at a time (see [`Prefetch`]), so that the next bucket's first reads and
/// writes need not wait on memory. The hardware prefetcher would not load them ahead: the
/// current bucket's scattered writes give it no stream to follow.
#[derive(Clone, Copy, Debug)]
struct Ahead {
    /// Address and length in bytes of each region; unused ones are empty.
    regions: [(usize, usize); AHEAD_REGIONS],
}

/// The most regions an [`Ahead`] names: the destination, and the keys of a bucket in as many
/// chunks as a blocked split leaves a bucket small enough for the in-cache sort (its blocks,
/// the last one part-filled, and its last line).
const AHEAD_REGIONS: usize = LSD_BYTES / blocked::BLOCK_BYTES + 3;

impl Ahead {
    /// Nothing to load.
    const NONE: Ahead = Ahead {
        regions: [(0, 0); AHEAD_REGIONS],
    };

    /// The bucket whose keys are `from`, sorted into (or through) `to`; nothing for a bucket
    /// too large for an LSD sort in cache, whose lines would only evict the current bucket's.
    fn of<K>(from: &[K], to: &[K]) -> Ahead {
        Ahead::of_chunks(&[from], to)
    }

    /// [`Ahead::of`] a bucket whose keys lie in `chunks` (only the first few of them where
    /// there are more than an `Ahead` holds).
    fn of_chunks<K>(chunks: &[&[K]], to: &[K]) -> Ahead {
        if size_of_val(to) > LSD_BYTES {
            return Ahead::NONE;
        }
        let mut ahead = Ahead::NONE;
        let keys = chunks.iter().copied().take(AHEAD_REGIONS - 1);
        let regions = keys.chain(std::iter::once(to));
        for (slot, region) in ahead.regions.iter_mut().zip(regions) {
            *slot = (region.as_ptr() as usize, size_of_val(region));
        }
        ahead
    }
}

/// For each bucket of `pairs` (its keys and their destination), where the next one lies.
fn next_buckets<K>(pairs: &[(&mut [K], &mut [K])]) -> Vec<Ahead> {
    let mut aheads: Vec<Ahead> = pairs.iter().skip(1).map(|(f, t)| Ahead::of(f, t)).collect();
    aheads.push(Ahead::NONE);
    aheads
}

/// The cache lines of an [`Ahead`], prefetched a few at each [`Prefetch::step`].
struct Prefetch {
    /// Each region's first line and end, as addresses.
    regions: [(usize, usize); AHEAD_REGIONS],
    /// The region whose lines are being prefetched, and its next line.
    region: usize,
    next: usize,
    /// Lines not yet prefetched, and how many each step prefetches.
    left: usize,
    per_step: usize,
}

impl Prefetch {
    /// Spreads the lines of `ahead` evenly over `steps` steps.
    fn spread(ahead: Ahead, steps: usize) -> Prefetch {
        // Each region's lines, from the one holding its first byte.
        let regions = ahead.regions.map(|(at, len)| (at & !63, at + len));
        let left = regions
            .iter()
            .map(|&(first, end)| (end - first).div_ceil(64))
            .sum();
        Prefetch {
            regions,
            region: 0,
            next: regions[0].0,
            left,
            per_step: left.div_ceil(steps.max(1)),
        }
    }

    /// Prefetches the next few lines. Inlined, so that a step with none left (the whole
    /// bucket's lines asked for already) costs a compare in the loop that steps.
    #[inline(always)]
    fn step(&mut self) {
        if self.left > 0 {
            self.visit_next(prefetch_line);
        }
    }

    /// Calls `visit` with the address of each line of the next step.
    #[inline(always)]
    fn visit_next(&mut self, mut visit: impl FnMut(usize)) {
        let mut lines = self.per_step.min(self.left);
        self.left -= lines;
        while lines > 0 {
            if self.next >= self.regions[self.region].1 {
                // `left` counted this region's lines and those before: there is another.
                self.region += 1;
                self.next = self.regions[self.region].0;
                continue;
            }
            visit(self.next);
            self.next += 64;
            lines -= 1;
        }
    }

    /// The lines of the next step.
    #[cfg(test)]
    fn next_lines(&mut self) -> Vec<usize> {
        let mut lines = Vec::new();
        self.visit_next(|line| lines.push(line));
        lines
    }
}

/// Whether the radix loops run in their BMI2 build, where the CPU has BMI2. A radix pass
/// takes each key's digit by a shift whose count is known only at run time, which plain
/// x86-64 code must route through the `cl` register: three instructions where BMI2's `shrx`
/// takes one, in loops of about a dozen per key. On the 16-core device, one-thread sorts of
/// 2^24 keys ran 4 to 8 % faster with all of sortmark built for BMI2, and these loops are
/// where their time goes. Each loop is an `#[inline(always)]` body and a
/// function that calls it either directly or through a `#[target_feature(enable = "bmi2")]`
/// twin with the same parameters (which, being the twin's own, let the compiler keep what
/// the loop reads through them in registers).
#[inline]
fn has_bmi2() -> bool {
    #[cfg(test)]
    if tests::PORTABLE_LOOPS.get() {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("bmi2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// Asks for the cache line at `addr` to be loaded into L2 (the current bucket keeps L1).
#[inline(always)]
fn prefetch_line(addr: usize) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetch` needs SSE, which every x86_64 CPU has; and a prefetch is only a
    // hint: it never faults and changes no memory, whatever the address.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T1>(addr as *const i8);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = addr;
}

/// Scatters `src` into `dst` by `digit` (one MSD split of a whole run on one thread).
fn split<K: SortKey, B: Bucketer>(src: &[K], dst: &mut [K], digit: &B, counts: &Counts) {
    let bytes = size_of_val(src);
    if bytes <= WC_BYTES {
        let mut next = bucket_starts(counts);
        for &k in src {
            let b = digit.of(k);
            dst[next[b]] = k;
            next[b] += 1;
        }
        return;
    }
    let mut regions = bucket_regions(dst, &counts[..digit.buckets()]);
    scatter_combined(src, &mut regions, digit, streams(bytes, 1));
}

/// `buf` cut into consecutive buckets whose sizes are `counts`.
fn bucket_regions<'a, K>(mut buf: &'a mut [K], counts: &[usize]) -> Vec<&'a mut [K]> {
    counts
        .iter()
        .map(|&c| {
            let (head, tail) = std::mem::take(&mut buf).split_at_mut(c);
            buf = tail;
            head
        })
        .collect()
}

/// The bits in which the keys of each non-empty bucket of a split by `digit` may vary (of the
/// bits `exact` in which the keys of the split vary), in the order of [`bucket_pairs`].
fn inner_masks<B: Bucketer>(digit: &B, exact: u64, counts: &[usize]) -> Vec<u64> {
    (0..counts.len())
        .filter(|&b| counts[b] > 0)
        .map(|b| exact & !digit.fixed_bits(b))
        .collect()
}

/// The buckets of `a` and `b` (both cut by `counts`) side by side, skipping empty ones.
fn bucket_pairs<'a, K>(
    a: &'a mut [K],
    b: &'a mut [K],
    counts: &[usize],
) -> Vec<(&'a mut [K], &'a mut [K])> {
    bucket_regions(a, counts)
        .into_iter()
        .zip(bucket_regions(b, counts))
        .filter(|(x, _)| !x.is_empty())
        .collect()
}

/// Keys of `K` per 64-byte cache line, or 1 where `K` does not tile a line.
const fn line_len<K>() -> usize {
    let size = size_of::<K>();
    if size > 0 && size <= 64 && size.is_power_of_two() {
        64 / size
    } else {
        1
    }
}

/// Stably scatters `src` by `digit` into `regions[v]` (exactly the keys whose digit is `v`),
/// through software write-combining: each bucket gathers one cache line of keys in a small
/// buffer and writes it out whole. With `streaming`, whole, aligned lines are written with
/// non-temporal stores, which skip reading the line first and keep the destination from
/// evicting the cache.
fn scatter_combined<K: SortKey, B: Bucketer>(
    src: &[K],
    regions: &mut [&mut [K]],
    digit: &B,
    streaming: bool,
) {
    #[cfg(target_arch = "x86_64")]
    if has_bmi2() {
        #[target_feature(enable = "bmi2")]
        unsafe fn bmi2<K: SortKey, B: Bucketer>(
            src: &[K],
            regions: &mut [&mut [K]],
            digit: &B,
            streaming: bool,
        ) {
            scatter_combined_loop(src, regions, digit, streaming)
        }
        // SAFETY: the CPU has BMI2 (just checked).
        return unsafe { bmi2(src, regions, digit, streaming) };
    }
    scatter_combined_loop(src, regions, digit, streaming)
}

/// The body of [`scatter_combined`] (see [`has_bmi2`]).
#[inline(always)]
fn scatter_combined_loop<K: SortKey, B: Bucketer>(
    src: &[K],
    regions: &mut [&mut [K]],
    digit: &B,
    streaming: bool,
) {
    let Some(&fill) = src.first() else { return };
    let buckets = digit.buckets();
    assert_eq!(regions.len(), buckets);
    let line = line_len::<K>();
    let (mut store, skip) = line_buffers(buckets, line, fill);
    let buf = &mut store[skip..skip + buckets * line];
    // Positions count keys from address 0, so that `pos % line == 0` at line boundaries
    // whenever the destination is aligned to the key size (see `write_line`).
    let size = size_of::<K>().max(1);
    let mut base = Box::new([0; MAX_BUCKETS]);
    for (b, r) in base.iter_mut().zip(regions.iter()) {
        *b = r.as_ptr() as usize / size;
    }
    let streaming = streaming && (regions[0].as_ptr() as usize).is_multiple_of(size);
    let mut pos = base.clone();
    if in_runs(src, digit) {
        // Long runs of keys for one bucket (sorted stretches): that bucket's position stays
        // in a register, where each key would otherwise wait for the previous key's store
        // to `pos`.
        let (mut last, mut at) = (0, pos[0]);
        for &k in src {
            let b = digit.of(k);
            if b != last {
                pos[last] = at;
                at = pos[b];
                last = b;
            }
            push_combined(k, b, at, buf, line, regions, &base, streaming);
            at += 1;
        }
        pos[last] = at;
    } else {
        for &k in src {
            let b = digit.of(k);
            let p = pos[b];
            push_combined(k, b, p, buf, line, regions, &base, streaming);
            pos[b] = p + 1;
        }
    }
    for (b, (region, &end)) in regions.iter_mut().zip(pos.iter()).enumerate() {
        if end % line != 0 {
            let lbuf = &buf[b * line..(b + 1) * line];
            write_line(region, lbuf, base[b], end - end % line, end, false);
        }
    }
    if streaming {
        store_fence();
    }
}

/// The write-combining buffers of a scatter into `buckets` buckets, `keys` keys each (whole
/// lines of them), filled with `fill`: the storage, and where the first buffer starts, on a
/// cache-line boundary.
fn line_buffers<K: SortKey>(buckets: usize, keys: usize, fill: K) -> (Vec<K>, usize) {
    let line = line_len::<K>();
    let store = vec![fill; buckets * keys + line];
    let skip = store.as_ptr().align_offset(64).min(line);
    (store, skip)
}

/// Whether consecutive keys at the start of `src` mostly fall in the same bucket of `digit`.
fn in_runs<K: SortKey, B: Bucketer>(src: &[K], digit: &B) -> bool {
    let head = &src[..src.len().min(256)];
    let same = head
        .windows(2)
        .filter(|w| digit.of(w[0]) == digit.of(w[1]))
        .count();
    2 * same > head.len()
}

/// One key `k` of bucket `b`, at position `p`, into the write-combining buffer `buf` of
/// [`scatter_combined`]; a full line goes out to the bucket's region.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn push_combined<K: SortKey>(
    k: K,
    b: usize,
    p: usize,
    buf: &mut [K],
    line: usize,
    regions: &mut [&mut [K]],
    base: &Counts,
    streaming: bool,
) {
    buf[b * line + p % line] = k;
    if (p + 1).is_multiple_of(line) {
        let lbuf = &buf[b * line..(b + 1) * line];
        write_line(regions[b], lbuf, base[b], p + 1 - line, p + 1, streaming);
    }
}

/// Writes buffered keys at positions `line_start..end` (at most one line) into `region`,
/// which starts at position `base`; positions before `base` belong to someone else.
#[inline(always)]
fn write_line<K: SortKey>(
    region: &mut [K],
    lbuf: &[K],
    base: usize,
    line_start: usize,
    end: usize,
    streaming: bool,
) {
    let lo = line_start.max(base);
    let out = &mut region[lo - base..end - base];
    if streaming && lo == line_start {
        stream_line(out, lbuf);
    } else {
        out.copy_from_slice(&lbuf[lo - line_start..end - line_start]);
    }
}

/// Copies one whole 64-byte cache line `line` to `out` with non-temporal stores.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn stream_line<K>(out: &mut [K], line: &[K]) {
    assert!(
        size_of_val(out) == 64
            && size_of_val(line) == 64
            && (out.as_ptr() as usize).is_multiple_of(64)
    );
    // SAFETY: `out` and `line` are 64 bytes long and `out` is 64-byte aligned (just checked),
    // so the four 16-byte loads stay inside `line` and the four aligned 16-byte stores inside
    // `out`. The copy goes through registers in inline assembly, which moves bytes without
    // interpreting them, so padding or other uninitialised bytes of `K` are no concern.
    unsafe {
        std::arch::asm!(
            "movdqu {a}, [{s}]",
            "movdqu {b}, [{s} + 16]",
            "movdqu {c}, [{s} + 32]",
            "movdqu {e}, [{s} + 48]",
            "movntdq [{o}], {a}",
            "movntdq [{o} + 16], {b}",
            "movntdq [{o} + 32], {c}",
            "movntdq [{o} + 48], {e}",
            s = in(reg) line.as_ptr(),
            o = in(reg) out.as_mut_ptr(),
            a = out(xmm_reg) _,
            b = out(xmm_reg) _,
            c = out(xmm_reg) _,
            e = out(xmm_reg) _,
            options(nostack, preserves_flags),
        );
    }
}

/// Portable fallback: an ordinary copy.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn stream_line<K: Copy>(out: &mut [K], line: &[K]) {
    out.copy_from_slice(line);
}

/// Orders the non-temporal stores before anything that follows.
fn store_fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `sfence` only orders stores; it touches no memory or registers.
    unsafe {
        std::arch::asm!("sfence", options(nostack, preserves_flags));
    }
}

/// Length of the chunks that spread `n` keys over `threads` threads.
fn chunk_len(n: usize, threads: usize) -> usize {
    n.div_ceil(threads).max(1)
}

/// The scratch buffer kept between sorts (see the module doc): 64-bit words, every one of them
/// written when the buffer was made, so that its pages are resident.
static SCRATCH: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// Frees the scratch buffer that the sorts keep between calls. Sorts running at the time keep
/// theirs until they finish; the next sort makes a new one.
pub fn release_scratch() {
    let old = std::mem::take(&mut *SCRATCH.lock().unwrap_or_else(PoisonError::into_inner));
    drop(old);
}

/// Bytes held by the kept scratch buffer.
#[cfg(test)]
pub(crate) fn kept_scratch_bytes() -> usize {
    let kept = SCRATCH.lock().unwrap_or_else(PoisonError::into_inner);
    kept.len() * size_of::<u64>()
}

/// Whether `K` is one of sortmark's key types, all of them plain data: no padding, no
/// invalid bit patterns, alignment at most 8 and a size that divides 8 bytes.
fn is_plain<K: 'static>() -> bool {
    let id = TypeId::of::<K>();
    [
        TypeId::of::<u32>(),
        TypeId::of::<u64>(),
        TypeId::of::<i32>(),
        TypeId::of::<i64>(),
        TypeId::of::<f32>(),
        TypeId::of::<f64>(),
        TypeId::of::<KeyValue>(),
    ]
    .contains(&id)
}

/// Runs `f` with a scratch buffer of `n` keys whose contents are unspecified (a fresh buffer
/// holds copies of `fill`).
///
/// For sortmark's key types this is the buffer kept in [`SCRATCH`], grown (and pre-faulted)
/// when `n` keys do not fit; a second sort running while the kept buffer is in use, and any
/// other key type, gets a fresh buffer of its own. New buffers are written once, in parallel
/// on the current pool when `parallel`, so that page faults are taken there and then by all
/// threads rather than one by one inside the first scatter.
fn with_scratch<K: SortKey, R>(
    n: usize,
    fill: K,
    parallel: bool,
    f: impl FnOnce(&mut [K]) -> R,
) -> R {
    let words = words_for::<K>(n);
    let mut kept = match SCRATCH.try_lock() {
        Ok(guard) if is_plain::<K>() => Some(guard),
        Err(TryLockError::Poisoned(e)) if is_plain::<K>() => Some(e.into_inner()),
        _ => None,
    };
    let Some(buf) = kept.as_deref_mut() else {
        return f(&mut resident_vec(n, parallel, || fill));
    };
    if buf.len() < words {
        // Free the old buffer before making the larger one: one buffer at a time.
        *buf = Vec::new();
        *buf = resident_vec(words, parallel, || 0u64);
    }
    f(words_as_keys(buf, n))
}

/// The 64-bit words that hold `n` keys of type `K`.
fn words_for<K>(n: usize) -> usize {
    (n * size_of::<K>()).div_ceil(size_of::<u64>())
}

/// The first `n` keys of type `K` held in `words`, which must hold at least that many.
/// `K` must be one of sortmark's key types ([`is_plain`]).
fn words_as_keys<K: SortKey>(words: &mut [u64], n: usize) -> &mut [K] {
    assert!(is_plain::<K>() && n * size_of::<K>() <= size_of_val(words));
    // SAFETY: `K` is one of sortmark's key types (`is_plain`, just checked): plain data
    // without padding, for which every bit pattern is a valid value, with an alignment of at
    // most 8 and a size that divides 8. `words` are initialised `u64`s, so their storage is
    // 8-aligned (the prefix `align_to_mut` returns is empty) and reading any of their bytes
    // as `K` yields a valid `K`; the keys written into them stay plain bytes, so the words stay
    // initialised for the next use. The slice borrows `words`.
    let (_, keys, _) = unsafe { words.align_to_mut::<K>() };
    &mut keys[..n]
}

/// Per-thread workspace of the in-cache LSD sorts, kept from one bucket to the next: each
/// bucket would otherwise allocate and clear counters for every digit, and its spare buffer
/// stays in the cache between buckets.
struct LsdWork {
    /// One histogram per pass, or per pass and set of counters (see [`COUNT_SETS`]); a
    /// bucket clears only the counters its digits use.
    counts: Vec<LsdCounts>,
    /// Spare room for one bucket's keys, as 64-bit words (see [`words_as_keys`]).
    spare: Vec<u64>,
}

thread_local! {
    static LSD_WORK: RefCell<LsdWork> = RefCell::new(LsdWork {
        counts: vec![[0; MAX_BUCKETS]; MAX_PASSES],
        spare: Vec::new(),
    });
}

/// Runs `f` with this thread's LSD counters ([`MAX_PASSES`] histograms) and spare room for
/// `n` keys whose contents are unspecified. Key types other than sortmark's own (and a call
/// made while this thread's workspace is in use, which sortmark never makes) get fresh ones.
fn with_lsd_work<K: SortKey, R>(
    n: usize,
    fill: K,
    f: impl FnOnce(&mut [LsdCounts], &mut [K]) -> R,
) -> R {
    let mut f = Some(f);
    if is_plain::<K>() {
        let done = LSD_WORK.with(|work| {
            let mut work = work.try_borrow_mut().ok()?;
            let LsdWork { counts, spare } = &mut *work;
            let words = words_for::<K>(n);
            if spare.len() < words {
                spare.resize(words, 0);
            }
            let f = f.take()?;
            Some(f(counts, words_as_keys(spare, n)))
        });
        if let Some(result) = done {
            return result;
        }
    }
    let f = f.expect("f runs once, and has not run");
    f(&mut vec![[0; MAX_BUCKETS]; MAX_PASSES], &mut vec![fill; n])
}

/// A vector of `n` copies of `fill()`, its allocation marked for huge pages and written (in
/// parallel on the current pool when `parallel`) so that its pages are faulted in.
fn resident_vec<T: Copy + Send + Sync>(n: usize, parallel: bool, fill: impl Fn() -> T) -> Vec<T> {
    let mut v = Vec::with_capacity(n);
    advise_huge_pages(&v);
    if parallel {
        v.par_extend(rayon::iter::repeat_n(fill(), n));
    } else {
        v.resize(n, fill());
    }
    v
}

/// [`place`] for large runs, copying in parallel.
fn par_place<K: SortKey>(src: &[K], dst: &mut [K], result_in_dst: bool) {
    if result_in_dst {
        let chunk = chunk_len(src.len(), rayon::current_num_threads());
        dst.par_chunks_mut(chunk)
            .zip(src.par_chunks(chunk))
            .for_each(|(d, s)| d.copy_from_slice(s));
    }
}

/// [`sort_into`] on all threads of the current pool.
fn par_sort_into<K: SortKey>(src: &mut [K], dst: &mut [K], result_in_dst: bool) {
    let threads = rayon::current_num_threads();
    let mask = if par_presorted(src, threads) {
        0
    } else {
        par_varying_bits(src, threads)
    };
    if mask == 0 {
        par_place(src, dst, result_in_dst);
        return;
    }
    // A bucket this large that one value holds (of skewed keys) would otherwise take a
    // parallel split for each level of bits the value shares with its neighbours. (The
    // partition must be parallel too: `partition_around` on one thread made skewed keys
    // slower on 16 threads, in three runs in four by up to 18 %.)
    if let Some(pivot) = pivot(src)
        && par_partition_around(src, dst, result_in_dst, pivot, mask)
    {
        return;
    }
    par_split(src, dst, result_in_dst, mask, Check::Exact);
}

/// [`partition_around`] on all threads: each chunk of `src` counts its keys below and equal
/// to `value`, then moves them into a region of its own in each of the three parts, in chunk
/// order, so that the partition stays stable. The parts below and above are then sorted on.
fn par_partition_around<K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    pivot: Pivot,
    mask: u64,
) -> bool {
    let value = pivot.value;
    let chunk = chunk_len(src.len(), rayon::current_num_threads());
    let (belows, equals): (Vec<usize>, Vec<usize>) = src
        .par_chunks(chunk)
        .map(|keys| count_around(keys, value))
        .unzip();
    let (below, equal) = (belows.iter().sum(), equals.iter().sum());
    if !pivot.pays(equal, src.len()) {
        return false;
    }
    let aboves: Vec<usize> = src
        .chunks(chunk)
        .zip(belows.iter().zip(&equals))
        .map(|(keys, (b, e))| keys.len() - b - e)
        .collect();
    let pivot_key = equal_key::<K>(value);
    let [dst_below, dst_equal, dst_above] = thirds(dst, below, equal);
    let regions = bucket_regions(dst_below, &belows)
        .into_iter()
        .zip(bucket_regions(dst_equal, &equals))
        .zip(bucket_regions(dst_above, &aboves));
    src.par_chunks(chunk)
        .zip(regions.collect::<Vec<_>>())
        .for_each(|(keys, ((b, e), a))| scatter_around(keys, value, [b, e, a]));
    let [dst_below, dst_equal, dst_above] = thirds(dst, below, equal);
    let [src_below, src_equal, src_above] = thirds(src, below, equal);
    rayon::join(
        || par_sort_part(dst_below, src_below, !result_in_dst, mask),
        || par_sort_part(dst_above, src_above, !result_in_dst, mask),
    );
    match pivot_key {
        Some(key) => {
            let equal = if result_in_dst { dst_equal } else { src_equal };
            equal.par_chunks_mut(chunk).for_each(|part| part.fill(key));
        }
        None => par_place(dst_equal, src_equal, !result_in_dst),
    }
    true
}

/// Sorts a part of a bucket (keys varying in no bits outside `mask`) as [`sort_into`] does,
/// on all threads where it is large enough to gain from them.
fn par_sort_part<K: SortKey>(src: &mut [K], dst: &mut [K], result_in_dst: bool, mask: u64) {
    if src.len() < PAR_MIN {
        sort_into(src, dst, result_in_dst, mask, Ahead::NONE);
    } else {
        par_sort_into(src, dst, result_in_dst);
    }
}

/// One parallel MSD split of `src` (keys varying in `mask`, not 0, as `check` says) into
/// `dst`, then the buckets sorted in parallel; the result ends in `dst` when `result_in_dst`.
fn par_split<K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    mask: u64,
    check: Check,
) {
    match choose_split(src, mask, rayon::current_num_threads()) {
        Split::Digit(digit) => par_split_by(src, dst, result_in_dst, &digit, mask, check),
        Split::Map(map) => par_split_by(src, dst, result_in_dst, &map, mask, check),
        Split::Spread(map) => par_split_by(src, dst, result_in_dst, &map, mask, check),
    }
}

/// [`par_split`] by the bucketer `digit`.
fn par_split_by<K: SortKey, B: Bucketer>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    digit: &B,
    mask: u64,
    check: Check,
) {
    let threads = rayon::current_num_threads();
    let n = src.len();
    let chunk = chunk_len(n, threads);
    let reference = bits(src[0]);
    let (chunk_counts, differ): (Vec<Box<Counts>>, Vec<u64>) = src
        .par_chunks(chunk)
        .map(|keys| histogram_and_bits(keys, digit, reference))
        .unzip();
    let exact = differ.iter().fold(0, |m, &d| m | d);
    if check == Check::Guess && !same_top_bit(mask, exact) {
        par_split(src, dst, result_in_dst, exact, Check::Exact);
        return;
    }
    let regions = chunk_regions(dst, &chunk_counts, digit.buckets());
    let streaming = streams(size_of_val(src), threads);
    src.par_chunks(chunk)
        .zip(regions)
        .for_each(|(keys, mut regions)| scatter_combined(keys, &mut regions, digit, streaming));

    let totals: Vec<usize> = (0..digit.buckets())
        .map(|b| chunk_counts.iter().map(|c| c[b]).sum())
        .collect();
    let big = (n / (2 * threads)).max(PAR_MIN);
    let inner = inner_masks(digit, exact, &totals);
    bucket_pairs(dst, src, &totals)
        .into_par_iter()
        .zip(inner)
        .with_max_len(1)
        .for_each(|((from, to), inner)| {
            if from.len() > big {
                par_sort_into(from, to, !result_in_dst);
            } else {
                // No prefetching here: the bucket after this one may go to another thread.
                sort_into(from, to, !result_in_dst, inner, Ahead::NONE);
            }
        });
}

/// `dst` cut into each chunk's region of each bucket: bucket by bucket, and within a bucket
/// chunk by chunk, so that the parallel scatter stays stable.
fn chunk_regions<'a, K>(
    dst: &'a mut [K],
    chunk_counts: &[Box<Counts>],
    buckets: usize,
) -> Vec<Vec<&'a mut [K]>> {
    let mut regions: Vec<Vec<&'a mut [K]>> = chunk_counts
        .iter()
        .map(|_| Vec::with_capacity(buckets))
        .collect();
    let mut rest = dst;
    for b in 0..buckets {
        for (row, counts) in regions.iter_mut().zip(chunk_counts) {
            let (head, tail) = rest.split_at_mut(counts[b]);
            row.push(head);
            rest = tail;
        }
    }
    regions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Distribution, KeyData, KeyType, KeyValue, generate};
    use proptest::prelude::*;
    use std::cell::Cell;
    use std::ops::Range;

    thread_local! {
        /// Set by a test to run the portable build of the radix loops on its thread, where
        /// the CPU would otherwise run their BMI2 build (see [`has_bmi2`]).
        pub(super) static PORTABLE_LOOPS: Cell<bool> = const { Cell::new(false) };
    }

    /// Bit patterns of `keys`, so that NaNs compare equal to themselves.
    pub(super) fn patterns<K: SortKey>(keys: &[K]) -> Vec<u64> {
        keys.iter().map(|k| k.checksum_bits()).collect()
    }

    pub(super) fn expected<K: SortKey>(keys: &[K]) -> Vec<u64> {
        let mut v = keys.to_vec();
        v.sort_unstable_by(K::sort_cmp);
        patterns(&v)
    }

    pub(super) fn in_pool(threads: usize, f: impl FnOnce() + Send) {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f);
    }

    /// Checks both sorts, the parallel one on 1, 2 and 3 threads.
    fn check<K: SortKey>(keys: &[K]) {
        let want = expected(keys);
        let mut v = keys.to_vec();
        radix_sort(&mut v);
        assert_eq!(patterns(&v), want, "radix_sort of {} keys", keys.len());
        for threads in 1..=3 {
            let mut v = keys.to_vec();
            in_pool(threads, || par_radix_sort(&mut v));
            assert_eq!(patterns(&v), want, "par_radix_sort, {threads} threads");
        }
    }

    /// Sizes around the thresholds, weighted towards small ones.
    fn size() -> impl Strategy<Value = usize> {
        prop_oneof![
            4 => 0usize..=300,
            1 => Just(BUCKET_SMALL + 1),
            1 => 300usize..3000,
        ]
    }

    /// Vectors of `size()` elements drawn from `element`.
    fn vec_of<S: Strategy + Clone>(element: S) -> impl Strategy<Value = Vec<S::Value>> {
        size().prop_flat_map(move |n| prop::collection::vec(element.clone(), n))
    }

    /// Keys from a narrow or a full range, so that both constant and varying digits occur.
    fn u64s() -> impl Strategy<Value = Vec<u64>> {
        (0u32..64).prop_flat_map(|shift| vec_of(any::<u64>().prop_map(move |x| x >> shift)))
    }

    fn special_f64() -> impl Strategy<Value = f64> + Clone {
        prop_oneof![
            Just(f64::NAN),
            Just(-f64::NAN),
            Just(f64::from_bits(0xfff0_0000_0000_0001)),
            Just(0.0),
            Just(-0.0),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::from_bits(1)),
            Just(-f64::from_bits(3)),
            Just(f64::MIN_POSITIVE),
            any::<f64>(),
            -1e6f64..1e6,
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn sorts_u32(v in u64s()) {
            check(&v.iter().map(|&x| x as u32).collect::<Vec<_>>());
        }

        #[test]
        fn sorts_u64(v in u64s()) {
            check(&v);
        }

        #[test]
        fn sorts_i32(v in u64s()) {
            check(&v.iter().map(|&x| x as i32).collect::<Vec<_>>());
        }

        #[test]
        fn sorts_i64(v in u64s()) {
            check(&v.iter().map(|&x| x as i64).collect::<Vec<_>>());
        }

        #[test]
        fn sorts_f32(v in vec_of(special_f64())) {
            check(&v.iter().map(|&x| x as f32).collect::<Vec<_>>());
        }

        #[test]
        fn sorts_f64(v in vec_of(special_f64())) {
            check(&v);
        }

        #[test]
        fn sorts_pairs_stably(keys in vec_of(0u32..40), wide in any::<bool>()) {
            let pairs: Vec<KeyValue> = keys
                .iter()
                .enumerate()
                .map(|(i, &k)| KeyValue { key: if wide { k.wrapping_mul(0x9e37_79b9) } else { k }, value: i as u32 })
                .collect();
            check_stable(&pairs);
        }
    }

    #[test]
    fn a_write_combining_split_lands_every_key_stably_whatever_the_alignment() {
        // Pairs numbered in input order, so that each bucket's order can be checked. Buckets
        // of a few hundred keys fill many lines; regions start anywhere, so that most begin
        // and end partway through a line. Sorted input takes the loop for runs.
        let r = lcg(3000, 21);
        let pairs = numbered_pairs(&r, 0xffff_ffff);
        let sorted_stretch: Vec<KeyValue> = {
            let mut p = pairs.clone();
            p.sort_by_key(|p| p.key);
            p
        };
        let digit = Digit {
            shift: 28,
            width: 4,
        };
        for src in [&pairs, &sorted_stretch] {
            let counts: Vec<usize> = (0..16)
                .map(|b| src.iter().filter(|&&p| digit.of(p) == b).count())
                .collect();
            for (offset, streaming) in [(0, true), (1, true), (3, false), (5, true)] {
                let mut buf = vec![KeyValue { key: 0, value: 0 }; src.len() + offset];
                let mut regions = bucket_regions(&mut buf[offset..], &counts);
                scatter_combined(src, &mut regions, &digit, streaming);
                for (b, region) in regions.iter().enumerate() {
                    let want: Vec<KeyValue> =
                        src.iter().copied().filter(|&p| digit.of(p) == b).collect();
                    assert_eq!(region.len(), want.len());
                    assert!(
                        region
                            .iter()
                            .zip(&want)
                            .all(|(a, w)| (a.key, a.value) == (w.key, w.value)),
                        "bucket {b}, offset {offset}, streaming {streaming}"
                    );
                }
            }
        }
    }

    /// Checks that pairs come out sorted by key with equal keys in input order.
    pub(super) fn check_stable(pairs: &[KeyValue]) {
        let mut want = pairs.to_vec();
        want.sort_by_key(|p| p.key);
        let mut v = pairs.to_vec();
        radix_sort(&mut v);
        assert_eq!(v, want);
        for threads in 1..=3 {
            let mut v = pairs.to_vec();
            in_pool(threads, || par_radix_sort(&mut v));
            assert_eq!(v, want, "{threads} threads");
        }
    }

    /// Deterministic pseudo-random numbers for the larger cases.
    pub(super) fn lcg(n: usize, seed: u64) -> Vec<u64> {
        let mut x = seed;
        (0..n)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                crate::data::mix64(x)
            })
            .collect()
    }

    #[test]
    fn sorts_large_inputs_through_every_path() {
        // Large enough for the in-cache split, the write-combining scatter and the parallel
        // split with a bucket that is split again in parallel.
        let n = (WC_BYTES / 4) + 12345;
        let r = lcg(n, 1);
        check(&r.iter().map(|&x| x as u32).collect::<Vec<_>>());
        // Skewed: half the keys share a value, so one bucket is far bigger than the rest.
        let skewed: Vec<u32> = r
            .iter()
            .map(|&x| if x & 1 == 0 { 77 } else { x as u32 })
            .collect();
        check(&skewed);
        let floats: Vec<f64> = r
            .iter()
            .take(PAR_MIN * 3)
            .map(|&x| f64::from_bits(x))
            .collect();
        check(&floats);
    }

    #[test]
    fn a_split_aims_at_buckets_of_a_fixed_size_in_bytes() {
        let mask = u64::from(u32::MAX);
        let buckets = |bytes| split_digit(mask, bytes, 1).buckets();
        // 64 buckets' worth of bytes: as many buckets for u32 keys as for half as many u64 keys.
        let keys = 64 * BUCKET_BYTES / 4;
        assert_eq!(buckets(keys * 4), 64);
        assert_eq!(buckets(keys / 2 * 8), 64);
        assert_eq!(buckets(keys * 8), 128);
        // At most SPLIT_MAX_BITS, however large the input; on 4 threads, at least
        // BUCKETS_PER_THREAD each, however small.
        assert_eq!(buckets(usize::MAX / 2), 1 << SPLIT_MAX_BITS);
        assert_eq!(
            split_digit(mask, BUCKET_BYTES, 4).buckets(),
            4 * BUCKETS_PER_THREAD
        );
    }

    #[test]
    fn nearly_sorted_runs_sort_stably() {
        // Sorted stretches go through the scatter that keeps a run's bucket in a register.
        let n = WC_BYTES / 2 + 777;
        let r = lcg(n, 7);
        let mut keys: Vec<u32> = r.iter().map(|&x| x as u32).collect();
        keys.sort_unstable();
        for i in (0..n).step_by(97) {
            keys.swap(i, (r[i] % n as u64) as usize);
        }
        assert!(in_runs(
            &keys,
            &split_digit(varying_bits(&keys), size_of_val(&keys[..]), 1)
        ));
        check(&keys);
        let pairs: Vec<KeyValue> = keys
            .iter()
            .enumerate()
            .map(|(i, &k)| KeyValue {
                key: k & 0xffff_f000,
                value: i as u32,
            })
            .collect();
        check_stable(&pairs);
    }

    /// Pairs keyed by the bits `mask` of each of `r`, valued by their input position.
    pub(super) fn numbered_pairs(r: &[u64], mask: u32) -> Vec<KeyValue> {
        r.iter()
            .enumerate()
            .map(|(i, &x)| KeyValue {
                key: (x as u32) & mask,
                value: i as u32,
            })
            .collect()
    }

    /// `n` numbered pairs, every other one (the first among them) keyed `key`, the others
    /// keyed apart from each other above it: a value that holds half of them.
    pub(super) fn half_one_key(n: u32, key: u32) -> Vec<KeyValue> {
        (0..n)
            .map(|i| KeyValue {
                key: if i % 2 == 0 { key } else { key + 1 + i },
                value: i,
            })
            .collect()
    }

    #[test]
    fn large_pairs_stay_stable() {
        check_stable(&numbered_pairs(&lcg(WC_BYTES / 8 + 999, 2), 0xff00_0fff));
    }

    #[test]
    fn lsd_passes_end_where_asked_without_reading_what_they_write() {
        for result in [Buf::Src, Buf::Dst] {
            for passes in 0..=MAX_PASSES {
                let (targets, copy_back) = pass_targets(passes, result);
                assert_eq!(targets.len(), passes);
                let mut at = Buf::Src;
                for &to in &targets {
                    assert_ne!(to, at, "{passes} passes into {result:?}: {targets:?}");
                    at = to;
                }
                if copy_back {
                    assert_eq!((at, result), (Buf::Spare, Buf::Src));
                } else if passes > 0 {
                    assert_eq!(at, result, "{passes} passes: {targets:?}");
                }
                // The caller's cold buffer is written at most every other pass.
                if result == Buf::Dst {
                    assert!(
                        targets[..passes.saturating_sub(1)]
                            .iter()
                            .all(|&t| t != Buf::Dst)
                    );
                }
            }
        }
        // Two passes of a u32 bucket go through the spare buffer, with no copy.
        assert_eq!(
            pass_targets(2, Buf::Dst),
            (vec![Buf::Spare, Buf::Dst], false)
        );
        assert_eq!(
            pass_targets(2, Buf::Src),
            (vec![Buf::Spare, Buf::Src], false)
        );
    }

    #[test]
    fn lsd_leaves_its_result_in_either_buffer() {
        // Masks that need one, two and three passes, each result in both places.
        for mask in [0xff_u64, 0x3f_ffff, 0xffff_ffff] {
            for result_in_dst in [false, true] {
                let keys: Vec<u32> = lcg(3000, 5)
                    .iter()
                    .map(|&x| x as u32 & mask as u32)
                    .collect();
                let mut src = keys.clone();
                let mut dst = vec![0u32; keys.len()];
                lsd(
                    &mut src,
                    &mut dst,
                    result_in_dst,
                    varying_bits(&keys),
                    Ahead::NONE,
                );
                let got = if result_in_dst { &dst } else { &src };
                assert_eq!(
                    patterns(got),
                    expected(&keys),
                    "mask {mask:#x}, in dst {result_in_dst}"
                );
            }
        }
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

    /// 3000 keys whose top 22 of `width` bits are shared in groups of 1 to 300 keys (runs
    /// for insertion, for std's sort and for radix), and whose low bits take few values, so
    /// that equal keys share runs.
    pub(super) fn grouped_keys(width: u32) -> Vec<u64> {
        let group = |x: u64| match x % 8 {
            0..=3 => x % 2000,       // mostly alone
            4 | 5 => 2000 + x % 300, // runs of a few keys
            6 => 2300 + x % 40,      // runs of a few dozen
            _ => 2340 + x % 2,       // two runs of about 190
        };
        // Groups spread over the top 22 bits (an odd multiplier is a bijection).
        lcg(3000, 17)
            .iter()
            .map(|&x| {
                let top = group(x >> 8).wrapping_mul(0x9e37_79b1) & 0x3f_ffff;
                top << (width - 22) | (x >> 3) & 0x7
            })
            .collect()
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

    #[test]
    fn runs_left_tied_by_the_top_bits_are_finished_stably() {
        let pairs: Vec<KeyValue> = grouped_keys(32)
            .iter()
            .enumerate()
            .map(|(i, &k)| KeyValue {
                key: k as u32,
                value: i as u32,
            })
            .collect();
        let low = 0x3ff;
        // What LSD passes over the top bits leave: keys in order of those bits, ties in input
        // order.
        let mut v = pairs.clone();
        v.sort_by_key(|p| p.key & !low);
        let mut scratch = v.clone();
        finish_runs(&mut v, &mut scratch, u64::from(low));
        let mut want = pairs;
        want.sort_by_key(|p| p.key);
        assert_eq!(v, want);
    }

    #[test]
    fn lsd_finishes_the_runs_its_passes_leave_tied() {
        let keys = grouped_keys(64);
        let mask = varying_bits(&keys);
        assert_ne!(
            lsd_plan(mask, keys.len()).1,
            0,
            "the low bits are left to runs"
        );
        for result_in_dst in [false, true] {
            let mut src = keys.clone();
            let mut dst = vec![0u64; keys.len()];
            lsd(&mut src, &mut dst, result_in_dst, mask, Ahead::NONE);
            let got = if result_in_dst { &dst } else { &src };
            assert_eq!(patterns(got), expected(&keys), "in dst {result_in_dst}");
        }
        // Given a mask far wider than its keys' bits, it sorts them all the same.
        let narrow: Vec<u64> = keys.iter().map(|&k| k >> 40).collect();
        let (mut src, mut dst) = (narrow.clone(), vec![0u64; narrow.len()]);
        lsd(&mut src, &mut dst, true, u64::MAX, Ahead::NONE);
        assert_eq!(patterns(&dst), expected(&narrow));
    }

    #[test]
    fn each_bucket_prefetches_every_line_of_the_next_over_its_passes() {
        let (mut keys, mut out) = (vec![0u32; 300], vec![0u32; 300]);
        let (mut pairs, mut rest) = (Vec::new(), (&mut keys[..], &mut out[..]));
        for len in [100, 200] {
            let (k, k_rest) = std::mem::take(&mut rest.0).split_at_mut(len);
            let (o, o_rest) = std::mem::take(&mut rest.1).split_at_mut(len);
            pairs.push((k, o));
            rest = (k_rest, o_rest);
        }
        let aheads = next_buckets(&pairs);
        assert_eq!(aheads.len(), 2);
        assert_eq!(
            aheads[1].regions,
            Ahead::NONE.regions,
            "the last has none after it"
        );
        let (next_keys, next_out) = (&pairs[1].0, &pairs[1].1);
        assert_eq!(aheads[0].regions, Ahead::of(next_keys, next_out).regions);
        // The first bucket's two passes, a step every `AHEAD_STEP` keys, reach every line.
        let steps = 2 * 100usize.div_ceil(AHEAD_STEP);
        let mut prefetch = Prefetch::spread(aheads[0], steps);
        let mut fetched: Vec<usize> = (0..steps).flat_map(|_| prefetch.next_lines()).collect();
        assert_eq!(
            prefetch.next_lines().len(),
            0,
            "nothing left after the last step"
        );
        fetched.sort_unstable();
        fetched.dedup();
        for region in [&next_keys[..], &next_out[..]] {
            let start = region.as_ptr() as usize;
            let end = start + size_of_val(region);
            let lines = (start / 64..end.div_ceil(64)).count();
            let covered = fetched
                .iter()
                .filter(|&&a| a / 64 >= start / 64 && a < end)
                .count();
            assert_eq!(covered, lines);
        }
        assert_eq!(Prefetch::spread(Ahead::NONE, 10).next_lines().len(), 0);
        // A bucket too large for an LSD sort is not prefetched.
        let large = vec![0u32; LSD_BYTES / 4 + 1];
        assert_eq!(Ahead::of(&large, &large).regions, Ahead::NONE.regions);
    }

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
        let found = pivot(&pairs).expect("1000 holds two keys in three");
        let value = bits(KeyValue {
            key: 1000,
            value: 0,
        });
        assert_eq!(found, Pivot { value, few: false });
        check_partition(&pairs, found, partition_around);
        check_stable(&pairs);
        // Uniform keys have no value to partition around, and small buckets are not looked at.
        let uniform: Vec<u32> = r.iter().map(|&x| x as u32).collect();
        assert_eq!(pivot(&uniform), None);
        assert_eq!(
            pivot(&vec![5u32; 4 * BUCKET_BYTES / size_of::<u32>()]),
            None
        );
        // Nor are buckets of fewer keys than the sample reads, however many bytes they hold.
        let few_wide = vec![5u64; 4 * BUCKET_BYTES / 8 + 1];
        assert!(few_wide.len() < PIVOT_SAMPLES);
        assert_eq!(pivot(&few_wide), None);
    }

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
                assert_eq!(histograms(&chunks, digits, &mut counts), 0xffff_ffff);
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

    /// One LSD pass over `chunks` by `digit`, as the in-cache sort makes it, into a fresh
    /// buffer, with the largest share of one digit value as `most / len`.
    fn one_pass<K: SortKey>(chunks: &[&[K]], digit: Digit) -> (Vec<K>, usize) {
        let len: usize = chunks.iter().map(|c| c.len()).sum();
        let mut counts = vec![[0u32; MAX_BUCKETS]];
        histograms(chunks, &[digit], &mut counts);
        let most = *counts[0].iter().max().unwrap() as usize;
        let first = chunks.iter().find_map(|c| c.first()).copied().unwrap();
        let mut out = vec![first; len];
        let mut prefetch = Prefetch::spread(Ahead::NONE, 1);
        scatter(chunks, &mut out, digit, &mut counts[0], &mut prefetch);
        (out, most)
    }

    #[test]
    fn a_crowded_pass_fills_each_bucket_from_both_ends_stably() {
        let r = lcg(3001, 17);
        let digit = Digit { shift: 4, width: 8 };
        // Half the keys share one digit value; the rest spread over all 256.
        for (crowd, crowded) in [(2, true), (1000, false)] {
            let pairs: Vec<KeyValue> = r
                .iter()
                .enumerate()
                .map(|(i, &x)| KeyValue {
                    key: if x % crowd == 0 {
                        0x5a0 | (x >> 60) as u32
                    } else {
                        x as u32
                    },
                    value: i as u32,
                })
                .collect();
            let mut want = pairs.clone();
            want.sort_by_key(|p| (p.key >> 4) & 0xff);
            // Uneven chunks, empty ones among them, an odd count of keys in all.
            let mut rest = &pairs[..];
            let mut chunks = Vec::new();
            for len in [0, 700, 1, 0, 999, 64, 5] {
                let (chunk, after) = rest.split_at(len);
                chunks.push(chunk);
                rest = after;
            }
            chunks.push(rest);
            for portable in [false, true] {
                PORTABLE_LOOPS.set(portable);
                let (out, most) = one_pass(&chunks, digit);
                assert_eq!(most * CROWDED > pairs.len(), crowded);
                assert_eq!(out, want, "crowded {crowded}, portable {portable}");
                let (whole, _) = one_pass(&[&pairs[..]], digit);
                assert_eq!(whole, want);
            }
            PORTABLE_LOOPS.set(false);
        }
        // One key, and two: the middle key and the halves of the smallest inputs.
        for n in [1, 2, 3] {
            let keys: Vec<u32> = (0..n as u32).rev().map(|k| k << 4).collect();
            let (out, _) = one_pass(&[&keys[..]], digit);
            assert_eq!(patterns(&out), expected(&keys));
        }
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
        let found = pivot(&keys).expect("1000 holds two keys in three");
        assert_eq!(equal_key::<u32>(found.value), Some(1000));
        type Partition = fn(&mut [u32], &mut [u32], bool, Pivot, u64) -> bool;
        let partitions: [(usize, Partition); 2] =
            [(1, partition_around), (3, par_partition_around)];
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
        let found = pivot(&three).expect("a bucket of three values");
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
            assert!(partition_around(
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
        assert_eq!(pivot(&two).map(|p| p.value), Some(value(11)));
        assert_eq!(pivot(&keyed(&[3, 3, 11])).map(|p| p.value), Some(value(3)));
        check_stable(&two);
        check_stable(&three);
        // Four values in equal shares are too many, and none holds most of them.
        assert_eq!(pivot(&keyed(&[3, 7, 11, 15])), None);
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
        let found = pivot(&pairs).expect("a crowded bucket");
        assert_eq!(
            found,
            Pivot {
                value: crowding,
                few: true
            }
        );
        check_partition(&pairs, found, partition_around);
        check_stable(&pairs);
    }

    #[test]
    fn a_value_holding_most_of_a_large_bucket_is_partitioned_around_on_all_threads() {
        // Three keys in five are 2^30; three in ten lie just below or above it, in its bucket
        // of a split by the top bits, and enough of them for parallel sorts of their own;
        // the rest lie anywhere.
        let centre = 1u32 << 30;
        let pairs: Vec<KeyValue> = lcg(40_000, 12)
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let near = (x >> 40) as u32 % (1 << 20) + 1;
                let key = match x % 20 {
                    0 | 1 => (x >> 32) as u32,
                    2..5 => centre - near,
                    5..8 => centre + near,
                    _ => centre,
                };
                KeyValue {
                    key,
                    value: i as u32,
                }
            })
            .collect();
        let centre_pivot = Pivot {
            value: bits(KeyValue {
                key: centre,
                value: 0,
            }),
            few: false,
        };
        let below = pairs.iter().filter(|p| p.key < centre).count();
        assert!(below > 2 * PAR_MIN, "{below} keys below");
        in_pool(3, || {
            check_partition(&pairs, centre_pivot, par_partition_around)
        });
        check_stable(&pairs);
    }

    /// Checks that `partition` (around `pivot`, a value that holds most of `pairs`) sorts
    /// `pairs` stably, into either buffer; and that around a value that holds only half of
    /// the keys (of many values), it declines and changes nothing.
    fn check_partition(
        pairs: &[KeyValue],
        pivot: Pivot,
        partition: fn(&mut [KeyValue], &mut [KeyValue], bool, Pivot, u64) -> bool,
    ) {
        let mut want = pairs.to_vec();
        want.sort_by_key(|p| p.key);
        for result_in_dst in [false, true] {
            let (mut src, mut dst) = (pairs.to_vec(), vec![pairs[0]; pairs.len()]);
            assert!(partition(
                &mut src,
                &mut dst,
                result_in_dst,
                pivot,
                u64::MAX
            ));
            assert_eq!(if result_in_dst { &dst } else { &src }, &want);
        }
        let halves = half_one_key(4000, 7);
        let seven = Pivot {
            value: bits(KeyValue { key: 7, value: 0 }),
            few: false,
        };
        let (mut src, mut dst) = (halves.clone(), halves.clone());
        assert!(!partition(&mut src, &mut dst, true, seven, u64::MAX));
        assert_eq!(src, halves);
    }

    #[test]
    fn the_portable_and_bmi2_builds_of_the_loops_sort_alike() {
        // Through the counting split with write-combining lines, and the blocked split.
        for n in [2 * WC_BYTES / 4, 3 * NT_BYTES / 4] {
            let r = lcg(n, 21);
            let u32s: Vec<u32> = r.iter().map(|&x| x as u32).collect();
            let f32s: Vec<f32> = r.iter().map(|&x| f32::from_bits(x as u32)).collect();
            let pairs: Vec<KeyValue> = r
                .iter()
                .enumerate()
                .map(|(i, &x)| KeyValue {
                    key: x as u32 & 0xff00_ff0f,
                    value: i as u32,
                })
                .collect();
            for portable in [false, true] {
                PORTABLE_LOOPS.set(portable);
                if portable {
                    assert!(!has_bmi2());
                }
                for keys in [&u32s[..], &u32s[..n / 3]] {
                    let mut v = keys.to_vec();
                    radix_sort(&mut v);
                    assert_eq!(patterns(&v), expected(keys), "{n} u32, portable {portable}");
                }
                let mut v = r.clone();
                radix_sort(&mut v);
                assert_eq!(patterns(&v), expected(&r), "{n} u64, portable {portable}");
                let mut v = f32s.clone();
                radix_sort(&mut v);
                assert_eq!(
                    patterns(&v),
                    expected(&f32s),
                    "{n} f32, portable {portable}"
                );
                let mut v = pairs.clone();
                radix_sort(&mut v);
                let mut stable = pairs.clone();
                stable.sort_by_key(|p| p.key);
                assert_eq!(v, stable, "{n} pairs, portable {portable}");
            }
            PORTABLE_LOOPS.set(false);
        }
    }

    #[test]
    fn streaming_stores_round_trip() {
        let r = lcg(NT_BYTES / 4 + 100, 3);
        let mut v: Vec<u32> = r.iter().map(|&x| x as u32).collect();
        let want = expected(&v);
        radix_sort(&mut v);
        assert_eq!(patterns(&v), want);
    }

    #[test]
    fn kept_scratch_serves_every_length_and_type() {
        // Growing, then shorter inputs of wider and narrower keys, then after a release.
        for (round, n) in [5_000, 300, 20_000, 7_000, 40_000].into_iter().enumerate() {
            let r = lcg(n, 10 + round as u64);
            check(&r.iter().map(|&x| x as u32).collect::<Vec<_>>());
            check(&r);
            check(
                &r.iter()
                    .map(|&x| f32::from_bits(x as u32))
                    .collect::<Vec<_>>(),
            );
            let pairs: Vec<KeyValue> = r
                .iter()
                .enumerate()
                .map(|(i, &x)| KeyValue {
                    key: (x as u32) & 0xf0f0_000f,
                    value: i as u32,
                })
                .collect();
            check_stable(&pairs);
            if round == 2 {
                release_scratch();
            }
        }
    }

    #[test]
    fn concurrent_sorts_each_get_their_own_scratch() {
        // Several threads sort at once: one of them may hold the kept buffer, the others
        // allocate their own; none may see another's keys.
        std::thread::scope(|s| {
            for t in 0..4u64 {
                s.spawn(move || {
                    for round in 0..4 {
                        let r = lcg(3_000 + 1_000 * (t as usize) + 777 * round, 20 + t);
                        check(&r.iter().map(|&x| x as u32).collect::<Vec<_>>());
                        check(&r.iter().map(|&x| x as i64).collect::<Vec<_>>());
                    }
                });
            }
        });
    }

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
        let split = choose_split(&floats, varying_bits(&floats), 1);
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
        let split = choose_split(&doubles, varying_bits(&doubles), 1);
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
            choose_split(&ints, varying_bits(&ints), 1),
            Split::Digit(_)
        ));
        let values = lcg(16, 6);
        let few: Vec<u64> = lcg(n, 7).iter().map(|&x| values[x as usize % 16]).collect();
        assert!(matches!(
            choose_split(&few, varying_bits(&few), 1),
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
        let digit = split_digit(mask, size_of_val(&floats[..]), 1);
        assert!(mixed(&|k| digit.of(k)) > floats.len() / 8);
        let mapped = match choose_split(&floats, mask, 1) {
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
        let n = PAR_MIN * 2;
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
