# e2e.bad_input.models: broken model directories. Each run (2 ranks) must exit 2 with one error line
# naming the file (and tensor), leave no report (not even an earlier run's), and every rank must end.
source "$(dirname "$0")/../common.sh"
e2e_begin bad_input_models

synth independent --seed 51 -o A
synth derive --from A -o sharded --kind reshard --shards 3
shard2=model-00002-of-00003.safetensors

# Builds a broken variant of a model in DIR (copied from SOURCE).
variant() {
  rm -rf "$2"
  cp -r "$1" "$2"
}

plant_stale_reports out-missing
expect_bad_input missing_model out-missing "$WORK/no-such-model" "no such file" -- \
  A "$WORK/no-such-model" -o out-missing

variant sharded truncated
truncate -s -100 "truncated/$shard2"
plant_stale_reports out-truncated
expect_bad_input truncated_shard out-truncated "truncated/$shard2" "tensor '" -- \
  A truncated -o out-truncated

variant sharded stub
truncate -s 4 "stub/$shard2"
expect_bad_input shard_shorter_than_header out-stub "stub/$shard2" -- A stub -o out-stub

variant A lying-offsets
"$PYTHON" "$E2E_TOOLS/edit_safetensors_header.py" lying-offsets/model.safetensors \
  model.layers.1.self_attn.k_proj.weight offsets || fail "cannot edit the header"
plant_stale_reports out-offsets
expect_bad_input lying_offsets out-offsets lying-offsets/model.safetensors \
  "'model.layers.1.self_attn.k_proj.weight'" data_offsets -- A lying-offsets -o out-offsets

variant A lying-shape
"$PYTHON" "$E2E_TOOLS/edit_safetensors_header.py" lying-shape/model.safetensors \
  model.layers.1.self_attn.k_proj.weight shape || fail "cannot edit the header"
# The broken model on side A this time.
expect_bad_input lying_shape out-shape lying-shape/model.safetensors \
  "'model.layers.1.self_attn.k_proj.weight'" "[129, 256]" -- lying-shape A -o out-shape

variant A broken-config
printf '{"model_type": "llama", "hidden_size": 256,,}\n' > broken-config/config.json
plant_stale_reports out-config
expect_bad_input broken_config out-config broken-config/config.json "invalid JSON" -- \
  A broken-config -o out-config

variant sharded broken-index
printf '{"metadata": {"total_size": 1}, "weight_map": {"model.norm.weight": \n' \
  > broken-index/model.safetensors.index.json
expect_bad_input broken_index out-index broken-index/model.safetensors.index.json "invalid JSON" -- \
  A broken-index -o out-index

variant sharded missing-shard
rm "missing-shard/$shard2"
plant_stale_reports out-missing-shard
expect_bad_input index_names_missing_shard out-missing-shard \
  missing-shard/model.safetensors.index.json "$shard2" "does not exist" -- \
  A missing-shard -o out-missing-shard

e2e_done
