#include <lorasplit/solve.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <optional>

#include "solve/bnb.hpp"
#include "solve/dinkelbach.hpp"
#include "solve/driver.hpp"
#include "solve/sequence.hpp"
#include "solve/ilp.hpp"
#include "solve/lp.hpp"
#include "solve/problem.hpp"

namespace lorasplit {

std::string_view to_string(SolveStatus status) {
  switch (status) {
    case SolveStatus::kOptimal: return "optimal";
    case SolveStatus::kInfeasible: return "infeasible";
  }
  return "?";
}

std::string to_string(const PresolveReduction& r, const std::vector<Column>& columns) {
  if (r.kind == PresolveReduction::Kind::kImpliedRow) {
    return fmt::format("row {} is implied by row {} for all b >= 0 (multiplier {}): removed", r.row, r.by_row,
                       format_exact(r.multiplier));
  }
  const auto name = [&columns](std::size_t j) {
    return j < columns.size() ? columns[j].name : fmt::format("column {}", j + 1);
  };
  const std::string a = name(r.column), b = name(r.by_column);
  return fmt::format(
      "column {} is dominated by column {}: moving a token from {} to {} raises no row and no batch time: {} = 0", a, b,
      a, b, a);
}

namespace {

Error internal(const std::string& what) {
  return Error{ErrorCode::kInternal, "", "", "internal error: " + what + " (please report this instance)"};
}

Error unsupported(const Model& model, const std::string& why) {
  return Error{ErrorCode::kUnsupported, "model", model.name, fmt::format("model = '{}': {}", model.name, why)};
}

Plan binary_plan(std::uint64_t mask, std::size_t n, std::int64_t k) {
  Plan plan;
  plan.b.resize(n);
  for (std::size_t j = 0; j < n; ++j) plan.b[j] = ((mask >> j) & 1U) != 0 ? k : 0;
  return plan;
}

bool forced(const std::vector<bool>& force_zero, std::size_t j) { return j < force_zero.size() && force_zero[j]; }

constexpr std::size_t kMaxBinaryColumns = 20;

// The case of `cases` that holds `plan` (support and every row), or nullptr.
const Model* holder(const std::vector<const Model*>& cases, const Plan& plan) {
  for (const Model* m : cases) {
    if (is_feasible(*m, plan)) return m;
  }
  return nullptr;
}

Result<SolveResult> solve_binary(const std::vector<const Model*>& cases, const std::vector<bool>& force_zero) {
  SolveResult res;
  const std::size_t n = cases.front()->size();
  res.plan.b.assign(n, 0);
  res.point.assign(n, Rational(0));
  if (n > kMaxBinaryColumns) {
    return unsupported(*cases.front(), fmt::format("the binary domain is checked exhaustively, up to {} columns ({} here)",
                                                   kMaxBinaryColumns, n));
  }
  const std::uint64_t points = std::uint64_t{1} << n;
  res.certificate.method = fmt::format("exhaustive check of the {} non-empty points of {{0,k}}^{} (the whole binary domain)",
                                       points - 1, n);
  // Each point is checked once: the count of checks is bounded by the points themselves.
  res.certificate.iteration_bound = static_cast<int>(points - 1);
  const std::int64_t k = cases.front()->block_tokens;
  std::optional<Plan> best;
  Rational best_ratio;
  const auto allowed = [&force_zero, n](std::uint64_t mask) {
    for (std::size_t j = 0; j < n; ++j) {
      if (forced(force_zero, j) && ((mask >> j) & 1U) != 0) return false;
    }
    return true;
  };
  for (std::uint64_t mask = 1; mask < points; ++mask) {
    if (!allowed(mask)) continue;
    const Plan plan = binary_plan(mask, n, k);
    ++res.certificate.iterations;
    const Model* m = holder(cases, plan);
    if (m == nullptr || m->batch_time.eval(plan) <= 0) continue;
    const Rational ratio = throughput_tokens_per_s(*m, plan);
    if (!best || ratio > best_ratio) {
      best = plan;
      best_ratio = ratio;
    }
  }
  if (!best) {
    res.status = SolveStatus::kInfeasible;
    return res;
  }
  res.status = SolveStatus::kOptimal;
  res.plan = *best;
  res.point = to_point(*best);
  res.throughput_tokens_per_s = best_ratio;
  res.certificate.lambda_tokens_per_s = best_ratio;
  res.certificate.lambda_path.push_back(best_ratio);
  // max over the feasible binary points of tokens - λ*·time: 0 iff λ* is the best ratio.
  Rational max_val;
  bool first = true;
  for (std::uint64_t mask = 1; mask < points; ++mask) {
    if (!allowed(mask)) continue;
    const Plan plan = binary_plan(mask, n, k);
    const Model* m = holder(cases, plan);
    if (m == nullptr) continue;
    const Rational val = m->tokens.eval(plan) - best_ratio * m->batch_time.eval(plan);
    if (first || val > max_val) max_val = val;
    first = false;
  }
  res.certificate.final_subproblem_max = max_val;
  return res;
}

// The LP relaxation itself: b real, blocks ignored (docs/model.md §3.8).
Result<SolveResult> solve_continuous(const Model& model, const std::vector<bool>& force_zero) {
  SolveResult res;
  const std::size_t n = model.size();
  res.plan.b.assign(n, 0);
  res.point.assign(n, Rational(0));
  Certificate& cert = res.certificate;
  cert.method = "exact presolve + vertex enumeration of the continuous relaxation";
  detail::IntProblem pb = detail::to_integer_form(model, 1);
  for (std::size_t j = 0; j < n; ++j) {
    if (!forced(force_zero, j)) continue;
    if (pb.offset[j] != 0) return res;  // the case needs the path the caller forbids
    pb.fixed_zero[j] = true;
  }
  detail::presolve(pb, cert.presolve);
  const auto lp = detail::relaxation_optimum(pb);
  if (!lp) return res;  // infeasible: no vertex serves tokens in positive time
  Point at = lp->y;
  for (std::size_t j = 0; j < n; ++j) at[j] += pb.offset[j];
  if (!is_feasible(model, at)) return internal("continuous optimum fails an exact constraint check");
  res.status = SolveStatus::kOptimal;
  res.point = at;
  res.throughput_tokens_per_s = throughput_tokens_per_s(model, res.point);
  if (res.throughput_tokens_per_s != lp->tokens_per_s) return internal("continuous optimum differs from its vertex");
  cert.lambda_tokens_per_s = res.throughput_tokens_per_s;
  cert.relaxation_bound_tokens_per_s = res.throughput_tokens_per_s;
  cert.lambda_path.push_back(res.throughput_tokens_per_s);
  return res;
}

}  // namespace

namespace {

// One Dinkelbach run over one linear case (docs/model.md §3.4) in the integer form of
// `model`: in 128-bit integers when the form fits them and nothing overflows, else in GMP
// (the same driver, the same answer and certificate).
Result<detail::CaseOutcome> run_case(const Model& model, const std::vector<bool>& force_zero,
                                     const std::optional<Rational>& start, bool lp_bound, std::optional<Rational>& lp_out,
                                     bool record, detail::IntFormCache* cache) {
  const std::size_t ncols = model.size();
  detail::IntProblem pb = detail::to_integer_form(model, model.block_tokens, cache);
  for (std::size_t j = 0; j < ncols; ++j) {
    if (!forced(force_zero, j)) continue;
    if (pb.offset[j] != 0) {
      detail::CaseOutcome run;
      run.excluded = true;
      return run;
    }
    pb.fixed_zero[j] = 1;
  }
  const detail::DriverOptions o{record, &model.columns, model.name, model.block_tokens};
  std::optional<detail::Frac<Integer>> start_scaled;
  if (start) {
    const Rational scaled = *start * pb.scale_n / pb.scale_d;
    start_scaled = detail::Frac<Integer>{scaled.get_num(), scaled.get_den()};
  }
  std::optional<Result<detail::CaseOutcome>> out;
  if (auto narrow = detail::convert_problem<detail::Int128>(pb)) {
    try {
      std::optional<detail::Frac<detail::Int128>> s128;
      if (start_scaled) {
        const auto n = detail::to_int128(start_scaled->num), d = detail::to_int128(start_scaled->den);
        if (!n || !d) throw detail::Overflow{};
        s128 = detail::Frac<detail::Int128>{*n, *d};
      }
      detail::CaseRun<detail::Int128> r;
      try {
        if (Status st = detail::run_case<detail::Int128>(*narrow, s128, o, r); !st) return st.error();
        for (std::size_t i = 0; i < pb.rows.size(); ++i) pb.rows[i].removed = narrow->rows[i].removed;
        pb.fixed_zero = narrow->fixed_zero;
        out = detail::finish_case(model.block_tokens, model.size(), *narrow, r, record);
      } catch (const detail::NeedsGmp&) {
        // Presolved in 128 bits: the same decisions on the GMP form, the oracle in GMP.
        for (std::size_t i = 0; i < pb.rows.size(); ++i) pb.rows[i].removed = narrow->rows[i].removed;
        pb.fixed_zero = narrow->fixed_zero;
        detail::CaseRun<Integer> g;
        g.presolve = std::move(r.presolve);
        detail::DriverOptions wide = o;
        wide.presolved = true;
        if (Status st = detail::run_case<Integer>(pb, start_scaled, wide, g); !st) return st.error();
        out = detail::finish_case(model.block_tokens, model.size(), pb, g, record);
      }
    } catch (const detail::Overflow&) {
      out.reset();
    }
  }
  if (!out) {
    detail::CaseRun<Integer> r;
    if (Status st = detail::run_case<Integer>(pb, start_scaled, o, r); !st) return st.error();
    out = detail::finish_case(model.block_tokens, model.size(), pb, r, record);
  }
  if (lp_bound && out->ok()) {
    // The continuous relaxation over y >= 0 in block units: with blocks it is the relaxation
    // of b = k (offset + y), still an upper bound on every integer split of this case.
    if (const auto lp = detail::relaxation_optimum(pb)) lp_out = lp->tokens_per_s;
  }
  return std::move(*out);
}

Result<SolveResult> solve_cases(const std::vector<const Model*>& cases, const SolveOptions& options) {
  if (cases.empty()) return internal("a model without cases");
  if (options.domain == Domain::kBinary) return solve_binary(cases, options.force_zero);
  if (options.domain == Domain::kContinuous) {
    std::optional<SolveResult> best;
    for (const Model* mp : cases) {
      const Model& m = *mp;
      auto r = solve_continuous(m, options.force_zero);
      if (!r) return r.error();
      if (r->status != SolveStatus::kOptimal) continue;
      if (!best || r->throughput_tokens_per_s > best->throughput_tokens_per_s) best = std::move(r.value());
    }
    if (!best) return SolveResult{};
    if (cases.size() > 1) {
      best->certificate.method = fmt::format(
          "exact presolve + vertex enumeration of the continuous relaxation of each of the {} cases", cases.size());
    }
    return *best;
  }

  const auto name = [&cases](std::size_t c) -> const std::string& { return cases[c]->case_name; };
  // The cases share most rows (memory and limit rows, one stage's terms): each distinct
  // form is scaled to integers once.
  detail::IntFormCache cache;
  const auto run = [&cases, &options, &cache](std::size_t c, const std::optional<Rational>& start,
                                              std::optional<Rational>& lp) {
    return run_case(*cases[c], options.force_zero, start, options.relaxation_bound, lp, options.explain,
                    cases.size() > 1 ? &cache : nullptr);
  };
  const auto check = [&cases](std::size_t c, const Plan& plan, const Rational& lambda) -> Status {
    if (!is_feasible(*cases[c], plan)) return internal("returned split fails an exact constraint check");
    if (lambda != throughput_tokens_per_s(*cases[c], plan)) {
      return internal("certified ratio differs from the plan's throughput");
    }
    return {};
  };
  return detail::solve_sequence(cases.size(), cases.front()->size(), name, run, check, options);
}

}  // namespace

namespace detail {

Result<SolveResult> solve_sequence(std::size_t count, std::size_t columns,
                                   const std::function<const std::string&(std::size_t)>& name,
                                   const CaseProvider& run_one, const CaseCheck& check, const SolveOptions& options) {
  SolveResult res;
  res.plan.b.assign(columns, 0);
  res.point.assign(columns, Rational(0));
  Certificate& cert = res.certificate;
  const bool several = count > 1;
  cert.method = several ? fmt::format("exact presolve + Dinkelbach iterations over each of the {} linear cases, each "
                                      "started at the best ratio so far (a case that cannot beat it is proved so by "
                                      "one subproblem)",
                                      count)
                        : "exact presolve + Dinkelbach iterations over exact integer subproblems (lattice walks, or "
                          "lattice-hyperplane branching when three columns remain)";
  std::optional<Rational> best;
  std::optional<std::size_t> best_case;
  Plan best_plan;
  std::optional<CaseOutcome> best_run;
  std::optional<IntegerForm> first_form;  // shown when no case holds a plan
  std::optional<Rational> bound;
  for (std::size_t c = 0; c < count; ++c) {
    const std::string& case_name = name(c);
    std::optional<Rational> lp;
    auto run = run_one(c, best, lp);
    if (lp && (!bound || *lp > *bound)) bound = lp;
    if (!run) return run.error();
    if (run->excluded) {
      if (several) cert.cases.push_back(fmt::format("{}: excluded (uses a path forced to 0)", case_name));
      continue;
    }
    if (c == 0) first_form = run->cert.integer_form;
    cert.iterations += run->cert.iterations;
    cert.iteration_bound += std::max(run->cert.iteration_bound, run->cert.iterations);
    for (auto& st : run->cert.steps) cert.steps.push_back(std::move(st));
    if (run->found) {
      if (Status st = check(c, run->plan, run->lambda); !st) return st.error();
      if (several) {
        cert.cases.push_back(fmt::format("{}: best {} tokens/s at b = ({}) in {} subproblems{}", case_name,
                                         format_number(run->lambda), fmt::join(run->plan.b, ", "),
                                         run->cert.iterations,
                                         run->nodes > 0 ? fmt::format(" ({} branching nodes)", run->nodes) : ""));
      }
      best = run->lambda;
      best_case = c;
      best_plan = run->plan;
      for (const auto& l : run->cert.lambda_path) cert.lambda_path.push_back(l);
      best_run = std::move(run.value());
    } else if (several) {
      if (run->empty) {
        cert.cases.push_back(run->settled != nullptr
                                 ? fmt::format("{}: holds no integer plan ({})", case_name, run->settled)
                                 : fmt::format("{}: holds no integer plan", case_name));
      } else if (!best) {
        cert.cases.push_back(fmt::format("{}: no integer point", case_name));
      } else if (run->settled != nullptr) {
        cert.cases.push_back(fmt::format("{}: cannot beat {} tokens/s ({}, max of tokens - λ·time <= {} <= 0)",
                                         case_name, format_number(*best), run->settled,
                                         format_number(run->final_max)));
      } else {
        cert.cases.push_back(fmt::format("{}: cannot beat {} tokens/s (max of tokens - λ·time = {} <= 0{})",
                                         case_name, format_number(*best), format_number(run->final_max),
                                         run->nodes > 0 ? fmt::format("; {} branching nodes", run->nodes) : ""));
      }
    }
  }
  if (!best) {
    res.status = SolveStatus::kInfeasible;
    cert.integer_form = std::move(first_form);
    return res;
  }
  res.status = SolveStatus::kOptimal;
  res.plan = best_plan;
  res.point = to_point(best_plan);
  res.throughput_tokens_per_s = *best;
  cert.lambda_tokens_per_s = *best;
  cert.final_subproblem_max = best_run->final_max;
  cert.presolve = best_run->cert.presolve;
  cert.reduced_problem = best_run->cert.reduced_problem;
  cert.integer_form = std::move(best_run->cert.integer_form);
  if (!several) cert.iteration_bound = best_run->cert.iteration_bound;
  if (cert.iterations > cert.iteration_bound) return solver_internal("Dinkelbach exceeded its proven iteration bound");
  if (!best_case) return solver_internal("returned split fails an exact constraint check");
  if (options.relaxation_bound) cert.relaxation_bound_tokens_per_s = bound;
  if (!options.explain) {  // the lean certificate (what the fast path returns)
    cert.steps.clear();
    cert.lambda_path.clear();
    cert.presolve.clear();
    cert.reduced_problem.clear();
  }
  if (cert.relaxation_bound_tokens_per_s && *cert.relaxation_bound_tokens_per_s < *best) {
    return solver_internal("integer optimum above the continuous bound");
  }
  return res;
}


}  // namespace detail

Result<SolveResult> solve(const Formulation& f, const SolveOptions& options) {
  std::vector<const Model*> cases;
  cases.reserve(f.cases.size());
  for (const auto& m : f.cases) cases.push_back(&m);
  return solve_cases(cases, options);
}

Result<SolveResult> solve(const Model& model, const SolveOptions& options) { return solve_cases({&model}, options); }

Result<SolveResult> solve(const Params& params, const SolveOptions& options) {
  if (options.domain != Domain::kInteger || options.relaxation_bound || !options.fast_path) {
    return solve(build_model(params), options);
  }
  // Filled in place and returned by name on every path (a SolveResult holds several GMP
  // rationals; each move of one allocates).
  thread_local LeanSolver lean;
  Result<SolveResult> out(std::in_place);
  if (Status st = lean.solve(params, options, out.value()); !st) out = Result<SolveResult>(st.error());
  return out;
}

}  // namespace lorasplit
