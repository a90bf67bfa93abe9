"""Checks of the embedding evidence of shared tokens (e2e.embeddings).

  check_embeddings.py paired DIR A B --by tokens|key [--same-ids] [--hidden] [--significant | --not-significant]
      the embedding and lm_head pairs of DIR/report.json are paired as said and tested in the
      "hidden dimensions" unit by permuting their columns (all of them, rows untouched, never read
      through a hidden order); with --by tokens their rows are the shared tokens of the tokenizers
      (A's id = B's id where --same-ids), the Pearson over those rows equals numpy's from the
      safetensors files, and "tokenizers.embedding_pairing" and /tokenizers/embedding_pairing say
      so. --significant: the embedding's p and the "hidden dimensions" family significant;
      --not-significant: neither (the embedding's p above 1e-3).
      --hidden: B's hidden dimensions were permuted: the hidden matching on the shared tokens' rows
      recovers the recorded permutation and reads the later units through it; with --significant
      the derived verdict is carried by those units' families ("attention heads", "attention
      values", "neurons") alone, while the "hidden dimensions" family, which compares the
      embedding in place, is not significant.
  check_embeddings.py tokenizers DIR TOKENIZERS_JSON
      the "tokenizers" object (and /tokenizers) holds the figures `lineage tokenizers` wrote.
  check_embeddings.py unavailable DIR
      no tokenizer evidence, with a reason, and the embedding pairs by key.
  check_embeddings.py same-bits DIR1 DIR2
      the token-row pairs' figures and nulls are equal bit for bit in both reports.
"""
import argparse
import json
import math
import os

import numpy as np

from reportlib import Checker, load_json, open_h5, read_model, recorded_provenance, reference_figures, text

TOKEN_ROLES = ("embed_tokens.weight", "lm_head.weight")
# The families of the units tested after the hidden unit, which read B through the hidden order.
LATER = ("attention heads", "attention values", "neurons")
# Figures lineage takes from its tokenizer and computes itself, not the comparison's.
DESCRIPTIVE = ("tool_version", "git_hash", "available", "embedding_pairing")


def token_pairs(report):
    return [t for t in report["tensors"] if t["role"] in TOKEN_ROLES]


def shared_ids(directory_a, directory_b):
    """(id in A, id in B) of the pieces both generated tokenizers have (byte-level BPE: the pieces
    of one spelling, so raw equality is byte equality)."""
    def vocab(directory):
        with open(os.path.join(directory, "tokenizer.json"), encoding="utf-8") as stream:
            return json.load(stream)["model"]["vocab"]
    va, vb = vocab(directory_a), vocab(directory_b)
    return sorted((ida, vb[piece]) for piece, ida in va.items() if piece in vb)


def check_paired(c, args):
    report = load_json(args.directory)
    alpha = report["verdict"]["alpha"]
    pairs = token_pairs(report)
    c.equal(sorted(t["role"] for t in pairs), sorted(TOKEN_ROLES), "token-row pairs")
    tensors_a, tensors_b = read_model(args.model_a), read_model(args.model_b)
    ids = shared_ids(args.model_a, args.model_b)
    listed = report["tokenizers"]["embedding_pairing"]
    for t in pairs:
        what = f"{t['role']}"
        null = t["null"]
        if c.check(null["available"], f"{what}: no null ({null.get('reason')})"):
            c.equal(null["unit"], "columns (hidden)", f"{what}: null.unit")
            c.equal(null["test_unit"], "hidden dimensions", f"{what}: null.test_unit")
            c.equal(null["subset"], False, f"{what}: the null leaves columns out")
        c.check(t.get("excluded_rows") is None, f"{what}: excluded rows {t.get('excluded_rows')}")
        # The hidden order was chosen on the embedding; the hidden unit's test would not survive it.
        c.check("hidden matching" not in t["pairing"], f"{what}: read through the hidden order ({t['pairing']!r})")
        if args.by == "key":
            c.equal(t["pairing"], "key", f"{what}: pairing")
            c.check("rows" not in t, f"{what}: explicit rows on a pair by key")
            continue
        c.check(t["pairing"].startswith("shared tokens"), f"{what}: pairing {t['pairing']!r}")
        rows_a, rows_b = t["rows"]["a"], t["rows"]["b"]
        c.equal(list(zip(rows_a, rows_b)), [p for p in ids if p[0] < t["shape"][0] and p[1] < t["shape_b"][0]],
                f"{what}: rows = the shared tokens' ids")
        if args.same_ids:
            c.equal(rows_a, rows_b, f"{what}: A's id is B's id for every shared token")
            c.equal(rows_a, list(range(t["shape"][0])), f"{what}: every row of A is a shared token")
        _, a = tensors_a[t["a"]]
        type_a, _ = tensors_a[t["a"]]
        type_b, b = tensors_b[t["b"]]
        width = t["shape"][1]
        x = a.reshape(-1, width)[rows_a].ravel()
        y = b.reshape(-1, width)[rows_b].ravel()
        want = reference_figures(type_a, x, type_b, y)
        c.check(math.isclose(t["pearson"], want["pearson"], rel_tol=1e-6, abs_tol=1e-9),
                f"{what}: pearson {t['pearson']} against numpy's {want['pearson']} over the shared rows")
        c.equal(t["elements"], x.size, f"{what}: elements = shared rows × width")
        entry = [e for e in listed if e["role"] == t["role"]]
        c.check(len(entry) == 1 and entry[0]["rows"] == len(rows_a) and entry[0]["rows_a"] == t["shape"][0],
                f"{what}: tokenizers.embedding_pairing entry {entry}")
    embedding = [t for t in pairs if t["role"] == "embed_tokens.weight"][0]
    p = embedding["p_value"]
    families = {f["name"]: f for f in report["families"]}
    hidden_family = families.get("hidden dimensions", {"significant": False})
    matched = [m for m in report["hidden_matching"] if m["available"] and m["aligned_pairs"] > 0]
    if args.hidden:
        perm = recorded_provenance(args.model_b, "hidden_permutation")
        if c.check(len(matched) == 1, "the hidden order was not applied"):
            c.check(matched[0]["spearman"] > 0.99, f"hidden matching Spearman {matched[0]['spearman']}")
            c.equal(matched[0]["combined"], [perm.index(i) for i in range(len(perm))],
                    "hidden matching against the recorded permutation")
    else:
        c.equal(matched, [], "hidden orders applied")
    if args.significant and args.hidden:
        verdict = report["verdict"]
        c.equal(verdict["label"], "derived", "verdict")
        c.check(verdict["carried_by"] and set(verdict["carried_by"]) <= set(LATER),
                f"the verdict is carried by {verdict['carried_by']}, not by the later units alone")
        c.check(not hidden_family["significant"], "the hidden dimensions family saw through the permutation")
    elif args.significant:
        c.check(p is not None and p <= alpha, f"embedding p {p} not significant at {alpha}")
        c.check(hidden_family["significant"], f"the hidden dimensions family is not significant: {hidden_family}")
    if args.not_significant:
        # The family (Holm-adjusted over the families) is what the verdict reads; a single tensor's
        # p passes α by chance in a few percent of seeds, but not 10⁻³ for long.
        c.check(not hidden_family["significant"], f"the hidden dimensions family is significant: {hidden_family}")
        c.check(p is None or p > 1e-3, f"embedding p {p} below 1e-3 for unrelated weights")
    tested = report["verdict"]["invariances_tested"]
    mentions = [s for s in tested if s.startswith("vocabulary changes: embedding rows of shared tokens")]
    c.equal(len(mentions), 1 if args.by == "tokens" else 0, f"invariances_tested naming the shared tokens: {tested}")
    with open_h5(args.directory) as h5:
        group = h5["tokenizers"]
        c.equal(int(group.attrs["available"]), 1, "/tokenizers available")
        roles = [text(r) for r in group["embedding_pairing"]["role"][()]]
        c.equal(sorted(roles), sorted(e["role"] for e in listed), "/tokenizers/embedding_pairing roles")


