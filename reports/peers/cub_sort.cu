// sortmark peer: CUB's device-wide radix sort (cub::DeviceRadixSort), timed with CUDA events and
// verified on the GPU. sortmark compiles it with nvcc (-O3 -std=c++17 -arch=native) when a
// command names it as its program:
//
//   peers/cub_sort.cu --input {input} --output {output} --key {key_type} --n {n}
//       --checksum {checksum} --warmup {warmup} --repetitions {repetitions} --max-repetitions {max_repetitions}
//       --min-time {min_time} --device {device}
//
// Algorithm `cub-radix`: SortKeys for u32 u64 i32 i64 f32 f64, SortPairs for u32-u32 (u32 keys,
// u32 values). The input (raw little-endian bytes written by sortmark) is copied to the GPU once,
// timed as h2d_s; CUB sorts from an input buffer into an output buffer and never writes its input,
// so every repetition sorts the same pristine input. The temporary storage is allocated once,
// before timing. One SortKeys/SortPairs call per repetition is timed between two CUDA events.
// Every output is verified on the GPU: in CUB's order, with sortmark's checksum (the wrapping sum
// of splitmix64 of each element's bits) equal to the input's, and for pairs stable (values are
// the original indices). CUB's float order is IEEE 754 total order except that -0.0 and +0.0 are
// equal (NaNs by their bits: -NaN first, +NaN last); the peer checks that order and also reports
// whether the output happens to be in strict total order, sortmark's.
//
// With --output (protocol 2) the last sorted output is written there in the input's format (a
// u32-u32 element is its key then its value), for sortmark to verify itself.
//
// Prints one protocol line: {"protocol": 2, "samples_s": [...], "timing": "cuda-events", ...}
// (protocol 1 without --output).

#include <cub/cub.cuh>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

namespace {

void fail(const std::string& message) {
    std::fprintf(stderr, "error: %s\n", message.c_str());
    std::exit(3);
}

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) fail(std::string(what) + ": " + cudaGetErrorString(e));
}

void skip(const std::string& reason) {
    std::printf("{\"protocol\": 1, \"skip\": \"%s\"}\n", reason.c_str());
    std::exit(0);
}

struct Args {
    std::string input, output, key, algorithm = "cub-radix";
    size_t n = 0;
    bool has_checksum = false;
    unsigned long long checksum = 0;
    int warmup = 1, repetitions = 5, max_repetitions = 100, device = 0;
    double min_time = 0.0;
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i], v = argv[i + 1];
        if (k == "--input") a.input = v;
        else if (k == "--output") a.output = v;
        else if (k == "--key") a.key = v;
        else if (k == "--n") a.n = std::strtoull(v.c_str(), nullptr, 10);
        else if (k == "--checksum") { a.has_checksum = true; a.checksum = std::strtoull(v.c_str(), nullptr, 10); }
        else if (k == "--algorithm") a.algorithm = v;
        else if (k == "--warmup") a.warmup = std::atoi(v.c_str());
        else if (k == "--repetitions") a.repetitions = std::atoi(v.c_str());
        else if (k == "--max-repetitions") a.max_repetitions = std::atoi(v.c_str());
        else if (k == "--min-time") a.min_time = std::atof(v.c_str());
        else if (k == "--device") a.device = std::atoi(v.c_str());
        else fail("unknown argument " + k);
    }
    if (argc % 2 == 0) fail("arguments come in --name value pairs");
    if (a.input.empty() || a.key.empty() || a.n == 0) fail("--input, --key and --n are required");
    if (a.algorithm != "cub-radix") fail("unknown algorithm " + a.algorithm + " (this peer runs cub-radix)");
    return a;
}

