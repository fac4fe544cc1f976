//! The real probe: Linux's /proc and /sys, NVML loaded at run time, and a Python subprocess.
//! Every failure becomes an error string in the facts; nothing here panics.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

use super::probe::{
    CpuQuota, CudaFacts, CupyDistribution, CupyImport, HostFacts, NvmlFacts, NvmlGpu, Observed,
    Probe, PythonFacts, Virtualization,
};

/// Environment variables that change how the sorts run, recorded when set.
pub const RELEVANT_ENV: &[&str] = &[
    "RAYON_NUM_THREADS",
    "OMP_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES",
    "CUDA_LAUNCH_BLOCKING",
    "CUDA_DEVICE_ORDER",
];

/// How long the Python probe may take (importing CuPy can be slow on a cold cache).
const PYTHON_TIMEOUT: Duration = Duration::from_secs(60);

/// The embedded script the Python probe runs.
const PYTHON_PROBE: &str = include_str!("python_probe.py");

/// Marks the probe's JSON line among whatever else the interpreter prints.
const PYTHON_MARKER: &str = "SORTMARK-PYTHON-PROBE ";

/// Probes this machine. The CUDA facts come from the CUDA backend, which owns libcuda and NVRTC.
#[derive(Debug, Clone, Default)]
pub struct SystemProbe {
    cuda: Option<CudaFacts>,
}

impl SystemProbe {
    /// A probe that reports `cuda` as the CUDA stack (`None`: not probed in this build).
    pub fn new(cuda: Option<CudaFacts>) -> SystemProbe {
        SystemProbe { cuda }
    }
}

impl Probe for SystemProbe {
    fn host(&self) -> HostFacts {
        HostFacts {
            logical_cores: visible_cpus(),
            governors: governors(),
            load_average: load_average(),
            virtualization: virtualization(),
            cpu_quota: cpu_quota(),
            env: RELEVANT_ENV
                .iter()
                .filter_map(|name| std::env::var(name).ok().map(|v| (name.to_string(), v)))
                .collect(),
        }
    }

    fn cuda(&self) -> Option<CudaFacts> {
        self.cuda.clone()
    }

    fn nvml(&self) -> Observed<NvmlFacts> {
        nvml()
    }

    fn python(&self, interpreter: &str) -> Observed<PythonFacts> {
        python(interpreter, PYTHON_TIMEOUT)
    }
}

fn read(path: impl AsRef<Path>) -> Observed<String> {
    let path = path.as_ref();
    std::fs::read_to_string(path).map_err(|e| format!("could not read {}: {e}", path.display()))
}

/// The CPUs this process may run on (its affinity mask), else what std reports.
fn visible_cpus() -> u32 {
    read("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
                .map(|l| crate::env::host::count_cpu_list(l.trim()))
        })
        .filter(|&n| n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get() as u32))
}

fn governors() -> Observed<Vec<(String, u32)>> {
    let entries = std::fs::read_dir("/sys/devices/system/cpu")
        .map_err(|e| format!("could not list /sys/devices/system/cpu: {e}"))?;
    let mut counts = std::collections::BTreeMap::<String, u32>::new();
    for entry in entries.flatten() {
        let path = entry.path().join("cpufreq/scaling_governor");
        if let Ok(g) = std::fs::read_to_string(path) {
            *counts.entry(g.trim().to_string()).or_default() += 1;
        }
    }
    if counts.is_empty() {
        return Err(
            "no CPU exposes cpufreq/scaling_governor (usual in virtual machines and \
                    containers, where the host sets the frequency)"
                .to_string(),
        );
    }
    Ok(counts.into_iter().collect())
}

fn load_average() -> Observed<[f64; 3]> {
    parse_loadavg(&read("/proc/loadavg")?)
}

fn parse_loadavg(text: &str) -> Observed<[f64; 3]> {
    let mut fields = text.split_whitespace().map(str::parse::<f64>);
    let mut next = || {
        fields
            .next()
            .and_then(Result::ok)
            .ok_or_else(|| format!("unexpected /proc/loadavg: {text:?}"))
    };
    Ok([next()?, next()?, next()?])
}

