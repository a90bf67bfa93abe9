# e2e.terminal_table: the table on stdout shows layer, role, raw cos, Pearson, rel-L2, % bitwise and
# p for every role and layer, matching report.json, once (3 ranks), then the verdict block and the
# report paths.
source "$(dirname "$0")/../common.sh"
e2e_begin terminal_table

synth independent --seed 111 -o A
synth independent --seed 112 -o B --tie-embeddings
compare 3 A B -o out "${FEW_PERMUTATIONS[@]}"
expect_report out
check check_terminal.py out "$RUN_OUT"
[[ ! -s $RUN_ERR ]] || fail "a successful run wrote to stderr: $(cat "$RUN_ERR")"

e2e_done
