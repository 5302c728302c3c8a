// The simulator (src/sim): exact agreement with the model's stage times wherever the
// model claims to describe the schedule, the seed model's known differences asserted with
// their size, golden timelines, and the exports.
#include <gtest/gtest.h>
#include <lorasplit/lorasplit.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "support/reference.hpp"

namespace lorasplit {
namespace {

void set(Params& p, std::string_view key, std::string_view value) {
  ASSERT_TRUE(set_param(p, key, value).ok()) << key << "=" << value;
}

Params hand() {
  Params p;
  EXPECT_TRUE(load_config_file(p, std::string(LORASPLIT_SOURCE_DIR) + "/tests/data/hand_pipeline.toml").ok());
  return p;
}

// Random plans of whole blocks within the memory bound (feasibility does not matter to the simulator).
Plan random_plan(std::mt19937_64& rng, const Params& p, std::int64_t multiple) {
  const std::int64_t k = p.block_tokens().get_num().get_si() * multiple;
  const std::int64_t total = std::max<std::int64_t>(testing::total_bound(p) / k, 1);
  auto pick = [&rng](std::int64_t lo, std::int64_t hi) { return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng); };
  Plan plan;
  do {
    plan = Plan{{k * pick(0, total), k * pick(0, total), k * pick(0, total)}};
  } while (plan.tokens() == 0);
  return plan;
}

// The pipeline model with every correction on states the physical schedule: the simulated
// stage times equal T_GPU and T_CXL exactly (full duplex, or a shared link that never
// carries two directions of chunks at once; chunks of one kind of token, whole chunks;
// weights anywhere, the GPU's fetches on the lane of Y and Z back included).
TEST(Simulate, EqualsThePipelineModelWhereItClaimsTheSchedule) {
  std::mt19937_64 rng(41);
  auto pick = [&rng](long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng); };
  int checked = 0, chunked = 0;
  for (int trial = 0; trial < 600 / testing::kSanitizerDivisor; ++trial) {
    Params p = testing::random_small_instance(rng, 16);
    testing::add_random_variants(rng, p);
    set(p, "model.name", "pipeline");
    set(p, "pipeline.relaxed_sync", pick(0, 1) ? "on" : "off");
    // A quarter of the trials switch the model back to one latency and the credit: then the
    // named terms explain the whole difference.
    const bool physical = pick(0, 3) != 0;
    set(p, "pipeline.no_credit", physical ? "on" : "off");
    set(p, "pipeline.transfer_latency", physical ? "on" : "off");
    const int w = static_cast<int>(pick(0, 2));
    set(p, "lora.weights", std::array<const char*, 3>{"both", "gpu", "cxl"}[static_cast<std::size_t>(w)]);
    const bool shared = pick(0, 1) == 1;
    set(p, "link.duplex", shared ? "shared" : "full");
    std::int64_t c = 0;
    if (pick(0, 1)) {
      c = pick(1, 3);
      p.set(ParamId::kPipelineChunkTokens, c);
    }
    ASSERT_TRUE(validate(p).ok());
    Plan plan = random_plan(rng, p, c > 0 ? c : 1);
    if (c > 0) {
      // Chunks of one kind in stage 1 (b2 or b3, not both), whole chunks everywhere.
      if (pick(0, 1)) plan.b[1] = 0; else plan.b[2] = 0;
      if (shared) plan.b[1] = 0;  // a shared link then carries X only in stage 1
      chunked += 1;
    }
    // With weights on the device the GPU's fetches hold the lane Y and Z come back on (on a
    // shared link, the only one) from each stage's start; the model's lane terms state it.
    if (plan.tokens() == 0) plan.b[0] = p.block_tokens().get_num().get_si();
    auto sim = simulate(p, plan);
    ASSERT_TRUE(sim.ok()) << sim.error().message;
    if (!physical) {
      for (const auto& s : sim->stages) {
        EXPECT_EQ(s.gpu_residual_s, 0) << "trial " << trial;
        EXPECT_EQ(s.cxl_residual_s, 0) << "trial " << trial;
      }
      ++checked;
      continue;
    }
    for (const auto& s : sim->stages) {
      ASSERT_EQ(s.sim_gpu_s, s.model_gpu_s) << "trial " << trial << " stage " << s.stage;
      ASSERT_EQ(s.sim_cxl_s, s.model_cxl_s) << "trial " << trial << " stage " << s.stage << "\n"
                                            << render_simulation_text(sim.value());
      EXPECT_TRUE(s.gpu_terms.empty() && s.cxl_terms.empty());
      EXPECT_EQ(s.sim_stage_s, std::max(s.model_gpu_s, s.model_cxl_s));
    }
    // One batch: the simulated throughput is the relaxed model's tokens / (T_S1 + T_S2).
    const Rational t = std::max(sim->stages[0].model_gpu_s, sim->stages[0].model_cxl_s) +
                       std::max(sim->stages[1].model_gpu_s, sim->stages[1].model_cxl_s);
    EXPECT_EQ(sim->simulated_tokens_per_s, Rational(plan.tokens()) / t);
    ++checked;
  }
  EXPECT_EQ(checked, 600 / testing::kSanitizerDivisor);
  EXPECT_GT(chunked, 200 / testing::kSanitizerDivisor);
}

