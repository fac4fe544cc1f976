//! The blocked split's scatter: each bucket's keys in a chain of fixed-size blocks, gathered
//! four cache lines at a time, and read back bucket by bucket; and the sizes of both
//! ([`block_len`], [`gather_len`]).

use crate::backend::cpu::radix::layout::line_len;
use crate::backend::cpu::radix::plan::{MAX_BUCKETS, bits};
use crate::backend::cpu::radix::prefetch::Ahead;
use crate::backend::cpu::radix::prefix::Bucketer;
use crate::backend::cpu::radix::scatter::{in_runs, line_buffers, store_fence, stream_line};
use std::array;
use std::mem::size_of;

use crate::backend::cpu::radix::tuning::Tuning;
#[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
use crate::backend::cpu::radix::tuning::has_bmi2;
use crate::data::SortKey;

/// Cache lines of keys each bucket gathers before it writes them out together: a bucket's
/// buffer then fills a quarter as often, and each time the branch that finds it full is
/// mispredicted and its lines go out to another place in memory. For 2^11 buckets the buffer
/// takes 512 KiB, which stays in L2.
pub(super) const GATHER_LINES: usize = 4;

/// Keys of `K` a bucket gathers before it writes them out: [`GATHER_LINES`] lines where keys
/// fill lines exactly (one line otherwise), a power of two that divides a block and fits the
/// byte that counts them.
pub(super) fn gather_len<T: Tuning, K>() -> usize {
    let line = line_len::<K>();
    if size_of::<K>() * line != 64 {
        return line;
    }
    (line * GATHER_LINES).min(block_len::<T, K>()).min(128)
}

/// Keys of `K` per block: a whole number of cache lines.
pub(super) const fn block_len<T: Tuning, K>() -> usize {
    let size = size_of::<K>();
    if size == 0 || size > T::BLOCK_BYTES {
        1
    } else {
        T::BLOCK_BYTES / size
    }
}

/// The keys of a split, each bucket's in a chain of blocks and a last, part-filled line.
pub(super) struct Blocks<'p, K> {
    /// The blocks, from the first 64-byte boundary of the scratch buffer.
    pub(super) pool: &'p [K],
    /// Keys of each bucket.
    pub(super) counts: Vec<usize>,
    /// For each block, the next block of its bucket's chain.
    pub(super) next: Vec<u32>,
    /// The write-combining buffer, [`gather_len`] keys per bucket from `line_start`: each
    /// bucket's last keys, too few to be written out.
    pub(super) lines: Vec<K>,
    pub(super) line_start: usize,
    /// The bits in which the keys differ from the first.
    pub(super) exact: u64,
}

