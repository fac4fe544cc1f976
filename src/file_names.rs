//! Names that become file names: every file or folder sortmark names after user text (a
//! sweep's plots, a definition's archive folder) and every temporary file it writes is named
//! here, so that no such name can be too long, escape its folder or collide with another.
//!
//! Temporary files are created here too ([`create_temporary`], [`write_whole`]): exclusively,
//! under a name nobody can predict, so that a file or link planted beside the destination is
//! never written through.
//!
//! A name keeps its safe characters: ASCII letters and digits, `-`, `_`, and `.` inside the
//! name. Anything else becomes `-`; a leading `-` or `.` becomes `_` (no hidden files, no
//! option-like names, never `.` or `..`). A name that had to change, or that is longer than
//! [`MAX_STEM`] bytes and is cut, gets a short stable hash of the original appended, so that
//! two names that differ only in characters a file name cannot hold ("a/b" and "a:b") still
//! get two files, and the same name gets the same file in every run. [`Stems`] keeps the
//! stems of one run distinct, also on a file system that ignores case.

use std::collections::HashSet;
use std::fs;
use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The longest stem, in bytes: with an extension, a hash and a temporary suffix it stays far
/// below the 255 bytes most file systems allow a name.
pub const MAX_STEM: usize = 96;

/// Hex digits of the hash appended to a changed name.
const HASH_DIGITS: usize = 8;

/// The marker between a temporary file's name and its owner: `.<name>.tmp-<pid>-<random>`.
const TEMPORARY_MARKER: &str = ".tmp-";

/// Bytes of the final name kept in a temporary name, for a reader who wonders what it was.
const TEMPORARY_PREFIX: usize = 48;

/// A safe file name stem for `name`: unchanged when it is already safe and short, otherwise
/// its safe characters, cut to fit, with a hash of the whole name appended.
pub fn stem(name: &str) -> String {
    let safe = safe_characters(name);
    if safe == name && !safe.is_empty() && safe.len() <= MAX_STEM {
        safe
    } else {
        hashed(&safe, name)
    }
}

/// `safe` cut to leave room for the hash of `original`, with the hash appended.
fn hashed(safe: &str, original: &str) -> String {
    let room = MAX_STEM - HASH_DIGITS - 1;
    // Every safe character is one byte, so any cut falls on a character boundary.
    let kept = safe[..safe.len().min(room)].trim_end_matches(['-', '.']);
    let hash = name_hash(original);
    if kept.is_empty() {
        hash
    } else {
        format!("{kept}-{hash}")
    }
}

/// The name with every unsafe character replaced.
fn safe_characters(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let last = chars.len().saturating_sub(1);
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '_' => c,
            '-' | '.' if i == 0 => '_',
            '-' => c,
            '.' if i != last => c,
            _ => '-',
        })
        .collect()
}

/// A short stable hash of a name, as hex digits.
fn name_hash(name: &str) -> String {
    let h = crate::data::mix64(crate::data::fnv1a64(name.as_bytes()));
    format!(
        "{:0width$x}",
        h >> (64 - 4 * HASH_DIGITS),
        width = HASH_DIGITS
    )
}

/// The stems of one run's files, each distinct from the others even where the file system
/// ignores case: a name whose stem is taken gets its hash, then a counter, appended.
#[derive(Debug, Default)]
pub struct Stems {
    /// The stems handed out, lowercased.
    taken: HashSet<String>,
}

impl Stems {
    /// No stem taken yet.
    pub fn new() -> Stems {
        Stems::default()
    }

    /// A stem for `name`, distinct from every stem this set handed out before.
    pub fn unique(&mut self, name: &str) -> String {
        let plain = stem(name);
        if self.take(&plain) {
            return plain;
        }
        let with_hash = hashed(&safe_characters(name), name);
        if self.take(&with_hash) {
            return with_hash;
        }
        (2..)
            .map(|n| {
                let suffix = format!("-{n}");
                let cut = with_hash.len().min(MAX_STEM - suffix.len());
                format!("{}{suffix}", &with_hash[..cut])
            })
            .find(|s| self.take(s))
            .expect("some counter gives a free stem")
    }

    /// Takes `stem` when it is free; whether it was.
    fn take(&mut self, stem: &str) -> bool {
        self.taken.insert(stem.to_ascii_lowercase())
    }
}

/// A fresh, unpredictable name for a temporary file that will be renamed to `final_name`:
/// `.<final name, cut>.tmp-<pid>-<random>`. The process id tells a later cleaner whether its
/// writer still runs; the random part (from the operating system's randomness, through the
/// standard library's hash keys) means nobody can plant a file or link at the name in advance.
pub fn temporary(final_name: &str) -> String {
    let mut cut = final_name.len().min(TEMPORARY_PREFIX);
    while !final_name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        ".{}{TEMPORARY_MARKER}{}-{:016x}",
        &final_name[..cut],
        std::process::id(),
        unpredictable()
    )
}

/// The process that wrote the temporary file `name` (also as sortmark once named them,
/// `.<name>.tmp-<pid>`), or `None` when `name` is not a temporary name.
pub fn temporary_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix('.')?;
    let (_, owner) = rest.rsplit_once(TEMPORARY_MARKER)?;
    let pid = owner.split_once('-').map_or(owner, |(pid, _)| pid);
    pid.parse().ok()
}

