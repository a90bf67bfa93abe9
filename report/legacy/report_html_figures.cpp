// report.html: Pearson and cosine over layers with their null bands, the layer × layer heatmaps, the null histograms.
#include "report/legacy/report_html_sections.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "report/legacy/document_fields.hpp"
#include "report/svg_chart.hpp"
#include "report/verdict_wording.hpp"

namespace lineage::legacy_html {

using namespace legacy_document;  // NOLINT: the field readers every section uses

namespace {

// The tensor pair of (role, layer) whose null bands the role's curve: the first of that key that
// has a usable null (the non-expert one, or expert 0's).
std::map<std::pair<std::string, long long>, const json*> tensors_by_role_layer(const json& tensors) {
  std::map<std::pair<std::string, long long>, const json*> out;
  for (const auto& t : tensors) {
    if (!at(t, "layer").is_number_integer()) continue;
    const auto key = std::make_pair(str(t, "role"), at(t, "layer").get<long long>());
    if (!out.contains(key) && flag(at(t, "null"), "available")) out[key] = &t;
  }
  return out;
}

}  // namespace

std::string layer_curves_section(const json& report) {
  const json& roles = at(report, "roles");
  const auto by_key = tensors_by_role_layer(at(report, "tensors"));
  std::map<std::string, const json*> cross;
  for (const auto& c : at(at(report, "layer_structure"), "cross_layer"))
    if (flag(c, "available")) cross[str(c, "role")] = &c;
  std::string figures;
  int drawn = 0;
  if (roles.is_object())
    for (const auto& [role, rows] : roles.items()) {
      std::vector<double> x, pearson, cosine, p_lo, p_hi, c_lo, c_hi;
      for (const auto& row : rows) {
        if (!at(row, "layer").is_number_integer()) continue;
        const long long layer = at(row, "layer").get<long long>();
        x.push_back(static_cast<double>(layer));
        pearson.push_back(num(row, "pearson"));
        cosine.push_back(num(row, "cosine"));
        const auto it = by_key.find({role, layer});
        const json& null = it == by_key.end() ? json() : at(*it->second, "null");
        p_lo.push_back(num(at(null, "pearson"), "q01"));
        p_hi.push_back(num(at(null, "pearson"), "q99"));
        c_lo.push_back(num(at(null, "cosine"), "q01"));
        c_hi.push_back(num(at(null, "cosine"), "q99"));
      }
      if (x.size() < 2) continue;
      std::vector<svg::band> bands = {{"cosine null 1–99 %", x, c_lo, c_hi, cosine_colour, false},
                                      {"Pearson null 1–99 %", x, p_lo, p_hi, pearson_colour, false}};
      std::string caption = "Permutation null of each layer's tensor pair shaded";
      if (const auto c = cross.find(role); c != cross.end()) {
        const double m = num(*c->second, "off_diagonal_mean"), sd = num(*c->second, "off_diagonal_sd");
        if (std::isfinite(m) && std::isfinite(sd)) {
          bands.push_back({"cross-layer null", x, std::vector<double>(x.size(), m - 2.326 * sd),
                           std::vector<double>(x.size(), m + 2.326 * sd), cross_colour, true});
          caption += "; dashed: Pearson of other layers' pairs (the cross-layer null, off-diagonal mean ± 2.33 sd)";
        }
      }
      figures += "<figure>" +
                 svg::line_chart(role, "layer", "similarity", bands,
                                 {{"Pearson", x, pearson, pearson_colour, false}, {"raw cosine", x, cosine, cosine_colour, true}}) +
                 "<figcaption>" + e(caption) +
                 ". A raw cosine near 1 inside its own null band is the LayerNorm illusion: unrelated weights score "
                 "it too.</figcaption></figure>";
      ++drawn;
    }
  if (drawn == 0) return "<h2 id=\"layers\">Layer by layer</h2><p>No role has tensors in two or more layers.</p>";
  return "<h2 id=\"layers\">Layer by layer: Pearson and raw cosine beside their nulls</h2><div class=\"figures\">" +
         figures + "</div>";
}

std::string heatmaps_section(const json& report) {
  const json& structure = at(report, "layer_structure");
  std::string figures;
  std::size_t drawn = 0, skipped = 0;
  for (const auto& c : at(structure, "cross_layer")) {
    if (!flag(c, "available")) continue;
    if (drawn == max_heatmaps) {
      ++skipped;
      continue;
    }
    std::size_t rows = 0, cols = 0;
    const auto values = flatten(at(c, "pearson"), rows, cols);
    if (rows == 0 || cols == 0) continue;
    const double extent = symmetric_extent(values);
    // The diagonal: cells whose A and B layers have the same index.
    std::vector<std::pair<std::size_t, std::size_t>> diagonal;
    const auto layers_a = ints(at(c, "layers_a")), layers_b = ints(at(c, "layers_b"));
    for (std::size_t i = 0; i < layers_a.size() && i < rows; ++i)
      for (std::size_t j = 0; j < layers_b.size() && j < cols; ++j)
        if (layers_a[i] == layers_b[j]) diagonal.emplace_back(i, j);
    figures += "<figure>" +
               svg::heatmap(str(c, "role") + ": Pearson, layer of A × layer of B", values, rows, cols, "layer of A",
                            "layer of B", -extent, extent, diagonal, names(at(c, "layers_a")), names(at(c, "layers_b"))) +
               fmt::format("<figcaption>Diagonal outlined. Diagonal mean {} against off-diagonal {} (sd {}); "
                           "layer-label permutation p = {} ({} permutations).</figcaption></figure>",
                           fixed(num(c, "diagonal_mean")), fixed(num(c, "off_diagonal_mean")),
                           fixed(num(c, "off_diagonal_sd")), pval(num(c, "p_value")), layer_text(at(c, "permutations")));
    ++drawn;
  }
  const json& depth = at(structure, "depth_alignment");
  if (flag(depth, "available")) {
    std::size_t rows = 0, cols = 0;
    const auto values = flatten(at(depth, "similarity"), rows, cols);
    std::vector<std::pair<std::size_t, std::size_t>> marks;
    const auto matched = ints(at(depth, "matched_a"));
    for (std::size_t j = 0; j < matched.size(); ++j)
      if (matched[j] >= 0 && static_cast<std::size_t>(matched[j]) < rows) marks.emplace_back(matched[j], j);
    const double extent = symmetric_extent(values);
    if (rows > 0 && cols > 0)
      figures += "<figure>" +
                 svg::heatmap("depth alignment: mean Pearson, layer of A × layer of B", values, rows, cols, "layer of A",
                              "layer of B", -extent, extent, marks, names(at(depth, "layers_a")),
                              names(at(depth, "layers_b"))) +
                 fmt::format("<figcaption>Outlined: the monotone alignment of B's layers to A's (score {}, z = {}, p = "
                             "{}; identity: {}).</figcaption></figure>",
                             fixed(num(depth, "score")), fixed(num(depth, "z"), 2), pval(num(depth, "p_value")),
                             flag(depth, "is_identity") ? "yes" : "no");
  }
  if (figures.empty()) return "";
  std::string out = "<h2 id=\"heatmaps\">Layer × layer matrices</h2><div class=\"figures\">" + figures + "</div>";
  if (skipped > 0) out += fmt::format("<p>{} more roles' matrices are in report.h5 (/cross_layer).</p>", skipped);
  return out;
}

std::string histograms_section(const report_document& document) {
  const json& tensors = at(document.report, "tensors");
  // Per role the pair with the smallest p (the strongest evidence), in role order.
  std::map<std::string, std::size_t> chosen;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (document.pearson_null.at(i).empty()) continue;
    const std::string role = str(tensors[i], "role");
    const auto it = chosen.find(role);
    if (it == chosen.end() || num(tensors[i], "p_value") < num(tensors[it->second], "p_value")) chosen[role] = i;
  }
  if (chosen.empty()) return "";
  std::string figures;
  std::size_t drawn = 0;
  for (const auto& [role, i] : chosen) {
    if (drawn++ == max_histograms) break;
    const json& t = tensors[i];
    const json& null = at(t, "null");
    figures += "<figure>" +
               svg::histogram(fmt::format("{} (layer {})", role, layer_text(at(t, "layer"))), document.pearson_null[i],
                              num(t, "pearson"), "Pearson of A against row-/element-permuted B") +
               fmt::format("<figcaption>{}: observed Pearson {} (raw cosine {}); null mean {}, 99th pct {}; p = {} "
                           "from {} permutations.</figcaption></figure>",
                           e(str(t, "a")), fixed(num(t, "pearson")), fixed(num(t, "cosine")),
                           fixed(num(at(null, "pearson"), "mean")), fixed(num(at(null, "pearson"), "q99")),
                           pval(num(t, "p_value")), layer_text(at(null, "permutations")));
  }
  std::string out = "<h2 id=\"nulls\">Null distributions</h2><p>Per role, the tensor pair with the smallest p: its "
                    "permutation null (what unrelated weights of the same values score) and the observed value.</p>"
                    "<div class=\"figures\">" +
                    figures + "</div>";
  if (chosen.size() > max_histograms)
    out += fmt::format("<p>{} more roles' nulls are in report.h5 (/nulls).</p>", chosen.size() - max_histograms);
  return out;
}

}  // namespace lineage::legacy_html
