//! Key types, input distributions and deterministic, seeded input generation.
//!
//! Every input is generated from the definition's seed and the case's own parameters with
//! ChaCha8 and integer (or exactly rounded IEEE) arithmetic only, so the same definition
//! produces the same bytes on every machine. The order of every key type is the order of its
//! [`SortKey::ordered_bits`]: plain integer order for unsigned keys, and IEEE 754 total order
//! for floats (`-NaN < -inf < … < -0.0 < +0.0 < … < +inf < +NaN`), the order of `total_cmp`.

use std::fmt;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rayon::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The element types a sweep can sort.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum KeyType {
    U32,
    U64,
    I32,
    I64,
    F32,
    F64,
    /// u32 keys each carrying a u32 value (the key's original index), sorted by key.
    #[serde(rename = "u32-u32")]
    U32U32,
}

impl KeyType {
    /// Every key type, in the order reports list them.
    pub const ALL: [KeyType; 7] = [
        KeyType::U32,
        KeyType::U64,
        KeyType::I32,
        KeyType::I64,
        KeyType::F32,
        KeyType::F64,
        KeyType::U32U32,
    ];

    /// The name used in definitions, results and reports.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::U32 => "u32",
            KeyType::U64 => "u64",
            KeyType::I32 => "i32",
            KeyType::I64 => "i64",
            KeyType::F32 => "f32",
            KeyType::F64 => "f64",
            KeyType::U32U32 => "u32-u32",
        }
    }

    /// Bytes one element occupies (key plus value for pairs).
    pub fn element_bytes(self) -> u64 {
        match self {
            KeyType::U32 | KeyType::I32 | KeyType::F32 => 4,
            KeyType::U64 | KeyType::I64 | KeyType::F64 | KeyType::U32U32 => 8,
        }
    }

    /// Whether the type is a floating-point type (the special-values distribution needs one).
    pub fn is_float(self) -> bool {
        matches!(self, KeyType::F32 | KeyType::F64)
    }

    /// Whether elements carry a value, so that stability is observable.
    pub fn has_values(self) -> bool {
        self == KeyType::U32U32
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How input keys are distributed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Distribution {
    /// Independent keys drawn uniformly (for floats: uniform in [-2^20, 2^20)).
    Uniform,
    /// Already in ascending order.
    Sorted,
    /// In descending order.
    Reverse,
    /// Sorted, then 1% of positions swapped with random partners.
    NearlySorted,
    /// Only 16 distinct values, uniformly chosen.
    FewUnique,
    /// Zipf-distributed ranks (s = 1 over 65,536 values), each rank a scrambled key.
    Skewed,
    /// Every key the same.
    AllEqual,
    /// Floats only: NaNs of both signs, ±0.0, ±inf, subnormals and ordinary values mixed.
    SpecialValues,
}

impl Distribution {
    /// Every distribution, in the order reports list them.
    pub const ALL: [Distribution; 8] = [
        Distribution::Uniform,
        Distribution::Sorted,
        Distribution::Reverse,
        Distribution::NearlySorted,
        Distribution::FewUnique,
        Distribution::Skewed,
        Distribution::AllEqual,
        Distribution::SpecialValues,
    ];

    /// The name used in definitions, results and reports.
    pub fn name(self) -> &'static str {
        match self {
            Distribution::Uniform => "uniform",
            Distribution::Sorted => "sorted",
            Distribution::Reverse => "reverse",
            Distribution::NearlySorted => "nearly-sorted",
            Distribution::FewUnique => "few-unique",
            Distribution::Skewed => "skewed",
            Distribution::AllEqual => "all-equal",
            Distribution::SpecialValues => "special-values",
        }
    }
}

impl fmt::Display for Distribution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A u32 key carrying a u32 value; ordered by key alone.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KeyValue {
    pub key: u32,
    pub value: u32,
}

