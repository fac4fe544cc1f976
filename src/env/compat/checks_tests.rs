//! Every check against fake probes: none of these tests reads the machine.

use super::*;
use crate::env::compat::probe::{
    CpuQuota, CudaDevice, CudaFacts, CupyDistribution, CupyImport, DriverFacts, HostFacts,
    NvmlFacts, NvmlGpu, NvrtcFacts, Observed, Probe, PythonFacts, Virtualization,
};
use crate::env::compat::{check_with, observe};

/// A probe that answers whatever the test set.
#[derive(Clone)]
struct FakeProbe {
    host: HostFacts,
    cuda: Option<CudaFacts>,
    gpus: Observed<NvmlFacts>,
    python: Observed<PythonFacts>,
}

impl Probe for FakeProbe {
    fn host(&self) -> HostFacts {
        self.host.clone()
    }
    fn cuda(&self) -> Option<CudaFacts> {
        self.cuda.clone()
    }
    fn gpus(&self) -> Observed<NvmlFacts> {
        self.gpus.clone()
    }
    fn python(&self, interpreter: &str) -> Observed<PythonFacts> {
        self.python.clone().map(|mut p| {
            p.interpreter = interpreter.to_string();
            p
        })
    }
}

/// A quiet bare-metal release build with a healthy CUDA 12.8 stack and one idle H100.
fn healthy() -> FakeProbe {
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
        gpus: Ok(NvmlFacts {
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

fn dist(name: &str, version: &str, tag: &str) -> CupyDistribution {
    CupyDistribution {
        name: name.to_string(),
        version: version.to_string(),
        installer: Some("pip".to_string()),
        wheel_tags: vec![tag.to_string()],
        direct_url: None,
    }
}

fn context(cuda: bool, python: bool, max_threads: Option<u32>) -> Context {
    Context {
        profile: "release".to_string(),
        toolchain: "x86_64-unknown-linux-gnu, rustc 1.90".to_string(),
        max_threads,
        uses_cuda: cuda,
        python: if python {
            vec!["python3".to_string()]
        } else {
            Vec::new()
        },
    }
}

fn run(probe: &FakeProbe, context: &Context) -> Vec<Check> {
    check_with(probe, context)
}

fn find<'a>(checks: &'a [Check], id: &str) -> &'a Check {
    checks.iter().find(|c| c.id == id).unwrap_or_else(|| {
        panic!(
            "no check {id} in {:#?}",
            checks.iter().map(|c| &c.id).collect::<Vec<_>>()
        )
    })
}

fn status(checks: &[Check], id: &str) -> CheckStatus {
    find(checks, id).status
}

#[test]
fn a_healthy_machine_has_no_warnings() {
    let checks = run(&healthy(), &context(true, true, Some(8)));
    let bad: Vec<&Check> = checks
        .iter()
        .filter(|c| c.status >= CheckStatus::Warn)
        .collect();
    assert!(bad.is_empty(), "{bad:#?}");
    assert_eq!(status(&checks, "cuda.driver"), CheckStatus::Ok);
    assert_eq!(status(&checks, "python.cupy"), CheckStatus::Ok);
    assert!(!checks.iter().any(|c| c.id.starts_with("known-issue.")));
}

#[test]
fn checks_serialize_in_the_results_shape() {
    let checks = run(&healthy(), &context(false, false, None));
    let json = serde_json::to_value(&checks[0]).unwrap();
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["component", "detail", "id", "remedy", "status", "summary"]
    );
}

#[test]
fn a_cpu_only_definition_asks_nothing_of_the_gpu_or_python() {
    let mut probe = healthy();
    probe.gpus = Err("must not be asked".to_string());
    probe.python = Err("must not be asked".to_string());
    let observed = observe(&probe, &context(false, false, Some(4)));
    assert!(observed.nvml.is_none() && observed.cuda.is_none() && observed.python.is_empty());
    let checks = checks(&observed, &context(false, false, Some(4)));
    assert!(!checks.iter().any(|c| c.id.starts_with("gpu")
        || c.id.starts_with("python")
        || c.id.starts_with("cuda")));
    // The observations can be recorded.
    assert!(serde_json::to_string(&observed).is_ok());
}

