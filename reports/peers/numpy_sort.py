#!/usr/bin/env python3
"""sortmark peer: NumPy's sort on the CPU, timed with the host clock.

    python3 peers/numpy_sort.py --input {input} --output {output} --key {key_type} --n {n}
        --checksum {checksum} --algorithm {algorithm} --warmup {warmup} --repetitions {repetitions}
        --max-repetitions {max_repetitions} --min-time {min_time}

Algorithms: ``numpy-sort`` is ``ndarray.sort()`` (NumPy's default kind, "quicksort": an
introsort, or a SIMD sort where NumPy has one for the CPU and type); ``numpy-stable`` is
``ndarray.sort(kind="stable")`` (radix sort for 16-bit types, timsort otherwise). Each runs in
place on a fresh copy of the input (the copy is not timed), one thread. For u32-u32 pairs both
use ``np.argsort(keys, kind=...)`` and gather the keys and the values in that order; only
``numpy-stable`` claims stability, and only there is it checked. Every output is verified: in
NumPy's order and with sortmark's checksum equal to the input's.
"""

import time

import peer_common as pc

KINDS = {"numpy-sort": None, "numpy-stable": "stable"}


def main():
    args = pc.arguments(list(KINDS))
    try:
        import numpy as np
    except Exception as e:  # noqa: BLE001 -- any import failure means no NumPy here.
        pc.skip(f"NumPy cannot be imported: {type(e).__name__}: {e}")
    kind = KINDS[args.algorithm]
    host = pc.read_input(args)
    pairs = args.key == "u32-u32"
    if pairs:
        keys, values = host[0::2].copy(), host[1::2].copy()
        expected = pc.input_checksum(np, args, keys, values)
    else:
        expected = pc.input_checksum(np, args, host)
    verifier = pc.Verifier(
        np, args.key, expected, None if pairs else host, claims_stable=kind == "stable"
    )
    work = np.empty_like(host)

    def once_keys():
        np.copyto(work, host)  # A fresh copy of the input, not timed.
        t0 = time.perf_counter_ns()
        work.sort(kind=kind)
        t1 = time.perf_counter_ns()
        verifier.keys(work)
        return (t1 - t0) / 1e9

    def once_pairs():
        t0 = time.perf_counter_ns()
        order = np.argsort(keys, kind=kind)
        k, v = keys[order], values[order]
        t1 = time.perf_counter_ns()
        verifier.pairs(k, v)
        return (t1 - t0) / 1e9

    samples = pc.repeat(args, once_pairs if pairs else once_keys)
    pc.emit_result(
        samples,
        verifier,
        library={"name": "numpy", "version": np.__version__},
        timing="host-clock",
        pairs=pairs,
        pairs_how="np.argsort(keys), then keys[order] and values[order]",
        notes=[f"kind={kind or 'default (quicksort)'}, one thread"],
        output=args.output,
    )

if __name__ == "__main__":
    main()
