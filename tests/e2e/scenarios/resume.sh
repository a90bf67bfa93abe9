# e2e.resume: a run stopped by SIGUSR1 (sent to mpirun, which forwards it to every rank, as Slurm's
# --signal does) exits 75 with its finished units saved; the same command then computes only the
# rest, and its report is bit-identical to an uninterrupted run's (the manifest's hashes included).
# A damaged saved state, or one made with another rank count, is refused with a warning and the
# work is done again in full.
source "$(dirname "$0")/../common.sh"
e2e_begin resume

synth independent --seed 31 -o A
synth derive --from A -o drifted --kind drift --scale 0.05 --shards 3
# A layer fewer: A's unpaired layer is hashed by the manifest's content units, which come right
# after each share's blocks.
synth derive --from drifted -o B --kind drop-layers --layers 1
# Many permutations make the run last seconds, so the signal lands in the middle of it. With a
# memory budget, the read windows follow rank 0's resident memory, which differs between the runs:
# the saved work must still be recognised (the windows change no figure).
ARGS=(--block-elements 20000 --permutations-matrix 3000 --permutations-vector 3000 --progress log --progress-every 0.1
  --memory-budget 512MiB)

compare 2 A B -o reference "${ARGS[@]}"
expect_report reference

# interrupt RANKS DIR: starts the compare, sends SIGUSR1 to mpirun after the first progress line,
# and expects exit 75 with the state saved and no report. Sets UNITS_SAVED.
interrupt() {
  local ranks=$1 dir=$2 pid
  "$MPIEXEC" $MPIEXEC_PREFLAGS -q -n "$ranks" "$LINEAGE_BIN" compare A B -o "$dir" "${ARGS[@]}" \
    > "$dir.out" 2> "$dir.err" &
  pid=$!
  wait_for_progress "$pid" "$dir.err"
  kill -USR1 "$pid" 2> /dev/null
  wait_for_end "$pid" 60 "mpirun stopped by SIGUSR1"
  if ((RUN_STATUS != 75)); then
    cat "$dir.err" >&2
    fail "a run stopped by SIGUSR1 exited $RUN_STATUS, not 75"
  fi
  [[ -s $dir/.lineage-resume/comparison-0.state ]] || fail "no saved state in $dir/.lineage-resume"
  for report in report.h5 report.json report.html report.md; do
    [[ ! -e $dir/$report ]] || fail "an interrupted run left $dir/$report"
  done
  local line
  line=$(grep "stopped by SIGUSR1" "$dir.err") || { cat "$dir.err" >&2; fail "no 'stopped by SIGUSR1' line"; }
  UNITS_SAVED=$(sed -n 's/.*stopped by SIGUSR1: \([0-9]*\) units of .*/\1/p' <<< "$line")
  [[ -n $UNITS_SAVED ]] || fail "cannot read the saved unit count from: $line"
  note "$dir: stopped with $UNITS_SAVED units saved"
}

# 1. Stop, resume with the same command: only the rest is computed; same bits as the reference.
interrupt 2 resumed
((UNITS_SAVED > 0)) || fail "the interrupted run saved no unit (the signal came too early to test resuming)"
RUN_NAME=resume compare 2 A B -o resumed "${ARGS[@]}"
grep -q "units were finished by an earlier run" "$RUN_ERR" || { show_run; fail "the rerun did not resume"; }
expect_report resumed
check check_resumed.py reference resumed "$UNITS_SAVED"

# 2. A damaged state (one byte changed in its payload) is refused, and everything is recomputed.
interrupt 2 damaged
state=damaged/.lineage-resume/comparison-0.state
size=$(stat -c %s "$state")
printf '\xff' | dd of="$state" bs=1 seek=$((size - 9)) conv=notrunc status=none
RUN_NAME=damaged compare 2 A B -o damaged "${ARGS[@]}"
grep -q "lineage: warning: .*comparison-0.state" "$RUN_ERR" || { show_run; fail "no warning about the damaged state"; }
! grep -q "finished by an earlier run" "$RUN_ERR" || fail "a damaged state was trusted"
expect_report damaged
check check_resumed.py reference damaged 0

