"""Reads report.h5 back with h5py and holds it against the run and report.json (e2e.h5_readback):
manifest, models, the tensor and per-role tables, the symmetry nulls (/tensors columns and /nulls),
the test units (/units), the evidence tables and the verdict.

usage: check_h5_readback.py DIR MODEL_A_DIR MODEL_B_DIR RANKS "VERSION LINE" NOT_BEFORE
NOT_BEFORE: the UTC time (ISO 8601) the test started; the manifest's times must not precede it.
"""
import datetime
import glob
import json
import os
import re
import socket
import sys

import numpy as np

from reportlib import Checker, column, layer_index, load_json, open_h5, same_number, text

MANIFEST_ATTRIBUTES = ("tool_version", "git_hash", "config", "start_time", "end_time", "ranks", "host",
                       "kernel", "command_line", "block_elements")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
# The family of each kind of test unit (report.json "families").
UNIT_FAMILIES = {"hidden": "hidden dimensions", "heads": "attention heads", "values": "attention values",
                 "neurons": "neurons", "experts": "experts", "expert matching": "expert matching",
                 "latent": "low-rank latents", "channels": "channels"}
DESCRIPTIVE_ORDER = ("layer order", "neuron matching", "head matching", "hidden matching", "fingerprints")

# HDF5 column -> how to find the value in a report.json row (tensor row or role-layer row).
FIGURES = {
    "elements": lambda r: r["elements"],
    "n": lambda r: r["n"],
    "nonfinite_a": lambda r: r["nonfinite_a"],
    "nonfinite_b": lambda r: r["nonfinite_b"],
    "cosine": lambda r: r["cosine"],
    "pearson": lambda r: r["pearson"],
    "rel_l2": lambda r: r["rel_l2"],
    "norm_ratio": lambda r: r["norm_ratio"],
    "bitwise_equal_fraction": lambda r: r["bitwise_equal_fraction"],
    "mean_a": lambda r: r["stats_a"]["mean"],
    "std_a": lambda r: r["stats_a"]["std"],
    "cv_a": lambda r: r["stats_a"]["cv"],
    "min_a": lambda r: r["stats_a"]["min"],
    "max_a": lambda r: r["stats_a"]["max"],
    "mean_b": lambda r: r["stats_b"]["mean"],
    "std_b": lambda r: r["stats_b"]["std"],
    "cv_b": lambda r: r["stats_b"]["cv"],
    "min_b": lambda r: r["stats_b"]["min"],
    "max_b": lambda r: r["stats_b"]["max"],
}


def same_table(c, group, rows, columns, where):
    """An HDF5 table of one row per report.json entry: its columns exactly `columns` (name → how to
    read the entry's value), each as long as `rows` and equal to it row by row."""
    c.equal(sorted(group.keys()), sorted(columns), f"{where} columns")
    for name, extract in columns.items():
        if name not in group:
            continue
        values = column(group, name)
        if not c.equal(len(values), len(rows), f"{where}/{name}: rows"):
            continue
        for i, (h5_value, row) in enumerate(zip(values, rows)):
            want = extract(row)
            same = h5_value == want if isinstance(want, (str, int, bool)) else same_number(want, h5_value)
            c.check(same, f"{where}/{name}[{i}]: HDF5 {h5_value!r} but report.json {want!r}")


def utc(stamp):
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")


