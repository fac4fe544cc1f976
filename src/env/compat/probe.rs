//! Probes: the plain facts the compatibility checks judge, behind a trait so that tests can
//! inject any environment. Every fact that can fail to be observed is a `Result` whose error is
//! the text the report shows; no probe panics.

use serde::{Deserialize, Serialize};

/// A fact, or why it could not be observed.
pub type Observed<T> = Result<T, String>;

/// Where the compatibility checks get their facts.
pub trait Probe {
    /// The host: governors, load, virtualization, cgroup quota, environment variables.
    fn host(&self) -> HostFacts;
    /// The CUDA driver and NVRTC as the CUDA backend found them; `None`: not probed.
    fn cuda(&self) -> Option<CudaFacts>;
    /// The GPUs through NVML; an error when NVML is missing or fails.
    fn nvml(&self) -> Observed<NvmlFacts>;
    /// A Python interpreter (a program name looked up on PATH, or a path) and its CuPy.
    fn python(&self, interpreter: &str) -> Observed<PythonFacts>;
}

/// Facts about the host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    /// The logical CPUs this process may use.
    pub logical_cores: u32,
    /// Each CPU frequency governor in use and on how many CPUs.
    pub governors: Observed<Vec<(String, u32)>>,
    /// 1-, 5- and 15-minute load averages.
    pub load_average: Observed<[f64; 3]>,
    /// Signs of a virtual machine or a container.
    pub virtualization: Virtualization,
    /// The cgroup CPU limit; `Ok(None)`: no limit.
    pub cpu_quota: Observed<Option<CpuQuota>>,
    /// Environment variables that change how the sorts run (RAYON_NUM_THREADS, ...), when set.
    pub env: Vec<(String, String)>,
}

/// Hints that the host is a virtual machine or a container.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Virtualization {
    /// The CPU reports a hypervisor (the `hypervisor` flag in /proc/cpuinfo).
    pub hypervisor: bool,
    /// The container kind when one was recognised (docker, podman, kubernetes, lxc ...).
    pub container: Option<String>,
    /// What gave it away, e.g. "/.dockerenv exists".
    pub hints: Vec<String>,
}

/// A cgroup CPU bandwidth limit: `quota_us` of CPU time per `period_us`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuQuota {
    /// CPU time allowed per period, in microseconds.
    pub quota_us: u64,
    /// The period, in microseconds.
    pub period_us: u64,
}

impl CpuQuota {
    /// How many CPUs' worth of time the limit allows.
    pub fn cpus(self) -> f64 {
        self.quota_us as f64 / self.period_us.max(1) as f64
    }
}

/// The CUDA stack, filled by the CUDA backend's availability probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CudaFacts {
    /// libcuda: loaded, and the CUDA version it supports (cuDriverGetVersion).
    pub driver: Observed<DriverFacts>,
    /// NVRTC: loaded, its version and supported architectures.
    pub nvrtc: Observed<NvrtcFacts>,
    /// The CUDA API version cudarc was built against, e.g. "12.8" (feature cuda-12080).
    pub cudarc_api: String,
    /// Whether sortmark's kernels are compiled to CUBIN (true) or PTX (false).
    pub compiles_to_cubin: bool,
    /// The lowest compute capability the kernels need, e.g. (7, 0).
    pub min_compute_capability: (u32, u32),
    /// The GPUs the driver reports.
    pub devices: Vec<CudaDevice>,
}

/// A CUDA version as `cuDriverGetVersion` and NVML encode it (1000 × major + 10 × minor, e.g.
/// 12080) written as "12.8".
pub fn cuda_version_string(encoded: i32) -> String {
    format!("{}.{}", encoded / 1000, (encoded % 1000) / 10)
}

/// The driver as libcuda reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriverFacts {
    /// The highest CUDA version it supports, e.g. "13.0" (`None`: libcuda loaded but was not
    /// asked).
    pub cuda_version: Option<String>,
}

/// NVRTC as loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NvrtcFacts {
    /// e.g. "12.8".
    pub version: String,
    /// nvrtcGetSupportedArchs, e.g. [75, 80, 86, 89, 90] (`None`: not probed).
    pub supported_archs: Option<Vec<u32>>,
}

