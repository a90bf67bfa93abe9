#pragma once
// A query against every member of a registry (`lineage search`): each member's evidence
// (member_evidence.hpp), a multiplicity correction across members (the search tests one hypothesis
// per member), and the empirical null the registry itself provides — members are mostly unrelated
// to each other, so their scores against the query show what unrelated scores look like. One typed
// result that search.json and search.md are rendered from.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "registry/fingerprint.hpp"
#include "registry/member_evidence.hpp"
#include "registry/registry_listing.hpp"

namespace lineage {

// Fewest other members for the registry's own null to be read (robust z from median and MAD).
inline constexpr std::size_t fewest_for_registry_null = 5;
// A registry z below this calls a significant randomisation p into question (and above
// outlier_registry_z with no significant p, the other way round).
inline constexpr double least_registry_z = 3.0;
inline constexpr double outlier_registry_z = 5.0;

struct search_candidate {
  registry_entry member;
  std::string model_type;
  member_evidence evidence;
  double adjusted_p = 1;  // Holm across the registry's members
  double registry_z = 0;  // the member's score against the other members' scores (NaN: too few)
  std::string verdict;    // identical, derived, inconclusive, no evidence of derivation
  std::string reason;
};

// One full comparison of the query with a top candidate (`--compare-top K`).
struct compare_run {
  std::string member, source, output;  // the member, its weights, the comparison's directory
  std::string status;                  // compared, failed (exit N), job file written, or why none ran
  std::string verdict;                 // report.json's, when compared
  double p = std::numeric_limits<double>::quiet_NaN();  // its global p
};

struct search_result {
  std::string query_name, query_model_type, query_checkpoint;
  std::vector<fingerprint_file_digest> query_files;
  std::string query_source;  // the path given
  std::string registry;      // the registry directory
  search_options options;
  std::vector<search_candidate> candidates;  // ranked: adjusted p, then score
  std::vector<compare_run> compares;         // --compare-top K: the first K candidates, in rank order
  std::string tool_version;
};

struct loaded_member {
  registry_entry entry;
  model_fingerprint fingerprint;
};

// One member's fingerprint, read from the registry in `directory` after its file was checked against
// the SHA-256 registry.json lists. Throws input_error naming the file (missing, changed, malformed).
[[nodiscard]] model_fingerprint load_member(const std::filesystem::path& directory, const registry_entry& entry);

// Every member (for registries small enough to hold at once: tests, benches).
[[nodiscard]] std::vector<loaded_member> load_registry(const std::filesystem::path& directory);

// The search, reading each member through `load` and letting it go once tested, so that a registry of
// large models never needs more than one member's fingerprint in memory.
using member_loader = std::function<model_fingerprint(const registry_entry&)>;
[[nodiscard]] search_result search_registry(const model_fingerprint& query, const std::vector<registry_entry>& members,
                                            const member_loader& load, const search_options& options);
// The same over members already in memory.
[[nodiscard]] search_result search_registry(const model_fingerprint& query, const std::vector<loaded_member>& members,
                                            const search_options& options);

}  // namespace lineage
