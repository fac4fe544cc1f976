//! Finding NVRTC when only a newer major version's library name is installed.
//!
//! sortmark's bindings target the CUDA 12.8 API so that one binary runs on 12.x and 13.x
//! drivers; they open NVRTC as `libnvrtc.so` or `libnvrtc.so.12` (and older names). A CUDA 13
//! runtime installs `libnvrtc.so.13`, and the plain name comes only with the development
//! package. When NVRTC is missing under the names the bindings know but a `libnvrtc.so.N` loads,
//! sortmark links it as `libnvrtc.so` in a folder of its cache and starts itself once more with
//! that folder first on `LD_LIBRARY_PATH` (the loader reads it only at start).

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

/// Set in the restarted process: the folder holding the link, which also stops a second restart.
pub const LINK_DIR_VAR: &str = "SORTMARK_NVRTC_DIR";

/// NVRTC major versions whose versioned library name sortmark looks for.
const MAJORS: [u32; 3] = [13, 14, 15];

/// The command that restarts sortmark with NVRTC findable, when that is needed and possible.
#[cfg(unix)]
pub fn relaunch_command() -> Option<std::process::Command> {
    if std::env::var_os(LINK_DIR_VAR).is_some() {
        return None;
    }
    // SAFETY: only tries to open the shared library by the names the bindings know.
    if unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return None;
    }
    let (major, library) = MAJORS
        .iter()
        .find_map(|&m| Some((m, loaded_path(&format!("libnvrtc.so.{m}"), "nvrtcVersion")?)))?;
    let dir = crate::cache::private_dir("nvrtc")
        .ok()?
        .join(major.to_string());
    link(&dir, &library).ok()?;
    let mut search = std::ffi::OsString::from(&dir);
    if let Some(old) = std::env::var_os("LD_LIBRARY_PATH") {
        search.push(":");
        search.push(old);
    }
    let mut command = std::process::Command::new(std::env::current_exe().ok()?);
    command
        .args(std::env::args_os().skip(1))
        .env("LD_LIBRARY_PATH", search)
        .env(LINK_DIR_VAR, &dir);
    Some(command)
}

/// `dir/libnvrtc.so` → `library`, replacing an older link.
fn link(dir: &Path, library: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("libnvrtc.so");
    let _ = std::fs::remove_file(&path);
    #[cfg(unix)]
    std::os::unix::fs::symlink(library, &path)?;
    Ok(())
}

/// The file a library name resolves to, found by loading it and asking where `symbol` lives.
#[cfg(unix)]
fn loaded_path(name: &str, symbol: &str) -> Option<PathBuf> {
    let name = CString::new(name).ok()?;
    let symbol = CString::new(symbol).ok()?;
    // SAFETY: dlopen/dlsym/dladdr with valid NUL-terminated strings; the handle stays open
    // (the library is about to be used) and `info` is only read after dladdr succeeds.
    unsafe {
        let handle = libc::dlopen(name.as_ptr(), libc::RTLD_LAZY | libc::RTLD_LOCAL);
        if handle.is_null() {
            return None;
        }
        let address = libc::dlsym(handle, symbol.as_ptr());
        if address.is_null() {
            return None;
        }
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(address, &mut info) == 0 || info.dli_fname.is_null() {
            return None;
        }
        let file = CStr::from_ptr(info.dli_fname).to_str().ok()?;
        std::fs::canonicalize(file).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_the_library_under_the_plain_name_replacing_an_old_link() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("libnvrtc.so.13.0.48");
        std::fs::write(&target, b"").unwrap();
        let links = dir.path().join("nvrtc/13");
        link(&links, Path::new("/nonexistent/old")).unwrap();
        link(&links, &target).unwrap();
        assert_eq!(
            std::fs::read_link(links.join("libnvrtc.so")).unwrap(),
            target
        );
    }

    #[test]
    fn a_library_that_is_not_there_has_no_path() {
        assert_eq!(loaded_path("libsortmark-no-such-library.so.1", "f"), None);
        // libc is always loaded: its path is found from one of its symbols.
        assert!(loaded_path("libc.so.6", "printf").is_some());
    }
}