#[test]
fn debug_build_warns() {
    let mut ctx = context(false, false, None);
    ctx.profile = "debug".to_string();
    let checks = run(&healthy(), &ctx);
    assert_eq!(status(&checks, "build.profile"), CheckStatus::Warn);
    assert!(
        find(&checks, "build.profile")
            .remedy
            .as_ref()
            .unwrap()
            .contains("--release")
    );
}

#[test]
fn driver_missing_fails() {
    let mut probe = healthy();
    probe.cuda.as_mut().unwrap().driver =
        Err("libcuda.so.1: cannot open shared object file".to_string());
    let checks = run(&probe, &context(true, false, None));
    let c = find(&checks, "cuda.driver");
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(c.detail.contains("libcuda.so.1"));
    assert!(c.remedy.is_some());
}

#[test]
fn driver_525_with_cuda_13_nvrtc_fails() {
    let mut probe = healthy();
    let cuda = probe.cuda.as_mut().unwrap();
    cuda.driver = Ok(DriverFacts {
        cuda_version: Some("12.0".to_string()),
    });
    cuda.nvrtc.as_mut().unwrap().version = "13.0".to_string();
    if let Ok(n) = probe.gpus.as_mut() {
        n.driver_version = Ok("525.60.13".to_string());
        n.cuda_version = Ok("12.0".to_string());
    }
    let checks = run(&probe, &context(true, false, None));
    let driver = find(&checks, "cuda.driver");
    assert_eq!(driver.status, CheckStatus::Fail, "{driver:#?}");
    assert!(
        driver.summary.contains("525.60.13") && driver.summary.contains("580"),
        "{}",
        driver.summary
    );
    assert!(driver.detail.contains("supports CUDA up to 12.0"));
    let nvrtc = find(&checks, "cuda.nvrtc-vs-driver");
    assert_eq!(nvrtc.status, CheckStatus::Fail);
    assert!(nvrtc.summary.contains("neither PTX nor CUBIN"));
}

#[test]
fn driver_minimum_without_nvml_uses_the_cuda_version() {
    let mut probe = healthy();
    probe.gpus = Err("NVML is not available".to_string());
    let cuda = probe.cuda.as_mut().unwrap();
    cuda.driver = Ok(DriverFacts {
        cuda_version: Some("12.2".to_string()),
    });
    cuda.nvrtc.as_mut().unwrap().version = "13.0".to_string();
    let checks = run(&probe, &context(true, false, None));
    assert_eq!(status(&checks, "cuda.driver"), CheckStatus::Fail);
    assert!(
        find(&checks, "cuda.driver")
            .detail
            .contains("needs driver >= 580")
    );
}

#[test]
fn nvrtc_newer_than_driver() {
    let mut probe = healthy();
    let cuda = probe.cuda.as_mut().unwrap();
    cuda.driver = Ok(DriverFacts {
        cuda_version: Some("12.4".to_string()),
    });
    cuda.nvrtc.as_mut().unwrap().version = "12.8".to_string();
    cuda.compiles_to_cubin = false;
    let ptx = run(&probe, &context(true, false, None));
    let c = find(&ptx, "cuda.nvrtc-vs-driver");
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(c.summary.contains("PTX") && c.detail.contains("compiles to PTX"));

    probe.cuda.as_mut().unwrap().compiles_to_cubin = true;
    let cubin = run(&probe, &context(true, false, None));
    let c = find(&cubin, "cuda.nvrtc-vs-driver");
    assert_eq!(c.status, CheckStatus::Info);
    assert!(c.summary.contains("CUBIN"));
    // cudarc's API (12.8) is newer than the driver's 12.4 too.
    assert_eq!(status(&cubin, "cuda.cudarc-api"), CheckStatus::Warn);
}

