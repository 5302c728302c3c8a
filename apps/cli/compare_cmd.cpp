#include <algorithm>
#include <fmt/format.h>
#include <cstdio>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct CompareOpts {
  ParamSources sources;
  SearchLimitOpts limits;
  std::string domain{"integer"};
  std::string format{"text"};
};

// The serving model (docs/model.md §9.9): the batch with the adapters' weights as given,
// all in GPU memory, all in device memory and in both, each solved exactly.
int run_compare_serving(const CompareOpts& opts, const ParamSources& sources, const Params& params,
                        const WorkloadOverrides& sets, const Io& io) {
  const bool json = opts.format == "json";
  if (auto st = serving_command_ok(sources.config, opts.domain); !st) return report_error(io, st.error(), json);
  auto limits = search_limits(opts.limits, params.model_name());
  if (!limits) return report_error(io, limits.error(), json);
  limits->threads = 0;  // one solve at a time: its stages on every core
  auto workload = load_serving_workload(sources.config, sets);
  if (!workload) return report_error(io, for_cli(workload.error()), json);
  auto c = compare_serving(workload.value(), params, limits.value());
  if (!c) return report_error(io, c.error(), json);
  const std::string out =
      json ? render_serving_compare_json(workload.value(), c.value()) : render_serving_compare_text(workload.value(), c.value());
  if (std::fputs(out.c_str(), io.out) < 0) {
    return report_error(io, Error{ErrorCode::kWriteFailed, "stdout", "", "standard output: write failed"}, json);
  }
  for (const auto& x : c->cases) {
    if (x.given) return x.result.feasible ? kExitOptimal : kExitInfeasible;
  }
  return kExitOptimal;  // every case had the given residency's place; unreachable
}

int run_compare(const CompareOpts& opts, const Io& io) {
  const bool json = opts.format == "json";
  // The pipeline switches are welcome here whatever model.name says: both models are solved.
  // Loaded as the pipeline model, so that a part's keys the pipeline reads (the device's
  // memory) are kept; the seed column resets them (compare_models).
  ParamSources sources = opts.sources;
  const WorkloadOverrides sets = take_workload_sets(sources);
  const bool model_given = !sources.model.empty() || std::any_of(sources.sets.begin(), sources.sets.end(), [](const auto& a) {
    return assignment_key(a) == "model.name";
  });
  auto params = load_params(sources, io, false);
  if (!params) return report_error(io, params.error(), json);
  if (params->model_name() == ModelName::kServing) return run_compare_serving(opts, sources, params.value(), sets, io);
  if (!model_given) {
    sources.model = "pipeline";
    params = load_params(sources, io, false);
    if (!params) return report_error(io, params.error(), json);
  }
  if (auto st = workload_sets_need_serving(sets, params->model_name()); !st) return report_error(io, st.error(), json);
  if (auto st = search_limits(opts.limits, params->model_name()); !st) return report_error(io, st.error(), json);
  if (auto st = set_param(params.value(), "model.name", "pipeline"); !st) return report_error(io, st.error(), json);
  if (auto st = validate(params.value()); !st) return report_error(io, st.error(), json);
  auto c = compare_models(params.value(), SolveOptions{domain_from(opts.domain), {}});
  if (!c) return report_error(io, c.error(), json);
  const std::string out = json ? render_compare_json(c.value()) : render_compare_text(c.value());
  std::fputs(out.c_str(), io.out);
  const bool both = c->seed.result.status == SolveStatus::kOptimal && c->pipeline.result.status == SolveStatus::kOptimal;
  return both ? kExitOptimal : kExitInfeasible;
}

}  // namespace

void setup_compare(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<CompareOpts>();
  CLI::App* sub = app.add_subcommand(
      "compare", "solve the same parameters under the seed and the pipeline model; show each pipeline switch alone "
                 "(serving model: the batch with the adapters' weights as given, all on the GPU, all on the device, "
                 "in both)");
  add_param_options(sub, opts->sources);
  add_domain_option(sub, opts->domain);
  add_search_limit_options(sub, opts->limits);
  sub->add_option("--format", opts->format, "output: text (default) or json")->check(CLI::IsMember({"text", "json"}));
  sub->callback([opts, &exit_status, io]() { exit_status = run_compare(*opts, io); });
}

}  // namespace lorasplit::cli