def check_tokenizers(c, args):
    report = load_json(args.directory)
    with open(args.tokenizers_json, encoding="utf-8") as stream:
        standalone = json.load(stream)
    ours = report["tokenizers"]
    c.equal(ours["available"], True, "tokenizers.available")
    for key, value in standalone.items():
        if key not in DESCRIPTIVE:
            c.equal(ours.get(key), value, f"tokenizers.{key}")
    with open_h5(args.directory) as h5:
        group = h5["tokenizers"]
        for name, figures in (("", standalone), ("bytes", standalone["bytes"])):
            attrs = group[name].attrs if name else group.attrs
            for key, value in figures.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    c.check(key in attrs and float(attrs[key]) == float(value),
                            f"/tokenizers{'/' + name if name else ''} {key}: {attrs.get(key)} against {value}")


def check_unavailable(c, args):
    report = load_json(args.directory)
    ours = report["tokenizers"]
    c.equal(ours["available"], False, "tokenizers.available")
    c.check("tokenizer.json" in ours.get("reason", ""), f"tokenizers.reason {ours.get('reason')!r}")
    c.equal(ours["embedding_pairing"], [], "tokenizers.embedding_pairing")
    for t in token_pairs(report):
        c.equal(t["pairing"].split(",")[0], "key", f"{t['role']}: pairing without tokenizers")
    with open_h5(args.directory) as h5:
        c.equal(int(h5["tokenizers"].attrs["available"]), 0, "/tokenizers available")


def check_same_bits(c, args):
    first, second = (token_pairs(load_json(d)) for d in (args.first, args.second))
    c.equal(len(first), len(second), "token-row pairs in both reports")
    for x, y in zip(first, second):
        for key in ("pearson", "cosine", "rel_l2", "p_value"):
            c.equal(y[key], x[key], f"{x['role']}: {key} on another rank count")
        c.equal(y["null"], x["null"], f"{x['role']}: null on another rank count")


def main():
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    paired = commands.add_parser("paired")
    paired.add_argument("directory")
    paired.add_argument("model_a")
    paired.add_argument("model_b")
    paired.add_argument("--by", choices=("tokens", "key"), required=True)
    paired.add_argument("--same-ids", action="store_true")
    paired.add_argument("--hidden", action="store_true", help="B's hidden dimensions were permuted")
    paired.add_argument("--significant", action="store_true")
    paired.add_argument("--not-significant", action="store_true")
    tokenizers = commands.add_parser("tokenizers")
    tokenizers.add_argument("directory")
    tokenizers.add_argument("tokenizers_json")
    unavailable = commands.add_parser("unavailable")
    unavailable.add_argument("directory")
    same = commands.add_parser("same-bits")
    same.add_argument("first")
    same.add_argument("second")
    args = parser.parse_args()
    c = Checker(f"embeddings {args.command}")
    {"paired": check_paired, "tokenizers": check_tokenizers, "unavailable": check_unavailable,
     "same-bits": check_same_bits}[args.command](c, args)
    c.finish()


if __name__ == "__main__":
    main()
