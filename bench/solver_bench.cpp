// lorasplit benchmarks (Google Benchmark). docs/PERFORMANCE.md records the figures and the
// command that reproduces them.
#include <benchmark/benchmark.h>
#include <lorasplit/lorasplit.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "serving/program.hpp"
#include "support/adapters.hpp"
#include "support/ncolumn.hpp"
#ifdef LORASPLIT_BENCH_GLPK
#include "support/milp_dinkelbach.hpp"
#endif
#ifdef LORASPLIT_HAVE_CBC
#include <Cbc_C_Interface.h>
#endif

namespace {

using namespace lorasplit;

// One exact solve (presolve, Dinkelbach with lattice walks, LP bound, exact re-check) of a
// preset; the model is built once.
void BM_SolvePreset(benchmark::State& state, const char* name) {
  const Model m = build_seed_model(preset(name).value());
  for (auto _ : state) {
    auto r = solve(m);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK_CAPTURE(BM_SolvePreset, seed, "seed")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_SolvePreset, seed_256g_d1024, "seed-256g-d1024")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_SolvePreset, a100_128g, "a100-128g")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_SolvePreset, a100_fp16_d8192, "a100-fp16-d8192")->Unit(benchmark::kMicrosecond);

// The same solve straight from the parameters with the lean certificate (λ*, the final
// subproblem's maximum, the iteration counts): the fixed-width fast path of
// docs/model.md §3.10 (integer form built from the parameters in every iteration).
SolveOptions lean() {
  SolveOptions o;
  o.explain = false;
  o.relaxation_bound = false;
  return o;
}
void BM_SolvePresetFast(benchmark::State& state, const char* name) {
  const Params p = preset(name).value();
  const SolveOptions o = lean();
  bool fixed = false;
  for (auto _ : state) {
    auto r = solve(p, o);
    fixed = r->certificate.fixed_width;
    benchmark::DoNotOptimize(r);
  }
  state.counters["fixed_width"] = fixed ? 1 : 0;
}
BENCHMARK_CAPTURE(BM_SolvePresetFast, seed, "seed")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_SolvePresetFast, seed_256g_d1024, "seed-256g-d1024")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_SolvePresetFast, a100_128g, "a100-128g")->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_SolvePresetFast, a100_fp16_d8192, "a100-fp16-d8192")->Unit(benchmark::kMicrosecond);

