//! The record of a run: the [`Run`] that `results.json` holds, and the [`archive`] of run
//! folders it is saved in, which reads every earlier version of the file through [`migrate`];
//! [`schema`] is the file's JSON Schema. Everything a report shows is read from here.

pub mod archive;
pub mod migrate;
mod noise;
mod run;
pub mod schema;
pub mod sources;

pub use noise::{Instability, WIDE_HALF_WIDTH};
#[cfg(test)]
pub(crate) use run::example_case;
pub use run::{CaseResult, CaseStatus, Run, SCHEMA_VERSION, speedup_interval};
