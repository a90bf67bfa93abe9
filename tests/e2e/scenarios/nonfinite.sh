# e2e.nonfinite: NaN and Inf values are counted and left out, the figures stay finite, and the
# tensor pair holding them has no permutation null ("non-finite values") (2 ranks).
source "$(dirname "$0")/../common.sh"
e2e_begin nonfinite

tensor=model.layers.0.mlp.up_proj.weight
synth independent --seed 81 -o A
synth derive --from A -o B --kind copy --inject-nonfinite "$tensor:10"

for order in AB BA; do
  if [[ $order == AB ]]; then side=b; set -- A B; else side=a; set -- B A; fi
  note "$1 against $2: 10 non-finite values in model ${side^^}"
  compare 2 "$@" -o "out-$order" "${FEW_PERMUTATIONS[@]}"
  expect_report "out-$order"
  check check_nonfinite.py "out-$order" "$tensor" 10 "$side"
  # Every other tensor is a copy: derived, on the pairs that have a null.
  check check_verdict.py "out-$order" derived --max-p 1e-10
  check check_reference.py "out-$order" "$@"
  if [[ $side == b ]]; then counts="0 in A, 10 in B"; else counts="10 in A, 0 in B"; fi
  # The table row of layer 0's up_proj flags the values, and a closing line says how many pairs.
  grep -Eq "^ +0 +mlp\.up_proj\.weight +1\.000000 +1\.000000 .*non-finite: $counts" "$RUN_OUT" || {
    cat "$RUN_OUT"
    fail "the table has no flagged row for layer 0 mlp.up_proj.weight ($counts)"
  }
  [[ $(grep -c "non-finite:" "$RUN_OUT") == 1 ]] || fail "more than one table row flags non-finite values"
  grep -q "^1 tensor pairs\? hold NaN or Inf values" "$RUN_OUT" || {
    cat "$RUN_OUT"
    fail "the terminal output does not say that 1 tensor pair holds NaN or Inf"
  }
done

note "the same values on both sides: bitwise equal, still left out of n"
synth derive --from B -o B-copy --kind copy
compare 2 B B-copy -o out-both "${FEW_PERMUTATIONS[@]}"
check check_nonfinite.py out-both "$tensor" 10 both
check check_verdict.py out-both identical

# The kernel decodes each dtype on its own path (and F64 on a scalar one).
for dtype in F32 F16 F64; do
  note "$dtype: 10 non-finite values in model B"
  synth derive --from A -o "A-$dtype" --kind dtype --dtype "$dtype"
  synth derive --from A -o "B-$dtype" --kind dtype --dtype "$dtype" --inject-nonfinite "$tensor:10"
  compare 2 "A-$dtype" "B-$dtype" -o "out-$dtype" "${FEW_PERMUTATIONS[@]}"
  check check_nonfinite.py "out-$dtype" "$tensor" 10 b
  check check_reference.py "out-$dtype" "A-$dtype" "B-$dtype"
done

e2e_done
