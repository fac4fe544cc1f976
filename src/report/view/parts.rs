//! The parts a merged run was joined from, as a section of the environment: one fact per
//! machine and one table row per part, so that a reader of a run measured on several machines
//! sees where each case came from.

use crate::record::Run;
use crate::record::parts::Part;

use super::super::table::{Header, Row, Table};
use super::EnvSection;
use super::environment::fact;

/// The section of a merged run's parts; `None` for a run that measured its own cases.
pub fn parts_section(run: &Run) -> Option<EnvSection> {
    if run.parts.is_empty() {
        return None;
    }
    let mut machines: Vec<&str> = run.parts.iter().map(|p| p.machine.as_str()).collect();
    machines.dedup();
    machines.sort_unstable();
    machines.dedup();
    let facts = machines
        .iter()
        .map(|machine| {
            let part = run
                .parts
                .iter()
                .find(|p| p.machine == *machine)
                .map(machine_line)
                .unwrap_or_default();
            fact(&format!("Machine {machine}"), part)
        })
        .collect();
    let table = parts_table(&run.parts);
    Some(EnvSection {
        heading: format!(
            "Parts ({} merged, {} machine(s))",
            run.parts.len(),
            machines.len()
        ),
        facts,
        table_md: Some(table.to_markdown()),
        table: Some(table),
    })
}

/// A machine in one line: its CPU, GPUs and the sortmark that ran there.
fn machine_line(part: &Part) -> String {
    let env = &part.environment;
    let gpus: Vec<&str> = env.gpus.iter().map(|g| g.name.as_str()).collect();
    let gpus = if gpus.is_empty() {
        "no GPU used".to_string()
    } else {
        gpus.join(", ")
    };
    format!(
        "{}, {} logical cores; {gpus}; {} {} ({})",
        env.cpu.model, env.cpu.logical_cores, env.os.name, env.os.version, env.sortmark_version
    )
}

/// One row per part: which part, its machine, run id, cases and when it ran.
fn parts_table(parts: &[Part]) -> Table {
    Table {
        headers: vec![
            Header::new("Part", false),
            Header::new("Machine", false),
            Header::new("Run", false),
            Header::new("Cases", true),
            Header::new("Started", false),
            Header::new("Finished", false),
        ],
        rows: parts
            .iter()
            .map(|p| Row {
                cells: vec![
                    format!("part {}", p.shard),
                    p.machine.clone(),
                    p.run_id.clone(),
                    p.cases.to_string(),
                    p.started_at.clone(),
                    p.finished_at.clone().unwrap_or_else(|| "–".to_string()),
                ],
                status: "ok".to_string(),
            })
            .collect(),
    }
}
