# e2e.trap: two independent seeds. Norm weights: raw cosine > 0.9 while Pearson ~ 0 (2 ranks).
source "$(dirname "$0")/common.sh"
e2e_begin trap

synth independent --seed 21 -o A
synth independent --seed 22 -o B
compare 2 A B -o out
expect_report out
check check_trap.py out
check check_reference.py out A B

e2e_done
