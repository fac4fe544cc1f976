//! Settings outside the definition that change what a run measures: environment variables
//! sortmark, rayon or CUDA read, and the kernel's memory and frequency policies.
//!
//! Each is recorded as found (`None` where Linux does not tell), so that two runs that differ
//! only in such a setting can be told apart in their records.

use std::path::Path;

use serde::{Deserialize, Serialize};

/// Environment variables whose value changes a result, by exact name or by prefix.
const VARIABLES: [&str; 8] = [
    "SORTMARK_",
    "RAYON_NUM_THREADS",
    "OMP_NUM_THREADS",
    "CUDA_VISIBLE_DEVICES",
    "CUDA_DEVICE_ORDER",
    "CUDA_MODULE_LOADING",
    "CUDA_LAUNCH_BLOCKING",
    "CUPY_",
];

/// The settings a run saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Settings {
    /// Environment variables that change results (`SORTMARK_RADIX_VECTOR`, `RAYON_NUM_THREADS`,
    /// `CUDA_VISIBLE_DEVICES`, …), sorted by name; unset ones are left out.
    pub variables: Vec<(String, String)>,
    /// The transparent-huge-page mode (`always`, `madvise` or `never`): whether large buffers
    /// get huge pages changes a sort's memory time.
    pub transparent_hugepages: Option<String>,
    /// The transparent-huge-page defrag mode.
    pub transparent_hugepages_defrag: Option<String>,
    /// The CPU frequency governors in use, each once (`performance`, `powersave`, …).
    pub cpu_governors: Vec<String>,
    /// Whether the CPU may boost above its base clock (`Some(true)`: on).
    pub cpu_boost: Option<bool>,
    /// Simultaneous multithreading control (`on`, `off`, `notsupported`, …).
    pub smt: Option<String>,
}

impl Settings {
    /// The settings of this process and machine.
    pub fn probe() -> Settings {
        Settings::read(std::env::vars(), Path::new("/sys"))
    }

    /// The settings from `vars` and a sysfs tree at `sys`.
    fn read(vars: impl Iterator<Item = (String, String)>, sys: &Path) -> Settings {
        let mut variables: Vec<(String, String)> = vars
            .filter(|(name, _)| {
                VARIABLES.iter().any(|v| match v.strip_suffix('_') {
                    Some(_) => name.starts_with(v),
                    None => name == v,
                })
            })
            .collect();
        variables.sort();
        let thp = sys.join("kernel/mm/transparent_hugepage");
        Settings {
            variables,
            transparent_hugepages: selected(&thp.join("enabled")),
            transparent_hugepages_defrag: selected(&thp.join("defrag")),
            cpu_governors: governors(&sys.join("devices/system/cpu")),
            cpu_boost: boost(&sys.join("devices/system/cpu")),
            smt: read_trimmed(&sys.join("devices/system/cpu/smt/control")),
        }
    }

