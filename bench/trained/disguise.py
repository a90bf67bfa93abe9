#!/usr/bin/python3
"""Writes a function-preserving disguise of a checkpoint: the same function (same logits up to
BF16 rounding), different-looking weights. No training.

Part of the calibration bench in bench/trained/ (never a dependency of the C++ product).
Needs Debian's torch and numpy (python3-torch, python3-numpy); run with /usr/bin/python3.

Why: someone who wants to hide that B was taken from A can apply symmetries of the architecture
that change every tensor and none of the outputs. A lineage detector must see through them
(the lineage tool matches hidden dimensions, neurons and heads, and tests norm-folded rows).
Transforms applied, all exact symmetries of a Llama decoder:
  1. residual stream: one permutation with sign flips of the hidden dimensions, applied to the
     embedding's and every reading matrix's columns, every writing matrix's rows, the norms;
  2. norm scales: every RMSNorm weight multiplied by positive per-dimension factors, divided out
     of the columns of the matrices that read it (q/k/v, gate/up, lm_head);
  3. MLP neurons: a permutation per layer (gate/up rows, down columns);
  4. attention heads: the kv groups permuted, and the query heads within each group;
  5. per kv group, v rows × a and the o columns of its query heads ÷ a; q rows × b, k rows ÷ b
     (rotary acts on q and k linearly, so it commutes with the scale).
The script checks on held-out text that the disguised model's logits equal the parent's, and
records both eval losses.
"""
import argparse
import json
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ inside the repository

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see train.py

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint_io  # noqa: E402
import corpora  # noqa: E402
from model import LlamaForCausalLM, ModelConfig  # noqa: E402
from train import Batches, eval_loss  # noqa: E402


def disguise(t, cfg, rng):
    """Return a transformed copy of {name: float32 array} `t` computing the same function."""
    t = {k: v.copy() for k, v in t.items()}
    H, L, d = cfg.hidden_size, cfg.num_hidden_layers, cfg.head_dim
    nh, nkv = cfg.num_attention_heads, cfg.num_key_value_heads
    rep = nh // nkv
    # 1. residual stream: new dim i carries sign[i] * old dim perm[i]
    perm = rng.permutation(H)
    sign = rng.choice([-1.0, 1.0], size=H).astype(np.float32)

    def read(w):   # a matrix that reads the (normed) residual stream: columns
        return w[:, perm] * sign[None, :]

    def write(w):  # a matrix that writes into the residual stream: rows
        return w[perm, :] * sign[:, None]

    t["model.embed_tokens.weight"] = read(t["model.embed_tokens.weight"])
    t["lm_head.weight"] = read(t["lm_head.weight"])
    t["model.norm.weight"] = t["model.norm.weight"][perm]
    for l in range(L):
        p = f"model.layers.{l}."
        for n in ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                  "mlp.gate_proj", "mlp.up_proj"):
            t[p + n + ".weight"] = read(t[p + n + ".weight"])
        for n in ("self_attn.o_proj", "mlp.down_proj"):
            t[p + n + ".weight"] = write(t[p + n + ".weight"])
        for n in ("input_layernorm", "post_attention_layernorm"):
            t[p + n + ".weight"] = t[p + n + ".weight"][perm]

    # 2. norm scales folded into the readers
    def fold(norm_name, readers):
        c = np.exp(rng.normal(0.0, 0.5, size=H)).astype(np.float32)
        t[norm_name] = t[norm_name] * c
        for r in readers:
            t[r] = t[r] / c[None, :]

    fold("model.norm.weight", ["lm_head.weight"])
    for l in range(L):
        p = f"model.layers.{l}."
        fold(p + "input_layernorm.weight",
             [p + "self_attn.q_proj.weight", p + "self_attn.k_proj.weight",
              p + "self_attn.v_proj.weight"])
        fold(p + "post_attention_layernorm.weight",
             [p + "mlp.gate_proj.weight", p + "mlp.up_proj.weight"])

    for l in range(L):
        p = f"model.layers.{l}."
        # 3. MLP neurons
        pi = rng.permutation(cfg.intermediate_size)
        t[p + "mlp.gate_proj.weight"] = t[p + "mlp.gate_proj.weight"][pi]
        t[p + "mlp.up_proj.weight"] = t[p + "mlp.up_proj.weight"][pi]
        t[p + "mlp.down_proj.weight"] = t[p + "mlp.down_proj.weight"][:, pi]
        # 4. heads: new kv group g is old group gp[g]; new query head g*rep+j is old head
        #    gp[g]*rep + within[g][j] (query head i must stay with kv head i // rep)
        gp = rng.permutation(nkv)
        hp = np.concatenate([gp[g] * rep + rng.permutation(rep) for g in range(nkv)])

        def rows_by_head(w, order):
            return w.reshape(len(order), d, -1)[order].reshape(w.shape)

        q = rows_by_head(t[p + "self_attn.q_proj.weight"], hp)
        k = rows_by_head(t[p + "self_attn.k_proj.weight"], gp)
        v = rows_by_head(t[p + "self_attn.v_proj.weight"], gp)
        o = t[p + "self_attn.o_proj.weight"]
        o = o.reshape(o.shape[0], nh, d)[:, hp].reshape(o.shape)
        # 5. per-group scales: v × a, o ÷ a ; q × b, k ÷ b
        a = np.exp(rng.normal(0.0, 0.5, size=nkv)).astype(np.float32)
        b = np.exp(rng.normal(0.0, 0.5, size=nkv)).astype(np.float32)
        v = (v.reshape(nkv, d, -1) * a[:, None, None]).reshape(v.shape)
        k = (k.reshape(nkv, d, -1) / b[:, None, None]).reshape(k.shape)
        q = (q.reshape(nkv, rep * d, -1) * b[:, None, None]).reshape(q.shape)
        o = (o.reshape(o.shape[0], nkv, rep * d) / a[None, :, None]).reshape(o.shape)
        t[p + "self_attn.q_proj.weight"], t[p + "self_attn.k_proj.weight"] = q, k
        t[p + "self_attn.v_proj.weight"], t[p + "self_attn.o_proj.weight"] = v, o
    return t


