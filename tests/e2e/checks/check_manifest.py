"""The reproducibility manifest of report.h5 against the model files themselves (e2e.manifest).

usage: check_manifest.py DIR MODEL_A MODEL_B [--sha256] [--same-as OTHER_DIR]...

For each model, computed here from its safetensors files with python3-xxhash, independently of lineage:
- /manifest/model_X/tensors lists every tensor of the model with its dtype, shape, file, data offset
  and byte length;
- each tensor's ranges (/manifest/model_X/ranges) are in offset order, no longer than block_elements
  elements, and cover every byte of the tensor; each range's xxh3 is XXH3-64 of those bytes;
- each tensor's xxh3 is XXH3-64 of its range hashes as little-endian uint64 in order, and report.json
  models.X.tensors holds the same digest in hex;
- /manifest/model_X/checkpoint_files lists the safetensors, index, config and tokenizer files with
  their sizes, and with --sha256 their SHA-256 (hashlib; the shell test also compares sha256sum);
With --same-as, every dataset under /manifest/model_a and /manifest/model_b is bit-identical to
OTHER_DIR's (another rank count).
"""
import hashlib
import json
import os
import struct
import sys

import xxhash

from reportlib import Checker, bitwise_equal_arrays, column, datasets, load_json, open_h5

SIDE_FILES = ("model.safetensors.index.json", "config.json", "generation_config.json", "tokenizer.json",
              "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json", "tokenizer.model",
              "vocab.json", "vocab.txt", "merges.txt")
SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "F8_E4M3": 1, "F8_E5M2": 1}


def model_tensors(directory):
    """{name: (dtype, shape text, file name, absolute data offset, bytes)} read from the headers."""
    tensors = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".safetensors"):
            continue
        with open(os.path.join(directory, name), "rb") as stream:
            (length,) = struct.unpack("<Q", stream.read(8))
            header = json.loads(stream.read(length))
        for tensor, entry in header.items():
            if tensor == "__metadata__":
                continue
            begin, end = entry["data_offsets"]
            shape = "[" + ", ".join(str(d) for d in entry["shape"]) + "]"
            tensors[tensor] = (entry["dtype"], shape, name, 8 + length + begin, end - begin)
    return tensors


def check_model(c, h5, report, side, directory, block_elements, sha256):
    where = f"model {side.upper()}"
    group = h5[f"manifest/model_{side}"]
    table, ranges = group["tensors"], group["ranges"]
    names = column(table, "name")
    expected = model_tensors(directory)
    c.equal(sorted(names), sorted(expected), f"{where}: tensor names")
    offsets, lengths, hashes, owners = (ranges[k][()] for k in ("offset", "length", "xxh3", "tensor"))
    json_digests = {t["name"]: t["xxh3"] for t in report["models"][side]["tensors"]}
    data = {}
    digests_checked = ranges_checked = 0
    for row, name in enumerate(names):
        if name not in expected:
            continue
        dtype, shape, file, offset, size = expected[name]
        for key, value in (("dtype", dtype), ("shape", shape), ("file", file)):
            c.equal(column(table, key)[row], value, f"{where}: {name}: {key}")
        c.equal(int(table["data_offset"][row]), offset, f"{where}: {name}: data_offset")
        c.equal(int(table["bytes"][row]), size, f"{where}: {name}: bytes")
        if file not in data:
            with open(os.path.join(directory, file), "rb") as stream:
                data[file] = stream.read()
        first, count = int(table["first_range"][row]), int(table["ranges"][row])
        covered, words = 0, b""
        for k in range(first, first + count):
            begin, length = int(offsets[k]), int(lengths[k])
            c.equal(int(owners[k]), row, f"{where}: {name}: range {k} names its tensor")
            c.check(begin <= covered, f"{where}: {name}: bytes {covered} to {begin} in no range")
            c.check(0 < length <= block_elements * SIZES[dtype],
                    f"{where}: {name}: range {k} holds {length} bytes (block_elements {block_elements})")
            covered = max(covered, begin + length)
            reference = xxhash.xxh3_64_intdigest(data[file][offset + begin:offset + begin + length])
            c.equal(int(hashes[k]), reference, f"{where}: {name}: xxh3 of range {k} (offset {begin})")
            words += struct.pack("<Q", reference)
            ranges_checked += 1
        c.equal(covered, size, f"{where}: {name}: bytes covered by its ranges")
        digest = xxhash.xxh3_64_intdigest(words)
        c.equal(int(table["xxh3"][row]), digest, f"{where}: {name}: tensor digest")
        c.equal(json_digests.get(name), f"{digest:016x}", f"{where}: {name}: report.json digest")
        digests_checked += 1
    c.equal(digests_checked, len(expected), f"{where}: tensor digests checked")
    files = group["checkpoint_files"]
    names = column(files, "name")
    wanted = sorted(n for n in os.listdir(directory) if n.endswith(".safetensors") or n in SIDE_FILES)
    c.equal(names, wanted, f"{where}: checkpoint_files")
    for row, name in enumerate(names):
        path = os.path.join(directory, name)
        c.equal(int(files["size"][row]), os.path.getsize(path), f"{where}: {name}: size")
        recorded = column(files, "sha256")[row]
        if sha256:
            with open(path, "rb") as stream:
                c.equal(recorded, hashlib.sha256(stream.read()).hexdigest(), f"{where}: {name}: sha256")
        else:
            c.equal(recorded, "", f"{where}: {name}: sha256 without --sha256")
    print(f"{where}: {digests_checked} tensor digests and {ranges_checked} ranges equal the reference")


def main(directory, model_a, model_b, sha256, others):
    c = Checker("manifest")
    report = load_json(directory)
    with open_h5(directory) as h5:
        block_elements = int(h5["manifest"].attrs["block_elements"])
        c.equal(int(h5["manifest"].attrs["content_digests"]), 1, "/manifest content_digests")
        c.equal(int(h5["manifest"].attrs["sha256_files"]), 1 if sha256 else 0, "/manifest sha256_files")
        check_model(c, h5, report, "a", model_a, block_elements, sha256)
        check_model(c, h5, report, "b", model_b, block_elements, sha256)
        mine = {p: v for side in ("a", "b") for p, v in datasets(h5[f"manifest/model_{side}"], side + "/").items()}
    for other in others:
        with open_h5(other) as h5:
            theirs = {p: v for side in ("a", "b") for p, v in datasets(h5[f"manifest/model_{side}"], side + "/").items()}
        c.equal(sorted(theirs), sorted(mine), f"{other}: manifest dataset paths")
        for path, values in mine.items():
            if path in theirs:
                c.check(bitwise_equal_arrays(values, theirs[path]), f"{other}: /manifest/model_{path} differs")
        c.check(load_json(other)["models"] == report["models"], f"{other}: report.json models differ")
    c.finish()


if __name__ == "__main__":
    arguments = sys.argv[1:]
    if len(arguments) < 3:
        sys.exit(__doc__)
    others = [arguments[i + 1] for i, a in enumerate(arguments) if a == "--same-as"]
    main(arguments[0], arguments[1], arguments[2], "--sha256" in arguments, others)
