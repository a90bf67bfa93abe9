"""Hugging Face checkpoint directories written and read by hand: model.safetensors, config.json,
tokenizer.json — exactly what the lineage tool reads.

Part of the calibration bench in bench/trained/ (never a dependency of the C++ product).
Needs /usr/bin/python3 with numpy (Debian: python3-numpy); torch is not needed here.

Why by hand: the `safetensors` and `transformers` packages are not installable (no PyPI), and a
bench that checks a checkpoint reader should know byte for byte what it feeds it.

safetensors layout: 8-byte little-endian header length N, N bytes of JSON
{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {"format": "pt"}}
(padded with spaces to a multiple of 8), then the tensors' raw little-endian bytes, in header
order, offsets relative to the end of the header.
BF16 is the upper half of the float32 bits with round-to-nearest-even (NaN kept quiet).
"""
import json
import os
import shutil
import struct

import numpy as np

DTYPES = ("BF16", "F32")


def float32_to_bf16_bits(a):
    """uint16 BF16 bits of a float32 array, rounded to nearest, ties to even (as torch does)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    u = a.view(np.uint32).astype(np.uint64)
    rounding = ((u >> 16) & 1) + 0x7FFF
    out = ((u + rounding) >> 16).astype(np.uint16)
    nan = np.isnan(a)
    if nan.any():
        out[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)  # keep it a (quiet) NaN
    return out


def bf16_bits_to_float32(b):
    return (np.asarray(b, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def write_safetensors(path, tensors, dtype="BF16", metadata=None):
    """Write {name: float32 ndarray} to `path` as `dtype` (BF16 or F32), atomically."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype {dtype!r}: one of {DTYPES}")
    header, blobs, offset = {}, [], 0
    for name, arr in tensors.items():
        arr = np.asarray(arr, dtype=np.float32)
        raw = (float32_to_bf16_bits(arr) if dtype == "BF16" else arr).astype(
            "<u2" if dtype == "BF16" else "<f4").tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = dict(metadata or {}, format="pt")
    hjson = json.dumps(header, separators=(",", ":")).encode()
    hjson += b" " * (-len(hjson) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for raw in blobs:
            f.write(raw)
    os.replace(tmp, path)


def read_safetensors(path):
    """{name: float32 ndarray} of a BF16/F16/F32 safetensors file (for loading a parent)."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        base = 8 + n
        out = {}
        for name, h in header.items():
            if name == "__metadata__":
                continue
            b, e = h["data_offsets"]
            f.seek(base + b)
            raw = f.read(e - b)
            if h["dtype"] == "BF16":
                a = bf16_bits_to_float32(np.frombuffer(raw, dtype="<u2"))
            elif h["dtype"] == "F16":
                a = np.frombuffer(raw, dtype="<f2").astype(np.float32)
            elif h["dtype"] == "F32":
                a = np.frombuffer(raw, dtype="<f4").astype(np.float32)
            else:
                raise ValueError(f"{path}: {name} has dtype {h['dtype']}")
            out[name] = a.reshape(h["shape"]).copy()
    return out


def llama_config(cfg, dtype):
    """config.json of a LlamaForCausalLM with the bench model's dimensions (`cfg`: dict from
    model.ModelConfig.as_dict())."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": cfg["hidden_size"],
        "intermediate_size": cfg["intermediate_size"],
        "num_hidden_layers": cfg["num_hidden_layers"],
        "num_attention_heads": cfg["num_attention_heads"],
        "num_key_value_heads": cfg["num_key_value_heads"],
        "head_dim": cfg["head_dim"],
        "vocab_size": cfg["vocab_size"],
        "rms_norm_eps": cfg["rms_norm_eps"],
        "rope_theta": cfg["rope_theta"],
        "max_position_embeddings": cfg["max_position_embeddings"],
        "hidden_act": "silu",
        "attention_bias": False,
        "mlp_bias": False,
        "tie_word_embeddings": False,
        "initializer_range": 0.02,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": {"BF16": "bfloat16", "F32": "float32"}[dtype],
        "use_cache": True,
    }


def write_checkpoint(out_dir, tensors, cfg, dtype, tokenizer_path, extra_files=None):
    """A complete Hugging Face directory: model.safetensors, config.json, tokenizer.json (and
    tokenizer_config.json when one sits beside the source tokenizer.json), plus `extra_files`
    ({name: json-able object}) such as the bench's own training record."""
    os.makedirs(out_dir, exist_ok=True)
    write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors, dtype)
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(llama_config(cfg, dtype), f, indent=2)
    shutil.copyfile(tokenizer_path, os.path.join(out_dir, "tokenizer.json"))
    tc = os.path.join(os.path.dirname(tokenizer_path), "tokenizer_config.json")
    if os.path.exists(tc):
        shutil.copyfile(tc, os.path.join(out_dir, "tokenizer_config.json"))
    for name, obj in (extra_files or {}).items():
        with open(os.path.join(out_dir, name), "w") as f:
            json.dump(obj, f, indent=1)


def _self_test():
    """BF16 rounding against known values and a write/read round trip."""
    import tempfile
    x = np.array([1.0, -2.5, 1.0 + 2**-8, 1.0 + 3 * 2**-8, 3.14159, 1e-30, np.inf], np.float32)
    bits = float32_to_bf16_bits(x)
    # 1+2^-8 is a tie between 1.0 and 1+2^-7 -> even (1.0); 1+3*2^-8 -> 1+2^-6 (even)
    expect = [0x3F80, 0xC020, 0x3F80, 0x3F82, 0x4049, None, 0x7F80]
    for b, e in zip(bits, expect):
        assert e is None or b == e, (hex(b), hex(e))
    with tempfile.TemporaryDirectory() as d:
        t = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.ones(5, np.float32) / 3}
        for dt in DTYPES:
            p = os.path.join(d, f"{dt}.safetensors")
            write_safetensors(p, t, dt)
            back = read_safetensors(p)
            assert back["a"].shape == (2, 3) and np.allclose(back["b"], 1 / 3, rtol=4e-3)
            with open(p, "rb") as f:
                (n,) = struct.unpack("<Q", f.read(8))
                assert n % 8 == 0 and json.loads(f.read(n))["__metadata__"] == {"format": "pt"}
    print("checkpoint_io self-test passed")


if __name__ == "__main__":
    _self_test()
