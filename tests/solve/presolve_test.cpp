#include <gtest/gtest.h>
#include <lorasplit/model.hpp>

#include "solve/problem.hpp"

#include <random>

namespace lorasplit::detail {
namespace {

TEST(Presolve, SeedReductionsAreTheProvedOnes) {
  IntProblem pb = to_integer_form(build_seed_model(Params()), 1);
  std::vector<PresolveReduction> log;
  presolve(pb, log);
  // sync_s2 follows from sync_s1 (L >= 0, every coefficient of sync_s2 <= sync_s1's);
  // mem_s1 and mem_y follow from mem_s2 and mem_x; then b2 is dominated by b3.
  std::vector<std::string> removed;
  for (const auto& r : pb.rows) {
    if (r.removed) removed.push_back(r.name);
  }
  EXPECT_EQ(removed, (std::vector<std::string>{"sync_s2", "mem_s1", "mem_y"}));
  EXPECT_FALSE(pb.fixed_zero[0]);
  EXPECT_TRUE(pb.fixed_zero[1]);
  EXPECT_FALSE(pb.fixed_zero[2]);
  EXPECT_EQ(log.size(), 4U);
}

TEST(Presolve, IntegerFormIsExactAndPrimitive) {
  IntProblem pb = to_integer_form(build_seed_model(Params()), 1);
  for (const auto& r : pb.rows) {
    Integer g = 0;
    for (const auto& a : r.a) mpz_gcd(g.get_mpz_t(), g.get_mpz_t(), a.get_mpz_t());
    EXPECT_EQ(g, 1) << r.name;
    EXPECT_LE(Rational(r.h_int), lp_rhs(r));
    EXPECT_GT(Rational(r.h_int + 1), lp_rhs(r));
  }
  // mem_x: 4*(b1+b2+b3)*512 <= 16 GiB  ->  b1+b2+b3 <= 8388608
  EXPECT_EQ(pb.rows[2].h_int, 8388608);
}

TEST(Presolve, NoDominanceWhenPathTwoIsCheaper) {
  // A hand-made problem where moving b2 to b3 raises a row: nothing may be fixed.
  IntProblem pb;
  pb.rows.push_back(IntRow{"r", {Integer(1), Integer(1), Integer(5)}, {Integer(10), Integer(1)}, Integer(10)});
  pb.p = {Integer(1), Integer(1), Integer(1)};
  pb.q = {Integer(2), Integer(1), Integer(0)};
  pb.scale_n = pb.scale_d = 1;
  pb.fixed_zero.assign(3, 0);
  pb.offset.assign(3, 0);
  std::vector<PresolveReduction> log;
  presolve(pb, log);
  EXPECT_FALSE(pb.fixed_zero[1]);
  EXPECT_FALSE(pb.fixed_zero[2]);
}

// The integer form of random rows and objectives (rational coefficients, blocks, columns
// the case requires) against the definition: each row is a positive multiple of
// (lhs - rhs)(block·(offset + y)) with coprime integer coefficients and h_lp the exact
// right-hand side; each objective is s·f(block·(offset + y)) with s the smallest positive
// integer that makes it integral (s and every coefficient coprime).
TEST(Presolve, IntegerFormOfRandomRowsIsTheDefinitions) {
  std::mt19937_64 rng(31);
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  const auto rational = [&]() {
    const long den = pick(0, 3) == 0 ? 1 : pick(1, 360);
    return make_rational(Integer(pick(-50, 50)) * (pick(0, 4) == 0 ? Integer(1) << 64 : Integer(1)), Integer(den));
  };
  for (int t = 0; t < 300; ++t) {
    const std::size_t n = static_cast<std::size_t>(pick(1, 5));
    Model m;
    m.name = "random";
    m.columns.resize(n);
    m.block_tokens = pick(0, 2) == 0 ? 1 : pick(2, 64);
    m.support.resize(n);
    for (auto& s : m.support) s = static_cast<int>(pick(-1, 1));
    const auto affine = [&]() {
      Affine f(n);
      for (auto& c : f.coef) c = pick(0, 3) == 0 ? Rational(0) : rational();
      f.constant = rational();
      return f;
    };
    for (int i = 0; i < 3; ++i) {
      Constraint c;
      c.name = "r" + std::to_string(i);
      c.kind = RowKind::kMemory;
      c.lhs = affine();
      c.rhs = affine();
      m.constraints.push_back(c);
    }
    m.tokens = affine();
    m.batch_time = affine();
    const IntProblem pb = to_integer_form(m, m.block_tokens);
    // f(block·(offset + y)) as the coefficients over y and the constant.
    const auto at_blocks = [&](const Affine& f) {
      Affine g(n);
      g.constant = f.constant;
      for (std::size_t j = 0; j < n; ++j) {
        g.coef[j] = f.coef[j] * Rational(m.block_tokens);
        if (pb.offset[j] != 0) g.constant += g.coef[j] * pb.offset[j];
      }
      return g;
    };
    for (std::size_t i = 0; i < m.constraints.size(); ++i) {
      const Affine g = at_blocks(m.constraints[i].lhs - m.constraints[i].rhs);
      const IntRow& r = pb.rows[i];
      Integer common = 0;
      std::optional<Rational> ratio;
      for (std::size_t j = 0; j < n; ++j) {
        mpz_gcd(common.get_mpz_t(), common.get_mpz_t(), r.a[j].get_mpz_t());
        if (g.coef[j] == 0) {
          EXPECT_EQ(r.a[j], 0);
          continue;
        }
        const Rational q = Rational(r.a[j]) / g.coef[j];
        EXPECT_GT(q, 0);
        if (!ratio) ratio = q;
        EXPECT_EQ(q, *ratio) << "row " << i << " of instance " << t;
      }
      if (!ratio) continue;  // a row without coefficients: its h alone
      EXPECT_EQ(common, 1);
      EXPECT_EQ(make_rational(r.h_lp.num, r.h_lp.den), -g.constant * *ratio);
      EXPECT_EQ(r.h_int, floor_div(r.h_lp.num, r.h_lp.den));
    }
    const auto check_objective = [&](const Affine& f, const std::vector<Integer>& coef, const Integer& constant,
                                     const Integer& scale) {
      const Affine g = at_blocks(f);
      Integer common = scale;
      for (std::size_t j = 0; j < n; ++j) {
        EXPECT_EQ(Rational(coef[j]), g.coef[j] * Rational(scale)) << "instance " << t;
        mpz_gcd(common.get_mpz_t(), common.get_mpz_t(), coef[j].get_mpz_t());
      }
      EXPECT_EQ(Rational(constant), g.constant * Rational(scale)) << "instance " << t;
      mpz_gcd(common.get_mpz_t(), common.get_mpz_t(), constant.get_mpz_t());
      EXPECT_GT(scale, 0);
      EXPECT_EQ(common, 1) << "instance " << t;  // no smaller scale makes them integral
    };
    check_objective(m.tokens, pb.p, pb.p0, pb.scale_n);
    check_objective(m.batch_time, pb.q, pb.q0, pb.scale_d);
  }
}

}  // namespace
}  // namespace lorasplit::detail
