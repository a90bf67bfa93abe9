# e2e.faults: what happens to a job when the world misbehaves during the run (issue 18, point 4).
#  - SIGTERM to every rank (as Slurm delivers it at the time limit or on scancel): exit 75 with the
#    finished work saved; the same command then resumes, and its report is the uninterrupted run's.
#    (SIGTERM to mpirun itself is Open MPI's abort: it kills the ranks a second later, before they
#    can save; mpirun forwards SIGUSR1, which e2e.resume and e2e.slurm send. docs/SLURM.md.)
#  - SIGTERM with no room left for the saved work (a small tmpfs over the output directory): one
#    error line naming the state file, not 75 (nothing was saved), nothing left behind; the rerun
#    computes everything and its report is the uninterrupted run's.
#  - a rank killed (SIGKILL) at three random points: the job ends without a hang and without a report;
#    the same command then completes with the uninterrupted run's report.
#  - a model file replaced (another inode) or modified in place during the run, read mapped and with
#    pread: exit 2 with one line naming the file, no report; the rerun on the new bytes completes.
# (Truncation during the run is in e2e.hostile_input, a full disk while writing the reports in
# e2e.output_full.)
source "$(dirname "$0")/../common.sh"
e2e_begin faults

synth independent --seed 91 -o A
synth derive --from A -o B --kind drift --scale 0.05
synth derive --from B -o B-other --kind drift --scale 0.5
# Many small blocks and an exact neuron-matching null of 10^5 draws: a run of about 10 s, so that
# every fault lands in the middle of it.
ARGS=(--permutations-matrix 20000 --permutations-vector 20000 --permutations-neurons 100000 --block-elements 20000
  --progress log --progress-every 0.1)
compare 2 A B -o reference "${ARGS[@]}"
expect_report reference

# start_run DIR MODEL-B [ARGS...]: starts `compare A MODEL-B -o DIR` with 2 ranks in the
# background (pid in RUN_PID) and waits for its first progress line.
start_run() {
  local dir=$1 model=$2
  shift 2
  "${LAUNCH_PREFIX[@]}" "$MPIEXEC" $MPIEXEC_PREFLAGS -q -n 2 "$LINEAGE_BIN" compare A "$model" -o "$dir" "${ARGS[@]}" "$@" \
    > "$dir.out" 2> "$dir.err" &
  RUN_PID=$!
  wait_for_progress "$RUN_PID" "$dir.err"
}

# the_error_line FILE: the one "lineage: error:" line of FILE (progress lines share stderr).
the_error_line() {
  local count
  count=$(grep -c "^lineage: error:" "$1")
  [[ $count == 1 ]] || { cat "$1" >&2; fail "$1: $count error lines, expected 1"; }
  grep "^lineage: error:" "$1"
}

# finish_run DIR: waits for the run (at most 60 s more) and sets RUN_STATUS.
finish_run() { wait_for_end "$RUN_PID" 60 "$1: the job"; }

note "SIGTERM to every rank: exit 75, work saved, then resumed to the same report"
start_run termed B
pkill -TERM -f "^$LINEAGE_BIN compare A B -o termed "
finish_run termed
((RUN_STATUS == 75)) || { cat termed.err >&2; fail "SIGTERM: exit $RUN_STATUS, expected 75"; }
grep -q "stopped by SIGTERM" termed.err || fail "SIGTERM: no 'stopped by SIGTERM' line"
expect_no_report_files() { [[ ! -e $1/report.h5 && ! -e $1/report.json ]] || fail "$1: a report was left"; }
expect_no_report_files termed
RUN_NAME=termed-resumed compare 2 A B -o termed "${ARGS[@]}"
grep -q "units were finished by an earlier run" "$RUN_ERR" || { show_run; fail "SIGTERM: the rerun did not resume"; }
check check_resumed.py reference termed

