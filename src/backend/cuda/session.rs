//! A run's use of the GPUs: the CUDA stack probed once, each GPU the plan names opened once
//! (its copy bandwidth measured then), and CUDA cases run on them.
//!
//! A case whose sort returns an error may leave its context unusable (a kernel fault poisons
//! the whole context), so that GPU is closed and opened afresh for the next case.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use super::{GpuAlgorithm, GpuDevice, Unavailable, availability};
use crate::backend::{Backend, CaseContext};
use crate::data::try_generate;
use crate::env::compat::{CudaDevice, CudaFacts, DriverFacts, NvrtcFacts, cuda_version_string};
use crate::env::gpu::{CudaRecord, CudaStack, GpuInfo};
use crate::measure::{Measurement, Outcome, Transfers, Verification};
use crate::plan::Case;

/// The lowest compute capability the kernels need: warp `_sync` intrinsics under Volta's
/// independent thread scheduling, which the decoupled look-back's spinning relies on.
pub const MIN_COMPUTE_CAPABILITY: (u32, u32) = (7, 0);

/// The GPUs of one run.
pub struct GpuSession {
    stack: Result<CudaStack, Unavailable>,
    devices: HashMap<u32, GpuDevice>,
    /// Facts of every GPU opened, kept when a device is closed after an error.
    facts: BTreeMap<u32, GpuInfo>,
    /// Why a GPU could not be opened, so each of its cases says so without retrying.
    open_errors: HashMap<u32, String>,
    cache_dir: PathBuf,
}

impl GpuSession {
    /// Probes the CUDA stack (never panics; without a driver every CUDA case is a skip).
    pub fn probe() -> GpuSession {
        GpuSession {
            stack: availability(),
            devices: HashMap::new(),
            facts: BTreeMap::new(),
            open_errors: HashMap::new(),
            cache_dir: kernel_cache_dir(),
        }
    }

    /// How many GPUs the driver reports (`None`: CUDA is unavailable).
    pub fn device_count(&self) -> Option<usize> {
        self.stack.as_ref().ok().map(|s| s.device_count)
    }

    /// The stack as results.json records it.
    pub fn record(&self) -> CudaRecord {
        CudaRecord {
            stack: self.stack.as_ref().ok().cloned(),
            unavailable: self.stack.as_ref().err().map(ToString::to_string),
        }
    }

    /// Opens each of `ordinals` that exists and measures its copy bandwidth once.
    pub fn prepare(&mut self, ordinals: &[u32]) {
        for &ordinal in ordinals {
            let _ = self.device(ordinal);
        }
    }

    /// Facts of every GPU opened, by ordinal.
    pub fn gpu_facts(&self) -> Vec<GpuInfo> {
        self.facts.values().cloned().collect()
    }

    /// The facts the compatibility checks need.
    pub fn compat_facts(&self) -> CudaFacts {
        let (driver, nvrtc) = match &self.stack {
            Ok(stack) => (
                Ok(DriverFacts {
                    cuda_version: Some(cuda_version_string(stack.driver_version)),
                }),
                Ok(NvrtcFacts {
                    version: format!("{}.{}", stack.nvrtc_version.0, stack.nvrtc_version.1),
                    supported_archs: super::compile::supported_archs(),
                }),
            ),
            Err(Unavailable::NoNvrtc) => (
                Ok(DriverFacts { cuda_version: None }),
                Err(Unavailable::NoNvrtc.to_string()),
            ),
            Err(e) => (Err(e.to_string()), nvrtc_alone()),
        };
        CudaFacts {
            driver,
            nvrtc,
            cudarc_api: super::CUDARC_API.to_string(),
            compiles_to_cubin: true,
            min_compute_capability: MIN_COMPUTE_CAPABILITY,
            devices: self
                .facts
                .values()
                .map(|f| CudaDevice {
                    ordinal: f.ordinal as u32,
                    name: f.name.clone(),
                    compute_capability: f.compute_capability,
                })
                .collect(),
        }
    }

    /// The open device `ordinal`, opening it (and measuring its bandwidth) on first use.
    fn device(&mut self, ordinal: u32) -> Result<&mut GpuDevice, String> {
        let stack = self.stack.as_ref().map_err(ToString::to_string)?;
        if ordinal as usize >= stack.device_count {
            return Err(format!(
                "there is no GPU {ordinal}: the driver reports {} GPU(s)",
                stack.device_count
            ));
        }
        if let Some(why) = self.open_errors.get(&ordinal) {
            return Err(why.clone());
        }
        if !self.devices.contains_key(&ordinal) {
            match GpuDevice::open(ordinal as usize, &self.cache_dir) {
                Ok(mut device) => {
                    if let Err(e) = device.measure_copy_bandwidth() {
                        crate::terminal::err_line(&format!(
                            "warning: could not measure GPU {ordinal}'s copy bandwidth: {e}"
                        ));
                    }
                    // A reopened device keeps the bandwidth measured the first time.
                    let facts = self
                        .facts
                        .entry(ordinal)
                        .or_insert_with(|| device.facts().clone());
                    facts.memory_free_bytes = device.facts().memory_free_bytes;
                    self.devices.insert(ordinal, device);
                }
                Err(e) => {
                    let why = format!("GPU {ordinal} could not be opened: {e}");
                    self.open_errors.insert(ordinal, why.clone());
                    return Err(why);
                }
            }
        }
        self.devices
            .get_mut(&ordinal)
            .ok_or_else(|| format!("GPU {ordinal} is not open"))
    }
}

