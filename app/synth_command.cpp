#include "app/synth_command.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "synth/synth.hpp"

namespace lineage {

namespace {

// Option storage written by the parser and read by run(); one struct per subcommand.
struct independent_options {
  std::uint64_t seed = 0;
  std::string out;
  synth::model_shape shape;
  std::string dtype_text = "BF16";
  std::uint32_t shards = 1;
  double layer_correlation = 0.0;
  std::uint64_t tokenizer_seed = synth::write_options{}.tokenizer_seed;
  synth::shared_structure structure;
  std::uint64_t shared_seed = 0;
  bool structured = false;
  // Given or not: --structured fills in only the settings not given.
  CLI::Option* shared_seed_option = nullptr;
  CLI::Option* special_option = nullptr;
  CLI::Option* unused_option = nullptr;
  CLI::Option* gate_up_option = nullptr;
};

struct derive_options {
  std::string from;
  std::string out;
  std::string kind;
  std::uint64_t seed = 1;
  double scale = 0.0;
  std::string dtype_text;
  std::uint32_t shards = 1;
  std::vector<std::string> injections;
  std::vector<std::uint64_t> layers;
  std::vector<std::uint64_t> experts;
  std::uint64_t tokens = 0;
  double noise = 0.0;
  std::string rotation;
  // Optional settings: given or not decides the default (e.g. keep the parent's dtype).
  CLI::Option* tokens_option = nullptr;
  CLI::Option* noise_option = nullptr;
  CLI::Option* scale_option = nullptr;
  CLI::Option* dtype_option = nullptr;
  CLI::Option* shards_option = nullptr;
  CLI::Option* rotation_option = nullptr;
};

struct synth_options {
  CLI::App* independent = nullptr;
  CLI::App* derive = nullptr;
  independent_options independent_settings;
  derive_options derive_settings;
};

const std::vector<std::string>& dtype_spellings() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> all;
    for (const dtype t : all_dtypes) all.emplace_back(dtype_name(t));
    return all;
  }();
  return names;
}

dtype parse_dtype_option(const std::string& text) {
  const auto parsed = parse_dtype(text);
  if (!parsed) throw usage_error(fmt::format("synth: --dtype {} is not a safetensors dtype", text));
  return *parsed;
}

// "TENSOR:K"; the count follows the last colon (tensor names contain dots, not colons).
synth::nonfinite_injection parse_injection(const std::string& text) {
  const auto colon = text.rfind(':');
  synth::nonfinite_injection injection;
  if (colon == std::string::npos || colon == 0)
    throw usage_error(
        fmt::format("synth derive: --inject-nonfinite {}: expected TENSOR:COUNT", text));
  injection.tensor = text.substr(0, colon);
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  const auto [end, status] = std::from_chars(first, last, injection.count);
  if (status != std::errc() || end != last || first == last)
    throw usage_error(
        fmt::format("synth derive: --inject-nonfinite {}: COUNT is not a whole number", text));
  return injection;
}

void print_summary(const std::string& out, const synth::written_model& model) {
  fmt::print("synth: wrote {} ({} tensors, {} parameters, {} bytes in {} file{})\n", out,
             model.tensor_count, model.parameter_count, model.data_bytes, model.file_count,
             model.file_count == 1 ? "" : "s");
}

// Mixture-of-Experts settings; with the default --experts 0 the model is the dense Llama one.
void add_moe_options(CLI::App& app, synth::model_shape& shape) {
  app.add_option("--experts", shape.experts,
                 "Routed experts per MoE layer; > 0 writes a glm4_moe (GLM-4.5) model, 0 a dense "
                 "Llama one")
      ->capture_default_str();
  app.add_option("--expert-intermediate", shape.expert_intermediate,
                 "Width of each routed expert (moe_intermediate_size)")
      ->capture_default_str();
  app.add_option("--shared-experts", shape.shared_experts,
                 "Shared experts (n_shared_experts); their one MLP has width S * "
                 "--expert-intermediate")
      ->capture_default_str();
  app.add_option("--dense-layers", shape.dense_layers,
                 "First layers with a dense MLP of width --intermediate (first_k_dense_replace)")
      ->capture_default_str();
  app.add_flag("--mtp", shape.mtp,
               "Append one multi-token-prediction block at layer index --layers "
               "(num_nextn_predict_layers 1)");
}