impl<'p, K: SortKey> Blocks<'p, K> {
    /// Scatters `src` by `digit` into blocks of `scratch`, which must hold one block per
    /// bucket and one line more than `src`.
    ///
    /// Input in long runs of keys for one bucket (sorted stretches) takes a loop of its own,
    /// built apart so that neither loop costs the other its registers.
    pub(super) fn scatter<T: Tuning, B: Bucketer>(
        src: &[K],
        scratch: &'p mut [K],
        digit: &B,
    ) -> Blocks<'p, K> {
        if in_runs(src, digit) {
            Blocks::scatter_built::<T, B, true>(src, scratch, digit)
        } else {
            Blocks::scatter_built::<T, B, false>(src, scratch, digit)
        }
    }

    /// [`Blocks::scatter`] in its BMI2 build where the CPU has BMI2 (see [`has_bmi2`](crate::backend::cpu::radix::tuning::has_bmi2)).
    fn scatter_built<T: Tuning, B: Bucketer, const RUNS: bool>(
        src: &[K],
        scratch: &'p mut [K],
        digit: &B,
    ) -> Blocks<'p, K> {
        #[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
        if has_bmi2::<T>() {
            #[target_feature(enable = "bmi2")]
            unsafe fn bmi2<'p, T: Tuning, K: SortKey, B: Bucketer, const RUNS: bool>(
                src: &[K],
                scratch: &'p mut [K],
                digit: &B,
            ) -> Blocks<'p, K> {
                Blocks::scatter_loop::<T, B, RUNS>(src, scratch, digit)
            }
            // SAFETY: the CPU has BMI2 (just checked).
            return unsafe { bmi2::<T, K, B, RUNS>(src, scratch, digit) };
        }
        Blocks::scatter_loop::<T, B, RUNS>(src, scratch, digit)
    }

    /// The body of [`Blocks::scatter`], its loop the one for runs where `RUNS`.
    #[inline(always)]
    fn scatter_loop<T: Tuning, B: Bucketer, const RUNS: bool>(
        src: &[K],
        scratch: &'p mut [K],
        digit: &B,
    ) -> Blocks<'p, K> {
        let (line, len, buckets) = (line_len::<K>(), block_len::<T, K>(), digit.buckets());
        let gather = gather_len::<T, K>();
        let skip = scratch.as_ptr().align_offset(64);
        let (skip, aligned) = if skip < line {
            (skip, true)
        } else {
            (0, false)
        };
        let pool = &mut scratch[skip..];
        let streaming = aligned && size_of::<K>() * line == 64;
        // Per bucket: its lines of the write-combining buffer; its keys waiting in them (the
        // only count the loop reads for every key, one byte each, so that the counts stay in
        // L1) and its keys written out; where its next lines go, and its chain's last block.
        // All are sized for [`MAX_BUCKETS`] buckets, of which only the first `buckets` are
        // used, so that indexing them by a bucket (always below `MAX_BUCKETS`) needs no bounds
        // check in the loop.
        let (mut lines, line_start) = line_buffers(MAX_BUCKETS, gather, src[0]);
        let buf = &mut lines[line_start..line_start + MAX_BUCKETS * gather];
        let mut waiting = Box::new([0u8; MAX_BUCKETS]);
        let mut written = Box::new([0; MAX_BUCKETS]);
        let mut at: Box<[usize; MAX_BUCKETS]> = Box::new(array::from_fn(|b| b * len));
        let mut last: Box<[u32; MAX_BUCKETS]> = Box::new(array::from_fn(|b| b as u32));
        // A bucket takes a new block for each block it fills: at most `n / len` in all, on top
        // of the first `buckets`, which `scratch` has room for.
        let mut next = vec![u32::MAX; pool.len() / len];
        let mut free = buckets;
        // Writes the full buffer of bucket `$b` out into the bucket's chain of blocks. (A
        // macro, not a closure: a closure's captures cost the loops their registers.)
        macro_rules! flush {
            ($b:expr) => {{
                let b = $b;
                written[b] += gather;
                let w = at[b];
                let (out, full) = (&mut pool[w..w + gather], &buf[b * gather..(b + 1) * gather]);
                if streaming {
                    for (out, full) in out.chunks_exact_mut(line).zip(full.chunks_exact(line)) {
                        stream_line(out, full);
                    }
                } else {
                    out.copy_from_slice(full);
                }
                at[b] = if (w + gather).is_multiple_of(len) {
                    // A full block: the chain goes on in the next free one.
                    next[last[b] as usize] = free as u32;
                    last[b] = free as u32;
                    free += 1;
                    (free - 1) * len
                } else {
                    w + gather
                };
            }};
        }
        let reference = bits(src[0]);
        let mut differ = 0;
        // `p & (gather - 1)` changes nothing (`gather` is a power of two and `p` below it) but
        // tells the compiler so.
        if RUNS {
            // The run's bucket's count of waiting keys stays in a register, where each key
            // would otherwise wait for the previous key's store to `waiting`.
            // Every bucket starts with nothing waiting.
            let (mut run, mut p) = (0, 0);
            for &k in src {
                differ |= bits(k) ^ reference;
                let b = digit.of(k);
                if b != run {
                    waiting[run] = p as u8;
                    (run, p) = (b, usize::from(waiting[b]));
                }
                p &= gather - 1;
                buf[b * gather + p] = k;
                p += 1;
                if p < gather {
                    continue;
                }
                p = 0;
                flush!(b);
            }
            waiting[run] = p as u8;
        } else {
            for &k in src {
                differ |= bits(k) ^ reference;
                let b = digit.of(k);
                let p = usize::from(waiting[b]) & (gather - 1);
                buf[b * gather + p] = k;
                if p + 1 < gather {
                    waiting[b] = (p + 1) as u8;
                    continue;
                }
                waiting[b] = 0;
                flush!(b);
            }
        }
        let counts = written[..buckets]
            .iter()
            .zip(&waiting[..buckets])
            .map(|(&w, &part)| w + usize::from(part))
            .collect();
        if streaming {
            store_fence();
        }
        Blocks {
            pool,
            counts,
            next,
            lines,
            line_start,
            exact: differ,
        }
    }

    /// The keys of `bucket`, in input order.
    pub(super) fn chunks<T: Tuning>(&self, bucket: usize) -> Vec<&[K]> {
        let (gather, len) = (gather_len::<T, K>(), block_len::<T, K>());
        let count = self.counts[bucket];
        let full = count - count % gather;
        let mut chunks = Vec::with_capacity(full / len + 2);
        let (mut block, mut done) = (bucket, 0);
        while done < full {
            let take = (full - done).min(len);
            chunks.push(&self.pool[block * len..block * len + take]);
            done += take;
            block = self.next[block] as usize;
        }
        let part = self.line_start + bucket * gather;
        chunks.push(&self.lines[part..part + count % gather]);
        chunks
    }

    /// Sorts every bucket into its place in `keys` (as long as the keys scattered), the split
    /// having been made by `digit`, each by `sort_bucket`: the blocked split's
    /// [`sort_bucket`](super::sort_bucket), passed in so that the blocks need not import the
    /// split that makes and sorts them.
    pub(super) fn sort_buckets_into<T: Tuning, B: Bucketer>(
        &self,
        keys: &mut [K],
        digit: &B,
        sort_bucket: impl Fn(&[&[K]], &mut [K], u64, Ahead, &mut Vec<K>),
    ) {
        let filled: Vec<usize> = (0..self.counts.len())
            .filter(|&b| self.counts[b] > 0)
            .collect();
        let mut spill = Vec::new();
        let mut rest = keys;
        let mut chunks = filled.first().map(|&b| self.chunks::<T>(b));
        for (i, &b) in filled.iter().enumerate() {
            let (out, later) = std::mem::take(&mut rest).split_at_mut(self.counts[b]);
            let next = filled
                .get(i + 1)
                .map(|&after| (after, self.chunks::<T>(after)));
            let ahead = match &next {
                Some((after, keys)) => {
                    Ahead::of_chunks::<T, _>(keys, &later[..self.counts[*after]])
                }
                None => Ahead::NONE,
            };
            let mask = self.exact & !digit.fixed_bits(b);
            let these = chunks.take().expect("the chunks of every filled bucket");
            sort_bucket(&these, out, mask, ahead, &mut spill);
            chunks = next.map(|(_, keys)| keys);
            rest = later;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::mem::size_of;

    use super::*;
    use crate::backend::cpu::radix::plan::{Digit, varying_bits};
    use crate::backend::cpu::radix::test_support::{lcg, patterns};
    use crate::backend::cpu::radix::tuning::Small;
    use crate::data::{KeyValue, SortKey};

    /// The keys of `src` in `bucket` of `digit`, in input order.
    fn bucket_of<K: SortKey>(src: &[K], digit: Digit, bucket: usize) -> Vec<u64> {
        let keys: Vec<K> = src
            .iter()
            .copied()
            .filter(|&k| digit.of(k) == bucket)
            .collect();
        patterns(&keys)
    }

    #[test]
    fn each_bucket_keeps_its_keys_in_input_order_along_its_chain_of_blocks() {
        // 16 buckets of about 300 keys: chains of about ten blocks, and part-filled
        // write-combining lines each, of several lines' room.
        let gather = gather_len::<Small, u32>();
        assert!(gather > line_len::<u32>());
        let digit = Digit {
            shift: 28,
            width: 4,
        };
        let scattered: Vec<u32> = lcg(5000, 8).iter().map(|&x| x as u32).collect();
        // The same number of keys in runs of 37 for one bucket, each bucket visited again and
        // again with part of a buffer waiting: the loop for runs.
        let in_runs: Vec<u32> = scattered
            .iter()
            .enumerate()
            .map(|(i, &x)| ((i / 37 * 7 % 16) as u32) << 28 | x >> 4)
            .collect();
        for (keys, runs) in [(scattered, false), (in_runs, true)] {
            assert_eq!(
                crate::backend::cpu::radix::scatter::in_runs(&keys, &digit),
                runs
            );
            let room = keys.len() + 16 * block_len::<Small, u32>() + line_len::<u32>();
            // One key in, so that the blocks must skip to a 64-byte boundary.
            let mut scratch = vec![0u32; room + 1];
            let blocks = Blocks::scatter::<Small, _>(&keys, &mut scratch[1..], &digit);
            assert_eq!(blocks.exact, varying_bits(&keys));
            assert_eq!(blocks.counts.iter().sum::<usize>(), keys.len());
            for b in 0..16 {
                let chunks = blocks.chunks::<Small>(b);
                assert!(chunks.len() > 5, "bucket {b} in {} chunks", chunks.len());
                assert!(
                    chunks[..chunks.len() - 1]
                        .iter()
                        .all(|c| c.len() % gather == 0)
                );
                assert!(
                    chunks.last().unwrap().len() < gather,
                    "the keys never written out"
                );
                assert_eq!(
                    patterns(&chunks.concat()),
                    bucket_of(&keys, digit, b),
                    "bucket {b}, runs {runs}"
                );
            }
        }
    }

    #[test]
    fn a_bucket_gathers_whole_lines_that_divide_a_block_and_fit_its_byte_count() {
        fn check<K>(lines: usize) {
            let gather = gather_len::<Small, K>();
            assert_eq!(gather, lines * line_len::<K>(), "{}", size_of::<K>());
            assert!(gather.is_power_of_two() && block_len::<Small, K>().is_multiple_of(gather));
            assert!(gather <= usize::from(u8::MAX));
        }
        // Tests' blocks hold two lines, which caps the lines gathered.
        check::<u32>(GATHER_LINES.min(2));
        check::<KeyValue>(GATHER_LINES.min(2));
        check::<u8>(GATHER_LINES.min(2));
        // Keys that do not fill lines exactly are written one at a time.
        check::<[u8; 12]>(1);
        check::<[u8; 96]>(1);
    }
}
