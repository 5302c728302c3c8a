// Every built-in preset against a brute force over every b1 (with b2 = 0, which is
// optimal in the seed model: docs/model.md §3.2, and the best b3 for that b1). Written
// with 128-bit integers from the exact parameters, sharing no code with the solver.
#include <gtest/gtest.h>
#include <lorasplit/lorasplit.hpp>

namespace lorasplit {
namespace {

__extension__ using i128 = __int128;

i128 to_i128(const Integer& z) {
  // |z| < 2^126 is asserted by the caller's magnitudes.
  const Integer hi = z >> 64;
  const Integer lo = z - (hi << 64);
  return (static_cast<i128>(hi.get_si()) << 64) + static_cast<i128>(static_cast<unsigned long>(lo.get_ui()));
}

TEST(PresetsBruteForce, EveryPresetMatchesAFullScanOverB1) {
  for (const auto& info : presets()) {
    const Params p = preset(info.name).value();
    const Rational e = p.element_bytes(), d = p.d(), r = p.r();
    // Stage 1 with b2 = 0:  L + alpha*b3 <= gamma*b1, alpha = e d/BW + 2dr/F_c, gamma = 2dr/F_g.
    const Rational alpha = e * d / p.link_bandwidth_bytes_per_s() + 2 * d * r / p.cxl_flops();
    const Rational gamma = 2 * d * r / p.gpu_flops();
    Integer den = 1;
    for (const Rational* x : {&alpha, &gamma, &p.link_latency_s()}) {
      mpz_lcm(den.get_mpz_t(), den.get_mpz_t(), x->get_den_mpz_t());
    }
    const i128 A = to_i128(Rational(alpha * den).get_num());
    const i128 G = to_i128(Rational(gamma * den).get_num());
    const i128 L = to_i128(Rational(p.link_latency_s() * den).get_num());
    // Memory: b1 + b3 <= M/(e d) (mem_x); b1 <= (M - e r d)/(e (r + d)) (mem_s2, which implies mem_s1).
    const Integer M = p.gpu_memory_bytes().get_num();
    const Integer ei = e.get_num(), di = d.get_num(), ri = r.get_num();
    const i128 n_max = to_i128(Integer(M / (ei * di)));
    const i128 p_max = to_i128(Integer((M - ei * ri * di) / (ei * (ri + di))));
    // Scan: maximise (b1 + b3) / (2 b1) by cross-multiplication.
    i128 best_n = 0, best_d = 1, best_b1 = -1, best_b3 = -1;
    for (i128 b1 = 1; b1 <= p_max; ++b1) {
      const i128 slack = G * b1 - L;
      if (slack < 0) continue;
      i128 b3 = slack / A;
      if (b3 > n_max - b1) b3 = n_max - b1;
      if (b3 < 0) continue;
      const i128 num = b1 + b3, dd = 2 * b1;
      if (num * best_d > best_n * dd) {
        best_n = num;
        best_d = dd;
        best_b1 = b1;
        best_b3 = b3;
      }
    }
    auto result = analyze(p);
    ASSERT_TRUE(result.ok()) << info.name;
    ASSERT_EQ(result->result.status, SolveStatus::kOptimal) << info.name;
    const Plan& plan = result->result.plan;
    // Same exact throughput (ties may pick another plan).
    const Rational scan_ratio = make_rational(Integer(static_cast<long>(best_n)), Integer(static_cast<long>(best_d)));
    const Rational solver_ratio = make_rational(plan.tokens(), 2 * plan.b[0] + plan.b[1]);
    EXPECT_EQ(solver_ratio, scan_ratio) << info.name << ": scan b1=" << static_cast<long>(best_b1)
                                        << " b3=" << static_cast<long>(best_b3) << ", solver b1=" << plan.b[0]
                                        << " b3=" << plan.b[2];
    EXPECT_EQ(plan.b[1], 0) << info.name;
  }
}

}  // namespace
}  // namespace lorasplit
