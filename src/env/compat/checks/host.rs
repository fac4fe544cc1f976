//! Host checks: the build profile, the CPU frequency governor, load, virtualization, the cgroup
//! CPU limit, thread oversubscription and environment variables.

use super::{RunNeeds, check};
use crate::env::compat::probe::HostFacts;
use crate::env::{Check, CheckStatus};

/// A 1-minute load average above this many per logical core counts as a busy machine.
const HIGH_LOAD_PER_CORE: f64 = 0.5;

/// Build profile, governor, load, virtualization, quota, oversubscription, environment.
pub fn host_checks(host: &HostFacts, needs: &RunNeeds) -> Vec<Check> {
    let mut out = vec![build_profile(needs)];
    out.push(governor(host));
    out.push(load(host));
    out.push(virtualization(host));
    out.push(quota(host));
    if let Some(max) = needs.max_threads {
        out.push(oversubscription(max, host.logical_cores));
    }
    out.push(rayon_threads(host));
    let others: Vec<String> = host
        .env
        .iter()
        .filter(|(k, _)| k != "RAYON_NUM_THREADS")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !others.is_empty() {
        out.push(check(
            "env.variables",
            "environment",
            CheckStatus::Info,
            format!("set: {}", others.join(", ")),
            "environment variables that change how CPU threads or GPUs are used",
            None,
        ));
    }
    out
}

/// A debug build sorts far slower than a release build, so its figures mislead.
fn build_profile(needs: &RunNeeds) -> Check {
    let debug = needs.profile != "release";
    check(
        "build.profile",
        "sortmark",
        if debug {
            CheckStatus::Warn
        } else {
            CheckStatus::Ok
        },
        if debug {
            "sortmark is a debug build: its figures are far below what the sorts can do"
        } else {
            "sortmark is an optimised release build"
        },
        format!("profile {}, {}", needs.profile, needs.toolchain),
        debug.then(|| "build and run with `cargo run --release -- run`".to_string()),
    )
}

/// Any governor but performance lets clocks change under load, so timings vary.
fn governor(host: &HostFacts) -> Check {
    let component = "CPU frequency";
    match &host.governors {
        Err(e) => check(
            "cpu.governor",
            component,
            CheckStatus::Info,
            "the CPU frequency governor could not be read",
            e.clone(),
            None,
        ),
        Ok(governors) => {
            let detail = governors
                .iter()
                .map(|(g, n)| format!("{g} on {n} CPU{}", if *n == 1 { "" } else { "s" }))
                .collect::<Vec<_>>()
                .join(", ");
            let others: Vec<&str> = governors
                .iter()
                .filter(|(g, _)| g != "performance")
                .map(|(g, _)| g.as_str())
                .collect();
            if others.is_empty() {
                check(
                    "cpu.governor",
                    component,
                    CheckStatus::Ok,
                    "every CPU uses the performance governor",
                    detail,
                    None,
                )
            } else {
                check(
                    "cpu.governor",
                    component,
                    CheckStatus::Warn,
                    format!(
                        "CPU frequency governor {} instead of performance: clocks change under load, so timings vary",
                        others.join(", ")
                    ),
                    detail,
                    Some("set the performance governor for the run: `sudo cpupower frequency-set -g performance`".to_string()),
                )
            }
        }
    }
}

/// Other work on the machine competes with the sorts.
fn load(host: &HostFacts) -> Check {
    let component = "CPU load";
    match host.load_average {
        Err(ref e) => check(
            "cpu.load",
            component,
            CheckStatus::Info,
            "the load average could not be read",
            e.clone(),
            None,
        ),
        Ok([one, five, fifteen]) => {
            let cores = host.logical_cores.max(1);
            let high = one > HIGH_LOAD_PER_CORE * cores as f64;
            let detail = format!(
                "load average {one:.2} / {five:.2} / {fifteen:.2} (1, 5, 15 min) on {cores} logical cores"
            );
            if high {
                check(
                    "cpu.load",
                    component,
                    CheckStatus::Warn,
                    format!(
                        "the machine is busy (load {one:.2} on {cores} cores): other work competes with the sorts"
                    ),
                    detail,
                    Some(
                        "run on an otherwise idle machine, or repeat the run and compare"
                            .to_string(),
                    ),
                )
            } else {
                check(
                    "cpu.load",
                    component,
                    CheckStatus::Ok,
                    format!("the machine was quiet at the start (load {one:.2})"),
                    detail,
                    None,
                )
            }
        }
    }
}

