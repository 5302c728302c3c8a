#pragma once
// Renderings of an Analysis: the human report and the JSON object of `lorasplit solve`.

#include <lorasplit/analysis.hpp>
#include <lorasplit/study.hpp>

#include <string>

namespace lorasplit {

/// The text report (parameter table, split, stage times and slack, memory rows,
/// throughput, GPU-only baseline and gain, binding rows, explanation).
std::string render_text(const Analysis& analysis);

/// One JSON object (fields listed in README.md and docs/model.md §6), pretty-printed
/// with `indent` spaces, or compact when indent < 0.
std::string render_json(const Analysis& analysis, int indent = 2);

/// `lorasplit compare`: the seed and pipeline splits side by side, and each switch alone.
std::string render_compare_text(const Comparison& comparison);
/// {"seed": <solve JSON>, "pipeline": <solve JSON>, "switches": [...]}.
std::string render_compare_json(const Comparison& comparison, int indent = 2);

/// `lorasplit params --format json`: every parameter with its unit, symbol, meaning, seed
/// value, and the words of a choice or the range of a number.
std::string render_params_json(int indent = 2);

/// `lorasplit breakeven --format json` (the Python `breakeven()` returns the same fields).
std::string render_breakeven_json(const Breakeven& breakeven, int indent = 2);
/// `lorasplit pareto --format json`: one object per latency bound (exact fields beside floats).
std::string render_frontier_json(const std::vector<FrontierPoint>& frontier, int indent = 2);

/// `lorasplit explain`: the constraint system with every number filled in (exact, and
/// in the solver's integer form), then the solver's path to the optimum.
std::string render_explain(const Analysis& analysis);

/// `lorasplit export --format lp`: the integer program of the final Dinkelbach step in
/// CPLEX LP format (read by GLPK's glpsol and CBC), columns b1, b2, b3: maximise
/// tokens - λ*·batch_time over the integer rows, b1 + b2 + b3 >= one block. Its optimum
/// is 0, reached exactly by the splits of throughput λ*. Rows are the solver's primitive
/// integer rows, so an integer point that breaks one breaks it by at least 1.
std::string render_lp(const Analysis& analysis);

/// A split checked against a model in exact arithmetic (`lorasplit check --plan`).
struct PlanCheck {
  bool feasible{false};
  std::vector<std::string> violated;  ///< rows that the plan breaks
  Rational throughput_tokens_per_s;
};
PlanCheck check_plan(const Model& model, const Plan& plan);
std::string render_plan_check(const Model& model, const Plan& plan, const PlanCheck& check, bool json);

/// A plan checked against the case of `formulation` that describes it (its first case when
/// none does), as `lorasplit check --plan` and Python's `check()` do. Errors (kBadOption,
/// key "plan"): a negative or too large plan, or one that is not whole blocks of
/// lora.block_tokens, which belongs to no case and is never judged by the formulas of a
/// case that does not describe it.
struct CheckedPlan {
  Model model;  ///< the case that describes the plan
  PlanCheck check;
};
Result<CheckedPlan> check_plan(const Formulation& formulation, const Plan& plan);

/// {"status":"error","error":{"code":..., "key":..., "value":..., "message":...}}
std::string render_error_json(const Error& error);

}  // namespace lorasplit
