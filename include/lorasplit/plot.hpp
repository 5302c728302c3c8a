#pragma once
// Plots through gnuplot (an external program): the sweep and frontier figures. A missing
// gnuplot is a status (ErrorCode::kUnsupported), never a crash; callers still print data.

#include <lorasplit/serving.hpp>
#include <lorasplit/status.hpp>
#include <lorasplit/sweep.hpp>

#include <optional>
#include <string>
#include <vector>

namespace lorasplit {

/// True when a `gnuplot` program is on PATH.
bool gnuplot_available();
/// An error naming `plot` unless the file ends in .svg, .png or .pdf (said before the work
/// whose figure it is).
Status check_plot_path(const std::string& path);

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

/// What a serving sweep's figure needs of one point (a sweep keeps these, not its plans).
struct ServingPlotRow {
  std::size_t index{0};             ///< the point's index in the grid
  std::vector<std::string> values;  ///< one per axis, as printed
  /// Throughputs [tokens/s] of the optimum and the baselines; nullopt where none exists.
  std::optional<double> optimum, gpu_fetch, gpu_hbm, device_all;
  /// Gains [%] of the optimum over gpu_fetch and over gpu_hbm (docs/model.md §9.6).
  std::optional<double> gain_over_gpu_fetch, gain_over_gpu_hbm;
};
ServingPlotRow serving_plot_row(const ServingSweepRow& row);

/// A serving sweep (docs/model.md §9.10): throughput of the optimum (and, over one axis,
/// of the three baselines) and its gains over gpu_fetch (solid) and gpu_hbm (dashed)
/// against the first axis, one colour per value of the second (up to 8). The first axis
/// must be numeric (a parameter, or serving.adapters, batch_tokens, context_tokens); a log
/// x axis where its values span a decade or more.
Status plot_serving_sweep(const std::vector<ServingAxis>& axes, const std::vector<ServingPlotRow>& rows,
                          const std::string& out_path, const PlotOptions& options = {});
/// What plot_serving_sweep would refuse, said before the sweep is solved: the file's type,
/// the number of axes, a first axis that is not numeric, more than 8 values of the second.
Status check_serving_plot(const std::vector<ServingAxis>& axes, const std::string& out_path);

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
