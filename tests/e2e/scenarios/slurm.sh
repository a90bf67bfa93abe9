# e2e.slurm: the sbatch templates on a real single-node Slurm cluster (slurmctld, slurmd, munge on
# localhost, started and stopped by this test): a comparison with 2 tasks, the reference panel as a
# job array merged by a dependent job (equal to the panel run inside one job), a job preempted by
# USR1 that requeues itself and resumes to the report an uninterrupted run makes, the plan job
# (slurm/plan.sbatch: lineage plan --measure-speed on the node), three models indexed into one
# registry by a job array (slurm/index.sbatch) and searched, and a bad job file ending the job FAILED
# with exit code 2.
source "$(dirname "$0")/../common.sh"
# shellcheck source=../tools/slurm_cluster.sh
source "$E2E_TOOLS/slurm_cluster.sh"
e2e_begin slurm
trap slurm_stop EXIT

synth independent --seed 20260101 -o A
synth derive --from A --kind drift --scale 0.05 --seed 7 -o B
synth independent --seed 20260102 -o R

slurm_start "$WORK/cluster"
echo "    node $(sinfo -h -N -o '%N %t %c')"
export LINEAGE=$LINEAGE_BIN
templates=$LINEAGE_SOURCE_DIR/slurm
grep -q '^#SBATCH --requeue' "$templates/compare.sbatch" || fail "compare.sbatch does not ask for --requeue"
grep -q '^#SBATCH --signal=B:USR1@' "$templates/compare.sbatch" || fail "compare.sbatch asks for no USR1 before the end"

cat > job.yaml << EOF2
model_a: $WORK/A
model_b: $WORK/B
output: $WORK/out
permutations_matrix: 50
permutations_vector: 200
EOF2

note "sbatch slurm/compare.sbatch job.yaml with 2 tasks"
job=$(sbatch --parsable --ntasks=2 --chdir="$WORK" "$templates/compare.sbatch" job.yaml) || fail "sbatch failed"
state=$(slurm_wait "$job" 120) || { cat "$WORK"/lineage-*"$job".out; fail "job $job did not end: $state"; }
out=$(ls "$WORK"/lineage-*-"$job".out)
[[ $state == COMPLETED ]] || { cat "$out"; fail "job $job ended $state (exit $(slurm_exit_code "$job"))"; }
expect_report out
check check_derived.py drift out 0.05
grep -q "^report: $WORK/out/report.html$" "$out" || fail "the job's output does not name report.html"
ranks=$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifest"]["ranks"])' out/report.json)
[[ $ranks == 2 ]] || fail "the report says $ranks ranks, expected the job's 2 tasks"

note "the reference panel as a job array, merged by a job that waits for it"
cat > panel.yaml << EOF2
model_a: $WORK/A
model_b: $WORK/B
output: $WORK/panel-out
permutations_matrix: 50
permutations_vector: 200
reference_panel: [$WORK/R]
EOF2
submitted=$(bash "$templates/submit-panel" panel.yaml --ntasks=2 --chdir="$WORK") || fail "submit-panel failed: $submitted"
echo "$submitted"
array=$(sed -n 's/^panel: job array \([0-9]*\) (2 tasks)$/\1/p' <<< "$submitted")
main=$(sed -n 's/^comparison: job \([0-9]*\) .*/\1/p' <<< "$submitted")
[[ -n $array && -n $main ]] || fail "submit-panel did not print an array of 2 tasks and a main job"
for task in 0 1; do
  state=$(slurm_wait "${array}_$task" 180) || fail "panel task $task did not end: $state"
  [[ $state == COMPLETED ]] || { cat "$WORK"/lineage-lineage-panel-"${array}_$task".out; fail "panel task $task ended $state"; }
done
state=$(slurm_wait "$main" 180) || fail "the main job did not end: $state"
[[ $state == COMPLETED ]] || { cat "$WORK"/lineage-*-"$main".out; fail "the main job ended $state"; }
expect_report panel-out/panel/0
expect_report panel-out/panel/1
[[ -s panel-out/report.h5 ]] || fail "the merged report is missing"

