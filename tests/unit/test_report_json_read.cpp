// report.json's document read back into the typed model (report/report_json_read.hpp): every field
// the writer puts there comes back so that re-serialising gives the same bytes, and a document
// that is not what lineage writes is one input_error naming the key path.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "h5/h5_file.hpp"
#include "plan/plan.hpp"
#include "reduce/block_results.hpp"
#include "reduce/report_model.hpp"
#include "report/report_document.hpp"
#include "report/report_json_read.hpp"
#include "report/report_writers.hpp"
#include "shard/kernel.hpp"
#include "shard/permutation_null.hpp"
#include "report_test_support.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using nlohmann::json;
using test::tensor_spec;

const std::string label = "out/report.h5: /report_json";

// build_report on random data of every pair (with the plan's permutation nulls), one pair non-finite.
comparison_report built_report() {
  auto specs_b = test::mixtral_specs(1);
  specs_b.push_back({"lm_head.weight", {32, 8}, dtype::f16});
  const work_plan plan = make_plan(test::make_checkpoint("/a", "mixtral", test::mixtral_specs(1)),
                                   test::make_checkpoint("/b", "mixtral", specs_b), test::embedded_registry(),
                                   {50, 1, {}});
  const test::computed_pairs computed = test::compute_pairs(plan, 1);
  run_manifest manifest;
  manifest.tool_version = "9.9.9";
  manifest.kernel = "generic";
  manifest.block_elements = 50;
  return build_report(plan, computed.merged, computed.nulls, {}, manifest, {});
}

void add_layer_structure(comparison_report& r) {
  cross_layer_figures c;
  c.role = "mlp.experts.gate_proj.weight";
  c.layers_a = {0, 1};
  c.layers_b = {0, 1, 2};
  c.pearson = {0.9, 0.1, NAN, 0.05, 0.8, 0.2};
  c.cosine = {0.95, 0.3, 0.25, 0.2, 0.85, 1e-300};
  c.sample_elements = 4096;
  c.available = true;
  c.common = 2;
  c.diagonal_mean = 0.85;
  c.off_diagonal_mean = 0.1;
  c.off_diagonal_sd = 0.07;
  c.permutations = 999;
  c.z = 4.25;
  c.p_value = 0.001;
  c.diagonal_rank_p = {0.2, NAN};
  cross_layer_figures missing;
  missing.role = "norm.weight";
  missing.reason = "fewer than two layers";
  missing.layers_a = {0};
  r.cross_layers = {c, missing};
  depth_alignment& d = r.depth;
  d.available = true;
  d.layers_a = {0, 1};
  d.layers_b = {0, 1, 2};
  d.similarity = {0.9, 0.1, 0, 0.05, 0.8, 0.7};
  d.matched_a = {0, 1, 1};
  d.score = 0.8;
  d.permutations = 999;
  d.z = 3.5;
  d.p_value = 0.002;
  d.repeated = 1;
}

void add_matchings(comparison_report& r) {
  expert_matching_figures e;
  e.layer = 0;
  e.available = true;
  e.roles = {"mlp.experts.gate_proj.weight"};
  e.sample_elements = 128;
  e.experts_a = {0, 1, 2};
  e.experts_b = {0, 1, 2, 3};
  e.matched_b = {1, 0, -1};
  e.similarity = {0.1, 0.9, 0.0, 0.2, 0.8, 0.1, 0.3, NAN, 0.2, 0.1, 0.0, 0.1};
  e.score = 0.85;
  e.permutations = 99;
  e.null = {0.1, 0.02, 0.05, 0.1, 0.15, 0.04, 0.16};
  e.z = 37.5;
  e.p_value = 0.01;
  e.moved = 2;
  e.unmatched_a = 1;
  e.unmatched_b = 2;
  expert_matching_figures mtp;
  mtp.layer = 0;
  mtp.mtp = true;
  mtp.reason = "one expert";
  r.expert_matching = {e, mtp};
  neuron_matching_figures n;
  n.layer = 0;
  n.group = "mlp.";
  n.available = true;
  n.neurons_a = n.neurons_b = 16;
  n.hidden = 8;
  n.columns = 24;
  n.ranked = 16;
  n.spearman = 0.125;
  n.z = 0.5;
  n.p_closed = 0.3;
  n.moved = 3;
  n.combined = {1, 0, -1};
  r.neuron_matching = {n};
  hidden_matching_figures h;
  h.role = "embed_tokens.weight";
  h.available = true;
  h.hidden = h.hidden_b = 8;
  h.rows = 16;
  h.ranked = 8;
  h.permutations = 99;
  h.p_permutation = 0.01;
  h.negated = {2};
  h.combined = {0, 2, 1};
  h.aligned_pairs = 3;
  r.hidden_matching = {h};
  head_matching_figures a;
  a.layer = 0;
  a.available = a.applied = true;
  a.heads = 4;
  a.kv_heads = 2;
  a.head_dim = 2;
  a.columns = 8;
  a.by_q = {1, 0, 3, 2};
  a.by_k = {0, 1};
  a.combined = {1, 0, 3, 2};
  a.combined_kv = {0, 1};
  r.head_matching = {a};
}

