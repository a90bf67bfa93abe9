#pragma once
// The sections of report.json's document, each read into its part of the model (the parts of
// report_from_json, report/report_json_read.hpp).
#include <cstddef>
#include <vector>

#include "reduce/report_model.hpp"
#include "report/report_json_read_field.hpp"

namespace lineage::json_read {

// report_json_read_tensors.cpp: "tensors", "units", "roles", "unpaired".
std::vector<tensor_result> tensors(const json_field& rows);
std::vector<unit_figures> units(const json_field& rows);
std::vector<role_table> roles(const json_field& object);
std::vector<unpaired_tensor> unpaired(const json_field& rows);

// report_json_read_matching.cpp: "layer_structure", "expert_matching", "neuron_matching",
// "hidden_matching", "head_matching".
std::vector<cross_layer_figures> cross_layers(const json_field& rows);
depth_alignment depth(const json_field& object);
std::vector<expert_matching_figures> expert_matching(const json_field& rows);
std::vector<neuron_matching_figures> neuron_matching(const json_field& rows);
std::vector<hidden_matching_figures> hidden_matching(const json_field& rows);
std::vector<head_matching_figures> head_matching(const json_field& rows);

// report_json_read_panel.cpp: "fingerprints" and "reference_panel".
fingerprint_figures fingerprints(const json_field& object);
panel_figures panel(const json_field& object);

// report_json_read_models.cpp: "manifest" and "models" (with the content manifest).
run_manifest manifest(const json_field& object);
// Model `side` of "models", and its part of the content manifest (`content`'s flags already read
// from the manifest).
model_description model(const json_field& object, content_manifest& content, side_content& side);

// report_json_read_evidence.cpp: "verdict", "families", "layers".
verdict_report verdict(const json_field& object);
std::vector<group_evidence> groups(const json_field& rows, bool families);

// Shared by the sections.
statistic_null summary(const json_field& object);
// A row-major matrix of `rows` × `columns` numbers (report.json's nested arrays): empty, or exactly
// that many rows of that many entries.
std::vector<double> matrix(const json_field& rows, std::size_t row_count, std::size_t columns);
// "a" or "b" as 'a' or 'b'.
char side(const json_field& field);

}  // namespace lineage::json_read
