#include "job/progress_meter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace lineage {
namespace {

std::string size_text(double bytes) {
  if (bytes >= 1e12) return fmt::format("{:.2f} TB", bytes / 1e12);
  if (bytes >= 1e9) return fmt::format("{:.2f} GB", bytes / 1e9);
  return fmt::format("{:.1f} MB", bytes / 1e6);
}

std::string time_text(double seconds) {
  if (!std::isfinite(seconds)) return "unknown";
  const auto s = static_cast<std::uint64_t>(std::llround(std::max(seconds, 0.0)));
  if (s < 60) return fmt::format("{} s", s);
  if (s < 3600) return fmt::format("{} min {} s", s / 60, s % 60);
  return fmt::format("{} h {} min", s / 3600, (s % 3600) / 60);
}

double fraction(const progress_state& state) {
  if (state.bytes_total > 0) return std::min(1.0, static_cast<double>(state.bytes_done) / state.bytes_total);
  if (state.units_total > 0) return std::min(1.0, static_cast<double>(state.units_done) / state.units_total);
  return 1.0;
}

}  // namespace

progress_style parse_progress_style(const std::string& text, const std::string& what) {
  if (text == "auto") return progress_style::automatic;
  if (text == "bar") return progress_style::bar;
  if (text == "log") return progress_style::log;
  if (text == "none") return progress_style::none;
  throw usage_error(fmt::format("{}: expected one of auto, bar, log, none, got '{}'", what, text));
}

std::string progress_text(const progress_state& state) {
  const double new_bytes = static_cast<double>(state.bytes_done - std::min(state.bytes_done, state.bytes_at_start));
  const double rate = state.seconds > 0 ? new_bytes / state.seconds : 0.0;
  const double left = static_cast<double>(state.bytes_total - std::min(state.bytes_total, state.bytes_done));
  const double eta = left == 0 ? 0.0 : rate > 0 ? left / rate : INFINITY;
  return fmt::format("{:.1f}% {} of {}, {} of {} units, {:.2f} GB/s, {} left", 100 * fraction(state),
                     size_text(static_cast<double>(state.bytes_done)), size_text(static_cast<double>(state.bytes_total)),
                     state.units_done, state.units_total, rate / 1e9, time_text(eta));
}

std::string progress_bar(const progress_state& state, int width) {
  const int full = static_cast<int>(std::floor(fraction(state) * width));
  return "[" + std::string(static_cast<std::size_t>(full), '#') + std::string(static_cast<std::size_t>(width - full), '.') + "]";
}

progress_meter::progress_meter(std::ostream& out, std::string label, progress_style style, bool terminal,
                               double log_every_seconds, std::uint64_t bytes_total, std::uint64_t units_total,
                               std::uint64_t bytes_at_start, std::uint64_t units_at_start)
    : out_(out), label_(std::move(label)), style_(style), log_every_(log_every_seconds), start_(clock::now()) {
  if (style_ == progress_style::automatic) style_ = terminal ? progress_style::bar : progress_style::log;
  state_.bytes_total = bytes_total;
  state_.units_total = units_total;
  state_.bytes_done = state_.bytes_at_start = bytes_at_start;
  state_.units_done = units_at_start;
  last_shown_ = start_;
}

progress_state progress_meter::state_now() const {
  progress_state state = state_;
  state.seconds = std::chrono::duration<double>(clock::now() - start_).count();
  return state;
}

void progress_meter::update(std::uint64_t bytes_done, std::uint64_t units_done) {
  state_.bytes_done = bytes_done;
  state_.units_done = units_done;
  const auto now = clock::now();
  const double since = std::chrono::duration<double>(now - last_shown_).count();
  if (style_ == progress_style::bar && since >= 0.2) {
    const progress_state state = state_now();
    out_ << "\r" << label_ << " " << progress_bar(state, 30) << " " << progress_text(state) << "\x1b[K" << std::flush;
    last_shown_ = now;
    shown_ = true;
  } else if (style_ == progress_style::log && since >= log_every_) {
    out_ << "lineage: progress: " << label_ << ": " << progress_text(state_now()) << std::endl;
    last_shown_ = now;
    shown_ = true;
  }
}

void progress_meter::abandon() {
  // A bar's line is ended so that the error message starts a line of its own; a log says nothing
  // (the error is the one line that follows).
  if (style_ == progress_style::bar) out_ << "\n" << std::flush;
}

void progress_meter::finish(const std::string& how) {
  // A log that showed nothing stays silent: a phase shorter than the interval needs no account.
  if (style_ == progress_style::none || (style_ == progress_style::log && !shown_)) return;
  const progress_state state = state_now();
  const double new_bytes = static_cast<double>(state.bytes_done - std::min(state.bytes_done, state.bytes_at_start));
  const std::string text =
      fmt::format("{}: {}, {} of {} units in {} ({:.2f} GB/s)", label_, how, state.units_done, state.units_total,
                  time_text(state.seconds), state.seconds > 0 ? new_bytes / state.seconds / 1e9 : 0.0);
  if (style_ == progress_style::bar)
    out_ << "\r" << label_ << " " << progress_bar(state, 30) << " " << text.substr(label_.size() + 2) << "\x1b[K\n"
         << std::flush;
  else
    out_ << "lineage: progress: " << text << std::endl;
}

}  // namespace lineage
