#include <gtest/gtest.h>
#include <lorasplit/model.hpp>

namespace lorasplit {
namespace {

const Constraint& row(const Model& m, std::string_view name) {
  for (const auto& c : m.constraints) {
    if (c.name == name) return c;
  }
  throw std::runtime_error("no row");
}

// Small numbers so every term can be checked by hand:
// M = 10000 B, F_g = 64 FLOP/s, F_c = 16 FLOP/s, BW = 8 B/s, L = 1/2 s, d = 4, r = 2, e = 4.
Params hand_params() {
  Params p;
  p.set(ParamId::kGpuMemoryBytes, 10000);
  p.set(ParamId::kGpuFlops, 64);
  p.set(ParamId::kCxlFlops, 16);
  p.set(ParamId::kLinkBandwidthBytesPerS, 8);
  p.set(ParamId::kLinkLatencyS, make_rational(1, 2));
  p.set(ParamId::kLoraD, 4);
  p.set(ParamId::kLoraR, 2);
  p.set(ParamId::kLoraElementBytes, 4);
  return p;
}

TEST(SeedModel, EveryTermAsTheFormulationWritesIt) {
  const Model m = build_seed_model(hand_params());
  const Plan plan{{3, 2, 5}};  // b1 = 3, b2 = 2, b3 = 5
  // T_GPU_S1 = 2*b1*d*r/F_g = 2*3*4*2/64 = 3/4 s
  EXPECT_EQ(m.stages[0].gpu.eval(plan), make_rational(3, 4));
  // T_CXL_S1 = L + 4(b2+b3)d/BW + 2(b2+b3)dr/F_c + 4*b2*r/BW
  //          = 1/2 + 4*7*4/8 + 2*7*4*2/16 + 4*2*2/8 = 1/2 + 14 + 7 + 2 = 47/2 s
  EXPECT_EQ(m.stages[0].device.eval(plan), make_rational(47, 2));
  // T_GPU_S2 = 2(b1+b2)rd/F_g = 2*5*2*4/64 = 5/4 s
  EXPECT_EQ(m.stages[1].gpu.eval(plan), make_rational(5, 4));
  // T_CXL_S2 = 2*b3*r*d/F_c + 4*b3*d/BW - 4*b2*r/BW = 2*5*2*4/16 + 4*5*4/8 - 4*2*2/8 = 5 + 10 - 2 = 13 s
  EXPECT_EQ(m.stages[1].device.eval(plan), Rational(13));
  EXPECT_EQ(m.batch_time.eval(plan), Rational(2));
  EXPECT_EQ(m.tokens.eval(plan), Rational(10));
  // Memory rows (bytes): 4(b1+b2+b3)d = 160; 4*b1*d + 4dr + 4*b1*r = 48+32+24 = 104;
  // 4(b1+b2)r = 40; 4(b1+b2)r + 4rd + 4(b1+b2)d = 40 + 32 + 80 = 152.
  EXPECT_EQ(row(m, "mem_x").lhs.eval(plan), Rational(160));
  EXPECT_EQ(row(m, "mem_s1").lhs.eval(plan), Rational(104));
  EXPECT_EQ(row(m, "mem_y").lhs.eval(plan), Rational(40));
  EXPECT_EQ(row(m, "mem_s2").lhs.eval(plan), Rational(152));
  for (const char* name : {"mem_x", "mem_s1", "mem_y", "mem_s2"}) {
    EXPECT_EQ(row(m, name).rhs.eval(plan), Rational(10000));
    EXPECT_EQ(row(m, name).kind, RowKind::kMemory);
  }
  EXPECT_EQ(m.constraints.size(), 6U);  // two sync rows, four memory rows
  EXPECT_FALSE(is_feasible(m, plan));   // T_CXL_S1 = 23.5 s > 0.75 s
  // throughput = 10 tokens / 2 s
  EXPECT_EQ(throughput_tokens_per_s(m, plan), Rational(5));
}

TEST(SeedModel, StageTwoCreditCanMakeCxlTimeNegative) {
  // The formulation subtracts 4*b2*r/BW in stage 2; kept as written (not "fixed").
  const Model m = build_seed_model(hand_params());
  const Plan plan{{0, 4, 0}};
  EXPECT_EQ(m.stages[1].device.eval(plan), Rational(-4));  // -4*4*2/8
}

TEST(SeedModel, FeasibilityIsExact) {
  // F_g = 2*d*r*10^9 makes T_GPU_S1 = b1 * 1e-9 s exactly; with L = 1e-6 s and no device
  // work, b1 = 1000 meets stage 1 with equality and b1 = 999 misses by 1e-9 s.
  Params p;
  p.set(ParamId::kGpuFlops, Rational(2 * 512 * 4) * Rational(Integer("1000000000")));
  const Model m = build_seed_model(p);
  EXPECT_TRUE(is_feasible(m, Plan{{1000, 0, 0}}));
  EXPECT_FALSE(is_feasible(m, Plan{{999, 0, 0}}));
  EXPECT_FALSE(is_feasible(m, Plan{{-1, 0, 0}}));
}

}  // namespace
}  // namespace lorasplit
