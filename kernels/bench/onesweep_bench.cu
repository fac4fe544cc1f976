// Tile-shape and launch experiments for the Onesweep radix sort in kernels/sort.cu.
// Not part of sortmark: a standalone nvcc program for tuning on a GPU machine, e.g.
//   nvcc -O3 -std=c++17 -arch=sm_90 -I kernels -o bench kernels/bench/onesweep_bench.cu
//   ./bench [small|large|shapes|wide] [u32|u64|kv]
//   (HIST_CAP=k caps the histogram grid at k blocks per SM)
// It sorts random words (uniform; in `shapes` mode also skewed and few-unique) with sort.cu's
// histogram and pass kernels in several tile shapes, launched one by one or as one CUDA graph,
// times each sort with CUDA events (median of many runs after warm-ups), checks its order,
// stability and checksum with sort.cu's verify kernel, and prints one line per case.
#include "sort.cu"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#define CK(x)                                                                                  \
    do {                                                                                       \
        cudaError_t e_ = (x);                                                                  \
        if (e_ != cudaSuccess) {                                                               \
            fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

template <typename W, int MODE, int ITEMS, int BLOCK, int MINB>
__global__ void __launch_bounds__(BLOCK, MINB)
    os_kernel(W *b0, W *b1, u32 n, u32 pass, u32 passes, u32 *scratch) {
    onesweep_pass<W, MODE, ITEMS, BLOCK>(b0, b1, n, pass, passes, scratch);
}

template <typename W> using PassFn = void (*)(W *, W *, u32, u32, u32, u32 *);
template <typename W> using HistFn = void (*)(const W *, u32, u32 *);
template <typename W> using VerifyFn = void (*)(const W *, u32, u32 *, u64 *);

template <typename W> struct Shape {
    std::string name;
    PassFn<W> fn;
    u32 threads, items;
};

template <typename W, int MODE, int ITEMS, int BLOCK, int MINB> Shape<W> shape() {
    char name[64];
    snprintf(name, sizeof name, "%dx%d/%d", BLOCK, ITEMS, MINB);
    return {name, os_kernel<W, MODE, ITEMS, BLOCK, MINB>, BLOCK, ITEMS};
}

static u32 sm_count;

static u32 hist_cap = 8;

template <typename W> struct Case {
    const char *type;
    u32 passes;
    HistFn<W> hist;
    VerifyFn<W> verify;
    size_t n;
    W *pristine, *work, *alt;
    u32 *scratch, *flags;
    u64 input_checksum;
    cudaStream_t stream;

    // Out-of-order and unstable neighbours and the checksum of `a`, from sort.cu's verify kernel.
    void verify_on_device(const W *a, u32 out[2], u64 *checksum) {
        CK(cudaMemset(flags, 0, 16));
        verify<<<sm_count * 8, 256>>>(a, (u32)n, flags, (u64 *)(flags + 2));
        CK(cudaMemcpy(out, flags, 8, cudaMemcpyDeviceToHost));
        CK(cudaMemcpy(checksum, flags + 2, 8, cudaMemcpyDeviceToHost));
    }

    // `shape`: "uniform", "skewed" (Zipf over 2^16 hashed values, as sortmark's generator) or
    // "few-unique" (16 hashed values), hashed by sort.cu's mix64 as src/data.rs does.
    void setup(size_t n_, u64 seed, const std::string &shape = "uniform") {
        n = n_;
        std::mt19937_64 rng(seed);
        std::vector<double> cdf;
        if (shape == "skewed") {
            double total = 0;
            for (int k = 1; k <= 1 << 16; k++) cdf.push_back(total += 1.0 / k);
        }
        auto draw = [&]() -> u64 {
            if (shape == "skewed") {
                const double u = (rng() >> 11) * 0x1.0p-53 * cdf.back();
                return mix64(seed ^ (u64)(std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin()));
            }
            if (shape == "few-unique") return mix64(seed ^ (rng() % 16));
            return rng();
        };
        std::vector<W> h(n);
        // Pairs carry their index as the value, so the verify kernel can check stability.
        for (size_t i = 0; i < n; i++)
            h[i] = verify == (VerifyFn<W>)verify_kv ? (W)(((u64)i << 32) | (u32)draw()) : (W)draw();
        CK(cudaMalloc(&pristine, n * sizeof(W)));
        CK(cudaMalloc(&work, n * sizeof(W)));
        CK(cudaMalloc(&alt, n * sizeof(W)));
        size_t max_tiles = n / 256 + 1;
        CK(cudaMalloc(&scratch, 4 * (2 * passes * 256 + 32 + 2 * max_tiles * 256)));
        CK(cudaMemcpy(pristine, h.data(), n * sizeof(W), cudaMemcpyHostToDevice));
        CK(cudaStreamCreate(&stream));
        CK(cudaMalloc(&flags, 16));
        u32 ignored[2];
        verify_on_device(pristine, ignored, &input_checksum);
    }
    void teardown() {
        CK(cudaFree(pristine));
        CK(cudaFree(work));
        CK(cudaFree(alt));
        CK(cudaFree(scratch));
        CK(cudaFree(flags));
        CK(cudaStreamDestroy(stream));
    }

    // Enqueues one sort; with `marks`, records an event after each launch.
    void enqueue(const Shape<W> &s, cudaEvent_t *marks) {
        const u32 tiles = (u32)((n + s.threads * s.items - 1) / (s.threads * s.items));
        CK(cudaMemsetAsync(scratch, 0, 4 * (2 * passes * 256 + 32 + (size_t)tiles * 256), stream));
        if (marks) CK(cudaEventRecord(marks[0], stream));
        const u32 per_block = HIST_THREADS * HIST_VECS * 16 / sizeof(W);
        u32 blocks = (u32)std::min<size_t>((n + per_block - 1) / per_block, sm_count * hist_cap);
        hist<<<blocks, 256, 0, stream>>>(work, (u32)n, scratch);
        if (marks) CK(cudaEventRecord(marks[1], stream));
        for (u32 p = 0; p < passes; p++) {
            s.fn<<<tiles, s.threads, 0, stream>>>(work, alt, (u32)n, p, passes, scratch);
            if (marks) CK(cudaEventRecord(marks[2 + p], stream));
        }
    }

    bool check() {
        u32 active = 0;
        CK(cudaMemcpy(&active, scratch + 2 * passes * 256 + passes, 4, cudaMemcpyDeviceToHost));
        CK(cudaDeviceSynchronize());
        u32 bad[2];
        u64 sum;
        verify_on_device(active % 2 ? alt : work, bad, &sum);
        return bad[0] == 0 && bad[1] == 0 && sum == input_checksum;
    }

    // Median milliseconds of `runs` sorts after 3 warm-ups.
    double time(const Shape<W> &s, bool graph, int runs, bool *ok) {
        cudaGraphExec_t exec = nullptr;
        if (graph) {
            cudaGraph_t g;
            CK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal));
            enqueue(s, nullptr);
            CK(cudaStreamEndCapture(stream, &g));
            CK(cudaGraphInstantiate(&exec, g, 0));
            CK(cudaGraphDestroy(g));
        }
        cudaEvent_t a, b;
        CK(cudaEventCreate(&a));
        CK(cudaEventCreate(&b));
        std::vector<float> ms;
        for (int r = 0; r < runs + 3; r++) {
            CK(cudaMemcpyAsync(work, pristine, n * sizeof(W), cudaMemcpyDeviceToDevice, stream));
            CK(cudaEventRecord(a, stream));
            if (graph) CK(cudaGraphLaunch(exec, stream));
            else enqueue(s, nullptr);
            CK(cudaEventRecord(b, stream));
            CK(cudaEventSynchronize(b));
            float t;
            CK(cudaEventElapsedTime(&t, a, b));
            if (r >= 3) ms.push_back(t);
        }
        CK(cudaGetLastError());
        *ok = check();
        if (exec) CK(cudaGraphExecDestroy(exec));
        CK(cudaEventDestroy(a));
        CK(cudaEventDestroy(b));
        std::sort(ms.begin(), ms.end());
        return ms[ms.size() / 2];
    }

    // Per-kernel milliseconds of one sort (launched one by one, after warm-ups).
    void breakdown(const Shape<W> &s) {
        cudaEvent_t start, marks[10];
        CK(cudaEventCreate(&start));
        for (auto &m : marks) CK(cudaEventCreate(&m));
        for (int r = 0; r < 4; r++) {
            CK(cudaMemcpyAsync(work, pristine, n * sizeof(W), cudaMemcpyDeviceToDevice, stream));
            CK(cudaEventRecord(start, stream));
            enqueue(s, marks);
            CK(cudaStreamSynchronize(stream));
        }
        printf("breakdown %s n=2^%d %s:", type, __builtin_ctzll(n), s.name.c_str());
        float t;
        CK(cudaEventElapsedTime(&t, start, marks[0]));
        printf(" memset %.4f", t);
        CK(cudaEventElapsedTime(&t, marks[0], marks[1]));
        printf(" hist %.4f", t);
        for (u32 p = 0; p < passes; p++) {
            CK(cudaEventElapsedTime(&t, marks[1 + p], marks[2 + p]));
            printf(" p%u %.4f", p, t);
        }
        printf(" ms\n");
    }
};

