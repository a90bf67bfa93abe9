// The forward pass of test_synth_support.hpp: a plain reference implementation in double, to
// check that the function-preserving derivations preserve the function.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "test_synth_support.hpp"

namespace synth_test {

namespace {

using vector = std::vector<double>;
using sequence = std::vector<vector>;

// Decoded tensors, each decoded once.
class weights {
 public:
  explicit weights(const model_tensors& model) : model_(model) {}

  bool has(const std::string& name) const { return model_.count(name) > 0; }
  const std::vector<std::uint64_t>& shape(const std::string& name) const {
    return tensor(name).shape;
  }
  const vector& values(const std::string& name) {
    auto found = cache_.find(name);
    if (found == cache_.end()) found = cache_.emplace(name, values_of(tensor(name))).first;
    return found->second;
  }
  // W x for W [rows, columns] (x of length columns).
  vector times(const std::string& name, const vector& x) {
    const auto& w = values(name);
    const std::size_t columns = shape(name).at(1);
    if (x.size() != columns) throw std::runtime_error("forward: " + name + " width");
    vector y(w.size() / columns, 0.0);
    for (std::size_t r = 0; r < y.size(); ++r)
      for (std::size_t c = 0; c < columns; ++c) y[r] += w[r * columns + c] * x[c];
    return y;
  }
  vector row(const std::string& name, std::uint64_t index) {
    const auto& w = values(name);
    const std::size_t columns = shape(name).at(1);
    return {w.begin() + static_cast<std::ptrdiff_t>(index * columns),
            w.begin() + static_cast<std::ptrdiff_t>((index + 1) * columns)};
  }

