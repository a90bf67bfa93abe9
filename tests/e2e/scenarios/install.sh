# e2e.install: `cmake --install` gives a prefix whose bin/lineage runs on its own, whose job files and
# Slurm scripts are under share/lineage, and whose CMake package `lineage` a project outside the
# tree builds against (tools/install_consumer: find_package(lineage), lineage::checkpoint): the
# consumer reads a synth checkpoint with the same counts as its safetensors headers, and a missing
# checkpoint is lineage's one-line error with exit 2.
source "$(dirname "$0")/../common.sh"
e2e_begin install

build_dir=$(dirname "$LINEAGE_BIN")
prefix=$WORK/prefix
cmake --install "$build_dir" --prefix "$prefix" > install.log 2>&1 || { cat install.log; fail "cmake --install failed"; }
for path in bin/lineage share/lineage/configs/demo.yaml share/lineage/slurm/compare.sbatch \
  include/lineage/checkpoint/checkpoint.hpp lib/cmake/lineage/lineageConfig.cmake; do
  [ -e "$prefix/$path" ] || fail "the install has no $path"
done
[ -x "$prefix/share/lineage/slurm/submit-panel" ] || fail "share/lineage/slurm/submit-panel lost its execute bit"

note "the installed lineage writes a model"
"$prefix/bin/lineage" synth independent --seed 3 -o M > synth.log 2>&1 || { cat synth.log; fail "installed lineage synth failed"; }

note "a project outside the tree builds against the package"
compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
cmake -S "$E2E_TOOLS/install_consumer" -B consumer -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_COMPILER="$compiler" \
  -DCMAKE_BUILD_TYPE=Release > consumer.log 2>&1 || { cat consumer.log; fail "the consumer does not configure"; }
cmake --build consumer -j2 >> consumer.log 2>&1 || { cat consumer.log; fail "the consumer does not build"; }

consumer/count_tensors M > counts.txt 2> counts.err || { cat counts.err; fail "count_tensors M failed"; }
expected=$("$PYTHON" - M <<'PY'
import glob, json, struct, sys
tensors = parameters = 0
for path in glob.glob(sys.argv[1] + "/*.safetensors"):
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
    for name, info in header.items():
        if name == "__metadata__": continue
        tensors += 1
        count = 1
        for d in info["shape"]: count *= d
        parameters += count
model_type = json.load(open(sys.argv[1] + "/config.json"))["model_type"]
print(f"{tensors} tensors, {parameters} parameters, model_type {model_type}")
PY
)
[ "$(cat counts.txt)" = "$expected" ] || fail "count_tensors printed '$(cat counts.txt)', the headers say '$expected'"
note "count_tensors: $(cat counts.txt)"

consumer/count_tensors missing-model > missing.out 2> missing.err
status=$?
[ "$status" -eq 2 ] || fail "count_tensors on a missing path exited $status, not 2"
[ "$(wc -l < missing.err)" -eq 1 ] && grep -q 'missing-model' missing.err ||
  fail "count_tensors on a missing path: expected one line naming it, got: $(cat missing.err)"
e2e_done
