// report.json's "layer_structure" and the matching tests ("expert_matching", "neuron_matching",
// "hidden_matching", "head_matching") read back (report/report_json_read.hpp).
#include <fmt/format.h>

#include "report/report_json_read_parts.hpp"

namespace lineage::json_read {
namespace {

// agreement_json's fields of an available matching test.
template <class Figures>
void read_agreement(const json_field& row, Figures& m) {
  m.ranked = row["ranked"].integer<std::uint64_t>();
  m.spearman = row["spearman"].number();
  m.z = row["z"].number();
  m.p_closed = row["p_closed"].number();
  m.permutations = row["permutations"].integer<std::uint32_t>();
  m.p_permutation = row["p_permutation"].number();
  m.p_value = row["p_value"].number();
  m.agreement = row["agreement"].number();
  m.combined_similarity = row["combined_similarity"].number();
  m.moved = row["moved"].integer<std::size_t>();
  m.combined = row["combined"].integers<std::int32_t>();
}

cross_layer_figures read_cross_layer(const json_field& row) {
  cross_layer_figures f;
  f.role = row["role"].text();
  f.available = row["available"].flag();
  f.reason = row["reason"].text();
  f.layers_a = row["layers_a"].integers<std::int32_t>();
  f.layers_b = row["layers_b"].integers<std::int32_t>();
  f.sample_elements = row["sample_elements"].integer<std::uint64_t>();
  f.common = row["common_layers"].integer<std::size_t>();
  f.diagonal_mean = row["diagonal_mean"].number();
  f.off_diagonal_mean = row["off_diagonal_mean"].number();
  f.off_diagonal_sd = row["off_diagonal_sd"].number();
  f.permutations = row["permutations"].integer<std::uint32_t>();
  f.z = row["z"].number();
  f.p_value = row["p_value"].number();
  f.diagonal_rank_p = row["diagonal_rank_p"].numbers();
  f.pearson = matrix(row["pearson"], f.layers_a.size(), f.layers_b.size());
  f.cosine = matrix(row["cosine"], f.layers_a.size(), f.layers_b.size());
  return f;
}

void read_available_experts(const json_field& row, expert_matching_figures& m) {
  const json_field matched = row["matched_b"];
  m.matched_b = matched.integers<std::int32_t>();
  if (m.matched_b.size() != m.experts_a.size())
    matched.fail(fmt::format("{} entries for {} experts of A", m.matched_b.size(), m.experts_a.size()));
  m.score = row["score"].number();
  m.identity_score = row["identity_score"].number();
  m.permutations = row["permutations"].integer<std::uint32_t>();
  m.null = summary(row["null"]);
  m.z = row["z"].number();
  m.p_value = row["p_value"].number();
  m.moved = row["moved"].integer<std::size_t>();
  const json_field identity = row["is_identity"];
  if (identity.flag() != m.is_identity())
    identity.fail(fmt::format("{} with {} experts moved", identity.flag(), m.moved));
  m.unmatched_a = row["unmatched_a"].integer<std::size_t>();
  m.unmatched_b = row["unmatched_b"].integer<std::size_t>();
  m.similarity = matrix(row["similarity"], m.experts_a.size(), m.experts_b.size());
}

expert_matching_figures read_expert_matching(const json_field& row) {
  expert_matching_figures m;
  m.layer = row["layer"].integer<std::int32_t>();
  m.mtp = row["mtp"].flag();
  m.available = row["available"].flag();
  m.reason = row["reason"].text();
  m.roles = row["roles"].texts();
  m.sample_elements = row["sample_elements"].integer<std::uint64_t>();
  m.experts_a = row["experts_a"].integers<std::int32_t>();
  m.experts_b = row["experts_b"].integers<std::int32_t>();
  if (m.available) read_available_experts(row, m);
  return m;
}

}  // namespace

std::vector<double> matrix(const json_field& rows, std::size_t row_count, std::size_t columns) {
  const std::size_t found = rows.size();
  if (found == 0) return {};
  if (found != row_count || columns == 0)
    rows.fail(fmt::format("{} rows (expected none or {} of {})", found, row_count, columns));
  std::vector<double> values;  // grown row by row: only as large as the document's rows really are
  for (std::size_t r = 0; r < row_count; ++r) {
    const json_field row = rows[r];
    if (row.size() != columns) row.fail(fmt::format("{} entries (expected {})", row.size(), columns));
    for (std::size_t c = 0; c < columns; ++c) values.push_back(row[c].number());
  }
  return values;
}

std::vector<cross_layer_figures> cross_layers(const json_field& rows) {
  std::vector<cross_layer_figures> out(rows.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = read_cross_layer(rows[i]);
  return out;
}

depth_alignment depth(const json_field& object) {
  depth_alignment d;
  d.available = object["available"].flag();
  d.reason = object["reason"].text();
  d.layers_a = object["layers_a"].integers<std::int32_t>();
  d.layers_b = object["layers_b"].integers<std::int32_t>();
  d.matched_a = object["matched_a"].integers<std::int32_t>();
  d.score = object["score"].number();
  d.z = object["z"].number();
  d.p_value = object["p_value"].number();
  d.permutations = object["permutations"].integer<std::uint32_t>();
  d.is_identity = object["is_identity"].flag();
  d.skipped_a = object["skipped_a"].integer<std::size_t>();
  d.repeated = object["repeated"].integer<std::size_t>();
  d.similarity = matrix(object["similarity"], d.layers_a.size(), d.layers_b.size());
  return d;
}

std::vector<expert_matching_figures> expert_matching(const json_field& rows) {
  std::vector<expert_matching_figures> out(rows.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = read_expert_matching(rows[i]);
  return out;
}

std::vector<neuron_matching_figures> neuron_matching(const json_field& rows) {
  std::vector<neuron_matching_figures> out(rows.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const json_field row = rows[i];
    neuron_matching_figures& m = out[i];
    m.layer = row["layer"].integer<std::int32_t>();
    m.group = row["group"].text();
    m.available = row["available"].flag();
    m.reason = row["reason"].text();
    m.neurons_a = row["neurons_a"].integer<std::uint64_t>();
    m.neurons_b = row["neurons_b"].integer<std::uint64_t>();
    m.hidden = row["hidden"].integer<std::uint64_t>();
    m.columns = row["columns"].integer<std::uint64_t>();
    if (m.available) read_agreement(row, m);
  }
  return out;
}

std::vector<hidden_matching_figures> hidden_matching(const json_field& rows) {
  std::vector<hidden_matching_figures> out(rows.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const json_field row = rows[i];
    hidden_matching_figures& m = out[i];
    m.role = row["role"].text();
    m.available = row["available"].flag();
    m.reason = row["reason"].text();
    m.hidden = row["hidden"].integer<std::uint64_t>();
    m.hidden_b = row["hidden_b"].integer<std::uint64_t>();
    m.row_begin = row["row_begin"].integer<std::uint64_t>();
    m.rows = row["rows"].integer<std::uint64_t>();
    m.aligned_pairs = row["aligned_pairs"].integer<std::size_t>();
    if (m.available) {
      read_agreement(row, m);
      m.negated = row["negated"].integers<std::int32_t>();
    }
  }
  return out;
}

std::vector<head_matching_figures> head_matching(const json_field& rows) {
  std::vector<head_matching_figures> out(rows.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const json_field row = rows[i];
    head_matching_figures& m = out[i];
    m.layer = row["layer"].integer<std::int32_t>();
    m.mtp = row["mtp"].flag();
    m.available = row["available"].flag();
    m.reason = row["reason"].text();
    m.heads = row["heads"].integer<std::uint64_t>();
    m.kv_heads = row["kv_heads"].integer<std::uint64_t>();
    m.head_dim = row["head_dim"].integer<std::uint64_t>();
    m.columns = row["columns"].integer<std::uint64_t>();
    m.applied = row["applied"].flag();
    if (m.available) {
      read_agreement(row, m);
      m.combined_kv = row["combined_kv"].integers<std::int32_t>();
      m.by_q = row["by_q"].integers<std::int32_t>();
      m.by_k = row["by_k"].integers<std::int32_t>();
    }
  }
  return out;
}

}  // namespace lineage::json_read
