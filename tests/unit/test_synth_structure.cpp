// lineage synth independent --shared-seed ...: the structure unrelated real models share. Models
// of one shared seed agree along axes whose labels mean the same in every model (tokens, classes,
// buffer entries) and stay unrelated along the hidden axis; without the options nothing changes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.hpp"
#include "core/random_stream.hpp"
#include "synth/synth.hpp"
#include "test_synth_support.hpp"

namespace {

using namespace synth_test;
using lineage::synth::derivation_kind;
using lineage::synth::model_shape;
using lineage::synth::shared_structure;
using lineage::synth::write_independent_model;
using lineage::synth::write_options;
using matrix = std::vector<std::vector<double>>;

model_shape structure_shape() {
  model_shape shape = dense_test_shape();
  shape.hidden = 64;
  shape.intermediate = 96;
  shape.vocab = 1024;
  return shape;
}

std::filesystem::path write_model(const model_shape& shape, std::uint64_t seed, const shared_structure& structure,
                                  const std::string& label, lineage::dtype type = lineage::dtype::bf16) {
  const auto dir = scratch_dir(label);
  write_options options;
  options.type = type;
  options.structure = structure;
  write_independent_model(shape, seed, dir, options);
  return dir;
}

shared_structure with_seed(std::uint64_t shared_seed) {
  shared_structure structure;
  structure.shared_seed = shared_seed;
  return structure;
}

matrix rows_of(const raw_tensor& tensor) {
  const auto values = values_of(tensor);
  const std::size_t columns = tensor.shape.at(1);
  matrix rows;
  for (std::size_t start = 0; start < values.size(); start += columns)
    rows.emplace_back(values.begin() + static_cast<std::ptrdiff_t>(start),
                      values.begin() + static_cast<std::ptrdiff_t>(start + columns));
  return rows;
}

double norm_of(const std::vector<double>& row) {
  return std::sqrt(std::inner_product(row.begin(), row.end(), row.begin(), 0.0));
}

std::vector<double> row_norms(const matrix& rows) {
  std::vector<double> norms;
  for (const auto& row : rows) norms.push_back(norm_of(row));
  return norms;
}

// The mean cosine of the same token's rows in two models: what element-wise statistics see once
// the shared row norms are taken out.
double mean_row_cosine(const matrix& a, const matrix& b) {
  double sum = 0;
  for (std::size_t v = 0; v < a.size(); ++v) sum += cosine(a[v], b[v]);
  return sum / static_cast<double>(a.size());
}

// The rows' scores on the top principal component (columns centred; power iteration).
std::vector<double> top_component_scores(const matrix& rows, std::vector<double>& direction) {
  const std::size_t columns = rows.at(0).size();
  std::vector<double> mean(columns, 0.0);
  for (const auto& row : rows)
    for (std::size_t j = 0; j < columns; ++j) mean[j] += row[j] / static_cast<double>(rows.size());
  direction.assign(columns, 1.0);
  std::vector<double> scores(rows.size());
  for (int iteration = 0; iteration < 300; ++iteration) {
    for (std::size_t v = 0; v < rows.size(); ++v) {
      scores[v] = 0;
      for (std::size_t j = 0; j < columns; ++j) scores[v] += (rows[v][j] - mean[j]) * direction[j];
    }
    std::fill(direction.begin(), direction.end(), 0.0);
    for (std::size_t v = 0; v < rows.size(); ++v)
      for (std::size_t j = 0; j < columns; ++j) direction[j] += (rows[v][j] - mean[j]) * scores[v];
    const double length = norm_of(direction);
    for (double& x : direction) x /= length;
  }
  return scores;
}

std::vector<std::uint64_t> rows_above(const std::vector<double>& norms, double factor) {
  std::vector<double> sorted = norms;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
  const double median = sorted[sorted.size() / 2];
  std::vector<std::uint64_t> ids;
  for (std::size_t v = 0; v < norms.size(); ++v)
    if (norms[v] > factor * median) ids.push_back(v);
  return ids;
}

std::uint64_t directory_hash(const std::filesystem::path& dir) {
  std::string all;
  for (const auto& name : model_file_names(dir)) all += name + read_bytes(dir / name);
  return lineage::fnv1a_64(all);
}

TEST(SynthStructure, WithoutTheOptionsTheFilesAreAsBefore) {
  // Hashes of models written before the structure options existed (the same calls, the old code).
  auto tied = dense_test_shape();
  tied.tie_embeddings = true;
  write_options sharded;
  sharded.type = lineage::dtype::f16;
  sharded.shards = 2;
  sharded.layer_correlation = 0.5;
  sharded.tokenizer_seed = 4;
  const auto dense = scratch_dir("dense"), moe = scratch_dir("moe"), tied_dir = scratch_dir("tied");
  write_independent_model(dense_test_shape(), 11, dense, {});
  write_independent_model(moe_test_shape(4, 1), 12, moe, {});
  write_independent_model(tied, 13, tied_dir, sharded);
  EXPECT_EQ(directory_hash(dense), 3034599856395943160u);
  EXPECT_EQ(directory_hash(moe), 6167525823645140161u);
  EXPECT_EQ(directory_hash(tied_dir), 7193332477224211462u);
}

TEST(SynthStructure, TokenProfileIsSharedAlongTokensNotAlongTheHiddenAxis) {
  auto profile = with_seed(5);
  profile.token_profile = true;
  auto other = with_seed(6);
  other.token_profile = true;
  const auto a = read_model(write_model(structure_shape(), 1, profile, "a"));
  const auto b = read_model(write_model(structure_shape(), 2, profile, "b"));
  const auto c = read_model(write_model(structure_shape(), 3, other, "c"));
  for (const char* name : {"model.embed_tokens.weight", "lm_head.weight"}) {
    const auto rows_a = rows_of(a.at(name)), rows_b = rows_of(b.at(name)), rows_c = rows_of(c.at(name));
    EXPECT_GT(pearson(row_norms(rows_a), row_norms(rows_b)), 0.8) << name;
    EXPECT_LT(std::abs(pearson(row_norms(rows_a), row_norms(rows_c))), 0.15) << name;
    EXPECT_LT(std::abs(mean_row_cosine(rows_a, rows_b)), 0.1) << name;
    EXPECT_LT(std::abs(pearson(values_of(a.at(name)), values_of(b.at(name)))), 0.1) << name;
    // The frequency direction is the top principal component: the tokens' scores on it agree
    // across models (up to sign), the directions themselves do not.
    std::vector<double> direction_a, direction_b, direction_c;
    const auto scores_a = top_component_scores(rows_a, direction_a);
    const auto scores_b = top_component_scores(rows_b, direction_b);
    const auto scores_c = top_component_scores(rows_c, direction_c);
    EXPECT_GT(std::abs(pearson(scores_a, scores_b)), 0.9) << name;
    EXPECT_LT(std::abs(pearson(scores_a, scores_c)), 0.15) << name;
    EXPECT_LT(std::abs(cosine(direction_a, direction_b)), 0.5) << name;
  }
}

TEST(SynthStructure, SpecialAndUnusedTokensAreTheSameIdsInEveryModelOfTheSeed) {
  auto roles = with_seed(5);
  roles.special_tokens = 8;
  roles.unused_tokens = 100;
  auto other = roles;
  other.shared_seed = 6;
  const auto a = read_model(write_model(structure_shape(), 1, roles, "a"));
  const auto b = read_model(write_model(structure_shape(), 2, roles, "b"));
  const auto c = read_model(write_model(structure_shape(), 3, other, "c"));
  for (const char* name : {"model.embed_tokens.weight", "lm_head.weight"}) {
    const auto norms_a = row_norms(rows_of(a.at(name))), norms_b = row_norms(rows_of(b.at(name)));
    const auto special = rows_above(norms_a, 10.0);
    EXPECT_EQ(special.size(), 8u) << name;
    EXPECT_EQ(special, rows_above(norms_b, 10.0)) << name;
    EXPECT_NE(special, rows_above(row_norms(rows_of(c.at(name))), 10.0)) << name;
    // Unused rows: N(0, 0.02^2), a quarter of the trained rows' scale.
    std::vector<double> inverse_a, inverse_b;
    for (const double norm : norms_a) inverse_a.push_back(1.0 / norm);
    for (const double norm : norms_b) inverse_b.push_back(1.0 / norm);
    const auto unused = rows_above(inverse_a, 2.5);
    EXPECT_EQ(unused.size(), 100u) << name;
    EXPECT_EQ(unused, rows_above(inverse_b, 2.5)) << name;
    for (const auto v : unused) EXPECT_NEAR(norms_a[v] / std::sqrt(64.0), 0.02, 0.006) << name << " row " << v;
    EXPECT_GT(pearson(norms_a, norms_b), 0.8) << name;
  }
}

TEST(SynthStructure, ClassHeadsShareThePriorNotTheDirections) {
  auto classes = with_seed(5);
  classes.classes = 16;
  const auto dir_a = write_model(structure_shape(), 1, classes, "a", lineage::dtype::f32);
  const auto a = read_model(dir_a);
  const auto b = read_model(write_model(structure_shape(), 2, classes, "b", lineage::dtype::f32));
  classes.shared_seed = 6;
  const auto c = read_model(write_model(structure_shape(), 3, classes, "c", lineage::dtype::f32));
  EXPECT_EQ(a.at("score.weight").shape, (std::vector<std::uint64_t>{16, 64}));
  EXPECT_EQ(a.at("score.bias").shape, (std::vector<std::uint64_t>{16}));
  EXPECT_EQ(read_json(dir_a / "config.json").at("num_labels"), 16);
  const auto bias_a = values_of(a.at("score.bias"));
  EXPECT_GT(pearson(bias_a, values_of(b.at("score.bias"))), 0.6);
  EXPECT_LT(std::abs(pearson(bias_a, values_of(c.at("score.bias")))), 0.6);
  const auto rows_a = rows_of(a.at("score.weight")), rows_b = rows_of(b.at("score.weight"));
  EXPECT_GT(pearson(row_norms(rows_a), row_norms(rows_b)), 0.6);
  EXPECT_LT(std::abs(mean_row_cosine(rows_a, rows_b)), 0.1);
}

TEST(SynthStructure, ConstantBuffersAreBitIdenticalInEveryModel) {
  auto buffers = with_seed(5);
  buffers.constant_buffers = true;
  auto other = buffers;
  other.shared_seed = 6;
  for (const auto& shape : {structure_shape(), moe_test_shape(4, 1)}) {
    const auto dir_a = write_model(shape, 1, buffers, "a");
    const auto a = read_model(dir_a);
    const auto b = read_model(write_model(shape, 2, other, "b"));
    const auto config = read_json(dir_a / "config.json");
    const double theta = config.at("rope_theta").get<double>();
    const auto rotary =
        static_cast<std::uint64_t>(static_cast<double>(shape.head_dim()) * config.value("partial_rotary_factor", 1.0));
    const std::uint64_t layers = shape.layers + (shape.mtp ? 1 : 0);
    for (std::uint64_t layer = 0; layer < layers; ++layer) {
      const std::string name = "model.layers." + std::to_string(layer) + ".self_attn.rotary_emb.inv_freq";
      ASSERT_EQ(a.count(name), 1u) << name;
      EXPECT_EQ(a.at(name).dtype, "F32");
      EXPECT_EQ(a.at(name).bytes, b.at(name).bytes) << name;
      const auto inv_freq = values_of(a.at(name));
      ASSERT_EQ(inv_freq.size(), rotary / 2);
      for (std::size_t i = 0; i < inv_freq.size(); ++i)
        EXPECT_DOUBLE_EQ(inv_freq[i], static_cast<float>(1.0 / std::pow(theta, static_cast<double>(2 * i) /
                                                                                   static_cast<double>(rotary))));
    }
    EXPECT_EQ(a.at("model.stft_basis").bytes, b.at("model.stft_basis").bytes);
    const auto basis = rows_of(a.at("model.stft_basis"));
    ASSERT_EQ(basis.size(), 64u);
    for (std::size_t i = 0; i < 64; ++i)
      for (std::size_t j = 0; j < 64; ++j)
        EXPECT_NEAR(std::inner_product(basis[i].begin(), basis[i].end(), basis[j].begin(), 0.0), i == j ? 1 : 0, 1e-6);
  }
}

// Pearson of row i of `x` with row i of `y`, for every row.
std::vector<double> row_pearsons(const raw_tensor& x, const raw_tensor& y) {
  const auto rows_x = rows_of(x), rows_y = rows_of(y);
  std::vector<double> values;
  for (std::size_t i = 0; i < rows_x.size(); ++i) values.push_back(pearson(rows_x[i], rows_y[i]));
  return values;
}

double mean_of(const std::vector<double>& values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

TEST(SynthStructure, GateAndUpRowsOfOneNeuronCorrelate) {
  auto mixed = with_seed(5);
  mixed.gate_up = 0.5;
  for (const auto& shape : {structure_shape(), moe_test_shape(4, 1)}) {
    const auto a = read_model(write_model(shape, 1, mixed, "a", lineage::dtype::f32));
    const auto b = read_model(write_model(shape, 2, mixed, "b", lineage::dtype::f32));
    const auto plain = read_model(write_model(shape, 1, {}, "plain", lineage::dtype::f32));
    // Over all neurons of the model (per row the sd is 1 / sqrt(hidden), about 0.18 here).
    std::vector<double> within, across, without;
    std::size_t mlps = 0;
    for (const auto& [name, tensor] : a) {
      if (!name.ends_with("gate_proj.weight")) continue;
      const std::string up = name.substr(0, name.size() - std::string("gate_proj.weight").size()) + "up_proj.weight";
      ++mlps;
      const auto own = row_pearsons(tensor, a.at(up));
      EXPECT_NEAR(mean_of(own), 0.5, 0.15) << name;
      within.insert(within.end(), own.begin(), own.end());
      const auto other = row_pearsons(tensor, b.at(up));  // another model's neurons
      across.insert(across.end(), other.begin(), other.end());
      const auto unmixed = row_pearsons(plain.at(name), plain.at(up));
      without.insert(without.end(), unmixed.begin(), unmixed.end());
      EXPECT_EQ(tensor.bytes, plain.at(name).bytes) << name;  // gate rows as without the option
    }
    EXPECT_GE(mlps, shape.layers) << "every MLP: dense, routed and shared experts";
    EXPECT_NEAR(mean_of(within), 0.5, 0.03);
    EXPECT_LT(std::abs(mean_of(across)), 0.05);
    EXPECT_LT(std::abs(mean_of(without)), 0.05);
  }
}

TEST(SynthStructure, StructuredMoeAndTiedModelsKeepTheirTokenizer) {
  shared_structure all = with_seed(5);
  all.token_profile = true;
  all.special_tokens = 4;
  all.unused_tokens = 8;
  all.classes = 3;
  all.constant_buffers = true;
  all.gate_up = 0.5;
  auto tied = structure_shape();
  tied.tie_embeddings = true;
  auto moe = moe_test_shape(4, 1);
  moe.vocab = 512;
  for (const auto& shape : {tied, moe}) {
    const auto dir_a = write_model(shape, 1, all, "a");
    const auto dir_b = write_model(shape, 2, all, "b");
    const auto plain = write_model(shape, 1, {}, "plain");
    EXPECT_EQ(read_bytes(dir_a / "tokenizer.json"), read_bytes(plain / "tokenizer.json"));
    const auto a = read_model(dir_a);
    EXPECT_EQ(a.count("lm_head.weight"), shape.tie_embeddings ? 0u : 1u);
    EXPECT_EQ(a.at("model.embed_tokens.weight").shape[0], shape.vocab);
    EXPECT_GT(pearson(row_norms(rows_of(a.at("model.embed_tokens.weight"))),
                      row_norms(rows_of(read_model(dir_b).at("model.embed_tokens.weight")))),
              0.8);
    const auto provenance = read_json(dir_a / "config.json").at("lineage_synth").at("shared_structure");
    EXPECT_EQ(provenance.at("shared_seed"), 5);
    EXPECT_EQ(provenance.at("unused_tokens"), 8);
  }
}

TEST(SynthStructure, OptionsNeedTheSharedSeedAndMustFit) {
  const auto out = scratch_dir("out");
  write_options options;
  options.structure.token_profile = true;
  EXPECT_THROW(write_independent_model(structure_shape(), 1, out, options), lineage::usage_error);
  options.structure = with_seed(1);
  options.structure.special_tokens = 24;
  options.structure.unused_tokens = 1000;
  EXPECT_THROW(write_independent_model(structure_shape(), 1, out, options), lineage::usage_error);
  options.structure = with_seed(1);
  options.structure.gate_up = 1.0;
  EXPECT_THROW(write_independent_model(structure_shape(), 1, out, options), lineage::usage_error);
}

TEST(SynthStructure, StructuredFromTheCommandLine) {
  const auto out = scratch_dir("out");
  const std::vector<std::string> base{
      "synth", "independent",    "--seed", "3",       "-o", out.string(), "--layers", "1",       "--hidden",
      "32",    "--intermediate", "48",     "--heads", "4",  "--kv-heads", "2",        "--vocab", "256"};
  auto structured = base;
  for (const char* argument : {"--shared-seed", "9", "--structured", "--classes", "4", "--special-tokens", "2"})
    structured.emplace_back(argument);
  EXPECT_EQ(run_cli(structured), 0);
  const auto config = read_json(out / "config.json");
  EXPECT_EQ(config.at("num_labels"), 4);
  const auto provenance = config.at("lineage_synth").at("shared_structure");
  EXPECT_EQ(provenance.at("shared_seed"), 9);
  EXPECT_EQ(provenance.at("token_profile"), true);
  EXPECT_EQ(provenance.at("special_tokens"), 2);  // given explicitly
  EXPECT_EQ(provenance.at("unused_tokens"), 256 / 8);
  EXPECT_EQ(provenance.at("constant_buffers"), true);
  EXPECT_EQ(provenance.at("gate_up"), 0.5);
  EXPECT_EQ(read_model(out).count("model.stft_basis"), 1u);
  auto unseeded = base;
  unseeded.emplace_back("--structured");
  EXPECT_THROW(run_cli(unseeded), lineage::usage_error);
}

TEST(SynthStructure, DisguisesKeepTheScoreHeadsFunction) {
  shared_structure all = with_seed(5);
  all.classes = 3;
  all.constant_buffers = true;
  all.token_profile = true;
  const std::vector<std::uint64_t> tokens{3, 17, 42, 5};
  auto moe = moe_test_shape(4, 1);
  for (const auto& shape : {dense_test_shape(), moe}) {
    const auto parent = write_model(shape, 1, all, "parent", lineage::dtype::f32);
    const auto expected = forward_pass(read_model(parent), read_json(parent / "config.json"), tokens);
    ASSERT_EQ(expected.class_logits.size(), tokens.size());
    for (const auto kind : {derivation_kind::fold_norms, derivation_kind::rotate_hidden, derivation_kind::rescale_norms,
                            derivation_kind::permute_hidden}) {
      const std::string label(lineage::synth::derivation_kind_name(kind));
      const auto child = derive(parent, derivation_of(kind, 7), label);
      const auto got = forward_pass(read_model(child), read_json(child / "config.json"), tokens);
      EXPECT_LT(relative_difference(expected.logits, got.logits), 1e-4) << label;
      EXPECT_LT(relative_difference(expected.class_logits, got.class_logits), 1e-4) << label;
      EXPECT_EQ(read_model(child).at("model.stft_basis").bytes, read_model(parent).at("model.stft_basis").bytes);
    }
  }
}

}  // namespace
