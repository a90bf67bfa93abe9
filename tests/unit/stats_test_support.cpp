#include "stats_test_support.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <stdexcept>
#include <unordered_map>

namespace lineage::test {

// --- typed vectors --------------------------------------------------------------------------------

typed_vector::typed_vector(dtype type, std::size_t size, std::size_t misalign)
    : type_(type), size_(size), misalign_(misalign), storage_(misalign + size * dtype_size(type)) {}

std::uint64_t typed_vector::code(std::size_t i) const noexcept {
  std::uint64_t value = 0;
  const std::size_t width = dtype_size(type_);
  for (std::size_t k = 0; k < width; ++k)
    value |= static_cast<std::uint64_t>(std::to_integer<std::uint8_t>(data()[i * width + k])) << (8 * k);
  return value;
}

void typed_vector::set_code(std::size_t i, std::uint64_t code) noexcept {
  const std::size_t width = dtype_size(type_);
  for (std::size_t k = 0; k < width; ++k)
    storage_[misalign_ + i * width + k] = static_cast<std::byte>((code >> (8 * k)) & 0xFFu);
}

namespace {
// The code of an exactly representable value of an 8-bit type, or -1 (the library's encoders
// search all codes per value, which is slow for test vectors of 10^5 elements).
int exact_f8_code(dtype type, float value) {
  static const auto build = [](dtype t) {
    std::unordered_map<std::uint32_t, int> codes;
    for (int code = 0; code < 256; ++code) {
      const auto decoded = static_cast<float>(reference_decode(t, static_cast<std::uint64_t>(code)));
      if (!std::isnan(decoded)) codes.emplace(std::bit_cast<std::uint32_t>(decoded), code);
    }
    return codes;
  };
  static const auto e4m3 = build(dtype::f8_e4m3);
  static const auto e5m2 = build(dtype::f8_e5m2);
  const auto& table = type == dtype::f8_e4m3 ? e4m3 : e5m2;
  const auto found = table.find(std::bit_cast<std::uint32_t>(value));
  return found == table.end() ? -1 : found->second;
}
}  // namespace

void typed_vector::set_value(std::size_t i, double value) noexcept {
  const auto f = static_cast<float>(value);
  if (type_ == dtype::f8_e4m3 || type_ == dtype::f8_e5m2) {
    if (const int code = exact_f8_code(type_, f); code >= 0) {
      set_code(i, static_cast<std::uint64_t>(code));
      return;
    }
  }
  switch (type_) {
    case dtype::f64:
      set_code(i, std::bit_cast<std::uint64_t>(value));
      break;
    case dtype::f32:
      set_code(i, std::bit_cast<std::uint32_t>(f));
      break;
    case dtype::bf16:
      set_code(i, float_to_bf16(f));
      break;
    case dtype::f16:
      set_code(i, float_to_f16(f));
      break;
    case dtype::f8_e4m3:
      set_code(i, float_to_f8_e4m3(f));
      break;
    case dtype::f8_e5m2:
      set_code(i, float_to_f8_e5m2(f));
      break;
  }
}

typed_vector typed_vector::with_misalign(std::size_t misalign) const {
  typed_vector copy(type_, size_, misalign);
  std::memcpy(copy.storage_.data() + misalign, data(), size_ * dtype_size(type_));
  return copy;
}

typed_vector typed_vector::slice(std::size_t first, std::size_t count) const {
  typed_vector part(type_, count);
  if (count != 0) std::memcpy(part.storage_.data(), data() + first * dtype_size(type_), count * dtype_size(type_));
  return part;
}

typed_vector encode(dtype type, std::span<const double> values) {
  typed_vector v(type, values.size());
  for (std::size_t i = 0; i < values.size(); ++i) v.set_value(i, values[i]);
  return v;
}

// --- the independent decoder ----------------------------------------------------------------------

namespace {
struct small_format {
  int exponent_bits;
  int mantissa_bits;
  bool ieee_specials;  // all-ones exponent = Inf/NaN (false: only S.1111.111 is NaN, E4M3)
};

small_format format_of(dtype type) {
  switch (type) {
    case dtype::bf16:
      return {8, 7, true};
    case dtype::f16:
      return {5, 10, true};
    case dtype::f8_e5m2:
      return {5, 2, true};
    case dtype::f8_e4m3:
      return {4, 3, false};
    default:
      return {0, 0, true};
  }
}

// A NaN as the 64-bit pattern the kernel compares when the common type is F64, and (one to one)
// what it compares in F32: the float image with the quiet bit set, widened to double.
std::uint64_t nan_image(dtype type, std::uint64_t code) {
  if (type == dtype::f64) return code | (std::uint64_t{1} << 51);
  std::uint32_t sign = 0, mantissa = 0;
  switch (type) {
    case dtype::f32:
      sign = static_cast<std::uint32_t>(code >> 31);
      mantissa = static_cast<std::uint32_t>(code) & 0x7FFFFFu;
      break;
    case dtype::bf16:
      sign = static_cast<std::uint32_t>(code >> 15);
      mantissa = static_cast<std::uint32_t>(code & 0x7Fu) << 16;
      break;
    case dtype::f16:
      sign = static_cast<std::uint32_t>(code >> 15);
      mantissa = static_cast<std::uint32_t>(code & 0x3FFu) << 13;
      break;
    case dtype::f8_e5m2:
      sign = static_cast<std::uint32_t>(code >> 7);
      mantissa = static_cast<std::uint32_t>(code & 0x3u) << 21;
      break;
    case dtype::f8_e4m3:
      sign = static_cast<std::uint32_t>(code >> 7);
      mantissa = 0;
      break;
    case dtype::f64:
      break;
  }
  mantissa |= 0x400000u;
  return (static_cast<std::uint64_t>(sign) << 63) | (std::uint64_t{0x7FF} << 52) |
         (static_cast<std::uint64_t>(mantissa) << 29);
}

// Equal bit patterns in the common dtype. Both sides widen exactly into it, so for numbers that is
// equal value and equal sign (which tells -0 from +0).
bool equal_in_common_type(dtype ta, std::uint64_t ca, double va, dtype tb, std::uint64_t cb, double vb) {
  const bool nan_a = std::isnan(va), nan_b = std::isnan(vb);
  if (nan_a || nan_b) return nan_a && nan_b && nan_image(ta, ca) == nan_image(tb, cb);
  return va == vb && std::signbit(va) == std::signbit(vb);
}
}  // namespace

double reference_decode(dtype type, std::uint64_t code) noexcept {
  if (type == dtype::f64) return std::bit_cast<double>(code);
  if (type == dtype::f32) return std::bit_cast<float>(static_cast<std::uint32_t>(code));
  const small_format f = format_of(type);
  const int total_bits = 1 + f.exponent_bits + f.mantissa_bits;
  const bool negative = ((code >> (total_bits - 1)) & 1u) != 0;
  const auto exponent = static_cast<int>((code >> f.mantissa_bits) & ((1u << f.exponent_bits) - 1));
  const auto mantissa = static_cast<int>(code & ((1u << f.mantissa_bits) - 1));
  const int all_ones = (1 << f.exponent_bits) - 1;
  const int bias = (1 << (f.exponent_bits - 1)) - 1;
  double magnitude;
  if (f.ieee_specials && exponent == all_ones) {
    magnitude =
        mantissa == 0 ? std::numeric_limits<double>::infinity() : std::numeric_limits<double>::quiet_NaN();
  } else if (!f.ieee_specials && exponent == all_ones && mantissa == (1 << f.mantissa_bits) - 1) {
    magnitude = std::numeric_limits<double>::quiet_NaN();
  } else if (exponent == 0) {
    magnitude = std::ldexp(static_cast<double>(mantissa), 1 - bias - f.mantissa_bits);
  } else {
    magnitude =
        std::ldexp(static_cast<double>((1 << f.mantissa_bits) + mantissa), exponent - bias - f.mantissa_bits);
  }
  return negative ? -magnitude : magnitude;
}

std::uint64_t nan_code(dtype type, bool negative) noexcept {
  switch (type) {
    case dtype::f64:
      return (negative ? std::uint64_t{1} << 63 : 0) | 0x7FF8000000000000ull;
    case dtype::f32:
      return (negative ? 0x80000000u : 0u) | 0x7FC00000u;
    case dtype::bf16:
      return (negative ? 0x8000u : 0u) | 0x7FC0u;
    case dtype::f16:
      return (negative ? 0x8000u : 0u) | 0x7E00u;
    case dtype::f8_e4m3:
      return (negative ? 0x80u : 0u) | 0x7Fu;
    case dtype::f8_e5m2:
      return (negative ? 0x80u : 0u) | 0x7Eu;
  }
  return 0;
}

std::uint64_t inf_code(dtype type, bool negative) noexcept {
  switch (type) {
    case dtype::f64:
      return (negative ? std::uint64_t{1} << 63 : 0) | 0x7FF0000000000000ull;
    case dtype::f32:
      return (negative ? 0x80000000u : 0u) | 0x7F800000u;
    case dtype::bf16:
      return (negative ? 0x8000u : 0u) | 0x7F80u;
    case dtype::f16:
      return (negative ? 0x8000u : 0u) | 0x7C00u;
    case dtype::f8_e4m3:
      return (negative ? 0x80u : 0u) | 0x7Eu;  // ±448: E4M3 has no infinity
    case dtype::f8_e5m2:
      return (negative ? 0x80u : 0u) | 0x7Cu;
  }
  return 0;
}

bool has_infinity(dtype type) noexcept { return type != dtype::f8_e4m3; }

// --- the long-double reference --------------------------------------------------------------------

reference_stats reference_block(const typed_vector& a, const typed_vector& b) {
  if (a.size() != b.size()) throw std::invalid_argument("reference_block: sizes differ");
  constexpr double inf = std::numeric_limits<double>::infinity();
  reference_stats r;
  r.elements = a.size();
  r.min_a = r.min_b = inf;
  r.max_a = r.max_b = -inf;
  std::vector<std::pair<long double, long double>> pairs;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double va = reference_value(a, i), vb = reference_value(b, i);
    const bool fa = std::isfinite(va), fb = std::isfinite(vb);
    r.nonfinite_a += !fa;
    r.nonfinite_b += !fb;
    if (fa) {
      r.min_a = std::min(r.min_a, va);
      r.max_a = std::max(r.max_a, va);
    }
    if (fb) {
      r.min_b = std::min(r.min_b, vb);
      r.max_b = std::max(r.max_b, vb);
    }
    r.bitwise_equal += equal_in_common_type(a.type(), a.code(i), va, b.type(), b.code(i), vb);
    if (fa && fb) pairs.emplace_back(va, vb);
  }
  r.count = pairs.size();
  if (pairs.empty()) return r;
  for (const auto& [x, y] : pairs) {
    r.mean_a += x;
    r.mean_b += y;
    r.raw_aa += x * x;
    r.raw_bb += y * y;
    r.raw_ab += x * y;
    r.sum_dd += (x - y) * (x - y);
  }
  r.sum_a = r.mean_a;
  r.sum_b = r.mean_b;
  r.mean_a /= static_cast<long double>(pairs.size());
  r.mean_b /= static_cast<long double>(pairs.size());
  for (const auto& [x, y] : pairs) {
    r.m2_a += (x - r.mean_a) * (x - r.mean_a);
    r.m2_b += (y - r.mean_b) * (y - r.mean_b);
    r.c_ab += (x - r.mean_a) * (y - r.mean_b);
  }
  return r;
}

