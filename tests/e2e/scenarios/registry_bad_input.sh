# e2e.registry_bad_input: what `lineage index` and `lineage search` do with bad input (issue 21): a
# missing model, a broken tokenizer.json, a registry that is not one, a member changed since it was
# indexed, a registry list pointing outside its directory, a damaged fingerprint and a foreign HDF5
# file given as the query. Each ends with exit 2 and one error line naming the file or key, no hung
# rank, and no search result left behind.
source "$(dirname "$0")/../common.sh"
e2e_begin registry_bad_input

SHAPE=(--layers 2 --hidden 32 --intermediate 64 --heads 4 --kv-heads 2 --vocab 256)
synth independent --seed 1 "${SHAPE[@]}" -o A
synth independent --seed 2 "${SHAPE[@]}" -o B
for model in A B; do
  RUN_NAME=index-$model mpi_run 2 index "$model" -o registry
  ((RUN_STATUS == 0)) || { show_run; fail "lineage index $model exited $RUN_STATUS"; }
done

# index_refused NAME NEEDLE... -- INDEX-ARGS: 2 ranks, exit 2, one error line holding every needle.
index_refused() {
  local name=$1 needles=() line needle
  shift
  while [[ $1 != -- ]]; do needles+=("$1"); shift; done
  shift
  note "index: $name"
  RUN_NAME=$name mpi_run 2 index "$@"
  ((RUN_STATUS == 2)) || { show_run; fail "$name: exited $RUN_STATUS, expected 2"; }
  line=$(expect_one_error_line "$RUN_ERR") || fail "$name: see above"
  for needle in "${needles[@]}"; do [[ $line == *"$needle"* ]] || fail "$name: '$needle' not in: $line"; done
  echo "    $line"
}

# search_refused NAME NEEDLE... -- SEARCH-ARGS: one process, exit 2, one error line, no result.
search_refused() {
  local name=$1 needles=() line needle status
  shift
  while [[ $1 != -- ]]; do needles+=("$1"); shift; done
  shift
  note "search: $name"
  timeout -k 5 60 "$LINEAGE_BIN" search "$@" -o "out-$name" > "$name.out" 2> "$name.err"
  status=$?
  ((status == 2)) || { cat "$name.out" "$name.err" >&2; fail "$name: exited $status, expected 2"; }
  line=$(expect_one_error_line "$name.err") || fail "$name: see above"
  for needle in "${needles[@]}"; do [[ $line == *"$needle"* ]] || fail "$name: '$needle' not in: $line"; done
  [[ -e out-$name/search.json || -e out-$name/search.md ]] && fail "$name: a failed search left a result"
  echo "    $line"
}

index_refused missing_model "absent" -- absent -o registry
mkdir -p broken-tokenizer
cp A/*.safetensors A/config.json broken-tokenizer/
printf '{"model": {"type": "BPE", "vocab": [' > broken-tokenizer/tokenizer.json
index_refused broken_tokenizer "tokenizer.json" -- broken-tokenizer -o registry

search_refused not_a_registry "registry.json" "no such file" -- A --registry A
cp -r registry registry-changed
printf 'x' >> registry-changed/B.fingerprint.h5
search_refused member_changed "B.fingerprint.h5" "SHA-256" -- A --registry registry-changed
cp -r registry registry-escaping
sed -i 's#"file": "A.fingerprint.h5"#"file": "../A.fingerprint.h5"#' registry-escaping/registry.json
search_refused member_outside "registry.json" "inside the registry" -- A --registry registry-escaping

cp registry/A.fingerprint.h5 damaged.fingerprint.h5
"$PYTHON" - << 'PY'
data = bytearray(open("damaged.fingerprint.h5", "rb").read())
data[len(data) // 2] ^= 0x10
open("damaged.fingerprint.h5", "wb").write(bytes(data))
PY
search_refused damaged_query "damaged.fingerprint.h5" -- damaged.fingerprint.h5 --registry registry
compare 2 A B -o compared "${QUICK_COMPARE[@]}"
cp compared/report.h5 foreign.h5
search_refused foreign_query "foreign.h5" "not a lineage fingerprint" -- foreign.h5 --registry registry

note "a good search still runs"
"$LINEAGE_BIN" search A --registry registry -o out-good > good.log 2>&1 || { cat good.log >&2; fail "search A failed"; }
grep -q '"verdict": "identical"' out-good/search.json || fail "A against its own fingerprint is not identical"
e2e_done
