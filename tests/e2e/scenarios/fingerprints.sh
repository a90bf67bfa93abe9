# e2e.fingerprints: a derivative pruned in width (a seeded eighth of the residual dimensions removed
# everywhere, as Minitron-style pruning does) has no tensor of the parent's shape left but the
# 1-D ones it does not touch; its tensors are compared by shape-free fingerprints (moments and
# leading singular values, checked against numpy's SVD), whose same-depth agreement beats every
# shifted layer, alone and after fine-tuning drift; an unrelated model of another width does not;
# the same bits on 2 and 3 ranks. Fingerprints are descriptive (they do not change under the
# symmetry): the derived verdict comes from the later units reading B through the hidden selection
# map that the hidden matching recovers on the embedding.
source "$(dirname "$0")/../common.sh"
e2e_begin fingerprints

SHAPE=(--layers 12 --hidden 64 --intermediate 160 --heads 4 --kv-heads 2 --vocab 256)
synth independent --seed 91 "${SHAPE[@]}" -o A
synth derive --from A -o pruned --kind prune-hidden --seed 3
synth derive --from pruned -o pruned-drifted --kind drift --scale 0.3 --seed 4
synth independent --seed 92 --layers 12 --hidden 56 --intermediate 160 --heads 4 --kv-heads 2 --vocab 256 -o other

note "pruned: the fingerprints beat every shifted layer"
compare 2 A pruned -o out-pruned "${FEW_PERMUTATIONS[@]}"
expect_report out-pruned
check check_fingerprints.py out-pruned --a A --b pruned --beats-every-shift

note "pruned, then fine-tuned: still; derived through the hidden selection map"
compare 2 A pruned-drifted -o out-drifted "${FEW_PERMUTATIONS[@]}"
check check_fingerprints.py out-drifted --a A --b pruned-drifted --beats-every-shift
check check_verdict.py out-drifted derived
check check_hidden.py out-drifted --pruned pruned-drifted --significant

note "the same on 3 ranks: the same bits"
compare 3 A pruned-drifted -o out-drifted-3 "${FEW_PERMUTATIONS[@]}"
check check_fingerprints.py out-drifted-3 --a A --b pruned-drifted --beats-every-shift --same-as out-drifted

note "unrelated, another width: no signal"
compare 2 A other -o out-other "${FEW_PERMUTATIONS[@]}"
check check_fingerprints.py out-other --a A --b other --no-signal
check check_verdict.py out-other inconclusive

e2e_done