    /// The settings as label–value pairs for a report; empty lists left out.
    pub fn facts(&self) -> Vec<(String, String)> {
        let mut facts = Vec::new();
        let or_unknown = |v: &Option<String>| v.clone().unwrap_or_else(|| "unknown".to_string());
        facts.push((
            "Transparent huge pages".to_string(),
            format!(
                "{} (defrag {})",
                or_unknown(&self.transparent_hugepages),
                or_unknown(&self.transparent_hugepages_defrag)
            ),
        ));
        if !self.cpu_governors.is_empty() {
            facts.push((
                "CPU frequency governor".to_string(),
                self.cpu_governors.join(", "),
            ));
        }
        if let Some(boost) = self.cpu_boost {
            facts.push(("CPU boost".to_string(), on_off(boost).to_string()));
        }
        if let Some(smt) = &self.smt {
            facts.push(("SMT".to_string(), smt.clone()));
        }
        let variables = if self.variables.is_empty() {
            "none set".to_string()
        } else {
            self.variables
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        facts.push(("Environment variables".to_string(), variables));
        facts
    }
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

fn read_trimmed(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

/// The bracketed choice of a sysfs mode file such as `always [madvise] never`.
fn selected(path: &Path) -> Option<String> {
    let text = read_trimmed(path)?;
    let start = text.find('[')?;
    let end = text[start..].find(']')? + start;
    Some(text[start + 1..end].to_string())
}

/// The governors of every `cpuN/cpufreq/scaling_governor`, sorted, each once.
fn governors(cpu_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(cpu_dir) else {
        return Vec::new();
    };
    let mut found: Vec<String> = entries
        .flatten()
        .filter(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_prefix("cpu")
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter_map(|e| read_trimmed(&e.path().join("cpufreq/scaling_governor")))
        .collect();
    found.sort();
    found.dedup();
    found
}

/// Boost from `cpufreq/boost` (acpi-cpufreq, amd-pstate) or `intel_pstate/no_turbo`.
fn boost(cpu_dir: &Path) -> Option<bool> {
    if let Some(boost) = read_trimmed(&cpu_dir.join("cpufreq/boost")) {
        return Some(boost == "1");
    }
    read_trimmed(&cpu_dir.join("intel_pstate/no_turbo")).map(|no_turbo| no_turbo == "0")
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn reads_variables_and_a_sysfs_tree() {
        let sys = tempfile::tempdir().unwrap();
        let root = sys.path();
        write(
            root,
            "kernel/mm/transparent_hugepage/enabled",
            "always [madvise] never\n",
        );
        write(
            root,
            "kernel/mm/transparent_hugepage/defrag",
            "[always] defer madvise never\n",
        );
        write(
            root,
            "devices/system/cpu/cpu0/cpufreq/scaling_governor",
            "performance\n",
        );
        write(
            root,
            "devices/system/cpu/cpu1/cpufreq/scaling_governor",
            "powersave\n",
        );
        write(
            root,
            "devices/system/cpu/cpu12/cpufreq/scaling_governor",
            "performance\n",
        );
        write(
            root,
            "devices/system/cpu/cpufreq/scaling_governor",
            "ignored\n",
        );
        write(root, "devices/system/cpu/intel_pstate/no_turbo", "1\n");
        write(root, "devices/system/cpu/smt/control", "on\n");
        let vars = [
            ("SORTMARK_RADIX_VECTOR", "off"),
            ("HOME", "/root"),
            ("RAYON_NUM_THREADS", "4"),
            ("RAYON_NUM_THREADS_X", "9"),
            ("CUDA_VISIBLE_DEVICES", "1"),
        ]
        .map(|(k, v)| (k.to_string(), v.to_string()));
        let settings = Settings::read(vars.into_iter(), root);
        assert_eq!(
            settings.variables,
            [
                ("CUDA_VISIBLE_DEVICES".to_string(), "1".to_string()),
                ("RAYON_NUM_THREADS".to_string(), "4".to_string()),
                ("SORTMARK_RADIX_VECTOR".to_string(), "off".to_string()),
            ]
        );
        assert_eq!(settings.transparent_hugepages.as_deref(), Some("madvise"));
        assert_eq!(
            settings.transparent_hugepages_defrag.as_deref(),
            Some("always")
        );
        assert_eq!(settings.cpu_governors, ["performance", "powersave"]);
        assert_eq!(settings.cpu_boost, Some(false));
        assert_eq!(settings.smt.as_deref(), Some("on"));
        let facts = settings.facts();
        assert!(facts.contains(&(
            "Transparent huge pages".to_string(),
            "madvise (defrag always)".to_string()
        )));
    }

    #[test]
    fn a_machine_that_tells_nothing_gives_unknowns() {
        let sys = tempfile::tempdir().unwrap();
        let settings = Settings::read(std::iter::empty(), sys.path());
        assert_eq!(settings, Settings::default());
        let facts = settings.facts();
        assert_eq!(facts.len(), 2, "{facts:?}");
        assert_eq!(facts[1].1, "none set");
    }
}
