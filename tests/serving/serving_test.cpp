// The serving model (docs/model.md §9): shapes and their sources, the workload loader, the
// stage graph's formula against its simulation, and the exact planner against exhaustive
// search.
#include <gtest/gtest.h>
#include <lorasplit/serving.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>
#include <random>

#include "serving/graph.hpp"
#include "serving/program.hpp"
#include "support/reference.hpp"

namespace lorasplit {
namespace {

Params serving_params(std::mt19937_64& rng) {
  Params p;
  const auto pick = [&](std::initializer_list<const char*> xs) {
    std::uniform_int_distribution<std::size_t> d(0, xs.size() - 1);
    return *(xs.begin() + static_cast<std::ptrdiff_t>(d(rng)));
  };
  EXPECT_TRUE(set_param(p, "model.name", "serving"));
  EXPECT_TRUE(set_param(p, "gpu.flops", pick({"100", "40", "7"})));
  EXPECT_TRUE(set_param(p, "gpu.efficiency", pick({"1", "0.5"})));
  EXPECT_TRUE(set_param(p, "gpu.memory_bandwidth_bytes_per_s", pick({"50", "8", "3"})));
  EXPECT_TRUE(set_param(p, "gpu.kernel_overhead_s", pick({"0", "0.25", "1"})));
  EXPECT_TRUE(set_param(p, "gpu.memory_bytes", "1000000"));
  EXPECT_TRUE(set_param(p, "cxl.flops", pick({"40", "10", "3"})));
  EXPECT_TRUE(set_param(p, "cxl.efficiency", "1"));
  EXPECT_TRUE(set_param(p, "cxl.memory_bandwidth_bytes_per_s", pick({"80", "16", "4"})));
  EXPECT_TRUE(set_param(p, "cxl.kernel_overhead_s", pick({"0", "0.5", "2"})));
  EXPECT_TRUE(set_param(p, "link.bandwidth_bytes_per_s", pick({"16", "4", "64"})));
  EXPECT_TRUE(set_param(p, "link.latency_s", pick({"0", "1", "0.125"})));
  return p;
}

ServingWorkload tiny_workload(std::mt19937_64& rng, int max_adapters, int max_tokens) {
  ServingWorkload w;
  std::uniform_int_distribution<int> heads(1, 2), hd(1, 2), f(1, 4), layers(1, 2), nad(1, max_adapters),
      rank(1, 2), tok(0, max_tokens), res(0, 2), mods(1, 127), ctx(0, 2);
  w.shape.heads = heads(rng);
  w.shape.kv_heads = w.shape.heads == 2 && rng() % 2 == 0 ? 1 : w.shape.heads;
  w.shape.head_dim = hd(rng);
  w.shape.hidden = w.shape.heads * w.shape.head_dim;
  w.shape.intermediate = f(rng);
  w.shape.layers = layers(rng);
  w.shape.dtype = "float16";
  w.shape.element_bytes = 2;
  w.shape.name = "tiny";
  w.context_tokens = ctx(rng);
  const int n = nad(rng);
  for (int i = 0; i < n; ++i) {
    w.adapters.push_back({"a" + std::to_string(i), rank(rng), tok(rng), static_cast<Residency>(res(rng)),
                          static_cast<std::uint8_t>(mods(rng))});
  }
  if (w.tokens() == 0) w.adapters[0].tokens = 1;
  return w;
}

// A latency bound that binds: `fraction` of the batch-mode optimum's iteration time of the
// whole offered batch of `w` (false when that solve fails).
bool bind_latency(const ServingWorkload& w, Params& p, const Rational& fraction) {
  ServingWorkload full = w;
  full.mode = ServingMode::kBatch;
  const auto batch = solve_serving(full, p);
  EXPECT_TRUE(batch) << batch.error().message;
  if (!batch) return false;
  p.set(ParamId::kLoraMaxBatchLatencyS, Rational(batch->eval.iteration_s * fraction));
  return true;
}

// A tiny capacity-mode instance under a latency bound of 2/3 of its whole batch's optimum.
std::pair<ServingWorkload, Params> bound_capacity_instance(std::mt19937_64& rng) {
  ServingWorkload w = tiny_workload(rng, 2, 3);
  w.mode = ServingMode::kCapacity;
  Params p = serving_params(rng);
  EXPECT_TRUE(bind_latency(w, p, Rational(2, 3)));
  return {std::move(w), std::move(p)};
}

// Every plan of one stage: each adapter's tokens split over the paths it may take.
void for_each_stage_plan(const ServingWorkload& w, const ServingPlan& base, ServingStage s,
                         const std::function<void(const ServingPlan&)>& visit) {
  ServingPlan plan = base;
  const auto si = static_cast<std::size_t>(s);
  std::function<void(std::size_t)> rec = [&](std::size_t i) {
    if (i == w.adapters.size()) {
      visit(plan);
      return;
    }
    const auto& a = w.adapters[i];
    const bool device = a.weights != Residency::kGpu && detail::adapter_work(w.shape, a, s).any;
    for (std::int64_t p = 0; p <= (device ? a.tokens : 0); ++p) {
      for (std::int64_t c = 0; p + c <= (device ? a.tokens : 0); ++c) {
        plan.tokens[si][i] = {a.tokens - p - c, p, c};
        rec(i + 1);
      }
    }
  };
  rec(0);
}

TEST(Serving, PresetsMatchTheirSources) {
  // docs/model.md §9.8, from each model's config.json.
  struct Row {
    const char* name;
    std::int64_t h, f, l, nh, nkv, hd, e;
  };
  const Row rows[] = {{"llama-2-7b", 4096, 11008, 32, 32, 32, 128, 2},  {"llama-2-13b", 5120, 13824, 40, 40, 40, 128, 2},
                      {"llama-3-8b", 4096, 14336, 32, 32, 8, 128, 2},   {"llama-3-70b", 8192, 28672, 80, 64, 8, 128, 2},
                      {"mistral-7b", 4096, 14336, 32, 32, 8, 128, 2},   {"qwen2.5-7b", 3584, 18944, 28, 28, 4, 128, 2}};
  EXPECT_EQ(transformer_presets().size(), std::size(rows));
  for (const auto& r : rows) {
    auto s = transformer_preset(r.name);
    ASSERT_TRUE(s) << r.name;
    EXPECT_EQ(s->hidden, r.h) << r.name;
    EXPECT_EQ(s->intermediate, r.f) << r.name;
    EXPECT_EQ(s->layers, r.l) << r.name;
    EXPECT_EQ(s->heads, r.nh) << r.name;
    EXPECT_EQ(s->kv_heads, r.nkv) << r.name;
    EXPECT_EQ(s->head_dim, r.hd) << r.name;
    EXPECT_EQ(s->element_bytes, r.e) << r.name;
    EXPECT_NE(s->source.find("config.json"), std::string::npos) << r.name;
  }
  auto bad = transformer_preset("llama-9");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().key, "transformer.preset");
  EXPECT_NE(bad.error().message.find("llama-3-8b"), std::string::npos);
}

TEST(Serving, HuggingFaceConfigIsRead) {
  auto s = parse_hf_config(R"({"hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
      "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": null, "torch_dtype": "bfloat16",
      "vocab_size": 128256})",
                           "llama3.json");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->head_dim, 128);
  EXPECT_EQ(s->kv_heads, 8);
  EXPECT_EQ(s->element_bytes, 2);
  // Without num_key_value_heads: multi-head attention. An explicit head_dim wins.
  auto mha = parse_hf_config(R"({"hidden_size": 8, "intermediate_size": 4, "num_hidden_layers": 1,
      "num_attention_heads": 2, "head_dim": 3, "torch_dtype": "float32"})",
                             "x.json");
  ASSERT_TRUE(mha) << mha.error().message;
  EXPECT_EQ(mha->kv_heads, 2);
  EXPECT_EQ(mha->head_dim, 3);
  EXPECT_EQ(mha->element_bytes, 4);
  const struct {
    const char* json;
    ErrorCode code;
    const char* key;
  } bad[] = {
      {"{", ErrorCode::kConfigSyntax, "transformer.hf_config"},
      {"[1]", ErrorCode::kConfigSyntax, "transformer.hf_config"},
      {R"({"hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "torch_dtype": "float16"})",
       ErrorCode::kConfigSyntax, "transformer.intermediate_size"},
      {R"({"hidden_size": -8, "intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 2,
          "torch_dtype": "float16"})",
       ErrorCode::kOutOfRange, "transformer.hidden_size"},
      {R"({"hidden_size": 8, "intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 3,
          "torch_dtype": "float16"})",
       ErrorCode::kInconsistent, "transformer.num_attention_heads"},
      {R"({"hidden_size": 8, "intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 2,
          "torch_dtype": "int4"})",
       ErrorCode::kOutOfRange, "transformer.dtype"},
      {R"({"hidden_size": 8, "intermediate_size": 4, "num_hidden_layers": 1, "num_attention_heads": 2,
          "num_key_value_heads": 3, "torch_dtype": "float16"})",
       ErrorCode::kOutOfRange, "transformer.num_key_value_heads"},
  };
  for (const auto& b : bad) {
    auto r = parse_hf_config(b.json, "c.json");
    ASSERT_FALSE(r) << b.json;
    EXPECT_EQ(r.error().code, b.code) << b.json << ": " << r.error().message;
    EXPECT_EQ(r.error().key, b.key) << b.json;
    EXPECT_NE(r.error().message.find("c.json"), std::string::npos) << r.error().message;
  }
}

