"""Checks the scale-invariant slice-direction tests of one report (report.json and report.h5).

usage: check_directions.py DIR [--rescaled] [--unrelated]
Every matrix must be tested by the directions of its slices along the axis its unit permutes (null
test "slice directions"): the rows of those that read a norm (q/k/v, gate/up) folded with that norm,
the others (o/down columns, the embedding's and lm_head's columns) as they are; vectors by their
products. The figures in HDF5 agree, and a matrix's p is its direction test's.
--rescaled: B's norms were rescaled against the layers that read them (synth rescale-norms, then
            a little drift): for the readers (the folded rows, and lm_head, whose columns take the
            final norm's factors) the slice cosines stay above 0.9 where the raw Pearson of the
            same matrices is below 0.8, and every unit holding a reader is significant (p at most
            the verdict's alpha).
--unrelated: no reader's slice cosine above 0.1.
"""
import argparse

from reportlib import Checker, FOLDED_ROLES, load_json, open_h5, text


def reads_a_norm(tensor):
    """The matrices whose slices the rescaling of a norm scales: rows that read a norm, and
    lm_head's columns (the final norm's factors)."""
    return tensor["role"] in FOLDED_ROLES or tensor["role"] == "lm_head.weight"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("--rescaled", action="store_true")
    parser.add_argument("--unrelated", action="store_true")
    args = parser.parse_args()
    c = Checker(f"directions {args.dir}")
    report = load_json(args.dir)
    folded = 0
    reader_units = set()
    with open_h5(args.dir) as h5:
        g = h5["/tensors"]
        tests = [text(v) for v in g["null_test"][()]]
        cosines = g["direction_cosine"][()]
        for k, t in enumerate(report["tensors"]):
            null = t["null"]
            if not null["available"]:
                continue
            name = t["a"]
            want = "slice directions" if len(t["shape"]) == 2 else "products"
            c.equal(null["test"], want, f"{name}: test")
            c.equal(tests[k], want, f"{name}: HDF5 null_test")
            if want == "products":
                continue
            d = null["directions"]
            c.check(abs(float(cosines[k]) - d["cosine"]) < 1e-12, f"{name}: HDF5 direction_cosine")
            c.equal(t["p_value"], d["p_value"], f"{name}: the tensor's p is the direction test's")
            c.equal(d["folded"], t["role"] in FOLDED_ROLES, f"{name}: folded")
            folded += d["folded"]
            if reads_a_norm(t):
                reader_units.add(null["test_unit"])
                if args.rescaled:
                    c.check(d["cosine"] > 0.9, f"{name}: slice cosine {d['cosine']}")
                    c.check(t["pearson"] < 0.8, f"{name}: raw Pearson {t['pearson']} (the rescaling hid nothing)")
                if args.unrelated:
                    c.check(d["cosine"] < 0.1, f"{name}: slice cosine {d['cosine']}")
    c.check(folded > 0, "no matrix was tested by its folded row directions")
    if args.rescaled:
        alpha = report["verdict"]["alpha"]
        units = {u["label"]: u for u in report["units"]}
        for label in sorted(reader_units):
            c.check(units[label]["p"] <= alpha, f"unit {label}: p {units[label]['p']} > alpha {alpha}")
    tested = report["verdict"]["invariances_tested"]
    c.check(any("rescaling of norm weights" in line for line in tested),
            "norm rescaling not among the invariances tested")
    c.finish()


if __name__ == "__main__":
    main()
