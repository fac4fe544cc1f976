//! What a run records of the cluster it ran on: the part of a plan a run measured
//! ([`ShardRecord`], `sortmark run --shard`), and the parts a merged run was joined from
//! ([`Part`], `sortmark merge`), each with its machine.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::definition::Overrides;
use crate::env::Environment;
use crate::record::sources::sha256_hex;
use crate::shard::Shard;

/// The part of its definition's plan a run measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShardRecord {
    /// Which part, numbered from 0, of how many.
    pub shard: Shard,
    /// [`definition_hash`] of the definition that was split: parts join only when it agrees.
    pub definition_sha256: String,
    /// The machine the part ran on ([`machine_label`]).
    pub machine: String,
    /// Cases in the whole plan, all parts together.
    pub plan_cases: usize,
}

/// One part a merged run was joined from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Part {
    /// The part's own run id.
    pub run_id: String,
    /// Which part of how many.
    pub shard: Shard,
    /// The machine it ran on ([`machine_label`]); its cases carry the same label.
    pub machine: String,
    /// When the part started and finished, RFC 3339 UTC.
    pub started_at: String,
    /// When the part finished.
    pub finished_at: Option<String>,
    /// The part's command line.
    pub command_line: Vec<String>,
    /// How many cases the part measured.
    pub cases: usize,
    /// The machine and software the part saw.
    pub environment: Environment,
}

/// The identity of what a definition plans: SHA-256 over its exact text and the `--only` and
/// `--set` it was run with, so that parts of one definition run with other settings never
/// join.
pub fn definition_hash(text: &str, overrides: &Overrides) -> String {
    let settings = serde_json::to_string(overrides).unwrap_or_default();
    sha256_hex(format!("{text}\n--\n{settings}").as_bytes())
}

/// A short name for the machine of an environment: its host name, or (anonymized) its CPU
/// model and first GPU.
pub fn machine_label(environment: &Environment) -> String {
    if !environment.anonymized && !environment.os.hostname.is_empty() {
        return environment.os.hostname.clone();
    }
    let mut label = environment.cpu.model.clone();
    if let Some(gpu) = environment.gpus.first() {
        label.push_str(&format!(" + {}", gpu.name));
    }
    label
}
