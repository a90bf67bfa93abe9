"""Checks the verdict and the per-tensor permutation nulls of one report (report.json and report.h5).

usage: check_verdict.py DIR LABEL [--max-p P] [--min-p P] [--note TEXT] [--no-note TEXT]
                        [--permutations-matrix K] [--permutations-vector K]
LABEL: identical | derived | no-evidence | inconclusive
--max-p / --min-p: bounds on the global p; --note / --no-note: a note (substring) that must / must
not be among the verdict's notes; --permutations-*: the least K of a unit computed directly (with
matrices: --permutations-matrix). The global p must be Fisher's method over the report's units.
"""
import argparse

from reportlib import Checker, fisher_p, load_json, open_h5, sidak, text

LABELS = {"identical": "identical", "derived": "derived", "no-evidence": "no evidence of derivation",
          "inconclusive": "inconclusive"}


def null_unit(tensor):
    """What the null permutes, as the report names it: rows, columns or elements, and the axis kind."""
    axes = tensor["axes"].strip("[]").split(", ")
    return axes


def check_tensor_nulls(c, report, permutations):
    units = {u["label"]: u for u in report["units"]}
    for t in report["tensors"]:
        name, null = t["a"], t["null"]
        if null["available"]:
            unit = units.get(null["test_unit"])
            if not c.check(unit is not None, f"{name}: null of unit {null['test_unit']!r}, which is not in units"):
                continue
            where, kind = null["unit"].split(" ", 1)
            c.check(where in ("rows", "columns", "elements"), f"{name}: null.unit {null['unit']!r}")
            c.check(kind.strip("()") in null_unit(t), f"{name}: null.unit {null['unit']!r} is not one of {t['axes']}")
            c.equal(null["permutations"], unit["permutations"], f"{name}: null.permutations = its unit's")
            expected_k = permutations.get("products" if unit["from_products"] else
                                          ("matrix" if t.get("shape") and len(t["shape"]) >= 2 else None))
            if expected_k is not None and not unit["from_products"]:
                c.check(null["permutations"] >= expected_k, f"{name}: K {null['permutations']} < {expected_k}")
            p, floor = t["p_value"], null["p_floor"]
            c.check(abs(floor - 1 / (1 + null["permutations"])) < 1e-15, f"{name}: p_floor {floor!r}")
            c.check(p is not None and floor <= p <= 1, f"{name}: p_value {p!r} outside [p_floor {floor}, 1]")
            c.check(0 < null["p_permutation"] <= 1, f"{name}: p_permutation {null['p_permutation']!r}")
            count = null["p_permutation"] * (1 + null["permutations"])
            c.check(abs(count - round(count)) < 1e-6 and round(count) >= 1,
                    f"{name}: p_permutation {null['p_permutation']!r} is not (1 + count) / (1 + K)")
            if null["beyond_all"]:
                c.equal(p, floor, f"{name}: beyond all draws: p_value at the floor")
            for s in ("cosine", "pearson", "rel_l2"):
                summary = null[s]
                quantiles = [summary[q] for q in ("min", "q01", "q50", "q99", "max")]
                if all(q is None for q in quantiles):  # undefined: a constant side (a folded norm of ones)
                    continue
                c.check(None not in quantiles and quantiles == sorted(quantiles),
                        f"{name}: null.{s} quantiles out of order: {summary}")
        else:
            c.check(t["p_value"] is None, f"{name}: p_value {t['p_value']!r} without a null")
            c.check(null.get("reason", "") != "", f"{name}: null without a reason")


