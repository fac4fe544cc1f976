//! Pure functions from observed facts to checks. Nothing here reads the machine.

use super::Observations;
use super::known_issues::{Facts, KnownIssues, Rule};
use super::probe::{CudaFacts, CupyImport, HostFacts, NvmlFacts, NvmlGpu, Observed, PythonFacts};
use super::version::Version;
use crate::catalog::BackendKind;
use crate::definition::ReportDef;
use crate::env::{Check, CheckStatus, Environment};

/// A 1-minute load average above this many per logical core counts as a busy machine.
const HIGH_LOAD_PER_CORE: f64 = 0.5;

/// Throttle reasons that say nothing about a GPU's speed under load.
const BENIGN_THROTTLE: &[&str] = &["GPU_IDLE", "APPLICATIONS_CLOCKS_SETTING", "NONE"];

/// What the checks need to know about the run besides the facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    /// `release` or `debug`.
    pub profile: String,
    /// The target and rustc, shown with the profile.
    pub toolchain: String,
    /// The largest CPU thread count any case uses.
    pub max_threads: Option<u32>,
    /// Some sweep runs on sortmark's CUDA backend.
    pub uses_cuda: bool,
    /// Python interpreters the definition's peers run (as written: `python3`, a path ...).
    pub python: Vec<String>,
}

impl Context {
    /// The context of running `definition` with this build.
    pub fn new(
        environment: &Environment,
        definition: &ReportDef,
        max_threads: Option<u32>,
    ) -> Self {
        let mut python: Vec<String> = Vec::new();
        for sweep in definition.sweeps() {
            if let Some(interpreter) = sweep.command.as_deref().and_then(python_interpreter)
                && !python.contains(&interpreter)
            {
                python.push(interpreter);
            }
        }
        Context {
            profile: environment.toolchain.profile.clone(),
            toolchain: format!(
                "{}, {}",
                environment.toolchain.target, environment.toolchain.rustc
            ),
            max_threads,
            uses_cuda: definition.sweeps().any(|s| s.backend == BackendKind::Cuda),
            python,
        }
    }
}

/// The interpreter a peer's command line runs: its first word naming python (`python3`,
/// `/opt/venv/bin/python`, or after `env`/`uv run`), else `python3` for a bare `script.py`.
pub fn python_interpreter(command: &str) -> Option<String> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let is_python = |w: &&str| {
        let base = w.rsplit('/').next().unwrap_or(w);
        base.starts_with("python") && !base.ends_with(".py")
    };
    if let Some(word) = words.iter().find(|w| is_python(w)) {
        return Some(word.to_string());
    }
    words
        .first()
        .filter(|w| w.ends_with(".py"))
        .map(|_| "python3".to_string())
}

fn check(
    id: impl Into<String>,
    component: &str,
    status: CheckStatus,
    summary: impl Into<String>,
    detail: impl Into<String>,
    remedy: Option<String>,
) -> Check {
    Check {
        id: id.into(),
        component: component.to_string(),
        status,
        summary: summary.into(),
        detail: detail.into(),
        remedy,
    }
}

/// Every check for what was observed, host first, then CUDA, GPUs, Python and known issues.
pub fn checks(observed: &Observations, context: &Context) -> Vec<Check> {
    let issues = KnownIssues::embedded();
    let mut out = host_checks(&observed.host, context);
    if context.uses_cuda {
        out.extend(cuda_checks(
            observed.cuda.as_ref(),
            observed.nvml.as_ref(),
            issues,
        ));
    }
    if let Some(nvml) = &observed.nvml {
        out.extend(gpu_checks(nvml));
    }
    let mut matched: Vec<&Rule> = Vec::new();
    let base = cuda_facts(observed.cuda.as_ref(), observed.nvml.as_ref());
    if observed.python.is_empty() {
        matched.extend(issues.matching(&base));
    }
    for (i, (interpreter, python)) in observed.python.iter().enumerate() {
        let prefix = if i == 0 {
            "python".to_string()
        } else {
            format!("python{i}")
        };
        let sets = match python {
            Ok(p) => python_fact_sets(p),
            Err(_) => vec![Facts::new()],
        };
        let mut rules: Vec<&Rule> = Vec::new();
        for set in sets {
            let mut facts = base.clone();
            facts.extend(set);
            for rule in issues.matching(&facts) {
                if !rules.iter().any(|r| r.id == rule.id) {
                    rules.push(rule);
                }
            }
        }
        out.extend(python_checks(&prefix, interpreter, python, &rules));
        for rule in rules {
            if !matched.iter().any(|m| m.id == rule.id) {
                matched.push(rule);
            }
        }
    }
    out.extend(matched.into_iter().map(known_issue));
    out
}

