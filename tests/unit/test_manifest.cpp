// The reproducibility manifest: the digest of digests, the gaps no block reads cut into pieces, the
// ranges a plan hashes (every byte of every tensor exactly covered, the same for any rank count), the
// merge of the ranks' hashes on rank 0, and the manifest read back from report.h5 as untrusted input.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/atomic_output.hpp"
#include "core/content_hash.hpp"
#include "core/error.hpp"
#include "h5/h5_seal.hpp"
#include "job/saved_work_check.hpp"
#include "plan/plan.hpp"
#include "plan/plan_content.hpp"
#include "reduce/block_results.hpp"
#include "reduce/content_manifest.hpp"
#include "report/manifest_reader.hpp"
#include "report/report_writers.hpp"
#include "safetensors_fixture.hpp"
#include "stats_test_support.hpp"

namespace lineage {
namespace {

using test::tensor_spec;

TEST(CombineHashes, IsXxh3OfTheLittleEndianWordsInOrder) {
  EXPECT_EQ(combine_hashes({}), fast_hash({}));
  const std::vector<std::uint64_t> hashes{0x0102030405060708ull, 0xfedcba9876543210ull};
  const std::vector<unsigned char> words{0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,
                                         0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe};
  EXPECT_EQ(combine_hashes(hashes), fast_hash(std::as_bytes(std::span(words))));
  const std::vector<std::uint64_t> swapped{hashes[1], hashes[0]};
  EXPECT_NE(combine_hashes(swapped), combine_hashes(hashes));
}

TEST(UncoveredPieces, CutsEveryGapFromItsStart) {
  // Nothing covered: the whole tensor in pieces, the last shorter.
  EXPECT_EQ(uncovered_pieces({}, 10, 4), (std::vector<byte_span>{{0, 4}, {4, 4}, {8, 2}}));
  // Covered in any order, with overlaps and an empty span: the gaps between, each cut on its own.
  EXPECT_EQ(uncovered_pieces({{12, 3}, {2, 3}, {3, 4}, {9, 0}}, 20, 3),
            (std::vector<byte_span>{{0, 2}, {7, 3}, {10, 2}, {15, 3}, {18, 2}}));
  EXPECT_TRUE(uncovered_pieces({{0, 5}, {5, 5}}, 10, 3).empty());
  EXPECT_TRUE(uncovered_pieces({}, 0, 3).empty());
  EXPECT_THROW((void)uncovered_pieces({}, 10, 0), internal_error);
}

std::vector<tensor_spec> llama_specs(int layers) {
  std::vector<tensor_spec> specs{
      {"model.embed_tokens.weight", {50, 16}}, {"model.norm.weight", {16}}, {"lm_head.weight", {50, 16}}};
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    specs.push_back({p + "input_layernorm.weight", {16}});
    specs.push_back({p + "self_attn.q_proj.weight", {16, 16}});
    specs.push_back({p + "mlp.up_proj.weight", {40, 16}});
  }
  return specs;
}

work_plan plan_for(const checkpoint& a, const checkpoint& b, int ranks) {
  return make_plan(a, b, test::embedded_registry(), {100, ranks, {}});
}

// Every tensor's ranges are in offset order, inside it, no longer than block_elements elements and
// cover each of its bytes; blocks own the ranges they read.
void expect_exact_cover(const work_plan& plan, const model_content& side, const checkpoint& model) {
  ASSERT_EQ(side.tensors.size(), model.tensors.size());
  for (std::size_t t = 0; t < side.tensors.size(); ++t) {
    const manifest_tensor& tensor = side.tensors[t];
    EXPECT_EQ(tensor.name, model.tensors[t].name);
    EXPECT_EQ(tensor.bytes, model.tensors[t].byte_length());
    std::uint64_t covered = 0;
    for (std::uint64_t k = tensor.first_range; k < tensor.first_range + tensor.range_count; ++k) {
      const hashed_range& range = side.ranges.at(k);
      EXPECT_EQ(range.tensor, t);
      EXPECT_EQ(range.offset, covered) << tensor.name << ": ranges are contiguous here (no block overlaps)";
      EXPECT_LE(range.length, plan.block_elements * dtype_size(tensor.type));
      covered = range.offset + range.length;
    }
    EXPECT_EQ(covered, tensor.bytes) << tensor.name;
  }
}

TEST(PlanContent, CoversEveryByteOfBothModelsWithBlocksAndDigestUnits) {
  // A has a layer B lacks: its tensors are unpaired, so digest units hash them.
  const checkpoint a = test::make_checkpoint("/models/a", "llama", llama_specs(3));
  const checkpoint b = test::make_checkpoint("/models/b", "llama", llama_specs(2));
  const work_plan plan = plan_for(a, b, 1);
  ASSERT_FALSE(plan.unpaired.empty());
  expect_exact_cover(plan, plan.content.a, a);
  expect_exact_cover(plan, plan.content.b, b);
  // Each block records its A and B range, which holds exactly its bytes.
  for (std::size_t i = 0; i < plan.blocks.size(); ++i) {
    const work_block& block = plan.blocks[i];
    for (int s = 0; s < 2; ++s) {
      const auto range = (s == 0 ? plan.content.block_range_a : plan.content.block_range_b).at(i);
      ASSERT_NE(range, no_range) << "block " << i;
      const model_content& side = plan.content.side(s);
      const hashed_range& r = side.ranges.at(static_cast<std::size_t>(range));
      const element_location& at = s == 0 ? block.a : block.b;
      EXPECT_EQ(side.tensors[r.tensor].byte_offset + r.offset, at.byte_offset);
      EXPECT_EQ(r.length, block.elements * dtype_size(at.type));
    }
  }
  // The digest units are exactly the ranges no block records.
  for (int s = 0; s < 2; ++s) {
    std::set<std::uint64_t> owned;
    for (const auto range : s == 0 ? plan.content.block_range_a : plan.content.block_range_b)
      owned.insert(static_cast<std::uint64_t>(range));
    std::set<std::uint64_t> units;
    for (const content_unit& unit : plan.content.units)
      if (unit.side == s) {
        EXPECT_FALSE(unit.whole_file);
        EXPECT_FALSE(owned.contains(unit.index));
        EXPECT_EQ(unit.bytes, plan.content.side(s).ranges.at(unit.index).length);
        units.insert(unit.index);
      }
    EXPECT_EQ(owned.size() + units.size(), plan.content.side(s).ranges.size());
  }
  EXPECT_FALSE(plan.content.units.empty());
  EXPECT_TRUE(std::all_of(plan.content.units.begin(), plan.content.units.end(), [](const content_unit& u) {
    return u.side == 0;
  })) << "B is read in place everywhere, so only A's unpaired layer needs digest units";
}

TEST(PlanContent, BReadThroughAnAlignmentIsHashedByDigestUnits) {
  const checkpoint a = test::make_checkpoint("/models/a", "llama", llama_specs(1));
  work_plan plan = plan_for(a, a, 1);
  // As align_b would: B's elements of pair 0 gathered in another order (no contiguous range).
  for (auto& block : plan.blocks)
    if (block.pair == 0) block.alignment = 0;
  plan_content(plan, a, a, {});
  expect_exact_cover(plan, plan.content.b, a);
  std::uint64_t unit_bytes = 0;
  for (std::size_t i = 0; i < plan.blocks.size(); ++i)
    EXPECT_EQ(plan.content.block_range_b[i] == no_range, plan.blocks[i].pair == 0);
  for (const content_unit& unit : plan.content.units) unit_bytes += unit.side == 1 ? unit.bytes : 0;
  EXPECT_EQ(unit_bytes, plan.pairs[0].b.elements * dtype_size(plan.pairs[0].b.type));
}

TEST(PlanContent, RangesDoNotDependOnTheRankCountAndUnitsAreDealtByBytes) {
  const checkpoint a = test::make_checkpoint("/models/a", "llama", llama_specs(4));
  const checkpoint b = test::make_checkpoint("/models/b", "llama", llama_specs(1));
  const work_plan one = plan_for(a, b, 1), three = plan_for(a, b, 3);
  for (int s = 0; s < 2; ++s) {
    const auto& x = one.content.side(s).ranges;
    const auto& y = three.content.side(s).ranges;
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t k = 0; k < x.size(); ++k)
      EXPECT_TRUE(x[k].tensor == y[k].tensor && x[k].offset == y[k].offset && x[k].length == y[k].length);
  }
  EXPECT_EQ(one.content.block_range_a, three.content.block_range_a);
  ASSERT_EQ(three.content.unit_rank.size(), three.content.units.size());
  std::vector<std::uint64_t> load(3, 0);
  std::uint64_t largest = 0;
  for (std::size_t i = 0; i < three.content.units.size(); ++i) {
    load.at(three.content.unit_rank[i]) += three.content.units[i].bytes;
    largest = std::max(largest, three.content.units[i].bytes);
  }
  EXPECT_LE(*std::max_element(load.begin(), load.end()) - *std::min_element(load.begin(), load.end()), largest);
}

