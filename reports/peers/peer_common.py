"""What sortmark's Python peers share: arguments, reading the input, the repetition loop,
verification written once for NumPy and CuPy alike (``xp`` is either module), and the report.

The protocol (version 2): the peer writes its last sorted output to ``--output`` (sortmark's
``{output}``), raw little-endian in the input's format, for sortmark to verify itself; the last
non-empty line of stdout is one JSON object ``{"protocol": 2, "samples_s": [...],
"timing": "...", "verified": bool, "verification": {"sorted", "checksum_matches", "stable"?, "total_order"?, "bits_preserved"?},
"transfers": {"h2d_s", "d2h_s"}?, "library": {"name", "version"}?, "notes": [...]?}``,
or ``{"protocol": 2, "skip": "reason"}`` when the peer cannot run the case.
"""

import argparse
import json
import sys

PROTOCOL = 2

# sortmark's key types as NumPy dtypes (little-endian); u32-u32 is read as u32 pairs.
DTYPES = {
    "u32": "<u4",
    "u64": "<u8",
    "i32": "<i4",
    "i64": "<i8",
    "f32": "<f4",
    "f64": "<f8",
    "u32-u32": "<u4",
}

# The splitmix64 finaliser's constants: the checksum is the wrapping uint64 sum of
# mix64(bits of each element), the same function as sortmark's data::checksum.
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB


def arguments(algorithms):
    """Parses the command line sortmark fills in."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--input", required=True, help="raw little-endian keys written by sortmark")
    p.add_argument("--output", help="where to write the sorted keys for sortmark (protocol 2)")
    p.add_argument("--key", required=True, help="sortmark key type")
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--checksum", type=int, help="sortmark's checksum of the input")
    p.add_argument("--algorithm", default=algorithms[0], choices=algorithms)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--repetitions", type=int, default=5)
    p.add_argument("--max-repetitions", type=int, default=100)
    p.add_argument("--min-time", type=float, default=0.0)
    p.add_argument("--device", type=int, default=0)
    return p.parse_args()


def emit(report):
    """Prints the protocol line (last) and exits."""
    report = {"protocol": PROTOCOL, **report}
    sys.stdout.flush()
    print(json.dumps(report), flush=True)
    sys.exit(0)


def write_output(path, verifier):
    """Protocol 2: writes the last output the verifier saw to ``path`` in the input's format
    (a pair is its key, then its value), for sortmark to verify."""
    if not path or verifier.last is None:
        return
    out = verifier.last
    if isinstance(out, tuple):
        keys, values = out
        out = verifier.xp.empty(keys.size * 2, dtype=keys.dtype)
        out[0::2] = keys
        out[1::2] = values
    if hasattr(out, "get"):  # CuPy: to the host.
        out = out.get()
    out.tofile(path)


def emit_result(
    samples, verifier, *, library, timing, pairs, pairs_how, notes, transfers=None, output=None
):
    """Writes the last output to ``output`` (protocol 2) and emits a measured case: the samples,
    the verification, and the notes every peer adds (how pairs were sorted, where NaNs went).
    sortmark itself notes a float order other than IEEE total order."""
    write_output(output, verifier)
    verified, verification = verifier.report()
    notes = list(notes)
    if pairs:
        notes.append(f"u32-u32 pairs: {pairs_how}")
    if verifier.nan_note():
        notes.append(verifier.nan_note())
    report = {
        "samples_s": samples,
        "timing": timing,
        "verified": verified,
        "verification": verification,
        "library": library,
        "notes": notes,
    }
    if transfers is not None:
        report["transfers"] = transfers
    emit(report)


def skip(reason):
    emit({"skip": reason})


def read_input(args):
    """The keys as a host array; for pairs, (keys, values)."""
    import numpy as np

    if args.key not in DTYPES:
        skip(f"key type {args.key} is not supported by this peer")
    raw = np.fromfile(args.input, dtype=DTYPES[args.key])
    expected = args.n * (2 if args.key == "u32-u32" else 1)
    if raw.size != expected:
        fail(f"{args.input} holds {raw.size} elements, expected {expected}")
    return raw


def fail(message):
    print(f"error: {message}", file=sys.stderr, flush=True)
    sys.exit(3)


def repeat(args, once):
    """Warm-ups (not counted), then repetitions until the count and the minimum time are met."""
    for _ in range(args.warmup):
        once()
    samples = []
    while len(samples) < max(args.max_repetitions, 1):
        samples.append(once())
        if len(samples) >= args.repetitions and sum(samples) >= args.min_time:
            break
    return samples


def bits64(xp, a):
    """Each element's checksum bits as uint64: sortmark's SortKey::checksum_bits."""
    if a.dtype.itemsize == 4:
        return a.view(xp.uint32).astype(xp.uint64)
    return a.view(xp.uint64).copy()


def pair_bits64(xp, keys, values):
    return (keys.astype(xp.uint64) << xp.uint64(32)) | values.astype(xp.uint64)


def checksum(xp, bits):
    """The wrapping uint64 sum of splitmix64(bits), computed in place on ``bits``."""
    bits ^= bits >> xp.uint64(30)
    bits *= xp.uint64(MIX1)
    bits ^= bits >> xp.uint64(27)
    bits *= xp.uint64(MIX2)
    bits ^= bits >> xp.uint64(31)
    return int(bits.sum(dtype=xp.uint64))


def library_sorted(xp, a):
    """In the libraries' float order: the numbers ascending with -0.0 and +0.0 equal, every
    NaN at one end or the other (NumPy puts them all last; a radix sort puts -NaN first)."""
    if a.size < 2:
        return True
    if a.dtype.kind != "f":
        return bool(xp.all(a[:-1] <= a[1:]))
    numbers = ~xp.isnan(a)
    count = int(numbers.sum())
    if count == 0:
        return True
    first = int(xp.argmax(numbers))
    block = a[first : first + count]
    return bool(xp.all(numbers[first : first + count])) and bool(xp.all(block[:-1] <= block[1:]))


def nan_placement(xp, a):
    """Where the NaNs of a sorted output went: (how many lead, how many trail)."""
    if a.dtype.kind != "f" or a.size == 0:
        return 0, 0
    numbers = ~xp.isnan(a)
    count = int(numbers.sum())
    if count == 0:
        return a.size, 0
    first = int(xp.argmax(numbers))
    return first, a.size - first - count


def total_order_sorted(xp, a):
    """In IEEE 754 total order, sortmark's: -NaN < -inf < … < -0.0 < +0.0 < … < +NaN."""
    if a.size < 2:
        return True
    width = a.dtype.itemsize * 8
    u = xp.uint32 if width == 32 else xp.uint64
    b = a.view(u)
    sign = (b >> u(width - 1)).astype(bool)
    ordered = b ^ xp.where(sign, u(2**width - 1), u(1 << (width - 1)))
    return bool(xp.all(ordered[:-1] <= ordered[1:]))


