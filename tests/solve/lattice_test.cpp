// The lattice walk and the 2-D oracle against brute force.
#include <gtest/gtest.h>

#include <random>

#include "solve/problem.hpp"

namespace lorasplit::detail {
namespace {

// max over x in [s,t] of u x + v floor((h - a x)/c), by trying every x.
Integer brute_max(const Integer& s, const Integer& t, const Integer& a, const Integer& h, const Integer& c,
                  const Integer& u, const Integer& v) {
  Integer best;
  for (Integer x = s; x <= t; ++x) {
    const Integer val = u * x + v * floor_div(h - a * x, c);
    if (x == s || val > best) best = val;
  }
  return best;
}

TEST(LatticeWalk, MatchesBruteForceOnSmallRandomLines) {
  std::mt19937_64 rng(12345);
  auto pick = [&rng](long lo, long hi) { return Integer(std::uniform_int_distribution<long>(lo, hi)(rng)); };
  for (int trial = 0; trial < 4000; ++trial) {
    const Integer s = pick(-20, 20);
    const Integer t = s + pick(0, 60);
    const Integer a = pick(-30, 30), h = pick(-200, 200), c = pick(1, 40);
    const Integer u = pick(-25, 25), v = pick(-25, 25);
    const Point2 p = max_linear_under_line(s, t, a, h, c, u, v);
    ASSERT_EQ(p.value, brute_max(s, t, a, h, c, u, v)) << "s=" << s << " t=" << t << " a=" << a << " h=" << h
                                                        << " c=" << c << " u=" << u << " v=" << v;
    // The returned point is on the walk and has the claimed value.
    ASSERT_GE(p.x, s);
    ASSERT_LE(p.x, t);
    ASSERT_EQ(p.y, floor_div(h - a * p.x, c));
    ASSERT_EQ(p.value, u * p.x + v * p.y);
  }
}

TEST(LatticeWalk, HugeCoefficientsShortWindow) {
  // Coefficients of the size the seed model produces (1e12..1e30), window of 3000 x.
  std::mt19937_64 rng(777);
  for (int trial = 0; trial < 60; ++trial) {
    Integer a, h, c, u, v, s;
    gmp_randclass r(gmp_randinit_default);
    r.seed(static_cast<unsigned long>(rng()));
    a = r.get_z_bits(90) - (Integer(1) << 89);
    h = r.get_z_bits(110);
    c = r.get_z_bits(80) + 1;
    u = r.get_z_bits(70) - (Integer(1) << 69);
    v = r.get_z_bits(70) + 1;
    s = r.get_z_bits(40);
    const Integer t = s + 3000;
    const Point2 p = max_linear_under_line(s, t, a, h, c, u, v);
    ASSERT_EQ(p.value, brute_max(s, t, a, h, c, u, v));
  }
}

TEST(LatticeWalk, LongRangeAgainstClosedForm) {
  // y = floor(x/2) on [0, 10^15]: maximise x - 2y = x mod 2: value 1 at the first odd x.
  const Point2 p = max_linear_under_line(0, Integer("1000000000000000"), -1, 0, 2, 1, -2);
  EXPECT_EQ(p.value, 1);
  EXPECT_EQ(p.x, 1);
  // Maximise -x + 3y under y = floor((7x + 3)/5) on [0, 10^18]: slope 7/5*3 - 1 > 0, so the
  // best is at the right end: x = 10^18, y = floor((7e18+3)/5) = 14e17.
  const Integer big("1000000000000000000");
  const Point2 q = max_linear_under_line(0, big, -7, 3, 5, -1, 3);
  EXPECT_EQ(q.x, big);
  EXPECT_EQ(q.y, Integer("1400000000000000000"));
}

TEST(Oracle2D, MatchesBruteForceOnRandomPolygons) {
  std::mt19937_64 rng(99);
  auto pick = [&rng](long lo, long hi) { return Integer(std::uniform_int_distribution<long>(lo, hi)(rng)); };
  for (int trial = 0; trial < 1500; ++trial) {
    std::vector<Row2> rows;
    const int n = static_cast<int>(pick(1, 4).get_si());
    for (int i = 0; i < n; ++i) rows.push_back(Row2{pick(-9, 9), pick(1, 9), pick(0, 120)});
    if (pick(0, 1) == 1) rows.push_back(Row2{pick(-5, 5), 0, pick(0, 60)});
    Integer lo = pick(0, 5), hi = lo + pick(0, 40);
    const Integer u = pick(-12, 12), v = pick(-12, 12);
    // Brute force over the box, keeping points that satisfy every row with y >= 0.
    bool any = false;
    Integer best;
    for (Integer x = lo; x <= hi; ++x) {
      for (Integer y = 0; y <= 1200; ++y) {
        bool ok = true;
        for (const auto& r : rows) ok = ok && r.ax * x + r.ay * y <= r.h;
        if (!ok) break;  // every a_y >= 0: a violated row stays violated for larger y
        const Integer val = u * x + v * y;
        if (!any || val > best) best = val;
        any = true;
      }
    }
    // The oracle needs every x in [lo, hi] to admit y = 0 (the caller intersects first).
    bool all_x_ok = true;
    for (Integer x = lo; x <= hi; ++x) {
      for (const auto& r : rows) all_x_ok = all_x_ok && r.ax * x <= r.h;
    }
    if (!all_x_ok) continue;
    const Oracle2Result res = max_linear_2d(rows, lo, hi, u, v);
    ASSERT_FALSE(res.unbounded);
    ASSERT_TRUE(any);
    ASSERT_EQ(res.best.value, best) << "trial " << trial;
    for (const auto& r : rows) ASSERT_LE(r.ax * res.best.x + r.ay * res.best.y, r.h);
    ASSERT_GE(res.best.y, 0);
  }
}

}  // namespace
}  // namespace lorasplit::detail
