//! What sortmark can run: backend kinds, algorithm names and their properties, and how much
//! memory a case needs. Every layer may ask the catalog; it asks nothing of them, so that
//! definitions, plans and reports know what exists without importing the code that runs it.

use serde::{Deserialize, Serialize};

/// Where a sweep's cases run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
            BackendKind::Cpu => Some(&crate::backend::cpu::CpuAlgorithm::NAMES),
            BackendKind::Cuda => Some(&["radix", "bitonic"]),
            BackendKind::Command => None,
        }
    }
}
