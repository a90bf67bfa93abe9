"""Checks the layer-order evidence of one report: the cross-layer matrices and the depth alignment,
in report.json and read back from report.h5.

usage: check_layer_order.py DIR --matched L0,L1,... [--significant | --not-significant]
                            [--skipped N] [--repeated N] [--roles N] [--mtp-paired]
--matched: for each layer of B, the layer of A the alignment must give it ("-" skips the check);
--significant / --not-significant: the "layer order" family's own p (the harmonic mean of its
              tests) at most / above the verdict's alpha. The family is descriptive (layer labels are
              not a symmetry of the architecture): never significant, no adjusted p, never carrying
              the verdict.
--mtp-paired: both models have an MTP block, and every one of its tensors is paired (MTP blocks
              pair across depths) as MTP block 0.
"""
import argparse

import numpy as np

from reportlib import Checker, descriptive_family, load_json, open_h5, text


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--matched", default="-")
    parser.add_argument("--skipped", type=int)
    parser.add_argument("--repeated", type=int)
    parser.add_argument("--roles", type=int, help="roles with a layer x layer matrix")
    parser.add_argument("--mtp-paired", action="store_true")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--significant", action="store_true")
    group.add_argument("--not-significant", action="store_true")
    args = parser.parse_args()
    c = Checker(f"layer order {args.dir}")
    report = load_json(args.dir)
    structure = report["layer_structure"]
    roles = structure["cross_layer"]
    depth = structure["depth_alignment"]
    if args.roles is not None:
        c.equal(len(roles), args.roles, "roles with a layer x layer matrix")
    c.check(all(not r["role"].startswith("mtp.") for r in roles), "an MTP role has a cross-layer matrix")

    with open_h5(args.dir) as h5:
        for r in roles:
            where = f"/cross_layer/{r['role']}"
            c.check(where in h5, f"{where} missing from report.h5")
            if where not in h5:
                continue
            g = h5[where]
            rows, columns = len(r["layers_a"]), len(r["layers_b"])
            c.equal(list(g["layers_a"][()]), r["layers_a"], f"{where}/layers_a")
            c.equal(list(g["layers_b"][()]), r["layers_b"], f"{where}/layers_b")
            c.equal(g["pearson"].shape, (rows, columns), f"{where}/pearson shape")
            c.equal(int(g.attrs["available"]), int(r["available"]), f"{where} available")
            if r["available"]:
                c.check(np.allclose(g["pearson"][()], np.array(r["pearson"], dtype=float), rtol=1e-12, atol=0),
                        f"{where}/pearson differs from report.json")
                c.check(np.all(np.abs(g["pearson"][()]) <= 1 + 1e-12), f"{where}/pearson outside [-1, 1]")
                c.check(0 < r["p_value"] <= 1, f"{where}: p_value {r['p_value']}")
                c.equal(float(g.attrs["p_value"]), r["p_value"], f"{where} p_value attribute")
                c.equal(len(r["diagonal_rank_p"]), r["common_layers"], f"{where}: one rank p per common layer")
        c.check("/depth_alignment" in h5, "/depth_alignment missing from report.h5")
        d = h5["/depth_alignment"]
        c.equal(int(d.attrs["available"]), int(depth["available"]), "/depth_alignment available")
        if depth["available"]:
            c.equal(list(d["matched_a"][()]), depth["matched_a"], "/depth_alignment/matched_a")
            c.equal(d["similarity"].shape, (len(depth["layers_a"]), len(depth["layers_b"])),
                    "/depth_alignment/similarity shape")
            c.equal(float(d.attrs["p_value"]), depth["p_value"], "/depth_alignment p_value")
            c.equal(text(d.attrs["reason"]), depth["reason"], "/depth_alignment reason")

    c.check(depth["available"], f"depth alignment not available: {depth['reason']}")
    if depth["available"]:
        c.equal(len(depth["matched_a"]), len(depth["layers_b"]), "one aligned A layer per B layer")
        c.check(all(x <= y for x, y in zip(depth["matched_a"], depth["matched_a"][1:])),
                f"alignment not monotone: {depth['matched_a']}")
        if args.matched != "-":
            c.equal(depth["matched_a"], [int(v) for v in args.matched.split(",")], "matched_a")
        if args.skipped is not None:
            c.equal(depth["skipped_a"], args.skipped, "skipped_a")
        if args.repeated is not None:
            c.equal(depth["repeated"], args.repeated, "repeated")
        c.equal(depth["is_identity"], depth["matched_a"] == depth["layers_b"], "is_identity")

    if args.mtp_paired:
        mtp = [t for t in report["tensors"] if t["role"].startswith("mtp.")]
        c.check(len(mtp) > 10, f"only {len(mtp)} MTP tensor pairs")
        c.check(all(t["layer"] == 0 for t in mtp), "an MTP pair is not MTP block 0")
        c.equal([u["name"] for u in report["unpaired"] if u["role"].startswith("mtp.")], [], "unpaired MTP tensors")
        c.check(any(g["name"] == "MTP block 0" for g in report["layers"]), "no 'MTP block 0' evidence group")
    family = [f for f in report["families"] if f["name"] == "layer order"]
    c.equal(len(family), 1, "one 'layer order' family")
    if family:
        f = family[0]
        tests = sum(1 for r in roles if r["available"] and r["common_layers"] >= 2) + int(depth["available"])
        c.equal(f["tensors"], tests, "layer-order tests combined")
        descriptive_family(c, report, "layer order")
        c.equal(f["p"], f["harmonic_mean"]["p"], "layer order p = its harmonic-mean p")
        alpha = report["verdict"]["alpha"]
        if args.significant:
            c.check(f["p"] <= alpha, f"layer order p {f['p']} > alpha {alpha}")
        if args.not_significant:
            c.check(f["p"] > alpha, f"layer order p {f['p']} <= alpha {alpha} for unrelated models")
        line = [e for e in report["verdict"]["evidence"] if e.startswith("layer order:")]
        c.equal(len(line), 1, "one evidence line for the layer order")
    c.finish()


if __name__ == "__main__":
    main()
