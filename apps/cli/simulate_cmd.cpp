#include <fmt/format.h>
#include <cstdio>
#include <fstream>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct SimulateOpts {
  ParamSources sources;
  std::string plan;
  int batches{1};
  bool overlap{false};
  std::string trace;
  std::string gantt;
  std::string format{"text"};
};

int run_simulate(const SimulateOpts& opts, const Io& io) {
  const bool json = opts.format == "json";
  // The Gantt chart is SVG: a file named .png would hold SVG text under a PNG name.
  if (!opts.gantt.empty() && !opts.gantt.ends_with(".svg")) {
    return report_error(io,
                        Error{ErrorCode::kBadOption, "--gantt", opts.gantt,
                              fmt::format("--gantt = '{}': the Gantt chart is written as SVG; name the file .svg",
                                          printable(opts.gantt))},
                        json);
  }
  auto params = load_params(opts.sources, io);
  if (!params) return report_error(io, params.error(), json);
  Plan plan;
  if (!opts.plan.empty()) {
    auto p = parse_plan(opts.plan, three_path_columns());
    if (!p) return report_error(io, p.error(), json);
    plan = p.value();
  } else {
    auto solved = solve(build_model(params.value()), SolveOptions{Domain::kInteger, {}, false});
    if (!solved) return report_error(io, solved.error(), json);
    if (solved->status != SolveStatus::kOptimal) {
      std::fputs("lorasplit: the instance is infeasible: no plan to simulate (give one with --plan)\n", io.err);
      return kExitInfeasible;
    }
    plan = solved->plan;
  }
  SimulateOptions so;
  so.batches = opts.batches;
  so.overlap = opts.overlap;
  auto sim = simulate(params.value(), plan, so);
  if (!sim) return report_error(io, sim.error(), json);
  if (!opts.trace.empty()) {
    if (auto st = write_file(opts.trace, render_trace_json(sim.value()), "--trace"); !st) {
      return report_error(io, st.error(), json);
    }
  }
  if (!opts.gantt.empty()) {
    if (auto st = write_file(opts.gantt, render_gantt_svg(sim.value()), "--gantt"); !st) {
      return report_error(io, st.error(), json);
    }
  }
  const std::string out = json ? render_simulation_json(sim.value()) : render_simulation_text(sim.value());
  std::fputs(out.c_str(), io.out);
  return kExitOptimal;
}

}  // namespace

void setup_simulate(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<SimulateOpts>();
  CLI::App* sub = app.add_subcommand(
      "simulate", "play the optimal plan (or --plan) out event by event on the GPU, the device and the link, and "
                  "compare each stage with the model");
  add_param_options(sub, opts->sources);
  sub->add_option("--plan", opts->plan, "b1,b2,b3 in tokens (default: the certified optimum)");
  sub->add_option("--batches", opts->batches, "batches back to back (default 1)")->check(CLI::Range(1, 1000000));
  sub->add_flag("--overlap", opts->overlap, "let batch k+1's stage 1 start while batch k's stage 2 runs");
  sub->add_option("--trace", opts->trace, "write a Chrome trace-event JSON file (Perfetto, chrome://tracing)");
  sub->add_option("--gantt", opts->gantt, "FILE.svg: a Gantt chart (colours: batch and stage; link latency marked)");
  sub->add_option("--format", opts->format, "output: text (default) or json")->check(CLI::IsMember({"text", "json"}));
  sub->callback([opts, &exit_status, io]() { exit_status = run_simulate(*opts, io); });
}

}  // namespace lorasplit::cli
