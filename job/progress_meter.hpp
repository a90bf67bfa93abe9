#pragma once
// Rank 0's account of the statistics phase while it runs: bytes done of the total, the rate and the
// time left. On a terminal it redraws one bar line; otherwise (Slurm output files, mpirun's pipes)
// it writes a log line at a fixed interval and, when it wrote any, one at the end.
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

namespace lineage {

enum class progress_style : std::uint8_t { automatic, bar, log, none };

// "auto", "bar", "log", "none"; throws usage_error naming `what` otherwise.
progress_style parse_progress_style(const std::string& text, const std::string& what);

struct progress_state {
  std::uint64_t bytes_done = 0, bytes_total = 0;
  std::uint64_t units_done = 0, units_total = 0;
  std::uint64_t bytes_at_start = 0;  // done by an earlier run (resumed), not counted in the rate
  double seconds = 0;                // since this run's phase started
};

// "41.2% 12.3 of 30.0 GB, 812 of 2000 units, 5.21 GB/s, 3 min 21 s left"
std::string progress_text(const progress_state& state);

// "[##########..........]" of `width` cells for the fraction done.
std::string progress_bar(const progress_state& state, int width);

class progress_meter {
 public:
  using clock = std::chrono::steady_clock;
  // `style` automatic means a bar when `terminal`, log lines otherwise.
  progress_meter(std::ostream& out, std::string label, progress_style style, bool terminal, double log_every_seconds,
                 std::uint64_t bytes_total, std::uint64_t units_total, std::uint64_t bytes_at_start,
                 std::uint64_t units_at_start);

  void update(std::uint64_t bytes_done, std::uint64_t units_done);
  // The last line: "done" with the total rate, or where the phase stopped.
  void finish(const std::string& how);
  // Ends the display after a failure (the error message follows).
  void abandon();

 private:
  [[nodiscard]] progress_state state_now() const;

  std::ostream& out_;
  std::string label_;
  progress_style style_;
  double log_every_;
  progress_state state_;
  clock::time_point start_, last_shown_;
  bool shown_ = false;
};

}  // namespace lineage
