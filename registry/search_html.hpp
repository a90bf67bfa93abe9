#pragma once
// search.html: the ranked candidates of one search, in the look of report.html (its style sheet and
// table sorter): the verdict on the first candidate, the registry's own null as a histogram of the
// other members' scores with the first candidate marked, the table of every member, and each of
// the first candidates' tests. Rendered from the one search_result that search.json holds.
#include <string>

#include "registry/search.hpp"

namespace lineage {

[[nodiscard]] std::string search_html(const search_result& result);

}  // namespace lineage