// A generated workload of three adapters, for the overrides below.
std::string zipf_head() {
  return R"(
[transformer]
preset = "llama-3-8b"
[serving]
context_tokens = 0
adapters = 3
ranks = [16, 32]
batch_tokens = 30
popularity = "uniform"
weights = "cxl"
)";
}

TEST(Serving, WorkloadsAreReadAndGenerated) {
  const std::string listed = R"(
[transformer]
preset = "llama-3-8b"
[serving]
context_tokens = 512
[[adapters]]
name = "chat"
rank = 16
tokens = 40
weights = "cxl"
[[adapters]]
name = "sql"
rank = 64
tokens = 24
weights = "both"
modules = ["q", "v"]
)";
  auto w = load_serving_workload_string(listed, "t.toml", ".");
  ASSERT_TRUE(w) << w.error().message;
  ASSERT_EQ(w->adapters.size(), 2U);
  EXPECT_EQ(w->tokens(), 64);
  EXPECT_EQ(w->adapters[1].modules, (1U << 0) | (1U << 2));
  EXPECT_EQ(w->adapters[0].modules, 0x7f);
  EXPECT_EQ(w->context_tokens, 512);
  // [lora] target_modules (PEFT's names too) is the modules of every adapter that lists
  // none; an adapter's own list stays; a string "q,v" (as --set writes it) is a list.
  auto t = load_serving_workload_string("[lora]\ntarget_modules = [\"q_proj\", \"o_proj\", \"down\"]\n" + listed,
                                        "t.toml", ".");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->adapters[0].modules, (1U << 0) | (1U << 3) | (1U << 6));
  EXPECT_EQ(t->adapters[1].modules, (1U << 0) | (1U << 2));
  // A bracketed list of one from --set is a list (it was read as a string).
  auto one_rank = load_serving_workload_string(zipf_head(), "t.toml", ".", {{"serving.ranks", "[8]"}});
  ASSERT_TRUE(one_rank) << one_rank.error().message;
  EXPECT_EQ(one_rank->adapters[1].rank, 8);
  auto set = load_serving_workload_string(listed, "t.toml", ".", {{"lora.target_modules", "k, gate_proj"}});
  ASSERT_TRUE(set) << set.error().message;
  EXPECT_EQ(set->adapters[0].modules, (1U << 1) | (1U << 4));
  auto unused = load_serving_workload_string(zipf_head() + "modules = [\"q\"]\n", "t.toml", ".",
                                             {{"lora.target_modules", "v"}});
  ASSERT_FALSE(unused);
  EXPECT_NE(unused.error().message.find("it would change nothing"), std::string::npos) << unused.error().message;
  for (const char* bad : {"q,x_proj", "q,q_proj", "", "_proj", "q,", ",q"}) {
    auto e = load_serving_workload_string(listed, "t.toml", ".", {{"lora.target_modules", bad}});
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().key, "lora.target_modules") << bad;
  }
  const std::string zipf = R"(
[transformer]
hidden_size = 8
intermediate_size = 16
num_hidden_layers = 2
num_attention_heads = 2
dtype = "float16"
[serving]
context_tokens = 0
adapters = 5
ranks = [8, 16]
batch_tokens = 100
popularity = "zipf:1"
weights = "cxl"
)";
  auto z = load_serving_workload_string(zipf, "z.toml", ".");
  ASSERT_TRUE(z) << z.error().message;
  ASSERT_EQ(z->adapters.size(), 5U);
  EXPECT_EQ(z->tokens(), 100);
  // 100 * (1, 1/2, 1/3, 1/4, 1/5) / (137/60) = 43.80, 21.90, 14.60, 10.95, 8.76: floors 43,
  // 21, 14, 10, 8 (96), the four left to the largest remainders .95 (a3), .90 (a1), .80
  // (a0), .76 (a4).
  const std::int64_t expect[] = {44, 22, 14, 11, 9};
  for (std::size_t i = 0; i < 5; ++i) EXPECT_EQ(z->adapters[i].tokens, expect[i]) << i;
  EXPECT_EQ(z->adapters[1].rank, 16);
  EXPECT_EQ(z->adapters[2].rank, 8);
  EXPECT_EQ(z->shape.head_dim, 4);
  const struct {
    const char* text;
    const char* key;
  } bad[] = {
      {"[serving]\ncontext_tokens = 0\n", "transformer"},
      {"[transformer]\npreset = \"llama-3-8b\"\n[serving]\ncontext_tokens = 0\n", "adapters"},
      {"[transformer]\npreset = \"llama-3-8b\"\nhidden_size = 4\n[serving]\ncontext_tokens = 0\n", "transformer"},
      {"[transformer]\npreset = \"llama-3-8b\"\n[serving]\ncontext_tokens = -1\n", "serving.context_tokens"},
      {"[transformer]\npreset = \"llama-3-8b\"\n[serving]\ncontext_tokens = 0\nmode = \"fast\"\n", "serving.mode"},
      {"[transformer]\npreset = \"llama-3-8b\"\n[serving]\ncontext_tokens = 0\nrank = 3\n", "serving.rank"},
      {"[transformer]\npreset = \"llama-3-8b\"\n[serving]\ncontext_tokens = 0\n[[adapters]]\nname = \"a\"\nrank = 0\n"
       "tokens = 1\nweights = \"cxl\"\n",
       "adapters.rank"},
      {"[transformer]\npreset = \"llama-3-8b\"\n[serving]\ncontext_tokens = 0\n[[adapters]]\nname = \"a\"\nrank = 1\n"
       "tokens = 1\nweights = \"hbm\"\n",
       "adapters.weights"},
      {"[transformer]\npreset = \"llama-3-8b\"\n[serving]\ncontext_tokens = 0\n[[adapters]]\nname = \"a\"\nrank = 1\n"
       "tokens = 1\nweights = \"cxl\"\nmodules = [\"qkv\"]\n",
       "adapters.modules"},
      {"[transformer]\npreset = \"llama-3-8b\"\n[serving]\ncontext_tokens = 0\n[[adapters]]\nname = \"a\"\nrank = 1\n"
       "tokens = 0\nweights = \"cxl\"\n",
       "adapters.tokens"},
      {"[transformer]\npreset = \"llama-3-8b\"\n[serving]\ncontext_tokens = 0\nadapters = 3\nranks = [8]\n"
       "batch_tokens = 10\npopularity = \"zipf\"\nweights = \"cxl\"\n",
       "serving.popularity"},
      {"[transformer]\npreset = \"llama-3-8b\"\n[serving]\ncontext_tokens = 0\n[[adapters]]\nname = \"a\"\nrank = 16.0\n"
       "tokens = 1\nweights = \"cxl\"\n",
       "adapters.rank"},
      {"[transformer]\npreset = \"llama-3-8b\"\nhf_config = \"x.json\"\n[serving]\ncontext_tokens = 0\n",
       "transformer"},
      {"[transformer]\npreset = \"llama-3-8b\"\n[serving]\ncontext_tokens = true\n", "serving.context_tokens"},
  };
  for (const auto& b : bad) {
    auto r = load_serving_workload_string(b.text, "bad.toml", ".");
    ASSERT_FALSE(r) << b.text;
    EXPECT_EQ(r.error().key, b.key) << r.error().message;
    EXPECT_NE(r.error().message.find("bad.toml"), std::string::npos) << r.error().message;
  }
}

