// From parameters to an explained optimum: solve, evaluate every row at the plan,
// GPU-only baseline, binding rows, and the sentences of the report.
#include <lorasplit/analysis.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace lorasplit {
namespace {

std::string seconds(const Rational& s) { return fmt::format("{:.4g} s", to_double(s)); }

// Largest b1 with b2 = b3 = 0 that every memory and limit row admits (nullopt: unbounded);
// `row`, when given, receives the name of the row that sets it.
std::optional<Integer> gpu_only_cap(const Model& m, std::string* row = nullptr) {
  std::optional<Integer> cap;
  for (const auto& c : m.constraints) {
    if (c.kind == RowKind::kSync || c.kind == RowKind::kCase) continue;
    const Affine g = c.lhs - c.rhs;  // g.coef[0]*b1 + g.constant <= 0
    if (g.coef[0] <= 0) {
      // A row that no b1 >= 0 meets (device memory holding fixed weights it cannot hold):
      // there is no GPU-only plan.
      if (g.constant > 0) {
        if (row != nullptr) *row = c.name;
        return Integer(-1);
      }
      continue;
    }
    const Integer q = floor_of(-g.constant / g.coef[0]);
    if (!cap || q < *cap) {
      cap = q;
      if (row != nullptr) *row = c.name;
    }
  }
  if (cap) *cap -= *cap % m.block_tokens;  // whole blocks only (cap >= 0 here or infeasible)
  return cap;
}

// Why no split exists, in the seed model's terms: stage 1 must hide the latency behind
// the GPU's X·A for b1 tokens, and b1 is capped by memory (and by the domain).
std::string diagnose_infeasible(const Params& p, const Formulation& f, const Model& m, Domain domain) {
  if (m.name != "seed") {
    // Pipeline: b2 = b3 = 0 needs no device time, so only the memory and limit rows can
    // stop one block of b1; the device paths need one block within the same rows.
    const auto cap = gpu_only_cap(m);
    if (cap && *cap >= m.block_tokens) return "no split satisfies all constraints";
    // Each path's one-block plan, in the case that uses that path alone: the rows it breaks.
    std::string detail;
    for (std::size_t j = 0; j < m.size(); ++j) {
      for (const auto& c : f.cases) {
        bool alone = c.support[j] != 0;
        for (std::size_t i = 0; i < c.size(); ++i) alone = alone && (i == j || c.support[i] != 1);
        if (!alone) continue;
        Point one(c.size(), Rational(0));
        one[j] = c.block_tokens;
        std::string broken;
        for (const auto& row : c.constraints) {
          if (row.kind == RowKind::kCase || row.kind == RowKind::kSync) continue;
          const Rational lhs = row.lhs.eval(one), rhs = row.rhs.eval(one);
          if (lhs <= rhs) continue;
          broken += fmt::format("{}{} ({:.4g} > {:.4g} {})", broken.empty() ? "" : ", ", row.name, to_double(lhs),
                                to_double(rhs), row.unit);
        }
        if (!broken.empty()) {
          detail += fmt::format("{}{} = {} breaks {}", detail.empty() ? "" : "; ", m.columns[j].name, c.block_tokens,
                                broken);
        }
        break;
      }
    }
    return fmt::format("not even one block of {} tokens fits the memory and limit rows on any path{}",
                       m.block_tokens, detail.empty() ? "" : " (" + detail + ")");
  }
  const Rational per_token = m.stages[0].gpu.coef[0];  // s of GPU stage 1 per b1 token
  Rational need_r = p.link_latency_s() / per_token;
  Integer need;
  mpz_cdiv_q(need.get_mpz_t(), need_r.get_num_mpz_t(), need_r.get_den_mpz_t());
  if (need < 1) need = 1;
  const Integer k = m.block_tokens;
  if (domain != Domain::kContinuous && need % k != 0) need += k - need % k;  // whole blocks
  std::string cap_row;
  const auto mem_cap = gpu_only_cap(m, &cap_row);
  std::optional<Integer> cap = mem_cap;
  std::string cap_why = fmt::format("the memory and batch-limit rows (here {}) allow", cap_row);
  if (domain == Domain::kBinary && (!cap || *cap > k)) {
    cap = k;
    cap_why = "the binary domain allows";
  }
  if (cap && need > *cap && p.link_latency_s() == 0) {
    return fmt::format(
        "stage 1 needs T_CXL_S1 <= T_GPU_S1 = 2*b1*d*r/FLOPS_GPU: with LATENCY = 0 nothing has to be hidden, but "
        "tokens on the device (b2 or b3 > 0) give T_CXL_S1 > 0, so every non-empty plan needs b1 >= {} (one "
        "block), and {} at most b1 <= {}",
        need.get_str(), cap_why, cap->get_str());
  }
  if (cap && need > *cap) {
    const Rational largest = per_token * *cap;
    return fmt::format(
        "stage 1 needs T_CXL_S1 <= T_GPU_S1; T_CXL_S1 includes LATENCY = {} even with b2 = b3 = 0 (and they only add "
        "to it), while T_GPU_S1 = 2*b1*d*r/FLOPS_GPU = {} per token, so b1 >= {} tokens are needed to hide the "
        "latency, but {} at most b1 <= {} (largest T_GPU_S1 = {})",
        seconds(p.link_latency_s()), seconds(per_token), need.get_str(), cap_why, cap->get_str(), seconds(largest));
  }
  if (mem_cap && *mem_cap < 1) {
    return "even one token on the GPU does not fit the GPU-memory rows (the adapter alone is too large)";
  }
  return "no split satisfies all constraints";
}

bool binds(const Constraint& c, const Point& b, std::int64_t block, Domain domain) {
  const Affine g = c.lhs - c.rhs;
  if (domain == Domain::kContinuous) return g.eval(b) == 0;
  for (std::size_t j = 0; j < b.size(); ++j) {
    if (g.coef[j] <= 0) continue;
    Point next = b;
    next[j] += block;
    if (g.eval(next) > 0) return true;
  }
  return false;
}

std::string explain_pipeline(const Analysis& a) {
  const Point& b = a.result.point;
  std::vector<std::string> parts;
  parts.push_back(fmt::format("The optimum lies in the linear case '{}' of the pipeline model.", a.model.case_name));
  const auto stage = [&](int s, const Rational& gpu, const Rational& cxl) {
    if (cxl > gpu) {
      parts.push_back(fmt::format("Stage {} is device-bound: the device takes {:.4g} s against the GPU's {:.4g} s, and "
                                  "the batch waits for it (relaxed synchronisation).",
                                  s, to_double(cxl), to_double(gpu)));
    } else if (cxl > 0) {
      parts.push_back(fmt::format("Stage {} is GPU-bound: the device's {:.4g} s fit within the GPU's {:.4g} s.", s,
                                  to_double(cxl), to_double(gpu)));
    }
  };
  for (std::size_t i = 0; i < a.stage_times.size(); ++i) {
    stage(static_cast<int>(i + 1), a.stage_times[i].gpu_s, a.stage_times[i].device_s);
  }
  if (b[1] > 0 && b[2] > 0) {
    parts.push_back("Both device paths are used: b2 loads the device in stage 1 only and the GPU in stage 2, b3 loads "
                    "the device in both stages, so mixing them balances the two stages.");
  }
  std::vector<std::string> mem;
  for (const auto& r : a.rows) {
    if ((r.kind == RowKind::kMemory || r.kind == RowKind::kLimit) && r.binding) mem.push_back(r.name);
  }
  if (!mem.empty()) {
    std::string names;
    for (const auto& n : mem) names += fmt::format("{}{}", names.empty() ? "" : ", ", n);
    parts.push_back(fmt::format("The batch is as large as {} allow{}.", names, mem.size() == 1 ? "s" : ""));
  }
  std::string out;
  for (const auto& s : parts) out += fmt::format("{}{}", out.empty() ? "" : " ", s);
  return out;
}

std::string explain(const Analysis& a) {
  if (a.model.name != "seed") return explain_pipeline(a);
  const Point& b = a.result.point;
  const auto num = [](const Rational& x) {
    return x.get_den() == 1 ? x.get_str() : fmt::format("{:.10g}", to_double(x));
  };
  const auto is_binding = [&](std::string_view name) {
    return std::find(a.binding.begin(), a.binding.end(), name) != a.binding.end();
  };
  std::vector<std::string> parts;
  const Rational& gpu_tok = a.model.stages[0].gpu.coef[0];
  const Rational& cxl_tok = a.model.stages[0].device.coef[2];
  if (b[2] > 0) {
    parts.push_back(fmt::format(
        "b3 = {} tokens run both stages on the CXL device: each costs the device {} of stage-1 time (X over the link "
        "plus X·A) against {} per b1 token on the GPU, so after the {} latency the device keeps up with about {:.4g} "
        "tokens per GPU token{}.",
        num(b[2]), seconds(cxl_tok), seconds(gpu_tok), seconds(a.params.link_latency_s()),
        to_double(gpu_tok / cxl_tok), is_binding("sync_s1") ? " (sync_s1 binds)" : ""));
  } else {
    parts.push_back(fmt::format(
        "No token runs on the CXL device: its stage-1 time per token ({}) plus the {} latency cannot be hidden behind "
        "the GPU's stage 1 for the b1 that fits.",
        seconds(cxl_tok), seconds(a.params.link_latency_s())));
  }
  const bool b2_fixed = std::any_of(a.result.certificate.presolve.begin(), a.result.certificate.presolve.end(),
                                    [](const PresolveReduction& r) {
                                      return r.kind == PresolveReduction::Kind::kDominatedColumn && r.column == 1;
                                    });
  if (b[1] == 0 && b2_fixed) {
    parts.push_back(
        "b2 = 0: in this model a b2 token costs the device the same stage-1 time as a b3 token plus its Y transfer, "
        "and adds GPU stage-2 time, so moving it to b3 never lowers throughput (presolve proves it).");
  }
  std::vector<std::string> mem;
  for (const auto& r : a.rows) {
    if (r.kind != RowKind::kSync && r.binding) mem.push_back(r.name);
  }
  if (!mem.empty()) {
    std::string names;
    for (const auto& n : mem) names += fmt::format("{}{}", names.empty() ? "" : ", ", n);
    parts.push_back(fmt::format(
        "b1 = {} is as large as the memory and batch limits allow ({} binds): a larger batch amortises the latency "
        "over more tokens, so the optimum sits at the limit.",
        num(b[0]), names));
  }
  const Plan& plan = a.result.plan;
  if (a.options.domain == Domain::kInteger && mem.empty() && plan.b[2] > 0 && a.gpu_only_b1 &&
      plan.b[0] < *a.gpu_only_b1) {
    parts.push_back(fmt::format(
        "b1 = {} stops {} tokens short of its limit (b1 <= {} by the memory and batch-limit rows): throughput grows "
        "with b3/b1, and b3 is a whole number of blocks, at most floor((T_GPU_S1 - LATENCY)/{}), which loses less to rounding at this b1 than at "
        "any larger one.",
        plan.b[0], *a.gpu_only_b1 - plan.b[0], *a.gpu_only_b1, seconds(cxl_tok)));
  }
  std::string out;
  for (const auto& s : parts) out += fmt::format("{}{}", out.empty() ? "" : " ", s);
  return out;
}

}  // namespace

