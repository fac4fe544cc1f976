//! What a run records about its GPUs: the CUDA stack the CUDA backend found, and each GPU it
//! used. These are plain records, filled by the CUDA backend and read by the checks and reports.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What the CUDA backend knew at the start of a run, as results.json records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CudaRecord {
    /// The libraries found, when CUDA can run here.
    pub stack: Option<CudaStack>,
    /// Why CUDA cases cannot run here, when they cannot.
    pub unavailable: Option<String>,
}

/// The CUDA libraries found on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CudaStack {
    /// `cuDriverGetVersion`, e.g. 13000 for CUDA 13.0.
    pub driver_version: i32,
    /// `nvrtcVersion` (major, minor).
    pub nvrtc_version: (i32, i32),
    /// Number of CUDA devices the driver reports.
    pub device_count: usize,
    /// The driver API version sortmark's bindings target (`CUDARC_API` of the CUDA backend).
    pub cudarc_api: String,
}

/// Facts about one GPU, recorded with every report that used it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct GpuInfo {
    /// CUDA device ordinal.
    pub ordinal: usize,
    /// Marketing name, e.g. "NVIDIA H100 80GB HBM3".
    pub name: String,
    /// Compute capability (major, minor); the kernels are compiled for exactly this.
    pub compute_capability: (u32, u32),
    /// Streaming multiprocessors.
    pub sm_count: u32,
    /// Device memory in bytes.
    pub memory_total_bytes: u64,
    /// Device memory free when the device was opened.
    pub memory_free_bytes: u64,
    /// L2 cache in bytes.
    pub l2_bytes: u64,
    /// Peak SM clock in kHz, where the driver still reports it.
    pub clock_khz: Option<u32>,
    /// Peak memory clock in kHz, where the driver still reports it.
    pub memory_clock_khz: Option<u32>,
    /// Memory bus width in bits, where the driver reports it.
    pub memory_bus_width_bits: Option<u32>,
    /// PCI bus id, e.g. "0000:19:00.0".
    pub pci_bus_id: String,
    /// `cuDriverGetVersion`, e.g. 13000.
    pub driver_version: i32,
    /// The driver API version sortmark's bindings target.
    pub cuda_driver_api: String,
    /// `nvrtcVersion` (major, minor) that compiled the kernels.
    pub nvrtc_version: (i32, i32),
    /// Measured device-to-device copy bandwidth (bytes read plus written per second), once
    /// the CUDA backend has run.
    pub copy_bandwidth_bytes_per_s: Option<f64>,
}
