"""Checks the hidden-dimension matching of one report (report.json and report.h5).

usage: check_hidden.py DIR [--permuted MODEL_DIR | --pruned MODEL_DIR] [--flipped MODEL_DIR]
                       [--significant | --not-significant | --absent] [--same-as DIR2]
--permuted: B's residual dimension was permuted by `synth derive --kind permute-hidden` (maybe
            followed by other kinds); the combined matching must recover what config.json records.
--pruned: B's residual dimension was pruned by `synth derive --kind prune-hidden` (maybe followed
          by other kinds): the combined matching must send each A dimension B kept to its place
          in B and the pruned ones nowhere (-1), and B is read through the selection map
          ("hidden selection") instead of a permutation.
--flipped: a seeded half of B's residual dimensions were negated by `synth derive --kind
           flip-hidden` applied to A itself (before any permutation, so the recorded dimensions are
           A's); the negated A dimensions reported must be exactly those (and, with --significant,
           none without it);
--significant: Spearman above 0.99, the "hidden matching" family's own p (the harmonic mean of its
               tests) at most the verdict's alpha, the recovered order (or map) applied to every
               pair with a hidden axis that a later unit tests (attention, MLP, experts), the
               families of those units ("attention heads", "attention values", "neurons")
               significant through it and carrying the derived verdict, while the "hidden
               dimensions" family, whose tensors are compared in place, is not significant (the
               permutation hides it; a pruned width leaves that unit nothing to compare);
--not-significant: the family's own p is above alpha and nothing was applied;
--absent: no hidden matching was run (--no-hidden-matching).
--same-as: every tensor's figures equal those of DIR2's report bit for bit (another rank count).
Always: the family is descriptive (two matchings agree the same way whatever the symmetry does), and
no tensor of the "hidden dimensions" unit (embedding, lm_head, norms) is read through the order: it
was chosen on them, and their own test permutes the hidden dimensions; aligned_pairs counts the
pairs read through the order or map.
"""
import argparse
import json

from reportlib import Checker, descriptive_family, load_json, open_h5, recorded_provenance

# The families of the units tested after the hidden unit, which read B through the hidden order.
LATER = ("attention heads", "attention values", "neurons")
# What a pair's pairing says when B is read through a recovered permutation or a dense hidden map.
HIDDEN_MAPS = ("hidden matching", "hidden selection", "hidden rotation")


def read_through_map(tensor):
    return any(m in tensor.get("pairing", "") for m in HIDDEN_MAPS)


def has_hidden_axis(tensor):
    return "hidden" in tensor["axes"].strip("[]").split(", ")