#[test]
fn nvrtc_missing_fails() {
    let mut probe = healthy();
    probe.cuda.as_mut().unwrap().nvrtc = Err("libnvrtc.so: not found".to_string());
    let checks = run(&probe, &context(true, false, None));
    assert_eq!(status(&checks, "cuda.nvrtc"), CheckStatus::Fail);
    assert!(!checks.iter().any(|c| c.id == "cuda.gpu0.arch"));
}

#[test]
fn architecture_not_supported_by_nvrtc() {
    let mut probe = healthy();
    let cuda = probe.cuda.as_mut().unwrap();
    cuda.nvrtc.as_mut().unwrap().supported_archs = Some(vec![50, 60, 70, 75, 80, 86, 89, 90]);
    cuda.devices[0] = CudaDevice {
        ordinal: 0,
        name: "NVIDIA RTX PRO 6000".to_string(),
        compute_capability: (12, 0),
    };
    let checks = run(&probe, &context(true, false, None));
    let c = find(&checks, "cuda.gpu0.arch");
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(c.summary.contains("sm_120"));
    assert_eq!(
        status(&checks, "cuda.gpu0.compute-capability"),
        CheckStatus::Ok
    );
}

#[test]
fn compute_capability_below_what_the_kernels_need() {
    let mut probe = healthy();
    let cuda = probe.cuda.as_mut().unwrap();
    cuda.devices[0].compute_capability = (6, 1);
    cuda.nvrtc
        .as_mut()
        .unwrap()
        .supported_archs
        .as_mut()
        .unwrap()
        .push(61);
    let checks = run(&probe, &context(true, false, None));
    assert_eq!(
        status(&checks, "cuda.gpu0.compute-capability"),
        CheckStatus::Fail
    );
}

#[test]
fn no_cuda_facts_is_info() {
    let mut probe = healthy();
    probe.cuda = None;
    let checks = run(&probe, &context(true, false, None));
    assert_eq!(status(&checks, "cuda.stack"), CheckStatus::Info);
}

#[test]
fn nvml_missing_is_info() {
    let mut probe = healthy();
    probe.gpus = Err("NVML is not available: a libloading error occurred".to_string());
    let checks = run(&probe, &context(true, false, None));
    assert_eq!(status(&checks, "gpu.nvml"), CheckStatus::Info);
    assert!(!checks.iter().any(|c| c.status == CheckStatus::Fail));
}

#[test]
fn gpu_processes_throttling_mig_and_persistence() {
    let mut probe = healthy();
    if let Ok(n) = probe.gpus.as_mut() {
        let g = &mut n.gpus[0];
        g.processes = Ok(vec![(4242, "python3".to_string())]);
        g.persistence_mode = Ok(false);
        g.throttle_reasons = Ok(vec!["SW_THERMAL_SLOWDOWN".to_string()]);
        g.mig_enabled = Ok(true);
        g.ecc_enabled = Err("This query is not supported by the device".to_string());
    }
    let checks = run(&probe, &context(true, false, None));
    assert_eq!(status(&checks, "gpu0.processes"), CheckStatus::Warn);
    assert!(find(&checks, "gpu0.processes").detail.contains("4242"));
    assert_eq!(status(&checks, "gpu0.persistence"), CheckStatus::Info);
    assert_eq!(status(&checks, "gpu0.clocks"), CheckStatus::Warn);
    assert_eq!(status(&checks, "gpu0.mig"), CheckStatus::Warn);
    assert_eq!(status(&checks, "gpu0.ecc"), CheckStatus::Info);
}

