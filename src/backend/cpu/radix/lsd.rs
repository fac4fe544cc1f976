//! The in-cache LSD radix sort of a bucket: its passes, the scatter of each pass, and the
//! finishing of the runs that passes over only the top bits leave tied.

use super::count::{LsdCounts, UNROLL, histograms};
use super::layout::{line_len, place};
use super::plan::{Digit, MAX_BUCKETS, bits, lsd_plan, plan_again};
use super::prefetch::{AHEAD_STEP, Ahead, Prefetch};
use super::scratch::with_lsd_work;
use super::tuning::Tuning;
#[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
use super::tuning::has_bmi2;
use crate::data::SortKey;

/// Runs of at most this many keys that an LSD sort left tied are finished by insertion.
const INSERTION_MAX: usize = 16;

/// Sorts by their bits in `low` the runs of consecutive `keys` that agree in every other bit
/// (keys sorted stably by those other bits, as an LSD sort planned by [`lsd_plan`] leaves
/// them), stably; `scratch` (as long as `keys`) is free to use. A run too long for insertion is
/// sorted by `sort_into`, the split's [`sort_into`](super::split::sort_into), which may split
/// it again: passed in, so that the in-cache sort need not import the split that calls it.
pub(super) fn finish_runs<K: SortKey>(
    keys: &mut [K],
    scratch: &mut [K],
    low: u64,
    sort_into: impl Fn(&mut [K], &mut [K], bool, u64, Ahead),
) {
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

/// Reads one key of every cache line of `buf`, which loads `buf` into the cache.
pub(super) fn touch<K: SortKey>(buf: &[K]) {
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
/// Its passes prefetch the bucket `ahead`; the runs left tied go to `sort_into` (see
/// [`finish_runs`]).
pub(super) fn lsd<T: Tuning, K: SortKey>(
    src: &mut [K],
    dst: &mut [K],
    result_in_dst: bool,
    mask: u64,
    ahead: Ahead,
    sort_into: impl Fn(&mut [K], &mut [K], bool, u64, Ahead),
) {
    let low = with_lsd_work(src.len(), src[0], |all_counts, spare| {
        let (passes, low) = counted_passes::<T, _>(&[&*src], mask, all_counts);
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
            scatter::<T, _>(&[keys], out, digit, counts, &mut prefetch);
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
        finish_runs(result, free, low, sort_into);
    }
}

/// The passes of an LSD sort of the keys of `chunks` (at most [`Tuning::LSD_BYTES`], not none), which
/// vary in no bits outside `mask`: each digit with its histogram (in `all_counts`), skipping
/// digits whose value every key shares, and the low bits the passes leave to
/// [`finish_runs`] (see [`lsd_plan`]).
pub(super) fn counted_passes<'c, T: Tuning, K: SortKey>(
    chunks: &[&[K]],
    mask: u64,
    all_counts: &'c mut [LsdCounts],
) -> (Vec<(Digit, &'c mut LsdCounts)>, u64) {
    let len = chunks.iter().map(|c| c.len()).sum();
    let (mut digits, mut low) = lsd_plan(mask, len);
    let exact = histograms::<T, _>(chunks, &digits, all_counts);
    // `mask` may hold bits in which these keys agree (inherited from a split by a prefix
    // map, of float or skewed keys). Passes planned from it that leave the low bits to
    // `finish_runs` might sort by top bits that all keys share and leave it all the work;
    // where the exact bits plan otherwise, count again by their plan.
    if let Some(plan) = plan_again((&digits, low), exact, len) {
        // Keys all equal (no digits) need no count at all.
        let recount = plan.0 != digits && !plan.0.is_empty();
        (digits, low) = plan;
        if recount {
            histograms::<T, _>(chunks, &digits, all_counts);
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
pub(super) fn pass_steps(passes: usize, len: usize) -> usize {
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
pub(super) fn scatter<T: Tuning, K: SortKey>(
    chunks: &[&[K]],
    dst: &mut [K],
    digit: Digit,
    counts: &mut LsdCounts,
    prefetch: &mut Prefetch,
) {
    #[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
    if has_bmi2::<T>() {
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
pub(super) fn scatter_loop<K: SortKey>(
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
/// half lands in input order, and they meet exactly, so the pass stays stable. Passes of
/// evenly spread keys keep the plain loop, which is a little faster for them.
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
pub(super) fn halves<'a, K>(chunks: &[&'a [K]], half: usize) -> (Vec<&'a [K]>, Vec<&'a [K]>) {
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

/// Writes `k` to the next place of its bucket of the digit `(shift, mask)` in `dst`, and
/// moves that place on.
#[inline(always)]
fn place_key<K: SortKey>(k: K, dst: &mut [K], next: &mut LsdCounts, shift: u32, mask: usize) {
    let b = ((bits(k) >> shift) as usize) & mask;
    let p = next[b];
    dst[p as usize] = k;
    next[b] = p.wrapping_add(1);
}

#[cfg(test)]
mod tests {
    use super::super::plan::{MAX_PASSES, varying_bits};
    use super::super::split::sort_into;
    use super::super::test_support::{expected, grouped_keys, lcg, patterns};
    use super::*;
    use crate::backend::cpu::radix::tuning::{Portable, Small, Tuning};
    use crate::data::{KeyValue, SortKey};

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
                lsd::<Small, _>(
                    &mut src,
                    &mut dst,
                    result_in_dst,
                    varying_bits(&keys),
                    Ahead::NONE,
                    sort_into::<Small, _>,
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
        finish_runs(&mut v, &mut scratch, u64::from(low), sort_into::<Small, _>);
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
            lsd::<Small, _>(
                &mut src,
                &mut dst,
                result_in_dst,
                mask,
                Ahead::NONE,
                sort_into::<Small, _>,
            );
            let got = if result_in_dst { &dst } else { &src };
            assert_eq!(patterns(got), expected(&keys), "in dst {result_in_dst}");
        }
        // Given a mask far wider than its keys' bits, it sorts them all the same.
        let narrow: Vec<u64> = keys.iter().map(|&k| k >> 40).collect();
        let (mut src, mut dst) = (narrow.clone(), vec![0u64; narrow.len()]);
        lsd::<Small, _>(
            &mut src,
            &mut dst,
            true,
            u64::MAX,
            Ahead::NONE,
            sort_into::<Small, _>,
        );
        assert_eq!(patterns(&dst), expected(&narrow));
    }

    /// One LSD pass over `chunks` by `digit`, as the in-cache sort makes it, into a fresh
    /// buffer, with the largest share of one digit value as `most / len`.
    fn one_pass<T: Tuning, K: SortKey>(chunks: &[&[K]], digit: Digit) -> (Vec<K>, usize) {
        let len: usize = chunks.iter().map(|c| c.len()).sum();
        let mut counts = vec![[0u32; MAX_BUCKETS]];
        histograms::<T, _>(chunks, &[digit], &mut counts);
        let most = *counts[0].iter().max().unwrap() as usize;
        let first = chunks.iter().find_map(|c| c.first()).copied().unwrap();
        let mut out = vec![first; len];
        let mut prefetch = Prefetch::spread(Ahead::NONE, 1);
        scatter::<T, _>(chunks, &mut out, digit, &mut counts[0], &mut prefetch);
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
            type OnePass = fn(&[&[KeyValue]], Digit) -> (Vec<KeyValue>, usize);
            let builds: [(bool, OnePass); 2] = [
                (false, one_pass::<Small, _>),
                (true, one_pass::<Portable, _>),
            ];
            for (portable, one_pass) in builds {
                let (out, most) = one_pass(&chunks, digit);
                assert_eq!(most * CROWDED > pairs.len(), crowded);
                assert_eq!(out, want, "crowded {crowded}, portable {portable}");
                let (whole, _) = one_pass(&[&pairs[..]], digit);
                assert_eq!(whole, want);
            }
        }
        // One key, and two: the middle key and the halves of the smallest inputs.
        for n in [1, 2, 3] {
            let keys: Vec<u32> = (0..n as u32).rev().map(|k| k << 4).collect();
            let (out, _) = one_pass::<Small, _>(&[&keys[..]], digit);
            assert_eq!(patterns(&out), expected(&keys));
        }
    }
}