 private:
  const raw_tensor& tensor(const std::string& name) const {
    const auto found = model_.find(name);
    if (found == model_.end()) throw std::runtime_error("forward: no tensor " + name);
    return found->second;
  }
  const model_tensors& model_;
  std::map<std::string, vector> cache_;
};

struct settings {
  std::size_t heads = 0, kv_heads = 0, layers = 0, top_k = 0;
  double eps = 1e-5, routed_scale = 1.0;
  bool mtp = false;
};

std::string layer_name(std::size_t layer, const std::string& suffix) {
  return "model.layers." + std::to_string(layer) + "." + suffix;
}

vector rms_norm(const vector& x, const vector& weight, double eps) {
  double mean_square = 0;
  for (const double v : x) mean_square += v * v;
  mean_square /= static_cast<double>(x.size());
  const double inverse = 1.0 / std::sqrt(mean_square + eps);
  vector y(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) y[i] = weight.at(i) * x[i] * inverse;
  return y;
}

void add_to(vector& x, const vector& y, double weight = 1.0) {
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += weight * y.at(i);
}

vector swiglu(weights& w, const std::string& gate, const std::string& up, const std::string& down,
              const vector& x) {
  const auto g = w.times(gate, x);
  const auto u = w.times(up, x);
  vector inner(g.size());
  for (std::size_t i = 0; i < g.size(); ++i) inner[i] = g[i] / (1.0 + std::exp(-g[i])) * u[i];
  return w.times(down, inner);
}

vector swiglu(weights& w, const std::string& prefix, const vector& x) {
  return swiglu(w, prefix + "gate_proj.weight", prefix + "up_proj.weight",
                prefix + "down_proj.weight", x);
}

std::vector<std::size_t> top_indices(const vector& choice, std::size_t k) {
  std::vector<std::size_t> order(choice.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](std::size_t a, std::size_t b) { return choice[a] > choice[b]; });
  order.resize(k);
  return order;
}

// Mixtral: softmax over the router logits, the top k renormalised to sum 1.
vector mixtral_moe(weights& w, std::size_t layer, const settings& s, const vector& x) {
  const std::string prefix = layer_name(layer, "block_sparse_moe.");
  const auto logits = w.times(prefix + "gate.weight", x);
  const double top = *std::max_element(logits.begin(), logits.end());
  vector probabilities(logits.size());
  for (std::size_t e = 0; e < logits.size(); ++e) probabilities[e] = std::exp(logits[e] - top);
  const auto chosen = top_indices(probabilities, std::min(s.top_k, logits.size()));
  double sum = 0;
  for (const auto e : chosen) sum += probabilities[e];
  vector out(x.size(), 0.0);
  for (const auto e : chosen) {
    const std::string expert = prefix + "experts." + std::to_string(e) + ".";
    add_to(out, swiglu(w, expert + "w1.weight", expert + "w3.weight", expert + "w2.weight", x),
           probabilities[e] / sum);
  }
  return out;
}

// GLM-4.5: sigmoid scores; the top k of score + correction bias chosen; their scores normalised
// to sum 1 (times routed_scaling_factor); shared experts added unweighted.
vector glm4_moe(weights& w, std::size_t layer, const settings& s, const vector& x) {
  const auto logits = w.times(layer_name(layer, "mlp.gate.weight"), x);
  const auto& bias = w.values(layer_name(layer, "mlp.gate.e_score_correction_bias"));
  vector scores(logits.size()), choice(logits.size());
  for (std::size_t e = 0; e < logits.size(); ++e) {
    scores[e] = 1.0 / (1.0 + std::exp(-logits[e]));
    choice[e] = scores[e] + bias.at(e);
  }
  const auto chosen = top_indices(choice, std::min(s.top_k, logits.size()));
  double sum = 0;
  for (const auto e : chosen) sum += scores[e];
  vector out(x.size(), 0.0);
  if (w.has(layer_name(layer, "mlp.shared_experts.up_proj.weight")))
    out = swiglu(w, layer_name(layer, "mlp.shared_experts."), x);
  for (const auto e : chosen)
    add_to(out, swiglu(w, layer_name(layer, "mlp.experts." + std::to_string(e) + "."), x),
           s.routed_scale * scores[e] / sum);
  return out;
}

vector mlp(weights& w, std::size_t layer, const settings& s, const vector& x) {
  if (w.has(layer_name(layer, "mlp.gate_proj.weight")))
    return swiglu(w, layer_name(layer, "mlp."), x);
  if (w.has(layer_name(layer, "block_sparse_moe.gate.weight"))) return mixtral_moe(w, layer, s, x);
  return glm4_moe(w, layer, s, x);
}

vector project(weights& w, const std::string& name, const vector& x) {
  auto y = w.times(name + ".weight", x);
  if (w.has(name + ".bias")) add_to(y, w.values(name + ".bias"));
  return y;
}

// One decoder layer over the whole sequence: causal attention with grouped KV heads, then the
// MLP, each added to the residual.
void decoder_layer(weights& w, std::size_t layer, const settings& s, sequence& xs) {
  const std::size_t tokens = xs.size();
  sequence q(tokens), k(tokens), v(tokens);
  for (std::size_t t = 0; t < tokens; ++t) {
    const auto n = rms_norm(xs[t], w.values(layer_name(layer, "input_layernorm.weight")), s.eps);
    q[t] = project(w, layer_name(layer, "self_attn.q_proj"), n);
    k[t] = project(w, layer_name(layer, "self_attn.k_proj"), n);
    v[t] = project(w, layer_name(layer, "self_attn.v_proj"), n);
  }
  const std::size_t head_dim = q[0].size() / s.heads;
  const std::size_t group = s.heads / s.kv_heads;
  for (std::size_t t = 0; t < tokens; ++t) {
    vector heads_out(q[0].size(), 0.0);
    for (std::size_t h = 0; h < s.heads; ++h) {
      const std::size_t g = h / group;
      vector scores(t + 1);
      for (std::size_t u = 0; u <= t; ++u) {
        double dot = 0;
        for (std::size_t d = 0; d < head_dim; ++d)
          dot += q[t][h * head_dim + d] * k[u][g * head_dim + d];
        scores[u] = dot / std::sqrt(static_cast<double>(head_dim));
      }
      const double top = *std::max_element(scores.begin(), scores.end());
      double sum = 0;
      for (double& score : scores) sum += (score = std::exp(score - top));
      for (std::size_t u = 0; u <= t; ++u)
        for (std::size_t d = 0; d < head_dim; ++d)
          heads_out[h * head_dim + d] += scores[u] / sum * v[u][g * head_dim + d];
    }
    add_to(xs[t], w.times(layer_name(layer, "self_attn.o_proj.weight"), heads_out));
    const auto n =
        rms_norm(xs[t], w.values(layer_name(layer, "post_attention_layernorm.weight")), s.eps);
    add_to(xs[t], mlp(w, layer, s, n));
  }
}

std::size_t config_size(const nlohmann::json& config, const char* key, std::size_t absent) {
  return config.contains(key) ? config.at(key).get<std::size_t>() : absent;
}

sequence score(weights& w, const sequence& hidden, const std::string& norm, double eps,
               const std::string& own_head = "lm_head.weight") {
  const std::string head = w.has(own_head)           ? own_head
                           : w.has("lm_head.weight") ? "lm_head.weight"
                                                     : "model.embed_tokens.weight";
  sequence logits;
  for (const auto& x : hidden) logits.push_back(w.times(head, rms_norm(x, w.values(norm), eps)));
  return logits;
}

}  // namespace

