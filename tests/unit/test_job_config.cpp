// The compare job's configuration (job/job_config): YAML job-file keys, the command line over the
// file, and usage errors that name the file, the key and what is wrong.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "job/job_config.hpp"
#include "plan/plan.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

// Succeeds when `action` throws usage_error whose message contains every fragment.
::testing::AssertionResult throws_usage_error(const std::function<void()>& action,
                                              const std::vector<std::string>& fragments) {
  try {
    action();
  } catch (const usage_error& e) {
    const std::string message = e.what();
    for (const auto& fragment : fragments)
      if (message.find(fragment) == std::string::npos)
        return ::testing::AssertionFailure() << "message '" << message << "' lacks '" << fragment << "'";
    if (e.status() != exit_status::bad_input)
      return ::testing::AssertionFailure() << "usage_error should exit with status 2";
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw something other than usage_error: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

class JobConfig : public ::testing::Test {
 protected:
  std::string job_file(const std::string& text, const std::string& name = "job.yaml") {
    return test::write_text(dir_.path() / name, text).string();
  }
  compare_config resolve_file(const std::string& text) {
    compare_arguments args;
    args.config_file = job_file(text);
    return resolve_compare_config(args);
  }
  ::testing::AssertionResult file_rejected(const std::string& text, std::vector<std::string> fragments) {
    const std::string path = job_file(text);
    fragments.insert(fragments.begin(), path);
    compare_arguments args;
    args.config_file = path;
    return throws_usage_error([&] { (void)resolve_compare_config(args); }, fragments);
  }

  test::scratch_directory dir_{"jobconfig"};
};

TEST_F(JobConfig, ReadsEveryKeyOfTheJobFile) {
  const std::string text =
      "model_a: /models/a\n"
      "model_b: /models/b\n"
      "output: /out/run1\n"
      "block_elements: 65536\n"
      "arch_dir: /rules\n";
  const compare_config config = resolve_file(text);
  EXPECT_EQ(config.model_a, "/models/a");
  EXPECT_EQ(config.model_b, "/models/b");
  EXPECT_EQ(config.output_dir, "/out/run1");
  EXPECT_EQ(config.block_elements, 65536U);
  ASSERT_TRUE(config.arch_dir.has_value());
  EXPECT_EQ(*config.arch_dir, "/rules");
  ASSERT_TRUE(config.config_file.has_value());
  EXPECT_EQ(*config.config_file, (dir_.path() / "job.yaml").string());
  EXPECT_EQ(config.config_text, text);  // kept verbatim for the manifest
  const nlohmann::json j = config.to_json();
  EXPECT_EQ(j.at("model_a"), "/models/a");
  EXPECT_EQ(j.at("output"), "/out/run1");
  EXPECT_EQ(j.at("block_elements"), 65536);
  EXPECT_EQ(j.at("arch_dir"), "/rules");
  EXPECT_EQ(j.at("config_text"), text);
}

TEST_F(JobConfig, CommandLineOnlyUsesDefaults) {
  compare_arguments args;
  args.model_a = "a";
  args.model_b = "b";
  args.output_dir = "out";
  const compare_config config = resolve_compare_config(args);
  EXPECT_EQ(config.block_elements, default_block_elements);
  EXPECT_FALSE(config.arch_dir.has_value());
  EXPECT_FALSE(config.config_file.has_value());
  EXPECT_EQ(config.config_text, "");
  const nlohmann::json j = config.to_json();
  EXPECT_TRUE(j.at("arch_dir").is_null());
  EXPECT_TRUE(j.at("config_file").is_null());
  EXPECT_FALSE(j.contains("config_text"));
}

TEST_F(JobConfig, CommandLineOverridesTheFile) {
  compare_arguments args;
  args.config_file = job_file(
      "model_a: file_a\nmodel_b: file_b\noutput: file_out\nblock_elements: 100\narch_dir: file_rules\n");
  args.model_a = "cli_a";
  args.output_dir = "cli_out";
  args.block_elements = 4096;
  args.arch_dir = "cli_rules";
  const compare_config config = resolve_compare_config(args);
  EXPECT_EQ(config.model_a, "cli_a");
  EXPECT_EQ(config.model_b, "file_b");  // not given on the command line: the file's
  EXPECT_EQ(config.output_dir, "cli_out");
  EXPECT_EQ(config.block_elements, 4096U);
  EXPECT_EQ(config.arch_dir, "cli_rules");
}

TEST_F(JobConfig, HeadMatchingKeysAndOptions) {
  const compare_config defaults = resolve_file("model_a: a\nmodel_b: b\noutput: out\n");
  EXPECT_TRUE(defaults.match_heads);
  EXPECT_EQ(defaults.permutations_heads, 1000U);
  compare_arguments args;
  args.config_file = job_file("model_a: a\nmodel_b: b\noutput: out\nhead_matching: false\npermutations_heads: 250\n");
  compare_config config = resolve_compare_config(args);
  EXPECT_FALSE(config.match_heads);
  EXPECT_EQ(config.permutations_heads, 250U);
  EXPECT_EQ(config.to_json().at("head_matching"), false);
  EXPECT_EQ(config.to_json().at("permutations_heads"), 250);
  args.permutations_heads = 40;
  EXPECT_EQ(resolve_compare_config(args).permutations_heads, 40U);
  args.permutations_heads = 0;  // always a permutation null
  EXPECT_TRUE(throws_usage_error([&] { (void)resolve_compare_config(args); }, {"--permutations-heads"}));
  EXPECT_TRUE(file_rejected("permutations_heads: 0\n", {"permutations_heads", "at least 1"}));
  args = {};
  args.model_a = "a";
  args.model_b = "b";
  args.output_dir = "out";
  args.no_head_matching = true;
  EXPECT_FALSE(resolve_compare_config(args).match_heads);
}

TEST_F(JobConfig, UnknownKeyIsNamedWithTheFile) {
  EXPECT_TRUE(
      file_rejected("model_a: a\nblock_size: 100\n", {"key 'block_size'", "unknown", "block_elements"}));
  EXPECT_TRUE(file_rejected("Model_A: a\n", {"key 'Model_A'", "unknown"}));
}

TEST_F(JobConfig, BlockElementsMustBeAPositiveInteger) {
  for (const std::string bad :
       {"12.5", "abc", "-3", "0", "1e6", "0x100", "+5", "18446744073709551616", "[1, 2]", "''"}) {
    SCOPED_TRACE(bad);
    EXPECT_TRUE(file_rejected("block_elements: " + bad + "\n", {"key 'block_elements'", "positive integer"}));
  }
  EXPECT_TRUE(file_rejected("block_elements:\n", {"key 'block_elements'", "(not a scalar)"}));
  EXPECT_EQ(resolve_file("model_a: a\nmodel_b: b\noutput: o\nblock_elements: 18446744073709551615\n")
                .block_elements,
            18446744073709551615ull);
}

// A value made of decimal digits means that decimal number: a leading zero does not switch to octal.
TEST_F(JobConfig, BlockElementsWithLeadingZeroIsDecimal) {
  // yaml-cpp's integer conversion reads "0100" as octal 64 and rejects "08"; digits mean decimal.
  EXPECT_EQ(resolve_file("model_a: a\nmodel_b: b\noutput: o\nblock_elements: 0100\n").block_elements, 100U);
  EXPECT_EQ(resolve_file("model_a: a\nmodel_b: b\noutput: o\nblock_elements: 08\n").block_elements, 8U);
}

TEST_F(JobConfig, StringKeysMustBeNonEmptyScalars) {
  EXPECT_TRUE(file_rejected("model_a:\n", {"key 'model_a'", "non-empty string"}));
  EXPECT_TRUE(file_rejected("model_b: [x, y]\n", {"key 'model_b'", "non-empty string"}));
  EXPECT_TRUE(file_rejected("output: {dir: x}\n", {"key 'output'", "non-empty string"}));
  EXPECT_TRUE(file_rejected("arch_dir: ''\n", {"key 'arch_dir'", "non-empty string"}));
}

TEST_F(JobConfig, BrokenFilesAreNamed) {
  EXPECT_TRUE(file_rejected("model_a: [unclosed\n", {"invalid YAML", "line"}));
  EXPECT_TRUE(file_rejected("- model_a\n- model_b\n", {"expected a mapping"}));
  compare_arguments args;
  args.config_file = (dir_.path() / "absent.yaml").string();
  EXPECT_TRUE(throws_usage_error([&] { (void)resolve_compare_config(args); },
                                 {"absent.yaml", "cannot read the job file"}));
}

TEST_F(JobConfig, MissingValuesAreNamed) {
  compare_arguments args;
  args.model_b = "b";
  args.output_dir = "o";
  EXPECT_TRUE(throws_usage_error([&] { (void)resolve_compare_config(args); }, {"model A", "missing"}));
  args.model_a = "a";
  args.model_b.reset();
  EXPECT_TRUE(throws_usage_error([&] { (void)resolve_compare_config(args); }, {"model B", "missing"}));
  args.model_b = "b";
  args.output_dir.reset();
  EXPECT_TRUE(throws_usage_error([&] { (void)resolve_compare_config(args); }, {"--output", "missing"}));
  // With a job file the message also points at its keys; an empty file sets nothing.
  args.config_file = job_file("");
  EXPECT_TRUE(throws_usage_error([&] { (void)resolve_compare_config(args); }, {"--output", "job file"}));
  args.output_dir = "o";
  EXPECT_EQ(resolve_compare_config(args).output_dir, "o");
}

TEST_F(JobConfig, CommandLineBlockElementsZeroIsRejected) {
  compare_arguments args;
  args.model_a = "a";
  args.model_b = "b";
  args.output_dir = "o";
  args.block_elements = 0;
  EXPECT_TRUE(
      throws_usage_error([&] { (void)resolve_compare_config(args); }, {"--block-elements", "at least 1"}));
}

}  // namespace
}  // namespace lineage

