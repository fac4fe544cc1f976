//! Environment compatibility: probe the software stack a run depends on, judge what was seen
//! against sortmark's needs and a data file of known incompatibilities, and say it as checks.
//!
//! `needs` says what a run needs from the machine ([`RunNeeds`]), which decides what is
//! probed; [`probe`] observes plain facts behind the [`Probe`] trait ([`SystemProbe`] is the
//! real one; tests inject fakes); [`checks`] turns facts into [`Check`]s with pure functions;
//! [`known_issues`] holds the rules file. A probe that fails becomes text in a check, never a
//! crash.

/// Pure functions from observations to checks.
pub mod checks;
/// The embedded rules file of known incompatibilities.
pub mod known_issues;
/// What a run needs from the machine.
pub mod needs;
/// The facts the checks judge, and the trait that observes them.
pub mod probe;
mod system;
/// Dotted versions and version ranges for the rules.
pub mod version;

use serde::{Deserialize, Serialize};

pub use needs::RunNeeds;
pub use probe::{
    CpuQuota, CudaDevice, CudaFacts, CupyDistribution, CupyImport, DriverFacts, HostFacts,
    NvmlFacts, NvmlGpu, NvrtcFacts, Observed, Probe, PythonFacts, Virtualization,
    cuda_version_string,
};
pub use system::SystemProbe;

use crate::definition::ReportDef;
use crate::env::{Check, Environment};

/// Everything the probes observed for one run, in the shape the checks read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observations {
    /// Always probed: every run uses the host.
    pub host: HostFacts,
    /// `None`: the definition runs nothing on the GPU, or this build does not probe CUDA.
    pub cuda: Option<CudaFacts>,
    /// `None`: not asked for (no GPU work in the definition).
    pub nvml: Option<Observed<NvmlFacts>>,
    /// One per Python interpreter the definition's peers use.
    pub python: Vec<(String, Observed<PythonFacts>)>,
}

/// Asks `probe` for what the run needs: the GPU only for GPU work, Python only for peers.
pub fn observe(probe: &dyn Probe, needs: &RunNeeds) -> Observations {
    let gpu_work = needs.uses_cuda || !needs.cupy_interpreters.is_empty();
    Observations {
        host: probe.host(),
        cuda: needs.uses_cuda.then(|| probe.cuda()).flatten(),
        nvml: gpu_work.then(|| probe.nvml()),
        python: needs
            .python_interpreters
            .iter()
            .map(|interpreter| (interpreter.clone(), probe.python(interpreter)))
            .collect(),
    }
}

/// Probes with `probe` and checks what it saw.
pub fn check_with(probe: &dyn Probe, needs: &RunNeeds) -> Vec<Check> {
    checks::checks(&observe(probe, needs), needs)
}

/// The runner's entry point: probes this machine for what `definition` (read from `folder`)
/// needs (`cuda`: the CUDA backend's view of the driver and NVRTC, `None` where it was not
/// probed) and returns the checks for `run.checks`.
pub fn environment_checks(
    environment: &Environment,
    definition: &ReportDef,
    folder: &std::path::Path,
    max_threads: Option<u32>,
    cuda: Option<CudaFacts>,
) -> Vec<Check> {
    let needs = RunNeeds::new(environment, definition, max_threads, folder);
    check_with(&SystemProbe::new(cuda), &needs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::compat::checks::test_support::{healthy, needs};

    #[test]
    fn a_cpu_only_definition_asks_nothing_of_the_gpu_or_python() {
        let mut probe = healthy();
        probe.nvml = Err("must not be asked".to_string());
        probe.python = Err("must not be asked".to_string());
        let observed = observe(&probe, &needs(false, false, Some(4)));
        assert!(observed.nvml.is_none() && observed.cuda.is_none() && observed.python.is_empty());
        let checks = checks::checks(&observed, &needs(false, false, Some(4)));
        assert!(!checks.iter().any(|c| c.id.starts_with("gpu")
            || c.id.starts_with("python")
            || c.id.starts_with("cuda")));
        // The observations can be recorded.
        assert!(serde_json::to_string(&observed).is_ok());
    }
}
