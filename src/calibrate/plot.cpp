// The calibration's figure (docs/calibration.md): measured against predicted time per shape.
#include <lorasplit/calibrate.hpp>
#include <lorasplit/plot.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <sstream>

#include "io/gnuplot.hpp"

namespace lorasplit {

Status plot_calibration(const Calibration& c, const std::string& out_path) {
  if (auto st = check_plot_path(out_path); !st) return st;
  if (!gnuplot_available()) {
    return Error{ErrorCode::kUnsupported, "plot", out_path,
                 fmt::format("plot = '{}': gnuplot is not installed (apt-get install gnuplot-nox)", out_path)};
  }
  // data: one block per kernel kind (two blank lines between): predicted measured [us].
  static constexpr const char* kKinds[] = {"shrink", "expand", "base"};
  std::ostringstream data;
  double lo = 0, hi = 0;
  bool first_point = true;
  for (std::size_t b = 0; b < std::size(kKinds); ++b) {
    if (b != 0) data << "\n\n";
    bool any = false;
    for (const auto& k : c.kernels) {
      if (k.shape.kind != kKinds[b]) continue;
      const double pred = roofline_time_s(c.fit, k.flops, k.bytes) * 1e6, meas = k.median_s * 1e6;
      data << fmt::format("{:.9g} {:.9g}\n", pred, meas);
      for (const double v : {pred, meas}) {
        lo = first_point ? v : std::min(lo, v);
        hi = first_point ? v : std::max(hi, v);
        first_point = false;
      }
      any = true;
    }
    if (!any) data << "NaN NaN\n";  // an empty block would shift the indices of the next
  }
  using detail::gnuplot_quote;
  std::ostringstream gp;
  gp << detail::gnuplot_terminal(out_path) << "\n";
  gp << "set datafile missing 'NaN'\nset grid\nset key top left\nset logscale xy 10\n";
  gp << "set xlabel 'predicted by the fitted roofline [us]'\nset ylabel 'measured, median [us]'\n";
  gp << "set title " << gnuplot_quote(fmt::format(
                            "lorasplit calibrate ({}, {}, {}): {} shapes, |error| median {:.1f} %, p90 {:.1f} %",
                            c.backend, c.precision, c.host, c.kernels.size(), 100 * c.fit.median_abs_error,
                            100 * c.fit.p90_abs_error))
     << "\n";
  const double a = lo > 0 ? lo / 1.5 : 1e-3, z = hi > 0 ? hi * 1.5 : 1;
  gp << fmt::format("set xrange [{:.6g}:{:.6g}]\nset yrange [{:.6g}:{:.6g}]\n", a, z, a, z);
  const std::string file = gnuplot_quote(detail::gnuplot_data_file());
  gp << "plot x with lines lc 'black' dt 2 title 'measured = predicted'";
  for (std::size_t b = 0; b < std::size(kKinds); ++b) {
    gp << ", " << file << " index " << b << " using 1:2 with points pt " << 5 + 2 * b << " ps 0.8 title "
       << gnuplot_quote(kKinds[b]);
  }
  gp << "\n";
  return detail::run_gnuplot_script(gp.str(), data.str(), out_path);
}

}  // namespace lorasplit