// Structure that models of one --shared-seed share (synth.hpp, shared_structure).
void add_structure_options(CLI::App& app, independent_options& options) {
  auto& structure = options.structure;
  options.shared_seed_option =
      app.add_option("--shared-seed", options.shared_seed,
                     "Seed of the structure shared by every model generated with it (token frequencies, special and "
                     "unused tokens, class prior); the model's own values still come from --seed. Required by the "
                     "options below");
  app.add_flag("--token-profile", structure.token_profile,
               "Zipf-like token frequencies from --shared-seed: frequent tokens get larger embedding and "
               "lm_head rows, and a frequency direction (own seed) that is the embedding's top principal "
               "component");
  options.special_option =
      app.add_option("--special-tokens", structure.special_tokens,
                     "N token ids from --shared-seed whose embedding and lm_head rows are 20x the typical row norm");
  options.unused_option = app.add_option(
      "--unused-tokens", structure.unused_tokens,
      "N token ids from --shared-seed left at the N(0, 0.02^2) initialisation; the other rows are 4x larger");
  app.add_option("--classes", structure.classes,
                 "C: a classification head score.weight [C, hidden] and score.bias [C] (a class prior from "
                 "--shared-seed plus own noise); config.json num_labels C");
  app.add_flag("--constant-buffers", structure.constant_buffers,
               "Store fixed constants, bit-identical in every model: each layer's "
               "self_attn.rotary_emb.inv_freq and model.stft_basis (a 64 x 64 DCT-II basis), F32");
  options.gate_up_option =
      app.add_option("--gate-up", structure.gate_up,
                     "R in [0, 1): every MLP neuron's up_proj row correlates about R with its gate_proj row");
  app.add_flag("--structured", options.structured,
               "Shorthand for --token-profile --special-tokens 8 --unused-tokens VOCAB/8 --constant-buffers "
               "--gate-up 0.5 (each setting given explicitly wins; --classes only when given)");
}

void add_independent_options(CLI::App& app, independent_options& options) {
  app.add_option("--seed", options.seed, "Seed of every random draw")->required();
  app.add_option("-o,--output", options.out, "Model directory to write")->required();
  app.add_option("--layers", options.shape.layers,
                 "Decoder layers (num_hidden_layers, without MTP)")
      ->capture_default_str();
  app.add_option("--hidden", options.shape.hidden, "Hidden size")->capture_default_str();
  app.add_option("--intermediate", options.shape.intermediate, "MLP width (of dense layers)")
      ->capture_default_str();
  app.add_option("--heads", options.shape.heads, "Attention heads")->capture_default_str();
  app.add_option("--kv-heads", options.shape.kv_heads, "Key/value heads")->capture_default_str();
  app.add_option("--vocab", options.shape.vocab, "Vocabulary size")->capture_default_str();
  app.add_option("--dtype", options.dtype_text, "Element type")
      ->check(CLI::IsMember(dtype_spellings()))
      ->capture_default_str();
  app.add_option("--shards", options.shards, "Number of safetensors files")
      ->check(CLI::Range(1, 99999))
      ->capture_default_str();
  app.add_flag("--tie-embeddings", options.shape.tie_embeddings, "Share embed_tokens with lm_head");
  app.add_option("--layer-correlation", options.layer_correlation,
                 "Pearson correlation between norm weights of different layers")
      ->check(CLI::Range(0.0, 0.99))
      ->capture_default_str();
  app.add_option("--tokenizer-seed", options.tokenizer_seed,
                 "Seed of the byte-level BPE tokenizer.json written beside the model (--vocab pieces); "
                 "models of one tokenizer seed share one tokenizer, other seeds share most pieces")
      ->capture_default_str();
  add_moe_options(app, options.shape);
  add_structure_options(app, options);
}

void add_derive_options(CLI::App& app, derive_options& options) {
  app.add_option("--from", options.from, "Parent model directory (written by lineage synth)")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("-o,--output", options.out, "Model directory to write")->required();
  app.add_option("--kind", options.kind,
                 "How the child differs from the parent. Same function, other weights (what was "
                 "done is recorded in config.json under lineage_synth): permute-experts reorders "
                 "the routed experts of every MoE layer with their router rows; permute-neurons "
                 "the intermediate neurons of every MLP (dense, each expert, shared); "
                 "permute-heads the attention heads of every layer (KV heads with their query "
                 "groups, query heads within groups); permute-hidden the residual dimension "
                 "everywhere; flip-hidden negates a seeded half of the residual dimensions everywhere; "
                 "rescale-norms moves random positive factors from each RMSNorm "
                 "weight into the layers that read it; extend-vocab appends --tokens embedding "
                 "rows; upcycle turns a dense Llama model into a Mixtral MoE model of --experts "
                 "copies of each MLP; fold-norms multiplies every RMSNorm weight into the layers that "
                 "read it and sets it to 1 (tied embeddings are untied, an MTP block gets its own "
                 "shared_head.head); rotate-hidden folds the norms, then turns the residual stream by "
                 "a random orthogonal matrix (--rotation) wherever it is read or written. Another "
                 "function: prune-hidden removes a --scale fraction of the residual dimensions "
                 "everywhere (width pruning)")
      ->required()
      ->check(CLI::IsMember({"copy", "noise", "drift", "dtype", "reshard", "drop-layers", "duplicate-layers",
                             "permute-experts", "drop-experts", "permute-neurons", "permute-heads", "permute-hidden",
                             "flip-hidden", "prune-hidden", "rescale-norms", "extend-vocab", "upcycle", "fold-norms",
                             "rotate-hidden"}));
  options.scale_option =
      app.add_option("--scale", options.scale,
                     "Relative size of the change (noise 0.01, drift 0.05); rescale-norms: the "
                     "spread X of the factors exp(X z) (0.5); prune-hidden: the fraction of hidden "
                     "dimensions removed (0.125)");
  app.add_option("--seed", options.seed,
                 "Seed of the derivation's random draws (noise, drift, every permutation, "
                 "rescale factors, new vocabulary rows, upcycle noise and routers, the rotation)")
      ->capture_default_str();
  options.dtype_option = app.add_option("--dtype", options.dtype_text, "Output element type")
                             ->check(CLI::IsMember(dtype_spellings()));
  options.shards_option =
      app.add_option("--shards", options.shards, "Number of output files (default: as the parent)")
          ->check(CLI::Range(1, 99999));
  app.add_option("--inject-nonfinite", options.injections,
                 "TENSOR:K: set K evenly spaced elements to NaN, +Inf, NaN, ... (repeatable)");
  app.add_option("--layers", options.layers,
                 "L1,L2,...: the parent's decoder layers to drop (drop-layers) or to repeat right "
                 "after themselves (duplicate-layers); the rest are renumbered, an MTP block stays "
                 "last")
      ->delimiter(',');
  app.add_option("--experts", options.experts,
                 "drop-experts: E1,E2,...: the routed experts to remove from every MoE layer (the "
                 "rest are renumbered); upcycle: E, the number of experts per layer")
      ->delimiter(',');
  options.tokens_option = app.add_option("--tokens", options.tokens,
                                         "extend-vocab: N, the tokens appended to the vocabulary");
  options.noise_option =
      app.add_option("--noise", options.noise,
                     "upcycle: relative size of the noise added to each expert's copy (0.01)");
  options.rotation_option =
      app.add_option("--rotation", options.rotation,
                     "rotate-hidden: orthogonal (default; Haar-random, QR of a Gaussian matrix from "
                     "--seed) or hadamard (a Hadamard matrix with random signs from --seed; the "
                     "hidden size must be a power of two)")
          ->check(CLI::IsMember({"orthogonal", "hadamard"}));
}

