// Adversarial magnitudes (issue: robustness): every parameter at and beyond the ends of
// its supported range. Each instance either solves exactly (plan re-checked in exact
// arithmetic, certificate 0) or is rejected up front with a message naming the range.
// The table printed here is the one in docs/model.md §2.2.
#include <gtest/gtest.h>
#include <lorasplit/lorasplit.hpp>

#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace lorasplit {
namespace {

struct Case {
  const char* name;
  std::vector<const char*> sets;
  const char* expect;  // "optimal", "infeasible" or the key of the rejected parameter
};

TEST(Adversarial, ExtremeMagnitudesSolveExactlyOrAreRejected) {
  const std::vector<Case> cases = {
      {"everything at its minimum",
       {"gpu.flops=1e-30", "cxl.flops=1e-30", "link.bandwidth_bytes_per_s=1e-30", "link.latency_s=0", "lora.d=1",
        "lora.r=1", "lora.element_bytes=1", "gpu.memory_bytes=1"},
       "infeasible"},
      {"rates at 1e30, 1 EiB, d=r=1",
       {"gpu.flops=1e30", "cxl.flops=1e30", "link.bandwidth_bytes_per_s=1e30", "link.latency_s=0",
        "gpu.memory_bytes=1 EiB", "lora.d=1", "lora.r=1", "lora.element_bytes=1"},
       "optimal"},
      {"d = r = 1e6, 1 EiB", {"lora.d=1e6", "lora.r=1e6", "gpu.memory_bytes=1 EiB"}, "optimal"},
      {"d = 1e6, r = 1, 16-byte elements, 1 EiB",
       {"lora.d=1e6", "lora.r=1", "lora.element_bytes=16", "gpu.memory_bytes=1 EiB"},
       "optimal"},
      {"latency 1e30 s", {"link.latency_s=1e30"}, "infeasible"},
      {"latency 1e-30 s", {"link.latency_s=1e-30"}, "optimal"},
      {"GPU at 1e-30 FLOP/s, device at 1e30", {"gpu.flops=1e-30", "cxl.flops=1e30"}, "optimal"},
      {"GPU at 1e30 FLOP/s, device at 1e-30", {"gpu.flops=1e30", "cxl.flops=1e-30", "link.latency_s=0"}, "optimal"},
      {"link at 1e-30 B/s", {"link.bandwidth_bytes_per_s=1e-30", "link.latency_s=0"}, "optimal"},
      {"30 significant digits everywhere",
       {"gpu.flops=1.23456789012345678901234567891e13", "cxl.flops=9.87654321098765432109876543211e11",
        "link.bandwidth_bytes_per_s=1.71798691840000000000000000001e10", "link.latency_s=1.00000000000000000000000000001e-6",
        "gpu.memory_bytes=1152921504606846976", "lora.d=1", "lora.r=1"},
       "optimal"},
      {"block of 1e9 tokens in 1 EiB",
       {"lora.block_tokens=1e9", "gpu.memory_bytes=1 EiB", "lora.d=1", "lora.r=1", "lora.element_bytes=1"},
       "optimal"},
      {"efficiency 1e-9", {"gpu.efficiency=1e-9", "cxl.efficiency=1e-9"}, "optimal"},
      {"d above 1e6", {"lora.d=1000001"}, "lora.d"},
      {"memory above 1 EiB", {"gpu.memory_bytes=1152921504606846977"}, "gpu.memory_bytes"},
      {"FLOPS above 1e30", {"gpu.flops=1.0000001e30"}, "gpu.flops"},
      {"bandwidth below 1e-30", {"link.bandwidth_bytes_per_s=9.99e-31"}, "link.bandwidth_bytes_per_s"},
      {"latency above 1e30", {"link.latency_s=2e30"}, "link.latency_s"},
  };
  std::printf("%-42s %-12s %22s %22s %22s %5s\n", "case", "outcome", "b1", "b2", "b3", "iter");
  for (const auto& c : cases) {
    Params p;
    Status st;
    for (const char* s : c.sets) {
      st = apply_assignment(p, s);
      if (!st) break;
    }
    if (st) st = validate(p);
    if (!st) {
      EXPECT_EQ(st.error().key, c.expect) << c.name << ": " << st.error().message;
      EXPECT_NE(st.error().message.find("range"), std::string::npos) << st.error().message;
      std::printf("%-42s %-12s %s\n", c.name, "rejected", st.error().message.c_str());
      continue;
    }
    auto a = analyze(p);
    ASSERT_TRUE(a.ok()) << c.name << ": " << a.error().message;
    const SolveResult& r = a->result;
    EXPECT_EQ(std::string(to_string(r.status)), c.expect) << c.name;
    if (r.status == SolveStatus::kOptimal) {
      EXPECT_TRUE(is_feasible(a->model, r.plan)) << c.name;
      EXPECT_EQ(r.certificate.final_subproblem_max, 0) << c.name;
      EXPECT_EQ(r.certificate.lambda_tokens_per_s, r.throughput_tokens_per_s) << c.name;
      EXPECT_LE(r.certificate.iterations, r.certificate.iteration_bound) << c.name;
    }
    std::printf("%-42s %-12s %22lld %22lld %22lld %5d\n", c.name, std::string(to_string(r.status)).c_str(),
                static_cast<long long>(r.plan.b[0]), static_cast<long long>(r.plan.b[1]),
                static_cast<long long>(r.plan.b[2]), r.certificate.iterations);
  }
}

// The most Dinkelbach subproblems seen over 200,000 random instances when Dinkelbach
// started at λ = 0 (5 subproblems, bound 8), kept as a regression. The warm start at the
// envelope corner with the best ratio (docs/model.md §3.4) now needs 2: the corner's
// ratio, one improving step, and the proof; the throughput path still increases strictly.
TEST(Adversarial, WorstDinkelbachInstanceFound) {
  Params p;
  for (const char* s : {"gpu.memory_bytes=489", "link.latency_s=0", "cxl.flops=144", "link.bandwidth_bytes_per_s=120",
                        "lora.d=6", "lora.r=2", "gpu.flops=24", "lora.element_bytes=4"}) {
    ASSERT_TRUE(apply_assignment(p, s).ok()) << s;
  }
  auto r = solve(build_seed_model(p));
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, SolveStatus::kOptimal);
  EXPECT_EQ(r->certificate.iterations, 2);
  EXPECT_EQ(r->certificate.iteration_bound, 6);
  const auto& path = r->certificate.lambda_path;
  ASSERT_EQ(path.size(), 2U);  // the corner's ratio, one improving step, then the proof step
  for (std::size_t i = 1; i < path.size(); ++i) EXPECT_GT(path[i], path[i - 1]);
}

// The bound holds on random instances of every variant.
TEST(Adversarial, IterationBoundHoldsOnRandomInstances) {
  std::mt19937_64 rng(99);
  int checked = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    Params p;
    auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
    p.set(ParamId::kGpuMemoryBytes, Rational(pick(1, 1L << 40)));
    p.set(ParamId::kLinkLatencyS, make_rational(pick(0, 100000), 1000000000));
    p.set(ParamId::kCxlFlops, Rational(pick(1, 100000)) * Rational(Integer("10000000")));
    p.set(ParamId::kLinkBandwidthBytesPerS, Rational(pick(1, 100000)) * Rational(Integer("1000000")));
    p.set(ParamId::kLoraD, pick(1, 4096));
    p.set(ParamId::kLoraR, 1);
    p.set(ParamId::kLoraBlockTokens, pick(1, 4));
    if (!validate(p).ok()) continue;
    auto r = solve(build_seed_model(p));
    ASSERT_TRUE(r.ok()) << r.error().message;
    if (r->status != SolveStatus::kOptimal) continue;
    ++checked;
    ASSERT_LE(r->certificate.iterations, r->certificate.iteration_bound);
  }
  EXPECT_GE(checked, 1000);
}

}  // namespace
}  // namespace lorasplit
