#!/usr/bin/python3
"""Trains one tiny Llama-style language model (from scratch, or from a parent checkpoint for a
derivative) and writes it as a Hugging Face checkpoint directory.

Part of the calibration bench in bench/trained/ (never a dependency of the C++ product).
Needs Debian's torch and numpy: apt-get install --no-install-recommends python3-torch
python3-numpy; run with /usr/bin/python3 (another python3 on PATH may lack Debian's packages).

Why: the lineage tool's false-positive rate must be measured on models that were really trained
(independently, on the same kind of text with the same tokenizer), and its power on real
derivatives (fine-tuning, continued pre-training). Random or synthetic weights do not have the
structure training gives (norm weights away from 1, embedding geometry, aligned heads).

Recipe: AdamW (betas 0.9/0.95, weight decay on matrices and embeddings, not on norms), linear
warm-up then cosine decay to 10 % of the peak, gradient clipping at 1.0, batches of random
windows of the corpus' training part (the last 2 % of tokens are held out for the eval loss).
A derivative starts from its parent's *published* weights (as read back from its
model.safetensors, i.e. BF16-rounded by default), with a fresh optimiser, as a fine-tune would.

Output directory: model.safetensors, config.json, tokenizer.json, and bench_training.json (the
recipe, the loss curve, timings) which the lineage tool ignores.
"""
import argparse
import json
import math
import os
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ inside the repository

# Before torch loads OpenMP: busy-waiting OpenMP threads make small batched matmuls (attention)
# up to 100x slower as soon as another process shares the 2 cores; passive waiting costs nothing.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import checkpoint_io  # noqa: E402
import corpora  # noqa: E402
from model import LlamaForCausalLM, ModelConfig, check_hf_layout  # noqa: E402

HOLDOUT = 0.02
EVAL_BATCHES = 8


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", required=True, help="checkpoint directory to write")
    p.add_argument("--corpus", required=True, choices=corpora.CORPORA)
    p.add_argument("--seed", type=int, required=True,
                   help="decides the initial weights (from scratch) and the batch order")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    p.add_argument("--warmup", type=int, default=None, help="warm-up steps (default 10%%)")
    p.add_argument("--min-lr-ratio", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--parent", default=None, help="checkpoint directory to start from")
    p.add_argument("--dtype", choices=checkpoint_io.DTYPES, default="BF16")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--log-every", type=int, default=10)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--tokenizer", default=corpora.default_tokenizer_path())
    g = p.add_argument_group("model size (from scratch only; a derivative keeps its parent's)")
    d = ModelConfig()
    g.add_argument("--hidden", type=int, default=d.hidden_size)
    g.add_argument("--layers", type=int, default=d.num_hidden_layers)
    g.add_argument("--heads", type=int, default=d.num_attention_heads)
    g.add_argument("--kv-heads", type=int, default=d.num_key_value_heads)
    g.add_argument("--intermediate", type=int, default=d.intermediate_size)
    return p.parse_args(argv)


