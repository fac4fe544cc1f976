//! Environment compatibility: probe the software stack a run depends on, judge what was seen
//! against sortmark's needs and a data file of known incompatibilities, and say it as checks.

pub mod known_issues;
pub mod version;
