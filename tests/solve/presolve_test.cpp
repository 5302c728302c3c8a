#include <gtest/gtest.h>
#include <lorasplit/model.hpp>

#include "solve/problem.hpp"

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

}  // namespace
}  // namespace lorasplit::detail
