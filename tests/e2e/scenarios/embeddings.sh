# e2e.embeddings: embedding evidence of shared tokens (issue 5, point 4). With a tokenizer.json beside
# both checkpoints, `lineage compare` pairs the embedding and lm_head rows by shared token when the
# vocabularies differ: a vocabulary-extended derivative (rows appended, old rows kept, then drifted)
# is derived through its embedding; unrelated weights under one tokenizer or under two related ones
# are not; a hidden-dimension permutation on top is seen through. A broken tokenizer.json is bad input; a missing one means no tokenizer evidence.
source "$(dirname "$0")/../common.sh"
e2e_begin embeddings

LAYOUT=(--layers 2 --hidden 64 --intermediate 128 --heads 4 --kv-heads 2)
SHAPE=("${LAYOUT[@]}" --vocab 512)
synth independent --seed 301 "${SHAPE[@]}" -o A
synth derive --from A -o extended --kind extend-vocab --tokens 64 --seed 31
synth derive --from extended -o child --kind drift --scale 0.3 --seed 32

note "(a) extended vocabulary, then drift: rows paired by shared tokens, derived"
compare 2 A child -o out-child "${FEW_PERMUTATIONS[@]}"
expect_report out-child
check check_verdict.py out-child derived --max-p 1e-6
check check_embeddings.py paired out-child A child --by tokens --same-ids --significant
note "the same bits on 3 ranks"
compare 3 A child -o out-child-3 "${FEW_PERMUTATIONS[@]}"
check check_embeddings.py same-bits out-child out-child-3

note "extended vocabulary, hidden dimensions permuted, drift: shared tokens through the hidden order"
# A vocabulary above the 8192 rows the hidden matching compares, so that it matches on a seeded run
# of the shared tokens' row pairs. The embedding itself is tested on every shared row and in place
# (the order is chosen on it, so never applied to it); the later units read B through the order.
synth independent --seed 304 "${LAYOUT[@]}" --vocab 9000 -o large
synth derive --from large -o large-extended --kind extend-vocab --tokens 64 --seed 31
synth derive --from large-extended -o large-permuted --kind permute-hidden --seed 33
synth derive --from large-permuted -o permuted-child --kind drift --scale 0.3 --seed 34
compare 2 large permuted-child -o out-permuted "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-permuted derived --max-p 1e-6
check check_embeddings.py paired out-permuted large permuted-child --by tokens --same-ids --hidden --significant

note "(b) one tokenizer, independent weights: paired by id, no evidence"
synth independent --seed 302 "${SHAPE[@]}" -o same-tokenizer
compare 2 A same-tokenizer -o out-same "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-same no-evidence
check check_embeddings.py paired out-same A same-tokenizer --by key --not-significant

note "(c) another tokenizer seed, independent weights: shared tokens, not significant"
synth independent --seed 303 "${SHAPE[@]}" --tokenizer-seed 7 -o other-tokenizer
compare 2 A other-tokenizer -o out-other "${FEW_PERMUTATIONS[@]}"
check check_verdict.py out-other no-evidence
check check_embeddings.py paired out-other A other-tokenizer --by tokens --not-significant
"$LINEAGE_BIN" tokenizers A other-tokenizer -o tokenizers-other > tokenizers-other.log 2>&1 ||
  { cat tokenizers-other.log >&2; fail "lineage tokenizers A other-tokenizer failed"; }
check check_embeddings.py tokenizers out-other tokenizers-other/tokenizers.json

note "no tokenizer.json beside B: no tokenizer evidence, embeddings by id"
cp -r extended no-tokenizer
rm no-tokenizer/tokenizer.json
compare 2 A no-tokenizer -o out-no-tokenizer "${FEW_PERMUTATIONS[@]}"
check check_embeddings.py unavailable out-no-tokenizer

note "(d) a broken tokenizer.json: exit 2, one line naming the file, no report"
cp -r child broken-tokenizer
printf '{"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}}}\n' > broken-tokenizer/tokenizer.json
plant_stale_reports out-broken
expect_bad_input broken_tokenizer out-broken broken-tokenizer/tokenizer.json "both have id 0" -- \
  A broken-tokenizer -o out-broken

e2e_done
