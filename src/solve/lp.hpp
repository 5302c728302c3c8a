#pragma once
#include <optional>

#include "solve/problem.hpp"

namespace lorasplit::detail {

/// Optimum of the continuous relaxation (b real, >= 0, rows with h_lp) of the presolved
/// problem, in tokens/s, by exact vertex enumeration (the maximum of a linear-fractional
/// function over a bounded polytope on which the denominator is positive is attained at
/// a vertex). nullopt when no vertex has a positive batch time.
std::optional<Rational> relaxation_bound(const IntProblem& problem);

}  // namespace lorasplit::detail
