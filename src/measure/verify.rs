//! Output verification: in sort order, a permutation of the input, and stable where claimed.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::data::{SortKey, checksum};

/// What was checked about one sorted output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Verification {
    /// Every adjacent pair is in sort order.
    pub sorted: bool,
    /// The order-independent checksum equals the input's.
    pub permutation: bool,
    /// Equal keys kept their input order; `None` where stability is not claimed or not observable.
    pub stable: Option<bool>,
    /// The first index `i` with `out[i] > out[i + 1]`, if any.
    pub first_unsorted: Option<u64>,
}

impl Verification {
    /// An output found in order and a permutation of its input, stability not checked.
    pub fn sorted_permutation() -> Verification {
        Verification {
            sorted: true,
            permutation: true,
            stable: None,
            first_unsorted: None,
        }
    }

    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.sorted && self.permutation && self.stable != Some(false)
    }

    /// A sentence naming what failed, for the case's reason.
    pub fn failure(&self) -> Option<String> {
        let mut what = Vec::new();
        if !self.sorted {
            what.push(match self.first_unsorted {
                Some(i) => format!("not sorted (first out of order at index {i})"),
                None => "not sorted".to_string(),
            });
        }
        if !self.permutation {
            what.push("not a permutation of the input (checksum differs)".to_string());
        }
        if self.stable == Some(false) {
            what.push("not stable (equal keys changed their order)".to_string());
        }
        (!what.is_empty()).then(|| format!("output verification failed: {}", what.join("; ")))
    }
}

/// Verifies `output` against the input's checksum; checks stability when `claims_stable` and the
/// elements carry their original index.
pub fn verify<K: SortKey>(input_checksum: u64, output: &[K], claims_stable: bool) -> Verification {
    let first_unsorted = output
        .windows(2)
        .position(|w| w[0].ordered_bits() > w[1].ordered_bits())
        .map(|i| i as u64);
    let stable = (claims_stable && K::KEY_TYPE.has_values()).then(|| {
        output.windows(2).all(|w| {
            w[0].ordered_bits() != w[1].ordered_bits()
                || w[0].original_index() < w[1].original_index()
        })
    });
    Verification {
        sorted: first_unsorted.is_none(),
        permutation: checksum(output) == input_checksum,
        stable,
        first_unsorted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::KeyValue;

    #[test]
    fn accepts_a_correct_sort() {
        let input = [3u32, 1, 2];
        let v = verify(checksum(&input), &[1u32, 2, 3], false);
        assert!(v.passed(), "{v:?}");
        assert_eq!(v.failure(), None);
    }

    #[test]
    fn catches_disorder_loss_and_instability() {
        let input = [3u32, 1, 2];
        let unsorted = verify(checksum(&input), &[1u32, 3, 2], false);
        assert_eq!((unsorted.sorted, unsorted.first_unsorted), (false, Some(1)));
        let lost = verify(checksum(&input), &[1u32, 2, 2], false);
        assert!(lost.sorted && !lost.permutation);
        assert!(lost.failure().unwrap().contains("permutation"));

        let kv = |key, value| KeyValue { key, value };
        let input = [kv(5, 0), kv(1, 1), kv(5, 2)];
        let swapped = [kv(1, 1), kv(5, 2), kv(5, 0)];
        assert_eq!(verify(checksum(&input), &swapped, true).stable, Some(false));
        assert_eq!(verify(checksum(&input), &swapped, false).stable, None);
        assert!(verify(checksum(&input), &[kv(1, 1), kv(5, 0), kv(5, 2)], true).passed());
    }
}
