// The fixed-width roundings (sweep/rounding.cpp) against the GMP definitions they replace.
#include "sweep/rounding.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

namespace lorasplit::detail {
namespace {

TEST(Rounding, SignificantDigitsEqualTheGmpRounding) {
  std::mt19937_64 rng(20261125);
  std::uniform_real_distribution<double> exponent(-40.0, 40.0);
  std::uniform_int_distribution<int> digits(1, 18);
  Rational out = 7;  // storage reused across calls, as the sweep does
  int checked = 0;
  for (int i = 0; i < 20000; ++i) {
    double x = std::pow(10.0, exponent(rng));
    if (i % 3 == 0) x = -x;
    if (i % 7 == 0) x = std::round(x);  // whole numbers
    const int d = i % 5 == 0 ? 12 : digits(rng);
    round_significant_to(x, d, out);
    ASSERT_EQ(out, round_significant(Rational(x), d)) << x << " to " << d << " digits";
    ASSERT_EQ(mpz_cmp_ui(mpq_denref(out.get_mpq_t()), 0), 1);  // canonical: positive denominator
    Rational copy = out;
    copy.canonicalize();
    ASSERT_EQ(copy.get_den(), out.get_den()) << x;
    ++checked;
  }
  EXPECT_EQ(checked, 20000);
  // Every value a sweep generates (12 digits, 1e-12 to 1e18) takes the fixed-width path.
  for (int i = 0; i < 5000; ++i) {
    const double x = std::pow(10.0, std::uniform_real_distribution<double>(-12.0, 18.0)(rng));
    ASSERT_TRUE(round_significant_fixed(x, 12, out)) << x;
    ASSERT_EQ(out, round_significant(Rational(x), 12)) << x;
  }
}

TEST(Rounding, EdgesOfTheDecimalExponentAndHalves) {
  Rational out;
  // Values at and next to powers of ten (where log10 may be off by one), halves, zero,
  // the largest and smallest doubles (the GMP fallback), and what rounds up to 10^digits.
  std::vector<double> xs = {0.0, -0.0, 1.0, 10.0, 1e12, 1e-12, 0.5, 2.5, 1.5e-7, 999999999999.5, 9.9999999999995,
                            std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min(),
                            std::numeric_limits<double>::min(), 1073741824.0, 1099511627776.0};
  for (int k = -30; k <= 30; ++k) {
    const double p = std::pow(10.0, k);
    xs.push_back(p);
    xs.push_back(std::nextafter(p, 0.0));
    xs.push_back(std::nextafter(p, 1e300));
  }
  for (const double x : xs) {
    for (const int d : {1, 2, 12, 15, 17, 18}) {
      round_significant_to(x, d, out);
      EXPECT_EQ(out, round_significant(Rational(x), d)) << x << " to " << d << " digits";
    }
  }
}

TEST(Rounding, WholeNumbersEqualTheGmpRounding) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> exponent(-3.0, 20.0);
  Rational out;
  for (int i = 0; i < 20000; ++i) {
    double x = std::pow(10.0, exponent(rng));
    if (i % 2 == 0) x = -x;
    if (i % 11 == 0) x = std::floor(x) + 0.5;  // halves go up
    round_integer_to(x, out);
    ASSERT_EQ(out, round_integer(Rational(x))) << x;
  }
  for (const double x : {0.0, 0.5, -0.5, 1.5, -1.5, 0x1p62, -0x1p62, 0x1p70, 4503599627370495.5}) {
    round_integer_to(x, out);
    EXPECT_EQ(out, round_integer(Rational(x))) << x;
  }
}

}  // namespace
}  // namespace lorasplit::detail
