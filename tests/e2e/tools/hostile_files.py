"""Writes the hostile inputs of e2e.hostile_input (issue 18): crafted checkpoints and configs, and
randomly corrupted copies of a file.

usage: hostile_files.py phi3-wrap DIR
         a phi3 checkpoint whose config makes the fused qkv split's row counts wrap in 64 bits
       hostile_files.py hostile-names SOURCE DEST [lie]
         a copy of checkpoint SOURCE (one safetensors file) with one tensor renamed to a name full of
         terminal escapes and a forged table line, and model_type "<script>alert(1)</script>"; with
         "lie", that tensor's data_offsets end past the data section
       hostile_files.py bad-utf8-config DIR
         config.json of DIR replaced by invalid JSON holding bytes that are not UTF-8
       hostile_files.py corrupt FILE COUNT SEED OUTDIR
         COUNT copies of FILE with 1 to 64 random bytes overwritten (OUTDIR/corrupt-N.h5)
"""
import json
import os
import random
import shutil
import struct
import sys

import numpy as np

HOSTILE_NAME = "model.layers.0.mlp.up_proj.weight\x1b]0;owned\x07\x1b[2J\nlayer 9  forged.row  1.000000"


def write_safetensors(path, tensors, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as stream:
        stream.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def phi3_wrap(directory):
    os.makedirs(directory, exist_ok=True)
    config = {"model_type": "phi3", "hidden_size": 130, "num_attention_heads": 130,
              "num_key_value_heads": 9223372036854775807, "head_dim": 1, "intermediate_size": 8,
              "num_hidden_layers": 1, "vocab_size": 16}
    with open(os.path.join(directory, "config.json"), "w") as stream:
        json.dump(config, stream)
    rng = np.random.default_rng(1)
    write_safetensors(os.path.join(directory, "model.safetensors"), {
        "model.embed_tokens.weight": rng.standard_normal((16, 130)),
        "model.layers.0.self_attn.qkv_proj.weight": rng.standard_normal((128, 130)),
    })


def read_safetensors(path):
    with open(path, "rb") as stream:
        (length,) = struct.unpack("<Q", stream.read(8))
        header = json.loads(stream.read(length))
        data = stream.read()
    return header, data


def hostile_names(source, dest, lie=None):
    shutil.copytree(source, dest)
    path = os.path.join(dest, "model.safetensors")
    header, data = read_safetensors(path)
    header[HOSTILE_NAME] = header.pop("model.layers.0.mlp.up_proj.weight")
    if lie == "lie":
        header[HOSTILE_NAME]["data_offsets"][1] += 10**9
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as stream:
        stream.write(struct.pack("<Q", len(text)) + text + data)
    config_path = os.path.join(dest, "config.json")
    with open(config_path) as stream:
        config = json.load(stream)
    config["model_type"] = "<script>alert(1)</script>"
    with open(config_path, "w") as stream:
        json.dump(config, stream)


def bad_utf8_config(directory):
    with open(os.path.join(directory, "config.json"), "wb") as stream:
        stream.write(b'{"model_type": "llama", "hidden_size": \xff\xfe\x1b[31m}')


def corrupt(path, count, seed, outdir):
    rng = random.Random(seed)
    original = open(path, "rb").read()
    os.makedirs(outdir, exist_ok=True)
    for n in range(count):
        data = bytearray(original)
        for _ in range(rng.randint(1, 64)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        with open(os.path.join(outdir, f"corrupt-{n}.h5"), "wb") as stream:
            stream.write(data)


if __name__ == "__main__":
    command, args = sys.argv[1], sys.argv[2:]
    if command == "phi3-wrap":
        phi3_wrap(*args)
    elif command == "hostile-names":
        hostile_names(*args)
    elif command == "bad-utf8-config":
        bad_utf8_config(*args)
    elif command == "corrupt":
        corrupt(args[0], int(args[1]), int(args[2]), args[3])
    else:
        sys.exit(f"unknown command {command}")
