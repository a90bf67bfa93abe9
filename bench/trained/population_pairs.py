#!/usr/bin/python3
"""Pairs and scoring for compare_population.sh: which pairs of the population are related, and
the table of the lineage tool's verdicts with false-positive and detection counts.

Part of the calibration bench in bench/trained/ (never a dependency of the C++ product).
Standard library only.

  population_pairs.py pairs MANIFEST           -> lines "pathA pathB nameA nameB relation detail"
                                                  (tab-separated)
  population_pairs.py table MANIFEST OUT_ROOT  -> the table (and OUT_ROOT/summary.{json,tsv})

Ground truth: two models are "derived" when their lineages meet — one descends from the other
(parent–child, grandparent–grandchild) or both from a common ancestor (siblings, e.g. two
fine-tunes of seed1) — and "independent" otherwise (their initial weights came from different
seeds; same corpus or not). A sibling pair counts as derived: its weights share an origin, which
is what the tool is asked about.
"""
import itertools
import json
import os
import sys

CLAIMS_DERIVATION = ("derived", "identical")


def load_models(manifest_path):
    with open(manifest_path) as f:
        return json.load(f)["models"]


def lineage_of(name, parents):
    """The model and all its ancestors, nearest first."""
    chain = []
    while name is not None:
        chain.append(name)
        name = parents.get(name)
    return chain


def relation(a, b, parents):
    """("derived"|"independent", detail) for models a, b."""
    la, lb = lineage_of(a, parents), lineage_of(b, parents)
    if a in lb:
        return "derived", f"{a} is an ancestor of {b}" if lb.index(a) > 1 else f"{a} is the parent"
    if b in la:
        return "derived", f"{b} is an ancestor of {a}" if la.index(b) > 1 else f"{b} is the parent"
    common = [x for x in la if x in lb]
    if common:
        return "derived", f"siblings via {common[0]}"
    return "independent", "different seeds"


def pairs(models):
    parents = {m["name"]: m.get("parent") for m in models}
    for ma, mb in itertools.combinations(models, 2):
        rel, detail = relation(ma["name"], mb["name"], parents)
        yield ma, mb, rel, detail


def pair_dir(out_root, a, b):
    return os.path.join(out_root, f"{a}__{b}")


def tool_of(path):
    """"lineage <version> (<git hash>)" from a report's manifest, to say which binary judged."""
    try:
        with open(os.path.join(path, "report.json")) as f:
            m = json.load(f).get("manifest", {})
        return f"lineage {m.get('tool_version', '?')} ({m.get('git_hash', '?')})"
    except (OSError, ValueError):
        return None


def read_report(path):
    """(label, p_global, alpha) from OUT/report.json, or ("error: <last log line>", None, None)."""
    rj = os.path.join(path, "report.json")
    if not os.path.exists(rj):
        log = os.path.join(path, "lineage.log")
        last = ""
        if os.path.exists(log):
            with open(log, errors="replace") as f:
                lines = [ln.strip() for ln in f if ln.strip()]
            last = lines[-1][:60] if lines else ""
        return f"error: {last or 'no report.json'}", None, None
    with open(rj) as f:
        rep = json.load(f)
    v = rep.get("verdict", {})
    return v.get("label", "?"), v.get("p_global"), v.get("alpha")


def fmt_p(p):
    if p is None:
        return "-"
    return f"{p:.2e}" if p < 1e-3 else f"{p:.4f}"


def table(manifest_path, out_root, alpha=0.01):
    models = load_models(manifest_path)
    rows = []
    for ma, mb, rel, detail in pairs(models):
        d = pair_dir(out_root, ma["name"], mb["name"])
        label, p, a = read_report(d)
        secs = None
        tf = os.path.join(d, "seconds")
        if os.path.exists(tf):
            with open(tf) as f:
                secs = float(f.read().strip() or 0)
        rows.append({"a": ma["name"], "b": mb["name"], "relation": rel, "detail": detail,
                     "verdict": label, "p_global": p, "alpha": a, "seconds": secs})
    w = max(len(f"{r['a']} vs {r['b']}") for r in rows) if rows else 10
    print(f"{'pair':{w}s}  {'relation':11s}  {'detail':28s}  {'verdict':26s}  {'global p':>9s}  "
          f"{'s':>5s}")
    for r in sorted(rows, key=lambda r: (r["relation"], r["a"], r["b"])):
        secs = "-" if r["seconds"] is None else f"{r['seconds']:.0f}"
        print(f"{r['a'] + ' vs ' + r['b']:{w}s}  {r['relation']:11s}  {r['detail'][:28]:28s}  "
              f"{r['verdict'][:26]:26s}  {fmt_p(r['p_global']):>9s}  {secs:>5s}")

    def count(rel, pred):
        return sum(1 for r in rows if r["relation"] == rel and pred(r))

    n_ind = count("independent", lambda r: True)
    n_der = count("derived", lambda r: True)
    fp_label = count("independent", lambda r: r["verdict"] in CLAIMS_DERIVATION)
    fp_p = count("independent", lambda r: r["p_global"] is not None and r["p_global"] <= alpha)
    det_label = count("derived", lambda r: r["verdict"] in CLAIMS_DERIVATION)
    det_p = count("derived", lambda r: r["p_global"] is not None and r["p_global"] <= alpha)
    inc = sum(1 for r in rows if r["verdict"] == "inconclusive")
    err = sum(1 for r in rows if r["verdict"].startswith("error"))
    tools = sorted({t for t in (tool_of(pair_dir(out_root, r["a"], r["b"])) for r in rows) if t})
    summary = {
        "alpha": alpha, "pairs": len(rows), "independent_pairs": n_ind, "derived_pairs": n_der,
        "false_positives_by_verdict": fp_label, "false_positives_by_p": fp_p,
        "detections_by_verdict": det_label, "detections_by_p": det_p,
        "inconclusive": inc, "errors": err, "tools": tools, "rows": rows,
    }
    print()
    print("judged by: " + ("; ".join(tools) if tools else "-"))
    print(f"false positives among independent pairs at alpha={alpha}: "
          f"{fp_label}/{n_ind} by verdict (label derived/identical), {fp_p}/{n_ind} by global p")
    print(f"detections among derived pairs: {det_label}/{n_der} by verdict, "
          f"{det_p}/{n_der} by global p")
    print(f"inconclusive verdicts: {inc}; runs without a report: {err}")
    os.makedirs(out_root, exist_ok=True)
    with open(os.path.join(out_root, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    with open(os.path.join(out_root, "summary.tsv"), "w") as f:
        f.write("a\tb\trelation\tdetail\tverdict\tp_global\tseconds\n")
        for r in rows:
            f.write(f"{r['a']}\t{r['b']}\t{r['relation']}\t{r['detail']}\t{r['verdict']}\t"
                    f"{r['p_global']}\t{r['seconds']}\n")
    return summary


def main(argv):
    if len(argv) >= 2 and argv[0] == "pairs":
        for ma, mb, rel, detail in pairs(load_models(argv[1])):
            print(f"{ma['path']}\t{mb['path']}\t{ma['name']}\t{mb['name']}\t{rel}\t{detail}")
        return 0
    if len(argv) >= 3 and argv[0] == "table":
        alpha = float(argv[3]) if len(argv) > 3 else 0.01
        table(argv[1], argv[2], alpha)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
