#!/usr/bin/python3
"""Trains the bench's population of tiny Llama-style models and writes its manifest.

Part of the calibration bench in bench/trained/ (never a dependency of the C++ product).
Needs Debian's torch and numpy (apt-get install --no-install-recommends python3-torch
python3-numpy; libopenblas0 strongly advised, see README.md); run with /usr/bin/python3.

Why a population: the lineage tool's false-positive rate is measured on pairs of *independent*
models that share everything but ancestry (same tokenizer, same architecture, same or similar
text), and its power on *derived* pairs (fine-tune, continued pre-training, a function-preserving
disguise). Every unordered pair of this population is one such trial (compare_population.sh).

Idempotent, like make: a model whose directory already holds model.safetensors and a
bench_training.json with the same recipe is kept; anything else is (re)built, parents first.
Everything lands in ${LINEAGE_CACHE:-$HOME/.cache/lineage}/trained/ — never inside the repo:
  <name>/            a Hugging Face checkpoint directory per model
  logs/<name>.log    its training log (loss curve)
  corpora/<corpus>/  the tokenized corpora
  population.json    the manifest

  /usr/bin/python3 bench/trained/make_population.py            # everything (~45–60 min)
  /usr/bin/python3 bench/trained/make_population.py --list     # the plan, what is cached
  /usr/bin/python3 bench/trained/make_population.py --only seed1 --skip-optional
"""
import argparse
import filecmp
import json
import os
import shutil
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ inside the repository

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpora  # noqa: E402  (numpy only; torch is loaded by the subprocesses)

PRETRAIN_STEPS = 200
PRETRAIN_LR = 3e-3

# The population. kind: "scratch" (seeded init), "train" (from parent's weights), "disguise"
# (function-preserving transform of the parent, no training). Parents come before children.
POPULATION = [
    dict(name="seed1", kind="scratch", corpus="doc", seed=1, steps=PRETRAIN_STEPS, lr=PRETRAIN_LR),
    # function-preserving disguise: permuted/sign-flipped residual stream, permuted neurons and
    # heads, norm scales folded into the next matrices, v/o and q/k rescaled
    dict(name="seed1_disguise", kind="disguise", parent="seed1", corpus="doc", seed=13, steps=0),
    dict(name="seed2", kind="scratch", corpus="doc", seed=2, steps=PRETRAIN_STEPS, lr=PRETRAIN_LR),
    dict(name="seed3", kind="scratch", corpus="doc", seed=3, steps=PRETRAIN_STEPS, lr=PRETRAIN_LR),
    dict(name="seed4", kind="scratch", corpus="man", seed=4, steps=PRETRAIN_STEPS, lr=PRETRAIN_LR),
    dict(name="seed5", kind="scratch", corpus="man", seed=5, steps=PRETRAIN_STEPS, lr=PRETRAIN_LR),
    # fine-tune: 150 steps (~1.3 passes over the small third corpus), a tenth of the peak lr
    dict(name="seed1_ft_legal", kind="train", parent="seed1", corpus="legal", seed=11,
         steps=150, lr=3e-4),
    # continued pre-training: as many steps as the original, on other text, a third of its lr
    dict(name="seed1_cpt_man", kind="train", parent="seed1", corpus="man", seed=12,
         steps=PRETRAIN_STEPS, lr=1e-3),
    dict(name="seed4_ft_doc", kind="train", parent="seed4", corpus="doc", seed=41,
         steps=150, lr=3e-4),
    # disguises cost seconds: one of another root, and one of a fine-tune (fine-tune, then hide)
    dict(name="seed4_disguise", kind="disguise", parent="seed4", corpus="man", seed=43, steps=0),
    dict(name="seed1_ft_legal_disguise", kind="disguise", parent="seed1_ft_legal",
         corpus="legal", seed=14, steps=0),
    # optional: another width (hidden 96, 3 heads, 1 kv head, intermediate 288), independent
    dict(name="seed6_h96", kind="scratch", corpus="doc", seed=6, steps=PRETRAIN_STEPS,
         lr=PRETRAIN_LR, size=dict(hidden=96, heads=3, kv_heads=1, intermediate=288),
         optional=True),
]


def trained_root():
    return os.path.join(corpora.cache_root(), "trained")


def model_dir(name):
    return os.path.join(trained_root(), name)


def recipe_key(spec, dtype):
    """What must match for a cached model to be reused."""
    return {"corpus": spec["corpus"], "seed": spec["seed"], "steps": spec["steps"],
            "lr": spec.get("lr"), "parent": spec.get("parent"), "dtype": dtype,
            "size": spec.get("size")}