void add_fingerprints_and_panel(comparison_report& r) {
  fingerprint_pair_figures p;
  p.layer = 0;
  p.role = "self_attn.kv_a_proj_with_mqa.weight";
  p.name_a = "a.weight";
  p.name_b = "b.weight";
  p.shape_a = {8, 4};
  p.shape_b = {6, 4};
  p.a = {32, 0.001, 0.02, 0.5, {0.7, 0.5, 0.3}, true};
  p.b = {24, NAN, NAN, NAN, {}, false};
  r.fingerprints.pairs = {p};
  fingerprint_test& t = r.fingerprints.test;
  t.available = true;
  t.roles = {p.role};
  t.layers = {0, 1, 2, 3, 4, 5, 6};
  t.series = 3;
  t.statistic = 0.4;
  t.null = {0.1, -0.2, 0.05, NAN, 0.0, 0.3};
  t.z = 1.5;
  t.p_value = 1.0 / 7;
  panel_comparison c;
  c.side = 'b';
  c.reference = "/ref";
  c.source = "ref/report.h5";
  c.tensors.resize(5);
  panel_role_figures role;
  role.role = "mlp.experts.gate_proj.weight";
  role.layers = 3;
  role.pearson = 0.02;
  role.panel_pearson = {0.01, NAN};
  role.panel_cosine = {0.3, 0.31};
  role.panel_pearson_max = -INFINITY;
  r.panel.comparisons = {c, panel_comparison{}};
  r.panel.roles = {role};
}

void add_manifest_and_content(comparison_report& r) {
  r.manifest.config_json = R"({"alpha":0.01,"models":["/a","/b"],"seed":12})";
  r.manifest.rank_runs = {{0, "node1", 0.5, 1.25, 2, 0, 0.1, 4.5, 1 << 20, 7, 2, 1 << 30},
                          {1, "node2", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}};
  r.model_b.config_json = "not json";
  r.tokenizers = R"({"available":true,"identical":false,"shared":17})";
  r.content.digests = r.content.sha256 = true;
  for (side_content* side : {&r.content.a, &r.content.b}) {
    side->files = {{"config.json", "", 120}, {"model.safetensors", "", 4096}};
    side->sha256 = {std::string(64, 'a'), std::string(64, '0')};
    side->weight_files = {0, 1};
    side->tensors = {{"model.norm.weight", dtype::bf16, {8}, 1, 80, 16, 0, 1}};
    side->tensor_digests = {0xfedcba9876543210};
  }
}

// build_report's report with every part report.json carries made non-default (NaN, −1, '\b').
comparison_report full_report() {
  comparison_report r = built_report();
  add_layer_structure(r);
  add_matchings(r);
  add_fingerprints_and_panel(r);
  add_manifest_and_content(r);
  tensor_pair& embed = r.tensors.front().pair;
  embed.pairing = "shared tokens";
  embed.rows_a = {0, 2, 5};
  embed.rows_b = {1, 2, 4};
  r.tensors.back().pair.exclude_begin = 1;
  r.tensors.back().pair.exclude_end = 3;
  return r;
}

