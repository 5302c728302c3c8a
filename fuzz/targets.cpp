#include "targets.hpp"

#include <lorasplit/lorasplit.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common.hpp"

namespace lorasplit::fuzz {
namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "lorasplit fuzz invariant broken: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

void check(bool ok, const std::string& what) {
  if (!ok) fail(what);
}

void check_error(const Error& e, const std::string& context) {
  check(!e.message.empty(), context + ": empty error message");
  check(e.message.find('\n') == std::string::npos, context + ": multi-line error message: " + e.message);
  check(e.code != ErrorCode::kInternal, context + ": internal error: " + e.message);
}

// Reads bytes as little numbers, 0 once exhausted.
struct Bytes {
  const std::uint8_t* p;
  std::size_t n;
  std::uint64_t take(int count) {
    std::uint64_t v = 0;
    for (int i = 0; i < count; ++i) {
      v = (v << 8) | (n > 0 ? *p : 0U);
      if (n > 0) {
        ++p;
        --n;
      }
    }
    return v;
  }
};

Rational pow10(int e) {
  Integer p;
  mpz_ui_pow_ui(p.get_mpz_t(), 10, static_cast<unsigned long>(e < 0 ? -e : e));
  return e < 0 ? Rational(1, 1) / p : Rational(p);
}

}  // namespace

void quantity(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const Dimension dim : {Dimension::kBytes, Dimension::kFlopsPerSecond, Dimension::kBytesPerSecond,
                              Dimension::kSeconds, Dimension::kCount, Dimension::kFraction}) {
    auto r = parse_quantity(text, dim, "fuzz.key");
    if (!r) {
      check_error(r.error(), "parse_quantity");
      check(r.error().message.find("fuzz.key") != std::string::npos, "message does not name the key");
      continue;
    }
    // An accepted value prints exactly and parses back to itself.
    const std::string again = format_exact(r.value());
    auto back = parse_quantity(again, Dimension::kCount, "fuzz.key");
    if (again.find('/') == std::string::npos) {
      check(back.ok() && back.value() == r.value(), "format_exact does not round-trip: " + again);
    }
  }
}

void config(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  {
    Params p;
    const Status st = load_config_string(p, text, "fuzz.toml");
    if (!st) {
      check_error(st.error(), "load_config_string");
    } else if (const Status v = validate(p); !v) {
      check_error(v.error(), "validate after config");
    }
  }
  {
    Params p;
    const Status st = apply_assignment(p, text);
    if (!st) check_error(st.error(), "apply_assignment");
  }
  {
    // The serving model's tables of the same file ([transformer], [serving], [[adapters]]).
    auto w = load_serving_workload_string(text, "fuzz.toml", "/nonexistent-fuzz-dir");
    if (!w) check_error(w.error(), "load_serving_workload_string");
  }
}

