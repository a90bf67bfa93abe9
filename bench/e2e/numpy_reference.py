#!/usr/bin/env python3
"""The per-tensor statistics the public re-analyses computed with NumPy (cosine, Pearson, relative
L2, bitwise-equal share), on the same pair: the reference the bench divides lineage's bare pass by.

Reads every safetensors file of A and B (BF16, F16 or F32), pairs tensors by name, and computes the
four figures in float64, one tensor at a time. Prints the seconds and the tensor count as JSON, and
with a third argument writes the figures of every tensor there (name -> [cosine, pearson, rel_l2,
bitwise_equal_fraction]) for the bench to hold lineage's figures against.
"""
import glob
import json
import os
import struct
import sys
import time

import numpy as np

DTYPES = {"BF16": np.uint16, "F16": np.float16, "F32": np.float32}


def tensors(directory):
    out = {}
    for path in sorted(glob.glob(os.path.join(directory, "*.safetensors"))):
        with open(path, "rb") as f:
            (length,) = struct.unpack("<Q", f.read(8))
            header = json.loads(f.read(length))
        data = np.memmap(path, dtype=np.uint8, mode="r", offset=8 + length)
        for name, info in header.items():
            if name != "__metadata__":
                begin, end = info["data_offsets"]
                out[name] = (info["dtype"], data[begin:end])
    return out


def as_float(dtype, raw):
    values = raw.view(DTYPES[dtype])
    if dtype == "BF16":
        return (values.astype(np.uint32) << 16).view(np.float32)
    return values


def main():
    a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
    start = time.perf_counter()
    figures = {}
    for name in sorted(a.keys() & b.keys()):
        (dtype_a, raw_a), (dtype_b, raw_b) = a[name], b[name]
        if raw_a.size != raw_b.size or dtype_a not in DTYPES or dtype_b not in DTYPES:
            continue
        x = as_float(dtype_a, raw_a).astype(np.float64)
        y = as_float(dtype_b, raw_b).astype(np.float64)
        dot, xx, yy = float(x @ y), float(x @ x), float(y @ y)
        cosine = dot / np.sqrt(xx * yy)
        xc, yc = x - x.mean(), y - y.mean()
        pearson = float(xc @ yc) / np.sqrt(float(xc @ xc) * float(yc @ yc))
        rel_l2 = np.sqrt(max(0.0, xx + yy - 2 * dot)) / np.sqrt(xx)
        # Bitwise equality of elements (not of bytes): the raw bytes as unsigned integers of the element size.
        bits = {"BF16": np.uint16, "F16": np.uint16, "F32": np.uint32}
        equal = float(np.mean(raw_a.view(bits[dtype_a]) == raw_b.view(bits[dtype_b]))) if dtype_a == dtype_b else 0.0
        figures[name] = [cosine, pearson, float(rel_l2), equal]
    seconds = time.perf_counter() - start
    if len(sys.argv) > 3:
        with open(sys.argv[3], "w") as f:
            json.dump(figures, f)
    print(json.dumps({"seconds": seconds, "tensors": len(figures)}))


if __name__ == "__main__":
    main()