__host__ __device__ inline unsigned long long mix64(unsigned long long x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// An element's checksum bits, as sortmark's SortKey::checksum_bits: its bits, zero-extended.
template <typename T>
__device__ inline unsigned long long checksum_bits(T v) {
    if constexpr (std::is_same_v<T, float>) return __float_as_uint(v);
    else if constexpr (std::is_same_v<T, double>) return static_cast<unsigned long long>(__double_as_longlong(v));
    else if constexpr (sizeof(T) == 4) return static_cast<uint32_t>(v);
    else return static_cast<unsigned long long>(v);
}

// The order-preserving unsigned image of a key (IEEE total order for floats); with
// `zeros_equal`, -0.0 is mapped to +0.0 first (CUB's order).
template <typename T>
__device__ inline unsigned long long ordered(T v, bool zeros_equal) {
    if constexpr (std::is_floating_point_v<T>) {
        if (zeros_equal && v == T(0)) v = T(0);
        unsigned long long b = checksum_bits(v);
        constexpr int W = sizeof(T) * 8;
        constexpr unsigned long long top = 1ULL << (W - 1);
        constexpr unsigned long long all = ~0ULL >> (64 - W);
        return (b & top) ? (b ^ all) : (b | top);
    } else if constexpr (std::is_signed_v<T>) {
        using U = std::make_unsigned_t<T>;
        return static_cast<U>(static_cast<U>(v) ^ (U(1) << (sizeof(T) * 8 - 1)));
    } else {
        return static_cast<unsigned long long>(v);
    }
}

template <typename T>
__global__ void checksum_kernel(const T* a, size_t n, unsigned long long* sum) {
    unsigned long long local = 0;
    for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
        local += mix64(checksum_bits(a[i]));
    atomicAdd(sum, local);  // Unsigned addition wraps, as sortmark's wrapping sum.
}

__global__ void pair_checksum_kernel(const uint32_t* k, const uint32_t* v, size_t n, unsigned long long* sum) {
    unsigned long long local = 0;
    for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x)
        local += mix64((static_cast<unsigned long long>(k[i]) << 32) | v[i]);
    atomicAdd(sum, local);
}

__global__ void split_kernel(const uint32_t* raw, size_t n, uint32_t* keys, uint32_t* values) {
    for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
        keys[i] = raw[2 * i];
        values[i] = raw[2 * i + 1];
    }
}

// flags[0]: out of CUB's order; flags[1]: out of strict total order; flags[2]: unstable.
template <typename T>
__global__ void order_kernel(const T* a, const uint32_t* values, size_t n, unsigned int* flags) {
    for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i + 1 < n; i += size_t(gridDim.x) * blockDim.x) {
        if (ordered(a[i], true) > ordered(a[i + 1], true)) flags[0] = 1;
        if (ordered(a[i], false) > ordered(a[i + 1], false)) flags[1] = 1;
        if (values && a[i] == a[i + 1] && values[i] >= values[i + 1]) flags[2] = 1;
    }
}

constexpr int BLOCKS = 1024, THREADS = 256;

struct Timer {
    cudaEvent_t start, stop;
    Timer() {
        check(cudaEventCreate(&start), "cudaEventCreate");
        check(cudaEventCreate(&stop), "cudaEventCreate");
    }
    void begin() { check(cudaEventRecord(start), "cudaEventRecord"); }
    double end() {
        check(cudaEventRecord(stop), "cudaEventRecord");
        check(cudaEventSynchronize(stop), "cudaEventSynchronize");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
        return ms / 1000.0;
    }
};

struct Checks {
    bool sorted = true, checksum_matches = true, stable = true, total_order = true;
};

// Writes the sorted output for sortmark: `back` holds the keys, then (pairs) the values; the
// file interleaves each key with its value, as the input did.
void write_output(const std::string& path, const std::vector<char>& back, size_t n, bool pairs) {
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) fail("cannot create " + path);
    bool ok = true;
    if (pairs) {
        std::vector<uint32_t> joined(2 * n);
        const uint32_t* keys = reinterpret_cast<const uint32_t*>(back.data());
        const uint32_t* values = keys + n;
        for (size_t i = 0; i < n; ++i) {
            joined[2 * i] = keys[i];
            joined[2 * i + 1] = values[i];
        }
        ok = std::fwrite(joined.data(), 8, n, f) == n;
    } else {
        ok = std::fwrite(back.data(), 1, back.size(), f) == back.size();
    }
    if (std::fclose(f) != 0 || !ok) fail("cannot write " + path);
}

