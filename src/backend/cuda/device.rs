//! One GPU: context, stream, compiled kernels, and the timed sorts.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use cudarc::driver::sys::{
    self, CUdevice_attribute as Attr, CUgraphInstantiate_flags, CUstreamCaptureMode,
};
use cudarc::driver::{
    CudaContext, CudaEvent, CudaFunction, CudaGraph, CudaModule, CudaSlice, CudaStream, DevicePtr,
    DriverError, LaunchConfig, PushKernelArg, result,
};
use cudarc::nvrtc::Ptx;

use super::{
    BITONIC_TILE, CUDARC_API, CudaError, CudaErrorContext, GpuAlgorithm, GpuInfo, GpuSortOutcome,
    KERNEL_SOURCE, MAX_ELEMENTS, bitonic_len, bytes_moved, bytes_needed, compile, kernel_suffix,
    pad_word, radix_kernel, radix_passes, radix_scratch_bytes, radix_tiles, word_bytes,
};
use crate::data::{KeyData, KeyType, KeyValue};
use crate::measure::MeasureSettings;

const BITONIC_THREADS: u32 = 1024;
const STEP_THREADS: u32 = 256;
const VERIFY_THREADS: u32 = 256;
/// The histogram grid's cap, in blocks per SM.
const HISTOGRAM_BLOCKS_PER_SM: u64 = 2;

/// One GPU with its own context, stream and compiled kernel module.
pub struct GpuDevice {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    _module: Arc<CudaModule>,
    functions: HashMap<String, CudaFunction>,
    facts: GpuInfo,
}

/// A device allocation and its raw address.
struct Buffer {
    _slice: CudaSlice<u8>,
    ptr: u64,
}

impl GpuDevice {
    /// Opens device `ordinal`: creates its context and stream, gathers its facts and loads the
    /// kernels, compiled by NVRTC for its architecture or taken from `kernel_cache_dir`.
    pub fn open(ordinal: usize, kernel_cache_dir: &Path) -> Result<GpuDevice, CudaError> {
        super::availability()?;
        match std::panic::catch_unwind(|| Self::open_inner(ordinal, kernel_cache_dir)) {
            Ok(r) => r,
            Err(p) => Err(CudaError::Panicked(crate::backend::panic_message(&p))),
        }
    }

    fn open_inner(ordinal: usize, kernel_cache_dir: &Path) -> Result<GpuDevice, CudaError> {
        let ctx = CudaContext::new(ordinal).ctx("creating the context")?;
        // One stream, synchronised by hand: no per-buffer event tracking in timed loops.
        // SAFETY: every buffer is used on `stream` only and freed after it synchronises.
        unsafe { ctx.disable_event_tracking() };
        let stream = ctx.new_stream().ctx("creating a stream")?;
        let facts = gather_facts(&ctx, ordinal)?;
        let cubin = compile::cubin(KERNEL_SOURCE, facts.compute_capability, kernel_cache_dir)?;
        let module = ctx
            .load_module(Ptx::from_binary(cubin))
            .ctx("loading the kernel CUBIN")?;
        let mut functions = HashMap::new();
        for name in super::kernel_names() {
            let f = module
                .load_function(&name)
                .ctx(&format!("loading kernel {name}"))?;
            functions.insert(name, f);
        }
        Ok(GpuDevice {
            ctx,
            stream,
            _module: module,
            functions,
            facts,
        })
    }

    /// Facts about this GPU.
    pub fn facts(&self) -> &GpuInfo {
        &self.facts
    }

    /// Device memory a case needs (see [`super::bytes_needed`]).
    pub fn bytes_needed(algorithm: GpuAlgorithm, key_type: KeyType, n: usize) -> u64 {
        bytes_needed(algorithm, key_type, n)
    }

    /// Free device memory now.
    pub fn memory_free_bytes(&self) -> Result<u64, CudaError> {
        self.ctx.bind_to_thread().ctx("binding the context")?;
        Ok(result::mem_get_info().ctx("querying free memory")?.0 as u64)
    }

