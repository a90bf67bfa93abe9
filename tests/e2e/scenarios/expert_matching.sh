# e2e.expert_matching: MoE models (glm4_moe layout with dense-first layer, shared expert and MTP
# block). A derivative whose experts were permuted (router rows with them) and then fine-tuned, and
# one with two experts pruned, must be judged derived with the experts matched as the generator
# recorded and each matched pair tested in a neurons unit of its own (routers pair by key, in the
# layer's experts unit, and go unpaired when the expert counts differ); an unrelated MoE model must
# not; 1 and 3 ranks give the same report.
source "$(dirname "$0")/../common.sh"
e2e_begin expert_matching

MOE=(--layers 3 --hidden 64 --intermediate 128 --heads 4 --kv-heads 2 --vocab 256 --experts 8
  --expert-intermediate 64 --shared-experts 1 --dense-layers 1 --mtp)
synth independent --seed 51 "${MOE[@]}" -o A
synth independent --seed 52 "${MOE[@]}" -o unrelated
synth derive --from A -o permuted-copy --kind permute-experts --seed 3
synth derive --from permuted-copy -o permuted --kind drift --scale 0.3 --seed 4
synth derive --from A -o pruned --kind drop-experts --experts 2,5
synth derive --from A -o drifted --kind drift --scale 0.3 --seed 6
synth derive --from A -o shallower --kind drop-layers --layers 1
EXPERTS=(--permutations-experts 50 "${FEW_PERMUTATIONS[@]}")

note "experts permuted, then fine-tuned: matched as recorded, derived"
compare 2 A permuted -o out-permuted "${EXPERTS[@]}"
expect_report out-permuted
check check_verdict.py out-permuted derived --max-p 1e-10
check check_experts.py out-permuted --permuted permuted --significant

note "a permuted copy is derived, not identical (the files differ; the function does not)"
compare 2 A permuted-copy -o out-permuted-copy "${EXPERTS[@]}"
check check_verdict.py out-permuted-copy derived
check check_experts.py out-permuted-copy --permuted permuted-copy --significant

note "fine-tuned without permutation: every expert matched to itself"
compare 2 A drifted -o out-drifted "${EXPERTS[@]}"
check check_verdict.py out-drifted derived --max-p 1e-10
check check_experts.py out-drifted --identity --significant

note "two experts pruned: 6 of 8 matched, the rest (and the routers) unpaired with the reason"
compare 2 A pruned -o out-pruned "${EXPERTS[@]}"
check check_verdict.py out-pruned derived --max-p 1e-10
check check_experts.py out-pruned --dropped 2 --significant

note "a layer pruned: B's layers align to A's 0 and 2; the MTP blocks (A's layer 3, B's 2) still pair"
compare 2 A shallower -o out-shallower "${EXPERTS[@]}"
check check_verdict.py out-shallower derived --max-p 1e-10
check check_layer_order.py out-shallower --matched 0,2 --skipped 1 --mtp-paired

note "an unrelated MoE model: no evidence, matching not significant"
compare 2 A unrelated -o out-unrelated "${EXPERTS[@]}"
check check_verdict.py out-unrelated no-evidence
check check_experts.py out-unrelated --not-significant

note "the same bits with 1 and 3 ranks"
compare 1 A permuted -o out-1 --block-elements 5000 "${EXPERTS[@]}"
compare 3 A permuted -o out-3 --block-elements 5000 "${EXPERTS[@]}"
check check_rank_independence.py --any-fixture 5000 out-1:1 out-3:3

e2e_done