// The seed model's differences are its own terms: the stage-2 credit e*b2*r/BW, the
// latency of Z back missing from stage 2, the latency of Y back (one latency in stage 1),
// and its latency charged with the device idle. Nothing else is left.
TEST(Simulate, SeedDifferencesAreItsCreditAndMissingLatencies) {
  std::mt19937_64 rng(8);
  for (int trial = 0; trial < 400; ++trial) {
    Params p = testing::random_small_instance(rng, 16);
    testing::add_random_variants(rng, p);
    const Plan plan = random_plan(rng, p, 1);
    auto sim = simulate(p, plan);
    ASSERT_TRUE(sim.ok());
    const Rational& L = p.link_latency_s();
    const Rational eta = p.element_bytes() * p.r() / p.link_bandwidth_bytes_per_s();
    const auto& s1 = sim->stages[0];
    const auto& s2 = sim->stages[1];
    EXPECT_EQ(s1.sim_gpu_s, s1.model_gpu_s);
    EXPECT_EQ(s2.sim_gpu_s, s2.model_gpu_s);
    const Rational want1 = (plan.b[1] > 0 ? L : Rational(0)) - (plan.b[1] + plan.b[2] == 0 ? L : Rational(0));
    EXPECT_EQ(s1.sim_cxl_s - s1.model_cxl_s, want1) << "trial " << trial;
    const Rational want2 = eta * plan.b[1] + (plan.b[2] > 0 ? L : Rational(0));
    EXPECT_EQ(s2.sim_cxl_s - s2.model_cxl_s, want2) << "trial " << trial;
    EXPECT_EQ(s1.cxl_residual_s, 0);
    EXPECT_EQ(s2.cxl_residual_s, 0);
  }
}

// Weights on the device make the GPU fetch B down the lane that Z comes back on: the
// model's stage-2 device time has the term omega + xi*b3 + L for it.
TEST(Simulate, FetchOnTheLaneOfZBackIsInTheModel) {
  Params p = hand();
  set(p, "lora.weights", "cxl");
  auto sim = simulate(p, Plan{{2, 0, 3}});
  ASSERT_TRUE(sim.ok());
  // Stage 2: the GPU's fetch of B holds the lane [0, 2] (omega = 2 s) while the device
  // multiplies 3 tokens in [0, 3/2]; Z back (3 s) waits until 2 instead of 3/2, so the
  // device's stage 2 is omega + xi*b3 + L = 2 + 3 + L, not (kappa + xi)*b3 + L.
  const Rational& L = p.link_latency_s();
  EXPECT_EQ(sim->stages[1].sim_cxl_s, Rational(5) + L);
  EXPECT_EQ(sim->stages[1].model_cxl_s, sim->stages[1].sim_cxl_s);
  EXPECT_EQ(sim->stages[1].cxl_residual_s, 0);
  EXPECT_EQ(render_simulation_text(sim.value()).find("not stated by the formulas"), std::string::npos);
}

