#include "registry/member_evidence.hpp"

#include <fmt/format.h>

#include <Eigen/Core>
#include <algorithm>
#include <functional>
#include <map>
#include <cmath>
#include <numeric>
#include <optional>
#include <span>
#include <utility>

#include "core/assignment.hpp"
#include "core/random_stream.hpp"
#include "registry/layer_alignment.hpp"
#include "reduce/probability.hpp"
#include "shard/symmetry_draw.hpp"

namespace lineage {
namespace {

using matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using index_pairs = std::vector<std::pair<std::size_t, std::size_t>>;

constexpr std::size_t most_hidden_tested = 256;  // A's hidden dimensions the token-rows unit tests
constexpr std::size_t fewest_tokens = 8;         // below this a unit is not computed

// Positions of the keys both ascending lists hold (among each list's first `limit_a`, `limit_b`).
index_pairs shared_keys(const std::vector<std::uint64_t>& a, const std::vector<std::uint64_t>& b, std::size_t limit_a,
                        std::size_t limit_b) {
  index_pairs pairs;
  for (std::size_t i = 0, j = 0; i < limit_a && j < limit_b;) {
    if (a[i] < b[j]) ++i;
    else if (b[j] < a[i]) ++j;
    else pairs.emplace_back(i++, j++);
  }
  return pairs;
}

// Rows of a rows × width sketch at the shared columns `which` (side 0: first, 1: second), each
// scaled to unit length (a zero row stays zero), so that a dot product is a cosine.
matrix unit_rows(std::span<const float> values, std::size_t rows, std::size_t width, const index_pairs& columns,
                 int side) {
  matrix m(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(columns.size()));
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::size_t at = side == 0 ? columns[c].first : columns[c].second;
      m(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = values[r * width + at];
    }
    const double norm = m.row(static_cast<Eigen::Index>(r)).norm();
    if (norm > 0) m.row(static_cast<Eigen::Index>(r)) /= norm;
  }
  return m;
}

std::uint64_t seed_of(std::uint64_t seed, const std::string& key) {
  random_stream stream(seed, "search draws", key);
  return stream.next_u64();
}

constexpr std::uint64_t stop_hits = 10;  // first-stage draws at or above the statistic that end a unit's test

using meets_list = std::vector<std::span<const std::uint32_t>>;

// One unit: its symmetry, the axes it moves (a layout and a length each) and its statistic as a
// function of where each axis's units meet.
struct unit_spec {
  std::string family, label;
  symmetry_group group;
  std::vector<std::pair<axis_layout, std::size_t>> parts;
  std::function<double(const meets_list&)> value;
  [[nodiscard]] std::string seed_key() const { return family + " / " + label; }
};

// The second stage: every draw again from the unit's seed, `count` of them; how many reach `observed`.
std::uint64_t deep_hits(const unit_spec& unit, double observed, std::uint64_t seed, std::uint32_t count) {
  std::vector<symmetry_draws> streams;
  std::vector<std::vector<std::uint32_t>> meets;
  for (const auto& part : unit.parts) {
    streams.emplace_back(unit.group, seed_of(seed, unit.seed_key()));
    meets.emplace_back(part.second);
  }
  const meets_list view(meets.begin(), meets.end());
  std::uint64_t hits = 0;
  for (std::uint32_t k = 0; k < count; ++k) {
    for (std::size_t i = 0; i < streams.size(); ++i) streams[i].next(unit.parts[i].first, meets[i]);
    hits += unit.value(view) >= observed ? 1 : 0;
  }
  return hits;
}

unit_evidence run_unit(const unit_spec& unit, search_draws& draws) {
  const search_options& options = draws.options();
  std::vector<std::vector<std::uint32_t>> identity;
  meets_list first;
  for (const auto& [layout, units] : unit.parts) {
    identity.emplace_back(units);
    std::iota(identity.back().begin(), identity.back().end(), 0u);
    first.push_back(draws.first(unit.seed_key(), unit.group, layout, units));
  }
  const double observed = unit.value(meets_list(identity.begin(), identity.end()));
  std::uint64_t hits = 0;
  double sum = 0, squares = 0;
  meets_list meets(first.size());
  for (std::uint32_t k = 0; k < options.draws; ++k) {
    for (std::size_t i = 0; i < first.size(); ++i) {
      const std::size_t units = unit.parts[i].second;
      meets[i] = first[i].subspan(k * units, units);
    }
    const double x = unit.value(meets);
    hits += x >= observed ? 1 : 0;
    sum += x;
    squares += x * x;
  }
  const double n = options.draws, mean = sum / n, sd = std::sqrt(std::max(0.0, squares / n - mean * mean));
  unit_evidence out{unit.family, unit.label, observed, sd > 0 ? (observed - mean) / sd : 0.0,
                    static_cast<double>(hits + 1) / (n + 1), options.draws};
  if (hits < stop_hits && options.deep_draws > options.draws) {
    out.draws = options.deep_draws;
    out.p = static_cast<double>(deep_hits(unit, observed, options.seed, options.deep_draws) + 1) /
            (static_cast<double>(options.deep_draws) + 1);
  }
  return out;
}

// The shared tokens' rows (tokens × hidden, one side), each hidden dimension's column scaled to unit
// length over them (a zero column stays zero), so that a column product is a cosine.
matrix unit_columns(const model_fingerprint& f, const index_pairs& tokens, int side) {
  const auto h = static_cast<Eigen::Index>(f.hidden);
  matrix m(static_cast<Eigen::Index>(tokens.size()), h);
  for (std::size_t r = 0; r < tokens.size(); ++r) {
    const std::size_t t = side == 0 ? tokens[r].first : tokens[r].second;
    m.row(static_cast<Eigen::Index>(r)) =
        Eigen::Map<const Eigen::RowVectorXf>(f.rows.data() + t * f.hidden, h).cast<double>();
  }
  Eigen::RowVectorXd norms = m.colwise().norm();
  for (Eigen::Index i = 0; i < h; ++i) norms(i) = norms(i) > 0 ? 1 / norms(i) : 0.0;
  m *= norms.asDiagonal();
  return m;
}

// A seeded subset of at most most_hidden_tested of 0 … n − 1, ascending.
std::vector<std::uint32_t> tested_dimensions(std::uint64_t n, std::uint64_t seed) {
  std::vector<std::uint32_t> all(static_cast<std::size_t>(n));
  random_stream stream(seed, "search hidden subset", "token rows");
  random_permutation(stream, all);
  all.resize(std::min<std::size_t>(all.size(), most_hidden_tested));
  std::sort(all.begin(), all.end());
  return all;
}

std::optional<unit_evidence> token_rows_unit(const model_fingerprint& query, const model_fingerprint& member,
                                             const index_pairs& tokens, search_draws& draws) {
  if (query.hidden != member.hidden || query.hidden < 2 || tokens.size() < fewest_tokens) return std::nullopt;
  const std::vector<std::uint32_t> tested = tested_dimensions(query.hidden, draws.options().seed);
  const matrix a = unit_columns(query, tokens, 0), b = unit_columns(member, tokens, 1);
  matrix a_tested(a.rows(), static_cast<Eigen::Index>(tested.size()));
  for (std::size_t i = 0; i < tested.size(); ++i) a_tested.col(static_cast<Eigen::Index>(i)) = a.col(tested[i]);
  // Cosines of A's tested dimensions with every one of B's, in single precision (half the time of
  // the search's largest product; every draw and the observed value read the same matrix).
  const Eigen::MatrixXf c = (a_tested.transpose().cast<float>() * b.cast<float>()).eval();
  unit_spec unit{"token rows", "embedding", {}, {{axis_layout{}, static_cast<std::size_t>(query.hidden)}}, {}};
  unit.group.units = query.hidden;
  unit.value = [&](const meets_list& meets) {
    double sum = 0;
    for (std::size_t i = 0; i < tested.size(); ++i) sum += c(static_cast<Eigen::Index>(i), meets[0][tested[i]]);
    return sum;
  };
  return run_unit(unit, draws);
}

// P[a][b] = Σ_j cos(A row a·size + j, B row b·size + j) over blocks a, b of `size` rows.
matrix block_traces(const matrix& a, const matrix& b, std::size_t blocks, std::size_t size) {
  matrix p = matrix::Zero(static_cast<Eigen::Index>(blocks), static_cast<Eigen::Index>(blocks));
  for (std::size_t x = 0; x < blocks; ++x)
    for (std::size_t y = 0; y < blocks; ++y)
      for (std::size_t j = 0; j < size; ++j)
        p(static_cast<Eigen::Index>(x), static_cast<Eigen::Index>(y)) +=
            a.row(static_cast<Eigen::Index>(x * size + j)).dot(b.row(static_cast<Eigen::Index>(y * size + j)));
  return p;
}

double matched_sum(const matrix& p, std::span<const std::uint32_t> meets) {
  double sum = 0;
  for (std::size_t i = 0; i < meets.size(); ++i) sum += p(static_cast<Eigen::Index>(i), meets[i]);
  return sum;
}

// One attention layer of each side, read on the frame tokens both hold.
struct layer_pair {
  const attention_sketch& a;
  const attention_sketch& b;
  const index_pairs& frame;
  std::size_t frame_a, frame_b;
  [[nodiscard]] matrix rows(const std::vector<float>& values, std::uint64_t heads, int side) const {
    return unit_rows(values, static_cast<std::size_t>(heads * a.head_dim), side == 0 ? frame_a : frame_b, frame, side);
  }
};

// The traces of q's and k's head blocks (P[a][b]: A's head a against B's head b).
struct head_traces {
  matrix q, k;
};

head_traces traces_of(const layer_pair& pair) {
  const attention_sketch &a = pair.a, &b = pair.b;
  return {block_traces(pair.rows(a.q, a.heads, 0), pair.rows(b.q, b.heads, 1), a.heads, a.head_dim),
          block_traces(pair.rows(a.k, a.kv_heads, 0), pair.rows(b.k, b.kv_heads, 1), a.kv_heads, a.head_dim)};
}

unit_evidence heads_unit(const layer_pair& pair, const head_traces& p, search_draws& draws) {
  const attention_sketch& a = pair.a;
  unit_spec unit{"heads", a.label, {},
                 {{axis_layout{axis_layout::role::query, 1, {}}, a.heads},
                  {axis_layout{axis_layout::role::key_value, 1, {}}, a.kv_heads}},
                 [&](const meets_list& meets) { return matched_sum(p.q, meets[0]) + matched_sum(p.k, meets[1]); }};
  unit.group.kind = symmetry_group::form::heads;
  unit.group.kv_heads = a.kv_heads;
  unit.group.group = a.heads / a.kv_heads;
  return run_unit(unit, draws);
}

// The KV head of B that q and k point to for each of A's: for A's KV head g and B's h, the trace of
// k's blocks plus the best one-to-one match of their query heads' traces; then the assignment of
// those scores. It comes from q and k only, which the values' within-head draws never move, so the
// values' null stays exact in it (as compare's head order, docs/ARCHITECTURE.md).
struct kv_match {
  std::vector<std::uint32_t> order;
  double score = 0;  // the assignment's total: how well q and k of the two layers meet
};

kv_match kv_order(const head_traces& p, std::size_t kv, std::size_t group) {
  std::vector<double> score(kv * kv), within(group * group);
  for (std::size_t g = 0; g < kv; ++g)
    for (std::size_t h = 0; h < kv; ++h) {
      for (std::size_t x = 0; x < group; ++x)
        for (std::size_t y = 0; y < group; ++y)
          within[x * group + y] = p.q(static_cast<Eigen::Index>(g * group + x), static_cast<Eigen::Index>(h * group + y));
      score[g * kv + h] = p.k(static_cast<Eigen::Index>(g), static_cast<Eigen::Index>(h)) +
                          assignment_score(within, group, maximum_assignment(within, group, group));
    }
  const std::vector<std::int32_t> assigned = maximum_assignment(score, kv, kv);
  return {{assigned.begin(), assigned.end()}, assignment_score(score, kv, assigned)};
}

unit_evidence values_unit(const layer_pair& pair, const std::vector<std::uint32_t>& order, search_draws& draws) {
  const attention_sketch& a = pair.a;
  const std::size_t d = a.head_dim, kv = a.kv_heads;
  const matrix va = pair.rows(a.v, kv, 0), vb = pair.rows(pair.b.v, kv, 1);
  // Cosines of the rows inside each KV head and the head of B it meets: the only pairs the
  // within-head draws bring together.
  matrix inside(static_cast<Eigen::Index>(kv * d), static_cast<Eigen::Index>(d));
  for (std::size_t g = 0; g < kv; ++g) {
    const auto size = static_cast<Eigen::Index>(d);
    inside.middleRows(static_cast<Eigen::Index>(g * d), size) =
        va.middleRows(static_cast<Eigen::Index>(g * d), size) *
        vb.middleRows(static_cast<Eigen::Index>(order[g] * d), size).transpose();
  }
  const std::string label = a.label == pair.b.label ? a.label : a.label + " ~ member's " + pair.b.label;
  unit_spec unit{"values", label, {}, {{axis_layout{axis_layout::role::key_value, d, {}}, kv * d}},
                 [&](const meets_list& meets) {
                   double sum = 0;
                   for (std::size_t r = 0; r < meets[0].size(); ++r)
                     sum += inside(static_cast<Eigen::Index>(r), meets[0][r] % d);
                   return sum;
                 }};
  unit.group.kind = symmetry_group::form::within;
  unit.group.kv_heads = kv;
  unit.group.within = d;
  return run_unit(unit, draws);
}

bool is_identity(const std::vector<std::uint32_t>& order) {
  for (std::size_t i = 0; i < order.size(); ++i)
    if (order[i] != i) return false;
  return true;
}

const attention_sketch* layer_named(const model_fingerprint& f, const std::string& label) {
  for (const attention_sketch& s : f.layers)
    if (s.label == label) return &s;
  return nullptr;
}

bool same_layout(const attention_sketch& a, const attention_sketch& b) {
  return a.heads == b.heads && a.kv_heads == b.kv_heads && a.head_dim == b.head_dim;
}

layer_pair pair_of(const model_fingerprint& query, const model_fingerprint& member, const attention_sketch& a,
                   const attention_sketch& b, const index_pairs& frame) {
  return {a, b, frame, static_cast<std::size_t>(query.frame), static_cast<std::size_t>(member.frame)};
}

// Layers of one depth pair by label: heads and values per layer.
void units_by_label(const model_fingerprint& query, const model_fingerprint& member, const index_pairs& frame,
                    search_draws& draws, member_evidence& out) {
  std::size_t other_layout = 0, reordered = 0;
  for (const attention_sketch& a : query.layers) {
    const attention_sketch* b = layer_named(member, a.label);
    if (!b) continue;
    if (!same_layout(a, *b)) {
      ++other_layout;
      continue;
    }
    const layer_pair pair = pair_of(query, member, a, *b, frame);
    const head_traces traces = traces_of(pair);
    if (a.heads >= 2) out.units.push_back(heads_unit(pair, traces, draws));
    if (a.head_dim < 2) continue;
    const kv_match match = kv_order(traces, a.kv_heads, a.heads / a.kv_heads);
    reordered += is_identity(match.order) ? 0 : 1;
    out.units.push_back(values_unit(pair, match.order, draws));
  }
  if (other_layout > 0) out.note += fmt::format("{} attention layers with another head layout not tested; ", other_layout);
  if (reordered > 0) out.note += fmt::format("values of {} layers read in the KV-head order q and k point to; ", reordered);
}

// Layers of other depths (dropped, duplicated, inserted): A's layers meet B's by a one-to-one,
// order-keeping alignment on how well their q and k meet (within a band around the proportional
// depth), and only the values are tested, each in the KV-head order q and k point to. Both choices
// come from q and k, which the values' draws never move, so the values' nulls stay exact; the
// heads, which chose, are not tested.
void units_by_alignment(const model_fingerprint& query, const model_fingerprint& member, const index_pairs& frame,
                        search_draws& draws, member_evidence& out) {
  const std::size_t rows = query.layers.size(), cols = member.layers.size();
  const std::size_t band = (rows > cols ? rows - cols : cols - rows) + 2;
  std::map<std::pair<std::size_t, std::size_t>, kv_match> matches;
  const auto score = [&](std::size_t i, std::size_t j) {
    const attention_sketch &a = query.layers[i], &b = member.layers[j];
    const std::size_t centre = i * cols / std::max<std::size_t>(rows, 1);
    if ((j + band < centre) || (j > centre + band) || !same_layout(a, b) || a.head_dim < 2) return std::nan("");
    const head_traces traces = traces_of(pair_of(query, member, a, b, frame));
    const kv_match& match = matches[{i, j}] = kv_order(traces, a.kv_heads, a.heads / a.kv_heads);
    return match.score;
  };
  const auto pairs = monotone_alignment(rows, cols, score);
  for (const auto& [i, j] : pairs)
    out.units.push_back(
        values_unit(pair_of(query, member, query.layers[i], member.layers[j], frame), matches.at({i, j}).order, draws));
  out.note += fmt::format("{} against {} attention layers: the values of {} layer pairs aligned on q and k, heads not "
                          "tested; ",
                          rows, cols, pairs.size());
}

void attention_units(const model_fingerprint& query, const model_fingerprint& member, const index_pairs& frame,
                     search_draws& draws, member_evidence& out) {
  if (query.layers.size() == member.layers.size()) units_by_label(query, member, frame, draws, out);
  else units_by_alignment(query, member, frame, draws, out);
}

}  // namespace

