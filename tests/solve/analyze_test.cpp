#include <gtest/gtest.h>
#include <lorasplit/analysis.hpp>
#include <lorasplit/report.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace lorasplit {
namespace {

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

TEST(Analyze, SeedReport) {
  auto a = analyze(Params());
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->result.status, SolveStatus::kOptimal);
  // GPU-only: b1 tokens take 4*d*r*b1/F_g seconds, so F_g/(4 d r) = 15.7e12/8192 tokens/s.
  ASSERT_TRUE(a->gpu_only_tokens_per_s.has_value());
  EXPECT_EQ(*a->gpu_only_tokens_per_s, Rational(Integer("15700000000000")) / 8192);
  // gain = 100 * (throughput / gpu_only - 1), exactly
  EXPECT_EQ(*a->gain_percent, (a->result.throughput_tokens_per_s / *a->gpu_only_tokens_per_s - 1) * 100);
  // b3/b1 = 17817/8323128, gain = 100 * b3/b1 (b2 = 0): 0.2140...%
  EXPECT_EQ(*a->gain_percent, make_rational(1781700, 8323128));
  EXPECT_TRUE(contains(a->binding, "sync_s1"));
  for (const auto& r : a->rows) EXPECT_GE(r.slack, 0) << r.name;
  EXPECT_EQ(a->rows.size(), 6U);
  EXPECT_NE(a->explanation.find("b3 = 17817"), std::string::npos);
  EXPECT_NE(a->explanation.find("b2 = 0"), std::string::npos);
  EXPECT_EQ(a->batch_time_s, a->stage_times[0].gpu_s + a->stage_times[1].gpu_s);
}

// A hand instance where memory binds: L = 0; per token and stage the GPU takes gamma = 1 s
// and the device, link included, alpha = 1/2 + 1/2 = 1 s, so stage 1 allows b3 <= b1; mem_x
// allows b1 + b3 <= 10 (M = 160 B, e = 4, d = 4). Best: b1 = b3 = 5, throughput
// 10 / (2*5*1 s) = 1 token/s, twice GPU-only (1/(2 gamma) = 1/2 token/s): gain 100 %.
TEST(Analyze, MemoryBindingHandInstance) {
  Params p;
  p.set(ParamId::kLoraD, 4);
  p.set(ParamId::kLoraR, 1);
  p.set(ParamId::kLoraElementBytes, 4);
  p.set(ParamId::kGpuMemoryBytes, 160);
  p.set(ParamId::kGpuFlops, 8);                // 2*d*r/F_g = 1 s
  p.set(ParamId::kCxlFlops, 16);               // 2*d*r/F_c = 1/2 s
  p.set(ParamId::kLinkBandwidthBytesPerS, 32); // e*d/BW = 1/2 s
  p.set(ParamId::kLinkLatencyS, 0);
  auto a = analyze(p);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ(a->result.status, SolveStatus::kOptimal);
  EXPECT_EQ(a->result.plan, (Plan{{5, 0, 5}}));
  EXPECT_EQ(a->result.throughput_tokens_per_s, 1);
  EXPECT_EQ(*a->gain_percent, 100);
  EXPECT_TRUE(contains(a->binding, "mem_x"));
  EXPECT_TRUE(contains(a->binding, "sync_s1"));
  // Stage 2 is tight too: T_CXL_S2 = (kappa+xi)*b3 = 5 s = T_GPU_S2 = gamma*(b1+b2).
  EXPECT_TRUE(contains(a->binding, "sync_s2"));
  EXPECT_EQ(a->stage_times[1].device_s, a->stage_times[1].gpu_s);
  // mem_s2: 4*(5)*1 + 4*1*4 + 4*5*4 = 116 B of 160: not binding.
  EXPECT_FALSE(contains(a->binding, "mem_s2"));
}

TEST(Analyze, BaselinesShowWhatEachPathIsWorth) {
  auto a = analyze(Params());
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->baselines.size(), 4U);
  const auto& gpu = a->baselines[0];
  const auto& cxl = a->baselines[1];
  const auto& no_b2 = a->baselines[2];
  const auto& no_b3 = a->baselines[3];
  EXPECT_EQ(gpu.name, "gpu_only");
  EXPECT_EQ(*gpu.gain_percent, 0);
  // CXL only: b1 = 0 leaves no GPU stage 1 to hide the 1 us latency behind.
  EXPECT_EQ(cxl.status, SolveStatus::kInfeasible);
  // b2 = 0 is optimal in the seed model, so "best with b2 = 0" is the optimum itself.
  EXPECT_EQ(no_b2.throughput_tokens_per_s, a->result.throughput_tokens_per_s);
  // Path 2 alone is worth less than path 3 but more than nothing.
  ASSERT_EQ(no_b3.status, SolveStatus::kOptimal);
  EXPECT_LT(no_b3.throughput_tokens_per_s, a->result.throughput_tokens_per_s);
  EXPECT_GT(*no_b3.gain_percent, 0);
  EXPECT_GT(no_b3.plan.b[1], 0);
}