synth::shared_structure chosen_structure(const independent_options& options) {
  synth::shared_structure structure = options.structure;
  if (options.shared_seed_option->count() > 0) structure.shared_seed = options.shared_seed;
  if (!options.structured) return structure;
  structure.token_profile = true;
  structure.constant_buffers = true;
  if (options.special_option->count() == 0) structure.special_tokens = 8;
  if (options.unused_option->count() == 0) structure.unused_tokens = options.shape.vocab / 8;
  if (options.gate_up_option->count() == 0) structure.gate_up = 0.5;
  return structure;
}

int run_independent(const independent_options& options) {
  synth::write_options how;
  how.structure = chosen_structure(options);
  how.type = parse_dtype_option(options.dtype_text);
  how.shards = options.shards;
  how.layer_correlation = options.layer_correlation;
  how.tokenizer_seed = options.tokenizer_seed;
  print_summary(options.out,
                synth::write_independent_model(options.shape, options.seed, options.out, how));
  return 0;
}

int run_derive(const derive_options& options) {
  synth::derivation how;
  const auto kind = synth::parse_derivation_kind(options.kind);
  if (!kind) throw usage_error(fmt::format("synth derive: unknown --kind {}", options.kind));
  how.kind = *kind;
  how.seed = options.seed;
  if (options.scale_option->count() > 0) how.scale = options.scale;
  if (options.dtype_option->count() > 0) how.type = parse_dtype_option(options.dtype_text);
  if (options.shards_option->count() > 0) how.shards = options.shards;
  for (const auto& text : options.injections) how.injections.push_back(parse_injection(text));
  how.layers = options.layers;
  if (how.kind == synth::derivation_kind::upcycle && !options.experts.empty()) {
    if (options.experts.size() != 1)
      throw usage_error(
          fmt::format("synth derive: --kind upcycle --experts takes one count, not {}",
                      fmt::join(options.experts, ",")));
    how.expert_count = options.experts[0];
  } else {
    how.experts = options.experts;
  }
  if (options.tokens_option->count() > 0) how.tokens = options.tokens;
  if (options.noise_option->count() > 0) how.noise = options.noise;
  if (options.rotation_option->count() > 0) how.rotation = synth::parse_hidden_rotation(options.rotation);
  print_summary(options.out, synth::write_derived_model(options.from, options.out, how));
  return 0;
}

}  // namespace

command add_synth_command(CLI::App& parent) {
  auto options = std::make_shared<synth_options>();
  CLI::App* app = parent.add_subcommand("synth",
                                        "Write synthetic safetensors models, dense Llama or "
                                        "glm4_moe MoE (test fixtures, demo pairs)");
  app->require_subcommand(1);
  options->independent = app->add_subcommand("independent", "A new model drawn from a seed");
  options->derive = app->add_subcommand("derive", "A model derived from one written by synth");
  add_independent_options(*options->independent, options->independent_settings);
  add_derive_options(*options->derive, options->derive_settings);
  return {app, [options]() -> int {
            if (options->independent->parsed())
              return run_independent(options->independent_settings);
            if (options->derive->parsed()) return run_derive(options->derive_settings);
            throw usage_error("synth: choose `independent` or `derive`");
          }};
}

}  // namespace lineage
