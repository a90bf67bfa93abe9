#include "report/vocabulary_report.hpp"

#include <string>

#include "core/version.hpp"

namespace lineage {
namespace {

using json = nlohmann::json;

json number(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }

json example_json(const token_example& e) { return {{"id", e.id}, {"piece", e.piece}}; }

json examples_json(const overlap_figures& f) {
  json only_a = json::array(), only_b = json::array(), shared = json::array();
  for (const auto& e : f.only_a) only_a.push_back(example_json(e));
  for (const auto& e : f.only_b) only_b.push_back(example_json(e));
  for (const auto& e : f.shared_examples)
    shared.push_back({{"id_a", e.a.id}, {"piece_a", e.a.piece}, {"id_b", e.b.id}, {"piece_b", e.b.piece}});
  return {{"only_a", only_a}, {"only_b", only_b}, {"shared", shared}};
}

json figures_json(const overlap_figures& f) {
  return {{"size_a", f.size_a},
          {"size_b", f.size_b},
          {"folded_a", f.folded_a},
          {"folded_b", f.folded_b},
          {"shared", f.shared},
          {"share_of_a", number(f.share_of_a)},
          {"share_of_b", number(f.share_of_b)},
          {"jaccard", number(f.jaccard)},
          {"same_id", f.same_id},
          {"merges_a", f.merges_a},
          {"merges_b", f.merges_b},
          {"merges_shared", f.merges_shared},
          {"merge_rank_spearman", number(f.merge_rank_spearman)},
          {"added_a", f.added_a},
          {"added_b", f.added_b},
          {"added_shared", f.added_shared},
          {"special_a", f.special_a},
          {"special_b", f.special_b},
          {"special_shared", f.special_shared},
          {"examples", examples_json(f)}};
}

json tokenizer_json(const tokenizer_vocabulary& v) {
  return {{"path", v.source},
          {"kind", std::string(tokenizer_kind_name(v.kind))},
          {"byte_level", v.byte_level},
          {"sentencepiece", v.sentencepiece},
          {"tokens", v.tokens.size()},
          {"model_pieces", v.model_pieces()},
          {"added_tokens", v.added_count()},
          {"special_tokens", v.special_count()},
          {"merges", v.merges.size()}};
}

}  // namespace

json vocabulary_report_json(const tokenizer_vocabulary& a, const tokenizer_vocabulary& b,
                            const vocabulary_comparison& comparison) {
  json document = {{"format", "lineage-tokenizers"},
                   {"format_version", 1},
                   {"tool_version", std::string(tool_version())},
                   {"git_hash", std::string(git_hash())},
                   {"tokenizer_a", tokenizer_json(a)},
                   {"tokenizer_b", tokenizer_json(b)}};
  document.update(figures_json(comparison.raw));
  document["bytes"] = figures_json(comparison.bytes);
  document["note"] = std::string(vocabulary_note);
  return document;
}

}  // namespace lineage
