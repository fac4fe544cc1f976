//! Prefetching the next bucket: where it lies ([`Ahead`]) and the loading of its cache lines
//! a few at a time during the current bucket's passes ([`Prefetch`]).

use super::tuning::{AHEAD_REGIONS, Tuning};
use std::mem::size_of_val;

/// Keys an LSD pass moves between two steps of its [`Prefetch`].
pub(super) const AHEAD_STEP: usize = 64;

/// Where the bucket sorted after this one lies: its keys (in one slice, or in the blocks of a
/// blocked split) and the region they go to. The LSD passes of the bucket before it load them
/// into L2 a few lines at a time (see [`Prefetch`]), so that the next bucket's first reads and
/// writes need not wait on memory. The hardware prefetcher would not load them ahead: the
/// current bucket's scattered writes give it no stream to follow.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ahead {
    /// Address and length in bytes of each region; unused ones are empty.
    pub(super) regions: [(usize, usize); AHEAD_REGIONS],
}

impl Ahead {
    /// Nothing to load.
    pub(super) const NONE: Ahead = Ahead {
        regions: [(0, 0); AHEAD_REGIONS],
    };

    /// The bucket whose keys are `from`, sorted into (or through) `to`; nothing for a bucket
    /// too large for an LSD sort in cache, whose lines would only evict the current bucket's.
    pub(super) fn of<T: Tuning, K>(from: &[K], to: &[K]) -> Ahead {
        Ahead::of_chunks::<T, _>(&[from], to)
    }

    /// [`Ahead::of`] a bucket whose keys lie in `chunks` (only the first few of them where
    /// there are more than an `Ahead` holds).
    pub(super) fn of_chunks<T: Tuning, K>(chunks: &[&[K]], to: &[K]) -> Ahead {
        if size_of_val(to) > T::LSD_BYTES {
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
pub(super) fn next_buckets<T: Tuning, K>(pairs: &[(&mut [K], &mut [K])]) -> Vec<Ahead> {
    let mut aheads: Vec<Ahead> = pairs
        .iter()
        .skip(1)
        .map(|(f, t)| Ahead::of::<T, _>(f, t))
        .collect();
    aheads.push(Ahead::NONE);
    aheads
}

/// The cache lines of an [`Ahead`], prefetched a few at each [`Prefetch::step`].
pub(super) struct Prefetch {
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
    pub(super) fn spread(ahead: Ahead, steps: usize) -> Prefetch {
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
    pub(super) fn step(&mut self) {
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
}

/// Asks for the cache line at `addr` to be loaded into L2 (the current bucket keeps L1).
#[inline(always)]
fn prefetch_line(addr: usize) {
    #[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
    // SAFETY: `prefetch` needs SSE, which every x86_64 CPU has; and a prefetch is only a
    // hint: it never faults and changes no memory, whatever the address.
    unsafe {
        use std::arch::x86_64::{_MM_HINT_T1, _mm_prefetch};
        _mm_prefetch::<_MM_HINT_T1>(addr as *const i8);
    }
    #[cfg(any(not(target_arch = "x86_64"), sortmark_portable))]
    let _ = addr;
}

#[cfg(test)]
mod tests {
    use std::mem::size_of_val;

    use super::*;
    use crate::backend::cpu::radix::tuning::{Small, Tuning};

    /// The lines of the next step of `prefetch`.
    fn next_lines(prefetch: &mut Prefetch) -> Vec<usize> {
        let mut lines = Vec::new();
        prefetch.visit_next(|line| lines.push(line));
        lines
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
        let aheads = next_buckets::<Small, _>(&pairs);
        assert_eq!(aheads.len(), 2);
        assert_eq!(
            aheads[1].regions,
            Ahead::NONE.regions,
            "the last has none after it"
        );
        let (next_keys, next_out) = (&pairs[1].0, &pairs[1].1);
        assert_eq!(
            aheads[0].regions,
            Ahead::of::<Small, _>(next_keys, next_out).regions
        );
        // The first bucket's two passes, a step every `AHEAD_STEP` keys, reach every line.
        let steps = 2 * 100usize.div_ceil(AHEAD_STEP);
        let mut prefetch = Prefetch::spread(aheads[0], steps);
        let mut fetched: Vec<usize> = (0..steps).flat_map(|_| next_lines(&mut prefetch)).collect();
        assert_eq!(
            next_lines(&mut prefetch).len(),
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
        assert_eq!(next_lines(&mut Prefetch::spread(Ahead::NONE, 10)).len(), 0);
        // A bucket too large for an LSD sort is not prefetched.
        let large = vec![0u32; Small::LSD_BYTES / 4 + 1];
        assert_eq!(
            Ahead::of::<Small, _>(&large, &large).regions,
            Ahead::NONE.regions
        );
    }
}
