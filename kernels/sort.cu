// sortmark CUDA kernels, compiled at run time by NVRTC for the device's own architecture.
// Self-contained: no CUB, Thrust or standard headers.
//
// Every key travels as a raw word: u32 for u32/i32/f32 keys, u64 for u64/i64/f64 keys and
// for u32-u32 pairs (key in the low 32 bits, value in the high 32 bits, the little-endian
// image of `KeyValue { key, value }`). Kernels order words by their "ordered bits", the
// unsigned image whose integer order is the sort order (see `SortKey::ordered_bits`).

typedef unsigned int u32;
typedef unsigned long long u64;

#define MODE_U32 0
#define MODE_I32 1
#define MODE_F32 2
#define MODE_U64 3
#define MODE_I64 4
#define MODE_F64 5
#define MODE_KV 6

// ---------------------------------------------------------------------------------------
// Ordered-bits transform and checksum bits.

template <int MODE> __device__ __forceinline__ u32 to_ord(u32 x) {
    if (MODE == MODE_I32) return x ^ 0x80000000u;
    if (MODE == MODE_F32) return x ^ ((0u - (x >> 31)) | 0x80000000u);
    return x;
}
template <int MODE> __device__ __forceinline__ u32 from_ord(u32 x) {
    if (MODE == MODE_I32) return x ^ 0x80000000u;
    if (MODE == MODE_F32) return x ^ (((x >> 31) - 1u) | 0x80000000u);
    return x;
}
template <int MODE> __device__ __forceinline__ u64 to_ord(u64 x) {
    if (MODE == MODE_I64) return x ^ 0x8000000000000000ull;
    if (MODE == MODE_F64) return x ^ ((0ull - (x >> 63)) | 0x8000000000000000ull);
    return x;
}
template <int MODE> __device__ __forceinline__ u64 from_ord(u64 x) {
    if (MODE == MODE_I64) return x ^ 0x8000000000000000ull;
    if (MODE == MODE_F64) return x ^ (((x >> 63) - 1ull) | 0x8000000000000000ull);
    return x;
}

// The sort key of a word, in ordered bits (pairs: the key alone).
template <int MODE> __device__ __forceinline__ u64 sort_key(u32 w) { return to_ord<MODE>(w); }
template <int MODE> __device__ __forceinline__ u64 sort_key(u64 w) {
    if (MODE == MODE_KV) return w & 0xffffffffull;
    return to_ord<MODE>(w);
}

// The 64 bits a word contributes to the checksum (`SortKey::checksum_bits`).
template <int MODE> __device__ __forceinline__ u64 checksum_bits(u32 w) { return (u64)w; }
template <int MODE> __device__ __forceinline__ u64 checksum_bits(u64 w) {
    if (MODE == MODE_KV) return (w << 32) | (w >> 32);
    return w;
}