    fn func(&self, name: &str) -> &CudaFunction {
        &self.functions[name]
    }

    fn alloc(&self, bytes: usize) -> Result<Buffer, CudaError> {
        let bytes = bytes.max(16);
        // SAFETY: the memory is written before it is read (copies, memsets, kernels).
        let slice =
            unsafe { self.stream.alloc::<u8>(bytes) }.ctx(&format!("allocating {bytes} bytes"))?;
        let ptr = {
            let (ptr, _sync) = slice.device_ptr(&self.stream);
            ptr
        };
        Ok(Buffer { ptr, _slice: slice })
    }

    fn event(&self) -> Result<CudaEvent, CudaError> {
        self.ctx
            .new_event(Some(sys::CUevent_flags::CU_EVENT_DEFAULT))
            .ctx("creating an event")
    }

    fn memset(&self, ptr: u64, bytes: usize) -> Result<(), CudaError> {
        // SAFETY: ptr..ptr+bytes lies in a live allocation of this context.
        unsafe { result::memset_d8_async(ptr, 0, bytes, self.stream.cu_stream()) }.ctx("memset")
    }

    fn copy_dtod(&self, dst: u64, src: u64, bytes: usize) -> Result<(), CudaError> {
        if bytes == 0 {
            return Ok(());
        }
        // SAFETY: both ranges lie in live allocations of this context.
        unsafe { result::memcpy_dtod_async(dst, src, bytes, self.stream.cu_stream()) }
            .ctx("device-to-device copy")
    }

    fn sync(&self) -> Result<(), CudaError> {
        self.stream.synchronize().ctx("synchronising the stream")
    }

    /// Times a large device-to-device copy with events; returns bytes read plus written per
    /// second and records it in [`GpuInfo::copy_bandwidth_bytes_per_s`].
    pub fn measure_copy_bandwidth(&mut self) -> Result<f64, CudaError> {
        let free = self.memory_free_bytes()?;
        let bytes = ((free / 4) as usize).clamp(1 << 20, 1 << 30);
        let src = self.alloc(bytes)?;
        let dst = self.alloc(bytes)?;
        self.memset(src.ptr, bytes)?;
        self.copy_dtod(dst.ptr, src.ptr, bytes)?; // warm-up
        let (start, end) = (self.event()?, self.event()?);
        let reps = 10;
        let mut best = f64::INFINITY;
        for _ in 0..reps {
            start.record(&self.stream).ctx("recording an event")?;
            self.copy_dtod(dst.ptr, src.ptr, bytes)?;
            end.record(&self.stream).ctx("recording an event")?;
            let ms = start.elapsed_ms(&end).ctx("reading an event")?;
            best = best.min(f64::from(ms) / 1e3);
        }
        self.sync()?;
        let bandwidth = 2.0 * bytes as f64 / best;
        self.facts.copy_bandwidth_bytes_per_s = Some(bandwidth);
        Ok(bandwidth)
    }

