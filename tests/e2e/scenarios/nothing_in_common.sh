# e2e.nothing_in_common: two models whose tensors all differ in shape (exit 0, "no tensor pairs",
# every tensor unpaired with a shape reason, verdict "inconclusive"); and model B given as one
# .safetensors file (2 ranks).
source "$(dirname "$0")/../common.sh"
e2e_begin nothing_in_common

synth independent --seed 91 -o A
# Every tensor of a Llama touches the hidden size, and vocab changes embed_tokens/lm_head's other side.
synth independent --seed 92 -o narrow --hidden 128 --heads 4 --kv-heads 2 --intermediate 344 --vocab 1024
synth derive --from A -o copy --kind copy

compare 2 A narrow -o out-none "${FEW_PERMUTATIONS[@]}"
expect_report out-none
check check_no_pairs.py no-pairs out-none A narrow
check check_verdict.py out-none inconclusive
grep -q "^Verdict: inconclusive" "$RUN_OUT" || fail "the terminal output does not give the verdict inconclusive"
grep -q "^No tensor pairs" "$RUN_OUT" || fail "the terminal output does not say there are no tensor pairs"
grep -q "^0 tensor pairs compared (0 elements); 39 tensors of A and 39 of B unpaired" "$RUN_OUT" ||
  fail "the terminal output lacks the unpaired counts: $(cat "$RUN_OUT")"

compare 2 A "$WORK/copy/model.safetensors" -o out-file "${FEW_PERMUTATIONS[@]}"
expect_report out-file
check check_no_pairs.py single-file out-file "$WORK/copy/model.safetensors"
check check_verdict.py out-file identical

# A lone file without config.json beside it: no model type, so tensors pair by their names.
mkdir -p lone
cp copy/model.safetensors lone/weights.safetensors
compare 2 A "$WORK/lone/weights.safetensors" -o out-lone "${FEW_PERMUTATIONS[@]}"
expect_report out-lone
check check_no_pairs.py single-file out-lone "$WORK/lone/weights.safetensors" ""

e2e_done
