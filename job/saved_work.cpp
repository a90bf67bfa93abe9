#include "job/saved_work.hpp"

#include <fmt/format.h>

#include <boost/archive/binary_oarchive.hpp>
#include <boost/iostreams/device/array.hpp>
#include <boost/iostreams/device/back_inserter.hpp>
#include <boost/iostreams/stream.hpp>
#include <boost/serialization/vector.hpp>
#include <cstring>
#include <fstream>
#include <iterator>
#include <system_error>

#include "core/atomic_output.hpp"
#include "core/content_hash.hpp"
#include "core/error.hpp"
#include "core/version.hpp"
#include "shard/bounded_archive.hpp"

namespace lineage {
namespace {

constexpr char magic[] = "lineage saved work\n";
constexpr std::size_t magic_size = sizeof magic - 1;
constexpr std::uint32_t format_version = 2;
// magic, format version, fingerprint, ranks, payload length, payload checksum.
constexpr std::size_t header_size = magic_size + 4 + 8 + 4 + 8 + 8;

template <typename T>
void put(std::string& out, T value) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  out.append(bytes, sizeof(T));
}

template <typename T>
T take(const std::string& in, std::size_t& at) {
  T value{};
  std::memcpy(&value, in.data() + at, sizeof(T));
  at += sizeof(T);
  return value;
}

std::span<const std::byte> as_bytes(const std::string& text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

}  // namespace

std::uint64_t comparison_fingerprint(const std::vector<char>& initial_plan, const work_plan& plan,
                                     const std::string& config_json) {
  fast_hasher hasher;
  hasher.update(as_bytes(fmt::format("{} {}\n", tool_version(), git_hash())));
  hasher.update({reinterpret_cast<const std::byte*>(initial_plan.data()), initial_plan.size()});
  hasher.update(as_bytes(config_json));
  for (const model_description* model : {&plan.model_a, &plan.model_b})
    for (const std::string& file : model->files) {
      std::error_code error;
      const auto size = std::filesystem::file_size(file, error);
      const auto modified = std::filesystem::last_write_time(file, error);
      if (error) throw input_error(fmt::format("{}: cannot examine the model file: {}", file, error.message()));
      std::string entry = file;
      put(entry, static_cast<std::uint64_t>(size));
      put(entry, static_cast<std::int64_t>(modified.time_since_epoch().count()));
      hasher.update(as_bytes(entry));
    }
  return hasher.digest();
}

saved_work::saved_work(const std::filesystem::path& output_dir) : directory_(output_dir / ".lineage-resume") {}

std::filesystem::path saved_work::file_of(std::size_t comparison) const {
  return directory_ / fmt::format("comparison-{}.state", comparison);
}

std::optional<saved_comparison> saved_work::load(std::size_t comparison, std::uint64_t fingerprint, int ranks,
                                                 std::string& rejected) const {
  rejected.clear();
  const std::filesystem::path path = file_of(comparison);
  std::error_code error;
  const auto status = std::filesystem::symlink_status(path, error);
  if (error || !std::filesystem::exists(status)) return std::nullopt;
  const auto reject = [&](const std::string& why) -> std::optional<saved_comparison> {
    rejected = fmt::format("{}: {}; this work is done again", path.string(), why);
    return std::nullopt;
  };
  if (!std::filesystem::is_regular_file(status)) return reject("not a regular file");
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return reject("cannot be read");
  if (bytes.size() < header_size || bytes.compare(0, magic_size, magic) != 0)
    return reject("not a lineage saved-work file (or truncated before its header ends)");
  std::size_t at = magic_size;
  if (const auto version = take<std::uint32_t>(bytes, at); version != format_version)
    return reject(fmt::format("format version {}, this lineage reads {}", version, format_version));
  // The rank count first: the plan (in the fingerprint) deals units to ranks, so it differs too.
  const auto saved_fingerprint = take<std::uint64_t>(bytes, at);
  if (const auto saved_ranks = take<std::uint32_t>(bytes, at); saved_ranks != static_cast<std::uint32_t>(ranks))
    return reject(fmt::format("saved by a job of {} ranks, this one has {}", saved_ranks, ranks));
  if (saved_fingerprint != fingerprint)
    return reject("saved by a job with other inputs (plan, config or model files changed)");
  const auto length = take<std::uint64_t>(bytes, at);
  const auto checksum = take<std::uint64_t>(bytes, at);
  if (length != bytes.size() - header_size)
    return reject(fmt::format("holds {} bytes of results, its header says {} (truncated?)",
                              bytes.size() - header_size, length));
  const std::span<const std::byte> payload = as_bytes(bytes).subspan(header_size);
  if (fast_hash(payload) != checksum) return reject("checksum mismatch: the results are damaged");
  saved_comparison state;
  try {
    boost::iostreams::stream<boost::iostreams::array_source> source(bytes.data() + header_size, length);
    bounded_iarchive archive(*source.rdbuf(), length);
    archive >> state;
  } catch (const std::exception& e) {
    return reject(fmt::format("cannot be decoded: {}", e.what()));
  }
  if (state.shares.size() != static_cast<std::size_t>(ranks))
    return reject(fmt::format("holds {} shares for {} ranks", state.shares.size(), ranks));
  return state;
}

void saved_work::save(std::size_t comparison, std::uint64_t fingerprint, const saved_comparison& state) const {
  std::error_code error;
  std::filesystem::create_directories(directory_, error);
  if (error) throw input_error(fmt::format("{}: cannot create the directory: {}", directory_.string(), error.message()));
  std::string payload;
  {
    boost::iostreams::stream<boost::iostreams::back_insert_device<std::string>> out(payload);
    boost::archive::binary_oarchive archive(out, boost::archive::no_header);
    archive << state;
  }
  std::string file(magic, magic_size);
  put(file, format_version);
  put(file, fingerprint);
  put(file, static_cast<std::uint32_t>(state.shares.size()));
  put(file, static_cast<std::uint64_t>(payload.size()));
  put(file, fast_hash(as_bytes(payload)));
  file += payload;
  // The name is ours, inside our directory: whatever else sits there (a directory) gives way.
  const auto status = std::filesystem::symlink_status(file_of(comparison), error);
  if (!error && std::filesystem::exists(status) && !std::filesystem::is_regular_file(status))
    std::filesystem::remove_all(file_of(comparison), error);
  write_file_atomically(file_of(comparison), file);
}

void saved_work::remove_all() const {
  std::error_code error;
  std::filesystem::remove_all(directory_, error);  // a leftover directory is harmless: files are checked
}

}  // namespace lineage
