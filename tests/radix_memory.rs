//! The radix sort's memory estimate is an upper bound: a counting global allocator (this test
//! binary's own, so that it counts nothing else) records the peak bytes the sort holds beyond
//! its input, on fresh threads (whose workspaces count too), for several sizes, key types and
//! thread counts, and each peak is held against `CpuAlgorithm::Radix`'s scratch estimate.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use sortmark::backend::cpu::{radix, sort};
use sortmark::catalog::CpuAlgorithm;
use sortmark::data::{Distribution, KeyType, generate};
use sortmark::with_keys;

/// The system allocator, counting the bytes live and their peak.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed on to the system allocator unchanged; the counters are atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is the system allocator's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(live, Ordering::SeqCst);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

/// Peak bytes above what was live before, while `keys` are sorted on a fresh pool of
/// `threads` threads with no scratch kept from before.
fn peak_while_sorting(
    key_type: KeyType,
    distribution: Distribution,
    n: usize,
    threads: usize,
) -> usize {
    let mut input = generate(key_type, distribution, n, 7);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    radix::release_scratch();
    let before = LIVE.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    with_keys!(&mut input, keys => pool.install(|| sort(CpuAlgorithm::Radix, keys)));
    let peak = PEAK.load(Ordering::SeqCst) - before;
    radix::release_scratch();
    peak
}

#[test]
fn the_radix_sort_holds_no_more_than_its_estimate() {
    let mut over = Vec::new();
    for distribution in [Distribution::Uniform, Distribution::Skewed] {
        for key_type in [KeyType::U32, KeyType::F64] {
            for n in [1000usize, (1 << 17) + 3, 1 << 20, 3 << 20] {
                for threads in [1, 2, 4] {
                    let peak = peak_while_sorting(key_type, distribution, n, threads) as u64;
                    let estimate =
                        CpuAlgorithm::Radix.scratch_bytes(key_type, n as u64, threads as u32);
                    if peak > estimate {
                        over.push(format!(
                            "{distribution} {key_type} n={n} on {threads} threads: {peak} bytes, estimate {estimate}"
                        ));
                    }
                }
            }
        }
    }
    assert!(over.is_empty(), "peaks above the estimate: {over:#?}");
}
