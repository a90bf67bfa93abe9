"""Checks that the rank count changes nothing (e2e.rank_independence).

usage: check_rank_independence.py [--any-fixture] BLOCK_ELEMENTS DIR:RANKS DIR:RANKS ...
The first directory is the reference; every other must hold exactly the same report.json sections
and bit-identical datasets under /tensors, /roles, /unpaired, /nulls, /units, /evidence, /verdict,
/cross_layer, /depth_alignment, /expert_matching, /reference_panel and the manifest's per-model tables
(/manifest/model_a, /manifest/model_b: files, tensor digests, range hashes) of report.h5 (and the same
/verdict attributes and root attribute verdict). Without --any-fixture the reports must also be
those of e2e.rank_independence's fixture (many blocks, undefined figures, many nulls).
"""
import math
import sys

import numpy as np

from reportlib import Checker, bitwise_equal_arrays, datasets, load_json, open_h5, text

COMPARED_SECTIONS = ("status", "verdict", "summary", "tensors", "units", "roles", "families", "layers", "unpaired",
                     "models", "layer_structure", "expert_matching", "reference_panel")
GROUPS = ("tensors", "roles", "unpaired", "nulls", "units", "evidence", "verdict", "cross_layer", "depth_alignment",
          "expert_matching", "reference_panel", "manifest/model_a", "manifest/model_b")


def main(block_elements, runs, fixture_checks):
    c = Checker("rank independence")
    reports = [(directory, ranks, load_json(directory)) for directory, ranks in runs]
    tables = {}
    for directory, ranks, report in reports:
        c.equal(report["manifest"]["ranks"], ranks, f"{directory}: report.json manifest.ranks")
        c.equal(report["manifest"]["block_elements"], block_elements, f"{directory}: manifest.block_elements")
        with open_h5(directory) as h5:
            c.equal(int(h5["manifest"].attrs["ranks"]), ranks, f"{directory}: report.h5 /manifest ranks")
            c.equal(int(h5["manifest"].attrs["block_elements"]), block_elements,
                    f"{directory}: report.h5 /manifest block_elements")
            found = {}
            for group in GROUPS:
                found.update(datasets(h5[group], group + "/"))
            # Attributes that carry the verdict, as one-element arrays of their exact value.
            found["@verdict"] = np.array([text(h5.attrs["verdict"])], dtype=object)
            for key in ("label", "p_global", "p_floor", "units", "alpha"):
                value = h5["verdict"].attrs[key]
                found[f"verdict@{key}"] = np.array([text(value)], dtype=object) if isinstance(value, (str, bytes)) \
                    else np.array([value])
            tables[directory] = found

    first_dir, _, first = reports[0]
    reference = tables[first_dir]
    if fixture_checks:
        check_fixture(c, first, first_dir, reference, block_elements)
    for directory, _, report in reports[1:]:
        for section in COMPARED_SECTIONS:
            c.check(report[section] == first[section],
                    f"report.json '{section}' of {directory} differs from {first_dir}")
        other = tables[directory]
        c.equal(sorted(other), sorted(reference), f"{directory}: dataset paths")
        for path, values in reference.items():
            if path in other:
                c.check(bitwise_equal_arrays(values, other[path]),
                        f"{directory}: /{path} is not bit-identical to {first_dir}")
    c.finish()


def check_fixture(c, first, first_dir, reference, block_elements):
    """The reports are e2e.rank_independence's: what they compare covers the hard cases."""
    # The plan must really be split: with these block sizes most tensors span several blocks.
    multi_block = [t for t in first["tensors"] if t["elements"] > block_elements]
    c.check(len(multi_block) >= 10, f"only {len(multi_block)} tensors span more than one block")
    blocks = sum(math.ceil(t["elements"] / block_elements) for t in first["tensors"])
    c.check(blocks >= 50, f"only {blocks} blocks")
    # Non-finite figures (NaN in HDF5, null in JSON) must be among what is compared.
    c.check(any(t["cosine"] is None for t in first["tensors"]), "no tensor with an undefined cosine")

    # The nulls must be among what is compared: many samples, spread over the ranks' shares.
    nulls = [t for t in first["tensors"] if t["null"]["available"]]
    c.check(len(nulls) >= 30, f"only {len(nulls)} tensor pairs with a permutation null")
    c.check(any(not t["null"]["available"] for t in first["tensors"]), "no tensor pair without a null")
    c.check(len(reference) > 100, f"only {len(reference)} datasets under {', '.join(GROUPS)}")
    # Every way a null is computed: random draws directly and from cross products, and the cyclic
    # shifts of a wide unit, all at once (K of the units - 1 shifts).
    forms = {(u["group_spec"]["form"], u["from_products"]) for u in first["units"]}
    for form in (("plain", True), ("cyclic", False)):
        c.check(form in forms, f"no unit of form {form[0]} {'from products' if form[1] else 'computed directly'}")
    for u in first["units"]:
        if u["group_spec"]["form"] == "cyclic":
            c.check(0 < u["permutations"] <= u["group_spec"]["units"] - 1, f"{u['label']}: K is not 1 … units - 1")
    for path in ("nulls/offsets", "nulls/cosine", "nulls/pearson", "nulls/rel_l2", "nulls/test", "units/p",
                 "evidence/families/p", "evidence/layers/p", "verdict/evidence"):
        c.check(path in reference and len(reference[path]) > 0, f"{first_dir}: /{path} missing or empty")
    c.check(len(reference.get("nulls/cosine", [])) >= 1000, "fewer than 1000 null samples")
    # The manifest's hashes: B lives in 3 files, so its tensors' ranges come from several blocks.
    for side in ("a", "b"):
        c.check(len(reference.get(f"manifest/model_{side}/ranges/xxh3", [])) >= 50,
                f"{first_dir}: fewer than 50 range hashes of model {side.upper()}")
        c.check(len(first["models"][side].get("tensors", [])) > 0, f"{first_dir}: no tensor digests of model {side.upper()}")


if __name__ == "__main__":
    arguments = sys.argv[1:]
    fixture = arguments[0] != "--any-fixture"
    if not fixture:
        arguments = arguments[1:]
    runs = []
    for argument in arguments[1:]:
        directory, ranks = argument.rsplit(":", 1)
        runs.append((directory, int(ranks)))
    main(int(arguments[0]), runs, fixture)
