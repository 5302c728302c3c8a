#include <fmt/format.h>
#include <lorasplit/plot.hpp>
#include <lorasplit/study.hpp>

#include <cstdio>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct ParetoOpts {
  ParamSources sources;
  std::string domain{"integer"};
  std::string format{"text"};
  std::size_t points{24};
  std::string plot;
  PlotOptions plot_options;
};

int run_pareto(const ParetoOpts& opts, const Io& io) {
  auto params = load_params(opts.sources, io);
  if (!params) return report_error(io, params.error(), false);
  auto frontier = latency_frontier(params.value(), SolveOptions{domain_from(opts.domain), {}},
                                   opts.points);
  if (!frontier) return report_error(io, frontier.error(), false);
  if (frontier->empty()) {
    std::fputs("lorasplit: no feasible split at any batch latency\n", io.err);
    return kExitInfeasible;
  }
  if (opts.format == "json") {
    std::fputs(render_frontier_json(frontier.value()).c_str(), io.out);
  }
  std::string out;  // text or CSV rows (JSON was written above); the plot reads the points either way
  if (opts.format == "csv") {
    out = "max_batch_latency_s,batch_time_s,b1,b2,b3,throughput_tokens_per_s,gpu_only_throughput_tokens_per_s,gain_percent\n";
  } else if (opts.format == "text") {
    out = fmt::format("{:>14} {:>14} {:>14} {:>10} {:>12} {:>16} {:>16} {:>12}\n", "T_max [s]", "batch [s]", "b1", "b2",
                      "b3", "split [tok/s]", "GPU-only", "gain [%]");
  }
  Series split{"optimal split", {}}, gpu{"GPU only", {}};
  for (const auto& p : *frontier) {
    const bool ok = p.status == SolveStatus::kOptimal;
    const std::string gain = p.gain_percent ? fmt::format("{:.10g}", to_double(*p.gain_percent)) : std::string();
    const std::string gpu_thr =
        p.gpu_only_tokens_per_s ? fmt::format("{:.10g}", to_double(*p.gpu_only_tokens_per_s)) : std::string();
    if (opts.format == "csv") {
      out += ok ? fmt::format("{},{:.17g},{},{},{},{:.17g},{},{}\n", format_number(p.max_latency_s),
                              to_double(p.batch_time_s), p.plan.b[0], p.plan.b[1], p.plan.b[2],
                              to_double(p.throughput_tokens_per_s), gpu_thr, gain)
                : fmt::format("{},,,,,,{},\n", format_number(p.max_latency_s), gpu_thr);
    } else if (opts.format == "text") {
      out += ok ? fmt::format("{:>14.6g} {:>14.6g} {:>14} {:>10} {:>12} {:>16.8g} {:>16} {:>12}\n",
                              to_double(p.max_latency_s), to_double(p.batch_time_s), p.plan.b[0], p.plan.b[1],
                              p.plan.b[2], to_double(p.throughput_tokens_per_s), gpu_thr, gain)
                : fmt::format("{:>14.6g} {:>14}\n", to_double(p.max_latency_s), "infeasible");
    }
    if (ok) split.points.emplace_back(to_double(p.batch_time_s), to_double(p.throughput_tokens_per_s));
    if (p.gpu_only_tokens_per_s) gpu.points.emplace_back(to_double(p.max_latency_s), to_double(*p.gpu_only_tokens_per_s));
  }
  std::fputs(out.c_str(), io.out);
  if (!opts.plot.empty()) {
    const Status st = plot_lines("lorasplit: throughput against batch latency", "batch latency T_GPU_S1 + T_GPU_S2", "s",
                                 "throughput [tokens/s]", "", true, {split, gpu}, opts.plot, opts.plot_options);
    if (!st) return plot_failed(io, st.error());
  }
  return kExitOptimal;
}

}  // namespace

void setup_pareto(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<ParetoOpts>();
  CLI::App* sub = app.add_subcommand("pareto", "throughput-latency frontier of the split against GPU-only");
  add_param_options(sub, opts->sources);
  add_domain_option(sub, opts->domain);
  sub->add_option("--format", opts->format, "text (default), csv or json")->check(CLI::IsMember({"text", "csv", "json"}));
  sub->add_option("--points", opts->points, "number of latency bounds (default 24)");
  add_plot_options(sub, opts->plot, opts->plot_options, "the frontier");
  sub->callback([opts, &exit_status, io]() { exit_status = run_pareto(*opts, io); });
}

}  // namespace lorasplit::cli
