# Run by sortmark as `python3 -c <this>`: reports the interpreter and its CuPy as one JSON line
# prefixed with a marker (anything else CuPy prints is ignored). It must never raise.
import json
import platform
import re
import sys
import traceback

out = {"executable": sys.executable, "version": platform.python_version(),
       "cupy": None, "distributions": []}


def cupy_distributions():
    import importlib.metadata as md
    found = []
    for d in md.distributions():
        name = d.metadata.get("Name") or ""
        norm = name.lower().replace("_", "-")
        if not (norm == "cupy" or norm.startswith("cupy-cuda") or norm.startswith("cupy-rocm")):
            continue

        def read(f):
            try:
                return d.read_text(f)
            except Exception:
                return None
        wheel = read("WHEEL") or ""
        found.append({
            "name": name,
            "version": d.version,
            "installer": (read("INSTALLER") or "").strip() or None,
            "wheel_tags": [l.split(":", 1)[1].strip() for l in wheel.splitlines()
                           if l.startswith("Tag:")],
            "direct_url": read("direct_url.json"),
        })
    return found


def cython_from_abi_tag():
    # Cython names its shared module `_cython_<major>_<minor>[_<patch>]` inside every extension.
    try:
        import importlib.util
        import os
        spec = importlib.util.find_spec("cupy")
        for base in (spec.submodule_search_locations or []) if spec else []:
            for f in sorted(os.listdir(base)):
                if f.startswith("_util") and (f.endswith(".so") or f.endswith(".pyd")):
                    with open(os.path.join(base, f), "rb") as fh:
                        m = re.search(rb"_cython_(\d+)_(\d+)(?:_(\d+))?", fh.read())
                    if m:
                        return ".".join(p.decode() for p in m.groups() if p)
    except Exception:
        pass
    return None


try:
    out["distributions"] = cupy_distributions()
except Exception as e:
    out["distributions_error"] = repr(e)

try:
    import cupy
    cython = getattr(getattr(cupy, "_util", None), "cython_build_ver", None)
    out["cupy"] = {"imported": True, "version": str(cupy.__version__),
                   "cython_build": None if cython is None else str(cython)}
except ModuleNotFoundError as e:
    if e.name == "cupy":
        out["cupy"] = {"missing": True}
    else:
        out["cupy"] = {"imported": False, "type": type(e).__name__, "message": str(e),
                       "traceback_tail": traceback.format_exc().rstrip().splitlines()[-12:],
                       "cython_build": cython_from_abi_tag()}
except BaseException as e:
    util = sys.modules.get("cupy._util")
    cython = getattr(util, "cython_build_ver", None) if util is not None else None
    out["cupy"] = {"imported": False, "type": type(e).__name__, "message": str(e),
                   "traceback_tail": traceback.format_exc().rstrip().splitlines()[-12:],
                   "cython_build": str(cython) if cython is not None else cython_from_abi_tag()}

print("SORTMARK-PYTHON-PROBE " + json.dumps(out))
