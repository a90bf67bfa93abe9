// report.html: Pearson and cosine over layers with their null bands, the layer × layer heatmaps, the null histograms.
#include "report/report_html_sections.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "report/number_text.hpp"
#include "report/svg_chart.hpp"

namespace lineage::html {

using namespace number_text;  // NOLINT: the number formats every section uses

namespace {

// The tensor pair of (role, layer) whose null bands the role's curve: the first of that key that
// has a usable null (the non-expert one, or expert 0's).
std::map<std::pair<std::string, int>, const tensor_result*> tensors_by_role_layer(
    const std::vector<tensor_result>& tensors) {
  std::map<std::pair<std::string, int>, const tensor_result*> out;
  for (const tensor_result& t : tensors) {
    if (t.pair.key.layer < 0) continue;
    const auto key = std::make_pair(t.pair.key.role, t.pair.key.layer);
    if (!out.contains(key) && t.null.available) out[key] = &t;
  }
  return out;
}

// One role's curves over its layers (none when it has fewer than two).
std::string role_figure(const role_table& table,
                        const std::map<std::pair<std::string, int>, const tensor_result*>& by_key,
                        const cross_layer_figures* cross) {
  std::vector<double> x, pearson, cosine, p_lo, p_hi, c_lo, c_hi;
  for (const role_layer& row : table.layers) {
    if (row.layer < 0) continue;
    x.push_back(static_cast<double>(row.layer));
    pearson.push_back(finite_or_nan(row.figures.pearson));
    cosine.push_back(finite_or_nan(row.figures.cosine));
    const auto it = by_key.find({table.role, row.layer});
    const null_figures* null = it == by_key.end() ? nullptr : &it->second->null;
    p_lo.push_back(null ? finite_or_nan(null->pearson.q01) : nan);
    p_hi.push_back(null ? finite_or_nan(null->pearson.q99) : nan);
    c_lo.push_back(null ? finite_or_nan(null->cosine.q01) : nan);
    c_hi.push_back(null ? finite_or_nan(null->cosine.q99) : nan);
  }
  if (x.size() < 2) return "";
  std::vector<svg::band> bands = {{"cosine null 1–99 %", x, c_lo, c_hi, cosine_colour, false},
                                  {"Pearson null 1–99 %", x, p_lo, p_hi, pearson_colour, false}};
  std::string caption = "Permutation null of each layer's tensor pair shaded";
  if (cross != nullptr) {
    const double m = cross->off_diagonal_mean, sd = cross->off_diagonal_sd;
    if (std::isfinite(m) && std::isfinite(sd)) {
      bands.push_back({"cross-layer null", x, std::vector<double>(x.size(), m - 2.326 * sd),
                       std::vector<double>(x.size(), m + 2.326 * sd), cross_colour, true});
      caption += "; dashed: Pearson of other layers' pairs (the cross-layer null, off-diagonal mean ± 2.33 sd)";
    }
  }
  return "<figure>" +
         svg::line_chart(table.role, "layer", "similarity", bands,
                         {{"Pearson", x, pearson, pearson_colour, false}, {"raw cosine", x, cosine, cosine_colour, true}}) +
         "<figcaption>" + e(caption) +
         ". A raw cosine near 1 inside its own null band is the LayerNorm illusion: unrelated weights score "
         "it too.</figcaption></figure>";
}

// The cells of a layer × layer matrix whose A and B layers have the same index.
std::vector<std::pair<std::size_t, std::size_t>> diagonal_cells(const cross_layer_figures& c, const matrix_view& m) {
  std::vector<std::pair<std::size_t, std::size_t>> diagonal;
  for (std::size_t i = 0; i < c.layers_a.size() && i < m.rows; ++i)
    for (std::size_t j = 0; j < c.layers_b.size() && j < m.cols; ++j)
      if (c.layers_a[i] == c.layers_b[j]) diagonal.emplace_back(i, j);
  return diagonal;
}

std::string depth_figure(const depth_alignment& depth) {
  const matrix_view m = matrix_of(depth.similarity, depth.layers_b.size());
  std::vector<std::pair<std::size_t, std::size_t>> marks;
  for (std::size_t j = 0; j < depth.matched_a.size(); ++j)
    if (depth.matched_a[j] >= 0 && static_cast<std::size_t>(depth.matched_a[j]) < m.rows)
      marks.emplace_back(depth.matched_a[j], j);
  const double extent = symmetric_extent(m.values);
  if (m.rows == 0 || m.cols == 0) return "";
  return "<figure>" +
         svg::heatmap("depth alignment: mean Pearson, layer of A × layer of B", m.values, m.rows, m.cols, "layer of A",
                      "layer of B", -extent, extent, marks, names(depth.layers_a), names(depth.layers_b)) +
         fmt::format("<figcaption>Outlined: the monotone alignment of B's layers to A's (score {}, z = {}, p = "
                     "{}; identity: {}).</figcaption></figure>",
                     fixed(depth.score), fixed(depth.z, 2), pval(depth.p_value), depth.is_identity ? "yes" : "no");
}

}  // namespace

std::string layer_curves_section(const comparison_report& report) {
  const auto by_key = tensors_by_role_layer(report.tensors);
  std::map<std::string, const cross_layer_figures*> cross;
  for (const cross_layer_figures& c : report.cross_layers)
    if (c.available) cross[c.role] = &c;
  std::string figures;
  for (const role_table& table : report.roles) {
    const auto c = cross.find(table.role);
    figures += role_figure(table, by_key, c == cross.end() ? nullptr : c->second);
  }
  if (figures.empty()) return "<h2 id=\"layers\">Layer by layer</h2><p>No role has tensors in two or more layers.</p>";
  return "<h2 id=\"layers\">Layer by layer: Pearson and raw cosine beside their nulls</h2><div class=\"figures\">" +
         figures + "</div>";
}

std::string heatmaps_section(const std::vector<cross_layer_figures>& cross_layers, const depth_alignment& depth) {
  std::string figures;
  std::size_t drawn = 0, skipped = 0;
  for (const cross_layer_figures& c : cross_layers) {
    if (!c.available) continue;
    if (drawn == max_heatmaps) {
      ++skipped;
      continue;
    }
    const matrix_view m = matrix_of(c.pearson, c.layers_b.size());
    if (m.rows == 0 || m.cols == 0) continue;
    const double extent = symmetric_extent(m.values);
    figures += "<figure>" +
               svg::heatmap(c.role + ": Pearson, layer of A × layer of B", m.values, m.rows, m.cols, "layer of A",
                            "layer of B", -extent, extent, diagonal_cells(c, m), names(c.layers_a), names(c.layers_b)) +
               fmt::format("<figcaption>Diagonal outlined. Diagonal mean {} against off-diagonal {} (sd {}); "
                           "layer-label permutation p = {} ({} permutations).</figcaption></figure>",
                           fixed(c.diagonal_mean), fixed(c.off_diagonal_mean), fixed(c.off_diagonal_sd),
                           pval(c.p_value), c.permutations);
    ++drawn;
  }
  if (depth.available) figures += depth_figure(depth);
  if (figures.empty()) return "";
  std::string out = "<h2 id=\"heatmaps\">Layer × layer matrices</h2><div class=\"figures\">" + figures + "</div>";
  if (skipped > 0) out += fmt::format("<p>{} more roles' matrices are in report.h5 (/cross_layer).</p>", skipped);
  return out;
}

std::string histograms_section(const std::vector<tensor_result>& tensors,
                               const std::vector<std::vector<double>>& pearson_null) {
  // report.json's p_value of a pair: NaN when its null is not available.
  const auto p_of = [&](std::size_t i) { return finite_or_nan(when(tensors[i].null.available, tensors[i].null.p_value)); };
  // Per role the pair with the smallest p (the strongest evidence), in role order.
  std::map<std::string, std::size_t> chosen;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    if (pearson_null.at(i).empty()) continue;
    const std::string& role = tensors[i].pair.key.role;
    const auto it = chosen.find(role);
    if (it == chosen.end() || p_of(i) < p_of(it->second)) chosen[role] = i;
  }
  if (chosen.empty()) return "";
  std::string figures;
  std::size_t drawn = 0;
  for (const auto& [role, i] : chosen) {
    if (drawn++ == max_histograms) break;
    const tensor_result& t = tensors[i];
    const bool available = t.null.available;
    figures += "<figure>" +
               svg::histogram(fmt::format("{} (layer {})", role, index_text(t.pair.key.layer)), pearson_null[i],
                              finite_or_nan(t.figures.pearson), "Pearson of A against row-/element-permuted B") +
               fmt::format("<figcaption>{}: observed Pearson {} (raw cosine {}); null mean {}, 99th pct {}; p = {} "
                           "from {} permutations.</figcaption></figure>",
                           e(t.pair.a.name), fixed(t.figures.pearson), fixed(t.figures.cosine),
                           fixed(when(available, t.null.pearson.mean)), fixed(when(available, t.null.pearson.q99)),
                           pval(p_of(i)), available ? std::to_string(t.null.permutations) : "–");
  }
  std::string out = "<h2 id=\"nulls\">Null distributions</h2><p>Per role, the tensor pair with the smallest p: its "
                    "permutation null (what unrelated weights of the same values score) and the observed value.</p>"
                    "<div class=\"figures\">" +
                    figures + "</div>";
  if (chosen.size() > max_histograms)
    out += fmt::format("<p>{} more roles' nulls are in report.h5 (/nulls).</p>", chosen.size() - max_histograms);
  return out;
}

}  // namespace lineage::html
