// The lean solver (docs/model.md §3.10) against the general GMP solver: the integer forms
// built from the symbolic rows equal to_integer_form's, the same answer and certificate
// on random seed and pipeline instances, GMP (not a wrong answer) where 128 bits do not
// suffice, the sweep's extras equal to analyze()'s; and the checked 128-bit integers.
#include <gtest/gtest.h>
#include <lorasplit/lorasplit.hpp>

#include <cstdio>
#include <random>

#include "analysis/extras.hpp"
#include "model/formulate.hpp"
#include "solve/dinkelbach.hpp"
#include "solve/int128.hpp"
#include "solve/intform.hpp"
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

// The same instance under the pipeline model with random switches (some cases in 3-D).
Params with_random_switches(std::mt19937_64& rng, Params p) {
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  (void)set_param(p, "model.name", "pipeline");
  (void)set_param(p, "pipeline.no_credit", pick(0, 3) ? "on" : "off");
  (void)set_param(p, "pipeline.transfer_latency", pick(0, 3) ? "on" : "off");
  (void)set_param(p, "link.duplex", pick(0, 1) ? "full" : "shared");
  (void)set_param(p, "pipeline.relaxed_sync", pick(0, 3) ? "on" : "off");
  (void)set_param(p, "lora.weights", std::array<const char*, 3>{"both", "gpu", "cxl"}[static_cast<std::size_t>(pick(0, 2))]);
  if (pick(0, 1)) p.set(ParamId::kPipelineChunkTokens, pick(1, 256));
  if (pick(0, 3) == 0) p.set(ParamId::kCxlMemoryBytes, Rational(Integer(1) << static_cast<unsigned long>(pick(10, 40))));
  return p;
}

// Every case's integer form, built from the symbolic rows by `forms`, equals
// to_integer_form of the evaluated case, row for row.
template <class I>
void expect_general_integer_forms(const Params& p, IntegerForms<I>& forms, int& compared, int& overflowed) {
  const auto& c = forms.compiled();
  ParamValues<I> v;
  if (!v.load(p, c.reads())) return;
  const std::int64_t k = p.block_tokens().get_num().get_si();
  for (std::size_t ci = 0; ci < c.cases(); ++ci) {
    BasicIntProblem<I> fast;
    try {
      std::vector<std::uint64_t> stamps;
      forms.build(ci, v, fast, stamps);
    } catch (const Overflow&) {
      ++overflowed;
      continue;
    }
    ++compared;
    const Model m = evaluate(c.formulation(), c.formulation().cases[ci], p);
    const IntProblem general = to_integer_form(m, k);
    ASSERT_EQ(fast.rows.size(), general.rows.size());
    for (std::size_t i = 0; i < fast.rows.size(); ++i) {
      const auto& f = fast.rows[i];
      const auto& g = general.rows[i];
      EXPECT_EQ(f.name, g.name);
      EXPECT_EQ(f.kind, g.kind) << f.name;
      for (std::size_t j = 0; j < g.a.size(); ++j) EXPECT_EQ(to_integer(f.a[j]), g.a[j]) << f.name;
      EXPECT_EQ(to_integer(f.h_lp.num), g.h_lp.num) << f.name;
      EXPECT_EQ(to_integer(f.h_lp.den), g.h_lp.den) << f.name;
      EXPECT_EQ(to_integer(f.h_int), g.h_int) << f.name;
    }
    for (std::size_t j = 0; j < general.p.size(); ++j) {
      EXPECT_EQ(to_integer(fast.p[j]), general.p[j]);
      EXPECT_EQ(to_integer(fast.q[j]), general.q[j]);
      EXPECT_EQ(fast.fixed_zero[j], general.fixed_zero[j]);
      EXPECT_EQ(fast.offset[j], general.offset[j]);
    }
    EXPECT_EQ(to_integer(fast.p0), general.p0);
    EXPECT_EQ(to_integer(fast.q0), general.q0);
    EXPECT_EQ(to_integer(fast.scale_n), general.scale_n);
    EXPECT_EQ(to_integer(fast.scale_d), general.scale_d);
  }
}

std::shared_ptr<const CompiledFormulation> compiled_for(const Params& p) {
  return std::make_shared<CompiledFormulation>(std::make_shared<SymFormulation>(formulate(describe(p))));
}

