#include <gtest/gtest.h>
#include <lorasplit/lorasplit.hpp>

#include <random>

#include "support/reference.hpp"

namespace lorasplit {
namespace {

using testing::exhaustive;
using testing::random_small_instance;
using testing::total_bound;

SolveResult solve_ok(const Model& m, Domain domain = Domain::kInteger) {
  auto r = solve(m, SolveOptions{domain});
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : SolveResult{};
}

// The seed numbers. The optimum, confirmed by a brute force over every b1 with the best
// b3 for it (b2 = 0 is optimal, docs/model.md §3.2), is NOT at the memory limit
// (b1 = 8323441): a slightly smaller b1 lets floor((T_GPU_S1 - L)/T_CXL_per_token)
// lose less to rounding.
TEST(Solve, SeedKnownAnswer) {
  const Model m = build_seed_model(Params());
  const SolveResult r = solve_ok(m);
  ASSERT_EQ(r.status, SolveStatus::kOptimal);
  EXPECT_EQ(r.plan, (Plan{{8323128, 0, 17817}}));
  EXPECT_EQ(r.throughput_tokens_per_s, make_rational(Integer("21313938232421875"), Integer("11097504")));
  EXPECT_TRUE(is_feasible(m, r.plan));
  EXPECT_EQ(r.certificate.final_subproblem_max, 0);
  EXPECT_EQ(r.certificate.lambda_tokens_per_s, r.throughput_tokens_per_s);
  ASSERT_TRUE(r.certificate.relaxation_bound_tokens_per_s.has_value());
  EXPECT_GE(*r.certificate.relaxation_bound_tokens_per_s, r.throughput_tokens_per_s);
  // One more b3 token breaks stage-1 sync; one more b1 token alone lowers the ratio.
  EXPECT_FALSE(is_feasible(m, Plan{{8323128, 0, 17818}}));
}

TEST(Solve, BinaryDomainOnSeedIsInfeasible) {
  // 1 us of latency vs at most T_GPU_S1 = 2*1*512*4/15.7e12 = 0.26 ns with b1 <= 1.
  const SolveResult r = solve_ok(build_seed_model(Params()), Domain::kBinary);
  EXPECT_EQ(r.status, SolveStatus::kInfeasible);
}

TEST(Solve, BinaryDomainFeasibleWithoutLatency) {
  Params p;
  p.set(ParamId::kLinkLatencyS, 0);
  const Model m = build_seed_model(p);
  const SolveResult r = solve_ok(m, Domain::kBinary);
  ASSERT_EQ(r.status, SolveStatus::kOptimal);
  // b1 = 1 alone: stage 1 holds (0 <= T_GPU_S1). Adding b3 = 1 needs 1.2e-7 s of device time.
  EXPECT_EQ(r.plan, (Plan{{1, 0, 0}}));
  EXPECT_EQ(r.certificate.final_subproblem_max, 0);
}

TEST(Solve, InfeasibleWhenMemoryCannotHideTheLatency) {
  Params p;
  p.set(ParamId::kGpuMemoryBytes, 1000000);  // ~488 tokens; 1 us needs b1 >= 3833
  const SolveResult r = solve_ok(build_seed_model(p));
  EXPECT_EQ(r.status, SolveStatus::kInfeasible);
}

// Exhaustive search agrees with the solver on random small instances. Categories are
// counted so that the test also proves it exercised binding memory rows, infeasibility,
// ties and non-zero device paths.
TEST(Solve, AgreesWithExhaustiveSearchOnRandomInstances) {
  std::mt19937_64 rng(20261124);
  int infeasible = 0, ties = 0, memory_binding = 0, device_used = 0, n = 0;
  for (int trial = 0; trial < 1200; ++trial) {
    const Params p = random_small_instance(rng, 22);
    ASSERT_TRUE(validate(p).ok());
    const Model m = build_seed_model(p);
    const auto ref = exhaustive(m, total_bound(p));
    const SolveResult r = solve_ok(m);
    ++n;
    if (!ref.feasible) {
      ASSERT_EQ(r.status, SolveStatus::kInfeasible) << "trial " << trial;
      ++infeasible;
      continue;
    }
    ASSERT_EQ(r.status, SolveStatus::kOptimal) << "trial " << trial;
    ASSERT_TRUE(is_feasible(m, r.plan)) << "trial " << trial;
    ASSERT_EQ(r.throughput_tokens_per_s, ref.best) << "trial " << trial << " solver b=(" << r.plan.b[0] << ","
                                                   << r.plan.b[1] << "," << r.plan.b[2] << ")";
    ASSERT_EQ(r.certificate.final_subproblem_max, 0);
    ASSERT_TRUE(r.certificate.relaxation_bound_tokens_per_s.has_value());
    ASSERT_GE(*r.certificate.relaxation_bound_tokens_per_s, r.throughput_tokens_per_s);
    if (ref.argmax.size() > 1) ++ties;
    if (r.plan.b[1] + r.plan.b[2] > 0) ++device_used;
    for (const auto& c : m.constraints) {
      if (c.kind != RowKind::kMemory) continue;
      Plan more = r.plan;
      more.b[0] += 1;
      if (c.lhs.eval(more) > c.rhs.eval(more)) {
        ++memory_binding;
        break;
      }
    }
  }
  EXPECT_EQ(n, 1200);
  EXPECT_GE(infeasible, 50);
  EXPECT_GE(ties, 50);
  EXPECT_GE(memory_binding, 100);
  EXPECT_GE(device_used, 100);
  std::printf("instances=%d infeasible=%d ties=%d memory_binding=%d device_used=%d\n", n, infeasible, ties,
              memory_binding, device_used);
}

TEST(Solve, BinaryAgreesWithExhaustiveSearch) {
  std::mt19937_64 rng(7);
  int feasible = 0;
  for (int trial = 0; trial < 400; ++trial) {
    Params p = random_small_instance(rng, 22);
    const Model m = build_seed_model(p);
    const auto ref = exhaustive(m, 3, 1);
    const SolveResult r = solve_ok(m, Domain::kBinary);
    ASSERT_EQ(r.status == SolveStatus::kOptimal, ref.feasible);
    if (!ref.feasible) continue;
    ++feasible;
    ASSERT_EQ(r.throughput_tokens_per_s, ref.best);
    ASSERT_TRUE(is_feasible(m, r.plan));
    for (auto b : r.plan.b) ASSERT_LE(b, 1);
  }
  EXPECT_GE(feasible, 40);
}

// Every seed-family variant (efficiencies, blocks, batch and latency bounds) against
// exhaustive search over multiples of the block.
TEST(Solve, VariantsAgreeWithExhaustiveSearch) {
  std::mt19937_64 rng(424242);
  int feasible = 0, blocks = 0, limit_binding = 0;
  for (int trial = 0; trial < 1000; ++trial) {
    Params p = random_small_instance(rng, 22);
    testing::add_random_variants(rng, p);
    ASSERT_TRUE(validate(p).ok()) << validate(p).error().message;
    const Model m = build_seed_model(p);
    const std::int64_t k = m.block_tokens;
    const auto ref = exhaustive(m, total_bound(p), INT64_MAX, k);
    const SolveResult r = solve_ok(m);
    ASSERT_EQ(r.status == SolveStatus::kOptimal, ref.feasible) << "trial " << trial;
    if (!ref.feasible) continue;
    ++feasible;
    ASSERT_EQ(r.throughput_tokens_per_s, ref.best) << "trial " << trial;
    ASSERT_TRUE(is_feasible(m, r.plan));
    for (auto b : r.plan.b) ASSERT_EQ(b % k, 0);
    if (k > 1 && r.plan.tokens() > 0) ++blocks;
    for (const auto& c : m.constraints) {
      Plan more = r.plan;
      more.b[0] += k;
      if (c.kind == RowKind::kLimit && c.lhs.eval(more) > c.rhs.eval(more)) {
        ++limit_binding;
        break;
      }
    }
  }
  EXPECT_GE(feasible, 300);
  EXPECT_GE(blocks, 50);
  EXPECT_GE(limit_binding, 50);
  std::printf("variants: feasible=%d with_blocks=%d limit_binding=%d\n", feasible, blocks, limit_binding);
}

TEST(Solve, BinaryWithBlocksAgreesWithExhaustiveSearch) {
  std::mt19937_64 rng(515);
  for (int trial = 0; trial < 300; ++trial) {
    Params p = random_small_instance(rng, 22);
    testing::add_random_variants(rng, p);
    const Model m = build_seed_model(p);
    const std::int64_t k = m.block_tokens;
    const auto ref = exhaustive(m, 3 * k, k, k);
    const SolveResult r = solve_ok(m, Domain::kBinary);
    ASSERT_EQ(r.status == SolveStatus::kOptimal, ref.feasible);
    if (!ref.feasible) continue;
    ASSERT_EQ(r.throughput_tokens_per_s, ref.best);
    for (auto b : r.plan.b) ASSERT_TRUE(b == 0 || b == k);
  }
}

// The continuous domain equals an independent vertex enumeration of the original 3-D
// polytope, and bounds the integer optimum from above.
TEST(Solve, ContinuousEqualsIndependentLpAndBoundsIntegers) {
  std::mt19937_64 rng(8080);
  int feasible = 0, strict_gap = 0;
  for (int trial = 0; trial < 400; ++trial) {
    Params p = random_small_instance(rng, 22);
    testing::add_random_variants(rng, p);
    const Model m = build_seed_model(p);
    const auto lp = testing::lp_reference(m);
    const SolveResult r = solve_ok(m, Domain::kContinuous);
    ASSERT_EQ(r.status == SolveStatus::kOptimal, lp.has_value()) << "trial " << trial;
    if (!lp) continue;
    ++feasible;
    ASSERT_EQ(r.throughput_tokens_per_s, *lp) << "trial " << trial;
    ASSERT_TRUE(is_feasible(m, r.point));
    const SolveResult integer = solve_ok(m, Domain::kInteger);
    if (integer.status == SolveStatus::kOptimal) {
      ASSERT_LE(integer.throughput_tokens_per_s, r.throughput_tokens_per_s);
      if (integer.throughput_tokens_per_s < r.throughput_tokens_per_s) ++strict_gap;
    }
  }
  EXPECT_GE(feasible, 150);
  EXPECT_GE(strict_gap, 50);
}

// Decimal parameters with many digits (as users write them) instead of small rationals.
TEST(Solve, AgreesWithExhaustiveSearchOnDecimalParameters) {
  std::mt19937_64 rng(31337);
  auto pick = [&rng](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  int feasible = 0;
  for (int trial = 0; trial < 300; ++trial) {
    Params p;
    const std::int64_t d = pick(8, 64), r = pick(1, 8), e = 2;
    p.set(ParamId::kLoraD, d);
    p.set(ParamId::kLoraR, r);
    p.set(ParamId::kLoraElementBytes, e);
    p.set(ParamId::kGpuMemoryBytes, e * d * pick(2, 20) + pick(0, 100));
    // F_g around 15.7e12 with 6 significant digits; the device 2 to 50 times slower.
    p.set(ParamId::kGpuFlops, Rational(pick(100000, 999999)) * Rational(Integer("100000000")));
    p.set(ParamId::kCxlFlops, p.gpu_flops() / pick(2, 50) * make_rational(pick(900, 1100), 1000));
    p.set(ParamId::kLinkBandwidthBytesPerS, Rational(pick(1000, 99999)) * Rational(Integer("1000000000")));
    p.set(ParamId::kLinkLatencyS, make_rational(pick(0, 999), Integer("100000000000000")));
    ASSERT_TRUE(validate(p).ok());
    const Model m = build_seed_model(p);
    const auto ref = exhaustive(m, total_bound(p));
    const SolveResult res = solve_ok(m);
    ASSERT_EQ(res.status == SolveStatus::kOptimal, ref.feasible) << trial;
    if (!ref.feasible) continue;
    ++feasible;
    ASSERT_EQ(res.throughput_tokens_per_s, ref.best) << trial;
    ASSERT_TRUE(is_feasible(m, res.plan));
  }
  EXPECT_GE(feasible, 100);
}

}  // namespace
}  // namespace lorasplit
