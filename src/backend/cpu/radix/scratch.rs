//! The scratch buffer kept between sorts, and each thread's workspace for the in-cache sorts.

use std::any::TypeId;
use std::cell::RefCell;
use std::mem::{size_of, size_of_val};
use std::sync::{Mutex, PoisonError, TryLockError};

use rayon::prelude::*;

use super::count::LsdCounts;
use super::plan::{MAX_BUCKETS, MAX_PASSES};
use crate::backend::cpu::pages::advise_huge_pages;
use crate::data::{AllocFailure, KeyValue, SortKey, try_with_capacity};

/// The scratch buffer kept between sorts (see the module doc): 64-bit words, every one of them
/// written when the buffer was made, so that its pages are resident.
static SCRATCH: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// Frees the scratch buffer that the sorts keep between calls. Sorts running at the time keep
/// theirs until they finish; the next sort makes a new one.
pub fn release_scratch() {
    let old = std::mem::take(&mut *SCRATCH.lock().unwrap_or_else(PoisonError::into_inner));
    drop(old);
}

/// Makes the kept scratch buffer large enough for `n` keys of type `K` now (on the current
/// pool, pre-faulted), so that a sort of `n` keys that follows finds it, or says why it could
/// not be allocated: a case too large for the memory it may take fails, not the run.
pub fn reserve_scratch<K: SortKey>(n: usize) -> Result<(), AllocFailure> {
    let words = words_for::<K>(n);
    let mut kept = SCRATCH.lock().unwrap_or_else(PoisonError::into_inner);
    if is_plain::<K>() && kept.len() < words {
        // Free the old buffer before making the larger one: one buffer at a time.
        *kept = Vec::new();
        *kept = resident_vec(words, true, || 0u64)?;
    }
    Ok(())
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
pub(super) fn with_scratch<K: SortKey, R>(
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
        return f(&mut resident_vec(n, parallel, || fill).unwrap_or_else(|e| panic!("{e}")));
    };
    if buf.len() < words {
        // Free the old buffer before making the larger one: one buffer at a time. sortmark's
        // cases reserve it first (`reserve_scratch`), so only other callers can panic here.
        *buf = Vec::new();
        *buf = resident_vec(words, parallel, || 0u64).unwrap_or_else(|e| panic!("{e}"));
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
pub(super) fn with_lsd_work<K: SortKey, R>(
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
/// parallel on the current pool when `parallel`) so that its pages are faulted in; or why it
/// could not be allocated.
fn resident_vec<T: Copy + Send + Sync>(
    n: usize,
    parallel: bool,
    fill: impl Fn() -> T,
) -> Result<Vec<T>, AllocFailure> {
    let mut v = try_with_capacity(n, "the radix sort's scratch")?;
    advise_huge_pages(&v);
    if parallel {
        v.par_extend(rayon::iter::repeat_n(fill(), n));
    } else {
        v.resize(n, fill());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{check, check_stable, lcg};
    use super::*;
    use crate::data::KeyValue;

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
    fn a_scratch_too_large_to_allocate_is_an_error_and_keeps_nothing() {
        let err = reserve_scratch::<u64>(usize::MAX / 16).unwrap_err();
        assert_eq!(err.what, "the radix sort's scratch");
        assert!(err.to_string().starts_with("could not allocate "), "{err}");
        // The next sort still gets a buffer.
        check(&lcg(1_000, 5));
    }

    #[test]
    fn the_catalog_counts_each_threads_workspace() {
        use super::super::tuning::{Shipped, Tuning};
        let counts = MAX_PASSES * size_of::<LsdCounts>();
        assert_eq!(
            crate::catalog::RADIX_THREAD_WORKSPACE_BYTES,
            (counts + Shipped::LSD_BYTES) as u64
        );
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
}