template <typename W>
void sweep(Case<W> c, const std::vector<Shape<W>> &shapes, std::vector<int> log_sizes) {
    for (int lg : log_sizes) {
        c.setup((size_t)1 << lg, 42 + lg);
        const int runs = lg <= 20 ? 200 : lg <= 24 ? 50 : 15;
        for (const auto &s : shapes) {
            const size_t tiles = (c.n + s.threads * s.items - 1) / (s.threads * s.items);
            if (tiles > (1u << 30) / 256) continue;
            for (bool graph : {false, true}) {
                bool ok = false;
                const double ms = c.time(s, graph, runs, &ok);
                printf("%s 2^%d %-10s %-6s %9.4f ms %7.3f Gkeys/s %s\n", c.type, lg, s.name.c_str(),
                       graph ? "graph" : "plain", ms, c.n / ms / 1e6, ok ? "ok" : "WRONG");
                fflush(stdout);
            }
        }
        c.breakdown(shapes[0]);
        c.teardown();
    }
}

// One sort of 2^24 keys of the named input shape: its graph time, then its per-kernel times.
template <typename W> void input_shape(Case<W> c, const Shape<W> &s, const char *shape_name) {
    c.setup(1 << 24, 7, shape_name);
    bool ok = false;
    const double ms = c.time(s, true, 50, &ok);
    printf("%s 2^24 %s graph %.4f ms %.2f Gkeys/s %s\n", c.type, shape_name, ms, c.n / ms / 1e6,
           ok ? "ok" : "WRONG");
    c.breakdown(s);
    c.teardown();
}