TEST(Simulate, SeedNumbersShowTheMissingStage2Latency) {
  const Params p;
  auto sim = simulate(p, Plan{{8323128, 0, 17817}});
  ASSERT_TRUE(sim.ok());
  ASSERT_EQ(sim->stages[1].cxl_terms.size(), 1U);
  EXPECT_EQ(sim->stages[1].cxl_terms[0].seconds, make_rational(1, 1000000));
  EXPECT_NE(sim->stages[1].cxl_terms[0].description.find("Z back"), std::string::npos);
  // The GPU is the bottleneck of both stages, so the batch takes the model's time anyway.
  EXPECT_EQ(sim->simulated_tokens_per_s, sim->analytic_tokens_per_s);
}

std::vector<std::string> golden(const std::string& name) {
  std::ifstream in(std::string(LORASPLIT_SOURCE_DIR) + "/tests/data/" + name);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') out.push_back(line);
  }
  return out;
}

std::vector<std::string> timeline(const Simulation& sim) {
  std::vector<std::string> out;
  for (const auto& t : sim.tasks) {
    std::ostringstream s;
    s << t.batch << '|' << t.stage << '|' << t.resource << '|' << format_fraction(t.start_s) << '|'
      << format_fraction(t.end_s) << '|' << format_fraction(t.done_s) << '|' << t.name;
    out.push_back(s.str());
  }
  return out;
}

TEST(Simulate, GoldenTimelines) {
  {
    Params p = hand();
    set(p, "pipeline.chunk_tokens", "1");
    auto sim = simulate(p, Plan{{5, 0, 4}});
    ASSERT_TRUE(sim.ok());
    const auto want = golden("golden_sim_chunked.txt");
    ASSERT_EQ(want.size(), 18U);
    EXPECT_EQ(timeline(sim.value()), want);
    EXPECT_EQ(sim->makespan_s, 11);
  }
  {
    Params p = hand();
    set(p, "lora.weights", "gpu");
    SimulateOptions o;
    o.batches = 2;
    o.overlap = true;
    auto sim = simulate(p, Plan{{2, 1, 1}}, o);
    ASSERT_TRUE(sim.ok());
    const auto want = golden("golden_sim_overlap.txt");
    ASSERT_EQ(want.size(), 18U);
    EXPECT_EQ(timeline(sim.value()), want);
    EXPECT_EQ(sim->stages[0].sim_cxl_s, make_rational(15, 2));
    EXPECT_EQ(sim->stages[1].sim_cxl_s, make_rational(11, 2));
  }
}

TEST(Simulate, BatchesBackToBackAndOverlapped) {
  Params p = hand();
  set(p, "pipeline.chunk_tokens", "1");
  SimulateOptions serial;
  serial.batches = 5;
  auto a = simulate(p, Plan{{5, 0, 4}}, serial);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->makespan_s, 5 * a->first_batch_s);
  EXPECT_EQ(a->simulated_tokens_per_s, a->analytic_tokens_per_s);
  SimulateOptions over = serial;
  over.overlap = true;
  auto b = simulate(p, Plan{{5, 0, 4}}, over);
  ASSERT_TRUE(b.ok());
  EXPECT_LE(b->makespan_s, a->makespan_s);
  EXPECT_GE(b->simulated_tokens_per_s, a->simulated_tokens_per_s);
  for (const auto& r : b->resources) EXPECT_LE(r.utilization, 1);
}

