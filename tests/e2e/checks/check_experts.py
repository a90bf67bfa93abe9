"""Checks the expert matching of one report against what the model generator recorded.

usage: check_experts.py DIR [--permuted MODEL_DIR] [--identity] [--dropped N]
                        [--significant | --not-significant]
--permuted: B was made by `synth derive --kind permute-experts` (maybe followed by other kinds);
            its config.json records the permutation each layer's matching must recover.
--identity: every A expert must be matched to the B expert of the same index.
--dropped N: B has N experts fewer than A in every MoE layer; they stay unmatched and unpaired,
            and so do the routers (their rows are experts).
--significant: every matched layer's score lies beyond all its null samples (p at its floor
               1/(1 + K), z > 5), its "expert matching" unit at its floor, the "expert matching"
               family significant, and every matched expert's neurons unit significant at alpha;
               --not-significant: the "expert matching" family is not significant at the verdict's
               alpha.
Always: a matched pair of experts is tested in its own neurons unit ("layer L mlp.experts E
neurons", E the A expert), its null leaving out the run of neurons the matching sampled (rows of
gate/up, columns of down); routers pair by key, never in matched order, in the layer's experts unit.
"""
import argparse

import numpy as np

from reportlib import Checker, load_json, open_h5, recorded_provenance, text


def pairing_of(tensor):
    """The pairing without a hidden-dimension alignment read on top of it ("key" when that was all)."""
    parts = tensor["pairing"].split(", ")
    return ", ".join(p for p in parts if p != "hidden matching") or "key"


def neuron_count(tensor):
    """Neurons along the axis the tensor's null permutes: rows of gate/up, columns of down."""
    return tensor["shape"][1] if tensor["null"]["unit"].startswith("columns") else tensor["shape"][0]


def unit_prefix(mtp, layer):
    return f"layer {layer} {'mtp.' if mtp else ''}mlp"