namespace lineage {
namespace {

TEST_F(JobConfig, ReferencePanelAndPanelReportsAreListsOfPaths) {
  const compare_config config = resolve_file(
      "model_a: a\nmodel_b: b\noutput: out\npermutations_experts: 0\n"
      "reference_panel: [r1, r2]\npanel_reports:\n  - p/a.h5\n");
  EXPECT_EQ(config.reference_panel, (std::vector<std::string>{"r1", "r2"}));
  EXPECT_EQ(config.panel_reports, (std::vector<std::string>{"p/a.h5"}));
  EXPECT_EQ(config.permutations_experts, 0u);
  EXPECT_EQ(config.to_json().at("reference_panel"), nlohmann::json({"r1", "r2"}));
  // A single path is a list of one; the command line replaces the file's list.
  compare_arguments args;
  args.config_file = job_file("model_a: a\nmodel_b: b\noutput: out\nreference_panel: r9\n", "one.yaml");
  EXPECT_EQ(resolve_compare_config(args).reference_panel, (std::vector<std::string>{"r9"}));
  args.reference_panel = {"r7", "r8"};
  EXPECT_EQ(resolve_compare_config(args).reference_panel, (std::vector<std::string>{"r7", "r8"}));
}

TEST_F(JobConfig, BadPanelEntriesAreNamed) {
  EXPECT_TRUE(file_rejected("model_a: a\nmodel_b: b\noutput: o\nreference_panel: {x: 1}\n",
                            {"reference_panel", "list of paths"}));
  EXPECT_TRUE(file_rejected("model_a: a\nmodel_b: b\noutput: o\npanel_reports: [ok, '']\n",
                            {"panel_reports[1]", "non-empty string"}));
  EXPECT_TRUE(file_rejected("model_a: a\nmodel_b: b\noutput: o\nreference_panel: [c, b]\n",
                            {"reference_panel", "b", "model A or B itself"}));
  EXPECT_TRUE(file_rejected("model_a: a\nmodel_b: b\noutput: o\npermutations_experts: -3\n",
                            {"permutations_experts", "whole number"}));
}

}  // namespace
}  // namespace lineage

