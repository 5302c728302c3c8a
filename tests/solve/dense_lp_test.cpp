// The dense bounded dual simplex in double precision (src/solve/dense_lp.hpp) against the
// exact rational LP (BoxLp) on random instances, re-solved from the basis before after
// changes of bounds, sides and whole columns: the same verdict and value, row duals that
// make a Lagrangian bound equal to the value, Farkas rows that prove emptiness, and an
// iteration limit that stops at a lower bound.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "solve/dense_lp.hpp"
#include "solve/simplex.hpp"

namespace lorasplit::detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// min c·x subject to lower <= A x <= h, lo <= x <= up (integers; lower may be -inf).
struct Lp {
  std::size_t m{0}, n{0};
  std::vector<std::vector<long>> a;  // m x n
  std::vector<double> lower, h;
  std::vector<long> lo, up, c;
};

Lp random_lp(std::mt19937_64& rng) {
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  Lp lp;
  lp.m = static_cast<std::size_t>(pick(2, 12));
  lp.n = static_cast<std::size_t>(pick(2, 12));
  lp.a.assign(lp.m, std::vector<long>(lp.n, 0));
  for (auto& row : lp.a) {
    for (auto& v : row) v = pick(0, 2) == 0 ? pick(-9, 9) : 0;
  }
  for (std::size_t i = 0; i < lp.m; ++i) {
    lp.h.push_back(static_cast<double>(pick(-10, 30)));
    lp.lower.push_back(pick(0, 3) == 0 ? lp.h.back() - static_cast<double>(pick(0, 12)) : -kInf);
  }
  for (std::size_t j = 0; j < lp.n; ++j) {
    lp.lo.push_back(-pick(0, 4));
    lp.up.push_back(lp.lo.back() + pick(0, 9));
    lp.c.push_back(pick(-5, 5));
  }
  return lp;
}

std::vector<std::pair<std::size_t, double>> column_of(const Lp& lp, std::size_t j) {
  std::vector<std::pair<std::size_t, double>> col;
  for (std::size_t i = 0; i < lp.m; ++i) {
    if (lp.a[i][j] != 0) col.emplace_back(i, static_cast<double>(lp.a[i][j]));
  }
  return col;
}

// The exact optimum (min c·x), or nothing when the LP is empty.
std::optional<Rational> exact_min(const Lp& lp) {
  std::vector<std::vector<Integer>> a;
  std::vector<Integer> h;
  for (std::size_t i = 0; i < lp.m; ++i) {
    std::vector<Integer> row(lp.n), neg(lp.n);
    for (std::size_t j = 0; j < lp.n; ++j) {
      row[j] = lp.a[i][j];
      neg[j] = -lp.a[i][j];
    }
    a.push_back(row);
    h.emplace_back(static_cast<long>(lp.h[i]));
    if (std::isfinite(lp.lower[i])) {
      a.push_back(neg);
      h.emplace_back(-static_cast<long>(lp.lower[i]));
    }
  }
  std::vector<Rational> lo, up;
  std::vector<Integer> c;
  for (std::size_t j = 0; j < lp.n; ++j) {
    lo.emplace_back(lp.lo[j]);
    up.emplace_back(lp.up[j]);
    c.emplace_back(-lp.c[j]);
  }
  BoxLp exact(a, h, lo, up);
  exact.set_objective(c);
  if (exact.solve() != BoxLp::Status::kOptimal) return std::nullopt;
  return Rational(-exact.value());
}

