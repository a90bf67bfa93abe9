#pragma once
// The vocabulary comparison as report.html and report.md show it. The report model keeps the
// "tokenizers" object as JSON text (comparison_report::tokenizers, the object `lineage tokenizers`
// writes): this is its one reader for the renderings.
#include <cstdint>
#include <optional>
#include <string>

#include "reduce/report_model.hpp"

namespace lineage {

struct tokenizer_overlap {
  bool available = false;
  std::string reason;  // why not available ("" when the object gives none)
  std::string note;    // what the figures do not say ("" when none)
  // Token counts (absent: not in the object).
  std::optional<std::int64_t> size_a, size_b, shared, same_id;
  double jaccard = 0, merge_rank_spearman = 0;  // NaN when null or absent
};

tokenizer_overlap read_tokenizer_overlap(const comparison_report& report);

// A count as text, "–" when absent; as a number, NaN when absent.
std::string count_text(const std::optional<std::int64_t>& count);
double count_value(const std::optional<std::int64_t>& count);

}  // namespace lineage
