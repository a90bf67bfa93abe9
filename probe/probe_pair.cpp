#include "probe/probe_pair.hpp"

#include <fmt/format.h>
#include <stdlib.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>
#include <vector>

#include "core/error.hpp"
#include "synth/synth.hpp"

namespace lineage {
namespace {

// The shape of the probe: a quarter of scripts/bench-e2e's scale 1 in width, half its depth (41 MB
// a model). Large enough that every kind of unit of a default comparison runs with the dealing and
// paths it takes on large pairs (hidden matching through candidates, cyclic nulls by FFT, neuron
// matching on candidates); small enough for about a second per run.
synth::model_shape probe_shape() {
  return {.layers = 4, .hidden = 512, .intermediate = 1408, .heads = 8, .kv_heads = 8, .vocab = 8000};
}

std::filesystem::path make_directory(const std::filesystem::path& scratch) {
  std::string pattern = (scratch / "lineage-speed-probe-XXXXXX").string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  if (::mkdtemp(name.data()) == nullptr)
    throw input_error(fmt::format("{}: cannot make the speed probe's directory: {}", scratch.string(),
                                  std::strerror(errno)));
  return {name.data()};
}

}  // namespace

probe_pair::probe_pair(const std::filesystem::path& scratch) : dir_(make_directory(scratch)) {
  try {
    synth::write_options options;
    options.type = dtype::bf16;
    synth::write_independent_model(probe_shape(), 1, a(), options);
    synth::derivation noise;
    noise.kind = synth::derivation_kind::noise;
    noise.scale = 0.01;
    noise.seed = 2;
    synth::write_derived_model(a(), b(), noise);
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
    throw;
  }
}

probe_pair::~probe_pair() {
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace lineage
