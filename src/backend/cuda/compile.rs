//! NVRTC compilation of the kernels to a CUBIN for the device's own architecture, cached on
//! disk by a hash of source and options, the architecture and the NVRTC version.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};

use cudarc::nvrtc::{result, sys};

use super::{CudaError, CudaErrorContext};
use crate::data::fnv1a64;

/// The cache file name of a compiled kernel module.
pub fn cache_key(source: &str, options: &[String], arch: (u32, u32), nvrtc: (i32, i32)) -> String {
    let mut text = Vec::with_capacity(source.len() + 64);
    text.extend_from_slice(source.as_bytes());
    for o in options {
        text.push(0);
        text.extend_from_slice(o.as_bytes());
    }
    format!(
        "sortmark-{:016x}-sm_{}{}-nvrtc{}.{}.cubin",
        fnv1a64(&text),
        arch.0,
        arch.1,
        nvrtc.0,
        nvrtc.1
    )
}

/// The NVRTC options for an architecture.
pub fn options(arch: (u32, u32)) -> Vec<String> {
    vec![
        format!("--gpu-architecture=sm_{}{}", arch.0, arch.1),
        "--std=c++17".to_string(),
    ]
}

/// `nvrtcVersion`.
pub fn nvrtc_version() -> Result<(i32, i32), result::NvrtcError> {
    let (mut major, mut minor) = (0, 0);
    // SAFETY: writes two ints.
    unsafe { sys::nvrtcVersion(&mut major, &mut minor) }.result()?;
    Ok((major, minor))
}

/// Returns the CUBIN for `arch`, from the cache under `cache_dir` when present, otherwise
/// compiled (and stored; a cache that cannot be written only costs a recompile next time).
pub fn cubin(source: &str, arch: (u32, u32), cache_dir: &Path) -> Result<Vec<u8>, CudaError> {
    let opts = options(arch);
    let version = nvrtc_version().ctx("asking NVRTC for its version")?;
    let path: PathBuf = cache_dir.join(cache_key(source, &opts, arch, version));
    // Only a file this user's sortmark could have stored is loaded onto the GPU.
    if crate::cache::check_file(&path).is_ok()
        && let Ok(bytes) = std::fs::read(&path)
        && !bytes.is_empty()
    {
        return Ok(bytes);
    }
    let bytes = compile(source, &opts)?;
    if std::fs::create_dir_all(cache_dir).is_ok() {
        let _ = crate::file_names::write_whole(&path, &bytes);
    }
    Ok(bytes)
}

struct Program(sys::nvrtcProgram);

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: the program was created by nvrtcCreateProgram and is destroyed once.
        let _ = unsafe { result::destroy_program(self.0) };
    }
}

fn compile(source: &str, opts: &[String]) -> Result<Vec<u8>, CudaError> {
    let src = CString::new(source).expect("kernel source has no NUL");
    let name = CString::new("sort.cu").expect("static name");
    let prog =
        Program(result::create_program(&src, Some(&name)).ctx("creating the NVRTC program")?);
    // SAFETY: prog is a live program; options are plain strings.
    let compiled = unsafe { result::compile_program(prog.0, opts) };
    if let Err(e) = compiled {
        // SAFETY: prog is live; the log is NUL-terminated.
        let log = unsafe { result::get_program_log(prog.0) }
            .map(|raw| {
                unsafe { CStr::from_ptr(raw.as_ptr()) }
                    .to_string_lossy()
                    .into_owned()
            })
            .unwrap_or_else(|le| format!("(no log: {le})"));
        return Err(CudaError::Compile {
            options: opts.join(" "),
            log: format!("{e}\n{log}"),
        });
    }
    let mut size = 0usize;
    // SAFETY: prog compiled; writes one size, then fills a buffer of that size.
    unsafe { sys::nvrtcGetCUBINSize(prog.0, &mut size) }
        .result()
        .ctx("asking NVRTC for the CUBIN size")?;
    let mut bytes = vec![0u8; size];
    unsafe { sys::nvrtcGetCUBIN(prog.0, bytes.as_mut_ptr().cast()) }
        .result()
        .ctx("fetching the CUBIN")?;
    Ok(bytes)
}

/// The architectures NVRTC can compile for (`nvrtcGetSupportedArchs`, e.g. 75, 80, 90), or
/// `None` when NVRTC cannot say.
pub fn supported_archs() -> Option<Vec<u32>> {
    let mut count = 0;
    // SAFETY: writes one int.
    unsafe { sys::nvrtcGetNumSupportedArchs(&mut count) }
        .result()
        .ok()?;
    let mut archs = vec![0; usize::try_from(count).ok()?];
    // SAFETY: `archs` holds the `count` ints NVRTC writes.
    unsafe { sys::nvrtcGetSupportedArchs(archs.as_mut_ptr()) }
        .result()
        .ok()?;
    Some(
        archs
            .into_iter()
            .filter_map(|a| u32::try_from(a).ok())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_key_depends_on_every_input() {
        let o = options((9, 0));
        let base = cache_key("src", &o, (9, 0), (13, 0));
        assert!(base.starts_with("sortmark-") && base.ends_with("-sm_90-nvrtc13.0.cubin"));
        assert_eq!(base, cache_key("src", &o, (9, 0), (13, 0)));
        assert_ne!(base, cache_key("src2", &o, (9, 0), (13, 0)));
        assert_ne!(base, cache_key("src", &options((8, 0)), (9, 0), (13, 0)));
        assert_ne!(base, cache_key("src", &o, (8, 9), (13, 0)));
        assert_ne!(base, cache_key("src", &o, (9, 0), (12, 8)));
        // Options are separated, so moving text between source and options changes the key.
        assert_ne!(
            cache_key("ab", &["c".into()], (9, 0), (13, 0)),
            cache_key("a", &["bc".into()], (9, 0), (13, 0))
        );
        assert!(options((9, 0)).contains(&"--gpu-architecture=sm_90".to_string()));
    }
}