#[test]
fn powersave_governor_warns() {
    let mut probe = healthy();
    probe.host.governors = Ok(vec![("powersave".to_string(), 8)]);
    let checks = run(&probe, &context(false, false, None));
    let c = find(&checks, "cpu.governor");
    assert_eq!(c.status, CheckStatus::Warn);
    assert!(c.summary.contains("powersave"));
    probe.host.governors = Err("no cpufreq".to_string());
    assert_eq!(
        status(&run(&probe, &context(false, false, None)), "cpu.governor"),
        CheckStatus::Info
    );
}

#[test]
fn high_load_warns() {
    let mut probe = healthy();
    probe.host.load_average = Ok([7.5, 6.0, 5.0]);
    assert_eq!(
        status(&run(&probe, &context(false, false, None)), "cpu.load"),
        CheckStatus::Warn
    );
}

#[test]
fn container_and_virtual_machine() {
    let mut probe = healthy();
    probe.host.virtualization = Virtualization {
        hypervisor: false,
        container: Some("docker".to_string()),
        hints: vec!["/.dockerenv exists".to_string()],
    };
    let checks = run(&probe, &context(false, false, None));
    let c = find(&checks, "host.virtualization");
    assert_eq!(c.status, CheckStatus::Info);
    assert!(c.summary.contains("docker") && c.detail.contains("/.dockerenv"));
    probe.host.virtualization.hypervisor = true;
    assert_eq!(
        status(
            &run(&probe, &context(false, false, None)),
            "host.virtualization"
        ),
        CheckStatus::Warn
    );
}

#[test]
fn cgroup_quota_below_the_visible_cores_warns() {
    let mut probe = healthy();
    probe.host.cpu_quota = Ok(Some(CpuQuota {
        quota_us: 200_000,
        period_us: 100_000,
    }));
    let checks = run(&probe, &context(false, false, None));
    let c = find(&checks, "cpu.quota");
    assert_eq!(c.status, CheckStatus::Warn);
    assert!(c.summary.contains("2.00 CPUs") && c.summary.contains("8 cores"));
    probe.host.cpu_quota = Ok(Some(CpuQuota {
        quota_us: 800_000,
        period_us: 100_000,
    }));
    assert_eq!(
        status(&run(&probe, &context(false, false, None)), "cpu.quota"),
        CheckStatus::Ok
    );
}

#[test]
fn oversubscription_warns() {
    let checks = run(&healthy(), &context(false, false, Some(32)));
    let c = find(&checks, "cpu.oversubscription");
    assert_eq!(c.status, CheckStatus::Warn);
    assert!(c.summary.contains("32") && c.summary.contains("8 logical cores"));
    assert_eq!(
        status(
            &run(&healthy(), &context(false, false, Some(8))),
            "cpu.oversubscription"
        ),
        CheckStatus::Ok
    );
}

#[test]
fn rayon_num_threads_warns() {
    let mut probe = healthy();
    probe.host.env = vec![
        ("RAYON_NUM_THREADS".to_string(), "4".to_string()),
        ("CUDA_VISIBLE_DEVICES".to_string(), "1".to_string()),
    ];
    let checks = run(&probe, &context(false, false, None));
    let c = find(&checks, "env.rayon-num-threads");
    assert_eq!(c.status, CheckStatus::Warn);
    assert!(c.summary.contains("RAYON_NUM_THREADS=4"));
    assert!(
        find(&checks, "env.variables")
            .summary
            .contains("CUDA_VISIBLE_DEVICES=1")
    );
}

#[test]
fn python_3_13_with_cupy_13_3_fails() {
    let mut probe = healthy();
    if let Ok(p) = probe.python.as_mut() {
        p.version = "3.13.1".to_string();
        p.cupy = CupyImport::Imported {
            version: "13.3.0".to_string(),
            cython_build: Some("0.29.37".to_string()),
        };
        p.cupy_distributions = vec![dist("cupy", "13.3.0", "cp313-cp313-linux_x86_64")];
    }
    let checks = run(&probe, &context(false, true, None));
    let c = find(&checks, "known-issue.cupy-python-3.13");
    assert_eq!(c.status, CheckStatus::Fail);
    assert!(c.remedy.as_ref().unwrap().contains("13.4"));
    assert!(
        c.detail
            .contains("https://github.com/cupy/cupy/issues/8651")
    );
}