forward_result forward_pass(const model_tensors& model, const nlohmann::json& config,
                            const std::vector<std::uint64_t>& tokens) {
  weights w(model);
  settings s;
  s.heads = config.at("num_attention_heads").get<std::size_t>();
  s.kv_heads = config_size(config, "num_key_value_heads", s.heads);
  s.layers = config.at("num_hidden_layers").get<std::size_t>();
  s.top_k = config_size(config, "num_experts_per_tok", 1);
  s.eps = config.value("rms_norm_eps", 1e-5);
  s.routed_scale = config.value("routed_scaling_factor", 1.0);
  s.mtp = config_size(config, "num_nextn_predict_layers", 0) > 0;

  sequence xs;
  for (const auto token : tokens) xs.push_back(w.row("model.embed_tokens.weight", token));
  for (std::size_t layer = 0; layer < s.layers; ++layer) decoder_layer(w, layer, s, xs);
  forward_result result;
  result.logits = score(w, xs, "model.norm.weight", s.eps);
  if (w.has("score.weight"))
    for (auto& row : score(w, xs, "model.norm.weight", s.eps, "score.weight")) {
      add_to(row, w.values("score.bias"));
      result.class_logits.push_back(std::move(row));
    }
  if (!s.mtp) return result;

  const std::size_t block = s.layers;
  sequence ys;
  for (std::size_t t = 0; t + 1 < tokens.size(); ++t) {
    auto joined = rms_norm(w.row("model.embed_tokens.weight", tokens[t + 1]),
                           w.values(layer_name(block, "enorm.weight")), s.eps);
    const auto h = rms_norm(xs[t], w.values(layer_name(block, "hnorm.weight")), s.eps);
    joined.insert(joined.end(), h.begin(), h.end());
    ys.push_back(w.times(layer_name(block, "eh_proj.weight"), joined));
  }
  decoder_layer(w, block, s, ys);
  result.mtp_logits =
      score(w, ys, layer_name(block, "shared_head.norm.weight"), s.eps, layer_name(block, "shared_head.head.weight"));
  return result;
}

double relative_difference(const std::vector<std::vector<double>>& a,
                           const std::vector<std::vector<double>>& b) {
  if (a.size() != b.size()) throw std::runtime_error("relative_difference: sizes differ");
  double difference = 0, norm = 0;
  for (std::size_t t = 0; t < a.size(); ++t) {
    if (a[t].size() != b[t].size()) throw std::runtime_error("relative_difference: widths differ");
    for (std::size_t i = 0; i < a[t].size(); ++i) {
      difference += (a[t][i] - b[t][i]) * (a[t][i] - b[t][i]);
      norm += a[t][i] * a[t][i];
    }
  }
  return std::sqrt(difference / norm);
}

}  // namespace synth_test