def recorded_permutation(model_dir):
    """layer -> list (child expert j takes parent expert perm[j]), following the derivation chain."""
    return {int(layer): perm for layer, perm in recorded_provenance(model_dir, "expert_permutation").items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--permuted")
    parser.add_argument("--identity", action="store_true")
    parser.add_argument("--dropped", type=int)
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--significant", action="store_true")
    group.add_argument("--not-significant", action="store_true")
    args = parser.parse_args()
    c = Checker(f"experts {args.dir}")
    report = load_json(args.dir)
    layers = report["expert_matching"]
    c.check(layers, "no MoE layer was matched")
    c.check(any(m["mtp"] for m in layers) == any(t["role"].startswith("mtp.mlp.experts") for t in report["tensors"]),
            "the MTP block's experts are matched exactly when the models have them")
    expected = recorded_permutation(args.permuted) if args.permuted else {}
    main_layers = report["models"]["b"]["config"].get("num_hidden_layers", 0)

    with open_h5(args.dir) as h5:
        for m in layers:
            where = f"/expert_matching/{'mtp' if m['mtp'] else 'layer'}_{m['layer']}"
            c.check(m["available"], f"layer {m['layer']}: matching not available: {m['reason']}")
            if where not in h5 or not m["available"]:
                c.check(where in h5, f"{where} missing from report.h5")
                continue
            g = h5[where]
            c.equal(list(g["matched_b"][()]), m["matched_b"], f"{where}/matched_b")
            c.equal(g["similarity"].shape, (len(m["experts_a"]), len(m["experts_b"])), f"{where}/similarity shape")
            c.check(np.allclose(g["similarity"][()], np.array(m["similarity"], dtype=float), rtol=1e-12, atol=0),
                    f"{where}/similarity differs from report.json")
            c.equal(len(g["null_scores"][()]), m["permutations"], f"{where}/null_scores")
            c.equal(float(g.attrs["p_value"]), m["p_value"], f"{where} p_value")
            matched = [b for b in m["matched_b"] if b >= 0]
            c.equal(len(matched), len(set(matched)), f"layer {m['layer']}: a B expert matched twice")
            c.equal(len(matched), min(len(m["experts_a"]), len(m["experts_b"])), f"layer {m['layer']}: matched count")
            # The generator records MTP blocks by their file index (after the main layers).
            recorded = m["layer"] + (main_layers if m["mtp"] else 0)
            if recorded in expected:
                perm = expected[recorded]
                want = [perm.index(e) for e in m["experts_a"]]
                c.equal(m["matched_b"], want, f"layer {m['layer']}: matching against the recorded permutation")
                c.check(m["moved"] > 0, f"layer {m['layer']}: a permuted layer reports no moved expert")
            if args.identity:
                c.equal(m["matched_b"], m["experts_a"], f"layer {m['layer']}: identity matching")
                c.equal(m["moved"], 0, f"layer {m['layer']}: moved")
            if args.dropped is not None:
                c.equal(len(m["experts_a"]) - len(m["experts_b"]), args.dropped, f"layer {m['layer']}: expert counts")
                c.equal(m["unmatched_a"], args.dropped, f"layer {m['layer']}: unmatched A experts")

        # Matched pairs: B's expert follows the matching and is tested in a unit of its own; the
        # run of neurons the matching sampled is left out of the pair's null.
        by_layer = {(m["mtp"], m["layer"]): m for m in layers if m["available"]}
        matched_units = set()
        for t in report["tensors"]:
            where = (t["role"].startswith("mtp."), t["layer"])
            if where in by_layer and t["expert"] is not None:
                m = by_layer[where]
                b_expert = m["matched_b"][m["experts_a"].index(t["expert"])]
                c.check(f".experts.{b_expert}." in t["b"], f"{t['a']} paired with {t['b']}, expected expert {b_expert}")
                c.equal(pairing_of(t), "expert matching", f"{t['a']}: pairing")
                first, last = t.get("excluded_rows", [0, 0])
                c.check(last > first, f"{t['a']}: no excluded neurons")
                if t["null"]["available"]:
                    unit = f"{unit_prefix(*where)}.experts {t['expert']} neurons"
                    c.equal(t["null"]["test_unit"], unit, f"{t['a']}: test unit")
                    matched_units.add(unit)
                    c.check(t["null"]["unit"].endswith("(neuron)"), f"{t['a']}: null.unit {t['null']['unit']}")
                    c.check(t["null"]["subset"], f"{t['a']}: the null tests all neurons")
                    c.equal(t["null"]["tested_units"], neuron_count(t) - (last - first), f"{t['a']}: tested neurons")
            if where in by_layer and "router" in t["role"]:
                c.equal(pairing_of(t), "key", f"{t['a']}: router pairing")
                c.check("rows" not in t, f"{t['a']}: router rows paired explicitly")
                if t["null"]["available"]:
                    c.equal(t["null"]["test_unit"], f"{unit_prefix(*where)} experts", f"{t['a']}: test unit")
        names = list(h5["/tensors/pairing"][()])
        c.equal(len(names), len(report["tensors"]), "/tensors/pairing length")

    if args.dropped:
        unmatched = [u for u in report["unpaired"] if "not matched to an expert" in u["reason"]]
        c.check(unmatched, "no unpaired tensor says it was not matched")
        c.check(not any("router" in t["role"] for t in report["tensors"]), "routers paired across expert counts")
        c.check(any("router" in u["role"] for u in report["unpaired"]), "no router unpaired")
    units = {u["label"]: u for u in report["units"]}
    family = [f for f in report["families"] if f["name"] == "expert matching"]
    c.equal(len(family), 1, "one 'expert matching' family")
    if family:
        if args.significant:
            for m in layers:
                if not m["available"]:
                    continue
                c.check(m["score"] > m["null"]["max"], f"layer {m['layer']}: score {m['score']} within the null")
                c.check(m["p_value"] <= 1 / (1 + m["permutations"]), f"layer {m['layer']}: p {m['p_value']}")
                c.check(m["z"] > 5, f"layer {m['layer']}: z {m['z']}")
                label = f"{'MTP block' if m['mtp'] else 'layer'} {m['layer']} expert matching"
                unit = units.get(label)
                if c.check(unit is not None and unit["available"], f"no available unit {label!r}"):
                    c.equal(unit["kind"], "expert matching", f"{label}: kind")
                    c.equal(unit["p"], unit["p_floor"], f"{label}: p at its floor")
            c.check(family[0]["significant"], f"expert matching not significant: {family[0]['holm_sidak_p']}")
            alpha = report["verdict"]["alpha"]
            c.check(matched_units, "no matched expert was tested")
            for label in sorted(matched_units):
                c.check(units[label]["p"] <= alpha, f"unit {label}: p {units[label]['p']} > alpha {alpha}")
        if args.not_significant:
            c.check(not family[0]["significant"], f"expert matching significant: {family[0]['holm_sidak_p']}")
    tested = report["verdict"]["invariances_tested"]
    c.check(any("experts" in line for line in tested), "expert permutation not among the invariances tested")
    c.finish()


if __name__ == "__main__":
    main()
