"""Minimal, dependency-free encoder/decoder for SentencePiece-style BPE tokenizer.json files
(Llama 2's 32,000 pieces: "▁" for spaces, "<0xNN>" byte fallback, ranked merges).

Part of the calibration bench in bench/trained/ (never a dependency of the C++ product).
Needs only the Python standard library (numpy for the .npy caches is used by corpora.py).

Why our own encoder: there is no PyPI here, so Hugging Face `tokenizers` cannot be installed, and
the bench must tokenize a few MB of text with exactly the tokenizer whose tokenizer.json is
copied beside every checkpoint (the lineage tool compares tokenizers and pairs embedding rows by
token, so the ids must be the real ones).

What it reproduces of tokenizers' BPE model (byte_fallback=true, no pre-tokenizer):
  * the normalizer of the file (a Sequence of Prepend / Replace steps, applied in order);
  * per "word" (here: the whole normalised text), characters in the vocabulary become symbols,
    others become the <0xNN> tokens of their UTF-8 bytes;
  * merges are applied lowest rank first, leftmost first among equal ranks, with the same
    "stale queue entry" check as tokenizers' Word::merge_all.
As no piece of the vocabulary contains "\n" (checked at load), no merge can cross a newline, so the
text is split at newlines and each line is encoded on its own — the same ids, much faster.
"""
import heapq
import json
import re

__all__ = ["BPETokenizer"]


class BPETokenizer:
    """Encoder/decoder built from a tokenizer.json of type BPE with byte fallback."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
        model = spec["model"]
        if model.get("type") != "BPE":
            raise ValueError(f"{path}: model type {model.get('type')!r}, expected BPE")
        if spec.get("pre_tokenizer") not in (None, {}):
            # A pre-tokenizer (e.g. Llama 3's regex split) would change how words are formed.
            raise ValueError(f"{path}: pre_tokenizer is set; this encoder handles only the "
                             "SentencePiece-style (Llama 2) layout")
        self.path = path
        self.vocab = dict(model["vocab"])
        self.pieces = [None] * len(self.vocab)
        for piece, i in self.vocab.items():
            self.pieces[i] = piece
        for tok in spec.get("added_tokens", []):
            if tok["id"] >= len(self.pieces):
                self.pieces.extend([None] * (tok["id"] + 1 - len(self.pieces)))
            self.pieces[tok["id"]] = tok["content"]
            self.vocab.setdefault(tok["content"], tok["id"])
        self.bos_id = self.vocab.get("<s>")
        self.eos_id = self.vocab.get("</s>")
        self.unk_id = self.vocab.get(model.get("unk_token") or "<unk>")
        self.byte_fallback = bool(model.get("byte_fallback"))
        self.byte_ids = [self.vocab.get(f"<0x{b:02X}>") for b in range(256)]
        if self.byte_fallback and None in self.byte_ids:
            raise ValueError(f"{path}: byte_fallback set but some <0xNN> pieces are missing")
        # merges: "a b" strings (older files) or [a, b] lists (newer files)
        self.merges = {}
        for rank, m in enumerate(model["merges"]):
            a, b = m.split(" ", 1) if isinstance(m, str) else m
            ia, ib, inew = self.vocab.get(a), self.vocab.get(b), self.vocab.get(a + b)
            if ia is None or ib is None or inew is None:
                continue  # tokenizers skips nothing here, but such merges cannot fire anyway
            self.merges.setdefault((ia, ib), (rank, inew))
        if any("\n" in p for p in self.vocab):
            raise ValueError(f"{path}: a piece contains a newline; line splitting would be wrong")
        self._normalizers = self._parse_normalizer(spec.get("normalizer"))
        self._cache = {}

    # ---- normaliser -------------------------------------------------------------------------
    @staticmethod
    def _parse_normalizer(spec):
        """Turn the normalizer JSON into a list of (kind, args) steps; unknown kinds are refused
        rather than silently ignored, because a skipped step would change every id."""
        if spec is None:
            return []
        steps = spec["normalizers"] if spec["type"] == "Sequence" else [spec]
        out = []
        for s in steps:
            if s["type"] == "Prepend":
                out.append(("prepend", s["prepend"]))
            elif s["type"] == "Replace":
                pat = s["pattern"]
                if "String" in pat:
                    out.append(("replace", pat["String"], s["content"]))
                else:
                    out.append(("regex", re.compile(pat["Regex"]), s["content"]))
            else:
                raise ValueError(f"unsupported normalizer step {s['type']}")
        return out

    def normalize(self, text):
        """Apply the file's normaliser (Llama 2: prepend "▁", then every " " becomes "▁")."""
        for step in self._normalizers:
            if step[0] == "prepend":
                # tokenizers' Prepend adds the string only to a non-empty input
                text = step[1] + text if text else text
            elif step[0] == "replace":
                text = text.replace(step[1], step[2])
            else:
                text = step[1].sub(step[2], text)
        return text

    # ---- BPE --------------------------------------------------------------------------------
    def _initial_symbols(self, s):
        syms = []
        vocab = self.vocab
        for ch in s:
            i = vocab.get(ch)
            if i is not None:
                syms.append(i)
            elif self.byte_fallback:
                syms.extend(self.byte_ids[b] for b in ch.encode("utf-8"))
            else:
                syms.append(self.unk_id)
        return syms

    def _bpe(self, s):
        """Merge the symbols of one newline-free segment: lowest rank first, leftmost first."""
        hit = self._cache.get(s)
        if hit is not None:
            return hit
        syms = self._initial_symbols(s)
        n = len(syms)
        if n >= 2:
            merges = self.merges
            nxt = list(range(1, n + 1))
            nxt[-1] = -1
            prv = list(range(-1, n - 1))
            alive = [True] * n
            heap = []
            for i in range(n - 1):
                m = merges.get((syms[i], syms[i + 1]))
                if m is not None:
                    heap.append((m[0], i, m[1]))
            heapq.heapify(heap)
            while heap:
                _, i, new_id = heapq.heappop(heap)
                if not alive[i]:
                    continue
                j = nxt[i]
                if j == -1:
                    continue
                m = merges.get((syms[i], syms[j]))
                if m is None or m[1] != new_id:
                    continue  # stale entry: the pair at i changed since it was queued
                syms[i] = new_id
                alive[j] = False
                k = nxt[j]
                nxt[i] = k
                if k != -1:
                    prv[k] = i
                p = prv[i]
                if p != -1:
                    m = merges.get((syms[p], syms[i]))
                    if m is not None:
                        heapq.heappush(heap, (m[0], p, m[1]))
                if k != -1:
                    m = merges.get((syms[i], syms[k]))
                    if m is not None:
                        heapq.heappush(heap, (m[0], i, m[1]))
            out, i = [], 0
            while i != -1:
                out.append(syms[i])
                i = nxt[i]
            syms = out
        if len(self._cache) < 500_000 and len(s) < 400:
            self._cache[s] = syms
        return syms

    def encode(self, text, add_bos=False):
        """Token ids of `text` (no special tokens unless add_bos)."""
        ids = [self.bos_id] if add_bos else []
        norm = self.normalize(text)
        lines = norm.split("\n")
        nl = self.vocab.get("\n")
        nl_ids = [nl] if nl is not None else [self.byte_ids[10]]
        for k, line in enumerate(lines):
            if k:
                ids.extend(nl_ids)
            if line:
                ids.extend(self._bpe(line))
        return ids

    def decode(self, ids):
        """Inverse of encode as tokenizers' decoder does it: "▁"→" ", byte pieces fused into
        UTF-8, one leading space stripped; special tokens dropped."""
        out = bytearray()
        for i in ids:
            if i in (self.bos_id, self.eos_id):
                continue
            p = self.pieces[i]
            if len(p) == 6 and p.startswith("<0x") and p.endswith(">"):
                out.append(int(p[3:5], 16))
            else:
                out.extend(p.replace("\u2581", " ").encode("utf-8"))
        text = out.decode("utf-8", errors="replace")
        return text[1:] if text.startswith(" ") else text

    def __len__(self):
        return len(self.pieces)


