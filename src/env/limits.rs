//! The memory this process may still take: the least of the machine's available memory, its
//! control group's room (cgroup v2 `memory.max`, v1 `memory.limit_in_bytes`) and its
//! address-space limit (`RLIMIT_AS`). A container or a `ulimit -v` then skips a case that
//! would not fit, where an allocation past the limit would abort the whole run.
//!
//! The parsing is pure (file contents in, bytes out) so that tests hand it fixtures.

use std::path::{Path, PathBuf};

/// Where the kernel mounts the control-group file systems.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// Host memory this process may allocate now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Available {
    /// The bytes, 0 where nothing could be read.
    pub bytes: u64,
    /// The limit that set them, `None` for the machine's available memory.
    pub limited_by: Option<&'static str>,
}

/// The limit of the control group, as reasons name it.
pub const CGROUP: &str = "the control group's memory limit";
/// The address-space limit, as reasons name it.
pub const ADDRESS_SPACE: &str = "the address-space limit (RLIMIT_AS)";

/// Host memory this process may allocate now, and the limit that sets it.
pub fn available() -> Available {
    let machine = super::memory().available_bytes;
    let read = |path: &Path| std::fs::read_to_string(path).ok();
    let cgroup = read(Path::new("/proc/self/cgroup"))
        .and_then(|groups| cgroup_room(&groups, Path::new(CGROUP_ROOT), read));
    let address_space =
        address_space_room(rlimit_as(), read(Path::new("/proc/self/status")).as_deref());
    least_known(machine, [(cgroup, CGROUP), (address_space, ADDRESS_SPACE)])
}

