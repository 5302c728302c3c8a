#include <fmt/format.h>
#include <lorasplit/files.hpp>
#include <nlohmann/json.hpp>
#include <cstdio>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct SimulateOpts {
  ParamSources sources;
  SearchLimitOpts limits;
  std::string plan;
  int batches{1};
  bool batches_given{false};
  bool overlap{false};
  std::string layers;
  std::string trace;
  std::string gantt;
  std::string format{"text"};
};

// Writes the trace and the Gantt chart where asked, then the report on stdout.
int write_simulation(const SimulateOpts& opts, const Io& io, const std::string& trace, const std::string& gantt,
                     const std::string& report) {
  const bool json = opts.format == "json";
  if (!opts.trace.empty()) {
    if (auto st = write_file(opts.trace, trace, "--trace"); !st) return report_error(io, st.error(), json);
  }
  if (!opts.gantt.empty()) {
    if (auto st = write_file(opts.gantt, gantt, "--gantt"); !st) return report_error(io, st.error(), json);
  }
  if (std::fputs(report.c_str(), io.out) < 0) {
    return report_error(io, Error{ErrorCode::kWriteFailed, "stdout", "", "standard output: write failed"}, json);
  }
  return kExitOptimal;
}

// The serving model (docs/model.md §9.4): the certified optimum, a baseline or a plan file,
// played layer by layer.
int run_simulate_serving(const SimulateOpts& opts, const ParamSources& sources, const WorkloadOverrides& sets,
                         const Io& io) {
  const bool json = opts.format == "json";
  const auto refuse = [&](const std::string& flag, const std::string& value, const std::string& why) {
    return report_error(io, Error{ErrorCode::kBadOption, flag, value, fmt::format("{}: {}", flag, why)}, json);
  };
  if (opts.batches_given) {
    return refuse("--batches", std::to_string(opts.batches),
                  "the serving model simulates one decode iteration; --layers N plays N of its layers");
  }
  if (opts.overlap) return refuse("--overlap", "", "the serving model's layers synchronise at every stage");
  if (sources.config.empty()) {
    return refuse("--config", "", "the serving model reads its workload from --config FILE (docs/model.md section 9.1)");
  }
  auto params = load_params(sources, io, false);
  if (!params) return report_error(io, params.error(), json);
  auto limits = search_limits(opts.limits, params->model_name());
  if (!limits) return report_error(io, limits.error(), json);
  auto workload = load_serving_workload(sources.config, sets);
  if (!workload) return report_error(io, for_cli(workload.error()), json);
  auto hw = serving_hardware(params.value());
  if (!hw) return report_error(io, hw.error(), json);
  const auto& w = workload.value();
  std::int64_t layers = 1;
  if (opts.layers == "all") {
    layers = w.shape.layers;
  } else if (!opts.layers.empty()) {
    std::size_t used = 0;
    try {
      layers = std::stoll(opts.layers, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != opts.layers.size()) {
      return report_error(io,
                          Error{ErrorCode::kBadNumber, "--layers", opts.layers,
                                fmt::format("--layers = '{}': a whole number of layers or 'all'", printable(opts.layers))},
                          json);
    }
  }
  auto chosen = choose_serving_plan(w, params.value(), opts.plan, limits.value());
  if (!chosen) return report_error(io, chosen.error(), json);
  if (!chosen->feasible) {  // no timing of a plan that cannot run is an answer: the report says why
    const std::string out =
        json ? nlohmann::ordered_json{{"model", "serving"},
                                      {"plan", chosen->name},
                                      {"status", "infeasible"},
                                      {"reason", chosen->reason}}
                       .dump(2) +
                   "\n"
             : fmt::format("lorasplit simulate, serving model: plan {} cannot run; nothing simulated\nWhy: {}\n",
                           printable(chosen->name), chosen->reason);
    if (std::fputs(out.c_str(), io.out) < 0) {
      return report_error(io, Error{ErrorCode::kWriteFailed, "stdout", "", "standard output: write failed"}, json);
    }
    return kExitInfeasible;  // no --trace or --gantt written: there is nothing to draw
  }
  auto sim = simulate_serving(w, hw.value(), chosen->plan, layers, chosen->all_in_hbm);
  if (!sim) return report_error(io, for_cli(sim.error()), json);
  sim->plan_name = chosen->name;
  const std::string report = json ? render_serving_simulation_json(w, sim.value())
                                  : render_serving_simulation_text(w, sim.value());
  const int rc = write_simulation(opts, io, opts.trace.empty() ? "" : render_serving_trace_json(sim.value()),
                                  opts.gantt.empty() ? "" : render_serving_gantt_svg(w, sim.value()), report);
  if (rc == kExitOptimal && !sim->equal()) {
    std::fputs("lorasplit: internal error: the simulated iteration differs from the model's (a bug)\n", io.err);
    return kExitInternal;
  }
  return rc;
}

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
  ParamSources sources = opts.sources;
  const WorkloadOverrides sets = take_workload_sets(sources);
  auto params = load_params(sources, io, false);
  if (!params) return report_error(io, params.error(), json);
  if (auto st = workload_sets_need_serving(sets, params->model_name()); !st) return report_error(io, st.error(), json);
  if (params->model_name() == ModelName::kServing) return run_simulate_serving(opts, sources, sets, io);
  if (auto st = search_limits(opts.limits, params->model_name()); !st) return report_error(io, st.error(), json);
  if (!opts.layers.empty()) {
    return report_error(io,
                        Error{ErrorCode::kBadOption, "--layers", opts.layers,
                              "--layers: the serving model's (model.name = serving); this model has two stages"},
                        json);
  }
  if (auto st = validate(params.value()); !st) return report_error(io, st.error(), json);
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
  return write_simulation(opts, io, opts.trace.empty() ? "" : render_trace_json(sim.value()),
                          opts.gantt.empty() ? "" : render_gantt_svg(sim.value()),
                          json ? render_simulation_json(sim.value()) : render_simulation_text(sim.value()));
}

}  // namespace

void setup_simulate(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<SimulateOpts>();
  CLI::App* sub = app.add_subcommand(
      "simulate", "play the optimal plan (or --plan) out event by event on the GPU, the device and the link, and "
                  "compare each stage with the model");
  add_param_options(sub, opts->sources);
  sub->add_option("--plan", opts->plan,
                  "b1,b2,b3 in tokens (default: the certified optimum); serving model: optimum, gpu_fetch, gpu_hbm, "
                  "device_all, or FILE.json (solve --format json's output, or its plan list)");
  sub->add_option("--batches", opts->batches, "batches back to back (default 1)")
      ->check(CLI::Range(1, 1000000))
      ->each([opts](const std::string&) { opts->batches_given = true; });
  sub->add_option("--layers", opts->layers, "serving model: layers to play, N or all (default 1; layers are identical)");
  add_search_limit_options(sub, opts->limits);
  sub->add_flag("--overlap", opts->overlap, "let batch k+1's stage 1 start while batch k's stage 2 runs");
  sub->add_option("--trace", opts->trace, "write a Chrome trace-event JSON file (Perfetto, chrome://tracing)");
  sub->add_option("--gantt", opts->gantt, "FILE.svg: a Gantt chart (colours: batch and stage; link latency marked)");
  sub->add_option("--format", opts->format, "output: text (default) or json")->check(CLI::IsMember({"text", "json"}));
  sub->callback([opts, &exit_status, io]() { exit_status = run_simulate(*opts, io); });
}

}  // namespace lorasplit::cli
