# How a sweep's table and plots are rebuilt from `cases`, as sortmark draws them.
from IPython.display import display

# Tables are published as JSON too (Table Schema), which tools and checks read exactly.
pd.set_option("display.html.table_schema", True)
pd.set_option("display.max_rows", 200)

AXES = ["algorithm", "key_type", "distribution", "n", "threads", "gpu"]
TABLE_COLUMNS = AXES + ["status", "median_s", "low_s", "high_s", "keys_per_s", "speedup",
                        "efficiency", "oversubscribed", "reason"]
LOGICAL_CORES = run["environment"]["cpu"]["logical_cores"]


def sweep_table(sweep):
    """Every case of a sweep: its axes, status, median time with its interval, and rate."""
    table = cases[cases["sweep"] == sweep]
    shown = [c for c in TABLE_COLUMNS if c in AXES[:3] or table[c].notna().any()]
    return table[shown].reset_index(drop=True)


def measured(sweep):
    """The cases of a sweep that ran and were timed: what the plots show."""
    rows = cases[(cases["sweep"] == sweep) & (cases["status"] == "ok")]
    return rows[rows["median_s"].notna()]


def varying(rows, exclude):
    """The axes whose values differ between rows (threads and GPUs: for one algorithm)."""
    def differs(axis):
        if axis in ("threads", "gpu"):
            return rows.groupby("algorithm")[axis].nunique(dropna=False).max() > 1
        return rows[axis].nunique(dropna=False) > 1
    return [a for a in AXES if a != exclude and differs(a)]


def count(n):
    """A key count as the reports write it: 1 Mi, 16 Ki, 1000."""
    for unit, size in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return str(n)


def value(axis, v):
    """An axis value as a legend reads it."""
    if pd.isna(v):
        return "–"
    return {"n": count, "threads": lambda t: f"{t} threads", "gpu": lambda d: f"GPU {d}"}.get(
        axis, str)(v)


def series(rows, axes):
    """The rows grouped into series by `axes`, each with its legend label."""
    if not axes:
        return [(rows["algorithm"].iloc[0], rows)]
    groups = rows.groupby(axes, dropna=False, sort=False)
    return [(", ".join(value(a, v) for a, v in zip(axes, key if isinstance(key, tuple) else (key,))),
             group) for key, group in groups]


def error(rows, y, low, high):
    """Error bars from the interval columns, where a case has one."""
    if low is None:
        return None
    return [(rows[y] - rows[low]).fillna(0).clip(lower=0), (rows[high] - rows[y]).fillna(0).clip(lower=0)]


def finish(ax, values, title, ylabel):
    """Log scale where the values span more than 10×, then labels, legend and grid."""
    values = values[values > 0]
    if len(values) and values.max() / values.min() > 10:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    plt.show()


def plot_lines(sweep, x, y, low=None, high=None, ideal=None, title="", ylabel=""):
    """One line per combination of the other varying axes, `y` against `x` on a log2 axis."""
    rows = measured(sweep)
    axes = varying(rows, exclude=x)
    rows = rows[rows[y].notna()]
    fig, ax = plt.subplots(figsize=(9.6, 5.4))
    for i, (label, group) in enumerate(series(rows, axes)):
        group = group.sort_values(x)
        ax.errorbar(group[x].astype(float), group[y], yerr=error(group, y, low, high),
                    marker="osD^v"[i % 5], capsize=3, label=label)
    ticks = sorted(rows[x].dropna().unique())
    ax.set_xscale("log", base=2)
    ax.set_xticks([float(t) for t in ticks], [count(t) if x == "n" else str(t) for t in ticks])
    ax.set_xlabel("Input size [keys, log2 scale]" if x == "n" else "Threads [log2 scale]")
    if ideal == "linear":
        ax.plot(ticks, ticks, "k--", linewidth=1, label="ideal")
    elif ideal is not None:
        ax.axhline(ideal, color="k", linestyle="--", linewidth=1, label="ideal")
    if x == "threads" and ticks and max(ticks) > LOGICAL_CORES:
        ax.axvspan(LOGICAL_CORES, max(ticks) * 1.2, color="grey", alpha=0.15,
                   label=f"beyond {LOGICAL_CORES} logical cores")
    finish(ax, rows[y], title, ylabel)


def plot_bars(sweep, y="keys_per_s", low="keys_per_s_low", high="keys_per_s_high", title="",
              ylabel=""):
    """Bars by the first varying of distribution, key type, GPU and algorithm."""
    rows = measured(sweep)
    category = next((a for a in ["distribution", "key_type", "gpu", "algorithm"]
                     if a in varying(rows, exclude=None)), "algorithm")
    categories = list(dict.fromkeys(rows[category]))
    groups = series(rows, varying(rows, exclude=category))
    width = 0.8 / len(groups)
    fig, ax = plt.subplots(figsize=(9.6, 5.4))
    for i, (label, group) in enumerate(groups):
        positions = [categories.index(c) - 0.4 + (i + 0.5) * width for c in group[category]]
        ax.bar(positions, group[y], width, yerr=error(group, y, low, high), capsize=3,
               label=label)
    ax.set_xticks(range(len(categories)), [value(category, c) for c in categories])
    finish(ax, rows[y], title, ylabel)
