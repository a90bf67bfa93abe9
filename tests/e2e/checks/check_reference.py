"""Recomputes every tensor pair's figures from the safetensors files with numpy (float64) and holds
report.json against them: an implementation of the statistics independent of lineage's kernel.

usage: check_reference.py DIR MODEL_A MODEL_B

report.json's figures, and report.h5's raw sums (Σa, Σa², Σab, Σ(a−b)², Σ(a−ā)², ...) and extremes.

A pair read through a recovered head order (pairing "head matching": v_proj rows and o_proj columns
in the order chosen on q_proj and k_proj) meets B in an order the report does not record, so only
its figures that no reordering of B changes are held against numpy (counts, B's norm, means,
spreads, sums of one side, extremes).

Counts and bitwise_equal_fraction must match exactly. The kernel adds single-precision partials of
at most 32 terms before folding into double (about 2e-6 of the sum of |terms| for BF16/F16, a few
times that for F32), so the correlations may differ by 1e-5 absolute, norms and spreads by 1e-5
relative, and means by 1e-5 of (|mean| + sd): a mean near 0 is the difference of large sums.
"""
import math
import sys

import numpy as np

from reportlib import Checker, column, load_json, open_h5, read_model, reference_figures

EXACT = ("elements", "n", "nonfinite_a", "nonfinite_b", "bitwise_equal_fraction")
ABSOLUTE = {"cosine": 1e-5, "pearson": 1e-5}
RELATIVE = {"rel_l2": 1e-5, "norm_ratio": 1e-5, "std_a": 1e-5, "std_b": 1e-5}
MEANS = {"mean_a": "std_a", "mean_b": "std_b"}
# Figures of a pair that do not depend on the order in which B's rows or columns are read.
ORDER_FREE = {"elements", "n", "nonfinite_a", "nonfinite_b", "norm_ratio", "std_a", "std_b", "mean_a", "mean_b",
              "sum_a", "sum_b", "sum_aa", "sum_bb", "m2_a", "m2_b", "min_a", "max_a", "min_b", "max_b"}


def reordered(row):
    """True when lineage read B in an order of its own choosing (a recovered head order)."""
    return "head matching" in row.get("pairing", "")


def reported(row, key):
    if key.endswith("_a") and key[:-2] in ("mean", "std"):
        return row["stats_a"][key[:-2]]
    if key.endswith("_b") and key[:-2] in ("mean", "std"):
        return row["stats_b"][key[:-2]]
    return row[key]


def check_close(c, name, key, value, want, tolerance):
    """|value - want| <= tolerance; an undefined figure (NaN in numpy) must be null in report.json."""
    if math.isnan(want):
        c.check(value is None, f"{name}: {key} {value!r}, but it is undefined (numpy: nan)")
    else:
        c.check(value is not None and abs(value - want) <= tolerance,
                f"{name}: {key} {value!r}, numpy says {want!r} (tolerance {tolerance:.3g})")


def reference_sums(a, b):
    """{column of /tensors: (numpy value, tolerance)} for the raw sums and extremes in report.h5."""
    finite = np.isfinite(a) & np.isfinite(b)
    x, y = a[finite], b[finite]
    if x.size == 0:
        return {}
    dx, dy = x - x.mean(), y - y.mean()
    d = x - y

    def total(terms):  # the kernel's error is relative to the sum of |terms|
        return float(terms.sum()), 1e-5 * float(np.abs(terms).sum()) + 1e-300

    sums = {"sum_a": total(x), "sum_b": total(y), "sum_aa": total(x * x), "sum_bb": total(y * y),
            "sum_ab": total(x * y), "sum_dd": total(d * d), "m2_a": total(dx * dx), "m2_b": total(dy * dy),
            "c_ab": (float(dx @ dy), 1e-5 * math.sqrt(float(dx @ dx) * float(dy @ dy)))}
    # Extremes over every finite value of one side, exact: they are values of the file.
    for side, values in (("a", a), ("b", b)):
        kept = values[np.isfinite(values)]
        sums[f"min_{side}"] = (float(kept.min()), 0.0)
        sums[f"max_{side}"] = (float(kept.max()), 0.0)
    return sums


def check_h5_sums(c, directory, tensors_a, tensors_b, report):
    with open_h5(directory) as h5:
        group = h5["tensors"]
        names_a, names_b = column(group, "name_a"), column(group, "name_b")
        columns = {}
        for i, (name_a, name_b) in enumerate(zip(names_a, names_b)):
            expected = reference_sums(tensors_a[name_a][1], tensors_b[name_b][1])
            for key, (want, tolerance) in expected.items():
                if reordered(report["tensors"][i]) and key not in ORDER_FREE:
                    continue
                if key not in columns:
                    columns[key] = column(group, key)
                value = columns[key][i]
                c.check(abs(value - want) <= tolerance,
                        f"/tensors/{key} of {name_a}: {value!r}, numpy says {want!r} (tolerance {tolerance:.3g})")


def main(directory, model_a, model_b):
    c = Checker(f"reference figures {directory}")
    report = load_json(directory)
    tensors_a, tensors_b = read_model(model_a), read_model(model_b)
    c.check(len(report["tensors"]) > 0, "no tensor pairs to check")
    partial = 0
    for row in report["tensors"]:
        name = row["a"]
        wanted = (lambda key: key in ORDER_FREE) if reordered(row) else (lambda key: True)
        partial += reordered(row)
        if not c.check(row["a"] in tensors_a and row["b"] in tensors_b, f"{name}: not found in the models"):
            continue
        (type_a, a), (type_b, b) = tensors_a[row["a"]], tensors_b[row["b"]]
        c.equal((row["dtype_a"], row["dtype_b"]), (type_a, type_b), f"{name}: dtypes")
        expected = reference_figures(type_a, a, type_b, b)
        for key in filter(wanted, EXACT):
            c.equal(row[key], expected[key], f"{name}: {key}")
        for key, tolerance in ABSOLUTE.items():
            if wanted(key):
                check_close(c, name, key, reported(row, key), expected[key], tolerance)
        for key, tolerance in RELATIVE.items():
            if wanted(key):
                check_close(c, name, key, reported(row, key), expected[key], tolerance * abs(expected[key]))
        for key, spread in MEANS.items():
            check_close(c, name, key, reported(row, key), expected[key], 1e-5 * (abs(expected[key]) + expected[spread]))
    c.check(partial < len(report["tensors"]), "every pair was read through a head order")
    if partial:
        print(f"[reference figures {directory}] {partial} pairs read through a head order the report does not "
              "record: only their order-free figures checked")
    if not c.failures:
        check_h5_sums(c, directory, tensors_a, tensors_b, report)
    c.finish()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