def _self_test(path):
    """Round-trip and sanity checks, run by `python3 bpe_tokenizer.py [tokenizer.json]`."""
    tok = BPETokenizer(path)
    samples = [
        "Hello world, this is the changelog of the package.",
        "  two leading spaces\tand a tab\nnew line ünïcödé 日本語 🙂 <0x41> \\fBbold\\fR",
        "The quick brown fox jumps over the lazy dog.",
        "",
    ]
    ok = True
    for s in samples:
        ids = tok.encode(s)
        back = tok.decode(ids)
        good = back == s
        ok &= good
        print(f"{'ok ' if good else 'BAD'} {len(s):3d} chars -> {len(ids):3d} ids  {s[:40]!r}")
        if not good:
            print("     decoded:", repr(back))
    for w in ["the", "and", "package", "version", "file", "license", "system", "Debian"]:
        ids = tok.encode(w)
        single = len(ids) == 1
        ok &= single or w == "Debian"
        print(f"{w!r:>12} -> {ids} {[tok.pieces[i] for i in ids]}")
    print("self-test", "passed" if ok else "FAILED")
    return ok


if __name__ == "__main__":
    import os
    import sys
    default = os.path.join(os.environ.get("LINEAGE_CACHE", os.path.expanduser("~/.cache/lineage")),
                           "tokenizers", "llama2", "tokenizer.json")
    sys.exit(0 if _self_test(sys.argv[1] if len(sys.argv) > 1 else default) else 1)