/// A matched rule as a check.
fn known_issue(rule: &Rule) -> Check {
    check(
        format!("known-issue.{}", rule.id),
        &rule.component,
        rule.status,
        rule.symptom.clone(),
        format!("{} Source: {}", rule.cause, rule.source),
        Some(rule.remedy.clone()),
    )
}

// ---------------------------------------------------------------------------------------------
// Host.

/// Build profile, governor, load, virtualization, quota, oversubscription, environment.
pub fn host_checks(host: &HostFacts, context: &Context) -> Vec<Check> {
    let mut out = vec![build_profile(context)];
    out.push(governor(host));
    out.push(load(host));
    out.push(virtualization(host));
    out.push(quota(host));
    if let Some(max) = context.max_threads {
        out.push(oversubscription(max, host.logical_cores));
    }
    out.push(rayon_threads(host));
    let others: Vec<String> = host
        .env
        .iter()
        .filter(|(k, _)| k != "RAYON_NUM_THREADS")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !others.is_empty() {
        out.push(check(
            "env.variables",
            "environment",
            CheckStatus::Info,
            format!("set: {}", others.join(", ")),
            "environment variables that change how CPU threads or GPUs are used",
            None,
        ));
    }
    out
}

fn build_profile(context: &Context) -> Check {
    let debug = context.profile != "release";
    check(
        "build.profile",
        "sortmark",
        if debug {
            CheckStatus::Warn
        } else {
            CheckStatus::Ok
        },
        if debug {
            "sortmark is a debug build: its figures are far below what the sorts can do"
        } else {
            "sortmark is an optimised release build"
        },
        format!("profile {}, {}", context.profile, context.toolchain),
        debug.then(|| "build and run with `cargo run --release -- run`".to_string()),
    )
}

fn governor(host: &HostFacts) -> Check {
    let component = "CPU frequency";
    match &host.governors {
        Err(e) => check(
            "cpu.governor",
            component,
            CheckStatus::Info,
            "the CPU frequency governor could not be read",
            e.clone(),
            None,
        ),
        Ok(governors) => {
            let detail = governors
                .iter()
                .map(|(g, n)| format!("{g} on {n} CPU{}", if *n == 1 { "" } else { "s" }))
                .collect::<Vec<_>>()
                .join(", ");
            let others: Vec<&str> = governors
                .iter()
                .filter(|(g, _)| g != "performance")
                .map(|(g, _)| g.as_str())
                .collect();
            if others.is_empty() {
                check(
                    "cpu.governor",
                    component,
                    CheckStatus::Ok,
                    "every CPU uses the performance governor",
                    detail,
                    None,
                )
            } else {
                check(
                    "cpu.governor",
                    component,
                    CheckStatus::Warn,
                    format!(
                        "CPU frequency governor {} instead of performance: clocks change under load, so timings vary",
                        others.join(", ")
                    ),
                    detail,
                    Some("set the performance governor for the run: `sudo cpupower frequency-set -g performance`".to_string()),
                )
            }
        }
    }
}

fn load(host: &HostFacts) -> Check {
    let component = "CPU load";
    match host.load_average {
        Err(ref e) => check(
            "cpu.load",
            component,
            CheckStatus::Info,
            "the load average could not be read",
            e.clone(),
            None,
        ),
        Ok([one, five, fifteen]) => {
            let cores = host.logical_cores.max(1);
            let high = one > HIGH_LOAD_PER_CORE * cores as f64;
            let detail = format!(
                "load average {one:.2} / {five:.2} / {fifteen:.2} (1, 5, 15 min) on {cores} logical cores"
            );
            if high {
                check(
                    "cpu.load",
                    component,
                    CheckStatus::Warn,
                    format!(
                        "the machine is busy (load {one:.2} on {cores} cores): other work competes with the sorts"
                    ),
                    detail,
                    Some(
                        "run on an otherwise idle machine, or repeat the run and compare"
                            .to_string(),
                    ),
                )
            } else {
                check(
                    "cpu.load",
                    component,
                    CheckStatus::Ok,
                    format!("the machine was quiet at the start (load {one:.2})"),
                    detail,
                    None,
                )
            }
        }
    }
}

