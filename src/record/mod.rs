//! The record of a run: the [`Run`] that `results.json` holds, and the [`archive`] of run
//! folders it is saved in, which reads every earlier version of the file through [`migrate`]
//! and the [`journal`] of the cases finished since `results.json` was last written whole;
//! [`schema`] is the file's JSON Schema. Everything a report shows is read from here.

pub mod anonymize;
pub mod archive;
pub mod journal;
pub mod migrate;
mod noise;
pub mod parts;
mod run;
pub mod schema;
pub mod sources;

pub use noise::{Instability, WIDE_HALF_WIDTH};
#[cfg(test)]
pub(crate) use run::example_case;
pub use run::{CaseResult, CaseStatus, Run, SCHEMA_VERSION, speedup_interval};
