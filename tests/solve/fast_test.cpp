// The fixed-width fast path (docs/model.md §3.10) against the general GMP solver: the
// same integer form, the same answer and certificate on random instances, a fallback
// (not a wrong answer) when 128 bits do not suffice, and the checked 128-bit integers
// themselves.
#include <gtest/gtest.h>
#include <lorasplit/lorasplit.hpp>

#include <cstdio>
#include <random>

#include "solve/dinkelbach.hpp"
#include "solve/fast.hpp"
#include "solve/int128.hpp"
#include "solve/problem.hpp"
#include "support/reference.hpp"

namespace lorasplit::detail {
namespace {

SolveOptions lean(bool fast) {
  SolveOptions o;
  o.explain = false;
  o.relaxation_bound = false;
  o.fast_path = fast;
  return o;
}

// Small instances (ties, tight rows), realistic magnitudes, and extreme ones (30-digit
// rates, up to 1 EiB) where 128 bits may not suffice; variants on top.
Params random_seed_instance(std::mt19937_64& rng, int trial) {
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  Params p;
  switch (trial % 3) {
    case 0: p = testing::random_small_instance(rng, 40); break;
    case 1:  // what a user writes: "312 TFLOPS", "128 GiB/s" or "64 GB/s", "0.2 us", up to 1 PiB
      p.set(ParamId::kGpuMemoryBytes, Rational(pick(1, 1L << 50)));
      p.set(ParamId::kGpuFlops, Rational(pick(1, 4000)) * Rational(Integer("100000000000")));
      p.set(ParamId::kCxlFlops, Rational(pick(1, 100000)) * Rational(Integer("10000000")));
      p.set(ParamId::kLinkBandwidthBytesPerS,
            pick(0, 1) == 0 ? Rational(pick(1, 100000)) * Rational(Integer("10000000")) : Rational(pick(1, 4096) << 30));
      p.set(ParamId::kLinkLatencyS, make_rational(pick(0, 5000), 1000000000));
      p.set(ParamId::kLoraD, pick(64, 16384));
      p.set(ParamId::kLoraR, pick(1, 64));
      p.set(ParamId::kLoraElementBytes, std::array<long, 3>{1, 2, 4}[static_cast<std::size_t>(pick(0, 2))]);
      break;
    default:  // arbitrary rationals and extreme magnitudes
      p.set(ParamId::kGpuMemoryBytes, Rational(Integer(1) << static_cast<unsigned long>(pick(30, 60))));
      p.set(ParamId::kGpuFlops, make_rational(Integer(pick(1, 1L << 62)) * Integer("1000000000000"), pick(1, 999)));
      p.set(ParamId::kCxlFlops, make_rational(Integer(pick(1, 1L << 62)), pick(1, 1L << 40)));
      p.set(ParamId::kLinkBandwidthBytesPerS, make_rational(pick(1, 1L << 62), pick(1, 1L << 20)));
      p.set(ParamId::kLinkLatencyS, make_rational(pick(0, 1L << 40), Integer("1000000000000000000000")));
      p.set(ParamId::kLoraD, pick(1, 1000000));
      p.set(ParamId::kLoraR, 1);
      break;
  }
  if (pick(0, 1) == 0) testing::add_random_variants(rng, p);
  return p;
}

// The fast integer form of p equals to_integer_form's, row for row.
void expect_general_integer_form(const Params& p, const BasicIntProblem<Int128>& fast) {
  const IntProblem general = to_integer_form(build_seed_model(p), p.block_tokens().get_num().get_si());
  ASSERT_EQ(fast.rows.size(), general.rows.size());
  for (std::size_t i = 0; i < fast.rows.size(); ++i) {
    const auto& f = fast.rows[i];
    const auto& g = general.rows[i];
    EXPECT_EQ(f.name, g.name);
    EXPECT_EQ(f.kind, g.kind) << f.name;
    for (std::size_t j = 0; j < 3; ++j) EXPECT_EQ(to_integer(f.a[j]), g.a[j]) << f.name;
    EXPECT_EQ(to_integer(f.h_lp.num), g.h_lp.num) << f.name;
    EXPECT_EQ(to_integer(f.h_lp.den), g.h_lp.den) << f.name;
    EXPECT_EQ(to_integer(f.h_int), g.h_int) << f.name;
  }
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_EQ(to_integer(fast.p[j]), general.p[j]);
    EXPECT_EQ(to_integer(fast.q[j]), general.q[j]);
  }
  EXPECT_EQ(to_integer(fast.p0), general.p0);
  EXPECT_EQ(to_integer(fast.q0), general.q0);
  EXPECT_EQ(to_integer(fast.scale_n), general.scale_n);
  EXPECT_EQ(to_integer(fast.scale_d), general.scale_d);
}

TEST(FastPath, IntegerFormEqualsTheGeneralOne) {
  std::mt19937_64 rng(31);
  int compared = 0;
  for (int trial = 0; compared < 1500 / testing::kSanitizerDivisor; ++trial) {
    const Params p = random_seed_instance(rng, trial);
    if (!validate(p).ok()) continue;
    BasicIntProblem<Int128> fast;
    try {
      if (!seed_integer_form_128(p, fast)) continue;
    } catch (const Overflow&) {
      continue;
    }
    ++compared;
    expect_general_integer_form(p, fast);
  }
}

// As a sweep builds them: one parameter changes from one instance to the next, so the
// row groups that do not read it come from the thread's cache (after an Overflow too).
TEST(FastPath, IntegerFormOfOneChangeAtATimeEqualsTheGeneralOne) {
  std::mt19937_64 rng(47);
  Params p;
  int compared = 0, overflowed = 0;
  for (int step = 0; compared < 3000 / testing::kSanitizerDivisor; ++step) {
    // The new value of one parameter, drawn from another random instance.
    const Params donor = random_seed_instance(rng, step);
    const auto specs = param_specs();
    const ParamSpec& s = specs[std::uniform_int_distribution<std::size_t>(0, specs.size() - 1)(rng)];
    if (s.pipeline_only || s.id == ParamId::kModelName) continue;
    Params next = p;
    if (donor.has(s.id)) {
      next.set(s.id, donor.get(s.id));
    } else {
      next.clear(s.id);
    }
    if (!validate(next).ok()) continue;
    p = next;
    BasicIntProblem<Int128> fast;
    try {
      if (!seed_integer_form_128(p, fast)) continue;
    } catch (const Overflow&) {
      ++overflowed;
      continue;
    }
    ++compared;
    expect_general_integer_form(p, fast);
  }
  EXPECT_GT(overflowed, 0);  // the extreme instances interrupt a build now and then
}

TEST(FastPath, SameAnswerAndCertificateAsTheGeneralSolver) {
  std::mt19937_64 rng(32);
  int instances = 0, fixed = 0, fell_back = 0;
  std::array<std::array<int, 2>, 3> by_kind{};  // small, realistic, extreme: general, fixed width
  const std::vector<std::vector<bool>> zeros{
      {false, false, false}, {false, true, false}, {false, false, true}, {true, true, false}};
  for (int trial = 0; instances < 3000 / testing::kSanitizerDivisor; ++trial) {
    const Params p = random_seed_instance(rng, trial);
    if (!validate(p).ok()) continue;
    ++instances;
    SolveOptions fo = lean(true), go = lean(false);
    fo.force_zero = go.force_zero = zeros[static_cast<std::size_t>(trial) % zeros.size()];
    auto f = solve(p, fo);
    auto g = solve(p, go);
    ASSERT_EQ(f.ok(), g.ok()) << trial;
    if (!f.ok()) {
      EXPECT_EQ(f.error().message, g.error().message);
      continue;
    }
    EXPECT_FALSE(g->certificate.fixed_width);
    (f->certificate.fixed_width ? fixed : fell_back) += 1;
    by_kind[static_cast<std::size_t>(trial % 3)][f->certificate.fixed_width ? 1 : 0] += 1;
    ASSERT_EQ(f->status, g->status) << trial;
    if (f->status != SolveStatus::kOptimal) continue;
    EXPECT_EQ(f->plan, g->plan) << trial;
    EXPECT_EQ(f->point, g->point) << trial;
    EXPECT_EQ(f->throughput_tokens_per_s, g->throughput_tokens_per_s) << trial;
    EXPECT_EQ(f->certificate.lambda_tokens_per_s, g->certificate.lambda_tokens_per_s);
    EXPECT_EQ(f->certificate.final_subproblem_max, g->certificate.final_subproblem_max);
    EXPECT_EQ(f->certificate.iterations, g->certificate.iterations) << trial;
    EXPECT_EQ(f->certificate.iteration_bound, g->certificate.iteration_bound) << trial;
    EXPECT_TRUE(is_feasible(build_seed_model(p), f->plan));
  }
  for (std::size_t k = 0; k < 3; ++k) {
    std::printf("[ fast path ] %s instances: %d fixed width, %d general\n",
                std::array<const char*, 3>{"small", "realistic", "extreme"}[k], by_kind[k][1], by_kind[k][0]);
  }
  // Realistic instances take the fast path; the others include three-column cases (the
  // lattice-hyperplane oracle) and numbers beyond 128 bits.
  EXPECT_GT(by_kind[1][1], 9 * by_kind[1][0]);
  EXPECT_GT(fixed, 0);
  EXPECT_GT(fell_back, 0);
}

TEST(FastPath, PresetsAndTheMemoryRangeTakeIt) {
  for (const auto& info : presets()) {
    const Params p = preset(info.name).value();
    auto r = solve(p, lean(true));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->certificate.fixed_width) << info.name;
    EXPECT_EQ(r->plan, solve(p, lean(false))->plan) << info.name;
  }
  for (unsigned k = 30; k <= 60; k += 2) {
    Params p;
    p.set(ParamId::kGpuMemoryBytes, Rational(Integer(1) << k));
    auto r = solve(p, lean(true));
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->certificate.fixed_width) << "2^" << k << " B";
    EXPECT_EQ(r->plan, solve(p, lean(false))->plan) << "2^" << k << " B";
  }
}

