#include "h5/h5_seal.hpp"

#include <fmt/format.h>

#include <cstring>
#include <span>

#include "core/content_hash.hpp"
#include "core/error.hpp"

namespace lineage {
namespace {

constexpr std::string_view seal_prefix = "lineage report seal 1 sha256 ";
constexpr std::size_t hex_digits = 64;

std::string digest(std::string_view bytes) { return sha256_hex(std::as_bytes(std::span(bytes.data(), bytes.size()))); }

}  // namespace

void seal_h5_image(std::string& image) {
  const std::string line = fmt::format("{}{}\n", seal_prefix, digest(image));
  std::string block(h5_seal_bytes, '\0');
  std::memcpy(block.data(), line.data(), line.size());
  image.insert(0, block);
}

std::string_view check_h5_seal(std::string_view file, const std::string& label) {
  if (file.size() < h5_seal_bytes || !file.starts_with(seal_prefix))
    throw input_error(fmt::format("{}: not a report.h5 written by lineage (no seal in its first {} bytes)", label,
                                  h5_seal_bytes));
  const std::string_view recorded = file.substr(seal_prefix.size(), hex_digits);
  const std::string_view rest = file.substr(seal_prefix.size() + hex_digits, h5_seal_bytes - seal_prefix.size() - hex_digits);
  if (!rest.starts_with('\n') || rest.find_first_not_of('\0', 1) != std::string_view::npos ||
      recorded.find_first_not_of("0123456789abcdef") != std::string_view::npos)
    throw input_error(fmt::format("{}: its seal line is malformed", label));
  const std::string_view image = file.substr(h5_seal_bytes);
  if (recorded != digest(image))
    throw input_error(fmt::format("{}: damaged or altered after lineage wrote it (its SHA-256 does not match the "
                                  "seal in its first {} bytes)",
                                  label, h5_seal_bytes));
  return image;
}

}  // namespace lineage
