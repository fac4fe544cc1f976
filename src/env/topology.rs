//! How the GPUs of a host are linked (NVLink or PCIe), read through NVML.

use nvml_wrapper::Nvml;
use nvml_wrapper::enum_wrappers::device::TopologyLevel;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// NVML's largest NVLink index (NVML_NVLINK_MAX_LINKS).
const MAX_NVLINKS: u32 = 18;

/// The connection between two GPUs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GpuLink {
    /// NVML indices of the two GPUs (the CUDA ordinals when CUDA_DEVICE_ORDER=PCI_BUS_ID).
    pub a: u32,
    /// The second GPU of the pair.
    pub b: u32,
    /// `NVLink` when they share active NVLinks (directly or through NVSwitch), else `PCIe`.
    pub kind: String,
    /// Active NVLinks of `a` that reach `b` directly (0 through NVSwitch or PCIe).
    pub direct_nvlinks: u32,
    /// How the link was judged, e.g. "18 active NVLinks each, through NVSwitch" or
    /// "PCIe: through a single switch".
    pub detail: String,
}

/// One GPU's active NVLinks, as the bus ids at their far ends.
struct NvlinkEnds {
    bus_id: String,
    remotes: Vec<String>,
}

/// Every pair of GPUs with its link, or why NVML could not say.
pub fn gpu_links() -> Result<Vec<GpuLink>, String> {
    let nvml = Nvml::init().map_err(|e| format!("NVML is not available: {e}"))?;
    let count = nvml
        .device_count()
        .map_err(|e| format!("NVML device count: {e}"))?;
    let ends: Vec<NvlinkEnds> = (0..count)
        .map(|i| {
            let device = nvml
                .device_by_index(i)
                .map_err(|e| format!("NVML device {i}: {e}"))?;
            let bus_id = device.pci_info().map(|p| p.bus_id).unwrap_or_default();
            let remotes = (0..MAX_NVLINKS)
                .filter_map(|l| {
                    let link = device.link_wrapper_for(l);
                    link.is_active().ok().filter(|&a| a)?;
                    link.remote_pci_info().ok().map(|p| p.bus_id)
                })
                .collect();
            Ok(NvlinkEnds { bus_id, remotes })
        })
        .collect::<Result<_, String>>()?;
    let mut links = Vec::new();
    for a in 0..count {
        for b in a + 1..count {
            let pcie = match (nvml.device_by_index(a), nvml.device_by_index(b)) {
                (Ok(da), Ok(db)) => da.topology_common_ancestor(db).ok().map(pcie_words),
                _ => None,
            };
            links.push(judge(a, b, &ends[a as usize], &ends[b as usize], pcie));
        }
    }
    Ok(links)
}

/// Decides one pair's link from the NVLink ends of both GPUs and their PCIe ancestry.
fn judge(a: u32, b: u32, ea: &NvlinkEnds, eb: &NvlinkEnds, pcie: Option<&'static str>) -> GpuLink {
    let is_gpu = |bus: &String| *bus == ea.bus_id || *bus == eb.bus_id;
    let direct = ea.remotes.iter().filter(|r| **r == eb.bus_id).count() as u32;
    let switched = |e: &NvlinkEnds| e.remotes.iter().filter(|r| !is_gpu(r)).count();
    let (kind, detail) = if direct > 0 {
        ("NVLink", format!("{direct} direct NVLinks"))
    } else if switched(ea) > 0 && switched(eb) > 0 {
        (
            "NVLink",
            format!(
                "{} and {} active NVLinks, through NVSwitch",
                ea.remotes.len(),
                eb.remotes.len()
            ),
        )
    } else {
        ("PCIe", format!("PCIe: {}", pcie.unwrap_or("path unknown")))
    };
    GpuLink {
        a,
        b,
        kind: kind.to_string(),
        direct_nvlinks: direct,
        detail,
    }
}

fn pcie_words(level: TopologyLevel) -> &'static str {
    match level {
        TopologyLevel::Internal => "on one board",
        TopologyLevel::Single => "through a single PCIe switch",
        TopologyLevel::Multiple => "through several PCIe switches",
        TopologyLevel::HostBridge => "through the host bridge",
        TopologyLevel::Node => "across host bridges of one NUMA node",
        TopologyLevel::System => "across NUMA nodes",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(bus: &str, remotes: &[&str]) -> NvlinkEnds {
        NvlinkEnds {
            bus_id: bus.to_string(),
            remotes: remotes.iter().map(|r| r.to_string()).collect(),
        }
    }

    #[test]
    fn judges_direct_switched_and_pcie_links() {
        let direct = judge(
            0,
            1,
            &ends("A", &["B", "B", "B"]),
            &ends("B", &["A", "A", "A"]),
            None,
        );
        assert_eq!((direct.kind.as_str(), direct.direct_nvlinks), ("NVLink", 3));
        let switch = judge(
            0,
            1,
            &ends("A", &["S1", "S2"]),
            &ends("B", &["S1", "S2"]),
            None,
        );
        assert_eq!(switch.kind, "NVLink");
        assert!(switch.detail.contains("NVSwitch"));
        let pcie = judge(
            0,
            1,
            &ends("A", &[]),
            &ends("B", &[]),
            Some(pcie_words(TopologyLevel::Single)),
        );
        assert_eq!(pcie.kind, "PCIe");
        assert!(pcie.detail.contains("single PCIe switch"));
    }

    #[test]
    fn without_nvml_the_links_are_an_error_not_a_panic() {
        if std::path::Path::new("/dev/nvidiactl").exists() {
            return;
        }
        assert!(gpu_links().is_err());
    }
}
