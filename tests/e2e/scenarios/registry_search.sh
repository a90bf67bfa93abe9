# e2e.registry_search: ancestor search (issue 21). A registry of 42 generated models — independent
# seeds in five families (plain; a shared token structure, the trap of models trained on similar
# text with one tokenizer; another shape; MoE; another tokenizer) and derivatives of two members by
# disguising kinds — indexed with 2 ranks (one model with 1 and 3 ranks too: the same fingerprint).
# Every query derived from a member by any synth kind, disguised and fine-tuned ones included, finds
# that member first and significant at α = 0.01; no member is significant for 20 independent
# queries of the registry's families (two of another depth).
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

note "the record, the page and verify: search.h5 holds search.json's figures, search.html renders"
"$PYTHON" - out-plain-310 << 'PY' || fail "search.h5 and search.json disagree (see above)"
import json, sys, h5py, numpy as np
d = sys.argv[1]
doc = json.load(open(f"{d}/search.json"))
with h5py.File(f"{d}/search.h5", "r") as f:
    assert f.userblock_size == 512 and f.attrs["format"] == "lineage-search", f.attrs["format"]
    assert json.loads(f.attrs["search_json"]) == doc
    names = list(f["members/name"].asstr()[:])
    assert names == [c["name"] for c in doc["candidates"]], names[:3]
    assert np.allclose(f["members/adjusted_p"][:], [c["adjusted_p"] for c in doc["candidates"]], rtol=0, atol=0)
    assert list(f["query/sha256"].asstr()[:]) == [x["sha256"] for x in doc["query"]["files"]]
    assert len(f["units/p"]) == sum(len(c["units"]) for c in doc["candidates"])
print(f"    search.h5: {len(names)} members, the same figures as search.json")
PY
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[[ -n $CHROMIUM ]] || fail "chromium is not installed (scripts/test installs Debian's chromium package)"
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking --user-data-dir="$WORK/chromium")
timeout -k 10 90 "$CHROMIUM" "${flags[@]}" --virtual-time-budget=5000 --dump-dom "file://$WORK/out-plain-310/search.html" \
  > search.dom 2> search.console || { tail -20 search.console; fail "chromium --dump-dom failed"; }
grep -q 'data-sortable-tables="1"' search.dom || fail "search.html's script did not run to its end"
grep -q '<body[^>]*data-script-errors=' search.dom && fail "search.html raised script errors"
grep -q 'derived: plain-310' search.dom || fail "search.html's banner does not name the ancestor"
timeout -k 10 90 "$CHROMIUM" "${flags[@]}" --hide-scrollbars --window-size=1280,1600 --screenshot="$WORK/search.png" \
  "file://$WORK/out-plain-310/search.html" > search.shot.log 2>&1 || { tail -20 search.shot.log; fail "chromium --screenshot failed"; }
"$PYTHON" - "$WORK/search.png" << 'PY' || fail "the search page's screenshot looks blank (see above)"
import sys
from png_pixels import pixel_summary
width, height, share, colours = pixel_summary(sys.argv[1])
print(f"    search.html: {width}x{height}, {100 * share:.1f} % non-white pixels, {colours} colours")
assert share > 0.02 and colours > 20
PY
verify_search() {  # verify_search EXPECTED ARGS...
  local expected=$1 status
  shift
  "$LINEAGE_BIN" verify --search out-plain-310/search.h5 "$@" > verify.out 2> verify.err
  status=$?
  ((status == expected)) || { cat verify.out verify.err; fail "verify --search $* exited $status, expected $expected"; }
  tail -1 verify.out
}
verify_search 0 q-plain-310
verify_search 0 --registry registry
verify_search 3 q-plain-311
grep -q "model.safetensors: SHA-256" verify.out || fail "verify does not name the file that differs"
cp -r registry registry-grown
index 2 q-plain-302 registry-grown
verify_search 3 --registry registry-grown
grep -q "member q-plain-302: in the registry, not in the record" verify.out || fail "verify does not name the new member"

note "--compare-top 2: the full comparisons of the first two candidates, here"
"$LINEAGE_BIN" search q-plain-303 --registry registry -o out-compare-top --compare-top 2 > compare-top.log 2>&1 ||
  { cat compare-top.log >&2; fail "search --compare-top exited $?"; }
"$PYTHON" - << 'PY' || fail "the full comparisons of the first candidates are wrong (see above)"
import json, os
doc = json.load(open("out-compare-top/search.json"))
runs = doc["compares"]
assert [r["member"] for r in runs] == [c["name"] for c in doc["candidates"][:2]], runs
assert runs[0]["member"] == "plain-303" and runs[0]["status"] == "compared" and runs[0]["verdict"] == "derived", runs[0]
assert runs[1]["status"] == "compared" and runs[1]["verdict"] != "derived", runs[1]
for r in runs:
    assert os.path.isfile(os.path.join(r["output"], "report.h5")), r["output"]
print(f"    {runs[0]['member']}: {runs[0]['verdict']} (p {runs[0]['p']:.2g}); {runs[1]['member']}: {runs[1]['verdict']}")
PY
"$LINEAGE_BIN" search query-registry/q-plain-302.fingerprint.h5 --registry registry -o out-compare-fp --compare-top 1 \
  > compare-fp.log 2>&1 || { cat compare-fp.log >&2; fail "search --compare-top of a fingerprint exited $?"; }
grep -q "not compared: the query is a fingerprint" compare-fp.log || fail "a fingerprint query's comparison was not declined"

note "independent queries: no member is significant"
for seed in $(seq 401 408); do synth independent --seed "$seed" "${SHAPE[@]}" -o "ind-$seed"; done
for seed in $(seq 411 416); do synth independent --seed "$seed" "${SHAPE[@]}" "${TRAP[@]}" -o "ind-$seed"; done
for seed in 417 418; do synth independent --seed "$seed" "${OTHER[@]}" -o "ind-$seed"; done
for seed in 419 420; do synth independent --seed "$seed" "${SHAPE[@]}" --tokenizer-seed 9 -o "ind-$seed"; done
# Another depth, the members' layout: layers aligned on q and k, values tested.
for seed in 421 422; do
  synth independent --seed "$seed" --layers 4 --hidden 64 --intermediate 128 --heads 8 --kv-heads 2 --vocab 512 -o "ind-$seed"
done
for seed in $(seq 401 408) $(seq 411 422); do
  search "ind-$seed" "out-ind-$seed"
  check check_search.py "out-ind-$seed" --unrelated
done

e2e_done