/// A key type that sortmark can generate, sort, order and checksum.
pub trait SortKey: Copy + Send + Sync + fmt::Debug + 'static {
    /// The unsigned integer whose natural order is this type's sort order.
    type Bits: Copy + Ord + Send + Sync + Into<u64>;
    /// This type's name in [`KeyType`].
    const KEY_TYPE: KeyType;

    /// The order-preserving unsigned image of the key: `a < b` in sort order exactly when
    /// `a.ordered_bits() < b.ordered_bits()`.
    fn ordered_bits(self) -> Self::Bits;
    /// The inverse of [`SortKey::ordered_bits`] applied to a whole key (for pairs: the key,
    /// with the value 0). Used by generators that build keys from ordered positions.
    fn from_ordered_bits(bits: u64) -> Self;
    /// The 64 bits this element contributes to the order-independent checksum.
    fn checksum_bits(self) -> u64;
    /// The element's original index, for types that carry one (pairs); used to check stability.
    fn original_index(self) -> Option<u32> {
        None
    }
    /// Compare two elements in sort order.
    fn sort_cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.ordered_bits().cmp(&other.ordered_bits())
    }
}

macro_rules! integer_key {
    ($ty:ty, $bits:ty, $kt:expr, $flip:expr) => {
        impl SortKey for $ty {
            type Bits = $bits;
            const KEY_TYPE: KeyType = $kt;
            #[inline]
            fn ordered_bits(self) -> $bits {
                (self as $bits) ^ $flip
            }
            #[inline]
            fn from_ordered_bits(bits: u64) -> Self {
                ((bits as $bits) ^ $flip) as $ty
            }
            #[inline]
            fn checksum_bits(self) -> u64 {
                (self as $bits) as u64
            }
        }
    };
}

integer_key!(u32, u32, KeyType::U32, 0);
integer_key!(u64, u64, KeyType::U64, 0);
integer_key!(i32, u32, KeyType::I32, 1 << 31);
integer_key!(i64, u64, KeyType::I64, 1 << 63);

macro_rules! float_key {
    ($ty:ty, $bits:ty, $kt:expr) => {
        impl SortKey for $ty {
            type Bits = $bits;
            const KEY_TYPE: KeyType = $kt;
            #[inline]
            fn ordered_bits(self) -> $bits {
                // Negative floats: flip every bit (larger magnitude sorts first);
                // positive floats: set the sign bit (they sort after every negative).
                let bits = self.to_bits();
                let sign = bits >> (<$bits>::BITS - 1);
                bits ^ (sign.wrapping_neg() | (1 << (<$bits>::BITS - 1)))
            }
            #[inline]
            fn from_ordered_bits(bits: u64) -> Self {
                let bits = bits as $bits;
                let top = bits >> (<$bits>::BITS - 1);
                // top = 1: was positive, clear the sign bit; top = 0: was negative, flip all.
                let mask = (top.wrapping_sub(1)) | (1 << (<$bits>::BITS - 1));
                <$ty>::from_bits(bits ^ mask)
            }
            #[inline]
            fn checksum_bits(self) -> u64 {
                self.to_bits() as u64
            }
        }
    };
}

float_key!(f32, u32, KeyType::F32);
float_key!(f64, u64, KeyType::F64);

impl SortKey for KeyValue {
    type Bits = u32;
    const KEY_TYPE: KeyType = KeyType::U32U32;
    #[inline]
    fn ordered_bits(self) -> u32 {
        self.key
    }
    fn from_ordered_bits(bits: u64) -> Self {
        KeyValue {
            key: bits as u32,
            value: 0,
        }
    }
    #[inline]
    fn checksum_bits(self) -> u64 {
        (u64::from(self.key) << 32) | u64::from(self.value)
    }
    fn original_index(self) -> Option<u32> {
        Some(self.value)
    }
}

