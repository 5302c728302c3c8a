#include <fmt/format.h>
#include <lorasplit/calibrate.hpp>
#include <lorasplit/files.hpp>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct CalibrateOpts {
  std::string backend{"cpu"};
  bool quick{false};
  std::string output;
  std::string side{"gpu"};
  std::string format{"text"};
  std::string plot;
};

int run_calibrate(const CalibrateOpts& opts, const Io& io) {
  const bool json = opts.format == "json";
  // A profile that could not be written is known before minutes of measuring, not after.
  if (!opts.output.empty()) {
    if (auto st = output_folder_writable(opts.output, "-o"); !st) return report_error(io, st.error(), json);
  }
  if (!opts.plot.empty()) {  // likewise the figure's type and folder
    if (auto st = check_plot_path(opts.plot); !st) return report_error(io, for_cli(st.error()), json);
    if (auto st = output_folder_writable(opts.plot, "--plot"); !st) return report_error(io, st.error(), json);
  }
  CalibrationOptions options;
  options.quick = opts.quick;
  // A progress bar on a terminal; nothing when stderr is a file or a pipe.
  const bool tty = ::isatty(::fileno(io.err)) == 1;
  if (tty) {
    options.progress = [&io](std::size_t done, std::size_t total, const KernelShape& s) {
      constexpr std::size_t kWidth = 30;
      const std::size_t filled = total == 0 ? kWidth : done * kWidth / total;
      const std::string what =
          s.tokens == 0 ? s.kind : fmt::format("{} {}x{}x{}", s.kind, s.tokens, s.d_in, s.d_out);
      std::fputs(fmt::format("\rcalibrate [{}{}] {}/{} {:<28}", std::string(filled, '#'),
                             std::string(kWidth - filled, '.'), done, total, what)
                     .c_str(),
                 io.err);
      std::fflush(io.err);
    };
  }
  auto c = calibrate_cpu(options);
  if (tty) std::fputs("\n", io.err);
  if (!c) return report_error(io, c.error(), json);
  if (!opts.output.empty()) {
    if (auto st = write_file(opts.output, render_calibration_profile(c.value(), opts.side), "-o"); !st) {
      return report_error(io, st.error(), json);
    }
  }
  std::string out = json ? render_calibration_json(c.value()) + "\n" : render_calibration_report(c.value());
  if (!json) {
    out += opts.output.empty()
               ? "\n(write the profile with -o FILE; use it as --gpu FILE or --cxl FILE)\n"
               : fmt::format("\nprofile written to {} ([{}]); use it as --{} {}\n", opts.output, opts.side, opts.side,
                             opts.output);
  }
  if (std::fputs(out.c_str(), io.out) < 0) {
    return report_error(io, Error{ErrorCode::kWriteFailed, "stdout", "", "standard output: write failed"}, json);
  }
  if (!opts.plot.empty()) {
    if (auto st = plot_calibration(c.value(), opts.plot); !st) return plot_failed(io, st.error());
  }
  return kExitOptimal;
}

}  // namespace

void setup_calibrate(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<CalibrateOpts>();
  CLI::App* sub = app.add_subcommand(
      "calibrate", "measure the LoRA kernels and the base GEMM on this machine, fit the roofline, write a profile");
  sub->add_option("--backend", opts->backend, "cpu: this machine's CPU through the BLAS lorasplit is built with")
      ->check(CLI::IsMember({"cpu"}));
  sub->add_flag("--quick", opts->quick, "30 shapes, a few repetitions each (under 20 s); default: 348 shapes");
  sub->add_option("-o,--output", opts->output, "write the fitted profile to this TOML file (whole or not at all)")
      ->check(non_empty_path());
  sub->add_option("--side", opts->side, "the profile's table: gpu (default) or cxl (the device's stand-in)")
      ->check(CLI::IsMember({"gpu", "cxl"}));
  sub->add_option("--plot", opts->plot,
                  "FILE.svg|png|pdf: measured against predicted time per shape, log axes (gnuplot)")
      ->check(non_empty_path());
  sub->add_option("--format", opts->format, "output: text (the report, default) or json (every measurement)")
      ->check(CLI::IsMember({"text", "json"}));
  sub->callback([opts, &exit_status, io]() { exit_status = run_calibrate(*opts, io); });
}

}  // namespace lorasplit::cli
