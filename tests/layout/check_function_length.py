#!/usr/bin/env python3
"""layout.function_length: no function of the product, its tests, benches or fuzz targets is longer
than 80 lines, signature included.

The code's style makes the scan simple: namespaces are not indented, so a function defined at
namespace scope (and a TEST body) starts at column 0 and ends at the first later line that starts
with "}". Member functions defined inside a class body are indented and not measured (they are
one-liners here). Prints each long function and exits 1 if there is any.
"""
import os
import re
import subprocess
import sys

LIMIT = 80
root = sys.argv[1]
opening = re.compile(r"\{\s*(//.*)?$")
column_zero = re.compile(r"^[A-Za-z_]")
not_function = re.compile(r"^(namespace|struct|class|enum|union|extern|template\s*<[^>]*>\s*(struct|class))\b")


def signature_start(lines, i):
    """The first line of the declaration that ends at line i (after comments, blank lines, ';' or '}')."""
    k = i
    while k > 0:
        above = lines[k - 1].rstrip()
        if not above or above.startswith(("//", "#", "}")) or above.endswith((";", "{", "}")):
            break
        k -= 1
    return k


def long_functions(path):
    lines = open(path, errors="replace").read().split("\n")
    found, i = [], 0
    while i < len(lines):
        line = lines[i]
        start = signature_start(lines, i) if opening.search(line) else i
        head = " ".join(lines[start:i + 1])
        if (opening.search(line) and column_zero.match(lines[start]) and "(" in head and
                not not_function.match(lines[start]) and "= {" not in line):
            end = i + 1
            while end < len(lines) and not lines[end].startswith("}"):
                end += 1
            length = end - start + 1
            if length > LIMIT:
                found.append((length, start + 1, lines[start].strip()[:90]))
            i = end
        i += 1
    return found


def main():
    files = subprocess.check_output(["git", "-C", root, "ls-files", "*.cpp", "*.hpp"], text=True).split()
    breaches = []
    for name in files:
        for length, line, text in long_functions(os.path.join(root, name)):
            breaches.append(f"{name}:{line}: {length} lines: {text}")
    for line in breaches:
        print(line)
    print(f"{len(files)} files scanned, {len(breaches)} functions over {LIMIT} lines")
    return 1 if breaches else 0


if __name__ == "__main__":
    sys.exit(main())
