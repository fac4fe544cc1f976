//! The thresholds that choose the sort's paths by input size, and the choice between the
//! portable and the BMI2 builds of its loops.

/// Buckets up to this length are finished by std's stable sort, which beats clearing and
/// scanning the radix counters for so few keys.
#[cfg(not(test))]
pub(super) const BUCKET_SMALL: usize = 256;
/// An MSD split aims at buckets of about this many bytes (8K u32 keys, 4K u64 keys). An LSD
/// pass scatters a bucket into a buffer as large, so the smaller the bucket, the more of
/// that buffer stays in L1 (48 KiB on the 16-core Xeon); buckets of twice this size made
/// one-thread sorts about 10 % slower there for u32 and u64 keys (floats within the noise),
/// even though fewer buckets save write-combining lines in the split and counter scans in
/// the buckets.
#[cfg(not(test))]
pub(super) const BUCKET_BYTES: usize = 1 << 15;
/// Buckets up to this many bytes are finished by an LSD sort in cache; larger ones are split
/// by their top varying bits first.
#[cfg(not(test))]
pub(super) const LSD_BYTES: usize = 1 << 20;
/// Splits of more than this many bytes go through write-combining buffers.
#[cfg(not(test))]
pub(super) const WC_BYTES: usize = 1 << 22;
/// Splits of more than this many bytes write whole lines with non-temporal stores, on any
/// number of threads (see [`streams`]).
#[cfg(not(test))]
pub(super) const NT_BYTES: usize = 1 << 25;
/// The L2 cache of one core of the 16-core device and of the 2-core Xeon: 2 MiB.
#[cfg(not(test))]
pub(super) const L2_BYTES: usize = 1 << 21;
/// Below this length the parallel sort runs the single-threaded one.
#[cfg(not(test))]
pub(super) const PAR_MIN: usize = 1 << 16;

// Tests use small thresholds so that small inputs take every path.
#[cfg(test)]
pub(super) const BUCKET_SMALL: usize = 48;
#[cfg(test)]
pub(super) const BUCKET_BYTES: usize = 1 << 6;
#[cfg(test)]
pub(super) const LSD_BYTES: usize = 1 << 10;
#[cfg(test)]
pub(super) const WC_BYTES: usize = 1 << 12;
#[cfg(test)]
pub(super) const NT_BYTES: usize = 1 << 14;
#[cfg(test)]
pub(super) const L2_BYTES: usize = 1 << 13;
#[cfg(test)]
pub(super) const PAR_MIN: usize = 1 << 10;

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
pub(super) fn has_bmi2() -> bool {
    #[cfg(test)]
    if super::test_support::PORTABLE_LOOPS.get() {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    return std::arch::is_x86_feature_detected!("bmi2");
    #[cfg(not(target_arch = "x86_64"))]
    false
}
