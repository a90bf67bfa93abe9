#pragma once
// Inline SVG charts for the HTML report: self-contained markup (no scripts, no fonts fetched), sized
// by a viewBox so they scale to the page and print.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lineage::svg {

// Text safe inside HTML/SVG element content and attribute values.
std::string escape(std::string_view text);

struct line_series {
  std::string label;
  std::vector<double> x, y;  // NaN y: a gap
  std::string color;
  bool dashed = false;
};

// A shaded range around the series (e.g. the 1st–99th percentile of a null), per x.
struct band {
  std::string label;
  std::vector<double> x, low, high;
  std::string color;
  bool outline_only = false;  // dashed edges instead of a fill
};

struct axis_range {
  double low = 0, high = 1;
};

// Lines with markers over shaded bands; the y range covers everything drawn unless given.
std::string line_chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                       const std::vector<band>& bands, const std::vector<line_series>& series,
                       std::optional<axis_range> y_range = std::nullopt);

// A rows × cols matrix (row-major) coloured from `low` (blue) through white to `high` (red), with
// optional marked cells (row, col) outlined.
std::string heatmap(const std::string& title, const std::vector<double>& values, std::size_t rows, std::size_t cols,
                    const std::string& row_label, const std::string& col_label, double low, double high,
                    const std::vector<std::pair<std::size_t, std::size_t>>& marks = {},
                    const std::vector<std::string>& row_names = {}, const std::vector<std::string>& col_names = {});

// A histogram of `samples` with the observed value marked (an arrow at the edge when it lies
// beyond the drawn range, with its value written).
std::string histogram(const std::string& title, const std::vector<double>& samples, double observed,
                      const std::string& x_label);

// A matching as points (A index, B index): a derivative's permutation is a scatter of exactly one
// point per row; the identity is the diagonal. −1 entries (unmatched) are left out.
std::string matching_plot(const std::string& title, const std::vector<int>& b_of_a, std::size_t size_b,
                          const std::string& a_label, const std::string& b_label);

// Horizontal bars of shares in [0, 1] with their labels and values.
std::string share_bars(const std::string& title, const std::vector<std::pair<std::string, double>>& shares);

}  // namespace lineage::svg