def check_manifest(c, h5, report, ranks, version_line, not_before):
    attrs = {key: h5["manifest"].attrs[key] for key in h5["manifest"].attrs}
    for key in MANIFEST_ATTRIBUTES:
        c.check(key in attrs, f"/manifest has no attribute {key}")
    if c.failures:
        return
    value = {key: text(v) if isinstance(v, (bytes, str)) else v for key, v in attrs.items()}
    c.check(value["tool_version"] != "", "/manifest tool_version is empty")
    c.equal(f"lineage {value['tool_version']} ({value['git_hash']})", version_line,
            "'lineage --version' against /manifest tool_version and git_hash")
    c.check(re.fullmatch(r"[0-9a-f]{7,40}(-dirty)?|unknown", value["git_hash"]) is not None,
            f"/manifest git_hash {value['git_hash']!r} is not a commit hash")
    c.equal(int(value["ranks"]), ranks, "/manifest ranks")
    c.equal(value["host"], socket.gethostname(), "/manifest host")
    c.check(value["kernel"] != "", "/manifest kernel is empty")
    c.check(" compare " in value["command_line"], f"/manifest command_line {value['command_line']!r}")
    config = json.loads(value["config"])
    c.equal(config, report["manifest"]["config"], "/manifest config against report.json manifest.config")
    c.equal(config.get("model_a"), "A", "/manifest config model_a")
    c.equal(config.get("model_b"), "B", "/manifest config model_b")
    c.equal(config.get("output"), "out", "/manifest config output")
    for key in ("start_time", "end_time"):
        c.check(ISO_UTC.match(value[key]) is not None, f"/manifest {key} {value[key]!r} is not ISO 8601 UTC")
    if all(ISO_UTC.match(value[key]) for key in ("start_time", "end_time")):
        start, end = utc(value["start_time"]), utc(value["end_time"])
        now = datetime.datetime.utcnow() + datetime.timedelta(seconds=1)
        c.check(utc(not_before) <= start <= end <= now,
                f"manifest times out of order: test start {not_before}, {value['start_time']} .. "
                f"{value['end_time']}, now {now:%H:%M:%S}")
    for key in ("tool_version", "git_hash", "host", "kernel", "start_time", "end_time", "command_line"):
        c.equal(value[key], report["manifest"][key], f"/manifest {key} against report.json")
    c.equal(int(value["block_elements"]), report["manifest"]["block_elements"], "/manifest block_elements")


def check_model(c, h5, report, side, directory):
    group = h5["manifest"][f"model_{side}"]
    files = column(group, "files")
    sizes = column(group, "file_sizes")
    on_disk = sorted(glob.glob(os.path.join(directory, "*.safetensors")))
    c.equal([os.path.realpath(f) for f in files], [os.path.realpath(f) for f in on_disk],
            f"/manifest/model_{side}/files against the .safetensors files in {directory}")
    c.equal(sizes, [os.path.getsize(f) for f in files], f"/manifest/model_{side}/file_sizes against the disk")
    model = report["models"][side]
    c.equal(files, model["files"], f"/manifest/model_{side}/files against report.json")
    c.equal(sizes, model["file_sizes"], f"/manifest/model_{side}/file_sizes against report.json")
    for key in ("path", "model_type", "architecture"):
        c.equal(text(group.attrs[key]), model[key], f"/manifest/model_{side} {key}")
    for key in ("tensor_count", "parameter_count"):
        c.equal(int(group.attrs[key]), model[key], f"/manifest/model_{side} {key}")
    c.equal(json.loads(text(group.attrs["config_json"])), model["config"], f"/manifest/model_{side} config_json")
    with open(os.path.join(directory, "config.json"), encoding="utf-8") as stream:
        c.equal(model["config"], json.load(stream), f"models.{side}.config against {directory}/config.json")


def check_figures(c, group, rows, where):
    """Every figure column of an HDF5 table against the same rows of report.json."""
    for name, extract in FIGURES.items():
        values = column(group, name)
        if not c.equal(len(values), len(rows), f"{where}/{name}: rows"):
            continue
        for i, (h5_value, row) in enumerate(zip(values, rows)):
            c.check(same_number(extract(row), h5_value),
                    f"{where}/{name}[{i}]: HDF5 {h5_value!r} but report.json {extract(row)!r}")
    for i, (equal, elements, row) in enumerate(zip(column(group, "bitwise_equal"), column(group, "elements"), rows)):
        c.check(same_number(row["bitwise_equal_fraction"], equal / elements if elements else float("nan")),
                f"{where}/bitwise_equal[{i}] / elements against bitwise_equal_fraction")


