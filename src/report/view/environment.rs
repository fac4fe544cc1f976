//! The environment a run saw: host, software and GPUs as headed facts, and the compatibility
//! checks.

use serde::Serialize;

use crate::env::gpu::GpuInfo;
use crate::env::{Check, CheckStatus, Environment};
use crate::units;

use super::super::table::{Header, Row, Table};

/// The environment: label–value sections, and tables where there are several devices.
#[derive(Debug, Clone, Serialize)]
pub struct EnvView {
    /// A one-line summary.
    pub one_line: String,
    /// Host, software, settings that change results, and GPUs, in that order.
    pub sections: Vec<EnvSection>,
}

/// A compatibility check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckView {
    /// The check's stable identifier.
    pub id: String,
    /// The part of the system it checks.
    pub component: String,
    /// `ok`, `info`, `warn` or `fail`.
    pub status: String,
    /// The result in one line.
    pub summary: String,
    /// What was found, in full.
    pub detail: String,
    /// How to fix it; empty when nothing needs fixing.
    pub remedy: String,
}

/// A headed list of facts, e.g. `Host` or `Software`.
#[derive(Debug, Clone, Serialize)]
pub struct EnvSection {
    /// The section's heading.
    pub heading: String,
    /// Its facts in order.
    pub facts: Vec<Fact>,
    /// A table of devices (GPUs) under the facts; `None` when there is none.
    pub table: Option<Table>,
    /// The same table in Markdown.
    pub table_md: Option<String>,
}

/// One label and its value.
#[derive(Debug, Clone, Serialize)]
pub struct Fact {
    /// What the fact is about.
    pub label: String,
    /// The fact, formatted.
    pub value: String,
}

/// The environment as sections of facts.
pub fn environment(env: &Environment) -> EnvView {
    EnvView {
        one_line: env.one_line(),
        sections: vec![
            section("Host", host_facts(env)),
            section("Software", software_facts(env)),
            section(
                "Settings that change results",
                env.settings
                    .facts()
                    .into_iter()
                    .map(|(label, value)| fact(&label, value))
                    .collect(),
            ),
            gpu_section(env),
        ],
    }
}

/// A section of facts without a table.
fn section(heading: &str, facts: Vec<Fact>) -> EnvSection {
    EnvSection {
        heading: heading.to_string(),
        facts,
        table: None,
        table_md: None,
    }
}

/// The CPU, its caches and features, the memory and the host name.
fn host_facts(env: &Environment) -> Vec<Fact> {
    let cpu = &env.cpu;
    vec![
        fact("CPU", cpu.model.clone()),
        fact(
            "Vendor / architecture",
            format!("{} / {}", or_unknown(cpu.vendor.clone()), cpu.architecture),
        ),
        fact(
            "Cores",
            format!(
                "{} logical, {} physical",
                cpu.logical_cores,
                cpu.physical_cores
                    .map_or("unknown".to_string(), |c| c.to_string())
            ),
        ),
        fact(
            "Frequency",
            if cpu.frequency_mhz == 0 {
                "unknown".to_string()
            } else {
                units::mhz(cpu.frequency_mhz)
            },
        ),
        fact("Caches", or_unknown(caches(env))),
        fact("Features", or_unknown(cpu.features.join(", "))),
        fact(
            "Memory",
            format!(
                "{} total, {} available at start",
                units::bytes(env.memory.total_bytes),
                units::bytes(env.memory.available_bytes)
            ),
        ),
        fact("Host name", or_unknown(env.os.hostname.clone())),
    ]
}

