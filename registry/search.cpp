#include "registry/search.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <span>
#include <limits>
#include <numeric>

#include "core/content_hash.hpp"
#include "core/error.hpp"
#include "core/version.hpp"
#include "registry/fingerprint_h5.hpp"

namespace lineage {
namespace {

double median_of(std::vector<double> values) {
  const std::size_t n = values.size(), mid = n / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid), values.end());
  const double upper = values[mid];
  if (n % 2 == 1) return upper;
  return (*std::max_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(mid)) + upper) / 2;
}

// Each member's score against the others' (median and 1.4826 · MAD); NaN with too few others.
void registry_null(std::vector<search_candidate>& candidates) {
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    std::vector<double> others;
    for (std::size_t j = 0; j < candidates.size(); ++j)
      if (j != i && !candidates[j].evidence.units.empty()) others.push_back(candidates[j].evidence.score);
    double& z = candidates[i].registry_z;
    z = std::numeric_limits<double>::quiet_NaN();
    if (others.size() < fewest_for_registry_null || candidates[i].evidence.units.empty()) continue;
    const double centre = median_of(others);
    for (double& x : others) x = std::abs(x - centre);
    const double spread = 1.4826 * median_of(others);
    z = spread > 0 ? (candidates[i].evidence.score - centre) / spread : 0.0;
  }
}

void label(search_candidate& c, double alpha) {
  const bool significant = !c.evidence.units.empty() && c.adjusted_p <= alpha;
  const bool have_null = std::isfinite(c.registry_z);
  if (c.evidence.same_bytes) {
    c.verdict = "identical";
    c.reason = "every checkpoint file has the query's SHA-256";
  } else if (c.evidence.units.empty()) {
    c.verdict = "inconclusive";
    c.reason = "nothing testable: " + c.evidence.note;
  } else if (significant && have_null && c.registry_z < least_registry_z) {
    c.verdict = "inconclusive";
    c.reason = fmt::format("the symmetry null says derived (adjusted p {:.3g}) but the registry's own null does not "
                           "(z {:.2f} against the other members): the two nulls disagree",
                           c.adjusted_p, c.registry_z);
  } else if (significant) {
    c.verdict = "derived";
    c.reason = have_null ? fmt::format("adjusted p {:.3g} ≤ α {}; registry z {:.1f}", c.adjusted_p, alpha, c.registry_z)
                         : fmt::format("adjusted p {:.3g} ≤ α {}; too few other members for the registry's null",
                                       c.adjusted_p, alpha);
  } else {
    c.verdict = "no evidence of derivation";
    c.reason = have_null && c.registry_z >= outlier_registry_z
                   ? fmt::format("adjusted p {:.3g} > α, yet the registry's null sees an outlier (z {:.1f}): the two "
                                 "nulls disagree", c.adjusted_p, c.registry_z)
                   : fmt::format("adjusted p {:.3g} > α {}", c.adjusted_p, alpha);
  }
}

// Holm's step-down adjustment (Bonferroni steps), in input order: valid under any dependence between
// the members' p-values (every member is tested against one query, with the same draws).
std::vector<double> holm(const std::vector<double>& p) {
  std::vector<std::size_t> order(p.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return p[x] < p[y]; });
  std::vector<double> adjusted(p.size());
  double running = 0;
  for (std::size_t step = 0; step < order.size(); ++step) {
    running = std::max(running, std::min(1.0, static_cast<double>(order.size() - step) * p[order[step]]));
    adjusted[order[step]] = running;
  }
  return adjusted;
}

}  // namespace

model_fingerprint load_member(const std::filesystem::path& directory, const registry_entry& entry) {
  const std::filesystem::path path = directory / entry.file;
  // One read: the listed SHA-256 is checked on the bytes the fingerprint is then parsed from.
  std::ifstream in(path, std::ios::binary);
  if (!std::filesystem::is_regular_file(path) || !in)
    throw input_error(fmt::format("{}: listed in the registry but missing", path.string()));
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (sha256_hex(std::as_bytes(std::span<const char>(bytes.data(), bytes.size()))) != entry.sha256)
    throw input_error(fmt::format("{}: its SHA-256 is not the one registry.json lists (changed since indexed)",
                                  path.string()));
  return read_fingerprint_bytes(bytes, path.string());
}

std::vector<loaded_member> load_registry(const std::filesystem::path& directory) {
  std::vector<loaded_member> members;
  for (registry_entry& entry : read_registry(directory)) {
    model_fingerprint fingerprint = load_member(directory, entry);
    members.push_back({std::move(entry), std::move(fingerprint)});
  }
  return members;
}

search_result search_registry(const model_fingerprint& query, const std::vector<loaded_member>& members,
                              const search_options& options) {
  std::vector<registry_entry> entries;
  for (const loaded_member& m : members) entries.push_back(m.entry);
  std::size_t next = 0;
  return search_registry(query, entries, [&](const registry_entry&) { return members[next++].fingerprint; }, options);
}

search_result search_registry(const model_fingerprint& query, const std::vector<registry_entry>& members,
                              const member_loader& load, const search_options& options) {
  search_result result;
  result.query_name = query.name;
  result.query_model_type = query.model_type;
  result.query_files = query.files;
  result.query_checkpoint = checkpoint_digest(query.files);
  result.options = options;
  result.tool_version = std::string(tool_version());
  std::vector<double> p;
  search_draws draws(options);
  for (const registry_entry& entry : members) {
    const model_fingerprint member = load(entry);
    search_candidate c{entry, member.model_type, test_member(query, member, draws), 1, 0, "", ""};
    p.push_back(c.evidence.p);
    result.candidates.push_back(std::move(c));
  }
  const std::vector<double> adjusted = holm(p);
  for (std::size_t i = 0; i < adjusted.size(); ++i) result.candidates[i].adjusted_p = adjusted[i];
  registry_null(result.candidates);
  for (search_candidate& c : result.candidates) label(c, options.alpha);
  std::stable_sort(result.candidates.begin(), result.candidates.end(), [](const auto& x, const auto& y) {
    if (x.evidence.same_bytes != y.evidence.same_bytes) return x.evidence.same_bytes;
    if (x.adjusted_p != y.adjusted_p) return x.adjusted_p < y.adjusted_p;
    return x.evidence.score > y.evidence.score;
  });
  return result;
}

}  // namespace lineage
