// A saved state of an interrupted job (job/saved_work, job/saved_work_check) as a stranger could
// leave it in an output directory: the fuzzer's bytes are the payload, framed with a valid header
// and checksum (which anyone can recompute) and with the digest of this target's plan in front, so
// that the decoding and every check against the plan are what is fuzzed.
#include <cstring>

#include "arch/architecture_map.hpp"
#include "checkpoint/shape_list.hpp"
#include "core/content_hash.hpp"
#include "fuzz/fuzz_support.hpp"
#include "job/saved_work.hpp"
#include "job/saved_work_check.hpp"
#include "plan/plan.hpp"

namespace {

constexpr char shapes[] = R"({"model_type": "llama", "config": {"num_hidden_layers": 1, "hidden_size": 8,
  "intermediate_size": 16, "num_attention_heads": 2, "num_key_value_heads": 1},
  "tensors": [{"name": "model.embed_tokens.weight", "dtype": "BF16", "shape": [32, 8]},
              {"name": "model.layers.0.mlp.up_proj.weight", "dtype": "BF16", "shape": [16, 8]},
              {"name": "model.layers.0.input_layernorm.weight", "dtype": "BF16", "shape": [8]}]})";

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const lineage::work_plan plan = [] {
    const lineage::checkpoint model = lineage::read_shape_list(lineage::fuzz::scratch_file("shapes.json", shapes));
    lineage::plan_options options;
    options.ranks = 2;
    return lineage::make_plan(model, model, lineage::architecture_registry::load(std::nullopt), options);
  }();
  static const std::uint64_t digest = lineage::plan_digest(plan);
  std::string payload(lineage::fuzz::text_of(data, size));
  if (payload.size() >= 8) std::memcpy(payload.data(), &digest, 8);
  constexpr std::uint64_t fingerprint = 0x5eed;
  std::string file = "lineage saved work\n";
  put(file, std::uint32_t{2});
  put(file, fingerprint);
  put(file, std::uint32_t{2});
  put(file, static_cast<std::uint64_t>(payload.size()));
  put(file, lineage::fast_hash({reinterpret_cast<const std::byte*>(payload.data()), payload.size()}));
  std::filesystem::create_directories(lineage::fuzz::scratch_directory() / ".lineage-resume");
  (void)lineage::fuzz::scratch_file(".lineage-resume/comparison-0.state", file + payload);
  lineage::fuzz::expect_success_or_input_error([&] {
    std::string rejected;
    const auto state = lineage::saved_work(lineage::fuzz::scratch_directory()).load(0, fingerprint, 2, rejected);
    if (state) (void)lineage::saved_work_problem(plan, *state);
  });
  return 0;
}
