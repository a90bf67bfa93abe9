"""Checks runs of one comparison under a memory budget (e2e.memory_budget).

usage: check_memory_budget.py BUDGET_BYTES MODEL_BYTES UNBUDGETED_DIR BUDGETED_DIR...
Every rank of every budgeted run stayed under the budget (the report's per-rank table holds
getrusage's maximum resident set of each rank at its end), the models are larger than the budget,
and the run without a budget went over it (so the budget did bound something). The budgeted
reports are the unbudgeted one's, bit for bit, but for the run-specific manifest fields and the
memory_budget and io_mode keys of the config.
"""
import sys

from reportlib import Checker, load_json, same_figures

RUN_SPECIFIC = ("start_time", "end_time", "command_line", "rank_runs")
MIB = 1 << 20


def peaks(directory):
    return [r["peak_resident_bytes"] for r in load_json(directory)["manifest"]["rank_runs"]]


def main(budget, model_bytes, unbudgeted, budgeted):
    c = Checker("memory budget")
    c.check(model_bytes > budget, f"the model ({model_bytes} bytes) is not larger than the budget ({budget})")
    free = peaks(unbudgeted)
    print(f"without a budget: peak resident MiB per rank {[p // MIB for p in free]}")
    c.check(max(free) > budget, f"the run without a budget stayed under {budget // MIB} MiB: the test bounds nothing")
    for directory in budgeted:
        config = load_json(directory)["manifest"]["config"]
        c.equal(config["memory_budget"], budget, f"{directory}: memory_budget in the manifest's config")
        ranks = peaks(directory)
        print(f"{directory} (io_mode {config['io_mode']}): peak resident MiB per rank {[p // MIB for p in ranks]}"
              f" of {budget // MIB}")
        c.check(all(0 < p <= budget for p in ranks), f"{directory}: a rank went over the budget: {ranks}")
        compared, _, _ = same_figures(c, unbudgeted, directory, RUN_SPECIFIC, ("output", "memory_budget", "io_mode"))
        print(f"{directory}: {compared} datasets bit-identical to the run without a budget")
    c.finish()


if __name__ == "__main__":
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:])