TEST(FastPath, NotTakenWhenTheCertificateIsExplainedOrTheModelDiffers) {
  Params p;
  EXPECT_FALSE(solve(p)->certificate.fixed_width);  // the default explains the path
  SolveOptions o = lean(true);
  o.domain = Domain::kBinary;
  EXPECT_FALSE(solve(p, o)->certificate.fixed_width);
  o = lean(true);
  o.relaxation_bound = true;
  EXPECT_FALSE(solve(p, o)->certificate.fixed_width);
  ASSERT_TRUE(set_param(p, "model.name", "pipeline").ok());
  EXPECT_FALSE(solve(p, lean(true))->certificate.fixed_width);
}

TEST(FastPath, ExtrasEqualTheAnalysis) {
  std::mt19937_64 rng(33);
  int compared = 0;
  // One result and one extras object for every call, as a sweep's thread keeps them; each
  // instance is followed by the same with another link bandwidth (the memory rows and the
  // GPU-only baseline are then the previous ones).
  SolveResult res;
  FastExtras extras;
  int gains = 0;
  for (int trial = 0; compared < 600 / testing::kSanitizerDivisor; ++trial) {
    Params p = random_seed_instance(rng, trial);
    for (int variant = 0; variant < 2; ++variant) {
      if (variant == 1) {
        p.set(ParamId::kLinkBandwidthBytesPerS,
              Rational(std::uniform_int_distribution<long>(1, 1L << 40)(rng)) / Rational(1000));
      }
      if (!validate(p).ok()) continue;
      Error err;
      if (fast_solve(p, lean(true), res, err, &extras) != FastStatus::kSolved) continue;
      ++compared;
      auto a = analyze(p, lean(false), AnalyzeOptions{false, false});
      ASSERT_TRUE(a.ok());
      ASSERT_EQ(res.status, a->result.status);
      EXPECT_EQ(extras.gpu_only_tokens_per_s, a->gpu_only_tokens_per_s) << trial;
      EXPECT_EQ(extras.gpu_only_b1, a->gpu_only_b1) << trial;
      if (res.status == SolveStatus::kOptimal) {
        EXPECT_EQ(extras.binding, a->binding) << trial;
        EXPECT_EQ(extras.gain_percent, a->gain_percent) << trial;
        if (extras.gain_percent) ++gains;
      }
    }
  }
  EXPECT_GT(gains, 100);
}

