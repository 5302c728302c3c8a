// Large instances against a brute force over every b1 (with b2 = 0, which is optimal in
// every seed-family variant: docs/model.md §3.2, and the best b3 for that b1). Written
// with 128-bit integers from the exact parameters, sharing no code with the solver.
#include <gtest/gtest.h>
#include <lorasplit/lorasplit.hpp>

#include <string>
#include <vector>

namespace lorasplit {
namespace {

__extension__ using i128 = __int128;

i128 to_i128(const Integer& z) {
  // |z| < 2^126 for every instance below.
  const Integer hi = z >> 64;
  const Integer lo = z - (hi << 64);
  return (static_cast<i128>(hi.get_si()) << 64) + static_cast<i128>(static_cast<unsigned long>(lo.get_ui()));
}


// Best (b1 + b3)/(2 b1) over b1, b3 multiples of k with
//   L + alpha*b3 <= gamma*b1              (sync_s1, b2 = 0)
//   b1 + b3 <= n_max                       (mem_x and lora.max_batch_tokens)
//   b1 <= p_max                            (mem_s2, which implies mem_s1; lora.max_batch_latency_s: 2 gamma b1 <= T)
struct Scan {
  i128 num{0}, den{1}, b1{-1}, b3{-1};
};

Scan scan(const Params& p) {
  const Rational e = p.element_bytes(), d = p.d(), r = p.r();
  const Rational alpha = e * d / p.link_bandwidth_bytes_per_s() + 2 * d * r / (p.cxl_flops() * p.cxl_efficiency());
  const Rational gamma = 2 * d * r / (p.gpu_flops() * p.gpu_efficiency());
  Integer den = 1;
  for (const Rational* x : {&alpha, &gamma, &p.link_latency_s()}) {
    mpz_lcm(den.get_mpz_t(), den.get_mpz_t(), x->get_den_mpz_t());
  }
  const i128 A = to_i128(Rational(alpha * den).get_num());
  const i128 G = to_i128(Rational(gamma * den).get_num());
  const i128 L = to_i128(Rational(p.link_latency_s() * den).get_num());
  const Rational M = p.gpu_memory_bytes();
  Integer n_max = floor_of(M / (e * d));
  if (p.has(ParamId::kLoraMaxBatchTokens) && p.get(ParamId::kLoraMaxBatchTokens) < n_max) {
    n_max = floor_of(p.get(ParamId::kLoraMaxBatchTokens));
  }
  Integer p_max = floor_of((M - e * r * d) / (e * (r + d)));
  if (p.has(ParamId::kLoraMaxBatchLatencyS)) {
    const Integer t_cap = floor_of(p.get(ParamId::kLoraMaxBatchLatencyS) / (2 * gamma));
    if (t_cap < p_max) p_max = t_cap;
  }
  const i128 k = to_i128(p.block_tokens().get_num());
  const i128 nm = to_i128(n_max), pm = to_i128(p_max);
  Scan best;
  for (i128 b1 = k; b1 <= pm; b1 += k) {
    const i128 slack = G * b1 - L;
    if (slack < 0) continue;
    i128 b3 = slack / A;
    if (b3 > nm - b1) b3 = nm - b1;
    b3 -= b3 % k;
    if (b3 < 0) continue;
    const i128 num = b1 + b3, dd = 2 * b1;
    if (num * best.den > best.num * dd) best = Scan{num, dd, b1, b3};
  }
  return best;
}

void expect_matches_scan(const std::string& name, const Params& p) {
  const Scan s = scan(p);
  auto result = analyze(p);
  ASSERT_TRUE(result.ok()) << name << ": " << result.error().message;
  ASSERT_EQ(result->result.status, SolveStatus::kOptimal) << name;
  const Plan& plan = result->result.plan;
  const Rational scan_ratio = make_rational(Integer(static_cast<long>(s.num)), Integer(static_cast<long>(s.den)));
  const Rational solver_ratio = make_rational(plan.tokens(), 2 * plan.b[0] + plan.b[1]);
  EXPECT_EQ(solver_ratio, scan_ratio) << name << ": scan b1=" << static_cast<long>(s.b1)
                                      << " b3=" << static_cast<long>(s.b3) << ", solver b1=" << plan.b[0]
                                      << " b3=" << plan.b[2];
  EXPECT_EQ(plan.b[1], 0) << name;
  for (auto b : plan.b) EXPECT_EQ(b % p.block_tokens().get_num().get_si(), 0) << name;
}

TEST(PresetsBruteForce, EveryPresetMatchesAFullScanOverB1) {
  for (const auto& info : presets()) expect_matches_scan(std::string(info.name), preset(info.name).value());
}

TEST(PresetsBruteForce, SeedVariantsMatchAFullScanOverB1) {
  const std::vector<std::vector<std::string>> variants = {
      {"gpu.efficiency=0.8", "cxl.efficiency=0.8"},
      {"lora.block_tokens=32"},
      {"lora.block_tokens=7", "cxl.efficiency=0.55"},
      {"lora.element_bytes=2"},
      {"lora.max_batch_tokens=1000000"},
      {"lora.max_batch_latency_s=1 ms"},
      {"lora.max_batch_latency_s=0.25 ms", "lora.block_tokens=32", "gpu.efficiency=0.8"},
      {"link.latency_s=200 ns", "lora.r=16"},
  };
  for (const auto& sets : variants) {
    Params p;
    std::string name;
    for (const auto& s : sets) {
      ASSERT_TRUE(apply_assignment(p, s).ok()) << s;
      name += s + " ";
    }
    expect_matches_scan(name, p);
  }
}

}  // namespace
}  // namespace lorasplit