TEST(Lean, IntegerFormsEqualTheGeneralOnes) {
  std::mt19937_64 rng(31);
  int compared = 0, overflowed = 0, compared_gmp = 0;
  for (int trial = 0; compared < 1500 / testing::kSanitizerDivisor; ++trial) {
    Params p = random_seed_instance(rng, trial);
    if (trial % 4 == 3) p = with_random_switches(rng, p);
    if (!validate(p).ok()) continue;
    const auto c = compiled_for(p);
    IntegerForms<Int128> narrow(c);
    expect_general_integer_forms(p, narrow, compared, overflowed);
    if (trial % 10 == 0) {
      IntegerForms<Integer> wide(c);
      int none = 0;
      expect_general_integer_forms(p, wide, compared_gmp, none);
      EXPECT_EQ(none, 0);
    }
  }
  EXPECT_GT(compared_gmp, 0);
}

// As a sweep builds them: one parameter changes from one instance to the next, so the
// rows that do not read it come from the cache (after an Overflow too).
TEST(Lean, IntegerFormsOfOneChangeAtATimeEqualTheGeneralOnes) {
  std::mt19937_64 rng(47);
  for (const bool pipeline : {false, true}) {
    Params p;
    if (pipeline) p = with_random_switches(rng, p);
    const auto c = compiled_for(p);
    IntegerForms<Int128> forms(c);
    int compared = 0, overflowed = 0;
    for (int step = 0; compared < (pipeline ? 6000 : 3000) / testing::kSanitizerDivisor; ++step) {
      // The new value of one numeric parameter, drawn from another random instance.
      const Params donor = random_seed_instance(rng, step);
      const auto specs = param_specs();
      const ParamSpec& s = specs[std::uniform_int_distribution<std::size_t>(0, specs.size() - 1)(rng)];
      if (s.pipeline_only || s.serving_only || s.dimension == Dimension::kChoice || s.optional) continue;
      Params next = p;
      next.set(s.id, donor.get(s.id));
      if (!validate(next).ok()) continue;
      p = next;
      expect_general_integer_forms(p, forms, compared, overflowed);
    }
    EXPECT_GT(overflowed, 0);  // the extreme instances interrupt a build now and then
  }
}

TEST(Lean, SameAnswerAndCertificateAsTheGeneralSolver) {
  std::mt19937_64 rng(32);
  int instances = 0, fixed = 0, fell_back = 0, pipelines = 0;
  std::array<std::array<int, 2>, 3> by_kind{};  // small, realistic, extreme: general, fixed width
  const std::vector<std::vector<bool>> zeros{
      {false, false, false}, {false, true, false}, {false, false, true}, {true, true, false}};
  LeanSolver solver;  // one for every call, as a sweep's thread keeps it
  for (int trial = 0; instances < 3000 / testing::kSanitizerDivisor; ++trial) {
    Params p = random_seed_instance(rng, trial);
    const bool pipeline = trial % 5 == 4;
    if (pipeline) p = with_random_switches(rng, p);
    if (!validate(p).ok()) continue;
    ++instances;
    SolveOptions fo = lean(true), go = lean(false);
    fo.force_zero = go.force_zero = zeros[static_cast<std::size_t>(trial) % zeros.size()];
    SolveResult f;
    const Status fs = solver.solve(p, fo, f);
    auto g = solve(p, go);
    ASSERT_EQ(fs.ok(), g.ok()) << trial;
    if (!fs.ok()) {
      EXPECT_EQ(fs.error().message, g.error().message);
      continue;
    }
    EXPECT_FALSE(g->certificate.fixed_width);
    if (pipeline) ++pipelines;
    (f.certificate.fixed_width ? fixed : fell_back) += 1;
    if (!pipeline) by_kind[static_cast<std::size_t>(trial % 3)][f.certificate.fixed_width ? 1 : 0] += 1;
    ASSERT_EQ(f.status, g->status) << trial;
    if (f.status != SolveStatus::kOptimal) continue;
    EXPECT_EQ(f.plan, g->plan) << trial;
    EXPECT_EQ(f.point, g->point) << trial;
    EXPECT_EQ(f.throughput_tokens_per_s, g->throughput_tokens_per_s) << trial;
    EXPECT_EQ(f.certificate.lambda_tokens_per_s, g->certificate.lambda_tokens_per_s);
    EXPECT_EQ(f.certificate.final_subproblem_max, g->certificate.final_subproblem_max);
    EXPECT_EQ(f.certificate.iterations, g->certificate.iterations) << trial;
    EXPECT_EQ(f.certificate.iteration_bound, g->certificate.iteration_bound) << trial;
    EXPECT_TRUE(is_feasible(build_model(p), f.plan));
  }
  for (std::size_t k = 0; k < 3; ++k) {
    std::printf("[ lean ] %s seed instances: %d fixed width, %d with a case in GMP\n",
                std::array<const char*, 3>{"small", "realistic", "extreme"}[k], by_kind[k][1], by_kind[k][0]);
  }
  // Realistic instances take 128 bits; the others include three-column cases (the
  // lattice-hyperplane oracle) and numbers beyond 128 bits.
  EXPECT_GT(by_kind[1][1], 9 * by_kind[1][0]);
  EXPECT_GT(fixed, 0);
  EXPECT_GT(fell_back, 0);
  EXPECT_GT(pipelines, 100 / testing::kSanitizerDivisor);
}