impl Backend for GpuSession {
    /// Runs one CUDA case: skipped without CUDA, without the GPU or without the memory it
    /// needs; failed on a GPU error (and the GPU reopened for the next case).
    fn run(&mut self, case: &Case, context: &CaseContext) -> Outcome {
        let algorithm: GpuAlgorithm = match case.algorithm.parse() {
            Ok(a) => a,
            Err(e) => return Outcome::failed(e),
        };
        let ordinal = case.device.unwrap_or(0);
        let device = match self.device(ordinal) {
            Ok(d) => d,
            Err(why) => return Outcome::skipped(why),
        };
        let needed = GpuDevice::bytes_needed(algorithm, case.key_type, case.n as usize);
        match device.memory_free_bytes() {
            Ok(free) if needed > free => {
                return Outcome::skipped(format!(
                    "needs {} of GPU memory, {} free on GPU {ordinal}",
                    crate::units::bytes(needed),
                    crate::units::bytes(free)
                ));
            }
            _ => {}
        }
        let copy_bandwidth = device.facts().copy_bandwidth_bytes_per_s.or_else(|| {
            self.facts
                .get(&ordinal)
                .and_then(|f| f.copy_bandwidth_bytes_per_s)
        });
        let input = match try_generate(
            case.key_type,
            case.distribution,
            case.n as usize,
            context.seed,
        ) {
            Ok(input) => input,
            Err(failure) => return Outcome::failed(failure.to_string()),
        };
        let Some(device) = self.devices.get_mut(&ordinal) else {
            return Outcome::failed("the GPU closed");
        };
        match device.sort(algorithm, &input, &case.measure) {
            Ok(sorted) => Outcome::Measured(Measurement {
                samples_s: sorted.samples_s,
                rounds_s: Vec::new(),
                timing: "CUDA events around one launch of the sort, captured once per case as a CUDA graph"
                    .to_string(),
                verification: Some(Verification {
                    sorted: sorted.sorted,
                    permutation: sorted.checksum_matches,
                    stable: sorted.stable,
                    first_unsorted: None,
                }),
                transfers: Some(Transfers {
                    h2d_s: sorted.h2d_s,
                    d2h_s: sorted.d2h_s,
                }),
                bytes_moved: Some(sorted.bytes_moved),
                copy_bandwidth_bytes_per_s: copy_bandwidth,
                failure: None,
                notes: Vec::new(),
                program_wall_s: Vec::new(),
            }),
            Err(e) => {
                // The context may be poisoned: the next case on this GPU gets a fresh one.
                self.devices.remove(&ordinal);
                Outcome::failed(format!("GPU error: {e}"))
            }
        }
    }
}

/// NVRTC's version without a working driver (it needs none), or why it is missing.
fn nvrtc_alone() -> Result<NvrtcFacts, String> {
    // SAFETY: only tries to open the shared library by name.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(Unavailable::NoNvrtc.to_string());
    }
    super::compile::nvrtc_version()
        .map(|(major, minor)| NvrtcFacts {
            version: format!("{major}.{minor}"),
            supported_archs: super::compile::supported_archs(),
        })
        .map_err(|e| format!("nvrtcVersion failed: {e}"))
}

/// Where compiled kernels are cached: the private cache folder `kernels` ([`crate::cache`]).
/// Without one the kernels are compiled every run, in a fresh private temporary folder.
pub(crate) fn kernel_cache_dir() -> PathBuf {
    crate::cache::private_dir("kernels").unwrap_or_else(|_| {
        tempfile::Builder::new()
            .prefix("sortmark-kernels-")
            .tempdir()
            .map(tempfile::TempDir::keep)
            .unwrap_or_else(|_| std::env::temp_dir().join("sortmark-kernels-unusable"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_driver_cases_are_skipped_with_the_reason() {
        let mut session = GpuSession::probe();
        if session.device_count().is_some() {
            return; // This machine has a GPU: the GPU tests cover it.
        }
        let def = crate::definition::load(
            "g.toml",
            "title = \"t\"\n[[cell]]\nsweep = { backend = \"cuda\", algorithms = [\"radix\"], sizes = [16] }\n",
            &crate::definition::MachineLimits {
                logical_cores: 2,
                host_memory_bytes: 1 << 30,
            },
        )
        .unwrap();
        let case = crate::plan::plan(&def, None).remove(0);
        let Outcome::Skipped { reason, .. } = session.run(&case, &CaseContext { seed: 1 }) else {
            panic!("a CUDA case without a driver must be skipped");
        };
        assert!(reason.contains("NVIDIA driver"), "{reason}");
        let record = session.record();
        assert!(record.stack.is_none() && record.unavailable.is_some());
        let facts = session.compat_facts();
        assert!(facts.driver.is_err());
        assert_eq!(facts.min_compute_capability, MIN_COMPUTE_CAPABILITY);
    }
}
