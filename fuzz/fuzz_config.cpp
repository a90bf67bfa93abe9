// config.json read strictly and applied by every embedded architecture's rules to the tensor
// names of its family (arch/architecture_map): row expressions, fused splits, MTP layers.
#include <vector>

#include "arch/architecture_map.hpp"
#include "checkpoint/safetensors_header.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const lineage::architecture_registry registry = lineage::architecture_registry::load(std::nullopt);
  static const char* const names[] = {
      "model.embed_tokens.weight",         "model.layers.3.self_attn.qkv_proj.weight",
      "model.layers.3.mlp.gate_up_proj.weight", "model.layers.47.mlp.experts.5.up_proj.weight",
      "model.layers.46.eh_proj.weight",    "model.layers.0.self_attn.q_proj.weight",
      "transformer.h.2.attn.c_attn.weight", "lm_head.weight"};
  lineage::fuzz::expect_success_or_input_error([&] {
    const nlohmann::json config = lineage::parse_json_strictly(lineage::fuzz::text_of(data, size), "config.json");
    const std::uint64_t shape[] = {4608, 3072};
    for (const std::string& model_type : registry.known_model_types()) {
      const lineage::architecture* rules = registry.find(model_type);
      for (const char* name : names) (void)rules->map(name, shape, config);
    }
  });
  return 0;
}
