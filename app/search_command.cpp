#include "app/search_command.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <memory>

#include "app/search_compares.hpp"
#include "core/atomic_output.hpp"
#include "core/display_text.hpp"
#include "core/error.hpp"
#include "registry/fingerprint_build.hpp"
#include "registry/fingerprint_h5.hpp"
#include "registry/search_html.hpp"
#include "registry/search_record.hpp"
#include "registry/search_report.hpp"

namespace lineage {
namespace {

struct search_request {
  std::filesystem::path query;
  std::filesystem::path registry;
  std::filesystem::path output;
  search_options options;
  index_options indexing;
  std::size_t compare_count = 0;  // --compare-top
  bool slurm = false;
};

bool is_fingerprint_file(const std::filesystem::path& query) {
  return std::filesystem::is_regular_file(query) && query.string().ends_with(".h5");
}

// A fingerprint file as it is; a model fingerprinted here, in this process.
model_fingerprint query_fingerprint(const search_request& request) {
  if (is_fingerprint_file(request.query)) return read_fingerprint(request.query);
  return fingerprint_in_process(request.query, request.indexing);
}

int run_search(const search_request& request) {
  ensure_writable_directory(request.output);
  const auto json_path = request.output / "search.json", md_path = request.output / "search.md",
             html_path = request.output / "search.html", h5_path = request.output / "search.h5";
  for (const auto& path : {json_path, md_path, html_path, h5_path}) {
    std::error_code ec;
    std::filesystem::remove(path, ec);  // a failed search leaves no earlier result behind
    if (ec) throw input_error(fmt::format("{}: cannot remove the earlier result: {}", path.string(), ec.message()));
  }
  // The registry's list first: a missing or malformed registry is reported before any model is read.
  const std::vector<registry_entry> members = read_registry(request.registry);
  const model_fingerprint query = query_fingerprint(request);
  search_result result = search_registry(
      query, members, [&](const registry_entry& entry) { return load_member(request.registry, entry); },
      request.options);
  result.query_source = request.query.string();
  result.registry = request.registry.string();
  if (request.compare_count > 0)
    result.compares = compare_top(result, {request.compare_count, request.slurm, request.output, request.query,
                                           !is_fingerprint_file(request.query)});
  const std::string json = search_json(result).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  write_file_atomically(md_path, search_markdown(result));
  write_file_atomically(html_path, search_html(result));
  write_file_atomically(json_path, json);
  write_file_atomically(h5_path, search_record_image(result, json, h5_path.string()));
  for (std::size_t i = 0; i < result.candidates.size() && i < 5; ++i) {
    const search_candidate& c = result.candidates[i];
    fmt::print("{:>3}  {:<32} {:<26} adjusted p {:.3g}\n", i + 1, printable(c.member.name), c.verdict, c.adjusted_p);
  }
  for (const compare_run& c : result.compares)
    fmt::print("compare {}: {}{}\n", printable(c.member), printable(c.status),
               c.verdict.empty() ? "" : ", verdict " + printable(c.verdict));
  fmt::print("search: {} members; {}\nrecord: {}\n", result.candidates.size(), printable(html_path.string()),
             printable(h5_path.string()));
  return 0;
}

}  // namespace

command add_search_command(CLI::App& parent) {
  auto request = std::make_shared<search_request>();
  CLI::App* app = parent.add_subcommand(
      "search",
      "Which registered model, if any, is QUERY derived from? Tests it against every member of a registry made by "
      "lineage index; writes OUT/search.json, search.md, search.html and search.h5 (the evaluation record). No MPI needed");
  app->add_option("QUERY", request->query, "a model directory, or a NAME.fingerprint.h5 written by lineage index")
      ->required();
  app->add_option("--registry", request->registry, "registry directory (lineage index -o)")->required();
  app->add_option("-o,--output", request->output, "output directory (created if missing)")->required();
  app->add_option("--draws", request->options.draws, "permutations per test unit, every member (default 999)")
      ->check(CLI::Range(19u, 1000000u));
  app->add_option("--deep-draws", request->options.deep_draws,
                  "permutations of a unit whose first p is at most 10 / (1 + draws) (default 99999)")
      ->check(CLI::Range(19u, 100000000u));
  app->add_option("--alpha", request->options.alpha, "family-wise level across the registry's members (default 0.01)")
      ->check(CLI::Range(1e-12, 0.5));
  app->add_option("--seed", request->options.seed, "seed of every permutation stream (default 0)");
  app->add_option("--compare-top", request->compare_count,
                  "then compare QUERY in full with each of the first K candidates whose weights are at hand (the "
                  "directory lineage index read), into OUT/compare/NAME/ (one rank each)")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1000}));
  app->add_flag("--slurm", request->slurm,
                "with --compare-top: write a job file per comparison and OUT/compare-top.sbatch, a Slurm job array "
                "over them, instead of comparing here");
  app->add_option("--arch-dir", request->indexing.rules_dir,
                  "directory of architecture rule files, when QUERY is a model directory");
  return {app, [request]() -> int { return run_search(*request); }};
}

}  // namespace lineage