// ---- the checked 128-bit integers ----

TEST(Int128, OverflowThrowsInsteadOfWrapping) {
  const Int128 big = Int128::raw(static_cast<i128>((static_cast<u128>(1) << 126)));
  EXPECT_THROW((void)(big * Int128(2)), Overflow);  // 2^127
  EXPECT_NO_THROW((void)(-big * Int128(2)));         // -2^127 fits
  EXPECT_THROW((void)(big + big), Overflow);
  EXPECT_THROW((void)(-big - big - Int128(1)), Overflow);
  const Int128 min = -big * Int128(2);
  EXPECT_THROW((void)(-min), Overflow);
  EXPECT_THROW((void)(min / Int128(-1)), Overflow);
  EXPECT_THROW((void)(Int128(1) / Int128(0)), Overflow);
  EXPECT_THROW((void)(Int128(1L << 62) * Int128(1L << 62) * Int128(1L << 4)), Overflow);
  EXPECT_EQ(to_integer(Int128(1L << 62) * Int128(1L << 62) * Int128(1L << 2)), Integer(1) << 126);
}

TEST(Int128, AgreesWithGmp) {
  std::mt19937_64 rng(34);
  const auto random_value = [&rng]() {
    const int bits = std::uniform_int_distribution<int>(0, 126)(rng);
    Integer x = 0;
    for (int i = 0; i < bits; ++i) x = x * 2 + static_cast<long>(rng() & 1);
    return (rng() & 1) != 0 ? Integer(-x) : x;
  };
  for (int i = 0; i < 20000 / testing::kSanitizerDivisor; ++i) {
    const Integer a = random_value(), b = random_value();
    const Int128 x = *to_int128(a), y = *to_int128(b);
    EXPECT_EQ(to_integer(x), a);
    EXPECT_EQ(to_integer(gcd(x, y)), gcd(a, b));
    EXPECT_EQ(bit_length(x), bit_length(a));
    EXPECT_EQ(product_bit_length(x, y, y), product_bit_length(a, b, b));
    if (b != 0) {
      Int128 q, r;
      fdiv_qr(q, r, x, y);
      Integer gq, gr;
      fdiv_qr(gq, gr, a, b);
      EXPECT_EQ(to_integer(q), gq);
      EXPECT_EQ(to_integer(r), gr);
      EXPECT_EQ(to_integer(x / y), Integer(a / b));
      EXPECT_EQ(to_integer(x % y), Integer(a % b));
      EXPECT_EQ(to_integer(ceil_div(x, y)), ceil_div(a, b));
    }
    const Integer prod = a * b, sum = a + b;
    const bool fits = bit_length(prod) <= 126;
    if (fits) {
      EXPECT_EQ(to_integer(x * y), prod);
    }
    if (bit_length(sum) <= 126) {
      EXPECT_EQ(to_integer(x + y), sum);
    }
  }
  EXPECT_FALSE(to_int128(Integer(1) << 127).has_value());
}

