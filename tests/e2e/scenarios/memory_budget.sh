# e2e.memory_budget: a pair of 280 MiB models compared under a 256 MiB budget per rank, mapped and
# with pread: every rank's peak resident memory (getrusage, in the report's per-rank table) stays
# under the budget, the run without a budget goes over it, and all three reports have the same
# bits. B is A with its hidden dimensions permuted, so B is read through an alignment. A budget
# too small for the plan is refused before any weight is read, with one line naming it.
source "$(dirname "$0")/../common.sh"
e2e_begin memory_budget

# Most bytes sit in the 64 Mi-element embedding and output head, whose nulls would decode them
# whole without a budget.
synth independent --seed 71 -o A --hidden 1024 --vocab 65536 --layers 2 --intermediate 1024
synth derive --from A -o B --kind permute-hidden
MODEL_BYTES=$(stat -c %s A/model.safetensors)
BUDGET=$((256 << 20))
ARGS=(--permutations-matrix 19 --permutations-vector 99 --permutations-products 1000)

E2E_TIMEOUT=180
compare 2 A B -o unbudgeted "${ARGS[@]}"
expect_report unbudgeted
compare 2 A B -o mapped "${ARGS[@]}" --memory-budget 256MiB --io map
expect_report mapped
compare 2 A B -o read "${ARGS[@]}" --memory-budget 256MiB --io read
expect_report read
check check_memory_budget.py "$BUDGET" "$MODEL_BYTES" unbudgeted mapped read

RUN_NAME=too_small mpi_run 2 compare A B -o small "${ARGS[@]}" --memory-budget 100MiB
((RUN_STATUS == 2)) || { show_run; fail "a budget too small exited $RUN_STATUS, not 2 (usage)"; }
line=$(expect_one_error_line "$RUN_ERR")
[[ $line == *"memory_budget (--memory-budget) 100 MiB: too small for this comparison"* ]] || fail "unexpected: $line"
grep -q "a budget of at least [0-9]* MiB will do" "$RUN_ERR" || { show_run; fail "no budget suggested"; }
[[ ! -e small/report.h5 ]] || fail "a refused budget left a report"

e2e_done
