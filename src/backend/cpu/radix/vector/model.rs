//! A plain-array model of the sixteen lanes for the vector sort's tests, and the helpers that
//! run the sort on it and on AVX-512.

use std::array;

use super::simd;
use super::{DEPTH_LIMIT, Lanes, Order, PartitionLimits, sort_lanes};
use crate::backend::cpu::radix::prefetch::{Ahead, Prefetch};
use crate::backend::cpu::radix::test_support::lcg;
use crate::data::SortKey;

/// The lanes as a plain array, each operation written out as the AVX-512 manual defines
/// its instruction: the sort's logic, checked on every machine.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Model(pub(super) [u32; 16]);

impl Model {
    fn map(self, other: Self, f: impl Fn(u32, u32) -> u32) -> Self {
        Model(array::from_fn(|i| f(self.0[i], other.0[i])))
    }
}

impl Lanes for Model {
    fn splat(x: u32) -> Self {
        Model([x; 16])
    }
    fn from_array(lanes: &[u32; 16]) -> Self {
        Model(*lanes)
    }
    fn to_array(self) -> [u32; 16] {
        self.0
    }
    unsafe fn load(src: *const u32, count: usize, fill: u32) -> Self {
        Model(array::from_fn(|i| {
            if i < count {
                unsafe { src.add(i).read() }
            } else {
                fill
            }
        }))
    }
    unsafe fn store(self, dst: *mut u32, count: usize) {
        for (i, &lane) in self.0.iter().enumerate().take(count) {
            unsafe { dst.add(i).write(lane) };
        }
    }
    fn min(self, other: Self) -> Self {
        self.map(other, u32::min)
    }
    fn max(self, other: Self) -> Self {
        self.map(other, u32::max)
    }
    fn min_max(self, other: Self, max_lanes: u16) -> Self {
        Model(array::from_fn(|i| {
            let (a, b) = (self.0[i], other.0[i]);
            if max_lanes >> i & 1 == 1 {
                a.max(b)
            } else {
                a.min(b)
            }
        }))
    }
    fn permute(self, index: Self) -> Self {
        Model(array::from_fn(|i| self.0[index.0[i] as usize % 16]))
    }
    fn permute2(self, index: Self, other: Self) -> Self {
        Model(array::from_fn(|i| {
            let lane = index.0[i] as usize % 32;
            if lane < 16 {
                self.0[lane]
            } else {
                other.0[lane - 16]
            }
        }))
    }
    fn at_most(self, pivot: Self) -> u16 {
        (0..16)
            .filter(|&i| self.0[i] <= pivot.0[i])
            .map(|i| 1 << i)
            .sum()
    }
    fn compress(self, lanes: u16) -> Self {
        let mut packed = [0; 16];
        let kept = (0..16).filter(|&i| lanes >> i & 1 == 1).map(|i| self.0[i]);
        for (slot, lane) in packed.iter_mut().zip(kept) {
            *slot = lane;
        }
        Model(packed)
    }
    fn xor(self, other: Self) -> Self {
        self.map(other, |a, b| a ^ b)
    }
    fn or(self, other: Self) -> Self {
        self.map(other, |a, b| a | b)
    }
    fn sign_fill(self) -> Self {
        Model(self.0.map(|a| ((a as i32) >> 31) as u32))
    }
}

/// The lanes a sort in a test runs on.
#[derive(Clone, Copy)]
enum On {
    Model,
    Avx512,
}

/// Runs `check` with the model lanes, and with AVX-512 where this CPU has it, each sorting
/// from the chunks into the output and (the chunks first copied there) in place.
pub(super) fn on_every_lanes(
    check: impl Fn(&dyn Fn(&[&[u32]], &mut [u32], Order, PartitionLimits)),
) {
    let mut lanes = vec![On::Model];
    if simd::available() {
        lanes.push(On::Avx512);
    } else {
        #[expect(
            clippy::disallowed_macros,
            reason = "a test's note for `--nocapture`, sortmark's own words"
        )]
        {
            eprintln!("no AVX-512 on this CPU: the sort ran on the model lanes only");
        }
    }
    for on in lanes {
        for in_place in [false, true] {
            check(&|chunks, out, order, limits| {
                sort_with(on, chunks, out, in_place, order, limits)
            });
        }
    }
}