TEST(PlanContent, Sha256AddsOneUnitPerFileAndDigestsCanBeOff) {
  const checkpoint a = test::make_checkpoint("/models/a", "llama", llama_specs(1));
  plan_options options{100, 2, {}};
  options.content = {false, true};
  const work_plan plan = make_plan(a, a, test::embedded_registry(), options);
  ASSERT_EQ(plan.content.units.size(), 2u) << "one safetensors file per side";
  for (const content_unit& unit : plan.content.units) EXPECT_TRUE(unit.whole_file);
  EXPECT_TRUE(plan.content.a.ranges.empty());
  EXPECT_EQ(plan.content.a.files.at(0).name, "model.safetensors");
}

// The ranks' hashes of a plan: range k of side s hashes to 1000·s + k.
std::vector<rank_results> fake_hashes(const work_plan& plan, int ranks) {
  std::vector<rank_results> per_rank(static_cast<std::size_t>(ranks));
  std::size_t next = 0;
  for (std::uint8_t s = 0; s < 2; ++s)
    for (std::uint64_t k = 0; k < plan.content.side(s).ranges.size(); ++k)
      per_rank[next++ % per_rank.size()].range_hashes.push_back({s, k, 1000u * s + k});
  return per_rank;
}

TEST(ContentInPlanOrder, PlacesEveryHashByIndexAndCombinesEachTensorsRanges) {
  const checkpoint a = test::make_checkpoint("/models/a", "llama", llama_specs(2));
  const work_plan plan = plan_for(a, a, 1);
  const content_manifest one = content_in_plan_order(plan, fake_hashes(plan, 1));
  const content_manifest three = content_in_plan_order(plan, fake_hashes(plan, 3));
  EXPECT_EQ(one.a.tensor_digests, three.a.tensor_digests);
  EXPECT_EQ(one.b.range_hashes, three.b.range_hashes);
  const manifest_tensor& t = one.b.tensors.at(1);
  std::vector<std::uint64_t> expected;
  for (std::uint64_t k = t.first_range; k < t.first_range + t.range_count; ++k) expected.push_back(1000 + k);
  EXPECT_EQ(one.b.tensor_digests.at(1), combine_hashes(expected));

  auto missing = fake_hashes(plan, 2);
  missing[1].range_hashes.pop_back();
  EXPECT_THROW((void)content_in_plan_order(plan, missing), internal_error);
  auto twice = fake_hashes(plan, 2);
  twice[0].range_hashes.push_back(twice[1].range_hashes.front());
  EXPECT_THROW((void)content_in_plan_order(plan, twice), internal_error);
}