fn virtualization(host: &HostFacts) -> Check {
    let v = &host.virtualization;
    let component = "host";
    let detail = if v.hints.is_empty() {
        "no hypervisor flag, no container markers (/.dockerenv, /run/.containerenv, /proc/1/cgroup)"
            .to_string()
    } else {
        v.hints.join("; ")
    };
    match (v.hypervisor, &v.container) {
        (false, None) => check("host.virtualization", component, CheckStatus::Ok, "bare metal: no sign of a virtual machine or container", detail, None),
        (true, container) => check(
            "host.virtualization",
            component,
            CheckStatus::Warn,
            match container {
                Some(kind) => format!("a {kind} container in a virtual machine: other guests can steal CPU time and the topology may be virtual"),
                None => "a virtual machine: other guests can steal CPU time and the CPU topology may be virtual".to_string(),
            },
            detail,
            Some("compare with a bare-metal run before publishing absolute figures; watch `steal` in top".to_string()),
        ),
        (false, Some(kind)) => check(
            "host.virtualization",
            component,
            CheckStatus::Info,
            format!("a {kind} container: same kernel and hardware, but cgroup limits may apply"),
            detail,
            None,
        ),
    }
}

fn quota(host: &HostFacts) -> Check {
    let component = "cgroup";
    let cores = host.logical_cores;
    match &host.cpu_quota {
        Err(e) => check(
            "cpu.quota",
            component,
            CheckStatus::Info,
            "the cgroup CPU limit could not be read",
            e.clone(),
            None,
        ),
        Ok(None) => check(
            "cpu.quota",
            component,
            CheckStatus::Ok,
            "no cgroup CPU limit",
            format!("{cores} logical cores visible"),
            None,
        ),
        Ok(Some(q)) => {
            let cpus = q.cpus();
            let detail = format!(
                "cpu.max {} {} = {cpus:.2} CPUs; {cores} logical cores visible",
                q.quota_us, q.period_us
            );
            if cpus + 1e-9 < cores as f64 {
                check(
                    "cpu.quota",
                    component,
                    CheckStatus::Warn,
                    format!(
                        "the cgroup allows {cpus:.2} CPUs' time but {cores} cores are visible: threads beyond that are throttled, so scaling flattens"
                    ),
                    detail,
                    Some(format!(
                        "read thread counts above {} as throttled, or raise the container's CPU limit",
                        cpus.floor().max(1.0)
                    )),
                )
            } else {
                check(
                    "cpu.quota",
                    component,
                    CheckStatus::Ok,
                    format!("the cgroup allows {cpus:.2} CPUs, at least the visible cores"),
                    detail,
                    None,
                )
            }
        }
    }
}

fn oversubscription(max: u32, cores: u32) -> Check {
    let over = max > cores;
    check(
        "cpu.oversubscription",
        "CPU",
        if over {
            CheckStatus::Warn
        } else {
            CheckStatus::Ok
        },
        if over {
            format!(
                "thread counts up to {max} exceed the {cores} logical cores: those cases are oversubscribed"
            )
        } else {
            format!("every thread count fits the {cores} logical cores")
        },
        format!("largest thread count {max}, logical cores {cores}"),
        over.then(|| "read oversubscribed cases as a stress test, not as scaling".to_string()),
    )
}

