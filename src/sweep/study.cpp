#include <lorasplit/hardware.hpp>
#include <lorasplit/study.hpp>

#include "params/checks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>

#include "sweep/rounding.hpp"

namespace lorasplit {
namespace {

// The shortest decimal (12 to 40 significant digits) strictly between lo and hi near x.
Rational short_between(const Rational& x, const Rational& lo, const Rational& hi) {
  for (int digits = 12; digits <= 40; digits += 4) {
    Rational out = detail::round_significant(x, digits);
    if (out > lo && out < hi) return out;
  }
  return x;
}

// Midpoint of (lo, hi), 0 <= lo < hi: geometric when the ends are far apart (an end at 0
// counts as 1e-30), arithmetic otherwise; a short decimal either way.
Rational midpoint(const Rational& lo, const Rational& hi) {
  const Rational floor_lo = lo > 0 ? lo : detail::pow10(-30);
  if (hi > 4 * floor_lo) {
    const Rational g(std::sqrt(to_double(floor_lo)) * std::sqrt(to_double(hi)));
    if (g > lo && g < hi) return short_between(g, lo, hi);
  }
  return short_between((lo + hi) / 2, lo, hi);
}


// The parameter's range in the table, its open end moved just inside (whole numbers from 1).
std::pair<Rational, Rational> table_range(const ParamSpec& s) {
  Rational lo = parse_quantity(s.min_text, Dimension::kCount, s.key).value();
  Rational hi = parse_quantity(s.max_text, Dimension::kCount, s.key).value();
  if (!s.min_inclusive) {
    lo = s.integer ? Rational(lo + 1) : Rational(lo * Rational(1000000001, 1000000000) + detail::pow10(-30));
  }
  if (s.integer && lo < 1) lo = 1;
  return {lo, hi};
}

// Where gain_of (of the parameters with `spec`'s value set) crosses `target` over [lo, hi],
// by bisection between solved values (the core of every break-even).
Result<Breakeven> search_breakeven(const Params& base, const ParamSpec& spec_of_key, const Rational& lo,
                                   const Rational& hi, const Rational& target,
                                   const std::function<std::optional<Rational>(const Params&)>& gain_of) {
  const ParamSpec* s = &spec_of_key;
  Breakeven out;
  out.key = std::string(s->key);
  out.target_gain_percent = target;
  out.range_lo = lo;
  out.range_hi = hi;
  out.precision = s->integer ? "exact (whole numbers)" : "relative 1e-9";

  const auto gain = [&](const Rational& v) -> std::optional<Rational> {
    Params p = base;
    p.set(s->id, v);
    ++out.solves;
    return gain_of(p);
  };
  const auto meets = [&](const std::optional<Rational>& g) { return g && *g > target; };

  // Bisection between a failing and a passing value; returns (passing, failing).
  const auto bisect = [&](Rational pass, Rational fail) {
    for (int it = 0; it < 400; ++it) {
      const bool done = s->integer ? abs(Rational(pass - fail)) <= 1
                                   : abs(Rational(pass - fail)) <= abs(pass) * Rational(1, 1000000000);
      if (done) break;
      Rational mid;
      if (s->integer) {
        mid = floor_of((pass + fail) / 2);
        if (mid == pass || mid == fail) break;
      } else {
        mid = midpoint(std::min(pass, fail), std::max(pass, fail));
      }
      (meets(gain(mid)) ? pass : fail) = mid;
    }
    return std::make_pair(pass, fail);
  };

  const auto g_lo = gain(lo);
  const auto g_hi = gain(hi);
  const bool m_lo = meets(g_lo), m_hi = meets(g_hi);
  const Rational current = base.get(s->id);
  const auto g_cur = gain(current);
  if (m_lo && m_hi) {
    out.kind = Breakeven::Kind::kAlways;
    out.value = lo;
  } else if (m_lo != m_hi) {  // one crossing: from the failing end towards the passing one
    out.kind = Breakeven::Kind::kThreshold;
    out.larger_is_better = m_hi;
    auto [pass, fail] = m_hi ? bisect(hi, lo) : bisect(lo, hi);
    out.value = pass;
    out.passing = pass;
    out.failing = fail;
  } else if (meets(g_cur)) {
    out.kind = Breakeven::Kind::kWindow;
    auto [pass_lo, fail_lo] = bisect(current, lo);
    auto [pass_hi, fail_hi] = bisect(current, hi);
    out.value = pass_lo;
    out.passing = pass_lo;
    out.failing = fail_lo;
    out.upper_value = pass_hi;
  } else {
    out.kind = Breakeven::Kind::kNever;
  }
  if (out.kind == Breakeven::Kind::kThreshold || out.kind == Breakeven::Kind::kWindow) {
    out.gain_at_passing = gain(out.passing);
    out.gain_at_failing = gain(out.failing);
  }
  // The favourable end: where the gain is larger (ties: the upper end).
  const bool hi_better = !g_lo || (g_hi && *g_hi >= *g_lo);
  out.limit_value = hi_better ? hi : lo;
  out.limit_gain_percent = hi_better ? g_hi : g_lo;
  return out;
}

}  // namespace

std::optional<Rational> gain_percent_at(const Params& params, const SolveOptions& options) {
  SolveOptions quick = options;
  quick.relaxation_bound = false;
  auto a = analyze(params, quick, AnalyzeOptions{false, false});
  if (!a || a->result.status != SolveStatus::kOptimal) return std::nullopt;
  return a->gain_percent;
}

Result<Breakeven> breakeven(const Params& base, std::string_view key, const Rational& target,
                            const SolveOptions& options) {
  const ParamSpec* s = find_param(key);
  if (s == nullptr) {
    return Error{ErrorCode::kUnknownKey, std::string(key), "",
                 fmt::format("param = '{}': unknown parameter", key)};
  }
  if (s->dimension == Dimension::kChoice) {
    return Error{ErrorCode::kBadOption, std::string(key), "",
                 fmt::format("param = '{}': a choice ({}) has no threshold; compare its values with a sweep", key,
                             s->choices)};
  }
  if (auto st = validate(base); !st) return st.error();
  // The valid range, narrowed by the other parameters (r <= d, one block fits memory).
  auto [lo, hi] = table_range(*s);
  if (s->id == ParamId::kLoraR) hi = std::min(hi, base.d());
  if (s->id == ParamId::kLoraD) lo = std::max(lo, base.r());
  if (s->id == ParamId::kLoraBlockTokens) {
    hi = std::min(hi, Rational(floor_of(base.gpu_memory_bytes() / (base.element_bytes() * base.d()))));
  }
  return search_breakeven(base, *s, lo, hi, target, [&](const Params& p) -> std::optional<Rational> {
    if (!validate(p)) return std::nullopt;
    return gain_percent_at(p, options);
  });
}

Result<Breakeven> serving_breakeven(const Params& base, const ServingWorkload& workload, std::string_view key,
                                    const Rational& target, std::string_view baseline,
                                    const ServingSolveOptions& options) {
  // Capacity mode: each value's throughput is that of the batch its optimum serves under
  // the limits, and each baseline's of its own best batch (docs/model.md section 9.12).
  const bool capacity = workload.mode == ServingMode::kCapacity;
  if (auto st = check_serving_options(workload, options); !st) return st.error();
  const ParamSpec* s = find_param(key);
  if (s == nullptr) {
    return Error{ErrorCode::kUnknownKey, std::string(key), "",
                 fmt::format("param = '{}': unknown parameter", key)};
  }
  const auto inputs = hardware_inputs(ModelName::kServing);  // gpu.*, cxl.*, link.* that it reads
  if (s->dimension == Dimension::kChoice || std::find(inputs.begin(), inputs.end(), s) == inputs.end()) {
    return Error{ErrorCode::kBadOption, std::string(key), "",
                 fmt::format("param = '{}': not a number the serving model reads (its hardware keys: gpu.*, cxl.*, "
                             "link.*; the workload is varied with a sweep)",
                             key)};
  }
  const auto read_here = hardware_inputs(base, ModelName::kServing);  // a device without compute reads fewer
  if (std::find(read_here.begin(), read_here.end(), s) == read_here.end()) {
    return Error{ErrorCode::kBadOption, std::string(key), "",
                 fmt::format("param = '{}': not read here: the device has no compute (cxl.flops = 0), so its "
                             "kernels' rates change nothing",
                             key)};
  }
  if (baseline != "gpu_fetch" && baseline != "gpu_hbm") {
    return Error{ErrorCode::kBadOption, "--over", std::string(baseline),
                 fmt::format("--over = '{}': expected gpu_fetch or gpu_hbm", baseline)};
  }
  if (auto st = validate_serving(base, capacity); !st) return st.error();
  const auto [lo, hi] = table_range(*s);
  // Every value of the range must be a machine the model reads: a point that fails the
  // checks is an input error here, not a point where the device does not pay (cxl.flops
  // varied away from 0 needs the device's kernel rates).
  for (const Rational& v : {lo, hi}) {
    Params p = base;
    p.set(s->id, v);
    if (auto st = validate_serving(p, capacity); !st) {
      Error e = st.error();
      e.message = fmt::format("{} (needed at {} = {} within the break-even's range)", e.message, key,
                              format_number(v));
      return e;
    }
  }
  const std::size_t which = baseline == "gpu_hbm" ? 0 : 1;  // ServingResult::baselines: gpu_hbm, gpu_fetch, ...
  // A value with no plan is a point where the device does not pay; a solve that fails (an
  // unsupported size, an internal error) is the break-even's error, never such a point.
  std::optional<Error> failure;
  auto out = search_breakeven(base, *s, lo, hi, target, [&](const Params& p) -> std::optional<Rational> {
    if (!validate_serving(p, capacity) || failure) return std::nullopt;
    auto r = solve_serving(workload, p, options);
    if (!r) {
      failure = r.error();
      return std::nullopt;
    }
    if (!r->feasible || r->baselines.size() <= which || !r->baselines[which].eval.feasible) return std::nullopt;
    return Rational(100 * (r->eval.tokens_per_s / r->baselines[which].eval.tokens_per_s - 1));
  });
  if (failure) return *failure;
  if (out) out->baseline = std::string(baseline);
  return out;
}

Result<std::vector<FrontierPoint>> latency_frontier(const Params& base, const SolveOptions& options,
                                                    std::size_t points) {
  if (auto st = validate(base); !st) return st.error();
  if (points < 2 || points > 100000) {
    return Error{ErrorCode::kBadOption, "points", std::to_string(points),
                 fmt::format("points = '{}': between 2 and 100000", points)};
  }
  Params free = base;
  free.clear(ParamId::kLoraMaxBatchLatencyS);
  auto top = analyze(free, options, AnalyzeOptions{false, false});
  if (!top) return top.error();
  if (top->result.status != SolveStatus::kOptimal) return std::vector<FrontierPoint>{};
  // Smallest batch time of any feasible split: b1 >= ceil(L/gamma) in whole blocks, b2 = b3 = 0.
  const Model& m = top->model;
  const Rational gamma = m.stages[0].gpu.coef[0];
  Rational need = free.link_latency_s() / gamma;
  Integer b1;
  mpz_cdiv_q(b1.get_mpz_t(), need.get_num_mpz_t(), need.get_den_mpz_t());
  if (b1 < 1) b1 = 1;
  if (b1 % m.block_tokens != 0) b1 += m.block_tokens - b1 % m.block_tokens;
  const Rational t_min = 2 * gamma * Rational(b1);
  const Rational t_max = top->batch_time_s;
  // The frontier's points are latency bounds: both ends must be values the bound may take
  // (an internal limit, never blamed on a parameter the user did not set).
  const ParamSpec& bound = spec(ParamId::kLoraMaxBatchLatencyS);
  for (const Rational& t : {t_min, std::max(t_max, t_min)}) {
    if (!detail::value_in_range(bound, t)) {
      return Error{ErrorCode::kOutOfRange, "points", format_number(t),
                   fmt::format("pareto: this instance's batch times reach {} s, outside the range a latency bound "
                               "can state ({} to {} s), so its frontier cannot be traced",
                               format_number(t), bound.min_text, bound.max_text)};
    }
  }
  std::vector<FrontierPoint> out;
  const double la = std::log(to_double(t_min)), lb = std::log(to_double(std::max(t_max, t_min)));
  for (std::size_t i = 0; i < points; ++i) {
    Rational t;
    if (i == 0) {
      t = t_min;
    } else if (i + 1 == points) {
      t = std::max(t_max, t_min);
    } else {
      const double x = std::exp(la + (lb - la) * static_cast<double>(i) / static_cast<double>(points - 1));
      t = detail::round_significant(Rational(x), 12);
    }
    Params p = base;
    p.set(ParamId::kLoraMaxBatchLatencyS, t);
    FrontierPoint fp;
    fp.max_latency_s = t;
    SolveOptions quick = options;
    quick.relaxation_bound = false;
    auto a = analyze(p, quick, AnalyzeOptions{false, false});
    if (!a) return a.error();
    fp.status = a->result.status;
    fp.gpu_only_tokens_per_s = a->gpu_only_tokens_per_s;
    if (fp.status == SolveStatus::kOptimal) {
      fp.plan = a->result.plan;
      fp.batch_time_s = a->batch_time_s;
      fp.throughput_tokens_per_s = a->result.throughput_tokens_per_s;
      fp.gain_percent = a->gain_percent;
    }
    out.push_back(std::move(fp));
  }
  return out;
}

}  // namespace lorasplit
