//! The vector sort off x86-64, where there is no AVX-512: [`super::sorts`] is always false.

use super::{Limits, Order, Prefetch};

pub(super) fn available() -> bool {
    false
}

pub(super) unsafe fn sort<I>(
    _: I,
    _: *mut u32,
    _: usize,
    _: bool,
    _: Order,
    _: Limits,
    _: &mut impl FnMut(),
) {
    unreachable!("`sorts` is false without AVX-512")
}
