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

__host__ __device__ __forceinline__ u64 mix64(u64 x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

template <typename W> __device__ __forceinline__ u32 digit_of(W k, u32 shift) {
    return (u32)(k >> shift) & 255u;
}

__device__ __forceinline__ void store_relaxed(u32 *p, u32 v) { *(volatile u32 *)p = v; }
__device__ __forceinline__ u32 load_relaxed(const u32 *p) { return *(volatile const u32 *)p; }

// ---------------------------------------------------------------------------------------
// LSD radix sort, Onesweep design.

#define RADIX 256
#define FLAG_AGGREGATE 0x40000000u
#define FLAG_INCLUSIVE 0x80000000u
#define VALUE_MASK 0x3fffffffu

// Radix scratch layout in u32 words, for PASSES digit passes and TILES tiles per pass:
//   [0, P*256)        histogram of every pass (zeroed by the host)
//   [P*256, 2*P*256)  global digit starts of every pass
//   16 plan words     per pass: PLAN_* bits; word P: how many passes run; word 15: how many
//                     histogram blocks have finished (zeroed by the host)
//   16 tile counters  one per pass (zeroed by the host)
//   2 x TILES*256     look-back status, pass p uses region p%2 and zeroes region (p+1)%2;
//                     region 0 is zeroed by the host.
#define PLAN_SKIP 1u
#define PLAN_SRC_ALT 2u
#define PLAN_XFORM_IN 4u
#define PLAN_XFORM_OUT 8u
#define PLAN_DENSE 16u
#define PLAN_HIST_DONE 15

// Scans every pass's digit counts into global digit starts and plans the passes on the device:
// a pass whose digit is the same for every key is skipped; the others alternate between the two
// buffers, the first applying the ordered-bits transform and the last undoing it. Run by the
// histogram's last block (RADIX threads), after every block's counts have reached `hist`.
// A pass is dense when one digit holds more than 1/DENSE_DIGIT_SHARE of the keys. Only in dense
// passes do warps check whether their lanes share digits, and where at least RUN_LANES lanes
// have their left neighbour's digit they find peers with match.any instead of the shared-memory
// bins, whose atomics serialise on a shared digit (see onesweep_impl).
#ifndef RUN_LANES  // both overridable for kernels/bench/onesweep_bench.cu
#define RUN_LANES 8
#endif
#ifndef DENSE_DIGIT_SHARE
#define DENSE_DIGIT_SHARE 32
#endif
__device__ __forceinline__ void plan_passes_impl(u32 *scratch, u32 passes, u32 n) {
    __shared__ u32 warp_sums[RADIX / 32];
    __shared__ u32 trivial[8], dense[8];
    const u32 tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    u32 *hist = scratch, *starts = scratch + passes * RADIX, *plan = scratch + 2 * passes * RADIX;
    if (tid < 8) trivial[tid] = dense[tid] = 0;
    __syncthreads();
    for (u32 p = 0; p < passes; p++) {
        // L2 loads: the counts were added by other blocks' atomics.
        const u32 c = __ldcg(&hist[p * RADIX + tid]);
        if (c == n) trivial[p] = 1;
        if (c > n / DENSE_DIGIT_SHARE) dense[p] = 1;
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
                plan[p] = ((active & 1) ? PLAN_SRC_ALT : 0u) | (active == 0 ? PLAN_XFORM_IN : 0u) |
                          (dense[p] ? PLAN_DENSE : 0u);
                last = p;
                active++;
            }
        }
        if (last < passes) plan[last] |= PLAN_XFORM_OUT;
        plan[passes] = active;
    }
}

// One read of the input counts the digits of every pass into `scratch` (PASSES x 256
// counters); the last block to finish then plans the passes, which saves a launch.
// Each thread loads HIST_VECS 16-byte vectors before counting them, to keep enough loads in
// flight with few load instructions.
#define HIST_THREADS 256
#define HIST_VECS 4

template <typename W> __device__ __forceinline__ W word_of(uint4 v, u32 i);
template <> __device__ __forceinline__ u32 word_of<u32>(uint4 v, u32 i) {
    return i == 0 ? v.x : i == 1 ? v.y : i == 2 ? v.z : v.w;
}
template <> __device__ __forceinline__ u64 word_of<u64>(uint4 v, u32 i) {
    return i == 0 ? ((u64)v.y << 32) | v.x : ((u64)v.w << 32) | v.z;
}

