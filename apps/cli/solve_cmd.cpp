#include <cstdio>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct SolveOpts {
  ParamSources sources;
  std::string domain{"integer"};
  std::string format{"text"};
};

int run_solve(const SolveOpts& opts, const Io& io) {
  const bool json = opts.format == "json";
  auto params = load_params(opts.sources, io);
  if (!params) return report_error(io, params.error(), json);
  auto analysis = analyze(params.value(), SolveOptions{domain_from(opts.domain), {}});
  if (!analysis) return report_error(io, analysis.error(), json);
  const std::string out = json ? render_json(analysis.value()) + "\n" : render_text(analysis.value());
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
  sub->callback([opts, &exit_status, io]() { exit_status = run_solve(*opts, io); });
}

}  // namespace lorasplit::cli