// With options.explain the lean solver records the solver's path: the certificate is the
// general solver's, field for field (steps, λ path, presolve, reduced problem, cases).
TEST(Lean, ExplainedCertificateEqualsTheGeneralOne) {
  std::mt19937_64 rng(34);
  int instances = 0, pipelines = 0;
  SolveOptions lean_explained;
  lean_explained.relaxation_bound = false;
  SolveOptions general = lean_explained;
  general.fast_path = false;
  LeanSolver solver;
  for (int trial = 0; instances < 400 / testing::kSanitizerDivisor; ++trial) {
    Params p = random_seed_instance(rng, trial);
    if (trial % 2 == 1) p = with_random_switches(rng, p);
    if (!validate(p).ok()) continue;
    ++instances;
    SolveResult f;
    const Status fs = solver.solve(p, lean_explained, f);
    auto g = solve(p, general);
    ASSERT_EQ(fs.ok(), g.ok()) << trial;
    if (!fs.ok()) {
      EXPECT_EQ(fs.error().message, g.error().message);
      continue;
    }
    if (p.model_name() == ModelName::kPipeline) ++pipelines;
    ASSERT_EQ(f.status, g->status) << trial;
    EXPECT_EQ(f.plan, g->plan) << trial;
    EXPECT_EQ(f.throughput_tokens_per_s, g->throughput_tokens_per_s) << trial;
    const Certificate &a = f.certificate, &b = g->certificate;
    EXPECT_EQ(a.method, b.method);
    EXPECT_EQ(a.iterations, b.iterations) << trial;
    EXPECT_EQ(a.iteration_bound, b.iteration_bound) << trial;
    EXPECT_EQ(a.final_subproblem_max, b.final_subproblem_max) << trial;
    EXPECT_EQ(a.lambda_path, b.lambda_path) << trial;
    EXPECT_EQ(a.cases, b.cases) << trial;
    EXPECT_EQ(a.reduced_problem, b.reduced_problem) << trial;
    ASSERT_EQ(a.steps.size(), b.steps.size()) << trial;
    for (std::size_t i = 0; i < a.steps.size(); ++i) {
      EXPECT_EQ(a.steps[i].lambda_tokens_per_s, b.steps[i].lambda_tokens_per_s);
      EXPECT_EQ(a.steps[i].argmax, b.steps[i].argmax);
      EXPECT_EQ(a.steps[i].max_tokens, b.steps[i].max_tokens);
    }
    ASSERT_EQ(a.presolve.size(), b.presolve.size()) << trial;
    for (std::size_t i = 0; i < a.presolve.size(); ++i) {
      EXPECT_EQ(to_string(a.presolve[i], {}), to_string(b.presolve[i], {}));
    }
  }
  EXPECT_GT(pipelines, 100 / testing::kSanitizerDivisor);
}

TEST(Lean, PresetsAndTheMemoryRangeTakeIt) {
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

TEST(Lean, NotTakenWhenTheCertificateIsExplained) {
  Params p;
  EXPECT_FALSE(solve(p)->certificate.fixed_width);  // the default explains the path
  SolveOptions o = lean(true);
  o.domain = Domain::kBinary;
  EXPECT_FALSE(solve(p, o)->certificate.fixed_width);
  o = lean(true);
  o.relaxation_bound = true;
  EXPECT_FALSE(solve(p, o)->certificate.fixed_width);
  // The pipeline model takes it too (its cases in 128 bits where they fit).
  ASSERT_TRUE(set_param(p, "model.name", "pipeline").ok());
  auto r = solve(p, lean(true));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->plan, solve(p, lean(false))->plan);
}