    /// Sorts `input` on the GPU with `algorithm`, as `settings` ask (each from a pristine device copy
    /// of the input, restored untimed), timing the device-side sort with CUDA events; then
    /// verifies the last output on the GPU and copies it back.
    pub fn sort(
        &mut self,
        algorithm: GpuAlgorithm,
        input: &KeyData,
        settings: &MeasureSettings,
    ) -> Result<GpuSortOutcome, CudaError> {
        let n = input.len();
        if n > MAX_ELEMENTS {
            return Err(CudaError::TooLarge { n });
        }
        let key_type = input.key_type();
        let needed = bytes_needed(algorithm, key_type, n);
        let free = self.memory_free_bytes()?;
        if needed > free {
            return Err(CudaError::OutOfMemory {
                algorithm,
                key_type,
                n,
                needed,
                free,
            });
        }
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.sort_inner(algorithm, input, settings)
        })) {
            Ok(r) => r,
            Err(p) => Err(CudaError::Panicked(crate::backend::panic_message(&p))),
        }
    }

    fn sort_inner(
        &mut self,
        algorithm: GpuAlgorithm,
        input: &KeyData,
        settings: &MeasureSettings,
    ) -> Result<GpuSortOutcome, CudaError> {
        self.ctx.bind_to_thread().ctx("binding the context")?;
        let n = input.len();
        let key_type = input.key_type();
        let e = word_bytes(key_type) as usize;
        let data_bytes = n * e;
        let (start, end) = (self.event()?, self.event()?);

        // Upload the pristine copy.
        let pristine = self.alloc(data_bytes)?;
        let host = host_bytes(input);
        start.record(&self.stream).ctx("recording an event")?;
        if data_bytes > 0 {
            // SAFETY: `host` outlives the copy (synchronised by elapsed_ms below).
            unsafe { result::memcpy_htod_async(pristine.ptr, host, self.stream.cu_stream()) }
                .ctx("copying the input to the device")?;
        }
        end.record(&self.stream).ctx("recording an event")?;
        let h2d_s = f64::from(start.elapsed_ms(&end).ctx("reading an event")?) / 1e3;

        let mut plan = match algorithm {
            GpuAlgorithm::Radix => Plan::radix(self, key_type, n)?,
            GpuAlgorithm::Bitonic => Plan::bitonic(self, key_type, n)?,
        };

        // The whole sort is captured once into a CUDA graph (untimed, like the allocations), so
        // that each timed run is one launch and the GPU never waits for the host between kernels.
        let sort_graph = plan.capture(self, key_type, n)?;

        let mut samples_s = Vec::new();
        let mut warmups = settings.warmup;
        loop {
            self.copy_dtod(plan.work.ptr, pristine.ptr, data_bytes)?;
            start.record(&self.stream).ctx("recording an event")?;
            sort_graph.launch().ctx("launching the sort graph")?;
            end.record(&self.stream).ctx("recording an event")?;
            let s = f64::from(start.elapsed_ms(&end).ctx("reading an event")?) / 1e3;
            if warmups > 0 {
                warmups -= 1;
                continue;
            }
            samples_s.push(s);
            if !settings.wants_more(&samples_s) {
                break;
            }
        }

        let result_ptr = plan.result_ptr(self, key_type, n)?;

        // Verify on the device (untimed).
        let verify = self.alloc(16)?;
        self.memset(verify.ptr, 16)?;
        if n > 0 {
            let suffix = kernel_suffix(key_type);
            let f = self.func(&format!("verify_{suffix}"));
            let blocks = (n as u64)
                .div_ceil(u64::from(VERIFY_THREADS))
                .min(u64::from(self.facts.sm_count) * 8) as u32;
            let n32 = n as u32;
            let flags = verify.ptr;
            let checksum = verify.ptr + 8;
            // SAFETY: arguments match the kernel's signature; buffers are live.
            unsafe {
                self.stream
                    .launch_builder(f)
                    .arg(&result_ptr)
                    .arg(&n32)
                    .arg(&flags)
                    .arg(&checksum)
                    .launch(cfg(blocks, VERIFY_THREADS))
            }
            .ctx("launching verification")?;
        }
        let mut words = [0u32; 4];
        // SAFETY: copies 16 bytes from a live 16-byte allocation; synchronised next.
        unsafe { result::memcpy_dtoh_async(&mut words[..], verify.ptr, self.stream.cu_stream()) }
            .ctx("copying verification results")?;
        self.sync()?;
        let device_checksum = u64::from(words[2]) | (u64::from(words[3]) << 32);
        let sorted = words[0] == 0;
        let checksum_matches = device_checksum == input.checksum();
        let stable = (key_type.has_values() && algorithm.stable()).then_some(words[1] == 0);

        // Copy the result back, timed.
        let mut out = resident_buffer(data_bytes);
        start.record(&self.stream).ctx("recording an event")?;
        if data_bytes > 0 {
            // SAFETY: `out` outlives the copy (synchronised by elapsed_ms below).
            unsafe { result::memcpy_dtoh_async(&mut out[..], result_ptr, self.stream.cu_stream()) }
                .ctx("copying the result to the host")?;
        }
        end.record(&self.stream).ctx("recording an event")?;
        let d2h_s = f64::from(start.elapsed_ms(&end).ctx("reading an event")?) / 1e3;
        self.sync()?;
        drop(sort_graph);
        drop(plan);
        drop(pristine);
        self.sync()?;

        Ok(GpuSortOutcome {
            samples_s,
            h2d_s,
            d2h_s,
            sorted,
            checksum_matches,
            stable,
            bytes_moved: bytes_moved(algorithm, key_type, n),
            output: Some(key_data_from_bytes(key_type, &out)),
        })
    }
}

