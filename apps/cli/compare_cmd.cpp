#include <algorithm>
#include <cstdio>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct CompareOpts {
  ParamSources sources;
  std::string domain{"integer"};
  std::string format{"text"};
};

int run_compare(const CompareOpts& opts, const Io& io) {
  const bool json = opts.format == "json";
  // The pipeline switches are welcome here whatever model.name says: both models are solved.
  // Loaded as the pipeline model, so that a part's keys the pipeline reads (the device's
  // memory) are kept; the seed column resets them (compare_models).
  ParamSources sources = opts.sources;
  const bool model_given = !sources.model.empty() || std::any_of(sources.sets.begin(), sources.sets.end(), [](const auto& a) {
    return assignment_key(a) == "model.name";
  });
  if (!model_given) sources.model = "pipeline";
  auto params = load_params(sources, io, false);
  if (!params) return report_error(io, params.error(), json);
  if (params->model_name() == ModelName::kServing) {
    return report_error(io,
                        Error{ErrorCode::kInconsistent, "model.name", "serving",
                              "model.name = 'serving': compare solves the seed and pipeline models; the serving "
                              "model's solve report compares its plan with gpu_hbm, gpu_fetch and device_all"},
                        json);
  }
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
      "compare", "solve the same parameters under the seed and the pipeline model; show each pipeline switch alone");
  add_param_options(sub, opts->sources);
  add_domain_option(sub, opts->domain);
  sub->add_option("--format", opts->format, "output: text (default) or json")->check(CLI::IsMember({"text", "json"}));
  sub->callback([opts, &exit_status, io]() { exit_status = run_compare(*opts, io); });
}

}  // namespace lorasplit::cli
