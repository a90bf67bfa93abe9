"""Checks of the LayerNorm trap (e2e.trap): two independently drawn models.

Norm weights are positive with a small spread, so their raw cosine is high although the models are
unrelated: cos ~ 1/sqrt((1 + cv_a^2)(1 + cv_b^2)). Their Pearson correlation is ~ N(0, 1/n), so with
n = 256 elements |r| < 5/sqrt(n) holds for unrelated vectors with overwhelming probability (5 sd).
Weight matrices are centred near 0: their cosine and Pearson are both ~ N(0, 1/n) with n >= 32768.
Norms are tested by permuting their elements (hidden dimensions): that symmetry null of each norm
weight scores the same high raw cosine as the observed pair, and the "hidden dimensions" unit that
holds the norms gives no evidence (unit p above alpha, its family not significant). Every matrix is
tested by the slice directions along the axis its unit permutes (rows of q/k/v/gate/up folded with
the norm they read, columns of o/down, the embedding's and lm_head's columns).

usage: check_trap.py DIR
"""
import math
import sys

from reportlib import Checker, FOLDED_ROLES, is_matrix, is_norm_role, llama_null_unit, load_json


def population_cv(stats, n):
    """report.json's cv uses the sample sd (n - 1); the cosine formula needs the population one."""
    return stats["cv"] * math.sqrt((n - 1) / n)


def main(directory):
    c = Checker(f"trap {directory}")
    report = load_json(directory)
    c.equal(report["status"], "compared", "status")
    c.equal(report["summary"]["tensor_pairs"], 39, "summary.tensor_pairs")
    norms = [t for t in report["tensors"] if is_norm_role(t["role"])]
    matrices = [t for t in report["tensors"] if is_matrix(t)]
    c.equal(len(norms), 9, "norm-weight tensor pairs (4 layers x 2 + final norm)")
    c.equal(len(matrices), 30, "matrix tensor pairs (4 layers x 7 + embed_tokens, lm_head)")

    for t in norms:
        name, n = t["a"], t["n"]
        bound = 5 / math.sqrt(n)
        c.check(t["cosine"] > 0.9, f"{name}: raw cosine {t['cosine']:.4f} <= 0.9 (norm weights of unrelated models)")
        c.check(abs(t["pearson"]) < bound, f"{name}: |Pearson| {abs(t['pearson']):.4f} >= 5/sqrt({n}) = {bound:.4f}")
        predicted = 1 / math.sqrt((1 + population_cv(t["stats_a"], n) ** 2) * (1 + population_cv(t["stats_b"], n) ** 2))
        # The formula drops the term r cv_a cv_b / sqrt(...): at most 5/sqrt(n) x cv^2 ~ 0.01 here.
        c.check(abs(t["cosine"] - predicted) < 0.02,
                f"{name}: raw cosine {t['cosine']:.4f} but 1/sqrt((1+cv_a^2)(1+cv_b^2)) = {predicted:.4f}")
        c.check(t["bitwise_equal_fraction"] < 0.1, f"{name}: bitwise_equal_fraction {t['bitwise_equal_fraction']}")
        # The symmetry null (the hidden dimensions permuted) reproduces the high raw cosine:
        # destroying the alignment changes nothing, so the cosine carries no evidence. The observed
        # value sits inside its null.
        null = t["null"]
        if c.check(null["available"], f"{name}: no permutation null"):
            c.equal(null["unit"], "elements (hidden)", f"{name}: null.unit")
            c.equal(null["test"], "products", f"{name}: null.test")
            c.equal(null["test_unit"], "hidden dimensions", f"{name}: null.test_unit")
            c.check(null["cosine"]["mean"] > 0.9, f"{name}: null cosine mean {null['cosine']['mean']:.4f} <= 0.9")
            c.check(abs(t["cosine"] - null["cosine"]["mean"]) < 0.01,
                    f"{name}: raw cosine {t['cosine']:.4f} far from its null mean {null['cosine']['mean']:.4f}")
            c.check(null["cosine"]["min"] <= t["cosine"] <= null["cosine"]["max"] or null["beyond_all"],
                    f"{name}: raw cosine {t['cosine']:.6f} outside its null [{null['cosine']['min']:.6f}, "
                    f"{null['cosine']['max']:.6f}]")
            c.check(not null["beyond_all"], f"{name}: observed beyond every null sample")

    # Unrelated norms give no evidence: the unit that holds them (and its family) is not significant.
    alpha = report["verdict"]["alpha"]
    hidden = [u for u in report["units"] if u["label"] == "hidden dimensions"]
    if c.check(len(hidden) == 1 and hidden[0]["available"], "no available 'hidden dimensions' unit"):
        c.check(hidden[0]["p"] > alpha, f"unit hidden dimensions: p {hidden[0]['p']} <= alpha {alpha}")
        c.check(hidden[0]["used"] >= len(norms), f"unit hidden dimensions uses {hidden[0]['used']} members")
    families = {f["name"]: f for f in report["families"]}
    c.check("hidden dimensions" in families and not families["hidden dimensions"]["significant"],
            "family hidden dimensions significant for unrelated models (or missing)")

    for t in matrices:
        name, null = t["a"], t["null"]
        if c.check(null["available"], f"{name}: no symmetry null"):
            c.equal(null["unit"], llama_null_unit(t["role"]), f"{name}: null.unit")
            c.equal(null["test"], "slice directions", f"{name}: null.test")
            c.equal(null["directions"]["folded"], t["role"] in FOLDED_ROLES, f"{name}: directions.folded")
        c.check(abs(t["cosine"]) < 0.05, f"{name}: |cosine| {abs(t['cosine']):.4f} >= 0.05")
        c.check(abs(t["pearson"]) < 0.05, f"{name}: |Pearson| {abs(t['pearson']):.4f} >= 0.05")
        c.check(1.2 < t["rel_l2"] < 1.6, f"{name}: rel_l2 {t['rel_l2']:.4f}, expected ~sqrt(2)")

    # The per-role tables hold one tensor per (role, layer) here: the same figures as the tensor rows.
    for t in norms:
        rows = [r for r in report["roles"].get(t["role"], []) if r["layer"] == t["layer"]]
        if c.check(len(rows) == 1, f"roles[{t['role']}] has no single row for layer {t['layer']}"):
            for key in ("cosine", "pearson", "rel_l2", "n"):
                c.equal(rows[0][key], t[key], f"roles[{t['role']}] layer {t['layer']} {key}")
    c.finish()


if __name__ == "__main__":
    main(sys.argv[1])