TEST(Serving, ParametersBelongToTheirModel) {
  Params p;
  ASSERT_TRUE(set_param(p, "gpu.memory_bandwidth_bytes_per_s", "3.35 TB/s"));
  auto st = validate(p);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().key, "gpu.memory_bandwidth_bytes_per_s");
  ASSERT_TRUE(set_param(p, "model.name", "serving"));
  st = validate(p);  // the linear models' entry points refuse the serving model
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().key, "model.name");
  st = validate_serving(p);  // set all four roofline keys
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().key, "cxl.memory_bandwidth_bytes_per_s");
  ASSERT_TRUE(set_param(p, "cxl.memory_bandwidth_bytes_per_s", "1.1 TB/s"));
  ASSERT_TRUE(set_param(p, "gpu.kernel_overhead_s", "5 us"));
  ASSERT_TRUE(set_param(p, "cxl.kernel_overhead_s", "5 us"));
  EXPECT_TRUE(validate_serving(p));
  ASSERT_TRUE(set_param(p, "link.duplex", "shared"));
  st = validate_serving(p);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().key, "link.duplex");
  ASSERT_TRUE(set_param(p, "link.duplex", "full"));
  ASSERT_TRUE(set_param(p, "pipeline.chunk_tokens", "64"));
  st = validate_serving(p);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().key, "pipeline.chunk_tokens");
}

TEST(Serving, TooManyAdaptersForTheExactPlannerAreRefused) {
  // docs/model.md §9.7: more than 64 classes of adapters with tokens in a stage are refused
  // before any search (the dense exact LP that decides the nodes the double LPs cannot would
  // take gigabytes), naming the count.
  std::mt19937_64 rng(3);
  ServingWorkload w = tiny_workload(rng, 1, 1);
  w.adapters.clear();
  for (int i = 0; i < 65; ++i) w.adapters.push_back({"a" + std::to_string(i), 1, i + 1, Residency::kCxl, 0x7f});
  const Params p = serving_params(rng);
  auto r = solve_serving(w, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().key, "adapters");
  EXPECT_EQ(r.error().value, "65");
  // 300 adapters alike (rank, modules, residency, tokens) are one class: planned.
  w.adapters.clear();
  for (int i = 0; i < 300; ++i) w.adapters.push_back({"b" + std::to_string(i), 1, 2, Residency::kCxl, 0x7f});
  auto many = solve_serving(w, p);
  ASSERT_TRUE(many) << many.error().message;
  EXPECT_TRUE(many->simulated_equal);
  // Adapters without tokens take no part: two with tokens and 200 without still plan.
  w.adapters.resize(2);
  for (int i = 0; i < 200; ++i) w.adapters.push_back({"z" + std::to_string(i), 1, 0, Residency::kCxl, 0x7f});
  EXPECT_TRUE(solve_serving(w, p));
}

TEST(Serving, TheGraphHasTheDocumentedPaths) {
  // docs/model.md §9.4: seven maximal paths into expand_gpu, and one dominated one.
  std::vector<std::string> got;
  for (const auto& p : detail::serving_paths()) {
    std::string s;
    for (std::size_t i = 0; i < p.items.size(); ++i) {
      s += (i == 0 ? "" : " ") + std::string(detail::item_def(p.items[i]).name) + (p.latency_after[i] != 0 ? "+L" : "");
    }
    got.push_back(s);
  }
  std::sort(got.begin(), got.end());
  const std::vector<std::string> want = {
      "base shrink_gpu expand_gpu",
      "fetch y_back z_back+L expand_gpu",
      "fetch y_back+L expand_gpu",
      "fetch+L expand_gpu",
      "fetch+L shrink_gpu expand_gpu",
      "x_in+L shrink_cxl expand_cxl z_back+L expand_gpu",
      "x_in+L shrink_cxl y_back z_back+L expand_gpu",
      "x_in+L shrink_cxl y_back+L expand_gpu",
  };
  EXPECT_EQ(got, want);
}

// A plan with each adapter's tokens spread at random over the paths it may take.
ServingPlan random_plan(const ServingWorkload& w, std::mt19937_64& rng) {
  ServingPlan plan = uniform_plan(w, ServingPath::kGpu);
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    for (std::size_t i = 0; i < w.adapters.size(); ++i) {
      const auto& a = w.adapters[i];
      if (a.weights == Residency::kGpu || !detail::adapter_work(w.shape, a, static_cast<ServingStage>(s)).any) {
        continue;
      }
      std::uniform_int_distribution<std::int64_t> d(0, a.tokens);
      const std::int64_t x = d(rng);
      std::uniform_int_distribution<std::int64_t> d2(0, a.tokens - x);
      const std::int64_t y = d2(rng);
      plan.tokens[s][i] = {a.tokens - x - y, x, y};
    }
  }
  return plan;
}

TEST(Serving, TheSimulatorEndsEveryStageWhereTheModelDoes) {
  std::mt19937_64 rng(20261206);
  int plans = 0;
  for (int inst = 0; inst < 60; ++inst) {
    const ServingWorkload w = tiny_workload(rng, 3, 3);
    const Params p = serving_params(rng);
    auto hw = serving_hardware(p);
    ASSERT_TRUE(hw) << hw.error().message;
    for (int k = 0; k < 5; ++k) {
      const ServingPlan plan = random_plan(w, rng);
      ASSERT_TRUE(check_serving_plan(w, plan));
      const auto eval = evaluate_serving(w, hw.value(), plan);
      for (std::size_t s = 0; s < kServingStageCount; ++s) {
        const auto events = simulate_serving_stage(w, hw.value(), plan, static_cast<ServingStage>(s));
        Rational end = 0;
        for (const auto& e : events) end = std::max(end, e.done_s);
        EXPECT_EQ(end, eval.stages[s].seconds) << "instance " << inst << " stage " << s;
        // Each resource runs one item at a time, in its order.
        for (std::size_t a = 0; a < events.size(); ++a) {
          for (std::size_t b = a + 1; b < events.size(); ++b) {
            if (events[a].resource != events[b].resource) continue;
            EXPECT_LE(events[a].end_s, events[b].start_s) << events[a].item << " " << events[b].item;
          }
        }
        ++plans;
      }
    }
  }
  EXPECT_EQ(plans, 60 * 5 * 5);
}

// simulate_serving plays whole layers: each stage from the end of the one before, each
// layer from the end of the one before. Checked from the tasks alone: one item at a time per
// resource, every item inside its stage's window, later layers the first shifted, and the
// whole equal to the formulas (the gpu_hbm what-if too).
TEST(Serving, SimulatedLayersEqualTheModel) {
  std::mt19937_64 rng(20261207);
  for (int inst = 0; inst < 60; ++inst) {
    ServingWorkload w = tiny_workload(rng, 3, 3);
    w.shape.layers = 1 + inst % 3;
    const Params p = serving_params(rng);
    auto hw = serving_hardware(p);
    ASSERT_TRUE(hw) << hw.error().message;
    const ServingPlan plan = random_plan(w, rng);
    const bool hbm = inst % 4 == 3;
    const ServingPlan played = hbm ? uniform_plan(w, ServingPath::kGpu) : plan;
    const auto eval = evaluate_serving(w, hw.value(), played, hbm);
    auto sim = simulate_serving(w, hw.value(), played, w.shape.layers, hbm);
    ASSERT_TRUE(sim) << sim.error().message;
    EXPECT_TRUE(sim->equal()) << "instance " << inst;
    EXPECT_EQ(sim->simulated_iteration_s, eval.iteration_s);
    EXPECT_EQ(sim->makespan_s, eval.iteration_s);  // every layer simulated
    ASSERT_EQ(sim->stages.size(), kServingStageCount);
    std::vector<Rational> stage_start(kServingStageCount + 1);
    for (std::size_t s = 0; s < kServingStageCount; ++s) {
      EXPECT_EQ(sim->stages[s].simulated_s, eval.stages[s].seconds);
      stage_start[s + 1] = stage_start[s] + eval.stages[s].seconds;
    }
    const Rational layer_s = stage_start[kServingStageCount];
    std::vector<const ServingTask*> first;
    for (const auto& t : sim->tasks) {
      if (t.layer == 0) first.push_back(&t);
    }
    ASSERT_EQ(sim->tasks.size(), first.size() * static_cast<std::size_t>(w.shape.layers));
    for (std::size_t k = 0; k < sim->tasks.size(); ++k) {
      const auto& t = sim->tasks[k];
      const auto& f = *first[k % first.size()];
      EXPECT_EQ(t.layer, static_cast<std::int64_t>(k / first.size()));
      EXPECT_EQ(t.item, f.item);
      EXPECT_EQ(t.start_s, f.start_s + layer_s * Rational(t.layer));
      const Rational offset = layer_s * Rational(t.layer);
      const auto si = static_cast<std::size_t>(t.stage);
      EXPECT_GE(t.start_s, offset + stage_start[si]) << t.item;
      EXPECT_LE(t.done_s, offset + stage_start[si + 1]) << t.item;
      EXPECT_LE(t.start_s, t.end_s);
      EXPECT_LE(t.end_s, t.done_s);
    }
    for (const auto& r : sim->resources) {
      std::vector<const ServingTask*> on;
      Rational busy = 0;
      for (const auto& t : sim->tasks) {
        if (t.resource != r.name) continue;
        on.push_back(&t);
        busy += t.end_s - t.start_s;
      }
      EXPECT_EQ(busy, r.busy_s) << r.name;
      std::sort(on.begin(), on.end(), [](const ServingTask* a, const ServingTask* b) { return a->start_s < b->start_s; });
      for (std::size_t k = 1; k < on.size(); ++k) EXPECT_LE(on[k - 1]->end_s, on[k]->start_s) << r.name;
    }
  }
}

