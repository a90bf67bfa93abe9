# e2e.depth_alignment: models of different depth. A pruned derivative (two layers dropped, then
# fine-tuned) and a depth up-scaled one (three layers duplicated) must be judged derived, with B's
# layers aligned to the A layers they came from; an unrelated model of the same depth must show no
# layer-order evidence. 3 ranks, so the cross-layer units are spread over more than one rank.
source "$(dirname "$0")/../common.sh"
e2e_begin depth_alignment

synth independent --seed 41 --layers 8 --layer-correlation 0.6 -o A
synth independent --seed 42 --layers 8 --layer-correlation 0.6 -o unrelated
synth derive --from A -o pruned-copy --kind drop-layers --layers 3,5
synth derive --from pruned-copy -o pruned --kind drift --scale 0.3 --seed 4
synth derive --from A -o upscaled --kind duplicate-layers --layers 2,3,4

note "pruned (layers 3 and 5 dropped) and fine-tuned: B's 6 layers align to A's 0,1,2,4,6,7"
compare 3 A pruned -o out-pruned "${FEW_PERMUTATIONS[@]}"
expect_report out-pruned
check check_verdict.py out-pruned derived --max-p 1e-10
check check_layer_order.py out-pruned --matched 0,1,2,4,6,7 --skipped 2 --repeated 0 --roles 9 --significant

note "depth up-scaled (layers 2, 3, 4 duplicated): 11 layers align to 0,1,2,2,3,3,4,4,5,6,7"
compare 3 A upscaled -o out-upscaled "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-upscaled derived --max-p 1e-10
check check_layer_order.py out-upscaled --matched 0,1,2,2,3,3,4,4,5,6,7 --skipped 0 --repeated 3 --significant

note "the same order read the other way: A against its pruned copy's parent (B deeper than A)"
compare 2 pruned-copy A -o out-reverse "${FEW_PERMUTATIONS[@]}"
# Each of A's 8 layers aligns to the pruned copy's layer it survives as, dropped ones to a neighbour.
check check_layer_order.py out-reverse --significant

note "unrelated model of the same depth: no layer-order evidence"
compare 3 A unrelated -o out-unrelated "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-unrelated no-evidence
check check_layer_order.py out-unrelated --not-significant --roles 9

e2e_done
