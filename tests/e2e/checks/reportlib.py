"""Helpers for the end-to-end checkers: read lineage's report.json and report.h5, collect failures.

Run with Debian's /usr/bin/python3 (python3-h5py, python3-numpy); ctest passes it as $PYTHON.
"""
import json
import math
import os
import struct
import sys

import h5py
import numpy as np

NORM_MARKERS = ("layernorm", "norm.weight")


class Checker:
    """Collects failed expectations so one run reports all of them, then exits 1 if any failed."""

    def __init__(self, title):
        self.title = title
        self.failures = []
        self.passed = 0

    def check(self, condition, message):
        if condition:
            self.passed += 1
        else:
            self.failures.append(message)
        return bool(condition)

    def equal(self, actual, expected, what):
        return self.check(actual == expected, f"{what}: expected {expected!r}, got {actual!r}")

    def finish(self):
        for message in self.failures[:60]:
            print(f"FAIL [{self.title}] {message}", file=sys.stderr)
        if len(self.failures) > 60:
            print(f"FAIL [{self.title}] ... and {len(self.failures) - 60} more", file=sys.stderr)
        print(f"[{self.title}] {self.passed} expectations met, {len(self.failures)} failed")
        sys.exit(1 if self.failures else 0)


def _reject_constant(name):
    raise ValueError(f"report.json holds {name}, which is not JSON (undefined figures must be null)")


def load_json(directory):
    """report.json, parsed strictly: Python's json module would otherwise accept NaN and Infinity."""
    with open(os.path.join(directory, "report.json"), encoding="utf-8") as stream:
        return json.load(stream, parse_constant=_reject_constant)


def descriptive_family(c, report, name):
    """The descriptive family `name` of report.json, checked to be descriptive: never significant,
    no Holm–Šidák p, not carrying the verdict, its own p (the harmonic mean of its tests) in "p".
    None (a failure recorded) when the report has no such family."""
    family = [f for f in report["families"] if f["name"] == name]
    if not c.check(len(family) == 1, f"no single '{name}' family"):
        return None
    f = family[0]
    c.equal(f["descriptive"], True, f"family {name}: descriptive")
    c.equal(f["significant"], False, f"family {name}: significant")
    c.equal(f["holm_sidak_p"], None, f"family {name}: holm_sidak_p")
    c.equal(f["method"], "harmonic mean", f"family {name}: method")
    c.check(f["p"] is not None and 0 < f["p"] <= 1, f"family {name}: p {f['p']}")
    c.check(name not in report["verdict"]["carried_by"], f"family {name} carries the verdict")
    return f


def recorded_provenance(model_dir, key):
    """What `lineage synth derive` recorded under `key` in a model's config.json, following the
    derivation chain back to the derivation that recorded it."""
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as stream:
        provenance = json.load(stream)["lineage_synth"]
    while key not in provenance:
        provenance = provenance["parent"]
    return provenance[key]


def open_h5(directory):
    return h5py.File(os.path.join(directory, "report.h5"), "r")


# What the symmetry null of a Llama-style tensor permutes (report.json null.unit), by role; norms
# permute their elements (hidden). Rows that read a norm are folded with it (directions.folded).
LLAMA_NULL_UNITS = {
    "embed_tokens.weight": "columns (hidden)",
    "lm_head.weight": "columns (hidden)",
    "self_attn.q_proj.weight": "rows (query)",
    "self_attn.k_proj.weight": "rows (key)",
    "self_attn.v_proj.weight": "rows (value)",
    "self_attn.o_proj.weight": "columns (output)",
    "mlp.gate_proj.weight": "rows (neuron)",
    "mlp.up_proj.weight": "rows (neuron)",
    "mlp.down_proj.weight": "columns (neuron)",
}
FOLDED_ROLES = ("self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight",
                "mlp.gate_proj.weight", "mlp.up_proj.weight")


def is_norm_role(role):
    return any(marker in role for marker in NORM_MARKERS)


def llama_null_unit(role):
    """null.unit of a Llama-style tensor of this role, or None for a role not in the table."""
    return "elements (hidden)" if is_norm_role(role) else LLAMA_NULL_UNITS.get(role)


def is_matrix(tensor):
    return len(tensor["shape"]) == 2


