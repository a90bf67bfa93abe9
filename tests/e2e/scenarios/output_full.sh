# e2e.output_full: the output file system fills up while rank 0 writes the reports (2 ranks).
#
# The job runs in a mount namespace with a small tmpfs over the output directory, too small for
# report.h5, then for report.json, report.html and report.md in turn. Either way the job must end with
# status 1 or 2 (a full disk is an output problem, not a crash), print ONE error line naming the
# report, and leave nothing behind in the output directory; every rank must end by itself.
source "$(dirname "$0")/../common.sh"
e2e_begin output_full

synth independent --seed 121 -o A
synth independent --seed 122 -o B

mkdir -p probe
unshare --mount sh -c "mount -t tmpfs -o size=64k none '$WORK/probe'" 2> probe.err ||
  skip "unshare --mount with a tmpfs mount is not permitted here: $(cat probe.err)"

# The size report.h5 needs, from a run with room.
compare 2 A B -o out-control "${QUICK_COMPARE[@]}"
expect_report out-control
# shellcheck disable=SC2017  # rounds up to whole 4 KiB pages on purpose
h5_kib=$((($(stat -c %s out-control/report.h5) + 4095) / 4096 * 4))
json_kib=$((($(stat -c %s out-control/report.json) + 4095) / 4096 * 4))
html_kib=$((($(stat -c %s out-control/report.html) + 4095) / 4096 * 4))

# full_output NAME SIZE NEEDLE: the job with a tmpfs of SIZE over its output directory.
full_output() {
  local name=$1 size=$2 needle=$3 out=$WORK/out-$1
  note "$name: output file system of $size"
  mkdir -p "$out"
  # Mounts the tmpfs, runs the command, and lists what is left on the tmpfs before it goes away.
  # shellcheck disable=SC2016  # expanded by the inner shell
  local namespace='size=$1 dir=$2 listing=$3; shift 3
    mount -t tmpfs -o "size=$size" none "$dir" || exit 90
    "$@"; status=$?
    ls -A "$dir" > "$listing"; exit $status'
  LAUNCH_PREFIX=(unshare --mount sh -c "$namespace" sh "$size" "$out" "$WORK/$name.left")
  RUN_NAME=$name mpi_run 2 compare A B -o "$out" "${QUICK_COMPARE[@]}"
  if ((RUN_STATUS != 1 && RUN_STATUS != 2)); then
    show_run
    fail "$name: exit $RUN_STATUS, expected 1 or 2 (lineage must not crash on a full disk)"
  fi
  local line
  line=$(expect_one_error_line "$RUN_ERR") || fail "$name: see above"
  [[ $line == *"$out/$needle: "* ]] || fail "$name: the error does not name $out/$needle: $line"
  grep -q '^report:' "$RUN_OUT" && fail "$name: a failed run printed report paths"
  [[ ! -s $WORK/$name.left ]] || fail "$name: files left in the output directory: $(cat "$WORK/$name.left")"
  echo "    $line"

  local statuses=$WORK/$name.ranks rank status
  mkdir -p "$statuses"
  RANK_STATUS_DIR=$statuses RUN_NAME=$name.wrapped \
    mpi_launch -x RANK_STATUS_DIR -n 2 bash "$E2E_TOOLS/rank_status.sh" "$LINEAGE_BIN" compare A B -o "$out" \
      "${QUICK_COMPARE[@]}"
  LAUNCH_PREFIX=()
  ((RUN_STATUS == 0)) || { show_run; fail "$name: a rank was killed (mpirun exit $RUN_STATUS)"; }
  for rank in 0 1; do
    [[ -f $statuses/rank-$rank ]] || fail "$name: rank $rank did not end by itself"
    status=$(< "$statuses/rank-$rank")
    [[ $status == 1 || $status == 2 ]] || fail "$name: rank $rank exited $status, expected 1 or 2"
  done
}

full_output no_room_for_h5 40k report.h5
full_output no_room_for_json "$((h5_kib + 8))k" report.json
# The renderings come last, from the report.h5 just written: every stage of the output can fail.
full_output no_room_for_html "$((h5_kib + json_kib + 8))k" report.html
full_output no_room_for_md "$((h5_kib + json_kib + html_kib + 4))k" report.md

e2e_done
