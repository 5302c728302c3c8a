// Exact presolve: implied rows and dominated columns (HiGHS presolve's "dominated
// column" idea, with every test an exact rational comparison).
#include <fmt/format.h>

#include <optional>

#include "solve/problem.hpp"

namespace lorasplit::detail {
namespace {

const char* kColumn[3] = {"b1", "b2", "b3"};

// Is row i implied by row j for all b >= 0? True iff some mu > 0 has
// a_i <= mu*a_j (componentwise over free columns) and h_i >= mu*h_j: then
// a_i·b <= mu*a_j·b <= mu*h_j <= h_i.
std::optional<Rational> implied_by(const IntProblem& pb, const IntRow& ri, const IntRow& rj) {
  Rational lo = 0;                  // mu > lo (strict at 0)
  std::optional<Rational> hi;       // mu <= hi
  bool lo_strict = true;
  const auto need_ge = [&](const Rational& bound) {  // mu >= bound
    if (bound > lo) {
      lo = bound;
      lo_strict = false;
    }
  };
  const auto need_le = [&](const Rational& bound) {
    if (!hi || bound < *hi) hi = bound;
  };
  for (std::size_t k = 0; k < 3; ++k) {
    if (pb.fixed_zero[k]) continue;
    const Integer& ai = ri.a[k];
    const Integer& aj = rj.a[k];
    if (aj > 0) {
      need_ge(make_rational(ai, aj));
    } else if (aj < 0) {
      need_le(make_rational(ai, aj));
    } else if (ai > 0) {
      return std::nullopt;
    }
  }
  if (rj.h_lp > 0) {
    need_le(ri.h_lp / rj.h_lp);
  } else if (rj.h_lp < 0) {
    need_ge(ri.h_lp / rj.h_lp);
  } else if (ri.h_lp < 0) {
    return std::nullopt;
  }
  if (hi && (*hi < lo || (*hi == lo && lo_strict))) return std::nullopt;
  if (!lo_strict) return lo;
  if (hi) return *hi;
  return Rational(1);
}

}  // namespace

void presolve(IntProblem& pb, std::vector<std::string>& log) {
  bool changed = true;
  while (changed) {
    changed = false;
    for (auto& ri : pb.rows) {
      if (ri.removed) continue;
      for (const auto& rj : pb.rows) {
        if (&ri == &rj || rj.removed) continue;
        if (auto mu = implied_by(pb, ri, rj)) {
          ri.removed = true;
          changed = true;
          log.push_back(fmt::format("row {} is implied by row {} for all b >= 0 (multiplier {}): removed",
                                    ri.name, rj.name, format_exact(*mu)));
          break;
        }
      }
    }
    // Column j is dominated by column k when moving one token from path j to path k
    // never raises a row's left side, never lowers the tokens and never raises the
    // batch time: then some optimum has b_j = 0 (the move keeps feasibility and does not
    // lower tokens/time).
    for (std::size_t j = 0; j < 3 && !changed; ++j) {
      if (pb.fixed_zero[j]) continue;
      for (std::size_t k = 0; k < 3; ++k) {
        if (k == j || pb.fixed_zero[k]) continue;
        bool dominated = pb.p[k] >= pb.p[j] && pb.q[k] <= pb.q[j];
        for (const auto& row : pb.rows) {
          if (!dominated) break;
          if (!row.removed && row.a[k] > row.a[j]) dominated = false;
        }
        if (dominated) {
          pb.fixed_zero[j] = true;
          changed = true;
          log.push_back(fmt::format(
              "column {} is dominated by column {}: moving a token from {} to {} raises no row and no batch time: {} = 0",
              kColumn[j], kColumn[k], kColumn[j], kColumn[k], kColumn[j]));
          break;
        }
      }
    }
  }
}

}  // namespace lorasplit::detail