fn cfg(blocks: u32, threads: u32) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (blocks.max(1), 1, 1),
        block_dim: (threads, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Device buffers and launch sequence of one algorithm on one case.
struct Plan {
    algorithm: GpuAlgorithm,
    /// Where each run starts: a copy of the input (bitonic: padded length).
    work: Buffer,
    /// Radix: the other ping-pong buffer.
    alt: Option<Buffer>,
    /// Radix: histogram, digit starts, pass plan, tile counters and look-back status.
    scratch: Option<Buffer>,
}

impl Plan {
    fn radix(dev: &GpuDevice, key_type: KeyType, n: usize) -> Result<Plan, CudaError> {
        let e = word_bytes(key_type) as usize;
        Ok(Plan {
            algorithm: GpuAlgorithm::Radix,
            work: dev.alloc(n * e)?,
            alt: Some(dev.alloc(n * e)?),
            scratch: Some(dev.alloc(radix_scratch_bytes(key_type, n) as usize)?),
        })
    }

    fn bitonic(dev: &GpuDevice, key_type: KeyType, n: usize) -> Result<Plan, CudaError> {
        let e = word_bytes(key_type) as usize;
        Ok(Plan {
            algorithm: GpuAlgorithm::Bitonic,
            work: dev.alloc(bitonic_len(n) as usize * e)?,
            alt: None,
            scratch: None,
        })
    }

    /// Enqueues one sort of `work`; nothing waits for the host in between.
    fn run(&mut self, dev: &GpuDevice, key_type: KeyType, n: usize) -> Result<(), CudaError> {
        match self.algorithm {
            GpuAlgorithm::Radix => self.run_radix(dev, key_type, n),
            GpuAlgorithm::Bitonic => self.run_bitonic(dev, key_type, n),
        }
    }

    /// Captures one sort ([`Plan::run`]) into an instantiated CUDA graph on `dev`'s stream.
    fn capture(
        &mut self,
        dev: &GpuDevice,
        key_type: KeyType,
        n: usize,
    ) -> Result<CudaGraph, CudaError> {
        dev.stream
            .begin_capture(CUstreamCaptureMode::CU_STREAM_CAPTURE_MODE_THREAD_LOCAL)
            .ctx("starting a graph capture")?;
        // The capture is ended whatever happened, so the stream never stays in capture mode.
        let enqueued = self.run(dev, key_type, n);
        let graph = dev
            .stream
            .end_capture(CUgraphInstantiate_flags(0))
            .ctx("instantiating the sort graph");
        enqueued?;
        graph?.ok_or(CudaError::Driver {
            context: "capturing the sort graph".into(),
            source: DriverError(sys::cudaError_enum::CUDA_ERROR_STREAM_CAPTURE_INVALIDATED),
        })
    }

    /// Where the last run left the sorted output (radix: reads the pass count the device
    /// planned, which synchronises the stream).
    fn result_ptr(&self, dev: &GpuDevice, key_type: KeyType, n: usize) -> Result<u64, CudaError> {
        let (Some(scratch), Some(alt)) = (&self.scratch, &self.alt) else {
            return Ok(self.work.ptr);
        };
        if n <= 1 {
            return Ok(self.work.ptr);
        }
        let passes = radix_passes(key_type) as usize;
        let mut active = [0u32; 1];
        let at = scratch.ptr + (2 * passes * 256 + passes) as u64 * 4;
        // SAFETY: reads one u32 inside the live scratch buffer; synchronised by the stream below.
        unsafe { result::memcpy_dtoh_async(&mut active[..], at, dev.stream.cu_stream()) }
            .ctx("reading the pass plan")?;
        dev.sync()?;
        Ok(if active[0] % 2 == 1 {
            alt.ptr
        } else {
            self.work.ptr
        })
    }

    fn run_radix(&mut self, dev: &GpuDevice, key_type: KeyType, n: usize) -> Result<(), CudaError> {
        if n <= 1 {
            return Ok(());
        }
        let suffix = kernel_suffix(key_type);
        let passes = radix_passes(key_type) as u32;
        let (onesweep, shape) = radix_kernel(key_type, n);
        let tiles = radix_tiles(key_type, n) as u32;
        let scratch = self.scratch.as_ref().expect("radix plan").ptr;
        let alt = self.alt.as_ref().expect("radix plan").ptr;
        let n32 = n as u32;

        // Zero the histogram, plan, tile counters and the first status region.
        dev.memset(
            scratch,
            4 * (2 * passes as usize * 256 + 32 + tiles as usize * 256),
        )?;
        // Upfront histogram of every digit position, 256 threads x 4 vectors of 16 bytes per round
        // (kernels/sort.cu: HIST_THREADS, HIST_VECS); its last block plans the passes. Two blocks
        // per SM keep enough loads in flight; each further block adds one global atomic per
        // counter, and eight per SM measured slower (kernels/NOTES.md, v4).
        let per_block = 256 * 4 * 16 / word_bytes(key_type);
        let blocks = (n as u64)
            .div_ceil(per_block)
            .min(u64::from(dev.facts.sm_count) * HISTOGRAM_BLOCKS_PER_SM)
            as u32;
        let keys = self.work.ptr;
        // SAFETY: arguments match the kernels' signatures; buffers are live.
        unsafe {
            dev.stream
                .launch_builder(dev.func(&format!("histogram_{suffix}")))
                .arg(&keys)
                .arg(&n32)
                .arg(&scratch)
                .launch(cfg(blocks, 256))
        }
        .ctx("launching the histogram")?;
        let f = dev.func(&onesweep);
        for pass in 0..passes {
            // SAFETY: as above.
            unsafe {
                dev.stream
                    .launch_builder(f)
                    .arg(&keys)
                    .arg(&alt)
                    .arg(&n32)
                    .arg(&pass)
                    .arg(&passes)
                    .arg(&scratch)
                    .launch(cfg(tiles, shape.threads as u32))
            }
            .ctx("launching a radix pass")?;
        }
        Ok(())
    }

    fn run_bitonic(
        &mut self,
        dev: &GpuDevice,
        key_type: KeyType,
        n: usize,
    ) -> Result<(), CudaError> {
        let a = self.work.ptr;
        if n <= 1 {
            return Ok(());
        }
        let suffix = kernel_suffix(key_type);
        let m = bitonic_len(n) as u32;
        let n32 = n as u32;
        let pad = pad_word(key_type);
        if m > n32 {
            let count = m - n32;
            if word_bytes(key_type) == 4 {
                let pad = pad as u32;
                unsafe {
                    dev.stream
                        .launch_builder(dev.func("fill_u32"))
                        .arg(&a)
                        .arg(&n32)
                        .arg(&m)
                        .arg(&pad)
                        .launch(cfg(count.div_ceil(256), 256))
                }
                .ctx("launching the padding fill")?;
            } else {
                unsafe {
                    dev.stream
                        .launch_builder(dev.func("fill_u64"))
                        .arg(&a)
                        .arg(&n32)
                        .arg(&m)
                        .arg(&pad)
                        .launch(cfg(count.div_ceil(256), 256))
                }
                .ctx("launching the padding fill")?;
            }
        }
        let tile = BITONIC_TILE as u32;
        let tiles = m / tile;
        let tile_f = dev.func(&format!("bitonic_tile_{suffix}"));
        let step_f = dev.func(&format!("bitonic_step_{suffix}"));
        let step2_f = dev.func(&format!("bitonic_step2_{suffix}"));
        let launch_tile = |k_first: u32, k_last: u32, j_start: u32| {
            // SAFETY: arguments match the kernel's signature; the buffer is live.
            unsafe {
                dev.stream
                    .launch_builder(tile_f)
                    .arg(&a)
                    .arg(&k_first)
                    .arg(&k_last)
                    .arg(&j_start)
                    .launch(cfg(tiles, BITONIC_THREADS))
            }
            .ctx("launching a bitonic tile sort")
        };
        launch_tile(2, tile, 1)?;
        let half = m / 2;
        let mut k = 2 * tile;
        while k <= m {
            // Global levels j = k/2 .. tile: two per sweep while two remain, then one.
            let mut j = k / 2;
            while j >= tile {
                let fused = j >= 2 * tile;
                let (func, count, threads) = if fused {
                    (step2_f, m / 4, STEP_THREADS)
                } else {
                    (step_f, half, STEP_THREADS)
                };
                // SAFETY: arguments match the kernels' signatures; the buffer is live.
                unsafe {
                    dev.stream
                        .launch_builder(func)
                        .arg(&a)
                        .arg(&count)
                        .arg(&k)
                        .arg(&j)
                        .launch(cfg(count.div_ceil(threads), threads))
                }
                .ctx("launching a bitonic step")?;
                j /= if fused { 4 } else { 2 };
            }
            launch_tile(k, k, tile / 2)?;
            k *= 2;
        }
        Ok(())
    }
}

fn attribute(ctx: &CudaContext, attr: Attr) -> Option<i32> {
    ctx.attribute(attr).ok()
}

fn gather_facts(ctx: &Arc<CudaContext>, ordinal: usize) -> Result<GpuInfo, CudaError> {
    let name = ctx.name().ctx("reading the device name")?;
    let (major, minor) = ctx
        .compute_capability()
        .ctx("reading the compute capability")?;
    let (free, total) = ctx.mem_get_info().ctx("reading device memory")?;
    let sm_count = attribute(ctx, Attr::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT).unwrap_or(1);
    let l2 = attribute(ctx, Attr::CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE).unwrap_or(0);
    let positive = |v: Option<i32>| v.filter(|&v| v > 0).map(|v| v as u32);
    let mut bus = [0 as std::ffi::c_char; 64];
    // SAFETY: writes at most 64 bytes, NUL-terminated.
    let pci_bus_id =
        match unsafe { sys::cuDeviceGetPCIBusId(bus.as_mut_ptr(), 64, ctx.cu_device()) }.result() {
            Ok(()) => unsafe { std::ffi::CStr::from_ptr(bus.as_ptr()) }
                .to_string_lossy()
                .into_owned(),
            Err(_) => String::new(),
        };
    let mut driver_version = 0;
    // SAFETY: writes one int.
    unsafe { sys::cuDriverGetVersion(&mut driver_version) }
        .result()
        .ctx("reading the driver version")?;
    let nvrtc_version = compile::nvrtc_version().ctx("reading the NVRTC version")?;
    Ok(GpuInfo {
        ordinal,
        name,
        compute_capability: (major as u32, minor as u32),
        sm_count: sm_count.max(1) as u32,
        memory_total_bytes: total as u64,
        memory_free_bytes: free as u64,
        l2_bytes: l2.max(0) as u64,
        clock_khz: positive(attribute(ctx, Attr::CU_DEVICE_ATTRIBUTE_CLOCK_RATE)),
        memory_clock_khz: positive(attribute(ctx, Attr::CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE)),
        memory_bus_width_bits: positive(attribute(
            ctx,
            Attr::CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH,
        )),
        pci_bus_id,
        driver_version,
        cuda_driver_api: CUDARC_API.to_string(),
        nvrtc_version,
        copy_bandwidth_bytes_per_s: None,
    })
}

/// The raw bytes of the input, in the device word layout (pairs: `KeyValue` is `repr(C)`,
/// key then value, which is the little-endian u64 word `value << 32 | key`).
fn host_bytes(data: &KeyData) -> &[u8] {
    fn bytes<T: Copy>(v: &[T]) -> &[u8] {
        // SAFETY: plain-old-data element types without padding; u8 has alignment 1.
        unsafe { std::slice::from_raw_parts(v.as_ptr().cast(), std::mem::size_of_val(v)) }
    }
    crate::with_keys!(data, v => bytes(v))
}

/// A host buffer of `len` bytes whose pages are already mapped. `vec![0; len]` maps them lazily,
/// so a timed copy into it would also time one page fault per page: in a virtual machine, several
/// times the copy itself (0.8 s for 1 GiB, against 0.15 s for the copy the other way).
fn resident_buffer(len: usize) -> Vec<u8> {
    use rayon::prelude::*;
    // Not zero: `vec![0; len]` asks for zeroed memory, which the kernel hands out unmapped.
    // Filled on every core: faulting in 2 GiB page by page on one core takes most of a second.
    let mut buffer: Vec<u8> = Vec::with_capacity(len);
    buffer.spare_capacity_mut()[..len]
        .par_chunks_mut(1 << 20)
        .for_each(|chunk| chunk.fill(std::mem::MaybeUninit::new(0xa5)));
    // SAFETY: the fill above wrote every one of the first `len` bytes.
    unsafe { buffer.set_len(len) };
    buffer
}

/// Rebuilds typed keys from device words.
pub(crate) fn key_data_from_bytes(key_type: KeyType, bytes: &[u8]) -> KeyData {
    fn typed<T: Copy + Default>(bytes: &[u8]) -> Vec<T> {
        let size = std::mem::size_of::<T>();
        let mut v = vec![T::default(); bytes.len() / size];
        // SAFETY: plain-old-data element types; the destination holds exactly these bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                v.as_mut_ptr().cast::<u8>(),
                v.len() * size,
            )
        };
        v
    }
    match key_type {
        KeyType::U32 => KeyData::U32(typed(bytes)),
        KeyType::U64 => KeyData::U64(typed(bytes)),
        KeyType::I32 => KeyData::I32(typed(bytes)),
        KeyType::I64 => KeyData::I64(typed(bytes)),
        KeyType::F32 => KeyData::F32(typed(bytes)),
        KeyType::F64 => KeyData::F64(typed(bytes)),
        KeyType::U32U32 => KeyData::U32U32(typed::<KeyValue>(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Distribution, generate};

    #[test]
    fn host_words_round_trip() {
        for kt in KeyType::ALL {
            let data = generate(kt, Distribution::SpecialValues, 257, 9);
            let back = key_data_from_bytes(kt, host_bytes(&data));
            assert_eq!(back.checksum(), data.checksum(), "{kt}");
            assert_eq!(host_bytes(&back), host_bytes(&data), "{kt}");
        }
    }

    #[test]
    fn pair_word_layout_is_value_high_key_low() {
        let data = KeyData::U32U32(vec![KeyValue {
            key: 0x1122_3344,
            value: 0x5566_7788,
        }]);
        let b = host_bytes(&data);
        let word = u64::from_le_bytes(b.try_into().unwrap());
        assert_eq!(word, 0x5566_7788_1122_3344);
    }
}
