#include <fmt/format.h>
#include <lorasplit/plot.hpp>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct SweepOpts {
  ParamSources sources;
  std::vector<std::string> vary;
  std::string domain{"integer"};
  std::string format{"csv"};
  std::string shard{"1/1"};
  std::string plot;
  unsigned threads{0};
};

int run_sweep_cmd(const SweepOpts& opts, const Io& io) {
  auto params = load_params(opts.sources);
  if (!params) return report_error(io, params.error(), false);
  if (opts.vary.empty() || opts.vary.size() > 2) {
    return report_error(io, Error{ErrorCode::kBadOption, "--vary", "", "--vary: give one or two KEY=SPEC"}, false);
  }
  std::vector<SweepAxis> axes;
  for (const auto& v : opts.vary) {
    auto axis = parse_sweep_axis(v);
    if (!axis) return report_error(io, axis.error(), false);
    axes.push_back(std::move(axis.value()));
  }
  auto shard = parse_shard(opts.shard);
  if (!shard) return report_error(io, shard.error(), false);
  SweepOptions so;
  so.solve.domain = domain_from(opts.domain);
  so.shard = shard.value();
  so.threads = opts.threads;

  const bool csv = opts.format == "csv";
  if (csv && so.shard.index == 1) std::fputs((sweep_csv_header(axes) + "\n").c_str(), io.out);
  std::vector<SweepRow> kept;  // only for --plot
  const auto start = std::chrono::steady_clock::now();
  const bool tty = io.err == stderr && isatty(fileno(stderr)) != 0;
  bool drew = false;
  const auto progress = [&](std::size_t done, std::size_t total) {
    if (!tty) return;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (secs < 1.0 && done < total) return;
    if (!drew && done == total && secs < 1.0) return;
    const int width = 40;
    const int filled = total == 0 ? width : static_cast<int>(static_cast<double>(done) / static_cast<double>(total) * width);
    std::fputs(fmt::format("\r[{}{}] {}/{} points, {:.1f} s", std::string(static_cast<std::size_t>(filled), '#'),
                           std::string(static_cast<std::size_t>(width - filled), '.'), done, total, secs)
                   .c_str(),
               io.err);
    drew = true;
    if (done == total) std::fputs("\n", io.err);
  };
  so.format = [&axes, csv](const SweepRow& row) {
    return csv ? sweep_csv_row(row, axes) : sweep_jsonl_row(row, axes);
  };
  std::string buffer;
  const Status st = run_sweep(
      params.value(), axes, so,
      [&](const SweepRow& row) {
        buffer += row.text;
        buffer += '\n';
        if (buffer.size() > (1U << 16)) {
          std::fputs(buffer.c_str(), io.out);
          buffer.clear();
        }
        if (!opts.plot.empty()) kept.push_back(row);
      },
      progress);
  std::fputs(buffer.c_str(), io.out);
  if (!st) return report_error(io, st.error(), false);
  if (!opts.plot.empty()) {
    if (const Status ps = plot_sweep(axes, kept, opts.plot); !ps) {
      std::fputs(fmt::format("lorasplit: note: no plot written: {}\n", for_cli(ps.error()).message).c_str(), io.err);
    }
  }
  return kExitOptimal;
}

}  // namespace

void setup_sweep(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<SweepOpts>();
  CLI::App* sub = app.add_subcommand("sweep", "solve exactly over a grid of one or two parameters");
  add_param_options(sub, opts->sources);
  sub->add_option("--vary", opts->vary,
                  "KEY=lin:A:B:N, KEY=log:A:B:N or KEY=a,b,c (values may carry units); once or twice")
      ->required();
  add_domain_option(sub, opts->domain);
  sub->add_option("--format", opts->format, "csv (default) or jsonl")->check(CLI::IsMember({"csv", "jsonl"}));
  sub->add_option("--shard", opts->shard, "i/n: run the i-th of n slices (1-based); the slices concatenate to the sweep");
  sub->add_option("--threads", opts->threads, "worker threads (default: all cores)");
  sub->add_option("--plot", opts->plot, "FILE.svg or FILE.png: throughput and gain plotted with gnuplot");
  sub->callback([opts, &exit_status, io]() { exit_status = run_sweep_cmd(*opts, io); });
}

}  // namespace lorasplit::cli
