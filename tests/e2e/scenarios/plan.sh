# e2e.plan: `lineage plan` from headers alone. (a) A synth model cut down to its safetensors headers
# plans exactly as the real files do; (b) the shipped GLM-4.5-Air and Solar-Open-100B shape lists
# plan, and the time estimate falls when the node count rises; (d) --measure-speed times a probe
# comparison in $TMPDIR (left empty) and scales each kind of unit by its measured factor, and a
# missing $TMPDIR is bad input; (c) a bad shape list exits 2 with one error line naming the file and
# the key.
source "$(dirname "$0")/../common.sh"
e2e_begin plan

plan() {
  local name=$1
  shift
  RUN_OUT=$WORK/$name.out
  RUN_ERR=$WORK/$name.err
  timeout -k 10 "$E2E_TIMEOUT" "$LINEAGE_BIN" plan "$@" > "$RUN_OUT" 2> "$RUN_ERR"
  RUN_STATUS=$?
}

field() { "$PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

note "(a) header-only files plan as the real ones"
synth independent --seed 1 -o M
synth independent --seed 2 -o N
for model in M N; do
  "$PYTHON" - "$model" "$model-headers" <<'PY' || fail "cannot strip $model to its headers"
import os, shutil, struct, sys
source, target = sys.argv[1], sys.argv[2]
os.makedirs(target)
for name in sorted(os.listdir(source)):
    path = os.path.join(source, name)
    if name.endswith(".safetensors"):
        with open(path, "rb") as f:
            prefix = f.read(8)
            (length,) = struct.unpack("<Q", prefix)
            header = f.read(length)
        with open(os.path.join(target, name), "wb") as f:
            f.write(prefix + header)  # the data section is gone
    elif os.path.isfile(path):
        shutil.copy(path, target)
PY
done
plan real M N --ranks 3 -o real.json
((RUN_STATUS == 0)) || { show_run; fail "lineage plan on the real files exited $RUN_STATUS"; }
plan headers M-headers N-headers --ranks 3 -o headers.json
((RUN_STATUS == 0)) || { show_run; fail "lineage plan on header-only files exited $RUN_STATUS"; }
cat "$WORK/headers.out"
for key in pairs unpaired_a unpaired_b blocks nulls bytes_compared; do
  [[ $(field real.json $key) == $(field headers.json $key) ]] ||
    fail "$key: $(field real.json $key) from the real files, $(field headers.json $key) from the headers"
done
(($(field headers.json blocks) > 0)) || fail "the plan of the synth models has no blocks"
# The ordinary reader refuses the header-only files.
RUN_NAME=refused mpi_run 1 compare M-headers N-headers -o refused-out
((RUN_STATUS == 2)) || { show_run; fail "lineage compare on header-only files exited $RUN_STATUS, expected 2"; }

note "(a') an MoE pair plans the pairs, blocks and nulls that a real run (after its matching phases) has"
synth independent --seed 3 --experts 4 --shared-experts 1 --dense-layers 1 -o E
synth independent --seed 4 --experts 4 --shared-experts 1 --dense-layers 1 -o F
plan moe E F --ranks 2 --block-elements 50000 -o moe.json
((RUN_STATUS == 0)) || { show_run; fail "lineage plan on the MoE pair exited $RUN_STATUS"; }
grep -q "^matching units: 1 hidden-dimension, [1-9][0-9]* expert" "$WORK/moe.out" ||
  fail "the MoE plan lists no expert matching units: $(grep matching "$WORK/moe.out")"
RUN_NAME=moe-compare mpi_run 2 compare E F -o moe-report --block-elements 50000 "${FEW_PERMUTATIONS[@]}"
((RUN_STATUS == 0)) || { show_run; fail "lineage compare on the MoE pair exited $RUN_STATUS"; }
"$PYTHON" - moe.json moe-report/report.json <<'PY' || fail "the plan does not match the real run (see above)"
import json, sys
plan, report = (json.load(open(p)) for p in sys.argv[1:])
pairs = len(report["tensors"])
unpaired_a = sum(1 for u in report["unpaired"] if u["side"] == "a")
print(f"plan: {plan['pairs']} pairs, {plan['unpaired_a']} unpaired of A; the run: {pairs} pairs, {unpaired_a}")
assert plan["pairs"] == pairs, (plan["pairs"], pairs)
assert plan["unpaired_a"] == unpaired_a, (plan["unpaired_a"], unpaired_a)
assert plan["matching_units"]["experts"] > 0 and plan["estimated_null_seconds"] > 0, plan["matching_units"]
# Every phase is estimated, per rank, from each kind's cost units (plan/time_estimate.hpp).
costs = [r["cost_units"] for r in plan["per_rank"]]
for kind in ("nulls", "expert_matching", "head_matching", "hidden_matching", "neuron_matching", "cross_layer"):
    assert sum(c.get(kind, 0) for c in costs) > 0, (kind, costs)
for key in ("matching", "block", "null", "other"):
    assert plan[f"estimated_{key}_seconds"] > 0, (key, plan)
slowest = max(plan["per_rank"], key=lambda r: sum(r["estimated_seconds"].values()))["estimated_seconds"]
assert abs(plan["estimated_seconds_with_rotation"] - sum(slowest.values())) < 1e-9 * plan["estimated_seconds"], slowest
assert abs(plan["estimated_seconds"] + plan["estimated_rotation_seconds"] - plan["estimated_seconds_with_rotation"]) \
    < 1e-9 * plan["estimated_seconds"]
PY

note "(b) GLM-4.5-Air vs Solar-Open-100B shapes, 1 and 8 nodes"
shapes=$LINEAGE_SOURCE_DIR/configs/shapes
for nodes in 1 8; do
  plan "nodes$nodes" "$shapes/glm-4.5-air.json" "$shapes/solar-open-100b.json" --nodes "$nodes" \
    --ranks-per-node 8 --bandwidth 10 -o "nodes$nodes.json"
  ((RUN_STATUS == 0)) || { show_run; fail "lineage plan on the shipped shapes ($nodes nodes) exited $RUN_STATUS"; }
  cat "$WORK/nodes$nodes.out"
  grep -q "estimated time on $nodes node" "$WORK/nodes$nodes.out" || fail "no time estimate printed"
  grep -q "kernel: 6 GB/s per rank (docs/PERFORMANCE.md" "$WORK/nodes$nodes.out" || fail "the kernel figure's source is not printed"
done
"$PYTHON" - nodes1.json nodes8.json <<'PY' || fail "the estimates do not scale (see above)"
import json, sys
one, eight = (json.load(open(p)) for p in sys.argv[1:])
assert one["ranks"] == 8 and eight["ranks"] == 64, (one["ranks"], eight["ranks"])
assert one["pairs"] == eight["pairs"] and one["blocks"] == eight["blocks"], "pairs or blocks depend on the nodes"
# Only shapes both have pair (norms, k/v projections, routers): 46 layers less the dense layer 0.
assert one["pairs"] > 200, one["pairs"]
assert one["model_a"]["bytes"] > 200e9 and one["model_b"]["bytes"] > 200e9, "a 100B BF16 model is over 200 GB"
# Equal residual widths: the hidden rotation may be estimated, so the estimate is a range.
assert one["estimated_rotation_seconds"] > 0 and one["estimated_seconds_with_rotation"] > one["estimated_seconds"]
t1, t8 = one["estimated_seconds"], eight["estimated_seconds"]
print(f"estimate: {t1:.1f} s on 1 node, {t8:.1f} s on 8 nodes")
assert 0 < t8 < t1 / 4, (t1, t8)
assert eight["bytes_per_rank"]["max"] < one["bytes_per_rank"]["max"]
# Every rank computes the hidden-dimension matching with the others, and holds its rows and
# similarities: the largest unit of every rank here, so the ranks' needs may be equal.
assert one["resident_bytes_per_rank"]["max"] >= one["resident_bytes_per_rank"]["min"] > 0
assert one["resident_bytes_per_rank"]["window_bytes"] == 0  # no budget
PY

note "(b2) the same shapes within a memory budget, and a budget too small for them"
plan budget "$shapes/glm-4.5-air.json" "$shapes/solar-open-100b.json" --nodes 1 --ranks-per-node 8 \
  --memory-budget 8GiB --io read -o budget.json
((RUN_STATUS == 0)) || { show_run; fail "lineage plan within an 8 GiB budget exited $RUN_STATUS"; }
grep -q "within --memory-budget 8.590 GB" "$RUN_OUT" || { show_run; fail "the budget is not shown"; }
"$PYTHON" - budget.json <<'PY' || fail "the budgeted plan's memory figures are wrong (see above)"
import json, sys
memory = json.load(open(sys.argv[1]))["resident_bytes_per_rank"]
print(f"within 8 GiB: {memory['max'] / 2**20:.0f} MiB per rank at most, windows of {memory['window_bytes'] / 2**20:.0f} MiB")
assert memory["memory_budget"] == 8 << 30 and memory["io_mode"] == "read", memory
assert 0 < memory["window_bytes"] and memory["max"] <= memory["memory_budget"], memory
PY
plan too-small "$shapes/glm-4.5-air.json" "$shapes/solar-open-100b.json" --nodes 1 --ranks-per-node 8 \
  --memory-budget 256MiB
((RUN_STATUS == 2)) || { show_run; fail "a budget too small for the plan exited $RUN_STATUS, not 2"; }
line=$(expect_one_error_line "$RUN_ERR")
[[ $line == *"256 MiB: too small"*"hidden-dimension matching"*"will do" ]] || fail "unexpected: $line"

note "(d) --measure-speed: this machine's speed from a probe comparison in \$TMPDIR, which it leaves as it found"
mkdir -p "$WORK/probe-tmp"
TMPDIR=$WORK/probe-tmp plan speed "$shapes/glm-4.5-air.json" "$shapes/solar-open-100b.json" --nodes 1 \
  --ranks-per-node 8 --bandwidth 10 --measure-speed -o speed.json
((RUN_STATUS == 0)) || { show_run; fail "lineage plan --measure-speed exited $RUN_STATUS"; }
grep "^speed: measured here" "$RUN_OUT" || { show_run; fail "the measured speed is not printed"; }
[[ -z $(ls -A "$WORK/probe-tmp") ]] || fail "the probe left files in \$TMPDIR: $(ls -A "$WORK/probe-tmp")"
"$PYTHON" - speed.json nodes1.json <<'PY' || fail "the measured speed does not scale the estimate (see above)"
import json, math, sys
here, reference = (json.load(open(p)) for p in sys.argv[1:])
speed = here["machine_speed"]
assert speed["source"] == "measured" and reference["machine_speed"]["source"] == "reference", speed
factors = speed["factors"]
print("factors against the rates' machine:", {k: round(v, 2) for k, v in factors.items()})
assert len(factors) == 12 and all(math.isfinite(v) and 0.05 < v < 20 for v in factors.values()), factors
probe = speed["probe"]
assert probe["runs"] >= 1 and 1 <= probe["processes"] <= 8 and probe["pair_bytes"] > 0 and probe["block_seconds"] > 0
kinds = probe["kinds"]
# The probe pair (dense, B = A + noise) times these kinds; the others take a related kind's factor.
for kind in ("null_cyclic", "null_products", "cross_layer", "neuron_matching", "head_matching", "hidden_matching"):
    assert kinds[kind]["units"] > 0 and kinds[kind]["measured_seconds"] > 0 and not kinds[kind]["borrowed"], (kind, kinds[kind])
for kind, related in (("fingerprints", "neuron_matching"), ("expert_matching", "head_matching"),
                      ("hidden_rotation", "hidden_matching"), ("null_rows", "null_cyclic")):
    assert kinds[kind]["borrowed"] and factors[kind] == factors[related], (kind, kinds[kind])
# Each phase of units moves by its kinds' factors: the reference estimate over this one lies between
# the smallest and the largest; the rotation is one kind's; the kernel is the reference's times its.
low, high = min(factors.values()) * (1 - 1e-9), max(factors.values()) * (1 + 1e-9)
for mine, theirs in zip(here["per_rank"], reference["per_rank"]):
    for phase in ("nulls", "matching"):
        ratio = theirs["estimated_seconds"][phase] / mine["estimated_seconds"][phase]
        assert low <= ratio <= high, (mine["rank"], phase, ratio, low, high)
close = lambda x, y: abs(x - y) <= 1e-9 * max(abs(x), abs(y))
assert close(here["estimated_rotation_seconds"] * factors["hidden_rotation"], reference["estimated_rotation_seconds"])
assert close(here["kernel_gbps_per_rank"]["value"], 6 * factors["blocks"]), here["kernel_gbps_per_rank"]
PY
TMPDIR=$WORK/no-such-dir plan speed-missing M-headers N-headers --measure-speed -o speed-missing.json
((RUN_STATUS == 2)) || { show_run; fail "--measure-speed without a scratch directory exited $RUN_STATUS, expected 2"; }
line=$(expect_one_error_line "$RUN_ERR") || fail "see above"
[[ $line == *no-such-dir* ]] || fail "the error does not name the scratch directory: $line"
[[ -e speed-missing.json ]] && fail "a failed plan wrote its output"
echo "    $line"

note "(c) a bad shape list"
printf '{"model_type": "glm4_moe", "tensors": [{"name": "w", "dtype": "BF16", "shape": "big"}]}\n' > bad-shapes.json
plan bad bad-shapes.json "$shapes/solar-open-100b.json" -o bad.json
((RUN_STATUS == 2)) || { show_run; fail "a bad shape list exited $RUN_STATUS, expected 2"; }
line=$(expect_one_error_line "$RUN_ERR") || fail "see above"
[[ $line == *bad-shapes.json* && $line == *"'shape'"* ]] || fail "the error names neither file nor key: $line"
[[ -e bad.json ]] && fail "a failed plan wrote its output"
echo "    $line"
plan bad_option M-headers N-headers --ranks 2 --nodes 2
((RUN_STATUS == 2)) || { show_run; fail "--ranks with --nodes exited $RUN_STATUS, expected 2"; }
expect_one_error_line "$RUN_ERR" > /dev/null || fail "see above"

e2e_done
