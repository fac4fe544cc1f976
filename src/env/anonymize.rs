//! `--anonymize`: the strings that identify this machine and its user, and their removal from
//! any text.
//!
//! A [`Scrubber`] knows the literal identifying strings of a machine (host names, user names,
//! the home folder, the archive root given with `--out`) and recognises the identifying kinds
//! that have a shape (IPv4, IPv6 and MAC addresses, UUIDs such as a GPU's, serial numbers
//! labelled as such). [`crate::record::anonymized`] passes every string of a run through it
//! before the run is saved or rendered, so no output can leak what one of them forgot.

use std::path::Path;

/// What replaces a home folder: paths under it read as under `~`.
const HOME: &str = "~";
/// What replaces the archive root given with `--out`.
const OUT: &str = "[out]";
/// What replaces a host name (the word the record has always used).
const HOST: &str = "anonymized";
/// What replaces a user name.
const USER: &str = "[user]";
/// What replaces an IP address.
const IP: &str = "[ip]";
/// What replaces a MAC address.
const MAC: &str = "[mac]";
/// What replaces a UUID (a GPU's `GPU-…`, a MIG instance's, a machine id).
const UUID: &str = "[uuid]";
/// What replaces a serial number.
const SERIAL: &str = "[serial]";

/// The identifying strings of one machine, as found there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    /// Host names (a fully qualified name and its first label count as two).
    pub hosts: Vec<String>,
    /// User names.
    pub users: Vec<String>,
    /// Home folders.
    pub homes: Vec<String>,
    /// Archive roots (`--out`), as given and resolved.
    pub outs: Vec<String>,
}

impl Identity {
    /// This machine's identity: its host name, the user running sortmark (`USER`, `LOGNAME`
    /// and the home folder's name), `HOME`, and `out`, the archive root of the run.
    pub fn of_this_machine(out: Option<&Path>) -> Identity {
        let mut identity = Identity::default();
        if let Ok(host) = sysinfo::System::host_name() {
            identity.hosts.push(host);
        }
        for var in ["USER", "LOGNAME"] {
            if let Ok(user) = std::env::var(var) {
                identity.users.push(user);
            }
        }
        if let Some(home) = std::env::var_os("HOME").map(std::path::PathBuf::from) {
            if let Some(name) = home.file_name() {
                identity.users.push(name.to_string_lossy().into_owned());
            }
            identity.homes.extend(path_forms(&home));
        }
        if let Some(out) = out {
            identity.outs.extend(path_forms(out));
        }
        identity
    }
}

/// A path as given and as resolved (through links, made absolute), without trailing slashes.
fn path_forms(path: &Path) -> Vec<String> {
    let mut forms = vec![path.to_string_lossy().into_owned()];
    if let Ok(resolved) = std::fs::canonicalize(path) {
        forms.push(resolved.to_string_lossy().into_owned());
    }
    forms
        .into_iter()
        .map(|f| f.trim_end_matches('/').to_string())
        // The root folder or a bare name would match every path or every word.
        .filter(|f| f.len() > 1 && f.starts_with('/'))
        .collect()
}