/// One GPU as the CUDA driver reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CudaDevice {
    /// The CUDA ordinal.
    pub ordinal: u32,
    /// The device name, e.g. "NVIDIA H100".
    pub name: String,
    /// Major and minor compute capability, e.g. (9, 0).
    pub compute_capability: (u32, u32),
}

/// What NVML reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NvmlFacts {
    /// The kernel driver's version, e.g. "580.65.06".
    pub driver_version: Observed<String>,
    /// The highest CUDA version the driver supports, e.g. "13.0".
    pub cuda_version: Observed<String>,
    /// Every GPU NVML sees.
    pub gpus: Vec<NvmlGpu>,
}

/// One GPU as NVML reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NvmlGpu {
    /// NVML's index of the GPU.
    pub index: u32,
    /// The product name.
    pub name: Observed<String>,
    /// Other processes' ids and names using the GPU for compute.
    pub processes: Observed<Vec<(u32, String)>>,
    /// Whether the driver stays loaded with no client.
    pub persistence_mode: Observed<bool>,
    /// Current SM and memory clocks, MHz.
    pub sm_clock_mhz: Observed<u32>,
    /// The current memory clock, MHz.
    pub memory_clock_mhz: Observed<u32>,
    /// The highest SM clock the GPU supports, MHz.
    pub max_sm_clock_mhz: Observed<u32>,
    /// Names of the active clock throttle reasons (empty: none).
    pub throttle_reasons: Observed<Vec<String>>,
    /// ECC currently enabled.
    pub ecc_enabled: Observed<bool>,
    /// MIG mode currently enabled.
    pub mig_enabled: Observed<bool>,
}

/// A Python interpreter and its CuPy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PythonFacts {
    /// The interpreter as asked for (e.g. `python3`).
    pub interpreter: String,
    /// `sys.executable`.
    pub executable: String,
    /// e.g. "3.13.1".
    pub version: String,
    /// What `import cupy` did.
    pub cupy: CupyImport,
    /// Every installed distribution named cupy or cupy-*.
    pub cupy_distributions: Vec<CupyDistribution>,
}

/// What `import cupy` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CupyImport {
    /// No module named cupy.
    Missing,
    /// Imported.
    Imported {
        version: String,
        /// `cupy._util.cython_build_ver`.
        cython_build: Option<String>,
    },
    /// Raised.
    Failed {
        exception_type: String,
        message: String,
        /// The last lines of the traceback.
        traceback_tail: Vec<String>,
        /// The Cython version, when it could still be read (a module that did load, or the
        /// Cython ABI tag in CuPy's compiled extension modules).
        cython_build: Option<String>,
    },
}

/// One installed CuPy distribution and what its metadata says about how it was installed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CupyDistribution {
    /// The distribution name, e.g. `cupy-cuda12x`, or `cupy` for a source build.
    pub name: String,
    /// Its version, e.g. "13.4.1".
    pub version: String,
    /// The INSTALLER file (pip, conda, uv ...).
    pub installer: Option<String>,
    /// The `Tag:` lines of the WHEEL file.
    pub wheel_tags: Vec<String>,
    /// direct_url.json, as text, when present.
    pub direct_url: Option<String>,
}

/// How a CuPy distribution was installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BuildKind {
    /// A prebuilt binary wheel from an index (a manylinux or Windows tag).
    Wheel,
    /// Compiled on this machine (an sdist, a checkout, or a wheel built locally).
    Source,
    /// Installed by conda.
    Conda,
    /// Nothing in the metadata says.
    Unknown,
}

impl BuildKind {
    /// The lowercase name used in checks and rule facts.
    pub fn name(self) -> &'static str {
        match self {
            BuildKind::Wheel => "wheel",
            BuildKind::Source => "source",
            BuildKind::Conda => "conda",
            BuildKind::Unknown => "unknown",
        }
    }
}