TEST(Serving, SimulationRefusesLayersOutsideTheShape) {
  std::mt19937_64 rng(7);
  ServingWorkload w = tiny_workload(rng, 2, 2);
  w.shape.layers = 2;
  auto hw = serving_hardware(serving_params(rng));
  ASSERT_TRUE(hw);
  const auto plan = uniform_plan(w, ServingPath::kGpu);
  for (const std::int64_t layers : {0, 3, -1}) {
    auto sim = simulate_serving(w, hw.value(), plan, layers);
    ASSERT_FALSE(sim);
    EXPECT_EQ(sim.error().key, "layers");
  }
  ServingPlan bad = plan;
  bad.tokens[0][0][0] += 1;
  auto sim = simulate_serving(w, hw.value(), bad, 1);
  ASSERT_FALSE(sim);
  EXPECT_EQ(sim.error().key, "plan");
}

// solve's JSON plan, read back, is the plan solve returned; broken files name what is wrong.
TEST(Serving, PlanFilesRoundTrip) {
  std::mt19937_64 rng(20261208);
  for (int inst = 0; inst < 20; ++inst) {
    const ServingWorkload w = tiny_workload(rng, 3, 3);
    const Params p = serving_params(rng);
    auto r = solve_serving(w, p);
    ASSERT_TRUE(r) << r.error().message;
    if (!r->feasible) continue;
    auto back = parse_serving_plan_json(w, render_serving_json(w, r.value()), "solve.json");
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(back->tokens, r->plan.tokens) << "instance " << inst;
  }
  ServingWorkload w;
  w.shape = {"t", "test", 2, 2, 1, 1, 1, 2, "float16", 2};
  w.adapters = {{"a", 1, 2, Residency::kCxl, 0x01}, {"b", 1, 1, Residency::kCxl, 0x08}};  // q; o
  const auto parse = [&](const char* text) { return parse_serving_plan_json(w, text, "p.json"); };
  auto ok = parse(R"([{"adapter": "a", "stage": "qkv", "path": "gpu", "tokens": 1},
                      {"adapter": "a", "stage": "qkv", "path": "split", "tokens": 1},
                      {"adapter": "b", "stage": "o", "path": "device", "tokens": 1}])");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->tokens[0][0], (std::array<std::int64_t, 3>{1, 1, 0}));
  EXPECT_EQ(ok->tokens[2][1], (std::array<std::int64_t, 3>{0, 0, 1}));
  EXPECT_EQ(ok->tokens[3][0], (std::array<std::int64_t, 3>{2, 0, 0}));  // no module in gate_up: the GPU path
  const std::pair<const char*, const char*> bad[] = {
      {"[", "not JSON"},
      {R"({"status": "optimal"})", "without \"plan\""},
      {R"([{"adapter": "a", "stage": "qkv", "path": "gpu"}])", "entry 0 is not"},
      {R"([{"adapter": "c", "stage": "qkv", "path": "gpu", "tokens": 2}])", "adapter 'c' is not in the workload"},
      {R"([{"adapter": "a", "stage": "mlp", "path": "gpu", "tokens": 2}])", "stage 'mlp'"},
      {R"([{"adapter": "a", "stage": "qkv", "path": "cpu", "tokens": 2}])", "path 'cpu'"},
      {R"([{"adapter": "a", "stage": "o", "path": "gpu", "tokens": 2}])", "has no module in stage o"},
      {R"([{"adapter": "a", "stage": "qkv", "path": "gpu", "tokens": 3}])", "3 tokens, adapter a has 2"},
      {R"([{"adapter": "a", "stage": "qkv", "path": "gpu", "tokens": -1}])", "-1 tokens"},
      {R"([{"adapter": "a", "stage": "qkv", "path": "gpu", "tokens": 2},
           {"adapter": "a", "stage": "qkv", "path": "gpu", "tokens": 2}])", "given twice"},
      {R"([{"adapter": "a", "stage": "qkv", "path": "gpu", "tokens": 2}])", "adapter b has 1 tokens and a module in stage o"},
      {R"([{"adapter": "a", "stage": "qkv", "path": "gpu", "tokens": 1},
           {"adapter": "b", "stage": "o", "path": "gpu", "tokens": 1}])", "1 + 0 + 0 tokens, it has 2"},
  };
  for (const auto& [text, why] : bad) {
    auto r = parse(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().key, "--plan");
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
  }
  // An entry with a key more, a count past 64 bits, and a plan nested 100,000 deep (it
  // crashed the reader once: the list was copied recursively).
  for (const auto& [text, why] : std::vector<std::pair<std::string, std::string>>{
           {R"([{"adapter": "a", "stage": "qkv", "path": "gpu", "tokens": 2, "note": 1}])", "keys other than"},
           {R"([{"adapter": "a", "stage": "qkv", "path": "gpu", "tokens": 18446744073709551615}])", "too large"},
           {"{\"plan\": " + std::string(100000, '[') + std::string(100000, ']') + "}", "entry 0 is not"}}) {
    auto r = parse_serving_plan_json(w, text, "p.json");
    ASSERT_FALSE(r) << text.substr(0, 80);
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
  }
}

// compare_serving: the batch with the weights as given, all on the GPU, all on the device,
// in both. Weights in both memories allow every plan of the other three (a GPU path reads
// them from HBM, the device paths from device memory), so with memory to spare "both" is
// never slower; "gpu" leaves the device nothing and is gpu_hbm's plan.
TEST(Serving, ResidencyComparisonBoundsItsCases) {
  std::mt19937_64 rng(20261209);
  for (int inst = 0; inst < 25; ++inst) {
    const ServingWorkload w = tiny_workload(rng, 3, 3);
    const Params p = serving_params(rng);
    auto c = compare_serving(w, p);
    ASSERT_TRUE(c) << c.error().message;
    bool uniform = true;
    for (const auto& a : w.adapters) uniform = uniform && a.weights == w.adapters.front().weights;
    ASSERT_EQ(c->cases.size(), uniform ? 3U : 4U);
    int given = 0;
    const ServingResidencyCase* both = nullptr;
    for (const auto& x : c->cases) {
      given += x.given ? 1 : 0;
      ASSERT_TRUE(x.result.feasible) << x.weights;  // memory to spare in these instances
      if (x.weights == "both") both = &x;
      if (x.weights == "gpu") {
        EXPECT_EQ(x.device_share, 0);
        EXPECT_EQ(x.result.eval.iteration_s, x.result.baselines[0].eval.iteration_s);  // gpu_hbm
      }
    }
    EXPECT_EQ(given, 1);
    ASSERT_NE(both, nullptr);
    for (const auto& x : c->cases) {
      EXPECT_LE(both->result.eval.iteration_s, x.result.eval.iteration_s) << "instance " << inst << " " << x.weights;
    }
    const auto& as_given = *std::find_if(c->cases.begin(), c->cases.end(), [](const auto& x) { return x.given; });
    auto direct = solve_serving(w, p);
    ASSERT_TRUE(direct);
    EXPECT_EQ(as_given.result.eval.iteration_s, direct->eval.iteration_s);
  }
}

