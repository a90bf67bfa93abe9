#pragma once
// Everything rank 0 writes, assembled once from the plan and the merged moments, so report.h5,
// report.json and the terminal table cannot disagree.
#include <cstdint>
#include <string>
#include <vector>

#include "plan/plan.hpp"
#include "reduce/content_manifest.hpp"
#include "reduce/evidence.hpp"
#include "reduce/expert_figures.hpp"
#include "reduce/fingerprint_figures.hpp"
#include "reduce/head_figures.hpp"
#include "reduce/hidden_figures.hpp"
#include "reduce/layer_structure.hpp"
#include "reduce/neuron_figures.hpp"
#include "reduce/null_figures.hpp"
#include "reduce/rank_run.hpp"
#include "reduce/reference_panel.hpp"
#include "reduce/tensor_stats.hpp"
#include "reduce/unit_figures.hpp"
#include "shard/block_stats.hpp"

namespace lineage {

// How the result was made (stored in report.h5 and report.json).
struct run_manifest {
  std::string tool_version;
  std::string git_hash;
  std::string command_line;
  std::string config_json;   // the resolved job configuration
  std::string start_time;    // ISO 8601, UTC
  std::string end_time;
  std::string host;          // rank 0's host name
  std::string kernel;        // the statistics kernel variant ("avx512", "avx2", "generic")
  int ranks = 1;
  std::uint64_t block_elements = 0;
  std::vector<rank_run> rank_runs;  // one per rank, in rank order (empty in process)
};

struct tensor_result {
  tensor_pair pair;
  pair_moments moments;
  similarity figures;
  null_figures null;
};

// One layer of one role: the merge of its tensor pairs (all experts of the layer, in order).
struct role_layer {
  int layer = -1;
  std::uint64_t tensor_pairs = 0;
  pair_moments moments;
  similarity figures;
};

struct role_table {
  std::string role;
  std::vector<role_layer> layers;  // ascending layer, -1 (outside layers) first
};

struct comparison_report {
  run_manifest manifest;
  model_description model_a, model_b;
  std::vector<tensor_result> tensors;  // plan order
  std::vector<unit_figures> units;     // the tests that carry the verdict, in plan order
  std::vector<role_table> roles;       // sorted by role
  std::vector<unpaired_tensor> unpaired;
  std::uint64_t unpaired_a = 0, unpaired_b = 0;
  std::uint64_t tensors_with_nonfinite = 0;
  std::uint64_t compared_elements = 0;
  std::vector<cross_layer_figures> cross_layers;  // per role
  depth_alignment depth;
  std::vector<expert_matching_figures> expert_matching;  // per MoE layer matched
  std::vector<neuron_matching_figures> neuron_matching;  // per MLP matched
  std::vector<hidden_matching_figures> hidden_matching;  // the embedding's hidden dimensions (none or one)
  fingerprint_figures fingerprints;                      // tensors of other shapes under one key
  std::vector<head_matching_figures> head_matching;      // per attention layer matched
  panel_figures panel;                                   // empty without a reference panel
  std::string tokenizers;  // the "tokenizers" object as JSON text (work_plan::tokenizers)
  evidence_summary evidence;
  content_manifest content;  // the manifest's hashes of A and B (none in panel comparisons)
  // "compared", or "no tensor pairs" when the two models have nothing in common.
  [[nodiscard]] std::string status() const { return tensors.empty() ? "no tensor pairs" : "compared"; }
};

struct analysis_options {
  double alpha = 0.01;           // family-wise level of the verdict
  std::uint64_t seed = 20260123;  // of the layer-order permutations and the randomized p-values
  std::vector<panel_comparison> panel;  // the reference panel's comparisons with A and B
};

// The results of the units that are not per tensor pair, each in plan order (empty when the
// analysis was not run).
struct unit_results {
  std::vector<cross_layer_result> cross_layers;
  std::vector<neuron_match_result> neuron_matches;
  std::vector<fingerprint_result> fingerprints;
};

// What a pair's null permutes, e.g. "rows (neuron)", "columns (hidden)", "elements (hidden)"; "" when
// the pair has no test.
std::string permuted_axis_text(const tensor_pair& pair);

// `nulls` holds one entry per pair (nulls_by_pair); `units` one result per planned cross-layer,
// neuron-matching and fingerprint unit, or none.
comparison_report build_report(const work_plan& plan, const std::vector<pair_moments>& merged,
                               const std::vector<null_samples>& nulls, const unit_results& units,
                               run_manifest manifest, const analysis_options& analysis);

}  // namespace lineage
