//! What sortmark can run: backend kinds, algorithm names and their properties, and how much
//! memory a case needs. Every layer may ask the catalog; it asks nothing of them, so that
//! definitions, plans and reports know what exists without importing the code that runs it.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::data::KeyType;

/// Where a sweep's cases run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum BackendKind {
    /// sortmark's CPU sorts (std, rayon, radix).
    Cpu,
    /// sortmark's CUDA kernels, compiled at run time by NVRTC.
    Cuda,
    /// An external peer program run per case (for example a CuPy script).
    Command,
}

impl BackendKind {
    /// The name used in definitions and results.
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::Cpu => "cpu",
            BackendKind::Cuda => "cuda",
            BackendKind::Command => "command",
        }
    }

    /// The algorithm names this backend knows; `None` for peers, whose names are labels.
    pub fn algorithm_names(self) -> Option<&'static [&'static str]> {
        match self {
            BackendKind::Cpu => Some(&CpuAlgorithm::NAMES),
            BackendKind::Cuda => Some(&GpuAlgorithm::NAMES),
            BackendKind::Command => None,
        }
    }
}

/// A CPU sort algorithm sortmark can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CpuAlgorithm {
    /// `slice::sort_by`: stable, one thread.
    StdStable,
    /// `slice::sort_unstable_by`: one thread.
    StdUnstable,
    /// rayon's `par_sort_by`: stable, parallel.
    RayonStable,
    /// rayon's `par_sort_unstable_by`: parallel.
    RayonUnstable,
    /// sortmark's LSD/MSD radix sort (the CPU backend's `radix` module): stable, parallel.
    Radix,
}

impl CpuAlgorithm {
    /// Every CPU algorithm.
    pub const ALL: [CpuAlgorithm; 5] = [
        CpuAlgorithm::StdStable,
        CpuAlgorithm::StdUnstable,
        CpuAlgorithm::RayonStable,
        CpuAlgorithm::RayonUnstable,
        CpuAlgorithm::Radix,
    ];

    /// The names definitions use, in the order of [`CpuAlgorithm::ALL`] (the array length
    /// makes a missing name a compile error).
    pub const NAMES: [&'static str; 5] = [
        "std-stable",
        "std-unstable",
        "rayon-stable",
        "rayon-unstable",
        "radix",
    ];

    /// The name definitions use.
    pub fn name(self) -> &'static str {
        Self::NAMES[Self::ALL.iter().position(|&a| a == self).unwrap_or(0)]
    }

    /// Looks an algorithm up by its definition name.
    pub fn from_name(name: &str) -> Option<CpuAlgorithm> {
        Self::NAMES
            .iter()
            .position(|&n| n == name)
            .map(|i| Self::ALL[i])
    }

    /// Whether equal keys keep their input order (checked for key/value pairs).
    pub fn is_stable(self) -> bool {
        matches!(
            self,
            CpuAlgorithm::StdStable | CpuAlgorithm::RayonStable | CpuAlgorithm::Radix
        )
    }

    /// Whether the algorithm uses more than one thread when its pool has them.
    pub fn is_parallel(self) -> bool {
        matches!(
            self,
            CpuAlgorithm::RayonStable | CpuAlgorithm::RayonUnstable | CpuAlgorithm::Radix
        )
    }

    /// Extra memory the algorithm allocates while sorting `n` keys on `threads` threads: an
    /// upper bound (the radix sort's is checked against counted allocations in
    /// tests/radix_memory.rs).
    pub fn scratch_bytes(self, key: KeyType, n: u64, threads: u32) -> u64 {
        let input = n.saturating_mul(key.element_bytes());
        match self {
            CpuAlgorithm::StdStable | CpuAlgorithm::RayonStable => input,
            // The kept scratch as long as the keys, the blocked split's room beyond them (at
            // most 5/8 of them) and the buffers of buckets sorted apart from it: twice the
            // keys; and each thread's in-cache workspace.
            CpuAlgorithm::Radix => input
                .next_multiple_of(8)
                .saturating_mul(2)
                .saturating_add(u64::from(threads.max(1)) * RADIX_THREAD_WORKSPACE_BYTES),
            CpuAlgorithm::StdUnstable | CpuAlgorithm::RayonUnstable => 0,
        }
    }
}

