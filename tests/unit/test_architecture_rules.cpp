// Malformed rule files are refused with the file and key named, and each role's axes (what a null
// may permute) come from the rules.
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "architecture_test_support.hpp"
#include "arch/architecture_map.hpp"
#include "core/error.hpp"

namespace lineage {
namespace {

using namespace arch_test;  // NOLINT: the rules and helpers every test here uses

// --- malformed rule files -------------------------------------------------------------------

TEST(ArchitectureRules, BadYamlNamesTheFile) {
  expect_mentions(load_error("model_types: [llama\nrules: - oops: {", "bad_yaml.yaml"), {"bad_yaml.yaml", "YAML"});
  expect_mentions(load_error("", "empty.yaml"), {"empty.yaml", "mapping"});
}

TEST(ArchitectureRules, UnknownKeyNamesFileAndKey) {
  expect_mentions(load_error(std::string(minimal_rules) + "aliases: [x]\n", "extra.yaml"), {"extra.yaml", "aliases"});
  expect_mentions(load_error(R"(model_types: [toy]
rules:
  - match: "a.{layer}.b"
    role: b
    rol: c
)",
                             "typo.yaml"),
                  {"typo.yaml", "rules[0].rol", "unknown key"});
  expect_mentions(load_error(R"(model_types: [toy]
rules:
  - match: "a.{layer}.qkv"
    split_rows:
      - {role: q, rows: "hidden_size", size: 3}
      - {role: k, rows: "hidden_size"}
)",
                             "split.yaml"),
                  {"split.yaml", "rules[0].split_rows[0].size"});
}

TEST(ArchitectureRules, MissingOrConflictingRoleIsRefused) {
  expect_mentions(load_error("model_types: [toy]\nrules:\n  - match: \"a.{layer}.b\"\n", "norole.yaml"),
                  {"norole.yaml", "rules[0]", "role"});
  expect_mentions(load_error("model_types: [toy]\nrules:\n  - role: b\n", "nomatch.yaml"),
                  {"nomatch.yaml", "rules[0]", "match"});
  expect_mentions(load_error(R"(model_types: [toy]
rules:
  - match: "a.{layer}.qkv"
    role: qkv
    split_rows:
      - {role: q, rows: "8"}
      - {role: k, rows: "8"}
)",
                             "both.yaml"),
                  {"both.yaml", "rules[0]", "not both"});
  expect_mentions(load_error("model_types: [toy]\nrules:\n  - match: \"a.b\"\n    role: \"a b\"\n", "space.yaml"),
                  {"space.yaml", "rules[0].role"});
  expect_mentions(load_error("rules:\n  - match: \"a.b\"\n    role: b\n", "notypes.yaml"), {"notypes.yaml", "model_types"});
}

TEST(ArchitectureRules, BadPlaceholdersAreRefused) {
  for (const char* pattern : {"model.layers.{layr}.w", "model.layers.h{layer}.w", "model.{layer}.{layer}.w",
                              "model..w", "model.layers.{layer", ".model.w"}) {
    const std::string yaml = std::string("model_types: [toy]\nrules:\n  - match: \"") + pattern + "\"\n    role: w\n";
    expect_mentions(load_error(yaml, "placeholder.yaml"), {"placeholder.yaml", "rules[0].match"});
  }
  expect_mentions(load_error(R"(model_types: [toy]
rules:
  - match: ["a.{layer}.b", "c.{expert}.{expert}"]
    role: w
)",
                             "list.yaml"),
                  {"list.yaml", "rules[0].match", "{expert}"});
}

TEST(ArchitectureRules, RepeatedPatternAndBadExpressionsAreRefused) {
  expect_mentions(load_error(std::string(minimal_rules) +
                                 "  - match: \"model.layers.{layer}.input_layernorm.weight\"\n    role: other\n",
                             "repeat.yaml"),
                  {"repeat.yaml", "rules[1].match"});
  for (const char* rows : {"hidden_size +  8", "hidden_size *", "0", "(hidden_size)", ""}) {
    const std::string yaml = std::string("model_types: [toy]\nrules:\n  - match: \"a.{layer}.qkv\"\n    split_rows:\n") +
                             "      - {role: q, rows: \"" + rows + "\"}\n      - {role: k, rows: \"8\"}\n";
    expect_mentions(load_error(yaml, "expression.yaml"), {"expression.yaml", "rules[0].split_rows[0].rows"});
  }
  expect_mentions(load_error(std::string(minimal_rules) + "derived:\n  head_dim: \"dim / heads\"\n  dim: \"head_dim * 2\"\n",
                             "cycle.yaml"),
                  {"cycle.yaml", "derived", "cycle"});
}

