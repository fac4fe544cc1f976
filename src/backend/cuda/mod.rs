//! The CUDA backend: GPU facts, NVRTC-compiled sort kernels (Onesweep LSD radix sort and
//! bitonic sort), CUDA-event timing and on-device verification.
//!
//! Everything here loads libcuda and libnvrtc at run time. [`availability`] probes both
//! without panicking, so a machine without an NVIDIA driver gets an explanation, not a crash.
//! The host-side logic (key words, bytes-moved model, memory estimate, kernel-cache key) needs
//! no GPU and is unit-tested everywhere.

mod compile;
mod device;
pub mod nvrtc_path;
mod session;

use std::fmt;

use crate::data::KeyType;

use crate::catalog::GpuAlgorithm;
use crate::env::gpu::{CudaStack, GpuInfo};
pub use compile::cache_key;
pub use device::GpuDevice;
pub use session::{GpuSession, MIN_COMPUTE_CAPABILITY};

/// The CUDA driver API version cudarc was built against, as reports show it.
pub const CUDARC_API: &str = "12.8 (cuda-12080)";

/// The kernel source, compiled at run time for the device's own architecture.
pub const KERNEL_SOURCE: &str = include_str!("../../../kernels/sort.cu");

/// The largest input the kernels accept: tile counts and offsets are 30-bit values.
pub const MAX_ELEMENTS: usize = (1 << 30) - (1 << 20);

/// The shape of a Onesweep tile: threads per block and keys per thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileShape {
    /// Threads per block (at least 256: the threads below 256 own one digit each).
    pub threads: u64,
    /// Keys each thread holds.
    pub items: u64,
}

impl TileShape {
    /// Keys in one tile.
    pub const fn keys(self) -> u64 {
        self.threads * self.items
    }
}

/// The Onesweep tile shape for inputs of up to `up_to` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileChoice {
    /// The largest input this shape is for.
    pub up_to: usize,
    /// Its tile shape; the kernel is `onesweep{items}_{suffix}` (kernels/sort.cu `ONESWEEP`).
    pub shape: TileShape,
}

const fn choice(up_to: usize, items: u64) -> TileChoice {
    TileChoice {
        up_to,
        shape: TileShape {
            threads: 256,
            items,
        },
    }
}

/// Tile shapes for 32-bit words by input size, smallest first: short tiles spread small inputs
/// over every SM; large tiles are fastest from 2^21 keys (an H100 sweep, kernels/NOTES.md).
pub const TILES_32: [TileChoice; 4] = [
    choice(1 << 16, 4),
    choice(1 << 18, 8),
    choice(1 << 20, 16),
    choice(usize::MAX, 24),
];
/// Tile shapes for 64-bit words (64-bit keys and pairs) by input size, smallest first. Above
/// 2^25 keys, 18 keys per thread at three blocks per SM beat 16 at four (an H200 sweep,
/// kernels/NOTES.md v5: +1.5 % at 2^28, -2.5 % at 2^24).
pub const TILES_64: [TileChoice; 4] = [
    choice(1 << 16, 4),
    choice(1 << 18, 8),
    choice(1 << 25, 16),
    choice(usize::MAX, 18),
];

/// The tile-shape table of `key_type`'s device words.
pub fn tile_table(key_type: KeyType) -> &'static [TileChoice] {
    if word_bytes(key_type) == 8 {
        &TILES_64
    } else {
        &TILES_32
    }
}

/// Elements the bitonic sort orders per block in shared memory; buffers pad to at least this.
pub const BITONIC_TILE: u64 = 4096;

/// Why the CUDA backend cannot run here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// libcuda could not be loaded.
    NoDriver,
    /// libnvrtc could not be loaded.
    NoNvrtc,
    /// The driver loaded but failed to initialise or to answer.
    DriverFailed(String),
    /// The driver works but reports no device.
    NoDevice,
}

