//! sortmark: turns a report definition (a TOML "notebook") into an executed, archived,
//! shareable report on sort performance.
//!
//! The flow runs one way: [`definition`] reads a definition, [`plan`] expands its sweeps into
//! cases, the [`runner`] hands each case to a [`backend`], which measures it with the
//! [`measure`] loop, [`env`] records the machine, and everything lands in a [`record::Run`]
//! that the [`record::archive`] saves as `results.json`; [`report`] renders it.

pub mod backend;
pub mod cache;
pub mod catalog;
pub mod compare;
pub mod data;
pub mod definition;
pub mod env;
pub mod export;
pub mod file_names;
pub mod history;
pub mod interrupt;
pub mod machines;
pub mod measure;
pub mod merge;
pub mod plan;
pub mod record;
pub mod report;
pub mod reproduce;
pub mod runner;
pub mod shard;
pub mod terminal;
pub mod units;