/// The failure sortmark grew out of: cudamark.py's `import cupy` with a source-built CuPy 13.4.1.
const CUPY_9128: &str =
    "attribute '__name__' of 'builtin_function_or_method' objects is not writable";

fn cupy_9128_import(cython_build: Option<&str>) -> CupyImport {
    CupyImport::Failed {
        exception_type: "AttributeError".to_string(),
        message: CUPY_9128.to_string(),
        traceback_tail: vec![
            "  File \"cupy/cuda/device.pyx\", line 105, in init cupy.cuda.device".to_string(),
            "  File \"cupy/_util.pyx\", line 52, in cupy._util.memoize.decorator".to_string(),
            "  File \"/usr/lib/python3.12/functools.py\", line 56, in update_wrapper".to_string(),
            "    setattr(wrapper, attr, value)".to_string(),
            format!("AttributeError: {CUPY_9128}"),
        ],
        cython_build: cython_build.map(str::to_string),
    }
}

#[test]
fn cupy_13_4_1_source_build_with_cython_3_1_fails_with_the_9128_remedy() {
    let mut probe = healthy();
    if let Ok(p) = probe.python.as_mut() {
        p.cupy = cupy_9128_import(Some("3.1.2"));
        p.cupy_distributions = vec![dist("cupy", "13.4.1", "cp312-cp312-linux_x86_64")];
    }
    let checks = run(&probe, &context(false, true, None));
    let import = find(&checks, "python.cupy");
    assert_eq!(import.status, CheckStatus::Fail);
    assert!(import.summary.contains("AttributeError") && import.summary.contains(CUPY_9128));
    assert!(import.detail.contains("update_wrapper"));
    let remedy = import.remedy.as_ref().unwrap();
    assert!(
        remedy.contains("cupy-cuda12x") && remedy.contains("13.5") && remedy.contains("cython<3.1"),
        "{remedy}"
    );
    assert!(remedy.contains("https://github.com/cupy/cupy/issues/9128"));
    let known = find(&checks, "known-issue.cupy-9128-cython-3.1");
    assert_eq!(known.status, CheckStatus::Fail);
    let build = find(&checks, "python.cupy-build");
    assert!(
        build.summary.contains("source") && build.summary.contains("Cython 3.1.2"),
        "{}",
        build.summary
    );
}

#[test]
fn a_fake_probe_whose_cupy_import_fails_with_the_attribute_error_gets_the_9128_remedy() {
    // Only the exception is known: no package metadata, no Cython version.
    let mut probe = healthy();
    if let Ok(p) = probe.python.as_mut() {
        p.cupy = cupy_9128_import(None);
        p.cupy_distributions = Vec::new();
    }
    let checks = run(&probe, &context(false, true, None));
    let import = find(&checks, "python.cupy");
    assert_eq!(import.status, CheckStatus::Fail);
    assert!(
        import
            .remedy
            .as_ref()
            .unwrap()
            .contains("cupy-9128-cython-3.1")
    );
    assert_eq!(
        status(&checks, "known-issue.cupy-9128-cython-3.1"),
        CheckStatus::Fail
    );
}

#[test]
fn two_cupy_packages_warn() {
    let mut probe = healthy();
    if let Ok(p) = probe.python.as_mut() {
        p.cupy_distributions.push(dist(
            "cupy-cuda11x",
            "13.6.0",
            "cp312-cp312-manylinux2014_x86_64",
        ));
    }
    let checks = run(&probe, &context(false, true, None));
    let c = find(&checks, "known-issue.cupy-several-packages");
    assert_eq!(c.status, CheckStatus::Warn);
    assert!(
        find(&checks, "python.cupy-build")
            .summary
            .contains("cupy-cuda11x")
    );
}