/// 64-bit FNV-1a: a stable, dependency-free hash of bytes for cache keys and per-case seeds
/// (std's hasher is not stable across releases; this is not for security).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The splitmix64 finaliser; the checksum of a multiset of elements is the wrapping sum of
/// `mix64(checksum_bits(e))`. The CUDA verification kernel computes the same function.
#[inline]
pub fn mix64(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The order-independent checksum of a slice: equal for any permutation of the same elements.
/// A wrapping sum is associative, so large slices are summed on every core with the same result.
pub fn checksum<K: SortKey + Sync>(keys: &[K]) -> u64 {
    let sum = |part: &[K]| {
        part.iter()
            .fold(0u64, |acc, k| acc.wrapping_add(mix64(k.checksum_bits())))
    };
    if keys.len() < PARALLEL_CHUNK {
        return sum(keys);
    }
    keys.par_chunks(PARALLEL_CHUNK)
        .map(sum)
        .reduce(|| 0, u64::wrapping_add)
}

/// A generated input: one vector of the case's key type.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyData {
    U32(Vec<u32>),
    U64(Vec<u64>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    U32U32(Vec<KeyValue>),
}

/// Calls `$body` with `$v` bound to the typed vector inside a [`KeyData`].
#[macro_export]
macro_rules! with_keys {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            $crate::data::KeyData::U32($v) => $body,
            $crate::data::KeyData::U64($v) => $body,
            $crate::data::KeyData::I32($v) => $body,
            $crate::data::KeyData::I64($v) => $body,
            $crate::data::KeyData::F32($v) => $body,
            $crate::data::KeyData::F64($v) => $body,
            $crate::data::KeyData::U32U32($v) => $body,
        }
    };
}

impl KeyData {
    /// The key type of the elements held.
    pub fn key_type(&self) -> KeyType {
        match self {
            KeyData::U32(_) => KeyType::U32,
            KeyData::U64(_) => KeyType::U64,
            KeyData::I32(_) => KeyType::I32,
            KeyData::I64(_) => KeyType::I64,
            KeyData::F32(_) => KeyType::F32,
            KeyData::F64(_) => KeyType::F64,
            KeyData::U32U32(_) => KeyType::U32U32,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        with_keys!(self, v => v.len())
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The order-independent checksum of the elements (see [`checksum`]).
    pub fn checksum(&self) -> u64 {
        with_keys!(self, v => checksum(v))
    }
}

/// A buffer of a case that could not be allocated: the case fails with this reason, where an
/// allocation by `Vec::with_capacity` would have aborted the whole run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("could not allocate {} for {what}: {reason}", crate::units::bytes(*.bytes))]
pub struct AllocFailure {
    /// What the buffer was for ("the input", "the radix sort's scratch").
    pub what: &'static str,
    /// The bytes asked for.
    pub bytes: u64,
    /// What the allocator said.
    pub reason: String,
}

/// An empty vector with room for `n` elements, or why there is none.
pub fn try_with_capacity<T>(n: usize, what: &'static str) -> Result<Vec<T>, AllocFailure> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|e| AllocFailure {
        what,
        bytes: (n as u64).saturating_mul(std::mem::size_of::<T>() as u64),
        reason: e.to_string(),
    })?;
    Ok(v)
}

/// Generates `n` elements of `key_type` with `distribution`, from `seed`.
///
/// The stream depends on the seed, the key type, the distribution and `n`, so changing one axis
/// of a sweep never changes another case's input. Panics when the memory cannot be had; a
/// backend calls [`try_generate`] instead.
pub fn generate(key_type: KeyType, distribution: Distribution, n: usize, seed: u64) -> KeyData {
    try_generate(key_type, distribution, n, seed).unwrap_or_else(|e| panic!("{e}"))
}

/// [`generate`], or why its buffer could not be allocated.
pub fn try_generate(
    key_type: KeyType,
    distribution: Distribution,
    n: usize,
    seed: u64,
) -> Result<KeyData, AllocFailure> {
    let stream =
        seed ^ mix64(((key_type as u64) << 56) ^ ((distribution as u64) << 48) ^ (n as u64));
    Ok(match key_type {
        KeyType::U32 => KeyData::U32(generate_typed(distribution, n, stream)?),
        KeyType::U64 => KeyData::U64(generate_typed(distribution, n, stream)?),
        KeyType::I32 => KeyData::I32(generate_typed(distribution, n, stream)?),
        KeyType::I64 => KeyData::I64(generate_typed(distribution, n, stream)?),
        KeyType::F32 => KeyData::F32(generate_typed(distribution, n, stream)?),
        KeyType::F64 => KeyData::F64(generate_typed(distribution, n, stream)?),
        KeyType::U32U32 => {
            let mut pairs: Vec<KeyValue> = generate_typed(distribution, n, stream)?;
            // The value is the original index, which makes stability checkable.
            pairs
                .par_iter_mut()
                .enumerate()
                .for_each(|(i, p)| p.value = i as u32);
            KeyData::U32U32(pairs)
        }
    })
}