__device__ __forceinline__ u64 mix64(u64 x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

template <typename W> __device__ __forceinline__ u32 digit_of(W k, u32 shift) {
    return (u32)(k >> shift) & 255u;
}

// The lanes of the warp whose digit equals this lane's: one ballot per digit bit (cheaper
// than match.any on the hardware measured).
__device__ __forceinline__ u32 match_digit(u32 d) {
    u32 peers = 0xffffffffu;
#pragma unroll
    for (u32 b = 0; b < 8; b++) {
        const bool set = (d >> b) & 1u;
        const u32 ballot = __ballot_sync(0xffffffffu, set);
        peers &= set ? ballot : ~ballot;
    }
    return peers;
}

__device__ __forceinline__ void store_relaxed(u32 *p, u32 v) { *(volatile u32 *)p = v; }
__device__ __forceinline__ u32 load_relaxed(const u32 *p) { return *(volatile const u32 *)p; }

// ---------------------------------------------------------------------------------------
// LSD radix sort, Onesweep design.

#define RADIX 256
#define OS_BLOCK 256
#define OS_WARPS (OS_BLOCK / 32)
#define FLAG_AGGREGATE 0x40000000u
#define FLAG_INCLUSIVE 0x80000000u
#define VALUE_MASK 0x3fffffffu

// One read of the input counts the digits of every pass. `hist` holds PASSES x 256 counters.
// Each thread loads HIST_ITEMS keys before counting them, to keep enough loads in flight.
#define HIST_THREADS 256
#define HIST_BYTES_PER_THREAD 32
template <typename W, int MODE, int PASSES>
__device__ __forceinline__ void histogram_impl(const W *__restrict__ keys, u32 n,
                                               u32 *__restrict__ hist) {
    const u32 ITEMS = HIST_BYTES_PER_THREAD / sizeof(W);
    // Two copies per pass halve shared-atomic contention between warps.
    __shared__ u32 sh[2][PASSES * RADIX];
    for (u32 i = threadIdx.x; i < 2 * PASSES * RADIX; i += blockDim.x) (&sh[0][0])[i] = 0;
    __syncthreads();
    u32 *mine = sh[(threadIdx.x >> 5) & 1];
    const u32 chunk = HIST_THREADS * ITEMS;
    for (u32 base = blockIdx.x * chunk; base < n; base += gridDim.x * chunk) {
        W k[ITEMS];
#pragma unroll
        for (u32 i = 0; i < ITEMS; i++) {
            const u32 idx = base + i * HIST_THREADS + threadIdx.x;
            k[i] = idx < n ? keys[idx] : (W)0;
        }
#pragma unroll
        for (u32 i = 0; i < ITEMS; i++) {
            if (base + i * HIST_THREADS + threadIdx.x < n) {
                const W o = to_ord<MODE>(k[i]);
#pragma unroll
                for (u32 p = 0; p < PASSES; p++)
                    atomicAdd(&mine[p * RADIX + digit_of(o, p * 8)], 1u);
            }
        }
    }
    __syncthreads();
    for (u32 i = threadIdx.x; i < PASSES * RADIX; i += blockDim.x) {
        const u32 c = sh[0][i] + sh[1][i];
        if (c) atomicAdd(&hist[i], c);
    }
}

// Radix scratch layout in u32 words, for PASSES digit passes and TILES tiles per pass:
//   [0, P*256)        histogram of every pass (zeroed by the host)
//   [P*256, 2*P*256)  global digit starts of every pass
//   16 plan words     per pass: PLAN_* bits; word P: how many passes run
//   16 tile counters  one per pass (zeroed by the host)
//   2 x TILES*256     look-back status, pass p uses region p%2 and zeroes region (p+1)%2;
//                     region 0 is zeroed by the host.
#define PLAN_SKIP 1u
#define PLAN_SRC_ALT 2u
#define PLAN_XFORM_IN 4u
#define PLAN_XFORM_OUT 8u

// Scans every pass's digit counts into global digit starts and plans the passes on the device:
// a pass whose digit is the same for every key is skipped; the others alternate between the two
// buffers, the first applying the ordered-bits transform and the last undoing it. One block.
extern "C" __global__ void __launch_bounds__(RADIX) plan_passes(u32 *scratch, u32 passes, u32 n) {
    __shared__ u32 warp_sums[RADIX / 32];
    __shared__ u32 trivial[8];
    const u32 tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    u32 *hist = scratch, *starts = scratch + passes * RADIX, *plan = scratch + 2 * passes * RADIX;
    if (tid < 8) trivial[tid] = 0;
    __syncthreads();
    for (u32 p = 0; p < passes; p++) {
        const u32 c = hist[p * RADIX + tid];
        if (c == n) trivial[p] = 1;
        u32 incl = c;
#pragma unroll
        for (u32 o = 1; o < 32; o <<= 1) {
            const u32 t = __shfl_up_sync(0xffffffffu, incl, o);
            if (lane >= o) incl += t;
        }
        if (lane == 31) warp_sums[warp] = incl;
        __syncthreads();
        u32 before = 0;
        for (u32 w = 0; w < warp; w++) before += warp_sums[w];
        starts[p * RADIX + tid] = before + incl - c;
        __syncthreads();
    }
    if (tid == 0) {
        u32 active = 0, last = passes;
        for (u32 p = 0; p < passes; p++) {
            if (trivial[p]) {
                plan[p] = PLAN_SKIP;
            } else {
                plan[p] = ((active & 1) ? PLAN_SRC_ALT : 0u) | (active == 0 ? PLAN_XFORM_IN : 0u);
                last = p;
                active++;
            }
        }
        if (last < passes) plan[last] |= PLAN_XFORM_OUT;
        plan[passes] = active;
    }
}

// One LSD pass: blocks take tile ids in launch order from `tile_counter`, rank their keys by
// the digit at `shift` (stable: warp-striped tiles, ballot-matched peers within a warp, warps in order),
// publish per-digit tile counts at once, resolve their global offsets by decoupled look-back
// over earlier tiles' published counts, and scatter through shared memory.
// `xform_in`: apply the ordered-bits transform on load (first pass executed);
// `xform_out`: undo it on store (last pass executed).
template <typename W, int MODE, int ITEMS>
__device__ __forceinline__ void onesweep_impl(const W *__restrict__ src, W *__restrict__ dst,
                                              u32 n, u32 shift,
                                              const u32 *__restrict__ digit_start,
                                              u32 *status, u32 *tile_counter, u32 xform_in,
                                              u32 xform_out) {
    const u32 TILE = OS_BLOCK * ITEMS;
    __shared__ W sh_keys[OS_BLOCK * ITEMS];
    __shared__ u32 sh_wc[OS_WARPS * RADIX];
    __shared__ u32 sh_off[RADIX];
    __shared__ u32 sh_scan[OS_WARPS];
    __shared__ u32 sh_tile;

    const u32 tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    if (tid == 0) sh_tile = atomicAdd(tile_counter, 1u);
    for (u32 i = tid; i < OS_WARPS * RADIX; i += OS_BLOCK) sh_wc[i] = 0;
    __syncthreads();
    const u32 tile = sh_tile;
    const u32 tile_base = tile * TILE;
    const u32 tile_n = min(TILE, n - tile_base);

    // Warp-striped load: warp w owns tile positions [w*ITEMS*32, (w+1)*ITEMS*32).
    W keys[ITEMS];
    const u32 warp_base = tile_base + warp * (ITEMS * 32);
#pragma unroll
    for (u32 i = 0; i < ITEMS; i++) {
        const u32 idx = warp_base + i * 32 + lane;
        W k = ~(W)0;  // past the end: digit 255 in every pass, so it ranks last in the tile
        if (idx < n) {
            k = src[idx];
            if (xform_in) k = to_ord<MODE>(k);
        }
        keys[i] = k;
    }

    // Rank within the warp: peers with the same digit, counted in a warp-private histogram.
    u32 ranks[ITEMS];
    u32 *wc = &sh_wc[warp * RADIX];
    const u32 lt_mask = (1u << lane) - 1u;
#pragma unroll
    for (u32 i = 0; i < ITEMS; i++) {
        const u32 d = digit_of(keys[i], shift);
        const u32 peers = match_digit(d);
        const u32 leader = 31 - __clz(peers);
        u32 old = 0;
        if (lane == leader) {
            old = wc[d];
            wc[d] = old + __popc(peers);
        }
        old = __shfl_sync(0xffffffffu, old, leader);
        ranks[i] = old + __popc(peers & lt_mask);
        __syncwarp();
    }
    __syncthreads();

    // Thread d owns digit d: warp offsets within the tile, and the tile's count of d.
    const u32 d = tid;
    u32 total = 0;
#pragma unroll
    for (u32 w = 0; w < OS_WARPS; w++) {
        const u32 c = sh_wc[w * RADIX + d];
        sh_wc[w * RADIX + d] = total;
        total += c;
    }
    u32 *my_status = status + (u64)tile * RADIX;
    if (tile == 0) {
        store_relaxed(&my_status[d], FLAG_INCLUSIVE | (digit_start[d] + total));
    } else {
        store_relaxed(&my_status[d], FLAG_AGGREGATE | total);
    }

    // Exclusive scan of the tile's digit counts: where each digit starts inside the tile.
    u32 incl = total;
#pragma unroll
    for (u32 o = 1; o < 32; o <<= 1) {
        const u32 t = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += t;
    }
    if (lane == 31) sh_scan[warp] = incl;
    __syncthreads();
    u32 warp_before = 0;
    for (u32 w = 0; w < warp; w++) warp_before += sh_scan[w];
    const u32 local_start = warp_before + incl - total;
#pragma unroll
    for (u32 w = 0; w < OS_WARPS; w++) sh_wc[w * RADIX + d] += local_start;
    __syncthreads();

    // Local scatter into shared memory in tile-sorted order.
#pragma unroll
    for (u32 i = 0; i < ITEMS; i++) {
        const u32 dd = digit_of(keys[i], shift);
        sh_keys[wc[dd] + ranks[i]] = keys[i];
    }

    // Decoupled look-back for digit d.
    u32 global_before;
    if (tile == 0) {
        global_before = digit_start[d];
    } else {
        u32 acc = 0;
        int j = (int)tile - 1;
        while (true) {
            const u32 s = load_relaxed(&status[(u64)j * RADIX + d]);
            if ((s & (FLAG_AGGREGATE | FLAG_INCLUSIVE)) == 0) continue;
            acc += s & VALUE_MASK;
            if (s & FLAG_INCLUSIVE) break;
            j--;
        }
        store_relaxed(&my_status[d], FLAG_INCLUSIVE | (acc + total));
        global_before = acc;
    }
    sh_off[d] = global_before - local_start;  // wraps; adding the local position unwraps it
    __syncthreads();

    // Coalesced global scatter.
#pragma unroll
    for (u32 i = 0; i < ITEMS; i++) {
        const u32 j = i * OS_BLOCK + tid;
        if (j < tile_n) {
            W k = sh_keys[j];
            const u32 dd = digit_of(k, shift);
            if (xform_out) k = from_ord<MODE>(k);
            dst[sh_off[dd] + j] = k;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Bitonic sort over a power-of-two buffer padded with words that sort last.

#define BT_THREADS 1024
#define BT_TILE 4096

// Comparison key: ordered bits; for pairs the key, with padding (value all ones) after real
// elements of the same key so that the first n elements are exactly the input's.
template <int MODE> __device__ __forceinline__ u64 bitonic_key(u32 w) { return to_ord<MODE>(w); }
template <int MODE> __device__ __forceinline__ u64 bitonic_key(u64 w) {
    if (MODE == MODE_KV) return ((w & 0xffffffffull) << 1) | ((w >> 32) == 0xffffffffull ? 1ull : 0ull);
    return to_ord<MODE>(w);
}

template <typename W, int MODE>
__device__ __forceinline__ void cmp_swap(W &a, W &b, bool ascending) {
    const bool greater = bitonic_key<MODE>(a) > bitonic_key<MODE>(b);
    if (greater == ascending) {
        const W t = a;
        a = b;
        b = t;
    }
}

// Runs the steps (k, j) for j = j_start .. 1 of every k in [k_first, k_last] on one tile in
// shared memory. Direction of a pair comes from its global index, so tiles compose.
template <typename W, int MODE>
__device__ __forceinline__ void bitonic_tile_impl(W *a, u32 k_first, u32 k_last, u32 j_start) {
    __shared__ W sh[BT_TILE];
    const u32 base = blockIdx.x * BT_TILE;
    for (u32 i = threadIdx.x; i < BT_TILE; i += BT_THREADS) sh[i] = a[base + i];
    __syncthreads();
    for (u32 k = k_first; k <= k_last; k <<= 1) {
        for (u32 j = (k == k_first ? j_start : (k >> 1)); j > 0; j >>= 1) {
            for (u32 p = threadIdx.x; p < BT_TILE / 2; p += BT_THREADS) {
                const u32 lo = 2 * j * (p / j) + (p % j);
                const u32 hi = lo + j;
                const bool ascending = ((base + lo) & k) == 0;
                cmp_swap<W, MODE>(sh[lo], sh[hi], ascending);
            }
            __syncthreads();
        }
    }
    for (u32 i = threadIdx.x; i < BT_TILE; i += BT_THREADS) a[base + i] = sh[i];
}

template <typename W, int MODE>
__device__ __forceinline__ void bitonic_step_impl(W *a, u32 half, u32 k, u32 j) {
    const u32 p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= half) return;
    const u32 lo = 2 * j * (p / j) + (p % j);
    const u32 hi = lo + j;
    W x = a[lo], y = a[hi];
    const bool ascending = (lo & k) == 0;
    const bool greater = bitonic_key<MODE>(x) > bitonic_key<MODE>(y);
    if (greater == ascending) {
        a[lo] = y;
        a[hi] = x;
    }
}

// Two merge levels j and j/2 (both at least a tile) in one sweep: each thread owns the quad
// a, a + j/2, a + j, a + 3j/2 and applies level j then level j/2 to it in registers.
template <typename W, int MODE>
__device__ __forceinline__ void bitonic_step2_impl(W *a, u32 quarter, u32 k, u32 j) {
    const u32 p = blockIdx.x * blockDim.x + threadIdx.x;
    if (p >= quarter) return;
    const u32 h = j >> 1;
    const u32 base = (p / h) * (4 * h) + (p % h);
    W x0 = a[base], x1 = a[base + h], x2 = a[base + 2 * h], x3 = a[base + 3 * h];
    const bool ascending = (base & k) == 0;
    cmp_swap<W, MODE>(x0, x2, ascending);
    cmp_swap<W, MODE>(x1, x3, ascending);
    cmp_swap<W, MODE>(x0, x1, ascending);
    cmp_swap<W, MODE>(x2, x3, ascending);
    a[base] = x0;
    a[base + h] = x1;
    a[base + 2 * h] = x2;
    a[base + 3 * h] = x3;
}

template <typename W>
__device__ __forceinline__ void fill_impl(W *a, u32 from, u32 to, W value) {
    const u32 i = from + blockIdx.x * blockDim.x + threadIdx.x;
    if (i < to) a[i] = value;
}

// ---------------------------------------------------------------------------------------
// Verification: adjacent order by ordered bits, order-independent checksum, and for pairs
// whether values (original indices) never decrease within equal keys.
// flags[0] counts out-of-order neighbours, flags[1] unstable neighbours.

template <typename W, int MODE>
__device__ __forceinline__ void verify_impl(const W *__restrict__ a, u32 n, u32 *flags,
                                            u64 *checksum) {
    u64 sum = 0;
    u32 bad = 0, unstable = 0;
    const u32 stride = gridDim.x * blockDim.x;
    for (u32 i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
        const W w = a[i];
        sum += mix64(checksum_bits<MODE>(w));
        if (i + 1 < n) {
            const W v = a[i + 1];
            const u64 kw = sort_key<MODE>(w), kv = sort_key<MODE>(v);
            if (kw > kv) bad++;
            if (MODE == MODE_KV && kw == kv && ((u64)w >> 32) > ((u64)v >> 32)) unstable++;
        }
    }
#pragma unroll
    for (u32 o = 16; o > 0; o >>= 1) {
        sum += __shfl_xor_sync(0xffffffffu, sum, o);
        bad += __shfl_xor_sync(0xffffffffu, bad, o);
        unstable += __shfl_xor_sync(0xffffffffu, unstable, o);
    }
    if ((threadIdx.x & 31) == 0) {
        atomicAdd(checksum, sum);
        if (bad) atomicAdd(&flags[0], bad);
        if (unstable) atomicAdd(&flags[1], unstable);
    }
}

// ---------------------------------------------------------------------------------------
// Entry points, one set per key type.

#define INSTANTIATE(NAME, W, MODE, PASSES, ITEMS, MINB)                                               \
    extern "C" __global__ void __launch_bounds__(HIST_THREADS)                                   \
        histogram_##NAME(const W *keys, u32 n, u32 *hist) {                                      \
        histogram_impl<W, MODE, PASSES>(keys, n, hist);                                          \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(OS_BLOCK, MINB)                                 \
        onesweep_##NAME(W *buf0, W *buf1, u32 n, u32 pass, u32 passes, u32 *scratch) {          \
        const u32 tiles = gridDim.x;                                                             \
        u32 *plan = scratch + 2 * passes * RADIX;                                                \
        u32 *regions = plan + 32;                                                                \
        u32 *status = regions + (u64)(pass & 1) * tiles * RADIX;                                 \
        u32 *next = regions + (u64)((pass + 1) & 1) * tiles * RADIX;                             \
        next[(u64)blockIdx.x * RADIX + threadIdx.x] = 0;                                         \
        const u32 info = plan[pass];                                                             \
        if (info & PLAN_SKIP) return;                                                            \
        const bool alt = info & PLAN_SRC_ALT;                                                    \
        onesweep_impl<W, MODE, ITEMS>(alt ? buf1 : buf0, alt ? buf0 : buf1, n, pass * 8,         \
                                      scratch + (passes + pass) * RADIX, status, plan + 16 + pass,\
                                      info & PLAN_XFORM_IN, info & PLAN_XFORM_OUT);              \
    }                                                                                            \
    extern "C" __global__ void __launch_bounds__(BT_THREADS)                                     \
        bitonic_tile_##NAME(W *a, u32 k_first, u32 k_last, u32 j_start) {                        \
        bitonic_tile_impl<W, MODE>(a, k_first, k_last, j_start);                                 \
    }                                                                                            \
    extern "C" __global__ void bitonic_step_##NAME(W *a, u32 half, u32 k, u32 j) {              \
        bitonic_step_impl<W, MODE>(a, half, k, j);                                               \
    }                                                                                            \
    extern "C" __global__ void bitonic_step2_##NAME(W *a, u32 quarter, u32 k, u32 j) {          \
        bitonic_step2_impl<W, MODE>(a, quarter, k, j);                                           \
    }                                                                                            \
    extern "C" __global__ void verify_##NAME(const W *a, u32 n, u32 *flags, u64 *checksum) {    \
        verify_impl<W, MODE>(a, n, flags, checksum);                                             \
    }

// Tiles of 24 x 256 32-bit or 16 x 256 64-bit words, with registers capped so that three
// blocks share an SM: the fastest of the shapes measured on an H100 (kernels/NOTES.md).
INSTANTIATE(u32, u32, MODE_U32, 4, 24, 3)
INSTANTIATE(i32, u32, MODE_I32, 4, 24, 3)
INSTANTIATE(f32, u32, MODE_F32, 4, 24, 3)
INSTANTIATE(u64, u64, MODE_U64, 8, 16, 3)
INSTANTIATE(i64, u64, MODE_I64, 8, 16, 3)
INSTANTIATE(f64, u64, MODE_F64, 8, 16, 3)
INSTANTIATE(kv, u64, MODE_KV, 4, 16, 3)

extern "C" __global__ void fill_u32(u32 *a, u32 from, u32 to, u32 value) {
    fill_impl<u32>(a, from, to, value);
}
extern "C" __global__ void fill_u64(u64 *a, u32 from, u32 to, u64 value) {
    fill_impl<u64>(a, from, to, value);
}
