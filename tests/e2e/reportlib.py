"""Helpers for the end-to-end checkers: read lineage's report.json and report.h5, collect failures.

Run with Debian's /usr/bin/python3 (python3-h5py, python3-numpy); ctest passes it as $PYTHON.
"""
import json
import math
import os
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


def load_json(directory):
    with open(os.path.join(directory, "report.json"), encoding="utf-8") as stream:
        return json.load(stream)


def open_h5(directory):
    return h5py.File(os.path.join(directory, "report.h5"), "r")


def is_norm_role(role):
    return any(marker in role for marker in NORM_MARKERS)


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