std::span<const std::uint32_t> search_draws::first(const std::string& seed_key, const symmetry_group& group,
                                                   const axis_layout& layout, std::size_t units) {
  const std::string key = fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", seed_key, static_cast<int>(group.kind), group.units,
                                      group.kv_heads, group.group, group.within, static_cast<int>(layout.kind),
                                      layout.block_size);
  auto found = drawn_.find(key);
  if (found == drawn_.end()) {
    std::vector<std::uint32_t> all(static_cast<std::size_t>(options_.draws) * units);
    symmetry_draws stream(group, seed_of(options_.seed, seed_key));
    for (std::uint32_t k = 0; k < options_.draws; ++k)
      stream.next(layout, std::span<std::uint32_t>(all).subspan(k * units, units));
    found = drawn_.emplace(key, std::move(all)).first;
  }
  return found->second;
}

member_evidence test_member(const model_fingerprint& query, const model_fingerprint& member, search_draws& draws) {
  member_evidence out;
  out.same_bytes = !query.files.empty() && checkpoint_digest(query.files) == checkpoint_digest(member.files);
  if (query.token_keys != member.token_keys) {
    out.note = "tokens keyed by bytes in one fingerprint and by ids in the other: nothing to pair";
    return out;
  }
  const index_pairs tokens = shared_keys(query.row_keys, member.row_keys, query.row_keys.size(), member.row_keys.size());
  const index_pairs frame = shared_keys(query.row_keys, member.row_keys, query.frame, member.frame);
  out.shared_rows = tokens.size();
  out.shared_frame = frame.size();
  if (auto unit = token_rows_unit(query, member, tokens, draws)) out.units.push_back(std::move(*unit));
  else out.note += "token rows not tested (other widths or under 8 shared tokens); ";
  if (frame.size() >= 2) attention_units(query, member, frame, draws, out);
  else out.note += "under 2 shared frame tokens: attention not tested; ";
  std::vector<double> p;
  double z = 0;
  for (const unit_evidence& u : out.units) {
    p.push_back(u.p);
    z += u.z;
  }
  if (!p.empty()) {
    out.p = fisher_combination(p).p;
    out.score = z / std::sqrt(static_cast<double>(p.size()));
  }
  return out;
}

}  // namespace lineage
