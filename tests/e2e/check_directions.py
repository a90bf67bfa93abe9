"""Checks the scale-invariant row-direction tests of one report (report.json and report.h5).

usage: check_directions.py DIR [--rescaled] [--unrelated]
Every matrix that reads a norm (q/k/v, gate/up, lm_head) must be tested by its norm-folded row
directions (null test "row directions"), the others by T, with the figures in HDF5 agreeing.
--rescaled: B's norms were rescaled against the layers that read them (synth rescale-norms, then
            a little drift): the folded row cosines stay above 0.9 where the raw Pearson of the
            same matrices is below 0.8, and every such test is significant (p < 1e-6).
--unrelated: no folded row cosine above 0.1.
"""
import argparse

import numpy as np

from reportlib import Checker, load_json, open_h5, text

READERS = (".self_attn.q_proj.weight", ".self_attn.k_proj.weight", ".self_attn.v_proj.weight",
           ".mlp.gate_proj.weight", ".mlp.up_proj.weight")


def reads_a_norm(name):
    return name.endswith(READERS) or name == "lm_head.weight"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--rescaled", action="store_true")
    parser.add_argument("--unrelated", action="store_true")
    args = parser.parse_args()
    c = Checker(f"directions {args.dir}")
    report = load_json(args.dir)
    folded = 0
    with open_h5(args.dir) as h5:
        g = h5["/tensors"]
        tests = [text(v) for v in g["null_test"][()]]
        cosines = g["direction_cosine"][()]
        for k, t in enumerate(report["tensors"]):
            null = t["null"]
            if not null["available"] or len(t["shape"]) != 2:
                continue
            name = t["a"]
            want = "row directions" if reads_a_norm(name) else "products"
            c.equal(null["test"], want, f"{name}: test")
            c.equal(tests[k], want, f"{name}: HDF5 null_test")
            d = null["directions"]
            c.check(abs(float(cosines[k]) - d["cosine"]) < 1e-12, f"{name}: HDF5 direction_cosine")
            if want == "row directions":
                folded += 1
                c.check(d["folded"], f"{name}: not folded")
                c.equal(t["p_value"], d["p_value"], f"{name}: the tensor's p is the direction test's")
                if args.rescaled:
                    c.check(d["cosine"] > 0.9, f"{name}: folded row cosine {d['cosine']}")
                    c.check(t["pearson"] < 0.8, f"{name}: raw Pearson {t['pearson']} (the rescaling hid nothing)")
                    c.check(t["p_value"] < 1e-6, f"{name}: p {t['p_value']}")
                if args.unrelated:
                    c.check(d["cosine"] < 0.1, f"{name}: folded row cosine {d['cosine']}")
    c.check(folded > 0, "no matrix was tested by its row directions")
    tested = report["verdict"]["invariances_tested"]
    c.check(any("rescaling of a norm weight" in line for line in tested), "norm rescaling not among the invariances tested")
    c.finish()


if __name__ == "__main__":
    main()
