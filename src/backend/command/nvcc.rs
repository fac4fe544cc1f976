//! CUDA C++ peers: a command whose program is a `.cu` file is compiled with nvcc first, once
//! per source text, compiler and flags, into sortmark's private cache folder `peers`
//! ([`crate::cache`]); a cached build is run only while this user owns it and no one else may
//! write it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::process::{self, End};

/// nvcc's flags: optimised, for the GPU of this machine.
pub const FLAGS: [&str; 3] = ["-O3", "-std=c++17", "-arch=native"];
/// How long a compile may take.
const COMPILE_TIMEOUT: Duration = Duration::from_secs(600);

/// Why a `.cu` peer could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// No nvcc on this machine: the case is skipped.
    NoCompiler,
    /// The source could not be read or did not compile: the case fails.
    Failed(String),
}

/// A built peer: the executable and a sentence saying how it was built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    pub executable: PathBuf,
    pub note: String,
}

/// Builds `source` (or finds it already built) and returns the executable.
pub fn build(source: &Path) -> Result<Built, BuildError> {
    let nvcc = find_nvcc().ok_or(BuildError::NoCompiler)?;
    let text = std::fs::read(source)
        .map_err(|e| BuildError::Failed(format!("could not read {}: {e}", source.display())))?;
    // Keyed by the source, the compiler (its path and version) and the flags: a new nvcc or
    // another flag builds anew.
    let compiler = compiler_identity(&nvcc);
    let key = FLAGS
        .iter()
        .map(|f| f.as_bytes())
        .chain([compiler.as_bytes()])
        .fold(hash(&text), |h, part| crate::data::mix64(h ^ hash(part)));
    let stem = source.file_stem().map_or_else(
        || "peer".to_string(),
        |s| crate::file_names::stem(&s.to_string_lossy()),
    );
    let cache = crate::cache::private_dir("peers")
        .map_err(|e| BuildError::Failed(format!("no private folder to build the peer in: {e}")))?;
    let executable = cache.join(format!("{stem}-{key:016x}"));
    let note = format!(
        "built {} with {} {}",
        source.display(),
        nvcc.display(),
        FLAGS.join(" ")
    );
    if executable.is_file() {
        crate::cache::check_file(&executable).map_err(|e| BuildError::Failed(e.to_string()))?;
        return Ok(Built { executable, note });
    }
    // The output's name is reserved exclusively and unpredictably, so that nvcc writes no file
    // or link planted in the shared folder.
    let (partial, reserved) = crate::file_names::create_temporary(&executable).map_err(|e| {
        BuildError::Failed(format!(
            "could not create a file in {}: {e}",
            cache.display()
        ))
    })?;
    drop(reserved);
    let mut argv = vec![nvcc.display().to_string()];
    argv.extend(FLAGS.iter().map(|f| f.to_string()));
    argv.extend([
        "-o".to_string(),
        partial.display().to_string(),
        source.display().to_string(),
    ]);
    let built = compile(&argv, source).and_then(|elapsed| {
        std::fs::rename(&partial, &executable)
            .map_err(|e| BuildError::Failed(format!("could not store the built peer: {e}")))?;
        Ok(elapsed)
    });
    if built.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    let elapsed = built?;
    Ok(Built {
        executable,
        note: format!("{note} ({:.1} s)", elapsed.as_secs_f64()),
    })
}

/// nvcc's path and the output of `nvcc --version`, which names its release and build.
fn compiler_identity(nvcc: &Path) -> String {
    let argv = [nvcc.display().to_string(), "--version".to_string()];
    let version = process::run(&argv, Path::new("."), Duration::from_secs(30))
        .map(|out| out.stdout)
        .unwrap_or_default();
    format!("{}\n{version}", nvcc.display())
}

/// Runs nvcc's `argv` on `source`; how long it took.
fn compile(argv: &[String], source: &Path) -> Result<std::time::Duration, BuildError> {
    let out = process::run(argv, Path::new("."), COMPILE_TIMEOUT)
        .map_err(|e| BuildError::Failed(format!("could not start nvcc: {e}")))?;
    match out.end {
        End::Exited(status) if status.success() => Ok(out.elapsed),
        End::Exited(status) => Err(BuildError::Failed(format!(
            "nvcc could not compile {} ({status}):\n{}",
            source.display(),
            process::tail(&format!("{}\n{}", out.stdout, out.stderr), 20)
        ))),
        End::TimedOut | End::Interrupted => Err(BuildError::Failed(format!(
            "nvcc did not finish compiling {} within {} s",
            source.display(),
            COMPILE_TIMEOUT.as_secs()
        ))),
    }
}

/// nvcc on the PATH, else in `$CUDA_HOME/bin` or `/usr/local/cuda/bin`.
fn find_nvcc() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let cuda_home = ["CUDA_HOME", "CUDA_PATH"]
        .iter()
        .filter_map(std::env::var_os)
        .map(|h| PathBuf::from(h).join("bin"));
    std::env::split_paths(&path)
        .chain(cuda_home)
        .chain([PathBuf::from("/usr/local/cuda/bin")])
        .map(|dir| dir.join("nvcc"))
        .find(|p| p.is_file())
}

/// FNV-1a folded through splitmix64: a stable hash of bytes (std's hasher is not stable).
fn hash(bytes: &[u8]) -> u64 {
    crate::data::mix64(crate::data::fnv1a64(bytes))
}
