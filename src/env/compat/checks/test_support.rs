//! Fixtures shared by the checks' tests: a fake probe and a healthy machine to vary. None of
//! these reads the machine.

use crate::env::compat::RunNeeds;
use crate::env::compat::check_with;
use crate::env::compat::probe::{
    CudaDevice, CudaFacts, CupyDistribution, CupyImport, DriverFacts, HostFacts, NvmlFacts,
    NvmlGpu, NvrtcFacts, Observed, Probe, PythonFacts, Virtualization,
};
use crate::env::{Check, CheckStatus};

/// A probe that answers whatever the test set.
#[derive(Clone)]
pub(crate) struct FakeProbe {
    pub(crate) host: HostFacts,
    pub(crate) cuda: Option<CudaFacts>,
    pub(crate) nvml: Observed<NvmlFacts>,
    pub(crate) python: Observed<PythonFacts>,
}

impl Probe for FakeProbe {
    fn host(&self) -> HostFacts {
        self.host.clone()
    }
    fn cuda(&self) -> Option<CudaFacts> {
        self.cuda.clone()
    }
    fn nvml(&self) -> Observed<NvmlFacts> {
        self.nvml.clone()
    }
    fn python(&self, interpreter: &str) -> Observed<PythonFacts> {
        self.python.clone().map(|mut p| {
            p.interpreter = interpreter.to_string();
            p
        })
    }
}

/// A quiet bare-metal release build with a healthy CUDA 12.8 stack and one idle H100.
pub(crate) fn healthy() -> FakeProbe {
    FakeProbe {
        host: HostFacts {
            logical_cores: 8,
            governors: Ok(vec![("performance".to_string(), 8)]),
            load_average: Ok([0.1, 0.2, 0.3]),
            virtualization: Virtualization::default(),
            cpu_quota: Ok(None),
            env: Vec::new(),
        },
        cuda: Some(CudaFacts {
            driver: Ok(DriverFacts {
                cuda_version: Some("13.0".to_string()),
            }),
            nvrtc: Ok(NvrtcFacts {
                version: "12.8".to_string(),
                supported_archs: Some(vec![75, 80, 86, 89, 90, 100, 120]),
            }),
            cudarc_api: "12.8".to_string(),
            compiles_to_cubin: false,
            min_compute_capability: (7, 0),
            devices: vec![CudaDevice {
                ordinal: 0,
                name: "NVIDIA H100".to_string(),
                compute_capability: (9, 0),
            }],
        }),
        nvml: Ok(NvmlFacts {
            driver_version: Ok("580.65.06".to_string()),
            cuda_version: Ok("13.0".to_string()),
            gpus: vec![NvmlGpu {
                index: 0,
                name: Ok("NVIDIA H100".to_string()),
                processes: Ok(Vec::new()),
                persistence_mode: Ok(true),
                sm_clock_mhz: Ok(1980),
                memory_clock_mhz: Ok(2619),
                max_sm_clock_mhz: Ok(1980),
                throttle_reasons: Ok(vec!["GPU_IDLE".to_string()]),
                ecc_enabled: Ok(true),
                mig_enabled: Ok(false),
            }],
        }),
        python: Ok(PythonFacts {
            interpreter: "python3".to_string(),
            executable: "/usr/bin/python3".to_string(),
            version: "3.12.3".to_string(),
            cupy: CupyImport::Imported {
                version: "13.6.0".to_string(),
                cython_build: Some("3.1.2".to_string()),
            },
            cupy_distributions: vec![dist(
                "cupy-cuda12x",
                "13.6.0",
                "cp312-cp312-manylinux2014_x86_64",
            )],
        }),
    }
}

/// A CuPy distribution installed by pip with one wheel tag.
pub(crate) fn dist(name: &str, version: &str, tag: &str) -> CupyDistribution {
    CupyDistribution {
        name: name.to_string(),
        version: version.to_string(),
        installer: Some("pip".to_string()),
        wheel_tags: vec![tag.to_string()],
        direct_url: None,
    }
}

/// A release build's needs: CUDA or not, `python3` peers or not, and the largest thread count.
pub(crate) fn needs(cuda: bool, python: bool, max_threads: Option<u32>) -> RunNeeds {
    RunNeeds {
        profile: "release".to_string(),
        toolchain: "x86_64-unknown-linux-gnu, rustc 1.90".to_string(),
        max_threads,
        uses_cuda: cuda,
        python_interpreters: if python {
            vec!["python3".to_string()]
        } else {
            Vec::new()
        },
        cupy_interpreters: if python {
            vec!["python3".to_string()]
        } else {
            Vec::new()
        },
    }
}

/// Every check the fake probe's machine gets.
pub(crate) fn run(probe: &FakeProbe, needs: &RunNeeds) -> Vec<Check> {
    check_with(probe, needs)
}

/// The check `id`; panics listing the ids present when it is missing.
pub(crate) fn find<'a>(checks: &'a [Check], id: &str) -> &'a Check {
    checks.iter().find(|c| c.id == id).unwrap_or_else(|| {
        panic!(
            "no check {id} in {:#?}",
            checks.iter().map(|c| &c.id).collect::<Vec<_>>()
        )
    })
}

/// The status of check `id`.
pub(crate) fn status(checks: &[Check], id: &str) -> CheckStatus {
    find(checks, id).status
}
