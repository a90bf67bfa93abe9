# e2e.manifest: the report's reproducibility manifest. Every byte of both models lies in a hashed
# range, whether a block read it (B in place), B was read through a recovered hidden permutation
# (its blocks gather bytes, so digest units hash them) or the tensor was not paired at all (A's
# dropped layer): each range's XXH3, each tensor's digest and, with --sha256, each file's SHA-256
# equal what Python (python3-xxhash, hashlib, sha256sum) computes from the files; 1 and 3 ranks give
# the same bits. `lineage verify` passes on the models, and fails with exit 3 naming the tensor after
# one byte of a copy is flipped or a tensor removed; a broken report is one error line, exit 2.
source "$(dirname "$0")/../common.sh"
e2e_begin manifest
"$PYTHON" -c 'import xxhash' 2> /dev/null ||
  skip "$PYTHON cannot import xxhash (Debian: apt-get install python3-xxhash)"

SHAPE=(--layers 3 --hidden 64 --intermediate 160 --heads 4 --kv-heads 2 --vocab 256)
synth independent --seed 81 "${SHAPE[@]}" -o A
synth derive --from A -o permuted --kind permute-hidden --seed 3
synth derive --from permuted -o B --kind drop-layers --layers 1 --shards 2
ARGS=(--block-elements 3000 --sha256 "${FEW_PERMUTATIONS[@]}")

compare 3 A B -o out-3 "${ARGS[@]}"
expect_report out-3
compare 1 A B -o out-1 "${ARGS[@]}"
"$PYTHON" - out-3 << 'PY' || fail "the fixture does not cover aligned B reads and unpaired tensors"
import sys, h5py
with h5py.File(sys.argv[1] + "/report.h5") as f:
    assert "hidden matching" in set(f["tensors/pairing"].asstr()[:]), "no pair read through the hidden order"
    sides = set(f["unpaired/side"].asstr()[:])
    assert "a" in sides, "no unpaired tensor of A"
    assert (f["manifest/model_b/tensors/ranges"][:] > 1).any(), "no tensor of B in several ranges"
PY
check check_manifest.py out-3 A B --sha256 --same-as out-1

note "--sha256 against sha256sum"
for side in a b; do
  dir=$([[ $side == a ]] && echo A || echo B)
  "$PYTHON" -c "
import sys, h5py
with h5py.File('out-3/report.h5') as f:
    g = f['manifest/model_$side/checkpoint_files']
    for name, sha in zip(g['name'].asstr()[:], g['sha256'].asstr()[:]):
        print(sha + '  ' + name)" > "sums-$side" || fail "cannot read the SHA-256 of model $side"
  [[ $(wc -l < "sums-$side") -ge 3 ]] || fail "model $side: fewer than 3 files hashed"
  (cd "$dir" && sha256sum --quiet -c "../sums-$side") || fail "model $side: SHA-256 differs from sha256sum"
done

# verify NAME EXPECTED-STATUS ARGS...: `lineage verify ARGS`, output in NAME.out, exit status checked.
verify() {
  local name=$1 expected=$2
  shift 2
  timeout 60 "$LINEAGE_BIN" verify "$@" > "$name.out" 2> "$name.err"
  local status=$?
  if ((status != expected)); then
    cat "$name.out" "$name.err" >&2
    fail "lineage verify $* exited $status, expected $expected"
  fi
}

note "verify: the unchanged models match, each its own side"
verify same-a 0 --manifest out-3/report.h5 A
grep -q "^verify: A matches model A of out-3/report.h5: 30 tensors" same-a.out || { cat same-a.out; fail "A: no match line"; }
verify same-b 0 --manifest out-3/report.h5 B
grep -q "^verify: B matches model B of" same-b.out || { cat same-b.out; fail "B: no match line"; }
verify same-b-side 0 --manifest out-3/report.h5 B --side b
verify wrong-side 3 --manifest out-3/report.h5 B --side a

note "verify: one byte flipped inside one tensor of a copy of B"
cp -r B flipped
offset=$("$PYTHON" "$E2E_TOOLS/change_tensor.py" flipped model.layers.1.mlp.up_proj.weight flip) || fail "cannot flip a byte"
verify flipped 3 --manifest out-3/report.h5 flipped
grep -q "^tensor 'model.layers.1.mlp.up_proj.weight': bytes changed in 1 of " flipped.out ||
  { cat flipped.out; fail "the flipped tensor is not named"; }
[[ $(grep -c "^tensor '" flipped.out) == 1 ]] || { cat flipped.out; fail "another tensor than the flipped one is named"; }
grep -q "^file 'model-0000[12]-of-00002.safetensors': SHA-256 " flipped.out || { cat flipped.out; fail "the file's SHA-256 is not named"; }
grep -q "^verify: flipped differs from model B of .*: 1 tensors changed" flipped.out || { cat flipped.out; fail "no summary"; }
echo "    flipped byte $offset of the tensor's data: $(grep "^tensor" flipped.out)"

note "verify: one tensor removed from a copy of A"
cp -r A removed
"$PYTHON" "$E2E_TOOLS/change_tensor.py" removed model.layers.2.self_attn.k_proj.weight remove || fail "cannot remove a tensor"
verify removed 3 --manifest out-3/report.h5 removed --side a
grep -q "^tensor 'model.layers.2.self_attn.k_proj.weight': missing" removed.out || { cat removed.out; fail "the removed tensor is not named"; }
grep -q "0 tensors changed, 1 missing" removed.out || { cat removed.out; fail "the summary does not count one missing tensor"; }
# Without --side the tensor names match neither model exactly: the closest (A) is reported.
verify removed-auto 3 --manifest out-3/report.h5 removed
grep -q "^verify: against model A (closest by tensor names" removed-auto.out || { cat removed-auto.out; fail "no closest side"; }

note "verify: a report that is not HDF5, and a missing model, are one error line each (exit 2)"
echo "not hdf5" > broken.h5
verify broken 2 --manifest broken.h5 A
expect_one_error_line broken.err > /dev/null
verify no-model 2 --manifest out-3/report.h5 nowhere
expect_one_error_line no-model.err > /dev/null

e2e_done
