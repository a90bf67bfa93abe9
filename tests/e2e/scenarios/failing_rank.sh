# e2e.failing_rank: a rank that fails after rank 0 has planned must not leave the others waiting.
#
# MPMD: rank 1 runs in its own mount namespace with a tmpfs over model B's directory (empty, or
# holding a truncated copy of B's file), so rank 0 plans from the real files and rank 1 then cannot
# read them. The job must end (under the time limit) with exit 2 and one error line naming rank 1
# and the file, and leave no report (not even an earlier run's).
source "$(dirname "$0")/../common.sh"
e2e_begin failing_rank

synth independent --seed 71 -o A
synth derive --from A -o B --kind drift --scale 0.05
model_a=$WORK/A
model_b=$WORK/B

mkdir -p probe
unshare --mount sh -c "mount -t tmpfs none '$WORK/probe'" 2> probe.err ||
  skip "unshare --mount with a tmpfs mount is not permitted here: $(cat probe.err)"

# Launchers of a rank that sees an empty directory at $model_b, or one where B's file is cut short
# (the command after the launcher runs inside the namespace).
# Both arrays are used through failing_job's name reference.
# shellcheck disable=SC2034
hidden_b=(unshare --mount sh -c "mount -t tmpfs none '$model_b' && exec \"\$0\" \"\$@\"")
head -c 1000000 B/model.safetensors > truncated.safetensors
# shellcheck disable=SC2034
truncated_b=(unshare --mount sh -c "mount -t tmpfs none '$model_b' &&
  cp '$WORK/truncated.safetensors' '$model_b/model.safetensors' && exec \"\$0\" \"\$@\"")

# failing_job NAME RANKS_AFTER LAUNCHER NEEDLE: rank 0 normal, rank 1 under the LAUNCHER array (its
# name), then RANKS_AFTER normal ranks. The error line must contain NEEDLE.
failing_job() {
  local name=$1 after=$2 needle=$4 out=$WORK/out-$1
  local -n rank_1_launcher=$3
  note "$name: rank 1 of $((2 + after)) runs under $3"
  plant_stale_reports "$out"
  local args=(compare "$model_a" "$model_b" -o "$out")
  local tail=()
  ((after > 0)) && tail=(: -n "$after" "$LINEAGE_BIN" "${args[@]}")
  RUN_NAME=$name mpi_launch -n 1 "$LINEAGE_BIN" "${args[@]}" \
    : -n 1 "${rank_1_launcher[@]}" "$LINEAGE_BIN" "${args[@]}" "${tail[@]}"
  if ((RUN_STATUS != 2)); then
    show_run
    fail "$name: exit $RUN_STATUS, expected 2"
  fi
  local line
  line=$(expect_one_error_line "$RUN_ERR") || fail "$name: see above"
  [[ $line == *"[rank 1]"* ]] || fail "$name: the error does not name rank 1: $line"
  [[ $line == *"$model_b/model.safetensors"* ]] || fail "$name: the error does not name B's file: $line"
  [[ $line == *"$needle"* ]] || fail "$name: the error does not say '$needle': $line"
  grep -q '^report:' "$RUN_OUT" && fail "$name: a failed run printed report paths"
  expect_no_report "$out"
  echo "    $line"

  # Again with every rank behind rank_status.sh: each must end by itself with status 2.
  local statuses=$WORK/$name.ranks wrap=(bash "$E2E_TOOLS/rank_status.sh" "$LINEAGE_BIN" "${args[@]}")
  mkdir -p "$statuses"
  tail=()
  ((after > 0)) && tail=(: -n "$after" "${wrap[@]}")
  RANK_STATUS_DIR=$statuses RUN_NAME=$name.wrapped mpi_launch -x RANK_STATUS_DIR -n 1 "${wrap[@]}" \
    : -n 1 "${rank_1_launcher[@]}" "${wrap[@]}" "${tail[@]}"
  if ((RUN_STATUS != 0)); then
    show_run
    fail "$name: a rank was killed instead of ending by itself (mpirun exit $RUN_STATUS)"
  fi
  local rank
  for ((rank = 0; rank < 2 + after; ++rank)); do
    [[ -f $statuses/rank-$rank ]] || fail "$name: rank $rank did not end by itself"
    [[ $(< "$statuses/rank-$rank") == 2 ]] || fail "$name: rank $rank exited $(< "$statuses/rank-$rank"), expected 2"
  done
  expect_no_report "$out"
}

failing_job two_ranks 0 hidden_b "cannot open"
failing_job three_ranks 1 hidden_b "cannot open"
failing_job truncated_on_rank_1 0 truncated_b "truncated"

# The same job where every rank sees model B works: the failure above came from rank 1's view.
compare 2 "$model_a" "$model_b" -o out-control "${QUICK_COMPARE[@]}"
expect_report out-control

e2e_done
