#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct ExplainOpts {
  ParamSources sources;
  std::string domain{"integer"};
  std::string format{"lp"};
  std::string output;
};

Result<Analysis> solved(const ExplainOpts& opts, const Io& io) {
  auto params = load_params(opts.sources, io);
  if (!params) return params.error();
  return analyze(params.value(), SolveOptions{domain_from(opts.domain), {}},
                 AnalyzeOptions{false, false});
}

}  // namespace

void setup_explain(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<ExplainOpts>();
  CLI::App* sub = app.add_subcommand("explain", "print the constraint system with the numbers filled in, and the "
                                                "solver's path to the optimum");
  add_param_options(sub, opts->sources);
  add_domain_option(sub, opts->domain);
  sub->callback([opts, &exit_status, io]() {
    auto a = solved(*opts, io);
    if (!a) {
      exit_status = report_error(io, a.error(), false);
      return;
    }
    std::fputs(render_explain(a.value()).c_str(), io.out);
    exit_status = a->result.status == SolveStatus::kOptimal ? kExitOptimal : kExitInfeasible;
  });
}

void setup_export(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<ExplainOpts>();
  CLI::App* sub = app.add_subcommand("export", "write the integer program of the final Dinkelbach step (CPLEX LP "
                                               "format, read by glpsol and cbc)");
  add_param_options(sub, opts->sources);
  add_domain_option(sub, opts->domain, false);
  sub->add_option("--format", opts->format, "lp (CPLEX LP format; the only one)")->check(CLI::IsMember({"lp"}));
  sub->add_option("-o,--output", opts->output, "file to write (default: standard output)");
  sub->callback([opts, &exit_status, io]() {
    auto a = solved(*opts, io);
    if (!a) {
      exit_status = report_error(io, a.error(), false);
      return;
    }
    const std::string lp = render_lp(a.value());
    if (opts->output.empty()) {
      std::fputs(lp.c_str(), io.out);
    } else {
      if (const Status st = write_file(opts->output, lp, "--output"); !st) {
        exit_status = report_error(io, st.error(), false);
        return;
      }
    }
    exit_status = a->result.status == SolveStatus::kOptimal ? kExitOptimal : kExitInfeasible;
  });
}

void setup_check(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<ExplainOpts>();
  auto plan_text = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("text");
  CLI::App* sub = app.add_subcommand("check", "check a given split in exact arithmetic (e.g. another solver's answer)");
  add_param_options(sub, opts->sources);
  sub->add_option("--plan", *plan_text, "b1,b2,b3 in tokens")->required();
  sub->add_option("--format", *format, "text (default) or json")->check(CLI::IsMember({"text", "json"}));
  sub->callback([opts, plan_text, format, &exit_status, io]() {
    const bool json = *format == "json";
    auto params = load_params(opts->sources, io);
    if (!params) {
      exit_status = report_error(io, params.error(), json);
      return;
    }
    // The case whose formulas describe the plan (the seed model itself for seed).
    const Formulation f = build_model(params.value());
    auto parsed = parse_plan(*plan_text, f.cases.front().columns);
    if (!parsed) {
      exit_status = report_error(io, parsed.error(), json);
      return;
    }
    const auto checked = check_plan(f, parsed.value());
    if (!checked) {
      exit_status = report_error(io, for_cli(checked.error()), json);
      return;
    }
    const PlanCheck& c = checked->check;
    std::fputs(render_plan_check(checked->model, parsed.value(), c, json).c_str(), io.out);
    exit_status = c.feasible ? kExitOptimal : kExitInfeasible;
  });
}

}  // namespace lorasplit::cli