/// What each thread of the radix sort keeps for its in-cache sorts: one histogram of 2^11
/// 32-bit counters per pass (8 passes), and room for a bucket of up to 1 MiB of keys (the
/// radix module's tests check these against its constants).
pub const RADIX_THREAD_WORKSPACE_BYTES: u64 = 8 * (1 << 11) * 4 + (1 << 20);

/// The GPU sort algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GpuAlgorithm {
    /// LSD radix sort, 8-bit digits, Onesweep design with decoupled look-back. Stable.
    Radix,
    /// Bitonic sorting network over a power-of-two padded buffer. Not stable.
    Bitonic,
}

impl GpuAlgorithm {
    /// Every algorithm, in the order reports list them.
    pub const ALL: [GpuAlgorithm; 2] = [GpuAlgorithm::Radix, GpuAlgorithm::Bitonic];

    /// The names definitions use, in the order of [`GpuAlgorithm::ALL`].
    pub const NAMES: [&'static str; 2] = ["radix", "bitonic"];

    /// The name used in definitions, results and reports.
    pub fn name(self) -> &'static str {
        match self {
            GpuAlgorithm::Radix => Self::NAMES[0],
            GpuAlgorithm::Bitonic => Self::NAMES[1],
        }
    }

    /// Whether equal keys keep their input order.
    pub fn stable(self) -> bool {
        match self {
            GpuAlgorithm::Radix => true,
            GpuAlgorithm::Bitonic => false,
        }
    }
}

impl fmt::Display for GpuAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for GpuAlgorithm {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        GpuAlgorithm::ALL
            .into_iter()
            .find(|a| a.name() == s)
            .ok_or_else(|| format!("unknown GPU algorithm {s:?} (known: radix, bitonic)"))
    }
}

/// Host memory a case needs on `threads` threads: the pristine input, the working copy, and
/// scratch.
pub fn host_bytes_needed(
    backend: BackendKind,
    algorithm: &str,
    key: KeyType,
    n: u64,
    threads: u32,
) -> u64 {
    let input = n.saturating_mul(key.element_bytes());
    match backend {
        BackendKind::Cpu => {
            let scratch = CpuAlgorithm::from_name(algorithm)
                .map_or(input, |a| a.scratch_bytes(key, n, threads));
            input.saturating_mul(2).saturating_add(scratch)
        }
        // The input and the sorted result copied back for checking.
        BackendKind::Cuda => input.saturating_mul(2),
        // The input sortmark generates and writes for the peer (which holds its own copies).
        BackendKind::Command => input,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_names_round_trip() {
        for a in CpuAlgorithm::ALL {
            assert_eq!(CpuAlgorithm::from_name(a.name()), Some(a));
        }
        assert_eq!(CpuAlgorithm::from_name("bogo"), None);
    }

    #[test]
    fn gpu_names_round_trip() {
        for a in GpuAlgorithm::ALL {
            assert_eq!(a.name().parse::<GpuAlgorithm>(), Ok(a));
        }
        assert!("bogo".parse::<GpuAlgorithm>().is_err());
    }

    #[test]
    fn a_cpu_case_needs_its_input_twice_and_its_scratch() {
        let n = 1 << 20;
        let radix = host_bytes_needed(BackendKind::Cpu, "radix", KeyType::U32, n, 2);
        let unstable = host_bytes_needed(BackendKind::Cpu, "std-unstable", KeyType::U32, n, 2);
        let stable = host_bytes_needed(BackendKind::Cpu, "std-stable", KeyType::U32, n, 1);
        assert_eq!(radix, 4 * 4 * n + 2 * RADIX_THREAD_WORKSPACE_BYTES);
        assert_eq!(unstable, 2 * 4 * n);
        assert_eq!(stable, 3 * 4 * n);
        assert_eq!(
            host_bytes_needed(BackendKind::Command, "x", KeyType::U64, n, 1),
            8 * n
        );
    }
}
