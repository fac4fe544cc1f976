//! Protocol 2: the peer writes its sorted result into the `{output}` file sortmark names, in
//! the input file's format (raw little-endian elements; a u32-u32 pair is its key, then its
//! value), and sortmark verifies it itself: in order, the same multiset as the input (by its
//! checksum) and, for pairs of a peer that claims a stable sort, stable. A peer's own word on
//! its output is then only a note: a peer that prints `verified: true` over an unsorted output
//! fails its case.
//!
//! Floats are checked in the libraries' order, not only sortmark's IEEE 754 total order: the
//! numbers ascending with -0.0 and +0.0 equal, every NaN at one end. A library that rewrites
//! NaNs' sign or payload still holds the input's values; that is noted, not failed.

use std::path::Path;

use crate::data::{KeyData, KeyType, KeyValue, SortKey, checksum};
use crate::measure::Verification;

/// Reads the output file at `path`, which must hold `input.len()` elements of the input's
/// type, and verifies it against `input`. `Err` when the file cannot be read or has the wrong
/// size; otherwise the verification and the notes it calls for.
pub fn verify_file(
    path: &Path,
    input: &KeyData,
    claims_stable: bool,
) -> Result<(Verification, Vec<String>), String> {
    let key = input.key_type();
    let expected = (input.len() as u64).saturating_mul(key.element_bytes());
    let size = std::fs::metadata(path)
        .map_err(|e| format!("could not read the peer's output {}: {e}", path.display()))?
        .len();
    if size != expected {
        return Err(format!(
            "the peer's output holds {size} bytes, expected {expected} ({} {key} elements); \
             a protocol 2 peer writes its sorted keys to {{output}}",
            input.len()
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| format!("could not read the peer's output {}: {e}", path.display()))?;
    Ok(verify_bytes(&bytes, input, claims_stable))
}

/// Verifies the raw elements `bytes` (of the input's type and length) against `input`.
fn verify_bytes(bytes: &[u8], input: &KeyData, claims_stable: bool) -> (Verification, Vec<String>) {
    let sum = input.checksum();
    match input.key_type() {
        KeyType::U32 => plain(sum, &decode(bytes, u32::from_le_bytes)),
        KeyType::U64 => plain(sum, &decode(bytes, u64::from_le_bytes)),
        KeyType::I32 => plain(sum, &decode(bytes, i32::from_le_bytes)),
        KeyType::I64 => plain(sum, &decode(bytes, i64::from_le_bytes)),
        KeyType::F32 => floats(input, &decode(bytes, f32::from_le_bytes)),
        KeyType::F64 => floats(input, &decode(bytes, f64::from_le_bytes)),
        KeyType::U32U32 => {
            let pairs = decode(bytes, |b: [u8; 8]| KeyValue {
                key: u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
                value: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
            });
            (
                crate::measure::verify::verify(sum, &pairs, claims_stable),
                Vec::new(),
            )
        }
    }
}

/// The elements of `bytes`, each `N` little-endian bytes.
fn decode<const N: usize, T>(bytes: &[u8], from: impl Fn([u8; N]) -> T) -> Vec<T> {
    bytes
        .chunks_exact(N)
        .map(|c| from(c.try_into().expect("chunks_exact gives N bytes")))
        .collect()
}

/// Integers: in order and a permutation.
fn plain<K: SortKey>(input_checksum: u64, output: &[K]) -> (Verification, Vec<String>) {
    (
        crate::measure::verify::verify(input_checksum, output, false),
        Vec::new(),
    )
}

/// A float type as the libraries order it.
trait LibraryFloat: SortKey + PartialOrd {
    fn is_nan(self) -> bool;
    fn is_sign_negative(self) -> bool;
    /// The value with every NaN made the one canonical NaN, for the checksum of values.
    fn canonical(self) -> Self;
}

impl LibraryFloat for f32 {
    fn is_nan(self) -> bool {
        f32::is_nan(self)
    }
    fn is_sign_negative(self) -> bool {
        f32::is_sign_negative(self)
    }
    fn canonical(self) -> Self {
        if self.is_nan() { f32::NAN } else { self }
    }
}

impl LibraryFloat for f64 {
    fn is_nan(self) -> bool {
        f64::is_nan(self)
    }
    fn is_sign_negative(self) -> bool {
        f64::is_sign_negative(self)
    }
    fn canonical(self) -> Self {
        if self.is_nan() { f64::NAN } else { self }
    }
}

/// Floats: in the libraries' order, and the input's bits or at least its values.
fn floats<F: LibraryFloat>(input: &KeyData, output: &[F]) -> (Verification, Vec<String>) {
    let first_unsorted = first_out_of_library_order(output);
    let mut notes = Vec::new();
    let exact = checksum(output) == input.checksum();
    let permutation = exact || {
        let canonical: Vec<F> = output.iter().map(|x| x.canonical()).collect();
        let same_values = checksum(&canonical) == canonical_checksum(input);
        if same_values {
            notes.push(
                "the library rewrote NaNs' sign and payload bits (it treats every NaN as one \
                 value): the output is a permutation of the input's values, not of its bytes"
                    .to_string(),
            );
        }
        same_values
    };
    if first_unsorted.is_none() && output.windows(2).any(|w| w[0].sort_cmp(&w[1]).is_gt()) {
        notes.push(
            "the output is in the library's own float order, not IEEE 754 total order \
             (sortmark's): NaNs and ±0.0 are placed differently; this is not a failure"
                .to_string(),
        );
    }
    let verification = Verification {
        sorted: first_unsorted.is_none(),
        permutation,
        stable: None,
        first_unsorted,
    };
    (verification, notes)
}

/// The checksum of the input's values with every NaN made canonical.
fn canonical_checksum(input: &KeyData) -> u64 {
    match input {
        KeyData::F32(v) => checksum(&v.iter().map(|x| x.canonical()).collect::<Vec<_>>()),
        KeyData::F64(v) => checksum(&v.iter().map(|x| x.canonical()).collect::<Vec<_>>()),
        other => other.checksum(),
    }
}

/// The first index `i` where `out[i]` and `out[i + 1]` are out of the libraries' float order:
/// the NaNs all at the start or all at the end (NumPy, CuPy), or split by sign with the negative
/// ones first and the positive ones last (CUB, which orders floats by their bits), and the
/// numbers between ascending with -0.0 and +0.0 equal.
fn first_out_of_library_order<F: LibraryFloat>(out: &[F]) -> Option<u64> {
    let leading = out.iter().take_while(|x| x.is_nan()).count();
    let trailing = out[leading..]
        .iter()
        .rev()
        .take_while(|x| x.is_nan())
        .count();
    let numbers = &out[leading..out.len() - trailing];
    if leading > 0 && trailing > 0 {
        let by_sign = out[..leading].iter().all(|x| x.is_sign_negative())
            && out[out.len() - trailing..]
                .iter()
                .all(|x| !x.is_sign_negative());
        if !by_sign {
            return Some(leading as u64 - 1);
        }
    }
    if let Some(nan) = numbers.iter().position(|x| x.is_nan()) {
        return Some((leading + nan).saturating_sub(1) as u64);
    }
    numbers
        .windows(2)
        .position(|w| w[0] > w[1])
        .map(|i| (leading + i) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes_of<T: Copy, const N: usize>(keys: &[T], to: impl Fn(T) -> [u8; N]) -> Vec<u8> {
        keys.iter().flat_map(|&k| to(k)).collect()
    }

    #[test]
    fn a_sorted_permutation_passes_and_a_lie_fails() {
        let input = KeyData::U32(vec![3, 1, 2, 2]);
        let good = bytes_of(&[1u32, 2, 2, 3], u32::to_le_bytes);
        assert!(verify_bytes(&good, &input, false).0.passed());
        let unsorted = bytes_of(&[3u32, 1, 2, 2], u32::to_le_bytes);
        let v = verify_bytes(&unsorted, &input, false).0;
        assert_eq!((v.sorted, v.first_unsorted), (false, Some(0)));
        let other = bytes_of(&[1u32, 2, 3, 3], u32::to_le_bytes);
        assert!(!verify_bytes(&other, &input, false).0.permutation);
    }

    #[test]
    fn floats_pass_in_the_libraries_order_with_nans_at_either_end() {
        let input = KeyData::F64(vec![f64::NAN, 1.0, -0.0, 0.0, -2.0]);
        for out in [
            [-2.0, 0.0, -0.0, 1.0, f64::NAN],
            [f64::NAN, -2.0, -0.0, 0.0, 1.0],
        ] {
            let (v, _) = verify_bytes(&bytes_of(&out, f64::to_le_bytes), &input, false);
            assert!(v.passed(), "{out:?}: {v:?}");
        }
        let nan_inside = [-2.0, f64::NAN, -0.0, 0.0, 1.0];
        let (v, _) = verify_bytes(&bytes_of(&nan_inside, f64::to_le_bytes), &input, false);
        assert!(!v.sorted);
    }

    #[test]
    fn nans_at_both_ends_pass_only_when_split_by_sign() {
        let negative_nan = -f64::NAN;
        let input = KeyData::F64(vec![f64::NAN, 1.0, negative_nan, -2.0]);
        // CUB orders floats by their bits: -NaN first, +NaN last.
        let by_bits = [negative_nan, -2.0, 1.0, f64::NAN];
        let (v, _) = verify_bytes(&bytes_of(&by_bits, f64::to_le_bytes), &input, false);
        assert!(v.passed(), "{v:?}");
        let wrong_way = [f64::NAN, -2.0, 1.0, negative_nan];
        let (v, _) = verify_bytes(&bytes_of(&wrong_way, f64::to_le_bytes), &input, false);
        assert!(!v.sorted, "+NaN first and -NaN last is no library's order");
    }

    #[test]
    fn a_rewritten_nan_is_a_note_and_a_lost_one_a_failure() {
        let odd_nan = f32::from_bits(0xffc0_0001);
        let input = KeyData::F32(vec![odd_nan, 1.0]);
        let (v, notes) = verify_bytes(&bytes_of(&[1.0, f32::NAN], f32::to_le_bytes), &input, false);
        assert!(v.passed(), "{v:?}");
        assert!(
            notes.iter().any(|n| n.contains("rewrote NaNs")),
            "{notes:?}"
        );
        let (v, _) = verify_bytes(&bytes_of(&[1.0, 1.0], f32::to_le_bytes), &input, false);
        assert!(!v.permutation);
    }

    #[test]
    fn pairs_are_checked_for_stability_when_it_is_claimed() {
        let kv = |key, value| KeyValue { key, value };
        let input = KeyData::U32U32(vec![kv(5, 0), kv(1, 1), kv(5, 2)]);
        let swapped = bytes_of(&[kv(1, 1), kv(5, 2), kv(5, 0)], |p| {
            let mut b = [0u8; 8];
            b[..4].copy_from_slice(&p.key.to_le_bytes());
            b[4..].copy_from_slice(&p.value.to_le_bytes());
            b
        });
        assert_eq!(verify_bytes(&swapped, &input, true).0.stable, Some(false));
        assert!(verify_bytes(&swapped, &input, false).0.passed());
    }

    #[test]
    fn an_output_of_the_wrong_size_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        std::fs::write(&path, [0u8; 7]).unwrap();
        let e = verify_file(&path, &KeyData::U32(vec![1, 2]), false).unwrap_err();
        assert!(e.contains("holds 7 bytes, expected 8"), "{e}");
    }
}