def recorded(model_dir):
    return recorded_provenance(model_dir, "hidden_permutation")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    derivation = parser.add_mutually_exclusive_group()
    derivation.add_argument("--permuted")
    derivation.add_argument("--pruned")
    parser.add_argument("--flipped")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--significant", action="store_true")
    group.add_argument("--not-significant", action="store_true")
    group.add_argument("--absent", action="store_true")
    parser.add_argument("--same-as")
    args = parser.parse_args()
    c = Checker(f"hidden {args.dir}")
    report = load_json(args.dir)
    rows = report["hidden_matching"]
    families = {f["name"]: f for f in report["families"]}
    if args.absent:
        c.equal(rows, [], "hidden matching rows")
        c.check("hidden matching" not in families, "a 'hidden matching' family without the matching")
        c.finish()
        return
    c.equal(len(rows), 1, "hidden matching rows")
    m = rows[0] if rows else {"available": False, "reason": "none"}
    c.check(m["available"], f"hidden matching: {m['reason']}")
    if m["available"]:
        with open_h5(args.dir) as h5:
            g = h5["/hidden_matching"]
            c.equal(float(g["spearman"][0]), m["spearman"], "HDF5 spearman")
            c.equal(list(g["combined"][()]), m["combined"], "HDF5 combined")
            c.equal(int(g["aligned_pairs"][0]), m["aligned_pairs"], "HDF5 aligned_pairs")
            c.equal(list(g["negated"][()]), m["negated"], "HDF5 negated")
        # Unrelated columns correlate negatively about half the time: signs mean something only
        # for a derivative.
        if args.flipped or args.significant:
            c.equal(m["negated"], sorted(recorded_provenance(args.flipped, "hidden_sign_flips")) if args.flipped else [],
                    "negated dimensions against the recorded sign flips")
        c.check(abs(m["z"] - m["spearman"] * (m["ranked"] - 1) ** 0.5) < 1e-9, "z")
        c.equal(m["ranked"], min(m["hidden"], m["hidden_b"]), "ranked dimensions (all of the narrower side)")
        if args.permuted:
            perm = recorded(args.permuted)
            c.equal(m["combined"], [perm.index(i) for i in range(len(perm))],
                    "combined matching against the recorded permutation")
        if args.pruned:
            kept = recorded_provenance(args.pruned, "hidden_pruning")
            c.equal(m["hidden_b"], len(kept), "B's width against the recorded pruning")
            c.equal(m["combined"], [kept.index(i) if i in kept else -1 for i in range(m["hidden"])],
                    "combined matching against the recorded pruning")
            selected = [t for t in report["tensors"] if "hidden selection" in t["pairing"]]
            c.check(selected, "no pair read through the hidden selection map")
            for t in selected:
                c.check(t["shape"] != t["shape_b"], f"{t['a']}: read through the selection but of one shape")
        aligned = [t for t in report["tensors"] if read_through_map(t)]
        c.equal(len(aligned), m["aligned_pairs"], "aligned_pairs: tensors paired through the hidden order or map")
        for t in aligned:
            c.check(t["null"].get("test_unit") != "hidden dimensions",
                    f"{t['a']}: a hidden-unit tensor read through the order")
        family = descriptive_family(c, report, "hidden matching")
        verdict = report["verdict"]
        alpha = verdict["alpha"]
        if args.significant:
            c.check(m["spearman"] > 0.99, f"Spearman {m['spearman']}")
            c.check(aligned, "the recovered permutation (or map) was not applied")
            if family is not None:
                c.check(family["p"] <= alpha, f"hidden matching p {family['p']} > alpha {alpha}")
            later = [t for t in report["tensors"] if t["null"]["available"] and has_hidden_axis(t)
                     and t["null"]["test_unit"] != "hidden dimensions"]
            c.check(later, "no pair with a hidden axis in a later unit")
            for t in later:
                c.check(read_through_map(t), f"{t['a']}: not read through the hidden order")
            c.equal(verdict["label"], "derived", "verdict")
            for name in LATER:
                c.check(name in families and families[name]["significant"], f"family {name} not significant")
                c.check(name in verdict["carried_by"], f"family {name} does not carry the verdict")
            if not args.pruned:
                c.check("hidden dimensions" in families, "no family hidden dimensions")
            c.check(not families.get("hidden dimensions", {"significant": False})["significant"],
                    "family hidden dimensions significant through a permuted hidden dimension")
        if args.not_significant:
            if family is not None:
                c.check(family["p"] > alpha, f"hidden matching p {family['p']} <= alpha {alpha}")
            c.equal(m["aligned_pairs"], 0, "aligned pairs")
    if args.same_as:
        other = load_json(args.same_as)
        c.equal(len(other["tensors"]), len(report["tensors"]), "tensor count against --same-as")
        for x, y in zip(report["tensors"], other["tensors"]):
            c.equal(json.dumps(x, sort_keys=True), json.dumps(y, sort_keys=True), f"{x['a']} against --same-as")
    c.check(any("hidden dimension" in line for line in report["verdict"]["invariances_tested"]) or args.absent,
            "the hidden dimension's permutation (or map) not among the invariances tested")
    c.finish()


if __name__ == "__main__":
    main()