template <typename W, int MODE, int PASSES>
__device__ __forceinline__ void count_digits(W w, u32 *counters) {
    const W o = to_ord<MODE>(w);
#pragma unroll
    for (u32 p = 0; p < PASSES; p++) atomicAdd(&counters[p * RADIX + digit_of(o, p * 8)], 1u);
}

template <typename W, int MODE, int PASSES>
__device__ __forceinline__ void histogram_impl(const W *__restrict__ keys, u32 n,
                                               u32 *__restrict__ scratch) {
    const u32 PER_VEC = 16 / sizeof(W);
    // Two copies per pass halve shared-atomic contention between warps.
    __shared__ u32 sh[2][PASSES * RADIX];
    __shared__ bool last_block;
    u32 *hist = scratch;
    for (u32 i = threadIdx.x; i < 2 * PASSES * RADIX; i += blockDim.x) (&sh[0][0])[i] = 0;
    __syncthreads();
    u32 *mine = sh[(threadIdx.x >> 5) & 1];
    // Whole vectors (device buffers are 256-byte aligned), then the last n % PER_VEC keys.
    const uint4 *vecs = (const uint4 *)keys;
    const u32 n_vecs = n / PER_VEC;
    const u32 chunk = HIST_THREADS * HIST_VECS;
    for (u32 base = blockIdx.x * chunk; base < n_vecs; base += gridDim.x * chunk) {
        uint4 v[HIST_VECS];
#pragma unroll
        for (u32 i = 0; i < HIST_VECS; i++) {
            const u32 idx = base + i * HIST_THREADS + threadIdx.x;
            if (idx < n_vecs) v[i] = vecs[idx];
        }
#pragma unroll
        for (u32 i = 0; i < HIST_VECS; i++) {
            if (base + i * HIST_THREADS + threadIdx.x < n_vecs) {
#pragma unroll
                for (u32 w = 0; w < PER_VEC; w++)
                    count_digits<W, MODE, PASSES>(word_of<W>(v[i], w), mine);
            }
        }
    }
    if (blockIdx.x == 0 && threadIdx.x < n % PER_VEC)
        count_digits<W, MODE, PASSES>(keys[n_vecs * PER_VEC + threadIdx.x], mine);
    __syncthreads();
    for (u32 i = threadIdx.x; i < PASSES * RADIX; i += blockDim.x) {
        const u32 c = sh[0][i] + sh[1][i];
        if (c) atomicAdd(&hist[i], c);
    }
    // Threadfence-reduction pattern: every thread's counts are visible device-wide before its
    // block is counted as done, so the last block sees all of them.
    __threadfence();
    __syncthreads();
    u32 *plan = scratch + 2 * PASSES * RADIX;
    if (threadIdx.x == 0) last_block = atomicAdd(&plan[PLAN_HIST_DONE], 1u) == gridDim.x - 1;
    __syncthreads();
    if (last_block) {
        __threadfence();
        plan_passes_impl(scratch, PASSES, n);
    }
}

// One LSD pass: blocks take tile ids in launch order from `tile_counter`, rank their keys by
// the digit at `shift` (stable: warp-striped tiles, peers matched within a warp, warps in
// order), publish per-digit tile counts at once, resolve their global offsets by decoupled
// look-back over earlier tiles' published counts, and scatter through shared memory.
// A tile is BLOCK threads x ITEMS keys; threads below RADIX own one digit each in the
// digit-wise steps. `xform_in`: apply the ordered-bits transform on load (first pass executed);
// `xform_out`: undo it on store (last pass executed).
// Decoupled look-back: the count of digit `d` in every tile before `tile`, summed from the
// tiles' published statuses back to the nearest inclusive one (tile 0's always is). Reads
// LOOK_BACK statuses at once, so that a chain of tiles costs one memory latency per LOOK_BACK
// tiles instead of one per tile; a status not yet published is polled again.
#define LOOK_BACK 8
__device__ __forceinline__ u32 look_back(const u32 *status, u32 d, u32 tile) {
    u32 acc = 0;
    int j = (int)tile - 1;  // the next tile to read
    while (true) {
        u32 s[LOOK_BACK];
#pragma unroll
        for (int k = 0; k < LOOK_BACK; k++)
            s[k] = j - k >= 0 ? load_relaxed(&status[(u64)(j - k) * RADIX + d]) : 0u;
#pragma unroll
        for (int k = 0; k < LOOK_BACK; k++) {
            if ((s[k] & (FLAG_AGGREGATE | FLAG_INCLUSIVE)) == 0) break;  // not yet published
            acc += s[k] & VALUE_MASK;
            if (s[k] & FLAG_INCLUSIVE) return acc;
            j--;
        }
    }
}

