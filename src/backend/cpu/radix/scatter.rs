//! The write-combining split: each bucket gathers a cache line of keys and writes it out
//! whole, with non-temporal stores where the data cannot stay in cache.

use std::mem::size_of;

use super::count::Counts;
use super::layout::line_len;
use super::plan::MAX_BUCKETS;
use super::prefix::Bucketer;
use super::tuning::Tuning;
#[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
use super::tuning::has_bmi2;
use crate::data::SortKey;

/// Whether a split of `bytes` on `threads` threads writes its lines with non-temporal
/// stores (and, of a whole input, on one thread or a few, into blocks): where the input is
/// larger than the threads' L2 caches hold, and always above [`Tuning::NT_BYTES`]. Its lines' plain
/// stores would each read a line from memory first, and the keys would not stay in the
/// cache for their buckets' sorts anyway. On 16 threads this is [`Tuning::NT_BYTES`]; on
/// fewer, the inputs below it that their caches cannot hold gain from these stores too.
pub(super) fn streams<T: Tuning>(bytes: usize, threads: usize) -> bool {
    bytes > (threads * T::L2_BYTES).clamp(T::WC_BYTES, T::NT_BYTES)
}

/// Stably scatters `src` by `digit` into `regions[v]` (exactly the keys whose digit is `v`),
/// through software write-combining: each bucket gathers one cache line of keys in a small
/// buffer and writes it out whole. With `streaming`, whole, aligned lines are written with
/// non-temporal stores, which skip reading the line first and keep the destination from
/// evicting the cache.
pub(super) fn scatter_combined<T: Tuning, K: SortKey, B: Bucketer>(
    src: &[K],
    regions: &mut [&mut [K]],
    digit: &B,
    streaming: bool,
) {
    #[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
    if has_bmi2::<T>() {
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
pub(super) fn line_buffers<K: SortKey>(buckets: usize, keys: usize, fill: K) -> (Vec<K>, usize) {
    let line = line_len::<K>();
    let store = vec![fill; buckets * keys + line];
    let skip = store.as_ptr().align_offset(64).min(line);
    (store, skip)
}

/// Whether consecutive keys at the start of `src` mostly fall in the same bucket of `digit`.
pub(super) fn in_runs<K: SortKey, B: Bucketer>(src: &[K], digit: &B) -> bool {
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
#[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
#[inline(always)]
pub(super) fn stream_line<K>(out: &mut [K], line: &[K]) {
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
#[cfg(any(not(target_arch = "x86_64"), sortmark_portable))]
#[inline(always)]
pub(super) fn stream_line<K: Copy>(out: &mut [K], line: &[K]) {
    out.copy_from_slice(line);
}

/// Orders the non-temporal stores before anything that follows.
pub(super) fn store_fence() {
    #[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
    // SAFETY: `sfence` only orders stores; it touches no memory or registers.
    unsafe {
        std::arch::asm!("sfence", options(nostack, preserves_flags));
    }
}

#[cfg(test)]
mod tests {
    use super::super::plan::{Digit, split_digit, varying_bits};
    use super::super::radix_sort_tuned;
    use super::super::split::bucket_regions;
    use super::super::test_support::{
        check, check_stable, expected, lcg, numbered_pairs, patterns,
    };
    use std::mem::size_of_val;

    use super::*;
    use crate::backend::cpu::radix::tuning::{Small, Tuning};
    use crate::data::KeyValue;

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
                scatter_combined::<Small, _, _>(src, &mut regions, &digit, streaming);
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

    #[test]
    fn nearly_sorted_runs_sort_stably() {
        // Sorted stretches go through the scatter that keeps a run's bucket in a register.
        let n = Small::WC_BYTES / 2 + 777;
        let r = lcg(n, 7);
        let mut keys: Vec<u32> = r.iter().map(|&x| x as u32).collect();
        keys.sort_unstable();
        for i in (0..n).step_by(97) {
            keys.swap(i, (r[i] % n as u64) as usize);
        }
        assert!(in_runs(
            &keys,
            &split_digit::<Small>(varying_bits(&keys), size_of_val(&keys[..]), 1)
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

    #[test]
    fn streaming_stores_round_trip() {
        let r = lcg(Small::NT_BYTES / 4 + 100, 3);
        let mut v: Vec<u32> = r.iter().map(|&x| x as u32).collect();
        let want = expected(&v);
        radix_sort_tuned::<Small, _>(&mut v);
        assert_eq!(patterns(&v), want);
    }
}
