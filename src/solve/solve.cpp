#include <lorasplit/solve.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>
#include <optional>

#include "solve/bnb.hpp"
#include "solve/dinkelbach.hpp"
#include "solve/fast.hpp"
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

// One Dinkelbach run over one linear case (docs/model.md §3.4), from λ = `start` (true
// units) when given: then it only looks for plans strictly better than `start`.
struct CaseRun {
  bool excluded{false};   // the caller's force_zero forbids a path this case needs
  bool found{false};      // a plan with ratio > start (or, without start, any plan)
  bool empty{false};      // the case holds no integer point at all
  Plan plan;
  Rational lambda;        // its ratio, certified optimal for this case
  Rational final_max;     // max of tokens - λ·time over the case at the final λ [tokens]; <= 0
  Certificate cert;       // iterations, bound, steps, λ path, presolve, reduced problem
  long nodes{0};          // lattice-hyperplane nodes (0 when the lattice walk decided)
};

Result<CaseRun> run_case(const Model& model, const std::vector<bool>& force_zero, const std::optional<Rational>& start,
                         bool lp_bound, std::optional<Rational>& lp_out) {
  CaseRun run;
  Certificate& cert = run.cert;
  const std::int64_t k = model.block_tokens;
  const std::size_t ncols = model.size();
  const auto name = [&model](std::size_t j) { return model.columns[j].name; };
  detail::IntProblem pb = detail::to_integer_form(model, k);
  for (std::size_t j = 0; j < ncols; ++j) {
    if (!forced(force_zero, j)) continue;
    if (pb.offset[j] != 0) {
      run.excluded = true;
      return run;
    }
    pb.fixed_zero[j] = 1;
  }
  detail::presolve(pb, cert.presolve);
  if (lp_bound) {
    // The continuous relaxation over y >= 0 in block units: with blocks it is the relaxation
    // of b = k (offset + y), still an upper bound on every integer split of this case.
    if (const auto lp = detail::relaxation_optimum(pb)) lp_out = lp->tokens_per_s;
  }

  std::vector<std::size_t> free_cols;
  for (std::size_t j = 0; j < ncols; ++j) {
    if (!pb.fixed_zero[j]) free_cols.push_back(j);
  }
  std::string rows_kept;
  for (const auto& row : pb.rows) {
    if (!row.removed) rows_kept += fmt::format("{}{}", rows_kept.empty() ? "" : ", ", row.name);
  }
  using Oracle =
      std::function<Result<detail::OracleOut<Integer>>(const std::vector<Integer>&, const std::vector<Integer>*)>;
  Oracle oracle;
  // The lattice walk when one free column remains, or two and one of them is bounded only
  // from above by every row; the general lattice-hyperplane oracle otherwise.
  std::size_t xcol = 0;
  std::optional<std::size_t> ycol;
  std::optional<detail::WalkOracle<Integer>> walk;
  detail::WalkOracle<Integer>::Storage walk_storage;
  std::optional<detail::BranchAndBound> bnb;
  if (free_cols.empty()) {
    cert.reduced_problem = fmt::format("no free column: the single plan of this case, rows {}", rows_kept);
    bool empty = false;
    for (const auto& row : pb.rows) {
      if (!row.removed && row.h_int < 0) empty = true;
    }
    oracle = [empty, ncols](const std::vector<Integer>&,
                            const std::vector<Integer>*) -> Result<detail::OracleOut<Integer>> {
      detail::OracleOut<Integer> o;
      o.feasible = !empty;
      o.y.assign(ncols, Integer(0));
      o.value = 0;
      return o;
    };
  } else if (detail::WalkOracle<Integer>::applies(pb, xcol, ycol)) {
    cert.reduced_problem =
        ycol ? fmt::format("x = {}, y = {} (every row bounds y from above only), rows {}, in blocks of {}; lattice walk",
                           name(xcol), name(*ycol), rows_kept, k)
             : fmt::format("x = {} alone, rows {}, in blocks of {}", name(xcol), rows_kept, k);
    walk.emplace(pb, xcol, ycol, walk_storage, &model.columns);
    if (walk->prep() == detail::WalkOracle<Integer>::Prep::kUnbounded) {
      return unsupported(model, "no row bounds the batch (the throughput has no maximum)");
    }
    oracle = [&walk, &model](const std::vector<Integer>& u, const std::vector<Integer>*) {
      return (*walk)(u, model.name);
    };
  } else if (free_cols.size() > 3) {
    std::string cols;
    for (const auto j : free_cols) cols += fmt::format("{}{}", cols.empty() ? "" : ", ", name(j));
    cert.reduced_problem = fmt::format(
        "free columns {}, rows {}, in blocks of {}; exact branch and bound over exact rational LP relaxations "
        "(docs/model.md §3.11)",
        cols, rows_kept, k);
    std::vector<std::vector<Integer>> a;
    std::vector<Integer> h;
    for (const auto& row : pb.rows) {
      if (row.removed) continue;
      std::vector<Integer> r;
      for (const auto j : free_cols) r.push_back(row.a[j]);
      a.push_back(std::move(r));
      h.push_back(row.h_int);
    }
    bnb.emplace(std::move(a), std::move(h), free_cols.size());
    if (bnb->unbounded()) return unsupported(model, "no row bounds the batch (the throughput has no maximum)");
    oracle = [&bnb, &run, free_cols, ncols](const std::vector<Integer>& u,
                                            const std::vector<Integer>* incumbent) -> Result<detail::OracleOut<Integer>> {
      std::vector<Integer> c;
      for (const auto j : free_cols) c.push_back(u[j]);
      std::optional<std::pair<std::vector<Integer>, Integer>> beat;
      if (incumbent != nullptr) {
        std::pair<std::vector<Integer>, Integer> s{{}, 0};
        for (const auto j : free_cols) {
          s.first.push_back((*incumbent)[j]);
          s.second += u[j] * (*incumbent)[j];
        }
        beat = std::move(s);
      }
      const auto r = bnb->maximize(c, beat);
      run.nodes += r.nodes;
      detail::OracleOut<Integer> o;
      o.feasible = r.feasible;
      o.y.assign(ncols, Integer(0));
      if (r.feasible) {
        for (std::size_t i = 0; i < free_cols.size(); ++i) o.y[free_cols[i]] = r.t[i];
        o.value = r.value;
      }
      return o;
    };
  } else {
    std::string cols;
    for (const auto j : free_cols) cols += fmt::format("{}{}", cols.empty() ? "" : ", ", name(j));
    cert.reduced_problem = fmt::format(
        "free columns {}, rows {}, in blocks of {}; exact lattice-hyperplane branching (docs/model.md §3.9)", cols,
        rows_kept, k);
    std::vector<detail::RowN> rows;
    for (const auto& row : pb.rows) {
      if (row.removed) continue;
      detail::RowN r;
      for (std::size_t i = 0; i < free_cols.size(); ++i) r.a[i] = row.a[free_cols[i]];
      r.h = row.h_int;
      rows.push_back(std::move(r));
    }
    for (std::size_t i = 0; i < free_cols.size(); ++i) {
      detail::RowN r;
      r.a = {0, 0, 0};
      r.a[i] = -1;
      r.h = 0;
      rows.push_back(std::move(r));
    }
    oracle = [&model, &run, rows = std::move(rows), free_cols, ncols](
                 const std::vector<Integer>& u, const std::vector<Integer>*) -> Result<detail::OracleOut<Integer>> {
      detail::VecN c{0, 0, 0};
      for (std::size_t i = 0; i < free_cols.size(); ++i) c[i] = u[free_cols[i]];
      auto r = detail::max_linear_nd(rows, free_cols.size(), c);
      run.nodes += r.nodes;
      if (r.unbounded) return unsupported(model, "no row bounds the batch (the throughput has no maximum)");
      detail::OracleOut<Integer> o;
      o.feasible = r.feasible;
      o.y.assign(ncols, Integer(0));
      if (r.feasible) {
        for (std::size_t i = 0; i < free_cols.size(); ++i) o.y[free_cols[i]] = r.t[i];
        o.value = r.value;
      }
      return o;
    };
  }

  const auto true_units = [&pb](const Integer& n, const Integer& d) {
    return Rational(make_rational(n, d) * pb.scale_d / pb.scale_n);
  };
  const auto to_plan = [&](const std::vector<Integer>& y, Plan& plan) {
    plan.b.resize(ncols);
    for (std::size_t j = 0; j < ncols; ++j) {
      const Integer b = (y[j] + pb.offset[j]) * k;
      if (!b.fits_slong_p()) return false;
      plan.b[j] = b.get_si();
    }
    return true;
  };

  std::optional<detail::Frac<Integer>> start_scaled;
  if (start) {
    const Rational scaled = *start * pb.scale_n / pb.scale_d;
    start_scaled = detail::Frac<Integer>{scaled.get_num(), scaled.get_den()};
  }
  std::optional<std::vector<Integer>> start_point;
  if (walk) start_point = walk->start_point(pb);
  auto dk = detail::dinkelbach<Integer>(pb, oracle, start_scaled, true, model.name, start_point);
  if (!dk) return dk.error();
  if (dk->warm) {
    Plan at;
    (void)to_plan(*start_point, at);
    cert.reduced_problem += fmt::format("; Dinkelbach starts at the envelope corner with the best ratio, b = ({})",
                                        fmt::join(at.b, ", "));
  }
  using Outcome = detail::DinkelbachRun<Integer>::Outcome;
  cert.iterations = dk->iterations;
  cert.iteration_bound = dk->iteration_bound;
  for (const auto& st : dk->steps) {
    Plan at;
    (void)to_plan(st.y, at);
    cert.steps.push_back({true_units(st.num, st.den), at, make_rational(st.total, st.den * pb.scale_n)});
  }
  for (const auto& [n, d] : dk->lambda_path) cert.lambda_path.push_back(true_units(n, d));
  if (dk->outcome == Outcome::kEmpty) {
    run.empty = true;
    return run;
  }
  run.final_max = make_rational(dk->total, dk->den * pb.scale_n);
  if (dk->outcome == Outcome::kNotBetter) return run;
  if (!to_plan(dk->y, run.plan)) return internal("batch size beyond int64");
  if (!is_feasible(model, run.plan)) return internal("returned split fails an exact constraint check");
  run.found = true;
  run.lambda = true_units(dk->num, dk->den);
  if (run.lambda != throughput_tokens_per_s(model, run.plan)) {
    return internal("certified ratio differs from the plan's throughput");
  }
  return run;
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

  SolveResult res;
  res.plan.b.assign(cases.front()->size(), 0);
  res.point.assign(cases.front()->size(), Rational(0));
  Certificate& cert = res.certificate;
  const bool several = cases.size() > 1;
  cert.method = several ? fmt::format("exact presolve + Dinkelbach iterations over each of the {} linear cases, each "
                                      "started at the best ratio so far (a case that cannot beat it is proved so by "
                                      "one subproblem)",
                                      cases.size())
                        : "exact presolve + Dinkelbach iterations over exact integer subproblems (lattice walks, or "
                          "lattice-hyperplane branching when three columns remain)";
  std::optional<Rational> best;
  const Model* best_case = nullptr;
  Plan best_plan;
  std::optional<CaseRun> best_run;
  std::optional<Rational> bound;
  for (const Model* mp : cases) {
    const Model& m = *mp;
    std::optional<Rational> lp;
    auto run = run_case(m, options.force_zero, best, options.relaxation_bound, lp);
    if (lp && (!bound || *lp > *bound)) bound = lp;
    if (!run) return run.error();
    if (run->excluded) {
      if (several) cert.cases.push_back(fmt::format("{}: excluded (uses a path forced to 0)", m.case_name));
      continue;
    }
    cert.iterations += run->cert.iterations;
    cert.iteration_bound += std::max(run->cert.iteration_bound, run->cert.iterations);
    for (auto& st : run->cert.steps) cert.steps.push_back(std::move(st));
    if (run->found) {
      if (several) {
        cert.cases.push_back(fmt::format("{}: best {} tokens/s at b = ({}) in {} subproblems{}", m.case_name,
                                         format_number(run->lambda), fmt::join(run->plan.b, ", "),
                                         run->cert.iterations,
                                         run->nodes > 0 ? fmt::format(" ({} branching nodes)", run->nodes) : ""));
      }
      best = run->lambda;
      best_case = &m;
      best_plan = run->plan;
      for (const auto& l : run->cert.lambda_path) cert.lambda_path.push_back(l);
      best_run = std::move(run.value());
    } else if (several) {
      cert.cases.push_back(run->empty ? fmt::format("{}: holds no integer plan", m.case_name)
                           : best ? fmt::format("{}: cannot beat {} tokens/s (max of tokens - λ·time = {} <= 0{})",
                                              m.case_name, format_number(*best), format_number(run->final_max),
                                              run->nodes > 0 ? fmt::format("; {} branching nodes", run->nodes) : "")
                                : fmt::format("{}: no integer point", m.case_name));
    }
  }
  if (!best) {
    res.status = SolveStatus::kInfeasible;
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
  if (!several) cert.iteration_bound = best_run->cert.iteration_bound;
  if (cert.iterations > cert.iteration_bound) return internal("Dinkelbach exceeded its proven iteration bound");
  if (best_case == nullptr || !is_feasible(*best_case, res.plan)) {
    return internal("returned split fails an exact constraint check");
  }
  if (options.relaxation_bound) cert.relaxation_bound_tokens_per_s = bound;
  if (!options.explain) {  // the lean certificate (what the fast path returns)
    cert.steps.clear();
    cert.lambda_path.clear();
    cert.presolve.clear();
    cert.reduced_problem.clear();
  }
  if (cert.relaxation_bound_tokens_per_s && *cert.relaxation_bound_tokens_per_s < *best) {
    return internal("integer optimum above the continuous bound");
  }
  return res;
}

}  // namespace

Result<SolveResult> solve(const Formulation& f, const SolveOptions& options) {
  std::vector<const Model*> cases;
  cases.reserve(f.cases.size());
  for (const auto& m : f.cases) cases.push_back(&m);
  return solve_cases(cases, options);
}

Result<SolveResult> solve(const Model& model, const SolveOptions& options) { return solve_cases({&model}, options); }

Result<SolveResult> solve(const Params& params, const SolveOptions& options) {
  // Filled in place and returned by name on every path (a SolveResult holds six GMP
  // rationals; each move of one allocates).
  Result<SolveResult> out(std::in_place);
  Error error;
  switch (detail::fast_solve(params, options, out.value(), error)) {
    case detail::FastStatus::kSolved: break;
    case detail::FastStatus::kError: out = Result<SolveResult>(std::move(error)); break;
    case detail::FastStatus::kNotApplicable: out = solve(build_model(params), options); break;
  }
  return out;
}

}  // namespace lorasplit
