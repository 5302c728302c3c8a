#pragma once
// Internal integer form of a model: every row a·b <= h with integer a, every objective
// coefficient integer. Rows are kept with the exact right-hand side h_lp (for the
// continuous relaxation) and its floor h_int (valid for integer b since a is integer).

#include <lorasplit/model.hpp>
#include <lorasplit/rational.hpp>

#include <array>
#include <string>
#include <vector>

namespace lorasplit::detail {

struct IntRow {
  std::string name;
  std::array<Integer, 3> a;
  Rational h_lp;
  Integer h_int;
  bool removed{false};
};

struct IntProblem {
  std::vector<IntRow> rows;
  std::array<Integer, 3> p;  ///< numerator (tokens) times scale_n
  Integer p0;
  std::array<Integer, 3> q;  ///< denominator (seconds) times scale_d
  Integer q0;
  Integer scale_n, scale_d;  ///< true ratio = (p·b+p0)/(q·b+q0) * scale_d / scale_n
  std::array<bool, 3> fixed_zero{false, false, false};
  /// b_j = block * (offset_j + y_j): 1 for a column the case requires to be used (b_j >= one block).
  std::array<int, 3> offset{0, 0, 0};
};

/// lcm of the denominators of `values`.
Integer common_denominator(const std::vector<const Rational*>& values);

/// Scales every row and the objective of `model` to integers (exact, no rounding of the
/// left-hand sides; right-hand sides rounded down only in h_int). The columns are in
/// blocks: b_j = block * (offset_j + y_j), y >= 0, and the integer form is over y. A
/// column the model's support fixes to 0 is fixed_zero; one it requires has offset 1.
IntProblem to_integer_form(const Model& model, std::int64_t block);

/// Applies exact reductions; appends one human-readable line per reduction to `log`.
void presolve(IntProblem& problem, std::vector<std::string>& log);

/// Result of the 2-D integer subproblem oracle.
struct Point2 {
  Integer x, y;
  Integer value;  ///< u*x + v*y at the point
};

/// Maximises u*x + v*floor((h - a*x)/c) over integers x in [s, t] (c > 0, s <= t).
/// Returns the argmax (smallest i from the walk's start on ties) and the value.
Point2 max_linear_under_line(const Integer& s, const Integer& t, const Integer& a, const Integer& h,
                             const Integer& c, const Integer& u, const Integer& v);

/// Rows restricted to two free columns: a_x*x + a_y*y <= h, a_y >= 0.
struct Row2 {
  Integer ax, ay, h;
};

/// max u*x + v*y over integers 0 <= y, lo <= x <= hi, all rows (requires a_y >= 0 for every row,
/// and lo <= hi). Returns nullopt-like empty value via the flag when no row bounds y and v > 0.
struct Oracle2Result {
  bool unbounded{false};
  Point2 best;
};
Oracle2Result max_linear_2d(const std::vector<Row2>& rows, const Integer& lo, const Integer& hi, const Integer& u,
                            const Integer& v);

}  // namespace lorasplit::detail
