#include "report_test_support.hpp"

#include <string>

#include "reduce/block_results.hpp"
#include "shard/kernel.hpp"

namespace lineage::test {

std::vector<tensor_spec> mixtral_specs(int layers) {
  std::vector<tensor_spec> specs = {{"model.embed_tokens.weight", {32, 8}, dtype::bf16},
                                    {"model.norm.weight", {8}, dtype::bf16}};
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    specs.push_back({p + "input_layernorm.weight", {8}, dtype::bf16});
    specs.push_back({p + "block_sparse_moe.gate.weight", {3, 8}, dtype::bf16});
    for (int e = 0; e < 3; ++e)
      specs.push_back(
          {p + "block_sparse_moe.experts." + std::to_string(e) + ".w1.weight", {16, 8}, dtype::bf16});
  }
  return specs;
}

computed_pairs compute_pairs(const work_plan& plan, std::size_t nonfinite_pair) {
  computed_pairs out;
  std::vector<typed_vector> side_a, side_b;
  for (std::size_t p = 0; p < plan.pairs.size(); ++p) {
    const std::size_t n = plan.pairs[p].a.elements;
    typed_vector a = encode(dtype::f32, normal_values(n, 1.0, 0.3, 10 + p));
    const typed_vector b = encode(dtype::f32, normal_values(n, 1.0, 0.3, 500 + p));
    if (p == nonfinite_pair) a.set_code(0, nan_code(dtype::f32));
    out.merged.push_back(pair_moments::from_block(compute_block_sums(a.run(), b.run(), n)));
    side_a.push_back(a);
    side_b.push_back(b);
  }
  std::vector<rank_results> per_rank(1);
  for (null_request request : plan.nulls) {
    // The test data is F32 whatever the plan's dtypes.
    request.a.type = request.b.type = dtype::f32;
    const auto& a = side_a[request.pair];
    const auto& b = side_b[request.pair];
    per_rank[0].nulls.push_back(compute_permutation_null(request, {a.data(), a.size() * 4}, {b.data(), b.size() * 4}));
  }
  out.nulls = nulls_by_pair(plan, per_rank);
  return out;
}

}  // namespace lineage::test
