# e2e.rescaled_norms: moving large factors from every RMSNorm weight into the linear layers that
# read it keeps the function but lowers the element-aligned Pearson of q/k/v, gate/up and lm_head;
# every matrix is tested by the directions of its slices along its unit's axis (the rows of those
# that read a norm folded with it, lm_head's columns as they are), which do not see the rescaling
# (slice cosine above 0.9, raw Pearson below 0.8), so every unit of the rescaled layers is
# significant; unrelated models are not.
# Eight query heads on two KV heads: with four the heads units' group has 8 elements, and no p of
# theirs could reach alpha = 0.01. The default --permutations-matrix (200) makes the neuron units'
# nulls come from products (10000 draws); with 50 their floor would be 1/51 > alpha.
# (Drift after the rescaling is noise in the rescaled basis: folded, it grows by about
# √(E[s²]·E[1/s²]) = e^{σ²} for factors s = exp(σz), 7.4 at σ = 1, so the drift here is small.)
source "$(dirname "$0")/../common.sh"
e2e_begin rescaled_norms

SHAPE=(--layers 2 --hidden 64 --intermediate 160 --heads 8 --kv-heads 2 --vocab 256)
synth independent --seed 91 "${SHAPE[@]}" -o A
synth independent --seed 92 "${SHAPE[@]}" -o unrelated
synth derive --from A -o rescaled --kind rescale-norms --scale 1.0 --seed 3
synth derive --from rescaled -o rescaled-drifted --kind drift --scale 0.02 --seed 4

note "norms rescaled against their readers, then a little drift: the readers' tests see through it"
compare 2 A rescaled-drifted -o out-rescaled --permutations-vector 200
expect_report out-rescaled
check check_verdict.py out-rescaled derived --max-p 1e-10
check check_directions.py out-rescaled --rescaled

note "unrelated: no slice-direction test sees anything"
compare 2 A unrelated -o out-unrelated "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-unrelated no-evidence
check check_directions.py out-unrelated --unrelated

e2e_done
