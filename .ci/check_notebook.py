"""Checks an executed report.ipynb against the results.json beside it.

Every sweep must have a table cell whose executed output (pandas' Table Schema JSON) lists each
of the sweep's cases with the median time results.json records, and every plot cell must show
exactly one PNG. Prints one line per problem, then a count; exits 1 on any problem.

Usage: check_notebook.py EXECUTED.ipynb RESULTS.json
"""
import json
import math
import sys

AXES = ["algorithm", "key_type", "distribution", "n", "threads", "gpu"]


def case_key(values):
    """The axes that identify a case, as a hashable tuple."""
    return tuple(values.get(a) for a in AXES)


def expected_medians(results):
    """Every case's median time by sweep and axes (`None` for a case not timed)."""
    expected = {}
    for case in results["cases"]:
        axes = dict(case, gpu=case["device"])
        median = (case.get("stats") or {}).get("median_s")
        expected.setdefault(case["sweep"], {})[case_key(axes)] = median
    return expected


def table_rows(cell):
    """The rows of a table cell's executed output, from its Table Schema JSON."""
    for output in cell.get("outputs", []):
        data = output.get("data", {}).get("application/vnd.dataresource+json")
        if data is not None:
            return data["data"]
    return None


def same(a, b):
    """Two medians agree (both absent, or equal to 1e-12 relative)."""
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-12)


def check_table(sweep, rows, medians):
    """Problems of one sweep's table: cases missing, extra or with another median."""
    problems = []
    seen = {case_key(row): row.get("median_s") for row in rows}
    for key, median in medians.items():
        if key not in seen:
            problems.append(f"{sweep}: case {key} missing from the table")
        elif not same(seen[key], median):
            problems.append(f"{sweep}: case {key}: table median {seen[key]}, results.json {median}")
    problems.extend(f"{sweep}: case {key} not in results.json" for key in seen if key not in medians)
    return problems


def main(notebook_path, results_path):
    with open(notebook_path) as f:
        notebook = json.load(f)
    with open(results_path) as f:
        expected = expected_medians(json.load(f))
    problems, tables = [], 0
    checked = set()
    for cell in notebook["cells"]:
        role = cell.get("metadata", {}).get("sortmark", {})
        if cell["cell_type"] != "code" or not role:
            continue
        errors = [o for o in cell.get("outputs", []) if o["output_type"] == "error"]
        problems.extend(f"cell {cell['id']}: {e['ename']}: {e['evalue']}" for e in errors)
        if role.get("role") == "table":
            rows = table_rows(cell)
            if rows is None:
                problems.append(f"cell {cell['id']}: the table of {role['sweep']} has no JSON output")
                continue
            problems.extend(check_table(role["sweep"], rows, expected.get(role["sweep"], {})))
            checked.add(role["sweep"])
            tables += 1
        elif role.get("role") == "plot":
            images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
            if len(images) != 1:
                problems.append(f"cell {cell['id']}: {role['figure']} shows {len(images)} images, not 1")
    problems.extend(f"{sweep}: no table cell" for sweep in expected if sweep not in checked)
    for problem in problems:
        print(f"{notebook_path}: {problem}", file=sys.stderr)
    print(f"notebook medians: {tables} tables checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
