// The layer-order evidence and the matchings (experts, neurons, heads, hidden dimensions) in report.h5 (layout: docs/HDF5_SCHEMA.md).
#include "report/h5_columns.hpp"

namespace lineage {

void write_layer_structure(const h5_group& root, const comparison_report& report) {
  const h5_group cross = root.create_group("cross_layer");
  for (const auto& f : report.cross_layers) {
    const h5_group group = cross.create_group(f.role);
    group.set_attribute("available", static_cast<std::int64_t>(f.available));
    group.set_attribute("reason", f.reason);
    group.set_attribute("sample_elements", static_cast<std::int64_t>(f.sample_elements));
    group.set_attribute("common_layers", static_cast<std::int64_t>(f.common));
    group.set_attribute("diagonal_mean", f.diagonal_mean);
    group.set_attribute("off_diagonal_mean", f.off_diagonal_mean);
    group.set_attribute("off_diagonal_sd", f.off_diagonal_sd);
    group.set_attribute("permutations", static_cast<std::int64_t>(f.permutations));
    group.set_attribute("z", f.z);
    group.set_attribute("p_value", f.p_value);
    group.write_column("layers_a", std::span<const std::int32_t>(f.layers_a));
    group.write_column("layers_b", std::span<const std::int32_t>(f.layers_b));
    const std::size_t rows = f.pearson.empty() ? 0 : f.layers_a.size();
    const std::size_t columns = f.pearson.empty() ? 0 : f.layers_b.size();
    group.write_matrix("pearson", rows, columns, f.pearson);
    group.write_matrix("cosine", rows, columns, f.cosine);
    group.write_column("diagonal_rank_p", std::span<const double>(f.diagonal_rank_p));
  }
  const auto& d = report.depth;
  const h5_group depth = root.create_group("depth_alignment");
  depth.set_attribute("available", static_cast<std::int64_t>(d.available));
  depth.set_attribute("reason", d.reason);
  depth.set_attribute("score", d.score);
  depth.set_attribute("z", d.z);
  depth.set_attribute("p_value", d.p_value);
  depth.set_attribute("permutations", static_cast<std::int64_t>(d.permutations));
  depth.set_attribute("is_identity", static_cast<std::int64_t>(d.is_identity));
  depth.set_attribute("skipped_a", static_cast<std::int64_t>(d.skipped_a));
  depth.set_attribute("repeated", static_cast<std::int64_t>(d.repeated));
  depth.write_column("layers_a", std::span<const std::int32_t>(d.layers_a));
  depth.write_column("layers_b", std::span<const std::int32_t>(d.layers_b));
  depth.write_column("matched_a", std::span<const std::int32_t>(d.matched_a));
  depth.write_matrix("similarity", d.similarity.empty() ? 0 : d.layers_a.size(),
                     d.similarity.empty() ? 0 : d.layers_b.size(), d.similarity);
}

void write_expert_matching(const h5_group& root, const comparison_report& report) {
  const h5_group matching = root.create_group("expert_matching");
  for (const auto& m : report.expert_matching) {
    const h5_group group = matching.create_group(fmt::format("{}_{}", m.mtp ? "mtp" : "layer", m.layer));
    group.set_attribute("layer", static_cast<std::int64_t>(m.layer));
    group.set_attribute("mtp", static_cast<std::int64_t>(m.mtp));
    group.set_attribute("available", static_cast<std::int64_t>(m.available));
    group.set_attribute("reason", m.reason);
    group.set_attribute("sample_elements", static_cast<std::int64_t>(m.sample_elements));
    group.set_attribute("score", m.score);
    group.set_attribute("identity_score", m.identity_score);
    group.set_attribute("permutations", static_cast<std::int64_t>(m.permutations));
    group.set_attribute("z", m.z);
    group.set_attribute("p_value", m.p_value);
    group.set_attribute("moved", static_cast<std::int64_t>(m.moved));
    group.set_attribute("unmatched_a", static_cast<std::int64_t>(m.unmatched_a));
    group.set_attribute("unmatched_b", static_cast<std::int64_t>(m.unmatched_b));
    group.write_column("roles", m.roles);
    group.write_column("experts_a", std::span<const std::int32_t>(m.experts_a));
    group.write_column("experts_b", std::span<const std::int32_t>(m.experts_b));
    group.write_column("matched_b", std::span<const std::int32_t>(m.matched_b));
    group.write_matrix("similarity", m.similarity.empty() ? 0 : m.experts_a.size(),
                       m.similarity.empty() ? 0 : m.experts_b.size(), m.similarity);
    group.write_column("null_scores", std::span<const double>(m.null_scores));
  }
}

namespace {

// The columns of what every matching test reports (reduce/agreement_figures.hpp).
template <class Row>
void write_agreement_columns(const h5_group& matching, const std::vector<Row>& rows) {
  const std::pair<const char*, double Row::*> figures[] = {
      {"spearman", &Row::spearman},   {"z", &Row::z},
      {"p_closed", &Row::p_closed},   {"p_permutation", &Row::p_permutation},
      {"p_value", &Row::p_value},     {"agreement", &Row::agreement},
      {"combined_similarity", &Row::combined_similarity}};
  for (const auto& [name, field] : figures)
    matching.write_column(name, column(rows, [field = field](const Row& r) { return r.*field; }));
}

}  // namespace

void write_neuron_matching(const h5_group& root, const comparison_report& report) {
  const h5_group matching = root.create_group("neuron_matching");
  const auto& rows = report.neuron_matching;
  using row = neuron_matching_figures;
  using u64 = std::uint64_t;
  matching.write_column("layer", column(rows, [](const row& r) -> std::int64_t { return r.layer; }));
  matching.write_column("group", column(rows, [](const row& r) { return r.group; }));
  matching.write_column("available", column(rows, [](const row& r) -> std::int64_t { return r.available; }));
  matching.write_column("reason", column(rows, [](const row& r) { return r.reason; }));
  matching.write_column("neurons_a", column(rows, [](const row& r) -> u64 { return r.neurons_a; }));
  matching.write_column("neurons_b", column(rows, [](const row& r) -> u64 { return r.neurons_b; }));
  matching.write_column("columns", column(rows, [](const row& r) -> u64 { return r.columns; }));
  matching.write_column("ranked", column(rows, [](const row& r) -> u64 { return r.ranked; }));
  matching.write_column("moved", column(rows, [](const row& r) -> u64 { return r.moved; }));
  matching.write_column("permutations", column(rows, [](const row& r) -> u64 { return r.permutations; }));
  write_agreement_columns(matching, rows);
  // The combined matchings, flat: MLP m's at [offsets[m], offsets[m + 1]).
  std::vector<std::uint64_t> offsets{0};
  std::vector<std::int32_t> combined;
  for (const auto& r : rows) {
    combined.insert(combined.end(), r.combined.begin(), r.combined.end());
    offsets.push_back(combined.size());
  }
  matching.write_column("combined_offsets", std::span<const std::uint64_t>(offsets));
  matching.write_column("combined", std::span<const std::int32_t>(combined));
}

void write_head_matching(const h5_group& root, const comparison_report& report) {
  const h5_group matching = root.create_group("head_matching");
  const auto& rows = report.head_matching;
  using row = head_matching_figures;
  using u64 = std::uint64_t;
  matching.write_column("layer", column(rows, [](const row& r) -> std::int64_t { return r.layer; }));
  matching.write_column("mtp", column(rows, [](const row& r) -> std::int64_t { return r.mtp; }));
  matching.write_column("available", column(rows, [](const row& r) -> std::int64_t { return r.available; }));
  matching.write_column("reason", column(rows, [](const row& r) { return r.reason; }));
  matching.write_column("applied", column(rows, [](const row& r) -> std::int64_t { return r.applied; }));
  const std::pair<const char*, u64 row::*> counts[] = {{"heads", &row::heads},       {"kv_heads", &row::kv_heads},
                                                       {"head_dim", &row::head_dim}, {"columns", &row::columns},
                                                       {"ranked", &row::ranked}};
  for (const auto& [name, field] : counts) matching.write_column(name, column(rows, [field = field](const row& r) { return r.*field; }));
  matching.write_column("moved", column(rows, [](const row& r) -> u64 { return r.moved; }));
  matching.write_column("permutations", column(rows, [](const row& r) -> u64 { return r.permutations; }));
  write_agreement_columns(matching, rows);
  // The combined matchings, flat: layer m's query heads at [offsets[m], offsets[m + 1]), its KV
  // heads at [kv_offsets[m], kv_offsets[m + 1]) (empty without a usable match).
  std::vector<std::uint64_t> offsets{0}, kv_offsets{0};
  std::vector<std::int32_t> combined, combined_kv;
  for (const auto& r : rows) {
    combined.insert(combined.end(), r.combined.begin(), r.combined.end());
    offsets.push_back(combined.size());
    combined_kv.insert(combined_kv.end(), r.combined_kv.begin(), r.combined_kv.end());
    kv_offsets.push_back(combined_kv.size());
  }
  matching.write_column("combined_offsets", std::span<const std::uint64_t>(offsets));
  matching.write_column("combined", std::span<const std::int32_t>(combined));
  matching.write_column("combined_kv_offsets", std::span<const std::uint64_t>(kv_offsets));
  matching.write_column("combined_kv", std::span<const std::int32_t>(combined_kv));
  // The order v/o are read in (applied): by q_proj and by k_proj alone, at the same offsets.
  std::vector<std::int32_t> by_q, by_k;
  for (const auto& r : rows) {
    by_q.insert(by_q.end(), r.by_q.begin(), r.by_q.end());
    by_k.insert(by_k.end(), r.by_k.begin(), r.by_k.end());
  }
  matching.write_column("by_q", std::span<const std::int32_t>(by_q));
  matching.write_column("by_k", std::span<const std::int32_t>(by_k));
}

void write_hidden_matching(const h5_group& root, const comparison_report& report) {
  const h5_group matching = root.create_group("hidden_matching");
  const auto& rows = report.hidden_matching;
  using row = hidden_matching_figures;
  using u64 = std::uint64_t;
  matching.write_column("role", column(rows, [](const row& r) { return r.role; }));
  matching.write_column("available", column(rows, [](const row& r) -> std::int64_t { return r.available; }));
  matching.write_column("reason", column(rows, [](const row& r) { return r.reason; }));
  matching.write_column("hidden", column(rows, [](const row& r) -> u64 { return r.hidden; }));
  matching.write_column("hidden_b", column(rows, [](const row& r) -> u64 { return r.hidden_b; }));
  matching.write_column("row_begin", column(rows, [](const row& r) -> u64 { return r.row_begin; }));
  matching.write_column("rows", column(rows, [](const row& r) -> u64 { return r.rows; }));
  matching.write_column("ranked", column(rows, [](const row& r) -> u64 { return r.ranked; }));
  matching.write_column("moved", column(rows, [](const row& r) -> u64 { return r.moved; }));
  matching.write_column("aligned_pairs", column(rows, [](const row& r) -> u64 { return r.aligned_pairs; }));
  matching.write_column("permutations", column(rows, [](const row& r) -> u64 { return r.permutations; }));
  write_agreement_columns(matching, rows);
  // The estimated permutation: per A dimension its B dimension (empty without a usable match).
  std::vector<std::int32_t> combined;
  std::vector<std::int32_t> negated;  // A dimensions whose B column is read negated
  for (const auto& r : rows) {
    combined.insert(combined.end(), r.combined.begin(), r.combined.end());
    negated.insert(negated.end(), r.negated.begin(), r.negated.end());
  }
  matching.write_column("combined", std::span<const std::int32_t>(combined));
  matching.write_column("negated", std::span<const std::int32_t>(negated));
}

void write_fingerprints(const h5_group& root, const comparison_report& report) {
  const h5_group group = root.create_group("fingerprints");
  const auto& rows = report.fingerprints.pairs;
  using row = fingerprint_pair_figures;
  using u64 = std::uint64_t;
  const auto shape = [](const std::vector<u64>& s) {
    std::string text;
    for (const u64 extent : s) text += (text.empty() ? "" : "x") + std::to_string(extent);
    return text;
  };
  group.write_column("layer", column(rows, [](const row& r) -> std::int64_t { return r.layer; }));
  group.write_column("role", column(rows, [](const row& r) { return r.role; }));
  for (const char side : {'a', 'b'}) {
    const auto of = [side](const row& r) -> const tensor_fingerprint& { return side == 'a' ? r.a : r.b; };
    const std::string suffix = std::string("_") + side;
    group.write_column("name" + suffix, column(rows, [&](const row& r) { return side == 'a' ? r.name_a : r.name_b; }));
    group.write_column("shape" + suffix, column(rows, [&](const row& r) { return shape(side == 'a' ? r.shape_a : r.shape_b); }));
    group.write_column("finite" + suffix, column(rows, [&](const row& r) -> std::int64_t { return of(r).finite; }));
    group.write_column("elements" + suffix, column(rows, [&](const row& r) -> u64 { return of(r).elements; }));
    group.write_column("mean" + suffix, column(rows, [&](const row& r) { return of(r).mean; }));
    group.write_column("sd" + suffix, column(rows, [&](const row& r) { return of(r).sd; }));
    group.write_column("frobenius" + suffix, column(rows, [&](const row& r) { return of(r).frobenius; }));
    // σᵢ/‖W‖_F per pair, NaN-padded (vectors have none).
    std::vector<double> spectra;
    for (const auto& r : rows)
      for (std::size_t k = 0; k < fingerprint_singular_values; ++k)
        spectra.push_back(k < of(r).spectrum.size() ? of(r).spectrum[k] : NAN);
    group.write_matrix("spectrum" + suffix, rows.size(), fingerprint_singular_values, spectra);
  }
  const auto& test = report.fingerprints.test;
  group.set_attribute("test_available", static_cast<std::int64_t>(test.available));
  group.set_attribute("test_reason", test.reason);
  group.set_attribute("statistic", test.statistic);
  group.set_attribute("z", test.z);
  group.set_attribute("p_value", test.p_value);
  group.set_attribute("series", static_cast<std::int64_t>(test.series));
  group.write_column("test_roles", test.roles);
  group.write_column("test_layers", std::span<const std::int32_t>(test.layers));
  group.write_column("null", std::span<const double>(test.null));
}

void write_reference_panel(const h5_group& root, const comparison_report& report) {
  const h5_group panel = root.create_group("reference_panel");
  const auto& comparisons = report.panel.comparisons;
  using comparison = panel_comparison;
  panel.write_column("side", column(comparisons, [](const comparison& c) { return std::string(1, c.side); }));
  panel.write_column("reference", column(comparisons, [](const comparison& c) { return c.reference; }));
  panel.write_column("source", column(comparisons, [](const comparison& c) { return c.source; }));
  for (std::size_t i = 0; i < comparisons.size(); ++i) {
    const h5_group group = panel.create_group(fmt::format("comparison_{}", i));
    const auto& tensors = comparisons[i].tensors;
    group.write_column("role", column(tensors, [](const panel_tensor& t) { return t.role; }));
    group.write_column("layer", column(tensors, [](const panel_tensor& t) -> std::int64_t { return t.layer; }));
    group.write_column("pearson", column(tensors, [](const panel_tensor& t) { return t.pearson; }));
    group.write_column("cosine", column(tensors, [](const panel_tensor& t) { return t.cosine; }));
  }
  const h5_group roles = panel.create_group("roles");
  const auto& rows = report.panel.roles;
  using row = panel_role_figures;
  roles.write_column("role", column(rows, [](const row& r) { return r.role; }));
  roles.write_column("tensor_pairs", column(rows, [](const row& r) -> std::uint64_t { return r.layers; }));
  roles.write_column("panel_count", column(rows, [](const row& r) -> std::uint64_t { return r.panel_pearson.size(); }));
  const std::pair<const char*, double row::*> figures[] = {
      {"pearson", &row::pearson},
      {"cosine", &row::cosine},
      {"panel_pearson_mean", &row::panel_pearson_mean},
      {"panel_pearson_sd", &row::panel_pearson_sd},
      {"panel_pearson_max", &row::panel_pearson_max},
      {"panel_cosine_mean", &row::panel_cosine_mean},
      {"panel_cosine_max", &row::panel_cosine_max},
      {"z", &row::z},
      {"p_value", &row::p_value}};
  for (const auto& [name, field] : figures) roles.write_column(name, column(rows, [field = field](const row& r) { return r.*field; }));
}

}  // namespace lineage
