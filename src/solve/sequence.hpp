#pragma once
// The sequence of linear cases (docs/model.md §3.4, §7.4): each case solved by the
// per-case driver from the best ratio so far, the best plan over all, and the
// certificate's case lines. One loop for the general path (cases as models) and the
// lean path (cases as symbolic rows); only where a case's integer form comes from differs.
#include <lorasplit/solve.hpp>

#include <functional>
#include <optional>
#include <string>

#include "solve/driver.hpp"

namespace lorasplit::detail {

// One Dinkelbach run over one linear case (docs/model.md §3.4), from λ = `start` (true
// units) when given: then it only looks for plans strictly better than `start`.
struct CaseOutcome {
  bool excluded{false};   // the caller's force_zero forbids a path this case needs
  bool found{false};      // a plan with ratio > start (or, without start, any plan)
  bool empty{false};      // the case holds no integer point at all
  Plan plan;
  Rational lambda;        // its ratio, certified optimal for this case
  Rational final_max;     // max of tokens - λ·time over the case at the final λ [tokens]; <= 0
  Certificate cert;       // iterations, bound, steps, λ path, presolve, reduced problem
  long nodes{0};          // lattice-hyperplane nodes (0 when the lattice walk decided)
  const char* settled{nullptr};  // how a relaxation settled it without a subproblem, if one did
};

// The integer form of `pb` for the certificate (what `explain` lists).
template <class I>
IntegerForm integer_form_of(std::int64_t k, const BasicIntProblem<I>& pb) {
  IntegerForm f;
  const auto ints = [](const std::vector<I>& v) {
    std::vector<Integer> out;
    out.reserve(v.size());
    for (const I& x : v) out.push_back(to_integer(x));
    return out;
  };
  f.block_tokens = k;
  f.offset = pb.offset;
  f.fixed_zero.assign(pb.fixed_zero.begin(), pb.fixed_zero.end());
  f.rows.reserve(pb.rows.size());
  for (const auto& row : pb.rows) f.rows.push_back({row.name, ints(row.a), to_integer(row.h_int), row.removed});
  f.p = ints(pb.p);
  f.q = ints(pb.q);
  f.p0 = to_integer(pb.p0);
  f.q0 = to_integer(pb.q0);
  f.scale_n = to_integer(pb.scale_n);
  f.scale_d = to_integer(pb.scale_d);
  return f;
}

// The driver's answer in true units: the plan (b = block (offset + y)), λ, the
// certificate's steps and λ path, the final subproblem's value; with `record_form`, the
// integer form the case was solved in.
template <class I>
Result<CaseOutcome> finish_case(std::int64_t k, std::size_t n, const BasicIntProblem<I>& pb, CaseRun<I>& r,
                                bool record_form) {
  CaseOutcome run;
  if (record_form) run.cert.integer_form = integer_form_of(k, pb);
  const Integer scale_n = to_integer(pb.scale_n), scale_d = to_integer(pb.scale_d);
  const auto true_units = [&](const I& num, const I& den) {
    return Rational(to_rational(num, den) * scale_d / scale_n);
  };
  const auto to_plan = [&](const std::vector<I>& y, Plan& plan) {
    plan.b.resize(n);
    for (std::size_t j = 0; j < n; ++j) {
      const Integer b = (to_integer(y[j]) + pb.offset[j]) * k;
      if (!b.fits_slong_p()) return false;
      plan.b[j] = b.get_si();
    }
    return true;
  };
  Certificate& cert = run.cert;
  cert.iterations = r.dk.iterations;
  cert.iteration_bound = r.dk.iteration_bound;
  cert.presolve = std::move(r.presolve);
  cert.reduced_problem = std::move(r.reduced_problem);
  for (const auto& st : r.dk.steps) {
    Plan at;
    (void)to_plan(st.y, at);
    cert.steps.push_back({true_units(st.num, st.den), at,
                          to_rational(to_integer(st.total), Integer(to_integer(st.den) * scale_n))});
  }
  for (const auto& [num, den] : r.dk.lambda_path) cert.lambda_path.push_back(true_units(num, den));
  run.nodes = r.nodes;
  using Settled = typename CaseRun<I>::Settled;
  switch (r.settled) {
    case Settled::kNo: break;
    case Settled::kBoxEmpty:
    case Settled::kLpEmpty: run.settled = "its relaxation is empty"; break;
    case Settled::kBox: run.settled = "over the box its rows bound"; break;
    case Settled::kLp: run.settled = "over its LP relaxation"; break;
    case Settled::kCut: run.settled = "no integer point beats it: lattice-hyperplane branching under the cut"; break;
  }
  using Outcome = typename CaseRun<I>::Outcome;
  if (r.outcome == Outcome::kEmpty) {
    run.empty = true;
    return run;
  }
  run.final_max = to_rational(to_integer(r.dk.total), Integer(to_integer(r.dk.den) * scale_n));
  if (r.outcome == Outcome::kNotBetter) return run;
  if (!to_plan(r.dk.y, run.plan)) return solver_internal("batch size beyond int64");
  run.found = true;
  run.lambda = true_units(r.dk.num, r.dk.den);
  return run;
}

/// Solves cases 0..count-1 in order with `run(c, start, lp_out)` (lp_out: the case's
/// relaxation bound, when asked for), checking each case's plan with `check(c, plan,
/// lambda)` (exact, against its model), into one answer with its certificate.
using CaseProvider =
    std::function<Result<CaseOutcome>(std::size_t, const std::optional<Rational>&, std::optional<Rational>&)>;
using CaseCheck = std::function<Status(std::size_t, const Plan&, const Rational&)>;
Result<SolveResult> solve_sequence(std::size_t count, std::size_t columns,
                                   const std::function<const std::string&(std::size_t)>& case_name,
                                   const CaseProvider& run, const CaseCheck& check, const SolveOptions& options);

}  // namespace lorasplit::detail