/// A virtual machine may steal CPU time and show a virtual topology; a container may be
/// limited by its cgroup.
fn virtualization(host: &HostFacts) -> Check {
    let v = &host.virtualization;
    let component = "host";
    let detail = if v.hints.is_empty() {
        "no hypervisor flag, no container markers (/.dockerenv, /run/.containerenv, /proc/1/cgroup)"
            .to_string()
    } else {
        v.hints.join("; ")
    };
    match (v.hypervisor, &v.container) {
        (false, None) => check("host.virtualization", component, CheckStatus::Ok, "bare metal: no sign of a virtual machine or container", detail, None),
        (true, container) => check(
            "host.virtualization",
            component,
            CheckStatus::Warn,
            match container {
                Some(kind) => format!("a {kind} container in a virtual machine: other guests can steal CPU time and the topology may be virtual"),
                None => "a virtual machine: other guests can steal CPU time and the CPU topology may be virtual".to_string(),
            },
            detail,
            Some("compare with a bare-metal run before publishing absolute figures; watch `steal` in top".to_string()),
        ),
        (false, Some(kind)) => check(
            "host.virtualization",
            component,
            CheckStatus::Info,
            format!("a {kind} container: same kernel and hardware, but cgroup limits may apply"),
            detail,
            None,
        ),
    }
}

/// A cgroup CPU limit below the visible cores throttles the threads beyond it.
fn quota(host: &HostFacts) -> Check {
    let component = "cgroup";
    let cores = host.logical_cores;
    match &host.cpu_quota {
        Err(e) => check(
            "cpu.quota",
            component,
            CheckStatus::Info,
            "the cgroup CPU limit could not be read",
            e.clone(),
            None,
        ),
        Ok(None) => check(
            "cpu.quota",
            component,
            CheckStatus::Ok,
            "no cgroup CPU limit",
            format!("{cores} logical cores visible"),
            None,
        ),
        Ok(Some(q)) => {
            let cpus = q.cpus();
            let detail = format!(
                "cpu.max {} {} = {cpus:.2} CPUs; {cores} logical cores visible",
                q.quota_us, q.period_us
            );
            if cpus + 1e-9 < cores as f64 {
                check(
                    "cpu.quota",
                    component,
                    CheckStatus::Warn,
                    format!(
                        "the cgroup allows {cpus:.2} CPUs' time but {cores} cores are visible: threads beyond that are throttled, so scaling flattens"
                    ),
                    detail,
                    Some(format!(
                        "read thread counts above {} as throttled, or raise the container's CPU limit",
                        cpus.floor().max(1.0)
                    )),
                )
            } else {
                check(
                    "cpu.quota",
                    component,
                    CheckStatus::Ok,
                    format!("the cgroup allows {cpus:.2} CPUs, at least the visible cores"),
                    detail,
                    None,
                )
            }
        }
    }
}

/// More threads than logical cores measure contention, not scaling.
fn oversubscription(max: u32, cores: u32) -> Check {
    let over = max > cores;
    check(
        "cpu.oversubscription",
        "CPU",
        if over {
            CheckStatus::Warn
        } else {
            CheckStatus::Ok
        },
        if over {
            format!(
                "thread counts up to {max} exceed the {cores} logical cores: those cases are oversubscribed"
            )
        } else {
            format!("every thread count fits the {cores} logical cores")
        },
        format!("largest thread count {max}, logical cores {cores}"),
        over.then(|| "read oversubscribed cases as a stress test, not as scaling".to_string()),
    )
}