TEST(ReportJsonRead, ABuiltReportReSerialisesToTheSameBytes) {
  const comparison_report report = built_report();
  const std::string text = report_json_text(report);
  const comparison_report back = report_from_json(json::parse(text), label);
  EXPECT_EQ(report_json_text(back), text);
  ASSERT_EQ(back.tensors.size(), report.tensors.size());
  EXPECT_EQ(back.unpaired.size(), 1U);
  EXPECT_EQ(back.unpaired[0].side, 'b');
  EXPECT_EQ(back.unpaired[0].type, dtype::f16);
  EXPECT_EQ(back.evidence.verdict.label, report.evidence.verdict.label);
  EXPECT_EQ(back.units.size(), report.units.size());
  std::size_t directions = 0;
  for (std::size_t t = 0; t < report.tensors.size(); ++t) {
    EXPECT_EQ(back.tensors[t].pair.key, report.tensors[t].pair.key);
    EXPECT_EQ(back.tensors[t].pair.axes, report.tensors[t].pair.axes);
    EXPECT_EQ(back.tensors[t].null.available, report.tensors[t].null.available);
    EXPECT_EQ(back.tensors[t].null.p_value, report.tensors[t].null.p_value);
    directions += back.tensors[t].null.directions;
  }
  EXPECT_GT(directions, 0U) << "no null with slice directions: the test covers less than it says";
  EXPECT_EQ(back.tensors[1].moments.nonfinite_a, 1U);
  EXPECT_FALSE(back.tensors[1].null.available);
  EXPECT_EQ(back.tensors[1].null.reason, "non-finite values");
}

TEST(ReportJsonRead, EveryCarriedFieldComesBack) {
  const comparison_report report = full_report();
  const std::string text = report_json_text(report);
  const comparison_report back = report_from_json(json::parse(text), label);
  EXPECT_EQ(report_json_text(back), text);
  EXPECT_EQ(back.cross_layers[0].pearson.size(), 6U);
  EXPECT_TRUE(std::isnan(back.cross_layers[0].pearson[2]));
  EXPECT_TRUE(back.cross_layers[1].pearson.empty());
  EXPECT_EQ(back.depth.matched_a, (std::vector<std::int32_t>{0, 1, 1}));
  EXPECT_EQ(back.expert_matching[0].matched_b, (std::vector<std::int32_t>{1, 0, -1}));
  EXPECT_TRUE(std::isnan(back.expert_matching[0].identity_score));
  EXPECT_EQ(back.head_matching[0].by_q, report.head_matching[0].by_q);
  EXPECT_EQ(back.hidden_matching[0].negated, std::vector<std::int32_t>{2});
  EXPECT_EQ(back.fingerprints.pairs[0].a.spectrum, report.fingerprints.pairs[0].a.spectrum);
  EXPECT_FALSE(back.fingerprints.pairs[0].b.finite);
  EXPECT_EQ(back.panel.comparisons[0].side, 'b');
  EXPECT_EQ(back.panel.comparisons[0].tensors.size(), 5U);
  EXPECT_TRUE(std::isnan(back.panel.roles[0].panel_pearson_max));  // −∞ is written as null
  EXPECT_EQ(back.manifest.rank_runs[0].peak_resident_bytes, 1U << 30);
  EXPECT_EQ(back.manifest.config_json, report.manifest.config_json);
  EXPECT_EQ(back.model_b.config_json, "not json");
  EXPECT_EQ(back.tokenizers, report.tokenizers);
  EXPECT_EQ(back.content.b.tensor_digests, report.content.b.tensor_digests);
  EXPECT_EQ(back.content.b.sha256, report.content.b.sha256);
  EXPECT_EQ(back.tensors.front().pair.rows_b, report.tensors.front().pair.rows_b);
  EXPECT_EQ(back.tensors.back().pair.exclude_end, 3U);
  EXPECT_EQ(back.tensors.front().pair.key.layer, -1);
}