TEST(Analyze, SensitivityIsExactResolves) {
  auto a = analyze(Params());
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->sensitivity.size(), 11U);  // every parameter that is set
  for (const auto& s : a->sensitivity) {
    Params p;
    p.set(find_param(s.key)->id, s.plus_value);
    if (!s.plus_tokens_per_s) continue;
    auto again = analyze(p, {}, AnalyzeOptions{false, false});
    ASSERT_TRUE(again.ok()) << s.key;
    EXPECT_EQ(again->result.throughput_tokens_per_s, *s.plus_tokens_per_s) << s.key;
  }
  const auto& flops = a->sensitivity[1];
  ASSERT_EQ(flops.key, "gpu.flops");
  EXPECT_EQ(flops.plus_value, Rational(Integer("15857000000000")));
  EXPECT_GT(*flops.plus_tokens_per_s, a->result.throughput_tokens_per_s);
  EXPECT_LT(*flops.minus_tokens_per_s, a->result.throughput_tokens_per_s);
  // gpu.efficiency is 1, its maximum: +1 % is not tried, and the table says "at bound".
  const auto& eff = a->sensitivity[8];
  ASSERT_EQ(eff.key, "gpu.efficiency");
  EXPECT_FALSE(eff.plus_tokens_per_s.has_value());
  EXPECT_EQ(eff.plus_note, "at bound (max 1)");
  EXPECT_TRUE(eff.minus_note.empty());
  const auto& block = a->sensitivity[10];
  ASSERT_EQ(block.key, "lora.block_tokens");
  EXPECT_EQ(block.minus_note, "at bound (min 1)");
  // Near a bound but not on it: out of range, with the bound.
  Params near;
  ASSERT_TRUE(set_param(near, "gpu.efficiency", "0.995").ok());
  auto n = analyze(near);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->sensitivity[8].plus_note, "out of range (max 1)");
  // The text: "-" for a value not tried, and whole numbers that move by more than 1 %.
  const std::string text = render_text(a.value());
  EXPECT_NE(text.find("at bound (max 1)"), std::string::npos);
  EXPECT_NE(text.find("lora.r by -25 % and +25 %"), std::string::npos) << text;
  EXPECT_EQ(text.find("gpu.memory_bytes by"), std::string::npos) << text;  // rounding alone is no note
  const auto j = nlohmann::json::parse(render_json(a.value()));
  EXPECT_DOUBLE_EQ(j["sensitivity"]["lora.r"]["plus_1_percent"]["value_change_percent"].get<double>(), 25.0);
}

TEST(Analyze, BinaryInfeasibilityIsExplained) {
  auto a = analyze(Params(), SolveOptions{Domain::kBinary});
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->result.status, SolveStatus::kInfeasible);
  // ceil(1e-6 s / (2*512*4/15.7e12 s)) = ceil(3833.0078) = 3834 tokens would hide the latency.
  EXPECT_NE(a->infeasibility_reason.find("b1 >= 3834"), std::string::npos) << a->infeasibility_reason;
  EXPECT_NE(a->infeasibility_reason.find("binary domain allows at most b1 <= 1"), std::string::npos)
      << a->infeasibility_reason;
  EXPECT_NE(a->infeasibility_reason.find("LATENCY"), std::string::npos);
}

TEST(Analyze, MemoryInfeasibilityIsExplained) {
  Params p;
  p.set(ParamId::kGpuMemoryBytes, 1000000);
  auto a = analyze(p);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->result.status, SolveStatus::kInfeasible);
  EXPECT_NE(a->infeasibility_reason.find("memory and batch-limit rows (here mem_s1) allow at most b1 <= 480"),
            std::string::npos)
      << a->infeasibility_reason;
}

TEST(Analyze, ZeroLatencyInfeasibilityNamesWhatBinds) {
  // LATENCY = 0: nothing to hide; one block of 4 tokens on the GPU already breaks the
  // batch-latency row, and tokens on the device need b1 >= one block (sync_s1).
  Params p;
  ASSERT_TRUE(set_param(p, "link.latency_s", "0").ok());
  ASSERT_TRUE(set_param(p, "lora.block_tokens", "4").ok());
  ASSERT_TRUE(set_param(p, "lora.max_batch_latency_s", "1e-12").ok());
  auto a = analyze(p);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->result.status, SolveStatus::kInfeasible);
  const std::string& why = a->infeasibility_reason;
  EXPECT_EQ(why.find("hide the latency"), std::string::npos) << why;
  EXPECT_NE(why.find("LATENCY = 0 nothing has to be hidden"), std::string::npos) << why;
  EXPECT_NE(why.find("b1 >= 4 (one block)"), std::string::npos) << why;
  EXPECT_NE(why.find("(here max_latency) allow at most b1 <= 0"), std::string::npos) << why;
}

TEST(Analyze, RowsThatOneBlockBreaksAreNamed) {
  // Pipeline model: not one block fits the batch-latency row on any path; the reason
  // names, for each path, the row its one-block plan breaks and both sides.
  Params p;
  ASSERT_TRUE(set_param(p, "model.name", "pipeline").ok());
  ASSERT_TRUE(set_param(p, "lora.max_batch_latency_s", "1e-12").ok());
  auto a = analyze(p);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->result.status, SolveStatus::kInfeasible);
  const std::string& why = a->infeasibility_reason;
  EXPECT_NE(why.find("not even one block of 1 tokens fits"), std::string::npos) << why;
  for (const char* col : {"b1 = 1 breaks max_latency (", "b2 = 1 breaks max_latency ("}) {
    EXPECT_NE(why.find(col), std::string::npos) << col << " in " << why;
  }
  EXPECT_NE(why.find("> 1e-12 s"), std::string::npos) << why;
}

TEST(Analyze, BinaryCertificateBoundsItsChecks) {
  Params p;
  ASSERT_TRUE(set_param(p, "link.latency_s", "0").ok());
  auto a = analyze(p, SolveOptions{Domain::kBinary});
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->result.status, SolveStatus::kOptimal);
  EXPECT_EQ(a->result.certificate.iterations, 7);
  EXPECT_EQ(a->result.certificate.iteration_bound, 7);
}

TEST(Analyze, InvalidParametersAreAnError) {
  Params p;
  p.set(ParamId::kLoraR, 1024);
  auto a = analyze(p);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().code, ErrorCode::kInconsistent);
}

}  // namespace
}  // namespace lorasplit
