#include <lorasplit/solve.hpp>

#include <fmt/format.h>

#include <optional>

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

namespace {


constexpr int kMaxIterations = 10000;  // Dinkelbach converges in a handful; this only guards bugs

Error internal(const std::string& what) {
  return Error{ErrorCode::kInternal, "", "", "internal error: " + what + " (please report this instance)"};
}

Plan binary_plan(int mask, std::int64_t k) { return Plan{{(mask & 1) * k, ((mask >> 1) & 1) * k, ((mask >> 2) & 1) * k}}; }

Result<SolveResult> solve_binary(const Model& model, const std::array<bool, 3>& force_zero) {
  SolveResult res;
  res.certificate.method = "exhaustive check of the 7 non-empty points of {0,k}^3 (the whole binary domain)";
  const std::int64_t k = model.block_tokens;
  std::optional<Plan> best;
  Rational best_ratio;
  const auto allowed = [&force_zero](int mask) {
    for (std::size_t j = 0; j < 3; ++j) {
      if (force_zero[j] && ((mask >> j) & 1) != 0) return false;
    }
    return true;
  };
  for (int mask = 1; mask < 8; ++mask) {
    if (!allowed(mask)) continue;
    const Plan plan = binary_plan(mask, k);
    ++res.certificate.iterations;
    if (!is_feasible(model, plan) || model.batch_time.eval(plan) <= 0) continue;
    const Rational ratio = throughput_tokens_per_s(model, plan);
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
  for (int mask = 1; mask < 8; ++mask) {
    if (!allowed(mask)) continue;
    const Plan plan = binary_plan(mask, k);
    if (!is_feasible(model, plan)) continue;
    const Rational val = model.tokens.eval(plan) - best_ratio * model.batch_time.eval(plan);
    if (first || val > max_val) max_val = val;
    first = false;
  }
  res.certificate.final_subproblem_max = max_val;
  return res;
}

// The LP relaxation itself: b real, blocks ignored (docs/model.md §3.8).
Result<SolveResult> solve_continuous(const Model& model, const std::array<bool, 3>& force_zero) {
  SolveResult res;
  Certificate& cert = res.certificate;
  cert.method = "exact presolve + vertex enumeration of the continuous relaxation";
  detail::IntProblem pb = detail::to_integer_form(model, 1);
  pb.fixed_zero = force_zero;
  detail::presolve(pb, cert.presolve);
  const auto lp = detail::relaxation_optimum(pb);
  if (!lp) return res;  // infeasible: no vertex serves tokens in positive time
  if (!is_feasible(model, lp->y)) return internal("continuous optimum fails an exact constraint check");
  res.status = SolveStatus::kOptimal;
  res.point = lp->y;
  res.throughput_tokens_per_s = throughput_tokens_per_s(model, lp->y);
  if (res.throughput_tokens_per_s != lp->tokens_per_s) return internal("continuous optimum differs from its vertex");
  cert.lambda_tokens_per_s = res.throughput_tokens_per_s;
  cert.relaxation_bound_tokens_per_s = res.throughput_tokens_per_s;
  cert.lambda_path.push_back(res.throughput_tokens_per_s);
  return res;
}

}  // namespace

Result<SolveResult> solve(const Model& model, const SolveOptions& options) {
  if (options.domain == Domain::kBinary) return solve_binary(model, options.force_zero);
  if (options.domain == Domain::kContinuous) return solve_continuous(model, options.force_zero);

  SolveResult res;
  Certificate& cert = res.certificate;
  cert.method = "exact presolve + Dinkelbach iterations over exact 2-D integer subproblems (lattice walks)";
  const std::int64_t k = model.block_tokens;
  detail::IntProblem pb = detail::to_integer_form(model, k);
  pb.fixed_zero = options.force_zero;
  detail::presolve(pb, cert.presolve);

  std::vector<std::size_t> free_cols;
  for (std::size_t j = 0; j < 3; ++j) {
    if (!pb.fixed_zero[j]) free_cols.push_back(j);
  }
  if (free_cols.empty()) {
    res.status = SolveStatus::kInfeasible;
    return res;
  }
  if (free_cols.size() > 2) {
    return Error{ErrorCode::kUnsupported, "model", model.name,
                 fmt::format("model = '{}': presolve left 3 free columns; the exact solver handles at most 2", model.name)};
  }
  // y: a free column that every row only bounds from above (a_y >= 0); x: the other.
  std::optional<std::size_t> ycol;
  std::size_t xcol = free_cols.front();
  if (free_cols.size() == 2) {
    for (auto it = free_cols.rbegin(); it != free_cols.rend() && !ycol; ++it) {
      bool ok = true;
      for (const auto& row : pb.rows) {
        if (!row.removed && row.a[*it] < 0) ok = false;
      }
      if (ok) ycol = *it;
    }
    if (!ycol) {
      return Error{ErrorCode::kUnsupported, "model", model.name,
                   fmt::format("model = '{}': no free column is bounded only from above", model.name)};
    }
    xcol = free_cols[0] == *ycol ? free_cols[1] : free_cols[0];
  }

  {
    static const char* const kName[3] = {"b1", "b2", "b3"};
    std::string rows_kept;
    for (const auto& row : pb.rows) {
      if (!row.removed) rows_kept += fmt::format("{}{}", rows_kept.empty() ? "" : ", ", row.name);
    }
    cert.reduced_problem =
        ycol ? fmt::format("x = {}, y = {} (every row bounds y from above only), rows {}, in blocks of {}", kName[xcol],
                           kName[*ycol], rows_kept, k)
             : fmt::format("x = {} alone, rows {}, in blocks of {}", kName[xcol], rows_kept, k);
  }
  std::vector<detail::Row2> rows;
  Integer lo = 0;
  std::optional<Integer> hi;
  for (const auto& row : pb.rows) {
    if (row.removed) continue;
    detail::Row2 r{row.a[xcol], ycol ? row.a[*ycol] : Integer(0), row.h_int};
    if (r.ax == 0 && r.ay == 0) {
      if (r.h < 0) {  // a row no split can meet (e.g. the adapter alone exceeds memory)
        res.status = SolveStatus::kInfeasible;
        return res;
      }
      continue;
    }
    // At y = 0 each row reads a_x x <= h; with a_y >= 0 this is necessary for every y.
    if (r.ax > 0) {
      const Integer q = floor_div(r.h, r.ax);
      if (!hi || q < *hi) hi = q;
    } else if (r.ax < 0) {
      Integer q;
      mpz_cdiv_q(q.get_mpz_t(), r.h.get_mpz_t(), r.ax.get_mpz_t());
      if (q > lo) lo = q;
    } else if (r.h < 0) {
      res.status = SolveStatus::kInfeasible;
      return res;
    }
    rows.push_back(std::move(r));
  }
  if (!hi) {
    return Error{ErrorCode::kUnsupported, "model", model.name,
                 fmt::format("model = '{}': no row bounds the batch (the throughput has no maximum)", model.name)};
  }
  if (lo > *hi) {
    res.status = SolveStatus::kInfeasible;
    return res;
  }

  const Integer& px = pb.p[xcol];
  const Integer& qx = pb.q[xcol];
  const Integer py = ycol ? pb.p[*ycol] : Integer(0);
  const Integer qy = ycol ? pb.q[*ycol] : Integer(0);
  Integer num = 0, den = 1;  // λ in the scaled units, starts at 0
  std::optional<std::pair<Integer, Integer>> incumbent;
  Integer total;
  for (int it = 0;; ++it) {
    if (it == kMaxIterations) return internal("Dinkelbach did not terminate");
    const Integer u = den * px - num * qx;
    const Integer v = den * py - num * qy;
    const Integer c0 = den * pb.p0 - num * pb.q0;
    auto oracle = detail::max_linear_2d(rows, lo, *hi, u, v);
    if (oracle.unbounded) {
      return Error{ErrorCode::kUnsupported, "model", model.name,
                   fmt::format("model = '{}': no row bounds b{} (the throughput has no maximum)", model.name,
                               ycol ? *ycol + 1 : 0)};
    }
    ++cert.iterations;
    total = oracle.best.value + c0;
    {
      Plan at;
      const Integer bx = oracle.best.x * k, by = oracle.best.y * k;
      if (bx.fits_slong_p() && by.fits_slong_p()) {
        at.b[xcol] = bx.get_si();
        if (ycol) at.b[*ycol] = by.get_si();
      }
      cert.steps.push_back({Rational(make_rational(num, den) * pb.scale_d / pb.scale_n), at,
                            make_rational(total, den * pb.scale_n)});
    }
    if (!incumbent) {
      if (total <= 0) {  // at λ = 0 this is the largest token count: no non-empty split fits
        res.status = SolveStatus::kInfeasible;
        return res;
      }
    } else {
      if (total < 0) return internal("Dinkelbach subproblem below its incumbent");
      if (total == 0) break;
    }
    const Integer& x = oracle.best.x;
    const Integer& y = oracle.best.y;
    const Integer n = px * x + py * y + pb.p0;
    const Integer d = qx * x + qy * y + pb.q0;
    if (d <= 0) {
      return Error{ErrorCode::kUnsupported, "model", model.name,
                   fmt::format("model = '{}': a split with zero batch time serves tokens (unbounded throughput)",
                               model.name)};
    }
    Integer g;
    mpz_gcd(g.get_mpz_t(), n.get_mpz_t(), d.get_mpz_t());
    num = n / g;
    den = d / g;
    if (!incumbent) {
      // Radzik: h_{k+1} g_{k+1} <= h_k g_k / 4 with h_k g_k >= 1/D(x1) while not optimal and
      // h_0 g_0 = N(x1) D(x1), so at most log4(N(x1) D(x1)^2) further improving steps, plus
      // the first and the last subproblem.
      const Integer prod = n * d * d;
      cert.iteration_bound = 2 + static_cast<int>((mpz_sizeinbase(prod.get_mpz_t(), 2) - 1) / 2);
    }
    incumbent = std::make_pair(x, y);
    cert.lambda_path.push_back(Rational(make_rational(num, den) * pb.scale_d / pb.scale_n));
  }

  Plan plan;
  const auto to_i64 = [](const Integer& z) { return static_cast<std::int64_t>(z.get_si()); };
  const Integer bx = incumbent->first * k;
  const Integer by = incumbent->second * k;
  if (!bx.fits_slong_p() || !by.fits_slong_p()) return internal("batch size beyond int64");
  plan.b[xcol] = to_i64(bx);
  if (ycol) plan.b[*ycol] = to_i64(by);
  if (!is_feasible(model, plan)) return internal("returned split fails an exact constraint check");
  res.status = SolveStatus::kOptimal;
  res.plan = plan;
  res.point = to_point(plan);
  res.throughput_tokens_per_s = throughput_tokens_per_s(model, plan);
  const Rational lambda = make_rational(num, den) * pb.scale_d / pb.scale_n;
  if (lambda != res.throughput_tokens_per_s) return internal("certified ratio differs from the plan's throughput");
  if (cert.iterations > cert.iteration_bound) return internal("Dinkelbach exceeded its proven iteration bound");
  cert.lambda_tokens_per_s = lambda;
  cert.final_subproblem_max = make_rational(total, den * pb.scale_n);
  if (options.relaxation_bound) {
    if (const auto lp = detail::relaxation_optimum(pb)) cert.relaxation_bound_tokens_per_s = lp->tokens_per_s;
  }
  if (cert.relaxation_bound_tokens_per_s && *cert.relaxation_bound_tokens_per_s < lambda) {
    return internal("integer optimum above the continuous bound");
  }
  return res;
}

}  // namespace lorasplit
