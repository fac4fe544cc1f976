//! What else the machine did while a case ran: CPU time stolen by the hypervisor, other
//! processes' load, the cores' clock and how often sortmark's threads moved between cores.
//!
//! A CPU case timed while a neighbour steals cycles or another program keeps the cores busy
//! measures that neighbour as much as the sort; such a case is flagged so that a reader (and a
//! comparison) knows. Everything is read from Linux's `/proc` and `/sys`; elsewhere, or where a
//! file cannot be read, the figures are simply absent.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Steal above this share of the machine's CPU time flags a case.
pub const STEAL_FLAG: f64 = 0.02;
/// Other processes' load above this share of the machine's CPU time flags a case.
pub const LOAD_FLAG: f64 = 0.10;
/// The fewest clock ticks of the machine's CPU time (all CPUs together; a tick is 10 ms on
/// Linux) that shares are judged on: over less, one tick of someone else's work is a large share.
const MIN_TICKS: u64 = 100;

/// The machine's and this process's CPU counters at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LoadSample {
    /// All CPUs' time, in clock ticks: busy (user, nice, system, irq, softirq), idle (idle and
    /// iowait), and stolen by the hypervisor.
    busy: u64,
    idle: u64,
    steal: u64,
    /// This process's own user and system time, in the same ticks.
    own: u64,
    /// Migrations of this process's threads between CPUs, where the kernel reports them.
    migrations: Option<u64>,
}

impl LoadSample {
    /// Reads the counters now; `None` where `/proc/stat` cannot be read (not Linux).
    pub fn now() -> Option<LoadSample> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let own = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| own_ticks(&s))
            .unwrap_or(0);
        let mut sample = machine_ticks(&stat)?;
        sample.own = own;
        sample.migrations = thread_migrations();
        Some(sample)
    }
}

/// What disturbed a case, summed over its rounds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
pub struct Disturbance {
    /// Share of the machine's CPU time the hypervisor stole while the case ran.
    pub steal_share: f64,
    /// Share of the machine's CPU time that other processes kept busy while the case ran.
    pub other_load_share: f64,
    /// Migrations of sortmark's threads between CPUs while the case ran, where reported.
    pub migrations: Option<u64>,
    /// The cores' mean clock at the end of the case, in MHz, where readable.
    pub mean_mhz: Option<f64>,
}

impl Disturbance {
    /// Whether the case ran under enough steal or other load to doubt its figures.
    pub fn flagged(&self) -> bool {
        self.steal_share > STEAL_FLAG || self.other_load_share > LOAD_FLAG
    }

    /// One line for a reader: what disturbed the case.
    pub fn describe(&self) -> String {
        format!(
            "under load: {:.0} % other processes, {:.0} % steal",
            self.other_load_share * 100.0,
            self.steal_share * 100.0
        )
    }
}

/// Adds up what happened between pairs of samples (one pair per round of a case).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct LoadTally {
    busy: u64,
    idle: u64,
    steal: u64,
    own: u64,
    migrations: Option<u64>,
}

impl LoadTally {
    /// Adds the interval from `before` to `after`.
    pub fn add(&mut self, before: &LoadSample, after: &LoadSample) {
        self.busy += after.busy.saturating_sub(before.busy);
        self.idle += after.idle.saturating_sub(before.idle);
        self.steal += after.steal.saturating_sub(before.steal);
        self.own += after.own.saturating_sub(before.own);
        if let (Some(b), Some(a)) = (before.migrations, after.migrations) {
            self.migrations = Some(self.migrations.unwrap_or(0) + a.saturating_sub(b));
        }
    }

    /// The shares of the time added up; `None` when too little time was seen to judge.
    pub fn disturbance(&self) -> Option<Disturbance> {
        let total = self.busy + self.idle + self.steal;
        if total < MIN_TICKS {
            return None;
        }
        let share = |ticks: u64| ticks as f64 / total as f64;
        Some(Disturbance {
            steal_share: share(self.steal),
            other_load_share: share(self.busy.saturating_sub(self.own)),
            migrations: self.migrations,
            mean_mhz: mean_mhz(),
        })
    }
}

/// The machine-wide counters of `/proc/stat`'s first line.
fn machine_ticks(stat: &str) -> Option<LoadSample> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let field = |i: usize| v.get(i).copied().unwrap_or(0);
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    Some(LoadSample {
        busy: field(0) + field(1) + field(2) + field(5) + field(6),
        idle: field(3) + field(4),
        steal: field(7),
        own: 0,
        migrations: None,
    })
}

