# e2e.h5_schema: every object docs/HDF5_SCHEMA.md names is read back with h5py from reports that
# exercise all of them (an MoE pair with a reference panel and tokenizers, a pruned derivative with
# fingerprints, a dense model against an MoE one with unpaired tensors), and nothing written is
# undocumented (2 ranks).
source "$(dirname "$0")/../common.sh"
e2e_begin h5_schema

synth independent --seed 31 --experts 4 --shared-experts 1 --dense-layers 1 -o E
synth derive --from E --kind permute-experts --seed 5 -o E2
synth independent --seed 32 --experts 4 --shared-experts 1 --dense-layers 1 -o R
synth independent --seed 33 -o D
synth derive --from D --kind prune-hidden --seed 6 -o D2

compare 2 E E2 -o moe --reference R "${FEW_PERMUTATIONS[@]}"
expect_report moe
compare 2 D D2 -o pruned "${FEW_PERMUTATIONS[@]}"
expect_report pruned
compare 2 D E -o mixed "${FEW_PERMUTATIONS[@]}"
expect_report mixed
check check_h5_schema.py "$LINEAGE_SOURCE_DIR/docs/HDF5_SCHEMA.md" moe/report.h5 pruned/report.h5 mixed/report.h5

e2e_done
