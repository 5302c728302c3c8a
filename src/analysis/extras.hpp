#pragma once
// What a sweep row shows besides the solve (docs/model.md §1.7, §3.10 item 5): the
// GPU-only baseline, the gain over it and the rows that bind, read from the integer forms
// of the lean solver's last solve. The same definitions as analyze(), in the solver's
// integer units (each integer row is a positive multiple of the model's row, and
// a·y <= floor(h) is a·y <= h for integer a·y), so the same figures.
#include <lorasplit/solve.hpp>

#include <optional>
#include <string>
#include <vector>

#include "solve/int128.hpp"
#include "solve/problem.hpp"

namespace lorasplit::detail {

/// The largest first-column batch (block units, offset not added) that every memory and
/// limit row of `pb` admits with the other columns at 0; nullopt when no row bounds it.
template <class I>
std::optional<I> first_column_cap(const BasicIntProblem<I>& pb);

/// The rows of `pb` that bind at `y` (block units): one more block on a column the row
/// charges would break it; case rows (which term is largest) are not limits.
template <class I>
void binding_rows(const BasicIntProblem<I>& pb, const std::vector<I>& y, std::vector<std::string>& out);

struct LeanExtras {
  std::optional<Rational> gpu_only_tokens_per_s;
  std::optional<std::int64_t> gpu_only_b1;
  std::optional<Rational> gain_percent;  ///< 100 (throughput / gpu_only - 1)
  std::vector<std::string> binding;
  // The GPU-only ratio before and after reduction, to skip reducing an equal one again;
  // the cap of the last narrow GPU-only case, for the same rows (their build stamps).
  Int128 gpu_n{0}, gpu_d{0}, gpu_rn{0}, gpu_rd{1};
  std::vector<std::uint64_t> cap_stamps;
  std::optional<Int128> cap;
};

/// The extras of `result`, the last solve of `solver` (its storage reused).
void lean_extras(const LeanSolver& solver, const SolveResult& result, LeanExtras& out);

}  // namespace lorasplit::detail