// A recorded walk evaluated for many objectives equals a fresh walk for each, in both
// integer types.
TEST(LinePlan, ReplayEqualsFreshWalks) {
  std::mt19937_64 rng(35);
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  for (int i = 0; i < 2000 / testing::kSanitizerDivisor; ++i) {
    const long s = pick(-50, 50), t = s + pick(0, 1L << pick(1, 40));
    const long a = pick(-1000000, 1000000), c = pick(1, 1000000), h = pick(-(1L << 40), 1L << 40);
    const LinePlan<Integer> gp{Integer(s), Integer(t), Integer(a), Integer(h), Integer(c)};
    const LinePlan<Int128> fp{Int128(s), Int128(t), Int128(a), Int128(h), Int128(c)};
    for (int k = 0; k < 4; ++k) {
      const long u = pick(-1000000, 1000000), v = pick(1, 1000000);
      const auto fresh = LinePlan<Integer>(Integer(s), Integer(t), Integer(a), Integer(h), Integer(c))
                             .eval(Integer(u), Integer(v));
      if (t - s <= 3000) {  // brute force: the first maximiser in walk order
        const bool forward = a <= 0;
        std::optional<Integer> best;
        Integer bx;
        for (long j = 0; j <= t - s; ++j) {
          const long x = forward ? s + j : t - j;
          const Integer y = floor_div(Integer(h - a * x), Integer(c));
          const Integer val = Integer(u) * x + Integer(v) * y;
          if (!best || val > *best) {
            best = val;
            bx = x;
          }
        }
        EXPECT_EQ(fresh.value, *best);
        EXPECT_EQ(fresh.x, bx);
      }
      const auto g = gp.eval(Integer(u), Integer(v));
      const auto f = fp.eval(Int128(u), Int128(v));
      EXPECT_EQ(g.x, fresh.x);
      EXPECT_EQ(g.y, fresh.y);
      EXPECT_EQ(g.value, fresh.value);
      EXPECT_EQ(to_integer(f.x), fresh.x);
      EXPECT_EQ(to_integer(f.y), fresh.y);
      EXPECT_EQ(to_integer(f.value), fresh.value);
    }
  }
}

}  // namespace
}  // namespace lorasplit::detail
