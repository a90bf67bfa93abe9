"""Checks the table lineage compare prints on stdout against report.json (e2e.terminal_table).

usage: check_terminal.py DIR STDOUT_FILE
"""
import re
import sys

from reportlib import Checker, load_json

HEADER = re.compile(r"^ *layer  role +raw cos +Pearson +rel-L2 +% bitwise +p$")
COLUMNS = ("raw cos", "Pearson", "rel-L2", "% bitwise", "p")


def figure(value, decimals):
    return "n/a" if value is None else f"{value:.{decimals}f}"


def row_p(report, layer, role):
    """The p column of a (layer, role) row: the p of its one tensor pair, "n/a" without a usable null.
    Rows of several pairs (experts) combine them by the harmonic mean p-value: None, not checked."""
    p_values = [t["p_value"] for t in report["tensors"]
                if layer_of(t) == layer and t["role"] == role and t["p_value"] is not None]
    if not p_values:
        return "n/a"
    return f"{p_values[0]:.2g}" if len(p_values) == 1 else None


def layer_of(tensor):
    return -1 if tensor["layer"] is None else tensor["layer"]


def expected_rows(report):
    rows = []
    for role, layers in report["roles"].items():
        for r in layers:
            layer = -1 if r["layer"] is None else r["layer"]
            bitwise = None if r["bitwise_equal_fraction"] is None else 100 * r["bitwise_equal_fraction"]
            cells = ["-" if layer < 0 else str(layer), role, figure(r["cosine"], 6), figure(r["pearson"], 6),
                     figure(r["rel_l2"], 6), figure(bitwise, 2), row_p(report, layer, role)]
            rows.append(((layer, role), cells))
    return [cells for _, cells in sorted(rows)]


def main(directory, stdout_file):
    c = Checker(f"terminal table {directory}")
    report = load_json(directory)
    with open(stdout_file, encoding="utf-8") as stream:
        lines = stream.read().splitlines()
    a, b = report["models"]["a"], report["models"]["b"]
    c.check(len(lines) > 0 and lines[0] == f"lineage compare  A: {a['path']} ({a['architecture']})  B: {b['path']} ({b['architecture']})",
            f"first line: {lines[0] if lines else None!r}")
    headers = [i for i, line in enumerate(lines) if HEADER.match(line)]
    if not c.equal(len(headers), 1, "header lines 'layer role raw cos Pearson rel-L2 % bitwise p' (one rank prints)"):
        c.finish()
    header = lines[headers[0]]
    # Right edges of the right-aligned figure columns.
    edges = [header.index(name) + len(name) for name in COLUMNS]

    expected = expected_rows(report)
    table = lines[headers[0] + 1: headers[0] + 1 + len(expected)]
    c.equal(len(table), len(expected), "table rows (one per role and layer)")
    for line, cells in zip(table, expected):
        if cells[-1] is None:  # a combined p: a number or n/a, right-aligned under "p"
            words = line.split()
            c.check(len(words) == len(cells) and re.fullmatch(r"[0-9.e+-]+|n/a", words[-1]) is not None,
                    f"table row {line!r}: no p at the end")
            cells = cells[:-1] + [words[-1] if words else ""]
        c.equal(line.split(), cells, "table row")
        for cell, edge in zip(cells[2:], edges):
            c.check(line[edge - len(cell): edge] == cell, f"{cells[1]} layer {cells[0]}: '{cell}' not under its header")

    rest = lines[headers[0] + 1 + len(expected):]
    summary = report["summary"]
    c.check(len(rest) > 0 and rest[0] == f"{summary['tensor_pairs']} tensor pairs compared ({summary['compared_elements']} "
            f"elements); {summary['unpaired_a']} tensors of A and {summary['unpaired_b']} of B unpaired.",
            f"summary line: {rest[0] if rest else None!r}")
    for u in report["unpaired"]:
        line = f"  unpaired {u['side'].upper()} {u['name']}: {u['reason']}"
        c.check(line in rest, f"no line {line!r}")
    c.check("p: each tensor pair's own test against the draws of its unit's symmetry (n/a: no axis whose labels "
            f"are arbitrary, or no usable null); the verdict combines the {report['verdict']['units']} units." in rest,
            "no line saying what the p column is (and how many units the verdict combines)")
    check_verdict_block(c, report, rest)
    c.equal(lines[-4:], [f"report: {directory}/report.{kind}" for kind in ("h5", "json", "html", "md")],
            "last four lines")
    c.finish()


def check_verdict_block(c, report, rest):
    """The verdict block repeats report.json's verdict: label, global p, α, the families that carry
    it (when any), evidence, notes, what was not tested — in that order, right before the report
    paths."""
    v = report["verdict"]
    expected = [f"Verdict: {v['label']} (global p = {v['p_global']:.3g}, family-wise α = {v['alpha']})"]
    if v["carried_by"]:
        expected.append(f"  Carried by: {', '.join(v['carried_by'])}.")
    expected += [f"  - {line}" for line in v["evidence"]]
    expected += [f"  Note: {note}" for note in v["notes"]]
    expected.append(f"  Not tested: {'; '.join(v['invariances_not_tested'])}.")
    starts = [i for i, line in enumerate(rest) if line.startswith("Verdict: ")]
    if not c.equal(len(starts), 1, "lines starting 'Verdict: '"):
        return
    c.equal(rest[starts[0] - 1], "", "blank line before the verdict")
    c.equal(rest[starts[0]: starts[0] + len(expected)], expected, "verdict block")
    c.equal(len(rest) - (starts[0] + len(expected)), 4, "lines between the verdict block and the end")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