void solver(const std::uint8_t* data, std::size_t size) {
  Bytes in{data, size};
  Params p;
  // Each parameter: a mantissa and a decimal exponent spanning (and exceeding) its range.
  for (const auto& s : param_specs()) {
    const std::uint64_t mant = in.take(3) + 1;
    const int exp = static_cast<int>(in.take(1) % 71) - 35;
    Rational v = Rational(mant) * pow10(exp);
    if (s.integer) v = Rational(Integer(v.get_num() / v.get_den()) + 1);
    if (s.dimension == Dimension::kFraction) v = make_rational(Integer(static_cast<long>(mant % 1000 + 1)), Integer(1000));
    if (s.id == ParamId::kLoraD || s.id == ParamId::kLoraR) v = Rational(mant % 300 + 1);
    if (s.id == ParamId::kLoraElementBytes) v = Rational(mant % 8 + 1);
    if (s.id == ParamId::kLoraBlockTokens) v = Rational(mant % 4 + 1);
    if (s.dimension == Dimension::kChoice) v = Rational(static_cast<long>(mant % (s.max_text == "2" ? 3 : 2)));
    if (s.id == ParamId::kPipelineChunkTokens) v = Rational(mant % 64 + 1);
    if (s.optional && (mant & 1U) == 0) {
      p.clear(s.id);
      continue;
    }
    if (s.id == ParamId::kLinkLatencyS && (mant & 2U) == 0) v = 0;
    p.set(s.id, v);
  }
  // The serving model is planned from a workload (not this target); its keys are refused
  // by the other models, so they stay unset here and the choice falls back to pipeline.
  if (p.model_name() == ModelName::kServing) p.set(ParamId::kModelName, Rational(1));
  for (const auto& s : param_specs()) {
    if (s.serving_only) p.clear(s.id);
  }
  if (p.model_name() == ModelName::kSeed) reset_pipeline_switches(p);  // the seed model rejects them
  const Status valid = validate(p);
  if (!valid) {
    check_error(valid.error(), "validate");
    return;
  }
  const Domain domain = std::array{Domain::kInteger, Domain::kBinary, Domain::kContinuous}[in.take(1) % 3];
  const Formulation m = build_model(p);
  auto r = solve(m, SolveOptions{domain});
  if (!r) {
    check_error(r.error(), "solve");
    fail("solve returned an error on a valid instance: " + r.error().message);
  }
  const SolveResult& res = r.value();
  const std::int64_t k = m.cases.front().block_tokens;
  if (domain == Domain::kInteger) {
    // The fixed-width fast path (docs/model.md §3.10) must give the same answer, or fall back.
    SolveOptions lean{domain};
    lean.explain = false;
    lean.relaxation_bound = false;
    auto fast = solve(p, lean);
    check(fast.ok(), "the fast path returned an error on a valid instance");
    check(fast->status == res.status, "the fast path's status differs");
    if (res.status == SolveStatus::kOptimal) {
      check(fast->plan == res.plan, "the fast path's plan differs");
      check(fast->throughput_tokens_per_s == res.throughput_tokens_per_s, "the fast path's throughput differs");
      check(fast->certificate.final_subproblem_max == 0, "the fast path's certificate is not 0");
    }
  }
  if (res.status == SolveStatus::kOptimal) {
    const Model* holder = case_of(m, res.point);
    check(holder != nullptr, "returned point infeasible in exact arithmetic");
    check(res.throughput_tokens_per_s == throughput_tokens_per_s(*holder, res.point),
          "throughput differs from the point's");
    if (domain != Domain::kContinuous) {
      check(is_feasible(m, res.plan), "returned plan infeasible in exact arithmetic");
      check(res.certificate.final_subproblem_max == 0, "certificate: final subproblem max is not 0");
      if (res.certificate.relaxation_bound_tokens_per_s) {
        check(*res.certificate.relaxation_bound_tokens_per_s >= res.throughput_tokens_per_s, "LP bound below optimum");
      }
      // No single-block move to a feasible neighbour improves the plan.
      for (std::size_t j = 0; j < 3 && domain == Domain::kInteger; ++j) {
        for (const std::int64_t delta : {-k, k}) {
          Plan q = res.plan;
          q.b[j] += delta;
          if (q.b[j] < 0 || q.tokens() == 0 || !is_feasible(m, q)) continue;
          check(throughput_tokens_per_s(m, q) <= res.throughput_tokens_per_s, "a neighbour of the optimum is better");
        }
      }
    }
  }
  // Small instances: exhaustive search must agree (optimum value and feasibility).
  const Rational fit = p.gpu_memory_bytes() / (p.element_bytes() * p.d());
  const Integer total = fit.get_num() / fit.get_den();
  if (domain == Domain::kInteger && total <= (m.cases.size() > 1 ? 16 : 40)) {
    const std::int64_t t = total.get_si();
    bool any = false;
    Rational best;
    for (std::int64_t b1 = 0; b1 <= t; b1 += k) {
      for (std::int64_t b2 = 0; b1 + b2 <= t; b2 += k) {
        for (std::int64_t b3 = 0; b1 + b2 + b3 <= t; b3 += k) {
          const Plan q{{b1, b2, b3}};
          if (q.tokens() == 0 || !is_feasible(m, q)) continue;
          const Rational thr = throughput_tokens_per_s(m, q);
          if (!any || thr > best) best = thr;
          any = true;
        }
      }
    }
    check(any == (res.status == SolveStatus::kOptimal), "feasibility differs from exhaustive search");
    if (any) check(best == res.throughput_tokens_per_s, "optimum differs from exhaustive search");
  }
}

