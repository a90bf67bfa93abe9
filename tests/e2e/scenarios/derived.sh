# e2e.derived: a model against its copy, dtype change, re-sharding, noise and drift (2 ranks); the
# copies are "identical", the noisy and drifted models "derived" with a tiny global p.
source "$(dirname "$0")/../common.sh"
e2e_begin derived

synth independent --seed 11 -o A
synth derive --from A -o copy --kind copy
synth derive --from A -o f32 --kind dtype --dtype F32
synth derive --from A -o sharded --kind reshard --shards 3
synth derive --from A -o noise_bf16 --kind noise --scale 0.001 --seed 5
synth derive --from f32 -o noise_f32 --kind noise --scale 0.001 --seed 5
synth derive --from A -o drift --kind drift --scale 0.02 --seed 6

note "copy: every tensor bitwise equal, cosine = Pearson = 1 exactly"
compare 2 A copy -o out-copy "${FEW_PERMUTATIONS[@]}"
expect_report out-copy
check check_derived.py identical out-copy
check check_verdict.py out-copy identical --permutations-matrix 50 --permutations-vector 200

note "dtype BF16 -> F32: the values survive conversion bit for bit"
compare 2 A f32 -o out-f32 "${FEW_PERMUTATIONS[@]}"
expect_report out-f32
check check_derived.py identical out-f32
check check_verdict.py out-f32 identical
check check_reference.py out-f32 A f32
grep -q '"dtype_b": "F32"' out-f32/report.json || fail "report.json of A vs f32 does not show dtype_b F32"

note "reshard into 3 files with an index: the same figures as the copy"
[[ -f sharded/model.safetensors.index.json ]] || fail "synth reshard wrote no index"
compare 2 A sharded -o out-sharded "${FEW_PERMUTATIONS[@]}"
expect_report out-sharded
check check_derived.py identical out-sharded
check check_verdict.py out-sharded identical
check check_derived.py same-figures out-copy out-sharded
check check_derived.py sharded out-sharded b 3
check check_reference.py out-sharded A sharded

note "the index is what lineage reads: an index that leaves a tensor out is rejected"
cp -r sharded sharded-bad-index
"$PYTHON" - sharded-bad-index/model.safetensors.index.json << 'EOF' || fail "cannot edit the index"
import json, sys
path = sys.argv[1]
index = json.load(open(path))
del index["weight_map"]["model.layers.2.mlp.down_proj.weight"]
json.dump(index, open(path, "w"), indent=1)
EOF
mpi_run 2 compare A sharded-bad-index -o out-bad-index
((RUN_STATUS == 2)) || { show_run; fail "an index missing a tensor: exit $RUN_STATUS, expected 2"; }
line=$(expect_one_error_line "$RUN_ERR") || exit 1
[[ $line == *"model.layers.2.mlp.down_proj.weight"*"model.safetensors.index.json"* ]] ||
  fail "the error does not name the tensor and the index: $line"

note "noise 0.001 (F32): Pearson > 0.99 and rel-L2 = 0.001 within sampling error on every tensor"
compare 2 f32 noise_f32 -o out-noise-f32 "${FEW_PERMUTATIONS[@]}"
check check_derived.py noise out-noise-f32 0.001 --f32
check check_verdict.py out-noise-f32 derived --max-p 1e-10
check check_reference.py out-noise-f32 f32 noise_f32

note "noise 0.001 (BF16): Pearson > 0.99 on every tensor"
compare 2 A noise_bf16 -o out-noise-bf16 "${FEW_PERMUTATIONS[@]}"
check check_derived.py noise out-noise-bf16 0.001
check check_verdict.py out-noise-bf16 derived --max-p 1e-10

note "drift 0.02: Pearson > 0.99 on every tensor, matrices moved by 0.02 x sqrt(17/16)"
compare 2 A drift -o out-drift "${FEW_PERMUTATIONS[@]}"
check check_derived.py drift out-drift 0.02
check check_reference.py out-drift A drift
check check_verdict.py out-drift derived --max-p 1e-10 --permutations-matrix 50 --permutations-vector 200
check check_null_reference.py out-drift A drift

e2e_done
