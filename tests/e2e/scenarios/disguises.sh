# e2e.disguises: the issue-4 matrix. Each function-preserving or structural disguise the generator
# has — neuron, head and hidden-dimension permutation, sign flips of hidden dimensions, norm
# rescaling, norms folded into the matrices that read them, the residual stream rotated after
# folding (a random orthogonal matrix, a randomized Hadamard one: QuaRot/SpinQuant), vocabulary
# extension, MoE upcycling, dropped and duplicated layers, and all three permutations together — is
# judged `derived`, alone and followed by fine-tuning drift; independent models of the same shape
# and of a different shape are not, and neither is an independent model against a rotated one. The head-permuted models are checked to
# be read through the head order recovered from q_proj and k_proj in v_proj and o_proj
# (check_heads.py).
source "$(dirname "$0")/../common.sh"
e2e_begin disguises

SHAPE=(--layers 4 --hidden 64 --intermediate 160 --heads 8 --kv-heads 2 --vocab 256)
synth independent --seed 101 "${SHAPE[@]}" -o A

# name: the derive arguments of the disguise
declare -A DISGUISES=(
  [neurons]="--kind permute-neurons --seed 11"
  [heads]="--kind permute-heads --seed 12"
  [hidden]="--kind permute-hidden --seed 13"
  [flipped]="--kind flip-hidden --seed 19"
  [rescaled]="--kind rescale-norms --seed 14"
  [vocab]="--kind extend-vocab --tokens 64 --seed 15"
  [upcycled]="--kind upcycle --experts 4 --seed 16"
  [dropped]="--kind drop-layers --layers 2"
  [duplicated]="--kind duplicate-layers --layers 1"
  [folded]="--kind fold-norms"
  [rotated]="--kind rotate-hidden --rotation orthogonal --seed 22"
  [hadamard]="--kind rotate-hidden --rotation hadamard --seed 23"
)
for name in neurons heads hidden flipped rescaled vocab upcycled dropped duplicated folded rotated hadamard; do
  # shellcheck disable=SC2086 # the arguments are words
  synth derive --from A -o "$name" ${DISGUISES[$name]}
  synth derive --from "$name" -o "$name-drifted" --kind drift --scale 0.3 --seed 21
done
# All three permutations at once, then drift.
synth derive --from hidden -o hidden-heads --kind permute-heads --seed 17
synth derive --from hidden-heads -o all-permuted --kind permute-neurons --seed 18
synth derive --from all-permuted -o all-permuted-drifted --kind drift --scale 0.3 --seed 21

for model in neurons heads hidden flipped rescaled vocab upcycled dropped duplicated folded rotated hadamard \
  all-permuted; do
  for variant in "$model" "$model-drifted"; do
    note "$variant: derived"
    compare 2 A "$variant" -o "out-$variant" "${FEW_PERMUTATIONS[@]}"
    expect_report "out-$variant"
    check check_verdict.py "out-$variant" derived --max-p 1e-6
  done
done
# The rotated models are read through the rotation Procrustes recovered from the embedding.
for variant in rotated rotated-drifted hadamard hadamard-drifted; do
  grep -q '"pairing": "hidden rotation"' "out-$variant/report.json" ||
    fail "$variant: no pair read through the hidden rotation"
done
for variant in heads all-permuted; do
  check check_heads.py "out-$variant" --permuted "$variant" --applied
  check check_heads.py "out-$variant-drifted" --permuted "$variant-drifted" --applied --min-pearson 0.8
done

note "independent, same shape: no evidence"
synth independent --seed 102 "${SHAPE[@]}" -o same-shape
compare 2 A same-shape -o out-same-shape "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-same-shape no-evidence

note "independent against a rotated model: no evidence"
compare 2 same-shape rotated -o out-rotated-unrelated "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-rotated-unrelated no-evidence

note "independent, another shape (wider, shallower): not derived"
synth independent --seed 103 --layers 3 --hidden 96 --intermediate 192 --heads 4 --kv-heads 2 --vocab 256 -o other-shape
compare 2 A other-shape -o out-other-shape "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-other-shape inconclusive

e2e_done