fn rayon_threads(host: &HostFacts) -> Check {
    match host.env.iter().find(|(k, _)| k == "RAYON_NUM_THREADS") {
        Some((_, value)) => check(
            "env.rayon-num-threads",
            "rayon",
            CheckStatus::Warn,
            format!("RAYON_NUM_THREADS={value} is set: rayon's global pool uses that many threads"),
            "sortmark's CPU sweeps build pools with the definition's thread counts; work on rayon's global pool (outside those pools) is sized by the variable",
            Some(
                "unset RAYON_NUM_THREADS and let the definition's `threads` axis decide"
                    .to_string(),
            ),
        ),
        None => check(
            "env.rayon-num-threads",
            "rayon",
            CheckStatus::Ok,
            "RAYON_NUM_THREADS is not set",
            "thread counts come from the definition",
            None,
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// CUDA: driver, NVRTC, cudarc, architectures.

fn version_of(text: &str) -> Option<Version> {
    Version::parse(text)
}

/// The kernel driver's version, from NVML when it answered.
fn driver_version(nvml: Option<&Observed<NvmlFacts>>) -> Option<String> {
    nvml.and_then(|n| n.as_ref().ok())
        .and_then(|n| n.driver_version.as_ref().ok())
        .cloned()
}

/// Driver, NVRTC and cudarc checks, and per-GPU architecture checks.
pub fn cuda_checks(
    cuda: Option<&CudaFacts>,
    nvml: Option<&Observed<NvmlFacts>>,
    issues: &KnownIssues,
) -> Vec<Check> {
    let Some(cuda) = cuda else {
        return vec![check(
            "cuda.stack",
            "CUDA",
            CheckStatus::Info,
            "this build of sortmark did not probe the CUDA driver and NVRTC",
            "no CUDA backend facts were passed to the checks",
            None,
        )];
    };
    // NVML knows the driver's CUDA version too, when the CUDA backend did not ask libcuda.
    let mut cuda = cuda.clone();
    if let Ok(driver) = &mut cuda.driver
        && driver.cuda_version.is_none()
    {
        driver.cuda_version = nvml
            .and_then(|n| n.as_ref().ok())
            .and_then(|n| n.cuda_version.as_ref().ok())
            .cloned();
    }
    let cuda = &cuda;
    let mut out = vec![driver_check(cuda, nvml, issues), nvrtc_check(cuda)];
    out.extend(nvrtc_driver_check(cuda, issues));
    out.extend(cudarc_check(cuda));
    for device in &cuda.devices {
        out.extend(arch_checks(cuda, device));
    }
    out
}

/// The CUDA major version sortmark compiles for: NVRTC's, else cudarc's API.
fn cuda_major_in_use(cuda: &CudaFacts) -> Option<u64> {
    cuda.nvrtc
        .as_ref()
        .ok()
        .and_then(|n| version_of(&n.version))
        .or_else(|| version_of(&cuda.cudarc_api))
        .map(|v| v.major())
}

fn driver_check(
    cuda: &CudaFacts,
    nvml: Option<&Observed<NvmlFacts>>,
    issues: &KnownIssues,
) -> Check {
    let component = "NVIDIA driver";
    let driver = match &cuda.driver {
        Err(e) => {
            return check(
                "cuda.driver",
                component,
                CheckStatus::Fail,
                "the NVIDIA driver library (libcuda) was not found: CUDA cases cannot run",
                e.clone(),
                Some("install the NVIDIA driver (it provides libcuda.so.1), or in a container run with the NVIDIA container toolkit (`--gpus all`)".to_string()),
            );
        }
        Ok(d) => d,
    };
    let supports = driver
        .cuda_version
        .as_deref()
        .unwrap_or("an unknown version");
    let version = driver_version(nvml);
    let major = cuda_major_in_use(cuda);
    let minimum = major.and_then(|m| issues.driver_minimum(m));
    let shown = version
        .as_deref()
        .unwrap_or("of unknown version (NVML did not say)");
    let mut detail = format!(
        "driver {shown}, supports CUDA up to {}; sortmark compiles for CUDA {}",
        supports,
        major.map_or("?".to_string(), |m| format!("{m}.x"))
    );
    if let Some(min) = minimum {
        detail.push_str(&format!(
            "; CUDA {}.x needs driver >= {} ({})",
            min.cuda_major, min.driver, min.source
        ));
    }
    let too_old = match (minimum, version.as_deref().and_then(version_of)) {
        (Some(min), Some(v)) => version_of(&min.driver).is_some_and(|m| v < m),
        _ => {
            let supported = driver.cuda_version.as_deref().and_then(version_of);
            matches!((supported, major), (Some(s), Some(m)) if s.major() < m)
        }
    };
    if too_old {
        let need = minimum.map_or("a newer driver".to_string(), |m| {
            format!("driver {} or newer", m.driver)
        });
        check(
            "cuda.driver",
            component,
            CheckStatus::Fail,
            format!(
                "the NVIDIA driver {shown} is too old for CUDA {}.x (needs {need}): kernels will not load",
                major.unwrap_or_default()
            ),
            detail,
            Some(format!(
                "install {need}, or run sortmark with an NVRTC of the CUDA major version the driver supports ({})",
                supports
            )),
        )
    } else {
        check(
            "cuda.driver",
            component,
            CheckStatus::Ok,
            format!("NVIDIA driver {shown}, supports CUDA up to {}", supports),
            detail,
            None,
        )
    }
}

fn nvrtc_check(cuda: &CudaFacts) -> Check {
    match &cuda.nvrtc {
        Err(e) => check(
            "cuda.nvrtc",
            "NVRTC",
            CheckStatus::Fail,
            "NVRTC was not found: sortmark cannot compile its kernels",
            e.clone(),
            Some("install the CUDA toolkit's NVRTC (libnvrtc.so.12 or .13, e.g. the `cuda-nvrtc` package or the nvidia-cuda-nvrtc wheel) and put its directory on LD_LIBRARY_PATH".to_string()),
        ),
        Ok(n) => check(
            "cuda.nvrtc",
            "NVRTC",
            CheckStatus::Ok,
            format!("NVRTC {}", n.version),
            format!(
                "NVRTC {}; compiles for {}",
                n.version,
                n.supported_archs
                    .as_deref()
                    .map_or("architectures not probed".to_string(), arch_list)
            ),
            None,
        ),
    }
}

/// NVRTC newer than what the driver supports: PTX from it does not load.
fn nvrtc_driver_check(cuda: &CudaFacts, issues: &KnownIssues) -> Option<Check> {
    let nvrtc = version_of(&cuda.nvrtc.as_ref().ok()?.version)?;
    let driver = version_of(cuda.driver.as_ref().ok()?.cuda_version.as_deref()?)?;
    let output = if cuda.compiles_to_cubin {
        "CUBIN"
    } else {
        "PTX"
    };
    let detail = format!(
        "NVRTC {nvrtc}, driver supports CUDA {driver}; sortmark compiles to {output}. A driver rejects PTX from a compiler newer than itself (CUDA_ERROR_UNSUPPORTED_PTX_VERSION, CUDA driver API); code built with any toolkit of a major version runs on that major version's minimum driver (https://docs.nvidia.com/deploy/cuda-compatibility/minor-version-compatibility.html)"
    );
    let component = "NVRTC";
    let id = "cuda.nvrtc-vs-driver";
    Some(if nvrtc.major() > driver.major() {
        let need = issues
            .driver_minimum(nvrtc.major())
            .map_or("a newer driver".to_string(), |m| {
                format!("driver {} or newer", m.driver)
            });
        check(
            id,
            component,
            CheckStatus::Fail,
            format!(
                "NVRTC {nvrtc} is a newer CUDA major version than the driver supports ({driver}): neither PTX nor CUBIN from it will load"
            ),
            detail,
            Some(format!("install {need}, or use NVRTC {}.x", driver.major())),
        )
    } else if nvrtc > driver && !cuda.compiles_to_cubin {
        check(
            id,
            component,
            CheckStatus::Fail,
            format!(
                "NVRTC {nvrtc} is newer than the driver's CUDA {driver}: the PTX sortmark compiles will not load"
            ),
            detail,
            Some(format!(
                "compile to CUBIN, upgrade the driver, or use NVRTC {driver} or older"
            )),
        )
    } else if nvrtc > driver {
        check(
            id,
            component,
            CheckStatus::Info,
            format!(
                "NVRTC {nvrtc} is newer than the driver's CUDA {driver}; sortmark compiles to CUBIN, which loads (PTX would not)"
            ),
            detail,
            None,
        )
    } else {
        check(
            id,
            component,
            CheckStatus::Ok,
            format!("NVRTC {nvrtc} is not newer than the driver's CUDA {driver}"),
            detail,
            None,
        )
    })
}

/// The CUDA API cudarc was built against, against what the driver supports.
fn cudarc_check(cuda: &CudaFacts) -> Option<Check> {
    let driver = version_of(cuda.driver.as_ref().ok()?.cuda_version.as_deref()?)?;
    let api = version_of(&cuda.cudarc_api)?;
    let detail = format!("cudarc built for the CUDA {api} API; driver supports CUDA {driver}");
    Some(if api > driver {
        check(
            "cuda.cudarc-api",
            "cudarc",
            CheckStatus::Warn,
            format!(
                "sortmark was built against the CUDA {api} driver API, newer than the driver's {driver}: a call the driver lacks fails when it is made"
            ),
            detail,
            Some(format!(
                "upgrade the driver to one for CUDA {api} or newer, or build sortmark with a cudarc `cuda-*` feature no newer than {driver}"
            )),
        )
    } else {
        check(
            "cuda.cudarc-api",
            "cudarc",
            CheckStatus::Ok,
            format!(
                "the CUDA {api} API sortmark was built against is supported by the driver ({driver})"
            ),
            detail,
            None,
        )
    })
}

/// "sm_75, sm_80, sm_90".
fn arch_list(archs: &[u32]) -> String {
    archs
        .iter()
        .map(|a| format!("sm_{a}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn arch_checks(cuda: &CudaFacts, device: &super::probe::CudaDevice) -> Vec<Check> {
    let (major, minor) = device.compute_capability;
    let sm = major * 10 + minor;
    let gpu = format!("GPU {} ({})", device.ordinal, device.name);
    let mut out = Vec::new();
    if let Some((nvrtc, archs)) = cuda
        .nvrtc
        .as_ref()
        .ok()
        .and_then(|n| Some((n, n.supported_archs.as_deref()?)))
    {
        let supported = archs.contains(&sm);
        let list = arch_list(archs);
        out.push(check(
            format!("cuda.gpu{}.arch", device.ordinal),
            "NVRTC",
            if supported {
                CheckStatus::Ok
            } else {
                CheckStatus::Fail
            },
            if supported {
                format!("NVRTC {} compiles for {gpu}, sm_{sm}", nvrtc.version)
            } else {
                format!("NVRTC {} cannot compile for {gpu}, sm_{sm}", nvrtc.version)
            },
            format!("NVRTC supports {list}"),
            (!supported)
                .then(|| format!("use an NVRTC whose supported architectures include sm_{sm}")),
        ));
    }
    let (need_major, need_minor) = cuda.min_compute_capability;
    let enough = (major, minor) >= (need_major, need_minor);
    out.push(check(
        format!("cuda.gpu{}.compute-capability", device.ordinal),
        "GPU",
        if enough { CheckStatus::Ok } else { CheckStatus::Fail },
        if enough {
            format!("{gpu} has compute capability {major}.{minor}, enough for the kernels")
        } else {
            format!("{gpu} has compute capability {major}.{minor}; the kernels need {need_major}.{need_minor}")
        },
        format!("compute capability {major}.{minor}, kernels need {need_major}.{need_minor} or higher"),
        (!enough).then(|| "run the CUDA sweeps on a newer GPU (select it with `devices`)".to_string()),
    ));
    out
}

// ---------------------------------------------------------------------------------------------
// GPUs through NVML.

/// NVML availability and, per GPU, processes, persistence, clocks, ECC and MIG.
pub fn gpu_checks(nvml: &Observed<NvmlFacts>) -> Vec<Check> {
    let nvml = match nvml {
        Err(e) => {
            return vec![check(
                "gpu.nvml",
                "NVML",
                CheckStatus::Info,
                "NVML is not available: GPU processes, clocks, throttling, ECC and MIG were not checked",
                e.clone(),
                None,
            )];
        }
        Ok(n) => n,
    };
    let mut out = vec![check(
        "gpu.nvml",
        "NVML",
        CheckStatus::Ok,
        format!(
            "NVML reports {} GPU{}",
            nvml.gpus.len(),
            if nvml.gpus.len() == 1 { "" } else { "s" }
        ),
        format!(
            "driver {}, CUDA {}",
            nvml.driver_version.as_deref().unwrap_or("unknown"),
            nvml.cuda_version.as_deref().unwrap_or("unknown")
        ),
        None,
    )];
    for gpu in &nvml.gpus {
        out.extend(one_gpu(gpu));
    }
    out
}

fn one_gpu(gpu: &NvmlGpu) -> Vec<Check> {
    let i = gpu.index;
    let name = format!("GPU {i} ({})", gpu.name.as_deref().unwrap_or("unknown"));
    let unread = |id: &str, what: &str, e: &String| {
        check(
            format!("gpu{i}.{id}"),
            "GPU",
            CheckStatus::Info,
            format!("{what} of {name} could not be read"),
            e.clone(),
            None,
        )
    };
    let mut out = Vec::new();
    out.push(match &gpu.processes {
        Err(e) => unread("processes", "the processes", e),
        Ok(ps) if ps.is_empty() => check(
            format!("gpu{i}.processes"),
            "GPU",
            CheckStatus::Ok,
            format!("no other process uses {name}"),
            "NVML lists no other compute process",
            None,
        ),
        Ok(ps) => check(
            format!("gpu{i}.processes"),
            "GPU",
            CheckStatus::Warn,
            format!(
                "{} other process{} use{} {name}: they compete for it",
                ps.len(),
                if ps.len() == 1 { "" } else { "es" },
                if ps.len() == 1 { "s" } else { "" }
            ),
            ps.iter()
                .map(|(pid, n)| format!("pid {pid} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            Some(
                "stop them, or run on another GPU (CUDA_VISIBLE_DEVICES or the sweep's `devices`)"
                    .to_string(),
            ),
        ),
    });
    out.push(match &gpu.persistence_mode {
        Err(e) => unread("persistence", "persistence mode", e),
        Ok(true) => check(
            format!("gpu{i}.persistence"),
            "GPU",
            CheckStatus::Ok,
            format!("persistence mode is on for {name}"),
            "the driver stays loaded between processes",
            None,
        ),
        Ok(false) => check(
            format!("gpu{i}.persistence"),
            "GPU",
            CheckStatus::Info,
            format!(
                "persistence mode is off for {name}: the first CUDA call of each process is slower"
            ),
            "warm-up runs absorb the start-up cost; the timed repetitions are unaffected",
            Some(format!("`sudo nvidia-smi -i {i} -pm 1`")),
        ),
    });
    out.push(match &gpu.throttle_reasons {
        Err(e) => unread("clocks", "the clocks and throttle reasons", e),
        Ok(reasons) => {
            let clocks = format!(
                "SM clock {} of {} MHz, memory clock {} MHz; throttle reasons: {}",
                show(&gpu.sm_clock_mhz),
                show(&gpu.max_sm_clock_mhz),
                show(&gpu.memory_clock_mhz),
                if reasons.is_empty() { "none".to_string() } else { reasons.join(", ") }
            );
            let bad: Vec<&String> = reasons.iter().filter(|r| !BENIGN_THROTTLE.contains(&r.as_str())).collect();
            if bad.is_empty() {
                check(format!("gpu{i}.clocks"), "GPU", CheckStatus::Ok, format!("{name} is not throttled"), clocks, None)
            } else {
                check(
                    format!("gpu{i}.clocks"),
                    "GPU",
                    CheckStatus::Warn,
                    format!("{name} is throttled ({})", bad.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")),
                    clocks,
                    Some("check cooling and power limits (`nvidia-smi -q -d PERFORMANCE`) before trusting GPU figures".to_string()),
                )
            }
        }
    });
    out.push(match &gpu.ecc_enabled {
        Err(e) => unread("ecc", "ECC mode", e),
        Ok(on) => check(
            format!("gpu{i}.ecc"),
            "GPU",
            CheckStatus::Info,
            format!("ECC is {} on {name}", if *on { "enabled" } else { "disabled" }),
            "ECC can cost memory bandwidth or capacity on some GPUs; compare GPU figures only between runs with the same setting",
            None,
        ),
    });
    out.push(match &gpu.mig_enabled {
        Err(e) => unread("mig", "MIG mode", e),
        Ok(false) => check(format!("gpu{i}.mig"), "GPU", CheckStatus::Ok, format!("MIG is off on {name}: the whole GPU is available"), "MIG mode disabled", None),
        Ok(true) => check(
            format!("gpu{i}.mig"),
            "GPU",
            CheckStatus::Warn,
            format!("MIG is on for {name}: a CUDA process sees one MIG instance, a slice of the GPU"),
            "MIG mode enabled",
            Some(format!("read results as those of one MIG instance, or disable MIG (`sudo nvidia-smi -i {i} -mig 0`)")),
        ),
    });
    out
}

fn show(value: &Observed<u32>) -> String {
    value.as_ref().map_or("?".to_string(), |v| v.to_string())
}

// ---------------------------------------------------------------------------------------------
// Python peers.

/// The facts rules can test, from the CUDA side.
fn cuda_facts(cuda: Option<&CudaFacts>, nvml: Option<&Observed<NvmlFacts>>) -> Facts {
    let mut facts = Facts::new();
    if let Some(v) = driver_version(nvml) {
        facts.insert("driver", v);
    }
    let nvml_cuda = nvml
        .and_then(|n| n.as_ref().ok())
        .and_then(|n| n.cuda_version.as_ref().ok())
        .cloned();
    if let Some(cuda) = cuda {
        if let Some(v) = cuda
            .driver
            .as_ref()
            .ok()
            .and_then(|d| d.cuda_version.clone())
        {
            facts.insert("driver_cuda", v);
        }
        if let Ok(n) = &cuda.nvrtc {
            facts.insert("nvrtc", n.version.clone());
        }
    }
    if let Some(v) = nvml_cuda {
        facts.entry("driver_cuda").or_insert(v);
    }
    facts
}

/// The facts rules can test, from one interpreter: one set per CuPy distribution that may be
/// the one `import cupy` loads (the one of the imported version; when the import failed, every
/// installed one, since any of them may have left the files that failed), or a single set
/// without package facts when none is installed.
pub fn python_fact_sets(python: &PythonFacts) -> Vec<Facts> {
    let mut facts = Facts::new();
    facts.insert("python", python.version.clone());
    facts.insert("cupy_packages", python.cupy_distributions.len().to_string());
    let version = match &python.cupy {
        CupyImport::Missing => None,
        CupyImport::Imported {
            version,
            cython_build,
        } => {
            facts.insert("cupy", version.clone());
            if let Some(c) = cython_build {
                facts.insert("cupy_cython", c.clone());
            }
            Some(version.as_str())
        }
        CupyImport::Failed {
            exception_type,
            message,
            cython_build,
            ..
        } => {
            facts.insert("cupy_import_error", format!("{exception_type}: {message}"));
            if let Some(c) = cython_build {
                facts.insert("cupy_cython", c.clone());
            }
            None
        }
    };
    let all = &python.cupy_distributions;
    let imported: Vec<_> = all
        .iter()
        .filter(|d| Some(d.version.as_str()) == version)
        .collect();
    let candidates = if imported.is_empty() {
        all.iter().collect()
    } else {
        imported
    };
    if candidates.is_empty() {
        return vec![facts];
    }
    candidates
        .into_iter()
        .map(|d| {
            let mut set = facts.clone();
            set.entry("cupy").or_insert_with(|| d.version.clone());
            set.insert("cupy_build", d.build_kind().name().to_string());
            set
        })
        .collect()
}

fn python_checks(
    prefix: &str,
    interpreter: &str,
    python: &Observed<PythonFacts>,
    rules: &[&Rule],
) -> Vec<Check> {
    let python = match python {
        Err(e) => {
            return vec![check(
                format!("{prefix}.interpreter"),
                "Python",
                CheckStatus::Fail,
                format!("`{interpreter}` could not be probed: the Python peer will not run"),
                e.clone(),
                Some(format!(
                    "install Python 3, put `{interpreter}` on PATH, or name the interpreter in the sweep's command"
                )),
            )];
        }
        Ok(p) => p,
    };
    let mut out = vec![check(
        format!("{prefix}.interpreter"),
        "Python",
        CheckStatus::Ok,
        format!("Python {} ({interpreter})", python.version),
        format!("`{interpreter}` is {}", python.executable),
        None,
    )];
    let cupy_rule = rules
        .iter()
        .find(|r| r.component == "CuPy" && r.status == CheckStatus::Fail);
    out.push(match &python.cupy {
        CupyImport::Missing => check(
            format!("{prefix}.cupy"),
            "CuPy",
            CheckStatus::Fail,
            format!("CuPy is not installed for {interpreter}"),
            format!("`import cupy` raised ModuleNotFoundError in {}", python.executable),
            Some("install a prebuilt wheel matching the driver: `pip install cupy-cuda12x` (or `cupy-cuda13x`)".to_string()),
        ),
        CupyImport::Imported { version, .. } => check(
            format!("{prefix}.cupy"),
            "CuPy",
            cupy_rule.map_or(CheckStatus::Ok, |r| r.status),
            format!("CuPy {version} imports"),
            format!("`import cupy` succeeded in {}", python.executable),
            cupy_rule.map(|r| r.remedy.clone()),
        ),
        CupyImport::Failed { exception_type, message, traceback_tail, .. } => check(
            format!("{prefix}.cupy"),
            "CuPy",
            CheckStatus::Fail,
            format!("`import cupy` fails: {exception_type}: {message}"),
            traceback_tail.join("\n"),
            Some(cupy_rule.map_or_else(
                || "reinstall CuPy from a prebuilt wheel (`pip install cupy-cuda12x`); see https://docs.cupy.dev/en/stable/install.html".to_string(),
                |r| format!("{} (known issue {}: {})", r.remedy, r.id, r.source),
            )),
        ),
    });
    if !python.cupy_distributions.is_empty() {
        let cython = python_fact_sets(python)
            .into_iter()
            .find_map(|f| f.get("cupy_cython").cloned());
        let packages: Vec<String> = python
            .cupy_distributions
            .iter()
            .map(|d| {
                format!(
                    "{} {} ({}{})",
                    d.name,
                    d.version,
                    d.build_kind().name(),
                    d.installer
                        .as_deref()
                        .map_or(String::new(), |i| format!(", installed by {i}"))
                )
            })
            .collect();
        let cython = cython.map_or("an unknown Cython".to_string(), |c| format!("Cython {c}"));
        let several = packages.len() > 1;
        out.push(check(
            format!("{prefix}.cupy-build"),
            "CuPy",
            CheckStatus::Info,
            if several {
                format!("{} CuPy packages are installed at once (see known-issue.cupy-several-packages): {}", packages.len(), packages.join(", "))
            } else {
                format!("{}, built with {cython}", packages[0])
            },
            format!(
                "packages: {}; CuPy built with {cython}; wheel tags: {}",
                packages.join(", "),
                python.cupy_distributions.iter().flat_map(|d| d.wheel_tags.iter().cloned()).collect::<Vec<_>>().join(", ")
            ),
            None,
        ));
    }
    out
}

#[cfg(test)]
#[path = "checks_tests.rs"]
mod tests;
