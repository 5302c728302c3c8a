#include <cstdio>
#include <fmt/format.h>
#include <lorasplit/serving.hpp>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct SolveOpts {
  ParamSources sources;
  SearchLimitOpts limits;
  std::string domain{"integer"};
  std::string format{"text"};
};

// The serving model (docs/model.md §9): its workload comes from the config file.
// The report, and the hardware inputs with what they rest on when any of them says.
std::string with_inputs(std::string report, bool json, const Params& params, const InputProvenance& prov) {
  const ModelName model = params.model_name();
  if (!provenance_stated(prov, model)) return report;
  if (json) return add_inputs_json(report, params, prov, model);
  return report + "\n" + render_inputs_text(params, prov, model);
}

int run_solve_serving(const SolveOpts& opts, const Params& params, const InputProvenance& prov,
                      const WorkloadOverrides& sets, const ServingSolveOptions& limits, const Io& io) {
  const bool json = opts.format == "json";
  if (auto st = serving_command_ok(opts.sources.config, opts.domain); !st) return report_error(io, st.error(), json);
  auto workload = load_serving_workload(opts.sources.config, sets);
  if (!workload) return report_error(io, for_cli(workload.error()), json);
  auto result = solve_serving(workload.value(), params, limits);
  if (!result) return report_error(io, result.error(), json);
  const std::string out =
      json ? with_inputs(render_serving_json(workload.value(), result.value()), true, params, prov) + "\n"
           : with_inputs(render_serving_text(workload.value(), result.value()), false, params, prov);
  if (std::fputs(out.c_str(), io.out) < 0) {
    return report_error(io, Error{ErrorCode::kWriteFailed, "stdout", "", "standard output: write failed"}, json);
  }
  return result->feasible ? kExitOptimal : kExitInfeasible;
}

int run_solve(const SolveOpts& opts, const Io& io) {
  const bool json = opts.format == "json";
  ParamSources sources = opts.sources;
  const WorkloadOverrides sets = take_workload_sets(sources);
  InputProvenance prov;
  auto params = load_params(sources, io, false, &prov);
  if (!params) return report_error(io, params.error(), json);
  if (auto st = workload_sets_need_serving(sets, params->model_name()); !st) return report_error(io, st.error(), json);
  auto limits = search_limits(opts.limits, params->model_name());
  if (!limits) return report_error(io, limits.error(), json);
  limits->threads = 0;  // one solve at a time: its stages on every core
  if (params->model_name() == ModelName::kServing) {
    return run_solve_serving(opts, params.value(), prov, sets, limits.value(), io);
  }
  if (auto st = validate(params.value()); !st) return report_error(io, st.error(), json);
  auto analysis = analyze(params.value(), SolveOptions{domain_from(opts.domain), {}});
  if (!analysis) return report_error(io, analysis.error(), json);
  const std::string out = json ? with_inputs(render_json(analysis.value()), true, params.value(), prov) + "\n"
                               : with_inputs(render_text(analysis.value()), false, params.value(), prov);
  std::fputs(out.c_str(), io.out);
  return analysis->result.status == SolveStatus::kOptimal ? kExitOptimal : kExitInfeasible;
}

}  // namespace

void setup_solve(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<SolveOpts>();
  CLI::App* sub = app.add_subcommand("solve", "find the exact throughput-optimal split and explain it");
  add_param_options(sub, opts->sources);
  add_domain_option(sub, opts->domain);
  sub->add_option("--format", opts->format, "output: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
  add_search_limit_options(sub, opts->limits);
  sub->callback([opts, &exit_status, io]() { exit_status = run_solve(*opts, io); });
}

}  // namespace lorasplit::cli