impl fmt::Display for Unavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unavailable::NoDriver => {
                f.write_str("no NVIDIA driver found (libcuda.so could not be loaded)")
            }
            Unavailable::NoNvrtc => f.write_str(
                "no CUDA runtime compiler found (libnvrtc.so could not be loaded; \
                 install the CUDA toolkit or add its lib64 to LD_LIBRARY_PATH)",
            ),
            Unavailable::DriverFailed(why) => write!(f, "the NVIDIA driver failed: {why}"),
            Unavailable::NoDevice => f.write_str("the NVIDIA driver reports no CUDA device"),
        }
    }
}

impl std::error::Error for Unavailable {}

/// Errors of the CUDA backend.
#[derive(Debug, thiserror::Error)]
pub enum CudaError {
    #[error("CUDA is unavailable: {0}")]
    Unavailable(#[from] Unavailable),
    #[error("CUDA driver call failed while {context}: {source}")]
    Driver {
        context: String,
        source: cudarc::driver::DriverError,
    },
    #[error("NVRTC failed while {context}: {source}")]
    Nvrtc {
        context: String,
        source: cudarc::nvrtc::result::NvrtcError,
    },
    #[error("NVRTC could not compile the sort kernels (options: {options}):\n{log}")]
    Compile { options: String, log: String },
    #[error("{n} elements exceed the CUDA backend's limit of {MAX_ELEMENTS}")]
    TooLarge { n: usize },
    #[error("{algorithm} on {n} {key_type} needs {needed} bytes of device memory, {free} free")]
    OutOfMemory {
        algorithm: GpuAlgorithm,
        key_type: KeyType,
        n: usize,
        needed: u64,
        free: u64,
    },
    #[error("a CUDA library call panicked: {0}")]
    Panicked(String),
}

/// Says what a driver or NVRTC call was doing when it failed (named apart from anyhow's
/// `Context`, which the rest of the tree uses).
pub(crate) trait CudaErrorContext<T> {
    fn ctx(self, context: &str) -> Result<T, CudaError>;
}

impl<T> CudaErrorContext<T> for Result<T, cudarc::driver::DriverError> {
    fn ctx(self, context: &str) -> Result<T, CudaError> {
        self.map_err(|source| CudaError::Driver {
            context: context.to_string(),
            source,
        })
    }
}

impl<T> CudaErrorContext<T> for Result<T, cudarc::nvrtc::result::NvrtcError> {
    fn ctx(self, context: &str) -> Result<T, CudaError> {
        self.map_err(|source| CudaError::Nvrtc {
            context: context.to_string(),
            source,
        })
    }
}

/// What one case's GPU sort produced.
#[derive(Debug, Clone, PartialEq)]
pub struct GpuSortOutcome {
    /// CUDA-event time of each timed run, device-side sort only, in seconds.
    pub samples_s: Vec<f64>,
    /// Host-to-device transfer of the input, seconds.
    pub h2d_s: f64,
    /// Device-to-host transfer of the sorted output, seconds.
    pub d2h_s: f64,
    /// Whether the last run's output is in order (checked on the GPU).
    pub sorted: bool,
    /// Whether the output's checksum equals the input's `KeyData::checksum()`.
    pub checksum_matches: bool,
    /// For pairs under a stable algorithm: whether equal keys kept their input order.
    pub stable: Option<bool>,
    /// The bytes-moved model of one sort ([`bytes_moved`]).
    pub bytes_moved: u64,
    /// The sorted result copied back to the host.
    pub output: Option<crate::data::KeyData>,
}

/// The per-key-type kernels of [`KERNEL_SOURCE`], each instantiated as `{kernel}_{suffix}`.
/// The Onesweep pass kernels are per tile shape as well ([`tile_table`]).
pub const KERNELS_PER_TYPE: [&str; 5] = [
    "histogram",
    "bitonic_tile",
    "bitonic_step",
    "bitonic_step2",
    "verify",
];

/// Every kernel entry point the backend loads from [`KERNEL_SOURCE`].
pub fn kernel_names() -> Vec<String> {
    let mut names: Vec<String> = ["fill_u32", "fill_u64"].map(String::from).to_vec();
    for kt in KeyType::ALL {
        for k in KERNELS_PER_TYPE {
            names.push(format!("{k}_{}", kernel_suffix(kt)));
        }
        for c in tile_table(kt) {
            names.push(onesweep_name(kt, c.shape));
        }
    }
    names
}

/// Bytes one element occupies on the device (pairs travel as one 64-bit word).
pub fn word_bytes(key_type: KeyType) -> u64 {
    key_type.element_bytes()
}

/// Digit passes of the 8-bit LSD radix sort: 4 for 32-bit keys and pairs, 8 for 64-bit keys.
pub fn radix_passes(key_type: KeyType) -> u64 {
    match key_type {
        KeyType::U32 | KeyType::I32 | KeyType::F32 | KeyType::U32U32 => 4,
        KeyType::U64 | KeyType::I64 | KeyType::F64 => 8,
    }
}

/// The Onesweep kernel and tile shape that sort `n` keys of `key_type`.
pub fn radix_kernel(key_type: KeyType, n: usize) -> (String, TileShape) {
    let table = tile_table(key_type);
    let pick = table
        .iter()
        .find(|c| n <= c.up_to)
        .unwrap_or(&table[table.len() - 1]);
    (onesweep_name(key_type, pick.shape), pick.shape)
}

/// The Onesweep pass kernel of `key_type` in tile shape `shape` (kernels/sort.cu `ONESWEEP`).
fn onesweep_name(key_type: KeyType, shape: TileShape) -> String {
    format!("onesweep{}_{}", shape.items, kernel_suffix(key_type))
}

/// Tiles of one radix pass over `n` keys (at least one).
pub fn radix_tiles(key_type: KeyType, n: usize) -> u64 {
    (n as u64)
        .max(1)
        .div_ceil(radix_kernel(key_type, n).1.keys())
}

/// The padded buffer length of the bitonic sort: the next power of two, at least one tile.
pub fn bitonic_len(n: usize) -> u64 {
    (n as u64).next_power_of_two().max(BITONIC_TILE)
}

/// The kernel-name suffix of a key type.
pub fn kernel_suffix(key_type: KeyType) -> &'static str {
    match key_type {
        // A kernel name cannot hold the pair type's `-`.
        KeyType::U32U32 => "kv",
        other => other.name(),
    }
}

