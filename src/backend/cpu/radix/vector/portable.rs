//! The vector sort without AVX-512: off x86-64, and on x86-64 built with `--cfg sortmark_portable`
//! (which checks this path on x86 machines). [`super::sorts`] is then always false.

use super::{Order, PartitionLimits, Prefetch};

/// Never: there are no AVX-512 lanes here.
pub(super) fn available() -> bool {
    false
}

/// Never called, since [`available`] is false.
///
/// # Safety
/// None needed: it only panics.
pub(super) unsafe fn sort<I>(
    _: I,
    _: *mut u32,
    _: usize,
    _: bool,
    _: Order,
    _: PartitionLimits,
    _: &mut Prefetch,
) {
    unreachable!("`sorts` is false without AVX-512")
}
