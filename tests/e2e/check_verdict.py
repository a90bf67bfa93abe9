"""Checks the verdict and the per-tensor permutation nulls of one report (report.json and report.h5).

usage: check_verdict.py DIR LABEL [--max-p P] [--min-p P] [--note TEXT] [--no-note TEXT]
                        [--permutations-matrix K] [--permutations-vector K]
LABEL: identical | derived | no-evidence | inconclusive
--max-p / --min-p: bounds on the global p; --note / --no-note: a note (substring) that must / must
not be among the verdict's notes; --permutations-*: the K every usable null must have.
"""
import argparse

from reportlib import Checker, load_json, open_h5, text

LABELS = {"identical": "identical", "derived": "derived", "no-evidence": "no evidence of derivation",
          "inconclusive": "inconclusive"}


def null_unit(tensor):
    """Matrices (2-D and more, at least two rows) permute rows; everything else elements."""
    shape = tensor["shape"]
    return "rows" if len(shape) >= 2 and shape[0] >= 2 else "elements"


def check_tensor_nulls(c, report, permutations):
    for t in report["tensors"]:
        name, null = t["a"], t["null"]
        if null["available"]:
            unit = null_unit(t)
            c.equal(null["unit"], unit, f"{name}: null.unit")
            if permutations.get(unit) is not None:
                c.equal(null["permutations"], permutations[unit], f"{name}: null.permutations")
            p = t["p_value"]
            # 0 when the normal tail underflows (z beyond ~38)
            c.check(p is not None and 0 <= p <= 1, f"{name}: p_value {p!r} not in [0, 1]")
            c.check(0 < null["p_permutation"] <= 1, f"{name}: p_permutation {null['p_permutation']!r}")
            count = null["p_permutation"] * (1 + null["permutations"])
            c.check(abs(count - round(count)) < 1e-6 and round(count) >= 1,
                    f"{name}: p_permutation {null['p_permutation']!r} is not (1 + count) / (1 + K)")
            if null["beyond_all"]:
                c.check(p <= 1 / (1 + null["permutations"]), f"{name}: beyond all samples but p_value {p!r}")
                c.check(round(count) == 1, f"{name}: beyond all samples but p_permutation {null['p_permutation']!r}")
            for s in ("cosine", "pearson", "rel_l2"):
                summary = null[s]
                c.check(summary["min"] <= summary["q01"] <= summary["q50"] <= summary["q99"] <= summary["max"],
                        f"{name}: null.{s} quantiles out of order: {summary}")
        else:
            c.check(t["p_value"] is None, f"{name}: p_value {t['p_value']!r} without a null")
            c.check(null.get("reason", "") != "", f"{name}: null without a reason")


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

    # The global p is the smallest Holm–Šidák-adjusted family p; each adjusted p is at least the
    # family's own.
    families = report["families"]
    if families:
        c.equal(p_global, min(f["holm_sidak_p"] for f in families), "verdict.p_global = min(holm_sidak_p)")
        for f in families:
            c.check(f["holm_sidak_p"] >= f["harmonic_mean"]["p"] * (1 - 1e-12),
                    f"family {f['name']}: holm_sidak_p {f['holm_sidak_p']} < its harmonic-mean p")
            c.equal(f["significant"], f["holm_sidak_p"] <= verdict["alpha"], f"family {f['name']}: significant")
        usable = sum(1 for t in report["tensors"] if t["null"]["available"])
        tensor_families = [f for f in families if f["unit"] == "tensor pairs"]
        c.equal(sum(f["tensors"] for f in tensor_families), usable, "tensors over the families = tensors with a null")
        for f in families:
            c.check(f["unit"] in ("tensor pairs", "tests"), f"family {f['name']}: unit {f['unit']}")
        # What carries a derived verdict: the significant families, strongest first.
        significant = sorted((f for f in families if f["significant"]), key=lambda f: f["holm_sidak_p"])
        want = [f["name"] for f in significant] if label == "derived" else []
        c.equal(sorted(verdict["carried_by"]), sorted(want), "verdict.carried_by = the significant families")
        if label == "derived":
            c.check(len(verdict["carried_by"]) > 0, "a derived verdict carried by no family")
        c.equal(sum(g["tensors"] for g in report["layers"]), usable, "tensors over the layers = tensors with a null")
    else:
        c.equal(p_global, 1, "verdict.p_global without families")

    if label == "identical":
        c.equal(report["unpaired"], [], "unpaired (identical models)")
        for t in report["tensors"]:
            c.equal(t["bitwise_equal_fraction"], 1.0, f"{t['a']}: bitwise_equal_fraction (identical models)")
    if report["status"] == "no tensor pairs":
        # Only the hidden matching (B's embedding may be narrower) and the shape-free fingerprints
        # need no tensor pair; without their significance there is nothing to conclude.
        c.equal([f["name"] for f in families if f["name"] not in ("hidden matching", "fingerprints")], [],
                "families without tensor pairs")
        if not any(f["significant"] for f in families):
            c.equal(label, "inconclusive", "verdict without tensor pairs")
        c.equal(report["layers"], [], "layers without tensor pairs")

    check_tensor_nulls(c, report, {"rows": args.permutations_matrix, "elements": args.permutations_vector})

    with open_h5(args.directory) as h5:
        c.equal(text(h5.attrs["verdict"]), label, "report.h5 root attribute verdict")
        group = h5["verdict"]
        c.equal(text(group.attrs["label"]), label, "/verdict label")
        c.equal(float(group.attrs["p_global"]), float(p_global), "/verdict p_global")
        c.equal(float(group.attrs["alpha"]), float(verdict["alpha"]), "/verdict alpha")
        for key in ("evidence", "notes", "carried_by", "invariances_tested", "invariances_not_tested"):
            c.equal([text(v) for v in group[key][()]], verdict[key], f"/verdict/{key}")
        c.equal(len(h5["evidence"]["families"]["name"]), len(families), "/evidence/families rows")
    c.check(0 <= p_global <= 1, f"p_global {p_global} not in [0, 1]")
    c.finish()


if __name__ == "__main__":
    main()
