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

from reportlib import Checker, open_h5, same_figures

RUN_SPECIFIC = ("start_time", "end_time", "command_line", "rank_runs", "ranks")


def main(reference_dir, resumed_dir, resumed_units):
    c = Checker("resume")
    compared, reference, resumed = same_figures(c, reference_dir, resumed_dir, RUN_SPECIFIC, ("output",))
    with open_h5(resumed_dir) as h5_res:
        runs = h5_res["manifest/rank_runs"]
        c.equal(len(runs["rank"]), resumed["manifest"]["ranks"], "/manifest/rank_runs rows")
    if resumed_units is not None:
        told = sum(r["units_resumed"] for r in resumed["manifest"]["rank_runs"])
        c.equal(told, resumed_units, "units resumed (manifest.rank_runs)")
    print(f"compared {compared} datasets and {len(reference) - 1} report.json sections")
    c.finish()


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) == 4 else None)