template <typename T, bool pairs>
void run(const Args& args, const std::vector<char>& host) {
    const size_t n = args.n;
    Timer timer;
    T *keys_in = nullptr, *keys_out = nullptr;
    uint32_t *values_in = nullptr, *values_out = nullptr;
    unsigned long long* sum = nullptr;
    unsigned int* flags = nullptr;
    check(cudaMalloc(&keys_in, n * sizeof(T)), "cudaMalloc");
    check(cudaMalloc(&keys_out, n * sizeof(T)), "cudaMalloc");
    check(cudaMalloc(&sum, sizeof(unsigned long long)), "cudaMalloc");
    check(cudaMalloc(&flags, 3 * sizeof(unsigned int)), "cudaMalloc");
    double h2d_s = 0;
    if constexpr (pairs) {
        // The file interleaves key, value; the GPU gets it whole and splits it there.
        uint32_t* raw = nullptr;
        check(cudaMalloc(&raw, n * 8), "cudaMalloc");
        check(cudaMalloc(&values_in, n * 4), "cudaMalloc");
        check(cudaMalloc(&values_out, n * 4), "cudaMalloc");
        timer.begin();
        check(cudaMemcpy(raw, host.data(), n * 8, cudaMemcpyHostToDevice), "copy to the GPU");
        h2d_s = timer.end();
        split_kernel<<<BLOCKS, THREADS>>>(raw, n, keys_in, values_in);
        check(cudaGetLastError(), "split kernel");
        check(cudaFree(raw), "cudaFree");
    } else {
        timer.begin();
        check(cudaMemcpy(keys_in, host.data(), n * sizeof(T), cudaMemcpyHostToDevice), "copy to the GPU");
        h2d_s = timer.end();
    }

    auto checksum_of = [&](const T* k, const uint32_t* v) {
        check(cudaMemset(sum, 0, sizeof(unsigned long long)), "cudaMemset");
        if constexpr (pairs) pair_checksum_kernel<<<BLOCKS, THREADS>>>(k, v, n, sum);
        else checksum_kernel<<<BLOCKS, THREADS>>>(k, n, sum);
        check(cudaGetLastError(), "checksum kernel");
        unsigned long long h = 0;
        check(cudaMemcpy(&h, sum, sizeof h, cudaMemcpyDeviceToHost), "checksum");
        return h;
    };
    const unsigned long long expected = checksum_of(keys_in, values_in);
    if (args.has_checksum && expected != args.checksum)
        fail("the input's checksum here is " + std::to_string(expected) + " but sortmark's is " +
             std::to_string(args.checksum) + ": the input was misread or the checksum differs");

    // Temporary storage: sized and allocated once, outside the timed span.
    size_t temp_bytes = 0;
    void* temp = nullptr;
    const int items = static_cast<int>(n);
    auto sort = [&]() {
        if constexpr (pairs)
            return cub::DeviceRadixSort::SortPairs(temp, temp_bytes, keys_in, keys_out, values_in, values_out, items);
        else
            return cub::DeviceRadixSort::SortKeys(temp, temp_bytes, keys_in, keys_out, items);
    };
    check(sort(), "sizing CUB's temporary storage");
    check(cudaMalloc(&temp, temp_bytes), "cudaMalloc temporary storage");

    Checks checks;
    auto once = [&]() {
        timer.begin();
        check(sort(), "cub::DeviceRadixSort");
        double s = timer.end();
        check(cudaGetLastError(), "cub::DeviceRadixSort");
        check(cudaMemset(flags, 0, 3 * sizeof(unsigned int)), "cudaMemset");
        order_kernel<<<BLOCKS, THREADS>>>(keys_out, values_out, n, flags);
        check(cudaGetLastError(), "order kernel");
        unsigned int f[3];
        check(cudaMemcpy(f, flags, sizeof f, cudaMemcpyDeviceToHost), "order flags");
        checks.sorted &= f[0] == 0;
        checks.total_order &= f[1] == 0;
        checks.stable &= f[2] == 0;
        checks.checksum_matches &= checksum_of(keys_out, values_out) == expected;
        return s;
    };
    for (int i = 0; i < args.warmup; ++i) once();
    std::vector<double> samples;
    double total = 0;
    while (samples.size() < size_t(std::max(args.max_repetitions, 1))) {
        samples.push_back(once());
        total += samples.back();
        if (samples.size() >= size_t(args.repetitions) && total >= args.min_time) break;
    }

    std::vector<char> back(n * (pairs ? 8 : sizeof(T)));
    timer.begin();
    check(cudaMemcpy(back.data(), keys_out, n * sizeof(T), cudaMemcpyDeviceToHost), "copy back");
    if (pairs) check(cudaMemcpy(back.data() + n * 4, values_out, n * 4, cudaMemcpyDeviceToHost), "copy back");
    const double d2h_s = timer.end();

    cudaDeviceProp prop;
    check(cudaGetDeviceProperties(&prop, args.device), "cudaGetDeviceProperties");
    int runtime = 0;
    check(cudaRuntimeGetVersion(&runtime), "cudaRuntimeGetVersion");
    const bool floats = std::is_floating_point_v<T>;
    if (!args.output.empty()) write_output(args.output, back, n, pairs);
    std::printf("{\"protocol\": %d, \"samples_s\": [", args.output.empty() ? 1 : 2);
    for (size_t i = 0; i < samples.size(); ++i) std::printf("%s%.9g", i ? ", " : "", samples[i]);
    std::printf("], \"timing\": \"cuda-events\", \"verified\": %s, ",
                checks.sorted && checks.checksum_matches && (!pairs || checks.stable) ? "true" : "false");
    std::printf("\"verification\": {\"sorted\": %s, \"checksum_matches\": %s", checks.sorted ? "true" : "false",
                checks.checksum_matches ? "true" : "false");
    if (pairs) std::printf(", \"stable\": %s", checks.stable ? "true" : "false");
    if (floats) std::printf(", \"total_order\": %s", checks.total_order ? "true" : "false");
    std::printf("}, \"transfers\": {\"h2d_s\": %.9g, \"d2h_s\": %.9g}, ", h2d_s, d2h_s);
    std::printf("\"library\": {\"name\": \"cub\", \"version\": \"%d.%d.%d\"}, ", CUB_MAJOR_VERSION,
                CUB_MINOR_VERSION, CUB_SUBMINOR_VERSION);
    std::printf("\"notes\": [\"device: %s; CUDA runtime %d.%d; temporary storage %zu bytes\"", prop.name,
                runtime / 1000, runtime % 1000 / 10, temp_bytes);
    if (floats)
        std::printf(", \"CUB orders -0.0 and +0.0 as equal and NaNs by their bits (-NaN first, +NaN last); "
                    "sortmark's own sorts use IEEE 754 total order, which also puts -0.0 before +0.0\"");
    std::printf("]}\n");
}

