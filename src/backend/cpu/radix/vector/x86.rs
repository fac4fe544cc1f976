//! The vector sort's lanes on x86-64: AVX-512, sixteen u32 in a `zmm` register.

use std::arch::x86_64::*;

use super::{Lanes, Order, PartitionLimits, Prefetch, first, sort_lanes};

/// Whether this CPU has the instructions [`sort`] uses.
pub(super) fn available() -> bool {
    is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("popcnt")
}

/// [`sort_lanes`] on AVX-512, with its whole algorithm compiled for it.
///
/// # Safety
/// As for [`sort_lanes`]; the CPU has AVX-512 ([`available`]).
#[target_feature(enable = "avx512f,popcnt")]
pub(super) unsafe fn sort<I>(
    sources: I,
    out: *mut u32,
    n: usize,
    in_place: bool,
    order: Order,
    limits: PartitionLimits,
    prefetch: &mut Prefetch,
) where
    I: Iterator<Item = (*const u32, usize)> + Clone,
{
    // One copy of the sort for each order, so that the mapping of keys to their order,
    // and back, is a constant in each.
    unsafe {
        match order {
            Order::Unsigned => sort_lanes::<Avx512, I>(
                sources,
                out,
                n,
                in_place,
                Order::Unsigned,
                limits,
                prefetch,
            ),
            Order::Signed => {
                sort_lanes::<Avx512, I>(sources, out, n, in_place, Order::Signed, limits, prefetch)
            }
            Order::Float => {
                sort_lanes::<Avx512, I>(sources, out, n, in_place, Order::Float, limits, prefetch)
            }
        }
    }
}

/// Sixteen u32 lanes in a `zmm` register. Its operations are only ever inlined into
/// [`sort`], whose target features make them single instructions.
#[derive(Clone, Copy)]
pub(super) struct Avx512(__m512i);

// SAFETY (every block below): the intrinsics need AVX-512F, which `sort`, the only
// function these are inlined into, enables.
impl Lanes for Avx512 {
    #[inline(always)]
    fn splat(x: u32) -> Self {
        Avx512(unsafe { _mm512_set1_epi32(x as i32) })
    }
    #[inline(always)]
    fn from_array(lanes: &[u32; 16]) -> Self {
        Avx512(unsafe { _mm512_loadu_epi32(lanes.as_ptr().cast()) })
    }
    #[inline(always)]
    fn to_array(self) -> [u32; 16] {
        let mut lanes = [0u32; 16];
        unsafe { _mm512_storeu_epi32(lanes.as_mut_ptr().cast(), self.0) };
        lanes
    }
    #[inline(always)]
    unsafe fn load(src: *const u32, count: usize, fill: u32) -> Self {
        unsafe {
            if count >= 16 {
                Avx512(_mm512_loadu_epi32(src.cast()))
            } else {
                let fill = _mm512_set1_epi32(fill as i32);
                Avx512(_mm512_mask_loadu_epi32(fill, first(count), src.cast()))
            }
        }
    }
    #[inline(always)]
    unsafe fn store(self, dst: *mut u32, count: usize) {
        unsafe { _mm512_mask_storeu_epi32(dst.cast(), first(count), self.0) }
    }
    #[inline(always)]
    fn min(self, other: Self) -> Self {
        Avx512(unsafe { _mm512_min_epu32(self.0, other.0) })
    }
    #[inline(always)]
    fn max(self, other: Self) -> Self {
        Avx512(unsafe { _mm512_max_epu32(self.0, other.0) })
    }
    #[inline(always)]
    fn min_max(self, other: Self, max_lanes: u16) -> Self {
        unsafe {
            let low = _mm512_min_epu32(self.0, other.0);
            Avx512(_mm512_mask_max_epu32(low, max_lanes, self.0, other.0))
        }
    }
    #[inline(always)]
    fn permute(self, index: Self) -> Self {
        Avx512(unsafe { _mm512_permutexvar_epi32(index.0, self.0) })
    }
    #[inline(always)]
    fn permute2(self, index: Self, other: Self) -> Self {
        Avx512(unsafe { _mm512_permutex2var_epi32(self.0, index.0, other.0) })
    }
    #[inline(always)]
    fn at_most(self, pivot: Self) -> u16 {
        unsafe { _mm512_cmple_epu32_mask(self.0, pivot.0) }
    }
    #[inline(always)]
    fn compress(self, lanes: u16) -> Self {
        Avx512(unsafe { _mm512_maskz_compress_epi32(lanes, self.0) })
    }
    #[inline(always)]
    fn xor(self, other: Self) -> Self {
        Avx512(unsafe { _mm512_xor_si512(self.0, other.0) })
    }
    #[inline(always)]
    fn or(self, other: Self) -> Self {
        Avx512(unsafe { _mm512_or_si512(self.0, other.0) })
    }
    #[inline(always)]
    fn sign_fill(self) -> Self {
        Avx512(unsafe { _mm512_srai_epi32::<31>(self.0) })
    }
}
