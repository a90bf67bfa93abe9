# e2e.h5_readback: report.h5 read back with h5py: manifest, model files and sizes, tensor and
# per-role tables, permutation-null columns and samples (/nulls), evidence tables, verdict, unpaired
# table, all equal to report.json and to the files on disk (2 ranks).
source "$(dirname "$0")/../common.sh"
e2e_begin h5_readback

not_before=$(date -u +%Y-%m-%dT%H:%M:%SZ)
version=$("$LINEAGE_BIN" --version) || fail "lineage --version failed"
synth independent --seed 41 -o A --shards 3
synth independent --seed 42 -o B --tie-embeddings
compare 2 A B -o out "${FEW_PERMUTATIONS[@]}"
expect_report out
check check_h5_readback.py out A B 2 "$version" "$not_before"

e2e_done
