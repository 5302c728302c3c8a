// The serving planner's branch and bound (src/serving/search.cpp, docs/model.md §9.7) on
// small random integer programs of its form (minimise t subject to integer rows a·x <= h
// over a box), against enumeration of every integer point: the optimum it returns is the
// least value strictly below the incumbent given, its tree closes, and the reduced-cost
// fixing that shrinks its nodes' boxes moves bounds without losing that optimum.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <vector>

#include "serving/program.hpp"

namespace lorasplit {
namespace {

struct SmallProgram {
  detail::ServingStageMip mip;
  std::vector<std::int64_t> upper;  // of the integer variables
};

// Integer variables x_0..x_{k-1} in [0, u_j], the real t last: rows a·x - c t <= h with
// c in 1..3 (t is at least each (a·x - h) / c) and, now and then, a row without t that
// some points fail, or one without any coefficient.
SmallProgram random_program(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> vars(2, 4), ub(1, 4), coef(-6, 6), tc(1, 3), rows(2, 5), rhs(-6, 10);
  SmallProgram sp;
  const int k = vars(rng);
  const auto n = static_cast<std::size_t>(k + 1);
  for (int j = 0; j < k; ++j) sp.upper.push_back(ub(rng));
  const int m = rows(rng);
  for (int i = 0; i < m; ++i) {
    std::vector<Integer> a(n, Integer(0));
    for (int j = 0; j < k; ++j) a[static_cast<std::size_t>(j)] = coef(rng);
    const bool pure = i > 0 && rng() % 4 == 0;
    a[n - 1] = pure ? 0 : -tc(rng);
    sp.mip.a.push_back(a);
    sp.mip.h.emplace_back(pure ? rhs(rng) + 8 : rhs(rng));
  }
  // Now and then a row without coefficients: 0 <= h, which holds or empties the program.
  if (rng() % 8 == 0) {
    sp.mip.a.emplace_back(n, Integer(0));
    sp.mip.h.emplace_back(rng() % 3 == 0 ? -1 : 2);
  }
  for (const auto u : sp.upper) sp.mip.upper.emplace_back(static_cast<long>(u));
  sp.mip.upper.emplace_back(0);
  sp.mip.priority.assign(n, 1);
  sp.mip.priority[n - 1] = 0;
  sp.mip.stage_time = n - 1;
  sp.mip.classes = 1;
  return sp;
}

// The least t of the integer point x (its rows without t must hold): max(0, max over the
// rows with t of (a·x - h) / c); nothing when it fails a row.
std::optional<Rational> point_value(const detail::ServingStageMip& mip, const std::vector<Integer>& x) {
  Rational t = 0;
  const std::size_t n = mip.upper.size();
  for (std::size_t i = 0; i < mip.a.size(); ++i) {
    Integer s = 0;
    for (std::size_t j = 0; j + 1 < n; ++j) s += mip.a[i][j] * x[j];
    const Integer& c = mip.a[i][n - 1];
    if (c == 0) {
      if (s > mip.h[i]) return std::nullopt;
      continue;
    }
    const Rational need = Rational(s - mip.h[i]) / Rational(-c);
    if (need > t) t = need;
  }
  return t;
}

// Every integer point of the box, with its value.
template <typename F>
void for_each_point(const std::vector<std::int64_t>& upper, F&& f) {
  std::vector<Integer> x(upper.size() + 1, Integer(0));
  while (true) {
    f(x);
    std::size_t j = 0;
    while (j < upper.size() && x[j] == Integer(static_cast<long>(upper[j]))) x[j++] = 0;
    if (j == upper.size()) return;
    x[j] += 1;
  }
}

TEST(ServingSearch, TheOptimumBelowTheIncumbentIsThatOfEnumeration) {
  std::mt19937_64 rng(41);
  long fixed = 0, found = 0, nodes = 0, empty = 0;
  for (int inst = 0; inst < 400; ++inst) {
    const SmallProgram sp = random_program(rng);
    std::optional<Rational> best;
    Rational top = 0;
    std::vector<Rational> values;
    for_each_point(sp.upper, [&](const std::vector<Integer>& x) {
      const auto v = point_value(sp.mip, x);
      if (!v) return;
      values.push_back(*v);
      if (!best || *v < *best) best = *v;
      if (*v > top) top = *v;
    });
    if (!best) ++empty;
    const Rational upper = top + 1;
    // The incumbent: above every point, or the value of one of them (only strictly better
    // points are searched for).
    Rational incumbent = upper;
    if (!values.empty() && inst % 2 == 1) incumbent = values[static_cast<std::size_t>(rng() % values.size())];
    const detail::StagePointValue value = [&](const std::vector<Integer>& x, const Rational*) {
      return point_value(sp.mip, x);
    };
    const bool fixing = inst % 4 != 3;  // a quarter without reduced-cost fixing
    const auto res = detail::search_stage(sp.mip, upper, incumbent, value, Rational(0), 0, fixing);
    ASSERT_TRUE(res.complete) << inst;
    if (!fixing) {
      EXPECT_EQ(res.fixed_bounds, 0L) << inst;
    }
    if (best && *best < incumbent) {
      ASSERT_TRUE(res.found) << "instance " << inst << ": enumeration has " << *best << " below " << incumbent;
      EXPECT_EQ(res.value, *best) << "instance " << inst;
      const auto again = point_value(sp.mip, res.x);
      ASSERT_TRUE(again.has_value()) << inst;
      EXPECT_EQ(*again, *best) << inst;
      ++found;
    } else {
      EXPECT_FALSE(res.found) << "instance " << inst;
      EXPECT_EQ(res.value, incumbent) << inst;
    }
    EXPECT_EQ(res.bound, res.value) << inst;  // a closed tree proves its answer
    fixed += res.fixed_bounds;
    nodes += res.nodes;
  }
  EXPECT_GT(found, 150);  // most instances have a point below their incumbent
  EXPECT_GT(empty, 5);    // and some none at all
  EXPECT_GT(fixed, 10);   // the fixing is exercised, and loses nothing above
  std::printf("search on small programs: %ld nodes, %ld bounds fixed by reduced costs\n", nodes, fixed);
}

}  // namespace
}  // namespace lorasplit
