#pragma once
// search.json and search.md, rendered from one search_result.
#include <string>

#include <nlohmann/json.hpp>

#include "registry/search.hpp"

namespace lineage {

[[nodiscard]] nlohmann::json search_json(const search_result& result);
[[nodiscard]] std::string search_markdown(const search_result& result);

}  // namespace lineage