/// Type-directed generation: the uniform key of each type and the shared shaping steps.
pub trait Generate: SortKey + Send + Sync {
    /// How many 32-bit words of the ChaCha stream [`Generate::uniform`] takes: always the
    /// same, so that a chunk of keys can start at its own place in the stream.
    const UNIFORM_WORDS: u64;
    /// One uniformly drawn key.
    fn uniform(rng: &mut ChaCha8Rng) -> Self;
    /// A key derived from a 64-bit hash, used for few-unique and skewed values.
    fn from_hash(h: u64) -> Self;
    /// The special-values mix (floats only; integers fall back to extreme values).
    fn special(rng: &mut ChaCha8Rng) -> Self;
}

macro_rules! generate_int {
    ($ty:ty) => {
        impl Generate for $ty {
            const UNIFORM_WORDS: u64 = 2;
            fn uniform(rng: &mut ChaCha8Rng) -> Self {
                rng.next_u64() as $ty
            }
            fn from_hash(h: u64) -> Self {
                h as $ty
            }
            fn special(rng: &mut ChaCha8Rng) -> Self {
                const EXTREMES: [$ty; 4] = [<$ty>::MIN, <$ty>::MAX, 0, 1];
                EXTREMES[(rng.next_u32() % 4) as usize]
            }
        }
    };
}

generate_int!(u32);
generate_int!(u64);
generate_int!(i32);
generate_int!(i64);

macro_rules! generate_float {
    ($ty:ty, $bits:ty, $mant:expr) => {
        impl Generate for $ty {
            const UNIFORM_WORDS: u64 = 2;
            fn uniform(rng: &mut ChaCha8Rng) -> Self {
                // A uniform integer in [-2^(m), 2^(m)) scaled by 2^-(m-20): exact, no rounding.
                let m = $mant;
                let raw = (rng.next_u64() >> (64 - (m + 1))) as i64 - (1i64 << m);
                (raw as $ty) * <$ty>::powi(2.0, 20 - m as i32)
            }
            fn from_hash(h: u64) -> Self {
                let raw = (h >> (64 - ($mant + 1))) as i64 - (1i64 << $mant);
                (raw as $ty) * <$ty>::powi(2.0, 20 - $mant as i32)
            }
            fn special(rng: &mut ChaCha8Rng) -> Self {
                let sign: $bits = 1 << (<$bits>::BITS - 1);
                let pick = rng.next_u32() % 10;
                match pick {
                    0 => <$ty>::NAN,
                    1 => <$ty>::from_bits(<$ty>::NAN.to_bits() | sign),
                    2 => 0.0,
                    3 => -0.0,
                    4 => <$ty>::INFINITY,
                    5 => <$ty>::NEG_INFINITY,
                    6 => <$ty>::from_bits(1 + (rng.next_u32() as $bits % 1000)),
                    7 => -<$ty>::from_bits(1 + (rng.next_u32() as $bits % 1000)),
                    _ => Self::uniform(rng),
                }
            }
        }
    };
}

generate_float!(f32, u32, 23);
generate_float!(f64, u64, 52);

impl Generate for KeyValue {
    const UNIFORM_WORDS: u64 = 1;
    fn uniform(rng: &mut ChaCha8Rng) -> Self {
        KeyValue {
            key: rng.next_u32(),
            value: 0,
        }
    }
    fn from_hash(h: u64) -> Self {
        KeyValue {
            key: h as u32,
            value: 0,
        }
    }
    fn special(rng: &mut ChaCha8Rng) -> Self {
        KeyValue {
            key: u32::special(rng),
            value: 0,
        }
    }
}

/// Number of distinct values in the few-unique distribution.
const FEW_UNIQUE_VALUES: u64 = 16;
/// Number of ranks in the skewed (Zipf) distribution.
const ZIPF_RANKS: usize = 1 << 16;

