#pragma once
// The speed probe's pair: a small Llama-shaped BF16 model A and B = A + noise 0.01, written with
// lineage synth into a fresh directory that is removed when the pair goes.
#include <filesystem>

namespace lineage {

class probe_pair {
 public:
  // Creates `scratch`/lineage-speed-probe-XXXXXX and writes A and B there. Throws input_error
  // naming the directory when it cannot be made or written.
  explicit probe_pair(const std::filesystem::path& scratch);
  ~probe_pair();
  probe_pair(const probe_pair&) = delete;
  probe_pair& operator=(const probe_pair&) = delete;

  [[nodiscard]] std::filesystem::path a() const { return dir_ / "A"; }
  [[nodiscard]] std::filesystem::path b() const { return dir_ / "B"; }
  [[nodiscard]] std::filesystem::path output() const { return dir_ / "report"; }

 private:
  std::filesystem::path dir_;
};

}  // namespace lineage