fn virtualization() -> Virtualization {
    let mut v = Virtualization {
        hypervisor: read("/proc/cpuinfo").is_ok_and(|s| {
            s.lines()
                .filter(|l| l.starts_with("flags"))
                .any(|l| l.split_whitespace().any(|f| f == "hypervisor"))
        }),
        ..Virtualization::default()
    };
    if v.hypervisor {
        v.hints
            .push("the CPU reports the `hypervisor` flag".to_string());
    }
    if let Ok(vendor) = read("/sys/class/dmi/id/sys_vendor") {
        let vendor = vendor.trim();
        let known = [
            "QEMU",
            "KVM",
            "VMware",
            "Xen",
            "Amazon EC2",
            "Google",
            "Microsoft",
        ];
        if known.iter().any(|k| vendor.contains(k)) {
            v.hints.push(format!("DMI system vendor is {vendor}"));
        }
    }
    let mut container = |kind: &str, hint: String| {
        v.container.get_or_insert_with(|| kind.to_string());
        v.hints.push(hint);
    };
    if Path::new("/.dockerenv").exists() {
        container("docker", "/.dockerenv exists".to_string());
    }
    if Path::new("/run/.containerenv").exists() {
        container("podman", "/run/.containerenv exists".to_string());
    }
    if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() {
        container("kubernetes", "KUBERNETES_SERVICE_HOST is set".to_string());
    }
    if let Ok(kind) = std::env::var("container") {
        container(&kind, format!("container={kind} is set"));
    }
    if let Ok(cgroup) = read("/proc/1/cgroup") {
        for kind in ["docker", "kubepods", "containerd", "lxc", "libpod"] {
            if cgroup.contains(kind) {
                container(kind, format!("/proc/1/cgroup mentions {kind}"));
                break;
            }
        }
    }
    v
}

/// The tightest CPU limit of this process's cgroup and its ancestors (v2), or cgroup v1's.
fn cpu_quota() -> Observed<Option<CpuQuota>> {
    let own = read("/proc/self/cgroup")?;
    if let Some(path) = own.lines().find_map(|l| l.strip_prefix("0::")) {
        let mut dir = Path::new("/sys/fs/cgroup").join(path.trim().trim_start_matches('/'));
        let mut tightest: Option<CpuQuota> = None;
        loop {
            if let Ok(text) = std::fs::read_to_string(dir.join("cpu.max"))
                && let Some(q) = parse_cpu_max(&text)?
                && tightest.is_none_or(|t| q.cpus() < t.cpus())
            {
                tightest = Some(q);
            }
            if dir == Path::new("/sys/fs/cgroup") || !dir.pop() {
                break;
            }
        }
        return Ok(tightest);
    }
    let v1 = Path::new("/sys/fs/cgroup/cpu");
    let quota: i64 = read(v1.join("cpu.cfs_quota_us"))?
        .trim()
        .parse()
        .map_err(|e| format!("cpu.cfs_quota_us: {e}"))?;
    let period: u64 = read(v1.join("cpu.cfs_period_us"))?
        .trim()
        .parse()
        .map_err(|e| format!("cpu.cfs_period_us: {e}"))?;
    Ok((quota > 0).then_some(CpuQuota {
        quota_us: quota as u64,
        period_us: period,
    }))
}

/// cgroup v2 `cpu.max`: "max 100000" (no limit) or "150000 100000".
fn parse_cpu_max(text: &str) -> Observed<Option<CpuQuota>> {
    let mut fields = text.split_whitespace();
    let (quota, period) = (fields.next(), fields.next());
    let bad = || format!("unexpected cpu.max: {text:?}");
    match quota {
        Some("max") => Ok(None),
        Some(q) => Ok(Some(CpuQuota {
            quota_us: q.parse().map_err(|_| bad())?,
            period_us: period.unwrap_or("100000").parse().map_err(|_| bad())?,
        })),
        None => Err(bad()),
    }
}

fn nvml() -> Observed<NvmlFacts> {
    use nvml_wrapper::Nvml;
    let nvml = Nvml::init().map_err(|e| format!("NVML is not available: {e}"))?;
    let count = nvml
        .device_count()
        .map_err(|e| format!("NVML could not count GPUs: {e}"))?;
    let cuda_version = nvml.sys_cuda_driver_version().map(|v| {
        format!(
            "{}.{}",
            nvml_wrapper::cuda_driver_version_major(v),
            nvml_wrapper::cuda_driver_version_minor(v)
        )
    });
    Ok(NvmlFacts {
        driver_version: nvml.sys_driver_version().map_err(|e| e.to_string()),
        cuda_version: cuda_version.map_err(|e| e.to_string()),
        gpus: (0..count).map(|i| gpu(&nvml, i)).collect(),
    })
}

