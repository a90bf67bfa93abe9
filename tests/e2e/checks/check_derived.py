"""Checks of derived pairs (e2e.derived): what copy, dtype change, reshard, noise and drift must score.

usage: check_derived.py identical DIR
       check_derived.py noise DIR SCALE [--f32]
       check_derived.py drift DIR SCALE
       check_derived.py same-figures DIR_1 DIR_2
       check_derived.py sharded DIR SIDE FILES
"""
import math
import os
import re
import sys

from reportlib import Checker, is_matrix, load_json

EXPECTED_PAIRS = 39  # synth defaults: 4 layers x 9 tensors + embed_tokens, norm, lm_head


def every_tensor_paired(c, report):
    c.equal(report["status"], "compared", "status")
    c.equal(report["summary"]["tensor_pairs"], EXPECTED_PAIRS, "summary.tensor_pairs")
    c.equal(len(report["tensors"]), EXPECTED_PAIRS, "number of rows in 'tensors'")
    c.equal(report["unpaired"], [], "unpaired")
    c.equal(report["summary"]["tensors_with_nonfinite"], 0, "summary.tensors_with_nonfinite")
    for t in report["tensors"]:
        c.equal(t["b"], t["a"], "derived models keep tensor names")
        c.equal(t["n"], t["elements"], f"{t['a']}: n (no non-finite values)")


def identical(directory):
    c = Checker(f"identical {directory}")
    report = load_json(directory)
    every_tensor_paired(c, report)
    for t in report["tensors"]:
        name = t["a"]
        c.equal(t["bitwise_equal_fraction"], 1.0, f"{name}: bitwise_equal_fraction")
        c.equal(t["cosine"], 1.0, f"{name}: cosine")
        c.equal(t["pearson"], 1.0, f"{name}: pearson")
        c.equal(t["rel_l2"], 0.0, f"{name}: rel_l2")
        c.equal(t["norm_ratio"], 1.0, f"{name}: norm_ratio")
    for role, rows in report["roles"].items():
        for row in rows:
            where = f"roles[{role}] layer {row['layer']}"
            c.equal(row["bitwise_equal_fraction"], 1.0, f"{where}: bitwise_equal_fraction")
            c.equal(row["cosine"], 1.0, f"{where}: cosine")
            c.equal(row["pearson"], 1.0, f"{where}: pearson")
    c.finish()


def noise(directory, scale, f32):
    """Noise of sd = scale * rms(tensor): Pearson ~ 1 and, without rounding to a narrow dtype,
    rel_l2 = scale * sqrt(chi2_n / n), i.e. scale within a few 1/sqrt(2n)."""
    c = Checker(f"noise {scale} {directory}")
    report = load_json(directory)
    every_tensor_paired(c, report)
    for t in report["tensors"]:
        name, n = t["a"], t["n"]
        c.check(t["pearson"] is not None and t["pearson"] > 0.99, f"{name}: Pearson {t['pearson']} <= 0.99")
        if f32:
            tolerance = 5 / math.sqrt(2 * n) + 0.01
            c.check(abs(t["rel_l2"] / scale - 1) < tolerance,
                    f"{name}: rel_l2 {t['rel_l2']:.6g} not within {tolerance:.3f} (relative) of {scale}")
            c.check(abs(t["norm_ratio"] - 1) < 5 * scale, f"{name}: norm_ratio {t['norm_ratio']}")
        else:
            # BF16 rounds most of a 0.1 % change away: only a bound from above holds.
            c.check(t["rel_l2"] <= 2 * scale, f"{name}: rel_l2 {t['rel_l2']:.6g} > 2 x {scale}")
    c.finish()


def drift(directory, scale):
    """Drift: matrices get a rank-4 update of |U V^T| = scale |W| plus noise of scale/4 rms, so
    rel_l2 = scale sqrt(1 + 1/16); vectors move by scale x their spread (less than scale)."""
    c = Checker(f"drift {scale} {directory}")
    report = load_json(directory)
    every_tensor_paired(c, report)
    expected = scale * math.sqrt(1 + 1 / 16)
    for t in report["tensors"]:
        name = t["a"]
        c.check(t["pearson"] is not None and t["pearson"] > 0.99, f"{name}: Pearson {t['pearson']} <= 0.99")
        if is_matrix(t):
            c.check(abs(t["rel_l2"] / expected - 1) < 0.05,
                    f"{name}: rel_l2 {t['rel_l2']:.6g}, expected {expected:.6g} +- 5 %")
        else:
            c.check(t["rel_l2"] < scale, f"{name}: rel_l2 {t['rel_l2']:.6g} >= {scale}")
    c.finish()


def same_figures(first, second):
    c = Checker(f"same figures {first} {second}")
    one, two = load_json(first), load_json(second)
    for key in ("status", "summary", "tensors", "roles", "unpaired"):
        c.check(one[key] == two[key], f"'{key}' differs between {first} and {second}")
    c.finish()


def sharded(directory, side, files):
    c = Checker(f"sharded {directory} model {side}")
    model = load_json(directory)["models"][side]
    names = [os.path.basename(f) for f in model["files"]]
    expected = [f"model-{k:05d}-of-{files:05d}.safetensors" for k in range(1, files + 1)]
    c.equal(names, expected, f"models.{side}.files")
    for path, size in zip(model["files"], model["file_sizes"]):
        c.equal(size, os.path.getsize(path), f"models.{side}.file_sizes of {path}")
    c.check(re.search(r"\S", model["path"]) is not None, f"models.{side}.path is empty")
    c.equal(model["tensor_count"], EXPECTED_PAIRS, f"models.{side}.tensor_count")
    c.finish()


def main(argv):
    mode = argv[1]
    if mode == "identical":
        identical(argv[2])
    elif mode == "noise":
        noise(argv[2], float(argv[3]), "--f32" in argv[4:])
    elif mode == "drift":
        drift(argv[2], float(argv[3]))
    elif mode == "same-figures":
        same_figures(argv[2], argv[3])
    elif mode == "sharded":
        sharded(argv[2], argv[3], int(argv[4]))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main(sys.argv)
