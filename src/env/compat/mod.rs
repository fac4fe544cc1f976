//! Environment compatibility: probe the software stack a run depends on, judge what was seen
//! against sortmark's needs and a data file of known incompatibilities, and say it as checks.
//!
//! [`probe`] observes plain facts behind the [`Probe`] trait ([`SystemProbe`] is the real one;
//! tests inject fakes). A probe that fails becomes text, never a crash.

pub mod known_issues;
pub mod probe;
mod system;
pub mod version;

pub use probe::{
    CpuQuota, CudaDevice, CudaFacts, CupyDistribution, CupyImport, DriverFacts, GpuFacts,
    HostFacts, NvmlFacts, NvrtcFacts, Observed, Probe, PythonFacts, Virtualization,
};
pub use system::SystemProbe;
