//! The environment record: the machine's hardware and software as the run saw them, and the
//! compatibility checks made against it.

/// What `--anonymize` replaces, and the replacing.
pub mod anonymize;
mod check;
/// Compatibility checks: what the run needs, what was probed, and what it means.
pub mod compat;
/// The CUDA stack and GPU records a run keeps.
pub mod gpu;
mod host;
/// The memory this process may still take, under its cgroup and address-space limits.
pub mod limits;
/// What else the machine did while a case ran.
pub mod load;
/// Settings outside the definition that change results.
pub mod settings;
/// How a host's GPUs are linked.
pub mod topology;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use check::{Check, CheckStatus};
pub use compat::environment_checks;
pub use host::{CacheInfo, CpuInfo, MemoryInfo, OsInfo, memory};

/// Everything recorded about where a run ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Environment {
    /// The CPU the run saw.
    pub cpu: CpuInfo,
    /// Host memory at the start of the run.
    pub memory: MemoryInfo,
    /// The operating system and host name.
    pub os: OsInfo,
    /// How the sortmark binary was built.
    pub toolchain: Toolchain,
    /// The crate version of the sortmark binary.
    pub sortmark_version: String,
    /// The commit sortmark was built from, `unknown` without git.
    pub git_commit: String,
    /// Whether the build had uncommitted changes (`None`: unknown).
    pub git_dirty: Option<bool>,
    /// Whether identifying strings were replaced (`--anonymize`).
    pub anonymized: bool,
    /// Environment variables and kernel settings that change results.
    pub settings: settings::Settings,
    /// The CUDA driver and NVRTC as the CUDA backend found them (or why it could not run).
    pub cuda: Option<gpu::CudaRecord>,
    /// Every GPU a CUDA sweep used, with its measured copy bandwidth.
    pub gpus: Vec<gpu::GpuInfo>,
    /// How each pair of GPUs is linked, when a run used several.
    pub gpu_links: Vec<topology::GpuLink>,
    /// Why the links could not be read, when they could not.
    pub gpu_links_note: Option<String>,
}

/// How the sortmark binary was built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Toolchain {
    /// The `rustc --version` line of the compiler that built it.
    pub rustc: String,
    /// The target triple it was built for.
    pub target: String,
    /// `release` or `debug`: a debug build's figures are not worth publishing.
    pub profile: String,
}

impl Environment {
    /// Probes this machine. With `anonymize`, the host name and other identifying strings
    /// are replaced.
    pub fn probe(anonymize: bool) -> Environment {
        let mut env = Environment {
            cpu: host::cpu(),
            memory: host::memory(),
            os: host::os(),
            toolchain: Toolchain {
                rustc: env!("SORTMARK_RUSTC_VERSION").to_string(),
                target: env!("SORTMARK_TARGET").to_string(),
                profile: env!("SORTMARK_PROFILE").to_string(),
            },
            sortmark_version: env!("CARGO_PKG_VERSION").to_string(),
            git_commit: env!("SORTMARK_GIT_COMMIT").to_string(),
            git_dirty: match env!("SORTMARK_GIT_DIRTY") {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            anonymized: false,
            settings: settings::Settings::probe(),
            cuda: None,
            gpus: Vec::new(),
            gpu_links: Vec::new(),
            gpu_links_note: None,
        };
        if anonymize {
            env.anonymize();
        }
        env
    }

    /// Replaces identifying strings (the host name) with a placeholder.
    pub fn anonymize(&mut self) {
        self.os.hostname = "anonymized".to_string();
        self.anonymized = true;
    }

    /// A one-line summary: CPU, cores, memory, OS.
    pub fn one_line(&self) -> String {
        format!(
            "{} ({} logical / {} physical cores), {} RAM, {} {}",
            self.cpu.model,
            self.cpu.logical_cores,
            self.cpu
                .physical_cores
                .map_or("?".to_string(), |c| c.to_string()),
            crate::units::bytes(self.memory.total_bytes),
            self.os.name,
            self.os.version
        )
    }
}