TEST(Serving, TheOptimumIsTheBestPlanOfExhaustiveSearch) {
  std::mt19937_64 rng(7);
  int solved = 0, device_helps = 0;
  for (int inst = 0; inst < 40; ++inst) {
    const ServingWorkload w = tiny_workload(rng, 2, 3);
    const Params p = serving_params(rng);
    auto hw = serving_hardware(p);
    ASSERT_TRUE(hw);
    auto r = solve_serving(w, p);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->simulated_equal);
    // Stages share nothing, so the best plan is the best plan of each stage.
    for (std::size_t s = 0; s < kServingStageCount; ++s) {
      Rational best = -1;
      for_each_stage_plan(w, r->plan, static_cast<ServingStage>(s), [&](const ServingPlan& plan) {
        const Rational t = evaluate_serving(w, hw.value(), plan).stages[s].seconds;
        if (best < 0 || t < best) best = t;
      });
      EXPECT_EQ(r->eval.stages[s].seconds, best) << "instance " << inst << " stage " << s;
    }
    const Rational& fetch = r->baselines[1].eval.iteration_s;
    const Rational& device = r->baselines[2].eval.iteration_s;
    EXPECT_LE(r->eval.iteration_s, fetch);
    EXPECT_LE(r->eval.iteration_s, device);
    if (r->eval.iteration_s < fetch) ++device_helps;
    ++solved;
  }
  EXPECT_EQ(solved, 40);
  EXPECT_GT(device_helps, 0);  // the family is not one where the GPU always wins
}

// A device without compute (cxl.flops = 0, a memory expander: docs/model.md §9.1) takes no
// token: the optimum is the gpu_fetch plan exactly, device_all does not exist, its kernel
// overhead is not needed (its memory bandwidth is: the fetches read its memory), and a
// plan that sends it a token is refused.
TEST(Serving, ADeviceWithoutComputeGivesTheGpuFetchPlan) {
  std::mt19937_64 rng(23);
  int with_device_weights = 0;
  for (int inst = 0; inst < 30; ++inst) {
    const ServingWorkload w = tiny_workload(rng, 3, 3);
    Params p = serving_params(rng);
    ASSERT_TRUE(set_param(p, "cxl.flops", "0"));
    p.clear(ParamId::kCxlKernelOverheadS);  // not read without compute
    ASSERT_TRUE(validate_serving(p).ok()) << validate_serving(p).error().message;
    {
      Params no_bandwidth = p;
      no_bandwidth.clear(ParamId::kCxlMemoryBandwidthBytesPerS);
      const Status st = validate_serving(no_bandwidth);
      ASSERT_FALSE(st.ok());
      EXPECT_EQ(st.error().key, "cxl.memory_bandwidth_bytes_per_s");
    }
    auto hw = serving_hardware(p);
    ASSERT_TRUE(hw);
    EXPECT_FALSE(hw->device_computes());
    auto r = solve_serving(w, p);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->feasible) << r->reason;
    EXPECT_TRUE(r->simulated_equal);
    const ServingBaseline& fetch = r->baselines[1];
    EXPECT_EQ(r->plan.tokens, fetch.plan.tokens) << "instance " << inst;
    EXPECT_EQ(r->eval.iteration_s, fetch.eval.iteration_s);
    EXPECT_EQ(serving_gain_percent(*r, "gpu_fetch"), Rational(0));
    const ServingBaseline& device = r->baselines[2];
    const bool sends = device.plan.tokens != fetch.plan.tokens;
    if (sends) {
      ++with_device_weights;
      EXPECT_FALSE(device.eval.feasible);
      EXPECT_NE(device.eval.reason.find("no compute"), std::string::npos) << device.eval.reason;
      auto sim = simulate_serving(w, hw.value(), device.plan);
      ASSERT_FALSE(sim);
      EXPECT_EQ(sim.error().key, "plan");
      EXPECT_NE(sim.error().message.find("cxl.flops = 0"), std::string::npos) << sim.error().message;
    }
    // The same machine with a device that computes is never slower (gpu_fetch is the same
    // plan at the same time, and one of its plans).
    Params q = p;
    ASSERT_TRUE(set_param(q, "cxl.flops", "10"));
    ASSERT_TRUE(set_param(q, "cxl.kernel_overhead_s", "0.5"));
    auto rq = solve_serving(w, q);
    ASSERT_TRUE(rq) << rq.error().message;
    EXPECT_EQ(rq->baselines[1].eval.iteration_s, fetch.eval.iteration_s);
    EXPECT_LE(rq->eval.iteration_s, r->eval.iteration_s);
  }
  EXPECT_GT(with_device_weights, 5);  // the family has adapters whose weights are on the device
  // The seed and pipeline models split work onto the device: they refuse it.
  Params seed;
  ASSERT_TRUE(set_param(seed, "cxl.flops", "0"));
  const Status st = validate(seed);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().key, "cxl.flops");
  EXPECT_NE(st.error().message.find("serving model only"), std::string::npos) << st.error().message;
}

// Every transfer reads or writes the device's memory: it runs at min(link, W_c)
// (docs/model.md §9.3), in the model and in the simulator alike, and a slower device memory
// never makes a plan faster.
TEST(Serving, TransfersRunAtTheLesserOfTheLinkAndTheDeviceMemory) {
  std::mt19937_64 rng(41);
  int slower_memory = 0;
  for (int inst = 0; inst < 40; ++inst) {
    const ServingWorkload w = tiny_workload(rng, 3, 3);
    const Params p = serving_params(rng);
    auto hw = serving_hardware(p);
    ASSERT_TRUE(hw);
    const Rational rate = std::min(p.get(ParamId::kLinkBandwidthBytesPerS), p.get(ParamId::kCxlMemoryBandwidthBytesPerS));
    EXPECT_EQ(hw->transfer_bandwidth(), rate);
    if (rate < p.get(ParamId::kLinkBandwidthBytesPerS)) ++slower_memory;
    Params q = p;  // the same machine with half the device's memory bandwidth
    ASSERT_TRUE(set_param(q, "cxl.memory_bandwidth_bytes_per_s",
                          format_exact(p.get(ParamId::kCxlMemoryBandwidthBytesPerS) / 2)));
    auto hq = serving_hardware(q);
    ASSERT_TRUE(hq);
    for (const ServingPath path : {ServingPath::kGpu, ServingPath::kSplit, ServingPath::kDevice}) {
      const ServingPlan plan = uniform_plan(w, path);
      if (!check_serving_plan(w, plan).ok()) continue;
      const ServingEvaluation ev = evaluate_serving(w, *hw, plan);
      for (const ServingStageTime& st : ev.stages) {
        for (const ServingItem& it : st.items) {
          if (!it.transfer) continue;
          EXPECT_EQ(it.seconds, it.runs ? Rational(it.bytes / rate) : Rational(0)) << it.name;
        }
        // The simulator holds each transfer's lane for bytes / rate as well.
        for (const ServingEvent& e : simulate_serving_stage(w, *hw, plan, st.stage)) {
          const auto it = std::find_if(st.items.begin(), st.items.end(),
                                       [&](const ServingItem& x) { return x.name == e.item; });
          ASSERT_NE(it, st.items.end()) << e.item;
          if (it->transfer) {
            EXPECT_EQ(e.end_s - e.start_s, Rational(it->bytes / rate)) << e.item;
          }
        }
      }
      // Halving the device's memory bandwidth never shortens the plan.
      EXPECT_GE(evaluate_serving(w, *hq, plan).iteration_s, ev.iteration_s);
    }
  }
  EXPECT_GT(slower_memory, 5);  // the family has devices whose memory is slower than the link
  // The planner's rows charge the same rate: with the device's memory slower than the link,
  // the certified optimum still simulates at its claimed time and is no slower than before.
  for (int inst = 0; inst < 12; ++inst) {
    const ServingWorkload w = tiny_workload(rng, 3, 3);
    Params p = serving_params(rng);
    ASSERT_TRUE(set_param(p, "link.bandwidth_bytes_per_s", "64"));
    auto fast = solve_serving(w, p);
    ASSERT_TRUE(set_param(p, "cxl.memory_bandwidth_bytes_per_s", "2"));
    auto slow = solve_serving(w, p);
    ASSERT_TRUE(fast && slow);
    if (!fast->feasible) continue;
    ASSERT_TRUE(slow->feasible) << slow->reason;
    EXPECT_TRUE(slow->simulated_equal);
    EXPECT_GE(slow->eval.iteration_s, fast->eval.iteration_s);
    EXPECT_GE(slow->baselines[1].eval.iteration_s, fast->baselines[1].eval.iteration_s);  // gpu_fetch
  }
}

