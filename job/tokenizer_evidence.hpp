#pragma once
// The tokenizers beside two checkpoints, for `lineage compare`: read on rank 0 while planning, they
// give the plan its shared tokens (embedding rows paired by token) and the report its "tokenizers"
// object, the one `lineage tokenizers` writes to tokenizers.json (report/vocabulary_report.hpp).
#include <filesystem>

#include <nlohmann/json.hpp>

#include "plan/plan.hpp"

namespace lineage {

struct tokenizer_evidence {
  token_pairing pairing;
  // The vocabulary report with "available": true, or {"available": false, "reason": ...}.
  nlohmann::json report;
};

// A model's tokenizer.json (with tokenizer_config.json when present) is read when both models have
// one beside their weights; a malformed one is an input_error naming the file, a missing one means
// no tokenizer evidence.
tokenizer_evidence read_tokenizer_evidence(const std::filesystem::path& model_a,
                                           const std::filesystem::path& model_b);

}  // namespace lineage
