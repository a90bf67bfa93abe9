#include "job/tokenizer_evidence.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <string>

#include "report/vocabulary_report.hpp"

namespace lineage {
namespace {

namespace fs = std::filesystem;

// Where the tokenizer of a model given as a directory (or as one of its files) would be.
fs::path tokenizer_file_of(const fs::path& model) {
  std::error_code ec;
  return (fs::is_directory(model, ec) ? model : model.parent_path()) / "tokenizer.json";
}

bool same_vocabulary(const tokenizer_vocabulary& a, const tokenizer_vocabulary& b) {
  return std::equal(a.tokens.begin(), a.tokens.end(), b.tokens.begin(), b.tokens.end(),
                    [](const vocabulary_token& x, const vocabulary_token& y) { return x.id == y.id && x.piece == y.piece; });
}

}  // namespace

tokenizer_evidence read_tokenizer_evidence(const fs::path& model_a, const fs::path& model_b) {
  tokenizer_evidence evidence;
  const fs::path file_a = tokenizer_file_of(model_a), file_b = tokenizer_file_of(model_b);
  std::error_code ec;
  const bool has_a = fs::exists(file_a, ec), has_b = fs::exists(file_b, ec);
  if (!has_a || !has_b) {
    const std::string missing = !has_a && !has_b ? fmt::format("{} and {}", file_a.string(), file_b.string())
                                                 : (has_a ? file_b : file_a).string();
    evidence.report = {{"available", false},
                       {"reason", fmt::format("no tokenizer.json beside both models ({} not found): no "
                                              "vocabulary evidence, embeddings compared by token id",
                                              missing)}};
    return evidence;
  }
  const auto [a, b] = read_tokenizers(file_a, file_b);
  const vocabulary_comparison comparison = compare_vocabularies(a, b);
  evidence.report = vocabulary_report_json(a, b, comparison);
  evidence.report["available"] = true;
  evidence.pairing.available = true;
  evidence.pairing.identical = same_vocabulary(a, b);
  for (const auto& [id_a, id_b] : comparison.shared_ids) {
    evidence.pairing.ids_a.push_back(id_a);
    evidence.pairing.ids_b.push_back(id_b);
  }
  return evidence;
}

}  // namespace lineage
