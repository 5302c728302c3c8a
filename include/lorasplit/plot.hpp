#pragma once
// Plots through gnuplot (an external program): the sweep and frontier figures. A missing
// gnuplot is a status (ErrorCode::kUnsupported), never a crash; callers still print data.

#include <lorasplit/status.hpp>
#include <lorasplit/sweep.hpp>

#include <string>
#include <vector>

namespace lorasplit {

/// True when a `gnuplot` program is on PATH.
bool gnuplot_available();

/// Throughput and gain against the first axis; one line per value of the second axis (up
/// to 12 values) or heatmaps (more). `out_path` ends in .svg or .png. Axes are labelled
/// with the parameter's unit; log axes for log ranges.
Status plot_sweep(const std::vector<SweepAxis>& axes, const std::vector<SweepRow>& rows, const std::string& out_path);

/// A series of (x, y) points for plot_lines.
struct Series {
  std::string title;
  std::vector<std::pair<double, double>> points;
};

/// Generic line plot (used by the throughput-latency frontier).
Status plot_lines(const std::string& title, const std::string& x_label, const std::string& y_label, bool log_x,
                  const std::vector<Series>& series, const std::string& out_path);

}  // namespace lorasplit