def check_tensors(c, h5, report):
    group, rows = h5["tensors"], report["tensors"]
    c.check(len(rows) > 0, "report.json has no tensor rows")
    expected = {
        "name_a": [r["a"] for r in rows],
        "name_b": [r["b"] for r in rows],
        "role": [r["role"] for r in rows],
        "layer": [layer_index(r["layer"]) for r in rows],
        "expert": [layer_index(r["expert"]) for r in rows],
        "dtype_a": [r["dtype_a"] for r in rows],
        "dtype_b": [r["dtype_b"] for r in rows],
        "shape": ["[" + ", ".join(str(d) for d in r["shape"]) + "]" for r in rows],
        "axes": [r["axes"] for r in rows],
        "pairing": [r["pairing"] for r in rows],
    }
    for name, values in expected.items():
        c.equal(column(group, name), values, f"/tensors/{name}")
    check_figures(c, group, rows, "/tensors")


# Null columns of /tensors -> the value in a report.json tensor row (NaN in HDF5 where JSON has null
# or the pair has no null).
NULL_FIGURES = {
    "p_value": lambda t: t["p_value"],
    "p_permutation": lambda t: t["null"].get("p_permutation"),
    "z": lambda t: t["null"].get("z"),
    "p_floor": lambda t: t["null"].get("p_floor"),
    "direction_cosine": lambda t: t["null"].get("directions", {}).get("cosine"),
    "direction_z": lambda t: t["null"].get("directions", {}).get("z"),
    "direction_p": lambda t: t["null"].get("directions", {}).get("p_value"),
    "closed_z": lambda t: t["null"]["closed_form"]["z"],
    "closed_p": lambda t: t["null"]["closed_form"]["p"],
    "null_sd_ratio": lambda t: t["null"]["closed_form"]["null_sd_ratio"],
}
for _statistic in ("cosine", "pearson", "rel_l2"):
    for _part in ("mean", "sd", "q01", "q50", "q99", "min", "max"):
        NULL_FIGURES[f"null_{_statistic}_{_part}"] = (
            lambda t, s=_statistic, q=_part: t["null"][s][q] if t["null"]["available"] else None)


