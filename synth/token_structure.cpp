#include "synth/token_structure.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/random_stream.hpp"

namespace lineage::synth {

namespace {

constexpr std::string_view purpose = "shared structure";
constexpr double profile_clip = 3.0;
constexpr double class_scale_log_sigma = 0.3;

std::vector<double> zipf_profile(std::uint64_t seed, std::uint64_t vocab) {
  random_stream stream(seed, purpose, "token frequency ranks");
  std::vector<std::uint32_t> rank(vocab);
  random_permutation(stream, rank);
  std::vector<double> profile(vocab);
  for (std::uint64_t v = 0; v < vocab; ++v) profile[v] = -std::log(static_cast<double>(rank[v]) + 1.0);
  const double mean = std::accumulate(profile.begin(), profile.end(), 0.0) / static_cast<double>(vocab);
  double sum_of_squares = 0;
  for (const double f : profile) sum_of_squares += (f - mean) * (f - mean);
  const double sd = std::sqrt(sum_of_squares / static_cast<double>(vocab));
  for (double& f : profile) f = sd > 0 ? std::clamp((f - mean) / sd, -profile_clip, profile_clip) : 0.0;
  return profile;
}

// The first `special` ids of a permutation from S are the special tokens, the next `unused` the
// unused ones.
void choose_token_roles(const shared_structure& structure, std::uint64_t vocab, token_structure& tokens) {
  random_stream stream(*structure.shared_seed, purpose, "token roles");
  std::vector<std::uint32_t> order(vocab);
  random_permutation(stream, order);
  const auto special_end = order.begin() + static_cast<std::ptrdiff_t>(structure.special_tokens);
  const auto unused_end = special_end + static_cast<std::ptrdiff_t>(structure.unused_tokens);
  tokens.special.assign(order.begin(), special_end);
  tokens.unused.assign(special_end, unused_end);
  std::sort(tokens.special.begin(), tokens.special.end());
  std::sort(tokens.unused.begin(), tokens.unused.end());
}

void draw_classes(std::uint64_t seed, std::uint64_t classes, token_structure& tokens) {
  random_stream prior(seed, purpose, "class prior");
  std::vector<double> g(classes);
  for (double& x : g) x = prior.normal();
  const double top = *std::max_element(g.begin(), g.end());
  double sum = 0;
  for (const double x : g) sum += std::exp(x - top);
  const double log_total = top + std::log(sum);
  for (const double x : g) tokens.class_prior.push_back(x - log_total);
  random_stream scales(seed, purpose, "class row scales");
  for (std::uint64_t c = 0; c < classes; ++c)
    tokens.class_scales.push_back(std::exp(class_scale_log_sigma * scales.normal()));
}

}  // namespace

token_structure draw_token_structure(const shared_structure& structure, std::uint64_t vocab) {
  token_structure tokens;
  const std::uint64_t seed = structure.shared_seed.value_or(0);
  if (structure.token_profile) tokens.profile = zipf_profile(seed, vocab);
  if (structure.special_tokens + structure.unused_tokens > 0) choose_token_roles(structure, vocab, tokens);
  if (structure.classes > 0) draw_classes(seed, structure.classes, tokens);
  return tokens;
}

}  // namespace lineage::synth