fn gpu(nvml: &nvml_wrapper::Nvml, index: u32) -> NvmlGpu {
    use nvml_wrapper::enum_wrappers::device::Clock;
    let device = match nvml.device_by_index(index) {
        Ok(d) => d,
        Err(e) => {
            let e = format!("NVML could not open GPU {index}: {e}");
            return NvmlGpu {
                index,
                name: Err(e.clone()),
                processes: Err(e.clone()),
                persistence_mode: Err(e.clone()),
                sm_clock_mhz: Err(e.clone()),
                memory_clock_mhz: Err(e.clone()),
                max_sm_clock_mhz: Err(e.clone()),
                throttle_reasons: Err(e.clone()),
                ecc_enabled: Err(e.clone()),
                mig_enabled: Err(e),
            };
        }
    };
    let s = |e: nvml_wrapper::error::NvmlError| e.to_string();
    let own = std::process::id();
    NvmlGpu {
        index,
        name: device.name().map_err(s),
        processes: device.running_compute_processes().map_err(s).map(|ps| {
            ps.into_iter()
                .filter(|p| p.pid != own)
                .map(|p| {
                    let name = nvml.sys_process_name(p.pid, 256).unwrap_or_default();
                    (p.pid, name)
                })
                .collect()
        }),
        persistence_mode: device.is_in_persistent_mode().map_err(s),
        sm_clock_mhz: device.clock_info(Clock::SM).map_err(s),
        memory_clock_mhz: device.clock_info(Clock::Memory).map_err(s),
        max_sm_clock_mhz: device.max_clock_info(Clock::SM).map_err(s),
        throttle_reasons: device
            .current_throttle_reasons()
            .map_err(s)
            .map(|r| r.iter_names().map(|(name, _)| name.to_string()).collect()),
        ecc_enabled: device
            .is_ecc_enabled()
            .map_err(s)
            .map(|e| e.currently_enabled),
        mig_enabled: device.mig_mode().map_err(s).map(|m| m.current != 0),
    }
}

/// The JSON the embedded script prints.
#[derive(Deserialize)]
struct ScriptOutput {
    executable: String,
    version: String,
    cupy: Option<ScriptCupy>,
    #[serde(default)]
    distributions: Vec<CupyDistribution>,
}

#[derive(Deserialize)]
struct ScriptCupy {
    #[serde(default)]
    missing: bool,
    #[serde(default)]
    imported: bool,
    version: Option<String>,
    cython_build: Option<String>,
    #[serde(rename = "type")]
    exception_type: Option<String>,
    message: Option<String>,
    #[serde(default)]
    traceback_tail: Vec<String>,
}

