#include "report/svg_chart.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace lineage::svg {
namespace {

// The plot area inside a chart's viewBox.
constexpr double width = 640, height = 300;
constexpr double left = 64, right = 150, top = 30, bottom = 46;
constexpr double plot_w = width - left - right, plot_h = height - top - bottom;

std::string number(double v) {
  if (!std::isfinite(v)) return "n/a";
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-3 || a >= 1e5)) return fmt::format("{:.2e}", v);
  return fmt::format("{:.4g}", v);
}

struct scale {
  double low, high, from, to;  // data [low, high] onto pixels [from, to]
  [[nodiscard]] double operator()(double v) const {
    return high == low ? (from + to) / 2 : from + (v - low) / (high - low) * (to - from);
  }
};

// Round tick values covering [low, high].
std::vector<double> ticks(double low, double high, int wanted = 5) {
  if (!(high > low)) return {low};
  const double raw = (high - low) / wanted;
  const double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double step = magnitude;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw) {
      step = m * magnitude;
      break;
    }
  std::vector<double> out;
  for (double t = std::ceil(low / step) * step; t <= high + step * 1e-9; t += step)
    out.push_back(std::fabs(t) < step * 1e-9 ? 0 : t);
  return out;
}

std::string open_chart(const std::string& title, double h = height) {
  return fmt::format(
      "<svg class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\" xmlns=\"http://www.w3.org/2000/svg\">"
      "<title>{}</title><text class=\"chart-title\" x=\"{}\" y=\"18\">{}</text>",
      width, h, escape(title), escape(title), left, escape(title));
}

std::string axes(const scale& x, const scale& y, const std::string& x_label, const std::string& y_label,
                 bool integer_x) {
  std::string out = fmt::format("<rect class=\"plot\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/>", left, top, plot_w,
                                plot_h);
  for (double t : ticks(y.low, y.high))
    out += fmt::format(
        "<line class=\"grid\" x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\"/><text class=\"tick\" x=\"{}\" "
        "y=\"{:.1f}\" text-anchor=\"end\">{}</text>",
        left, left + plot_w, y(t), y(t), left - 6, y(t) + 4, number(t));
  auto xt = ticks(x.low, x.high, 8);
  if (integer_x) {
    xt.erase(std::remove_if(xt.begin(), xt.end(), [](double t) { return t != std::floor(t); }), xt.end());
    if (xt.empty()) xt.push_back(x.low);
  }
  for (double t : xt)
    out += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>", x(t),
                       top + plot_h + 16, number(t));
  out += fmt::format("<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", left + plot_w / 2,
                     height - 8, escape(x_label));
  out += fmt::format(
      "<text class=\"axis\" transform=\"translate(14 {}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
      top + plot_h / 2, escape(y_label));
  return out;
}

std::string legend_entry(int index, const std::string& color, const std::string& label, bool dashed, bool box) {
  const double y = top + 10 + index * 18.0, x = left + plot_w + 12;
  std::string mark = box ? fmt::format("<rect x=\"{}\" y=\"{}\" width=\"18\" height=\"10\" fill=\"{}\" fill-opacity=\"0.25\" "
                                       "stroke=\"{}\"{}/>",
                                       x, y - 8, color, color, dashed ? " stroke-dasharray=\"4 3\"" : "")
                         : fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"{}/>",
                                       x, x + 18, y - 3, y - 3, color, dashed ? " stroke-dasharray=\"4 3\"" : "");
  return mark + fmt::format("<text class=\"legend\" x=\"{}\" y=\"{}\">{}</text>", x + 24, y, escape(label));
}

void widen(double& low, double& high) {
  if (!std::isfinite(low) || !std::isfinite(high)) low = 0, high = 1;
  if (high - low < 1e-9) {
    low -= 0.5;
    high += 0.5;
  }
  const double pad = (high - low) * 0.05;
  low -= pad;
  high += pad;
}