// The general (GMP) path with the same lean certificate, for the comparison.
void BM_SolvePresetLeanGmp(benchmark::State& state, const char* name) {
  const Params p = preset(name).value();
  SolveOptions o = lean();
  o.fast_path = false;
  for (auto _ : state) {
    auto r = solve(p, o);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK_CAPTURE(BM_SolvePresetLeanGmp, seed, "seed")->Unit(benchmark::kMicrosecond);

// What `lorasplit solve` computes: the solve plus rows, baselines and the +-1 % sensitivity
// (2 solves per parameter).
void BM_AnalyzeSeedFullReport(benchmark::State& state) {
  const Params p;
  for (auto _ : state) {
    auto a = analyze(p);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_AnalyzeSeedFullReport)->Unit(benchmark::kMillisecond);

// The seed numbers with GPU memory 2^k bytes, k = 30 (1 GiB) .. 50 (1 PiB): the batch
// grows from 5e5 to 5.5e11 tokens; the solve must not grow with it.
void BM_SolveSeedMemory(benchmark::State& state) {
  Params p;
  p.set(ParamId::kGpuMemoryBytes, Rational(Integer(1) << static_cast<unsigned long>(state.range(0))));
  const Model m = build_seed_model(p);
  std::int64_t tokens = 0;
  for (auto _ : state) {
    auto r = solve(m);
    tokens = r->plan.tokens();
    benchmark::DoNotOptimize(r);
  }
  state.counters["batch_tokens"] = static_cast<double>(tokens);
}
BENCHMARK(BM_SolveSeedMemory)->DenseRange(30, 50, 4)->Unit(benchmark::kMicrosecond);

// The same on the fast path (from the parameters, lean certificate); 1 EiB = 2^60 too.
void BM_SolveSeedMemoryFast(benchmark::State& state) {
  Params p;
  p.set(ParamId::kGpuMemoryBytes, Rational(Integer(1) << static_cast<unsigned long>(state.range(0))));
  const SolveOptions o = lean();
  std::int64_t tokens = 0;
  bool fixed = false;
  for (auto _ : state) {
    auto r = solve(p, o);
    tokens = r->plan.tokens();
    fixed = r->certificate.fixed_width;
    benchmark::DoNotOptimize(r);
  }
  state.counters["batch_tokens"] = static_cast<double>(tokens);
  state.counters["fixed_width"] = fixed ? 1 : 0;
}
BENCHMARK(BM_SolveSeedMemoryFast)->DenseRange(30, 50, 4)->Arg(60)->Unit(benchmark::kMicrosecond);

// A sweep of the link bandwidth over `state.range(0)` log-spaced points, end to end
// (points solved on `threads` threads, 0: all cores; CSV rows formatted as `lorasplit
// sweep` does, written nowhere).
void run_bandwidth_sweep(benchmark::State& state, unsigned threads) {
  const std::size_t n = static_cast<std::size_t>(state.range(0));
  const std::vector<SweepAxis> axes = {
      parse_sweep_axis("link.bandwidth_bytes_per_s=log:1GiB/s:1TiB/s:" + std::to_string(n)).value()};
  SweepOptions so;
  so.threads = threads;
  so.format = [&axes](const SweepRow& row) { return sweep_csv_row(row, axes); };
  for (auto _ : state) {
    std::size_t bytes = 0;
    const Status st = run_sweep(Params(), axes, so, [&](const SweepRow& row) { bytes += row.text.size() + 1; });
    benchmark::DoNotOptimize(bytes);
    benchmark::DoNotOptimize(st);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
void BM_SweepPoints(benchmark::State& state) { run_bandwidth_sweep(state, 0); }
BENCHMARK(BM_SweepPoints)->Arg(10000)->Arg(1000000)->Unit(benchmark::kMillisecond)->UseRealTime();
// The same on one thread: the cost of one sweep row (the 2-core figure divided by the
// scaling of the thread pool).
void BM_SweepPointsOneThread(benchmark::State& state) { run_bandwidth_sweep(state, 1); }
BENCHMARK(BM_SweepPointsOneThread)->Arg(100000)->Arg(200000)->Unit(benchmark::kMillisecond)->UseRealTime();

// The exact decimal-and-unit parser.
void BM_ParseQuantity(benchmark::State& state) {
  for (auto _ : state) {
    auto v = parse_quantity("15.7 TFLOPS", Dimension::kFlopsPerSecond, "gpu.flops");
    benchmark::DoNotOptimize(v);
  }
}
BENCHMARK(BM_ParseQuantity);

#ifdef LORASPLIT_BENCH_GLPK
// The reference peer: Dinkelbach over GLPK's glp_intopt on the same instance, fed
// lorasplit's primitive integer rows (scaled) or the raw coefficients.
void BM_GlpkDinkelbach(benchmark::State& state, const char* name, bool scaled) {
  const Model m = build_seed_model(preset(name).value());
  for (auto _ : state) {
    auto r = testing::glpk_dinkelbach(m, scaled);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK_CAPTURE(BM_GlpkDinkelbach, seed_scaled, "seed", true)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_GlpkDinkelbach, seed_raw, "seed", false)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_GlpkDinkelbach, a100_fp16_d8192_scaled, "a100-fp16-d8192", true)->Unit(benchmark::kMicrosecond);
#endif

#ifdef LORASPLIT_HAVE_CBC
// The second peer: Dinkelbach over COIN-OR CBC (libCbc) on the same instance.
void BM_CbcDinkelbach(benchmark::State& state, const char* name, bool scaled) {
  const Model m = build_seed_model(preset(name).value());
  for (auto _ : state) {
    auto r = testing::milp_dinkelbach(m, scaled, testing::Peer::kCbc, 30, false);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK_CAPTURE(BM_CbcDinkelbach, seed_scaled, "seed", true)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_CbcDinkelbach, a100_fp16_d8192_scaled, "a100-fp16-d8192", true)->Unit(benchmark::kMillisecond);
#endif

// The pipeline model (docs/model.md §7): all cases, each proved; the seed numbers with the
// default switches, with 64-token chunks, and the fp16 preset with chunks.
void BM_SolvePipeline(benchmark::State& state, const char* name, const char* chunk) {
  Params p = preset(name).value();
  (void)set_param(p, "model.name", "pipeline");
  if (chunk != nullptr) (void)set_param(p, "pipeline.chunk_tokens", chunk);
  const Formulation f = build_model(p);
  SolveOptions o;
  o.relaxation_bound = false;
  for (auto _ : state) {
    auto r = solve(f, o);
    benchmark::DoNotOptimize(r);
  }
  state.counters["cases"] = static_cast<double>(f.cases.size());
}
BENCHMARK_CAPTURE(BM_SolvePipeline, seed_defaults, "seed", nullptr)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SolvePipeline, seed_chunk64, "seed", "64")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SolvePipeline, a100_fp16_d8192_chunk256, "a100-fp16-d8192", "256")->Unit(benchmark::kMillisecond);

// The same instances from the parameters with the lean certificate (what sweeps, baselines
// and the sensitivity table use): a LeanSolver keeps each case's integer rows between calls.
void BM_SolvePipelineLean(benchmark::State& state, const char* name, const char* chunk) {
  Params p = preset(name).value();
  (void)set_param(p, "model.name", "pipeline");
  if (chunk != nullptr) (void)set_param(p, "pipeline.chunk_tokens", chunk);
  const SolveOptions o = lean();
  for (auto _ : state) {
    auto r = solve(p, o);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK_CAPTURE(BM_SolvePipelineLean, seed_defaults, "seed", nullptr)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SolvePipelineLean, seed_chunk64, "seed", "64")->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_SolvePipelineLean, a100_fp16_d8192_chunk256, "a100-fp16-d8192", "256")
    ->Unit(benchmark::kMillisecond);

// The slowest full pipeline report found by a random search of 40 extreme instances
// (2026-12-06: 1.9 s for `lorasplit solve` with a concurrent build; issue 17 reported an
// instance of 10.9 s that was not given): 1 EiB of memory, slow rates, 32-token blocks,
// a shared link, weights on the GPU fetched by the device, relaxed synchronisation.
void BM_AnalyzePipelineSlowest(benchmark::State& state) {
  Params p;
  for (const char* a : {"model.name=pipeline", "gpu.memory_bytes=1 EiB", "gpu.flops=1e9", "cxl.flops=1e8",
                        "link.bandwidth_bytes_per_s=1e6", "link.latency_s=1 us", "lora.d=4096", "lora.r=1",
                        "lora.block_tokens=32", "link.duplex=shared", "lora.weights=gpu", "pipeline.relaxed_sync=on",
                        "pipeline.transfer_latency=on", "pipeline.no_credit=on", "pipeline.chunk_tokens=1000000000",
                        "cxl.memory_bytes=1 GiB"}) {
    (void)apply_assignment(p, a);
  }
  for (auto _ : state) {
    auto a = analyze(p);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK(BM_AnalyzePipelineSlowest)->Unit(benchmark::kMillisecond);

// The simulator: the seed optimum unchunked (6 tasks) and with 64-token chunks (~850 tasks).
void BM_Simulate(benchmark::State& state, const char* chunk) {
  Params p;
  (void)set_param(p, "model.name", "pipeline");
  if (chunk != nullptr) (void)set_param(p, "pipeline.chunk_tokens", chunk);
  const Plan plan{{8323344, 0, 18206}};
  for (auto _ : state) {
    auto r = simulate(p, plan);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK_CAPTURE(BM_Simulate, seed_unchunked, nullptr)->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_Simulate, seed_chunk64, "64")->Unit(benchmark::kMillisecond);

// Twelve columns: a random single-case model of the N-column test family (four groups of
// three columns with their demands, tests/support/ncolumn.hpp), and four adapters of
// ranks 4, 8, 16, 32 sharing one GPU and one device under the seed's rules (one linear
// case over 12 columns, tests/support/adapters.hpp). Exact, with the certificate.
void BM_SolveTwelveColumns(benchmark::State& state) {
  std::mt19937_64 rng(2026);
  // Trial 8 of the family has 4 + 8 % 9 = 12 columns.
  const auto inst = testing::random_ncolumn_model(rng, 8);
  SolveOptions o;
  o.relaxation_bound = false;
  for (auto _ : state) {
    auto r = solve(inst.model, o);
    benchmark::DoNotOptimize(r);
  }
  state.counters["columns"] = static_cast<double>(inst.model.size());
}
BENCHMARK(BM_SolveTwelveColumns)->Unit(benchmark::kMicrosecond);

void BM_SolveFourAdapters(benchmark::State& state) {
  testing::AdapterSpec spec;
  spec.ranks = {4, 8, 16, 32};
  spec.demand = {4000000, 3000000, 2000000, 1000000};
  spec.per_transfer = false;
  const Params p;
  const Formulation f = build_model(testing::adapters_description(spec), p);
  SolveOptions o;
  o.relaxation_bound = false;
  for (auto _ : state) {
    auto r = solve(f, o);
    benchmark::DoNotOptimize(r);
  }
  state.counters["columns"] = static_cast<double>(f.cases.front().size());
  state.counters["cases"] = static_cast<double>(f.cases.size());
}
BENCHMARK(BM_SolveFourAdapters)->Unit(benchmark::kMicrosecond);

// The serving planner (docs/model.md §9.7) on examples/serving_llama3_8b.toml with N
// adapters (serving.adapters = N over the file, as --set does).
struct ServingInstance {
  std::string error;  // empty: loaded
  ServingWorkload workload;
  Params params;
  ServingHardware hardware;
};

ServingInstance load_serving_instance(std::int64_t adapters) {
  ServingInstance inst;
  const std::string example = std::string(LORASPLIT_SOURCE_DIR) + "/examples/serving_llama3_8b.toml";
  auto w = load_serving_workload(example, {{"serving.adapters", std::to_string(adapters)}});
  if (!w) {
    inst.error = w.error().message;
    return inst;
  }
  if (const Status st = load_config_file(inst.params, example); !st) {
    inst.error = st.error().message;
    return inst;
  }
  auto hw = serving_hardware(inst.params);
  if (!hw) {
    inst.error = hw.error().message;
    return inst;
  }
  inst.workload = std::move(w).value();
  inst.hardware = std::move(hw).value();
  return inst;
}

// The stages that have a program: the projections with at least one class of adapters.
bool has_program(ServingStage stage) { return stage != ServingStage::kAttention; }

// The exact planner's answer per N, kept for the CBC benchmark's comparison (filled by
// BM_ServingPlanExact, or by BM_ServingPlanCbc when run alone).
struct ServingReference {
  std::string error;
  std::vector<double> stage_seconds;  // per stage, one layer
  long nodes{0}, pivots{0}, exact_lps{0};
};
std::map<std::int64_t, ServingReference>& serving_references() {
  static std::map<std::int64_t, ServingReference> refs;
  return refs;
}
ServingReference reference_of(const Result<ServingResult>& r) {
  ServingReference ref;
  if (!r) {
    ref.error = r.error().message;
    return ref;
  }
  if (!r->feasible) {
    ref.error = "the workload does not fit: " + r->reason;
    return ref;
  }
  for (const auto& st : r->eval.stages) ref.stage_seconds.push_back(to_double(st.seconds));
  ref.nodes = r->nodes;
  ref.pivots = r->pivots;
  ref.exact_lps = r->exact_lps;
  return ref;
}

// The whole exact planner: baselines, incumbents, branch and bound per stage (LPs in
// double precision proposed, exact bounds deciding; with `exact_lps`, every node by an
// exact rational LP: the reference search), the exact re-check and the simulation of every
// stage.
void serving_plan(benchmark::State& state, bool exact_lps, unsigned threads = 1) {
  const std::int64_t n = state.range(0);
  const ServingInstance inst = load_serving_instance(n);
  if (!inst.error.empty()) {
    state.SkipWithError(inst.error.c_str());
    return;
  }
  ServingReference ref;
  ServingSolveOptions options;
  options.exact_lps_only = exact_lps;
  options.threads = threads;
  for (auto _ : state) {
    auto r = solve_serving(inst.workload, inst.params, options);
    benchmark::DoNotOptimize(r);
    state.PauseTiming();
    ref = reference_of(r);
    state.ResumeTiming();
  }
  if (!ref.error.empty()) {
    state.SkipWithError(ref.error.c_str());
    return;
  }
  double layer = 0;
  for (const double s : ref.stage_seconds) layer += s;
  state.counters["layer_s"] = layer;
  state.counters["nodes"] = static_cast<double>(ref.nodes);
  state.counters["pivots"] = static_cast<double>(ref.pivots);
  state.counters["exact_lps"] = static_cast<double>(ref.exact_lps);
  if (auto& refs = serving_references(); refs.find(n) == refs.end()) {
    refs[n] = ref;
  } else if (refs[n].stage_seconds != ref.stage_seconds) {
    state.SkipWithError("the two searches' optima differ");
  }
}
void BM_ServingPlanExact(benchmark::State& state) { serving_plan(state, false); }
void BM_ServingPlanExactLps(benchmark::State& state) { serving_plan(state, true); }
// The stages on every core at once (what `lorasplit solve` does): wall time.
void BM_ServingPlanExactThreads(benchmark::State& state) { serving_plan(state, false, 0); }
BENCHMARK(BM_ServingPlanExact)->Arg(4)->Arg(16)->Arg(64)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ServingPlanExactThreads)->Arg(4)->Arg(16)->Arg(64)->Arg(1000)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ServingPlanExactLps)->Arg(4)->Arg(16)->Arg(64)->Iterations(1)->Unit(benchmark::kMillisecond);

#ifdef LORASPLIT_HAVE_CBC
// The same stage programs (serving_stage_mip, the rows the branch and bound solves, each
// scaled to integers) handed to COIN-OR CBC in double precision: every variable boxed by
// `upper`, those of priority > 0 integer, minimise the stage time. Timed: loading and
// solving every stage with classes; not timed: building the programs. CBC gets at most
// kCbcSecondsPerStage per stage. Counters (over the stages with a program; attention and
// stages without classes are plan-independent and left out of both sums):
//   exact_s      the exact planner's time of those stages [s], one layer
//   cbc_s        CBC's objectives summed [s] (NaN when a stage has no CBC solution)
//   rel_diff     (cbc_s - exact_s) / exact_s: below 0 CBC claims a point better than the
//                certified optimum (not feasible in exact arithmetic), above 0 it is worse
//   stages       stages solved; cbc_optimal: those CBC calls proven optimal;
//   cbc_no_sol   those with no integer point; cbc_infeasible: declared infeasible;
//   cbc_abandoned: given up on numerical difficulties; cbc_time_limit: stopped by the limit;
//   cbc_better / cbc_worse: stages whose CBC objective is below / above the exact stage
//                time by more than 1e-9 relative
constexpr double kCbcSecondsPerStage = 20;

struct CbcStageAnswer {
  bool solution{false}, optimal{false}, time_limit{false}, infeasible{false}, abandoned{false};
  double objective{std::numeric_limits<double>::quiet_NaN()};
};

CbcStageAnswer solve_stage_with_cbc(const detail::ServingStageMip& mip) {
  const std::size_t cols = mip.upper.size();
  const std::size_t rows = mip.a.size();
  std::vector<CoinBigIndex> start{0};
  std::vector<int> index;
  std::vector<double> value;
  for (std::size_t j = 0; j < cols; ++j) {
    for (std::size_t i = 0; i < rows; ++i) {
      if (sgn(mip.a[i][j]) != 0) {
        index.push_back(static_cast<int>(i));
        value.push_back(mip.a[i][j].get_d());
      }
    }
    start.push_back(static_cast<CoinBigIndex>(index.size()));
  }
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> collb(cols, 0.0), colub(cols), obj(cols, 0.0), rowlb(rows, -inf), rowub(rows);
  for (std::size_t j = 0; j < cols; ++j) colub[j] = mip.upper[j].get_d();
  for (std::size_t i = 0; i < rows; ++i) rowub[i] = mip.h[i].get_d();
  obj[mip.stage_time] = 1;
  Cbc_Model* model = Cbc_newModel();
  Cbc_loadProblem(model, static_cast<int>(cols), static_cast<int>(rows), start.data(), index.data(), value.data(),
                  collb.data(), colub.data(), obj.data(), rowlb.data(), rowub.data());
  for (std::size_t j = 0; j < cols; ++j) {
    if (mip.priority[j] > 0) Cbc_setInteger(model, static_cast<int>(j));
  }
  Cbc_setObjSense(model, 1);  // minimise
  Cbc_setLogLevel(model, 0);
  Cbc_setMaximumSeconds(model, kCbcSecondsPerStage);
  Cbc_solve(model);
  CbcStageAnswer a;
  a.optimal = Cbc_isProvenOptimal(model) != 0;
  a.time_limit = Cbc_isSecondsLimitReached(model) != 0;
  a.infeasible = Cbc_isProvenInfeasible(model) != 0;
  a.abandoned = Cbc_isAbandoned(model) != 0;
  a.solution = Cbc_bestSolution(model) != nullptr;  // an integer point, proven optimal or not
  if (a.solution) a.objective = Cbc_getObjValue(model);
  Cbc_deleteModel(model);
  return a;
}

void BM_ServingPlanCbc(benchmark::State& state) {
  const std::int64_t n = state.range(0);
  const ServingInstance inst = load_serving_instance(n);
  if (!inst.error.empty()) {
    state.SkipWithError(inst.error.c_str());
    return;
  }
  auto& refs = serving_references();
  if (refs.find(n) == refs.end()) refs[n] = reference_of(solve_serving(inst.workload, inst.params));
  const ServingReference& ref = refs[n];
  if (!ref.error.empty()) {
    state.SkipWithError(ref.error.c_str());
    return;
  }
  // The programs, bounded as the planner bounds them: by GPU-only's stage times.
  const ServingEvaluation gpu_only = evaluate_serving(inst.workload, inst.hardware,
                                                      uniform_plan(inst.workload, ServingPath::kGpu));
  std::vector<std::size_t> stages;
  std::vector<detail::ServingStageMip> mips;
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    const auto stage = static_cast<ServingStage>(s);
    if (!has_program(stage)) continue;
    detail::ServingStageMip mip = detail::serving_stage_mip(inst.workload, inst.hardware, stage,
                                                            gpu_only.stages[s].seconds);
    if (mip.classes == 0) continue;
    stages.push_back(s);
    mips.push_back(std::move(mip));
  }
  std::vector<CbcStageAnswer> answers(mips.size());
  for (auto _ : state) {
    for (std::size_t k = 0; k < mips.size(); ++k) answers[k] = solve_stage_with_cbc(mips[k]);
    benchmark::DoNotOptimize(answers.data());
  }
  double exact = 0, cbc = 0;
  int optimal = 0, no_solution = 0, infeasible = 0, abandoned = 0, time_limit = 0, better = 0, worse = 0;
  for (std::size_t k = 0; k < mips.size(); ++k) {
    const double e = ref.stage_seconds[stages[k]];
    const CbcStageAnswer& a = answers[k];
    exact += e;
    cbc += a.objective;  // NaN without a solution
    optimal += a.optimal ? 1 : 0;
    no_solution += a.solution ? 0 : 1;
    infeasible += a.infeasible ? 1 : 0;
    abandoned += a.abandoned ? 1 : 0;
    time_limit += a.time_limit ? 1 : 0;
    if (a.solution && a.objective < e * (1 - 1e-9)) ++better;
    if (a.solution && a.objective > e * (1 + 1e-9)) ++worse;
  }
  state.counters["exact_s"] = exact;
  state.counters["cbc_s"] = cbc;
  state.counters["rel_diff"] = (cbc - exact) / exact;
  state.counters["stages"] = static_cast<double>(mips.size());
  state.counters["cbc_optimal"] = optimal;
  state.counters["cbc_no_sol"] = no_solution;
  state.counters["cbc_infeasible"] = infeasible;
  state.counters["cbc_abandoned"] = abandoned;
  state.counters["cbc_time_limit"] = time_limit;
  state.counters["cbc_better"] = better;
  state.counters["cbc_worse"] = worse;
}
BENCHMARK(BM_ServingPlanCbc)->Arg(4)->Arg(16)->Arg(64)->Arg(1000)->Iterations(1)->Unit(benchmark::kMillisecond);
#endif

}  // namespace

// The CLI's allocation functions (GMP's blocks pooled per thread), so that the timings
// are the CLI's.
int main(int argc, char** argv) {
  lorasplit::gmp_throw_on_out_of_memory();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