namespace lineage {
namespace {

TEST_F(JobConfig, EvidenceSwitchesFromTheFileAndTheCommandLine) {
  const compare_config defaults = resolve_file("model_a: a\nmodel_b: b\noutput: out\n");
  EXPECT_TRUE(defaults.cross_layer);
  EXPECT_TRUE(defaults.fingerprints);
  EXPECT_TRUE(defaults.tokenizers);
  compare_arguments args;
  args.config_file =
      job_file("model_a: a\nmodel_b: b\noutput: out\ncross_layer: false\nfingerprints: false\ntokenizers: true\n");
  compare_config config = resolve_compare_config(args);
  EXPECT_FALSE(config.cross_layer);
  EXPECT_FALSE(config.fingerprints);
  EXPECT_TRUE(config.tokenizers);
  args.no_tokenizers = true;  // a --no-* flag switches off what the file switched on
  EXPECT_FALSE(resolve_compare_config(args).tokenizers);
  EXPECT_TRUE(file_rejected("cross_layer: maybe\n", {"key 'cross_layer'", "true or false", "maybe"}));
  EXPECT_TRUE(file_rejected("fingerprints: [true]\n", {"key 'fingerprints'", "true or false"}));
}

TEST_F(JobConfig, MemoryBudgetTakesUnits) {
  EXPECT_EQ(parse_byte_size("1000000", "x"), 1000000u);
  EXPECT_EQ(parse_byte_size("512MiB", "x"), 512ull << 20);
  EXPECT_EQ(parse_byte_size("512M", "x"), 512ull << 20);
  EXPECT_EQ(parse_byte_size("8 GiB", "x"), 8ull << 30);
  EXPECT_EQ(parse_byte_size("8GB", "x"), 8000000000ull);
  EXPECT_EQ(parse_byte_size("2T", "x"), 2ull << 40);
  EXPECT_EQ(parse_byte_size("64B", "x"), 64u);
  for (const std::string bad : {"", "GiB", "8 gib", "8XB", "-1G", "1.5G", "0", "0GiB", "99999999999T"}) {
    SCOPED_TRACE(bad);
    EXPECT_THROW((void)parse_byte_size(bad, "--memory-budget"), usage_error);
  }
  EXPECT_TRUE(throws_usage_error([] { (void)parse_byte_size("8 gib", "--memory-budget"); },
                                 {"--memory-budget", "8GiB", "'8 gib'"}));
  EXPECT_EQ(resolve_file("model_a: a\nmodel_b: b\noutput: o\nmemory_budget: 6GiB\n").memory_budget, 6ull << 30);
  EXPECT_EQ(resolve_file("model_a: a\nmodel_b: b\noutput: o\n").memory_budget, 0u);  // none set
  EXPECT_TRUE(file_rejected("memory_budget: lots\n", {"key 'memory_budget'", "'lots'"}));
  compare_arguments args;
  args.config_file = job_file("model_a: a\nmodel_b: b\noutput: o\nmemory_budget: 6GiB\n");
  args.memory_budget = "100MiB";
  EXPECT_EQ(resolve_compare_config(args).memory_budget, 100ull << 20);
}

TEST_F(JobConfig, IoModeIsMapOrRead) {
  EXPECT_EQ(resolve_file("model_a: a\nmodel_b: b\noutput: o\n").io, io_mode::map);
  EXPECT_EQ(resolve_file("model_a: a\nmodel_b: b\noutput: o\nio_mode: read\n").io, io_mode::read);
  EXPECT_TRUE(file_rejected("io_mode: mmap\n", {"key 'io_mode'", "map, read", "'mmap'"}));
  compare_arguments args;
  args.model_a = "a";
  args.model_b = "b";
  args.output_dir = "o";
  args.io_mode = "direct";
  EXPECT_TRUE(throws_usage_error([&] { (void)resolve_compare_config(args); }, {"--io", "map, read", "direct"}));
}

TEST_F(JobConfig, Sha256FilesIsAKeyAndAFlag) {
  EXPECT_FALSE(resolve_file("model_a: a\nmodel_b: b\noutput: o\n").sha256_files);
  EXPECT_TRUE(resolve_file("model_a: a\nmodel_b: b\noutput: o\nsha256_files: true\n").sha256_files);
  EXPECT_TRUE(file_rejected("sha256_files: maybe\n", {"key 'sha256_files'", "'maybe'"}));
  compare_arguments args;
  args.config_file = job_file("model_a: a\nmodel_b: b\noutput: o\nsha256_files: false\n");
  args.sha256 = true;
  EXPECT_TRUE(resolve_compare_config(args).sha256_files);
}

// Rank 0's resolved config reaches the other ranks as its JSON: every field survives the trip.
TEST_F(JobConfig, JsonRoundTripKeepsEveryField) {
  compare_arguments args;
  args.config_file = job_file(
      "model_a: /m/a\nmodel_b: /m/b\noutput: /o\nblock_elements: 777\narch_dir: /rules\npermutations_vector: 11\n"
      "permutations_matrix: 12\npermutations_experts: 13\npermutations_neurons: 14\npermutations_heads: 15\n"
      "neuron_matching: false\nhidden_matching: false\nhead_matching: false\ncross_layer: false\n"
      "fingerprints: false\ntokenizers: false\nseed: 99\nalpha: 0.05\nreference_panel: [r1]\n"
      "panel_reports: [p.h5]\nmemory_budget: 3GiB\nio_mode: read\nsha256_files: true\n");
  const compare_config config = resolve_compare_config(args);
  const compare_config back = compare_config::from_json(nlohmann::json::parse(config.to_json().dump()));
  EXPECT_EQ(back.to_json(), config.to_json());
  EXPECT_EQ(back.io, io_mode::read);
  EXPECT_EQ(back.memory_budget, 3ull << 30);
  EXPECT_TRUE(back.sha256_files);
  EXPECT_EQ(back.config_text, config.config_text);
  EXPECT_THROW((void)compare_config::from_json(nlohmann::json{{"model_a", "x"}}), internal_error);
}

// The job files shipped in configs/ are valid: a user who fills in the paths gets a runnable job.
TEST_F(JobConfig, ShippedJobFilesResolve) {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::path(LINEAGE_SOURCE_DIR) / "configs")) {
    if (entry.path().extension() != ".yaml") continue;
    SCOPED_TRACE(entry.path().string());
    compare_arguments args;
    args.config_file = entry.path().string();
    EXPECT_NO_THROW((void)resolve_compare_config(args));
    ++files;
  }
  EXPECT_GE(files, 2);
}

}  // namespace
}  // namespace lineage