note "SIGTERM with no room to save the work: a named error, not 75; the rerun starts afresh"
mkdir -p probe nospace
if unshare --mount sh -c "mount -t tmpfs -o size=4k none '$WORK/probe'" 2> probe.err; then
  # shellcheck disable=SC2016  # expanded by the inner shell
  LAUNCH_PREFIX=(unshare --mount sh -c 'dir=$1; shift; mount -t tmpfs -o size=4k none "$dir" || exit 90; "$@"
    status=$?; ls -A "$dir" "$dir/.lineage-resume" > "$dir.left" 2>&1; exit $status' sh "$WORK/nospace")
  start_run nospace B
  LAUNCH_PREFIX=()
  pkill -TERM -f "^$LINEAGE_BIN compare A B -o nospace "
  finish_run nospace
  ((RUN_STATUS == 2)) || { cat nospace.err >&2; fail "no room: exit $RUN_STATUS, expected 2"; }
  line=$(the_error_line nospace.err) || fail "no room: see above"
  [[ $line == *"nospace/.lineage-resume/comparison-0.state: write failed: No space left on device" ]] ||
    fail "no room: the error line does not name the state file and the full disk: $line"
  grep -q "stopped by SIGTERM" nospace.err && fail "no room: the run claims its work was saved"
  [[ -f nospace.left ]] || fail "no room: the output directory was not listed"
  grep -q "partial" nospace.left && fail "no room: a partial state file was left: $(cat nospace.left)"
  echo "    $line"
  RUN_NAME=nospace-again compare 2 A B -o nospace "${ARGS[@]}"
  grep -q "units were finished by an earlier run" "$RUN_ERR" && fail "no room: the rerun resumed from nothing"
  check check_resumed.py reference nospace
else
  note "skipped: unshare --mount with a tmpfs is not permitted here: $(cat probe.err)"
fi

note "a rank killed at random points: no hang, no report; the rerun completes"
for attempt in 1 2 3; do
  dir=killed-$attempt
  start_run "$dir" B
  # 0 to 4 s after the first progress line: the matchings, the blocks, the nulls or the gather.
  delay=$((RANDOM % 40))
  note "killed-$attempt: a rank killed $((delay / 10)).$((delay % 10)) s into the run"
  sleep "$((delay / 10)).$((delay % 10))"
  rank_pid=$(pgrep -f "^$LINEAGE_BIN compare A B -o $dir " | sort -n | tail -1)
  [[ -n $rank_pid ]] && kill -KILL "$rank_pid"
  finish_run "$dir"
  ((RUN_STATUS != 0)) || note "$dir: the job had ended before the kill (exit 0)"
  if ((RUN_STATUS != 0)); then expect_no_report_files "$dir"; fi
  RUN_NAME=$dir-again compare 2 A B -o "$dir" "${ARGS[@]}"
  check check_resumed.py reference "$dir"
done

for io in map read; do
  note "B's file replaced by another during the run ($io)"
  rm -rf "replaced-$io" && cp -r B "replaced-$io"
  start_run "out-replaced-$io" "replaced-$io" --io "$io"
  cp B-other/model.safetensors "replaced-$io/model.safetensors.new"
  mv "replaced-$io/model.safetensors.new" "replaced-$io/model.safetensors"
  finish_run "out-replaced-$io"
  ((RUN_STATUS == 2)) || { cat "out-replaced-$io.err" >&2; fail "replaced ($io): exit $RUN_STATUS, expected 2"; }
  line=$(the_error_line "out-replaced-$io.err") || fail "replaced ($io): see above"
  [[ $line == *"replaced-$io/model.safetensors: replaced by another file during the run"* ]] ||
    fail "replaced ($io): unexpected error line: $line"
  expect_no_report "out-replaced-$io"
  RUN_NAME=replaced-$io-again compare 2 A "replaced-$io" -o "out-replaced-$io" "${FEW_PERMUTATIONS[@]}"
  expect_report "out-replaced-$io"
done

note "B's file modified in place during the run (map)"
rm -rf modified && cp -r B modified
start_run out-modified modified
printf 'x' | dd of=modified/model.safetensors bs=1 seek=100000 conv=notrunc status=none
finish_run out-modified
((RUN_STATUS == 2)) || { cat out-modified.err >&2; fail "modified: exit $RUN_STATUS, expected 2"; }
line=$(the_error_line out-modified.err) || fail "modified: see above"
[[ $line == *"modified/model.safetensors: modified during the run"* ]] || fail "modified: unexpected error line: $line"
expect_no_report out-modified

e2e_done