note "the same panel inside one job (mpirun) gives the same verdict and panel figures"
compare 2 "$WORK/A" "$WORK/B" -o in-job --reference "$WORK/R" "${FEW_PERMUTATIONS[@]}"
"$PYTHON" - panel-out/report.json in-job/report.json << 'PY' || fail "the job array's report differs from the in-job panel (see above)"
import json, sys
merged, in_job = (json.load(open(p)) for p in sys.argv[1:])
assert merged["verdict"] == in_job["verdict"], (merged["verdict"]["label"], in_job["verdict"]["label"])
strip = lambda c: {k: v for k, v in c.items() if k != "source"}
assert [strip(c) for c in merged["reference_panel"]["comparisons"]] == [strip(c) for c in in_job["reference_panel"]["comparisons"]]
assert merged["reference_panel"]["roles"] == in_job["reference_panel"]["roles"]
assert len(merged["reference_panel"]["roles"]) > 0
sources = [c["source"] for c in merged["reference_panel"]["comparisons"]]
assert all(s.endswith("/report.h5") for s in sources), sources
print(f"    same verdict ({merged['verdict']['label']}) and {len(merged['reference_panel']['roles'])} panel roles")
PY

note "preemption: USR1 to the batch shell stops the job with its work saved, it requeues itself and resumes"
# Many permutations make the job last seconds, so the signal lands in the middle of it.
cat > preempt.yaml << EOF2
model_a: $WORK/A
model_b: $WORK/B
output: $WORK/preempted
block_elements: 20000
permutations_matrix: 3000
permutations_vector: 3000
EOF2
PROGRESS=(--progress log --progress-every 0.1)
job=$(sbatch --parsable --ntasks=2 --chdir="$WORK" "$templates/compare.sbatch" preempt.yaml "${PROGRESS[@]}") ||
  fail "sbatch failed"
out=$WORK/lineage-lineage-compare-$job.out
for _ in $(seq 600); do
  grep -q "progress: model A vs model B: [0-9.]*%" "$out" 2> /dev/null && break
  sleep 0.1
done
grep -q "progress: model A vs model B" "$out" || { cat "$out"; fail "job $job printed no progress within 60 s"; }
scancel --signal=USR1 --batch "$job" || fail "scancel --signal=USR1 --batch $job failed"
state=$(slurm_wait "$job" 300) || { cat "$out"; fail "the preempted job $job did not end: $state"; }
[[ $state == COMPLETED ]] || { cat "$out"; fail "the preempted job $job ended $state"; }
cat "$out" | grep -v "progress:" | sed 's/^/    /'
grep -q "stopped by SIGUSR1: [0-9]* units of" "$out" || fail "the job did not stop at a block boundary on USR1"
grep -q "requeueing job $job" "$out" || fail "the template did not requeue job $job"
grep -q "job $job (restart 1)" "$out" || fail "job $job did not run again after its requeue"
grep -q "units were finished by an earlier run" "$out" || fail "the requeued job did not resume the saved work"
restarts=$(scontrol show job "$job" | grep -o 'Restarts=[0-9]*' | cut -d= -f2)
[[ $restarts == 1 ]] || fail "job $job restarted $restarts times, expected 1"
expect_report preempted
saved=$(sed -n 's/.*stopped by SIGUSR1: \([0-9]*\) units of .*/\1/p' "$out")
compare 2 --config preempt.yaml -o uninterrupted "${PROGRESS[@]}"
check check_resumed.py uninterrupted preempted "$saved"

note "sbatch slurm/plan.sbatch: the plan at the node's measured speed, the probe's copies within the job's cores"
job=$(sbatch --parsable --cpus-per-task=2 --chdir="$WORK" "$templates/plan.sbatch" "$WORK/A" "$WORK/B" \
  --ranks-per-node 2 -o "$WORK/slurm-plan.json") || fail "sbatch failed"
