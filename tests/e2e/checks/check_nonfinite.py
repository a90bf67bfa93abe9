"""Checks of a copy with K NaN/Inf values injected into one tensor (e2e.nonfinite).

usage: check_nonfinite.py DIR TENSOR K SIDE
SIDE: the model that holds the injected values: a, b, or both (the same values at the same places).
"""
import math
import sys

from reportlib import Checker, column, load_json, open_h5


def main(directory, tensor, injected, side):
    if side == "both":
        both(directory, tensor, injected)
    other = "a" if side == "b" else "b"
    c = Checker(f"nonfinite {directory}")
    report = load_json(directory)
    c.equal(report["summary"]["tensors_with_nonfinite"], 1, "summary.tensors_with_nonfinite")
    rows = [t for t in report["tensors"] if t["a"] == tensor]
    if not c.equal(len(rows), 1, f"rows for {tensor}"):
        c.finish()
    t = rows[0]
    c.equal(t[f"nonfinite_{side}"], injected, f"{tensor}: nonfinite_{side}")
    c.equal(t[f"nonfinite_{other}"], 0, f"{tensor}: nonfinite_{other}")
    c.equal(t["n"], t["elements"] - injected, f"{tensor}: n (elements {t['elements']} - {injected})")
    # Every other element is a bit-exact copy; the injected ones differ from A's finite values.
    c.equal(t["bitwise_equal_fraction"], (t["elements"] - injected) / t["elements"], f"{tensor}: bitwise_equal_fraction")
    for key in ("cosine", "pearson", "rel_l2", "norm_ratio"):
        value = t[key]
        c.check(value is not None and math.isfinite(value), f"{tensor}: {key} is {value!r}, expected a finite number")
    c.check(t["pearson"] is not None and abs(t["pearson"] - 1) < 1e-12, f"{tensor}: Pearson {t['pearson']!r}, expected 1")
    c.check(t["cosine"] is not None and abs(t["cosine"] - 1) < 1e-12, f"{tensor}: cosine {t['cosine']!r}, expected 1")
    c.check(t["rel_l2"] == 0.0, f"{tensor}: rel_l2 {t['rel_l2']!r}, expected 0 over the finite pairs")
    for s in ("stats_a", "stats_b"):
        for key, value in t[s].items():
            c.check(value is not None and math.isfinite(value), f"{tensor}: {s}.{key} is {value!r}")
    check_no_null(c, t, report)

    for u in report["tensors"]:
        if u["a"] != tensor:
            c.check(u["nonfinite_a"] == 0 and u["nonfinite_b"] == 0, f"{u['a']}: non-finite counts not 0")
            c.equal(u["bitwise_equal_fraction"], 1.0, f"{u['a']}: bitwise_equal_fraction")

    # The role table's row for that layer carries the counts too.
    layer_rows = [r for r in report["roles"][t["role"]] if r["layer"] == t["layer"]]
    if c.equal(len(layer_rows), 1, f"roles[{t['role']}] rows for layer {t['layer']}"):
        c.equal(layer_rows[0][f"nonfinite_{side}"], injected, f"roles[{t['role']}] layer {t['layer']} nonfinite_{side}")
        c.equal(layer_rows[0]["n"], t["n"], f"roles[{t['role']}] layer {t['layer']} n")

    with open_h5(directory) as h5:
        names = column(h5["tensors"], "name_a")
        if c.check(tensor in names, f"{tensor} not in /tensors/name_a"):
            i = names.index(tensor)
            c.equal(column(h5["tensors"], f"nonfinite_{side}")[i], injected, f"/tensors/nonfinite_{side}[{tensor}]")
            c.equal(column(h5["tensors"], "n")[i], t["n"], f"/tensors/n[{tensor}]")
            check_no_null_h5(c, h5, i, tensor)
        c.equal(int(h5.attrs["tensors_with_nonfinite"]), 1, "root attribute tensors_with_nonfinite")
    c.finish()


def check_no_null(c, t, report):
    """A tensor pair with NaN/Inf has no permutation null (the reason says why) and no p-value, and
    the unit it belongs to leaves it out, saying why, and is tested on its other members; every
    other pair has a null."""
    null = t["null"]
    c.equal(null["available"], False, f"{t['a']}: null.available")
    c.equal(null.get("reason"), "non-finite values", f"{t['a']}: null.reason")
    c.equal(t["p_value"], None, f"{t['a']}: p_value")
    holders = [u for u in report["units"] if f"{t['a']}: non-finite values" in u["left_out"]]
    if c.check(len(holders) == 1, f"{t['a']}: not left out of exactly one unit"):
        unit = holders[0]
        c.equal(unit["used"], unit["members"] - 1, f"unit {unit['label']}: members used")
        c.check(unit["available"], f"unit {unit['label']}: not tested on its other members")


def check_no_null_h5(c, h5, i, tensor):
    group = h5["tensors"]
    c.equal(column(group, "null_available")[i], 0, f"/tensors/null_available[{tensor}]")
    c.equal(column(group, "null_reason")[i], "non-finite values", f"/tensors/null_reason[{tensor}]")
    c.check(math.isnan(column(group, "p_value")[i]), f"/tensors/p_value[{tensor}] is not NaN")
    offsets = column(h5["nulls"], "offsets")
    c.equal(offsets[i + 1] - offsets[i], 0, f"/nulls samples of {tensor}")
    available = column(group, "null_available")
    c.equal(sum(available), len(available) - 1, "/tensors/null_available: every other pair has a null")


def both(directory, tensor, injected):
    """A model with non-finite values against its copy: the files are identical, so every pair is
    bitwise equal (NaN bits included), and the non-finite pairs are still left out of n."""
    c = Checker(f"nonfinite both {directory}")
    report = load_json(directory)
    c.equal(report["summary"]["tensors_with_nonfinite"], 1, "summary.tensors_with_nonfinite")
    for t in report["tensors"]:
        c.equal(t["bitwise_equal_fraction"], 1.0, f"{t['a']}: bitwise_equal_fraction")
        c.equal(t["pearson"], 1.0, f"{t['a']}: pearson")
        expected = injected if t["a"] == tensor else 0
        c.equal((t["nonfinite_a"], t["nonfinite_b"]), (expected, expected), f"{t['a']}: non-finite counts")
        c.equal(t["n"], t["elements"] - expected, f"{t['a']}: n")
        if t["a"] == tensor:
            check_no_null(c, t, report)
        else:
            c.equal(t["null"]["available"], True, f"{t['a']}: null.available")
    c.finish()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
