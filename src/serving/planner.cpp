// The serving model's exact planner (docs/model.md §9.7): per stage, a mixed-integer program
// over the same stage graph (token counts and indicators integer, durations real), solved
// by branch and bound over exact rational LPs; the plan is then re-evaluated by the
// formulas and by the simulator.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <exception>
#include <map>
#include <optional>
#include <span>
#include <utility>

#include "serving/graph.hpp"
#include "threads.hpp"
#include "serving/program.hpp"
#include "solve/bnb.hpp"

namespace lorasplit {
namespace {

using detail::ServingItemId;

// The exact LP that decides the nodes no exact bound from the double LP closes is dense,
// (rows x columns) with about 25 rows and 7 columns per class of identical adapters; beyond
// this many classes with tokens in one stage the search is refused rather than risk a
// tableau of gigabytes (docs/model.md §9.7).
constexpr std::size_t kMaxDecidingClasses = 64;
// Capacity mode plans each adapter with tokens on its own, in one program over every stage
// (docs/model.md §9.12); beyond this many the search is refused.
constexpr std::size_t kMaxCapacityAdapters = 8;

constexpr std::size_t kNoVar = static_cast<std::size_t>(-1);

// A row sum_j coef[j] * x_j <= rhs over the stage's variables (times in seconds).
struct Row {
  std::map<std::size_t, Rational> coef;
  Rational rhs;
  // What the row is (the compact LP of docs/model.md §9.7 keeps the timing rows and the
  // rows of classes whose counts it carries): -1 a timing row (a duration or the stage
  // time), -2 a run flag's row, >= 0 a row of that class (its index in StageProgram::units).
  int tag{-1};
};

// A class of identical adapters in one stage: the same work (ranks and modules here),
// residency and tokens. Its variables are the class's totals: P and C tokens on the split
// and device paths, and for each matrix a side reads, how many of its adapters read it.
// (k = 1: one adapter and its own indicators.) docs/model.md §9.7 shows that the totals
// lose nothing: a plan of the class with those totals and the fewest readers exists.
struct Unit {
  detail::AdapterStageWork work;
  Residency weights{Residency::kCxl};
  Integer n;                           // tokens of each adapter
  std::int64_t k{0};                   // adapters in the class
  std::vector<std::size_t> members;    // their indices, in order
  bool device{true};                   // the device paths are open to it (weights there, a device that computes)
  std::size_t p{0}, c{0}, uga{0}, ugb{0}, uda{0}, udb{0}, up{0};
  std::size_t nv{kNoVar};              // capacity mode: the variable N, its tokens served (n: offered)
  ServingStage stage{ServingStage::kQkv};
};

// `per_adapter` (capacity mode): each adapter its own unit (k = 1), since adapters alike
// may be served different numbers of tokens, the same in every stage.
std::vector<Unit> stage_units(const ServingWorkload& w, const ServingHardware& hw, ServingStage s,
                              bool per_adapter = false) {
  std::vector<Unit> units;
  for (std::size_t i = 0; i < w.adapters.size(); ++i) {
    const auto& a = w.adapters[i];
    if (a.tokens == 0) continue;  // nothing to decide
    auto aw = detail::adapter_work(w.shape, a, s);
    if (!aw.any) continue;  // no work here
    const auto same = [&](const Unit& u) {
      return u.weights == a.weights && u.n == a.tokens && u.work.sa == aw.sa && u.work.sb == aw.sb &&
             u.work.r == aw.r && u.work.o == aw.o && u.work.in == aw.in;
    };
    auto it = per_adapter ? units.end() : std::find_if(units.begin(), units.end(), same);
    if (it == units.end()) {
      units.push_back(Unit{aw, a.weights, Integer(a.tokens), 0, {}});
      it = units.end() - 1;
      it->device = a.weights != Residency::kGpu && hw.device_computes();
    }
    it->k += 1;
    it->members.push_back(i);
  }
  return units;
}

std::vector<std::array<std::int64_t, 3>> unit_plan(const Unit& u, std::int64_t p, std::int64_t c) {
  return detail::class_plan(u.k, u.n.get_si(), p, c);
}

struct StageProgram {
  std::size_t n{0};
  std::vector<Row> rows;
  std::vector<std::size_t> time_vars;  // the durations and the stage time [s], reals, in that order
  std::vector<std::size_t> run_flags;  // 0/1: whether each kernel or transfer runs
  std::vector<std::size_t> indicators;  // the classes' reader counts
  std::vector<Unit> units;             // the classes with work in the stage
  std::size_t t{0};                    // the stage time
  std::vector<Integer> upper;          // the box [0, upper] of every variable
};

std::size_t add_var(StageProgram& prog) { return prog.n++; }

// Capacity mode's joint program (docs/model.md §9.12): the stages of add_stage share the
// adapters' token variables N, and the base GEMMs' (or attention's) durations are
// variables over T = the sum of N.
struct CapacityVars {
  std::vector<std::size_t> n;  // per adapter: its variable N, or kNoVar when it offers no token
};

// The base item of stage s (the attention kernel in the attention stage) as an affine
// function of the batch's tokens T: (FLOPs, bytes) at T = 0 and their rise per token, read
// from the model's own stage_work at T = 0 and T = 1 (exact: both are affine in T, §9.3).
struct BaseForm {
  Rational flops0, bytes0, flops1, bytes1;
};
BaseForm base_form(const ServingWorkload& w, ServingStage s) {
  std::vector<std::int64_t> none(w.adapters.size(), 0), one = none;
  if (!one.empty()) one[0] = 1;
  const ServingWorkload w0 = served_workload(w, none), w1 = served_workload(w, one);
  const auto at0 = detail::stage_work(w0, uniform_plan(w0, ServingPath::kGpu), s, false)[0];
  const auto at1 = detail::stage_work(w1, uniform_plan(w1, ServingPath::kGpu), s, false)[0];
  return {at0.flops, at0.bytes, at1.flops - at0.flops, at1.bytes - at0.bytes};
}

// Adds the base item's duration d >= o + FLOPs(T) / F and d >= o + bytes(T) / W (capacity
// mode); returns d.
std::size_t add_base_duration(StageProgram& prog, const ServingWorkload& w, const ServingHardware& hw,
                              ServingStage s, const CapacityVars& cap) {
  const std::size_t d = prog.n++;
  prog.upper.resize(prog.n, Integer(0));
  prog.time_vars.push_back(d);
  const BaseForm f = base_form(w, s);
  for (int pass = 0; pass < 2; ++pass) {
    const Rational& rate = pass == 0 ? hw.gpu_flops : hw.gpu_bandwidth;
    Row r;
    r.coef[d] = -1;
    for (const auto v : cap.n) {
      if (v != kNoVar) r.coef[v] += (pass == 0 ? f.flops1 : f.bytes1) / rate;
    }
    r.rhs = -hw.gpu_overhead_s - (pass == 0 ? f.flops0 : f.bytes0) / rate;
    prog.rows.push_back(std::move(r));
  }
  return d;
}

// Adds stage s's variables and rows to `prog` (its units' in prog.units, appended) and
// returns the stage time's variable. Batch mode (cap == nullptr): the classes' tokens are
// the constants k n and the base is a constant. Capacity mode: one unit per adapter whose
// tokens are its variable N in cap->n.
std::size_t add_stage(StageProgram& prog, const ServingWorkload& w, const ServingHardware& hw, ServingStage s,
                      const Rational& upper_s, const CapacityVars* cap) {
  const auto& shape = w.shape;
  const Rational e(shape.element_bytes);
  const bool capacity = cap != nullptr;
  std::vector<Unit> stage_list = s == ServingStage::kAttention ? std::vector<Unit>{}
                                                               : stage_units(w, hw, s, capacity);
  if (capacity && stage_list.empty()) {  // the stage lasts its base item (§9.4)
    const std::size_t d_b = add_base_duration(prog, w, hw, s, *cap);
    const std::size_t t = prog.n++;
    prog.upper.resize(prog.n, Integer(0));
    prog.time_vars.push_back(t);
    prog.rows.push_back({{{d_b, 1}, {t, -1}}, 0});
    return t;
  }
  const detail::StageShape ss = detail::stage_shape(shape, s);
  const std::size_t first_unit = prog.units.size();
  for (auto& u : stage_list) {
    if (capacity) u.nv = cap->n[u.members.front()];
    u.stage = s;
    prog.units.push_back(std::move(u));
  }
  using A = Unit;
  const std::span<A> as(prog.units.data() + first_unit, prog.units.size() - first_unit);
  for (A& a : as) {
    a.p = add_var(prog);
    a.c = add_var(prog);
    a.uga = add_var(prog);
    a.ugb = add_var(prog);
    a.uda = add_var(prog);
    a.udb = add_var(prog);
    a.up = add_var(prog);
  }
  const std::size_t v_sg = add_var(prog), v_e = add_var(prog), v_sd = add_var(prog), v_ed = add_var(prog),
                    v_f = add_var(prog), v_y = add_var(prog);
  const std::size_t d_sg = add_var(prog), d_e = add_var(prog), d_sd = add_var(prog), d_ed = add_var(prog);
  const std::size_t d_b = capacity ? add_base_duration(prog, w, hw, s, *cap) : kNoVar;
  const std::size_t t = add_var(prog);
  prog.time_vars.insert(prog.time_vars.end(), {d_sg, d_e, d_sd, d_ed, t});
  prog.upper.resize(prog.n, Integer(0));
  for (const A& a : as) prog.upper[a.p] = prog.upper[a.c] = a.n * a.k;
  prog.run_flags.insert(prog.run_flags.end(), {v_sg, v_e, v_sd, v_ed, v_f, v_y});
  for (const A& a : as) prog.indicators.insert(prog.indicators.end(), {a.uga, a.ugb, a.uda, a.udb, a.up});
  int tag = -1;  // the tag of the rows row() and row_n() add
  const auto row = [&](std::map<std::size_t, Rational> coef, Rational rhs) {
    prog.rows.push_back({std::move(coef), std::move(rhs), tag});
  };
  // A row over the class's tokens N as well: `n_coef` N on the left, N = k n a constant
  // (batch mode) or the adapter's variable (capacity mode).
  const auto row_n = [&](const A& a, std::map<std::size_t, Rational> coef, Rational rhs, const Rational& n_coef) {
    if (capacity) {
      coef[a.nv] += n_coef;
    } else {
      rhs -= n_coef * Rational(a.n * a.k);
    }
    prog.rows.push_back({std::move(coef), std::move(rhs), tag});
  };
  // Linking rows: tokens and the readers of each matrix (§9.2, §9.7): with N = k n the
  // class's tokens, G = N - P - C <= n uGA, G + P <= n uGB, P + C <= n uDA, C <= n uDB,
  // P <= n uP, every count at most k and at most k times its item's run flag.
  for (const A& a : as) {
    tag = static_cast<int>(&a - prog.units.data());
    const Rational k(a.k);
    row_n(a, {{a.p, 1}, {a.c, 1}}, 0, -1);                             // G >= 0
    row_n(a, {{a.p, -1}, {a.c, -1}, {a.uga, Rational(-a.n)}}, 0, 1);   // G <= n uGA
    row_n(a, {{a.c, -1}, {a.ugb, Rational(-a.n)}}, 0, 1);              // G + P <= n uGB
    row({{a.p, 1}, {a.c, 1}, {a.uda, Rational(-a.n)}}, 0);             // P + C <= n uDA
    row({{a.c, 1}, {a.udb, Rational(-a.n)}}, 0);                            // C <= n uDB
    row({{a.p, 1}, {a.up, Rational(-a.n)}}, 0);                             // P <= n uP
    for (const auto u : {a.uga, a.ugb, a.uda, a.udb, a.up}) prog.upper[u] = a.k;
    // Valid inequalities (they hold at the plan with the fewest readers and tighten the
    // LP): an adapter on g reads B too, one on c reads A too, one on p reads both, and each
    // adapter's tokens go somewhere: uGA + uDA >= k, uGB + uDB >= k.
    row({{a.uga, 1}, {a.ugb, -1}}, 0);
    row({{a.udb, 1}, {a.uda, -1}}, 0);
    row({{a.up, 1}, {a.ugb, -1}}, 0);
    row({{a.up, 1}, {a.uda, -1}}, 0);
    if (capacity) {  // an adapter that serves no token reads nothing: n (uGA + uDA) >= N
      row_n(a, {{a.uga, Rational(-a.n)}, {a.uda, Rational(-a.n)}}, 0, 1);
      row_n(a, {{a.ugb, Rational(-a.n)}, {a.udb, Rational(-a.n)}}, 0, 1);
    } else {
      row({{a.uga, -1}, {a.uda, -1}}, -k);
      row({{a.ugb, -1}, {a.udb, -1}}, -k);
    }
    if (!a.device) row({{a.p, 1}, {a.c, 1}}, 0);
  }
  // Whether each kernel and transfer runs: a flag at 0 forbids every reader of its
  // matrices (uGA <= k v_sg, ...; expand_gpu runs whenever a token has LoRA work here).
  tag = -2;
  for (const A& a : as) {
    const Rational k(a.k);
    row({{a.uga, 1}, {v_sg, -k}}, 0);
    row({{a.uda, 1}, {v_sd, -k}}, 0);
    row({{a.udb, 1}, {v_ed, -k}}, 0);
    row({{a.up, 1}, {v_y, -k}}, 0);
    if (a.weights == Residency::kCxl) row({{a.ugb, 1}, {v_f, -k}}, 0);
  }
  if (capacity) {  // expand_gpu runs when a token of the stage's LoRA work is served
    for (const A& a : as) {
      row({{a.ugb, 1}, {v_e, -1}}, 0);
      row({{a.udb, 1}, {v_e, -1}}, 0);
    }
  } else {
    row({{v_e, -1}}, -1);
  }
  tag = -1;
  for (const auto v : {v_sg, v_e, v_sd, v_ed, v_f, v_y}) prog.upper[v] = 1;
  // Kernel durations: d >= o v + FLOPs / F and d >= o v + bytes / W, with g = n - p - c.
  const auto kernel = [&](std::size_t d, std::size_t v, bool gpu, const auto& flops, const auto& bytes) {
    const Rational& f = gpu ? hw.gpu_flops : hw.cxl_flops;
    const Rational& bw = gpu ? hw.gpu_bandwidth : hw.cxl_bandwidth;
    const Rational& o = gpu ? hw.gpu_overhead_s : hw.cxl_overhead_s;
    // A device without compute runs no kernel (every class's device paths are closed): its
    // durations have no rows and stay 0.
    if (!gpu && !hw.device_computes()) return;
    for (int pass = 0; pass < 2; ++pass) {
      Row r;
      r.coef[d] = -1;
      r.coef[v] += o;
      Rational constant = 0;  // the term's constant part, moved to the right
      const Rational& scale = pass == 0 ? f : bw;
      for (const A& a : as) {
        // (coefficient of p, of c, of N) of the term, and indicator terms.
        std::array<Rational, 3> lin{0, 0, 0};
        std::vector<std::pair<std::size_t, Rational>> ind;
        if (pass == 0) {
          flops(a, lin);
        } else {
          bytes(a, lin, ind);
        }
        r.coef[a.p] += lin[0] / scale;
        r.coef[a.c] += lin[1] / scale;
        if (capacity) {  // lin[2] is per token of N
          r.coef[a.nv] += lin[2] / scale;
        } else {
          constant += lin[2] * Rational(a.n * a.k) / scale;
        }
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
        lin = {-k, -k, k};
      },
      [&](const A& a, std::array<Rational, 3>& lin, std::vector<std::pair<std::size_t, Rational>>& ind) {
        const Rational k = e * Rational(a.work.in + a.work.r);
        lin = {-k, -k, k};
        ind.emplace_back(a.uga, e * Rational(a.work.sa));
      });
  // expand_gpu: FLOPs 2 SB (g + p) + O c; bytes e (uGB SB + (g + p)(R + 2 O) + 3 O c).
  kernel(
      d_e, v_e, true,
      [&](const A& a, std::array<Rational, 3>& lin) {
        const Rational k(2 * a.work.sb);
        lin = {0, Rational(a.work.o) - k, k};
      },
      [&](const A& a, std::array<Rational, 3>& lin, std::vector<std::pair<std::size_t, Rational>>& ind) {
        const Rational k = e * Rational(a.work.r + 2 * a.work.o);
        lin = {0, e * Rational(3 * a.work.o) - k, k};
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
  // transfers by bytes / min(BW, W_c), the base by its constant; each transfer's latency by the
  // variable that says it runs.
  const Rational bw = hw.transfer_bandwidth();
  const Rational& lat = hw.link_latency_s;
  Rational base_s = 0;
  if (!capacity) {
    ServingPlan gpu_only = uniform_plan(w, ServingPath::kGpu);
    const auto base_work = detail::stage_work(w, gpu_only, s, false)[0];
    base_s = detail::item_seconds(ServingItemId::kBase, base_work, hw, nullptr);
  }
  const auto item_form = [&](ServingItemId id, Row& r) {
    switch (id) {
      case ServingItemId::kBase:
        if (capacity) {
          r.coef[d_b] += 1;
        } else {
          r.rhs -= base_s;
        }
        break;
      case ServingItemId::kShrinkGpu: r.coef[d_sg] += 1; break;
      case ServingItemId::kExpandGpu: r.coef[d_e] += 1; break;
      case ServingItemId::kShrinkCxl: r.coef[d_sd] += 1; break;
      case ServingItemId::kExpandCxl: r.coef[d_ed] += 1; break;
      case ServingItemId::kFetch:
        for (const A& a : as) {
          if (a.weights != Residency::kCxl) continue;
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
      default: return kNoVar;
    }
  };
  // t >= each path (§9.4).
  for (const auto& path : detail::serving_paths()) {
    Row r;
    r.coef[t] = -1;
    for (std::size_t i = 0; i < path.items.size(); ++i) {
      item_form(path.items[i], r);
      if (path.latency_after[i] != 0) r.coef[runs_var(path.items[i])] += lat;
    }
    prog.rows.push_back(std::move(r));
  }
  // Every duration and the stage time that can beat the incumbent are below GPU-only's
  // stage time upper_s: the box holds them with floor(upper_s) + 1 seconds.
  const Integer time_box = floor_of(upper_s) + 1;
  for (const auto d : prog.time_vars) prog.upper[d] = time_box;
  return t;
}

StageProgram build_program(const ServingWorkload& w, const ServingHardware& hw, ServingStage s,
                           const Rational& upper_s) {
  StageProgram prog;
  prog.t = add_stage(prog, w, hw, s, upper_s, nullptr);
  return prog;
}

// The program as integer rows: each row scaled by the lcm of its own denominators (over
// the token totals and counts, integers, and the durations and stage time in seconds,
// reals). Branch on whether each kernel and transfer runs first (their overheads and
// latencies are what the LP spreads thinnest), then on the classes' reader counts, then on
// the token totals; with them fixed, the LP's durations and stage time are the exact
// maxima of their terms (docs/model.md §9.7).
detail::ServingStageMip to_mip(const StageProgram& prog, bool compact = false) {
  detail::ServingStageMip mip;
  if (compact) {  // batch mode: the structure the compact LP needs (§9.7)
    detail::ServingStageMip::Compact cs;
    for (const Unit& u : prog.units) {
      cs.classes.push_back({u.p, u.c, {u.uga, u.ugb, u.uda, u.udb, u.up}, u.n.get_si(), u.k, u.device,
                            u.weights == Residency::kCxl});
    }
    for (const auto& r : prog.rows) cs.row_tag.push_back(r.tag);
    for (std::size_t f = 0; f < 6; ++f) cs.flags[f] = prog.run_flags[f];
    mip.compact = std::move(cs);
  }
  for (const auto& r : prog.rows) {
    Integer d = r.rhs.get_den();
    for (const auto& [j, x] : r.coef) mpz_lcm(d.get_mpz_t(), d.get_mpz_t(), x.get_den().get_mpz_t());
    std::vector<Integer> coef(prog.n);  // zeros that allocate nothing until set
    for (const auto& [j, x] : r.coef) coef[j] = Rational(x * Rational(d)).get_num();
    mip.a.push_back(std::move(coef));
    mip.h.push_back(Rational(r.rhs * Rational(d)).get_num());
  }
  mip.upper = prog.upper;
  mip.priority.assign(prog.n, 1);
  for (const auto j : prog.run_flags) mip.priority[j] = 3;
  for (const auto j : prog.indicators) mip.priority[j] = 2;
  for (const auto j : prog.time_vars) mip.priority[j] = 0;
  mip.stage_time = prog.t;
  mip.classes = prog.units.size();
  return mip;
}

// A proposal for the incumbent: a local search over the classes' totals in double
// precision, on the program's own rows (the durations and the stage time propagated from
// the integer variables, the fewest readers for each class's totals). It only proposes:
// the plan it finds is evaluated exactly before it is used, and the branch and bound then
// proves it optimal or finds a better one (docs/model.md §9.7). A move re-evaluates only
// the rows of the class it changes.
class IncumbentSearch {
  static constexpr std::size_t kKickedDescents = 8;

 public:
  using Totals = std::vector<std::pair<std::int64_t, std::int64_t>>;

  explicit IncumbentSearch(const StageProgram& prog) : prog_(prog), col_(prog.n) {
    // The time variables, numbered 0.. in the order of prog.time_vars (time_at's x).
    std::vector<long> time_index(prog.n, -1);
    for (std::size_t q = 0; q < prog.time_vars.size(); ++q) time_index[prog.time_vars[q]] = static_cast<long>(q);
    std::vector<char> real(prog.n, 0);
    for (const auto j : prog.time_vars) real[j] = 1;
    std::vector<std::size_t> dep_of_row;
    for (const auto& r : prog.rows) {
      std::optional<std::size_t> dep;
      for (const auto& [j, x] : r.coef) {
        if (real[j] != 0 && x < 0) dep = j;
      }
      if (!dep) continue;  // a row over the integers only, or an upper bound on a time
      const std::size_t i = rhs_.size();
      rhs_.push_back(r.rhs.get_d());
      dep_of_row.push_back(*dep);
      dep_coef_.push_back(-r.coef.at(*dep).get_d());
      std::vector<std::pair<std::size_t, double>> reals;
      for (const auto& [j, x] : r.coef) {
        if (j == *dep) continue;
        if (real[j] != 0) {
          reals.emplace_back(static_cast<std::size_t>(time_index[j]), x.get_d());
        } else {
          col_[j].emplace_back(i, x.get_d());
        }
      }
      reals_.push_back(std::move(reals));
    }
    // The rows that define each time variable, in the order the times are propagated.
    for (std::size_t q = 0; q < prog.time_vars.size(); ++q) {
      for (std::size_t i = 0; i < dep_of_row.size(); ++i) {
        if (dep_of_row[i] == prog.time_vars[q]) order_.emplace_back(q, i);
      }
    }
    t_index_ = static_cast<std::size_t>(time_index[prog.t]);
  }

  // The stage time of a plan (its classes' totals), in double precision.
  [[nodiscard]] double time_of(const Totals& pc) const { return time_at(state_of(pc)); }

  // The best plan found by steepest descent from `start` alone (no kicks).
  Totals polish(const Totals& start) const { return descend({start}); }

  // Per class (P, C): the best plan found from each of `starts`, then from the best with
  // one class moved whole to another path (a kick out of a local optimum), while that
  // improves it.
  Totals run(const std::vector<Totals>& starts) const {
    Totals best = descend(starts);
    const auto pure = [this](std::size_t u) {
      const std::int64_t total = prog_.units[u].n.get_si() * prog_.units[u].k;
      return std::array<std::pair<std::int64_t, std::int64_t>, 3>{{{0, 0}, {total, 0}, {0, total}}};
    };
    for (int kick = 0; kick < 8; ++kick) {
      std::vector<Totals> kicked;
      for (std::size_t u = 0; u < prog_.units.size(); ++u) {
        if (!prog_.units[u].device) continue;
        for (const auto& to : pure(u)) {
          if (best[u] == to) continue;
          kicked.push_back(best);
          kicked.back()[u] = to;
        }
      }
      // Descents from the kicked plans that start best only.
      if (kicked.size() > kKickedDescents) {
        std::vector<std::pair<double, std::size_t>> order;
        for (std::size_t q = 0; q < kicked.size(); ++q) order.emplace_back(time_of(kicked[q]), q);
        std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(kKickedDescents), order.end());
        std::vector<Totals> kept;
        for (std::size_t q = 0; q < kKickedDescents; ++q) kept.push_back(std::move(kicked[order[q].second]));
        kicked = std::move(kept);
      }
      Totals next = descend(kicked);
      if (next.empty() || !(time_of(next) < time_of(best))) break;
      best = std::move(next);
    }
    return best;
  }

 private:
  // The rows' activities at a plan (without the run flags' terms), how many classes make
  // each run flag 1 (shrink_gpu, expand_gpu, shrink_cxl, expand_cxl, fetch, y_back), and
  // the plan.
  struct State {
    std::vector<double> act;
    std::array<long, 6> users{};
    Totals pc;
  };

  void contribute(State& st, std::size_t u, std::pair<std::int64_t, std::int64_t> pc, double sign) const {
    const Unit& a = prog_.units[u];
    const std::int64_t n = a.n.get_si(), total = n * a.k;
    const auto [p, c] = pc;
    const std::int64_t g = total - p - c;
    const auto readers = [n](std::int64_t x) { return (x + n - 1) / n; };
    const std::int64_t uga = readers(g), ugb = readers(g + p), uda = readers(p + c), udb = readers(c),
                       up = readers(p);
    const auto add = [&](std::size_t j, std::int64_t v) {
      if (v == 0) return;
      for (const auto& [i, x] : col_[j]) st.act[i] += sign * x * static_cast<double>(v);
    };
    add(a.p, p);
    add(a.c, c);
    add(a.uga, uga);
    add(a.ugb, ugb);
    add(a.uda, uda);
    add(a.udb, udb);
    add(a.up, up);
    const long s = sign > 0 ? 1 : -1;
    st.users[0] += uga > 0 ? s : 0;
    st.users[2] += uda > 0 ? s : 0;
    st.users[3] += udb > 0 ? s : 0;
    st.users[4] += a.weights == Residency::kCxl && ugb > 0 ? s : 0;
    st.users[5] += up > 0 ? s : 0;
  }

  [[nodiscard]] State state_of(const Totals& pc) const {
    State st;
    st.act.resize(rhs_.size());
    for (std::size_t i = 0; i < rhs_.size(); ++i) st.act[i] = -rhs_[i];
    st.users[1] = 1;  // expand_gpu always runs
    st.pc = pc;
    for (std::size_t u = 0; u < prog_.units.size(); ++u) contribute(st, u, pc[u], 1.0);
    return st;
  }

  // The stage time at the state: the run flags' terms added, the durations and the stage
  // time propagated through their rows.
  [[nodiscard]] double time_at(const State& st) const {
    std::vector<double>& act = act_;
    act = st.act;
    for (std::size_t f = 0; f < 6; ++f) {
      if (st.users[f] <= 0) continue;
      for (const auto& [i, x] : col_[prog_.run_flags[f]]) act[i] += x;
    }
    std::vector<double>& x = x_;
    x.assign(prog_.time_vars.size(), 0.0);
    for (const auto& [r, i] : order_) {
      double v = act[i];
      for (const auto& [j, c] : reals_[i]) v += c * x[j];
      x[r] = std::max(x[r], v / dep_coef_[i]);
    }
    return x[t_index_];
  }


  // The stage time with class u's totals changed to pc (the state is left as it was).
  double time_with(State& st, std::size_t u, std::pair<std::int64_t, std::int64_t> pc) const {
    const auto old = st.pc[u];
    contribute(st, u, old, -1.0);
    contribute(st, u, pc, 1.0);
    const double t = time_at(st);
    contribute(st, u, pc, -1.0);
    contribute(st, u, old, 1.0);
    return t;
  }

  // Steepest descent from each start; the best end.
  Totals descend(const std::vector<Totals>& starts) const {
    Totals best;
    double best_t = 0;
    for (const auto& start : starts) {
      State st = state_of(start);
      double cur_t = time_at(st);
      // First improvement, class by class: each class's best move, until a whole pass
      // over the classes improves nothing.
      std::size_t since = 0;
      for (std::size_t u = 0; since < prog_.units.size(); u = (u + 1) % prog_.units.size(), ++since) {
        const Unit& unit = prog_.units[u];
        if (!unit.device) continue;
        const std::int64_t total = unit.n.get_si() * unit.k;
        const auto here = st.pc[u];
        const std::int64_t tok[3] = {total - here.first - here.second, here.first, here.second};
        double move_t = cur_t;
        auto move_to = here;
        for (std::size_t from = 0; from < 3; ++from) {
          for (std::size_t to = 0; to < 3; ++to) {
            if (from == to || tok[from] == 0) continue;
            // Shift all of it, one adapter's worth, then halves down to one token.
            for (std::int64_t d = tok[from], step = 0; d > 0; ++step) {
              std::int64_t t3[3] = {tok[0], tok[1], tok[2]};
              t3[from] -= d;
              t3[to] += d;
              const double t = time_with(st, u, {t3[1], t3[2]});
              if (t < move_t) {
                move_t = t;
                move_to = {t3[1], t3[2]};
              }
              d = step == 0 && unit.n.get_si() < tok[from] ? unit.n.get_si() : d / 2;
            }
          }
        }
        if (move_t < cur_t) {
          contribute(st, u, here, -1.0);
          contribute(st, u, move_to, 1.0);
          st.pc[u] = move_to;
          cur_t = move_t;
          since = 0;
        }
      }
      if (best.empty() || cur_t < best_t) {
        best = st.pc;
        best_t = cur_t;
      }
    }
    return best;
  }

  const StageProgram& prog_;
  std::vector<double> rhs_;
  std::vector<double> dep_coef_;
  std::vector<std::vector<std::pair<std::size_t, double>>> reals_;
  std::vector<std::vector<std::pair<std::size_t, double>>> col_;  // per integer variable: (row, coefficient)
  std::vector<std::pair<std::size_t, std::size_t>> order_;        // (time variable's index, a row defining it)
  std::size_t t_index_{0};                                        // the stage time's index
  mutable std::vector<double> act_, x_;  // time_at's work space
};

// The stage's plan from the classes' totals.
void set_stage_plan(const StageProgram& prog, const std::vector<std::pair<std::int64_t, std::int64_t>>& pc,
                    std::vector<std::array<std::int64_t, 3>>& row) {
  for (std::size_t u = 0; u < prog.units.size(); ++u) {
    const auto per = unit_plan(prog.units[u], pc[u].first, pc[u].second);
    for (std::size_t q = 0; q < prog.units[u].members.size(); ++q) row[prog.units[u].members[q]] = per[q];
  }
}

// ---- Capacity mode (docs/model.md §9.12) ----

// Which plans a capacity search may return: any (the optimum), every token on the GPU
// (gpu_fetch, and gpu_hbm over an all-in-HBM workload) or every device-capable token on the
// device (device_all).
enum class Restriction { kNone, kGpuOnly, kDeviceAll };

// Capacity mode's limits, read from the parameters: the GPU memory row as an affine
// function of T (bytes at T = 0 and per token), the latency and token bounds.
struct CapacityLimits {
  Rational memory0, memory1, memory_capacity;
  std::optional<Rational> max_latency_s, max_tokens;
};

struct CapacityProgram {
  Restriction restrict{Restriction::kNone};
  StageProgram prog;
  CapacityVars vars;
  std::vector<std::size_t> stage_t;
  std::size_t z{0};
  Integer offered;         // K: the tokens the adapters offer
  Rational upper;          // every real variable lies in [0, upper] [s]
  Rational iteration_max;  // no plan's iteration time reaches it [s]
};

// The joint program of every stage for one Dinkelbach step lambda [tokens/s]: minimise
// z = L sum_s t_s - (sum N) / lambda + K / lambda [s] (K the offered tokens, so z >= 0)
// under the memory, latency and token rows.
CapacityProgram capacity_program(const ServingWorkload& w, const ServingHardware& hw, const CapacityLimits& lim,
                                 Restriction restrict, const Rational& lambda) {
  CapacityProgram cp;
  cp.restrict = restrict;
  StageProgram& prog = cp.prog;
  Integer& offered = cp.offered;
  for (const auto& a : w.adapters) {
    if (a.tokens == 0) {
      cp.vars.n.push_back(kNoVar);
      continue;
    }
    cp.vars.n.push_back(prog.n++);
    prog.upper.resize(prog.n, Integer(0));
    prog.upper.back() = a.tokens;
    offered += a.tokens;
  }
  // The stages' boxes are set below, once every real variable's bound is known.
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    cp.stage_t.push_back(add_stage(prog, w, hw, static_cast<ServingStage>(s), Rational(0), &cp.vars));
  }
  const Rational layers(w.shape.layers);
  if (restrict == Restriction::kGpuOnly) {
    for (const Unit& u : prog.units) prog.upper[u.p] = prog.upper[u.c] = 0;
  } else if (restrict == Restriction::kDeviceAll) {
    for (const Unit& u : prog.units) {
      if (!u.device) continue;
      prog.upper[u.p] = 0;
      prog.rows.push_back({{{u.nv, 1}, {u.c, -1}}, 0});  // G = 0: C = N
    }
  }
  std::map<std::size_t, Rational> tokens;  // sum of N
  for (const auto v : cp.vars.n) {
    if (v != kNoVar) tokens[v] = 1;
  }
  if (lim.memory1 > 0) {
    std::map<std::size_t, Rational> m;
    for (const auto& [v, one] : tokens) m[v] = lim.memory1;
    prog.rows.push_back({std::move(m), lim.memory_capacity - lim.memory0});
  }
  if (lim.max_tokens) prog.rows.push_back({tokens, *lim.max_tokens});
  if (lim.max_latency_s) {
    std::map<std::size_t, Rational> m;
    for (const auto t : cp.stage_t) m[t] = layers;
    prog.rows.push_back({std::move(m), *lim.max_latency_s});
  }
  cp.z = prog.n++;
  prog.upper.resize(prog.n, Integer(0));
  prog.time_vars.push_back(cp.z);
  {
    Row r;
    for (const auto t : cp.stage_t) r.coef[t] = layers;
    for (const auto& [v, one] : tokens) r.coef[v] = -1 / lambda;
    r.coef[cp.z] = -1;
    r.rhs = -Rational(offered) / lambda;
    prog.rows.push_back(std::move(r));
  }
  prog.t = cp.z;
  // Bounds of the reals, in the order they are defined (each duration, then each stage
  // time, then z, from the rows that bound it from below): the largest value each can take
  // at its least over the box.
  std::vector<Rational> ub(prog.n);
  std::vector<char> real(prog.n, 0);
  for (const auto j : prog.time_vars) real[j] = 1;
  for (std::size_t j = 0; j < prog.n; ++j) {
    if (real[j] == 0) ub[j] = Rational(prog.upper[j]);
  }
  for (const auto v : prog.time_vars) {
    Rational most = 0;
    for (const auto& r : prog.rows) {
      const auto it = r.coef.find(v);
      if (it == r.coef.end() || it->second >= 0) continue;
      Rational rest = -r.rhs;
      for (const auto& [j, x] : r.coef) {
        if (j != v && x > 0) rest += x * ub[j];
      }
      most = std::max(most, Rational(rest / -it->second));
    }
    ub[v] = most;
  }
  cp.upper = 0;
  for (const auto v : prog.time_vars) cp.upper = std::max(cp.upper, ub[v]);
  cp.iteration_max = 0;
  for (const auto t : cp.stage_t) cp.iteration_max += layers * ub[t];
  cp.iteration_max += 1;
  const Integer box = floor_of(cp.upper) + 1;
  for (const auto v : prog.time_vars) prog.upper[v] = box;
  return cp;
}

// The plan an integer point of the capacity program stands for (each unit is one adapter),
// or nothing when it is not one.
std::optional<std::pair<ServingPlan, std::vector<std::int64_t>>> capacity_point_plan(const ServingWorkload& w,
                                                                                      const CapacityProgram& cp,
                                                                                      const std::vector<Integer>& x) {
  std::vector<std::int64_t> served(w.adapters.size(), 0);
  for (std::size_t i = 0; i < w.adapters.size(); ++i) {
    if (cp.vars.n[i] == kNoVar) continue;
    served[i] = x[cp.vars.n[i]].get_si();
    if (served[i] < 0 || served[i] > w.adapters[i].tokens) return std::nullopt;
  }
  ServingPlan plan;
  plan.tokens.assign(kServingStageCount, std::vector<std::array<std::int64_t, 3>>(w.adapters.size(), {0, 0, 0}));
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    for (std::size_t i = 0; i < w.adapters.size(); ++i) plan.tokens[s][i] = {served[i], 0, 0};
  }
  for (const Unit& u : cp.prog.units) {  // each unit is one adapter in one stage
    const std::size_t i = u.members.front();
    const std::int64_t p = x[u.p].get_si(), c = x[u.c].get_si(), g = served[i] - p - c;
    if (p < 0 || c < 0 || g < 0 || (!u.device && p + c > 0)) return std::nullopt;
    if (cp.restrict == Restriction::kGpuOnly && p + c > 0) return std::nullopt;
    if (cp.restrict == Restriction::kDeviceAll && u.device && c != served[i]) return std::nullopt;
    plan.tokens[static_cast<std::size_t>(u.stage)][i] = {g, p, c};
  }
  return std::make_pair(std::move(plan), std::move(served));
}

struct CapacityOutcome {
  bool found{false};
  ServingPlan plan;
  std::vector<std::int64_t> served;
  ServingEvaluation eval;
  long nodes{0}, pivots{0}, exact_lps{0}, iterations{0};
};

// A served plan's exact evaluation when it meets every limit; else nothing.
std::optional<ServingEvaluation> capacity_eval(const ServingWorkload& w, const ServingHardware& hw,
                                               const CapacityLimits& lim, const ServingPlan& plan,
                                               const std::vector<std::int64_t>& served, bool all_in_hbm) {
  const ServingWorkload ws = served_workload(w, served);
  if (ws.tokens() == 0) return std::nullopt;
  if (lim.max_tokens && Rational(ws.tokens()) > *lim.max_tokens) return std::nullopt;
  if (!check_serving_plan(ws, plan)) return std::nullopt;
  ServingEvaluation ev = evaluate_serving(ws, hw, plan, all_in_hbm);
  if (!ev.feasible) return std::nullopt;
  if (lim.max_latency_s && ev.iteration_s > *lim.max_latency_s) return std::nullopt;
  return ev;
}

// Dinkelbach's method over the joint program: from the best start's throughput lambda
// (or a lambda below every plan's), search for a plan with (sum N) - lambda T_iter > 0,
// i.e. throughput above lambda; take its throughput; until the search proves none exists.
// Every step's plan is evaluated exactly; the last search's closed tree is the certificate.
Result<CapacityOutcome> capacity_search(const ServingWorkload& w, const ServingHardware& hw,
                                        const CapacityLimits& lim, Restriction restrict, bool all_in_hbm,
                                        const std::vector<std::pair<ServingPlan, std::vector<std::int64_t>>>& starts) {
  CapacityOutcome out;
  Rational lambda = 0;
  for (const auto& [plan, served] : starts) {
    if (auto ev = capacity_eval(w, hw, lim, plan, served, all_in_hbm); ev && ev->tokens_per_s > lambda) {
      lambda = ev->tokens_per_s;
      out = {true, plan, served, *ev, 0, 0, 0, 0};
    }
  }
  if (!out.found) {  // one token of one adapter, on the path the restriction allows
    for (std::size_t i = 0; i < w.adapters.size(); ++i) {
      if (w.adapters[i].tokens == 0) continue;
      std::vector<std::int64_t> one(w.adapters.size(), 0);
      one[i] = 1;
      const ServingWorkload w1 = served_workload(w, one);
      const ServingPlan plan = uniform_plan(w1, restrict == Restriction::kDeviceAll ? ServingPath::kDevice
                                                                                    : ServingPath::kGpu);
      if (auto ev = capacity_eval(w, hw, lim, plan, one, all_in_hbm); ev && ev->tokens_per_s > lambda) {
        lambda = ev->tokens_per_s;
        out = {true, plan, one, *ev, 0, 0, 0, 0};
      }
    }
  }
  if (!out.found) {  // below every plan's throughput: one token over the longest iteration
    lambda = 1 / capacity_program(w, hw, lim, restrict, Rational(1)).iteration_max;
  }
  for (;;) {
    if (++out.iterations > 200) {
      return Error{ErrorCode::kInternal, "", "", "serving: capacity mode's Dinkelbach iterations did not end"};
    }
    const CapacityProgram cp = capacity_program(w, hw, lim, restrict, lambda);
    const Rational incumbent = Rational(cp.offered) / lambda;
    const detail::StagePointValue value = [&](const std::vector<Integer>& x, const Rational*) -> std::optional<Rational> {
      auto pp = capacity_point_plan(w, cp, x);
      if (!pp) return std::nullopt;
      auto ev = capacity_eval(w, hw, lim, pp->first, pp->second, all_in_hbm);
      if (!ev) return std::nullopt;
      Integer n = 0;
      for (const auto v : pp->second) n += v;
      return ev->iteration_s - Rational(n) / lambda + incumbent;
    };
    // Without reduced-cost fixing, which made 8 adapters' searches far longer here
    // (docs/model.md §9.7, docs/PERFORMANCE.md): fixed_bounds stays 0 in capacity mode.
    const auto res = detail::search_stage(to_mip(cp.prog), cp.upper, incumbent, value, Rational(0), 0, false);
    out.nodes += res.nodes;
    out.pivots += res.pivots + res.exact_pivots;
    out.exact_lps += res.exact_lps;
    if (!res.complete) {
      return Error{ErrorCode::kInternal, "", "", "serving: capacity mode's search stopped before its tree closed"};
    }
    if (!res.found) return out;
    auto pp = capacity_point_plan(w, cp, res.x);
    std::optional<ServingEvaluation> ev;
    if (pp) ev = capacity_eval(w, hw, lim, pp->first, pp->second, all_in_hbm);
    if (!ev || !(ev->tokens_per_s > lambda)) {
      return Error{ErrorCode::kInternal, "", "",
                   "serving: capacity mode's search returned a plan no better than the last one"};
    }
    lambda = ev->tokens_per_s;
    out.found = true;
    out.plan = std::move(pp->first);
    out.served = std::move(pp->second);
    out.eval = std::move(*ev);
  }
}

}  // namespace

namespace detail {
// floor(G/n), floor(P/n), floor(C/n) adapters on one path, the rest (0, n or 2n tokens) on
// one adapter, or on two as (rg, n - rg, 0) and (0, rg + rp - n, rc).
std::vector<std::array<std::int64_t, 3>> class_plan(std::int64_t k, std::int64_t n, std::int64_t p, std::int64_t c) {
  const std::int64_t tot[3] = {k * n - p - c, p, c};
  std::vector<std::array<std::int64_t, 3>> out;
  std::int64_t rest[3];
  for (std::size_t x = 0; x < 3; ++x) {
    for (std::int64_t q = 0; q < tot[x] / n; ++q) {
      std::array<std::int64_t, 3> one{0, 0, 0};
      one[x] = n;
      out.push_back(one);
    }
    rest[x] = tot[x] % n;
  }
  const std::int64_t left = rest[0] + rest[1] + rest[2];
  if (left == n) {
    out.push_back({rest[0], rest[1], rest[2]});
  } else if (left == 2 * n) {
    out.push_back({rest[0], n - rest[0], 0});
    out.push_back({0, rest[0] + rest[1] - n, rest[2]});
  }
  return out;
}

ServingStageMip serving_stage_mip(const ServingWorkload& w, const ServingHardware& hw, ServingStage s,
                                  const Rational& upper_s) {
  return to_mip(build_program(w, hw, s, upper_s));
}
}  // namespace detail

std::optional<Rational> serving_gain_percent(const ServingResult& r, std::string_view baseline) {
  if (!r.feasible) return std::nullopt;
  for (const auto& b : r.baselines) {
    if (b.name == baseline && b.eval.feasible) return (r.eval.tokens_per_s / b.eval.tokens_per_s - 1) * 100;
  }
  return std::nullopt;
}

Status check_serving_options(const ServingWorkload& w, const ServingSolveOptions& options) {
  if (w.mode == ServingMode::kCapacity &&
      (options.relative_gap != 0 || options.node_limit != 0 || options.exact_lps_only)) {
    return Error{ErrorCode::kBadOption,
                 options.exact_lps_only ? "--exact-lps" : (options.relative_gap != 0 ? "--gap" : "--node-limit"), "",
                 "serving.mode = capacity: --gap, --node-limit and --exact-lps are for batch mode; capacity mode's "
                 "search always closes its tree"};
  }
  return {};
}

namespace {

// The simulator plays every stage of the result's plan (of the served batch `ws`): it must
// end each where the model does (docs/model.md §9.4); else an internal error.
Status check_simulated(const ServingWorkload& ws, const ServingHardware& hw, ServingResult& out) {
  out.simulated_equal = true;
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    const auto events = simulate_serving_stage(ws, hw, out.plan, static_cast<ServingStage>(s));
    Rational end = 0;
    for (const auto& ev : events) end = std::max(end, ev.done_s);
    if (end != out.eval.stages[s].seconds) out.simulated_equal = false;
  }
  if (!out.simulated_equal) {
    return Error{ErrorCode::kInternal, "", "", "serving: the simulator's stage times differ from the model's"};
  }
  return {};
}

// Capacity mode (docs/model.md §9.12): the baselines as restricted capacity searches, then
// the optimum from the better of gpu_fetch's and device_all's plans.
Result<ServingResult> solve_serving_capacity(const ServingWorkload& w, const Params& params,
                                             const ServingSolveOptions& options) {
  if (auto st = check_serving_options(w, options); !st) return st.error();
  auto hw_r = serving_hardware(params, true);
  if (!hw_r) return hw_r.error();
  const ServingHardware& hw = hw_r.value();
  std::size_t with_tokens = 0;
  for (const auto& a : w.adapters) with_tokens += a.tokens > 0 ? 1 : 0;
  if (with_tokens > kMaxCapacityAdapters) {
    return Error{ErrorCode::kUnsupported, "adapters", std::to_string(with_tokens),
                 fmt::format("serving.mode = capacity: {} adapters offer tokens; capacity mode plans each adapter "
                             "on its own (one program over every stage) and handles at most {} so far (batch "
                             "mode has no such limit; docs/model.md section 9.12)",
                             with_tokens, kMaxCapacityAdapters)};
  }
  const auto limits = [&](const ServingWorkload& wl, bool all_in_hbm) {
    CapacityLimits lim;
    std::vector<std::int64_t> none(wl.adapters.size(), 0), one = none;
    if (!one.empty()) one[0] = 1;
    const ServingWorkload w0 = served_workload(wl, none), w1 = served_workload(wl, one);
    const auto m0 = evaluate_serving(w0, hw, uniform_plan(w0, ServingPath::kGpu), all_in_hbm);
    const auto m1 = evaluate_serving(w1, hw, uniform_plan(w1, ServingPath::kGpu), all_in_hbm);
    lim.memory0 = m0.memory.gpu_bytes;
    lim.memory1 = m1.memory.gpu_bytes - m0.memory.gpu_bytes;  // the row is affine in T (§9.5)
    lim.memory_capacity = hw.gpu_memory;
    if (params.has(ParamId::kLoraMaxBatchLatencyS)) lim.max_latency_s = params.get(ParamId::kLoraMaxBatchLatencyS);
    if (params.has(ParamId::kLoraMaxBatchTokens)) lim.max_tokens = params.get(ParamId::kLoraMaxBatchTokens);
    return std::make_pair(lim, m0);
  };
  ServingResult out;
  out.hardware = hw;
  out.mode = ServingMode::kCapacity;
  out.served.assign(w.adapters.size(), 0);
  out.plan = uniform_plan(served_workload(w, out.served), ServingPath::kGpu);
  const std::string no_plan = fmt::format(
      "no plan serves a token within the limits (the GPU memory{}{})",
      params.has(ParamId::kLoraMaxBatchLatencyS)
          ? fmt::format(", lora.max_batch_latency_s = {} s", format_exact(params.get(ParamId::kLoraMaxBatchLatencyS)))
          : std::string(),
      params.has(ParamId::kLoraMaxBatchTokens)
          ? fmt::format(", lora.max_batch_tokens = {}", format_exact(params.get(ParamId::kLoraMaxBatchTokens)))
          : std::string());
  // One capacity search; its outcome as a baseline (name, plan, evaluation, served).
  const auto run = [&](const ServingWorkload& wl, bool all_in_hbm, Restriction restrict, const std::string& name,
                       const std::vector<std::pair<ServingPlan, std::vector<std::int64_t>>>& starts)
      -> Result<ServingBaseline> {
    ServingBaseline b;
    b.name = name;
    b.served = out.served;
    b.plan = out.plan;
    const auto [lim, at_zero] = limits(wl, all_in_hbm);
    if (!at_zero.feasible) {  // not even an empty batch fits: the weights alone overflow a memory
      b.eval = at_zero;
      return b;
    }
    auto r = capacity_search(wl, hw, lim, restrict, all_in_hbm, starts);
    if (!r) return r.error();
    out.nodes += r->nodes;
    out.pivots += r->pivots;
    out.exact_lps += r->exact_lps;
    out.dinkelbach_iterations += r->iterations;
    if (!r->found) {
      b.eval.feasible = false;
      b.eval.reason = no_plan;
      return b;
    }
    b.plan = std::move(r->plan);
    b.served = std::move(r->served);
    b.eval = std::move(r->eval);  // of the workload searched (gpu_hbm: every adapter's weights in HBM)
    return b;
  };
  const auto full = [&](const ServingWorkload& wl, ServingPath path) {
    std::vector<std::int64_t> all;
    for (const auto& a : wl.adapters) all.push_back(a.tokens);
    return std::vector<std::pair<ServingPlan, std::vector<std::int64_t>>>{{uniform_plan(wl, path), all}};
  };
  ServingWorkload in_hbm = w;
  for (auto& a : in_hbm.adapters) a.weights = Residency::kGpu;
  auto hbm = run(in_hbm, false, Restriction::kGpuOnly, "gpu_hbm", full(in_hbm, ServingPath::kGpu));
  if (!hbm) return hbm.error();
  if (hbm->eval.feasible) {  // reported as the what-if of the given workload, all in HBM (§9.6)
    hbm->eval = evaluate_serving(served_workload(w, hbm->served), hw, hbm->plan, true);
  }
  auto fetch = run(w, false, Restriction::kGpuOnly, "gpu_fetch", full(w, ServingPath::kGpu));
  if (!fetch) return fetch.error();
  // device_all on a device without compute is infeasible as soon as it would send the
  // device a token (§9.6); else (every offering adapter's weights on the GPU) it is the
  // restricted search like the others.
  const ServingPlan all_device = uniform_plan(w, ServingPath::kDevice);
  Result<ServingBaseline> device = ServingBaseline{};
  if (auto why = detail::device_use_without_compute(w, hw, all_device); why) {
    device->name = "device_all";
    device->plan = all_device;
    device->served = out.served;
    device->eval.feasible = false;
    device->eval.reason = *why;
  } else {
    device = run(w, false, Restriction::kDeviceAll, "device_all", full(w, ServingPath::kDevice));
    if (!device) return device.error();
  }
  std::vector<std::pair<ServingPlan, std::vector<std::int64_t>>> starts;
  for (const auto* b : {&fetch.value(), &device.value()}) {
    if (b->eval.feasible) starts.emplace_back(b->plan, b->served);
  }
  auto opt = run(w, false, Restriction::kNone, "optimum", starts);
  if (!opt) return opt.error();
  out.baselines = {std::move(*hbm), std::move(*fetch), std::move(*device)};
  out.classes = with_tokens;
  out.plan = opt->plan;
  out.served = opt->served;
  out.eval = opt->eval;
  out.feasible = opt->eval.feasible;
  out.reason = opt->eval.reason;
  if (!out.feasible) {
    out.lower_bound_s = 0;
    return out;
  }
  const ServingWorkload ws = served_workload(w, out.served);
  if (auto st = check_serving_plan(ws, out.plan); !st) {
    return Error{ErrorCode::kInternal, "", "", "serving: the capacity planner returned an invalid plan: " + st.error().message};
  }
  for (const auto& b : out.baselines) {
    if (b.eval.feasible && b.name != "gpu_hbm" && b.eval.tokens_per_s > out.eval.tokens_per_s) {
      return Error{ErrorCode::kInternal, "", "", "serving: capacity mode's optimum is below its baseline " + b.name};
    }
  }
  out.lower_bound_s = out.eval.iteration_s;
  if (auto st = check_simulated(ws, hw, out); !st) return st.error();
  return out;
}

}  // namespace

Result<ServingResult> solve_serving(const ServingWorkload& w, const Params& params,
                                    const ServingSolveOptions& options) {
  if (w.mode == ServingMode::kCapacity) return solve_serving_capacity(w, params, options);
  auto hw_r = serving_hardware(params);
  if (!hw_r) return hw_r.error();
  const ServingHardware& hw = hw_r.value();
  ServingResult out;
  out.hardware = hw;
  for (const auto& a : w.adapters) out.served.push_back(a.tokens);
  out.baselines.push_back({"gpu_hbm", uniform_plan(w, ServingPath::kGpu), {}, out.served});
  out.baselines.push_back({"gpu_fetch", uniform_plan(w, ServingPath::kGpu), {}, out.served});
  out.baselines.push_back({"device_all", uniform_plan(w, ServingPath::kDevice), {}, out.served});
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
  // Each stage alone (they share nothing in batch mode, §9.7), into its own outcome: its
  // plan, its search's counts and a lower bound on its time [s] (the optimum's own time
  // unless a gap or a node limit left part of its tree open).
  struct StageOutcome {
    std::optional<std::vector<std::array<std::int64_t, 3>>> tokens;  // its plan's row, when planned
    long nodes{0}, pivots{0}, exact_lps{0}, fixed_bounds{0};
    std::size_t classes{0};
    std::optional<Rational> bound;
    std::optional<Error> error;
    std::exception_ptr thrown;  // (out of memory, from a worker thread)
  };
  std::array<StageOutcome, kServingStageCount> outcomes;
  const auto solve_stage = [&](std::size_t s, StageOutcome& so) {
    const auto stage = static_cast<ServingStage>(s);
    if (stage == ServingStage::kAttention) return;
    // Only row s matters here; every plan evaluated below is written into it (its classes'
    // adapters' rows; the others keep theirs), so none is copied.
    ServingPlan plan = uniform_plan(w, ServingPath::kGpu);
    const Rational& upper = fetch.stages[s].seconds;
    StageProgram prog = build_program(w, hw, stage, upper);
    if (prog.units.empty()) return;  // no adapter with tokens has a module here
    if (prog.units.size() > kMaxDecidingClasses) {
      so.error = Error{ErrorCode::kUnsupported, "adapters", std::to_string(prog.units.size()),
                   fmt::format("serving: stage {} has {} classes of adapters with tokens (adapters alike in "
                               "their matrices' shapes here, residency and tokens form one); the exact planner "
                               "handles at most {} per stage so far (docs/model.md section 9.7)",
                               to_string(stage), prog.units.size(), kMaxDecidingClasses)};
      return;
    }
    // The incumbent: the best of the two uniform plans (GPU only, every device-capable token
    // on the device) and of a local search started from each, evaluated exactly.
    std::vector<std::pair<std::int64_t, std::int64_t>> all_gpu, all_device;
    for (const Unit& u : prog.units) {
      all_gpu.emplace_back(0, 0);
      all_device.emplace_back(0, u.device ? u.n.get_si() * u.k : 0);
    }
    const IncumbentSearch local(prog);
    // (Its restarts come later, from the search's first LP point: docs/model.md §9.7.)
    const auto proposal = local.polish(all_gpu);
    std::vector<std::pair<std::int64_t, std::int64_t>> incumbent_pc = all_gpu;
    Rational incumbent = upper;
    for (const auto* cand : {&std::as_const(all_device), &proposal}) {
      set_stage_plan(prog, *cand, plan.tokens[s]);
      const Rational t = detail::evaluate_stage(w, hw, plan, stage).seconds;
      if (t < incumbent) {
        incumbent = t;
        incumbent_pc = *cand;
      }
    }
    detail::ServingStageMip mip = to_mip(prog, true);
    so.classes = mip.classes;
    Rational claimed = incumbent;
    bool complete = true;
    if (options.exact_lps_only) {
      detail::BranchAndBound bnb(std::move(mip.a), std::move(mip.h), mip.upper);
      std::vector<Integer> c(mip.upper.size(), Integer(0));
      c[mip.stage_time] = -1;
      // Only strictly better points than the incumbent are searched for.
      const auto res = bnb.maximize_mixed(c, mip.priority, Rational(-incumbent), options.relative_gap,
                                          options.node_limit);
      so.nodes = res.nodes;
      so.pivots = res.pivots;
      so.exact_lps = res.nodes;
      so.bound = -res.bound;
      complete = res.complete;
      if (res.feasible) {
        for (std::size_t u = 0; u < prog.units.size(); ++u) {
          incumbent_pc[u] = {res.t[prog.units[u].p].get_num().get_si(), res.t[prog.units[u].c].get_num().get_si()};
        }
        claimed = -res.value;
      }
    } else {
      // The plan an integer point stands for: its classes' totals with the fewest readers.
      const detail::StagePointValue value = [&](const std::vector<Integer>& x,
                                                const Rational* beat) -> std::optional<Rational> {
        std::vector<std::pair<std::int64_t, std::int64_t>> pc;
        for (const Unit& u : prog.units) {
          const std::int64_t p = x[u.p].get_si(), c = x[u.c].get_si(), total = u.n.get_si() * u.k;
          if (p < 0 || c < 0 || p + c > total || (!u.device && p + c > 0)) return std::nullopt;
          pc.emplace_back(p, c);
        }
        // A plan whose time in double precision is clearly not below `beat` is not evaluated
        // exactly: the search would not use it.
        if (beat != nullptr && local.time_of(pc) > beat->get_d() * (1 + 1e-7)) return std::nullopt;
        set_stage_plan(prog, pc, plan.tokens[s]);
        return detail::evaluate_stage(w, hw, plan, stage).seconds;
      };
      // The local search again from the LP's points (rounded) during the search.
      const detail::StageProposal propose = [&](const std::vector<double>& x,
                                                bool thorough) -> std::optional<std::vector<Integer>> {
        std::vector<std::pair<std::int64_t, std::int64_t>> start;
        for (const Unit& u : prog.units) {
          const std::int64_t total = u.n.get_si() * u.k;
          auto p = std::clamp<std::int64_t>(std::llround(x[u.p]), 0, total);
          auto c = std::clamp<std::int64_t>(std::llround(x[u.c]), 0, total - p);
          if (!u.device) p = c = 0;
          start.emplace_back(p, c);
        }
        const auto best = thorough ? local.run({start}) : local.polish(start);
        std::vector<Integer> point(x.size());
        for (std::size_t q = 0; q < prog.units.size(); ++q) {
          point[prog.units[q].p] = best[q].first;
          point[prog.units[q].c] = best[q].second;
        }
        return point;
      };
      // The compact LP's search first, within a budget of nodes; a stage it leaves open is
      // searched again over the program's own LP, from the best plan it found (§9.7).
      // If that one too leaves it open after its own budget, the compact LP's search runs
      // again, from the best plan, without a budget.
      const long budget = std::max(1L, options.compact_node_budget);
      const long own_budget = std::max(1L, options.own_lp_node_budget);
      // A later search's node limit: its cap (0: none) within what the caller's limit leaves.
      const auto limit = [&](long used, long cap) {
        if (options.node_limit <= 0) return cap;
        const long left = std::max(options.node_limit - used, 1L);
        return cap > 0 ? std::min(cap, left) : left;
      };
      auto res = detail::search_stage(mip, upper, incumbent, value, options.relative_gap,
                                      options.node_limit > 0 && options.node_limit <= budget ? options.node_limit : budget,
                                      true, &propose);
      // A search after another: its counts added to it, the better plan kept, and the better
      // of their lower bounds (each bounds the whole stage).
      const auto chain = [](detail::StageSearchResult& first, detail::StageSearchResult next) {
        if (first.bound > next.bound) next.bound = first.bound;
        next.nodes += first.nodes;
        next.pivots += first.pivots;
        next.exact_lps += first.exact_lps;
        next.exact_pivots += first.exact_pivots;
        next.fixed_bounds += first.fixed_bounds;
        if (!next.found && first.found) {
          next.found = true;
          next.x = first.x;
        }
        first = std::move(next);
      };
      const auto more = [&](long used) { return options.node_limit <= 0 || used < options.node_limit; };
      if (res.node_limit_hit && more(res.nodes)) {
        const auto compact = std::exchange(mip.compact, std::nullopt);  // the same rows over their own LP
        chain(res, detail::search_stage(mip, upper, res.value, value, options.relative_gap, limit(res.nodes, own_budget),
                                        true));
        mip.compact = compact;
        if (res.node_limit_hit && more(res.nodes)) {
          chain(res, detail::search_stage(mip, upper, res.value, value, options.relative_gap, limit(res.nodes, 0), true,
                                          &propose));
        }
      }
      so.nodes = res.nodes;
      so.pivots = res.pivots + res.exact_pivots;
      so.exact_lps = res.exact_lps;
      so.fixed_bounds = res.fixed_bounds;
      so.bound = res.bound;
      complete = res.complete;
      if (res.found) {
        for (std::size_t u = 0; u < prog.units.size(); ++u) {
          incumbent_pc[u] = {res.x[prog.units[u].p].get_si(), res.x[prog.units[u].c].get_si()};
        }
        claimed = res.value;
      }
    }
    set_stage_plan(prog, incumbent_pc, plan.tokens[s]);
    // The formulas at the plan give the program's optimum exactly (§9.7). When a gap or
    // the node limit stopped the search, the point found may have more readers than its
    // totals need: the plan (the fewest readers) is then at most as long as the program
    // says.
    const Rational check = detail::evaluate_stage(w, hw, plan, stage).seconds;
    if (complete ? check != claimed : check > claimed) {
      so.error = Error{ErrorCode::kInternal, "", "",
                       fmt::format("serving: stage {}: the plan's time {} s differs from the program's optimum {} s",
                                   to_string(stage), format_exact(check), format_exact(claimed))};
      return;
    }
    so.tokens = std::move(plan.tokens[s]);
  };
  // The stages one after another, or on up to `threads` threads at once: this thread and
  // the workers take the next stage until none is left.
  const unsigned threads = std::min<unsigned>(detail::threads_for(options.threads), kServingStageCount);
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t s = next++; s < kServingStageCount; s = next++) {
      try {
        solve_stage(s, outcomes[s]);
      } catch (...) {
        outcomes[s].thrown = std::current_exception();
      }
    }
  };
  detail::run_on_threads(threads, work);
  std::array<std::optional<Rational>, kServingStageCount> stage_bound;
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    StageOutcome& so = outcomes[s];
    if (so.thrown) std::rethrow_exception(so.thrown);
    if (so.error) return *so.error;
    if (so.tokens) out.plan.tokens[s] = std::move(*so.tokens);
    out.nodes += so.nodes;
    out.pivots += so.pivots;
    out.exact_lps += so.exact_lps;
    out.fixed_bounds += so.fixed_bounds;
    out.classes = std::max(out.classes, so.classes);
    stage_bound[s] = so.bound;
  }
  if (auto st = check_serving_plan(w, out.plan); !st) {
    return Error{ErrorCode::kInternal, "", "", "serving: the planner returned an invalid plan: " + st.error().message};
  }
  out.eval = evaluate_serving(w, hw, out.plan);
  out.feasible = out.eval.feasible;
  out.reason = out.eval.reason;
  Rational layer_bound = 0;
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    const Rational& t = out.eval.stages[s].seconds;
    if (stage_bound[s] && *stage_bound[s] > t) {  // a lower bound above a plan's time: unsound
      return Error{ErrorCode::kInternal, "", "",
                   fmt::format("serving: stage {}: the search's lower bound {} s exceeds the plan's time {} s",
                               to_string(static_cast<ServingStage>(s)), format_exact(*stage_bound[s]),
                               format_exact(t))};
    }
    if (stage_bound[s] && *stage_bound[s] < t) {
      out.proved_optimal = false;
      layer_bound += *stage_bound[s];
    } else {
      layer_bound += t;
    }
  }
  out.lower_bound_s = layer_bound * w.shape.layers;
  if (auto st = check_simulated(w, hw, out); !st) return st.error();
  return out;
}

}  // namespace lorasplit