// A report.h5 holding only a manifest of `content`, written to `path`.
void write_manifest_report(const std::filesystem::path& path, const content_manifest& content) {
  comparison_report report;
  report.content = content;
  write_file(path, report_h5_image(report, path.string(), "{}"));
}

TEST(RecordedModel, ReadsBackWhatTheReportWroteAndRefusesATamperedOne) {
  test::scratch_directory dir{"manifest"};
  const checkpoint a = test::make_checkpoint("/models/a", "llama", llama_specs(1));
  const work_plan plan = plan_for(a, a, 1);
  const content_manifest content = content_in_plan_order(plan, fake_hashes(plan, 1));
  write_manifest_report(dir.path() / "good.h5", content);
  const recorded_model b = read_recorded_model(h5_reader::open(dir.path() / "good.h5"), 'b');
  ASSERT_EQ(b.tensors.size(), content.b.tensors.size());
  EXPECT_EQ(b.tensors[2].name, "model.layers.0.input_layernorm.weight");
  EXPECT_EQ(b.tensors[2].dtype, "BF16");
  EXPECT_EQ(b.tensors[2].shape, "[16]");
  EXPECT_EQ(b.tensors[2].bytes, 32u);
  EXPECT_EQ(b.tensors[2].digest, content.b.tensor_digests[2]);
  ASSERT_EQ(b.ranges.size(), content.b.ranges.size());
  EXPECT_EQ(b.ranges.back().hash, content.b.range_hashes.back());
  EXPECT_EQ(b.files.at(0).name, "model.safetensors");

  content_manifest tampered = content;
  tampered.b.tensor_digests[2] ^= 1;
  write_manifest_report(dir.path() / "digest.h5", tampered);
  EXPECT_TRUE(
      test::throws_input_error([&] { (void)read_recorded_model(h5_reader::open(dir.path() / "digest.h5"), 'b'); },
                               {"digest.h5", "/manifest/model_b", content.b.tensors[2].name, "digest"}));

  tampered = content;
  const manifest_tensor& first = tampered.a.tensors[0];
  tampered.a.ranges.at(first.first_range + first.range_count - 1).length += 2;  // past the tensor's end
  write_manifest_report(dir.path() / "range.h5", tampered);
  EXPECT_TRUE(
      test::throws_input_error([&] { (void)read_recorded_model(h5_reader::open(dir.path() / "range.h5"), 'a'); },
                               {"range.h5", content.a.tensors[0].name, "outside"}));

  content_manifest none = content;
  none.digests = false;
  write_manifest_report(dir.path() / "none.h5", none);
  EXPECT_TRUE(test::throws_input_error([&] { (void)read_recorded_model(h5_reader::open(dir.path() / "none.h5"), 'a'); },
                                       {"none.h5", "no tensor digests"}));
}

