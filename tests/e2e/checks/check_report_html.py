"""Checks of report.html and report.md against report.json and the terminal (e2e.report_html).

usage: check_report_html.py DIR TERMINAL_OUTPUT
"""
import html
import re
import sys

from reportlib import Checker, load_json


def esc(text):
    """HTML escaping as report.html writes it (&, <, >, " and ' as entities)."""
    return html.escape(text, quote=False).replace('"', "&quot;").replace("'", "&#39;")


MARKDOWN_ESCAPES = {"<": "&lt;", ">": "&gt;", "&": "&amp;", **{ch: "\\" + ch for ch in "\\`*_[]|"}}


def md(text):
    """What report.md writes for `text` (core/display_text.cpp's markdown_text, printable input)."""
    return "".join(MARKDOWN_ESCAPES.get(ch, ch) for ch in text)


def main(directory, terminal):
    c = Checker(f"report.html {directory}")
    report = load_json(directory)
    page = open(f"{directory}/report.html", encoding="utf-8").read()
    markdown = open(f"{directory}/report.md", encoding="utf-8").read()
    with open(terminal, encoding="utf-8") as stream:
        verdict_lines = [line.strip() for line in stream if line.startswith("Verdict: ")]

    # Self-contained: nothing is fetched (the SVG namespace is a name, not a request).
    for pattern in (r"<link\b", r"\bsrc\s*=", r"@import", r"url\(", r"https?://(?!www\.w3\.org/2000/svg)"):
        found = re.findall(pattern, page)
        c.check(not found, f"report.html refers to something outside itself: {pattern} ({found[:3]})")

    # The same verdict, in the same words, on the terminal, in the HTML banner and in the Markdown.
    c.equal(len(verdict_lines), 1, "verdict lines on the terminal")
    if verdict_lines:
        headline = verdict_lines[0]
        c.check(f"<h2>{esc(headline)}</h2>" in page, f"the HTML banner does not read '{headline}'")
        c.check(f"## {md(headline)}\n" in markdown, f"report.md does not read '{headline}'")
    for line in report["verdict"]["evidence"]:
        c.check(f"<li>{esc(line)}</li>" in page, f"evidence line missing from the HTML: {line[:60]}")
        c.check(f"- {md(line)}\n" in markdown, f"evidence line missing from report.md: {line[:60]}")

    # Every tensor pair is a row of the table; one curve per role with two or more layers.
    for t in report["tensors"]:
        c.check(f"<td>{esc(t['a'])}</td>" in page, f"tensor {t['a']} is not in the table")
    multi_layer = [role for role, rows in report["roles"].items()
                   if sum(1 for row in rows if isinstance(row.get("layer"), int)) >= 2]
    for role in multi_layer:
        c.check(f"<title>{esc(role)}</title>" in page, f"no layer curve for role {role}")
    cross = [m for m in report["layer_structure"]["cross_layer"] if m["available"]]
    c.equal(page.count("layer of A × layer of B</title>") - (1 if report["layer_structure"]["depth_alignment"]["available"] else 0),
            min(len(cross), 24), "layer × layer heatmaps")
    roles_with_null = {t["role"] for t in report["tensors"] if t["null"]["available"]}
    c.equal(page.count("null samples</text>"), min(len(roles_with_null), 16), "null histograms (one per role)")
    if report["hidden_matching"] and report["hidden_matching"][0]["available"]:
        c.check("hidden dimensions: B&#39;s dimension matched" in page, "no picture of the hidden-dimension matching")
    if report["tokenizers"]["available"]:
        c.check("vocabulary overlap</title>" in page, "no tokenizer overlap picture")
    c.check(report["manifest"]["git_hash"] in page, "the manifest's git hash is not in the HTML")
    c.check(report["manifest"]["git_hash"] in markdown, "the manifest's git hash is not in report.md")
    # Every family, descriptive ones marked, with its own p's method; every unit in the HTML's table;
    # the layers combine their units by Fisher's method.
    for family in report["families"]:
        name = family["name"] + (" (descriptive)" if family["descriptive"] else "")
        rows = [line for line in markdown.splitlines() if line.startswith(f"| {md(family['name'])}{name[len(family['name']):]} |")]
        if c.check(len(rows) == 1, f"family {name} missing from report.md's table"):
            c.check(f"({md(family['method'])}) |" in rows[0], f"report.md's row of {name} does not give its method")
        marker = " <small>(descriptive)</small>" if family["descriptive"] else ""
        c.check(f"<tr><td>{esc(family['name'])}{marker}</td>" in page, f"family {name} missing from the HTML")
    for unit in report["units"][:2000]:
        c.check(f"<tr><td>{esc(unit['label'])}</td>" in page, f"unit {unit['label']} missing from the HTML")
    c.check("| Fisher p |" in markdown, "report.md's layer table does not give the layers' Fisher p")
    c.check("Fisher p</th>" in page, "the HTML's layer table does not give the layers' Fisher p")
    c.finish()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