/// Runs the embedded script under `interpreter` (looked up on PATH unless it is a path), killing
/// it after `timeout`.
fn python(interpreter: &str, timeout: Duration) -> Observed<PythonFacts> {
    let mut child = Command::new(interpreter)
        .arg("-c")
        .arg(PYTHON_PROBE)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run `{interpreter}`: {e}"))?;
    let mut stdout = child.stdout.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(out) = stdout.as_mut() {
            let _ = out.read_to_string(&mut text);
        }
        text
    });
    let mut stderr = child.stderr.take();
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(err) = stderr.as_mut() {
            let _ = err.read_to_string(&mut text);
        }
        text
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                // The readers are left to finish on their own: a grandchild may hold the pipes.
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{interpreter}` did not finish within {:.0} s",
                    timeout.as_secs_f64()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("could not wait for `{interpreter}`: {e}")),
        }
    };
    let stdout = reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    parse_python_output(interpreter, &stdout).map_err(|e| {
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        format!("{e} (exit status {status}; stderr: {})", tail.join(" | "))
    })
}

fn parse_python_output(interpreter: &str, stdout: &str) -> Observed<PythonFacts> {
    let line = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(PYTHON_MARKER))
        .ok_or_else(|| format!("`{interpreter}` did not print the probe's report"))?;
    let out: ScriptOutput = serde_json::from_str(line)
        .map_err(|e| format!("`{interpreter}` printed an unreadable report: {e}"))?;
    let cupy = match out.cupy {
        None => CupyImport::Missing,
        Some(c) if c.missing => CupyImport::Missing,
        Some(c) if c.imported => CupyImport::Imported {
            version: c.version.unwrap_or_default(),
            cython_build: c.cython_build,
        },
        Some(c) => CupyImport::Failed {
            exception_type: c.exception_type.unwrap_or_default(),
            message: c.message.unwrap_or_default(),
            traceback_tail: c.traceback_tail,
            cython_build: c.cython_build,
        },
    };
    Ok(PythonFacts {
        interpreter: interpreter.to_string(),
        executable: out.executable,
        version: out.version,
        cupy,
        cupy_distributions: out.distributions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proc_formats() {
        assert_eq!(
            parse_loadavg("0.52 1.10 2.00 3/456 789\n").unwrap(),
            [0.52, 1.10, 2.00]
        );
        assert!(parse_loadavg("").is_err());
        assert_eq!(parse_cpu_max("max 100000\n").unwrap(), None);
        assert_eq!(
            parse_cpu_max("200000 100000\n").unwrap(),
            Some(CpuQuota {
                quota_us: 200_000,
                period_us: 100_000
            })
        );
        assert!(parse_cpu_max("").is_err());
    }

    #[test]
    fn parses_the_python_report_among_other_output() {
        let stdout = "some warning\nSORTMARK-PYTHON-PROBE {\"executable\": \"/usr/bin/python3\", \
            \"version\": \"3.12.3\", \"cupy\": {\"imported\": false, \"type\": \"AttributeError\", \
            \"message\": \"boom\", \"traceback_tail\": [\"x\"], \"cython_build\": \"3.1.2\"}, \
            \"distributions\": [{\"name\": \"cupy\", \"version\": \"13.4.1\", \"installer\": \"pip\", \
            \"wheel_tags\": [\"cp312-cp312-linux_x86_64\"], \"direct_url\": null}]}\n";
        let facts = parse_python_output("python3", stdout).unwrap();
        assert_eq!(facts.version, "3.12.3");
        assert!(matches!(
            facts.cupy,
            CupyImport::Failed { ref exception_type, ref cython_build, .. }
                if exception_type == "AttributeError" && cython_build.as_deref() == Some("3.1.2")
        ));
        assert_eq!(facts.cupy_distributions.len(), 1);
        assert!(parse_python_output("python3", "nothing").is_err());
    }

    #[test]
    fn a_missing_interpreter_is_an_error_not_a_panic() {
        let e = python("/nonexistent/sortmark-python", PYTHON_TIMEOUT).unwrap_err();
        assert!(e.contains("could not run"), "{e}");
    }

    /// Writes an executable shell script standing in for an interpreter.
    #[cfg(unix)]
    fn fake_interpreter(dir: &Path, name: &str, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    #[cfg(unix)]
    #[test]
    fn runs_the_named_interpreter_and_reads_its_report() {
        let dir = tempfile::tempdir().unwrap();
        let report = r#"{"executable": "/fake/python3", "version": "3.13.1", "cupy": {"imported": true, "version": "13.3.0", "cython_build": "0.29.37"}, "distributions": []}"#;
        let interpreter = fake_interpreter(
            dir.path(),
            "python3",
            &format!("echo 'noise'\necho 'SORTMARK-PYTHON-PROBE {report}'"),
        );
        let facts = python(&interpreter, PYTHON_TIMEOUT).unwrap();
        assert_eq!(facts.version, "3.13.1");
        assert_eq!(facts.executable, "/fake/python3");
        assert!(
            matches!(facts.cupy, CupyImport::Imported { ref version, .. } if version == "13.3.0")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_hanging_or_silent_interpreter_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let hangs = fake_interpreter(dir.path(), "hangs", "exec sleep 10");
        let started = Instant::now();
        let e = python(&hangs, Duration::from_millis(300)).unwrap_err();
        assert!(e.contains("did not finish"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let silent = fake_interpreter(dir.path(), "silent", "echo oops >&2; exit 3");
        let e = python(&silent, PYTHON_TIMEOUT).unwrap_err();
        assert!(e.contains("did not print") && e.contains("oops"), "{e}");
    }

    #[test]
    fn probing_this_machine_never_panics() {
        // Whatever this machine has (NVML or not), the probe returns facts or errors.
        let probe = SystemProbe::new(None);
        let host = probe.host();
        assert!(host.logical_cores >= 1);
        let _ = probe.nvml();
    }
}