@torch.no_grad()
def logits_of(cfg, tensors, ids):
    m = LlamaForCausalLM(cfg)
    m.load_numpy_state(tensors)
    m.eval()
    return m(ids)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--parent", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--corpus", default="doc", help="held-out text for the equality check")
    ap.add_argument("--dtype", choices=checkpoint_io.DTYPES, default="BF16")
    ap.add_argument("--tokenizer", default=corpora.default_tokenizer_path())
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.time()
    with open(os.path.join(args.parent, "config.json")) as f:
        cfg = ModelConfig.from_hf(json.load(f))
    parent = checkpoint_io.read_safetensors(os.path.join(args.parent, "model.safetensors"))
    new = disguise(parent, cfg, np.random.default_rng(args.seed))

    # the eval windows train.py uses (batch 32, seq 128), so the eval losses compare with the
    # parent's record; the logits are checked on the first 8 windows
    batches = Batches(corpora.load_or_build(args.corpus, args.tokenizer), 128, 32, args.seed)
    ids = batches.eval[0][:8, :-1]
    ref, got = logits_of(cfg, parent, ids), logits_of(cfg, new, ids)
    err = (ref - got).abs().max().item()
    print(f"[disguise] max |logit difference| in float32: {err:.2e} "
          f"(logit scale {ref.abs().max().item():.1f})", flush=True)
    if err > 1e-3 * max(1.0, ref.abs().max().item()):
        raise SystemExit("disguise is not function-preserving: bug")
    m = LlamaForCausalLM(cfg)
    m.load_numpy_state(parent)
    parent_eval = eval_loss(m, batches)
    published = {k: checkpoint_io.bf16_bits_to_float32(checkpoint_io.float32_to_bf16_bits(v))
                 if args.dtype == "BF16" else v for k, v in new.items()}
    m.load_numpy_state(published)
    published_eval = eval_loss(m, batches)
    changed = np.mean([np.mean(parent[k] != new[k]) for k in parent])
    print(f"[disguise] eval loss parent {parent_eval:.4f}, disguised ({args.dtype}) "
          f"{published_eval:.4f}; {100 * changed:.1f}% of elements changed", flush=True)

    parent_name = os.path.basename(os.path.normpath(args.parent))
    record = {"name": os.path.basename(os.path.normpath(args.out)), "kind": "derived",
              "transform": "disguise", "corpus": args.corpus, "seed": args.seed,
              "parent": parent_name, "parent_dir": os.path.abspath(args.parent),
              "steps": 0, "dtype": args.dtype, "config": cfg.as_dict(),
              "parameters": int(sum(v.size for v in new.values())),
              "initial_loss": round(parent_eval, 5), "final_loss": round(published_eval, 5),
              "initial_eval_loss": round(parent_eval, 5),
              "final_eval_loss": round(published_eval, 5),
              "published_eval_loss": round(published_eval, 5),
              "max_logit_difference_f32": err, "fraction_changed": float(changed),
              "train_seconds": 0.0, "total_seconds": round(time.time() - t0, 1)}
    checkpoint_io.write_checkpoint(args.out, new, cfg.as_dict(), args.dtype, args.tokenizer,
                                   extra_files={"bench_training.json": record})
    print(f"[disguise] wrote {args.out}", flush=True)


if __name__ == "__main__":
    main()