def check_tensor_nulls(c, h5, report):
    """The null columns of /tensors against report.json, and /nulls against both."""
    group, rows = h5["tensors"], report["tensors"]
    nulls = [r["null"] for r in rows]
    c.equal(column(group, "null_available"), [int(n["available"]) for n in nulls], "/tensors/null_available")
    c.equal(column(group, "null_permutations"), [n.get("permutations", 0) for n in nulls], "/tensors/null_permutations")
    c.equal(column(group, "null_beyond_all"), [int(n.get("beyond_all", False)) for n in nulls],
            "/tensors/null_beyond_all")
    c.equal(column(group, "closed_form_disagrees"), [int(n["closed_form"]["disagrees"]) for n in nulls],
            "/tensors/closed_form_disagrees")
    c.equal(column(group, "direction_folded"), [int(n.get("directions", {}).get("folded", False)) for n in nulls],
            "/tensors/direction_folded")
    strings = zip(column(group, "null_reason"), column(group, "null_unit"), column(group, "null_test"),
                  column(group, "test_unit"), column(group, "test_observed"), nulls)
    for i, (reason, unit, test, test_unit, observed, n) in enumerate(strings):
        c.equal(reason, n.get("reason", ""), f"/tensors/null_reason[{i}]")
        if n["available"]:
            c.equal(unit, n["unit"], f"/tensors/null_unit[{i}]")
            c.equal(test, n["test"], f"/tensors/null_test[{i}]")
            c.equal(test_unit, n["test_unit"], f"/tensors/test_unit[{i}]")
            c.check(same_number(n["test_observed"], observed),
                    f"/tensors/test_observed[{i}]: HDF5 {observed!r} but report.json {n['test_observed']!r}")
    for name, extract in NULL_FIGURES.items():
        values = column(group, name)
        if not c.equal(len(values), len(rows), f"/tensors/{name}: rows"):
            continue
        for i, (h5_value, row) in enumerate(zip(values, rows)):
            c.check(same_number(extract(row), h5_value),
                    f"/tensors/{name}[{i}]: HDF5 {h5_value!r} but report.json {extract(row)!r}")

    # /nulls: offsets with one more row than /tensors, each pair's K samples in its slice.
    samples = h5["nulls"]
    offsets = column(samples, "offsets")
    c.equal(samples["offsets"].dtype.kind, "u", "/nulls/offsets is unsigned")
    if not c.equal(len(offsets), len(rows) + 1, "/nulls/offsets rows (tensor pairs + 1)"):
        return
    c.equal(offsets[0], 0, "/nulls/offsets[0]")
    flat = {name: samples[name][()] for name in ("cosine", "pearson", "rel_l2")}
    tests = samples["test"][()]
    directions_flat = samples["direction"][()]
    c.equal(len(directions_flat), offsets[-1], "len(/nulls/direction) = offsets[-1]")
    for name, values in dict(flat, test=tests).items():
        c.equal(len(values), offsets[-1], f"len(/nulls/{name}) = offsets[-1]")
        c.equal(values.dtype.str, "<f8", f"/nulls/{name} dtype")
    permutations = column(group, "null_permutations")
    for i, row in enumerate(rows):
        where = f"/nulls of {row['a']}"
        c.equal(offsets[i + 1] - offsets[i], permutations[i], f"{where}: offsets[p+1] - offsets[p] = null_permutations")
        if not row["null"]["available"]:
            continue
        for name, values in flat.items():
            part = values[offsets[i]: offsets[i + 1]]
            summary = row["null"][name]
            if len(part) == 0:
                continue
            c.equal(float(part.min()), summary["min"], f"{where}: min of {name} samples")
            c.equal(float(part.max()), summary["max"], f"{where}: max of {name} samples")
            for q, key in ((0.01, "q01"), (0.5, "q50"), (0.99, "q99")):
                want = float(np.quantile(part, q))  # linear interpolation at q (K - 1), as lineage
                c.check(abs(want - summary[key]) <= 1e-12 * max(1.0, abs(want)),
                        f"{where}: {key} of {name} samples {summary[key]!r}, numpy says {want!r}")
            c.check(abs(float(part.mean()) - summary["mean"]) <= 1e-12 * max(1.0, abs(summary["mean"])),
                    f"{where}: mean of {name} samples {float(part.mean())!r} against {summary['mean']!r}")
        # The test statistic's draws: D (the sum of slice cosines) for a matrix, whose mean over the
        # slices /nulls/direction holds and directions.null summarises; T itself for a vector, of
        # which the cosine samples are a rising image.
        test = tests[offsets[i]: offsets[i + 1]]
        directions = row["null"].get("directions")
        if directions is not None and len(test):
            mean_cosine = directions_flat[offsets[i]: offsets[i + 1]]
            slices = row["null"]["test_observed"] / directions["cosine"]
            c.check(abs(slices - round(slices)) < 1e-6 * slices, f"{where}: test_observed is not D ({slices} slices)")
            c.check(np.allclose(test, round(slices) * mean_cosine, rtol=1e-12, atol=1e-12),
                    f"{where}: /nulls/test is not the slices times /nulls/direction")
            for key in ("min", "max"):
                c.equal(float(getattr(mean_cosine, key)()), directions["null"][key],
                        f"{where}: {key} of /nulls/direction against directions.null")
        elif len(test):
            order = np.argsort(flat["cosine"][offsets[i]: offsets[i + 1]], kind="stable")
            scale = max(1.0, float(np.abs(test).max()))
            c.check(bool(np.all(np.diff(test[order]) >= -1e-12 * scale)), f"{where}: T samples not in cosine order")
        # All three are monotone images of one T: cosine and Pearson rise together, rel-L2 falls.
        order = np.argsort(flat["cosine"][offsets[i]: offsets[i + 1]], kind="stable")
        pearson = flat["pearson"][offsets[i]: offsets[i + 1]][order]
        rel_l2 = flat["rel_l2"][offsets[i]: offsets[i + 1]][order]
        c.check(bool(np.all(np.diff(pearson) >= -1e-12)), f"{where}: Pearson samples not in cosine order")
        c.check(bool(np.all(np.diff(rel_l2) <= 1e-12)), f"{where}: rel-L2 samples not in reverse cosine order")