fn generate_typed<K: Generate>(
    distribution: Distribution,
    n: usize,
    stream: u64,
) -> Result<Vec<K>, AllocFailure> {
    // The one large buffer: reserved first, so that a case too large fails, not the run.
    let mut keys = try_with_capacity(n, "the input")?;
    match distribution {
        Distribution::Uniform => draw_keys(&mut keys, n, stream, K::UNIFORM_WORDS, K::uniform),
        Distribution::Sorted | Distribution::Reverse | Distribution::NearlySorted => {
            draw_keys(&mut keys, n, stream, K::UNIFORM_WORDS, K::uniform);
            keys.par_sort_unstable_by(K::sort_cmp);
            if distribution == Distribution::Reverse {
                keys.reverse();
            }
            if distribution == Distribution::NearlySorted && n > 1 {
                let mut rng = rng_at(stream, K::UNIFORM_WORDS * n as u64);
                for _ in 0..n.div_ceil(100) {
                    let a = (rng.next_u64() % n as u64) as usize;
                    let b = (rng.next_u64() % n as u64) as usize;
                    keys.swap(a, b);
                }
            }
        }
        Distribution::FewUnique => draw_keys(&mut keys, n, stream, 2, |rng| {
            K::from_hash(mix64(stream ^ (rng.next_u64() % FEW_UNIQUE_VALUES)))
        }),
        Distribution::Skewed => {
            let cdf = zipf_cdf();
            draw_keys(&mut keys, n, stream, 2, |rng| {
                // 53 random bits give an exactly representable uniform in [0, 1).
                let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * cdf[ZIPF_RANKS - 1];
                let rank = cdf.partition_point(|&c| c <= u);
                K::from_hash(mix64(stream ^ rank as u64))
            });
        }
        Distribution::AllEqual => keys.resize(n, K::from_hash(mix64(stream))),
        Distribution::SpecialValues => {
            // A special key takes one to three words: one generator, in order.
            let mut rng = rng_at(stream, 0);
            keys.extend((0..n).map(|_| K::special(&mut rng)));
        }
    }
    Ok(keys)
}

/// Keys drawn per task when an input is generated on every core.
const PARALLEL_CHUNK: usize = 1 << 16;

/// The generator of `stream`, `word` 32-bit words into its output.
fn rng_at(stream: u64, word: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(stream);
    rng.set_word_pos(u128::from(word));
    rng
}

/// Fills the empty `keys` (with room for `n`) with `n` keys from `draw`, which takes exactly
/// `words` words of the stream per key. The chunks are drawn on every core, each from a
/// generator set to the chunk's place in the stream, so the keys are those one generator would
/// draw in order: an input of 2^28 keys takes a fraction of a second, not seconds per round.
fn draw_keys<K: Send>(
    keys: &mut Vec<K>,
    n: usize,
    stream: u64,
    words: u64,
    draw: impl Fn(&mut ChaCha8Rng) -> K + Sync,
) {
    assert!(keys.is_empty() && keys.capacity() >= n);
    keys.spare_capacity_mut()[..n]
        .par_chunks_mut(PARALLEL_CHUNK)
        .enumerate()
        .for_each(|(chunk, slots)| {
            let mut rng = rng_at(stream, words * (chunk * PARALLEL_CHUNK) as u64);
            for slot in slots {
                slot.write(draw(&mut rng));
            }
        });
    // SAFETY: the loop above wrote each of the first `n` slots, and `K` needs no drop glue
    // beyond what a written value carries.
    unsafe { keys.set_len(n) };
}

