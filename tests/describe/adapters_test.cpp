// The N-column family built from descriptions (tests/support/adapters.hpp): several
// adapters sharing one GPU and one device. The simulator, built from the same
// description as the model, reproduces the model's stage times exactly where the model
// claims the schedule (every transfer's latency charged, no model terms); with the seed's
// rules the named terms explain the whole difference. The solver equals exhaustive search.
#include <gtest/gtest.h>
#include <lorasplit/lorasplit.hpp>

#include <random>

#include "support/adapters.hpp"
#include "support/reference.hpp"

namespace lorasplit {
namespace {

using testing::AdapterSpec;
using testing::adapters_description;

Params small_params(std::mt19937_64& rng) {
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  Params p;
  p.set(ParamId::kLoraD, pick(2, 8));
  p.set(ParamId::kLoraElementBytes, pick(1, 2));
  p.set(ParamId::kGpuFlops, pick(4, 64));
  p.set(ParamId::kCxlFlops, pick(1, 32));
  p.set(ParamId::kLinkBandwidthBytesPerS, pick(1, 32));
  p.set(ParamId::kLinkLatencyS, make_rational(pick(0, 4), pick(1, 4)));
  p.set(ParamId::kGpuMemoryBytes, pick(200, 4000));
  p.set(ParamId::kLoraBlockTokens, 1);
  return p;
}

AdapterSpec random_spec(std::mt19937_64& rng, std::size_t adapters, bool per_transfer) {
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  AdapterSpec s;
  for (std::size_t a = 0; a < adapters; ++a) {
    s.ranks.push_back(pick(1, 4));
    s.demand.push_back(pick(1, adapters > 3 ? 2 : 3));
  }
  s.per_transfer = per_transfer;
  s.shared_link = pick(0, 1) == 1;
  return s;
}

Plan random_plan(std::mt19937_64& rng, std::size_t n) {
  Plan plan;
  do {
    plan.b.assign(n, 0);
    for (auto& b : plan.b) b = std::uniform_int_distribution<long>(0, 3)(rng) == 0 ? 0 : std::uniform_int_distribution<long>(1, 9)(rng);
  } while (plan.tokens() == 0);
  return plan;
}

TEST(Adapters, SimulatorEqualsTheModelWhereItClaimsTheSchedule) {
  std::mt19937_64 rng(515);
  int checked = 0;
  for (int trial = 0; trial < 120 / testing::kSanitizerDivisor; ++trial) {
    const std::size_t adapters = 1 + static_cast<std::size_t>(trial % 2);
    const Params p = small_params(rng);
    const Description d = adapters_description(random_spec(rng, adapters, true));
    for (int k = 0; k < 4; ++k) {
      const Plan plan = random_plan(rng, d.columns.size());
      auto sim = simulate(d, p, plan);
      ASSERT_TRUE(sim.ok()) << sim.error().message;
      ASSERT_EQ(sim->stages.size(), 2U);
      for (const auto& st : sim->stages) {
        EXPECT_EQ(st.sim_gpu_s, st.model_gpu_s) << "trial " << trial << " stage " << st.stage;
        EXPECT_EQ(st.sim_cxl_s, st.model_cxl_s) << "trial " << trial << " stage " << st.stage;
        EXPECT_TRUE(st.gpu_terms.empty() && st.cxl_terms.empty());
        // The stage lasts as long as its slower side (nothing else waits).
        EXPECT_EQ(st.sim_stage_s, std::max(st.sim_gpu_s, st.sim_cxl_s));
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4 * (120 / testing::kSanitizerDivisor));
}

TEST(Adapters, SeedRulesAreExplainedByTheNamedTerms) {
  std::mt19937_64 rng(516);
  int with_terms = 0;
  for (int trial = 0; trial < 120 / testing::kSanitizerDivisor; ++trial) {
    const std::size_t adapters = 1 + static_cast<std::size_t>(trial % 4);  // 3 to 12 columns
    const Params p = small_params(rng);
    const Description d = adapters_description(random_spec(rng, adapters, false));
    const Plan plan = random_plan(rng, d.columns.size());
    auto sim = simulate(d, p, plan);
    ASSERT_TRUE(sim.ok()) << sim.error().message;
    for (const auto& st : sim->stages) {
      EXPECT_EQ(st.gpu_residual_s, 0) << "trial " << trial;
      EXPECT_EQ(st.cxl_residual_s, 0) << "trial " << trial;
      if (!st.cxl_terms.empty()) ++with_terms;
    }
  }
  EXPECT_GT(with_terms, 50 / testing::kSanitizerDivisor);
}

// Exhaustive search over every plan within the adapters' demands.
std::optional<Rational> best_by_search(const Formulation& f, const std::vector<long>& demand) {
  const std::size_t adapters = demand.size(), n = 3 * adapters;
  std::optional<Rational> best;
  Plan plan;
  plan.b.assign(n, 0);
  for (;;) {
    bool within = true;
    for (std::size_t a = 0; a < adapters && within; ++a) {
      within = plan.b[3 * a] + plan.b[3 * a + 1] + plan.b[3 * a + 2] <= demand[a];
    }
    if (within && plan.tokens() > 0 && is_feasible(f, plan)) {
      const Rational t = throughput_tokens_per_s(f, plan);
      if (!best || t > *best) best = t;
    }
    std::size_t j = 0;
    while (j < n && plan.b[j] == demand[j / 3]) plan.b[j++] = 0;
    if (j == n) break;
    ++plan.b[j];
  }
  return best;
}

TEST(Adapters, SolverEqualsExhaustiveSearch) {
  std::mt19937_64 rng(517);
  int feasible = 0, infeasible = 0, wide = 0;
  for (int trial = 0; trial < 100 / testing::kSanitizerDivisor; ++trial) {
    // The seed's rules (one case) for 2 to 4 adapters (6 to 12 columns); every latency
    // charged (cases by support) for 1 or 2 adapters.
    const bool per_transfer = trial % 3 == 0;
    const std::size_t adapters = per_transfer ? 1 + static_cast<std::size_t>(trial % 2) : 2 + static_cast<std::size_t>(trial % 3);
    const Params p = small_params(rng);
    const AdapterSpec spec = random_spec(rng, adapters, per_transfer);
    const Formulation f = build_model(adapters_description(spec), p);
    auto r = solve(f);
    ASSERT_TRUE(r.ok()) << r.error().message;
    const auto ref = best_by_search(f, spec.demand);
    ASSERT_EQ(r->status == SolveStatus::kOptimal, ref.has_value()) << "trial " << trial;
    if (!ref) {
      ++infeasible;
      continue;
    }
    ++feasible;
    EXPECT_EQ(r->throughput_tokens_per_s, *ref) << "trial " << trial;
    EXPECT_TRUE(is_feasible(f, r->plan));
    EXPECT_EQ(r->certificate.final_subproblem_max, 0);
    if (f.cases.front().size() >= 9) ++wide;
  }
  EXPECT_GT(feasible, 30 / testing::kSanitizerDivisor);
  EXPECT_GT(wide, 10 / testing::kSanitizerDivisor);
  (void)infeasible;
}

}  // namespace
}  // namespace lorasplit
