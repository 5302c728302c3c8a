#pragma once
// The fixed-width fast path (docs/model.md §3.10): the seed model's integer form built
// straight from the parameters and solved by the same templated presolve, lattice walk
// and Dinkelbach code as the general solver, in overflow-checked 128-bit integers.
#include <lorasplit/params.hpp>
#include <lorasplit/solve.hpp>

#include <optional>
#include <string>
#include <vector>

#include "solve/problem.hpp"

namespace lorasplit::detail {

/// The seed model's integer form (as to_integer_form(build_seed_model(p), k) gives it),
/// computed in 128-bit integers into `out`. False when a parameter's numerator or
/// denominator does not fit 64 bits; throws Overflow when an intermediate does not fit 128.
bool seed_integer_form_128(const Params& p, BasicIntProblem<Int128>& out);

/// What the sweep needs from one seed point besides the solve: the GPU-only baseline, the
/// gain over it and the rows that bind at the optimum, from the same integer form.
struct FastExtras {
  std::optional<Rational> gpu_only_tokens_per_s;
  std::optional<std::int64_t> gpu_only_b1;
  std::vector<std::string> binding;
  /// The gain over the GPU-only baseline, (throughput / gpu_only - 1) * 100, when both exist.
  std::optional<Rational> gain_percent;
  Int128 gpu_only_n{0}, gpu_only_d{0};  ///< gpu_only_tokens_per_s before reduction (to skip an equal one)
  Int128 gpu_only_reduced_n{0}, gpu_only_reduced_d{1};  ///< and in lowest terms
};

enum class FastStatus {
  kSolved,         ///< `out` holds the answer (optimal or infeasible)
  kError,          ///< `error` holds why the instance cannot be solved
  kNotApplicable,  ///< another model or domain, options that ask for the solver's path or the
                   ///< relaxation bound, three free columns after presolve, or a number beyond
                   ///< 128 bits: the general solver runs instead and returns the same answer
};

/// The fast solve of the seed model in the integer domain, without the explained
/// certificate; `extras` (when not null) also receives the GPU-only baseline and the
/// binding rows. Not re-entrant within one thread (it reuses thread-local buffers).
FastStatus fast_solve(const Params& p, const SolveOptions& options, SolveResult& out, Error& error,
                      FastExtras* extras = nullptr);

}  // namespace lorasplit::detail