GROUP_COLUMNS = {
    "name": lambda g: g["name"],
    "tensors": lambda g: g["tensors"],
    "unit": lambda g: g["unit"],
    "p": lambda g: g["p"],
    "method": lambda g: g["method"],
    "fisher_statistic": lambda g: g["fisher"]["statistic"],
    "fisher_p": lambda g: g["fisher"]["p"],
    "hmp": lambda g: g["harmonic_mean"]["hmp"],
    "hmp_p": lambda g: g["harmonic_mean"]["p"],
    "median_pearson": lambda g: g["median_pearson"],
    "mean_cosine": lambda g: g["mean_cosine"],
    "mean_null_cosine": lambda g: g["mean_null_cosine"],
    "min_p": lambda g: g["min_p"],
    "strongest": lambda g: g["strongest"],
    "strongest_pearson": lambda g: g["strongest_pearson"],
    "strongest_z": lambda g: g["strongest_z"],
}


def check_evidence(c, h5, report):
    """/evidence/families, /evidence/layers and /verdict against report.json."""
    for table, extra in (("families", {"holm_sidak_p": lambda g: g["holm_sidak_p"],
                                       "significant": lambda g: int(g["significant"]),
                                       "descriptive": lambda g: int(g["descriptive"])}),
                         ("layers", {"layer": lambda g: layer_index(g["layer"])})):
        group, rows = h5["evidence"][table], report[table]
        c.check(len(rows) > 0, f"report.json has no {table}")
        same_table(c, group, rows, dict(GROUP_COLUMNS, **extra), f"/evidence/{table}")
    # The families of unit kinds in the order of their first available unit, then the reference
    # panel, then the descriptive families in this order where present; layers ascending (-1, the
    # hidden unit, first), as report.json has them.
    kinds = []
    for u in report["units"]:
        if u["available"] and u["kind"] not in kinds:
            kinds.append(u["kind"])
    families = report["families"]
    c.equal([f["name"] for f in families if f["unit"] == "units"], [UNIT_FAMILIES[k] for k in kinds],
            "unit families in the order of their units")
    c.equal([f["unit"] for f in families if not f["descriptive"]],
            ["units"] * len(kinds) + ["roles"] * any(f["name"] == "reference panel" for f in families),
            "unit families, then the reference panel")
    descriptive = [f["name"] for f in families if f["descriptive"]]
    c.equal([f["name"] for f in families], [f["name"] for f in families if not f["descriptive"]] + descriptive,
            "descriptive families follow the verdict's")
    c.equal(descriptive, [n for n in DESCRIPTIVE_ORDER if n in descriptive], "descriptive families in order")
    c.check("layer order" in descriptive, "no layer-order family")
    layers = [layer_index(l["layer"]) for l in report["layers"]]
    c.equal(layers, sorted(layers), "layers order")
    c.equal(layers, [-1, 0, 1, 2, 3], "layers of this 4-layer Llama")

    verdict, group = report["verdict"], h5["verdict"]
    c.equal(text(h5.attrs["verdict"]), verdict["label"], "root attribute verdict")
    c.equal(text(group.attrs["label"]), verdict["label"], "/verdict label")
    c.equal(float(group.attrs["p_global"]), verdict["p_global"], "/verdict p_global")
    c.equal(float(group.attrs["p_floor"]), verdict["p_floor"], "/verdict p_floor")
    c.equal(int(group.attrs["units"]), verdict["units"], "/verdict units")
    c.equal(float(group.attrs["alpha"]), verdict["alpha"], "/verdict alpha")
    for key in ("evidence", "notes", "carried_by", "invariances_tested", "invariances_not_tested"):
        c.equal(column(group, key), verdict[key], f"/verdict/{key}")


# /units column -> the value in a report.json unit (NaN in HDF5 where JSON has null).
UNIT_COLUMNS = {
    "kind": lambda u: u["kind"],
    "label": lambda u: u["label"],
    "layer": lambda u: layer_index(u["layer"]),
    "group": lambda u: u["group"],
    "log10_group_size": lambda u: u["log10_group_size"],
    "permutations": lambda u: u["permutations"],
    "from_products": lambda u: int(u["from_products"]),
    "members": lambda u: u["members"],
    "used": lambda u: u["used"],
    "available": lambda u: int(u["available"]),
    "reason": lambda u: u["reason"],
    "statistic": lambda u: u["statistic"],
    "z": lambda u: u["z"],
    "p": lambda u: u["p"],
    "p_floor": lambda u: u["p_floor"],
    "strongest": lambda u: u["strongest"],
    "strongest_z": lambda u: u["strongest_z"],
    "left_out": lambda u: "; ".join(u["left_out"]),
}


