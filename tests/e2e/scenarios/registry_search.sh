# e2e.registry_search: ancestor search (issue 21). A registry of 42 generated models — independent
# seeds in five families (plain; a shared token structure, the trap of models trained on similar
# text with one tokenizer; another shape; MoE; another tokenizer) and derivatives of two members by
# disguising kinds — indexed with 2 ranks (one model with 1 and 3 ranks too: the same fingerprint).
# Every query derived from a member by any synth kind, disguised and fine-tuned ones included, finds
# that member first and significant at α = 0.01; no member is significant for 18 independent
# queries of the registry's families.
source "$(dirname "$0")/../common.sh"
e2e_begin registry_search

SHAPE=(--layers 3 --hidden 64 --intermediate 128 --heads 8 --kv-heads 2 --vocab 512)
TRAP=(--structured --shared-seed 5)
OTHER=(--layers 2 --hidden 96 --intermediate 160 --heads 4 --kv-heads 2 --vocab 512)
MOE=(--experts 4 --expert-intermediate 32)

index() {  # index RANKS MODEL REGISTRY
  RUN_NAME=index-$2 mpi_run "$1" index "$2" -o "$3"
  ((RUN_STATUS == 0)) || { show_run; fail "lineage index $2 with $1 ranks exited $RUN_STATUS"; }
}
search() {  # search QUERY OUT
  "$LINEAGE_BIN" search "$1" --registry registry -o "$2" > "$2.log" 2>&1 ||
    { cat "$2.log" >&2; fail "lineage search $1 exited $?"; }
}

note "the registry: 32 independent models and 10 derivatives"
members=()
for seed in $(seq 301 312); do synth independent --seed "$seed" "${SHAPE[@]}" -o "plain-$seed"; members+=("plain-$seed"); done
for seed in $(seq 321 332); do synth independent --seed "$seed" "${SHAPE[@]}" "${TRAP[@]}" -o "trap-$seed"; members+=("trap-$seed"); done
for seed in 341 342 343 344; do synth independent --seed "$seed" "${OTHER[@]}" -o "other-$seed"; members+=("other-$seed"); done
for seed in 351 352; do synth independent --seed "$seed" "${SHAPE[@]}" "${MOE[@]}" -o "moe-$seed"; members+=("moe-$seed"); done
for seed in 361 362; do synth independent --seed "$seed" "${SHAPE[@]}" --tokenizer-seed 9 -o "tok-$seed"; members+=("tok-$seed"); done
for base in plain-301 trap-321; do
  synth derive --from "$base" -o "$base-noise" --kind noise --seed 2
  synth derive --from "$base" -o "$base-hidden" --kind permute-hidden --seed 3
  synth derive --from "$base" -o "$base-rotated" --kind rotate-hidden --seed 4
  synth derive --from "$base" -o "$base-folded" --kind fold-norms
  synth derive --from "$base" -o "$base-heads" --kind permute-heads --seed 5
  members+=("$base-noise" "$base-hidden" "$base-rotated" "$base-folded" "$base-heads")
done
for model in "${members[@]}"; do index 2 "$model" registry; done
"$PYTHON" - "${#members[@]}" << 'PY' || fail "registry.json does not list every member"
import json, sys
members = json.load(open("registry/registry.json"))["members"]
assert len(members) == int(sys.argv[1]) == 42, len(members)
PY

note "a fingerprint does not depend on the number of ranks"
index 1 plain-302 one-rank
index 3 plain-302 three-ranks
"$PYTHON" - << 'PY' || fail "the fingerprints of 1, 2 and 3 ranks differ"
import h5py, numpy as np
def contents(path):
    out = {}
    with h5py.File(path, "r") as f:
        out.update({"@" + k: v for k, v in f.attrs.items()})
        f.visititems(lambda name, item: out.__setitem__(name, item[()]) if isinstance(item, h5py.Dataset) else None)
    return out
a, b, c = (contents(f"{d}/plain-302.fingerprint.h5") for d in ("one-rank", "registry", "three-ranks"))
assert a.keys() == b.keys() == c.keys()
for k in a:
    assert np.array_equal(np.asarray(a[k]), np.asarray(b[k])) and np.array_equal(np.asarray(a[k]), np.asarray(c[k])), k
PY

note "derived queries find their ancestor first"
# ancestor: the derive arguments
declare -A DERIVED=(
  [plain-302]="--kind noise --seed 7" [plain-303]="--kind drift --scale 0.3 --seed 7"
  [plain-304]="--kind dtype --dtype F16" [plain-305]="--kind reshard --shards 3"
  [plain-306]="--kind drop-layers --layers 1" [plain-307]="--kind duplicate-layers --layers 1"
  [plain-308]="--kind permute-neurons --seed 7" [plain-309]="--kind permute-heads --seed 7"
  [plain-310]="--kind permute-hidden --seed 7" [plain-311]="--kind flip-hidden --seed 7"
  [plain-312]="--kind prune-hidden --seed 7" [trap-322]="--kind rescale-norms --seed 7"
  [trap-323]="--kind extend-vocab --tokens 64 --seed 7" [trap-324]="--kind upcycle --experts 4 --seed 7"
  [trap-325]="--kind fold-norms" [trap-326]="--kind rotate-hidden --seed 7"
  [trap-327]="--kind rotate-hidden --rotation hadamard --seed 7" [trap-328]="--kind copy"
  [moe-351]="--kind permute-experts --seed 7" [moe-352]="--kind drop-experts --experts 1"
  [other-341]="--kind permute-hidden --seed 7"
)
for ancestor in "${!DERIVED[@]}"; do
  # shellcheck disable=SC2086 # the arguments are words
  synth derive --from "$ancestor" -o "q-$ancestor" ${DERIVED[$ancestor]}
  search "q-$ancestor" "out-$ancestor"
  check check_search.py "out-$ancestor" --ancestor "$ancestor"
done
note "disguised, then fine-tuned"
synth derive --from trap-329 -o q-all-permuted --kind permute-hidden --seed 8
synth derive --from q-all-permuted -o q-all-permuted-2 --kind permute-neurons --seed 9
synth derive --from q-all-permuted-2 -o q-all-permuted-drifted --kind drift --scale 0.3 --seed 10
synth derive --from plain-312 -o q-rotated --kind rotate-hidden --seed 8
synth derive --from q-rotated -o q-rotated-drifted --kind drift --scale 0.3 --seed 10
search q-all-permuted-drifted out-all-permuted-drifted
check check_search.py out-all-permuted-drifted --ancestor trap-329
search q-rotated-drifted out-rotated-drifted
check check_search.py out-rotated-drifted --ancestor plain-312
note "a query given as its fingerprint"
index 2 q-plain-302 query-registry
search query-registry/q-plain-302.fingerprint.h5 out-by-fingerprint
check check_search.py out-by-fingerprint --ancestor plain-302

note "independent queries: no member is significant"
for seed in $(seq 401 408); do synth independent --seed "$seed" "${SHAPE[@]}" -o "ind-$seed"; done
for seed in $(seq 411 416); do synth independent --seed "$seed" "${SHAPE[@]}" "${TRAP[@]}" -o "ind-$seed"; done
for seed in 417 418; do synth independent --seed "$seed" "${OTHER[@]}" -o "ind-$seed"; done
for seed in 419 420; do synth independent --seed "$seed" "${SHAPE[@]}" --tokenizer-seed 9 -o "ind-$seed"; done
for seed in $(seq 401 408) $(seq 411 420); do
  search "ind-$seed" "out-ind-$seed"
  check check_search.py "out-ind-$seed" --unrelated
done

e2e_done