/// Cumulative Zipf weights 1/1 + 1/2 + … + 1/k; summed in order, so identical everywhere.
fn zipf_cdf() -> Vec<f64> {
    let mut total = 0.0;
    (1..=ZIPF_RANKS)
        .map(|k| {
            total += 1.0 / k as f64;
            total
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_reference_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn float_order_is_total_order() {
        let values = [
            f64::from_bits(f64::NAN.to_bits() | 1 << 63),
            f64::NEG_INFINITY,
            -1.5,
            -f64::from_bits(1),
            -0.0,
            0.0,
            f64::from_bits(1),
            2.0,
            f64::INFINITY,
            f64::NAN,
        ];
        for w in values.windows(2) {
            assert!(
                w[0].ordered_bits() < w[1].ordered_bits(),
                "{:?} !< {:?}",
                w[0],
                w[1]
            );
            assert_eq!(w[0].total_cmp(&w[1]), w[0].sort_cmp(&w[1]));
        }
        for v in values {
            assert_eq!(
                f64::from_ordered_bits(v.ordered_bits()).to_bits(),
                v.to_bits()
            );
            let f = v as f32;
            assert_eq!(
                f32::from_ordered_bits(f.ordered_bits() as u64).to_bits(),
                f.to_bits()
            );
        }
    }

    #[test]
    fn signed_order_matches_integer_order() {
        let values = [i32::MIN, -7, -1, 0, 1, 9, i32::MAX];
        for w in values.windows(2) {
            assert!(w[0].ordered_bits() < w[1].ordered_bits());
        }
        assert_eq!(i64::from_ordered_bits((-5i64).ordered_bits()), -5);
    }

    fn bits(data: &KeyData) -> Vec<u64> {
        with_keys!(data, v => v.iter().map(|k| k.checksum_bits()).collect())
    }

    #[test]
    fn generation_is_deterministic_and_seed_dependent() {
        for kt in KeyType::ALL {
            for d in Distribution::ALL {
                let a = generate(kt, d, 1000, 42);
                assert_eq!(bits(&a), bits(&generate(kt, d, 1000, 42)), "{kt} {d}");
                assert_eq!(a.key_type(), kt);
                assert_eq!(a.len(), 1000);
            }
        }
        assert_ne!(
            generate(KeyType::U32, Distribution::Uniform, 100, 1),
            generate(KeyType::U32, Distribution::Uniform, 100, 2)
        );
    }

    /// What one generator drawing every key in order gives: the stream the chunked,
    /// parallel generation must reproduce.
    fn drawn_in_order<K: Generate>(d: Distribution, n: usize, stream: u64) -> Vec<K> {
        let mut rng = ChaCha8Rng::seed_from_u64(stream);
        let cdf = zipf_cdf();
        let mut keys: Vec<K> = (0..n)
            .map(|_| match d {
                Distribution::FewUnique => {
                    K::from_hash(mix64(stream ^ (rng.next_u64() % FEW_UNIQUE_VALUES)))
                }
                Distribution::Skewed => {
                    let u =
                        (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * cdf[ZIPF_RANKS - 1];
                    K::from_hash(mix64(stream ^ cdf.partition_point(|&c| c <= u) as u64))
                }
                _ => K::uniform(&mut rng),
            })
            .collect();
        if d == Distribution::NearlySorted {
            keys.sort_unstable_by(K::sort_cmp);
            for _ in 0..n.div_ceil(100) {
                let a = (rng.next_u64() % n as u64) as usize;
                let b = (rng.next_u64() % n as u64) as usize;
                keys.swap(a, b);
            }
        }
        keys
    }

    fn word_bits<K: SortKey>(keys: &[K]) -> Vec<u64> {
        keys.iter().map(|k| k.checksum_bits()).collect()
    }

    #[test]
    fn parallel_generation_draws_the_keys_one_generator_draws_in_order() {
        // Three chunks and a ragged tail, so that every chunk's start in the stream counts.
        let n = 3 * PARALLEL_CHUNK + 123;
        let shapes = [
            Distribution::Uniform,
            Distribution::FewUnique,
            Distribution::Skewed,
            Distribution::NearlySorted,
        ];
        for d in shapes {
            assert_drawn_in_order::<u32>(d, n, "u32");
            assert_drawn_in_order::<KeyValue>(d, n, "u32-u32");
            assert_drawn_in_order::<f64>(d, n, "f64");
        }
    }

    fn assert_drawn_in_order<K: Generate>(d: Distribution, n: usize, what: &str) {
        let got: Vec<K> = generate_typed(d, n, 9).unwrap();
        let (got, want) = (word_bits(&got), word_bits(&drawn_in_order::<K>(d, n, 9)));
        assert_eq!(got.len(), want.len());
        let first = got.iter().zip(&want).position(|(a, b)| a != b);
        assert_eq!(first, None, "{what} {d}: first difference");
    }

    #[test]
    fn parallel_checksum_is_the_sum_in_order() {
        let KeyData::U64(keys) = generate(KeyType::U64, Distribution::Uniform, 200_001, 3) else {
            unreachable!()
        };
        let in_order = keys
            .iter()
            .fold(0u64, |acc, k| acc.wrapping_add(mix64(k.checksum_bits())));
        assert_eq!(checksum(&keys), in_order);
        assert_ne!(
            checksum(&keys[1..]),
            in_order,
            "one key fewer changes the sum"
        );
    }

    const PINNED_U32: [u64; 4] = [3945945973, 1221215570, 1104952620, 590748985];
    const PINNED_F64: [u64; 3] = [
        13917450544029565462,
        13915544177623583452,
        4691472708154761256,
    ];

    #[test]
    fn generated_bytes_are_pinned() {
        // Pins the generator: a change here changes every published input.
        let u32s = generate(KeyType::U32, Distribution::Uniform, 4, 42);
        assert_eq!(bits(&u32s), PINNED_U32);
        let f64s = generate(KeyType::F64, Distribution::Skewed, 3, 42);
        assert_eq!(bits(&f64s), PINNED_F64);
    }

    #[test]
    fn distributions_have_their_shape() {
        let KeyData::U64(sorted) = generate(KeyType::U64, Distribution::Sorted, 500, 7) else {
            unreachable!()
        };
        assert!(sorted.is_sorted());
        let KeyData::U64(rev) = generate(KeyType::U64, Distribution::Reverse, 500, 7) else {
            unreachable!()
        };
        assert!(rev.windows(2).all(|w| w[0] >= w[1]));
        let KeyData::U32(few) = generate(KeyType::U32, Distribution::FewUnique, 5000, 7) else {
            unreachable!()
        };
        let distinct: std::collections::BTreeSet<_> = few.iter().collect();
        assert!(distinct.len() <= 16 && distinct.len() > 8);
        let KeyData::I32(eq) = generate(KeyType::I32, Distribution::AllEqual, 100, 7) else {
            unreachable!()
        };
        assert!(eq.iter().all(|&x| x == eq[0]));
        let KeyData::U32(skew) = generate(KeyType::U32, Distribution::Skewed, 20000, 7) else {
            unreachable!()
        };
        let mut counts = std::collections::HashMap::new();
        for k in &skew {
            *counts.entry(k).or_insert(0) += 1;
        }
        let top = counts.values().max().copied().unwrap_or(0);
        assert!(
            top > 20000 / 20,
            "the most frequent key should be common, got {top}"
        );
        let KeyData::F32(special) = generate(KeyType::F32, Distribution::SpecialValues, 2000, 7)
        else {
            unreachable!()
        };
        assert!(special.iter().any(|x| x.is_nan()));
        assert!(special.iter().any(|x| x.is_infinite()));
        assert!(special.iter().any(|x| *x == 0.0 && x.is_sign_negative()));
    }

    #[test]
    fn pairs_carry_their_index() {
        let KeyData::U32U32(p) = generate(KeyType::U32U32, Distribution::FewUnique, 100, 3) else {
            unreachable!()
        };
        assert!(p.iter().enumerate().all(|(i, kv)| kv.value == i as u32));
    }

    #[test]
    fn an_input_too_large_to_allocate_is_an_error_not_an_abort() {
        let err = try_generate(KeyType::U64, Distribution::Uniform, usize::MAX / 4, 1).unwrap_err();
        assert_eq!(err.what, "the input");
        assert!(
            err.to_string().starts_with("could not allocate ")
                && err.to_string().contains(" for the input: "),
            "{err}"
        );
        // The same seed still yields the pinned keys afterwards.
        assert_eq!(
            bits(&try_generate(KeyType::U32, Distribution::Uniform, 4, 42).unwrap()),
            PINNED_U32
        );
    }

    #[test]
    fn checksum_is_order_independent_and_content_sensitive() {
        let a = [3u32, 1, 2];
        assert_eq!(checksum(&a), checksum(&[1u32, 2, 3]));
        assert_ne!(checksum(&a), checksum(&[1u32, 2, 2]));
    }
}
