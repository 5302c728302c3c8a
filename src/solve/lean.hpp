#pragma once
// The state a LeanSolver keeps between calls (docs/model.md §3.10), and read access to
// its last solve for the analysis helpers that sweeps use (the GPU-only baseline and the
// binding rows come from the same integer forms).
#include <lorasplit/solve.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "solve/intform.hpp"
#include "solve/problem.hpp"

namespace lorasplit::detail {

/// One case's integer form at the last solve, in 128 bits or (when they did not suffice) GMP.
struct LeanCase {
  bool built{false};
  bool wide{false};
  BasicIntProblem<Int128> narrow;
  BasicIntProblem<Integer> general;
  std::vector<std::uint64_t> narrow_stamps, general_stamps;  ///< IntegerForms::build's
  PresolveMemo memo;  ///< presolve's, for the narrow forms
};

struct LeanState {
  std::uint64_t structure{~std::uint64_t{0}};  ///< the model and switches the formulation was built for
  std::shared_ptr<const CompiledFormulation> compiled;
  std::optional<IntegerForms<Int128>> forms128;
  std::optional<IntegerForms<Integer>> forms_gmp;
  ParamValues<Int128> v128;
  ParamValues<Integer> vgmp;
  std::vector<LeanCase> cases;
  std::int64_t block{1};
  std::optional<std::size_t> best_case;  ///< the case that holds the last optimum
  std::vector<Int128> best_y128;         ///< its optimum in block units (narrow)
  std::vector<Integer> best_y;           ///< (wide)
};

struct LeanAccess {
  static const LeanState& state(const LeanSolver& solver) { return *solver.state_; }
};

/// The index of the case whose plans use the first column alone (the GPU-only plans of
/// the seed and pipeline models), or nullopt.
std::optional<std::size_t> gpu_only_case(const SymFormulation& f);

}  // namespace lorasplit::detail
