#include <fmt/format.h>
#include <lorasplit/files.hpp>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <tuple>
#include <vector>
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
  bool plan_given{false};
  bool overlap{false};
  std::string layers;
  bool layers_given{false};
  std::string trace;
  std::string gantt;
  std::string format{"text"};
};

// Writes the trace and the Gantt chart where asked and the report on stdout: all of them or
// none. Each file is written whole under a staging name beside it, and renamed into place
// only once the report is out; a failure removes the staged files and leaves every file
// that was there before as it was.
int write_simulation(const SimulateOpts& opts, const Io& io, const std::string& trace, const std::string& gantt,
                     const std::string& report) {
  const bool json = opts.format == "json";
  for (const auto& [path, flag] : {std::pair{&opts.trace, "--trace"}, std::pair{&opts.gantt, "--gantt"}}) {
    if (path->empty()) continue;
    if (auto st = output_folder_writable(*path, flag); !st) return report_error(io, st.error(), json);
  }
  std::vector<std::pair<std::string, const std::string*>> staged;  // staging name, final path
  const auto discard = [&staged] {
    for (const auto& s : staged) std::remove(s.first.c_str());
  };
  for (const auto& [path, text, flag] :
       {std::tuple{&opts.trace, &trace, "--trace"}, std::tuple{&opts.gantt, &gantt, "--gantt"}}) {
    if (path->empty()) continue;
    std::string staging = *path + ".lorasplit-partial";
    if (auto st = write_file(staging, *text, flag); !st) {
      discard();
      return report_error(io, st.error(), json);
    }
    staged.emplace_back(std::move(staging), path);
  }
  if (std::fputs(report.c_str(), io.out) < 0 || std::fflush(io.out) != 0) {
    discard();
    return report_error(io, Error{ErrorCode::kWriteFailed, "stdout", "", "standard output: write failed"}, json);
  }
  for (std::size_t i = 0; i < staged.size(); ++i) {
    if (std::rename(staged[i].first.c_str(), staged[i].second->c_str()) != 0) {
      const int err = errno;
      for (std::size_t k = i; k < staged.size(); ++k) std::remove(staged[k].first.c_str());
      return report_error(io,
                          Error{ErrorCode::kWriteFailed, "", *staged[i].second,
                                fmt::format("'{}': cannot be written: {}", printable(*staged[i].second),
                                            std::strerror(err))},
                          json);
    }
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
  if (auto st = serving_command_ok(sources.config); !st) return report_error(io, st.error(), json);
  auto params = load_params(sources, io, false);
  if (!params) return report_error(io, params.error(), json);
  auto limits = search_limits(opts.limits, params->model_name());
  if (!limits) return report_error(io, limits.error(), json);
  limits->threads = 0;  // one solve at a time: its stages on every core
  auto workload = load_serving_workload(sources.config, sets);
  if (!workload) return report_error(io, for_cli(workload.error()), json);
  const auto& w = workload.value();
  std::int64_t layers = 1;
  if (opts.layers == "all") {
    layers = w.shape.layers;
  } else if (opts.layers_given) {
    const bool digits = !opts.layers.empty() && opts.layers.size() <= 9 &&
                        std::all_of(opts.layers.begin(), opts.layers.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits) {
      return report_error(io,
                          Error{ErrorCode::kBadNumber, "--layers", opts.layers,
                                fmt::format("--layers = '{}': a whole number of layers or 'all'", printable(opts.layers))},
                          json);
    }
    layers = std::stoll(opts.layers);
  }
  if (auto st = check_serving_layers(w, layers); !st) return report_error(io, for_cli(st.error()), json);
  if (opts.plan_given && opts.plan.empty()) {
    return refuse("--plan", "", "an empty name (optimum, gpu_fetch, gpu_hbm, device_all or FILE.json)");
  }
  const bool optimum = opts.plan.empty() || opts.plan == "optimum";
  if (!optimum && (!opts.limits.gap.empty() || opts.limits.node_limit != 0 || opts.limits.exact_lps)) {
    return report_error(io,
                        Error{ErrorCode::kBadOption, "--plan", opts.plan,
                              fmt::format("--plan = '{}': --gap, --node-limit and --exact-lps shape the search for the "
                                          "optimum; this plan is not searched",
                                          printable(opts.plan))},
                        json);
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
  // The batch the plan serves (capacity mode: the tokens it decided to serve).
  const ServingWorkload played = served_workload(w, chosen->served);
  auto sim = simulate_serving(played, chosen->hardware, chosen->plan, layers, chosen->all_in_hbm);
  if (!sim) return report_error(io, for_cli(sim.error()), json);
  sim->plan_name = chosen->name;
  sim->plan_status = chosen->status;
  if (!sim->equal()) {  // nothing is written: a simulation that contradicts the model is no answer
    return report_error(io,
                        Error{ErrorCode::kInternal, "", "",
                              "internal error: the simulated iteration differs from the model's (a bug)"},
                        json);
  }
  const std::string report = json ? render_serving_simulation_json(played, sim.value())
                                  : render_serving_simulation_text(played, sim.value());
  return write_simulation(opts, io, opts.trace.empty() ? "" : render_serving_trace_json(sim.value()),
                          opts.gantt.empty() ? "" : render_serving_gantt_svg(played, sim.value()), report);
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
  if (opts.layers_given) {
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
                  "device_all, or FILE.json (solve --format json's output, or its plan list)")
      ->each([opts](const std::string&) { opts->plan_given = true; });
  sub->add_option("--batches", opts->batches, "batches back to back (default 1)")
      ->check(CLI::Range(1, 1000000))
      ->each([opts](const std::string&) { opts->batches_given = true; });
  sub->add_option("--layers", opts->layers, "serving model: layers to play, N or all (default 1; layers are identical)")
      ->each([opts](const std::string&) { opts->layers_given = true; });
  add_search_limit_options(sub, opts->limits);
  sub->add_flag("--overlap", opts->overlap, "let batch k+1's stage 1 start while batch k's stage 2 runs");
  sub->add_option("--trace", opts->trace, "write a Chrome trace-event JSON file (Perfetto, chrome://tracing)")
      ->check(non_empty_path());
  sub->add_option("--gantt", opts->gantt,
                  "FILE.svg: a Gantt chart (colours: batch and stage; serving model: stage; link latency marked)")
      ->check(non_empty_path());
  sub->add_option("--format", opts->format, "output: text (default) or json")->check(CLI::IsMember({"text", "json"}));
  sub->callback([opts, &exit_status, io]() { exit_status = run_simulate(*opts, io); });
}

}  // namespace lorasplit::cli
