// report.json's "tensors", "units", "roles" and "unpaired" read back (report/report_json_read.hpp).
#include <fmt/format.h>

#include "arch/architecture_axes.hpp"
#include "core/dtype.hpp"
#include "report/report_json_read_parts.hpp"

namespace lineage::json_read {
namespace {

dtype dtype_of(const json_field& field) {
  const std::string name = field.text();
  const auto type = parse_dtype(name);
  if (!type) field.fail(fmt::format("\"{}\" is not a dtype lineage compares", name));
  return *type;
}

// The inverse of axes_text: "[vocab, hidden]".
std::vector<axis_kind> axes_of(const json_field& field) {
  const std::string text = field.text();
  if (text.size() < 2 || text.front() != '[' || text.back() != ']')
    field.fail("expected axes as \"[kind, kind, …]\"");
  std::vector<axis_kind> axes;
  const std::string_view inside = std::string_view(text).substr(1, text.size() - 2);
  for (std::size_t start = 0; !inside.empty();) {
    const std::size_t comma = inside.find(", ", start);
    const std::string_view name = inside.substr(start, comma == std::string_view::npos ? inside.npos : comma - start);
    const auto kind = parse_axis_kind(name);
    if (!kind) field.fail(fmt::format("\"{}\" is not an axis kind", name));
    axes.push_back(*kind);
    if (comma == std::string_view::npos) break;
    start = comma + 2;
  }
  return axes;
}

// figures_json's fields of a tensor row or a role layer.
void read_figures(const json_field& row, pair_moments& m, similarity& s) {
  m.elements = row["elements"].integer<std::uint64_t>();
  m.count = row["n"].integer<std::uint64_t>();
  s.cosine = row["cosine"].number();
  s.pearson = row["pearson"].number();
  s.rel_l2 = row["rel_l2"].number();
  s.norm_ratio = row["norm_ratio"].number();
  s.bitwise_equal_fraction = row["bitwise_equal_fraction"].number();
  m.nonfinite_a = row["nonfinite_a"].integer<std::uint64_t>();
  m.nonfinite_b = row["nonfinite_b"].integer<std::uint64_t>();
  const json_field a = row["stats_a"], b = row["stats_b"];
  s.mean_a = a["mean"].number();
  s.std_a = a["std"].number();
  s.cv_a = a["cv"].number();
  m.min_a = a["min"].number();
  m.max_a = a["max"].number();
  s.mean_b = b["mean"].number();
  s.std_b = b["std"].number();
  s.cv_b = b["cv"].number();
  m.min_b = b["min"].number();
  m.max_b = b["max"].number();
}

// The fields null_json writes only for an available null.
void read_available_null(const json_field& n, null_figures& f) {
  f.permutations = n["permutations"].integer<std::uint32_t>();
  f.unit = n["unit"].text();
  f.test_unit = n["test_unit"].text();
  f.p_floor = n["p_floor"].number();
  f.cosine = summary(n["cosine"]);
  f.pearson = summary(n["pearson"]);
  f.rel_l2 = summary(n["rel_l2"]);
  f.p_permutation = n["p_permutation"].number();
  f.log10_p_value = n["log10_p_value"].number();
  f.z = n["z"].number();
  f.beyond_all = n["beyond_all"].flag();
  f.subset = n["subset"].flag();
  f.test = n["test"].text();
  f.test_observed = n["test_observed"].number();
  f.directions = n.has("directions");
  if (f.directions) {
    const json_field d = n["directions"];
    f.folded = d["folded"].flag();
    f.direction_cosine = d["cosine"].number();
    f.direction_null = summary(d["null"]);
    f.direction_z = d["z"].number();
    f.direction_p = d["p_value"].number();
    f.products_p_value = d["products_p_value"].number();
    f.products_z = d["products_z"].number();
  }
  if (f.subset) {
    f.tested_units = n["tested_units"].integer<std::uint64_t>();
    f.tested_cosine = n["tested_cosine"].number();
    f.tested_pearson = n["tested_pearson"].number();
  }
}

null_figures read_null(const json_field& row) {
  const json_field n = row["null"];
  null_figures f;
  f.available = n["available"].flag();
  if (f.available) {
    read_available_null(n, f);
    f.p_value = row["p_value"].number();
  } else {
    f.reason = n["reason"].text();
  }
  const json_field closed = n["closed_form"];
  f.closed_z = closed["z"].number();
  f.closed_p = closed["p"].number();
  if (f.available) f.null_sd_ratio = closed["null_sd_ratio"].number();
  f.closed_form_disagrees = closed["disagrees"].flag();
  return f;
}

tensor_pair read_pair(const json_field& row) {
  tensor_pair pair;
  pair.a.name = row["a"].text();
  pair.b.name = row["b"].text();
  pair.key.layer = row["layer"].optional_index();
  pair.key.role = row["role"].text();
  pair.key.expert = row["expert"].optional_index();
  pair.a.type = dtype_of(row["dtype_a"]);
  pair.b.type = dtype_of(row["dtype_b"]);
  pair.a.shape = row["shape"].integers<std::uint64_t>();
  pair.b.shape = row["shape_b"].integers<std::uint64_t>();
  pair.pairing = row["pairing"].text();
  pair.axes = axes_of(row["axes"]);
  if (row.has("rows")) {
    const json_field rows = row["rows"];
    pair.rows_a = rows["a"].integers<std::uint32_t>();
    pair.rows_b = rows["b"].integers<std::uint32_t>();
    if (pair.rows_a.size() != pair.rows_b.size())
      rows.fail(fmt::format("{} rows of A meet {} rows of B (expected as many)", pair.rows_a.size(), pair.rows_b.size()));
  }
  if (row.has("excluded_rows")) {
    const json_field excluded = row["excluded_rows"];
    if (excluded.size() != 2) excluded.fail(fmt::format("expected [begin, end], found {} entries", excluded.size()));
    pair.exclude_begin = excluded[0].integer<std::uint64_t>();
    pair.exclude_end = excluded[1].integer<std::uint64_t>();
    if (pair.exclude_end <= pair.exclude_begin) excluded.fail("expected begin < end");
  }
  return pair;
}

symmetry_group read_group_spec(const json_field& spec) {
  symmetry_group group;
  const json_field form = spec["form"];
  const std::string name = form.text();
  const auto kind = group_form_named(name);
  if (!kind) form.fail(fmt::format("\"{}\" is not a group form (plain, heads, within, cyclic)", name));
  group.kind = *kind;
  group.units = spec["units"].integer<std::uint64_t>();
  group.kv_heads = spec["kv_heads"].integer<std::uint64_t>();
  group.group = spec["group"].integer<std::uint64_t>();
  group.within = spec["within"].integer<std::uint64_t>();
  return group;
}

unit_figures read_unit(const json_field& row) {
  unit_figures u;
  u.kind = row["kind"].text();
  u.label = row["label"].text();
  u.layer = row["layer"].optional_index();
  u.group = row["group"].text();
  u.spec = read_group_spec(row["group_spec"]);
  u.log10_group_size = row["log10_group_size"].number();
  u.permutations = row["permutations"].integer<std::uint32_t>();
  u.from_products = row["from_products"].flag();
  u.members = row["members"].integer<std::size_t>();
  u.used = row["used"].integer<std::size_t>();
  u.available = row["available"].flag();
  u.reason = row["reason"].text();
  if (u.available) {
    u.statistic = row["statistic"].number();
    u.z = row["z"].number();
    u.p = row["p"].number();
  }
  u.p_floor = row["p_floor"].number();
  u.strongest = row["strongest"].text();
  u.strongest_z = row["strongest_z"].number();
  u.left_out = row["left_out"].texts();
  return u;
}

}  // namespace

std::vector<tensor_result> tensors(const json_field& rows) {
  std::vector<tensor_result> out(rows.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const json_field row = rows[i];
    out[i].pair = read_pair(row);
    read_figures(row, out[i].moments, out[i].figures);
    out[i].null = read_null(row);
  }
  return out;
}

std::vector<unit_figures> units(const json_field& rows) {
  std::vector<unit_figures> out(rows.size());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = read_unit(rows[i]);
  return out;
}

std::vector<role_table> roles(const json_field& object) {
  std::vector<role_table> out;
  for (const std::string& role : object.keys()) {
    const json_field rows = object[role];
    role_table& table = out.emplace_back();
    table.role = role;
    table.layers.resize(rows.size());
    for (std::size_t i = 0; i < table.layers.size(); ++i) {
      const json_field row = rows[i];
      role_layer& layer = table.layers[i];
      layer.layer = row["layer"].optional_index();
      layer.tensor_pairs = row["tensor_pairs"].integer<std::uint64_t>();
      read_figures(row, layer.moments, layer.figures);
    }
  }
  return out;
}

std::vector<unpaired_tensor> unpaired(const json_field& rows) {
  std::vector<unpaired_tensor> out(rows.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const json_field row = rows[i];
    unpaired_tensor& u = out[i];
    u.side = side(row["side"]);
    u.name = row["name"].text();
    u.key.layer = row["layer"].optional_index();
    u.key.role = row["role"].text();
    u.key.expert = row["expert"].optional_index();
    u.type = dtype_of(row["dtype"]);
    u.shape = row["shape"].integers<std::uint64_t>();
    u.reason = row["reason"].text();
  }
  return out;
}

}  // namespace lineage::json_read
