"""Checks the attention-head matching of one report (report.json and report.h5).

usage: check_heads.py DIR [--permuted MODEL_DIR] [--applied [--min-pearson X] | --not-applied]
--permuted: B's heads were permuted by `synth derive --kind permute-heads` (maybe with other kinds
            before or after); every layer's combined query and KV matchings must recover what
            config.json records.
--applied: every layer's head order (recovered from q_proj and k_proj) was applied: Spearman 1,
           every v/o pair read through it ("head matching" in its pairing) with a median Pearson
           above X (default 0.9), the family "attention values" significant.
--not-applied: no pair is read through a head order.
q_proj and k_proj are never read through a head order: the order was chosen on them.
"""
import argparse
import statistics

from reportlib import Checker, load_json, open_h5, recorded_provenance

ATTENTION = ("self_attn.q_proj.", "self_attn.k_proj.", "self_attn.v_proj.", "self_attn.o_proj.weight")
VALUES = ("self_attn.v_proj.", "self_attn.o_proj.weight")


def recorded(model_dir):
    return recorded_provenance(model_dir, "head_permutation")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--permuted")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--applied", action="store_true")
    group.add_argument("--not-applied", action="store_true")
    parser.add_argument("--min-pearson", type=float, default=0.9)
    args = parser.parse_args()
    c = Checker(f"heads {args.dir}")
    report = load_json(args.dir)
    rows = report["head_matching"]
    c.check(rows, "no attention layer was head-matched")
    permutations = recorded(args.permuted) if args.permuted else {}
    with open_h5(args.dir) as h5:
        g = h5["/head_matching"]
        c.equal(len(g["spearman"][()]), len(rows), "/head_matching rows")
        offsets, kv_offsets = g["combined_offsets"][()], g["combined_kv_offsets"][()]
        for k, m in enumerate(rows):
            where = f"layer {m['layer']}"
            c.check(m["available"], f"{where}: {m['reason']}")
            if not m["available"]:
                continue
            c.equal(bool(g["applied"][k]), m["applied"], f"{where}: HDF5 applied")
            c.equal(float(g["spearman"][k]), m["spearman"], f"{where}: HDF5 spearman")
            c.equal(list(g["combined"][offsets[k]:offsets[k + 1]]), m["combined"], f"{where}: HDF5 combined")
            c.equal(list(g["combined_kv"][kv_offsets[k]:kv_offsets[k + 1]]), m["combined_kv"],
                    f"{where}: HDF5 combined_kv")
            c.check(m["permutations"] > 0, f"{where}: no permutation null")
            if args.permuted:
                perm = permutations.get(str(m["layer"]))
                c.check(perm is not None, f"{where}: no recorded permutation")
                if perm is not None:
                    q, kv = perm["q"], perm["kv"]
                    c.equal(m["combined"], [q.index(h) for h in range(len(q))], f"{where}: query heads")
                    c.equal(m["combined_kv"], [kv.index(h) for h in range(len(kv))], f"{where}: KV heads")
            if args.applied:
                c.check(m["applied"], f"{where}: the head order was not applied")
                c.equal(m["spearman"], 1.0, f"{where}: Spearman")
    attention = [t for t in report["tensors"] if t["role"].startswith(ATTENTION)]
    values = [t for t in attention if t["role"].startswith(VALUES)]
    through = [t for t in attention if "head matching" in t.get("pairing", "")]
    c.check(all(t["role"].startswith(VALUES) for t in through), "a q/k pair is read through the head order it chose")
    families = {f["name"]: f for f in report["families"]}
    if args.applied:
        c.equal(len(through), len(values), "v/o pairs read through the head order")
        pearsons = [t["pearson"] for t in through if t["pearson"] is not None]
        median = statistics.median(pearsons) if pearsons else float("nan")
        c.check(median > args.min_pearson, f"median Pearson of the v/o pairs {median}")
        c.check("attention values" in families and families["attention values"]["significant"],
                "family attention values not significant")
        c.check(any("attention heads" in line for line in report["verdict"]["invariances_tested"]),
                "head permutation not among the invariances tested")
    if args.not_applied:
        c.equal(through, [], "pairs read through a head order")
    c.finish()


if __name__ == "__main__":
    main()