std::string colour(double v, double low, double high) {
  if (!std::isfinite(v)) return "#cccccc";
  const double mid = (low + high) / 2, half = (high - low) / 2;
  const double t = std::clamp(half > 0 ? (v - mid) / half : 0.0, -1.0, 1.0);
  // white → red above the middle, white → blue below.
  const auto mix = [&](int from, int to, double s) { return static_cast<int>(std::lround(from + (to - from) * s)); };
  if (t >= 0) return fmt::format("#{:02x}{:02x}{:02x}", mix(255, 178, t), mix(255, 24, t), mix(255, 43, t));
  return fmt::format("#{:02x}{:02x}{:02x}", mix(255, 33, -t), mix(255, 102, -t), mix(255, 172, -t));
}

}  // namespace

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  return out;
}

std::string line_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                       const std::vector<band>& bands, const std::vector<line_series>& series,
                       std::optional<axis_range> y_range) {
  double x_low = std::numeric_limits<double>::infinity(), x_high = -x_low, y_low = x_low, y_high = -x_low;
  bool integer_x = true;
  const auto take_x = [&](double v) {
    if (!std::isfinite(v)) return;
    x_low = std::min(x_low, v), x_high = std::max(x_high, v);
    integer_x = integer_x && v == std::floor(v);
  };
  const auto take_y = [&](double v) {
    if (std::isfinite(v)) y_low = std::min(y_low, v), y_high = std::max(y_high, v);
  };
  for (const auto& b : bands) {
    for (double v : b.x) take_x(v);
    for (double v : b.low) take_y(v);
    for (double v : b.high) take_y(v);
  }
  for (const auto& s : series) {
    for (double v : s.x) take_x(v);
    for (double v : s.y) take_y(v);
  }
  if (y_range) y_low = y_range->low, y_high = y_range->high;
  else widen(y_low, y_high);
  if (!(x_high >= x_low)) x_low = 0, x_high = 1;
  if (x_high == x_low) x_low -= 0.5, x_high += 0.5;
  const scale x{x_low, x_high, left, left + plot_w}, y{y_low, y_high, top + plot_h, top};
  std::string out = open_chart(title) + axes(x, y, x_label, y_label, integer_x);
  int legend = 0;
  for (const auto& b : bands) {
    std::string upper, lower;
    for (std::size_t i = 0; i < b.x.size(); ++i) {
      if (!std::isfinite(b.low[i]) || !std::isfinite(b.high[i])) continue;
      upper += fmt::format("{}{:.1f},{:.1f}", upper.empty() ? "" : " ", x(b.x[i]), y(std::clamp(b.high[i], y_low, y_high)));
      lower = fmt::format("{:.1f},{:.1f} ", x(b.x[i]), y(std::clamp(b.low[i], y_low, y_high))) + lower;
    }
    if (upper.empty()) continue;
    if (b.outline_only) {
      out += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-dasharray=\"4 3\"/>", upper, b.color);
      out += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-dasharray=\"4 3\"/>", lower, b.color);
    } else {
      out += fmt::format("<polygon points=\"{} {}\" fill=\"{}\" fill-opacity=\"0.22\" stroke=\"none\"/>", upper, lower,
                         b.color);
    }
    out += legend_entry(legend++, b.color, b.label, b.outline_only, true);
  }
  for (const auto& s : series) {
    std::string path;
    bool pen_down = false;
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.y[i])) {
        pen_down = false;
        continue;
      }
      path += fmt::format("{}{:.1f},{:.1f} ", pen_down ? "L" : "M", x(s.x[i]), y(std::clamp(s.y[i], y_low, y_high)));
      pen_down = true;
    }
    out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{}/>", path, s.color,
                       s.dashed ? " stroke-dasharray=\"5 3\"" : "");
    for (std::size_t i = 0; i < s.x.size(); ++i)
      if (std::isfinite(s.y[i]))
        out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.6\" fill=\"{}\"><title>{} at {}: {}</title></circle>",
                           x(s.x[i]), y(std::clamp(s.y[i], y_low, y_high)), s.color, escape(s.label), number(s.x[i]),
                           number(s.y[i]));
    out += legend_entry(legend++, s.color, s.label, s.dashed, false);
  }
  return out + "</svg>";
}

