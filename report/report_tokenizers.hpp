#pragma once
// The report's "tokenizers" object: the vocabulary comparison rank 0 made while planning (the object
// `lineage tokenizers` writes, with "available"), and "embedding_pairing", the pairs whose rows met
// by shared tokens. report.json holds it as it is; report.h5 as the group /tokenizers.
#include <nlohmann/json.hpp>

#include "h5/h5_file.hpp"
#include "reduce/report_model.hpp"

namespace lineage {

nlohmann::json tokenizers_object(const comparison_report& report);

// /tokenizers: its scalar figures as attributes, the byte-normalised ones and each tokenizer's
// description in subgroups, embedding_pairing as a table (layout: docs/HDF5_SCHEMA.md).
void write_tokenizers(const h5_group& root, const comparison_report& report);

}  // namespace lineage
