#!/usr/bin/env python3
"""sortmark peer: CuPy's sort on the GPU, timed with CUDA events and verified on the GPU.

    python3 peers/cupy_sort.py --input {input} --output {output} --key {key_type} --n {n}
        --checksum {checksum} --algorithm {algorithm} --warmup {warmup} --repetitions {repetitions}
        --max-repetitions {max_repetitions} --min-time {min_time} --device {device}

Algorithms: ``cupy-sort`` is ``ndarray.sort()`` in place on a fresh device copy of the input
(the copy is not timed); for u32-u32 pairs it is ``cp.argsort(keys)`` followed by gathering the
keys and the values in that order (CuPy's sort is stable, and the peer checks it). The input is
the raw bytes sortmark wrote, copied to the GPU once (timed as h2d_s, from pageable memory); the
last output is copied back once (d2h_s). Every output is verified on the GPU: in CuPy's order and
with sortmark's checksum equal to the input's. The timed span is the sort alone, between two CUDA
events on the current stream.
"""

import peer_common as pc


def main():
    args = pc.arguments(["cupy-sort"])
    try:
        import cupy as cp
    except Exception as e:  # noqa: BLE001 -- any import failure means no CuPy here.
        pc.skip(f"CuPy cannot be imported: {type(e).__name__}: {e} (see the compatibility checks)")
    try:
        cp.cuda.Device(args.device).use()
        props = cp.cuda.runtime.getDeviceProperties(args.device)
    except Exception as e:  # noqa: BLE001
        pc.skip(f"no usable CUDA device {args.device}: {e}")
    host = pc.read_input(args)
    pairs = args.key == "u32-u32"

    start, end = cp.cuda.Event(), cp.cuda.Event()

    def elapsed(action):
        start.record()
        result = action()
        end.record()
        end.synchronize()
        return cp.cuda.get_elapsed_time(start, end) / 1000.0, result

    device_input = cp.empty(host.shape, dtype=host.dtype)
    h2d_s, _ = elapsed(lambda: device_input.set(host))
    if pairs:
        keys, values = device_input[0::2].copy(), device_input[1::2].copy()
        expected = pc.input_checksum(cp, args, keys, values)
    else:
        expected = pc.input_checksum(cp, args, device_input)
    # CuPy documents its sorts as stable: checked on pairs.
    verifier = pc.Verifier(cp, args.key, expected, None if pairs else device_input, claims_stable=True)
    last = {}

    def once_keys():
        work = device_input.copy()  # A fresh copy of the input, not timed.
        seconds, _ = elapsed(work.sort)
        verifier.keys(work)
        last["out"] = (work,)
        return seconds

    def sort_pairs():
        order = cp.argsort(keys)
        return keys[order], values[order]

    def once_pairs():
        seconds, (k, v) = elapsed(sort_pairs)
        verifier.pairs(k, v)
        last["out"] = (k, v)
        return seconds

    samples = pc.repeat(args, once_pairs if pairs else once_keys)
    d2h_s, _ = elapsed(lambda: [a.get() for a in last["out"]])
    name = props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    runtime = cp.cuda.runtime.runtimeGetVersion()
    pc.emit_result(
        samples,
        verifier,
        library={"name": "cupy", "version": cp.__version__},
        timing="cuda-events",
        pairs=pairs,
        pairs_how="cp.argsort(keys), then keys[order] and values[order]",
        notes=[f"device: {name}; CUDA runtime {runtime // 1000}.{runtime % 1000 // 10}"],
        transfers={"h2d_s": h2d_s, "d2h_s": d2h_s},
        output=args.output,
    )

if __name__ == "__main__":
    main()
