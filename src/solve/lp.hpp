#pragma once
#include <optional>

#include "solve/problem.hpp"

namespace lorasplit::detail {

struct LpOptimum {
  Rational tokens_per_s;          ///< the optimum in true units
  std::vector<Rational> y;        ///< a vertex that attains it (fixed columns 0)
};

/// Optimum of the continuous relaxation (y real, >= 0, rows with h_lp) of the presolved
/// problem, by exact vertex enumeration (the maximum of a linear-fractional function over
/// a bounded polytope on which the denominator is positive is attained at a vertex).
/// nullopt when no vertex has a positive batch time.
std::optional<LpOptimum> relaxation_optimum(const IntProblem& problem);

}  // namespace lorasplit::detail