// Adapters alike in rank, modules, residency and tokens are planned as one class by their
// totals (docs/model.md §9.7); nothing is lost: the optimum equals exhaustive search over
// every adapter's own split.
TEST(Serving, ClassesOfIdenticalAdaptersLoseNothing) {
  std::mt19937_64 rng(17);
  int solved = 0, split = 0;
  for (int inst = 0; inst < 24 / testing::kSanitizerDivisor; ++inst) {
    ServingWorkload w = tiny_workload(rng, 1, 3);
    // Three adapters: copies of one or two templates.
    const ServingAdapter t0 = w.adapters[0];
    ServingAdapter t1 = t0;
    t1.name = "other";
    t1.tokens = static_cast<std::int64_t>(rng() % 3) + 1;
    w.adapters.clear();
    const bool two = rng() % 2 == 0;
    for (int i = 0; i < 3; ++i) {
      ServingAdapter a = two && i == 2 ? t1 : t0;
      a.name = "a" + std::to_string(i);
      if (a.tokens == 0) a.tokens = 2;
      w.adapters.push_back(a);
    }
    const Params p = serving_params(rng);
    auto hw = serving_hardware(p);
    ASSERT_TRUE(hw);
    auto r = solve_serving(w, p);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_TRUE(r->simulated_equal);
    for (std::size_t s = 0; s < kServingStageCount; ++s) {
      Rational best = -1;
      for_each_stage_plan(w, r->plan, static_cast<ServingStage>(s), [&](const ServingPlan& plan) {
        const Rational t = evaluate_serving(w, hw.value(), plan).stages[s].seconds;
        if (best < 0 || t < best) best = t;
      });
      EXPECT_EQ(r->eval.stages[s].seconds, best) << "instance " << inst << " stage " << s;
      for (const auto& a : r->plan.tokens[s]) {
        int used = 0;
        for (const auto x : a) used += x > 0 ? 1 : 0;
        split += used > 1 ? 1 : 0;
      }
    }
    ++solved;
  }
  EXPECT_EQ(solved, 24 / testing::kSanitizerDivisor);
  EXPECT_GT(split, 0);  // some optimum splits an adapter of a class
}

// The plan of a class from its totals (docs/model.md §9.7): k adapters of n tokens, the
// totals kept, and the fewest readers of each matrix, for every (k <= 4, n <= 5, P, C).
TEST(Serving, ClassPlanHasTheFewestReaders) {
  int two_split = 0;
  for (std::int64_t k = 1; k <= 4; ++k) {
    for (std::int64_t n = 1; n <= 5; ++n) {
      for (std::int64_t p = 0; p <= k * n; ++p) {
        for (std::int64_t c = 0; p + c <= k * n; ++c) {
          const std::int64_t g = k * n - p - c;
          const auto plan = detail::class_plan(k, n, p, c);
          ASSERT_EQ(static_cast<std::int64_t>(plan.size()), k);
          std::int64_t tot[3] = {0, 0, 0}, ga = 0, gb = 0, da = 0, db = 0, split = 0;
          for (const auto& a : plan) {
            ASSERT_TRUE(a[0] >= 0 && a[1] >= 0 && a[2] >= 0);
            ASSERT_EQ(a[0] + a[1] + a[2], n);
            for (std::size_t x = 0; x < 3; ++x) tot[x] += a[x];
            ga += a[0] > 0 ? 1 : 0;
            gb += a[0] + a[1] > 0 ? 1 : 0;
            da += a[1] + a[2] > 0 ? 1 : 0;
            db += a[2] > 0 ? 1 : 0;
            split += (a[0] > 0) + (a[1] > 0) + (a[2] > 0) > 1 ? 1 : 0;
          }
          ASSERT_EQ(tot[0], g);
          ASSERT_EQ(tot[1], p);
          ASSERT_EQ(tot[2], c);
          const auto readers = [n](std::int64_t x) { return (x + n - 1) / n; };
          EXPECT_EQ(ga, readers(g)) << k << " " << n << " " << p << " " << c;
          EXPECT_EQ(gb, readers(g + p)) << k << " " << n << " " << p << " " << c;
          EXPECT_EQ(da, readers(p + c)) << k << " " << n << " " << p << " " << c;
          EXPECT_EQ(db, readers(c)) << k << " " << n << " " << p << " " << c;
          two_split += split == 2 ? 1 : 0;
        }
      }
    }
  }
  EXPECT_GT(two_split, 0);  // the remainders of 2n, on two adapters, are reached
}

// The search's LPs are solved in double precision and only proposed (docs/model.md §9.7):
// on random instances its optimum (over the compact LP, and over the program's own LP
// after a compact search cut short) equals that of the search that decides every node by an
// exact rational LP, and nearly every node is closed by an exact bound computed from the
// double LP (its duals, its basis's exact duals, or a Farkas row), not by an exact LP.
TEST(Serving, DoublePrecisionProposalsKeepTheExactOptimum) {
  std::mt19937_64 rng(29);
  long nodes = 0, exact_lps = 0, fixed = 0;
  const int count = 30 / testing::kSanitizerDivisor;
  for (int inst = 0; inst < count; ++inst) {
    const ServingWorkload w = tiny_workload(rng, 5, 7);
    const Params p = serving_params(rng);
    auto fast = solve_serving(w, p);
    ServingSolveOptions o;
    o.exact_lps_only = true;
    auto ref = solve_serving(w, p, o);
    ASSERT_TRUE(fast) << fast.error().message;
    ASSERT_TRUE(ref) << ref.error().message;
    ASSERT_EQ(fast->feasible, ref->feasible) << inst;
    if (!fast->feasible) continue;
    EXPECT_TRUE(fast->proved_optimal);
    EXPECT_TRUE(fast->simulated_equal);
    EXPECT_EQ(fast->eval.iteration_s, ref->eval.iteration_s) << "instance " << inst;
    EXPECT_EQ(fast->lower_bound_s, fast->eval.iteration_s);
    // The compact LP's search stopped after one or two nodes in every stage, each stage
    // searched again over the program's own LP from its best plan (for at most one or
    // two nodes, or its default budget), then by the compact LP's search again: the same
    // optimum.
    for (const long budget : {1L, 2L}) {
      for (const long own : {1L, 2L, ServingSolveOptions{}.own_lp_node_budget}) {
        ServingSolveOptions b;
        b.compact_node_budget = budget;
        b.own_lp_node_budget = own;
        auto again = solve_serving(w, p, b);
        ASSERT_TRUE(again) << again.error().message;
        EXPECT_TRUE(again->proved_optimal) << inst;
        EXPECT_EQ(again->eval.iteration_s, ref->eval.iteration_s)
            << "instance " << inst << " budgets " << budget << ", " << own;
        EXPECT_EQ(again->lower_bound_s, again->eval.iteration_s) << inst;
      }
    }
    EXPECT_EQ(ref->exact_lps, ref->nodes);
    nodes += fast->nodes;
    exact_lps += fast->exact_lps;
    fixed += fast->fixed_bounds;
    // A relative gap: the plan is within it of the optimum, the bound below the optimum.
    ServingSolveOptions g;
    g.relative_gap = Rational(1, 20);
    auto gap = solve_serving(w, p, g);
    ASSERT_TRUE(gap) << gap.error().message;
    EXPECT_LE(gap->lower_bound_s, ref->eval.iteration_s) << inst;
    EXPECT_GE(gap->eval.iteration_s, ref->eval.iteration_s) << inst;
    EXPECT_LE(gap->eval.iteration_s * Rational(19, 20), gap->lower_bound_s) << inst;
  }
  EXPECT_GT(nodes, 40);  // trees, not root LPs alone
  EXPECT_LT(exact_lps * 20, nodes) << exact_lps << " exact LPs of " << nodes << " nodes";
  EXPECT_GT(fixed, 0);  // reduced-cost fixing moved bounds, and the optimum is the reference's
  std::printf("double-precision search: %ld nodes, %ld exact LPs, %ld bounds fixed\n", nodes, exact_lps, fixed);
}