def cached_record(spec, dtype):
    """The model's bench_training.json when it is complete and of the same recipe, else None."""
    d = model_dir(spec["name"])
    rec_path = os.path.join(d, "bench_training.json")
    if not (os.path.exists(os.path.join(d, "model.safetensors")) and os.path.exists(rec_path)):
        return None
    with open(rec_path) as f:
        rec = json.load(f)
    if rec.get("recipe") != recipe_key(spec, dtype):
        return None
    if spec.get("parent"):  # a parent rebuilt after its child makes the child stale
        parent_file = os.path.join(model_dir(spec["parent"]), "model.safetensors")
        if (not os.path.exists(parent_file) or os.path.getmtime(parent_file)
                > os.path.getmtime(os.path.join(d, "model.safetensors"))):
            return None
    return rec


def command_for(spec, dtype):
    """The train.py / disguise.py command line that builds `spec`."""
    out = model_dir(spec["name"])
    if spec["kind"] == "disguise":
        return [sys.executable, os.path.join(HERE, "disguise.py"), "--parent",
                model_dir(spec["parent"]), "--out", out, "--seed", str(spec["seed"]),
                "--corpus", spec["corpus"], "--dtype", dtype]
    cmd = [sys.executable, os.path.join(HERE, "train.py"), "--out", out,
           "--corpus", spec["corpus"], "--seed", str(spec["seed"]), "--steps", str(spec["steps"]),
           "--lr", str(spec["lr"]), "--dtype", dtype]
    if spec["kind"] == "train":
        cmd += ["--parent", model_dir(spec["parent"])]
    for k, v in (spec.get("size") or {}).items():
        cmd += ["--" + k.replace("_", "-"), str(v)]
    return cmd


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def acquire_lock(name):
    """A lock file per model (<name>.lock holding the builder's pid), so that two drivers run
    side by side (e.g. `--only seed2` and `--only seed4` on an otherwise idle machine) never
    build the same model twice. Waits while another live process holds it; removes a stale one.
    Returns the lock path, or None when the model got built by the other process meanwhile."""
    path = model_dir(name) + ".lock"
    while True:
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            return path
        except FileExistsError:
            try:
                with open(path) as f:
                    pid = int(f.read().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and _pid_alive(pid):
                print(f"{name}: being built by process {pid}; waiting", flush=True)
                while _pid_alive(pid) and os.path.exists(path):
                    time.sleep(10)
                return None
            os.remove(path)  # stale: its process is gone


def build(spec, dtype, threads=2):
    """Run the builder as a subprocess (a fresh torch per model), log to logs/<name>.log, then
    stamp the recipe into bench_training.json so a rerun knows the model is up to date."""
    lock = acquire_lock(spec["name"])
    if lock is None:
        rec = cached_record(spec, dtype)
        if rec is None:
            raise SystemExit(f"{spec['name']}: the other builder did not finish it")
        return rec
    try:
        return _build_locked(spec, dtype, threads)
    finally:
        os.remove(lock)


def _build_locked(spec, dtype, threads):
    logs = os.path.join(trained_root(), "logs")
    os.makedirs(logs, exist_ok=True)
    log_path = os.path.join(logs, spec["name"] + ".log")
    cmd = command_for(spec, dtype) + ["--threads", str(threads)]
    print("+ " + " ".join(cmd), flush=True)
    t0 = time.time()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            log.write(line)
            log.flush()
        if proc.wait() != 0:
            raise SystemExit(f"building {spec['name']} failed (exit {proc.returncode}); "
                             f"log: {log_path}")
    rec_path = os.path.join(model_dir(spec["name"]), "bench_training.json")
    with open(rec_path) as f:
        rec = json.load(f)
    rec["recipe"] = recipe_key(spec, dtype)
    rec["wall_seconds"] = round(time.time() - t0, 1)
    with open(rec_path, "w") as f:
        json.dump(rec, f, indent=1)
    return rec


def write_manifest(records, dtype):
    """population.json: every model with its corpus, seed, parent, steps, losses and timing."""
    models = []
    for spec, rec in records:
        models.append({
            "name": spec["name"], "path": model_dir(spec["name"]),
            "kind": spec["kind"], "corpus": spec["corpus"], "seed": spec["seed"],
            "parent": spec.get("parent"), "steps": spec["steps"], "lr": spec.get("lr"),
            "hidden_size": rec["config"]["hidden_size"],
            "num_hidden_layers": rec["config"]["num_hidden_layers"],
            "parameters": rec.get("parameters"),
            "initial_loss": rec.get("initial_loss"), "final_loss": rec.get("final_loss"),
            "initial_eval_loss": rec.get("initial_eval_loss"),
            "final_eval_loss": rec.get("final_eval_loss"),
            "published_eval_loss": rec.get("published_eval_loss"),
            "train_seconds": rec.get("train_seconds"), "wall_seconds": rec.get("wall_seconds"),
        })
    manifest = {"format": "lineage-bench-population", "format_version": 1, "dtype": dtype,
                "tokenizer": corpora.default_tokenizer_path(), "root": trained_root(),
                "corpora": {c: os.path.join(trained_root(), "corpora", c, "corpus.json")
                            for c in corpora.CORPORA},
                "models": models}
    path = os.path.join(trained_root(), "population.json")
    with open(path + ".tmp", "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(path + ".tmp", path)
    return path


def sync_tokenizer_files(spec):
    """Give a model the bench's tokenizer_config.json when it lacks one (models built before the
    config could be had); tokenizer.json must already be the same bytes."""
    src_dir, d = corpora.bench_tokenizer_dir(), model_dir(spec["name"])
    tj = os.path.join(d, "tokenizer.json")
    if not filecmp.cmp(tj, os.path.join(src_dir, "tokenizer.json"), shallow=False):
        raise SystemExit(f"{tj} differs from the bench's tokenizer.json")
    cfg = os.path.join(src_dir, "tokenizer_config.json")
    if os.path.exists(cfg) and not os.path.exists(os.path.join(d, "tokenizer_config.json")):
        shutil.copyfile(cfg, os.path.join(d, "tokenizer_config.json"))


def present_models(dtype):
    """Write the manifest of every model present and up to date — also those built by earlier
    runs or left out of this one. Returns (manifest path, [(spec, record)])."""
    present = [(spec, rec) for spec in POPULATION
               for rec in [cached_record(spec, dtype)] if rec is not None]
    return write_manifest(present, dtype), present


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dtype", choices=("BF16", "F32"), default="BF16")
    ap.add_argument("--skip-optional", action="store_true",
                    help="leave out the optional models (another width)")
    ap.add_argument("--only", action="append", default=[],
                    help="build only this model (and its missing ancestors); repeatable")
    ap.add_argument("--list", action="store_true", help="print the plan and what is cached")
    ap.add_argument("--threads", type=int, default=2, help="torch threads per model")
    args = ap.parse_args()

    plan = [s for s in POPULATION if not (args.skip_optional and s.get("optional"))]
    if args.only:
        wanted, names = set(), set(args.only)
        by_name = {s["name"]: s for s in POPULATION}
        for n in names:
            while n:
                if n not in by_name:
                    raise SystemExit(f"unknown model {n}")
                wanted.add(n)
                n = by_name[n].get("parent")
        plan = [s for s in POPULATION if s["name"] in wanted]
    if args.list:
        for s in plan:
            state = "cached" if cached_record(s, args.dtype) else "to build"
            print(f"{s['name']:24s} {s['kind']:8s} corpus={s['corpus']:5s} seed={s['seed']:<3d} "
                  f"parent={s.get('parent') or '-':14s} steps={s['steps']:<4d} {state}")
        return

    corpora.prepare_tokenizer()
    for c in sorted({s["corpus"] for s in plan}):
        corpora.load_or_build(c)
    t0 = time.time()
    for spec in plan:
        if cached_record(spec, args.dtype) is None:
            build(spec, args.dtype, args.threads)
            present_models(args.dtype)  # manifest after every model: pairs can be compared early
        else:
            print(f"{spec['name']}: cached ({model_dir(spec['name'])})", flush=True)
        sync_tokenizer_files(spec)
    path, present = present_models(args.dtype)
    print(f"\n{'model':24s} {'corpus':6s} {'parent':14s} {'steps':>5s} {'loss0':>7s} "
          f"{'loss':>7s} {'eval':>7s} {'seconds':>8s}")
    for spec, rec in present:
        print(f"{spec['name']:24s} {spec['corpus']:6s} {spec.get('parent') or '-':14s} "
              f"{spec['steps']:5d} {rec['initial_loss']:7.3f} {rec['final_loss']:7.3f} "
              f"{rec['final_eval_loss']:7.3f} {rec.get('wall_seconds', 0):8.0f}")
    print(f"manifest: {path} ({len(present)} models; this run {time.time() - t0:.0f} s)")


if __name__ == "__main__":
    main()
