#include "architecture_test_support.hpp"

#include <cstdint>
#include <stdexcept>

#include "core/error.hpp"

namespace lineage {

void PrintTo(const tensor_key& key, std::ostream* out) {
  *out << "(layer " << key.layer << ", \"" << key.role << "\", expert " << key.expert << ")";
}

namespace arch_test {

const architecture_registry& embedded_rules() {
  static const architecture_registry registry = architecture_registry::load(std::nullopt);
  return registry;
}

const architecture& family(std::string_view model_type) {
  const architecture* found = embedded_rules().find(model_type);
  if (found == nullptr) {
    throw std::runtime_error("no embedded rules for model_type " + std::string(model_type));
  }
  return *found;
}

tensor_key key_of(const architecture& rules, std::string_view name, const json& config) {
  const std::uint64_t shape[] = {16, 16};
  const std::vector<tensor_view> views = rules.map(name, shape, config);
  EXPECT_EQ(views.size(), 1U) << name;
  EXPECT_TRUE(views.at(0).whole(shape)) << name;
  EXPECT_EQ(views.at(0).label, name);
  return views.at(0).key;
}

void expect_keys(std::string_view model_type, const json& config, const std::vector<expected_key>& expected) {
  const architecture& rules = family(model_type);
  for (const expected_key& entry : expected) {
    EXPECT_EQ(key_of(rules, entry.name, config), entry.key) << model_type << ": " << entry.name;
  }
}

std::string input_error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const input_error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected an input_error";
  return {};
}

void expect_mentions(const std::string& message, std::initializer_list<std::string_view> parts) {
  for (const std::string_view part : parts) {
    EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' missing from: " << message;
  }
}

std::string load_error(std::string_view yaml_text, const std::string& file) {
  rule_directory directory;
  directory.write(file, yaml_text);
  return input_error_message([&] { (void)architecture_registry::load(directory.path()); });
}

}  // namespace arch_test
}  // namespace lineage
