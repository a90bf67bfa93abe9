#!/usr/bin/env bash
# Runs `lineage compare` on every unordered pair of the trained population and prints, per pair,
# the true relation (independent / derived), the tool's verdict and global p, then the totals:
# false positives among independent pairs at alpha = 0.01, detections among derived pairs.
#
# Part of the calibration bench in bench/trained/ (never a dependency of the C++ product).
# Needs: the population (make_population.py; its manifest population.json), mpirun (openmpi),
# /usr/bin/python3 (standard library only here), and the lineage binary.
#
# Why: the population's independent pairs share tokenizer, architecture and kind of text but no
# ancestry — the false-positive rate on them is what a claim "B derives from A" must beat; its
# derived pairs (fine-tune, continued pre-training, disguise, siblings) measure power.
#
# Environment:
#   LINEAGE        the binary (default: build/lineage of this repository)
#   LINEAGE_CACHE  cache root (default ~/.cache/lineage); the population lives in trained/
#   LINEAGE_FLAGS  extra flags for `lineage compare` (default: none, the tool's own defaults)
#   NP             MPI ranks (default 2)
#   OUT            where the pair reports go (default $LINEAGE_CACHE/trained/compare)
# Options:
#   --force        rerun every pair (default: a pair whose report.json is newer than the binary
#                  and both models is kept, so a rerun after a rebuild redoes everything)
#   --table        only print the table of the reports already there
#   --only NAME    only the pairs that involve model NAME (repeatable)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
LINEAGE=${LINEAGE:-$repo/build/lineage}
cache=${LINEAGE_CACHE:-$HOME/.cache/lineage}
manifest=$cache/trained/population.json
out_root=${OUT:-$cache/trained/compare}
np=${NP:-2}
read -r -a flags <<< "${LINEAGE_FLAGS:-}"
python=/usr/bin/python3

force=0 table_only=0 only=()
while (($#)); do
  case $1 in
    --force) force=1 ;;
    --table) table_only=1 ;;
    --only) only+=("$2"); shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed 's/^# \{0,1\}//; /^set -e/d'; exit 0 ;;
    *) echo "compare_population: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

[[ -f $manifest ]] || { echo "compare_population: no manifest $manifest (run make_population.py)" >&2; exit 1; }

# involves NAME_A NAME_B: true when no --only was given or one of the names was
involves() {
  ((${#only[@]} == 0)) && return 0
  local n
  for n in "${only[@]}"; do [[ $1 == "$n" || $2 == "$n" ]] && return 0; done
  return 1
}

# up_to_date DIR A B: the pair's report is newer than the binary and both models
up_to_date() {
  local report=$1/report.json
  [[ -f $report && $report -nt $LINEAGE && $report -nt $2/model.safetensors && $report -nt $3/model.safetensors ]]
}

if ((!table_only)); then
  [[ -x $LINEAGE ]] || { echo "compare_population: no lineage binary at $LINEAGE (set LINEAGE)" >&2; exit 1; }
  command -v mpirun > /dev/null || { echo "compare_population: mpirun not found (apt-get install openmpi-bin)" >&2; exit 1; }
  mkdir -p "$out_root"
  total=0 ran=0
  while IFS=$'\t' read -r path_a path_b name_a name_b relation detail; do
    involves "$name_a" "$name_b" || continue
    total=$((total + 1))
    dir=$out_root/${name_a}__${name_b}
    if ((!force)) && up_to_date "$dir" "$path_a" "$path_b"; then continue; fi
    rm -rf "$dir" && mkdir -p "$dir"
    echo "[$(date +%H:%M:%S)] $name_a vs $name_b ($relation: $detail)"
    start=$(date +%s%N)
    status=0
    # stdin from /dev/null: mpirun forwards its stdin to rank 0 and would eat the list of pairs
    mpirun --allow-run-as-root --oversubscribe --mca pml ob1 -np "$np" "$LINEAGE" compare "$path_a" "$path_b" \
      -o "$dir" --progress none "${flags[@]}" < /dev/null > "$dir/lineage.log" 2>&1 || status=$?
    end=$(date +%s%N)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f\n", (b - a) / 1e9 }' > "$dir/seconds"
    ((status == 0)) || echo "  lineage exited $status (see $dir/lineage.log)"
    ran=$((ran + 1))
  done < <("$python" "$here/population_pairs.py" pairs "$manifest")
  echo "compared $ran of $total pairs (the others were up to date) into $out_root"
  echo
fi

"$python" "$here/population_pairs.py" table "$manifest" "$out_root" 0.01
