#include "reduce/report_html.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "reduce/document_fields.hpp"
#include "reduce/svg_chart.hpp"
#include "reduce/verdict_wording.hpp"

namespace lineage {
namespace {

using json = nlohmann::json;
using namespace document;  // NOLINT: the field readers every section uses
constexpr double nan = std::numeric_limits<double>::quiet_NaN();
constexpr const char* pearson_colour = "#1f5fbf";
constexpr const char* cosine_colour = "#d9730d";
constexpr const char* cross_colour = "#555555";
// Beyond these a section shows the first rows and says how many it left out (the data is in
// report.h5 and report.json in full).
constexpr std::size_t max_histograms = 16, max_heatmaps = 24, max_expert_layers = 8, max_unpaired_rows = 2000;

std::string e(const std::string& text) { return svg::escape(text); }
std::string layer_text(const json& j) { return integer_text(j); }
std::string shape_text(const json& j) {
  if (!j.is_array()) return "–";
  std::string s;
  for (const auto& d : j) s += (s.empty() ? "" : " × ") + (d.is_number() ? std::to_string(d.get<long long>()) : "?");
  return s;
}
// The colour range of a heatmap: symmetric about 0, at least ±0.05 so that noise stays pale.
double symmetric_extent(const std::vector<double>& values) {
  double extent = 0.05;
  for (double v : values)
    if (std::isfinite(v)) extent = std::max(extent, std::fabs(v));
  return extent;
}
std::vector<std::string> names(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& v : j) out.push_back(v.is_number_integer() ? std::to_string(v.get<long long>()) : std::string("?"));
  return out;
}
std::vector<int> ints(const json& j) {
  std::vector<int> out;
  if (j.is_array())
    for (const auto& v : j) out.push_back(v.is_number_integer() ? v.get<int>() : -1);
  return out;
}
// A matrix stored as a list of rows.
std::vector<double> flatten(const json& rows, std::size_t& r, std::size_t& c) {
  std::vector<double> out;
  r = rows.is_array() ? rows.size() : 0;
  c = r > 0 && rows[0].is_array() ? rows[0].size() : 0;
  for (std::size_t i = 0; i < r; ++i)
    for (std::size_t k = 0; k < c; ++k) out.push_back(rows[i].is_array() && k < rows[i].size() ? num(rows[i][k]) : nan);
  return out;
}

constexpr const char* style = R"css(
:root { --ink: #1b1b1b; --muted: #5b5b5b; --line: #d7d7d7; --soft: #f5f5f3; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink);
       max-width: 1180px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 20px; margin: 34px 0 8px; border-bottom: 1px solid var(--line);
  padding-bottom: 4px; } h3 { font-size: 16px; margin: 18px 0 6px; }
.sub { color: var(--muted); margin: 0 0 16px; word-break: break-all; }
.banner { border-radius: 8px; padding: 16px 20px; margin: 16px 0 10px; border: 2px solid; }
.banner h2 { border: 0; margin: 0 0 6px; padding: 0; font-size: 22px; }
.banner.derived, .banner.identical { background: #fdecea; border-color: #b2182b; }
.banner.none { background: #eaf3fb; border-color: #2166ac; }
.banner.inconclusive { background: #fff7e0; border-color: #b8860b; }
.banner ul { margin: 8px 0 0 0; padding-left: 20px; } .banner li { margin: 3px 0; }
.meaning { font-weight: 600; }
.note { background: var(--soft); border-left: 4px solid #b8860b; padding: 6px 10px; margin: 6px 0; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 14px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px; background: #fff;
         break-inside: avoid; page-break-inside: avoid; }
figcaption { color: var(--muted); font-size: 13px; padding: 2px 6px 4px; }
svg.chart { width: 100%; height: auto; display: block; }
svg .chart-title { font-size: 13px; font-weight: 600; fill: var(--ink); }
svg .tick, svg .legend { font-size: 11px; fill: #333; } svg .axis { font-size: 12px; fill: #333; }
svg .plot { fill: #fbfbfb; stroke: #bbb; } svg .grid { stroke: #e4e4e4; }
svg .bar { fill: #8da9c4; } svg .dot { fill: #1f5fbf; fill-opacity: 0.7; }
svg .observed { stroke: #b2182b; fill: #b2182b; stroke-width: 2; } svg .observed-label { fill: #b2182b; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0 12px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: var(--soft); position: sticky; top: 0; cursor: pointer; user-select: none; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.scroll { max-height: 560px; overflow: auto; border: 1px solid var(--line); }
.sig { color: #b2182b; font-weight: 600; }
pre { background: var(--soft); padding: 8px; overflow: auto; font-size: 12px; white-space: pre-wrap; word-break: break-all; }
details > summary { cursor: pointer; color: var(--muted); }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  .scroll { max-height: none; overflow: visible; border: 0; }
  th { position: static; } h2 { break-after: avoid; } .figures { grid-template-columns: 1fr 1fr; }
  details { display: block; } details > summary { display: none; }
}
)css";

// Sorts a table by the clicked column (numbers as numbers); the page is complete without it.
constexpr const char* sorter = R"js(
window.addEventListener("error", function () {
  document.body.setAttribute("data-script-errors", String(Number(document.body.getAttribute("data-script-errors") || 0) + 1));
});
document.querySelectorAll("table.sortable").forEach(function (table) {
  table.querySelectorAll("th").forEach(function (th, column) {
    th.title = "sort by this column";
    th.addEventListener("click", function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var ascending = th.dataset.order !== "asc";
      th.dataset.order = ascending ? "asc" : "desc";
      var key = function (row) {
        var text = row.cells[column] ? row.cells[column].textContent : "";
        var value = parseFloat(text);
        return isNaN(value) ? text : value;
      };
      rows.sort(function (x, y) {
        var a = key(x), b = key(y);
        if (typeof a === typeof b) return (a < b ? -1 : a > b ? 1 : 0) * (ascending ? 1 : -1);
        return typeof a === "number" ? -1 : 1;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
document.body.setAttribute("data-sortable-tables", String(document.querySelectorAll("table.sortable").length));
)js";

std::string banner_class(const std::string& label) {
  if (label == "derived" || label == "identical") return "derived";
  if (label == "no evidence of derivation") return "none";
  return "inconclusive";
}

std::string list_items(const json& items) {
  std::string out;
  if (items.is_array())
    for (const auto& item : items)
      if (item.is_string()) out += "<li>" + e(item.get<std::string>()) + "</li>";
  return out;
}

std::string verdict_section(const json& report) {
  const json& v = at(report, "verdict");
  const std::string label = str(v, "label");
  std::string out = fmt::format("<section class=\"banner {}\" id=\"verdict\"><h2>{}</h2><p class=\"meaning\">{}</p>",
                                banner_class(label), e(verdict_headline(label, num(v, "p_global"), num(v, "alpha"))),
                                e(verdict_meaning(label)));
  std::string carried;
  for (const auto& c : at(v, "carried_by")) carried += (carried.empty() ? "" : ", ") + (c.is_string() ? c.get<std::string>() : "");
  if (!carried.empty()) out += "<p>Carried by: " + e(carried) + ".</p>";
  out += "<ul>" + list_items(at(v, "evidence")) + "</ul>";
  for (const auto& note : at(v, "notes"))
    if (note.is_string()) out += "<p class=\"note\">Note: " + e(note.get<std::string>()) + "</p>";
  std::string untested;
  for (const auto& c : at(v, "invariances_not_tested"))
    untested += (untested.empty() ? "" : "; ") + (c.is_string() ? c.get<std::string>() : "");
  if (!untested.empty()) out += "<p>Not tested: " + e(untested) + ".</p>";
  out += "<details><summary>Invariances tested</summary><ul>" + list_items(at(v, "invariances_tested")) +
         "</ul></details></section>";
  return out;
}

std::string summary_section(const json& report) {
  const json& s = at(report, "summary");
  const json& a = at(at(report, "models"), "a");
  const json& b = at(at(report, "models"), "b");
  return fmt::format(
      "<table><tbody><tr><th>model A</th><td>{}</td><td>{}</td><td class=\"n\">{} tensors</td></tr>"
      "<tr><th>model B</th><td>{}</td><td>{}</td><td class=\"n\">{} tensors</td></tr></tbody></table>"
      "<p>{} tensor pairs compared ({} element pairs); {} tensors of A and {} of B without a partner; {} pairs with "
      "non-finite values. Every similarity below is shown beside its null: what unrelated weights score.</p>",
      e(str(a, "path")), e(str(a, "model_type")), layer_text(at(a, "tensor_count")), e(str(b, "path")),
      e(str(b, "model_type")), layer_text(at(b, "tensor_count")), layer_text(at(s, "tensor_pairs")),
      layer_text(at(s, "compared_elements")), layer_text(at(s, "unpaired_a")), layer_text(at(s, "unpaired_b")),
      layer_text(at(s, "tensors_with_nonfinite")));
}

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

std::string matching_section(const json& report) {
  std::string out;
  for (const auto& h : at(report, "hidden_matching")) {
    if (!flag(h, "available")) continue;
    const auto combined = ints(at(h, "combined"));
    out += "<div class=\"figures\"><figure>" +
           svg::matching_plot("hidden dimensions: B's dimension matched to each of A's", combined,
                              static_cast<std::size_t>(std::max(0.0, num(h, "hidden_b"))), "dimension of A", "dimension of B") +
           fmt::format("<figcaption>Matched on {} (|Pearson|, two halves of the rows); Spearman of the two matchings {} "
                       "over {} dimensions, p = {}; {} moved; mean |Pearson| of the matched columns {}.</figcaption>"
                       "</figure></div>",
                       e(str(h, "role")), fixed(num(h, "spearman")), layer_text(at(h, "ranked")), pval(num(h, "p_value")),
                       layer_text(at(h, "moved")), fixed(num(h, "combined_similarity")));
  }
  std::string experts;
  std::size_t drawn = 0, more = 0;
  std::string expert_rows;
  for (const auto& m : at(report, "expert_matching")) {
    expert_rows += fmt::format("<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                               "class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                               layer_text(at(m, "layer")), flag(m, "available") ? "yes" : "no", fixed(num(m, "score")),
                               fixed(num(m, "identity_score")), pval(num(m, "p_value")), layer_text(at(m, "moved")),
                               e(str(m, "reason")));
    if (!flag(m, "available")) continue;
    if (drawn == max_expert_layers) {
      ++more;
      continue;
    }
    std::size_t rows = 0, cols = 0;
    const auto values = flatten(at(m, "similarity"), rows, cols);
    std::vector<std::pair<std::size_t, std::size_t>> marks;
    const auto matched = ints(at(m, "matched_b"));
    for (std::size_t i = 0; i < matched.size(); ++i)
      if (matched[i] >= 0) marks.emplace_back(i, static_cast<std::size_t>(matched[i]));
    const double extent = symmetric_extent(values);
    if (rows > 0 && cols > 0) {
      experts += "<figure>" +
                 svg::heatmap(fmt::format("layer {}: expert similarity, A × B", layer_text(at(m, "layer"))), values, rows,
                              cols, "expert of A", "expert of B", -extent, extent, marks, names(at(m, "experts_a")),
                              names(at(m, "experts_b"))) +
                 "<figcaption>Outlined: the optimal assignment.</figcaption></figure>";
      ++drawn;
    }
  }
  if (!experts.empty() || !expert_rows.empty()) {
    out += "<h3>Expert matching</h3>";
    if (!experts.empty()) out += "<div class=\"figures\">" + experts + "</div>";
    if (more > 0) out += fmt::format("<p>{} more layers' matrices are in report.h5 (/expert_matching).</p>", more);
    out += "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th class=\"n\">layer</th><th>matched</th><th "
           "class=\"n\">score</th><th class=\"n\">identity score</th><th class=\"n\">p</th><th class=\"n\">moved</th>"
           "<th>reason</th></tr></thead><tbody>" +
           expert_rows + "</tbody></table></div>";
  }
  const auto agreement_table = [&](const char* key, const char* title, const char* unit) {
    std::string rows;
    for (const auto& m : at(report, key))
      rows += fmt::format("<tr><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                          "class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td>{}</td></tr>",
                          layer_text(at(m, "layer")), flag(m, "available") ? "yes" : "no", layer_text(at(m, "ranked")),
                          fixed(num(m, "spearman")), pval(num(m, "p_value")), layer_text(at(m, "moved")),
                          at(m, "applied").is_boolean() ? (flag(m, "applied") ? "applied" : "not applied") : "",
                          e(str(m, "reason")));
    if (rows.empty()) return std::string();
    return fmt::format("<h3>{}</h3><div class=\"scroll\"><table class=\"sortable\"><thead><tr><th class=\"n\">layer</th>"
                       "<th>matched</th><th class=\"n\">{} ranked</th><th class=\"n\">Spearman</th><th class=\"n\">p</th>"
                       "<th class=\"n\">moved</th><th>order</th><th>reason</th></tr></thead><tbody>{}</tbody></table></div>",
                       title, unit, rows);
  };
  out += agreement_table("neuron_matching", "Neuron matching (MLPs)", "neurons");
  out += agreement_table("head_matching", "Head matching (attention layers)", "heads");
  if (out.empty()) return "";
  return "<h2 id=\"matching\">Alignment and matching</h2><p>A derivative may be disguised by permuting hidden "
         "dimensions, heads, neurons or experts; each is matched, and the matching is tested by the agreement of two "
         "independent matchings (Spearman) against a permutation null.</p>" +
         out;
}

std::string tokenizer_section(const json& report) {
  const json& t = at(report, "tokenizers");
  if (!flag(t, "available"))
    return "<h2 id=\"tokenizers\">Tokenizers</h2><p>" + e(str(t, "reason").empty() ? "No tokenizer comparison." : str(t, "reason")) + "</p>";
  const double size_a = num(t, "size_a"), size_b = num(t, "size_b"), shared = num(t, "shared");
  std::string out = "<h2 id=\"tokenizers\">Tokenizers</h2><div class=\"figures\"><figure>" +
                    svg::share_bars("vocabulary overlap", {{"shared / size of A", shared / size_a},
                                                           {"shared / size of B", shared / size_b},
                                                           {"Jaccard", num(t, "jaccard")},
                                                           {"same id / size of A", num(t, "same_id") / size_a}}) +
                    fmt::format("<figcaption>A: {} tokens, B: {}; {} shared, {} with the same id; merge-rank Spearman "
                                "{}.</figcaption></figure></div>",
                                fixed(size_a, 0), fixed(size_b, 0), fixed(shared, 0), fixed(num(t, "same_id"), 0),
                                fixed(num(t, "merge_rank_spearman")));
  if (!str(t, "note").empty()) out += "<p class=\"note\">" + e(str(t, "note")) + "</p>";
  return out;
}

std::string panel_section(const json& report) {
  const json& panel = at(report, "reference_panel");
  std::string comparisons;
  for (const auto& c : at(panel, "comparisons"))
    comparisons += fmt::format("<tr><td>model {}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                               e(str(c, "side") == "a" ? "A" : "B"), e(str(c, "reference")), e(str(c, "source")),
                               layer_text(at(c, "tensor_pairs")));
  std::string roles;
  for (const auto& r : at(panel, "roles"))
    roles += fmt::format("<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                         "class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                         e(str(r, "role")), fixed(num(r, "pearson")), fixed(num(r, "panel_pearson_mean")),
                         fixed(num(r, "panel_pearson_max")), fixed(num(r, "cosine")), fixed(num(r, "panel_cosine_max")),
                         pval(num(r, "p_value")));
  if (comparisons.empty() && roles.empty()) return "";
  std::string out = "<h2 id=\"panel\">Reference panel</h2><p>Comparisons of A and of B with models known to be "
                    "unrelated to both: what they score is a further null per role.</p>";
  if (!roles.empty())
    out += "<table class=\"sortable\"><thead><tr><th>role</th><th class=\"n\">A vs B Pearson</th><th class=\"n\">panel "
           "mean</th><th class=\"n\">panel max</th><th class=\"n\">A vs B raw cosine</th><th class=\"n\">panel max "
           "cosine</th><th class=\"n\">p</th></tr></thead><tbody>" +
           roles + "</tbody></table>";
  if (!comparisons.empty())
    out += "<table><thead><tr><th>side</th><th>reference</th><th>source</th><th class=\"n\">tensor pairs</th></tr>"
           "</thead><tbody>" +
           comparisons + "</tbody></table>";
  return out;
}

// The families (by unit kind, the panel, then the descriptive ones), and the layers (their units).
std::string families_section(const json& report) {
  std::string rows;
  for (const auto& f : at(report, "families")) {
    const bool descriptive = flag(f, "descriptive");
    rows += fmt::format("<tr><td>{}{}</td><td class=\"n\">{} {}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                        "class=\"n\">{} ({})</td><td class=\"n {}\">{}</td><td>{}</td></tr>",
                        e(str(f, "name")), descriptive ? " <small>(descriptive)</small>" : "",
                        layer_text(at(f, "tensors")), e(str(f, "unit")), fixed(num(f, "median_pearson")),
                        fixed(num(f, "mean_null_cosine")), pval(num(f, "p")), e(str(f, "method")),
                        flag(f, "significant") ? "sig" : "", descriptive ? std::string("—") : pval(num(f, "holm_sidak_p")),
                        e(str(f, "strongest")));
  }
  std::string layers;
  for (const auto& l : at(report, "layers"))
    layers += fmt::format("<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                          "class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                          e(str(l, "name")), layer_text(at(l, "tensors")), fixed(num(l, "median_pearson")),
                          fixed(num(l, "mean_cosine")), fixed(num(l, "mean_null_cosine")), pval(num(l, "p")));
  return "<h2 id=\"families\">Evidence by family and by layer</h2><p>A family is the units of one kind, "
         "combined by Fisher's method; descriptive families are shown but never carry the verdict.</p>"
         "<table class=\"sortable\"><thead><tr><th>family</th><th class=\"n\">combined</th><th class=\"n\">median "
         "Pearson</th><th class=\"n\">mean null cosine</th><th class=\"n\">p</th><th class=\"n\">Holm–Šidák p</th>"
         "<th>strongest</th></tr></thead><tbody>" +
         rows +
         "</tbody></table><div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>layer</th><th "
         "class=\"n\">units</th><th class=\"n\">median Pearson</th><th class=\"n\">mean raw cosine</th><th "
         "class=\"n\">mean null cosine</th><th class=\"n\">Fisher p</th></tr></thead><tbody>" +
         layers + "</tbody></table></div>";
}

// Every test unit: what it permutes, its draws, its p and the floor those draws allow.
std::string units_section(const json& report) {
  constexpr std::size_t shown = 2000;
  std::string rows;
  std::size_t count = 0;
  for (const auto& u : at(report, "units")) {
    if (++count > shown) continue;
    rows += fmt::format("<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
                        "class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                        e(str(u, "label")), e(str(u, "group")), layer_text(at(u, "used")),
                        layer_text(at(u, "permutations")), fixed(num(u, "z"), 1), pval(num(u, "p")),
                        pval(num(u, "p_floor")), e(flag(u, "available") ? str(u, "strongest") : str(u, "reason")));
  }
  if (count == 0) return "";
  const std::string more =
      count > shown ? fmt::format("<p>The first {} of {} units; report.json has all.</p>", shown, count) : "";
  return "<h2 id=\"units\">Test units</h2><p>Each unit is the tensors one symmetry of the architecture permutes, "
         "tested together under the same draws; its p never goes below 1/(K + 1). The global p is Fisher's "
         "method over the units.</p>" +
         more +
         "<div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>unit</th><th>group</th><th "
         "class=\"n\">tensors</th><th class=\"n\">K</th><th class=\"n\">z</th><th class=\"n\">p</th><th "
         "class=\"n\">floor</th><th>strongest, or why not</th></tr></thead><tbody>" +
         rows + "</tbody></table></div>";
}

std::string tensors_section(const json& report) {
  std::string rows;
  for (const auto& t : at(report, "tensors")) {
    const json& null = at(t, "null");
    rows += fmt::format(
        "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td "
        "class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td "
        "class=\"n\">{}</td><td>{}</td></tr>",
        e(str(t, "a")), layer_text(at(t, "layer")), e(str(t, "role")), layer_text(at(t, "expert")), e(shape_text(at(t, "shape"))),
        fixed(num(t, "cosine")), fixed(num(t, "pearson")), fixed(num(at(null, "pearson"), "q99")), fixed(num(null, "z"), 1),
        pval(num(t, "p_value")), fixed(num(t, "rel_l2")), fixed(num(t, "bitwise_equal_fraction"), 3), e(str(t, "pairing")));
  }
  return "<h2 id=\"tensors\">Every tensor pair</h2><p>Click a column to sort. p: the pair's own test against "
         "the draws of its unit's symmetry (the verdict combines the units); empty: not tested.</p><div class=\"scroll\"><table class=\"sortable\"><thead><tr><th>tensor "
         "(A)</th><th class=\"n\">layer</th><th>role</th><th class=\"n\">expert</th><th>shape</th><th class=\"n\">raw "
         "cosine</th><th class=\"n\">Pearson</th><th class=\"n\">null 99th pct</th><th class=\"n\">z</th><th "
         "class=\"n\">p</th><th class=\"n\">rel. L2</th><th class=\"n\">bitwise equal</th><th>pairing</th></tr></thead>"
         "<tbody>" +
         rows + "</tbody></table></div>";
}

std::string unpaired_section(const json& report) {
  const json& unpaired = at(report, "unpaired");
  if (!unpaired.is_array() || unpaired.empty()) return "";
  std::string rows;
  std::size_t shown = 0;
  for (const auto& u : unpaired) {
    if (shown++ == max_unpaired_rows) break;
    rows += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td></tr>", e(str(u, "side")), e(str(u, "name")),
                        e(str(u, "reason")));
  }
  std::string out = fmt::format("<h2 id=\"unpaired\">Tensors without a partner ({})</h2><div class=\"scroll\"><table "
                                "class=\"sortable\"><thead><tr><th>side</th><th>tensor</th><th>why</th></tr></thead><tbody>",
                                unpaired.size()) +
                    rows + "</tbody></table></div>";
  if (unpaired.size() > max_unpaired_rows)
    out += fmt::format("<p>The first {} are shown; all {} are in report.json and report.h5 (/unpaired).</p>",
                       max_unpaired_rows, unpaired.size());
  return out;
}

std::string manifest_section(const json& report) {
  const json& m = at(report, "manifest");
  std::string rows;
  for (const char* key : {"tool_version", "git_hash", "command_line", "start_time", "end_time", "host", "ranks", "kernel",
                          "block_elements"}) {
    const json& v = at(m, key);
    rows += fmt::format("<tr><th>{}</th><td>{}</td></tr>", key, e(v.is_string() ? v.get<std::string>() : v.dump()));
  }
  std::string rest;
  for (const auto& [key, value] : m.items())
    if (key != "config" && key != "rank_runs" && rows.find("<th>" + key + "</th>") == std::string::npos)
      rest += fmt::format("<h3>{}</h3><pre>{}</pre>", e(key), e(value.dump(2)));
  std::string ranks;
  for (const rank_run_row& row : rank_run_rows(m)) {
    ranks += "<tr>";
    for (std::size_t i = 0; i < std::size(row.cells); ++i)
      ranks += (i == 1 ? "<td>" : "<td class=\"n\">") + e(row.cells[i]) + "</td>";
    ranks += "</tr>";
  }
  if (!ranks.empty()) {
    std::string head;
    for (const char* heading : rank_run_headings) head += fmt::format("<th>{}</th>", heading);
    ranks = "<h3 id=\"rank-runs\">Time, bytes and memory per rank</h3><div class=\"scroll\"><table><thead><tr>" +
            head + "</tr></thead><tbody>" + ranks + "</tbody></table></div>";
  }
  return "<h2 id=\"manifest\">Manifest: how this report was made</h2><table><tbody>" + rows + "</tbody></table>" + ranks +
         "<details><summary>Configuration</summary><pre>" + e(at(m, "config").dump(2)) + "</pre></details>" +
         (rest.empty() ? "" : "<details><summary>More</summary>" + rest + "</details>");
}

}  // namespace

std::string report_html(const report_document& document) {
  const json& report = document.report;
  const json& models = at(report, "models");
  const std::string a = str(at(models, "a"), "path"), b = str(at(models, "b"), "path");
  std::string page = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                     "<title>lineage: " +
                     e(a) + " vs " + e(b) + "</title><style>" + style + "</style></head><body>";
  page += "<h1>Were model B's weights derived from model A's?</h1><p class=\"sub\">A: " + e(a) + "<br>B: " + e(b) +
          "</p>";
  page += verdict_section(report);
  page += summary_section(report);
  page += layer_curves_section(report);
  page += heatmaps_section(report);
  page += histograms_section(document);
  page += matching_section(report);
  page += tokenizer_section(report);
  page += panel_section(report);
  page += families_section(report);
  page += units_section(report);
  page += tensors_section(report);
  page += unpaired_section(report);
  page += manifest_section(report);
  page += std::string("<script>") + sorter + "</script></body></html>\n";
  return page;
}

}  // namespace lineage
