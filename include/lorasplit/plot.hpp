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

/// What a caller may set on a figure; empty fields keep the defaults.
struct PlotOptions {
  std::string title;   ///< replaces the figure's title
  std::string xlabel;  ///< replaces the x axis label
  std::string ylabel;  ///< replaces the y axis label (of the throughput panel, for sweeps)
};

/// Throughput and gain against the first axis; one line per value of the second axis (up
/// to 12 values) or heatmaps (more). `out_path` ends in .svg, .png or .pdf (vector output
/// for LaTeX: SVG or PDF). Axes are labelled with the parameter's meaning and tick labels
/// carry SI prefixes and the unit ("10 GB/s"); log axes for log ranges, ticks at decades;
/// legend entries in readable units ("cxl.flops = 1.931 TFLOPS"). A panel whose values are
/// all equal (a flat gain) is left out and the title says its value.
Status plot_sweep(const std::vector<SweepAxis>& axes, const std::vector<SweepRow>& rows, const std::string& out_path,
                  const PlotOptions& options = {});

/// A series of (x, y) points for plot_lines.
struct Series {
  std::string title;
  std::vector<std::pair<double, double>> points;
};

/// Generic line plot (used by the throughput-latency frontier). Ticks carry SI prefixes
/// and `x_unit` / `y_unit` ("10 us", "1.92 G tokens/s" as "1.92 G"). `options` overrides
/// the title and labels given here.
Status plot_lines(const std::string& title, const std::string& x_label, const std::string& x_unit,
                  const std::string& y_label, const std::string& y_unit, bool log_x, const std::vector<Series>& series,
                  const std::string& out_path, const PlotOptions& options = {});

}  // namespace lorasplit