TEST(ReportJsonRead, TokenizersThatWereNotReadStayEmpty) {
  comparison_report report = built_report();
  report.tokenizers.clear();
  const std::string text = report_json_text(report);
  const comparison_report back = report_from_json(json::parse(text), label);
  EXPECT_EQ(back.tokenizers, "");
  EXPECT_EQ(report_json_text(back), text);
}

// The message of the input_error report_from_json throws for `document`, or "" when it accepts it.
std::string refusal(const json& document) {
  try {
    (void)report_from_json(document, label);
  } catch (const input_error& e) {
    return e.what();
  }
  return "";
}

class HostileDocument : public ::testing::Test {
 protected:
  HostileDocument() : document_(json::parse(report_json_text(full_report()))) {}
  // `change` applied to a copy of the good document must be refused with `expected` in the message.
  void expect_refused(const std::function<void(json&)>& change, const std::string& expected) {
    json document = document_;
    change(document);
    const std::string message = refusal(document);
    EXPECT_NE(message.find(label + ": " + expected), std::string::npos) << "message: " << message;
  }
  json document_;
};

TEST_F(HostileDocument, AWrongTypeNamesTheKeyPath) {
  std::size_t with_null = 0;
  while (!document_["tensors"][with_null]["null"]["available"].get<bool>()) ++with_null;
  const std::string at = "tensors[" + std::to_string(with_null) + "].null.cosine.mean";
  expect_refused([&](json& d) { d["tensors"][with_null]["null"]["cosine"]["mean"] = "0.5"; },
                 at + ": expected a number or null, found a string");
  expect_refused([](json& d) { d["verdict"]["evidence"][0] = 7; }, "verdict.evidence[0]: expected a string, found 7");
  expect_refused([](json& d) { d["manifest"]["content_digests"] = 1; },
                 "manifest.content_digests: expected true or false, found 1");
  expect_refused([](json& d) { d["roles"]["norm.weight"] = json::object(); },
                 "roles[\"norm.weight\"]: expected an array, found an object");
  expect_refused([](json& d) { d["tensors"][0]["dtype_a"] = "Q4_K"; }, "tensors[0].dtype_a: \"Q4_K\" is not a dtype");
  expect_refused([](json& d) { d["tensors"][0]["axes"] = "[vocab, sideways]"; },
                 "tensors[0].axes: \"sideways\" is not an axis kind");
  expect_refused([](json& d) { d["unpaired"][0]["side"] = "c"; }, "unpaired[0].side: expected \"a\" or \"b\"");
  expect_refused([](json& d) { d["units"][0]["group_spec"]["form"] = "any"; }, "units[0].group_spec.form: \"any\"");
  expect_refused([](json& d) { d["models"]["a"]["tensors"][0]["xxh3"] = "XYZ"; },
                 "models.a.tensors[0].xxh3: expected 16 lower-case hex digits");
  expect_refused([](json& d) { d["format"] = "other"; }, "format: \"other\" is not \"lineage-report\"");
  expect_refused([](json& d) { d = json::array(); }, "expected an object, found an array");
}

TEST_F(HostileDocument, AMissingKeyNamesTheKeyPath) {
  expect_refused([](json& d) { d["tensors"][0].erase("pairing"); }, "tensors[0].pairing: missing");
  expect_refused([](json& d) { d["layer_structure"].erase("depth_alignment"); },
                 "layer_structure.depth_alignment: missing");
  expect_refused([](json& d) { d["expert_matching"][0]["null"].erase("q99"); }, "expert_matching[0].null.q99: missing");
  expect_refused([](json& d) { d["models"]["b"]["tensors"][0]["file"] = "other.safetensors"; },
                 "models.b.tensors[0].file: \"other.safetensors\" is not in checkpoint_files");
}

TEST_F(HostileDocument, IntegersAreRangeCheckedNotWrapped) {
  expect_refused([](json& d) { d["summary"]["unpaired_a"] = -1; },
                 "summary.unpaired_a: expected a non-negative integer, found -1");
  expect_refused([](json& d) { d["units"][0]["permutations"] = std::uint64_t{1} << 32; },
                 "units[0].permutations: 4294967296 is out of range (at most 4294967295)");
  expect_refused([](json& d) { d["tensors"][0]["layer"] = -2; },
                 "tensors[0].layer: expected a non-negative integer or null, found -2");
  expect_refused([](json& d) { d["manifest"]["ranks"] = 1.5; }, "manifest.ranks: expected an integer, found 1.5");
  expect_refused([](json& d) { d["format_version"] = 2; }, "format_version: version 2, this lineage reads version 1");
}

