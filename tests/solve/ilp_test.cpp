// The general small-dimension integer oracle (src/solve/ilp.cpp) against brute force,
// and against the 2-D lattice walk on seed-shaped thin polygons with large numbers.
#include <gtest/gtest.h>

#include <random>

#include "solve/ilp.hpp"
#include "support/reference.hpp"
#include "solve/problem.hpp"

namespace lorasplit::detail {
namespace {

struct Brute {
  bool feasible{false};
  Integer value;
};

// Tries every integer point of the box [-B, B]^n (the instances keep their polytopes inside it).
Brute brute(const std::vector<RowN>& rows, std::size_t n, const VecN& c, long box) {
  Brute out;
  std::array<long, 3> t{0, 0, 0};
  const auto visit = [&](const auto& self, std::size_t j) -> void {
    if (j == n) {
      for (const auto& r : rows) {
        Integer lhs = 0;
        for (std::size_t i = 0; i < n; ++i) lhs += r.a[i] * t[i];
        if (lhs > r.h) return;
      }
      Integer v = 0;
      for (std::size_t i = 0; i < n; ++i) v += c[i] * t[i];
      if (!out.feasible || v > out.value) out.value = v;
      out.feasible = true;
      return;
    }
    for (t[j] = -box; t[j] <= box; ++t[j]) self(self, j + 1);
  };
  visit(visit, 0);
  return out;
}

void check_point(const std::vector<RowN>& rows, std::size_t n, const VecN& c, const IlpResult& got) {
  Integer v = 0;
  for (std::size_t i = 0; i < n; ++i) v += c[i] * got.t[i];
  EXPECT_EQ(v, got.value);
  for (const auto& r : rows) {
    Integer lhs = 0;
    for (std::size_t i = 0; i < n; ++i) lhs += r.a[i] * got.t[i];
    EXPECT_LE(lhs, r.h);
  }
}

std::vector<RowN> random_instance(std::mt19937_64& rng, std::size_t n, long box, int extra_rows, long coef) {
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  std::vector<RowN> rows;
  for (std::size_t j = 0; j < n; ++j) {  // the box keeps the polytope bounded and brute-forceable
    RowN up, down;
    up.a = {0, 0, 0};
    down.a = {0, 0, 0};
    up.a[j] = 1;
    down.a[j] = -1;
    up.h = pick(-box / 2, box);
    down.h = pick(-box / 2, box);
    rows.push_back(up);
    rows.push_back(down);
  }
  for (int i = 0; i < extra_rows; ++i) {
    RowN r;
    r.a = {0, 0, 0};
    for (std::size_t j = 0; j < n; ++j) r.a[j] = pick(-coef, coef);
    r.h = pick(-coef * box / 2, coef * box);
    rows.push_back(r);
  }
  return rows;
}

TEST(Ilp, MatchesBruteForce2D) {
  std::mt19937_64 rng(7);
  int feasible = 0;
  for (int trial = 0; trial < 3000 / testing::kSanitizerDivisor; ++trial) {
    const auto rows = random_instance(rng, 2, 30, 1 + trial % 5, 1 + trial % 40);
    const VecN c{std::uniform_int_distribution<long>(-50, 50)(rng), std::uniform_int_distribution<long>(-50, 50)(rng), 0};
    const IlpResult got = max_linear_nd(rows, 2, c);
    const Brute want = brute(rows, 2, c, 31);
    ASSERT_FALSE(got.unbounded);
    ASSERT_EQ(got.feasible, want.feasible) << "trial " << trial;
    if (!want.feasible) continue;
    ++feasible;
    ASSERT_EQ(got.value, want.value) << "trial " << trial;
    check_point(rows, 2, c, got);
    const IlpResult bisected = max_linear_nd(rows, 2, c, 0);  // bisection from the first point on
    ASSERT_EQ(bisected.value, want.value) << "trial " << trial;
    check_point(rows, 2, c, bisected);
  }
  EXPECT_GT(feasible, 1000 / testing::kSanitizerDivisor);
}

TEST(Ilp, MatchesBruteForce3D) {
  std::mt19937_64 rng(11);
  int feasible = 0;
  for (int trial = 0; trial < 800 / testing::kSanitizerDivisor; ++trial) {
    const auto rows = random_instance(rng, 3, 10, 1 + trial % 6, 1 + trial % 25);
    const VecN c{std::uniform_int_distribution<long>(-30, 30)(rng), std::uniform_int_distribution<long>(-30, 30)(rng),
                 std::uniform_int_distribution<long>(-30, 30)(rng)};
    const IlpResult got = max_linear_nd(rows, 3, c);
    const Brute want = brute(rows, 3, c, 11);
    ASSERT_FALSE(got.unbounded);
    ASSERT_EQ(got.feasible, want.feasible) << "trial " << trial;
    if (!want.feasible) continue;
    ++feasible;
    ASSERT_EQ(got.value, want.value) << "trial " << trial;
    check_point(rows, 3, c, got);
    const IlpResult bisected = max_linear_nd(rows, 3, c, 0);
    ASSERT_EQ(bisected.value, want.value) << "trial " << trial;
    check_point(rows, 3, c, bisected);
  }
  EXPECT_GT(feasible, 200 / testing::kSanitizerDivisor);
}

// Thin polygons with no integer point in their middle: a strip 0 <= p x - q y <= s of
// width s/|(p,q)| << 1, cut by a box. Brute force over the box.
TEST(Ilp, ThinStripsMatchBruteForce) {
  std::mt19937_64 rng(3);
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  for (int trial = 0; trial < 600 / testing::kSanitizerDivisor; ++trial) {
    const long p = pick(1, 97), q = pick(1, 97), s = pick(0, 3);
    std::vector<RowN> rows = {
        {{p, -q, 0}, s}, {{-p, q, 0}, 0}, {{1, 0, 0}, 60}, {{-1, 0, 0}, 0}, {{0, 1, 0}, 60}, {{0, -1, 0}, 0}};
    const VecN c{pick(-9, 9), pick(-9, 9), 0};
    const IlpResult got = max_linear_nd(rows, 2, c);
    const Brute want = brute(rows, 2, c, 61);
    ASSERT_EQ(got.feasible, want.feasible);
    if (want.feasible) {
      ASSERT_EQ(got.value, want.value) << p << " " << q << " " << s;
      check_point(rows, 2, c, got);
    }
  }
}

// Seed-shaped 2-D problems (x = b1 up to ~1e7, y = b3, rows bounding y from above) with
// big coefficients: the lattice walk and the general oracle agree.
TEST(Ilp, AgreesWithTheLatticeWalkOnLargeSeedShapedPolygons) {
  std::mt19937_64 rng(5);
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  for (int trial = 0; trial < 200; ++trial) {
    // sync: (xi+kappa) y - gamma x <= -L ; memory: x + y <= M
    const Integer g = pick(1000, 100000), k = pick(100000, 10000000), l = pick(0, 100000000);
    const Integer mem = pick(1000000, 20000000);
    std::vector<Row2> rows2 = {{-g, k, -l}, {1, 1, mem}};
    Integer lo;
    mpz_cdiv_q(lo.get_mpz_t(), Integer(-l).get_mpz_t(), Integer(-g).get_mpz_t());
    if (lo < 0) lo = 0;
    if (lo > mem) continue;
    const Integer u = pick(-1000000, 1000000), v = pick(1, 1000000000);
    const auto walk = max_linear_2d(rows2, lo, mem, u, v);
    std::vector<RowN> rows = {{{-g, k, 0}, -l}, {{1, 1, 0}, mem}, {{-1, 0, 0}, 0}, {{0, -1, 0}, 0}};
    const IlpResult got = max_linear_nd(rows, 2, VecN{u, v, 0});
    ASSERT_TRUE(got.feasible);
    ASSERT_EQ(got.value, walk.best.value) << "trial " << trial;
    ASSERT_EQ(max_linear_nd(rows, 2, VecN{u, v, 0}, 0).value, walk.best.value) << "trial " << trial;
  }
}

TEST(Ilp, ReportsUnboundedPolyhedra) {
  const std::vector<RowN> rows = {{{-1, 0, 0}, 0}, {{0, -1, 0}, 0}, {{1, -1, 0}, 5}};
  EXPECT_TRUE(max_linear_nd(rows, 2, VecN{1, 1, 0}).unbounded);
  const std::vector<RowN> line = {{{1, 1, 1}, 5}, {{-1, -1, -1}, 0}, {{1, 0, 0}, 2}, {{-1, 0, 0}, 0}};
  EXPECT_TRUE(max_linear_nd(line, 3, VecN{0, 0, 0}).unbounded);
}

}  // namespace
}  // namespace lorasplit::detail
