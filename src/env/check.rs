//! Compatibility checks: what sortmark saw in the software stack, and what it means.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a check came out.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    /// Fine.
    Ok,
    /// Worth knowing; not a problem.
    Info,
    /// Measurements may be skewed or something may break.
    Warn,
    /// Known broken; some cases cannot run or the figures are not trustworthy.
    Fail,
}

impl CheckStatus {
    /// The lowercase name used in results and reports.
    pub fn name(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Info => "info",
            CheckStatus::Warn => "warn",
            CheckStatus::Fail => "fail",
        }
    }
}

/// One compatibility check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Check {
    /// A stable identifier, e.g. `build.profile`.
    pub id: String,
    /// What was checked, e.g. `sortmark`, `NVIDIA driver`, `CuPy`.
    pub component: String,
    /// How it came out.
    pub status: CheckStatus,
    /// One line a reader sees first.
    pub summary: String,
    /// What was observed.
    pub detail: String,
    /// What to do about it, when there is something to do.
    pub remedy: Option<String>,
}