#[test]
fn python_missing_or_cupy_missing_fails() {
    let mut probe = healthy();
    probe.python = Err("could not run `python3`: No such file or directory".to_string());
    let checks = run(&probe, &context(false, true, None));
    assert_eq!(status(&checks, "python.interpreter"), CheckStatus::Fail);
    let mut probe = healthy();
    if let Ok(p) = probe.python.as_mut() {
        p.cupy = CupyImport::Missing;
        p.cupy_distributions = Vec::new();
    }
    let checks = run(&probe, &context(false, true, None));
    assert_eq!(status(&checks, "python.cupy"), CheckStatus::Fail);
}

#[test]
fn finds_the_interpreter_in_a_peer_command() {
    assert_eq!(
        python_interpreter("python3 reports/peers/cupy_sort.py {n}").as_deref(),
        Some("python3")
    );
    assert_eq!(
        python_interpreter("/opt/venv/bin/python peer.py").as_deref(),
        Some("/opt/venv/bin/python")
    );
    assert_eq!(
        python_interpreter("env python3.12 peer.py").as_deref(),
        Some("python3.12")
    );
    assert_eq!(
        python_interpreter("reports/peers/cupy_sort.py --n {n}").as_deref(),
        Some("python3")
    );
    assert_eq!(python_interpreter("./my_sorter --n {n}"), None);
}

#[test]
fn a_failed_import_is_matched_against_every_installed_cupy() {
    // A source-built 13.4.1 left beside a 13.6 wheel: either may own the files that failed.
    let mut probe = healthy();
    if let Ok(p) = probe.python.as_mut() {
        p.cupy = CupyImport::Failed {
            exception_type: "ImportError".to_string(),
            message: "something else".to_string(),
            traceback_tail: Vec::new(),
            cython_build: Some("3.1.0".to_string()),
        };
        p.cupy_distributions = vec![
            dist("cupy-cuda12x", "13.6.0", "cp312-cp312-manylinux2014_x86_64"),
            dist("cupy", "13.4.1", "cp312-cp312-linux_x86_64"),
        ];
    }
    let checks = run(&probe, &context(false, true, None));
    assert_eq!(
        status(&checks, "known-issue.cupy-9128-cython-3.1"),
        CheckStatus::Fail
    );
    assert_eq!(
        status(&checks, "known-issue.cupy-several-packages"),
        CheckStatus::Warn
    );
    // An import that worked is judged by the distribution of the imported version only.
    let mut probe = healthy();
    if let Ok(p) = probe.python.as_mut() {
        p.cupy_distributions
            .push(dist("cupy", "13.4.1", "cp312-cp312-linux_x86_64"));
    }
    let checks = run(&probe, &context(false, true, None));
    assert!(
        !checks
            .iter()
            .any(|c| c.id == "known-issue.cupy-9128-cython-3.1")
    );
}

#[test]
fn facts_the_cuda_backend_did_not_give_are_unknown_not_failures() {
    let mut probe = healthy();
    let cuda = probe.cuda.as_mut().unwrap();
    cuda.driver = Ok(DriverFacts { cuda_version: None });
    cuda.nvrtc.as_mut().unwrap().supported_archs = None;
    // NVML fills in the driver's CUDA version.
    let checks = run(&probe, &context(true, false, None));
    assert!(find(&checks, "cuda.driver").summary.contains("up to 13.0"));
    probe.gpus = Err("NVML is not available".to_string());
    let checks = run(&probe, &context(true, false, None));
    assert_eq!(status(&checks, "cuda.driver"), CheckStatus::Ok);
    assert!(find(&checks, "cuda.driver").summary.contains("unknown"));
    assert!(
        !checks
            .iter()
            .any(|c| c.id == "cuda.gpu0.arch" || c.id == "cuda.nvrtc-vs-driver")
    );
    assert!(!checks.iter().any(|c| c.status == CheckStatus::Fail));
}
