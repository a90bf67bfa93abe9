"""Checks of two models with no tensor in common (e2e.nothing_in_common) and of a model given as a
single .safetensors file.

usage: check_no_pairs.py no-pairs DIR MODEL_A_DIR MODEL_B_DIR
       check_no_pairs.py single-file DIR FILE [MODEL_TYPE]
MODEL_TYPE: what config.json beside FILE says ("" when there is none: both sides then pair by name).
"""
import os
import re
import sys

from reportlib import Checker, column, layer_index, load_json, open_h5, text

SHAPE_REASON = re.compile(r"^shape \[[0-9, ]+\] in model A but \[[0-9, ]+\] in model B$")


def shape_text(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def no_pairs(directory, model_a, model_b):
    c = Checker(f"no pairs {directory}")
    report = load_json(directory)
    c.equal(report["status"], "no tensor pairs", "status")
    c.equal(report["tensors"], [], "tensors")
    c.equal(report["roles"], {}, "roles")
    summary = report["summary"]
    c.equal(summary["tensor_pairs"], 0, "summary.tensor_pairs")
    c.equal(summary["compared_elements"], 0, "summary.compared_elements")
    a, b = report["models"]["a"], report["models"]["b"]
    c.equal(summary["unpaired_a"], a["tensor_count"], "summary.unpaired_a = every tensor of A")
    c.equal(summary["unpaired_b"], b["tensor_count"], "summary.unpaired_b = every tensor of B")
    c.equal(a["tensor_count"], 39, "models.a.tensor_count")

    unpaired = report["unpaired"]
    by_side = {side: sorted(u["name"] for u in unpaired if u["side"] == side) for side in "ab"}
    c.equal(len(unpaired), a["tensor_count"] + b["tensor_count"], "rows in 'unpaired'")
    c.equal(by_side["a"], by_side["b"], "A and B list the same tensor names (only the shapes differ)")
    c.equal(len(set(by_side["a"])), 39, "distinct tensors of A in 'unpaired'")
    for u in unpaired:
        c.check(SHAPE_REASON.match(u["reason"]) is not None, f"{u['side']} {u['name']}: reason {u['reason']!r}")
        # The reason quotes this side's shape on its side of "but".
        own, _, partner = u["reason"].partition(" in model A but ")
        quoted = own[len("shape "):] if u["side"] == "a" else partner[: -len(" in model B")]
        c.equal(quoted, shape_text(u["shape"]), f"{u['side']} {u['name']}: own shape in the reason")

    with open_h5(directory) as h5:
        c.equal(text(h5.attrs["status"]), "no tensor pairs", "root attribute status")
        c.equal(int(h5.attrs["tensor_pairs"]), 0, "root attribute tensor_pairs")
        c.equal(len(h5["tensors"]["name_a"]), 0, "/tensors/name_a rows")
        c.equal(list(h5["roles"].keys()), [], "/roles groups")
        c.equal(column(h5["unpaired"], "reason"), [u["reason"] for u in unpaired], "/unpaired/reason")
        c.equal(column(h5["unpaired"], "name"), [u["name"] for u in unpaired], "/unpaired/name")
        c.equal(column(h5["unpaired"], "side"), [u["side"] for u in unpaired], "/unpaired/side")
        c.equal(column(h5["unpaired"], "layer"), [layer_index(u["layer"]) for u in unpaired], "/unpaired/layer")
    c.finish()


def single_file(directory, file, model_type="llama"):
    c = Checker(f"single file {directory}")
    report = load_json(directory)
    c.equal(report["status"], "compared", "status")
    c.equal(report["summary"]["tensor_pairs"], 39, "summary.tensor_pairs")
    c.equal(report["unpaired"], [], "unpaired")
    b = report["models"]["b"]
    c.equal(b["path"], file, "models.b.path")
    c.equal(b["files"], [file], "models.b.files")
    c.equal(b["file_sizes"], [os.path.getsize(file)], "models.b.file_sizes")
    # config.json beside the file is still read: the pairing used the llama rules on both sides.
    # Without one, B's type is unknown and both sides fall back to pairing identical names.
    c.equal(b["model_type"], model_type, "models.b.model_type (config.json beside the file)")
    architecture = "llama" if model_type == "llama" else "generic"
    c.equal(b["architecture"], architecture, "models.b.architecture")
    c.equal(report["models"]["a"]["architecture"], architecture, "models.a.architecture")
    for t in report["tensors"]:
        c.equal(t["bitwise_equal_fraction"], 1.0, f"{t['a']}: bitwise_equal_fraction")
        c.equal(t["pearson"], 1.0, f"{t['a']}: pearson")
    c.finish()


if __name__ == "__main__":
    if sys.argv[1] == "no-pairs":
        no_pairs(sys.argv[2], sys.argv[3], sys.argv[4])
    elif sys.argv[1] == "single-file":
        single_file(*sys.argv[2:5])
    else:
        sys.exit(f"unknown mode {sys.argv[1]}")