// The stages searched on threads at once (ServingSolveOptions::threads, what the CLI's
// solve does) give exactly the answer of the stages one after another: the plan, the
// certificate's counts and bounds, and the errors.
TEST(Serving, StagesOnThreadsGiveTheSameAnswer) {
  std::mt19937_64 rng(41);
  int planned = 0;
  for (int inst = 0; inst < 12 / testing::kSanitizerDivisor + 2; ++inst) {
    const ServingWorkload w = tiny_workload(rng, 6, 9);
    const Params p = serving_params(rng);
    auto one = solve_serving(w, p);
    ASSERT_TRUE(one) << one.error().message;
    for (const unsigned threads : {0U, 2U, 4U}) {
      ServingSolveOptions o;
      o.threads = threads;
      auto many = solve_serving(w, p, o);
      ASSERT_TRUE(many) << many.error().message;
      ASSERT_EQ(many->feasible, one->feasible) << inst;
      EXPECT_EQ(many->plan.tokens, one->plan.tokens) << "instance " << inst << " threads " << threads;
      EXPECT_EQ(many->eval.iteration_s, one->eval.iteration_s) << inst;
      EXPECT_EQ(many->lower_bound_s, one->lower_bound_s) << inst;
      EXPECT_EQ(many->proved_optimal, one->proved_optimal) << inst;
      EXPECT_EQ(many->nodes, one->nodes) << inst;
      EXPECT_EQ(many->pivots, one->pivots) << inst;
      EXPECT_EQ(many->exact_lps, one->exact_lps) << inst;
      EXPECT_EQ(many->fixed_bounds, one->fixed_bounds) << inst;
      EXPECT_EQ(many->classes, one->classes) << inst;
    }
    planned += one->feasible ? 1 : 0;
  }
  EXPECT_GT(planned, 0);
  // An error raised in a stage's thread is the answer, as without threads: more classes
  // in a stage than the planner takes (70 adapters of distinct token counts).
  ServingWorkload big = tiny_workload(rng, 1, 1);
  big.adapters.clear();
  for (int i = 0; i < 70; ++i) big.adapters.push_back({"a" + std::to_string(i), 1, i + 1, Residency::kCxl, 127});
  const Params p = serving_params(rng);
  auto one = solve_serving(big, p);
  ServingSolveOptions o;
  o.threads = 0;
  auto many = solve_serving(big, p, o);
  ASSERT_FALSE(one);
  ASSERT_FALSE(many);
  EXPECT_EQ(one.error().code, ErrorCode::kUnsupported);
  EXPECT_EQ(many.error().code, one.error().code);
  EXPECT_EQ(many.error().message, one.error().message);
}

// A node limit leaves the proof open: the plan is still exact and simulated, and its
// certified lower bound is never above the true optimum (exhaustive search).
TEST(Serving, NodeLimitsGiveACertifiedLowerBound) {
  std::mt19937_64 rng(23);
  int open = 0;
  for (int inst = 0; inst < 16 / testing::kSanitizerDivisor; ++inst) {
    const ServingWorkload w = tiny_workload(rng, 3, 3);
    const Params p = serving_params(rng);
    auto hw = serving_hardware(p);
    ASSERT_TRUE(hw);
    auto exact = solve_serving(w, p);
    ASSERT_TRUE(exact) << exact.error().message;
    ASSERT_TRUE(exact->proved_optimal);
    EXPECT_EQ(exact->lower_bound_s, exact->eval.iteration_s);
    // Also with budgets of one node for the compact LP's and the program's own LP's
    // searches, so that a limit of 2 or 3 may span two or three searches of a stage.
    for (const long limit : {1L, 2L, 3L, -1L, -2L, -3L}) {
      ServingSolveOptions o;
      o.node_limit = std::abs(limit);
      if (limit < 0) o.compact_node_budget = o.own_lp_node_budget = 1;
      auto r = solve_serving(w, p, o);
      ASSERT_TRUE(r) << r.error().message;
      ASSERT_TRUE(r->simulated_equal);
      EXPECT_LE(r->lower_bound_s, exact->eval.iteration_s) << inst;
      EXPECT_GE(r->eval.iteration_s, exact->eval.iteration_s) << inst;
      if (r->proved_optimal) {
        EXPECT_EQ(r->eval.iteration_s, exact->eval.iteration_s) << inst;
      }
      open += r->proved_optimal ? 0 : 1;
    }
  }
  EXPECT_GT(open, 0);
}

// Capacity mode (docs/model.md §9.12) against exhaustive search: every vector of served
// tokens (each adapter 0..offered), each planned exactly in batch mode, kept when it meets
// the latency, token and memory limits; the best throughput must be capacity mode's, and
// each restricted baseline the best of its uniform plans over the same vectors.
TEST(ServingCapacity, TheOptimumIsTheBestOfEveryServedBatch) {
  std::mt19937_64 rng(20261207);
  int limited = 0, solved = 0, none = 0;
  const int instances = 24 / testing::kSanitizerDivisor + 2;
  for (int inst = 0; inst < instances; ++inst) {
    ServingWorkload w = tiny_workload(rng, 2, 3);
    w.mode = ServingMode::kCapacity;
    Params p = serving_params(rng);
    auto hw = serving_hardware(p);
    ASSERT_TRUE(hw);
    ServingWorkload full = w;
    full.mode = ServingMode::kBatch;
    const auto batch = solve_serving(full, p);
    ASSERT_TRUE(batch) << batch.error().message;
    // Limits that bind: a latency below the full batch's optimum, a token bound, or a GPU
    // memory halfway between an empty batch's and the full batch's.
    Params limits = p;
    const int kind = inst % 4;
    if (kind == 1) {
      limits.set(ParamId::kLoraMaxBatchLatencyS, Rational(batch->eval.iteration_s * Rational(2, 3)));
    } else if (kind == 2) {
      ASSERT_TRUE(set_param(limits, "lora.max_batch_tokens", std::to_string(std::max<std::int64_t>(1, w.tokens() / 2))));
    } else if (kind == 3) {
      std::vector<std::int64_t> zero(w.adapters.size(), 0);
      const ServingWorkload w0 = served_workload(w, zero);
      const Rational m0 = evaluate_serving(w0, hw.value(), uniform_plan(w0, ServingPath::kGpu)).memory.gpu_bytes;
      const Rational m = batch->eval.memory.gpu_bytes;
      const Rational half = (m0 + m) / 2;
      ASSERT_TRUE(set_param(limits, "gpu.memory_bytes", Integer(half.get_num() / half.get_den()).get_str()));
    }
    auto r = solve_serving(w, limits);
    ASSERT_TRUE(r) << r.error().message;
    const auto hw_l = serving_hardware(limits, true);
    ASSERT_TRUE(hw_l);
    // The reference: every served vector.
    Params plain = limits;
    plain.clear(ParamId::kLoraMaxBatchLatencyS);
    plain.clear(ParamId::kLoraMaxBatchTokens);
    std::optional<Rational> best;
    std::array<std::optional<Rational>, 3> best_base;  // gpu_hbm, gpu_fetch, device_all
    std::vector<std::int64_t> served(w.adapters.size(), 0);
    std::function<void(std::size_t)> rec = [&](std::size_t i) {
      if (i < w.adapters.size()) {
        for (std::int64_t n = 0; n <= w.adapters[i].tokens; ++n) {
          served[i] = n;
          rec(i + 1);
        }
        return;
      }
      const ServingWorkload ws = served_workload(w, served);
      if (ws.tokens() == 0) return;
      if (limits.has(ParamId::kLoraMaxBatchTokens) && Rational(ws.tokens()) > limits.get(ParamId::kLoraMaxBatchTokens)) {
        return;
      }
      const auto fits = [&](const ServingEvaluation& ev) {
        return ev.feasible && (!limits.has(ParamId::kLoraMaxBatchLatencyS) ||
                               ev.iteration_s <= limits.get(ParamId::kLoraMaxBatchLatencyS));
      };
      const auto keep = [](std::optional<Rational>& at, const Rational& x) {
        if (!at || x > *at) at = x;
      };
      auto b = solve_serving(ws, plain);
      ASSERT_TRUE(b) << b.error().message;
      if (b->feasible && fits(b->eval)) keep(best, b->eval.tokens_per_s);
      for (std::size_t k = 0; k < 3; ++k) {
        if (fits(b->baselines[k].eval)) keep(best_base[k], b->baselines[k].eval.tokens_per_s);
      }
    };
    rec(0);
    ASSERT_EQ(r->feasible, best.has_value()) << "instance " << inst << ": " << r->reason;
    if (!best) {
      ++none;
      continue;
    }
    ++solved;
    EXPECT_EQ(r->eval.tokens_per_s, *best) << "instance " << inst;
    EXPECT_TRUE(r->simulated_equal);
    if (r->eval.tokens_per_s < batch->eval.tokens_per_s || served_workload(w, r->served).tokens() < w.tokens()) {
      ++limited;
    }
    for (std::size_t k = 0; k < 3; ++k) {
      ASSERT_EQ(r->baselines[k].eval.feasible, best_base[k].has_value()) << "instance " << inst << " baseline " << k;
      if (best_base[k]) {
        EXPECT_EQ(r->baselines[k].eval.tokens_per_s, *best_base[k]) << "instance " << inst << " baseline " << k;
      }
    }
    // The served plan is a plan of the served batch, within every limit.
    const ServingWorkload ws = served_workload(w, r->served);
    EXPECT_TRUE(check_serving_plan(ws, r->plan));
    EXPECT_EQ(evaluate_serving(ws, hw_l.value(), r->plan).iteration_s, r->eval.iteration_s);
  }
  EXPECT_GT(solved, instances / 2);
  EXPECT_GT(limited, 0);  // the limits bind somewhere
}