def check_units(c, h5, report):
    """/units against report.json's units, and each tensor's unit against its unit's label."""
    group, rows = h5["units"], report["units"]
    c.check(len(rows) > 0, "report.json has no units")
    same_table(c, group, rows, UNIT_COLUMNS, "/units")
    labels = [u["label"] for u in rows]
    c.equal(len(labels), len(set(labels)), "unit labels are unique")
    for t in report["tensors"]:
        if t["null"]["available"]:
            c.check(t["null"]["test_unit"] in labels, f"{t['a']}: test unit {t['null']['test_unit']!r} not in /units")


def check_roles(c, h5, report):
    roles = h5["roles"]
    c.equal(sorted(roles.keys()), sorted(report["roles"].keys()), "/roles groups against report.json roles")
    for role, rows in report["roles"].items():
        if role not in roles:
            continue
        group = roles[role]
        c.check("layer" in group, f"/roles/{role} has no layer column")
        c.equal(column(group, "layer"), [layer_index(r["layer"]) for r in rows], f"/roles/{role}/layer")
        c.equal(column(group, "tensor_pairs"), [r["tensor_pairs"] for r in rows], f"/roles/{role}/tensor_pairs")
        check_figures(c, group, rows, f"/roles/{role}")
    # Per-layer roles of this 4-layer Llama hold layers 0..3; global ones the single row -1.
    for role in ("input_layernorm.weight", "mlp.up_proj.weight", "self_attn.q_proj.weight"):
        if role in roles:
            c.equal(column(roles[role], "layer"), [0, 1, 2, 3], f"/roles/{role}/layer")
    if "norm.weight" in roles:
        c.equal(column(roles["norm.weight"], "layer"), [-1], "/roles/norm.weight/layer")


def check_unpaired(c, h5, report):
    group, rows = h5["unpaired"], report["unpaired"]
    expected = {
        "side": [r["side"] for r in rows],
        "name": [r["name"] for r in rows],
        "role": [r["role"] for r in rows],
        "layer": [layer_index(r["layer"]) for r in rows],
        "dtype": [r["dtype"] for r in rows],
        "shape": ["[" + ", ".join(str(d) for d in r["shape"]) + "]" for r in rows],
        "reason": [r["reason"] for r in rows],
    }
    for name, values in expected.items():
        c.equal(column(group, name), values, f"/unpaired/{name}")


def main(directory, model_a, model_b, ranks, version_line, not_before):
    c = Checker(f"h5 readback {directory}")
    report = load_json(directory)
    with open_h5(directory) as h5:
        root = {key: h5.attrs[key] for key in h5.attrs}
        c.equal(text(root.get("format", "")), "lineage-report", "root attribute format")
        c.equal(int(root.get("format_version", -1)), 1, "root attribute format_version")
        c.equal(text(root.get("status", "")), report["status"], "root attribute status")
        summary = report["summary"]
        for key in ("tensor_pairs", "unpaired_a", "unpaired_b", "tensors_with_nonfinite"):
            c.equal(int(root.get(key, -1)), summary[key], f"root attribute {key} against summary")
        check_manifest(c, h5, report, ranks, version_line, not_before)
        check_model(c, h5, report, "a", model_a)
        check_model(c, h5, report, "b", model_b)
        check_tensors(c, h5, report)
        check_tensor_nulls(c, h5, report)
        check_units(c, h5, report)
        check_evidence(c, h5, report)
        check_roles(c, h5, report)
        check_unpaired(c, h5, report)
    # This pair: A in 3 files; B ties its embeddings, so A's lm_head has no partner.
    c.equal(len(report["models"]["a"]["files"]), 3, "models.a.files")
    c.equal([(u["side"], u["name"]) for u in report["unpaired"]], [("a", "lm_head.weight")], "unpaired")
    c.finish()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6])
