"""docs/HDF5_SCHEMA.md against report.h5 files, read with h5py (e2e.h5_schema).

usage: check_h5_schema.py SCHEMA_MD REPORT_H5...

For each "### `/path`" section of the report.h5 chapter:
- the object exists in at least one of the reports (every documented object is exercised);
- every attribute and child of every matching object is named in its section (nothing written is
  undocumented); names may be documented as patterns (`merges_*`, `null_<s>_<q>`) or, where the
  section lists per-side suffixes (`_a`, `_b`), as stems;
- every name in the first column of a section's table exists in at least one report;
- every dataset and attribute reads in full, and the one-row-per-entry tables have columns of
  equal length (`/tensors` as many rows as the root attribute tensor_pairs, `/units` as many
  available rows as the `/verdict` attribute units), and every flat column of `/nulls` is as long
  as its last offset (one offset more than `/tensors` has rows).
"""
import re
import sys

import h5py
import numpy as np

from reportlib import Checker

TOKEN = re.compile(r"`([^`]+)`")


def sections(markdown):
    """[(patterns, body)] of the report.h5 chapter: patterns are regexes of object paths."""
    chapter = markdown.split("## report.h5", 1)[1].split("\n## ", 1)[0]
    out = []
    for block in chapter.split("\n### ")[1:]:
        heading, _, body = block.partition("\n")
        paths = [p for p in TOKEN.findall(heading) if p.startswith("/") or p.startswith("mtp_")]
        patterns = []
        for p in paths:
            if not p.startswith("/"):  # "`/expert_matching/layer_<L>` (and `mtp_<L>`)"
                p = patterns_parent + p
            regex = re.sub(r"<[A-Za-z]+>", "[^/]+", re.escape(p))
            patterns.append(re.compile("^" + regex + "$"))
            patterns_parent = p.rsplit("/", 1)[0] + "/"
        out.append((paths, patterns, body))
    return out


def name_matchers(body):
    """Predicates for the member names a section documents."""
    tokens = set()
    for t in TOKEN.findall(body):
        for part in re.split(r"[,\s]+", t):
            if part:
                tokens.add(part.strip("/").split("/")[-1])
    exact = {t for t in tokens if re.fullmatch(r"[a-z][a-z0-9_]*", t)}
    patterns = [re.compile("^" + re.sub(r"<[A-Za-z]+>", "[a-z0-9_]+", re.escape(t).replace(r"\*", "[a-z0-9_]+")) + "$")
                for t in tokens if "*" in t or "<" in t]
    suffixes = [s for s in ("_a", "_b") if s in tokens]

    def documented(name):
        if name in exact or any(p.match(name) for p in patterns):
            return True
        return any(name.endswith(s) and name[: -len(s)] in exact for s in suffixes)

    return documented, exact


def table_names(body):
    names = []
    for line in body.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names += [t for t in TOKEN.findall(first) if re.fullmatch(r"[a-z][a-z0-9_]*", t)]
    return names


def main(schema, reports):
    c = Checker("HDF5 schema")
    reported = set()

    def once(condition, message):
        if condition or message in reported:
            return
        reported.add(message)
        c.check(False, message)
    documented_sections = sections(open(schema, encoding="utf-8").read())
    # "the same figure columns as `/tensors`": a section may take another's names.
    bodies = {path: body for paths, _, body in documented_sections for path in paths}
    own_bodies = [body for _, _, body in documented_sections]
    documented_sections = [(paths, patterns, body + "".join(bodies[other] for other in re.findall(r"same[a-z\s]*columns\s+as\s+`([^`]+)`", body) if other in bodies))
                           for paths, patterns, body in documented_sections]
    files = [h5py.File(path, "r") for path in reports]
    objects = {}  # path -> [(file index, object)]
    for index, f in enumerate(files):
        f.visititems(lambda name, obj, index=index: objects.setdefault("/" + name, []).append((index, obj)))
        objects.setdefault("/", []).append((index, f))
    reads = 0
    sectioned = {p for p in objects for _, pats, _ in documented_sections if any(r.match(p) for r in pats)}
    for (paths, patterns, body), own_body in zip(documented_sections, own_bodies):
        documented, _ = name_matchers(body)
        matched = [p for p in objects if any(r.match(p) for r in patterns)]
        c.check(bool(matched), f"{', '.join(paths)}: documented but in none of the reports")
        present = set()
        for path in matched:
            for _, obj in objects[path]:
                members = list(obj.attrs.keys())
                if isinstance(obj, h5py.Group):
                    members += list(obj.keys())
                for name in members:
                    present.add(name)
                    child = f"{path.rstrip('/')}/{name}"
                    # A child group documented in a section of its own is not this section's member.
                    # A child documented in a section of its own (or holding such objects) is not this
                    # section's member.
                    if child != path and (child in sectioned or any(p.startswith(child + "/") for p in sectioned)):
                        continue
                    shown = re.sub(r"^/roles/[^/]+", "/roles/<role>", re.sub(r"_\d+$", "_<i>", path))
                    once(documented(name), f"{shown}: '{name}' is written but not named in its section of the schema")
                for name, value in obj.attrs.items():
                    np.asarray(value)
                    reads += 1
                if isinstance(obj, h5py.Dataset):
                    obj[()]
                    reads += 1
        for name in table_names(own_body):
            c.check(name in present, f"{', '.join(paths)}: table row '{name}' is in none of the reports")
    # Tables of one row per entry: equal column lengths.
    for index, f in enumerate(files):
        rows = int(f.attrs["tensor_pairs"])
        for name, obj in f["tensors"].items():
            c.equal(len(obj), rows, f"{reports[index]}: /tensors/{name} rows")
        nulls = f["nulls"]
        offsets = nulls["offsets"][()]
        c.equal(len(offsets), rows + 1, f"{reports[index]}: /nulls/offsets rows")
        for name, obj in nulls.items():
            if name != "offsets":
                c.equal(len(obj), int(offsets[-1]), f"{reports[index]}: /nulls/{name} length")
        c.equal(int(np.sum(f["units/available"][()])), int(f["verdict"].attrs["units"]),
                f"{reports[index]}: available /units rows against /verdict units")
        for table in ("unpaired", "units", "neuron_matching", "head_matching", "hidden_matching", "fingerprints",
                      "evidence/families", "evidence/layers"):
            if table not in f:
                continue
            lengths = {n: len(d) for n, d in f[table].items()
                       if isinstance(d, h5py.Dataset) and d.ndim == 1 and not n.startswith("combined")
                       and not n.startswith("test_") and not n.startswith("null") and n != "negated"
                       and n not in ("by_q", "by_k")}  # flat, at the combined offsets
            c.check(len(set(lengths.values())) <= 1, f"{reports[index]}: /{table}: columns of unequal length {lengths}")
    print(f"read {reads} datasets and attributes in {len(files)} reports")
    c.finish()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