std::string heatmap(const std::string& title, const std::vector<double>& values, std::size_t rows, std::size_t cols,
                    const std::string& row_label, const std::string& col_label, double low, double high,
                    const std::vector<std::pair<std::size_t, std::size_t>>& marks,
                    const std::vector<std::string>& row_names, const std::vector<std::string>& col_names) {
  const double side = std::min(plot_w, plot_h + 60);
  const double cell = rows == 0 || cols == 0 ? 0 : std::min(side / static_cast<double>(cols), side / static_cast<double>(rows));
  const double h = top + cell * static_cast<double>(rows) + bottom;
  std::string out = open_chart(title, std::max(h, 120.0));
  for (std::size_t r = 0; r < rows; ++r)
    for (std::size_t c = 0; c < cols; ++c) {
      const double v = values.at(r * cols + c);
      out += fmt::format("<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" fill=\"{}\"><title>{} {}, {} {}: "
                         "{}</title></rect>",
                         left + cell * static_cast<double>(c), top + cell * static_cast<double>(r), cell + 0.05, cell + 0.05,
                         colour(v, low, high), escape(row_label), r, escape(col_label), c, number(v));
    }
  // Names along the edges where cells are large enough to carry them.
  if (cell >= 9) {
    for (std::size_t r = 0; r < rows && r < row_names.size(); ++r)
      out += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>", left - 4,
                         top + cell * (static_cast<double>(r) + 0.5) + 4, escape(row_names[r]));
    for (std::size_t c = 0; c < cols && c < col_names.size(); ++c)
      out += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                         left + cell * (static_cast<double>(c) + 0.5), top - 3, escape(col_names[c]));
  }
  for (const auto& [r, c] : marks)
    out += fmt::format("<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" fill=\"none\" stroke=\"#111\" "
                       "stroke-width=\"{:.2f}\"/>",
                       left + cell * static_cast<double>(c), top + cell * static_cast<double>(r), cell, cell,
                       std::max(0.6, std::min(2.0, cell / 6)));
  const double gx = left + cell * static_cast<double>(cols) + 16;
  for (int i = 0; i <= 10; ++i) {
    const double v = high - (high - low) * i / 10.0;
    out += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"14\" height=\"9\" fill=\"{}\"/>", gx, top + i * 9.0,
                       colour(v, low, high));
  }
  out += fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text><text class=\"tick\" x=\"{:.1f}\" "
                     "y=\"{:.1f}\">{}</text>",
                     gx + 18, top + 8, number(high), gx + 18, top + 98, number(low));
  out += fmt::format("<text class=\"axis\" x=\"{}\" y=\"{:.1f}\">{} (rows) × {} (columns)</text>", left,
                     top + cell * static_cast<double>(rows) + 20, escape(row_label), escape(col_label));
  return out + "</svg>";
}

std::string histogram(const std::string& title, const std::vector<double>& samples, double observed,
                      const std::string& x_label) {
  std::vector<double> finite;
  for (double v : samples)
    if (std::isfinite(v)) finite.push_back(v);
  double low = finite.empty() ? 0 : *std::min_element(finite.begin(), finite.end());
  double high = finite.empty() ? 1 : *std::max_element(finite.begin(), finite.end());
  // The observed value widens the range unless it lies far beyond the null (then an arrow).
  const double spread = std::max(high - low, 1e-12);
  const bool observed_in_reach = std::isfinite(observed) && observed > low - 2 * spread && observed < high + 2 * spread;
  if (observed_in_reach) low = std::min(low, observed), high = std::max(high, observed);
  widen(low, high);
  constexpr int bins = 30;
  std::vector<int> counts(bins, 0);
  for (double v : finite)
    ++counts[static_cast<std::size_t>(std::clamp(static_cast<int>((v - low) / (high - low) * bins), 0, bins - 1))];
  const int most = std::max(1, *std::max_element(counts.begin(), counts.end()));
  const scale x{low, high, left, left + plot_w}, y{0, static_cast<double>(most), top + plot_h, top};
  std::string out = open_chart(title) + axes(x, y, x_label, "null samples", true);
  for (int b = 0; b < bins; ++b) {
    const double x0 = x(low + (high - low) * b / bins), x1 = x(low + (high - low) * (b + 1) / bins);
    out += fmt::format("<rect class=\"bar\" x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\"/>", x0,
                       y(counts[static_cast<std::size_t>(b)]), std::max(0.0, x1 - x0 - 0.5),
                       top + plot_h - y(counts[static_cast<std::size_t>(b)]));
  }
  const std::string label = fmt::format("observed {}", number(observed));
  if (observed_in_reach) {
    out += fmt::format("<line class=\"observed\" x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{}\" y2=\"{}\"/><text class=\"legend "
                       "observed-label\" x=\"{:.1f}\" y=\"{}\">{}</text>",
                       x(observed), x(observed), top, top + plot_h, x(observed) + 4, top + 12, escape(label));
  } else if (std::isfinite(observed)) {
    const bool beyond_right = observed > high;
    const double ax = beyond_right ? left + plot_w - 4 : left + 4;
    out += fmt::format("<path class=\"observed\" d=\"M{:.1f},{} l{},-6 l0,12 z\"/><text class=\"legend observed-label\" "
                       "x=\"{:.1f}\" y=\"{}\" text-anchor=\"{}\">{} (far beyond every null sample)</text>",
                       ax, top + 40, beyond_right ? -10 : 10, beyond_right ? ax - 14 : ax + 14, top + 44,
                       beyond_right ? "end" : "start", escape(label));
  }
  out += fmt::format("<text class=\"legend\" x=\"{}\" y=\"{}\">{} samples</text>", left + plot_w + 12, top + 10,
                     finite.size());
  return out + "</svg>";
}