TEST(ArchitectureRules, ModelTypeClaimedTwiceNamesBothFiles) {
  rule_directory directory;
  directory.write("a_first.yaml", minimal_rules);
  directory.write("b_second.yaml", "model_types: [other, toy]\nrules:\n  - match: \"x\"\n    role: x\n");
  const std::string message = input_error_message([&] { (void)architecture_registry::load(directory.path()); });
  expect_mentions(message, {"b_second.yaml", "model_types", "'toy'", "a_first.yaml"});
  expect_mentions(load_error("model_types: [toy, toy]\nrules:\n  - match: \"x\"\n    role: x\n", "twice.yaml"),
                  {"twice.yaml", "model_types[1]"});
}

TEST(ArchitectureRules, RulesDirectoryMustHoldRuleFiles) {
  rule_directory directory;
  expect_mentions(input_error_message([&] { (void)architecture_registry::load(directory.path()); }), {"no *.yaml"});
  expect_mentions(input_error_message([&] { (void)architecture_registry::load(directory.path() / "missing"); }),
                  {"missing", "not a directory"});
}

// --- axes: what a null may permute --------------------------------------------------------------

TEST(ArchitectureAxes, EmbeddedRulesGiveEachRoleItsAxes) {
  const architecture& llama = family("llama");
  EXPECT_EQ(axes_text(llama.axes("embed_tokens.weight", 2)), "[vocab, hidden]");
  EXPECT_EQ(axes_text(llama.axes("self_attn.q_proj.weight", 2)), "[query, hidden]");
  EXPECT_EQ(axes_text(llama.axes("self_attn.o_proj.weight", 2)), "[hidden, output]");
  EXPECT_EQ(axes_text(llama.axes("mlp.down_proj.weight", 2)), "[hidden, neuron]");
  EXPECT_TRUE(llama.rope());
  // Another number of dimensions than the file says, or a role it does not list: all unknown.
  EXPECT_EQ(axes_text(llama.axes("embed_tokens.weight", 1)), "[unknown]");
  EXPECT_EQ(axes_text(llama.axes("score.weight", 2)), "[unknown, unknown]");
  // MTP roles fall back to the role without the prefix.
  EXPECT_EQ(axes_text(family("glm4_moe").axes("mtp.mlp.experts.up_proj.weight", 2)), "[neuron, hidden]");
  EXPECT_EQ(axes_text(family("glm4_moe").axes("self_attn.q_norm.weight", 1)), "[head_dim]");
  EXPECT_FALSE(family("gpt2").rope());
  EXPECT_EQ(axes_text(family("gpt2").axes("embed_positions.weight", 2)), "[position, hidden]");
}

TEST(ArchitectureAxes, EveryKindNameRoundTrips) {
  for (int k = 0; k <= static_cast<int>(axis_kind::constant); ++k) {
    const auto kind = static_cast<axis_kind>(k);
    EXPECT_EQ(parse_axis_kind(axis_kind_name(kind)), kind);
    EXPECT_EQ(is_symmetric(kind), kind >= axis_kind::hidden && kind <= axis_kind::channel);
  }
  EXPECT_FALSE(parse_axis_kind("tokens").has_value());
}

TEST(ArchitectureAxes, BadAxesAreRefusedWithFileAndKey) {
  const std::string rules(minimal_rules);
  expect_mentions(load_error(rules + "axes:\n  input_layernorm.weight: [hiddn]\n", "kind.yaml"),
                  {"kind.yaml", "axes.input_layernorm.weight[0]", "unknown axis kind 'hiddn'"});
  expect_mentions(load_error(rules + "axes:\n  input_layernorm.weight: []\n", "empty.yaml"),
                  {"empty.yaml", "axes.input_layernorm.weight", "non-empty list"});
  expect_mentions(load_error(rules + "axes:\n  a.b: [hidden]\n  a.b: [neuron]\n", "twice.yaml"),
                  {"twice.yaml", "axes.a.b"});
  expect_mentions(load_error(rules + "axes: [hidden]\n", "list.yaml"), {"list.yaml", "axes", "mapping"});
  expect_mentions(load_error(rules + "rope: maybe\n", "rope.yaml"), {"rope.yaml", "rope", "true or false"});
}

}  // namespace
}  // namespace lineage
