//! Backends: where cases run. Each turns a [`crate::plan::Case`] into measured samples and a
//! verification result; none of them formats output.

pub mod command;
pub mod cpu;
pub mod cuda;

use crate::catalog::BackendKind;
use crate::data::KeyType;

/// Host memory a case needs: the pristine input, the working copy, and scratch.
pub fn host_bytes_needed(backend: BackendKind, algorithm: &str, key: KeyType, n: u64) -> u64 {
    let input = n.saturating_mul(key.element_bytes());
    match backend {
        BackendKind::Cpu => {
            let scratch =
                cpu::CpuAlgorithm::from_name(algorithm).map_or(input, |a| a.scratch_bytes(key, n));
            input.saturating_mul(2).saturating_add(scratch)
        }
        // The input and the sorted result copied back for checking.
        BackendKind::Cuda => input.saturating_mul(2),
        // The input sortmark generates and writes for the peer (which holds its own copies).
        BackendKind::Command => input,
    }
}

/// The message a caught panic carried, for the case or check it ends.
pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}