def check_units_and_families(c, report, label):
    """The global p is Fisher's method over the available units (Šidák-joined with a reference
    panel); families are Fisher combinations of units of one kind, or descriptive."""
    verdict = report["verdict"]
    units = [u for u in report["units"] if u["available"]]
    for u in units:
        c.check(u["p_floor"] <= u["p"] <= 1, f"unit {u['label']}: p {u['p']} outside [p_floor, 1]")
        c.check(abs(u["p_floor"] - 1 / (1 + u["permutations"])) < 1e-15, f"unit {u['label']}: p_floor")
    c.equal(verdict["units"], len(units), "verdict.units")
    families = report["families"]
    panel = [f for f in families if f["name"] == "reference panel"]
    expected = fisher_p([u["p"] for u in units]) if units else 1.0
    if panel:
        expected = sidak(min(expected, panel[0]["p"]), 2 if units else 1)
    p_global = verdict["p_global"]
    c.check(abs(p_global - expected) <= 1e-9 * expected or (expected < 1e-300 and p_global < 1e-290),
            f"verdict.p_global {p_global!r} is not Fisher over the units {expected!r}")
    c.check(verdict["p_floor"] <= p_global * (1 + 1e-12), f"verdict.p_floor {verdict['p_floor']} > p_global")
    verdict_families = [f for f in families if not f["descriptive"]]
    for f in verdict_families:
        c.check(f["holm_sidak_p"] >= f["p"] * (1 - 1e-12), f"family {f['name']}: holm_sidak_p below its p")
        c.equal(f["significant"], f["holm_sidak_p"] <= verdict["alpha"], f"family {f['name']}: significant")
        c.check(f["unit"] in ("units", "roles"), f"family {f['name']}: unit {f['unit']}")
    for f in families:
        if f["descriptive"]:
            c.equal(f["significant"], False, f"descriptive family {f['name']}: significant")
    c.equal(sum(f["tensors"] for f in verdict_families if f["unit"] == "units"), len(units),
            "units over the families = available units")
    c.equal(sum(g["tensors"] for g in report["layers"]), len(units), "units over the layers = available units")
    significant = [f["name"] for f in verdict_families if f["significant"]]
    c.equal(sorted(verdict["carried_by"]), sorted(significant) if label == "derived" else [],
            "verdict.carried_by = the significant families")
    if label == "derived":
        c.check(len(verdict["carried_by"]) > 0, "a derived verdict carried by no family")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("directory")
    parser.add_argument("label", choices=sorted(LABELS))
    parser.add_argument("--max-p", type=float)
    parser.add_argument("--min-p", type=float)
    parser.add_argument("--note", action="append", default=[])
    parser.add_argument("--no-note", action="append", default=[])
    parser.add_argument("--permutations-matrix", type=int)
    parser.add_argument("--permutations-vector", type=int)
    args = parser.parse_args()
    label = LABELS[args.label]

    c = Checker(f"verdict {args.directory}")
    report = load_json(args.directory)
    verdict = report["verdict"]
    c.equal(verdict["label"], label, "verdict.label")
    p_global = verdict["p_global"]
    c.equal(verdict["alpha"], report["manifest"]["config"]["alpha"], "verdict.alpha against the config")
    if args.max_p is not None:
        c.check(p_global <= args.max_p, f"verdict.p_global {p_global!r} > {args.max_p}")
    if args.min_p is not None:
        c.check(p_global > args.min_p, f"verdict.p_global {p_global!r} <= {args.min_p}")
    if label == "derived":
        c.check(p_global <= verdict["alpha"], f"derived with p_global {p_global!r} > alpha")
    if label == "no evidence of derivation":
        c.check(p_global > verdict["alpha"], f"no evidence with p_global {p_global!r} <= alpha")
    for note in args.note:
        c.check(any(note in n for n in verdict["notes"]), f"no verdict note containing {note!r}: {verdict['notes']}")
    for note in args.no_note:
        c.check(not any(note in n for n in verdict["notes"]), f"a verdict note contains {note!r}")
    c.check(len(verdict["evidence"]) > 0, "verdict.evidence is empty")
    c.check(len(verdict["invariances_tested"]) > 0, "verdict.invariances_tested is empty")
    c.check(len(verdict["invariances_not_tested"]) > 0, "verdict.invariances_not_tested is empty")

    families = report["families"]
    check_units_and_families(c, report, label)

    if label == "identical":
        c.equal(report["unpaired"], [], "unpaired (identical models)")
        for t in report["tensors"]:
            c.equal(t["bitwise_equal_fraction"], 1.0, f"{t['a']}: bitwise_equal_fraction (identical models)")
    if report["status"] == "no tensor pairs":
        # Only the hidden matching (B's embedding may be narrower) and the shape-free fingerprints
        # need no tensor pair; without their significance there is nothing to conclude.
        c.equal([f["name"] for f in families if not f["descriptive"]], [], "families without tensor pairs")
        c.equal(label, "inconclusive", "verdict without tensor pairs")
        c.equal(report["layers"], [], "layers without tensor pairs")

    check_tensor_nulls(c, report, {"matrix": args.permutations_matrix, "vector": args.permutations_vector,
                                   "products": None})

    with open_h5(args.directory) as h5:
        c.equal(text(h5.attrs["verdict"]), label, "report.h5 root attribute verdict")
        group = h5["verdict"]
        c.equal(text(group.attrs["label"]), label, "/verdict label")
        c.equal(float(group.attrs["p_global"]), float(p_global), "/verdict p_global")
        c.equal(float(group.attrs["p_floor"]), float(verdict["p_floor"]), "/verdict p_floor")
        c.equal(len(h5["units"]["label"]), len(report["units"]), "/units rows")
        c.equal(float(group.attrs["alpha"]), float(verdict["alpha"]), "/verdict alpha")
        for key in ("evidence", "notes", "carried_by", "invariances_tested", "invariances_not_tested"):
            c.equal([text(v) for v in group[key][()]], verdict[key], f"/verdict/{key}")
        c.equal(len(h5["evidence"]["families"]["name"]), len(families), "/evidence/families rows")
    c.check(0 <= p_global <= 1, f"p_global {p_global} not in [0, 1]")
    c.finish()


if __name__ == "__main__":
    main()