int main(int argc, char **argv) {
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    sm_count = prop.multiProcessorCount;
    if (const char *cap = getenv("HIST_CAP")) hist_cap = atoi(cap);
    printf("device %s, %u SMs, histogram grid cap %u blocks per SM\n", prop.name, sm_count,
           hist_cap);
    const std::string only = argc > 1 ? argv[1] : "all";
    const std::string type = argc > 2 ? argv[2] : "all";  // u32, u64 or kv: only that key type
    auto wants = [&](const char *t) { return type == "all" || type == t; };
    const std::vector<int> small = {16, 17, 18, 19, 20, 21, 22, 23};
    const std::vector<int> large = {20, 22, 24, 26, 28};
    const std::vector<int> all_sizes = {16, 18, 20, 22, 24, 26, 28};
    if (only == "all" || only == "small") {
        std::vector<Shape<u32>> s32 = {
            shape<u32, MODE_U32, 4, 256, 1>(), shape<u32, MODE_U32, 8, 256, 1>(),
            shape<u32, MODE_U32, 12, 256, 1>(), shape<u32, MODE_U32, 16, 256, 4>(),
            shape<u32, MODE_U32, 24, 256, 4>()};
        if (wants("u32")) sweep(Case<u32>{"u32", 4, histogram_u32, verify_u32}, s32, small);
        std::vector<Shape<u64>> s64 = {
            shape<u64, MODE_U64, 4, 256, 1>(), shape<u64, MODE_U64, 8, 256, 1>(),
            shape<u64, MODE_U64, 12, 256, 1>(), shape<u64, MODE_U64, 16, 256, 4>()};
        if (wants("u64")) sweep(Case<u64>{"u64", 8, histogram_u64, verify_u64}, s64, small);
        std::vector<Shape<u64>> skv = {
            shape<u64, MODE_KV, 4, 256, 1>(), shape<u64, MODE_KV, 8, 256, 1>(),
            shape<u64, MODE_KV, 12, 256, 1>(), shape<u64, MODE_KV, 16, 256, 4>()};
        if (wants("kv")) sweep(Case<u64>{"kv", 4, histogram_kv, verify_kv}, skv, small);
    }
    if (only == "all" || only == "large") {
        std::vector<Shape<u32>> s32 = {
            shape<u32, MODE_U32, 24, 256, 4>(), shape<u32, MODE_U32, 24, 256, 4>(),
            shape<u32, MODE_U32, 20, 256, 4>(), shape<u32, MODE_U32, 16, 256, 4>(),
            shape<u32, MODE_U32, 16, 256, 1>(), shape<u32, MODE_U32, 8, 256, 1>(),
            shape<u32, MODE_U32, 4, 256, 1>()};
        if (wants("u32")) sweep(Case<u32>{"u32", 4, histogram_u32, verify_u32}, s32, all_sizes);
        std::vector<Shape<u64>> s64 = {
            shape<u64, MODE_U64, 16, 256, 4>(), shape<u64, MODE_U64, 16, 256, 4>(),
            shape<u64, MODE_U64, 12, 256, 4>(), shape<u64, MODE_U64, 8, 256, 1>(),
            shape<u64, MODE_U64, 4, 256, 1>()};
        if (wants("u64")) sweep(Case<u64>{"u64", 8, histogram_u64, verify_u64}, s64, all_sizes);
        std::vector<Shape<u64>> skv = {
            shape<u64, MODE_KV, 16, 256, 4>(), shape<u64, MODE_KV, 16, 256, 4>(),
            shape<u64, MODE_KV, 12, 256, 4>(), shape<u64, MODE_KV, 8, 256, 1>(),
            shape<u64, MODE_KV, 4, 256, 1>()};
        if (wants("kv")) sweep(Case<u64>{"kv", 4, histogram_kv, verify_kv}, skv, all_sizes);
    }
    if (only == "wide") {
        // Longer tiles for 64-bit words at fewer blocks per SM, against the production 16 x 4
        // (18 keys per thread: 19 is the most that 48 KiB of static shared memory holds).
        const std::vector<int> big = {24, 26, 28};
        std::vector<Shape<u64>> s64 = {
            shape<u64, MODE_U64, 16, 256, 4>(), shape<u64, MODE_U64, 16, 256, 3>(),
            shape<u64, MODE_U64, 18, 256, 3>(), shape<u64, MODE_U64, 18, 256, 2>()};
        if (wants("u64")) sweep(Case<u64>{"u64", 8, histogram_u64, verify_u64}, s64, big);
        std::vector<Shape<u64>> skv = {
            shape<u64, MODE_KV, 16, 256, 4>(), shape<u64, MODE_KV, 16, 256, 3>(),
            shape<u64, MODE_KV, 18, 256, 3>(), shape<u64, MODE_KV, 18, 256, 2>()};
        if (wants("kv")) sweep(Case<u64>{"kv", 4, histogram_kv, verify_kv}, skv, big);
    }
    if (only == "shapes") {
        // Per-kernel times of uniform, skewed and few-unique keys in the production shapes.
        for (const char *shape_name : {"uniform", "skewed", "few-unique"}) {
            printf("shape %s, RUN_LANES %d, DENSE_DIGIT_SHARE %d\n", shape_name, RUN_LANES,
                   DENSE_DIGIT_SHARE);
            if (wants("u32"))
                input_shape(Case<u32>{"u32", 4, histogram_u32, verify_u32},
                            shape<u32, MODE_U32, 24, 256, 4>(), shape_name);
            if (wants("u64"))
                input_shape(Case<u64>{"u64", 8, histogram_u64, verify_u64},
                            shape<u64, MODE_U64, 16, 256, 4>(), shape_name);
            if (wants("kv"))
                input_shape(Case<u64>{"kv", 4, histogram_kv, verify_kv},
                            shape<u64, MODE_KV, 16, 256, 4>(), shape_name);
        }
    }
    if (only == "profile") {
        // Production shapes, plain launches, for a profiler: u32 at 2^24, u64 at 2^26.
        Case<u32> c32{"u32", 4, histogram_u32, verify_u32};
        c32.setup(1 << 24, 1);
        c32.breakdown(shape<u32, MODE_U32, 24, 256, 4>());
        c32.teardown();
        Case<u64> c64{"u64", 8, histogram_u64, verify_u64};
        c64.setup(1 << 26, 1);
        c64.breakdown(shape<u64, MODE_U64, 16, 256, 4>());
        c64.teardown();
    }
    return 0;
}
