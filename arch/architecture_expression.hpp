#pragma once
// The tiny expression language of architecture rules: row counts of fused-tensor parts and derived
// config values, e.g. "num_key_value_heads * head_dim" or "hidden_size / num_attention_heads".
// Operands are config keys or positive integer literals; operators are * and /, evaluated left to
// right. Nothing more is needed to size the parts of a fused projection, and a language this small
// cannot hide a mistake in a rule file.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace lineage {

class row_expression {
 public:
  // Throws std::invalid_argument with the reason when `text` is not an expression.
  static row_expression parse(std::string_view text);

  // Resolves a config key to its positive value, or throws.
  using key_resolver = std::function<std::int64_t(const std::string& key)>;

  // The value, always positive. Throws input_error prefixed with `context` (the tensor being
  // mapped) on overflow or a division that leaves a remainder: a row count must be exact.
  [[nodiscard]] std::int64_t evaluate(const key_resolver& value_of, std::string_view context) const;

  [[nodiscard]] const std::string& text() const noexcept { return text_; }
  // The config keys the expression reads, in order of appearance.
  [[nodiscard]] std::vector<std::string> keys() const;

 private:
  struct operand {
    char op = '*';           // how it combines with the value so far ('*' for the first operand)
    std::string key;         // config key, or empty for a literal
    std::int64_t literal = 0;
  };
  std::string text_;
  std::vector<operand> operands_;
};

}  // namespace lineage