std::vector<char> read_file(const std::string& path, size_t bytes) {
    FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) fail("cannot open " + path);
    std::vector<char> data(bytes);
    size_t got = std::fread(data.data(), 1, bytes, f);
    char extra;
    bool more = std::fread(&extra, 1, 1, f) == 1;
    std::fclose(f);
    if (got != bytes || more) fail(path + " does not hold the expected " + std::to_string(bytes) + " bytes");
    return data;
}

}  // namespace

int main(int argc, char** argv) {
    Args args = parse(argc, argv);
    int count = 0;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count <= args.device)
        skip("no CUDA device " + std::to_string(args.device));
    check(cudaSetDevice(args.device), "cudaSetDevice");
    if (args.n > 0x7fffffffULL) skip("more than 2^31 - 1 keys");
    const std::string& k = args.key;
    const size_t width = (k == "u32" || k == "i32" || k == "f32") ? 4 : 8;
    if (k != "u32" && k != "u64" && k != "i32" && k != "i64" && k != "f32" && k != "f64" && k != "u32-u32")
        skip("key type " + k + " is not supported by this peer");
    std::vector<char> host = read_file(args.input, args.n * width);
    if (k == "u32") run<uint32_t, false>(args, host);
    else if (k == "u64") run<uint64_t, false>(args, host);
    else if (k == "i32") run<int32_t, false>(args, host);
    else if (k == "i64") run<int64_t, false>(args, host);
    else if (k == "f32") run<float, false>(args, host);
    else if (k == "f64") run<double, false>(args, host);
    else run<uint32_t, true>(args, host);
    return 0;
}
