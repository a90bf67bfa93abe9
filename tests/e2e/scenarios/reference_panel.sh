# e2e.reference_panel: models known to be unrelated, compared with A and with B as a further null
# per role — inside the job (--reference, or reference_panel in the job file) and merged from
# comparisons run as jobs of their own (--panel-report, as a Slurm job array would); bad panel
# input is refused with one line naming the file.
source "$(dirname "$0")/../common.sh"
e2e_begin reference_panel

SHAPE=(--layers 2 --hidden 64 --intermediate 128 --heads 4 --kv-heads 2 --vocab 256)
synth independent --seed 61 "${SHAPE[@]}" -o A
synth derive --from A -o B --kind drift --scale 0.3 --seed 2
synth independent --seed 62 "${SHAPE[@]}" -o U
for seed in 63 64 65; do synth independent --seed $seed "${SHAPE[@]}" -o R$seed; done

note "two references in the job: four panel comparisons; the derivative stands above them"
compare 2 A B -o out-job --reference R63 --reference R64 "${FEW_PERMUTATIONS[@]}"
expect_report out-job
check check_verdict.py out-job derived --max-p 1e-10 --note "reference panel"
check check_panel.py out-job --comparisons 4 --sides a,b,a,b --sources job,job,job,job --above-panel

note "the same panel member run as a job of its own gives the same figures"
# A panel member neither draws nulls nor matches heads or hidden dimensions (panel_member_config);
# a head order is applied even between unrelated models, so the job of its own must not match
# heads either to be the same comparison (its v_proj and o_proj would otherwise meet B reordered).
compare 2 A R63 -o standalone-a63 --permutations-matrix 0 --permutations-vector 0 --no-head-matching \
  --no-hidden-matching
check check_panel.py out-job --comparisons 4 --same-as 0:standalone-a63

note "panel reports from separate jobs (either side of the report may be the compared model)"
compare 2 R65 B -o panel-b65 --permutations-matrix 0 --permutations-vector 0
cat > job.yaml << 'YAML'
model_a: A
model_b: U
output: out-merged
permutations_matrix: 50
permutations_vector: 200
reference_panel: [R64]
panel_reports:
  - standalone-a63/report.h5
YAML
compare 2 --config job.yaml
check check_verdict.py out-merged no-evidence
check check_panel.py out-merged --comparisons 3 --sides a,a,b --sources standalone-a63/report.h5,job,job --within-panel

note "bad panel input"
echo "not hdf5" > fake.h5
expect_bad_input not-hdf5 out-bad fake.h5 "not a report.h5 written by lineage" -- A B -o out-bad --panel-report fake.h5
expect_bad_input pair-itself out-bad out-job/report.h5 "model A" "third model" -- A B -o out-bad \
  --panel-report out-job/report.h5
expect_bad_input unrelated-report out-bad panel-b65/report.h5 "third model" -- A U -o out-bad \
  --panel-report panel-b65/report.h5
expect_bad_input reference-is-a out-bad "--reference" "A" "model A or B itself" -- A B -o out-bad --reference A
expect_bad_input missing-reference out-bad "no-such-model" -- A B -o out-bad --reference no-such-model

e2e_done
