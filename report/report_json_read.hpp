#pragma once
// report.json's document read back into the typed report model: the inverse of report_json_text
// (report/report_writers.hpp), so that every renderer can read one comparison_report, also from a
// report.h5 (whose /report_json holds the document).
//
// The document is untrusted input (a report.h5 is a file a stranger can hand us): every value is
// type- and range-checked, and sizes against each other (a layer matrix is layers_a × layers_b,
// parallel lists are of one length); a wrong or missing key is one input_error naming `label` and
// the key path. Whether the result is exactly what the document says is for the caller to check:
// report_json_text(report_from_json(document, label)) is the stored text, byte for byte, for every
// report this version of lineage writes (read_report_json checks it).
//
// report.json does not carry everything the model holds. These stay default (or as noted) in the
// model read back, and no renderer may use them:
//   - tensor_result::moments: the raw sums (mean_a, mean_b, m2_a, m2_b, c_ab, raw_aa, raw_bb,
//     raw_ab, sum_dd, bitwise_equal); elements, count, nonfinite_a/b, min and max are read;
//     the same for role_layer::moments;
//   - tensor_pair: first_block, block_count, rotated, test_axis, test_unit, untested, alignment,
//     and of planned_tensor a and b: file, byte_offset, elements;
//   - null_figures: the samples (cosine_samples, pearson_samples, rel_l2_samples,
//     direction_samples, test_samples) — report.h5's /nulls holds the Pearson ones; `reason` when
//     available; null_figures::p_value comes from the tensor's "p_value";
//   - unit_figures: statistic, z and p when not available;
//   - expert_matching_figures::null_scores; of an unavailable expert, neuron, hidden or head
//     matching everything the document leaves out (the test's figures and the matchings);
//   - fingerprint_test: roles, layers, series, statistic, null, z, p_value when not available;
//   - panel_comparison::tensors: as many default panel_tensor as the comparison had (the count
//     only);
//   - content_manifest: ranges, range_hashes, manifest_tensor::first_range, manifest_file::path;
//     manifest_tensor::file indexes `files` directly (side_content::weight_files is the identity,
//     the job's own checkpoint file order is not in the document); sha256 is "" per file when the
//     job did not hash files;
//   - comparison_report::tokenizers is the "tokenizers" object without "embedding_pairing" (which
//     tokenizers_object derives from the tensors), dumped compactly; "" when it is the object
//     written for tokenizers that were not read;
//   - run_manifest::config_json and model_description::config_json: the "config" object dumped
//     compactly (or the string written when the configuration was not JSON).
#include <string>

#include <nlohmann/json.hpp>

#include "reduce/report_model.hpp"

namespace lineage {

// `label` names the document in errors, e.g. "out/report.h5: /report_json".
comparison_report report_from_json(const nlohmann::json& document, const std::string& label);

// report.json's text read into the model, exactly or not at all (report/report_json_exact.cpp): the
// text must be JSON, report_from_json must accept it, and the model written again must give the
// same bytes; otherwise one input_error naming `label` (and the first differing byte).
comparison_report read_report_json(const std::string& text, const std::string& label);

}  // namespace lineage