shifted_magnitudes magnitudes(const typed_vector& a, const typed_vector& b, double shift_a, double shift_b) {
  shifted_magnitudes m;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const long double x = reference_value(a, i), y = reference_value(b, i);
    if (!std::isfinite(x) || !std::isfinite(y)) continue;
    const long double dx = x - shift_a, dy = y - shift_b;
    m.abs_da += std::fabs(dx);
    m.abs_db += std::fabs(dy);
    m.sq_da += dx * dx;
    m.sq_db += dy * dy;
    m.abs_dadb += std::fabs(dx * dy);
    m.sq_d += (x - y) * (x - y);
  }
  return m;
}

// --- bitwise and relative comparisons -------------------------------------------------------------

namespace {
template <typename T>
void compare_field(const char* name, const T& x, const T& y, std::string& differences) {
  if (std::memcmp(&x, &y, sizeof(T)) != 0) differences += fmt::format(" {}: {} vs {};", name, x, y);
}
}  // namespace

#define LINEAGE_COMPARE_FIELD(field) compare_field(#field, x.field, y.field, differences)

::testing::AssertionResult same_bits(const kernel_sums& x, const kernel_sums& y) {
  std::string differences;
  LINEAGE_COMPARE_FIELD(elements);
  LINEAGE_COMPARE_FIELD(count);
  LINEAGE_COMPARE_FIELD(shift_a);
  LINEAGE_COMPARE_FIELD(shift_b);
  LINEAGE_COMPARE_FIELD(sum_a);
  LINEAGE_COMPARE_FIELD(sum_b);
  LINEAGE_COMPARE_FIELD(sum_aa);
  LINEAGE_COMPARE_FIELD(sum_bb);
  LINEAGE_COMPARE_FIELD(sum_ab);
  LINEAGE_COMPARE_FIELD(sum_dd);
  LINEAGE_COMPARE_FIELD(bitwise_equal);
  LINEAGE_COMPARE_FIELD(nonfinite_a);
  LINEAGE_COMPARE_FIELD(nonfinite_b);
  LINEAGE_COMPARE_FIELD(min_a);
  LINEAGE_COMPARE_FIELD(max_a);
  LINEAGE_COMPARE_FIELD(min_b);
  LINEAGE_COMPARE_FIELD(max_b);
  if (differences.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "kernel_sums differ:" << differences;
}

::testing::AssertionResult same_bits(const pair_moments& x, const pair_moments& y) {
  std::string differences;
  LINEAGE_COMPARE_FIELD(elements);
  LINEAGE_COMPARE_FIELD(count);
  LINEAGE_COMPARE_FIELD(mean_a);
  LINEAGE_COMPARE_FIELD(mean_b);
  LINEAGE_COMPARE_FIELD(m2_a);
  LINEAGE_COMPARE_FIELD(m2_b);
  LINEAGE_COMPARE_FIELD(c_ab);
  LINEAGE_COMPARE_FIELD(raw_aa);
  LINEAGE_COMPARE_FIELD(raw_bb);
  LINEAGE_COMPARE_FIELD(raw_ab);
  LINEAGE_COMPARE_FIELD(sum_dd);
  LINEAGE_COMPARE_FIELD(bitwise_equal);
  LINEAGE_COMPARE_FIELD(nonfinite_a);
  LINEAGE_COMPARE_FIELD(nonfinite_b);
  LINEAGE_COMPARE_FIELD(min_a);
  LINEAGE_COMPARE_FIELD(max_a);
  LINEAGE_COMPARE_FIELD(min_b);
  LINEAGE_COMPARE_FIELD(max_b);
  if (differences.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "pair_moments differ:" << differences;
}

#undef LINEAGE_COMPARE_FIELD

::testing::AssertionResult moments_close(const pair_moments& x, const pair_moments& y, double relative) {
  std::string differences;
  const auto exact = [&](const char* name, std::uint64_t p, std::uint64_t q) {
    if (p != q) differences += fmt::format(" {}: {} vs {};", name, p, q);
  };
  // Each figure is compared on the scale that gives it meaning: a covariance near zero is judged
  // against √(m2_a m2_b), a mean against the spread as well as its own size.
  const auto close = [&](const char* name, double p, double q, double scale) {
    if (p == q || (std::isnan(p) && std::isnan(q))) return;
    if (!(std::fabs(p - q) <= relative * scale))
      differences += fmt::format(" {}: {:.17g} vs {:.17g} (scale {:.3g});", name, p, q, scale);
  };
  exact("elements", x.elements, y.elements);
  exact("count", x.count, y.count);
  exact("bitwise_equal", x.bitwise_equal, y.bitwise_equal);
  exact("nonfinite_a", x.nonfinite_a, y.nonfinite_a);
  exact("nonfinite_b", x.nonfinite_b, y.nonfinite_b);
  const double n = std::max<double>(1.0, static_cast<double>(x.count));
  close("mean_a", x.mean_a, y.mean_a, std::fabs(x.mean_a) + std::sqrt(x.m2_a / n));
  close("mean_b", x.mean_b, y.mean_b, std::fabs(x.mean_b) + std::sqrt(x.m2_b / n));
  close("m2_a", x.m2_a, y.m2_a, x.m2_a);
  close("m2_b", x.m2_b, y.m2_b, x.m2_b);
  close("c_ab", x.c_ab, y.c_ab, std::sqrt(x.m2_a * x.m2_b));
  close("raw_aa", x.raw_aa, y.raw_aa, x.raw_aa);
  close("raw_bb", x.raw_bb, y.raw_bb, x.raw_bb);
  close("raw_ab", x.raw_ab, y.raw_ab, std::sqrt(x.raw_aa * x.raw_bb));
  close("sum_dd", x.sum_dd, y.sum_dd, x.sum_dd);
  close("min_a", x.min_a, y.min_a, 0);
  close("max_a", x.max_a, y.max_a, 0);
  close("min_b", x.min_b, y.min_b, 0);
  close("max_b", x.max_b, y.max_b, 0);
  if (differences.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "pair_moments not within " << relative << ":" << differences;
}

std::vector<double> normal_values(std::size_t n, double mean, double sd, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> draw(mean, sd);
  std::vector<double> values(n);
  for (auto& v : values) v = draw(engine);
  return values;
}

// --- files ----------------------------------------------------------------------------------------

scratch_directory::scratch_directory(std::string_view label) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string test_name = info != nullptr ? info->name() : std::string(label);
  std::random_device entropy;
  for (int attempt = 0; attempt < 100; ++attempt) {
    auto candidate = std::filesystem::temp_directory_path() /
                     fmt::format("lineage-{}-{}-{}-{:08x}", label, test_name, ::getpid(), entropy());
    if (std::filesystem::create_directory(candidate)) {
      path_ = std::move(candidate);
      return;
    }
  }
  throw std::runtime_error("cannot create a scratch directory");
}

scratch_directory::~scratch_directory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path write_text(const std::filesystem::path& path, std::string_view text) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  if (!out) throw std::runtime_error("cannot write " + path.string());
  return path;
}

checkpoint make_checkpoint(std::string root, std::string model_type, const std::vector<tensor_spec>& tensors,
                           const nlohmann::json& extra_config) {
  checkpoint c;
  c.root = root;
  c.model_type = model_type;
  c.config = extra_config;
  if (!model_type.empty()) c.config["model_type"] = model_type;
  std::vector<tensor_spec> sorted = tensors;
  std::sort(sorted.begin(), sorted.end(), [](const auto& x, const auto& y) { return x.name < y.name; });
  constexpr std::uint64_t header_bytes = 128;  // where the data section starts
  std::uint64_t offset = header_bytes;
  for (const auto& spec : sorted) {
    checkpoint_tensor t;
    t.name = spec.name;
    t.type = spec.type;
    t.shape = spec.shape;
    t.element_count = 1;
    for (const auto extent : spec.shape) t.element_count *= extent;
    t.file_index = 0;
    t.byte_offset = offset;
    offset += t.byte_length();
    c.tensors.push_back(std::move(t));
  }
  c.files.push_back({std::filesystem::path(root) / "model.safetensors", offset});
  return c;
}

std::vector<element_location> write_f32_safetensors(const std::filesystem::path& path,
                                                    const std::vector<f32_tensor>& tensors) {
  std::string header = "{";
  std::uint64_t offset = 0;
  for (std::size_t t = 0; t < tensors.size(); ++t) {
    const std::uint64_t bytes = tensors[t].values.size() * 4;
    header += fmt::format("{}\"{}\":{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{},{}]}}", t ? "," : "",
                          tensors[t].name, fmt::join(tensors[t].shape, ","), offset, offset + bytes);
    offset += bytes;
  }
  header += "}";
  const std::uint64_t header_size = header.size();
  std::string file(8, '\0');
  std::memcpy(file.data(), &header_size, 8);
  file += header;
  std::vector<element_location> locations;
  for (const auto& t : tensors) {
    locations.push_back({0, file.size(), dtype::f32});
    file.append(reinterpret_cast<const char*>(t.values.data()), t.values.size() * 4);
  }
  std::ofstream(path, std::ios::binary).write(file.data(), static_cast<std::streamsize>(file.size()));
  return locations;
}

const architecture_registry& embedded_registry() {
  static const architecture_registry loaded = architecture_registry::load(std::nullopt);
  return loaded;
}

const tensor_pair* find_pair(const work_plan& plan, const tensor_key& key) {
  for (const auto& p : plan.pairs)
    if (p.key == key) return &p;
  return nullptr;
}

}  // namespace lineage::test
