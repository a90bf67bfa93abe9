#include "registry/registry_listing.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/atomic_output.hpp"
#include "core/error.hpp"

namespace lineage {
namespace {

constexpr const char* listing_name = "registry.json";
constexpr const char* format_name = "lineage-registry";
constexpr std::uintmax_t max_listing_bytes = std::uintmax_t{1} << 30;

bool is_hex_digest(const std::string& text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// A file name that stays in the registry directory: one component, no "..", no control bytes.
bool is_plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos &&
         std::none_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

std::string field(const nlohmann::json& member, const char* key, const std::string& where) {
  const auto found = member.find(key);
  if (found == member.end() || !found->is_string()) throw input_error(fmt::format("{}: '{}' missing or not a string", where, key));
  return found->get<std::string>();
}

registry_entry entry_of(const nlohmann::json& member, const std::string& where) {
  if (!member.is_object()) throw input_error(where + ": not an object");
  registry_entry e{field(member, "name", where), field(member, "file", where), field(member, "sha256", where),
                   field(member, "checkpoint", where), member.contains("source") ? field(member, "source", where) : ""};
  if (!is_plain_file_name(e.file) || !e.file.ends_with(".fingerprint.h5"))
    throw input_error(fmt::format("{}: file '{}' is not a NAME.fingerprint.h5 inside the registry", where, e.file));
  if (!is_hex_digest(e.sha256) || !is_hex_digest(e.checkpoint))
    throw input_error(where + ": sha256 and checkpoint must be 64 lower-case hex digits");
  return e;
}

std::vector<registry_entry> parse_listing(const std::string& text, const std::string& label) {
  const nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) throw input_error(label + ": not a JSON object");
  if (doc.value("format", std::string()) != format_name)
    throw input_error(fmt::format("{}: 'format' is not \"{}\"", label, format_name));
  const auto members = doc.find("members");
  if (members == doc.end() || !members->is_array()) throw input_error(label + ": 'members' missing or not an array");
  std::vector<registry_entry> entries;
  for (std::size_t i = 0; i < members->size(); ++i)
    entries.push_back(entry_of((*members)[i], fmt::format("{}: members[{}]", label, i)));
  std::sort(entries.begin(), entries.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
  for (std::size_t i = 1; i < entries.size(); ++i)
    if (entries[i].name == entries[i - 1].name || entries[i].file == entries[i - 1].file)
      throw input_error(fmt::format("{}: member '{}' listed twice", label, entries[i].name));
  return entries;
}

std::string read_text(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) throw input_error(fmt::format("{}: cannot read: {}", path.string(), ec.message()));
  if (size > max_listing_bytes) throw input_error(fmt::format("{}: larger than 1 GiB", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw input_error(fmt::format("{}: cannot open for reading", path.string()));
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string listing_text(const std::vector<registry_entry>& entries) {
  nlohmann::json members = nlohmann::json::array();
  for (const auto& e : entries)
    members.push_back(
        {{"name", e.name}, {"file", e.file}, {"sha256", e.sha256}, {"checkpoint", e.checkpoint}, {"source", e.source}});
  const nlohmann::json doc = {{"format", format_name}, {"format_version", 1}, {"members", members}};
  return doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// An exclusive fcntl lock on DIRECTORY/registry.lock for the object's lifetime.
class registry_lock {
 public:
  explicit registry_lock(const std::filesystem::path& directory) : path_(directory / "registry.lock") {
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw input_error(fmt::format("{}: cannot open: {}", path_.string(), std::strerror(errno)));
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    while (::fcntl(fd_, F_SETLKW, &lock) != 0)
      if (errno != EINTR) {
        ::close(fd_);
        throw input_error(fmt::format("{}: cannot lock: {}", path_.string(), std::strerror(errno)));
      }
  }
  registry_lock(const registry_lock&) = delete;
  registry_lock& operator=(const registry_lock&) = delete;
  ~registry_lock() { ::close(fd_); }  // closing releases the lock

 private:
  std::filesystem::path path_;
  int fd_ = -1;
};

}  // namespace

std::string fingerprint_file_name(const std::string& model_name) {
  std::string safe;
  for (const char c : model_name)
    safe += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';
  if (safe.empty() || safe.front() == '.') safe = "model" + safe;
  return safe + ".fingerprint.h5";
}

std::vector<registry_entry> read_registry(const std::filesystem::path& directory) {
  const std::filesystem::path path = directory / listing_name;
  if (!std::filesystem::is_regular_file(path))
    throw input_error(fmt::format("{}: no such file (not a registry: run lineage index MODEL -o {} first)", path.string(),
                                  directory.string()));
  return parse_listing(read_text(path), path.string());
}

void add_to_registry(const std::filesystem::path& directory, const registry_entry& entry) {
  const registry_lock lock(directory);
  const std::filesystem::path path = directory / listing_name;
  std::vector<registry_entry> entries;
  if (std::filesystem::exists(path)) entries = parse_listing(read_text(path), path.string());
  std::erase_if(entries, [&](const registry_entry& e) { return e.name == entry.name || e.file == entry.file; });
  entries.push_back(entry);
  std::sort(entries.begin(), entries.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
  write_file_atomically(path, listing_text(entries));
}

}  // namespace lineage