def lr_at(step, args):
    """Linear warm-up to the peak, cosine decay to min_lr_ratio × peak at the last step."""
    warm = args.warmup if args.warmup is not None else max(1, args.steps // 10)
    if step < warm:
        return args.lr * (step + 1) / warm
    t = (step - warm) / max(1, args.steps - warm)
    return args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


def make_optimizer(model, args):
    """AdamW; decay on 2-D weights (matrices, embedding), none on the RMSNorm vectors."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    return torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                              {"params": no_decay, "weight_decay": 0.0}],
                             lr=args.lr, betas=(0.9, 0.95), eps=1e-8)


class Batches:
    """Random windows of seq+1 tokens from the training part of a corpus, in an order fixed by
    the seed; a fixed set of eval windows from the held-out tail."""

    def __init__(self, tokens, seq, batch, seed):
        n = len(tokens)
        self.cut = int(n * (1 - HOLDOUT))
        self.tokens = torch.from_numpy(np.asarray(tokens, dtype=np.int64))
        self.seq, self.batch = seq, batch
        self.gen = torch.Generator().manual_seed(seed + 1_000_003)
        eg = torch.Generator().manual_seed(12345)  # same eval windows for every model
        starts = torch.randint(self.cut, n - seq - 1, (EVAL_BATCHES * batch,), generator=eg)
        self.eval = self._gather(starts).view(EVAL_BATCHES, batch, seq + 1)

    def _gather(self, starts):
        idx = starts[:, None] + torch.arange(self.seq + 1)[None, :]
        return self.tokens[idx]

    def next(self):
        starts = torch.randint(0, self.cut - self.seq - 1, (self.batch,), generator=self.gen)
        return self._gather(starts)


@torch.no_grad()
def eval_loss(model, batches):
    model.eval()
    losses = [model.loss(b).item() for b in batches.eval]
    model.train()
    return float(np.mean(losses))


def build_model(args):
    """A fresh seeded model, or the parent's published weights. Returns (model, parent_record)."""
    if args.parent:
        with open(os.path.join(args.parent, "config.json")) as f:
            cfg = ModelConfig.from_hf(json.load(f))
        model = LlamaForCausalLM(cfg)
        model.load_numpy_state(checkpoint_io.read_safetensors(
            os.path.join(args.parent, "model.safetensors")))
        parent = {"dir": os.path.abspath(args.parent)}
        rec = os.path.join(args.parent, "bench_training.json")
        if os.path.exists(rec):
            with open(rec) as f:
                parent["name"] = json.load(f).get("name")
        return model, parent
    cfg = ModelConfig(hidden_size=args.hidden, num_hidden_layers=args.layers,
                      num_attention_heads=args.heads, num_key_value_heads=args.kv_heads,
                      head_dim=args.hidden // args.heads, intermediate_size=args.intermediate,
                      max_position_embeddings=args.seq)
    torch.manual_seed(args.seed)
    return LlamaForCausalLM(cfg), None


def warn_if_slow_blas():
    """Debian's python3-torch uses the system BLAS (libblas.so.3). The reference BLAS is ~50x
    slower than OpenBLAS and turns minutes into hours: say so instead of silently crawling."""
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    a @ b
    t = time.time()
    for _ in range(4):
        a @ b
    gflops = 4 * 2 * 512 ** 3 / max(time.time() - t, 1e-9) / 1e9
    if gflops < 6:  # reference BLAS: ~4 on 2 cores; OpenBLAS: 50+ idle, 15+ on a busy machine
        print(f"warning: matrix products run at {gflops:.1f} GFLOP/s: is OpenBLAS installed "
              "(apt-get install --no-install-recommends libopenblas0-openmp)? Without it "
              "training is ~10x slower", file=sys.stderr, flush=True)


def train(args):
    torch.set_num_threads(args.threads)
    warn_if_slow_blas()
    t_start = time.time()
    tokens = corpora.load_or_build(args.corpus, args.tokenizer)
    model, parent = build_model(args)
    check_hf_layout(model)
    if model.cfg.max_position_embeddings < args.seq:
        raise SystemExit(f"--seq {args.seq} exceeds the model's {model.cfg.max_position_embeddings}")
    batches = Batches(tokens, args.seq, args.batch, args.seed)
    opt = make_optimizer(model, args)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"[{os.path.basename(args.out)}] corpus={args.corpus} ({len(tokens)} tokens) "
          f"seed={args.seed} parent={parent and parent.get('name')} params={n_params} "
          f"steps={args.steps} lr={args.lr}", flush=True)
    curve = []
    evals = [{"step": 0, "eval_loss": eval_loss(model, batches)}]
    print(f"  step 0 eval {evals[0]['eval_loss']:.4f}", flush=True)
    t_train = time.time()
    window = []
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args)
        loss = model.loss(batches.next())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        gnorm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item()
        opt.step()
        window.append(loss.item())
        curve.append(round(loss.item(), 5))
        if (step + 1) % args.log_every == 0 or step == 0:
            el = time.time() - t_train
            print(f"  step {step + 1:5d} loss {np.mean(window):.4f} lr {lr_at(step, args):.2e} "
                  f"gnorm {gnorm:.2f} {el / (step + 1):.2f} s/step", flush=True)
            window = []
        if (step + 1) % args.eval_every == 0 and step + 1 < args.steps:
            evals.append({"step": step + 1, "eval_loss": eval_loss(model, batches)})
            print(f"  step {step + 1} eval {evals[-1]['eval_loss']:.4f}", flush=True)
    train_seconds = time.time() - t_train
    tensors = model.numpy_state()
    evals.append({"step": args.steps, "eval_loss": eval_loss(model, batches)})
    # the loss of what is published (BF16-rounded weights) — what a reader of the file gets
    published = {k: checkpoint_io.bf16_bits_to_float32(checkpoint_io.float32_to_bf16_bits(v))
                 if args.dtype == "BF16" else v for k, v in tensors.items()}
    model.load_numpy_state(published)
    published_eval = eval_loss(model, batches)
    tail = curve[-20:]
    record = {
        "name": os.path.basename(os.path.normpath(args.out)),
        "corpus": args.corpus, "seed": args.seed,
        "parent": parent.get("name") if parent else None,
        "parent_dir": parent["dir"] if parent else None,
        "kind": "derived" if parent else "independent",
        "steps": args.steps, "lr": args.lr, "batch": args.batch, "seq": args.seq,
        "weight_decay": args.weight_decay, "dtype": args.dtype,
        "config": model.cfg.as_dict(), "parameters": n_params,
        "initial_loss": curve[0], "final_loss": round(float(np.mean(tail)), 5),
        "initial_eval_loss": round(evals[0]["eval_loss"], 5),
        "final_eval_loss": round(evals[-1]["eval_loss"], 5),
        "published_eval_loss": round(published_eval, 5),
        "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.time() - t_start, 1),
        "torch": torch.__version__, "threads": args.threads,
        "evals": evals, "loss_curve": curve,
    }
    checkpoint_io.write_checkpoint(args.out, tensors, model.cfg.as_dict(), args.dtype,
                                   args.tokenizer, extra_files={"bench_training.json": record})
    print(f"[{record['name']}] loss {record['initial_loss']:.3f} -> {record['final_loss']:.3f} "
          f"(eval {record['initial_eval_loss']:.3f} -> {record['final_eval_loss']:.3f}, "
          f"published {args.dtype} {record['published_eval_loss']:.3f}) in "
          f"{train_seconds:.0f} s -> {args.out}", flush=True)
    return record


if __name__ == "__main__":
    train(parse_args())