/// This process's user and system ticks from `/proc/self/stat` (fields 14 and 15, counted
/// after the parenthesised command name, which may hold spaces).
fn own_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name: state is field 3, so utime (14) and stime (15) are at 11 and 12.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// Migrations of every thread of this process, from `/proc/self/task/*/sched` (kernels built
/// with scheduler statistics only).
fn thread_migrations() -> Option<u64> {
    let tasks = std::fs::read_dir("/proc/self/task").ok()?;
    let mut total = None;
    for task in tasks.flatten() {
        let Ok(sched) = std::fs::read_to_string(task.path().join("sched")) else {
            continue;
        };
        if let Some(n) = sched
            .lines()
            .find(|l| l.starts_with("se.nr_migrations"))
            .and_then(|l| l.split(':').nth(1))
            .and_then(|n| n.trim().parse::<u64>().ok())
        {
            total = Some(total.unwrap_or(0) + n);
        }
    }
    total
}

/// The mean current clock of the CPUs in MHz: cpufreq where the kernel exposes it, else
/// `/proc/cpuinfo`'s figures.
fn mean_mhz() -> Option<f64> {
    let from_cpufreq: Vec<f64> = std::fs::read_dir("/sys/devices/system/cpu")
        .ok()?
        .flatten()
        .filter_map(|e| {
            std::fs::read_to_string(e.path().join("cpufreq/scaling_cur_freq"))
                .ok()
                .and_then(|s| s.trim().parse::<f64>().ok())
        })
        .map(|khz| khz / 1000.0)
        .collect();
    let values = if from_cpufreq.is_empty() {
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()?
            .lines()
            .filter(|l| l.starts_with("cpu MHz"))
            .filter_map(|l| l.split(':').nth(1)?.trim().parse::<f64>().ok())
            .collect()
    } else {
        from_cpufreq
    };
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_ticks_split_busy_idle_and_steal() {
        let s = machine_ticks("cpu  100 10 30 500 20 5 6 40 0 0\ncpu0 1 2 3\n").unwrap();
        assert_eq!((s.busy, s.idle, s.steal), (151, 520, 40));
    }

    #[test]
    fn own_ticks_survive_a_command_name_with_spaces() {
        let stat = "1234 (my sort) R 1 2 3 4 5 6 7 8 9 10 77 23 0 0 20 0";
        assert_eq!(own_ticks(stat), Some(100));
    }

    #[test]
    fn a_neighbour_busy_half_the_time_is_flagged_and_our_own_work_is_not() {
        let before = LoadSample::default();
        let ours = LoadSample {
            busy: 900,
            idle: 100,
            own: 880,
            ..LoadSample::default()
        };
        let mut tally = LoadTally::default();
        tally.add(&before, &ours);
        let quiet = tally.disturbance().unwrap();
        assert!(!quiet.flagged(), "{quiet:?}");
        let busy = LoadSample {
            busy: 900,
            idle: 100,
            own: 400,
            ..LoadSample::default()
        };
        let mut tally = LoadTally::default();
        tally.add(&before, &busy);
        let loaded = tally.disturbance().unwrap();
        assert!(loaded.flagged() && (loaded.other_load_share - 0.5).abs() < 1e-9);
        let brief = LoadSample {
            busy: 9,
            idle: 1,
            own: 0,
            ..LoadSample::default()
        };
        let mut tally = LoadTally::default();
        tally.add(&before, &brief);
        assert_eq!(tally.disturbance(), None, "too short to judge");
        let stolen = LoadSample {
            busy: 500,
            idle: 400,
            steal: 100,
            own: 500,
            ..LoadSample::default()
        };
        let mut tally = LoadTally::default();
        tally.add(&before, &stolen);
        assert!(tally.disturbance().unwrap().flagged());
    }

    #[test]
    fn this_machine_can_be_sampled_where_proc_exists() {
        if std::path::Path::new("/proc/stat").exists() {
            let a = LoadSample::now().unwrap();
            let b = LoadSample::now().unwrap();
            let mut tally = LoadTally::default();
            tally.add(&a, &b);
            assert!(tally.busy + tally.idle + tally.steal < 1_000_000);
        }
    }
}
