"""Checks one `lineage search` result (search.json and search.md) against what the query is.

usage: check_search.py OUT --ancestor NAME [--alpha A]
       check_search.py OUT --unrelated [--alpha A]
--ancestor: NAME is ranked first, `derived` (or `identical`), its adjusted p at most A, and Holm's
            adjustment recomputed from the members' p-values gives the reported one.
--unrelated: no member is `derived` or `identical`, and none has an adjusted p at most A.
Every candidate's p must be Fisher's combination of its units' p-values, every unit's p at least its
floor 1 / (1 + draws), and search.md must list every member.
"""
import argparse
import json
import math
import os

from reportlib import Checker, fisher_p


def holm(p_values):
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted, running = [0.0] * len(p_values), 0.0
    for step, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - step) * p_values[i]))
        adjusted[i] = running
    return adjusted


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--ancestor")
    parser.add_argument("--unrelated", action="store_true")
    parser.add_argument("--alpha", type=float, default=0.01)
    args = parser.parse_args()
    with open(os.path.join(args.out, "search.json"), encoding="utf-8") as stream:
        result = json.load(stream)
    with open(os.path.join(args.out, "search.md"), encoding="utf-8") as stream:
        markdown = stream.read()
    c = Checker(f"search {args.out}")
    c.equal(result["format"], "lineage-search", "format")
    candidates = result["candidates"]
    c.equal(result["members"], len(candidates), "members")
    for cand in candidates:
        units = cand["units"]
        for u in units:
            c.check(u["p"] >= 1 / (1 + u["draws"]) - 1e-15, f"{cand['name']} {u['family']} {u['label']}: p below its floor")
        if units and cand["same_bytes"] is False:
            expected = fisher_p([u["p"] for u in units])
            c.check(math.isclose(cand["p"], expected, rel_tol=1e-6, abs_tol=1e-300),
                    f"{cand['name']}: p {cand['p']} is not Fisher's {expected}")
        c.check(f"| {cand['name']} |" in markdown.replace("\\_", "_"), f"search.md does not list {cand['name']}")
    adjusted = holm([cand["p"] for cand in candidates])
    for cand, expected in zip(candidates, adjusted):
        c.check(math.isclose(cand["adjusted_p"], expected, rel_tol=1e-9), f"{cand['name']}: adjusted p is not Holm's")
    if args.ancestor:
        top = candidates[0]
        c.equal(top["name"], args.ancestor, "first-ranked member")
        c.check(top["verdict"] in ("derived", "identical"), f"{top['name']}: verdict {top['verdict']!r}")
        c.check(top["adjusted_p"] <= args.alpha, f"{top['name']}: adjusted p {top['adjusted_p']} > {args.alpha}")
        print(f"  first: {top['name']} ({top['verdict']}, adjusted p {top['adjusted_p']:.3g}); second: "
              f"{candidates[1]['name']} ({candidates[1]['verdict']}, {candidates[1]['adjusted_p']:.3g})")
    if args.unrelated:
        for cand in candidates:
            c.check(cand["verdict"] not in ("derived", "identical"), f"{cand['name']}: verdict {cand['verdict']!r}")
            c.check(cand["adjusted_p"] > args.alpha, f"{cand['name']}: adjusted p {cand['adjusted_p']} <= {args.alpha}")
        print(f"  smallest adjusted p {min(x['adjusted_p'] for x in candidates):.3g} ({candidates[0]['name']})")
    c.finish()


if __name__ == "__main__":
    main()