namespace {

std::optional<Plan> gpu_only_plan(const Model& m, Domain domain) {
  const auto cap = gpu_only_cap(m);
  if (!cap || *cap < 1 || !cap->fits_slong_p()) return std::nullopt;
  Plan gpu;
  gpu.b.assign(m.size(), 0);
  gpu.b[0] = domain == Domain::kBinary ? m.block_tokens : cap->get_si();
  return gpu;
}

std::vector<Baseline> baselines(const Analysis& a) {
  std::vector<Baseline> out;
  const auto gain = [&a](const Rational& t) -> std::optional<Rational> {
    if (!a.gpu_only_tokens_per_s) return std::nullopt;
    return Rational((t / *a.gpu_only_tokens_per_s - 1) * 100);
  };
  {
    Baseline b{"gpu_only", "b2 = b3 = 0, the device idle (no sync rows)", SolveStatus::kInfeasible, {}, 0, {}};
    if (a.gpu_only_tokens_per_s) {
      b.status = SolveStatus::kOptimal;
      b.plan.b.assign(a.model.size(), 0);
      b.plan.b[0] = *a.gpu_only_b1;
      b.throughput_tokens_per_s = *a.gpu_only_tokens_per_s;
      b.gain_percent = 0;
    }
    out.push_back(std::move(b));
  }
  struct Restricted {
    const char* name;
    const char* description;
    std::vector<bool> zero;
  };
  for (const Restricted& r : {Restricted{"cxl_only", "b1 = b2 = 0: every token on the device", {true, true, false}},
                              Restricted{"no_b2", "best split with b2 = 0 (paths 1 and 3)", {false, true, false}},
                              Restricted{"no_b3", "best split with b3 = 0 (paths 1 and 2)", {false, false, true}}}) {
    SolveOptions o = a.options;
    o.force_zero = r.zero;
    o.relaxation_bound = false;
    o.explain = false;  // only the plan is shown: the seed model takes the fast path (§3.10)
    Baseline b{r.name, r.description, SolveStatus::kInfeasible, {}, 0, {}};
    auto res = a.params.model_name() == ModelName::kSeed ? solve(a.params, o) : solve(a.formulation, o);
    if (res.ok() && res->status == SolveStatus::kOptimal) {
      b.status = SolveStatus::kOptimal;
      b.plan = res->plan;
      b.throughput_tokens_per_s = res->throughput_tokens_per_s;
      b.gain_percent = gain(b.throughput_tokens_per_s);
    }
    out.push_back(std::move(b));
  }
  return out;
}

// A value 1 % away from `v`, whole numbers rounded away from v (at least 1 away).
Rational nudge(const ParamSpec& s, const Rational& v, int sign) {
  Rational out = v * Rational(100 + sign, 100);
  if (!s.integer) return out;
  Rational r(floor_of(out));
  if (out - r >= Rational(1, 2)) r += 1;  // nearest
  if (r == v) r += sign;
  return r;
}

std::vector<Sensitivity> sensitivity(const Analysis& a) {
  std::vector<Sensitivity> out;
  for (const auto& s : param_specs()) {
    if (!a.params.has(s.id) || s.dimension == Dimension::kChoice) continue;
    if (s.pipeline_only && a.params.model_name() == ModelName::kSeed) continue;
    if (s.serving_only) continue;
    Sensitivity row;
    row.key = std::string(s.key);
    for (const int sign : {-1, +1}) {
      const Rational v = nudge(s, a.params.get(s.id), sign);
      (sign < 0 ? row.minus_value : row.plus_value) = v;
      auto& thr = sign < 0 ? row.minus_tokens_per_s : row.plus_tokens_per_s;
      auto& note = sign < 0 ? row.minus_note : row.plus_note;
      Params p = a.params;
      p.set(s.id, v);
      if (auto st = check_value(s, v, format_exact(v)); !st) {
        // The nudge leaves the supported range: "at bound" when the value sits on it.
        const std::string_view bound = sign < 0 ? s.min_text : s.max_text;
        const auto b = parse_quantity(bound, s.dimension, s.key);
        const bool at = b.ok() && b.value() == a.params.get(s.id);
        note = fmt::format("{} ({} {})", at ? "at bound" : "out of range", sign < 0 ? "min" : "max", bound);
        continue;
      }
      if (auto st = validate(p); !st) {
        note = "invalid: " + st.error().message;
        continue;
      }
      SolveOptions o = a.options;
      o.relaxation_bound = false;
      o.explain = false;  // only the throughput is shown: the seed model takes the fast path (§3.10)
      auto res = solve(p, o);
      if (!res.ok()) {
        note = res.error().message;
      } else if (res->status != SolveStatus::kOptimal) {
        note = "infeasible";
      } else {
        thr = res->throughput_tokens_per_s;
      }
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

std::optional<Rational> gpu_only_tokens_per_s(const Model& model, Domain domain) {
  const auto plan = gpu_only_plan(model, domain);
  if (!plan) return std::nullopt;
  return throughput_tokens_per_s(model, *plan);
}

namespace {
// The case that describes GPU-only plans (b2 = b3 = 0): the seed model itself, or the
// pipeline's case with support (1, 0, 0).
const Model& gpu_only_case(const Formulation& f) {
  for (const auto& m : f.cases) {
    bool gpu_only = m.support[0] != 0;
    for (std::size_t j = 1; j < m.size(); ++j) gpu_only = gpu_only && m.support[j] != 1;
    if (gpu_only) return m;
  }
  return f.cases.front();
}
}  // namespace

Result<Analysis> analyze(const Params& params, const SolveOptions& options, const AnalyzeOptions& what) {
  if (auto st = validate(params); !st) return st.error();
  Analysis a;
  a.params = params;
  a.options = options;
  a.formulation = build_model(params);
  auto solved = solve(a.formulation, options);
  if (!solved) return solved.error();
  a.result = std::move(solved.value());
  // The case that holds the optimum (the solver has re-checked the plan against it).
  const Model* holder = &a.formulation.cases.front();
  if (a.result.status == SolveStatus::kOptimal && a.formulation.cases.size() > 1) {
    holder = options.domain == Domain::kContinuous ? case_of(a.formulation, a.result.point)
                                                   : case_of(a.formulation, a.result.plan);
    if (holder == nullptr) return Error{ErrorCode::kInternal, "", "", "internal error: no case holds the optimum"};
  }
  a.model = *holder;

  {
    const Model& gm = gpu_only_case(a.formulation);
    if (const auto gpu = gpu_only_plan(gm, options.domain)) {
      a.gpu_only_b1 = gpu->b[0];
      a.gpu_only_tokens_per_s = throughput_tokens_per_s(gm, *gpu);
    }
  }
  if (what.baselines) a.baselines = baselines(a);
  if (what.sensitivity && a.result.status == SolveStatus::kOptimal) a.sensitivity = sensitivity(a);

  if (a.result.status != SolveStatus::kOptimal) {
    a.infeasibility_reason = diagnose_infeasible(params, a.formulation, a.model, options.domain);
    return a;
  }
  const Point& b = a.result.point;
  for (const auto& st : a.model.stages) a.stage_times.push_back({st.name, st.gpu.eval(b), st.device.eval(b)});
  a.batch_time_s = a.model.batch_time.eval(b);
  if (options.domain == Domain::kContinuous) {
    auto integer = solve(a.formulation, SolveOptions{Domain::kInteger, {}});
    if (!integer) return integer.error();
    if (integer->status == SolveStatus::kOptimal) a.integer_tokens_per_s = integer->throughput_tokens_per_s;
  }
  for (const auto& c : a.model.constraints) {
    if (c.kind == RowKind::kCase) continue;  // which term is largest: the solver's bookkeeping, not a limit
    RowReport r{c.name, c.kind, c.formula, c.description, c.unit, c.lhs.eval(b), c.rhs.eval(b), 0, false};
    r.slack = r.rhs - r.lhs;
    r.binding = binds(c, b, a.model.block_tokens, options.domain);
    if (r.binding) a.binding.push_back(c.name);
    a.rows.push_back(std::move(r));
  }
  if (a.gpu_only_tokens_per_s) {
    a.gain_percent = (a.result.throughput_tokens_per_s / *a.gpu_only_tokens_per_s - 1) * 100;
  }
  a.explanation = explain(a);
  return a;
}

}  // namespace lorasplit
