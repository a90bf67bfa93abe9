#include "report/report_json_read.hpp"

#include <fmt/format.h>

#include "report/report_json_read_parts.hpp"

namespace lineage {
namespace json_read {

statistic_null summary(const json_field& object) {
  statistic_null s;
  s.mean = object["mean"].number();
  s.sd = object["sd"].number();
  s.q01 = object["q01"].number();
  s.q50 = object["q50"].number();
  s.q99 = object["q99"].number();
  s.min = object["min"].number();
  s.max = object["max"].number();
  return s;
}

char side(const json_field& field) {
  const std::string name = field.text();
  if (name != "a" && name != "b") field.fail(fmt::format("expected \"a\" or \"b\", found \"{}\"", name));
  return name[0];
}

}  // namespace json_read

namespace {

using nlohmann::json;

void check_format(const json_field& document) {
  const json_field format = document["format"];
  if (format.text() != "lineage-report") format.fail(fmt::format("\"{}\" is not \"lineage-report\"", format.text()));
  const json_field version = document["format_version"];
  if (const auto found = version.integer<std::int64_t>(); found != 1)
    version.fail(fmt::format("version {}, this lineage reads version 1", found));
}

// The counts of "summary" (tensor_pairs is the tensors' count) and the status derived from them.
void read_summary(const json_field& document, comparison_report& report) {
  const json_field summary = document["summary"];
  const json_field pairs = summary["tensor_pairs"];
  if (pairs.integer<std::uint64_t>() != report.tensors.size())
    pairs.fail(fmt::format("{} for {} rows of tensors", pairs.integer<std::uint64_t>(), report.tensors.size()));
  report.unpaired_a = summary["unpaired_a"].integer<std::uint64_t>();
  report.unpaired_b = summary["unpaired_b"].integer<std::uint64_t>();
  report.tensors_with_nonfinite = summary["tensors_with_nonfinite"].integer<std::uint64_t>();
  report.compared_elements = summary["compared_elements"].integer<std::uint64_t>();
  const json_field status = document["status"];
  if (status.text() != report.status())
    status.fail(fmt::format("\"{}\" for {} tensor pairs (expected \"{}\")", status.text(), report.tensors.size(),
                            report.status()));
}

// report.tokenizers: the object without what tokenizers_object derives from the tensors, "" for
// the object it writes when the tokenizers were not read.
std::string tokenizers_text(const json_field& field) {
  (void)field["embedding_pairing"].size();  // an object that has it, as an array
  json object = field.value();
  object.erase("embedding_pairing");
  if (object == json{{"available", false}, {"reason", "the tokenizers were not read"}}) return {};
  return object.dump();
}

void read_content_and_models(const json_field& document, comparison_report& report) {
  const json_field manifest = document["manifest"];
  report.manifest = json_read::manifest(manifest);
  report.content.digests = manifest["content_digests"].flag();
  report.content.sha256 = manifest["sha256_files"].flag();
  const json_field models = document["models"];
  report.model_a = json_read::model(models["a"], report.content, report.content.a);
  report.model_b = json_read::model(models["b"], report.content, report.content.b);
}

}  // namespace

comparison_report report_from_json(const json& document, const std::string& label) {
  const json_field root(document, label);
  check_format(root);
  comparison_report report;
  read_content_and_models(root, report);
  report.tensors = json_read::tensors(root["tensors"]);
  read_summary(root, report);
  report.units = json_read::units(root["units"]);
  report.roles = json_read::roles(root["roles"]);
  report.unpaired = json_read::unpaired(root["unpaired"]);
  report.evidence.verdict = json_read::verdict(root["verdict"]);
  report.evidence.families = json_read::groups(root["families"], true);
  report.evidence.layers = json_read::groups(root["layers"], false);
  const json_field structure = root["layer_structure"];
  report.cross_layers = json_read::cross_layers(structure["cross_layer"]);
  report.depth = json_read::depth(structure["depth_alignment"]);
  report.expert_matching = json_read::expert_matching(root["expert_matching"]);
  report.neuron_matching = json_read::neuron_matching(root["neuron_matching"]);
  report.hidden_matching = json_read::hidden_matching(root["hidden_matching"]);
  report.head_matching = json_read::head_matching(root["head_matching"]);
  report.fingerprints = json_read::fingerprints(root["fingerprints"]);
  report.panel = json_read::panel(root["reference_panel"]);
  report.tokenizers = tokenizers_text(root["tokenizers"]);
  return report;
}

}  // namespace lineage