/// Whether a process with id `pid` runs (or may: where that cannot be told, it is assumed to).
pub fn process_runs(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        if pid <= 0 {
            return false;
        }
        // SAFETY: signal 0 only asks whether the process exists; nothing is sent.
        let found = unsafe { libc::kill(pid, 0) } == 0;
        found || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// How many fresh names [`create_temporary`] tries before it gives up.
const TEMPORARY_ATTEMPTS: usize = 16;

/// A new, empty temporary file beside `path`, and its path: created exclusively (a file or a
/// link already at the name is never opened, let alone followed) under a fresh
/// [`temporary`] name.
pub fn create_temporary(path: &Path) -> io::Result<(PathBuf, fs::File)> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} has no file name", path.display()),
        )
    })?;
    let name = name.to_string_lossy();
    for _ in 0..TEMPORARY_ATTEMPTS {
        let tmp = path.with_file_name(temporary(&name));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(file) => return Ok((tmp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "{TEMPORARY_ATTEMPTS} fresh temporary names beside {} were all taken",
            path.display()
        ),
    ))
}

/// Writes `contents` to `path` whole or not at all: into a [`create_temporary`] file, synced,
/// then renamed into place (a rename replaces a link at `path`, never what it points to), and
/// the folder synced, so that the rename itself survives a power loss. A write that fails (a
/// full disk) removes its temporary file.
pub fn write_whole(path: &Path, contents: &[u8]) -> io::Result<()> {
    let (tmp, mut file) = create_temporary(path)?;
    let written = file
        .write_all(contents)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            fs::rename(&tmp, path)
        });
    if written.is_err() {
        // The error says what went wrong; a half-written temporary file is of no use.
        let _ = fs::remove_file(&tmp);
    }
    written?;
    sync_folder(path.parent().unwrap_or(Path::new(".")))
}

/// Flushes a folder's entries to the disk: a file created, renamed or removed in it is then
/// there (or gone) after a power loss too, which syncing the file alone does not promise.
pub fn sync_folder(dir: &Path) -> io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    fs::File::open(dir)?.sync_all()
}

/// 64 bits no other process can predict.
fn unpredictable() -> u64 {
    // Each `RandomState` holds fresh keys seeded from the operating system's randomness; a
    // keyed SipHash of the time is as unpredictable as those keys.
    let mut hasher = std::hash::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    hasher.write_u128(now);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safe_short_names_are_kept() {
        for name in ["quick", "cpu-threads", "gpu_vs_cub", "v1.2", "Size"] {
            assert_eq!(stem(name), name);
        }
    }

    #[test]
    fn names_that_differ_only_in_unsafe_characters_get_distinct_stems() {
        let (a, b) = (stem("a/b"), stem("a:b"));
        assert_ne!(a, b);
        assert!(a.starts_with("a-b-") && b.starts_with("a-b-"), "{a} {b}");
        assert_eq!(stem("a/b"), a, "the same name gets the same stem");
    }

    #[test]
    fn no_stem_escapes_its_folder_or_hides() {
        for name in [
            "..",
            ".",
            "",
            "/",
            "../../etc/passwd",
            ".hidden",
            "-rf",
            "a.",
            "C:\\x",
        ] {
            let s = stem(name);
            assert!(!s.is_empty(), "{name:?}");
            assert!(!s.starts_with(['.', '-']), "{name:?} → {s}");
            assert!(!s.ends_with('.'), "{name:?} → {s}");
            assert!(!s.contains(['/', '\\', ':']), "{name:?} → {s}");
        }
    }

    #[test]
    fn long_names_are_cut_and_still_distinct() {
        let long = "x".repeat(300);
        let longer = format!("{long}y");
        let (a, b) = (stem(&long), stem(&longer));
        assert!(a.len() <= MAX_STEM && b.len() <= MAX_STEM, "{a}");
        assert_ne!(a, b);
        let wide = "ü".repeat(200);
        assert!(stem(&wide).len() <= MAX_STEM);
    }

    #[test]
    fn stems_of_a_run_differ_even_ignoring_case() {
        let mut stems = Stems::new();
        let names = ["Size", "size", "a/b", "a:b", "a-b", "a-b"];
        let got: Vec<String> = names.iter().map(|n| stems.unique(n)).collect();
        let lower: HashSet<String> = got.iter().map(|s| s.to_ascii_lowercase()).collect();
        assert_eq!(lower.len(), names.len(), "{got:?}");
        assert_eq!(got[0], "Size");
        assert_eq!(got[4], "a-b");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_planted_at_a_temporary_name_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        let path = dir.path().join("out.json");
        // sortmark once named its temporary files `.<name>.tmp-<pid>`: plant links there.
        for pid in [std::process::id(), std::process::id() + 1] {
            let planted = dir.path().join(format!(".out.json.tmp-{pid}"));
            std::os::unix::fs::symlink(&victim, planted).unwrap();
        }
        write_whole(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        // A link at the destination itself is replaced, not written through.
        std::os::unix::fs::symlink(&victim, dir.path().join("linked")).unwrap();
        write_whole(&dir.path().join("linked"), b"also new").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        // A rename over a non-empty folder fails after the temporary file was written.
        let path = dir.path().join("taken");
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), "x").unwrap();
        assert!(write_whole(&path, b"data").is_err());
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["taken"]);
    }

    #[test]
    fn temporary_names_are_unpredictable_and_name_their_owner() {
        let (a, b) = (temporary("results.json"), temporary("results.json"));
        assert_ne!(a, b);
        assert!(a.starts_with(".results.json.tmp-"), "{a}");
        assert_eq!(temporary_owner(&a), Some(std::process::id()));
        assert_eq!(temporary_owner(".x.json.tmp-99"), Some(99));
        assert_eq!(temporary_owner("x.json"), None);
        assert_eq!(temporary_owner(".tmp-notes"), None);
        assert!(temporary(&"y".repeat(300)).len() < 100);
    }
}