/// The sort on lanes `on`, from `chunks` into `out` or, the chunks first copied into
/// `out`, in place, within `limits`.
fn sort_with(
    on: On,
    chunks: &[&[u32]],
    out: &mut [u32],
    in_place: bool,
    order: Order,
    limits: PartitionLimits,
) {
    let (sources, n) = sources(chunks, out, in_place);
    let out = out.as_mut_ptr();
    let prefetch = &mut Prefetch::spread(Ahead::NONE, 1);
    unsafe {
        match on {
            On::Model => sort_lanes::<Model, _>(sources, out, n, in_place, order, limits, prefetch),
            On::Avx512 => simd::sort(sources, out, n, in_place, order, limits, prefetch),
        }
    }
}

/// The chunks to sort into `out` and their length; to sort in place, `out` itself, the
/// chunks copied into it.
pub(super) fn sources(
    chunks: &[&[u32]],
    out: &mut [u32],
    in_place: bool,
) -> (std::vec::IntoIter<(*const u32, usize)>, usize) {
    let n = out.len();
    let listed: Vec<(*const u32, usize)> = if in_place {
        out.copy_from_slice(&chunks.concat());
        vec![(out.as_ptr(), n)]
    } else {
        chunks.iter().map(|c| (c.as_ptr(), c.len())).collect()
    };
    (listed.into_iter(), n)
}

/// The ordered bits of `key` in `order`, as [`SortKey::ordered_bits`] gives them.
pub(super) fn ordered(key: u32, order: Order) -> u32 {
    match order {
        Order::Unsigned => key,
        Order::Signed => (key as i32).ordered_bits(),
        Order::Float => f32::from_bits(key).ordered_bits(),
    }
}

/// `keys` sorted by their ordered bits in `order`, with std's sort.
pub(super) fn reference(keys: &[u32], order: Order) -> Vec<u32> {
    let mut sorted = keys.to_vec();
    sorted.sort_by_key(|&k| ordered(k, order));
    sorted
}

/// Inputs of many lengths and shapes, the awkward ones included.
pub(super) fn inputs() -> Vec<Vec<u32>> {
    let mut all = Vec::new();
    for n in (0..=70).chain([100, 129, 500, 1000, 4097, 20_000]) {
        let random: Vec<u32> = lcg(n, n as u64 + 1).iter().map(|&x| x as u32).collect();
        all.push(random.clone());
        all.push(random.iter().map(|x| x % 3).collect());
        all.push(random.iter().map(|x| x % 2 * u32::MAX).collect());
        all.push(vec![7; n]);
        all.push((0..n as u32).collect());
        all.push((0..n as u32).rev().collect());
        all.push(random.iter().map(|x| x >> 20 << 20).collect());
    }
    all
}

/// Each leaf size, with pivots of three keys and of sixteen.
pub(super) fn every_partition_limits() -> Vec<PartitionLimits> {
    [(64, 0), (128, 0), (32, 1000), (64, 200)]
        .map(|(leaf, cheap_pivot)| PartitionLimits {
            depth: DEPTH_LIMIT,
            leaf,
            cheap_pivot,
        })
        .to_vec()
}

/// Splits `keys` into uneven chunks, empty ones among them.
pub(super) fn chunked(keys: &[u32]) -> Vec<&[u32]> {
    let mut chunks = Vec::new();
    let mut rest = keys;
    for size in [0, 1, 17, 0, 100, 33].iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (chunk, later) = rest.split_at(rest.len().min(*size));
        chunks.push(chunk);
        rest = later;
    }
    chunks
}
