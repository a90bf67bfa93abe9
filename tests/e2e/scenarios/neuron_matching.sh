# e2e.neuron_matching: a derivative whose MLP neurons were permuted (rows of gate/up, columns of
# down: the function is unchanged) and then fine-tuned hides from the neuron units (they compare
# neurons in place), but not from neuron matching, which recovers the recorded permutation (a
# descriptive family: the verdict comes from the other units); an MoE model's dense and
# shared-expert MLPs are matched too; a wide MLP is matched on a sample through candidates; an
# unrelated model is not flagged.
source "$(dirname "$0")/../common.sh"
e2e_begin neuron_matching

SHAPE=(--layers 3 --hidden 64 --intermediate 160 --heads 4 --kv-heads 2 --vocab 256)
synth independent --seed 71 "${SHAPE[@]}" -o A
synth independent --seed 72 "${SHAPE[@]}" -o unrelated
synth derive --from A -o permuted --kind permute-neurons --seed 3
synth derive --from permuted -o permuted-drifted --kind drift --scale 0.3 --seed 4
synth derive --from A -o drifted --kind drift --scale 0.3 --seed 4

note "neurons permuted, then fine-tuned: matched as recorded; the neurons family is blind"
compare 2 A permuted-drifted -o out-permuted "${FEW_PERMUTATIONS[@]}"
expect_report out-permuted
check check_verdict.py out-permuted derived --max-p 1e-10
check check_neurons.py out-permuted --permuted permuted-drifted --significant --blind-mlp

note "fine-tuned only: every neuron matched to itself"
compare 2 A drifted -o out-drifted "${FEW_PERMUTATIONS[@]}"
check check_neurons.py out-drifted --identity --significant

note "unrelated: neuron matching not significant"
compare 2 A unrelated -o out-unrelated "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-unrelated no-evidence
check check_neurons.py out-unrelated --not-significant

note "a wide MLP (1100 neurons): matched on a sample of 512 through candidates, as recorded"
WIDE=(--layers 1 --hidden 64 --intermediate 1100 --heads 4 --kv-heads 2 --vocab 256)
synth independent --seed 74 "${WIDE[@]}" -o W
synth derive --from W -o W-permuted --kind permute-neurons --seed 6
synth derive --from W-permuted -o W-permuted-drifted --kind drift --scale 0.3 --seed 7
compare 3 W W-permuted-drifted -o out-wide "${FEW_PERMUTATIONS[@]}"
check check_neurons.py out-wide --permuted W-permuted-drifted --significant --sampled 512

note "MoE: the dense first layer and the shared experts are neuron-matched through a permutation"
MOE=(--layers 3 --hidden 64 --intermediate 128 --heads 4 --kv-heads 2 --vocab 256 --experts 4
  --expert-intermediate 64 --shared-experts 1 --dense-layers 1)
synth independent --seed 73 "${MOE[@]}" -o M
synth derive --from M -o M-permuted --kind permute-neurons --seed 5
compare 2 M M-permuted -o out-moe --permutations-experts 20 "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-moe derived
check check_neurons.py out-moe --permuted M-permuted --significant

e2e_done
