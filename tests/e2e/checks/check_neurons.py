"""Checks the neuron matching of one report (report.json and report.h5).

usage: check_neurons.py DIR [--permuted MODEL_DIR] [--identity] [--significant | --not-significant]
                        [--blind-mlp]
--permuted: B's neurons were permuted by `synth derive --kind permute-neurons` (maybe followed by
            other kinds); the combined matching of every MLP must recover what config.json records.
--identity: every MLP's combined matching is the identity, and the "neurons" family (which compares
            neurons in place) is significant.
--significant: every MLP's Spearman is above 0.99, the "neuron matching" family's own p (the
               harmonic mean of its tests) is at most the verdict's alpha, and the verdict is
               derived;
--not-significant: the family's own p is above alpha.
--blind-mlp: the "neurons" family is not significant (its units compare neurons in place, so the
             permutation hid them): a derived verdict is carried by the other units.
--sampled N: every MLP is wide and matched on a sample of N of A's neurons: exactly N are matched
             (the others −1) and ranked, and --permuted / --identity are checked on those.
The family is descriptive (two matchings agree the same way whatever the symmetry does): never
significant and never carrying the verdict; the neuron order is applied to no tensor.
"""
import argparse

import numpy as np

from reportlib import Checker, descriptive_family, load_json, open_h5, recorded_provenance, text


def recorded(model_dir):
    return recorded_provenance(model_dir, "neuron_permutation")


def mlp_name(m):
    """The generator's name of an MLP: model.layers.L.mlp (or .mlp.shared_experts)."""
    return f"model.layers.{m['layer']}.{m['group'].rstrip('.')}"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--permuted")
    parser.add_argument("--identity", action="store_true")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--significant", action="store_true")
    group.add_argument("--not-significant", action="store_true")
    parser.add_argument("--blind-mlp", action="store_true")
    parser.add_argument("--sampled", type=int)
    args = parser.parse_args()
    c = Checker(f"neurons {args.dir}")
    report = load_json(args.dir)
    rows = report["neuron_matching"]
    c.check(rows, "no MLP was neuron-matched")
    permutations = recorded(args.permuted) if args.permuted else {}
    with open_h5(args.dir) as h5:
        g = h5["/neuron_matching"]
        c.equal(len(g["spearman"][()]), len(rows), "/neuron_matching rows")
        offsets = g["combined_offsets"][()]
        for k, m in enumerate(rows):
            c.check(m["available"], f"{mlp_name(m)}: {m['reason']}")
            if not m["available"]:
                continue
            c.equal(float(g["spearman"][k]), m["spearman"], f"{mlp_name(m)}: HDF5 spearman")
            c.equal(list(g["combined"][offsets[k]:offsets[k + 1]]), m["combined"], f"{mlp_name(m)}: HDF5 combined")
            c.check(abs(m["z"] - m["spearman"] * (m["ranked"] - 1) ** 0.5) < 1e-9, f"{mlp_name(m)}: z")
            combined = m["combined"]
            # The A neurons the matching looked at: all, or the sample (the others are -1).
            looked = [i for i, j in enumerate(combined) if j >= 0] if args.sampled else list(range(len(combined)))
            if args.sampled:
                c.equal(len(looked), args.sampled, f"{mlp_name(m)}: neurons matched")
                c.equal(m["ranked"], args.sampled, f"{mlp_name(m)}: ranked")
            if args.permuted:
                perm = permutations.get(mlp_name(m))
                c.check(perm is not None, f"{mlp_name(m)}: no recorded permutation")
                if perm is not None:
                    want = [perm.index(i) for i in range(len(perm))]
                    c.equal([combined[i] for i in looked], [want[i] for i in looked],
                            f"{mlp_name(m)}: combined matching against the recorded permutation")
            if args.identity:
                c.equal(m["moved"], 0, f"{mlp_name(m)}: moved")
                c.equal([combined[i] for i in looked], looked, f"{mlp_name(m)}: combined matching")
            if args.significant:
                c.check(m["spearman"] > 0.99, f"{mlp_name(m)}: Spearman {m['spearman']}")
    families = {f["name"]: f for f in report["families"]}
    verdict = report["verdict"]
    alpha = verdict["alpha"]
    f = descriptive_family(c, report, "neuron matching")
    if f is not None:
        c.equal(f["tensors"], sum(1 for m in rows if m["available"]), "neuron matching tests")
        if args.significant:
            c.check(f["p"] <= alpha, f"neuron matching p {f['p']} > alpha {alpha}")
            c.equal(verdict["label"], "derived", "verdict")
        if args.not_significant:
            c.check(f["p"] > alpha, f"neuron matching p {f['p']} <= alpha {alpha}")
    c.check(all("neuron matching" not in t["pairing"] for t in report["tensors"]), "a pair read through a neuron order")
    if args.identity:
        c.check("neurons" in families and families["neurons"]["significant"],
                "family neurons not significant for unpermuted neurons")
    if args.blind_mlp:
        c.check("neurons" in families and not families["neurons"]["significant"],
                "the neurons family saw through the permutation (or is missing)")
        if verdict["label"] == "derived":
            c.check("neurons" not in verdict["carried_by"], "the neurons family carries the verdict")
    c.check(any("neurons" in line for line in report["verdict"]["invariances_tested"]),
            "neuron permutation not among the invariances tested")
    c.finish()


if __name__ == "__main__":
    main()