/// The CPU's caches in one line, level, kind and size of each, separated by semicolons.
fn caches(env: &Environment) -> String {
    env.cpu
        .caches
        .iter()
        .map(|c| {
            let shared = c
                .shared_by
                .map_or(String::new(), |n| format!(", shared by {n}"));
            format!(
                "L{} {} {}{shared}",
                c.level,
                c.kind.to_lowercase(),
                units::bytes(c.size_bytes)
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The operating system, the kernel, and the sortmark build.
fn software_facts(env: &Environment) -> Vec<Fact> {
    vec![
        fact(
            "Operating system",
            or_unknown(format!("{} {}", env.os.name, env.os.version)),
        ),
        fact("Kernel", or_unknown(env.os.kernel.clone())),
        fact(
            "sortmark",
            format!("{} ({})", env.sortmark_version, commit(env)),
        ),
        fact(
            "Build",
            format!(
                "{} profile, {}, {}",
                env.toolchain.profile, env.toolchain.target, env.toolchain.rustc
            ),
        ),
    ]
}

/// `unknown` for a value the probes left blank, so that no fact reads empty.
fn or_unknown(s: String) -> String {
    if s.trim().is_empty() {
        "unknown".to_string()
    } else {
        s
    }
}

/// The GPUs: the CUDA stack as facts, and one table row per GPU a CUDA sweep used.
fn gpu_section(env: &Environment) -> EnvSection {
    let mut facts = Vec::new();
    match &env.cuda {
        None => facts.push(fact("CUDA", "not probed".to_string())),
        Some(record) => {
            if let Some(why) = &record.unavailable {
                facts.push(fact("CUDA", format!("unavailable: {why}")));
            }
            if let Some(stack) = &record.stack {
                facts.push(fact(
                    "CUDA driver",
                    format!(
                        "supports CUDA {}.{}, {} GPU(s)",
                        stack.driver_version / 1000,
                        (stack.driver_version % 1000) / 10,
                        stack.device_count
                    ),
                ));
                facts.push(fact(
                    "NVRTC",
                    format!("{}.{}", stack.nvrtc_version.0, stack.nvrtc_version.1),
                ));
                facts.push(fact("Driver API (bindings)", stack.cudarc_api.clone()));
            }
        }
    }
    if let Some(note) = &env.gpu_links_note {
        facts.push(fact("Links", format!("unknown: {note}")));
    }
    for link in &env.gpu_links {
        facts.push(fact(
            &format!("GPU {} ↔ GPU {}", link.a, link.b),
            format!("{} ({})", link.kind, link.detail),
        ));
    }
    let table = (!env.gpus.is_empty()).then(|| gpu_table(&env.gpus));
    EnvSection {
        heading: "GPUs".to_string(),
        facts,
        table_md: table.as_ref().map(Table::to_markdown),
        table,
    }
}

/// One row per GPU: what it is, its memory and clocks, and its measured copy bandwidth.
pub fn gpu_table(gpus: &[GpuInfo]) -> Table {
    let khz = |k: Option<u32>| k.map_or("–".to_string(), |k| units::mhz(u64::from(k) / 1000));
    Table {
        headers: vec![
            Header::new("GPU", false),
            Header::new("Name", false),
            Header::new("Compute capability", false),
            Header::new("SMs", true),
            Header::new("Memory", true),
            Header::new("L2", true),
            Header::new("SM clock", true),
            Header::new("Memory clock", true),
            Header::new("PCI bus", false),
            Header::new("Copy bandwidth", true),
        ],
        rows: gpus
            .iter()
            .map(|g| Row {
                cells: vec![
                    g.ordinal.to_string(),
                    g.name.clone(),
                    format!("{}.{}", g.compute_capability.0, g.compute_capability.1),
                    g.sm_count.to_string(),
                    units::bytes(g.memory_total_bytes),
                    units::bytes(g.l2_bytes),
                    khz(g.clock_khz),
                    khz(g.memory_clock_khz),
                    g.pci_bus_id.clone(),
                    g.copy_bandwidth_bytes_per_s
                        .map_or("–".to_string(), units::bytes_per_s),
                ],
                status: "ok".to_string(),
            })
            .collect(),
    }
}

/// A label and its value.
pub(super) fn fact(label: &str, value: String) -> Fact {
    Fact {
        label: label.to_string(),
        value,
    }
}

/// The commit with its dirty flag: `1d9a201c…`, `… (uncommitted changes)`.
pub(super) fn commit(env: &Environment) -> String {
    let short: String = env.git_commit.chars().take(12).collect();
    match env.git_dirty {
        Some(true) => format!("commit {short}, with uncommitted changes"),
        Some(false) => format!("commit {short}"),
        None => format!("commit {short}, clean state unknown"),
    }
}

/// A check as the report lists it.
pub(super) fn check_view(c: &Check) -> CheckView {
    CheckView {
        id: c.id.clone(),
        component: c.component.clone(),
        status: c.status.name().to_string(),
        summary: c.summary.clone(),
        detail: c.detail.clone(),
        remedy: c.remedy.clone().unwrap_or_default(),
    }
}

/// The checks that warn or fail, worst first.
pub(super) fn warnings(checks: &[Check]) -> Vec<CheckView> {
    let mut warnings: Vec<&Check> = checks
        .iter()
        .filter(|c| c.status >= CheckStatus::Warn)
        .collect();
    warnings.sort_by_key(|c| std::cmp::Reverse(c.status));
    warnings.into_iter().map(check_view).collect()
}
