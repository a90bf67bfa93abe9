# e2e.hidden_matching: a derivative whose residual (hidden) dimension was permuted everywhere
# (embedding and lm_head columns, the columns of every layer that reads the residual, the rows of
# those that write it, the norm weights: the function is unchanged) and then fine-tuned hides from
# the hidden unit (embedding, lm_head and norms compared in place); the hidden matching on the
# embedding recovers the recorded permutation, and a half of the dimensions negated (RMSNorm does
# not see signs), and the later units (attention, MLP, experts) read B through it and carry the
# verdict (the same bits on 2 and 3 ranks), neuron and expert matching included; an unrelated model
# is not flagged and nothing is applied to it.
source "$(dirname "$0")/../common.sh"
e2e_begin hidden_matching

SHAPE=(--layers 3 --hidden 64 --intermediate 160 --heads 4 --kv-heads 2 --vocab 256)
synth independent --seed 81 "${SHAPE[@]}" -o A
synth independent --seed 82 "${SHAPE[@]}" -o unrelated
synth derive --from A -o permuted --kind permute-hidden --seed 3
synth derive --from permuted -o permuted-drifted --kind drift --scale 0.3 --seed 4

note "hidden dimension permuted, then fine-tuned: recovered as recorded, the later units see through it"
compare 2 A permuted-drifted -o out-permuted "${FEW_PERMUTATIONS[@]}"
expect_report out-permuted
check check_verdict.py out-permuted derived --max-p 1e-10
check check_hidden.py out-permuted --permuted permuted-drifted --significant

note "the same on 3 ranks: the same bits"
compare 3 A permuted-drifted -o out-permuted-3 "${FEW_PERMUTATIONS[@]}"
check check_hidden.py out-permuted-3 --permuted permuted-drifted --significant --same-as out-permuted

note "half the dimensions negated, then permuted and fine-tuned: signs and order recovered"
synth derive --from A -o flipped --kind flip-hidden --seed 8
synth derive --from flipped -o flipped-permuted --kind permute-hidden --seed 3
synth derive --from flipped-permuted -o flipped-drifted --kind drift --scale 0.3 --seed 4
compare 2 A flipped-drifted -o out-flipped "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-flipped derived --max-p 1e-10
check check_hidden.py out-flipped --permuted flipped-drifted --flipped flipped-drifted --significant
compare 3 A flipped-drifted -o out-flipped-3 "${FEW_PERMUTATIONS[@]}"
check check_hidden.py out-flipped-3 --permuted flipped-drifted --flipped flipped-drifted --significant --same-as out-flipped

note "without the matching the disguise hides the derivation"
compare 2 A permuted-drifted -o out-blind --no-hidden-matching "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-blind no-evidence
check check_hidden.py out-blind --absent

note "permuted, not fine-tuned: every later unit's tensor equal once aligned, derived (never identical)"
compare 2 A permuted -o out-permuted-only "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-permuted-only derived
check check_hidden.py out-permuted-only --permuted permuted --significant

note "hidden dimension and MLP neurons permuted, then fine-tuned: neuron matching reads B through the recovered permutation"
synth derive --from permuted -o permuted-neurons --kind permute-neurons --seed 5
synth derive --from permuted-neurons -o permuted-neurons-drifted --kind drift --scale 0.3 --seed 6
compare 2 A permuted-neurons-drifted -o out-neurons "${FEW_PERMUTATIONS[@]}"
# Both permutations hide units: the hidden unit compares the embedding in place, and the neuron
# units compare neurons in place (no neuron order is applied). What sees the derivation is the 3
# values units (each at its floor 1/10001) and the 3 heads units (4 heads in 2 KV groups: a group
# of 8, so p ~ U/8). Fisher over the 10 units then gives about 3e-9 (the values alone 4e-5), never
# 1e-10 by design; under 1e-6 still asks the heads units to see it as well.
check check_verdict.py out-neurons derived --max-p 1e-6
check check_hidden.py out-neurons --permuted permuted-neurons-drifted
check check_neurons.py out-neurons --permuted permuted-neurons-drifted --significant --blind-mlp

note "MoE, hidden dimension and experts permuted, then fine-tuned: experts matched through the permutation"
MOE=(--layers 3 --hidden 64 --intermediate 128 --heads 4 --kv-heads 2 --vocab 256 --experts 4
  --expert-intermediate 64 --shared-experts 1 --dense-layers 1)
synth independent --seed 83 "${MOE[@]}" -o M
synth derive --from M -o M-hidden --kind permute-hidden --seed 7
synth derive --from M-hidden -o M-experts --kind permute-experts --seed 8
synth derive --from M-experts -o M-drifted --kind drift --scale 0.3 --seed 9
compare 2 M M-drifted -o out-moe --permutations-experts 20 "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-moe derived --max-p 1e-10
check check_hidden.py out-moe --permuted M-drifted --significant
check check_experts.py out-moe --permuted M-drifted

note "unrelated: hidden matching not significant, nothing applied"
compare 2 A unrelated -o out-unrelated "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-unrelated no-evidence
check check_hidden.py out-unrelated --not-significant

e2e_done
