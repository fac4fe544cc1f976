//! Transparent huge pages for the large buffers the CPU sorts work in.
//!
//! Where Linux's THP setting is `madvise` (the default of many distributions, and of the
//! 16-core device), a buffer gets huge pages only if it asks. NumPy asks for every large
//! array, and sortmark's radix sort for its scratch buffer; the buffer each CPU repetition
//! sorts asks too, so that every algorithm, sortmark's and std's alike, sorts memory mapped
//! the way a NumPy user's is.

use std::mem::size_of;

use crate::data::{AllocFailure, try_with_capacity};

/// Bytes of a huge page on x86-64.
const HUGE_PAGE: usize = 2 << 20;

/// A copy of `src` in an allocation marked for huge pages before it is written, or why the
/// allocation failed.
pub fn huge_page_copy<K: Copy>(src: &[K]) -> Result<Vec<K>, AllocFailure> {
    let mut copy = try_with_capacity(src.len(), "the working copy")?;
    advise_huge_pages(&copy);
    copy.extend_from_slice(src);
    Ok(copy)
}

/// Asks Linux to back the (still untouched) allocation of `buf` with transparent huge pages,
/// which cuts its page faults 512-fold where THP is in `madvise` mode. Only a hint: failure
/// is ignored, and other systems skip it.
pub(crate) fn advise_huge_pages<K>(buf: &Vec<K>) {
    let start = (buf.as_ptr() as usize).next_multiple_of(HUGE_PAGE);
    let end = (buf.as_ptr() as usize + buf.capacity() * size_of::<K>()) / HUGE_PAGE * HUGE_PAGE;
    if end > start {
        madvise_hugepage(start, end - start);
    }
}

/// `madvise(addr, len, MADV_HUGEPAGE)`.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn madvise_hugepage(addr: usize, len: usize) {
    const SYS_MADVISE: usize = 28;
    const MADV_HUGEPAGE: usize = 14;
    // SAFETY: `madvise(MADV_HUGEPAGE)` changes no memory contents and no mapping the program
    // can observe; it only marks `addr..addr + len` (a page-aligned range inside our own
    // allocation) as eligible for huge pages. The syscall clobbers only rax, rcx and r11.
    unsafe {
        std::arch::asm!(
            "syscall",
            inlateout("rax") SYS_MADVISE => _,
            in("rdi") addr,
            in("rsi") len,
            in("rdx") MADV_HUGEPAGE,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
}

/// Elsewhere there is no hint to give.
#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn madvise_hugepage(_addr: usize, _len: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_page_copy_holds_the_same_keys() {
        let src: Vec<u32> = (0..100_000u32)
            .map(|i| i.wrapping_mul(2_654_435_761))
            .collect();
        assert_eq!(huge_page_copy(&src).unwrap(), src);
        assert!(huge_page_copy::<u64>(&[]).unwrap().is_empty());
    }

    /// The kernel lists `hg` among the flags of a mapping advised `MADV_HUGEPAGE`, whatever
    /// the system's THP setting.
    #[cfg(all(target_os = "linux", target_arch = "x86_64"))]
    #[test]
    fn a_huge_page_copy_is_advised_for_huge_pages() {
        let copy = huge_page_copy(&vec![7u8; 4 * HUGE_PAGE]).unwrap();
        let inside = (copy.as_ptr() as usize).next_multiple_of(HUGE_PAGE);
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut in_mapping = false;
        let mut flags = None;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ')
                && let Some((start, end)) = range.split_once('-')
                && let (Ok(start), Ok(end)) = (
                    usize::from_str_radix(start, 16),
                    usize::from_str_radix(end, 16),
                )
            {
                in_mapping = (start..end).contains(&inside);
            } else if in_mapping && let Some(f) = line.strip_prefix("VmFlags:") {
                flags = Some(f.split_whitespace().map(str::to_string).collect::<Vec<_>>());
            }
        }
        let flags = flags.expect("the copy's mapping is listed");
        assert!(flags.iter().any(|f| f == "hg"), "{flags:?}");
    }
}
