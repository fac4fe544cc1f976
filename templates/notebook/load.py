# The run's results, one row per case, from results.json beside this notebook.
import json
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

run = json.loads(Path("results.json").read_text())


def case_row(case):
    """One case of results.json as a flat row: its axes, its status and its figures."""
    stats = case.get("stats") or {}
    # The interval of the median across rounds; runs made before rounds have only the
    # bootstrap interval of their samples.
    interval = case.get("interval") or {}
    speedup = case.get("speedup_interval") or {}
    return {
        "sweep": case["sweep"],
        "backend": case["backend"],
        "algorithm": case["algorithm"],
        "key_type": case["key_type"],
        "distribution": case["distribution"],
        "n": case["n"],
        "threads": case["threads"],
        "gpu": case["device"],
        "status": case["status"],
        "verified": case["verified"],
        "median_s": stats.get("median_s"),
        "low_s": interval.get("low_s", stats.get("ci95_low_s")),
        "high_s": interval.get("high_s", stats.get("ci95_high_s")),
        "keys_per_s": case["keys_per_s"],
        "speedup": case["speedup"],
        "speedup_low": speedup.get("low"),
        "speedup_high": speedup.get("high"),
        "efficiency": case["efficiency"],
        "oversubscribed": case["oversubscribed"],
        "reason": case["reason"],
    }


cases = pd.DataFrame([case_row(c) for c in run["cases"]])
for column in ["threads", "gpu"]:
    cases[column] = cases[column].astype("Int64")
for column in ["median_s", "low_s", "high_s", "keys_per_s", "speedup", "speedup_low",
               "speedup_high", "efficiency"]:
    cases[column] = pd.to_numeric(cases[column]).astype("float64")
# A rate's interval is its time's, turned over; an efficiency's is its speed-up's per thread.
cases["keys_per_s_low"] = cases["n"] / cases["high_s"]
cases["keys_per_s_high"] = cases["n"] / cases["low_s"]
cases["efficiency_low"] = cases["speedup_low"] / cases["threads"].astype("float64")
cases["efficiency_high"] = cases["speedup_high"] / cases["threads"].astype("float64")
print(f"{len(cases)} cases of run {run['run_id']}")
