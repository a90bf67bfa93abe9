# e2e.hostile_input: the inputs a hostile user tried (issue 18), each a case named after what it
# checks. Every one must end with exit 2 (or, where the input is only a nuisance, a warning and a
# correct run), one error line that names the file, tensor or key, no crash, no hung rank and no
# report that could pass for this run's.
source "$(dirname "$0")/../common.sh"
e2e_begin hostile_input

synth independent --seed 81 -o A
synth derive --from A -o B --kind noise --scale 0.01
HOSTILE=("$PYTHON" "$E2E_TOOLS/hostile_files.py")

# plain_run NAME STATUS NEEDLE... -- LINEAGE-ARGS...: `lineage ARGS` as one process (no MPI) must
# exit STATUS; with STATUS 2, with one error line holding every NEEDLE.
plain_run() {
  local name=$1 expected=$2 needles=() status
  shift 2
  while (($#)) && [[ $1 != -- ]]; do needles+=("$1"); shift; done
  shift
  note "$name"
  timeout -k 5 60 "$LINEAGE_BIN" "$@" > "$name.out" 2> "$name.err"
  status=$?
  ((status == expected)) || { cat "$name.out" "$name.err" >&2; fail "$name: lineage $* exited $status, expected $expected"; }
  ((expected == 2)) || return 0
  local line needle
  line=$(expect_one_error_line "$name.err") || fail "$name: see above"
  for needle in "${needles[@]}"; do
    [[ $line == *"$needle"* ]] || fail "$name: the error line does not contain '$needle': $line"
  done
  echo "    $line"
}

# Defect 1: row counts of a fused-qkv split that wrap in 64 bits (rank 0 grew past 4.6 GB).
"${HOSTILE[@]}" phi3-wrap wrap || fail "cannot write the phi3 checkpoint"
plain_run fused_split_that_wraps_is_refused_by_plan 2 "qkv_proj" "does not fit" -- plan wrap wrap
expect_bad_input fused_split_that_wraps_is_refused_by_compare out-wrap "qkv_proj" "does not fit" -- \
  wrap wrap -o out-wrap

# Defect 2: permutation counts whose draws cannot fit are usage errors (not 528 MB under a 70 MiB
# budget, not std::bad_alloc).
expect_bad_input draws_beyond_the_budget out-draws "--permutations-vector" "memory budget" -- \
  A B -o out-draws --memory-budget 70MiB --permutations-vector 3000000
expect_bad_input draws_beyond_the_machine out-draws "--permutations-vector" "machine's memory" -- \
  A B -o out-draws --permutations-vector 4294967295

# Defect 3: a checkpoint that shrinks during the run, read mapped (it raised SIGBUS) and with pread.
for io in map read; do
  note "checkpoint_truncated_during_the_run_$io"
  rm -rf "shrinking-$io" "out-shrink-$io"
  cp -r B "shrinking-$io"
  plant_stale_reports "out-shrink-$io"
  "$MPIEXEC" $MPIEXEC_PREFLAGS -q -n 2 "$LINEAGE_BIN" compare A "shrinking-$io" -o "out-shrink-$io" --io "$io" \
    --permutations-matrix 20000 --permutations-vector 20000 --progress log --progress-every 0.1 \
    > "shrink-$io.out" 2> "shrink-$io.err" &
  pid=$!
  wait_for_progress "$pid" "shrink-$io.err"
  truncate -s 100000 "shrinking-$io/model.safetensors"
  wait_for_end "$pid" 90 "mpirun with a checkpoint truncated mid-run ($io)"
  ((RUN_STATUS == 2)) || { cat "shrink-$io.err" >&2; fail "a checkpoint truncated mid-run ($io) exited $RUN_STATUS, expected 2"; }
  line=$(grep "^lineage: error:" "shrink-$io.err") || { cat "shrink-$io.err" >&2; fail "no error line ($io)"; }
  [[ $(grep -c "^lineage: error:" "shrink-$io.err") == 1 ]] || fail "more than one error line ($io)"
  [[ $line == *"shrinking-$io/model.safetensors"* ]] || fail "the error does not name the file: $line"
  expect_no_report "out-shrink-$io"
  echo "    $line"
done

# Defect 4: randomly corrupted copies of a report.h5 (libhdf5 crashed inside verify): refused by the
# report's seal before libhdf5 reads them, by verify, report and --panel-report alike.
compare 2 A B -o sound "${QUICK_COMPARE[@]}"
"${HOSTILE[@]}" corrupt sound/report.h5 40 18 corrupted || fail "cannot corrupt copies"
note "corrupted_reports_are_refused_before_libhdf5_reads_them (40 copies, verify and report)"
for n in $(seq 0 39); do
  for how in verify report; do
    if [[ $how == verify ]]; then args=(verify --manifest "corrupted/corrupt-$n.h5" A); else args=(report "corrupted/corrupt-$n.h5" -o "render-$n"); fi
    timeout -k 5 60 "$LINEAGE_BIN" "${args[@]}" > corrupt.out 2> corrupt.err
    status=$?
    ((status == 2)) || { cat corrupt.err >&2; fail "lineage ${args[*]} exited $status, expected 2"; }
    line=$(expect_one_error_line corrupt.err) || fail "corrupt-$n ($how): see above"
    [[ $line == *"corrupt-$n.h5"* ]] || fail "the error does not name the file: $line"
  done
done
expect_bad_input corrupted_panel_report out-panel "corrupt-0.h5" "seal" -- \
  A B -o out-panel --panel-report corrupted/corrupt-0.h5

# Defect 7: tensor names with terminal escapes and a forged table line, and model_type "<script>":
# the terminal, the error line and report.md show them escaped.
"${HOSTILE[@]}" hostile-names B hostile || fail "cannot write the hostile names"
compare 2 A hostile -o out-hostile "${QUICK_COMPARE[@]}"
note "names_with_escapes_reach_no_terminal_raw"
if LC_ALL=C grep -q $'[\x07\x1b]' "$RUN_OUT" "$RUN_ERR"; then fail "an escape byte reached the terminal"; fi
grep -q "^layer 9  forged" "$RUN_OUT" && fail "a tensor name forged a line of the terminal table"
grep -q 'up_proj.weight\\x1b\]0;owned\\x07' "$RUN_OUT" || { show_run; fail "the hostile name is not shown escaped"; }
grep -q "<script>" out-hostile/report.md && fail "report.md holds <script> raw"
grep -q "&lt;script&gt;" out-hostile/report.md || fail "report.md does not show the model_type escaped"
LC_ALL=C grep -q $'[\x07\x1b]' out-hostile/report.md && fail "report.md holds escape bytes"
"${HOSTILE[@]}" hostile-names B hostile-lying lie || fail "cannot write the lying hostile name"
expect_bad_input error_line_with_a_hostile_name out-hostile-error "hostile-lying/model.safetensors" \
  'up_proj.weight\x1b]0;owned\x07\x1b[2J layer 9' -- A hostile-lying -o out-hostile-error
if LC_ALL=C grep -q $'[\x07\x1b]' "$WORK/error_line_with_a_hostile_name.err"; then fail "an escape byte reached the error line"; fi

# Defect 8: exit 1 where 2 is promised.
printf 'model_a: A\nmodel_b: B\noutput: out-key\n[1, 2]: x\n' > job-list-key.yaml
expect_bad_input job_file_key_that_is_a_list out-key "job-list-key.yaml" "plain name" -- --config job-list-key.yaml
mkdir -p out-dir-report/report.json && touch out-dir-report/report.json/inside
expect_bad_input report_name_taken_by_a_directory out-none "out-dir-report/report.json" "directory" -- \
  A B -o out-dir-report
rm -rf out-dir-report out-none
mkdir -p out-state-dir/.lineage-resume/comparison-0.state
note "resume_state_that_is_a_directory_is_a_warning"
RUN_NAME=state-dir compare 2 A B -o out-state-dir "${QUICK_COMPARE[@]}"
grep -q "lineage: warning: .*comparison-0.state: not a regular file" "$RUN_ERR" || { show_run; fail "no warning about the state"; }
expect_report out-state-dir
printf '{"model_type": "llama", "tensors": [{"name": "w", "dtype": "BF16", "shape": [4611686018427387904, 1]}]}' \
  > absurd.json
plain_run plan_on_an_absurd_shape_list 2 "'w'" "blocks" -- plan absurd.json absurd.json

# Defect 9: a key given twice in the job file.
printf 'model_a: A\nmodel_b: B\noutput: out-twice\nseed: 1\nseed: 2\n' > job-twice.yaml
expect_bad_input job_file_key_given_twice out-twice "job-twice.yaml" "'seed' is given twice" -- --config job-twice.yaml

# Defect 11: a run refused for its options leaves no earlier report in the output directory it names.
plant_stale_reports out-alpha
expect_bad_input refused_options_leave_no_earlier_report out-alpha "--alpha" -- A B -o out-alpha --alpha 2
plant_stale_reports out-bad-yaml
printf 'model_a: A\nmodel_b: B\noutput: out-bad-yaml\nalpha: 2\n' > job-alpha.yaml
expect_bad_input refused_job_file_leaves_no_earlier_report out-bad-yaml "job-alpha.yaml" "alpha" -- \
  --config job-alpha.yaml

# Defect 12: synth with a token count that cannot be allocated.
plain_run synth_extend_vocab_tokens_beyond_limit 2 "--tokens" -- synth derive --from A -o extended \
  --kind extend-vocab --tokens 4294967295

# Defect 13: bytes that are not UTF-8 in a broken config.json are shown escaped.
cp -r A bad-utf8
"${HOSTILE[@]}" bad-utf8-config bad-utf8 || fail "cannot write the config"
expect_bad_input invalid_utf8_is_escaped_in_the_error_line out-utf8 "bad-utf8/config.json" -- A bad-utf8 -o out-utf8
"$PYTHON" -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$WORK/invalid_utf8_is_escaped_in_the_error_line.err" ||
  fail "the error line is not valid UTF-8"
if LC_ALL=C grep -q $'\x1b' "$WORK/invalid_utf8_is_escaped_in_the_error_line.err"; then fail "an ESC byte reached the error line"; fi

e2e_done
