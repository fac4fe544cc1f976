//! sortmark: turns a report definition (a TOML "notebook") into an executed, archived,
//! shareable report on sort performance.
//!
//! The flow runs one way: [`config`] reads a definition, [`plan`] expands its sweeps into
//! cases, a [`backend`] measures each case with the [`measure`] loop, [`env`] records the
//! machine, and everything lands in a [`run::Run`] that [`archive`] saves as `results.json`.

pub mod archive;
pub mod backend;
pub mod config;
pub mod data;
pub mod env;
pub mod interrupt;
pub mod measure;
pub mod plan;
pub mod report;
pub mod run;
pub mod runner;
pub mod units;
