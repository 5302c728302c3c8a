#include <gtest/gtest.h>
#include <lorasplit/study.hpp>

namespace lorasplit {
namespace {

bool pays(const Params& base, std::string_view key, const Rational& v, const Rational& target) {
  Params p = base;
  p.set(find_param(key)->id, v);
  const auto g = gain_percent_at(p, {});
  return g && *g > target;
}

// Each break-even value is checked by solving on both sides of it.
TEST(Breakeven, ThresholdsAreBracketedBySolves) {
  struct Case {
    const char* key;
    const char* gain;
    bool larger_is_better;
  };
  for (const Case& c : {Case{"link.bandwidth_bytes_per_s", "0", true}, Case{"link.latency_s", "0", false},
                        Case{"cxl.flops", "0.1", true}, Case{"gpu.memory_bytes", "0.2", true},
                        Case{"lora.r", "1", true}}) {
    const Rational target = parse_quantity(c.gain, Dimension::kFraction, "g").value();
    auto b = breakeven(Params(), c.key, target);
    ASSERT_TRUE(b.ok()) << c.key;
    ASSERT_EQ(b->kind, Breakeven::Kind::kThreshold) << c.key;
    EXPECT_EQ(b->larger_is_better, c.larger_is_better) << c.key;
    EXPECT_TRUE(pays(Params(), c.key, b->passing, target)) << c.key << " at " << format_exact(b->passing);
    EXPECT_FALSE(pays(Params(), c.key, b->failing, target)) << c.key << " at " << format_exact(b->failing);
    EXPECT_EQ(b->value, b->passing);
    if (find_param(c.key)->integer) {
      EXPECT_EQ(abs(Rational(b->passing - b->failing)), 1) << c.key;  // exact
    } else {
      EXPECT_LE(abs(Rational(b->passing - b->failing)), abs(b->passing) * Rational(1, 1000000000)) << c.key;
    }
  }
}

TEST(Breakeven, LimitGainIsAnInfinitelyFastLink) {
  auto b = breakeven(Params(), "link.bandwidth_bytes_per_s", 0);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->limit_value, parse_quantity("1e30", Dimension::kCount, "x").value());
  ASSERT_TRUE(b->limit_gain_percent.has_value());
  // With a free link the device's time per token is 2dr/F_c alone: b3/b1 -> F_c/F_g = 1/10.
  EXPECT_NEAR(to_double(*b->limit_gain_percent), 10.0, 0.01);
}

TEST(Breakeven, AlwaysAndNever) {
  // r from 1 to d = 512 gives gains from 0.054 % to 7.37 %: above 0.01 % everywhere.
  auto always = breakeven(Params(), "lora.r", Rational(1, 100));
  ASSERT_TRUE(always.ok());
  EXPECT_EQ(always->kind, Breakeven::Kind::kAlways);
  auto never = breakeven(Params(), "lora.element_bytes", 50);  // 50 % gain is out of reach
  ASSERT_TRUE(never.ok());
  EXPECT_EQ(never->kind, Breakeven::Kind::kNever);
  EXPECT_FALSE(breakeven(Params(), "gpu.nope", 0).ok());
}

// The frontier: throughput never falls as the latency bound grows; every point respects
// its bound; the last point is the unbounded optimum.
// The serving model's break-even on the hand-checked instance (tests/data/hand_serving.toml):
// the bracket's two values solved again, their exact gains on each side of the target.
TEST(Breakeven, ServingThresholdIsBracketedByExactPlans) {
  const std::string path = LORASPLIT_TEST_DATA_DIR "/hand_serving.toml";
  Params p;
  ASSERT_TRUE(load_config_file(p, path).ok());
  auto w = load_serving_workload(path);
  ASSERT_TRUE(w.ok()) << w.error().message;
  const auto gain = [&](const Rational& latency, std::size_t baseline) -> std::optional<Rational> {
    Params q = p;
    q.set(ParamId::kLinkLatencyS, latency);
    auto r = solve_serving(w.value(), q);
    if (!r || !r->feasible || !r->baselines[baseline].eval.feasible) return std::nullopt;
    return Rational(100 * (r->eval.tokens_per_s / r->baselines[baseline].eval.tokens_per_s - 1));
  };
  auto b = serving_breakeven(p, w.value(), "link.latency_s", Rational(1), "gpu_hbm");
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(b->baseline, "gpu_hbm");
  ASSERT_EQ(b->kind, Breakeven::Kind::kThreshold);
  EXPECT_FALSE(b->larger_is_better);  // a slower link pays less
  EXPECT_LT(b->passing, b->failing);
  const auto gp = gain(b->passing, 0), gf = gain(b->failing, 0);
  ASSERT_TRUE(gp.has_value());
  EXPECT_GT(*gp, 1);
  EXPECT_TRUE(!gf || *gf <= 1);
  EXPECT_EQ(b->gain_at_passing, gp);
  EXPECT_LE(b->failing - b->passing, b->passing * Rational(1, 1000000000));
  // Over gpu_fetch the plan pays at every link bandwidth of the range.
  auto always = serving_breakeven(p, w.value(), "link.bandwidth_bytes_per_s", Rational(0));
  ASSERT_TRUE(always.ok());
  EXPECT_EQ(always->kind, Breakeven::Kind::kAlways);
  EXPECT_EQ(always->baseline, "gpu_fetch");
  // Keys the serving model does not read, and baselines it does not have, are refused.
  EXPECT_EQ(serving_breakeven(p, w.value(), "lora.r", Rational(0)).error().code, ErrorCode::kBadOption);
  EXPECT_EQ(serving_breakeven(p, w.value(), "link.duplex", Rational(0)).error().code, ErrorCode::kBadOption);
  EXPECT_EQ(serving_breakeven(p, w.value(), "gpu.flopz", Rational(0)).error().code, ErrorCode::kUnknownKey);
  EXPECT_EQ(serving_breakeven(p, w.value(), "cxl.flops", Rational(0), "device_all").error().code,
            ErrorCode::kBadOption);
}

// Capacity mode's break-even on the same instance under a 30 s latency bound: each value's
// gain is that of the batches the optimum and the baseline each serve best; the bracket's
// values solved again lie on each side of the target, and the threshold is exact (1/2 s:
// the gain there is 0). Options capacity mode does not take are refused up front.
TEST(Breakeven, ServingCapacityThresholdIsBracketedByExactPlans) {
  const std::string path = LORASPLIT_TEST_DATA_DIR "/hand_serving.toml";
  Params p;
  ASSERT_TRUE(load_config_file(p, path).ok());
  ASSERT_TRUE(set_param(p, "lora.max_batch_latency_s", "30"));
  auto w = load_serving_workload(path, {{"serving.mode", "capacity"}});
  ASSERT_TRUE(w.ok()) << w.error().message;
  ASSERT_EQ(w->mode, ServingMode::kCapacity);
  const auto gain = [&](const Rational& latency) -> std::optional<Rational> {
    Params q = p;
    q.set(ParamId::kLinkLatencyS, latency);
    auto r = solve_serving(w.value(), q);
    if (!r || !r->feasible || !r->baselines[0].eval.feasible) return std::nullopt;
    return Rational(100 * (r->eval.tokens_per_s / r->baselines[0].eval.tokens_per_s - 1));
  };
  auto b = serving_breakeven(p, w.value(), "link.latency_s", Rational(0), "gpu_hbm");
  ASSERT_TRUE(b.ok()) << b.error().message;
  ASSERT_EQ(b->kind, Breakeven::Kind::kThreshold);
  EXPECT_FALSE(b->larger_is_better);
  EXPECT_LE(b->passing, Rational(1, 2));
  EXPECT_GE(b->failing, Rational(1, 2));
  const auto gp = gain(b->passing), gf = gain(b->failing), at = gain(Rational(1, 2));
  ASSERT_TRUE(gp.has_value() && gf.has_value() && at.has_value());
  EXPECT_GT(*gp, 0);
  EXPECT_LE(*gf, 0);
  EXPECT_EQ(*at, 0);
  EXPECT_EQ(b->gain_at_passing, gp);
  ServingSolveOptions gap;
  gap.relative_gap = Rational(1, 100);
  auto refused = serving_breakeven(p, w.value(), "link.latency_s", Rational(0), "gpu_hbm", gap);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, ErrorCode::kBadOption);
  // A solve that fails is the break-even's error, not a value where the device never pays.
  ServingWorkload many = w.value();
  for (int i = 0; i < 9; ++i) many.adapters.push_back({"x" + std::to_string(i), 1, 1, Residency::kCxl, 1});
  auto too_many = serving_breakeven(p, many, "link.latency_s", Rational(0), "gpu_hbm");
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.error().code, ErrorCode::kUnsupported);
  EXPECT_EQ(too_many.error().key, "adapters");
}

TEST(Frontier, MonotoneAndEndsAtTheOptimum) {
  auto f = latency_frontier(Params(), {}, 12);
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->size(), 12U);
  Rational last = 0;
  for (const auto& p : *f) {
    ASSERT_EQ(p.status, SolveStatus::kOptimal);
    EXPECT_LE(p.batch_time_s, p.max_latency_s);
    EXPECT_GE(p.throughput_tokens_per_s, last);
    last = p.throughput_tokens_per_s;
  }
  auto top = analyze(Params(), {}, AnalyzeOptions{false, false});
  EXPECT_EQ(f->back().throughput_tokens_per_s, top->result.throughput_tokens_per_s);
  // The first bound only admits b1 = ceil(L/gamma) = 3834 on the GPU: no gain yet.
  EXPECT_EQ(f->front().plan, (Plan{{3834, 0, 0}}));
}

}  // namespace
}  // namespace lorasplit
