#pragma once
// tokenizers.json, the report of `lineage tokenizers A B` (format in docs/HDF5_SCHEMA.md): the raw
// figures at the top level, the byte-normalised ones under "bytes".
#include <nlohmann/json.hpp>

#include "reduce/vocabulary_figures.hpp"

namespace lineage {

nlohmann::json vocabulary_report_json(const tokenizer_vocabulary& a, const tokenizer_vocabulary& b,
                                      const vocabulary_comparison& comparison);

}  // namespace lineage
