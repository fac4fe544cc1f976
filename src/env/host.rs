//! Host hardware and OS facts, read through sysinfo and Linux's /sys where available.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The CPU as the run saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CpuInfo {
    /// The brand string, e.g. "AMD EPYC 9654 96-Core Processor".
    pub model: String,
    /// The vendor id, e.g. "AuthenticAMD".
    pub vendor: String,
    /// The instruction-set architecture, e.g. "x86_64".
    pub architecture: String,
    /// The logical CPUs this process may use (`available_parallelism`).
    pub logical_cores: u32,
    /// Physical cores, when the OS says.
    pub physical_cores: Option<u32>,
    /// Caches of the first core, from /sys (empty where unavailable).
    pub caches: Vec<CacheInfo>,
    /// The frequency sysinfo reports for the first core, in MHz.
    pub frequency_mhz: u64,
    /// Instruction-set features relevant to sorting (AVX2, AVX-512 …).
    pub features: Vec<String>,
}

/// One CPU cache level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CacheInfo {
    /// 1, 2 or 3.
    pub level: u32,
    /// `Data`, `Instruction` or `Unified`.
    pub kind: String,
    /// Its size in bytes.
    pub size_bytes: u64,
    /// How many logical CPUs share it.
    pub shared_by: Option<u32>,
}

/// Host memory at the start of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MemoryInfo {
    /// Memory the OS sees, in bytes (0 when it could not be read).
    pub total_bytes: u64,
    /// Memory available for new allocations, in bytes.
    pub available_bytes: u64,
}

/// The operating system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OsInfo {
    /// The distribution or OS name.
    pub name: String,
    /// The OS version.
    pub version: String,
    /// The kernel version.
    pub kernel: String,
    /// The host name, `anonymized` with `--anonymize`.
    pub hostname: String,
}

/// Reads the CPU model, cores, caches, frequency and sort-relevant features.
pub fn cpu() -> CpuInfo {
    // A failed probe leaves the fields it would have filled as "unknown", never an error.
    let system = sysinfo::System::new().ok().map(|mut s| {
        s.refresh_cpu_all();
        s
    });
    let first = system.as_ref().and_then(|s| s.cpus().first());
    CpuInfo {
        model: first
            .map(|c| c.brand().trim().to_string())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| "unknown CPU".to_string()),
        vendor: first.map(|c| c.vendor_id().to_string()).unwrap_or_default(),
        architecture: std::env::consts::ARCH.to_string(),
        logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        physical_cores: sysinfo::System::physical_core_count()
            .ok()
            .map(|c| c as u32),
        caches: caches(),
        frequency_mhz: first.map_or(0, |c| c.frequency()),
        features: features(),
    }
}

/// Reads total and available host memory.
pub fn memory() -> MemoryInfo {
    match sysinfo::System::new() {
        Ok(mut system) => {
            system.refresh_memory();
            MemoryInfo {
                total_bytes: system.total_memory(),
                available_bytes: system.available_memory(),
            }
        }
        Err(_) => MemoryInfo {
            total_bytes: 0,
            available_bytes: 0,
        },
    }
}

/// Reads the OS name, version, kernel and host name.
pub fn os() -> OsInfo {
    OsInfo {
        name: sysinfo::System::name().unwrap_or_else(|_| std::env::consts::OS.to_string()),
        version: sysinfo::System::os_version().unwrap_or_default(),
        kernel: sysinfo::System::kernel_version().unwrap_or_default(),
        hostname: sysinfo::System::host_name().unwrap_or_default(),
    }
}

fn caches() -> Vec<CacheInfo> {
    let base = std::path::Path::new("/sys/devices/system/cpu/cpu0/cache");
    let Ok(entries) = std::fs::read_dir(base) else {
        return Vec::new();
    };
    let read = |dir: &std::path::Path, name: &str| {
        std::fs::read_to_string(dir.join(name))
            .ok()
            .map(|s| s.trim().to_string())
    };
    let mut caches: Vec<CacheInfo> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("index"))
        .filter_map(|e| {
            let dir = e.path();
            Some(CacheInfo {
                level: read(&dir, "level")?.parse().ok()?,
                kind: read(&dir, "type")?,
                size_bytes: parse_cache_size(&read(&dir, "size")?)?,
                shared_by: read(&dir, "shared_cpu_list").map(|l| count_cpu_list(&l)),
            })
        })
        .collect();
    caches.sort_by(|a, b| (a.level, &a.kind).cmp(&(b.level, &b.kind)));
    caches
}

/// "48K" / "2048K" / "32M" as bytes.
fn parse_cache_size(s: &str) -> Option<u64> {
    let (digits, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "" => n,
        "K" => n << 10,
        "M" => n << 20,
        "G" => n << 30,
        _ => return None,
    })
}

/// Counts the CPUs in a list such as "0-3,8,10-11".
pub(crate) fn count_cpu_list(list: &str) -> u32 {
    list.split(',')
        .filter_map(|part| match part.split_once('-') {
            Some((a, b)) => Some(b.trim().parse::<u32>().ok()? - a.trim().parse::<u32>().ok()? + 1),
            None => part.trim().parse::<u32>().ok().map(|_| 1),
        })
        .sum()
}

fn features() -> Vec<String> {
    #[cfg(target_arch = "x86_64")]
    {
        let mut f = Vec::new();
        macro_rules! probe {
            ($($name:tt),*) => {$(
                if std::arch::is_x86_feature_detected!($name) {
                    f.push($name.to_string());
                }
            )*};
        }
        probe!(
            "sse4.2",
            "popcnt",
            "bmi2",
            "avx",
            "avx2",
            "fma",
            "avx512f",
            "avx512bw",
            "avx512vl",
            "avx512vbmi2"
        );
        f
    }
    #[cfg(target_arch = "aarch64")]
    {
        let mut f = Vec::new();
        if std::arch::is_aarch64_feature_detected!("neon") {
            f.push("neon".to_string());
        }
        if std::arch::is_aarch64_feature_detected!("sve") {
            f.push("sve".to_string());
        }
        f
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sysfs_formats() {
        assert_eq!(parse_cache_size("48K"), Some(48 << 10));
        assert_eq!(parse_cache_size("32M"), Some(32 << 20));
        assert_eq!(parse_cache_size("x"), None);
        assert_eq!(count_cpu_list("0-3,8,10-11"), 7);
        assert_eq!(count_cpu_list("5"), 1);
    }

    #[test]
    fn probes_this_machine() {
        let c = cpu();
        assert!(c.logical_cores >= 1);
        assert!(memory().total_bytes > 0);
    }
}
