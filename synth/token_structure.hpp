#pragma once
// What the independent models of one shared seed S agree on (synth.hpp, shared_structure): which
// tokens are frequent, special or unused, and the classes' prior and row scales. Everything here
// is indexed by token or class, never by a hidden dimension; it is drawn from S alone, so two
// models that share S share it exactly, whatever their own seeds.
#include <cstdint>
#include <vector>

#include "synth/synth.hpp"

namespace lineage::synth {

struct token_structure {
  // --token-profile: the standardised Zipf log-frequency of each token: token v has frequency rank
  // r_v (a permutation drawn from S), f_v = -ln r_v, z_v = (f_v - mean f) / sd f, clipped to
  // [-3, 3] so that the handful of most frequent tokens do not dominate. Empty without the option.
  std::vector<double> profile;
  // --special-tokens, --unused-tokens: disjoint token ids from S, in ascending order.
  std::vector<std::uint64_t> special, unused;
  // --classes: the log class frequencies (g_c - logsumexp g, g_c ~ N(0, 1)) and each class row's
  // norm factor exp(0.3 h_c), h_c ~ N(0, 1).
  std::vector<double> class_prior, class_scales;
};

// Requires structure.shared_seed (checked by validate_structure).
[[nodiscard]] token_structure draw_token_structure(const shared_structure& structure, std::uint64_t vocab);

}  // namespace lineage::synth
