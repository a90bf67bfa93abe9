#include <fmt/format.h>
#include <fmt/ostream.h>

#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <cmath>
#include <ostream>

#include "core/display_text.hpp"
#include "reduce/probability.hpp"
#include "report/report_writers.hpp"
#include "report/verdict_wording.hpp"

namespace lineage {
namespace {

std::string figure(double value, int decimals) {
  return std::isfinite(value) ? fmt::format("{:.{}f}", value, decimals) : std::string("n/a");
}

std::string layer_text(int layer) { return layer < 0 ? std::string("-") : std::to_string(layer); }

}  // namespace

void print_terminal_table(const comparison_report& report, std::ostream& out) {
  // Names, paths and model types come from the models' files: printable() at every field.
  fmt::print(out, "lineage compare  A: {} ({})  B: {} ({})\n", printable(report.model_a.path),
             printable(report.model_a.architecture), printable(report.model_b.path),
             printable(report.model_b.architecture));
  if (report.tensors.empty()) {
    fmt::print(out, "No tensor pairs: the two models have no tensor with a common key and shape.\n");
  } else {
    // Rows by layer then role, as a reader walks down the network.
    struct line {
      int layer;
      const std::string* role;
      const role_layer* row;
      std::string shown_role;
    };
    std::vector<line> lines;
    for (const auto& table : report.roles)
      for (const auto& row : table.layers) lines.push_back({row.layer, &table.role, &row, printable(table.role)});
    std::stable_sort(lines.begin(), lines.end(), [](const line& x, const line& y) {
      return x.layer != y.layer ? x.layer < y.layer : *x.role < *y.role;
    });
    // The p of a (layer, role) row: its tensors' p-values combined (one tensor: its own p).
    std::map<std::pair<int, std::string>, std::vector<double>> p_by_row;
    for (const auto& t : report.tensors)
      if (t.null.available) p_by_row[{t.pair.key.layer, t.pair.key.role}].push_back(t.null.p_value);
    std::size_t role_width = 4;
    for (const auto& l : lines) role_width = std::max(role_width, l.shown_role.size());
    fmt::print(out, "{:>5}  {:<{}}  {:>10}  {:>10}  {:>10}  {:>9}  {:>9}\n", "layer", "role", role_width,
               "raw cos", "Pearson", "rel-L2", "% bitwise", "p");
    for (const auto& l : lines) {
      const auto& f = l.row->figures;
      std::string flags;
      if (l.row->moments.nonfinite_a + l.row->moments.nonfinite_b > 0)
        flags = fmt::format("  non-finite: {} in A, {} in B", l.row->moments.nonfinite_a,
                            l.row->moments.nonfinite_b);
      const auto found = p_by_row.find({l.layer, *l.role});
      const double combined = found == p_by_row.end() ? NAN : harmonic_mean_combination(found->second).p;
      const std::string p = found == p_by_row.end() ? std::string("n/a")
                            : combined < 1e-300    ? std::string("<1e-300")
                                                   : fmt::format("{:.2g}", combined);
      fmt::print(out, "{:>5}  {:<{}}  {:>10}  {:>10}  {:>10}  {:>9}  {:>9}{}\n", layer_text(l.layer), l.shown_role,
                 role_width, figure(f.cosine, 6), figure(f.pearson, 6), figure(f.rel_l2, 6),
                 figure(100.0 * f.bitwise_equal_fraction, 2), p, flags);
    }
  }
  fmt::print(out, "{} tensor pairs compared ({} elements); {} tensors of A and {} of B unpaired.\n",
             report.tensors.size(), report.compared_elements, report.unpaired_a, report.unpaired_b);
  const std::size_t shown = std::min<std::size_t>(report.unpaired.size(), 20);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& u = report.unpaired[i];
    fmt::print(out, "  unpaired {} {}: {}\n", static_cast<char>(u.side - 'a' + 'A'), printable(u.name),
               printable(u.reason));
  }
  if (shown < report.unpaired.size())
    fmt::print(out, "  ... and {} more (see report.json \"unpaired\")\n", report.unpaired.size() - shown);
  if (report.tensors_with_nonfinite > 0)
    fmt::print(out,
               "{} tensor pairs hold NaN or Inf values; element pairs with a non-finite value are left "
               "out of the figures (counts per tensor: nonfinite_a, nonfinite_b).\n",
               report.tensors_with_nonfinite);
  fmt::print(out,
             "p: each tensor pair's own test against the draws of its unit's symmetry (n/a: no axis whose labels are "
             "arbitrary, or no usable null); the verdict combines the {} units.\n",
             report.evidence.verdict.units);
  const auto& v = report.evidence.verdict;
  fmt::print(out, "\n{}\n", verdict_headline(v.label, v.p_global, v.alpha));
  if (!v.carried_by.empty()) fmt::print(out, "  Carried by: {}.\n", printable(fmt::format("{}", fmt::join(v.carried_by, ", "))));
  for (const auto& line : v.evidence) fmt::print(out, "  - {}\n", printable(line));
  for (const auto& note : v.notes) fmt::print(out, "  Note: {}\n", printable(note));
  fmt::print(out, "  Not tested: {}.\n", printable(fmt::format("{}", fmt::join(v.invariances_not_tested, "; "))));
}

}  // namespace lineage