// The shared memory of one Onesweep tile. Declared once per kernel by onesweep_pass, so that the
// dense and the plain variant of a pass share it instead of each taking its own.
template <typename W, int ITEMS, int BLOCK> struct OnesweepShared {
    static constexpr u32 WARPS = BLOCK / 32;
    static constexpr u32 KEY_WORDS = BLOCK * ITEMS * sizeof(W) / 4;
    static constexpr u32 BIN_WORDS = WARPS * RADIX;
    // The tile's keys after ranking; during ranking the same memory holds the warps' match bins.
    __align__(16) u32 raw[KEY_WORDS > BIN_WORDS ? KEY_WORDS : BIN_WORDS];
    u32 wc[WARPS * RADIX];
    u32 off[RADIX];
    u32 scan[RADIX / 32];
    u32 tile;
};

// DENSE: the pass may see many lanes share a digit (PLAN_DENSE). A template parameter, so that
// the other passes run without even the test for it.
template <typename W, int MODE, int ITEMS, int BLOCK, bool DENSE>
__device__ __forceinline__ void onesweep_impl(OnesweepShared<W, ITEMS, BLOCK> &sh,
                                              const W *__restrict__ src, W *__restrict__ dst,
                                              u32 n, u32 shift,
                                              const u32 *__restrict__ digit_start,
                                              u32 *status, u32 *tile_counter, u32 xform_in,
                                              u32 xform_out) {
    static_assert(BLOCK >= RADIX && BLOCK % 32 == 0, "a block owns every digit");
    constexpr u32 WARPS = BLOCK / 32;
    constexpr u32 TILE = BLOCK * ITEMS;
    u32 *sh_raw = sh.raw, *sh_wc = sh.wc, *sh_off = sh.off, *sh_scan = sh.scan;
    u32 &sh_tile = sh.tile;
    W *sh_keys = (W *)sh_raw;

    const u32 tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    if (tid == 0) sh_tile = atomicAdd(tile_counter, 1u);
    for (u32 i = tid; i < WARPS * RADIX; i += BLOCK) {
        sh_wc[i] = 0;
        sh_raw[i] = 0;
    }
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

    // Rank within the warp: the lanes whose key has the same digit (the peers) are found by each
    // lane ORing its bit into its digit's bin, which costs far fewer instructions than one
    // ballot per digit bit (kernels/NOTES.md, v4), or by match.any (below); the peers'
    // leader counts them in the warp's private histogram and clears the bin. Lanes rank in lane
    // order, so the pass is stable.
    // Ranks are below the tile size, so two share a register: fewer registers, more blocks.
    static_assert(TILE <= 65536, "ranks are 16-bit");
    u32 ranks[(ITEMS + 1) / 2];
    u32 *wc = &sh_wc[warp * RADIX];
    u32 *bins = &sh_raw[warp * RADIX];
    const u32 lt_mask = (1u << lane) - 1u;
#pragma unroll
    for (u32 i = 0; i < ITEMS; i++) {
        const u32 d = digit_of(keys[i], shift);
        // match.any costs a step per distinct digit in the warp, the bins a serialised atomic
        // per lane that shares a digit: in a dense pass the warp picks match.any where its 32
        // consecutive keys run in long stretches of one digit (repeated keys, once earlier
        // passes have gathered them) and the bins where they are mixed (kernels/NOTES.md, v5).
        bool match = false;
        if (DENSE) {
            const u32 left = __shfl_up_sync(0xffffffffu, d, 1);
            match = __popc(__ballot_sync(0xffffffffu, lane > 0 && d == left)) >= RUN_LANES;
        }
        u32 peers;
        if (match) {
            peers = __match_any_sync(0xffffffffu, d);
        } else {
            atomicOr(&bins[d], 1u << lane);
            __syncwarp();
            peers = bins[d];
            __syncwarp();
        }
        const u32 leader = 31 - __clz(peers);
        u32 old = 0;
        if (lane == leader) {
            old = wc[d];
            wc[d] = old + __popc(peers);
            bins[d] = 0;
        }
        old = __shfl_sync(0xffffffffu, old, leader);
        const u32 rank = old + __popc(peers & lt_mask);
        if (i & 1) ranks[i / 2] |= rank << 16;
        else ranks[i / 2] = rank;
        __syncwarp();
    }
    __syncthreads();

    // Thread d < RADIX owns digit d: warp offsets within the tile, and the tile's count of d.
    const u32 d = tid;
    const bool owner = tid < RADIX;
    u32 total = 0;
    u32 *my_status = status + (u64)tile * RADIX;
    if (owner) {
#pragma unroll
        for (u32 w = 0; w < WARPS; w++) {
            const u32 c = sh_wc[w * RADIX + d];
            sh_wc[w * RADIX + d] = total;
            total += c;
        }
        if (tile == 0) {
            store_relaxed(&my_status[d], FLAG_INCLUSIVE | (digit_start[d] + total));
        } else {
            store_relaxed(&my_status[d], FLAG_AGGREGATE | total);
        }
    }

    // Exclusive scan of the tile's digit counts: where each digit starts inside the tile.
    u32 incl = total;
#pragma unroll
    for (u32 o = 1; o < 32; o <<= 1) {
        const u32 t = __shfl_up_sync(0xffffffffu, incl, o);
        if (lane >= o) incl += t;
    }
    if (owner && lane == 31) sh_scan[warp] = incl;
    __syncthreads();
    u32 local_start = 0;
    if (owner) {
        u32 warp_before = 0;
        for (u32 w = 0; w < warp; w++) warp_before += sh_scan[w];
        local_start = warp_before + incl - total;
#pragma unroll
        for (u32 w = 0; w < WARPS; w++) sh_wc[w * RADIX + d] += local_start;
    }
    __syncthreads();

    // Local scatter into shared memory in tile-sorted order.
#pragma unroll
    for (u32 i = 0; i < ITEMS; i++) {
        const u32 dd = digit_of(keys[i], shift);
        const u32 rank = (ranks[i / 2] >> (16 * (i & 1))) & 0xffffu;
        sh_keys[wc[dd] + rank] = keys[i];
    }

    // Decoupled look-back for digit d.
    if (owner) {
        u32 global_before;
        if (tile == 0) {
            global_before = digit_start[d];
        } else {
            global_before = look_back(status, d, tile);
            store_relaxed(&my_status[d], FLAG_INCLUSIVE | (global_before + total));
        }
        sh_off[d] = global_before - local_start;  // wraps; adding the local position unwraps it
    }
    __syncthreads();

    // Coalesced global scatter.
#pragma unroll
    for (u32 i = 0; i < ITEMS; i++) {
        const u32 j = i * BLOCK + tid;
        if (j < tile_n) {
            W k = sh_keys[j];
            const u32 dd = digit_of(k, shift);
            if (xform_out) k = from_ord<MODE>(k);
            dst[sh_off[dd] + j] = k;
        }
    }
}

