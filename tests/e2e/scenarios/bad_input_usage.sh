# e2e.bad_input.usage: unwritable outputs, bad options, bad job files. Each run (2 ranks) must exit 2
# with ONE error line (printed by one rank, not by each) naming the path, option or key, leave no
# report, and every rank must end by itself.
source "$(dirname "$0")/../common.sh"
e2e_begin bad_input_usage

synth independent --seed 61 -o A
synth derive --from A -o B --kind noise --scale 0.01

# As root, permissions do not stop writes; a regular file where a directory should be does.
echo "not a directory" > out-file
expect_bad_input output_is_a_file out-file "out-file" -- A B -o out-file
expect_bad_input output_parent_is_a_file out-file/report-dir "out-file/report-dir" -- \
  A B -o out-file/report-dir
[[ $(< out-file) == "not a directory" ]] || fail "the regular file given as output was changed"

# A read-only bind mount does stop root: the whole job runs in a mount namespace where "readonly"
# is mounted read-only (only this case is skipped where such mounts are not permitted).
mkdir -p readonly
if unshare --mount sh -c "mount --bind readonly readonly && mount -o remount,bind,ro readonly" 2> ro.err; then
  # shellcheck disable=SC2016  # "$0" "$@" are the inner shell's
  LAUNCH_PREFIX=(unshare --mount sh -c 'mount --bind readonly readonly && mount -o remount,bind,ro readonly && exec "$0" "$@"')
  expect_bad_input output_dir_read_only readonly "readonly" "Read-only file system" -- A B -o readonly
  expect_bad_input output_below_read_only readonly/out "readonly/out" "Read-only file system" -- \
    A B -o readonly/out
  LAUNCH_PREFIX=()
else
  note "SKIPPED the read-only output cases: a read-only bind mount is not permitted here: $(cat ro.err)"
fi

expect_bad_input unknown_flag out-flag "--no-such-flag" -- A B -o out-flag --no-such-flag
# Every rank finds a command-line error before MPI starts, and rank 0 alone reports it. mpirun here
# stops a job at its first non-zero status at once (common.sh), as srun -K does: no rank may end
# before rank 0's line is out.
for attempt in 1 2 3 4 5; do
  RUN_NAME=unknown_flag_$attempt mpi_run 3 compare A B -o out-flag --no-such-flag
  ((RUN_STATUS == 2)) || { show_run; fail "unknown flag with 3 ranks, attempt $attempt: exit $RUN_STATUS"; }
  expect_one_error_line "$RUN_ERR" > /dev/null || fail "unknown flag with 3 ranks, attempt $attempt: see above"
done
expect_bad_input missing_output out-none "--output" -- A B
expect_bad_input missing_model_b out-b "model B" -- A -o out-b
expect_bad_input zero_block_elements out-zero "--block-elements" -- A B -o out-zero --block-elements 0
# CLI11 alone would read 010 as octal 8 and -1 as 2^64-1.
expect_bad_input octal_block_elements out-octal "--block-elements" "010" -- A B -o out-octal --block-elements 010
expect_bad_input negative_block_elements out-negative "--block-elements" -- A B -o out-negative --block-elements=-1
expect_bad_input bad_null_draws out-draws "--null-draws" "auto, random, cyclic" "'shuffle'" -- \
  A B -o out-draws --null-draws shuffle

# --help and --version answer on stdout with exit 0 (once, not once per rank).
note "--help and --version"
help=$("$LINEAGE_BIN" --help) || fail "lineage --help exited non-zero"
for word in compare synth; do
  grep -q "$word" <<<"$help" || fail "lineage --help does not list '$word': $help"
done
# Captured, not piped into grep -q: the help is longer than a pipe write, and grep ending at the first
# match would kill lineage with SIGPIPE before its second write (a failure under pipefail).
compare_help=$("$LINEAGE_BIN" compare --help) || fail "lineage compare --help exited non-zero"
grep -q -- "--output" <<<"$compare_help" || fail "lineage compare --help does not show --output"
version=$("$LINEAGE_BIN" --version) || fail "lineage --version exited non-zero"
[[ $version =~ ^lineage\ [0-9]+\.[0-9]+\.[0-9]+\ \(.+\)$ ]] || fail "unexpected --version output: $version"
mpi_run 2 --version
[[ $RUN_STATUS -eq 0 ]] || fail "mpirun -n 2 lineage --version exited $RUN_STATUS"
[[ $(grep -c '^lineage ' "$RUN_OUT") -eq 1 ]] || fail "--version printed $(grep -c '^lineage ' "$RUN_OUT") times under 2 ranks"

printf 'model_a: A\nmodel_b: B\noutput: out-yaml-key\ncolour: blue\n' > job-bad-key.yaml
expect_bad_input job_file_unknown_key out-yaml-key "job-bad-key.yaml" "'colour'" -- --config job-bad-key.yaml

printf 'model_a: A\nmodel_b: B\noutput: out-yaml-value\nblock_elements: -5\n' > job-bad-value.yaml
expect_bad_input job_file_bad_value out-yaml-value "job-bad-value.yaml" "'block_elements'" -- \
  --config job-bad-value.yaml

printf 'model_a: A\nmodel_b: [B\noutput: out-yaml-syntax\n' > job-syntax.yaml
expect_bad_input job_file_invalid_yaml out-yaml-syntax "job-syntax.yaml" "YAML" -- --config job-syntax.yaml

expect_bad_input job_file_missing out-none "no-such-job.yaml" -- --config no-such-job.yaml -o out-none

e2e_done
