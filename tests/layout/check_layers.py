#!/usr/bin/env python3
"""layout.layers: every folder's code includes headers only of the folders its library may use.

The allowed uses are read from the build itself: each product folder's CMakeLists.txt defines one
library (add_library(lineage_<x> ...)) and links the libraries it uses (target_link_libraries); a
folder may include its own headers and those of every library it reaches through those links. The
docs/ARCHITECTURE.md table must list, for each folder, the same library and the same direct uses.
Prints one line per breach and exits 1 if there is any.
"""
import os
import re
import sys

root = sys.argv[1]
library_re = re.compile(r"add_library\(\s*(lineage_\w+)\s+(STATIC|SHARED|OBJECT|INTERFACE)?")
link_re = re.compile(r"target_link_libraries\(\s*(lineage_\w+)(.*?)\)", re.S)
include_re = re.compile(r'^\s*#\s*include\s+"([a-z0-9_]+)/[^"]+"', re.M)


def folders_and_libraries():
    out = {}
    for name in sorted(os.listdir(root)):
        path = os.path.join(root, name, "CMakeLists.txt")
        if name in ("tests", "bench", "fuzz") or name.startswith("build") or not os.path.isfile(path):
            continue
        text = open(path).read()
        match = library_re.search(text)
        if match:
            uses = set()
            for target, args in link_re.findall(text):
                if target == match.group(1):
                    uses |= {u for u in re.findall(r"\blineage_\w+", args) if u != "lineage_options"}
            out[name] = (match.group(1), uses)
    return out


def main():
    folders = folders_and_libraries()
    folder_of = {library: folder for folder, (library, _) in folders.items()}
    breaches = []
    direct = {}
    for folder, (library, uses) in folders.items():
        unknown = [u for u in uses if u not in folder_of]
        breaches += [f"{folder}/CMakeLists.txt: links {u}, which no product folder defines" for u in unknown]
        direct[folder] = {folder_of[u] for u in uses if u in folder_of}

    def reach(folder, seen):
        for used in direct[folder]:
            if used not in seen:
                seen.add(used)
                reach(used, seen)
        return seen

    for folder in folders:
        allowed = reach(folder, {folder})
        for base, _, files in os.walk(os.path.join(root, folder)):
            for name in sorted(files):
                if not name.endswith((".cpp", ".hpp")):
                    continue
                path = os.path.join(base, name)
                for included in include_re.findall(open(path, errors="replace").read()):
                    if included in folders and included not in allowed:
                        rel = os.path.relpath(path, root)
                        breaches.append(f"{rel}: includes {included}/, which {folders[folder][0]} does not use")
    breaches += check_table(folders, direct)
    for line in breaches:
        print(line)
    print(f"{len(folders)} folders, {sum(len(d) for d in direct.values())} direct uses, {len(breaches)} breaches")
    return 1 if breaches else 0


def check_table(folders, direct):
    """The ARCHITECTURE.md table: | `folder/` | `library` | uses | holds |."""
    text = open(os.path.join(root, "docs", "ARCHITECTURE.md")).read()
    rows = {}
    for line in text.splitlines():
        m = re.match(r"\|\s*`([a-z0-9_]+)/`\s*\|\s*`?(lineage_\w+)?`?\s*\|([^|]*)\|", line)
        if m:
            rows[m.group(1)] = (m.group(2), {u.strip() for u in m.group(3).split(",") if u.strip()})
    out = []
    short = {folder: library.removeprefix("lineage_") for folder, (library, _) in folders.items()}
    for folder, (library, _) in folders.items():
        if folder not in rows:
            out.append(f"docs/ARCHITECTURE.md: no row for {folder}/")
            continue
        documented_library, documented_uses = rows[folder]
        if documented_library != library:
            out.append(f"docs/ARCHITECTURE.md: {folder}/ is {library}, the table says {documented_library}")
        uses = {short[u] for u in direct[folder]}
        if documented_uses != uses:
            out.append(f"docs/ARCHITECTURE.md: {folder}/ uses {', '.join(sorted(uses)) or 'nothing'}, "
                       f"the table says {', '.join(sorted(documented_uses)) or 'nothing'}")
    out += [f"docs/ARCHITECTURE.md: a row for {f}/, which defines no library" for f, (lib, _) in rows.items()
            if lib and f not in folders]
    return out


if __name__ == "__main__":
    sys.exit(main())