/// The raw word that sorts after every element of `key_type` (bitonic padding): the inverse
/// ordered-bits image of all ones; for pairs key and value all ones, which the bitonic
/// comparison places after real elements of the same key.
pub fn pad_word(key_type: KeyType) -> u64 {
    use crate::data::SortKey;
    match key_type {
        KeyType::U32 => u64::from(u32::MAX),
        KeyType::I32 => u64::from(i32::from_ordered_bits(u64::from(u32::MAX)) as u32),
        KeyType::F32 => u64::from(f32::from_ordered_bits(u64::from(u32::MAX)).to_bits()),
        KeyType::U64 => u64::MAX,
        KeyType::I64 => i64::from_ordered_bits(u64::MAX) as u64,
        KeyType::F64 => f64::from_ordered_bits(u64::MAX).to_bits(),
        KeyType::U32U32 => u64::MAX,
    }
}

/// The bytes-moved model of one device sort of `n` elements: every byte each kernel must
/// read or write in DRAM, ignoring scratch smaller than the data.
///
/// - radix: one histogram read, then per digit pass one read and one write:
///   `n * e * (1 + 2 * passes)` (36 B/key for u32; passes a skew-free input would skip
///   are still counted, so the model is the worst case).
/// - bitonic: padding write; one read and write for the in-tile sort, then for each merge
///   size k above the tile one read and write per sweep over the global levels (two levels
///   per sweep) plus one for the in-tile tail.
pub fn bytes_moved(algorithm: GpuAlgorithm, key_type: KeyType, n: usize) -> u64 {
    let e = word_bytes(key_type);
    let n64 = n as u64;
    if n == 0 {
        return 0;
    }
    match algorithm {
        GpuAlgorithm::Radix => n64 * e * (1 + 2 * radix_passes(key_type)),
        GpuAlgorithm::Bitonic => {
            if n == 1 {
                return 0;
            }
            let m = bitonic_len(n);
            let tile_log = BITONIC_TILE.trailing_zeros() as u64;
            let m_log = m.trailing_zeros() as u64;
            let mut sweeps = 1; // the in-tile sort
            for k_log in tile_log + 1..=m_log {
                // Global levels j >= tile, two per sweep, then the in-tile tail.
                sweeps += (k_log - tile_log).div_ceil(2) + 1;
            }
            (m - n64) * e + sweeps * 2 * m * e
        }
    }
}

