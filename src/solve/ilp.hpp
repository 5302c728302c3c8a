#pragma once
// Exact integer linear programming in dimension n <= 3 (docs/model.md §3.9): maximise
// c·t over integer t with rows a·t <= h (integer a, h), on a bounded polytope.
//
// Method: branch on lattice hyperplanes w·t = k (Lenstra's idea). At each node the
// polytope is cut by "c·t beats the incumbent", its vertices are enumerated exactly, a
// flat lattice direction w is chosen (basis reduction under the vertices' covariance,
// computed in floating point: the choice only affects speed, never correctness), and
// every integer k between the exact minimum and maximum of w·t over the vertices is a
// child in dimension n-1 (a unimodular change of variables keeps the lattice). When
// the incumbent improves the node re-cuts and re-chooses the direction, so the slices
// left to prove are those of a polytope that holds no better integer point, whose
// lattice width is bounded by a constant (the flatness theorem).

#include <lorasplit/rational.hpp>

#include <array>
#include <cstddef>
#include <optional>
#include <vector>

namespace lorasplit::detail {

using VecN = std::array<Integer, 3>;

/// a[0..n)·t <= h.
struct RowN {
  VecN a;
  Integer h;
};

struct IlpResult {
  bool unbounded{false};  ///< some direction is not bounded by the rows (caller's error)
  bool feasible{false};
  VecN t;                 ///< an optimal point (first n entries)
  Integer value;          ///< c·t at it
  long nodes{0};          ///< nodes visited (for the certificate and the benchmarks)
};

/// max c·t over integers t (entries 0..n-1; n in 1..3) with every row. Non-negativity,
/// if wanted, must be among the rows. A node that has re-cut `greedy_restarts` times
/// switches to bisection on the value (the tests set 0 to exercise that path everywhere).
/// With `beat`, only points of value > beat are searched for: infeasible then means none.
IlpResult max_linear_nd(const std::vector<RowN>& rows, std::size_t n, const VecN& c, int greedy_restarts = 8,
                        const std::optional<Integer>& beat = std::nullopt);

}  // namespace lorasplit::detail