// The entry point of one pass for one tile shape: reads the pass's plan and status region,
// and zeroes this block's slot in the region the next pass uses.
template <typename W, int MODE, int ITEMS, int BLOCK>
__device__ __forceinline__ void onesweep_pass(W *buf0, W *buf1, u32 n, u32 pass, u32 passes,
                                              u32 *scratch) {
    const u32 tiles = gridDim.x;
    u32 *plan = scratch + 2 * passes * RADIX;
    u32 *regions = plan + 32;
    u32 *status = regions + (u64)(pass & 1) * tiles * RADIX;
    u32 *next = regions + (u64)((pass + 1) & 1) * tiles * RADIX;
    if (threadIdx.x < RADIX) next[(u64)blockIdx.x * RADIX + threadIdx.x] = 0;
    const u32 info = plan[pass];
    if (info & PLAN_SKIP) return;
    const bool alt = info & PLAN_SRC_ALT;
    W *src = alt ? buf1 : buf0, *dst = alt ? buf0 : buf1;
    const u32 *digit_start = scratch + (passes + pass) * RADIX;
    u32 *tile_counter = plan + 16 + pass;
    __shared__ OnesweepShared<W, ITEMS, BLOCK> sh;
    if (info & PLAN_DENSE) {
        onesweep_impl<W, MODE, ITEMS, BLOCK, true>(sh, src, dst, n, pass * 8, digit_start, status,
                                                   tile_counter, info & PLAN_XFORM_IN,
                                                   info & PLAN_XFORM_OUT);
    } else {
        onesweep_impl<W, MODE, ITEMS, BLOCK, false>(sh, src, dst, n, pass * 8, digit_start,
                                                    status, tile_counter, info & PLAN_XFORM_IN,
                                                    info & PLAN_XFORM_OUT);
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

// One Onesweep pass kernel per tile shape: OS_BLOCK threads x ITEMS keys, registers capped
// for MIN_BLOCKS blocks per SM. The host picks the shape by input size from its tables
// (`backend::cuda::TILES_32`, `TILES_64`; a host test checks each is instantiated here): small
// inputs take short tiles, so that every SM gets work and each pass waits on short tiles;
// from 2^19 (64-bit words) or 2^21 (32-bit) keys the large tiles, fastest on an H100; above
// 2^25, 64-bit words take 18 keys per thread at three blocks per SM, best on an H200
// (kernels/NOTES.md).
#define OS_BLOCK 256
#define ONESWEEP(NAME, W, MODE, ITEMS, MIN_BLOCKS)                                               \
    extern "C" __global__ void __launch_bounds__(OS_BLOCK, MIN_BLOCKS)                           \
        onesweep##ITEMS##_##NAME(W *buf0, W *buf1, u32 n, u32 pass, u32 passes, u32 *scratch) { \
        onesweep_pass<W, MODE, ITEMS, OS_BLOCK>(buf0, buf1, n, pass, passes, scratch);           \
    }

#define INSTANTIATE(NAME, W, MODE, PASSES)                                                       \
    extern "C" __global__ void __launch_bounds__(HIST_THREADS)                                   \
        histogram_##NAME(const W *keys, u32 n, u32 *scratch) {                                   \
        histogram_impl<W, MODE, PASSES>(keys, n, scratch);                                       \
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

// 32-bit words: 4, 8, 16 and 24 keys per thread.
#define INSTANTIATE_32(NAME, MODE)                                                               \
    INSTANTIATE(NAME, u32, MODE, 4)                                                              \
    ONESWEEP(NAME, u32, MODE, 4, 1)                                                              \
    ONESWEEP(NAME, u32, MODE, 8, 1)                                                              \
    ONESWEEP(NAME, u32, MODE, 16, 4)                                                             \
    ONESWEEP(NAME, u32, MODE, 24, 4)

// 64-bit words (64-bit keys and pairs): 4, 8, 16 and 18 keys per thread.
#define INSTANTIATE_64(NAME, MODE, PASSES)                                                       \
    INSTANTIATE(NAME, u64, MODE, PASSES)                                                         \
    ONESWEEP(NAME, u64, MODE, 4, 1)                                                              \
    ONESWEEP(NAME, u64, MODE, 8, 1)                                                              \
    ONESWEEP(NAME, u64, MODE, 16, 4)                                                             \
    ONESWEEP(NAME, u64, MODE, 18, 3)

INSTANTIATE_32(u32, MODE_U32)
INSTANTIATE_32(i32, MODE_I32)
INSTANTIATE_32(f32, MODE_F32)
INSTANTIATE_64(u64, MODE_U64, 8)
INSTANTIATE_64(i64, MODE_I64, 8)
INSTANTIATE_64(f64, MODE_F64, 8)
INSTANTIATE_64(kv, MODE_KV, 4)

extern "C" __global__ void fill_u32(u32 *a, u32 from, u32 to, u32 value) {
    fill_impl<u32>(a, from, to, value);
}
extern "C" __global__ void fill_u64(u64 *a, u32 from, u32 to, u64 value) {
    fill_impl<u64>(a, from, to, value);
}
