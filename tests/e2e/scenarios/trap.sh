# e2e.trap: two independent seeds. Norm weights: raw cosine > 0.9 while Pearson ~ 0, and their
# permutation nulls score the same raw cosine; the verdict is "no evidence of derivation" with the
# note that says so (2 ranks).
source "$(dirname "$0")/../common.sh"
e2e_begin trap

synth independent --seed 21 -o A
synth independent --seed 22 -o B
compare 2 A B -o out "${FEW_PERMUTATIONS[@]}"
expect_report out
check check_trap.py out
check check_reference.py out A B
check check_verdict.py out no-evidence --min-p 0.01 --note "raw cosine above 0.9" \
  --note "not proof of independence" --permutations-matrix 50 --permutations-vector 200
check check_null_reference.py out A B

e2e_done