// -sum u h + sum v lower + sum_j min(r_j lo_j, r_j up_j) with r = c·objective + A^T (u - v),
// u = max(y, 0) on the rows' upper sides, v = max(-y, 0) on their lower sides (0 without
// one): a lower bound on c·x (objective) or, above 0, a proof that no x exists.
double lagrangian(const Lp& lp, const std::vector<double>& y, bool objective) {
  std::vector<double> r(lp.n, 0.0);
  double sum = 0;
  if (objective) {
    for (std::size_t j = 0; j < lp.n; ++j) r[j] = static_cast<double>(lp.c[j]);
  }
  for (std::size_t i = 0; i < lp.m; ++i) {
    double w = y[i];
    if (w < 0 && !std::isfinite(lp.lower[i])) w = 0;
    if (w > 0) sum -= w * lp.h[i];
    if (w < 0) sum -= w * lp.lower[i];
    for (std::size_t j = 0; j < lp.n; ++j) r[j] += w * static_cast<double>(lp.a[i][j]);
  }
  for (std::size_t j = 0; j < lp.n; ++j) {
    sum += std::min(r[j] * static_cast<double>(lp.lo[j]), r[j] * static_cast<double>(lp.up[j]));
  }
  return sum;
}

void load(DenseLp& d, const Lp& lp) {
  for (std::size_t j = 0; j < lp.n; ++j) {
    d.set_bounds(j, static_cast<double>(lp.lo[j]), static_cast<double>(lp.up[j]));
  }
  for (std::size_t i = 0; i < lp.m; ++i) d.set_row(i, lp.lower[i], lp.h[i]);
}

TEST(DenseLp, AgreesWithTheExactSimplexAcrossWarmStartedChanges) {
  std::mt19937_64 rng(20261207);
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  int optimal = 0, empty = 0, proved_empty = 0, ranged_at_side = 0;
  for (int inst = 0; inst < 250; ++inst) {
    Lp lp = random_lp(rng);
    DenseLp d(lp.m, lp.n);
    for (std::size_t j = 0; j < lp.n; ++j) {
      d.set_column(j, column_of(lp, j));
      d.set_cost(j, static_cast<double>(lp.c[j]));
    }
    for (int round = 0; round < 8; ++round) {
      load(d, lp);
      const auto st = d.solve();
      const auto want = exact_min(lp);
      ASSERT_NE(st, DenseLp::Status::kFailed) << "instance " << inst << " round " << round;
      ASSERT_EQ(st == DenseLp::Status::kOptimal, want.has_value()) << "instance " << inst << " round " << round;
      if (want) {
        ++optimal;
        const double v = want->get_d();
        EXPECT_NEAR(d.value(), v, 1e-7 * (1 + std::abs(v))) << "instance " << inst << " round " << round;
        // The point is in its box and meets the rows.
        for (std::size_t j = 0; j < lp.n; ++j) {
          EXPECT_GE(d.x(j), static_cast<double>(lp.lo[j]) - 1e-7);
          EXPECT_LE(d.x(j), static_cast<double>(lp.up[j]) + 1e-7);
        }
        for (std::size_t i = 0; i < lp.m; ++i) {
          double ax = 0;
          for (std::size_t j = 0; j < lp.n; ++j) ax += static_cast<double>(lp.a[i][j]) * d.x(j);
          EXPECT_LE(ax, lp.h[i] + 1e-7);
          if (std::isfinite(lp.lower[i])) {
            EXPECT_GE(ax, lp.lower[i] - 1e-7);
            // A two-sided row whose slack is nonbasic is at the side the basis says.
            if (!d.row_basic(i)) {
              EXPECT_NEAR(ax, d.row_at_lower(i) ? lp.lower[i] : lp.h[i], 1e-7) << "instance " << inst;
              ++ranged_at_side;
            }
          }
        }
        // The row duals' Lagrangian bound is the value.
        std::vector<double> y(lp.m);
        for (std::size_t i = 0; i < lp.m; ++i) y[i] = d.row_dual(i);
        EXPECT_NEAR(lagrangian(lp, y, true), v, 1e-6 * (1 + std::abs(v))) << "instance " << inst;
      } else {
        ++empty;
        // The Farkas row, with one of its signs, proves that no point exists.
        std::vector<double> y = d.farkas_row();
        ASSERT_EQ(y.size(), lp.m);
        bool proved = lagrangian(lp, y, false) > 1e-9;
        for (auto& v : y) v = -v;
        proved = proved || lagrangian(lp, y, false) > 1e-9;
        if (proved) ++proved_empty;
      }
      // Changes for the next round: a bound, a row's sides, sometimes a whole column.
      const auto j = static_cast<std::size_t>(pick(0, static_cast<long>(lp.n) - 1));
      lp.lo[j] = -pick(0, 4);
      lp.up[j] = lp.lo[j] + pick(0, 9);
      const auto i = static_cast<std::size_t>(pick(0, static_cast<long>(lp.m) - 1));
      lp.h[i] = static_cast<double>(pick(-10, 30));
      lp.lower[i] = pick(0, 3) == 0 ? lp.h[i] - static_cast<double>(pick(0, 12)) : -kInf;
      if (pick(0, 1) == 0) {
        const auto k = static_cast<std::size_t>(pick(0, static_cast<long>(lp.n) - 1));
        for (std::size_t r = 0; r < lp.m; ++r) lp.a[r][k] = pick(0, 2) == 0 ? pick(-9, 9) : 0;
        d.set_column(k, column_of(lp, k));
      }
    }
  }
  // Enough of both verdicts to mean something; nearly every emptiness proved by its row.
  EXPECT_GT(optimal, 500);
  EXPECT_GT(ranged_at_side, 50);
  EXPECT_GT(empty, 200);
  EXPECT_GE(proved_empty * 100, empty * 95);
}

