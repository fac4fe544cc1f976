//! Backends: where cases run. Each implements [`Backend`], turning a [`Case`] into an
//! [`Outcome`] (measured samples with their verification, or a skip or failure with its
//! reason); none of them builds a record or formats output.

pub mod command;
pub mod cpu;
pub mod cuda;

use crate::measure::Outcome;
use crate::plan::Case;

/// What every case of a run shares, handed to a backend with each case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseContext {
    /// The definition's seed: every input is generated from it, the same bytes everywhere.
    pub seed: u64,
}

/// A place where cases run: sortmark's CPU sorts, its CUDA kernels, or peer programs.
pub trait Backend {
    /// Measures one case. A backend may panic; the runner turns a panic into a failed case.
    fn run(&mut self, case: &Case, context: &CaseContext) -> Outcome;
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
