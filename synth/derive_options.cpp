#include "synth/derive_options.hpp"

#include <fmt/format.h>

#include <cmath>

#include "core/error.hpp"
#include "synth/expert_edit.hpp"
#include "synth/layer_edit.hpp"

namespace lineage::synth {

namespace {

bool takes_scale(derivation_kind kind) {
  return changes_every_value(kind) || kind == derivation_kind::rescale_norms ||
         kind == derivation_kind::prune_hidden;
}

double checked_size(const char* option, double value) {
  if (!std::isfinite(value) || value < 0)
    throw usage_error(
        fmt::format("synth derive: {} {} must be a finite number >= 0", option, value));
  return value;
}

void check_counts(const derivation& how, std::string_view kind) {
  if (how.kind == derivation_kind::upcycle) {
    if (!how.experts.empty())
      throw usage_error("synth derive: --kind upcycle takes --experts as one expert count");
    if (!how.expert_count)
      throw usage_error("synth derive: --kind upcycle needs --experts (the expert count)");
    if (*how.expert_count == 0)
      throw usage_error("synth derive: --kind upcycle --experts must be at least 1");
  } else if (how.expert_count) {
    throw usage_error(fmt::format("synth derive: --experts does not apply to --kind {}", kind));
  }
  if (how.kind == derivation_kind::extend_vocab) {
    if (!how.tokens) throw usage_error("synth derive: --kind extend-vocab needs --tokens");
    if (*how.tokens == 0)
      throw usage_error("synth derive: --kind extend-vocab --tokens must be at least 1");
    // Real vocabularies have at most a few hundred thousand tokens; 2^20 more rows per embedding is
    // already far past any model and keeps the row arithmetic and the allocation bounded.
    constexpr std::uint64_t most_tokens = std::uint64_t{1} << 20;
    if (*how.tokens > most_tokens)
      throw usage_error(fmt::format("synth derive: --kind extend-vocab --tokens {} is more than {} tokens", *how.tokens,
                                    most_tokens));
  } else if (how.tokens) {
    throw usage_error(fmt::format("synth derive: --tokens does not apply to --kind {}", kind));
  }
}

}  // namespace

bool changes_every_value(derivation_kind kind) noexcept {
  return kind == derivation_kind::noise || kind == derivation_kind::drift;
}

double checked_strength(const derivation& how) {
  const auto kind = derivation_kind_name(how.kind);
  if (how.kind == derivation_kind::dtype_change && !how.type)
    throw usage_error("synth derive: --kind dtype needs --dtype");
  if (how.kind == derivation_kind::reshard && !how.shards)
    throw usage_error("synth derive: --kind reshard needs --shards");
  if (edits_layers(how.kind) && how.layers.empty())
    throw usage_error(fmt::format("synth derive: --kind {} needs --layers", kind));
  if (!edits_layers(how.kind) && !how.layers.empty())
    throw usage_error(fmt::format("synth derive: --layers does not apply to --kind {}", kind));
  if (how.kind != derivation_kind::drop_experts && how.kind != derivation_kind::upcycle &&
      !how.experts.empty())
    throw usage_error(fmt::format("synth derive: --experts does not apply to --kind {}", kind));
  check_counts(how, kind);
  if (how.kind != derivation_kind::rotate_hidden && how.rotation)
    throw usage_error(fmt::format("synth derive: --rotation does not apply to --kind {}", kind));
  if (how.kind != derivation_kind::upcycle && how.noise)
    throw usage_error(fmt::format("synth derive: --noise does not apply to --kind {}", kind));
  if (!takes_scale(how.kind) && how.scale)
    throw usage_error(fmt::format("synth derive: --scale does not apply to --kind {}", kind));
  switch (how.kind) {
    case derivation_kind::noise:
      return checked_size("--scale", how.scale.value_or(0.01));
    case derivation_kind::drift:
      return checked_size("--scale", how.scale.value_or(0.05));
    case derivation_kind::rescale_norms:
      return checked_size("--scale", how.scale.value_or(0.5));
    case derivation_kind::prune_hidden:
      return checked_size("--scale", how.scale.value_or(0.125));
    case derivation_kind::upcycle:
      return checked_size("--noise", how.noise.value_or(0.01));
    default:
      return 0.0;
  }
}

}  // namespace lineage::synth