TEST_F(HostileDocument, SizesAreCheckedAgainstEachOther) {
  expect_refused([](json& d) { d["layer_structure"]["cross_layer"][0]["pearson"][1].erase(0); },
                 "layer_structure.cross_layer[0].pearson[1]: 2 entries (expected 3)");
  expect_refused([](json& d) { d["layer_structure"]["depth_alignment"]["similarity"].erase(0); },
                 "layer_structure.depth_alignment.similarity: 1 rows (expected none or 2 of 3)");
  expect_refused([](json& d) { d["expert_matching"][0]["matched_b"].push_back(0); },
                 "expert_matching[0].matched_b: 4 entries for 3 experts of A");
  expect_refused([](json& d) { d["summary"]["tensor_pairs"] = 1; }, "summary.tensor_pairs: 1 for ");
  expect_refused([](json& d) { d["tensors"][0]["rows"]["b"].push_back(9); },
                 "tensors[0].rows: 3 rows of A meet 4 rows of B");
  expect_refused([](json& d) { d["fingerprints"]["test"]["null"].push_back(0.5); },
                 "fingerprints.test.null: 7 shifts for 7 layers");
  expect_refused([](json& d) { d["fingerprints"]["pairs"][0]["a"]["spectrum"] = std::vector<double>(9, 0.1); },
                 "fingerprints.pairs[0].a.spectrum: 9 singular values (at most 8)");
  expect_refused([](json& d) { d["models"]["a"]["file_sizes"].push_back(1); }, "models.a.file_sizes: 2 sizes for 1 files");
}

TEST_F(HostileDocument, AnAbsurdCountIsRefusedBeforeItIsAllocated) {
  expect_refused([](json& d) { d["reference_panel"]["comparisons"][0]["tensor_pairs"] = std::uint64_t{1} << 60; },
                 "reference_panel.comparisons[0].tensor_pairs: 1152921504606846976 tensor pairs: more than the");
  expect_refused(
      [](json& d) {
        d["reference_panel"]["comparisons"][0]["tensor_pairs"] = std::uint64_t{1} << 21;
        d["reference_panel"]["comparisons"][1]["tensor_pairs"] = std::uint64_t{1} << 22;
      },
      "reference_panel.comparisons[1].tensor_pairs: 4194304 tensor pairs: more than the");
}

// read_report_document: the model read back from report.h5 must re-serialise to the stored text.
TEST(ReportDocument, CarriesTheModelAndRefusesADocumentThatDoesNotReSerialise) {
  test::scratch_directory dir{"report-json-read"};
  const comparison_report report = full_report();
  const std::string text = report_json_text(report);
  const auto good = dir.path() / "good.h5";
  test::write_text(good, report_h5_image(report, good.string(), text));
  const report_document document = read_report_document(good);
  EXPECT_EQ(report_json_text(document.model), text);
  EXPECT_EQ(document.model.tensors.size(), report.tensors.size());
  EXPECT_EQ(document.pearson_null.size(), report.tensors.size());

  // Valid JSON the reader accepts, but not what lineage writes: an extra key.
  json changed = json::parse(text);
  changed["tensors"][0]["extra"] = 1;
  const auto extra = dir.path() / "extra.h5";
  test::write_text(extra, report_h5_image(report, extra.string(), changed.dump(1) + "\n"));
  std::string message;
  try {
    (void)read_report_document(extra);
  } catch (const input_error& e) {
    message = e.what();
  }
  EXPECT_NE(message.find(extra.string() + ": /report_json: not a report this version of lineage writes (it differs "
                                          "from its own re-serialisation at byte "),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(R"(\"extra\": 1)"), std::string::npos) << message;
}

}  // namespace
}  // namespace lineage