def canonical_nans(xp, a):
    """Floats with every NaN replaced by the one canonical NaN (+qNaN): the values as the
    library sees them, all NaNs one value."""
    return xp.where(xp.isnan(a), a.dtype.type(float("nan")), a)


class Verifier:
    """Checks every output against the input's checksum.

    For floats two checksums are compared: of the bits exactly, and of the values with every NaN
    made the canonical NaN. A library that treats all NaNs as one value may rewrite their sign and
    payload (NumPy's SIMD sorts do): the output is then a permutation of the input's values but
    not of its bytes. The first counts as verified and is reported as ``bits_preserved: false``.
    """

    def __init__(self, xp, key, input_checksum, inp=None, claims_stable=False):
        self.xp = xp
        self.key = key
        self.claims_stable = claims_stable
        self.nans = (0, 0)
        self.input_checksum = input_checksum
        self.input_values = None
        if inp is not None and inp.dtype.kind == "f":
            self.input_values = checksum(xp, bits64(xp, canonical_nans(xp, inp)))
        self.last = None
        self.sorted = True
        self.checksum_matches = True
        self.bits_preserved = True
        self.stable = True
        self.total_order = True

    def keys(self, out):
        xp = self.xp
        self.last = out
        self.sorted &= library_sorted(xp, out)
        exact = checksum(xp, bits64(xp, out)) == self.input_checksum
        self.bits_preserved &= exact
        if self.input_values is None:
            self.checksum_matches &= exact
        else:
            values = checksum(xp, bits64(xp, canonical_nans(xp, out)))
            self.checksum_matches &= values == self.input_values
            self.total_order &= total_order_sorted(xp, out)
            self.nans = nan_placement(xp, out)

    def pairs(self, keys, values):
        xp = self.xp
        self.last = (keys, values)
        self.sorted &= library_sorted(xp, keys)
        got = checksum(xp, pair_bits64(xp, keys, values))
        self.checksum_matches &= got == self.input_checksum
        # Values are the original indices: a stable sort keeps them rising within equal keys.
        if keys.size > 1:
            self.stable &= bool(xp.all((keys[:-1] != keys[1:]) | (values[:-1] < values[1:])))

    def report(self):
        v = {"sorted": self.sorted, "checksum_matches": self.checksum_matches}
        if self.key == "u32-u32" and self.claims_stable:
            v["stable"] = self.stable
        if self.key in ("f32", "f64"):
            v["total_order"] = self.total_order
            v["bits_preserved"] = self.bits_preserved
        verified = self.sorted and self.checksum_matches and v.get("stable", True)
        return verified, v

    def nan_note(self):
        """Where the NaNs went, when there were any."""
        lead, trail = self.nans
        if lead == trail == 0:
            return None
        return f"NaNs in the output: {lead} first, {trail} last"


def input_checksum(xp, args, keys, values=None):
    """The input's checksum, cross-checked against sortmark's when it was passed."""
    bits = bits64(xp, keys) if values is None else pair_bits64(xp, keys, values)
    got = checksum(xp, bits)
    if args.checksum is not None and got != args.checksum:
        fail(
            f"the input's checksum here is {got} but sortmark's is {args.checksum}: "
            "the input was misread or the checksum differs"
        )
    return got
