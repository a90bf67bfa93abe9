"""Checks the neuron matching of one report (report.json and report.h5).

usage: check_neurons.py DIR [--permuted MODEL_DIR] [--identity] [--significant | --not-significant]
                        [--blind-mlp]
--permuted: B's neurons were permuted by `synth derive --kind permute-neurons` (maybe followed by
            other kinds); the combined matching of every MLP must recover what config.json records.
--identity: every MLP's combined matching is the identity.
--significant: every MLP's Spearman is above 0.99 and the family is significant;
--not-significant: the family is not significant.
--blind-mlp: the element-aligned "mlp" family is not significant (the permutation hid it).
"""
import argparse

import numpy as np

from reportlib import Checker, load_json, open_h5, recorded_provenance, text


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
            if args.permuted:
                perm = permutations.get(mlp_name(m))
                c.check(perm is not None, f"{mlp_name(m)}: no recorded permutation")
                if perm is not None:
                    want = [perm.index(i) for i in range(len(perm))]
                    c.equal(m["combined"], want, f"{mlp_name(m)}: combined matching against the recorded permutation")
            if args.identity:
                c.equal(m["moved"], 0, f"{mlp_name(m)}: moved")
            if args.significant:
                c.check(m["spearman"] > 0.99, f"{mlp_name(m)}: Spearman {m['spearman']}")
    families = {f["name"]: f for f in report["families"]}
    c.check("neuron matching" in families, "no 'neuron matching' family")
    if "neuron matching" in families:
        f = families["neuron matching"]
        if args.significant:
            c.check(f["significant"], f"neuron matching not significant: {f['holm_sidak_p']}")
        if args.not_significant:
            c.check(not f["significant"], f"neuron matching significant: {f['holm_sidak_p']}")
    if args.blind_mlp and "mlp" in families:
        c.check(not families["mlp"]["significant"], "the element-aligned mlp family saw through the permutation")
    c.check(any("neurons" in line for line in report["verdict"]["invariances_tested"]),
            "neuron permutation not among the invariances tested")
    c.finish()


if __name__ == "__main__":
    main()
