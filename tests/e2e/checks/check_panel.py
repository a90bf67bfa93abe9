"""Checks the reference panel of one report (report.json and report.h5).

usage: check_panel.py DIR --comparisons N [--sides a,b,...] [--sources S,S,...]
                      [--same-as INDEX:STANDALONE_DIR ...] [--above-panel | --within-panel]
--sides / --sources: each comparison's side and source, in order ("this job" is spelled job).
--same-as: panel comparison INDEX holds the same Pearson and cosine, tensor for tensor, as the
           standalone report in STANDALONE_DIR (the same comparison run as a job of its own).
--above-panel: the pair's median Pearson exceeds every panel value on every role (a derivative);
--within-panel: on no role does it exceed the panel's largest value by more than 0.1 (unrelated).
"""
import argparse

import numpy as np

from reportlib import Checker, load_json, open_h5, text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--comparisons", type=int, required=True)
    parser.add_argument("--sides")
    parser.add_argument("--sources")
    parser.add_argument("--same-as", action="append", default=[])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--above-panel", action="store_true")
    group.add_argument("--within-panel", action="store_true")
    args = parser.parse_args()
    c = Checker(f"panel {args.dir}")
    report = load_json(args.dir)
    panel = report["reference_panel"]
    comparisons = panel["comparisons"]
    c.equal(len(comparisons), args.comparisons, "panel comparisons")
    if args.sides:
        c.equal([x["side"] for x in comparisons], args.sides.split(","), "sides")
    if args.sources:
        want = ["this job" if s == "job" else s for s in args.sources.split(",")]
        c.equal([x["source"] for x in comparisons], want, "sources")

    with open_h5(args.dir) as h5:
        g = h5["/reference_panel"]
        c.equal([text(s) for s in g["side"][()]], [x["side"] for x in comparisons], "/reference_panel/side")
        c.equal([text(s) for s in g["source"][()]], [x["source"] for x in comparisons], "/reference_panel/source")
        for i, x in enumerate(comparisons):
            c.equal(len(g[f"comparison_{i}/pearson"][()]), x["tensor_pairs"], f"comparison_{i}: tensor pairs")
        roles = panel["roles"]
        c.equal([text(r) for r in g["roles/role"][()]], [r["role"] for r in roles], "/reference_panel/roles/role")
        c.check(np.array_equal(g["roles/p_value"][()], np.array([r["p_value"] for r in roles])),
                "/reference_panel/roles/p_value differs from report.json")
        for spec in args.same_as:
            index, standalone = spec.split(":", 1)
            with open_h5(standalone) as other:
                for column in ("pearson", "cosine"):
                    ours = g[f"comparison_{index}/{column}"][()]
                    theirs = other[f"/tensors/{column}"][()]
                    c.check(ours.shape == theirs.shape and np.array_equal(ours, theirs, equal_nan=True),
                            f"comparison_{index}/{column} differs from {standalone}/report.h5 /tensors/{column}")

    c.check(roles, "no role shared by the pair and the panel")
    for r in roles:
        m = len(r["panel_pearson"])
        c.check(m >= 1, f"{r['role']}: no panel value")
        at_least = sum(1 for v in r["panel_pearson"] if v is not None and v >= r["pearson"])
        c.check(abs(r["p_value"] - (1 + at_least) / (1 + m)) < 1e-12, f"{r['role']}: p_value {r['p_value']}")
        c.check(all(abs(v) < 0.2 for v in r["panel_pearson"] if v is not None),
                f"{r['role']}: unrelated references score Pearson {r['panel_pearson']}")
        if args.above_panel:
            c.check(r["pearson"] > r["panel_pearson_max"], f"{r['role']}: {r['pearson']} not above the panel")
        if args.within_panel:
            c.check(r["pearson"] < r["panel_pearson_max"] + 0.1, f"{r['role']}: {r['pearson']} far above the panel")
        if "norm" in r["role"]:
            c.check(r["panel_cosine_mean"] > 0.9, f"{r['role']}: the trap should show in the panel's raw cosine")
    family = [f for f in report["families"] if f["name"] == "reference panel"]
    c.equal(len(family), 1, "one 'reference panel' family")
    c.equal(sum(1 for e in report["verdict"]["evidence"] if e.startswith("reference panel:")), 1,
            "one evidence line for the panel")
    c.finish()


if __name__ == "__main__":
    main()
