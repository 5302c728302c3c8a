#pragma once
// An exact linear program over a box (docs/model.md §3.11): maximise c·x subject to
// A x <= h and lo <= x <= up, every bound finite, in rational arithmetic. Solved by the
// bounded dual simplex method from the slack basis, which is dual feasible for any c when
// every variable is boxed (a nonbasic variable sits at its upper bound when its cost is
// positive, at its lower bound otherwise). Bland's rule (smallest index) picks the
// leaving and the entering variable, so the method terminates on degenerate problems.
// A bound can be changed after a solve and the solve resumed from the last basis (the
// basis stays dual feasible): that is what branch and bound does at each node.
#include <lorasplit/rational.hpp>

#include <cstddef>
#include <vector>

namespace lorasplit::detail {

class BoxLp {
 public:
  enum class Status { kOptimal, kInfeasible };

  /// Rows a[i]·x <= h[i] over n = lo.size() variables; lo[j] <= up[j].
  BoxLp(const std::vector<std::vector<Integer>>& a, const std::vector<Integer>& h, std::vector<Rational> lo,
        std::vector<Rational> up);

  /// Sets the objective and restarts from the slack basis.
  void set_objective(const std::vector<Integer>& c);
  /// Changes the bounds of variable j (keeps the basis; the next solve() repairs it).
  void set_bounds(std::size_t j, const Rational& lo, const Rational& up);
  [[nodiscard]] const Rational& lower(std::size_t j) const { return lo_[j]; }
  [[nodiscard]] const Rational& upper(std::size_t j) const { return up_[j]; }

  /// Puts every nonbasic variable at the bound its reduced cost pulls towards, so that the
  /// basis is dual feasible again after bounds were widened (a variable fixed by branching
  /// keeps whatever reduced cost the pivots gave it; freed in another node, it may sit on
  /// the wrong bound). Changes the values of the basic variables accordingly.
  void restore_dual_feasibility();

  Status solve();
  /// The optimum's value and point (after solve() returned kOptimal).
  [[nodiscard]] Rational value() const;
  [[nodiscard]] Rational x(std::size_t j) const;
  [[nodiscard]] std::size_t variables() const { return n_; }
  [[nodiscard]] long pivots() const { return pivots_; }

 private:
  void pivot(std::size_t r, std::size_t q, const Rational& target);
  [[nodiscard]] const Rational& nonbasic_value(std::size_t v) const;

  std::size_t n_, m_;                    // structural variables, rows (one slack each)
  std::vector<std::vector<Rational>> t_; // m x (n + m): B^-1 [A I]
  std::vector<Rational> val_;            // value of the basic variable of each row
  std::vector<std::size_t> basis_;       // the basic variable of each row
  std::vector<int> row_of_;              // row of a basic variable, -1 when nonbasic
  std::vector<char> at_upper_;           // nonbasic at its upper bound (structural only)
  std::vector<Rational> d_;              // reduced costs (maximisation)
  std::vector<Rational> c_;              // the objective over the structural variables
  std::vector<Rational> lo_, up_;        // bounds of the structural variables
  std::vector<Rational> h_;
  std::vector<std::vector<Rational>> a_;
  Rational zero_{0};
  Rational ratio_, best_;  // the ratio test's scratch (kept to reuse their storage)
  long pivots_{0};
};

}  // namespace lorasplit::detail