TEST(DenseLp, AnIterationLimitStopsAtALowerBound) {
  std::mt19937_64 rng(7);
  int limited = 0;
  for (int inst = 0; inst < 200; ++inst) {
    const Lp lp = random_lp(rng);
    const auto want = exact_min(lp);
    if (!want) continue;
    DenseLp d(lp.m, lp.n);
    for (std::size_t j = 0; j < lp.n; ++j) {
      d.set_column(j, column_of(lp, j));
      d.set_cost(j, static_cast<double>(lp.c[j]));
    }
    load(d, lp);
    const auto st = d.solve(1);
    if (st != DenseLp::Status::kIterationLimit) continue;
    ++limited;
    // Dual feasible throughout: the objective of the basis reached is below the optimum.
    EXPECT_LE(d.value(), want->get_d() + 1e-7 * (1 + std::abs(want->get_d())));
    EXPECT_EQ(d.pivots(), 1);
    // And the solve goes on from there to the optimum.
    ASSERT_EQ(d.solve(), DenseLp::Status::kOptimal);
    EXPECT_NEAR(d.value(), want->get_d(), 1e-7 * (1 + std::abs(want->get_d())));
  }
  EXPECT_GT(limited, 20);
}

TEST(DenseLp, ResetStartsAgainFromTheSlackBasis) {
  // min -x0 - x1, x0 + x1 <= 3, 0 <= x <= 2: value -3.
  DenseLp d(1, 2);
  d.set_column(0, {{0, 1.0}});
  d.set_column(1, {{0, 1.0}});
  d.set_cost(0, -1);
  d.set_cost(1, -1);
  d.set_bounds(0, 0, 2);
  d.set_bounds(1, 0, 2);
  d.set_row(0, -kInf, 3);
  ASSERT_EQ(d.solve(), DenseLp::Status::kOptimal);
  EXPECT_DOUBLE_EQ(d.value(), -3);
  EXPECT_FALSE(d.row_basic(0));
  EXPECT_DOUBLE_EQ(d.row_dual(0), 1);  // c = -A^T y + d: y = 1 on the row
  d.reset_basis();
  EXPECT_TRUE(d.row_basic(0));
  ASSERT_EQ(d.solve(), DenseLp::Status::kOptimal);
  EXPECT_DOUBLE_EQ(d.value(), -3);
  // A lower side that no point reaches: empty.
  d.set_row(0, 5, 6);
  EXPECT_EQ(d.solve(), DenseLp::Status::kInfeasible);
}

}  // namespace
}  // namespace lorasplit::detail
