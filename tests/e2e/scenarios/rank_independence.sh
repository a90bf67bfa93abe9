# e2e.rank_independence: the same pair with 1, 2 and 3 ranks and small blocks gives the same bits,
# permutation nulls and verdict included (the nulls are dealt to ranks by cost).
source "$(dirname "$0")/../common.sh"
e2e_begin rank_independence

# B differs from A everywhere (drift), lives in 3 files (blocks read from several files), and one
# tensor is entirely NaN/Inf so undefined figures (NaN in HDF5, null in JSON) are compared too.
synth independent --seed 31 -o A
synth derive --from A -o B --kind drift --scale 0.05 --shards 3 \
  --inject-nonfinite model.norm.weight:256 --inject-nonfinite model.layers.1.mlp.up_proj.weight:7

for ranks in 1 2 3; do
  compare "$ranks" A B -o "out-$ranks" --block-elements 100000 "${FEW_PERMUTATIONS[@]}"
  expect_report "out-$ranks"
done
check check_rank_independence.py 100000 out-1:1 out-2:2 out-3:3
check check_reference.py out-1 A B

e2e_done