impl CupyDistribution {
    /// Wheel or source build. pip installs everything through a wheel, so a WHEEL file alone
    /// proves nothing: a wheel pip built here carries a plain platform tag (`linux_x86_64`),
    /// while the wheels CuPy publishes carry `manylinux`/`win` tags; a direct_url.json that
    /// points at a directory, a VCS or an sdist archive also means a local build. The
    /// CUDA- or ROCm-specific packages (`cupy-cuda12x`, `cupy-cuda13x`, `cupy-rocm-6-0`) are
    /// published as wheels only, whose WHEEL file keeps the plain tag they were built with: a
    /// plain tag on them is no sign of a local build.
    pub fn build_kind(&self) -> BuildKind {
        if self.installer.as_deref() == Some("conda") {
            return BuildKind::Conda;
        }
        if let Some(url) = &self.direct_url {
            if url.contains("\"dir_info\"") || url.contains("\"vcs_info\"") {
                return BuildKind::Source;
            }
            if url.contains(".tar.gz") || url.contains(".zip\"") {
                return BuildKind::Source;
            }
        }
        let published = |t: &String| {
            ["manylinux", "musllinux", "win_", "win32", "macosx"]
                .iter()
                .any(|p| t.contains(p))
        };
        if self.wheel_tags.iter().any(published)
            || (self.binary_only() && !self.wheel_tags.is_empty())
        {
            BuildKind::Wheel
        } else if self.wheel_tags.iter().any(|t| t.contains("linux_")) {
            BuildKind::Source
        } else {
            BuildKind::Unknown
        }
    }
}

impl CupyDistribution {
    /// Whether the package exists on the index as prebuilt wheels only (no source
    /// distribution): `cupy-cuda…` and `cupy-rocm…`, however the name is spelt.
    fn binary_only(&self) -> bool {
        let name = self.name.to_lowercase().replace('_', "-");
        name.starts_with("cupy-cuda") || name.starts_with("cupy-rocm")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dist(tags: &[&str], installer: &str, direct_url: Option<&str>) -> CupyDistribution {
        CupyDistribution {
            name: "cupy".into(),
            version: "13.4.1".into(),
            installer: Some(installer.into()),
            wheel_tags: tags.iter().map(|t| t.to_string()).collect(),
            direct_url: direct_url.map(str::to_string),
        }
    }

    #[test]
    fn tells_wheels_from_source_builds() {
        let wheel = dist(&["cp312-cp312-manylinux2014_x86_64"], "pip", None);
        assert_eq!(wheel.build_kind(), BuildKind::Wheel);
        let local = dist(&["cp312-cp312-linux_x86_64"], "pip", None);
        assert_eq!(local.build_kind(), BuildKind::Source);
        let checkout = dist(
            &["cp312-cp312-linux_x86_64"],
            "pip",
            Some(r#"{"url": "file:///src/cupy", "dir_info": {}}"#),
        );
        assert_eq!(checkout.build_kind(), BuildKind::Source);
        assert_eq!(dist(&[], "conda", None).build_kind(), BuildKind::Conda);
        assert_eq!(dist(&[], "pip", None).build_kind(), BuildKind::Unknown);
    }

    #[test]
    fn a_cupy_cuda13x_wheel_is_a_wheel_whatever_its_tag_says() {
        for name in ["cupy-cuda13x", "cupy_cuda12x"] {
            let wheel = CupyDistribution {
                name: name.into(),
                ..dist(&["cp312-cp312-linux_x86_64"], "pip", None)
            };
            assert_eq!(wheel.build_kind(), BuildKind::Wheel, "{name}");
        }
        let checkout = CupyDistribution {
            name: "cupy-cuda13x".into(),
            ..dist(
                &["cp312-cp312-linux_x86_64"],
                "pip",
                Some(r#"{"url": "file:///src/cupy", "dir_info": {}}"#),
            )
        };
        assert_eq!(checkout.build_kind(), BuildKind::Source);
    }

    #[test]
    fn decodes_cuda_versions() {
        assert_eq!(cuda_version_string(13000), "13.0");
        assert_eq!(cuda_version_string(12080), "12.8");
        assert_eq!(cuda_version_string(11040), "11.4");
    }

    #[test]
    fn quota_in_cpus() {
        let q = CpuQuota {
            quota_us: 150_000,
            period_us: 100_000,
        };
        assert_eq!(q.cpus(), 1.5);
    }
}