/// The radix sort's scratch (kernels/sort.cu, "Radix scratch layout"): histogram and digit
/// starts of every pass, 16 plan words, 16 tile counters and two look-back status regions.
pub fn radix_scratch_bytes(key_type: KeyType, n: usize) -> u64 {
    let passes = radix_passes(key_type);
    let tiles = radix_tiles(key_type, n);
    4 * (2 * passes * 256 + 32 + 2 * tiles * 256)
}

/// Device memory one case needs: the pristine input, work buffers and scratch.
pub fn bytes_needed(algorithm: GpuAlgorithm, key_type: KeyType, n: usize) -> u64 {
    let e = word_bytes(key_type);
    let n64 = (n as u64).max(1);
    let verify = 64;
    match algorithm {
        GpuAlgorithm::Radix => 3 * n64 * e + radix_scratch_bytes(key_type, n) + verify,
        GpuAlgorithm::Bitonic => n64 * e + bitonic_len(n) * e + verify,
    }
}

/// Probes libcuda and libnvrtc without panicking and reports what was found.
pub fn availability() -> Result<CudaStack, Unavailable> {
    // SAFETY: only tries to open the shared libraries by name.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err(Unavailable::NoDriver);
    }
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(Unavailable::NoNvrtc);
    }
    // cudarc panics when a symbol is missing (a driver older than the bindings): catch it.
    match std::panic::catch_unwind(probe_stack) {
        Ok(result) => result,
        Err(panic) => Err(Unavailable::DriverFailed(super::panic_message(&panic))),
    }
}