// Issue 18, defect 4: random bytes of a report.h5 corrupted made libhdf5 follow damaged heap
// addresses and crash `lineage verify`. The seal is checked on the bytes read before libhdf5
// parses them: every damaged copy is one input_error, and h5py still reads the sealed file.
TEST(ReportSeal, EveryDamagedByteIsRefusedBeforeLibhdf5ParsesTheFile) {
  test::scratch_directory dir{"seal"};
  const checkpoint a = test::make_checkpoint("/models/a", "llama", llama_specs(1));
  const work_plan plan = plan_for(a, a, 1);
  write_manifest_report(dir.path() / "good.h5", content_in_plan_order(plan, fake_hashes(plan, 1)));
  std::ifstream in(dir.path() / "good.h5", std::ios::binary);
  const std::string good{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  ASSERT_GT(good.size(), h5_seal_bytes);
  EXPECT_TRUE(good.starts_with("lineage report seal 1 sha256 "));
  EXPECT_NO_THROW((void)h5_reader::open(dir.path() / "good.h5"));
  int refused = 0;
  for (std::size_t at = 0; at < good.size(); at += 1 + good.size() / 300) {
    std::string damaged = good;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5a);
    write_file(dir.path() / "damaged.h5", damaged);
    refused += test::throws_input_error([&] { (void)h5_reader::open(dir.path() / "damaged.h5"); },
                                        {"damaged.h5", "seal"})
                   ? 1
                   : 0;
  }
  EXPECT_EQ(refused, static_cast<int>((good.size() + good.size() / 300) / (1 + good.size() / 300)));
  for (const std::string& bad : {good.substr(0, good.size() - 1), good.substr(h5_seal_bytes), std::string()}) {
    write_file(dir.path() / "bad.h5", bad);
    EXPECT_TRUE(test::throws_input_error([&] { (void)h5_reader::open(dir.path() / "bad.h5"); }, {"bad.h5", "seal"}));
  }
}

// Issue 18, defect 6: a resume file with its checksum recomputed and absurd counts or indices
// (a first_block of 2^40 made merge_in_plan_order index out of bounds). The saved plan is no
// longer read back at all (its digest must match the plan this job made), and every count and
// index of the shares is checked against that plan before anything is used.
TEST(SavedWorkCheck, ATamperedStateIsRefusedBeforeAnyIndexIsUsed) {
  const checkpoint a = test::make_checkpoint("/models/a", "llama", llama_specs(1));
  const work_plan plan = plan_for(a, a, 2);
  const rank_results none;
  saved_comparison state{plan_digest(plan), {{0, serialize_results(none)}, {0, serialize_results(none)}}};
  EXPECT_EQ(saved_work_problem(plan, state), "");

  saved_comparison other_plan = state;
  other_plan.plan_digest ^= 1;
  EXPECT_NE(saved_work_problem(plan, other_plan).find("another plan"), std::string::npos);

  saved_comparison too_many = state;
  too_many.shares[1].units_done = std::uint64_t{1} << 40;
  EXPECT_NE(saved_work_problem(plan, too_many).find("rank 1's share claims 1099511627776 finished units"),
            std::string::npos);

  rank_results far;
  far.blocks.push_back({std::uint64_t{1} << 40, {}});
  saved_comparison out_of_range = state;
  out_of_range.shares[0] = {1, serialize_results(far)};
  EXPECT_NE(saved_work_problem(plan, out_of_range).find("rank 0's results are not those of its 1 finished units"),
            std::string::npos);

  saved_comparison garbage = state;
  garbage.shares[0].results = {'\x01', '\x02', '\x03'};
  EXPECT_NE(saved_work_problem(plan, garbage).find("cannot be decoded"), std::string::npos);

  saved_comparison ranks = state;
  ranks.shares.pop_back();
  EXPECT_NE(saved_work_problem(plan, ranks).find("1 shares for 2 ranks"), std::string::npos);
}

}  // namespace
}  // namespace lineage
