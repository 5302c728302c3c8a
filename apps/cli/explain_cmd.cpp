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
    const Plan plan = parsed.value();
    // A plan that is not whole blocks belongs to no case: said so, never judged by the
    // formulas of a case that does not describe it.
    const std::int64_t k = f.cases.front().block_tokens;
    for (std::size_t j = 0; j < plan.b.size(); ++j) {
      if (plan.b[j] % k != 0) {
        exit_status = report_error(
            io,
            Error{ErrorCode::kBadOption, "--plan", *plan_text,
                  fmt::format("--plan = '{}': {} = {} is not a whole number of blocks of {} tokens (lora.block_tokens)",
                              *plan_text, f.cases.front().columns[j].name, plan.b[j], k)},
            json);
        return;
      }
    }
    const Model* described = describing_case(f, plan);
    const Model& m = described != nullptr ? *described : f.cases.front();
    const PlanCheck c = check_plan(m, plan);
    std::fputs(render_plan_check(m, plan, c, json).c_str(), io.out);
    exit_status = c.feasible ? kExitOptimal : kExitInfeasible;
  });
}

}  // namespace lorasplit::cli