/// The least of `machine` (0: unknown) and the limits that are set, each with its name.
pub fn least_known(
    machine: u64,
    limits: impl IntoIterator<Item = (Option<u64>, &'static str)>,
) -> Available {
    let start = Available {
        bytes: machine,
        limited_by: None,
    };
    limits
        .into_iter()
        .fold(start, |least, (limit, name)| match limit {
            Some(bytes) if least.bytes == 0 || bytes < least.bytes => Available {
                bytes,
                limited_by: Some(name),
            },
            _ => least,
        })
}

/// The room left in this process's memory control group, `None` without a limit.
///
/// `proc_self_cgroup` is `/proc/self/cgroup`; `read` reads a file under `root`. A v2 group
/// (`0::/path`) gives `memory.max` − `memory.current`; a v1 group (`N:memory:/path`) gives
/// `memory.limit_in_bytes` − `memory.usage_in_bytes`. Inside a container the group's own
/// folder is often the mount itself, so the mount's files are read when the path's are not.
pub fn cgroup_room(
    proc_self_cgroup: &str,
    root: &Path,
    read: impl Fn(&Path) -> Option<String>,
) -> Option<u64> {
    proc_self_cgroup.lines().find_map(|line| {
        let mut fields = line.splitn(3, ':');
        let (_, controllers, path) = (fields.next()?, fields.next()?, fields.next()?);
        let relative = path.trim_start_matches('/');
        let (folder, limit, usage) = if controllers.is_empty() {
            (root.to_path_buf(), "memory.max", "memory.current")
        } else if controllers.split(',').any(|c| c == "memory") {
            (
                root.join("memory"),
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            )
        } else {
            return None;
        };
        let candidates: [PathBuf; 2] = [folder.join(relative), folder];
        candidates.iter().find_map(|dir| {
            let limit = read(&dir.join(limit))?;
            let usage = read(&dir.join(usage)).and_then(|u| u.trim().parse::<u64>().ok());
            Some(room(parse_limit(&limit)?, usage.unwrap_or(0)))
        })
    })
}

/// A cgroup limit: bytes, or `None` for `max` and for v1's "no limit" (a page-rounded
/// `i64::MAX`), and for anything unreadable.
fn parse_limit(text: &str) -> Option<u64> {
    let bytes: u64 = text.trim().parse().ok()?;
    // v1 writes "unlimited" as i64::MAX rounded down to a page.
    (bytes < (i64::MAX as u64) / 2).then_some(bytes)
}

/// What is left of `limit` after `used`.
fn room(limit: u64, used: u64) -> u64 {
    limit.saturating_sub(used)
}

/// The room left under the address-space limit `limit` (`None`: unlimited), given
/// `/proc/self/status`, whose `VmSize` is the address space in use.
pub fn address_space_room(limit: Option<u64>, proc_self_status: Option<&str>) -> Option<u64> {
    let limit = limit?;
    let used_kib = proc_self_status?.lines().find_map(|line| {
        let rest = line.strip_prefix("VmSize:")?;
        rest.trim()
            .trim_end_matches("kB")
            .trim()
            .parse::<u64>()
            .ok()
    });
    Some(room(limit, used_kib.unwrap_or(0).saturating_mul(1024)))
}

/// This process's soft `RLIMIT_AS`, `None` when unlimited or unreadable.
fn rlimit_as() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` into the struct it is handed, which lives here.
    let status = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) };
    (status == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn files(entries: &[(&str, &str)]) -> impl Fn(&Path) -> Option<String> {
        let map: HashMap<PathBuf, String> = entries
            .iter()
            .map(|(p, c)| (PathBuf::from(p), c.to_string()))
            .collect();
        move |p: &Path| map.get(p).cloned()
    }

    #[test]
    fn a_v2_group_leaves_its_max_minus_its_current() {
        let read = files(&[
            ("/cg/user.slice/run.scope/memory.max", "1073741824\n"),
            ("/cg/user.slice/run.scope/memory.current", "73741824\n"),
        ]);
        let room = cgroup_room("0::/user.slice/run.scope\n", Path::new("/cg"), read);
        assert_eq!(room, Some(1_000_000_000));
    }

    #[test]
    fn a_v2_group_without_a_limit_sets_none() {
        let read = files(&[
            ("/cg/a/memory.max", "max\n"),
            ("/cg/a/memory.current", "5\n"),
        ]);
        assert_eq!(cgroup_room("0::/a\n", Path::new("/cg"), read), None);
    }

    #[test]
    fn a_v1_group_is_read_at_the_mount_when_its_path_is_not_there() {
        // As inside a container: /proc/self/cgroup names the host's path, the mount is the group.
        let text = "9:name=systemd:/\n4:memory:/process_api/df28\n1:cpu:/\n0::/\n";
        let read = files(&[
            ("/cg/memory/memory.limit_in_bytes", "2147483648\n"),
            ("/cg/memory/memory.usage_in_bytes", "147483648\n"),
        ]);
        assert_eq!(
            cgroup_room(text, Path::new("/cg"), read),
            Some(2_000_000_000)
        );
    }

    #[test]
    fn a_v1_group_without_a_limit_sets_none() {
        let read = files(&[
            ("/cg/memory/memory.limit_in_bytes", "9223372036854771712\n"),
            ("/cg/memory/memory.usage_in_bytes", "9229127680\n"),
        ]);
        assert_eq!(cgroup_room("4:memory:/\n", Path::new("/cg"), read), None);
    }

    #[test]
    fn a_group_over_its_limit_has_no_room() {
        let read = files(&[("/cg/memory.max", "100"), ("/cg/memory.current", "150")]);
        assert_eq!(cgroup_room("0::/\n", Path::new("/cg"), read), Some(0));
    }

    #[test]
    fn the_address_space_left_is_the_limit_minus_vm_size() {
        let status = "Name:\tsortmark\nVmPeak:\t  300000 kB\nVmSize:\t  200000 kB\n";
        assert_eq!(
            address_space_room(Some(1 << 30), Some(status)),
            Some((1 << 30) - 200_000 * 1024)
        );
        assert_eq!(address_space_room(None, Some(status)), None);
        assert_eq!(address_space_room(Some(100), Some(status)), Some(0));
    }

    #[test]
    fn the_least_known_limit_wins_and_unknowns_are_ignored() {
        let least = least_known(8 << 30, [(Some(2 << 30), CGROUP), (None, ADDRESS_SPACE)]);
        assert_eq!((least.bytes, least.limited_by), (2 << 30, Some(CGROUP)));
        let least = least_known(1 << 30, [(Some(2 << 30), CGROUP)]);
        assert_eq!((least.bytes, least.limited_by), (1 << 30, None));
        let least = least_known(0, [(None, CGROUP), (Some(3 << 30), ADDRESS_SPACE)]);
        assert_eq!(
            (least.bytes, least.limited_by),
            (3 << 30, Some(ADDRESS_SPACE))
        );
        assert_eq!(least_known(0, [(None, CGROUP)]).bytes, 0);
    }
}
