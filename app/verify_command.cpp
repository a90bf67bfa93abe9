#include "app/verify_command.hpp"

#include <fmt/format.h>

#include <iostream>
#include <memory>
#include <optional>

#include "core/display_text.hpp"
#include "core/error.hpp"
#include "job/manifest_verify.hpp"
#include "registry/search_record.hpp"

namespace lineage {
namespace {

struct verify_request {
  std::string report_h5, model;
  std::string side;  // "a", "b" or "" (choose by tensor names)
  std::string search_h5, registry;  // --search: a search record, checked against MODEL and/or --registry
};

char side_letter(char side) { return side == 'a' ? 'A' : 'B'; }

// The side to report on when none is given, with the reason, and its result: the side whose tensor
// names the model has; when both have them, the one that matches (else the one with fewer
// differences); when neither has, the one with more names in common.
struct chosen_side {
  char side = 'a';
  std::string why;
  verify_result result;
};

chosen_side choose_side(const h5_reader& report, checkpoint_hashes& hashes) {
  const recorded_model a = read_recorded_model(report, 'a');
  const recorded_model b = read_recorded_model(report, 'b');
  const auto [common_a, same_a] = names_in_common(a, hashes.model());
  const auto [common_b, same_b] = names_in_common(b, hashes.model());
  if (same_a != same_b) {
    const recorded_model& side = same_a ? a : b;
    return {side.side, fmt::format("its tensor names are model {}'s", side_letter(side.side)),
            verify_model(side, hashes)};
  }
  if (!same_a) {
    const recorded_model& side = common_b > common_a ? b : a;
    return {side.side,
            fmt::format("closest by tensor names: {} of model A's {}, {} of model B's {}", common_a, a.tensors.size(),
                        common_b, b.tensors.size()),
            verify_model(side, hashes)};
  }
  verify_result on_a = verify_model(a, hashes);
  if (on_a.matches()) return {'a', "both models have its tensor names; model A matches", std::move(on_a)};
  verify_result on_b = verify_model(b, hashes);
  const bool take_b = on_b.matches() || on_b.mismatches.size() < on_a.mismatches.size();
  const std::string why = on_b.matches() ? "both models have its tensor names; model A differs, model B matches"
                                         : fmt::format(
                                               "both models have its tensor names and neither matches; model {} "
                                               "differs least",
                                               take_b ? 'B' : 'A');
  return {take_b ? 'b' : 'a', why, take_b ? std::move(on_b) : std::move(on_a)};
}

std::string summary(const verify_request& request, char side, const verify_result& result) {
  const verify_counts& n = result.counts;
  const std::string compared =
      fmt::format("{} tensors ({} ranges), {} files ({} by SHA-256)", n.tensors, n.ranges, n.files, n.files_sha256);
  if (result.matches())
    return fmt::format("verify: {} matches model {} of {}: {}", request.model, side_letter(side), request.report_h5,
                       compared);
  return fmt::format(
      "verify: {} differs from model {} of {}: {} tensors changed, {} missing, {} not in the manifest, "
      "{} of another dtype or shape, {} files differ ({} compared)",
      request.model, side_letter(side), request.report_h5, n.changed, n.missing, n.extra, n.retyped, n.files_differing,
      compared);
}

// A search record against the query model and/or the registry: one line per difference.
int run_verify_search(const verify_request& request) {
  if (request.model.empty() && request.registry.empty())
    throw usage_error("lineage verify --search: give the query MODEL, --registry REGISTRY, or both");
  const recorded_search record = read_search_record(request.search_h5);
  std::vector<std::string> lines;
  if (!request.model.empty()) lines = query_differences(record, request.model);
  if (!request.registry.empty())
    for (std::string& line : registry_differences(record, request.registry)) lines.push_back(std::move(line));
  for (const std::string& line : lines) std::cout << printable(line) << "\n";
  const std::string checked = request.model.empty()       ? "registry " + request.registry
                              : request.registry.empty() ? "query " + request.model
                                                         : "query " + request.model + " and registry " + request.registry;
  std::cout << printable(fmt::format("verify: {} {} {} ({} query files, {} members recorded)", checked,
                                     lines.empty() ? "match" : "differ from", request.search_h5,
                                     record.query_files.size(), record.members.size()))
            << std::endl;
  return static_cast<int>(lines.empty() ? exit_status::ok : exit_status::mismatch);
}

int run_verify(const verify_request& request) {
  if (!request.search_h5.empty()) return run_verify_search(request);
  if (request.report_h5.empty() || request.model.empty())
    throw usage_error("lineage verify: give --manifest REPORT.h5 MODEL, or --search SEARCH.h5 with MODEL and/or --registry");
  const h5_reader report = h5_reader::open(request.report_h5);
  const checkpoint model = open_checkpoint(request.model);
  checkpoint_hashes hashes(model);
  chosen_side chosen;
  if (request.side.empty()) {
    chosen = choose_side(report, hashes);
  } else {
    chosen.side = request.side.front();
    chosen.result = verify_model(read_recorded_model(report, chosen.side), hashes);
  }
  if (!chosen.why.empty())
    std::cout << printable(fmt::format("verify: against model {} ({})", side_letter(chosen.side), chosen.why)) << "\n";
  // Mismatch lines name tensors of the model directory and of the report: untrusted text.
  for (const std::string& line : chosen.result.mismatches) std::cout << printable(line) << "\n";
  std::cout << printable(summary(request, chosen.side, chosen.result)) << std::endl;
  return static_cast<int>(chosen.result.matches() ? exit_status::ok : exit_status::mismatch);
}

}  // namespace

command add_verify_command(CLI::App& parent) {
  auto request = std::make_shared<verify_request>();
  CLI::App* app = parent.add_subcommand(
      "verify",
      "Check a model directory against the manifest of a report.h5 (every recorded byte range, tensor and file), or "
      "a query model or registry against a search.h5 (exit 0 when it matches, 3 when it differs; no MPI needed)");
  auto* manifest = app->add_option("--manifest", request->report_h5, "a report.h5 written by lineage compare");
  auto* search = app->add_option("--search", request->search_h5,
                                 "a search.h5 written by lineage search: check the query MODEL's files and/or the "
                                 "registry (--registry) against the members it recorded");
  manifest->excludes(search);
  app->add_option("--registry", request->registry, "with --search: the registry directory to check")->needs(search);
  app->add_option("MODEL", request->model, "a Hugging Face directory or a .safetensors file");
  app->add_option("--side", request->side,
                  "which model of the report to check against: a or b (default: the one whose tensor names MODEL has)")
      ->check(CLI::IsMember({"a", "b"}));
  return {app, [request]() -> int { return run_verify(*request); }};
}

}  // namespace lineage