state=$(slurm_wait "$job" 120) || { cat "$WORK"/lineage-*"$job".out; fail "job $job did not end: $state"; }
out=$(ls "$WORK"/lineage-*-"$job".out)
[[ $state == COMPLETED ]] || { cat "$out"; fail "plan job $job ended $state (exit $(slurm_exit_code "$job"))"; }
grep "^speed: measured here" "$out" || { cat "$out"; fail "the plan job printed no measured speed"; }
"$PYTHON" - slurm-plan.json <<'PY' || fail "the plan job's plan.json is wrong (see above)"
import json, sys
plan = json.load(open(sys.argv[1]))
speed = plan["machine_speed"]
assert speed["source"] == "measured", speed["source"]
assert 1 <= speed["probe"]["processes"] <= 2 and plan["ranks_per_node"] == 2, (speed["probe"], plan["ranks_per_node"])
assert plan["estimated_seconds"] > 0 and all(v > 0 for v in speed["factors"].values()), speed["factors"]
print(f"plan job: {speed['probe']['processes']} probe processes, estimate {plan['estimated_seconds']:.2f} s")
PY

note "sbatch --array slurm/index.sbatch: three models indexed at once into one registry, then a search"
printf '%s\n' "# the models" "$WORK/A" "" "$WORK/R" "$WORK/B" > models.txt
array=$(sbatch --parsable --array=0-2 --ntasks=2 --chdir="$WORK" "$templates/index.sbatch" models.txt "$WORK/registry") ||
  fail "sbatch failed"
for task in 0 1 2; do
  state=$(slurm_wait "${array}_$task" 120) || fail "index task $task did not end: $state"
  [[ $state == COMPLETED ]] || { cat "$WORK"/lineage-lineage-index-"${array}_$task".out; fail "index task $task ended $state"; }
done
"$PYTHON" - << 'PY' || fail "the registry does not list the three models (see above)"
import json
names = sorted(m["name"] for m in json.load(open("registry/registry.json"))["members"])
assert names == ["A", "B", "R"], names
PY
"$LINEAGE_BIN" search B --registry registry -o search-out > search.log 2>&1 || { cat search.log; fail "search failed"; }
grep -Eq '^  1  B +identical' search.log && grep -Eq '^  2  A +derived' search.log ||
  { cat search.log; fail "B's search does not find B itself identical, then its parent A derived"; }
"$LINEAGE_BIN" search "$WORK/B" --registry registry -o top-out --compare-top 1 --slurm > top.log 2>&1 ||
  { cat top.log; fail "search --compare-top --slurm failed"; }
array=$(LINEAGE_SLURM_DIR=$templates sbatch --parsable --array=0-0 --ntasks=2 --chdir="$WORK" \
  --export=ALL,LINEAGE_SLURM_DIR="$templates" top-out/compare-top.sbatch) || fail "sbatch of compare-top.sbatch failed"
state=$(slurm_wait "${array}_0" 120) || fail "the compare-top task did not end: $state"
[[ $state == COMPLETED ]] || { cat "$WORK"/lineage-lineage-compare-top-"${array}"_0.out; fail "the compare-top task ended $state"; }
expect_report top-out/compare/B
job=$(sbatch --parsable --array=7 --ntasks=1 --chdir="$WORK" "$templates/index.sbatch" models.txt "$WORK/registry") ||
  fail "sbatch failed"
state=$(slurm_wait "${job}_7" 60) || fail "job ${job}_7 did not end: $state"
[[ $state == FAILED ]] || fail "an array task past the list ended $state, expected FAILED"
grep -q "models.txt: no model for array task 7" "$WORK"/lineage-lineage-index-"${job}_7".out ||
  fail "the task's output does not say that the list has no model for it"

note "a bad job file: the job fails with lineage's exit status 2"
printf 'model_a: %s\nmodel_b: %s\noutput: %s\nio_mode: mmap\n' "$WORK/A" "$WORK/B" "$WORK/bad-out" > bad.yaml
job=$(sbatch --parsable --ntasks=2 --chdir="$WORK" "$templates/compare.sbatch" bad.yaml) || fail "sbatch failed"
state=$(slurm_wait "$job" 60) || fail "job $job did not end: $state"
code=$(slurm_exit_code "$job")
[[ $state == FAILED && $code == 2:0 ]] || { cat "$WORK"/lineage-*-"$job".out; fail "the bad job ended $state with exit $code, expected FAILED 2:0"; }
grep -q "bad.yaml: key 'io_mode'" "$WORK"/lineage-*-"$job".out || fail "the job's output does not name the bad key"

slurm_stop
trap - EXIT
e2e_done
