// A fingerprint file written and read back, and every way a damaged, lying or foreign one is refused
// with an input_error naming the file and the object; the token keys' sample; the registry's list.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <string>

#include "core/atomic_output.hpp"
#include "core/error.hpp"
#include "h5/h5_file.hpp"
#include "h5/h5_reader.hpp"
#include "h5/h5_seal.hpp"
#include "registry/fingerprint_h5.hpp"
#include "registry/registry_listing.hpp"
#include "registry/token_keys.hpp"
#include "registry_test_support.hpp"

namespace lineage {
namespace {

using testing::random_fingerprint;
using testing::scratch_directory;

std::filesystem::path written(const model_fingerprint& f, const std::string& test) {
  const auto path = scratch_directory(test) / "m.fingerprint.h5";
  write_file_atomically(path, fingerprint_image(f, path.string()));
  return path;
}

// The error message of reading `path`, or "" when it reads.
std::string refusal(const std::filesystem::path& path) {
  try {
    (void)read_fingerprint(path);
  } catch (const input_error& e) {
    return e.what();
  }
  return "";
}

TEST(RegistryFile, RoundTripKeepsEveryValue) {
  const model_fingerprint f = random_fingerprint(1);
  const model_fingerprint back = read_fingerprint(written(f, "roundtrip"));
  EXPECT_EQ(back.name, f.name);
  EXPECT_EQ(back.row_keys, f.row_keys);
  EXPECT_EQ(back.rows, f.rows);
  EXPECT_EQ(back.frame, f.frame);
  ASSERT_EQ(back.layers.size(), f.layers.size());
  for (std::size_t i = 0; i < f.layers.size(); ++i) {
    EXPECT_EQ(back.layers[i].label, f.layers[i].label);
    EXPECT_EQ(back.layers[i].q, f.layers[i].q);
    EXPECT_EQ(back.layers[i].v, f.layers[i].v);
  }
  ASSERT_EQ(back.files.size(), 1u);
  EXPECT_EQ(back.files[0].sha256, f.files[0].sha256);
  EXPECT_EQ(checkpoint_digest(back.files), checkpoint_digest(f.files));
}

// Each lie, written by the real writer, refused by the reader with the object it concerns.
TEST(RegistryFile, LyingContentsAreNamed) {
  model_fingerprint nan = random_fingerprint(2);
  nan.rows[5] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(refusal(written(nan, "nan")).find("/tokens/rows: holds NaN or Inf"), std::string::npos);

  model_fingerprint unsorted = random_fingerprint(3);
  std::swap(unsorted.row_keys[3], unsorted.row_keys[4]);
  EXPECT_NE(refusal(written(unsorted, "unsorted")).find("/tokens/key: keys are not strictly ascending"),
            std::string::npos);

  model_fingerprint short_rows = random_fingerprint(4);
  short_rows.rows.pop_back();
  EXPECT_NE(refusal(written(short_rows, "short")).find("/tokens/rows: holds"), std::string::npos);

  model_fingerprint layout = random_fingerprint(5);
  layout.layers[1].kv_heads = 3;  // 8 heads in 3 KV groups
  EXPECT_NE(refusal(written(layout, "layout")).find("do not form a layout"), std::string::npos);

  model_fingerprint frame = random_fingerprint(6);
  frame.frame = frame.row_keys.size() + 1;
  EXPECT_NE(refusal(written(frame, "frame")).find("larger than the sampled tokens"), std::string::npos);

  model_fingerprint digest = random_fingerprint(7);
  digest.files[0].sha256 = "not hex";
  EXPECT_NE(refusal(written(digest, "digest")).find("/files/sha256"), std::string::npos);
}

TEST(RegistryFile, DamagedForeignAndMissingFilesAreNamed) {
  const auto path = written(random_fingerprint(8), "damaged");
  std::string bytes;
  {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string flipped = bytes;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x10);
  write_file_atomically(path, flipped);
  const std::string damaged = refusal(path);
  EXPECT_NE(damaged.find(path.string()), std::string::npos) << damaged;
  EXPECT_FALSE(damaged.empty());
  write_file_atomically(path, bytes.substr(0, bytes.size() / 3));
  EXPECT_FALSE(refusal(path).empty());

  // A sealed HDF5 file of another kind (a report's format attribute).
  h5_file other = h5_file::create_in_memory(path.string(), h5_seal_bytes);
  other.set_attribute("format", std::string("lineage-report"));
  std::string image = other.close_to_image();
  seal_h5_image(image);
  write_file_atomically(path, image);
  EXPECT_NE(refusal(path).find("not a lineage fingerprint"), std::string::npos);

  EXPECT_NE(refusal(path.parent_path() / "absent.fingerprint.h5").find("no such file"), std::string::npos);
}

// A column that declares more elements than the file has bytes (an extent with no storage behind
// it: HDF5 would hand back fill values) is refused before anything is allocated.
TEST(RegistryFile, ExtentBeyondTheFileIsRefused) {
  const auto path = scratch_directory("extent") / "m.fingerprint.h5";
  // A sealed image whose /tokens/rows declares 2^31 floats and stores none.
  const hid_t access = H5Pcreate(H5P_FILE_ACCESS), creation = H5Pcreate(H5P_FILE_CREATE);
  H5Pset_fapl_core(access, 1 << 20, 0);
  H5Pset_userblock(creation, h5_seal_bytes);
  const hid_t file = H5Fcreate("extent-image", H5F_ACC_TRUNC, creation, access);
  ASSERT_GE(file, 0);
  const hid_t tokens = H5Gcreate2(file, "tokens", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t huge = hsize_t{1} << 31;
  const hid_t space = H5Screate_simple(1, &huge, nullptr);
  const hid_t rows = H5Dcreate2(tokens, "rows", H5T_NATIVE_FLOAT, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(rows, 0);
  const hid_t attr_space = H5Screate(H5S_SCALAR), text = H5Tcopy(H5T_C_S1);
  H5Tset_size(text, H5T_VARIABLE);
  const char* format = "lineage-fingerprint";
  const hid_t attribute = H5Acreate2(file, "format", text, attr_space, H5P_DEFAULT, H5P_DEFAULT);
  H5Awrite(attribute, text, &format);
  H5Aclose(attribute);
  H5Tclose(text);
  H5Sclose(attr_space);
  H5Dclose(rows);
  H5Sclose(space);
  H5Gclose(tokens);
  H5Fflush(file, H5F_SCOPE_GLOBAL);
  std::string image(static_cast<std::size_t>(H5Fget_file_image(file, nullptr, 0)), '\0');
  H5Fget_file_image(file, image.data(), image.size());
  H5Fclose(file);
  H5Pclose(access);
  H5Pclose(creation);
  seal_h5_image(image);
  write_file_atomically(path, image);
  ASSERT_LT(image.size(), std::size_t{1} << 20);
  // The reader is asked for the column directly: the fingerprint reader would stop earlier, at the
  // missing format_version.
  const h5_reader in = h5_reader::open(path);
  try {
    (void)in.floats("/tokens/rows");
    FAIL() << "a 2^31-element extent in a small file was read";
  } catch (const input_error& e) {
    EXPECT_NE(std::string(e.what()).find("declares 2147483648 elements, more than the file's"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(refusal(path).empty());
}

TEST(TokenKeys, SamplesOfSharedVocabulariesOverlap) {
  tokenizer_vocabulary a, b;
  for (std::uint32_t id = 0; id < 2000; ++id) {
    a.tokens.push_back({id, "piece" + std::to_string(id), true, false, false});
    // B drops every tenth piece and lists the rest under other ids.
    if (id % 10 != 0) b.tokens.push_back({static_cast<std::uint32_t>(b.tokens.size()), "piece" + std::to_string(id), true, false, false});
  }
  a.tokens[7].special = true;
  a.tokens.push_back({2000, "piece5", true, false, false});  // the bytes of id 5 again
  const auto sample_a = sampled_tokens(a, 2001, 200), sample_b = sampled_tokens(b, 2000, 200);
  ASSERT_EQ(sample_a.size(), 200u);
  std::size_t shared = 0;
  for (const keyed_token& x : sample_a) {
    EXPECT_NE(x.id, 7u) << "special tokens are not sampled";
    EXPECT_NE(x.id, 2000u) << "a duplicate spelling keeps the lowest id";
    for (const keyed_token& y : sample_b) shared += x.key == y.key ? 1 : 0;
  }
  // Bottom-k samples of vocabularies sharing 90 % of their tokens share most of their samples.
  EXPECT_GT(shared, 150u);
  for (std::size_t i = 1; i < sample_a.size(); ++i) EXPECT_LT(sample_a[i - 1].key, sample_a[i].key);
}

TEST(RegistryListing, MembersAreAddedReplacedAndChecked) {
  const auto dir = scratch_directory("listing");
  const std::string hex(64, 'a');
  add_to_registry(dir, {"b", "b.fingerprint.h5", hex, hex, ""});
  add_to_registry(dir, {"a", "a.fingerprint.h5", hex, hex, "/models/a"});
  add_to_registry(dir, {"b", "b.fingerprint.h5", std::string(64, 'b'), hex, ""});
  const auto members = read_registry(dir);
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[0].name, "a");
  EXPECT_EQ(members[0].source, "/models/a");
  EXPECT_EQ(members[1].sha256, std::string(64, 'b'));
  EXPECT_EQ(fingerprint_file_name("org/model v1"), "org_model_v1.fingerprint.h5");

  const auto refused = [&](const std::string& text) {
    write_file_atomically(dir / "registry.json", text);
    try {
      (void)read_registry(dir);
    } catch (const input_error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  const std::string member = R"({"name": "x", "file": "../x.fingerprint.h5", "sha256": ")" + hex +
                             R"(", "checkpoint": ")" + hex + R"("})";
  EXPECT_NE(refused(R"({"format": "lineage-registry", "members": [)" + member + "]}").find("inside the registry"),
            std::string::npos);
  EXPECT_NE(refused("[1, 2").find("not a JSON object"), std::string::npos);
  EXPECT_NE(refused(R"({"format": "other", "members": []})").find("'format'"), std::string::npos);
  EXPECT_NE(refused(R"({"format": "lineage-registry", "members": [{"name": 3}]})").find("'name'"), std::string::npos);
}

}  // namespace
}  // namespace lineage
