//! CUDA checks: the driver, NVRTC, the driver API cudarc was built for, and each GPU's
//! architecture and compute capability against what the kernels need.

use super::{check, driver_version};
use crate::env::compat::known_issues::KnownIssues;
use crate::env::compat::probe::{CudaDevice, CudaFacts, NvmlFacts, Observed};
use crate::env::compat::version::Version;
use crate::env::{Check, CheckStatus};

/// A version from a fact's text; `None` when it has no leading number.
fn version_of(text: &str) -> Option<Version> {
    Version::parse(text)
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

/// Whether the driver is present and new enough for the CUDA major version sortmark compiles
/// for, by the rules file's driver minimum where NVML gave the driver version.
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

/// Whether NVRTC loaded, without which no kernel compiles.
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

/// For one GPU: whether NVRTC compiles for its architecture (when NVRTC listed them), and
/// whether its compute capability is enough for the kernels.
fn arch_checks(cuda: &CudaFacts, device: &CudaDevice) -> Vec<Check> {
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

#[cfg(test)]
mod tests {
    use crate::env::CheckStatus;
    use crate::env::compat::checks::test_support::{find, healthy, needs, run, status};
    use crate::env::compat::probe::{CudaDevice, DriverFacts};

    #[test]
    fn driver_missing_fails() {
        let mut probe = healthy();
        probe.cuda.as_mut().unwrap().driver =
            Err("libcuda.so.1: cannot open shared object file".to_string());
        let checks = run(&probe, &needs(true, false, None));
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
        if let Ok(n) = probe.nvml.as_mut() {
            n.driver_version = Ok("525.60.13".to_string());
            n.cuda_version = Ok("12.0".to_string());
        }
        let checks = run(&probe, &needs(true, false, None));
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
        probe.nvml = Err("NVML is not available".to_string());
        let cuda = probe.cuda.as_mut().unwrap();
        cuda.driver = Ok(DriverFacts {
            cuda_version: Some("12.2".to_string()),
        });
        cuda.nvrtc.as_mut().unwrap().version = "13.0".to_string();
        let checks = run(&probe, &needs(true, false, None));
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
        let ptx = run(&probe, &needs(true, false, None));
        let c = find(&ptx, "cuda.nvrtc-vs-driver");
        assert_eq!(c.status, CheckStatus::Fail);
        assert!(c.summary.contains("PTX") && c.detail.contains("compiles to PTX"));

        probe.cuda.as_mut().unwrap().compiles_to_cubin = true;
        let cubin = run(&probe, &needs(true, false, None));
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
        let checks = run(&probe, &needs(true, false, None));
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
        let checks = run(&probe, &needs(true, false, None));
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
        let checks = run(&probe, &needs(true, false, None));
        assert_eq!(
            status(&checks, "cuda.gpu0.compute-capability"),
            CheckStatus::Fail
        );
    }

    #[test]
    fn no_cuda_facts_is_info() {
        let mut probe = healthy();
        probe.cuda = None;
        let checks = run(&probe, &needs(true, false, None));
        assert_eq!(status(&checks, "cuda.stack"), CheckStatus::Info);
    }

    #[test]
    fn facts_the_cuda_backend_did_not_give_are_unknown_not_failures() {
        let mut probe = healthy();
        let cuda = probe.cuda.as_mut().unwrap();
        cuda.driver = Ok(DriverFacts { cuda_version: None });
        cuda.nvrtc.as_mut().unwrap().supported_archs = None;
        // NVML fills in the driver's CUDA version.
        let checks = run(&probe, &needs(true, false, None));
        assert!(find(&checks, "cuda.driver").summary.contains("up to 13.0"));
        probe.nvml = Err("NVML is not available".to_string());
        let checks = run(&probe, &needs(true, false, None));
        assert_eq!(status(&checks, "cuda.driver"), CheckStatus::Ok);
        assert!(find(&checks, "cuda.driver").summary.contains("unknown"));
        assert!(
            !checks
                .iter()
                .any(|c| c.id == "cuda.gpu0.arch" || c.id == "cuda.nvrtc-vs-driver")
        );
        assert!(!checks.iter().any(|c| c.status == CheckStatus::Fail));
    }
}