/// Replaces the identifying strings of one machine in any text.
#[derive(Debug, Clone)]
pub struct Scrubber {
    /// Paths and their replacements, longest first (an archive root inside the home folder
    /// reads as `[out]`, not `~/…`).
    paths: Vec<(String, &'static str)>,
    /// Names replaced where they stand as whole words, longest first.
    words: Vec<(String, &'static str)>,
}

impl Scrubber {
    /// A scrubber for `identity`.
    pub fn new(identity: &Identity) -> Scrubber {
        let mut paths: Vec<(String, &'static str)> = identity
            .outs
            .iter()
            .map(|o| (o.clone(), OUT))
            .chain(identity.homes.iter().map(|h| (h.clone(), HOME)))
            .collect();
        let mut words: Vec<(String, &'static str)> = Vec::new();
        for host in &identity.hosts {
            words.push((host.clone(), HOST));
            if let Some((first, _)) = host.split_once('.') {
                words.push((first.to_string(), HOST));
            }
        }
        words.extend(identity.users.iter().map(|u| (u.clone(), USER)));
        // A one-letter name would replace every such letter standing alone.
        words.retain(|(w, _)| w.chars().count() > 1);
        for list in [&mut paths, &mut words] {
            list.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
            list.dedup_by(|a, b| a.0 == b.0);
        }
        Scrubber { paths, words }
    }

    /// `text` with every identifying string replaced.
    pub fn scrub(&self, text: &str) -> String {
        let mut text = text.to_string();
        for (path, with) in &self.paths {
            text = replace_bounded(&text, path, with, is_path_char);
        }
        for (word, with) in &self.words {
            text = replace_bounded(&text, word, with, is_word_char);
        }
        scrub_serials(&scrub_shapes(&text))
    }

    /// Every string in `value` scrubbed, keys included; a string under a key that names a
    /// serial number or a UUID is replaced whole, whatever its shape.
    pub fn scrub_json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        match value {
            Value::String(s) => *s = self.scrub(s),
            Value::Array(items) => items.iter_mut().for_each(|v| self.scrub_json(v)),
            Value::Object(map) => {
                let entries = std::mem::take(map);
                for (key, mut v) in entries {
                    let lower = key.to_ascii_lowercase();
                    match (&v, labelled(&lower)) {
                        (Value::String(_), Some(with)) => v = Value::String(with.to_string()),
                        _ => self.scrub_json(&mut v),
                    }
                    map.insert(self.scrub(&key), v);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// The replacement of a value whose key says it identifies a device.
fn labelled(key: &str) -> Option<&'static str> {
    if key.contains("serial") {
        Some(SERIAL)
    } else if key.contains("uuid") {
        Some(UUID)
    } else if key == "mac" || key.contains("mac_address") {
        Some(MAC)
    } else {
        None
    }
}

/// Whether `c` can continue a path component (so `/home/al` does not match `/home/alice`).
fn is_path_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// Whether `c` can continue a name (so the user `al` does not match `alpha`).
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-')
}

/// `text` with each occurrence of `needle` that is not part of a longer path or word
/// (by `continues`) replaced with `with`.
fn replace_bounded(text: &str, needle: &str, with: &str, continues: fn(char) -> bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(needle) {
        let (before, after) = (&rest[..at], &rest[at + needle.len()..]);
        let prev = before.chars().last().or_else(|| out.chars().last());
        let bounded = !prev.is_some_and(continues) && !after.chars().next().is_some_and(continues);
        out.push_str(before);
        out.push_str(if bounded { with } else { needle });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `text` with IP and MAC addresses and UUIDs replaced: each maximal run of hexadecimal
/// digits, `:`, `.` and `-` is classified by its shape.
fn scrub_shapes(text: &str) -> String {
    let is_run = |c: char| c.is_ascii_hexdigit() || matches!(c, ':' | '.' | '-');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(is_run) {
        let prev = rest[..start].chars().last().or_else(|| out.chars().last());
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let end = run.find(|c: char| !is_run(c)).unwrap_or(run.len());
        let next = run[end..].chars().next();
        out.push_str(&scrub_run(&run[..end], prev, next));
        rest = &run[end..];
    }
    out.push_str(rest);
    out
}

/// One run of address characters between `prev` and `next`, its identifying core replaced
/// (punctuation around it kept). The core must stand apart from letters and digits, so that
/// `cub::DeviceRadixSort` holds no IPv6 address.
fn scrub_run(run: &str, prev: Option<char>, next: Option<char>) -> String {
    let joined = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    if is_ipv6(run) && !joined(prev) && !joined(next) {
        return IP.to_string();
    }
    let core = run.trim_matches(|c| matches!(c, ':' | '.' | '-'));
    let at = run.find(core).unwrap_or(0);
    let before = run[..at].chars().last().or(prev);
    let after = run[at + core.len()..].chars().next().or(next);
    if core.is_empty() || joined(before) || joined(after) {
        return run.to_string();
    }
    let replacement = if is_uuid(core) {
        UUID
    } else if is_mac(core) {
        MAC
    } else if is_ipv4(core) || is_ipv4_with_port(core) {
        IP
    } else {
        return run.to_string();
    };
    format!("{}{replacement}{}", &run[..at], &run[at + core.len()..])
}

/// `8-4-4-4-12` hexadecimal digits.
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Six pairs of hexadecimal digits joined by `:` or by `-`.
fn is_mac(s: &str) -> bool {
    [':', '-'].into_iter().any(|sep| {
        let groups: Vec<&str> = s.split(sep).collect();
        groups.len() == 6
            && groups
                .iter()
                .all(|g| g.len() == 2 && g.chars().all(|c| c.is_ascii_hexdigit()))
    })
}

/// Four decimal numbers up to 255 joined by dots.
fn is_ipv4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 3
                && p.chars().all(|c| c.is_ascii_digit())
                && p.parse::<u16>().is_ok_and(|v| v <= 255)
        })
}

/// An IPv4 address with a port: `10.1.2.3:8080`.
fn is_ipv4_with_port(s: &str) -> bool {
    s.rsplit_once(':').is_some_and(|(ip, port)| {
        is_ipv4(ip) && !port.is_empty() && port.chars().all(|c| c.is_ascii_digit())
    })
}

/// Groups of up to four hexadecimal digits joined by `:`, either eight of them or shortened
/// with `::` (a time such as `04:21:53` is neither).
fn is_ipv6(s: &str) -> bool {
    let groups: Vec<&str> = s.split(':').collect();
    let hex = groups
        .iter()
        .all(|g| g.len() <= 4 && g.chars().all(|c| c.is_ascii_hexdigit()));
    let shortened = s.contains("::") && groups.len() >= 3 && groups.len() <= 8;
    let filled = groups.iter().filter(|g| !g.is_empty()).count();
    hex && (filled >= 2 || s == "::1") && (groups.len() == 8 || shortened)
}

/// `text` with the value after each `serial` label (`Serial Number: 0324…`, `serial=…`)
/// replaced.
fn scrub_serials(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find("serial") {
        let label_end = from + found + "serial".len();
        from = label_end;
        let after = &lower[label_end..];
        let after = after
            .strip_prefix(" number")
            .or_else(|| after.strip_prefix("_number"))
            .or_else(|| after.strip_prefix("number"))
            .unwrap_or(after);
        let trimmed = after.trim_start_matches([' ', '\t']);
        let Some(value) = trimmed
            .strip_prefix(':')
            .or_else(|| trimmed.strip_prefix('='))
        else {
            continue;
        };
        let value = value.trim_start_matches([' ', '\t', '"', '\'']);
        let start = text.len() - value.len();
        let len = value
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or(value.len());
        if len == 0 {
            continue;
        }
        out.push_str(&text[copied..start]);
        out.push_str(SERIAL);
        copied = start + len;
        from = copied;
    }
    out.push_str(&text[copied..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn planted() -> Scrubber {
        Scrubber::new(&Identity {
            hosts: vec!["zebra-host.example.org".into()],
            users: vec!["qalice".into()],
            homes: vec!["/home/qalice".into()],
            outs: vec!["/home/qalice/secret-archive".into()],
        })
    }

    #[test]
    fn paths_under_the_archive_root_and_the_home_folder_lose_them() {
        let s = planted();
        assert_eq!(
            s.scrub("/home/qalice/secret-archive/quick/x and /home/qalice/.venv/bin/python3"),
            "[out]/quick/x and ~/.venv/bin/python3"
        );
        // A longer name that begins like the home folder is another folder.
        assert_eq!(s.scrub("/home/qalicex/a"), "/home/qalicex/a");
    }

    #[test]
    fn host_and_user_names_are_replaced_as_whole_words() {
        let s = planted();
        assert_eq!(
            s.scrub("qalice@zebra-host ran on zebra-host.example.org"),
            "[user]@anonymized ran on anonymized"
        );
        assert_eq!(s.scrub("qalicely zebra-hostess"), "qalicely zebra-hostess");
    }

    #[test]
    fn addresses_uuids_and_serials_are_replaced_by_shape() {
        let s = planted();
        assert_eq!(s.scrub("inet 192.168.17.42/24"), "inet [ip]/24");
        assert_eq!(s.scrub("peer at 10.0.0.7:8080."), "peer at [ip].");
        assert_eq!(s.scrub("ether 3c:ec:ef:12:34:56 up"), "ether [mac] up");
        assert_eq!(s.scrub("fe80::1c2b:3dff:fe4e:5f60%eth0"), "[ip]%eth0");
        assert_eq!(
            s.scrub("GPU-6f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"),
            "GPU-[uuid]"
        );
        assert_eq!(
            s.scrub("Serial Number: 1320221019478, serial=AB12"),
            "Serial Number: [serial], serial=[serial]"
        );
    }

    #[test]
    fn times_versions_and_hashes_are_left_alone() {
        let s = planted();
        for text in [
            "2026-12-07T04:21:53.77Z",
            "rustc 1.85.0 (4d91de4e4 2025-02-17)",
            "driver 580.65.06, CUDA 13.0",
            "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "20261207T042149Z-9133",
            "cub::DeviceRadixSort and std::sort",
        ] {
            assert_eq!(s.scrub(text), text);
        }
    }

    #[test]
    fn json_values_under_serial_or_uuid_keys_are_replaced_whole() {
        let s = planted();
        let mut value = serde_json::json!({
            "gpus": [{"uuid": "whatever-form", "serial": "0324518040421", "name": "H100"}],
            "note": "host zebra-host",
        });
        s.scrub_json(&mut value);
        assert_eq!(value["gpus"][0]["uuid"], "[uuid]");
        assert_eq!(value["gpus"][0]["serial"], "[serial]");
        assert_eq!(value["gpus"][0]["name"], "H100");
        assert_eq!(value["note"], "host anonymized");
    }
}