TEST(Lean, ExtrasEqualTheAnalysis) {
  std::mt19937_64 rng(33);
  int compared = 0;
  // One solver, result and extras object for every call, as a sweep's thread keeps them;
  // each instance is followed by the same with another link bandwidth (the memory rows
  // and the GPU-only baseline are then the previous ones).
  LeanSolver solver;
  SolveResult res;
  LeanExtras extras;
  int gains = 0, pipelines = 0;
  for (int trial = 0; compared < 600 / testing::kSanitizerDivisor; ++trial) {
    Params p = random_seed_instance(rng, trial);
    if (trial % 4 == 3) p = with_random_switches(rng, p);
    for (int variant = 0; variant < 2; ++variant) {
      if (variant == 1) {
        p.set(ParamId::kLinkBandwidthBytesPerS,
              Rational(std::uniform_int_distribution<long>(1, 1L << 40)(rng)) / Rational(1000));
      }
      if (!validate(p).ok()) continue;
      if (!solver.solve(p, lean(true), res).ok()) continue;
      lean_extras(solver, res, extras);
      ++compared;
      if (p.model_name() == ModelName::kPipeline) ++pipelines;
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
  EXPECT_GT(gains, 100 / testing::kSanitizerDivisor);
  EXPECT_GT(pipelines, 50 / testing::kSanitizerDivisor);
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

// Lines whose walk sits at the edge of the 64-bit path (P*L + R just below, at and just
// above 2^63, where it falls back to checked arithmetic): the walk's maximiser equals
// brute force in exact integers, in both integer types.
TEST(LinePlan, WalksAtTheEdgeOfSixtyFourBitsEqualBruteForce) {
  const Integer two63 = Integer(1) << 63;
  struct Line {
    Integer s, t, a, h, c;
  };
  std::vector<Line> lines;
  for (const long l : {1L, 2L, 3L, 7L, 1000L}) {
    for (const int extra : {-2, -1, 0, 1, 2}) {
      // slope P = floor((2^63 + extra) / L) - 1 with c just above it: P*L + R sits at 2^63 + extra - O(L)
      const Integer p = (two63 + extra) / l - 1;
      for (const Integer& c : {Integer(p + 1), Integer(p + 3), Integer(two63 - 1)}) {
        lines.push_back({Integer(0), Integer(l), Integer(-p), Integer(c - 1), c});
        lines.push_back({Integer(-5), Integer(-5 + l), Integer(p), Integer(-(c / 2)), c});
      }
    }
  }
  lines.push_back({Integer(0), Integer(1), -(Integer(1) << 62), (Integer(1) << 62) - 1, (Integer(1) << 62) + 1});
  for (const auto& ln : lines) {
    const LinePlan<Integer> gp{ln.s, ln.t, ln.a, ln.h, ln.c};
    std::optional<LinePlan<Int128>> fp;
    const auto f128 = [](const Integer& x) { return *to_int128(x); };
    if (to_int128(ln.a) && to_int128(ln.h) && to_int128(ln.c)) fp.emplace(f128(ln.s), f128(ln.t), f128(ln.a), f128(ln.h), f128(ln.c));
    for (const auto& [u, v] : {std::pair<long, long>{1, 1}, {-1, 1}, {-1, 3}, {1, 2}, {7, 1}}) {
      const bool forward = ln.a <= 0;
      std::optional<Integer> best;
      Integer bx;
      const long len = Integer(ln.t - ln.s).get_si();
      for (long j = 0; j <= len; ++j) {
        const Integer x = forward ? Integer(ln.s + j) : Integer(ln.t - j);
        const Integer y = floor_div(Integer(ln.h - ln.a * x), ln.c);
        const Integer val = Integer(u) * x + Integer(v) * y;
        if (!best || val > *best) {
          best = val;
          bx = x;
        }
      }
      const auto g = gp.eval(Integer(u), Integer(v));
      EXPECT_EQ(g.value, *best) << ln.a << " " << ln.c << " " << ln.t - ln.s;
      EXPECT_EQ(g.x, bx);
      if (fp) {
        const auto f = fp->eval(Int128(u), Int128(v));
        EXPECT_EQ(to_integer(f.value), *best) << ln.a << " " << ln.c;
        EXPECT_EQ(to_integer(f.x), bx);
      }
    }
  }
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