# 3. A state saved by 2 ranks is not taken by 3 (their shares differ); 3 ranks give the same bits.
interrupt 2 reranked
RUN_NAME=reranked compare 3 A B -o reranked "${ARGS[@]}"
grep -q "lineage: warning: .*ranks" "$RUN_ERR" || { show_run; fail "no warning about the other rank count"; }
expect_report reranked
check check_resumed.py reference reranked 0

# 4. --no-resume throws a saved state away.
interrupt 2 fresh
RUN_NAME=fresh compare 2 A B -o fresh --no-resume "${ARGS[@]}"
! grep -q "finished by an earlier run" "$RUN_ERR" || fail "--no-resume resumed"
expect_report fresh

# 5. B's bytes changed under the same size and modification time (touch -r): the state is refused
# and the report is the new bytes' (issue 18, defect 5: the rerun resumed, and called the pair
# from the old bytes). (a) B replaced by a model of the same shapes: its matching phases (run
# again) already give another plan. (b) One byte flipped in a tensor the saved blocks read: the
# plan is the same, the saved hashes are not.
synth derive --from B -o B-other --kind drift --scale 0.5
# stop_at_progress DIR MODEL: starts A vs MODEL into DIR and sends SIGUSR1 after the first
# progress line; expects exit 75.
stop_at_progress() {
  local dir=$1 model=$2 pid
  "$MPIEXEC" $MPIEXEC_PREFLAGS -q -n 2 "$LINEAGE_BIN" compare A "$model" -o "$dir" "${ARGS[@]}" \
    > "$dir.out" 2> "$dir.err" &
  pid=$!
  wait_for_progress "$pid" "$dir.err"
  kill -USR1 "$pid" 2> /dev/null
  wait "$pid"
  (($? == 75)) || { cat "$dir.err" >&2; fail "the run on $model did not stop with exit 75"; }
}
# keeping_time FILE COMMAND...: runs COMMAND, then gives FILE its modification time back.
keeping_time() {
  local file=$1 stamp
  shift
  stamp=$(mktemp)
  touch -r "$file" "$stamp"
  "$@"
  touch -r "$stamp" "$file"
  rm -f "$stamp"
}
# resumed_from_other_bytes NAME MODEL WARNING: the rerun refuses the state with WARNING and gives
# the report of an uninterrupted run on MODEL as it is now.
resumed_from_other_bytes() {
  RUN_NAME=$1 compare 2 A "$2" -o "$1" "${ARGS[@]}"
  grep -q "lineage: warning: .*comparison-0.state: $3" "$RUN_ERR" || { show_run; fail "$1: no warning '$3'"; }
  ! grep -q "finished by an earlier run" "$RUN_ERR" || fail "$1: a state computed from other bytes was trusted"
  expect_report "$1"
  RUN_NAME=$1-fresh compare 2 A "$2" -o "$1-fresh" --no-resume "${ARGS[@]}"
  check check_resumed.py "$1-fresh" "$1" 0
}
cp -r B B-swapped
stop_at_progress swapped B-swapped
for file in B-swapped/*.safetensors; do
  other=B-other/$(basename "$file")
  [[ $(stat -c %s "$file") == $(stat -c %s "$other") ]] || fail "$other differs in size from $file"
  keeping_time "$file" cp "$other" "$file"
done
resumed_from_other_bytes swapped B-swapped "\(saved with another plan\|model B's bytes changed\)"

cp -r B B-flipped
stop_at_progress flipped B-flipped
flipped_file=$(grep -l '"model.layers.0.mlp.down_proj.weight"' B-flipped/*.safetensors)
keeping_time "$flipped_file" "$PYTHON" "$E2E_TOOLS/change_tensor.py" B-flipped model.layers.0.mlp.down_proj.weight flip \
  > /dev/null || fail "cannot flip a byte of B-flipped"
resumed_from_other_bytes flipped B-flipped "model B's bytes changed since the work was saved (tensor 'model.layers.0.mlp.down_proj.weight'"

e2e_done