// Capacity mode on a device without compute (a memory expander): every served token on the
// GPU, so the optimum is capacity gpu_fetch's throughput; device_all does not exist when it
// would send the device a token; under a latency bound the plan still meets it.
TEST(ServingCapacity, ADeviceWithoutComputeServesTheGpuFetchOptimum) {
  std::mt19937_64 rng(41);
  int expanders = 0;
  for (int inst = 0; inst < 8; ++inst) {
    ServingWorkload w = tiny_workload(rng, 2, 3);
    w.mode = ServingMode::kCapacity;
    Params p = serving_params(rng);
    ASSERT_TRUE(set_param(p, "cxl.flops", "0"));
    ASSERT_TRUE(bind_latency(w, p, Rational(3, 4)));
    auto r = solve_serving(w, p);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->feasible, r->baselines[1].eval.feasible);
    if (!r->feasible) continue;
    EXPECT_EQ(r->eval.tokens_per_s, r->baselines[1].eval.tokens_per_s) << "instance " << inst;
    EXPECT_LE(r->eval.iteration_s, p.get(ParamId::kLoraMaxBatchLatencyS));
    bool offers_device = false;
    for (const auto& a : w.adapters) offers_device = offers_device || (a.weights != Residency::kGpu && a.tokens > 0);
    EXPECT_EQ(r->baselines[2].eval.feasible, !offers_device) << "instance " << inst;
    if (offers_device) ++expanders;
  }
  EXPECT_GT(expanders, 0);
}

// Capacity mode's plan files: the file's tokens are the served batch (each adapter's sum,
// the same in every stage where it has a module; no entry: nothing served); capacity
// solve's JSON plan read back is its plan and served tokens. Sums that differ between
// stages, or exceed what an adapter offers, are errors naming the file.
TEST(ServingCapacity, PlanFilesAreTheBatchTheyServe) {
  std::mt19937_64 rng(20261211);
  int read = 0;
  for (int inst = 0; inst < 10 / testing::kSanitizerDivisor + 2; ++inst) {
    auto [w, p] = bound_capacity_instance(rng);
    auto r = solve_serving(w, p);
    ASSERT_TRUE(r) << r.error().message;
    if (!r->feasible) continue;
    std::vector<std::int64_t> served;
    auto back = parse_serving_plan_json(w, render_serving_json(w, r.value()), "solve.json", &served);
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(served, r->served) << "instance " << inst;
    EXPECT_EQ(back->tokens, r->plan.tokens) << "instance " << inst;
    ++read;
  }
  EXPECT_GT(read, 0);
  ServingWorkload w;
  w.shape = {"t", "test", 2, 2, 1, 1, 1, 2, "float16", 2};
  w.mode = ServingMode::kCapacity;
  w.adapters = {{"a", 1, 3, Residency::kCxl, 0x09}, {"b", 1, 1, Residency::kCxl, 0x08}};  // q and o; o
  std::vector<std::int64_t> served;
  auto ok = parse_serving_plan_json(w, R"([{"adapter": "a", "stage": "qkv", "path": "gpu", "tokens": 1},
                                          {"adapter": "a", "stage": "qkv", "path": "device", "tokens": 1},
                                          {"adapter": "a", "stage": "o", "path": "split", "tokens": 2}])",
                                    "p.json", &served);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(served, (std::vector<std::int64_t>{2, 0}));
  EXPECT_EQ(ok->tokens[0][0], (std::array<std::int64_t, 3>{1, 0, 1}));
  EXPECT_EQ(ok->tokens[3][0], (std::array<std::int64_t, 3>{2, 0, 0}));  // gate_up: no module, the GPU path
  const std::pair<const char*, const char*> bad[] = {
      {R"([{"adapter": "a", "stage": "qkv", "path": "gpu", "tokens": 1},
           {"adapter": "a", "stage": "o", "path": "gpu", "tokens": 2}])",
       "adapter a serves 1 tokens in stage qkv and 2 in stage o"},
      {R"([{"adapter": "a", "stage": "qkv", "path": "gpu", "tokens": 3},
           {"adapter": "a", "stage": "qkv", "path": "split", "tokens": 1}])",
       "adapter a serves 4 tokens in stage qkv, it offers 3"},
  };
  for (const auto& [text, why] : bad) {
    auto r = parse_serving_plan_json(w, text, "p.json");
    ASSERT_FALSE(r) << text;
    EXPECT_NE(r.error().message.find(why), std::string::npos) << r.error().message;
  }
}

// compare_serving in capacity mode: each residency serves its own best batch under a
// latency bound that binds. "both" allows every plan of the others, so it serves at least
// their throughput; "gpu" is the capacity gpu_hbm search; as given is solve_serving's answer.
TEST(ServingCapacity, ResidencyComparisonBoundsItsCases) {
  std::mt19937_64 rng(20261210);
  int bound_binds = 0;
  for (int inst = 0; inst < 8 / testing::kSanitizerDivisor + 2; ++inst) {
    auto [w, p] = bound_capacity_instance(rng);
    auto c = compare_serving(w, p);
    ASSERT_TRUE(c) << c.error().message;
    const ServingResidencyCase* both = nullptr;
    for (const auto& x : c->cases) {
      if (x.weights == "both") both = &x;
      if (!x.result.feasible) continue;
      EXPECT_LE(x.result.eval.iteration_s, p.get(ParamId::kLoraMaxBatchLatencyS)) << x.weights;
      for (std::size_t i = 0; i < w.adapters.size(); ++i) EXPECT_LE(x.result.served[i], w.adapters[i].tokens);
      if (x.weights == "gpu") {
        EXPECT_EQ(x.device_share, 0);
        EXPECT_EQ(x.result.eval.tokens_per_s, x.result.baselines[0].eval.tokens_per_s);  // gpu_hbm
      }
      if (detail::total_tokens(x.result.served) < w.tokens()) ++bound_binds;
    }
    ASSERT_NE(both, nullptr);
    for (const auto& x : c->cases) {
      if (!x.result.feasible) continue;
      ASSERT_TRUE(both->result.feasible) << "instance " << inst;
      EXPECT_GE(both->result.eval.tokens_per_s, x.result.eval.tokens_per_s) << "instance " << inst << " " << x.weights;
    }
    const auto& as_given = *std::find_if(c->cases.begin(), c->cases.end(), [](const auto& x) { return x.given; });
    auto direct = solve_serving(w, p);
    ASSERT_TRUE(direct);
    ASSERT_EQ(as_given.result.feasible, direct->feasible);
    if (direct->feasible) {
      EXPECT_EQ(as_given.result.eval.tokens_per_s, direct->eval.tokens_per_s);
      EXPECT_EQ(as_given.result.served, direct->served);
    }
    const std::string json = render_serving_compare_json(w, c.value());
    EXPECT_NE(json.find("\"mode\": \"capacity\""), std::string::npos);
    EXPECT_NE(json.find("\"served_tokens\""), std::string::npos);
  }
  EXPECT_GT(bound_binds, 0);
}

// Capacity mode refuses what it does not do, with the option named, and more adapters than
// its joint program handles.
TEST(ServingCapacity, RefusesOptionsAndSizesItDoesNotHandle) {
  std::mt19937_64 rng(5);
  ServingWorkload w = tiny_workload(rng, 2, 3);
  w.mode = ServingMode::kCapacity;
  const Params p = serving_params(rng);
  ServingSolveOptions gap;
  gap.relative_gap = Rational(1, 100);
  auto r = solve_serving(w, p, gap);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kBadOption);
  for (int i = 0; i < 9; ++i) w.adapters.push_back({"x" + std::to_string(i), 1, 1, Residency::kCxl, 1});
  r = solve_serving(w, p);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnsupported);
  EXPECT_EQ(r.error().key, "adapters");
  // Batch mode still refuses the limits capacity mode reads.
  Params lat = p;
  ASSERT_TRUE(set_param(lat, "lora.max_batch_latency_s", "10"));
  w.mode = ServingMode::kBatch;
  r = solve_serving(w, lat);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().key, "lora.max_batch_latency_s");
}

}  // namespace
}  // namespace lorasplit
