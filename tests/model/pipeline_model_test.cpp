// The pipeline model (docs/model.md §7): every switch against an independent statement
// of the physics (tests/support/pipeline_reference.hpp) and exhaustive search.
#include <gtest/gtest.h>
#include <lorasplit/lorasplit.hpp>

#include <random>

#include "support/pipeline_reference.hpp"
#include "support/reference.hpp"

namespace lorasplit {
namespace {

using testing::pipeline_exhaustive;
using testing::pipeline_throughput;

void set(Params& p, std::string_view key, std::string_view value) {
  ASSERT_TRUE(set_param(p, key, value).ok()) << key << "=" << value;
}

// Random switches (each on/off, chunks, duplex, weights, device memory).
void random_switches(std::mt19937_64& rng, Params& p) {
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  set(p, "model.name", "pipeline");
  set(p, "pipeline.no_credit", pick(0, 1) ? "on" : "off");
  set(p, "pipeline.transfer_latency", pick(0, 1) ? "on" : "off");
  set(p, "link.duplex", pick(0, 1) ? "full" : "shared");
  set(p, "pipeline.relaxed_sync", pick(0, 1) ? "on" : "off");
  set(p, "lora.weights", std::array<const char*, 3>{"both", "gpu", "cxl"}[static_cast<std::size_t>(pick(0, 2))]);
  if (pick(0, 1)) p.set(ParamId::kPipelineChunkTokens, pick(1, 4));
  if (pick(0, 2) == 0) {
    p.set(ParamId::kCxlMemoryBytes, p.element_bytes() * p.d() * pick(1, 30) + p.element_bytes() * p.d() * p.r() * pick(0, 2));
  }
}

// Every switch combination, random small instances: the solver's optimum equals the best
// plan of an exhaustive search under the independent statement, and the returned plan
// has exactly the reported throughput there.
TEST(PipelineModel, AgreesWithExhaustiveSearchUnderEverySwitch) {
  std::mt19937_64 rng(2026);
  int optimal = 0, infeasible = 0, three_columns = 0;
  for (int trial = 0; trial < 800 / testing::kSanitizerDivisor; ++trial) {
    Params p = testing::random_small_instance(rng, 14);
    testing::add_random_variants(rng, p);
    random_switches(rng, p);
    ASSERT_TRUE(validate(p).ok()) << validate(p).error().message;
    const Formulation f = build_pipeline_model(p);
    auto res = solve(f);
    ASSERT_TRUE(res.ok()) << res.error().message;
    const auto ref = pipeline_exhaustive(p, testing::total_bound(p));
    ASSERT_EQ(res->status == SolveStatus::kOptimal, ref.feasible) << "trial " << trial;
    if (!ref.feasible) {
      ++infeasible;
      continue;
    }
    ++optimal;
    ASSERT_EQ(res->throughput_tokens_per_s, ref.best) << "trial " << trial;
    const auto mine = pipeline_throughput(p, res->plan);
    ASSERT_TRUE(mine.has_value()) << "trial " << trial;
    EXPECT_EQ(*mine, res->throughput_tokens_per_s);
    EXPECT_EQ(res->certificate.final_subproblem_max, 0);
    if (res->certificate.reduced_problem.find("lattice-hyperplane") != std::string::npos) ++three_columns;
  }
  EXPECT_GT(optimal, 500 / testing::kSanitizerDivisor);
  EXPECT_GT(three_columns, 30 / testing::kSanitizerDivisor);  // the general 3-D oracle decided many of the optima
  EXPECT_GT(infeasible, 0);
}

// The binary and continuous domains over the pipeline's cases.
TEST(PipelineModel, BinaryAndContinuousDomains) {
  std::mt19937_64 rng(99);
  for (int trial = 0; trial < 150; ++trial) {
    Params p = testing::random_small_instance(rng, 12);
    random_switches(rng, p);
    const Formulation f = build_pipeline_model(p);
    auto bin = solve(f, SolveOptions{Domain::kBinary});
    ASSERT_TRUE(bin.ok());
    std::optional<Rational> best;
    for (int mask = 1; mask < 8; ++mask) {
      const auto t = pipeline_throughput(p, Plan{{mask & 1, (mask >> 1) & 1, (mask >> 2) & 1}});
      if (t && (!best || *t > *best)) best = t;
    }
    ASSERT_EQ(bin->status == SolveStatus::kOptimal, best.has_value());
    if (best) {
      EXPECT_EQ(bin->throughput_tokens_per_s, *best);
    }
    auto integer = solve(f);
    auto cont = solve(f, SolveOptions{Domain::kContinuous});
    ASSERT_TRUE(integer.ok() && cont.ok());
    if (integer->status == SolveStatus::kOptimal) {
      ASSERT_EQ(cont->status, SolveStatus::kOptimal);
      EXPECT_GE(cont->throughput_tokens_per_s, integer->throughput_tokens_per_s);  // an upper bound
      ASSERT_TRUE(integer->certificate.relaxation_bound_tokens_per_s.has_value());
      EXPECT_GE(*integer->certificate.relaxation_bound_tokens_per_s, integer->throughput_tokens_per_s);
    }
  }
}

// With every switch off the pipeline model is the seed model, except that a plan that
// leaves the device idle pays no latency (the seed charges L to T_CXL_S1 even then).
TEST(PipelineModel, AllSwitchesOffIsTheSeedModel) {
  std::mt19937_64 rng(17);
  for (int trial = 0; trial < 100; ++trial) {
    Params p = testing::random_small_instance(rng, 12);
    testing::add_random_variants(rng, p);
    Params q = p;
    set(q, "model.name", "pipeline");
    set(q, "pipeline.no_credit", "off");
    set(q, "pipeline.transfer_latency", "off");
    set(q, "pipeline.relaxed_sync", "off");
    const Model seed = build_seed_model(p);
    const Formulation pipe = build_pipeline_model(q);
    const std::int64_t total = testing::total_bound(p);
    const std::int64_t k = p.block_tokens().get_num().get_si();
    for (std::int64_t b1 = 0; b1 <= total; b1 += k) {
      for (std::int64_t b2 = 0; b1 + b2 <= total; b2 += k) {
        for (std::int64_t b3 = (b2 == 0 ? k : 0); b1 + b2 + b3 <= total; b3 += k) {
          const Plan plan{{b1, b2, b3}};
          ASSERT_EQ(is_feasible(seed, plan), is_feasible(pipe, plan)) << b1 << " " << b2 << " " << b3;
          if (is_feasible(seed, plan)) {
            EXPECT_EQ(throughput_tokens_per_s(seed, plan), throughput_tokens_per_s(pipe, plan));
          }
        }
      }
    }
  }
}

// Each switch moves the seed instance's answer the way docs/model.md §7.3 says.
TEST(PipelineModel, EachSwitchOnTheSeedNumbers) {
  const auto solve_with = [](std::initializer_list<std::pair<const char*, const char*>> sets) {
    Params p;
    EXPECT_TRUE(set_param(p, "model.name", "pipeline").ok());
    for (const auto& [k, v] : sets) EXPECT_TRUE(set_param(p, k, v).ok());
    auto r = solve(build_model(p));
    EXPECT_TRUE(r.ok() && r->status == SolveStatus::kOptimal);
    return r.value();
  };
  const auto base = solve_with({});
  // The defaults leave the seed's optimum in place: b2 = 0 removes the credit, and stage 2
  // then needs the same latency as stage 1, so both stages bind alike.
  EXPECT_EQ(base.plan, (Plan{{8323128, 0, 17817}}));
  // Chunked overlap hides the device's compute behind the X transfer: more tokens fit.
  const auto chunked = solve_with({{"pipeline.chunk_tokens", "64"}});
  EXPECT_GT(chunked.plan.b[2], base.plan.b[2]);
  EXPECT_GT(chunked.throughput_tokens_per_s, base.throughput_tokens_per_s);
  // Weights only on the GPU: the device fetches A and B each batch, so less fits.
  const auto gpu_w = solve_with({{"lora.weights", "gpu"}});
  EXPECT_LT(gpu_w.throughput_tokens_per_s, base.throughput_tokens_per_s);
  // Every transfer paying the latency costs more than the seed's single latency.
  const auto once = solve_with({{"pipeline.transfer_latency", "off"}});
  EXPECT_GE(once.throughput_tokens_per_s, base.throughput_tokens_per_s);
}

TEST(PipelineModel, SwitchesAreRejectedForTheSeedModel) {
  Params p;
  ASSERT_TRUE(set_param(p, "pipeline.chunk_tokens", "64").ok());
  const Status st = validate(p);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kInconsistent);
  EXPECT_NE(st.error().message.find("pipeline.chunk_tokens = '64'"), std::string::npos);
  ASSERT_TRUE(set_param(p, "model.name", "pipeline").ok());
  EXPECT_TRUE(validate(p).ok());
  const Status bad = set_param(p, "link.duplex", "half");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("must be one of full, shared"), std::string::npos);
}

}  // namespace
}  // namespace lorasplit