def text(value):
    """An HDF5 string (bytes or str) as str."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def column(group, name):
    """A dataset as a list of Python values; strings decoded."""
    data = group[name][()]
    if data.dtype.kind in ("O", "S", "U"):
        return [text(v) for v in data]
    return data.tolist()


def same_number(json_value, h5_value):
    """JSON writes undefined figures as null; HDF5 keeps them as NaN. Otherwise the same double."""
    if json_value is None:
        return isinstance(h5_value, float) and math.isnan(h5_value)
    return float(json_value) == float(h5_value)


def layer_index(json_layer):
    """JSON writes 'no layer' (embeddings, final norm) as null; HDF5 as -1."""
    return -1 if json_layer is None else json_layer


def datasets(group, prefix=""):
    """{path: numpy array} of every dataset below an h5py group."""
    found = {}

    def visit(name, item):
        if isinstance(item, h5py.Dataset):
            found[prefix + name] = item[()]

    group.visititems(visit)
    return found


def bitwise_equal_arrays(x, y):
    """True when two datasets hold the same values; floats compared bit for bit (NaN positions too)."""
    if x.shape != y.shape or x.dtype.kind != y.dtype.kind:
        return False
    if x.dtype.kind == "f":
        return x.dtype == y.dtype and x.tobytes() == y.tobytes()
    if x.dtype.kind == "O":
        return [text(v) for v in x.ravel()] == [text(v) for v in y.ravel()]
    return bool(np.array_equal(x, y))


# --- reading the models themselves, for figures computed independently of lineage ---------------

_DTYPES = {"F64": np.float64, "F32": np.float32, "F16": np.float16}


def read_safetensors(path):
    """{name: (dtype name, float64 array)} of one .safetensors file (BF16, F16, F32, F64)."""
    with open(path, "rb") as stream:
        (length,) = struct.unpack("<Q", stream.read(8))
        header = json.loads(stream.read(length))
        data = stream.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = data[begin:end]
        if entry["dtype"] == "BF16":
            values = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        else:
            values = np.frombuffer(raw, dtype=np.dtype(_DTYPES[entry["dtype"]]).newbyteorder("<"))
        tensors[name] = (entry["dtype"], values.astype(np.float64))
    return tensors


def read_model(directory):
    """Every tensor of a model directory (all its .safetensors files) or of one .safetensors file."""
    if os.path.isfile(directory):
        return read_safetensors(directory)
    tensors = {}
    for name in sorted(os.listdir(directory)):
        if name.endswith(".safetensors"):
            tensors.update(read_safetensors(os.path.join(directory, name)))
    return tensors


def reference_figures(type_a, a, type_b, b):
    """The figures lineage reports for one pair, computed in float64 over the pairs where both values
    are finite; bitwise equality in the common type (float64 if either side is F64, else float32)."""
    common = np.float64 if "F64" in (type_a, type_b) else np.float32
    bits = np.uint64 if common is np.float64 else np.uint32
    equal = int(np.count_nonzero(a.astype(common).view(bits) == b.astype(common).view(bits)))
    finite = np.isfinite(a) & np.isfinite(b)
    x, y = a[finite], b[finite]
    n = x.size
    counts = {
        "elements": a.size,
        "n": n,
        "nonfinite_a": int(np.count_nonzero(~np.isfinite(a))),
        "nonfinite_b": int(np.count_nonzero(~np.isfinite(b))),
        "bitwise_equal_fraction": equal / a.size,
    }
    if n == 0:  # lineage reports undefined figures as null
        nan = float("nan")
        return dict(counts, cosine=nan, pearson=nan, rel_l2=nan, norm_ratio=nan, mean_a=nan, mean_b=nan,
                    std_a=nan, std_b=nan)
    sum_aa, sum_bb = float(x @ x), float(y @ y)
    dx, dy = x - x.mean(), y - y.mean()
    return dict(
        counts,
        cosine=float(x @ y) / math.sqrt(sum_aa * sum_bb),
        pearson=float(dx @ dy) / math.sqrt(float(dx @ dx) * float(dy @ dy)),
        rel_l2=math.sqrt(float((x - y) @ (x - y))) / math.sqrt(sum_aa),
        norm_ratio=math.sqrt(sum_bb) / math.sqrt(sum_aa),
        mean_a=float(x.mean()),
        mean_b=float(y.mean()),
        std_a=float(x.std(ddof=1)) if n > 1 else float("nan"),
        std_b=float(y.std(ddof=1)) if n > 1 else float("nan"),
    )


def same_figures(c, reference_dir, other_dir, run_specific, config_keys):
    """Checks that two runs of one comparison made the same report: report.json equal in every
    section but the manifest, the manifest equal but for the `run_specific` fields and the config
    but for `config_keys`, and every dataset of report.h5 outside /manifest and /report_json, and
    the models' tables in /manifest/model_a|b (tensor digests and range hashes included),
    bit-identical. Returns (datasets compared, reference report.json, other report.json)."""
    reference, other = load_json(reference_dir), load_json(other_dir)
    c.equal(sorted(other), sorted(reference), "report.json sections")
    for section in reference:
        if section != "manifest":
            c.check(other.get(section) == reference[section], f"report.json '{section}' differs in {other_dir}")
    for key in reference["manifest"]:
        if key not in run_specific and key != "config":
            c.check(other["manifest"].get(key) == reference["manifest"][key], f"manifest.{key} differs in {other_dir}")
    strip = lambda config: {k: v for k, v in config.items() if k not in config_keys}
    c.check(strip(other["manifest"]["config"]) == strip(reference["manifest"]["config"]),
            f"manifest.config of {other_dir} differs in more than {', '.join(config_keys)}")
    def compared(path):
        return path.startswith(("manifest/model_a/", "manifest/model_b/")) or \
            not path.startswith(("manifest/", "report_json"))

    with open_h5(reference_dir) as h5_ref, open_h5(other_dir) as h5_other:
        ref = {p: v for p, v in datasets(h5_ref).items() if compared(p)}
        res = {p: v for p, v in datasets(h5_other).items() if compared(p)}
        c.check(any(p.startswith("manifest/model_b/ranges/") for p in ref), "no range hashes compared")
        c.equal(sorted(res), sorted(ref), "report.h5 dataset paths")
        c.check(len(ref) > 20, f"only {len(ref)} datasets compared")
        for path, values in ref.items():
            if path in res:
                c.check(bitwise_equal_arrays(values, res[path]), f"/{path} of {other_dir} is not bit-identical")
    return len(ref), reference, other


def fisher_p(p_values):
    """Fisher's method: P(χ²(2k) > −2 Σ ln p), computed in logarithms (the series of the even-df
    upper tail), as reduce/probability.cpp does."""
    k = len(p_values)
    if k == 0:
        return 1.0
    half = -sum(math.log(p) for p in p_values)  # x / 2
    terms, term = [], 0.0
    for i in range(k):
        term = 0.0 if i == 0 else term + math.log(half) - math.log(i)
        terms.append(term)
    top = max(terms)
    return math.exp(-half + top + math.log(sum(math.exp(t - top) for t in terms)))


def sidak(p, m):
    """1 − (1 − p)^m without cancellation."""
    return -math.expm1(m * math.log1p(-p)) if p < 1 else 1.0
