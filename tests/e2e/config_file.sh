# e2e.config_file: a YAML job file (model_a, model_b, output, block_elements) configures the run,
# and command-line values override it (2 ranks). Paths in the job file are relative to the working
# directory, as configs/demo.yaml says.
source "$(dirname "$0")/common.sh"
e2e_begin config_file

synth independent --seed 101 -o A
synth derive --from A -o B --kind drift --scale 0.05
synth derive --from A -o C --kind copy

cat > job.yaml << 'EOF'
# a job file as a user writes one
model_a: A
model_b: B
output: out-yaml
block_elements: 50000
EOF

note "the job file alone"
compare 2 A B -o out-cli --block-elements 50000
compare 2 --config job.yaml
expect_report out-yaml
grep -q "^report: out-yaml/report.h5$" "$RUN_OUT" || fail "the run does not report out-yaml/report.h5: $(tail -3 "$RUN_OUT")"
check check_config.py out-yaml job.yaml A B out-yaml 50000 out-cli

note "-o on the command line overrides output:"
rm -rf out-yaml
compare 2 --config job.yaml -o out-override
expect_report out-override
[[ -e out-yaml ]] && fail "the job file's output directory was used although -o overrides it"
check check_config.py out-override job.yaml A B out-override 50000 out-cli

note "positional models and --block-elements override the job file too"
compare 2 --config job.yaml A C -o out-positional --block-elements 70000
expect_report out-positional
[[ -e out-yaml ]] && fail "the job file's output directory was used although -o overrides it"
check check_config.py out-positional job.yaml A C out-positional 70000
check check_derived.py identical out-positional

e2e_done
