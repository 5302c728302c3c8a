// The serving model's exact planner (docs/model.md §9.7): per stage, a mixed-integer program
// over the same stage graph (token counts and indicators integer, durations real), solved
// by branch and bound over exact rational LPs; the plan is then re-evaluated by the
// formulas and by the simulator.
#include <fmt/format.h>

#include <map>

#include "serving/graph.hpp"
#include "solve/bnb.hpp"

namespace lorasplit {
namespace {

using detail::ServingItemId;

// The planner's dense exact LPs grow as (rows x columns) with about 25 rows and 7 columns
// per adapter; beyond this many adapters with tokens in one stage the tree is refused
// rather than left to run for hours (docs/model.md §9.7 has the measured times).
constexpr std::size_t kMaxDecidingAdapters = 64;

// A row sum_j coef[j] * x_j <= rhs over the stage's variables (times in seconds).
struct Row {
  std::map<std::size_t, Rational> coef;
  Rational rhs;
};

struct StageProgram {
  std::size_t n{0};
  std::vector<Row> rows;
  std::vector<std::size_t> time_vars;  // the durations and the stage time [s], reals
  std::vector<std::size_t> indicators;  // 0/1 variables
  std::vector<std::size_t> adapters;   // the adapters with work in the stage
  std::vector<std::size_t> p, c;       // their split and device tokens' variables
  std::size_t t{0};                    // the stage time
};

std::size_t add_var(StageProgram& prog) { return prog.n++; }

StageProgram build_program(const ServingWorkload& w, const ServingHardware& hw, ServingStage s,
                           const Rational& upper_s) {
  StageProgram prog;
  const auto& shape = w.shape;
  const Rational e(shape.element_bytes);
  const detail::StageShape ss = detail::stage_shape(shape, s);
  struct A {
    std::size_t i;
    detail::AdapterStageWork work;
    Integer n;
    std::size_t p, c, uga, ugb, uda, udb, up;
  };
  std::vector<A> as;
  for (std::size_t i = 0; i < w.adapters.size(); ++i) {
    auto aw = detail::adapter_work(shape, w.adapters[i], s);
    if (!aw.any || w.adapters[i].tokens == 0) continue;  // no work here, or nothing to decide
    A a{i, aw, Integer(w.adapters[i].tokens), 0, 0, 0, 0, 0, 0, 0};
    a.p = add_var(prog);
    a.c = add_var(prog);
    a.uga = add_var(prog);
    a.ugb = add_var(prog);
    a.uda = add_var(prog);
    a.udb = add_var(prog);
    a.up = add_var(prog);
    prog.adapters.push_back(i);
    prog.p.push_back(a.p);
    prog.c.push_back(a.c);
    as.push_back(a);
  }
  const std::size_t v_sg = add_var(prog), v_e = add_var(prog), v_sd = add_var(prog), v_ed = add_var(prog),
                    v_f = add_var(prog), v_y = add_var(prog);
  const std::size_t d_sg = add_var(prog), d_e = add_var(prog), d_sd = add_var(prog), d_ed = add_var(prog);
  prog.t = add_var(prog);
  prog.time_vars = {d_sg, d_e, d_sd, d_ed, prog.t};
  prog.indicators = {v_sg, v_e, v_sd, v_ed, v_f, v_y};
  for (const A& a : as) prog.indicators.insert(prog.indicators.end(), {a.uga, a.ugb, a.uda, a.udb, a.up});
  const auto row = [&](std::map<std::size_t, Rational> coef, Rational rhs) {
    prog.rows.push_back({std::move(coef), std::move(rhs)});
  };
  // Linking rows: tokens and the indicators of what each side reads (§9.2).
  for (const A& a : as) {
    row({{a.p, 1}, {a.c, 1}}, Rational(a.n));                             // g = n - p - c >= 0
    row({{a.p, -1}, {a.c, -1}, {a.uga, Rational(-a.n)}}, Rational(-a.n));  // g <= n uGA
    row({{a.c, -1}, {a.ugb, Rational(-a.n)}}, Rational(-a.n));            // g + p <= n uGB
    row({{a.p, 1}, {a.c, 1}, {a.uda, Rational(-a.n)}}, 0);                // p + c <= n uDA
    row({{a.c, 1}, {a.udb, Rational(-a.n)}}, 0);                          // c <= n uDB
    row({{a.p, 1}, {a.up, Rational(-a.n)}}, 0);                           // p <= n uP
    for (const auto u : {a.uga, a.ugb, a.uda, a.udb, a.up}) row({{u, 1}}, 1);
    row({{a.uga, 1}, {v_sg, -1}}, 0);
    row({{a.ugb, 1}, {v_e, -1}}, 0);
    row({{a.udb, 1}, {v_e, -1}}, 0);
    row({{a.uda, 1}, {v_sd, -1}}, 0);
    row({{a.udb, 1}, {v_ed, -1}}, 0);
    row({{a.up, 1}, {v_y, -1}}, 0);
    if (w.adapters[a.i].weights == Residency::kCxl) row({{a.ugb, 1}, {v_f, -1}}, 0);
    // Valid inequalities (they hold at every integer point and tighten the LP): g > 0
    // implies g + p > 0, c > 0 implies p + c > 0, p > 0 implies both, and with n > 0 the
    // tokens go somewhere: g > 0 or p + c > 0, and g + p > 0 or c > 0.
    row({{a.uga, 1}, {a.ugb, -1}}, 0);
    row({{a.udb, 1}, {a.uda, -1}}, 0);
    row({{a.up, 1}, {a.ugb, -1}}, 0);
    row({{a.up, 1}, {a.uda, -1}}, 0);
    if (a.n > 0) {
      row({{a.uga, -1}, {a.uda, -1}}, -1);
      row({{a.ugb, -1}, {a.udb, -1}}, -1);
      row({{v_e, -1}}, -1);  // the expand kernel runs whenever a token has LoRA work here
    }
    if (w.adapters[a.i].weights == Residency::kGpu) row({{a.p, 1}, {a.c, 1}}, 0);
  }
  for (const auto v : {v_sg, v_e, v_sd, v_ed, v_f, v_y}) row({{v, 1}}, 1);
  // Kernel durations: d >= o v + FLOPs / F and d >= o v + bytes / W, with g = n - p - c.
  const auto kernel = [&](std::size_t d, std::size_t v, bool gpu, const auto& flops, const auto& bytes) {
    const Rational& f = gpu ? hw.gpu_flops : hw.cxl_flops;
    const Rational& bw = gpu ? hw.gpu_bandwidth : hw.cxl_bandwidth;
    const Rational& o = gpu ? hw.gpu_overhead_s : hw.cxl_overhead_s;
    for (int pass = 0; pass < 2; ++pass) {
      Row r;
      r.coef[d] = -1;
      r.coef[v] += o;
      Rational constant = 0;  // the term's constant part, moved to the right
      const Rational& scale = pass == 0 ? f : bw;
      for (const A& a : as) {
        // (coefficient of p, of c, the constant) of the term, and indicator terms.
        std::array<Rational, 3> lin{0, 0, 0};
        std::vector<std::pair<std::size_t, Rational>> ind;
        if (pass == 0) {
          flops(a, lin);
        } else {
          bytes(a, lin, ind);
        }
        r.coef[a.p] += lin[0] / scale;
        r.coef[a.c] += lin[1] / scale;
        constant += lin[2] / scale;
        for (const auto& [u, x] : ind) r.coef[u] += x / scale;
      }
      r.rhs = -constant;
      prog.rows.push_back(std::move(r));
    }
  };
  // shrink_gpu: FLOPs 2 SA g; bytes e (uGA SA + g (I + R)).
  kernel(
      d_sg, v_sg, true,
      [&](const A& a, std::array<Rational, 3>& lin) {
        const Rational k(2 * a.work.sa);
        lin = {-k, -k, k * a.n};
      },
      [&](const A& a, std::array<Rational, 3>& lin, std::vector<std::pair<std::size_t, Rational>>& ind) {
        const Rational k = e * Rational(a.work.in + a.work.r);
        lin = {-k, -k, k * a.n};
        ind.emplace_back(a.uga, e * Rational(a.work.sa));
      });
  // expand_gpu: FLOPs 2 SB (g + p) + O c; bytes e (uGB SB + (g + p)(R + 2 O) + 3 O c).
  kernel(
      d_e, v_e, true,
      [&](const A& a, std::array<Rational, 3>& lin) {
        const Rational k(2 * a.work.sb);
        lin = {0, Rational(a.work.o) - k, k * a.n};
      },
      [&](const A& a, std::array<Rational, 3>& lin, std::vector<std::pair<std::size_t, Rational>>& ind) {
        const Rational k = e * Rational(a.work.r + 2 * a.work.o);
        lin = {0, e * Rational(3 * a.work.o) - k, k * a.n};
        ind.emplace_back(a.ugb, e * Rational(a.work.sb));
      });
  // shrink_cxl: FLOPs 2 SA (p + c); bytes e (uDA SA + (p + c)(I + R)).
  kernel(
      d_sd, v_sd, false,
      [&](const A& a, std::array<Rational, 3>& lin) {
        const Rational k(2 * a.work.sa);
        lin = {k, k, 0};
      },
      [&](const A& a, std::array<Rational, 3>& lin, std::vector<std::pair<std::size_t, Rational>>& ind) {
        const Rational k = e * Rational(a.work.in + a.work.r);
        lin = {k, k, 0};
        ind.emplace_back(a.uda, e * Rational(a.work.sa));
      });
  // expand_cxl: FLOPs 2 SB c; bytes e (uDB SB + c (R + O)).
  kernel(
      d_ed, v_ed, false,
      [&](const A& a, std::array<Rational, 3>& lin) { lin = {0, Rational(2 * a.work.sb), 0}; },
      [&](const A& a, std::array<Rational, 3>& lin, std::vector<std::pair<std::size_t, Rational>>& ind) {
        lin = {0, e * Rational(a.work.r + a.work.o), 0};
        ind.emplace_back(a.udb, e * Rational(a.work.sb));
      });
  // The stage's items as linear forms in seconds: kernels by their duration variables,
  // transfers by bytes / BW, the base by its constant; each transfer's latency by the
  // variable that says it runs.
  const Rational& bw = hw.link_bandwidth;
  const Rational& lat = hw.link_latency_s;
  ServingPlan gpu_only = uniform_plan(w, ServingPath::kGpu);
  const auto base_work = detail::stage_work(w, gpu_only, s, false)[0];
  const Rational base_s = detail::item_seconds(ServingItemId::kBase, base_work, hw, nullptr);
  const auto item_form = [&](ServingItemId id, Row& r) {
    switch (id) {
      case ServingItemId::kBase: r.rhs -= base_s; break;
      case ServingItemId::kShrinkGpu: r.coef[d_sg] += 1; break;
      case ServingItemId::kExpandGpu: r.coef[d_e] += 1; break;
      case ServingItemId::kShrinkCxl: r.coef[d_sd] += 1; break;
      case ServingItemId::kExpandCxl: r.coef[d_ed] += 1; break;
      case ServingItemId::kFetch:
        for (const A& a : as) {
          if (w.adapters[a.i].weights != Residency::kCxl) continue;
          r.coef[a.uga] += e * Rational(a.work.sa) / bw;
          r.coef[a.ugb] += e * Rational(a.work.sb) / bw;
        }
        break;
      case ServingItemId::kXIn:
        for (const A& a : as) {
          r.coef[a.p] += e * Rational(ss.din) / bw;
          r.coef[a.c] += e * Rational(ss.din) / bw;
        }
        break;
      case ServingItemId::kYBack:
        for (const A& a : as) r.coef[a.p] += e * Rational(a.work.r) / bw;
        break;
      case ServingItemId::kZBack:
        for (const A& a : as) r.coef[a.c] += e * Rational(a.work.o) / bw;
        break;
    }
  };
  const auto runs_var = [&](ServingItemId id) {
    switch (id) {
      case ServingItemId::kFetch: return v_f;
      case ServingItemId::kXIn: return v_sd;  // x_in carries the device's tokens: it runs with shrink_cxl
      case ServingItemId::kYBack: return v_y;
      case ServingItemId::kZBack: return v_ed;  // z_back runs with expand_cxl
      default: return prog.n;
    }
  };
  // t >= each path (§9.4).
  for (const auto& path : detail::serving_paths()) {
    Row r;
    r.coef[prog.t] = -1;
    for (std::size_t i = 0; i < path.items.size(); ++i) {
      item_form(path.items[i], r);
      if (path.latency_after[i] != 0) r.coef[runs_var(path.items[i])] += lat;
    }
    prog.rows.push_back(std::move(r));
  }
  for (const auto d : prog.time_vars) row({{d, 1}}, upper_s);
  return prog;
}

}  // namespace

Result<ServingResult> solve_serving(const ServingWorkload& w, const Params& params) {
  auto hw_r = serving_hardware(params);
  if (!hw_r) return hw_r.error();
  const ServingHardware& hw = hw_r.value();
  ServingResult out;
  out.hardware = hw;
  out.baselines.push_back({"gpu_hbm", uniform_plan(w, ServingPath::kGpu), {}});
  out.baselines.push_back({"gpu_fetch", uniform_plan(w, ServingPath::kGpu), {}});
  out.baselines.push_back({"device_all", uniform_plan(w, ServingPath::kDevice), {}});
  out.baselines[0].eval = evaluate_serving(w, hw, out.baselines[0].plan, true);
  out.baselines[1].eval = evaluate_serving(w, hw, out.baselines[1].plan);
  out.baselines[2].eval = evaluate_serving(w, hw, out.baselines[2].plan);
  const ServingEvaluation& fetch = out.baselines[1].eval;
  out.plan = uniform_plan(w, ServingPath::kGpu);
  if (!fetch.feasible) {  // the memory rows do not depend on the plan (§9.5): no plan fits
    out.eval = fetch;
    out.feasible = false;
    out.reason = fetch.reason;
    return out;
  }
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    const auto stage = static_cast<ServingStage>(s);
    if (stage == ServingStage::kAttention) continue;
    std::size_t deciding = 0;  // adapters with tokens and a module here
    for (const auto& a : w.adapters) deciding += detail::adapter_work(w.shape, a, stage).any && a.tokens > 0 ? 1U : 0U;
    if (deciding == 0) continue;
    if (deciding > kMaxDecidingAdapters) {
      return Error{ErrorCode::kUnsupported, "adapters", std::to_string(deciding),
                   fmt::format("serving: stage {} has {} adapters with tokens; the exact planner handles at most {} "
                               "per stage so far (docs/model.md section 9.7)",
                               to_string(stage), deciding, kMaxDecidingAdapters)};
    }
    // The best plan that sends every token one way (GPU only, or every device-capable
    // token to the device) is the incumbent; the search looks for a strictly shorter stage.
    const Rational& upper = fetch.stages[s].seconds;
    const Rational& device_s = out.baselines[2].eval.stages[s].seconds;
    const bool device_first = device_s < upper;
    const Rational incumbent = device_first ? device_s : upper;
    StageProgram prog = build_program(w, hw, stage, upper);
    // Each row scaled by the lcm of its own denominators: integer rows over the tokens,
    // indicators (integers) and the durations and stage time in seconds (reals).
    std::vector<std::vector<Integer>> a;
    std::vector<Integer> h;
    for (const auto& r : prog.rows) {
      Integer d = r.rhs.get_den();
      for (const auto& [j, x] : r.coef) mpz_lcm(d.get_mpz_t(), d.get_mpz_t(), x.get_den().get_mpz_t());
      std::vector<Integer> coef(prog.n, Integer(0));
      for (const auto& [j, x] : r.coef) coef[j] = Rational(x * Rational(d)).get_num();
      a.push_back(std::move(coef));
      h.push_back(Rational(r.rhs * Rational(d)).get_num());
    }
    detail::BranchAndBound bnb(a, h, prog.n, false);
    if (bnb.empty() || bnb.unbounded()) {
      return Error{ErrorCode::kInternal, "", "",
                   fmt::format("serving: stage {} has no point although the GPU-only plan is one", to_string(stage))};
    }
    std::vector<Integer> c(prog.n, Integer(0));
    c[prog.t] = -1;
    // Branch on the indicators first, then on the token counts; with them fixed, the LP's
    // durations and stage time are the exact maxima of their terms (docs/model.md §9.7).
    std::vector<int> integer(prog.n, 1);
    for (const auto j : prog.indicators) integer[j] = 2;
    for (const auto j : prog.time_vars) integer[j] = 0;
    const auto res = bnb.maximize_mixed(c, integer, Rational(-incumbent));
    out.nodes += res.nodes;
    out.pivots += res.pivots;
    if (!res.feasible) {  // nothing beats the incumbent: the uniform plan is optimal
      if (device_first) out.plan.tokens[s] = out.baselines[2].plan.tokens[s];
      continue;
    }
    for (std::size_t k = 0; k < prog.adapters.size(); ++k) {
      const std::size_t i = prog.adapters[k];
      const std::int64_t p = res.t[prog.p[k]].get_num().get_si(), cc = res.t[prog.c[k]].get_num().get_si();
      out.plan.tokens[s][i] = {w.adapters[i].tokens - p - cc, p, cc};
    }
    // The formulas at the plan give the program's optimum exactly (§9.7).
    const auto check = evaluate_serving(w, hw, out.plan);
    if (check.stages[s].seconds != -res.value) {
      return Error{ErrorCode::kInternal, "", "",
                   fmt::format("serving: stage {}: the plan's time {} s differs from the program's optimum {} s",
                               to_string(stage), format_exact(check.stages[s].seconds), format_exact(-res.value))};
    }
  }
  if (auto st = check_serving_plan(w, out.plan); !st) {
    return Error{ErrorCode::kInternal, "", "", "serving: the planner returned an invalid plan: " + st.error().message};
  }
  out.eval = evaluate_serving(w, hw, out.plan);
  out.feasible = out.eval.feasible;
  out.reason = out.eval.reason;
  // The simulator plays every stage of the plan: it must end each where the model does.
  out.simulated_equal = true;
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    const auto events = simulate_serving_stage(w, hw, out.plan, static_cast<ServingStage>(s));
    Rational end = 0;
    for (const auto& ev : events) end = std::max(end, ev.done_s);
    if (end != out.eval.stages[s].seconds) out.simulated_equal = false;
  }
  if (!out.simulated_equal) {
    return Error{ErrorCode::kInternal, "", "", "serving: the simulator's stage times differ from the model's"};
  }
  return out;
}

}  // namespace lorasplit
