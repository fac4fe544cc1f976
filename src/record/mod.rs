//! The record of a run: the [`Run`] that `results.json` holds, and the [`archive`] of run
//! folders it is saved in. Everything a report shows is read from here.

pub mod archive;
mod noise;
mod run;
pub mod sources;

pub use noise::{Instability, WIDE_HALF_WIDTH};
#[cfg(test)]
pub(crate) use run::example_case;
pub use run::{CaseResult, CaseStatus, Run, SCHEMA_VERSION};
