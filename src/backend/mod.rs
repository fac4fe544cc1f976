//! Backends: where cases run. Each turns a [`crate::plan::Case`] into measured samples and a
//! verification result; none of them formats output.

pub mod command;
pub mod cpu;
pub mod cuda;
