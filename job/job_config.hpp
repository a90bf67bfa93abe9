#pragma once
// The configuration of a compare job: command-line values over an optional YAML job file. Read and
// validated on rank 0 only; errors name the file and key and list what is allowed.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "shard/symmetry_draw.hpp"

namespace lineage {

// What the command line said; unset values fall back to the job file, then to defaults.
struct compare_arguments {
  std::optional<std::string> model_a, model_b, output_dir, arch_dir, config_file;
  std::optional<std::uint64_t> block_elements, seed;
  std::optional<std::uint32_t> permutations_vector, permutations_matrix, permutations_products, permutations_experts,
      permutations_neurons, permutations_heads;
  bool no_neuron_matching = false;
  bool no_hidden_matching = false;
  bool no_head_matching = false;
  bool no_cross_layer = false;
  bool no_fingerprints = false;
  bool no_tokenizers = false;
  bool sha256 = false;  // --sha256
  std::optional<std::string> memory_budget;  // "8GiB", "512M", bytes
  std::optional<std::string> io_mode;        // "map" or "read"
  std::optional<std::string> null_draws;     // "auto", "random" or "cyclic"
  std::optional<double> alpha;
  std::vector<std::string> reference_panel, panel_reports;  // empty: the job file's (if any)
  // The reference panel as a job array (slurm/submit-panel): run panel member I of the job file
  // alone, into <output>/panel/I; or merge every member's report instead of running the panel.
  std::optional<std::uint32_t> panel_member;
  bool panel_from_tasks = false;
};

// How a rank reads checkpoint bytes: memory maps of bounded windows, or pread() into buffers (for
// file systems where mapping is slow or counted against the job).
enum class io_mode : std::uint8_t { map, read };
const char* io_mode_name(io_mode mode) noexcept;

// "8GiB", "512 MiB", "2G", "1000000": bytes. Units K/M/G/T and KiB/MiB/GiB/TiB are powers of 1024,
// KB/MB/GB/TB powers of 1000, B or none bytes. `what` names the key or option in the error.
std::uint64_t parse_byte_size(const std::string& text, const std::string& what);

struct compare_config {
  std::string model_a;
  std::string model_b;
  std::string output_dir;
  std::uint64_t block_elements = 0;
  std::uint32_t permutations_vector = 1000;  // K of a test unit of vectors only, computed directly
  std::uint32_t permutations_matrix = 200;   // K of a test unit with matrices, computed directly
  std::uint32_t permutations_products = 10000;  // K of a test unit computed from cross products
  lineage::null_draws draws = lineage::null_draws::automatic;  // random permutations or cyclic shifts
  std::uint32_t permutations_experts = 100;  // K of each MoE layer's expert-matching null (0: no matching)
  bool match_neurons = true;                 // neuron matching of every MLP
  std::uint32_t permutations_neurons = 0;    // K of Spearman's exact null there (0: the closed form)
  bool match_hidden = true;                  // hidden-dimension matching on the embedding (same K)
  bool match_heads = true;                   // attention-head matching of every layer
  std::uint32_t permutations_heads = 1000;   // K of its Spearman permutation null (at least 1)
  bool cross_layer = true;                   // layer × layer matrices and their layer-label null
  bool fingerprints = true;                  // shape-free fingerprints of pairs of another shape
  bool tokenizers = true;                    // tokenizer comparison and token-paired embeddings
  std::uint64_t seed = 20260123;             // of every permutation stream
  double alpha = 0.01;                       // family-wise level of the verdict
  // Models known to be unrelated to A and B, compared with each in this job; and report.h5 files of
  // such comparisons run as jobs of their own (a Slurm job array), merged into this report.
  std::vector<std::string> reference_panel, panel_reports;
  std::uint64_t memory_budget = 0;  // peak resident bytes per rank (0: none set)
  io_mode io = io_mode::map;
  bool sha256_files = false;  // SHA-256 of every checkpoint file in the manifest (key sha256_files, --sha256)
  std::optional<std::string> arch_dir;
  std::optional<std::string> config_file;
  std::string config_text;  // the job file as written ("" without one), kept for the manifest

  [[nodiscard]] nlohmann::json to_json() const;
  // The inverse of to_json() (rank 0's resolved config reaching the other ranks); throws
  // internal_error on a document to_json() did not write.
  static compare_config from_json(const nlohmann::json& j);
};

// Merges `arguments` over the job file they name (if any) and checks the result. Throws
// usage_error: "<file>: key 'x': ..." for job-file problems, "--option: ..." for missing values.
compare_config resolve_compare_config(const compare_arguments& arguments);

// Panel comparison `index` of `main`: model A (even) or B (odd) against reference index / 2, with
// the same settings but no per-tensor nulls (the panel is itself a null).
compare_config panel_member_config(const compare_config& main, std::size_t index);

// The reference panel as separate jobs: member `index` (0 … 2R − 1) compares model A (even) or B
// (odd) with reference index / 2, with the settings of an in-job panel comparison, into
// <output>/panel/<index>; panel_task_report names the report.h5 it writes.
std::size_t panel_task_count(const compare_config& config);
compare_config panel_task_config(const compare_config& config, std::size_t index);
std::string panel_task_report(const compare_config& config, std::size_t index);

}  // namespace lineage
