"""Checks tokenizers.json written by `lineage tokenizers` against what is known of the pair.

usage: check_tokenizers.py EXPECTATION DIR
  identical   A and B have the same vocabulary and merges (llama3 vs llama3_1)
  high        A and B are one family: most of A's pieces in B (llama3 vs qwen3)
  low         A and B are different families (llama2 vs llama3)
  extension   B extends A: every piece of A in B with its id (synth extend-vocab)
  spellings   A writes its merges as "a b" strings, B as ["a", "b"] pairs, and lineage read
              every merge of both (llama3 vs qwen3)
Prints the figures either way.
"""
import json
import math
import sys


def figures(document, section):
    f = document if section == "raw" else document["bytes"]
    return (f"{section}: size {f['size_a']} / {f['size_b']}, shared {f['shared']} "
            f"({100 * f['share_of_a']:.1f} % of A, {100 * f['share_of_b']:.1f} % of B), "
            f"Jaccard {f['jaccard']:.3f}, same id {f['same_id']}, merges shared {f['merges_shared']}, "
            f"merge Spearman {f['merge_rank_spearman']}")


def main():
    expectation, directory = sys.argv[1], sys.argv[2]
    with open(f"{directory}/tokenizers.json", encoding="utf-8") as stream:
        d = json.load(stream)
    b = d["bytes"]
    print(f"  {d['tokenizer_a']['path']} vs {d['tokenizer_b']['path']}")
    print("  " + figures(d, "raw"))
    print("  " + figures(d, "bytes"))
    problems = []

    def need(condition, text):
        if not condition:
            problems.append(text)

    for section in (d, b):
        for key in ("size_a", "size_b", "shared", "jaccard", "same_id"):
            need(key in section, f"missing {key}")
        union = section["size_a"] + section["size_b"] - section["shared"]
        need(math.isclose(section["jaccard"], section["shared"] / union), "jaccard is not shared / union")
    need("not of weights" in d["note"], "the note on what overlap means is missing")

    if expectation == "identical":
        for s in (d, b):
            need(s["size_a"] == s["size_b"] == s["shared"] == s["same_id"], "vocabularies differ")
            need(s["merges_a"] == s["merges_b"] == s["merges_shared"] > 0, "merges differ")
            need(s["merge_rank_spearman"] == 1.0, "merge ranks differ")
    elif expectation == "high":
        need(b["share_of_a"] > 0.8 and b["jaccard"] > 0.5, "overlap is not high")
        need(b["merge_rank_spearman"] is not None and b["merge_rank_spearman"] > 0.9, "merge order differs")
    elif expectation == "low":
        need(d["jaccard"] < 0.15, "raw overlap is not low")
        need(b["jaccard"] < 0.35, "byte overlap is not low")
        need(b["same_id"] < 100, "many shared tokens keep their ids")
        need(b["jaccard"] > d["jaccard"], "byte normalisation did not raise the overlap across families")
    elif expectation == "extension":
        need(d["shared"] == d["size_a"] == d["same_id"], "a parent piece is missing or moved")
        need(d["size_b"] > d["size_a"], "no piece was appended")
        need(d["merges_shared"] == d["merges_a"] and d["merge_rank_spearman"] == 1.0, "the parent's merges changed")
    elif expectation == "spellings":
        for side, spelling in (("tokenizer_a", str), ("tokenizer_b", list)):
            with open(d[side]["path"], encoding="utf-8") as stream:
                merges = json.load(stream)["model"]["merges"]
            need(all(isinstance(m, spelling) for m in merges), f"{side}'s merges are not all {spelling.__name__}")
            need(d[side]["merges"] == len(merges) > 0, f"{side}: {d[side]['merges']} merges read of {len(merges)}")
            print(f"  {side}: {len(merges)} merges spelled as {spelling.__name__}, all read")
    else:
        problems.append(f"unknown expectation {expectation}")
    for problem in problems:
        print(f"FAIL: {expectation}: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
