#pragma once
// A small linear program in double precision, solved by the bounded dual simplex method
// with an explicit dense basis inverse (docs/model.md §9.7): minimise c·x subject to
// lower_i <= a_i·x <= h_i (lower_i = -inf unless set) and lo <= x <= up, every bound of x
// finite. It only proposes: the serving planner's branch and bound takes its row duals,
// its basis and its Farkas rows as multipliers whose bounds it computes exactly, so
// rounding here can weaken a bound, never falsify one.
//
// Built for the planner's per-node LPs (tens of rows, tens of columns, re-solved
// thousands of times with changed bounds, right-hand sides and a few changed columns):
// each row's slack s_i = h_i - a_i·x is boxed too, in [0, min(h_i - lower_i, 2 s + 1)]
// with s the largest slack the box allows (a bound no optimal basis holds a slack at), so
// any basis is made dual feasible by putting each nonbasic variable at the bound its
// reduced cost pulls towards, and each solve continues from the basis before.
#include <cstddef>
#include <utility>
#include <vector>

namespace lorasplit::detail {

class DenseLp {
 public:
  enum class Status { kOptimal, kInfeasible, kIterationLimit, kFailed };

  /// `rows` rows a·x <= 0 over `cols` variables in [0, 0], cost 0; the slack basis.
  DenseLp(std::size_t rows, std::size_t cols);

  /// Replaces column j's coefficients (pairs of row and value; the others 0).
  void set_column(std::size_t j, const std::vector<std::pair<std::size_t, double>>& entries);
  /// Row i: lower <= a_i·x <= h (lower = -infinity: no lower side).
  void set_row(std::size_t i, double lower, double h);
  void set_bounds(std::size_t j, double lo, double up);
  void set_cost(std::size_t j, double c);

  /// Solves from the current basis, and once more from the slack basis when that fails
  /// (non-finite values, a drifted inverse, cycling); at most `iteration_limit` pivots per
  /// try (< 0: no limit but a safeguard against cycling, which then reports kFailed).
  Status solve(long iteration_limit = -1);
  /// Drops the basis: the next solve starts from the slack basis.
  void reset_basis();

  /// After kOptimal (or kIterationLimit: the basis reached, dual feasible): c·x, the
  /// point, the basis, and each row's slack's reduced cost d_i: c = -A^T d + the columns'
  /// reduced costs, so d_i >= 0 is the multiplier of a_i·x <= h_i and -d_i >= 0 that of
  /// a_i·x >= lower_i.
  [[nodiscard]] double value() const;
  [[nodiscard]] double x(std::size_t j) const;
  [[nodiscard]] double row_dual(std::size_t i) const { return d_[n_ + i]; }
  [[nodiscard]] bool col_basic(std::size_t j) const { return pos_[j] >= 0; }
  [[nodiscard]] bool row_basic(std::size_t i) const { return pos_[n_ + i] >= 0; }
  /// Whether row i's slack is nonbasic at its upper bound (a_i·x at its lower side; for a
  /// fixed slack, an equality row, whether its reduced cost makes the lower side the one
  /// its multiplier belongs to).
  [[nodiscard]] bool row_at_lower(std::size_t i) const {
    const std::size_t k = n_ + i;
    if (pos_[k] >= 0) return false;
    return up_[k] > lo_[k] ? at_up_[k] != 0 : d_[k] < 0;
  }
  /// After kInfeasible: the row of the basis inverse at the basic variable that could not
  /// be brought into its bounds (per row of A; a Farkas certificate up to its sign).
  [[nodiscard]] const std::vector<double>& farkas_row() const { return ray_; }
  [[nodiscard]] long pivots() const { return pivots_; }

 private:
  [[nodiscard]] double nonbasic_value(std::size_t v) const { return at_up_[v] != 0 ? up_[v] : lo_[v]; }
  // B^-1 times column k of [A I] into col_.
  void column(std::size_t k);
  // B^-1 and the basis after column q (in col_ = B^-1 [A I]_q) enters at row r.
  void update_inverse(std::size_t r, std::size_t q);
  void reinvert();
  Status solve_once(long iteration_limit);
  void refresh_costs();
  void refresh_values();
  void refresh_slack_bounds();

  std::size_t m_, n_, w_;                                      // rows, structural columns, m + n
  std::vector<std::vector<std::pair<std::size_t, double>>> a_;  // per column, its nonzeros
  std::vector<double> h_, lower_, c_;                          // rows' sides; costs (structural)
  std::vector<double> lo_, up_;   // bounds of all n + m variables (slacks: see above)
  std::vector<double> binv_;      // m x m, row-major: B^-1
  std::vector<double> beta_;      // values of the basic variables, per row
  std::vector<double> d_;         // reduced costs, per variable
  std::vector<double> alpha_;     // scratch: the pivot row of B^-1 [A I]
  std::vector<double> col_;       // scratch: a column of B^-1 [A I]
  std::vector<double> work_;      // scratch
  std::vector<std::size_t> cand_; // scratch: the columns that may enter
  std::vector<std::size_t> nz_;   // scratch: a row's nonzeros
  std::vector<std::size_t> basis_;
  std::vector<long> pos_;         // row of a basic variable, -1 when nonbasic
  std::vector<char> at_up_;       // nonbasic at its upper bound
  std::vector<double> ray_;
  bool stale_{true};              // B^-1 must be rebuilt from A and the basis
  long since_invert_{0};
  long pivots_{0};
};

}  // namespace lorasplit::detail
