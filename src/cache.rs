//! sortmark's cache folders, private to the user who runs it.
//!
//! Whatever sortmark loads or runs from a cache (compiled kernels, compiled `.cu` peers, the
//! NVRTC link folder) must be what this user's own sortmark put there: a file another local user
//! could plant would run as whoever runs the definition. So every cache folder is
//! `$XDG_CACHE_HOME/sortmark/NAME`, else `~/.cache/sortmark/NAME`, else
//! `<temporary folder>/sortmark-<uid>/NAME`; sortmark's own folders on that path are created with
//! mode 0700, and each is refused unless this user owns it and no one else may write into it.
//! A file taken from a cache is checked the same way ([`check_file`]) before it is used.

use std::io;
use std::path::{Path, PathBuf};

/// The private cache folder `name` (`kernels`, `peers`, `nvrtc`), created if need be.
pub fn private_dir(name: &str) -> io::Result<PathBuf> {
    let root = cache_root();
    let dir = root.join(name);
    for folder in [&root, &dir] {
        make_private(folder)?;
    }
    Ok(dir)
}

/// The folder that holds sortmark's caches: sortmark's own, so it creates and checks it.
fn cache_root() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        });
    match base {
        Some(base) => base.join("sortmark"),
        // Named by the user, so that two users never share it; make_private checks the owner.
        None => std::env::temp_dir().join(format!("sortmark-{}", user_id())),
    }
}

/// Creates `dir` (and its parents) and makes it private: mode 0700, owned by this user.
fn make_private(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let meta = std::fs::symlink_metadata(dir)?;
        if !meta.is_dir() {
            return Err(refused(dir, "is not a folder (a link, or a file)"));
        }
        if meta.uid() != user_id() {
            return Err(refused(dir, "belongs to another user"));
        }
        if meta.mode() & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
    }
    Ok(())
}

/// Refuses a cached file this user does not own, or that any user may write: it may not be
/// what sortmark stored. (Group write is allowed: under a umask of 002 sortmark's own files
/// have it, and the 0700 folder keeps the group out.)
pub fn check_file(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::symlink_metadata(path)?;
        if !meta.is_file() {
            return Err(refused(path, "is not a plain file"));
        }
        if meta.uid() != user_id() {
            return Err(refused(path, "belongs to another user"));
        }
        if meta.mode() & 0o002 != 0 {
            return Err(refused(path, "may be written by any user"));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn refused(path: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "refusing the cache at {}: it {why}, so what it holds may not be sortmark's",
            path.display()
        ),
    )
}

#[cfg(unix)]
fn user_id() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

#[cfg(not(unix))]
fn user_id() -> u32 {
    0
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_are_made_private_and_files_checked() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("sortmark/kernels");
        std::fs::create_dir_all(&cache).unwrap();
        std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
        make_private(&cache).unwrap();
        assert_eq!(mode(&cache), 0o700);

        let file = cache.join("k.cubin");
        std::fs::write(&file, b"x").unwrap();
        for mode in [0o644, 0o664, 0o755, 0o775] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            check_file(&file).unwrap();
        }
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o666)).unwrap();
        let e = check_file(&file).unwrap_err().to_string();
        assert!(e.contains("may be written by any user"), "{e}");
    }

    #[test]
    fn a_link_in_place_of_a_folder_or_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir(&elsewhere).unwrap();
        let planted = dir.path().join("kernels");
        std::os::unix::fs::symlink(&elsewhere, &planted).unwrap();
        let e = make_private(&planted).unwrap_err().to_string();
        assert!(e.contains("is not a folder"), "{e}");
        let target = dir.path().join("real");
        std::fs::write(&target, b"x").unwrap();
        let link = dir.path().join("peer");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(check_file(&link).is_err());
    }
}