fn probe_stack() -> Result<CudaStack, Unavailable> {
    use cudarc::driver::{result, sys};
    let failed =
        |what: &str, e: &dyn fmt::Display| Unavailable::DriverFailed(format!("{what}: {e}"));
    result::init().map_err(|e| failed("cuInit", &e))?;
    let mut driver_version = 0;
    // SAFETY: writes one int.
    unsafe { sys::cuDriverGetVersion(&mut driver_version) }
        .result()
        .map_err(|e| failed("cuDriverGetVersion", &e))?;
    let device_count = result::device::get_count().map_err(|e| failed("cuDeviceGetCount", &e))?;
    if device_count <= 0 {
        return Err(Unavailable::NoDevice);
    }
    let nvrtc_version = compile::nvrtc_version().map_err(|e| failed("nvrtcVersion", &e))?;
    Ok(CudaStack {
        driver_version,
        nvrtc_version,
        device_count: device_count as usize,
        cudarc_api: CUDARC_API.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SortKey;

    #[test]
    fn radix_model_is_36_bytes_per_u32_key() {
        let n = 1 << 20;
        assert_eq!(
            bytes_moved(GpuAlgorithm::Radix, KeyType::U32, n),
            36 * n as u64
        );
        assert_eq!(
            bytes_moved(GpuAlgorithm::Radix, KeyType::F32, n),
            36 * n as u64
        );
        assert_eq!(
            bytes_moved(GpuAlgorithm::Radix, KeyType::U64, n),
            136 * n as u64
        );
        assert_eq!(
            bytes_moved(GpuAlgorithm::Radix, KeyType::U32U32, n),
            72 * n as u64
        );
        assert_eq!(bytes_moved(GpuAlgorithm::Radix, KeyType::U32, 0), 0);
    }

    #[test]
    fn bitonic_model_counts_sweeps() {
        // One tile: padding plus one in-tile sort.
        assert_eq!(
            bytes_moved(GpuAlgorithm::Bitonic, KeyType::U32, 4000),
            96 * 4 + 2 * 4096 * 4
        );
        // Two tiles: in-tile sort, then k = 8192: one global step and one tile tail.
        assert_eq!(
            bytes_moved(GpuAlgorithm::Bitonic, KeyType::U32, 8192),
            3 * 2 * 8192 * 4
        );
        // Four tiles: k = 8192 (1 + 1) and k = 16384 (two levels in one sweep, + 1).
        assert_eq!(
            bytes_moved(GpuAlgorithm::Bitonic, KeyType::U64, 16384),
            5 * 2 * 16384 * 8
        );
        // Eight tiles: k = 32768 has three global levels: two sweeps, + 1.
        assert_eq!(
            bytes_moved(GpuAlgorithm::Bitonic, KeyType::U32, 32768),
            (1 + 2 + 2 + 3) * 2 * 32768 * 4
        );
        assert_eq!(bitonic_len(1), 4096);
        assert_eq!(bitonic_len(5000), 8192);
        assert_eq!(bitonic_len(1 << 20), 1 << 20);
    }

    #[test]
    fn memory_estimate_covers_buffers() {
        let n = 1 << 24;
        let radix = bytes_needed(GpuAlgorithm::Radix, KeyType::U32, n);
        assert!(radix >= 3 * 4 * n as u64);
        assert!(
            radix < 3 * 4 * n as u64 + 5 * n as u64 / 4,
            "status scratch stays small"
        );
        let bitonic = bytes_needed(GpuAlgorithm::Bitonic, KeyType::U64, n + 1);
        assert!(bitonic >= 8 * (n as u64 + 1) + 8 * 2 * n as u64);
        assert!(bytes_needed(GpuAlgorithm::Radix, KeyType::U32, 0) > 0);
        assert_eq!(radix_tiles(KeyType::U32, 1 << 24), (1 << 24) / 6144 + 1);
        assert_eq!(radix_tiles(KeyType::U32U32, 1 << 24), 4096);
        // u64 at 2^20: large tiles, 256 of 4096 keys, two status regions of 256 KiB.
        assert_eq!(radix_tiles(KeyType::U64, 1 << 20), 256);
        assert_eq!(
            radix_scratch_bytes(KeyType::U64, 1 << 20),
            4 * (2 * 8 * 256 + 32) + 2 * 256 * 1024
        );
        // u32 at 2^16: small tiles of 1024 keys.
        assert_eq!(radix_tiles(KeyType::U32, 1 << 16), 64);
    }

    #[test]
    fn every_loaded_kernel_is_defined_in_the_source() {
        let src = KERNEL_SOURCE;
        for kt in KeyType::ALL {
            let bits = 8 * word_bytes(kt);
            let inst = format!("INSTANTIATE_{bits}({}, ", kernel_suffix(kt));
            assert!(src.contains(&inst), "{inst}");
        }
        for k in KERNELS_PER_TYPE {
            let entry = format!(" {k}_##NAME(");
            assert!(src.contains(&entry), "{entry}");
        }
        for name in ["fill_u32", "fill_u64"] {
            let entry = format!(" {name}(");
            assert!(src.contains(&entry), "{entry}");
        }
        // fill kernels, the per-type kernels, then 4 tile shapes for 32-bit and 64-bit words each.
        assert_eq!(kernel_names().len(), 2 + 5 * 7 + 4 * 3 + 4 * 4);
        // The device code asks for these by name.
        let device = include_str!("device.rs");
        for used in ["\"fill_u32\"", "\"fill_u64\""] {
            assert!(device.contains(used), "{used}");
        }
        for k in KERNELS_PER_TYPE {
            let used = format!("\"{k}_{{suffix}}\"");
            assert!(device.contains(&used), "{used} not used by device.rs");
        }
        assert!(device.contains("radix_kernel(key_type, n)"));
    }

    #[test]
    fn every_tile_shape_is_instantiated() {
        assert_eq!(kernel_define("OS_BLOCK"), 256);
        for (table, word) in [(&TILES_32[..], "u32"), (&TILES_64[..], "u64")] {
            for c in table {
                assert_eq!(c.shape.threads, 256);
                let entry = format!("ONESWEEP(NAME, {word}, MODE, {}, ", c.shape.items);
                assert!(KERNEL_SOURCE.contains(&entry), "{entry}");
            }
            assert!(table.windows(2).all(|w| w[0].up_to < w[1].up_to));
            assert_eq!(table[table.len() - 1].up_to, usize::MAX);
        }
        assert_eq!(radix_kernel(KeyType::F32, 1 << 16).0, "onesweep4_f32");
        assert_eq!(radix_kernel(KeyType::U32U32, 1 << 18).0, "onesweep8_kv");
        assert_eq!(radix_kernel(KeyType::U32, 1 << 28).0, "onesweep24_u32");
        for kt in KeyType::ALL {
            for n in [0, 1, 1 << 16, 1 << 20, 1 << 30] {
                assert!(kernel_names().contains(&radix_kernel(kt, n).0));
            }
        }
    }

    /// The value of `#define NAME value` in the kernel source.
    fn kernel_define(name: &str) -> u64 {
        let prefix = format!("#define {name} ");
        let line = KERNEL_SOURCE
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("{name} is not defined in kernels/sort.cu"));
        line[prefix.len()..].trim().parse().expect("a number")
    }

    #[test]
    fn pad_words_sort_last() {
        assert_eq!(pad_word(KeyType::U32), u32::MAX as u64);
        assert_eq!(pad_word(KeyType::I32) as u32 as i32, i32::MAX);
        assert_eq!(pad_word(KeyType::I64) as i64, i64::MAX);
        let f = f32::from_bits(pad_word(KeyType::F32) as u32);
        assert!(f.is_nan() && f.is_sign_positive());
        assert_eq!(f.ordered_bits(), u32::MAX);
        let d = f64::from_bits(pad_word(KeyType::F64));
        assert_eq!(d.ordered_bits(), u64::MAX);
        assert!(d.total_cmp(&f64::INFINITY).is_gt());
    }

    #[test]
    fn unavailable_here_is_an_error_not_a_panic() {
        // The build machine has no libcuda; on a GPU machine this returns the stack.
        match availability() {
            Ok(stack) => assert!(stack.device_count > 0),
            Err(e) => assert!(!e.to_string().is_empty()),
        }
        assert_eq!(
            Unavailable::NoDriver.to_string(),
            "no NVIDIA driver found (libcuda.so could not be loaded)"
        );
    }

    #[test]
    fn device_can_move_between_threads() {
        fn assert_send<T: Send>() {}
        assert_send::<GpuDevice>();
        assert_send::<GpuSortOutcome>();
    }

    #[test]
    fn stack_serializes() {
        let stack = CudaStack {
            driver_version: 13000,
            nvrtc_version: (13, 0),
            device_count: 1,
            cudarc_api: CUDARC_API.to_string(),
        };
        let json = serde_json::to_string(&stack).unwrap();
        assert_eq!(serde_json::from_str::<CudaStack>(&json).unwrap(), stack);
    }

    #[test]
    fn facts_serialize() {
        let facts = GpuInfo {
            ordinal: 0,
            name: "Test GPU".into(),
            compute_capability: (9, 0),
            sm_count: 132,
            memory_total_bytes: 80 << 30,
            memory_free_bytes: 79 << 30,
            l2_bytes: 50 << 20,
            clock_khz: Some(1_980_000),
            memory_clock_khz: None,
            memory_bus_width_bits: Some(5120),
            pci_bus_id: "0000:19:00.0".into(),
            driver_version: 13000,
            cuda_driver_api: CUDARC_API.into(),
            nvrtc_version: (13, 0),
            copy_bandwidth_bytes_per_s: Some(3.0e12),
        };
        let json = serde_json::to_string(&facts).unwrap();
        assert_eq!(serde_json::from_str::<GpuInfo>(&json).unwrap(), facts);
    }
}