/// RAYON_NUM_THREADS sizes rayon's global pool, outside the pools the sweeps build.
fn rayon_threads(host: &HostFacts) -> Check {
    match host.env.iter().find(|(k, _)| k == "RAYON_NUM_THREADS") {
        Some((_, value)) => check(
            "env.rayon-num-threads",
            "rayon",
            CheckStatus::Warn,
            format!("RAYON_NUM_THREADS={value} is set: rayon's global pool uses that many threads"),
            "sortmark's CPU sweeps build pools with the definition's thread counts; work on rayon's global pool (outside those pools) is sized by the variable",
            Some(
                "unset RAYON_NUM_THREADS and let the definition's `threads` axis decide"
                    .to_string(),
            ),
        ),
        None => check(
            "env.rayon-num-threads",
            "rayon",
            CheckStatus::Ok,
            "RAYON_NUM_THREADS is not set",
            "thread counts come from the definition",
            None,
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::env::CheckStatus;
    use crate::env::compat::checks::test_support::{find, healthy, needs, run, status};
    use crate::env::compat::probe::{CpuQuota, Virtualization};

    #[test]
    fn debug_build_warns() {
        let mut debug = needs(false, false, None);
        debug.profile = "debug".to_string();
        let checks = run(&healthy(), &debug);
        assert_eq!(status(&checks, "build.profile"), CheckStatus::Warn);
        assert!(
            find(&checks, "build.profile")
                .remedy
                .as_ref()
                .unwrap()
                .contains("--release")
        );
    }

    #[test]
    fn powersave_governor_warns() {
        let mut probe = healthy();
        probe.host.governors = Ok(vec![("powersave".to_string(), 8)]);
        let checks = run(&probe, &needs(false, false, None));
        let c = find(&checks, "cpu.governor");
        assert_eq!(c.status, CheckStatus::Warn);
        assert!(c.summary.contains("powersave"));
        probe.host.governors = Err("no cpufreq".to_string());
        assert_eq!(
            status(&run(&probe, &needs(false, false, None)), "cpu.governor"),
            CheckStatus::Info
        );
    }

    #[test]
    fn high_load_warns() {
        let mut probe = healthy();
        probe.host.load_average = Ok([7.5, 6.0, 5.0]);
        assert_eq!(
            status(&run(&probe, &needs(false, false, None)), "cpu.load"),
            CheckStatus::Warn
        );
    }

    #[test]
    fn container_and_virtual_machine() {
        let mut probe = healthy();
        probe.host.virtualization = Virtualization {
            hypervisor: false,
            container: Some("docker".to_string()),
            hints: vec!["/.dockerenv exists".to_string()],
        };
        let checks = run(&probe, &needs(false, false, None));
        let c = find(&checks, "host.virtualization");
        assert_eq!(c.status, CheckStatus::Info);
        assert!(c.summary.contains("docker") && c.detail.contains("/.dockerenv"));
        probe.host.virtualization.hypervisor = true;
        assert_eq!(
            status(
                &run(&probe, &needs(false, false, None)),
                "host.virtualization"
            ),
            CheckStatus::Warn
        );
    }

    #[test]
    fn cgroup_quota_below_the_visible_cores_warns() {
        let mut probe = healthy();
        probe.host.cpu_quota = Ok(Some(CpuQuota {
            quota_us: 200_000,
            period_us: 100_000,
        }));
        let checks = run(&probe, &needs(false, false, None));
        let c = find(&checks, "cpu.quota");
        assert_eq!(c.status, CheckStatus::Warn);
        assert!(c.summary.contains("2.00 CPUs") && c.summary.contains("8 cores"));
        probe.host.cpu_quota = Ok(Some(CpuQuota {
            quota_us: 800_000,
            period_us: 100_000,
        }));
        assert_eq!(
            status(&run(&probe, &needs(false, false, None)), "cpu.quota"),
            CheckStatus::Ok
        );
    }

    #[test]
    fn oversubscription_warns() {
        let checks = run(&healthy(), &needs(false, false, Some(32)));
        let c = find(&checks, "cpu.oversubscription");
        assert_eq!(c.status, CheckStatus::Warn);
        assert!(c.summary.contains("32") && c.summary.contains("8 logical cores"));
        assert_eq!(
            status(
                &run(&healthy(), &needs(false, false, Some(8))),
                "cpu.oversubscription"
            ),
            CheckStatus::Ok
        );
    }

    #[test]
    fn rayon_num_threads_warns() {
        let mut probe = healthy();
        probe.host.env = vec![
            ("RAYON_NUM_THREADS".to_string(), "4".to_string()),
            ("CUDA_VISIBLE_DEVICES".to_string(), "1".to_string()),
        ];
        let checks = run(&probe, &needs(false, false, None));
        let c = find(&checks, "env.rayon-num-threads");
        assert_eq!(c.status, CheckStatus::Warn);
        assert!(c.summary.contains("RAYON_NUM_THREADS=4"));
        assert!(
            find(&checks, "env.variables")
                .summary
                .contains("CUDA_VISIBLE_DEVICES=1")
        );
    }
}
