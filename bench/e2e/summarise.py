#!/usr/bin/env python3
"""The table of scripts/bench-e2e: each run's wall time and phases (the slowest rank's seconds of
each, from report.json's manifest.rank_runs), the ratios the performance goals are stated in, and
the bare pass's figures held against the NumPy reference's.

usage: summarise.py RUNS_DIR SCALE RANKS...
"""
import datetime
import json
import math
import os
import platform
import sys

PHASES = ["matching", "blocks", "nulls", "other", "waiting"]


def load(path):
    with open(path) as f:
        return json.load(f)


def wall(runs, label):
    with open(os.path.join(runs, label + ".seconds")) as f:
        return float(f.read())


def phases(report):
    rows = report["manifest"].get("rank_runs", [])
    return {p: max((r["seconds_" + p] for r in rows), default=float("nan")) for p in PHASES}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def figure_differences(report, numpy_figures):
    keys = ["cosine", "pearson", "rel_l2", "bitwise_equal_fraction"]
    worst = [0.0] * 4
    matched = 0
    for row in report["tensors"]:
        reference = numpy_figures.get(row["a"])
        if reference is None or row["a"] != row["b"]:
            continue
        matched += 1
        for i, key in enumerate(keys):
            if row[key] is not None and math.isfinite(reference[i]):
                worst[i] = max(worst[i], abs(row[key] - reference[i]))
    return matched, dict(zip(keys, worst))


def main():
    runs, scale, ranks = sys.argv[1], sys.argv[2], [int(r) for r in sys.argv[3:]]
    first = load(os.path.join(runs, f"bare-{ranks[0]}", "report.json"))
    pair_bytes = sum(first["models"]["a"]["file_sizes"]) + sum(first["models"]["b"]["file_sizes"])
    print(f"## scripts/bench-e2e --scale {scale}: {first['summary']['tensor_pairs']} tensor pairs, "
          f"{pair_bytes / 1e9:.2f} GB the pair (BF16)\n")
    print(f"{cpu_model()}, {os.cpu_count()} cores, {datetime.date.today().isoformat()}; page cache warm; "
          "phases are the slowest rank's seconds (report.json manifest.rank_runs); the bare pass is the fastest of 3 runs, "
          "the NumPy script the fastest of 2, the defaults one run.\n")
    print("| run | ranks | wall s | " + " | ".join(p + " s" for p in PHASES) + " | wall / bare |")
    print("|---|---|---|" + "---|" * len(PHASES) + "---|")
    walls = {}
    for r in ranks:
        for kind in ("bare", "defaults"):
            label = f"{kind}-{r}"
            walls[label] = wall(runs, label)
            p = phases(load(os.path.join(runs, label, "report.json")))
            ratio = walls[label] / walls[f"bare-{r}"]
            print(f"| {kind} | {r} | {walls[label]:.2f} | " + " | ".join(f"{p[k]:.2f}" for k in PHASES) +
                  f" | {ratio:.1f} |")
    print()
    numpy_path = os.path.join(runs, "numpy.json")
    one = ranks[0]
    print(f"- defaults / bare ({one} rank): **{walls[f'defaults-{one}'] / walls[f'bare-{one}']:.1f}×** (goal ≤ 5)")
    if os.path.exists(numpy_path):
        numpy = load(numpy_path)
        print(f"- NumPy script: {numpy['seconds']:.2f} s for {numpy['tensors']} tensors; NumPy / bare ({one} rank): "
              f"**{numpy['seconds'] / walls[f'bare-{one}']:.1f}×** (goal ≥ 20)")
        matched, worst = figure_differences(first, load(os.path.join(runs, "numpy_figures.json")))
        print(f"- bare figures against NumPy's float64 ({matched} tensors): largest |difference| " +
              ", ".join(f"{k} {v:.1e}" for k, v in worst.items()))
    for r in ranks[1:]:
        print(f"- {one} rank / {r} ranks, defaults: **{walls[f'defaults-{one}'] / walls[f'defaults-{r}']:.2f}×**"
              f", bare: {walls[f'bare-{one}'] / walls[f'bare-{r}']:.2f}× (goal ≥ 1.8 on 2 cores)")
    for r in ranks:
        plan_path = os.path.join(runs, f"plan-{r}.json")
        if os.path.exists(plan_path):
            print_estimate(r, load(plan_path), load(os.path.join(runs, f"defaults-{r}", "report.json")))
        measured_path = os.path.join(runs, f"plan-measured-{r}.json")
        if os.path.exists(measured_path):
            plan = load(measured_path)
            factors = ", ".join(f"{k} {v:.2f}×" for k, v in plan["machine_speed"]["factors"].items())
            print_estimate(r, plan, load(os.path.join(runs, f"defaults-{r}", "report.json")),
                           f" at this machine's measured speed (--measure-speed: {factors} the rates' machine)")


def print_estimate(ranks, plan, report, speed=""):
    """`lineage plan`'s estimate of each phase against the slowest rank's measured seconds."""
    measured = phases(report)
    # The hidden rotation is estimated only for pairs whose B as it is fits below 0.9: the matching
    # phase's estimate is a range, its top end with the rotation.
    rows = [("matching", plan["estimated_matching_seconds"],
             plan["estimated_matching_seconds"] + plan["estimated_rotation_seconds"]),
            ("blocks", plan["estimated_block_seconds"], None), ("nulls", plan["estimated_null_seconds"], None),
            ("other", plan["estimated_other_seconds"], None)]
    parts = []
    for name, low, high in rows:
        seen = measured[name]
        nearest = low if high is None or seen <= low else min(high, seen)
        off = (nearest - seen) / seen * 100 if seen > 0 else float("nan")
        span = f"{low:.2f} s" if high is None else f"{low:.2f}–{high:.2f} s"
        where = "within the range" if high is not None and nearest == seen else f"{off:+.0f} %"
        if high is not None and seen > 0:
            where += f"; its low end {(low - seen) / seen * 100:+.0f} %"
        parts.append(f"{name} {span} / {seen:.2f} s ({where})")
    print(f"- `lineage plan` for {ranks} rank(s){speed}, estimated / measured: " + ", ".join(parts) +
          " (goal: within ±30 % for every phase)")
    if ranks > 1 and not speed:
        print_balance(plan, report)


def print_balance(plan, report):
    """Each rank's busy seconds after the matching phases (blocks, nulls, other), as dealt by the
    plan's estimate and as measured: how evenly the dealing spreads the work (issue 20, point 6)."""
    busy = ("blocks", "nulls", "other")
    estimated = [sum(r["estimated_seconds"][k] for k in busy) for r in plan["per_rank"]]
    measured = [sum(r["seconds_" + k] for k in busy) for r in sorted(report["manifest"]["rank_runs"],
                                                                       key=lambda r: r["rank"])]
    spread = lambda v: (max(v) - min(v)) / (sum(v) / len(v)) * 100
    pairs = ", ".join(f"rank {i} {m:.2f} / {e:.2f} s" for i, (m, e) in enumerate(zip(measured, estimated)))
    print(f"  - busy seconds per rank (blocks + nulls + other), measured / estimated: {pairs}; "
          f"spread (max − min) / mean: measured {spread(measured):.0f} %, estimated {spread(estimated):.0f} %")

if __name__ == "__main__":
    main()
