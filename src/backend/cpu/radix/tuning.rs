//! The thresholds that choose the sort's paths by input size (and the room for the regions of
//! an [`Ahead`](super::prefetch::Ahead) that they call for), and the choice between the
//! portable and the BMI2 builds of its loops.
//!
//! The thresholds are the associated constants of a [`Tuning`], a type parameter of the sort's
//! functions, so that each is a constant where it is read, at no cost at run time. Sortmark
//! sorts with [`Shipped`]; the tests also sort with [`Small`], whose thresholds let small
//! inputs take every path of the sort, and with [`Portable`], which is [`Small`] on the
//! portable build of the loops.

/// The thresholds of a build of the sort.
pub(super) trait Tuning {
    /// Buckets up to this length are finished by std's stable sort, which beats clearing and
    /// scanning the radix counters for so few keys.
    const BUCKET_SMALL: usize;
    /// An MSD split aims at buckets of about this many bytes. An LSD pass scatters a bucket
    /// into a buffer as large, so the smaller the bucket, the more of that buffer stays in L1;
    /// larger buckets save write-combining lines in the split and counter scans in the
    /// buckets, but cost the LSD passes more.
    const BUCKET_BYTES: usize;
    /// Buckets up to this many bytes are finished by an LSD sort in cache; larger ones are
    /// split by their top varying bits first.
    const LSD_BYTES: usize;
    /// Splits of more than this many bytes go through write-combining buffers.
    const WC_BYTES: usize;
    /// Splits of more than this many bytes write whole lines with non-temporal stores, on
    /// any number of threads (see [`streams`](super::scatter::streams)).
    const NT_BYTES: usize;
    /// The L2 cache of one core.
    const L2_BYTES: usize;
    /// Below this length the parallel sort runs the single-threaded one.
    const PAR_MIN: usize;
    /// Bytes of a block of the blocked split (see [`blocked`](super::blocked)).
    const BLOCK_BYTES: usize;
    /// The most room the threads' chains of blocks may take beyond the input, as a fraction
    /// of it (see [`blocked::par_sort`](super::blocked::par_sort)).
    const PAR_ROOM: (usize, usize);
    /// Whether the radix loops keep their portable build even where the CPU has BMI2 (see
    /// [`has_bmi2`]).
    const PORTABLE_LOOPS: bool = false;
}

/// The thresholds sortmark sorts with.
pub(super) struct Shipped;

impl Tuning for Shipped {
    const BUCKET_SMALL: usize = 256;
    /// 8K u32 keys, 4K u64 keys.
    const BUCKET_BYTES: usize = 1 << 15;
    const LSD_BYTES: usize = 1 << 20;
    const WC_BYTES: usize = 1 << 22;
    const NT_BYTES: usize = 1 << 25;
    /// 2 MiB.
    const L2_BYTES: usize = 1 << 21;
    const PAR_MIN: usize = 1 << 16;
    /// Two pages, read at streaming speed, and a quarter of the bucket a split aims at, so
    /// that part-filled blocks waste little.
    const BLOCK_BYTES: usize = 1 << 13;
    /// Five eighths, enough for two threads at 2^24 keys (a half, and a line per thread) and
    /// for eight at 2^26.
    const PAR_ROOM: (usize, usize) = (5, 8);
}

/// Small thresholds, so that small inputs take every path of the sort in tests.
#[cfg(test)]
pub(super) struct Small;

#[cfg(test)]
impl Tuning for Small {
    const BUCKET_SMALL: usize = 48;
    const BUCKET_BYTES: usize = 1 << 6;
    const LSD_BYTES: usize = 1 << 10;
    const WC_BYTES: usize = 1 << 12;
    const NT_BYTES: usize = 1 << 14;
    const L2_BYTES: usize = 1 << 13;
    const PAR_MIN: usize = 1 << 10;
    /// Tiny blocks, so that small inputs fill chains of many.
    const BLOCK_BYTES: usize = 1 << 7;
    /// Eight times the input: the blocks are large beside the buckets.
    const PAR_ROOM: (usize, usize) = (8, 1);
}

/// [`Small`] on the portable build of the loops, wherever the CPU has BMI2.
#[cfg(test)]
pub(super) struct Portable;

#[cfg(test)]
impl Tuning for Portable {
    const BUCKET_SMALL: usize = Small::BUCKET_SMALL;
    const BUCKET_BYTES: usize = Small::BUCKET_BYTES;
    const LSD_BYTES: usize = Small::LSD_BYTES;
    const WC_BYTES: usize = Small::WC_BYTES;
    const NT_BYTES: usize = Small::NT_BYTES;
    const L2_BYTES: usize = Small::L2_BYTES;
    const PAR_MIN: usize = Small::PAR_MIN;
    const BLOCK_BYTES: usize = Small::BLOCK_BYTES;
    const PAR_ROOM: (usize, usize) = Small::PAR_ROOM;
    const PORTABLE_LOOPS: bool = true;
}

/// The most regions an [`Ahead`](super::prefetch::Ahead) names: the destination, and the keys of a bucket in as many
/// chunks as a blocked split leaves a bucket small enough for the in-cache sort (its blocks,
/// the last one part-filled, and its last line).
pub(super) const AHEAD_REGIONS: usize = Shipped::LSD_BYTES / Shipped::BLOCK_BYTES + 3;

/// Checks that hold for every tuning: LSD counters of 32 bits hold the count of any bucket an
/// LSD sort takes, blocks are whole cache lines, and an [`Ahead`](super::prefetch::Ahead) has
/// room for every chunk of a bucket of the blocked split small enough for the in-cache sort.
const fn check<T: Tuning>() {
    assert!(T::LSD_BYTES <= u32::MAX as usize);
    assert!(T::BLOCK_BYTES.is_multiple_of(64));
    assert!(T::LSD_BYTES / T::BLOCK_BYTES + 3 <= AHEAD_REGIONS);
}
const _: () = check::<Shipped>();
#[cfg(test)]
const _: () = check::<Small>();

/// Whether the radix loops run in their BMI2 build: where the CPU has BMI2, unless the tuning
/// keeps the portable one. A radix pass takes each key's digit by a shift whose count is known
/// only at run time, which plain x86-64 code must route through the `cl` register: three
/// instructions where BMI2's `shrx` takes one, in loops of about a dozen per key, and these
/// loops are where a sort's time goes. Each loop is an `#[inline(always)]` body and a function
/// that calls it either directly or through a `#[target_feature(enable = "bmi2")]` twin with
/// the same parameters (which, being the twin's own, let the compiler keep what the loop reads
/// through them in registers).
///
/// The portable build (off x86-64, or with `--cfg sortmark_portable`) has no BMI2 twins, and
/// only the tests ask.
#[cfg_attr(any(not(target_arch = "x86_64"), sortmark_portable), allow(dead_code))]
#[inline]
pub(super) fn has_bmi2<T: Tuning>() -> bool {
    if T::PORTABLE_LOOPS {
        return false;
    }
    #[cfg(all(target_arch = "x86_64", not(sortmark_portable)))]
    return std::arch::is_x86_feature_detected!("bmi2");
    #[cfg(any(not(target_arch = "x86_64"), sortmark_portable))]
    false
}
