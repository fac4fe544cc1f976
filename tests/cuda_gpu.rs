//! GPU tests of the CUDA backend. They need an NVIDIA GPU, so they are ignored by default:
//! on a GPU machine run `cargo test -- --ignored cuda_gpu` (or the test binary with
//! `--ignored cuda_gpu`).
#![expect(
    clippy::disallowed_macros,
    reason = "GPU tests print the facts they saw for `--nocapture`"
)]

use std::path::PathBuf;

use sortmark::backend::cuda::{self, GpuDevice};
use sortmark::catalog::GpuAlgorithm;
use sortmark::data::{Distribution, KeyData, KeyType, SortKey, generate};
use sortmark::measure::MeasureSettings;
use sortmark::with_keys;

fn cache_dir() -> PathBuf {
    std::env::var_os("SORTMARK_KERNEL_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("sortmark-kernels"))
}

fn open() -> GpuDevice {
    match GpuDevice::open(0, &cache_dir()) {
        Ok(d) => d,
        Err(e) => panic!("opening GPU 0 failed: {e}"),
    }
}

/// One timed repetition and no warm-up: what checking a single sort needs.
fn once() -> MeasureSettings {
    MeasureSettings {
        warmup: 0,
        repetitions: 1,
        max_repetitions: 1,
        ..MeasureSettings::default()
    }
}

fn bits(data: &KeyData) -> Vec<u64> {
    with_keys!(data, v => v.iter().map(|k| k.checksum_bits()).collect())
}

#[allow(clippy::useless_conversion)] // u64 keys already are u64
fn key_bits(data: &KeyData) -> Vec<u64> {
    with_keys!(data, v => v.iter().map(|k| k.ordered_bits().into()).collect())
}

/// The CPU reference: a stable sort by the key order.
fn cpu_sorted(data: &KeyData) -> KeyData {
    let mut d = data.clone();
    with_keys!(&mut d, v => v.sort_by(|a, b| a.sort_cmp(b)));
    d
}

/// Sorts on the GPU and checks the output against the CPU's, bit for bit where the result is
/// unique (every key type under a stable sort, and plain keys under any sort).
fn check(dev: &mut GpuDevice, alg: GpuAlgorithm, input: &KeyData, what: &str) {
    let out = dev
        .sort(alg, input, &once())
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let got = out.output.as_ref().expect("output");
    let want = cpu_sorted(input);
    assert_eq!(got.len(), input.len(), "{what}: length");
    if alg.stable() || !input.key_type().has_values() {
        if bits(got) != bits(&want) {
            let i = bits(got)
                .iter()
                .zip(bits(&want))
                .position(|(a, b)| *a != b)
                .unwrap();
            panic!(
                "{what}: first difference at {i}: got {:#x}, want {:#x}",
                bits(got)[i],
                bits(&want)[i]
            );
        }
    } else {
        assert_eq!(key_bits(got), key_bits(&want), "{what}: keys");
        assert_eq!(got.checksum(), input.checksum(), "{what}: multiset");
    }
    assert!(out.sorted, "{what}: device says unsorted");
    assert!(out.checksum_matches, "{what}: device checksum differs");
    let stable_expected = (input.key_type().has_values() && alg.stable()).then_some(true);
    assert_eq!(out.stable, stable_expected, "{what}: stability flag");
    assert_eq!(out.samples_s.len(), 1, "{what}: samples");
    assert!(out.samples_s[0] >= 0.0);
}

#[test]
#[ignore = "needs an NVIDIA GPU"]
fn gpu_facts_and_bandwidth() {
    let stack = cuda::availability().expect("CUDA available");
    eprintln!("stack: {stack:?}");
    let mut dev = open();
    let bw = dev.measure_copy_bandwidth().expect("bandwidth");
    eprintln!(
        "facts: {}",
        serde_json::to_string_pretty(dev.facts()).unwrap()
    );
    eprintln!("copy bandwidth: {:.1} GB/s", bw / 1e9);
    assert!(bw > 1e9);
    assert_eq!(dev.facts().copy_bandwidth_bytes_per_s, Some(bw));
}

#[test]
#[ignore = "needs an NVIDIA GPU"]
fn gpu_sorts_every_type_distribution_and_odd_size() {
    let mut dev = open();
    let sizes = [
        0usize, 1, 2, 3, 31, 100, 3071, 3073, 4095, 4096, 4097, 65_537, 1_000_003,
    ];
    let mut cases = 0;
    for alg in GpuAlgorithm::ALL {
        for kt in KeyType::ALL {
            for dist in Distribution::ALL {
                for &n in &sizes {
                    let input = generate(kt, dist, n, 0x5eed ^ n as u64);
                    check(&mut dev, alg, &input, &format!("{alg} {kt} {dist} n={n}"));
                    cases += 1;
                }
            }
        }
    }
    eprintln!("{cases} cases match the CPU sort");
}

#[test]
#[ignore = "needs an NVIDIA GPU"]
fn gpu_sorts_large_inputs() {
    let mut dev = open();
    for (alg, kt, dist, n) in [
        (
            GpuAlgorithm::Radix,
            KeyType::U32,
            Distribution::Uniform,
            (1 << 24) + 5,
        ),
        (
            GpuAlgorithm::Radix,
            KeyType::F32,
            Distribution::SpecialValues,
            1 << 23,
        ),
        (
            GpuAlgorithm::Radix,
            KeyType::U64,
            Distribution::Uniform,
            (1 << 22) + 3,
        ),
        (
            GpuAlgorithm::Radix,
            KeyType::I64,
            Distribution::Skewed,
            1 << 22,
        ),
        (
            GpuAlgorithm::Radix,
            KeyType::U32U32,
            Distribution::FewUnique,
            (1 << 23) + 1,
        ),
        (
            GpuAlgorithm::Radix,
            KeyType::U32U32,
            Distribution::Uniform,
            1 << 23,
        ),
        // Above 2^25, 64-bit words take the longest tile shape; skewed keys take dense passes.
        (
            GpuAlgorithm::Radix,
            KeyType::F64,
            Distribution::Skewed,
            (1 << 25) + 9,
        ),
        (
            GpuAlgorithm::Radix,
            KeyType::U32U32,
            Distribution::Skewed,
            (1 << 25) + 1,
        ),
        (
            GpuAlgorithm::Bitonic,
            KeyType::U32,
            Distribution::Uniform,
            (1 << 22) + 7,
        ),
        (
            GpuAlgorithm::Bitonic,
            KeyType::U32U32,
            Distribution::FewUnique,
            1 << 21,
        ),
    ] {
        let input = generate(kt, dist, n, 77);
        check(&mut dev, alg, &input, &format!("{alg} {kt} {dist} n={n}"));
    }
}

#[test]
#[ignore = "needs an NVIDIA GPU"]
fn gpu_skips_passes_whose_digit_is_constant() {
    let mut dev = open();
    let n: usize = 100_003;
    let small_u64: Vec<u64> = (0..n as u64).map(|i| (i * 7919) % 1000).collect();
    // Only the lowest digit varies: one pass both applies and undoes the transform.
    let one_pass_i64: Vec<i64> = (0..n as i64).map(|i| (i * 31) % 256).collect();
    let mixed_i32: Vec<i32> = (0..n as i32).map(|i| (i * 13) % 600 - 300).collect();
    let high_only: Vec<u32> = (0..n as u32).map(|i| (i % 7) << 24).collect();
    let pairs: Vec<sortmark::data::KeyValue> = (0..n as u32)
        .map(|i| sortmark::data::KeyValue {
            key: (i * 17) % 300,
            value: i,
        })
        .collect();
    for input in [
        KeyData::U64(small_u64),
        KeyData::I64(one_pass_i64),
        KeyData::I32(mixed_i32),
        KeyData::U32(high_only),
        KeyData::U32U32(pairs),
    ] {
        let what = format!("radix {} constant digits", input.key_type());
        check(&mut dev, GpuAlgorithm::Radix, &input, &what);
    }
}

#[test]
#[ignore = "needs an NVIDIA GPU"]
fn gpu_repetitions_follow_the_rule() {
    let mut dev = open();
    let input = generate(KeyType::U32, Distribution::Uniform, 1 << 16, 1);
    let reps = MeasureSettings {
        warmup: 2,
        repetitions: 4,
        max_repetitions: 6,
        ..MeasureSettings::default()
    };
    let out = dev.sort(GpuAlgorithm::Radix, &input, &reps).unwrap();
    assert_eq!(out.samples_s.len(), 4);
    assert!(out.h2d_s > 0.0 && out.d2h_s > 0.0);
    assert_eq!(
        out.bytes_moved,
        cuda::bytes_moved(GpuAlgorithm::Radix, KeyType::U32, 1 << 16)
    );
}