void cli(const std::uint8_t* data, std::size_t size) {
  static const bool ready = [] {
    // A scratch directory with one config file: arguments cannot reach anything else.
    const auto dir = std::filesystem::temp_directory_path() / "lorasplit-fuzz-cli";
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "c.toml") << "[gpu]\nmemory_bytes = \"1 GiB\"\n[lora]\nd = 256\n";
    std::filesystem::current_path(dir);
    return true;
  }();
  (void)ready;
  std::vector<std::string> args{"lorasplit"};
  std::string cur;
  for (std::size_t i = 0; i < size && args.size() < 24; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '\0') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) args.push_back(cur);
  for (const auto& a : args) {
    if (a.find('/') != std::string::npos || a.size() > 300) return;
    // The calibration measures this machine for seconds to minutes with a buffer the size
    // of its cache: timing, not parsing (its options are tested in tests/cli).
    if (a == "calibrate") return;
  }
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  static std::FILE* null = std::fopen("/dev/null", "w");
  const int status = ::lorasplit::cli::run_cli(static_cast<int>(argv.size()), argv.data(), {null, null});
  // 3 (internal error) never; 4 (an output that cannot be written, e.g. -o naming a
  // folder) and 5 (out of memory under the fuzzer's limit) are honest answers.
  check(status == 0 || status == 1 || status == 2 || status == 4 || status == 5,
        "CLI exit status " + std::to_string(status));
}

void inputs(const std::uint8_t* data, std::size_t size) {
  // Fields split at NUL: two sweep axis specs, a plan, an output file name.
  std::vector<std::string> f(1);
  for (std::size_t i = 0; i < size && f.size() <= 4; ++i) {
    if (data[i] == 0) {
      f.emplace_back();
    } else {
      f.back() += static_cast<char>(data[i]);
    }
  }
  f.resize(4);
  // Sweep specification: accepted axes have a size that fits, the shards tile them.
  std::vector<SweepAxis> axes;
  for (int k = 0; k < 2; ++k) {
    auto axis = parse_sweep_axis(f[static_cast<std::size_t>(k)]);
    if (!axis) {
      check_error(axis.error(), "vary");
      continue;
    }
    check(axis->size() >= 1, "an accepted axis with no value");
    axes.push_back(std::move(axis.value()));
  }
  if (!axes.empty()) {
    const Status st = validate_axes(axes);
    if (!st) {
      check_error(st.error(), "axes");
    } else {
      const auto points = sweep_size(axes);
      check(points.has_value(), "validated axes whose size overflows");
      std::size_t covered = 0;
      for (std::size_t i = 1; i <= 3; ++i) {
        const auto [b, e] = shard_range(*points, Shard{i, 3});
        check(b == covered && e >= b, "shards that do not tile the sweep");
        covered = e;
      }
      check(covered == *points, "shards that do not cover the sweep");
    }
  }
  // The simulator's plan input: rejected with one line, or simulated with positive times.
  const Params seed;
  auto plan = cli::parse_plan(f[2], three_path_columns());
  if (!plan) {
    check_error(plan.error(), "plan");
  } else {
    SimulateOptions o;
    o.max_tasks = 20000;
    Params pipeline = seed;
    (void)set_param(pipeline, "model.name", "pipeline");
    (void)set_param(pipeline, "pipeline.chunk_tokens", "1000000");
    for (const Params* p : {&seed, static_cast<const Params*>(&pipeline)}) {
      auto sim = simulate(*p, plan.value(), o);
      if (!sim) {
        check_error(sim.error(), "simulate");
        continue;
      }
      check(sim->makespan_s > 0, "a simulation with no time");
      check(sim->simulated_tokens_per_s > 0, "a simulation with no throughput");
    }
  }
  // An output file name: written whole under that name, or refused, never a temporary left.
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / "lorasplit-fuzz-inputs";
    std::filesystem::create_directories(d);
    return d;
  }();
  const std::string& name = f[3];
  if (!name.empty() && name.find('/') == std::string::npos && name != "." && name != ".." && name.size() < 200) {
    const std::string path = (dir / name).string();
    const Status st = write_file(path, "x", "output");
    if (!st) check_error(st.error(), "output");
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string n = e.path().filename().string();
      check(n.rfind(".lorasplit-", 0) != 0 || n == name, "a temporary output file was left behind");
      std::error_code ec;
      std::filesystem::remove_all(e.path(), ec);
    }
  }
}

Target find_target(std::string_view name) {
  if (name == "quantity") return &quantity;
  if (name == "config") return &config;
  if (name == "solver") return &solver;
  if (name == "cli") return &cli;
  if (name == "inputs") return &inputs;
  return nullptr;
}

}  // namespace lorasplit::fuzz
