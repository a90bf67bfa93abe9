"""Checks that a resumed run's report is the uninterrupted run's (e2e.resume).

usage: check_resumed.py REFERENCE_DIR RESUMED_DIR [RESUMED_UNITS]
report.json must be equal in every section but the manifest, whose run-specific fields (times, the
command line, the per-rank table; the rank count where the rerun had more ranks) differ by nature; its config (but for the output directory), version and block_elements must be
equal too. Every dataset of report.h5 outside /manifest and /report_json (the JSON text, manifest
included) must be bit-identical, and so must the manifest's per-model tables (/manifest/model_a and
/manifest/model_b: files, tensor digests, range hashes), which do not depend on the run. With RESUMED_UNITS, the resumed run's per-rank table must say that
so many units came from the earlier run in all (at least one: the run really resumed).
"""
import sys

from reportlib import Checker, bitwise_equal_arrays, datasets, load_json, open_h5

RUN_SPECIFIC = ("start_time", "end_time", "command_line", "rank_runs", "ranks")


def main(reference_dir, resumed_dir, resumed_units):
    c = Checker("resume")
    reference, resumed = load_json(reference_dir), load_json(resumed_dir)
    c.equal(sorted(resumed), sorted(reference), "report.json sections")
    for section in reference:
        if section == "manifest":
            continue
        c.check(resumed.get(section) == reference[section], f"report.json '{section}' differs after resuming")
    for key in reference["manifest"]:
        if key not in RUN_SPECIFIC and key != "config":
            c.check(resumed["manifest"].get(key) == reference["manifest"][key], f"manifest.{key} differs")
    # The configs differ in the output directory only.
    strip = lambda config: {k: v for k, v in config.items() if k != "output"}
    c.check(strip(resumed["manifest"]["config"]) == strip(reference["manifest"]["config"]),
            "manifest.config differs in more than the output directory")
    with open_h5(reference_dir) as h5_ref, open_h5(resumed_dir) as h5_res:
        def compared(path):
            return path.startswith(("manifest/model_a/", "manifest/model_b/")) or \
                not path.startswith(("manifest/", "report_json"))

        ref = {p: v for p, v in datasets(h5_ref).items() if compared(p)}
        res = {p: v for p, v in datasets(h5_res).items() if compared(p)}
        c.check(any(p.startswith("manifest/model_b/ranges/") for p in ref), "no range hashes compared")
        c.equal(sorted(res), sorted(ref), "report.h5 dataset paths")
        c.check(len(ref) > 20, f"only {len(ref)} datasets compared")
        for path, values in ref.items():
            if path in res:
                c.check(bitwise_equal_arrays(values, res[path]), f"/{path} is not bit-identical after resuming")
        runs = h5_res["manifest/rank_runs"]
        c.equal(len(runs["rank"]), resumed["manifest"]["ranks"], "/manifest/rank_runs rows")
    if resumed_units is not None:
        told = sum(r["units_resumed"] for r in resumed["manifest"]["rank_runs"])
        c.equal(told, resumed_units, "units resumed (manifest.rank_runs)")
    print(f"compared {len(ref)} datasets and {len(reference) - 1} report.json sections")
    c.finish()


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else None)
