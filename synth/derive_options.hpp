#pragma once
// Which options each derivation kind takes, checked before any file is read.
#include "synth/synth.hpp"

namespace lineage::synth {

// True for the kinds that change every value (noise, drift).
[[nodiscard]] bool changes_every_value(derivation_kind kind) noexcept;

// The size of the change the kind makes: --scale for noise (0.01), drift (0.05) and
// rescale-norms (0.5), --noise for upcycle (0.01), 0 for the others; after checking that every
// option given fits the kind. Throws usage_error naming the option.
[[nodiscard]] double checked_strength(const derivation& how);

}  // namespace lineage::synth
