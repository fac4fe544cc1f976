//! GPU checks through NVML: whether NVML answered, and per GPU other processes, persistence
//! mode, clocks and throttling, ECC and MIG.

use super::check;
use crate::env::compat::probe::{NvmlFacts, NvmlGpu, Observed};
use crate::env::{Check, CheckStatus};

/// Throttle reasons that say nothing about a GPU's speed under load.
const BENIGN_THROTTLE: &[&str] = &["GPU_IDLE", "APPLICATIONS_CLOCKS_SETTING", "NONE"];

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
        out.extend(nvml_gpu_checks(gpu));
    }
    out
}

/// One GPU as NVML sees it: other processes, persistence mode, clocks and throttling, ECC
/// and MIG, each an info check when NVML could not read it.
fn nvml_gpu_checks(gpu: &NvmlGpu) -> Vec<Check> {
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
                number_or_unknown(&gpu.sm_clock_mhz),
                number_or_unknown(&gpu.max_sm_clock_mhz),
                number_or_unknown(&gpu.memory_clock_mhz),
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

/// A reading, or "?" when NVML could not give it.
fn number_or_unknown(value: &Observed<u32>) -> String {
    value.as_ref().map_or("?".to_string(), |v| v.to_string())
}

#[cfg(test)]
mod tests {
    use crate::env::CheckStatus;
    use crate::env::compat::checks::test_support::{find, healthy, needs, run, status};

    #[test]
    fn nvml_missing_is_info() {
        let mut probe = healthy();
        probe.nvml = Err("NVML is not available: a libloading error occurred".to_string());
        let checks = run(&probe, &needs(true, false, None));
        assert_eq!(status(&checks, "gpu.nvml"), CheckStatus::Info);
        assert!(!checks.iter().any(|c| c.status == CheckStatus::Fail));
    }

    #[test]
    fn gpu_processes_throttling_mig_and_persistence() {
        let mut probe = healthy();
        if let Ok(n) = probe.nvml.as_mut() {
            let g = &mut n.gpus[0];
            g.processes = Ok(vec![(4242, "python3".to_string())]);
            g.persistence_mode = Ok(false);
            g.throttle_reasons = Ok(vec!["SW_THERMAL_SLOWDOWN".to_string()]);
            g.mig_enabled = Ok(true);
            g.ecc_enabled = Err("This query is not supported by the device".to_string());
        }
        let checks = run(&probe, &needs(true, false, None));
        assert_eq!(status(&checks, "gpu0.processes"), CheckStatus::Warn);
        assert!(find(&checks, "gpu0.processes").detail.contains("4242"));
        assert_eq!(status(&checks, "gpu0.persistence"), CheckStatus::Info);
        assert_eq!(status(&checks, "gpu0.clocks"), CheckStatus::Warn);
        assert_eq!(status(&checks, "gpu0.mig"), CheckStatus::Warn);
        assert_eq!(status(&checks, "gpu0.ecc"), CheckStatus::Info);
    }
}
