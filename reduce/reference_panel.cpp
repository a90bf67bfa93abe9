#include "reduce/reference_panel.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "core/error.hpp"
#include "h5/h5_reader.hpp"
#include "reduce/report_model.hpp"

namespace lineage {
namespace {

double median_of(std::vector<double> values) {
  values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }),
               values.end());
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  const std::size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : 0.5 * (values[middle - 1] + values[middle]);
}

// role → the medians of Pearson and cosine over the role's tensor pairs, and their count.
struct role_medians {
  double pearson = NAN, cosine = NAN;
  std::size_t count = 0;
};

std::map<std::string, role_medians> medians_by_role(const std::vector<panel_tensor>& tensors) {
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> values;
  for (const auto& t : tensors) {
    values[t.role].first.push_back(t.pearson);
    values[t.role].second.push_back(t.cosine);
  }
  std::map<std::string, role_medians> out;
  for (const auto& [role, pair] : values) out[role] = {median_of(pair.first), median_of(pair.second), pair.first.size()};
  return out;
}

// The model description a report.h5 keeps of one of its models.
struct reported_model {
  std::string path, config_json;
  std::vector<std::string> files;
  std::vector<std::int64_t> sizes;
};

reported_model read_model(const h5_reader& file, const std::string& group) {
  reported_model m;
  m.path = file.string_attribute(group, "path");
  m.config_json = file.string_attribute(group, "config_json");
  m.files = file.strings(group + "/files");
  m.sizes = file.integers(group + "/file_sizes");
  return m;
}

// Same model: the same config.json and the same files (by name) of the same sizes. Paths differ
// between the jobs of an array run from different directories, so they are not compared.
bool same_model(const reported_model& m, const model_description& d) {
  if (m.config_json != d.config_json || m.files.size() != d.files.size()) return false;
  for (std::size_t i = 0; i < m.files.size(); ++i)
    if (std::filesystem::path(m.files[i]).filename() != std::filesystem::path(d.files[i]).filename() ||
        m.sizes[i] != static_cast<std::int64_t>(d.file_sizes[i]))
      return false;
  return true;
}

}  // namespace

panel_comparison panel_from_report(const comparison_report& report, char side, std::string source) {
  panel_comparison panel;
  panel.side = side;
  panel.reference = report.model_b.path;
  panel.source = std::move(source);
  for (const auto& t : report.tensors)
    panel.tensors.push_back({t.pair.key.role, t.pair.key.layer, t.figures.pearson, t.figures.cosine});
  return panel;
}

panel_comparison read_panel_report(const std::filesystem::path& path, const model_description& a,
                                   const model_description& b) {
  const h5_reader file = h5_reader::open(path);
  if (!file.exists("/manifest") || file.string_attribute("/", "format") != "lineage-report")
    throw input_error(fmt::format("{}: not a lineage report (no format attribute 'lineage-report')", file.label()));
  const reported_model first = read_model(file, "/manifest/model_a");
  const reported_model second = read_model(file, "/manifest/model_b");
  panel_comparison panel;
  panel.source = path.string();
  // The compared model may stand on either side of the panel report; the other is the reference.
  const auto pick = [&](const reported_model& reference, char side) {
    panel.side = side;
    panel.reference = reference.path;
  };
  if (same_model(first, a) && !same_model(second, b))
    pick(second, 'a');
  else if (same_model(second, a) && !same_model(first, b))
    pick(first, 'a');
  else if (same_model(first, b) && !same_model(second, a))
    pick(second, 'b');
  else if (same_model(second, b) && !same_model(first, a))
    pick(first, 'b');
  else
    throw input_error(fmt::format(
        "{}: a panel report must compare model A ({}) or model B ({}) with a third model, but it compares "
        "{} with {}",
        file.label(), a.path, b.path, first.path, second.path));
  const auto roles = file.strings("/tensors/role");
  const auto layers = file.integers("/tensors/layer");
  const auto pearson = file.doubles("/tensors/pearson");
  const auto cosine = file.doubles("/tensors/cosine");
  if (layers.size() != roles.size() || pearson.size() != roles.size() || cosine.size() != roles.size())
    throw input_error(fmt::format("{}: /tensors columns role, layer, pearson and cosine differ in length",
                                  file.label()));
  for (std::size_t i = 0; i < roles.size(); ++i) {
    if (std::isfinite(pearson[i]) && std::fabs(pearson[i]) > 1 + 1e-9)
      throw input_error(fmt::format("{}: /tensors/pearson[{}] = {} is not a correlation", file.label(), i, pearson[i]));
    panel.tensors.push_back({roles[i], static_cast<int>(layers[i]), pearson[i], cosine[i]});
  }
  return panel;
}

panel_figures assess_panel(const comparison_report& report, std::vector<panel_comparison> comparisons) {
  panel_figures figures;
  figures.comparisons = std::move(comparisons);
  std::vector<panel_tensor> pair_tensors;
  for (const auto& t : report.tensors)
    pair_tensors.push_back({t.pair.key.role, t.pair.key.layer, t.figures.pearson, t.figures.cosine});
  std::vector<std::map<std::string, role_medians>> panel_medians;
  for (const auto& c : figures.comparisons) panel_medians.push_back(medians_by_role(c.tensors));
  for (const auto& [role, observed] : medians_by_role(pair_tensors)) {
    if (!std::isfinite(observed.pearson)) continue;
    panel_role_figures r;
    r.role = role;
    r.layers = observed.count;
    r.pearson = observed.pearson;
    r.cosine = observed.cosine;
    for (const auto& medians : panel_medians) {
      const auto found = medians.find(role);
      if (found == medians.end() || !std::isfinite(found->second.pearson)) continue;
      r.panel_pearson.push_back(found->second.pearson);
      r.panel_cosine.push_back(found->second.cosine);
    }
    if (r.panel_pearson.empty()) continue;
    const double m = static_cast<double>(r.panel_pearson.size());
    double sum = 0, cosine_sum = 0;
    std::size_t at_least = 0;
    r.panel_pearson_max = -INFINITY;
    r.panel_cosine_max = -INFINITY;
    for (std::size_t k = 0; k < r.panel_pearson.size(); ++k) {
      sum += r.panel_pearson[k];
      cosine_sum += r.panel_cosine[k];
      r.panel_pearson_max = std::max(r.panel_pearson_max, r.panel_pearson[k]);
      r.panel_cosine_max = std::max(r.panel_cosine_max, r.panel_cosine[k]);
      at_least += r.panel_pearson[k] >= r.pearson;
    }
    r.panel_pearson_mean = sum / m;
    r.panel_cosine_mean = cosine_sum / m;
    double squares = 0;
    for (const double v : r.panel_pearson) squares += (v - r.panel_pearson_mean) * (v - r.panel_pearson_mean);
    r.panel_pearson_sd = r.panel_pearson.size() > 1 ? std::sqrt(squares / (m - 1)) : 0;
    r.z = r.panel_pearson_sd > 0 ? (r.pearson - r.panel_pearson_mean) / r.panel_pearson_sd : 0;
    r.p_value = (1 + static_cast<double>(at_least)) / (1 + m);
    figures.roles.push_back(std::move(r));
  }
  return figures;
}

}  // namespace lineage
