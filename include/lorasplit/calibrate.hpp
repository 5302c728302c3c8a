#pragma once
// Calibration (docs/calibration.md): measure the LoRA kernels and the base GEMM with a real
// BLAS on this machine, fit the roofline of docs/model.md §9.3 to the measurements, and
// write the fitted constants as a hardware profile whose every value says how it was
// measured. The fit is floating point: its numbers are measured constants, not plans.

#include <lorasplit/status.hpp>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lorasplit {

/// One GEMM: (tokens x d_in) · (d_in x d_out), elements of `element_bytes`.
struct KernelShape {
  std::string kind;  ///< "shrink" (x·A, d_out = r), "expand" (y·B, d_in = r) or "base" (x·W)
  std::int64_t tokens{0}, d_in{0}, d_out{0};
  [[nodiscard]] double flops() const;                      ///< 2 · tokens · d_in · d_out
  [[nodiscard]] double bytes(int element_bytes) const;     ///< both operands and the result, once each
};

struct KernelMeasurement {
  KernelShape shape;
  double flops{0}, bytes{0};
  double median_s{0}, min_s{0}, max_s{0};  ///< over the timed repetitions
  int repetitions{0};
};

/// The size-dependent efficiency of one kernel kind at one token count (docs/calibration.md,
/// "One rate does not fit every size"): the factor e by which those kernels fall short of
/// the roofline, time = roofline time / e, the median over its shapes of predicted /
/// measured (with no overhead, the rates times e). Reported, not read by the models (their
/// kernels have one rate per side).
struct EfficiencyCell {
  std::string kind;        ///< "shrink", "expand", "base"
  std::int64_t tokens{0};
  std::size_t shapes{0};   ///< its shapes measured
  double efficiency{1};
};

/// The roofline of one side: time = max(flops / flops_per_s, bytes / bytes_per_s) + overhead_s.
struct RooflineFit {
  double flops_per_s{0};   ///< the compute rate the kernels reach (peak times efficiency)
  double bytes_per_s{0};   ///< the memory rate they reach
  double overhead_s{0};    ///< fixed time of each kernel
  double median_abs_error{0}, p90_abs_error{0};  ///< |predicted / measured - 1| over the shapes
  /// Shapes on each side of the fitted roofline's ridge: with none compute-bound the compute
  /// rate is only a lower bound (any larger one fits as well), likewise for memory.
  std::size_t compute_bound{0}, memory_bound{0};
  /// By kernel kind, then tokens: the size-dependent efficiency, and the errors with it.
  std::vector<EfficiencyCell> efficiency_table;
  double table_median_abs_error{0}, table_p90_abs_error{0};
};
[[nodiscard]] double roofline_time_s(const RooflineFit& fit, double flops, double bytes);
/// The same with the efficiency of the shape's kind and tokens (1 where the table has none).
[[nodiscard]] double table_time_s(const RooflineFit& fit, const KernelShape& shape, double flops, double bytes);
/// Least squares on the logarithms of the times (every shape weighs the same, whatever its
/// size), by Nelder-Mead from a start read off the data; deterministic. Fills the errors.
RooflineFit fit_roofline(std::span<const KernelMeasurement> measurements);
/// Fills fit's efficiency table and its errors for the measurements, against fit's rates
/// and overhead (fit_roofline does it for the rates it fitted).
void fit_efficiency_table(RooflineFit& fit, std::span<const KernelMeasurement> measurements);

struct CalibrationOptions {
  bool quick{false};  ///< a few shapes, a few repetitions: under 20 s
  /// Called before each measurement: done so far, total, the shape.
  std::function<void(std::size_t, std::size_t, const KernelShape&)> progress;
};

struct Calibration {
  std::string backend;    ///< "cpu"
  std::string library;    ///< the BLAS and its version, e.g. "OpenBLAS 0.3.21 ..."
  std::string precision;  ///< "fp32"
  int element_bytes{4};
  int threads{0};         ///< the BLAS's threads
  std::string host, date;  ///< where and when (UTC, ISO 8601)
  double stream_bytes_per_s{0};  ///< a streaming copy (bytes read + bytes written per second), median
  std::vector<KernelMeasurement> kernels;
  RooflineFit fit;
  double seconds{0};  ///< wall time of the whole calibration
};

/// The shapes measured (quick or full): shrink and expand at ranks 4-128 (quick 16, 64),
/// 1-4096 tokens (quick 1-128), d of 1024-8192 (quick 1024, 4096); the base GEMM.
std::vector<KernelShape> calibration_shapes(bool quick);
/// Measures on this machine's CPU with the BLAS lorasplit is linked with (CBLAS sgemm), a
/// streaming copy, and fits the roofline.
Result<Calibration> calibrate_cpu(const CalibrationOptions& options = {});

/// The profile: a config whose [gpu] (side "gpu") or [cxl] (side "cxl") table holds the
/// fitted flops, memory bandwidth, kernel overhead and efficiency, each
/// { value, measured = "how, where, when" }. Use as --gpu FILE or --cxl FILE.
std::string render_calibration_profile(const Calibration& c, std::string_view side);
/// Measured against predicted time per shape, the error of each, the median and p90
/// absolute error and the worst shapes.
std::string render_calibration_report(const Calibration& c);
/// The size-dependent efficiency as the report shows it (empty without a table).
std::string render_efficiency_table(const RooflineFit& fit);
/// The figure of that report (gnuplot): measured against predicted time per shape on log
/// axes, one marker per kernel kind, the line measured = predicted, the median and p90
/// errors in the title. `out_path` ends in .svg, .png or .pdf; no gnuplot is
/// ErrorCode::kUnsupported.
Status plot_calibration(const Calibration& c, const std::string& out_path);
std::string render_calibration_json(const Calibration& c);

}  // namespace lorasplit