TEST(Simulate, ExportsParseAndHaveOneTrackPerResource) {
  Params p = hand();
  set(p, "pipeline.chunk_tokens", "1");
  auto sim = simulate(p, Plan{{5, 0, 4}});
  ASSERT_TRUE(sim.ok());
  const auto j = nlohmann::json::parse(render_trace_json(sim.value()));
  std::vector<std::string> tracks;
  std::size_t spans = 0;
  for (const auto& e : j["traceEvents"]) {
    if (e["ph"] == "M" && e["name"] == "thread_name") tracks.push_back(e["args"]["name"]);
    if (e["ph"] == "X") ++spans;
  }
  EXPECT_EQ(tracks, (std::vector<std::string>{"gpu", "cxl", "link.to_device", "link.to_gpu"}));
  EXPECT_EQ(spans, sim->tasks.size());
  const std::string svg = render_gantt_svg(sim.value());
  EXPECT_EQ(svg.rfind("<?xml", 0), 0U);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find(">10 s<"), std::string::npos);  // the time axis, in seconds here
  const auto js = nlohmann::json::parse(render_simulation_json(sim.value()));
  EXPECT_EQ(js["tasks"].size(), 18U);
  EXPECT_EQ(js["stages"][0]["sim_cxl_s_exact"], "11/2");
}

// The Gantt chart's legend names what its colours mean, latencies are drawn, names sit on
// the bars wide enough for them, and thin bars (chunks) have no outline.
TEST(Simulate, GanttSaysWhatItShows) {
  Params p;
  set(p, "model.name", "pipeline");
  auto two = simulate(p, Plan{{8323128, 0, 17817}}, SimulateOptions{2, true, 500000});
  ASSERT_TRUE(two.ok());
  const std::string svg = render_gantt_svg(two.value());
  for (const char* key : {"batch 1, stage 1", "batch 1, stage 2", "batch 2, stage 1", "batch 2, stage 2",
                          "link latency (data not yet usable)"}) {
    EXPECT_NE(svg.find(std::string("class=\"legend\">") + key + "<"), std::string::npos) << key;
  }
  std::size_t transfers = 0, latencies = 0;
  for (const auto& t : two->tasks) transfers += t.done_s > t.end_s ? 1U : 0U;
  for (std::size_t at = svg.find("class=\"latency\""); at != std::string::npos;
       at = svg.find("class=\"latency\"", at + 1)) {
    ++latencies;
  }
  EXPECT_GT(transfers, 0U);
  EXPECT_EQ(latencies, transfers);                                   // one mark per transfer with latency
  EXPECT_NE(svg.find("fill=\"#ffffff\">X·A (b1)<"), std::string::npos);  // a wide bar carries its name
  // 64-token chunks: hundreds of thin bars, none outlined (they were dark hatching).
  set(p, "pipeline.chunk_tokens", "64");
  auto chunks = simulate(p, Plan{{8323128, 0, 17817}});
  ASSERT_TRUE(chunks.ok());
  ASSERT_GT(chunks->tasks.size(), 500U);
  const std::string thin = render_gantt_svg(chunks.value());
  std::size_t outlined_thin = 0, bars = 0;
  for (std::size_t at = thin.find("<rect x="); at != std::string::npos; at = thin.find("<rect x=", at + 1)) {
    const std::size_t end = thin.find('>', at);
    const std::string tag = thin.substr(at, end - at);
    const std::size_t w = tag.find("width=\"");
    if (w == std::string::npos) continue;
    ++bars;
    const double width = std::stod(tag.substr(w + 7));
    if (width < 4 && tag.find("stroke=") != std::string::npos) ++outlined_thin;
  }
  EXPECT_GT(bars, 500U);
  EXPECT_EQ(outlined_thin, 0U);
}

TEST(Simulate, RejectsBadPlansAndRunawaySizes) {
  const Params p;
  EXPECT_FALSE(simulate(p, Plan{{0, 0, 0}}).ok());
  EXPECT_FALSE(simulate(p, Plan{{-1, 0, 2}}).ok());
  Params q = hand();
  set(q, "lora.block_tokens", "2");
  EXPECT_FALSE(simulate(q, Plan{{3, 0, 0}}).ok());
  Params r;
  set(r, "model.name", "pipeline");
  set(r, "pipeline.chunk_tokens", "1");
  const auto big = simulate(r, Plan{{8323128, 0, 17817}}, SimulateOptions{100, false, 500000});
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("more than 500000 tasks"), std::string::npos);
}

}  // namespace
}  // namespace lorasplit
