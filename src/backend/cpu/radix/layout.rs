//! Where keys lie in memory: how many share a cache line, the chunks that spread them over
//! threads, and the copy that leaves a sorted run where its caller wants it. Small helpers of
//! every part of the sort, which import nothing of it.

use std::mem::size_of;

use crate::data::SortKey;

/// Keys of `K` per 64-byte cache line, or 1 where `K` does not tile a line.
pub(super) const fn line_len<K>() -> usize {
    let size = size_of::<K>();
    if size > 0 && size <= 64 && size.is_power_of_two() {
        64 / size
    } else {
        1
    }
}

/// Length of the chunks that spread `n` keys over `threads` threads.
pub(super) fn chunk_len(n: usize, threads: usize) -> usize {
    n.div_ceil(threads).max(1)
}

/// Leaves the keys held in `src` where the caller wants them: in `dst` when `result_in_dst`.
pub(super) fn place<K: SortKey>(src: &[K], dst: &mut [K], result_in_dst: bool) {
    if result_in_dst {
        dst.copy_from_slice(src);
    }
}