std::string matching_plot(const std::string& title, const std::vector<int>& b_of_a, std::size_t size_b,
                          const std::string& a_label, const std::string& b_label) {
  const double n_a = std::max<double>(1, static_cast<double>(b_of_a.size()) - 1);
  const double n_b = std::max<double>(1, static_cast<double>(size_b) - 1);
  const scale x{0, n_a, left, left + plot_w}, y{0, n_b, top + plot_h, top};
  std::string out = open_chart(title) + axes(x, y, a_label, b_label, true);
  out += fmt::format("<line class=\"grid\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke-dasharray=\"4 3\"/>", x(0), y(0),
                     x(n_a), y(std::min(n_a, n_b)));
  std::size_t moved = 0, matched = 0;
  const double r = b_of_a.size() > 1000 ? 0.8 : 1.6;
  for (std::size_t i = 0; i < b_of_a.size(); ++i) {
    if (b_of_a[i] < 0) continue;
    ++matched;
    moved += static_cast<std::size_t>(b_of_a[i]) != i;
    out += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"{}\" class=\"dot\"/>", x(static_cast<double>(i)),
                       y(b_of_a[i]), r);
  }
  out += fmt::format("<text class=\"legend\" x=\"{}\" y=\"{}\">{} matched</text><text class=\"legend\" x=\"{}\" "
                     "y=\"{}\">{} off the diagonal</text>",
                     left + plot_w + 12, top + 10, matched, left + plot_w + 12, top + 28, moved);
  return out + "</svg>";
}

std::string share_bars(const std::string& title, const std::vector<std::pair<std::string, double>>& shares) {
  const double h = top + 22.0 * static_cast<double>(shares.size()) + 20;
  std::string out = open_chart(title, h);
  const double bar_left = 220, bar_w = width - bar_left - 80;
  for (std::size_t i = 0; i < shares.size(); ++i) {
    const auto& [label, share] = shares[i];
    const double yy = top + 22.0 * static_cast<double>(i);
    const double s = std::isfinite(share) ? std::clamp(share, 0.0, 1.0) : 0;
    out += fmt::format("<text class=\"tick\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text><rect class=\"plot\" "
                       "x=\"{}\" y=\"{:.1f}\" width=\"{}\" height=\"14\"/><rect class=\"bar\" x=\"{}\" y=\"{:.1f}\" "
                       "width=\"{:.1f}\" height=\"14\"/><text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>",
                       bar_left - 8, yy + 11, escape(label), bar_left, yy, bar_w, bar_left, yy, bar_w * s,
                       bar_left + bar_w + 6, yy + 11, std::isfinite(share) ? fmt::format("{:.1f} %", 100 * share) : "n/a");
  }
  return out + "</svg>";
}

}  // namespace lineage::svg