namespace lineage {
namespace {

// The reference panel as a job array: member I of the job file alone, or the job merging them.
TEST_F(JobConfig, PanelTasksOfTheJobFile) {
  compare_arguments args;
  args.config_file = job_file("model_a: a\nmodel_b: b\noutput: out\nreference_panel: [r1, r2]\n");
  const compare_config whole = resolve_compare_config(args);
  EXPECT_EQ(panel_task_count(whole), 4u);
  args.panel_member = 3;  // B against r2
  const compare_config member = resolve_compare_config(args);
  EXPECT_EQ(member.model_a, "b");
  EXPECT_EQ(member.model_b, "r2");
  EXPECT_EQ(member.output_dir, "out/panel/3");
  EXPECT_TRUE(member.reference_panel.empty());
  EXPECT_EQ(member.permutations_matrix, 0u);  // as a panel comparison inside the job
  EXPECT_FALSE(member.match_hidden);
  args.panel_member = 4;
  EXPECT_TRUE(throws_usage_error([&] { (void)resolve_compare_config(args); },
                                 {"--panel-member", "4", "key 'reference_panel'", "0 to 3"}));
  args.panel_member.reset();
  args.panel_from_tasks = true;
  const compare_config merging = resolve_compare_config(args);
  EXPECT_TRUE(merging.reference_panel.empty());
  EXPECT_EQ(merging.panel_reports, (std::vector<std::string>{"out/panel/0/report.h5", "out/panel/1/report.h5",
                                                               "out/panel/2/report.h5", "out/panel/3/report.h5"}));
  args.panel_member = 0;
  EXPECT_TRUE(throws_usage_error([&] { (void)resolve_compare_config(args); }, {"--panel-member", "--panel-from-tasks"}));
  compare_arguments none;
  none.config_file = job_file("model_a: a\nmodel_b: b\noutput: out\n", "none.yaml");
  none.panel_from_tasks = true;
  EXPECT_TRUE(throws_usage_error([&] { (void)resolve_compare_config(none); },
                                 {"--panel-from-tasks", "no reference models", "none.yaml"}));
}

}  // namespace
}  // namespace lineage
