//! sortmark's integration tests: one test binary, one module per topic.

#[cfg(unix)]
mod anonymize;
mod cli;
#[cfg(unix)]
mod cluster;
#[cfg(unix)]
mod command;
#[cfg(unix)]
mod compare;
#[cfg(unix)]
mod compat;
mod cuda_gpu;
mod escaping;
#[cfg(unix)]
mod machines;
mod memory;
mod names;
mod overrides;
mod reliability;
mod report;
#[cfg(unix)]
mod reproduce;
mod results_format;
mod shell;
mod support;
