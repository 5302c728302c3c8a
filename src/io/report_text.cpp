#include <lorasplit/report.hpp>

#include <fmt/format.h>

#include <cmath>

#include "io/format.hpp"

namespace lorasplit {
namespace detail {

std::string human_seconds(const Rational& s) {
  const double v = to_double(s);
  const double a = std::fabs(v);
  if (a == 0) return "0 s";
  if (a >= 1) return fmt::format("{:.4g} s", v);
  if (a >= 1e-3) return fmt::format("{:.4g} ms", v * 1e3);
  if (a >= 1e-6) return fmt::format("{:.4g} us", v * 1e6);
  if (a >= 1e-9) return fmt::format("{:.4g} ns", v * 1e9);
  return fmt::format("{:.4g} ps", v * 1e12);
}

std::string human_bytes(const Rational& b) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = to_double(b);
  std::size_t i = 0;
  while (std::fabs(v) >= 1024 && i + 1 < std::size(kUnits)) {
    v /= 1024;
    ++i;
  }
  return fmt::format("{:.4g} {}", v, kUnits[i]);
}

std::string human_si(const Rational& x) {
  static const char* const kPrefix[] = {"", "k", "M", "G", "T", "P", "E"};
  double v = to_double(x);
  std::size_t i = 0;
  while (std::fabs(v) >= 1000 && i + 1 < std::size(kPrefix)) {
    v /= 1000;
    ++i;
  }
  return fmt::format("{:.4g} {}", v, kPrefix[i]);
}

}  // namespace detail

namespace {

// The exact value and, for quantities with a unit, the readable form (in the family that
// writes it exactly, or both: "6.4e10 (64 GB/s)", "17008070492 (17.01 GB = 15.84 GiB)").
std::string param_value(const ParamSpec& s, const Rational& v) {
  switch (s.dimension) {
    case Dimension::kBytes:
    case Dimension::kBytesPerSecond:
    case Dimension::kSeconds:
    case Dimension::kFlopsPerSecond: return fmt::format("{} ({})", format_exact(v), readable_quantity(s, v));
    case Dimension::kCount:
    case Dimension::kFraction: return format_exact(v);
    case Dimension::kChoice: return param_text(s, v);
  }
  return format_exact(v);
}

std::string exact_or_note(const Rational& x) {
  const std::string s = format_fraction(x);
  return s.size() <= 60 ? s : "see --format json";
}

}  // namespace

std::string render_text(const Analysis& a) {
  std::string out;
  const auto line = [&out](const std::string& s) {
    out += s;
    out += '\n';
  };
  line(fmt::format("lorasplit: {} model, {} batch sizes", a.model.name, to_string(a.options.domain)));
  if (a.params.model_name() == ModelName::kSeed) line(std::string(detail::kSeedModelNote));
  line("");
  line("Parameters");
  line(fmt::format("  {:<28} {:<38} {:<7} {}", "key", "value", "unit", "formulation"));
  for (const auto& s : param_specs()) {
    if (s.pipeline_only && a.params.model_name() == ModelName::kSeed) continue;  // not read by the seed model
    if (s.serving_only) continue;  // read by the serving model only (its report is its own)
    const std::string value = a.params.has(s.id) ? param_value(s, a.params.get(s.id)) : "none";
    line(fmt::format("  {:<28} {:<38} {:<7} {}", s.key, value, s.unit, s.symbol));
  }
  line("");
  if (a.result.status != SolveStatus::kOptimal) {
    line("Result: INFEASIBLE (no split satisfies every constraint)");
    line("Why: " + a.infeasibility_reason);
    return out;
  }
  const Point& p = a.result.point;
  const auto tok = [](const Rational& x) {
    return x.get_den() == 1 ? x.get_str() : fmt::format("{:.10g} ({})", to_double(x), format_fraction(x));
  };
  const bool continuous = a.options.domain == Domain::kContinuous;
  line(continuous ? "Optimal continuous split (LP relaxation: an upper bound on every integer split)"
                  : "Optimal split (certified exact)");
  if (a.model.block_tokens > 1) line(fmt::format("  (in blocks of {} tokens)", a.model.block_tokens));
  Rational total = 0;
  for (std::size_t j = 0; j < p.size(); ++j) {
    line(fmt::format("  {} = {:>14}  tokens, {}", a.model.columns[j].name, tok(p[j]), a.model.columns[j].description));
    total += p[j];
  }
  line(fmt::format("  batch {:>12}  tokens", tok(total)));
  line("");
  line("Stage times");
  line(fmt::format("  {:<8} {:>14} {:>14} {:>16}", "stage", "T_GPU", "T_CXL", "slack GPU-CXL"));
  for (std::size_t i = 0; i < a.stage_times.size(); ++i) {
    const auto& st = a.stage_times[i];
    line(fmt::format("  {:<8} {:>14} {:>14} {:>16}", i + 1, detail::human_seconds(st.gpu_s),
                     detail::human_seconds(st.device_s), detail::human_seconds(st.gpu_s - st.device_s)));
  }
  if (a.model.name == "seed") {
    line(fmt::format("  batch time T_GPU_S1 + T_GPU_S2 = {}", detail::human_seconds(a.batch_time_s)));
  } else {
    line(fmt::format("  batch time T_S1 + T_S2 = {} ({}; T_CXL is the device's largest term)",
                     detail::human_seconds(a.batch_time_s),
                     a.params.on(ParamId::kPipelineRelaxedSync) ? "each stage takes max(T_GPU, T_CXL)"
                                                                : "each stage takes T_GPU, T_CXL <= T_GPU"));
    line(fmt::format("  case: {}", a.model.case_name));
  }
  line("");
  line(fmt::format("GPU memory rows (limit GPU_MEMORY = {} B = {})", format_exact(a.params.gpu_memory_bytes()),
                   detail::human_bytes(a.params.gpu_memory_bytes())));
  line(fmt::format("  {:<8} {:<48} {:>20} {:>20}  {}", "row", "formula", "use [B]", "headroom [B]", "binds"));
  for (const auto& r : a.rows) {
    if (r.kind != RowKind::kMemory) continue;
    line(fmt::format("  {:<8} {:<48} {:>20} {:>20}  {}", r.name, r.formula, format_exact(r.lhs), format_exact(r.slack),
                     r.binding ? "yes" : "no"));
  }
  bool any_limit = false;
  for (const auto& r : a.rows) {
    if (r.kind != RowKind::kLimit) continue;
    if (!any_limit) line("Limits");
    any_limit = true;
    const std::string use = r.unit == "s" ? detail::human_seconds(r.lhs) : format_exact(r.lhs);
    const std::string lim = r.unit == "s" ? detail::human_seconds(r.rhs) : format_exact(r.rhs);
    line(fmt::format("  {:<12} {:<32} {:>14} of {:>14}  binds: {}", r.name, r.formula, use, lim, r.binding ? "yes" : "no"));
  }
  line("");
  line("Throughput");
  line(fmt::format("  split      {}tokens/s   (exact {})", detail::human_si(a.result.throughput_tokens_per_s),
                   exact_or_note(a.result.throughput_tokens_per_s)));
  if (a.gpu_only_tokens_per_s) {
    line(fmt::format("  GPU-only   {}tokens/s   (b1 = {}, b2 = b3 = 0; the device idle)",
                     detail::human_si(*a.gpu_only_tokens_per_s), *a.gpu_only_b1));
    line(fmt::format("  gain       {:+.6g} %", to_double(*a.gain_percent)));
    if (continuous) {
      if (a.integer_tokens_per_s) {
        line(fmt::format("  integer    {}tokens/s   (best integer split; the continuous optimum is {:.3g} % above it)",
                         detail::human_si(*a.integer_tokens_per_s),
                         to_double((a.result.throughput_tokens_per_s / *a.integer_tokens_per_s - 1) * 100)));
      } else {
        line("  integer    none: no integer split is feasible");
      }
    }
  } else {
    line("  GPU-only   none: not even one token fits the memory rows");
  }
  if (!a.baselines.empty()) {
    line("");
    line("Baselines (each an exact solve with the paths it names)");
    line(fmt::format("  {:<10} {:<44} {:>18} {:>12}  {}", "name", "restriction", "tokens/s", "vs GPU-only",
                     "(b1, b2, b3)"));
    for (const auto& b : a.baselines) {
      if (b.status != SolveStatus::kOptimal) {
        line(fmt::format("  {:<10} {:<44} {:>18}", b.name, b.description, "infeasible"));
        continue;
      }
      line(fmt::format("  {:<10} {:<44} {:>18} {:>12}  ({}, {}, {})", b.name, b.description,
                       fmt::format("{}", detail::human_si(b.throughput_tokens_per_s)),
                       b.gain_percent ? fmt::format("{:+.4g} %", to_double(*b.gain_percent)) : std::string("-"),
                       b.plan.b[0], b.plan.b[1], b.plan.b[2]));
    }
  }
  if (!a.sensitivity.empty()) {
    line("");
    line("Sensitivity (exact re-solves at -1 % and +1 % of each parameter; whole numbers move by at least 1)");
    line(fmt::format("  {:<28} {:>14} {:>14}   {:>14} {:>14}   {}", "parameter", "value -1 %", "throughput", "value +1 %",
                     "throughput", "elasticity"));
    const Rational& base = a.result.throughput_tokens_per_s;
    std::string top;
    double top_abs = 0;
    const auto cell = [&](const std::optional<Rational>& t, const std::string& note) {
      if (!t) return note.rfind("invalid", 0) == 0 ? std::string("invalid") : note;
      // Exactly unchanged is "0 %"; any change keeps its sign and six significant digits
      // (never "-0.000000 %" for a change too small for six decimals).
      if (*t == base) return std::string("0 %");
      return fmt::format("{:+.6g} %", to_double((*t / base - 1) * 100));
    };
    for (const auto& srow : a.sensitivity) {
      const Rational& v = a.params.get(find_param(srow.key)->id);
      // Elasticity: relative throughput change per relative parameter change (mean of the sides).
      double el = 0;
      int sides = 0;
      for (const auto& [t, pv] : {std::pair{&srow.minus_tokens_per_s, &srow.minus_value},
                                  std::pair{&srow.plus_tokens_per_s, &srow.plus_value}}) {
        if (!*t || *pv == v || v == 0) continue;
        el += to_double((**t / base - 1) / (*pv / v - 1));
        ++sides;
      }
      std::string el_text = "-";
      if (sides > 0) {
        el /= sides;
        el_text = fmt::format("{:+.4f}", el);
        if (std::fabs(el) > top_abs) {
          top_abs = std::fabs(el);
          top = srow.key;
        }
      }
      // A side at the parameter's bound was not tried: no value is shown for it.
      const auto value_cell = [](const Rational& pv, const std::string& note) {
        return note.rfind("at bound", 0) == 0 ? std::string("-") : format_exact(pv);
      };
      line(fmt::format("  {:<28} {:>14} {:>14}   {:>14} {:>14}   {}", srow.key, value_cell(srow.minus_value, srow.minus_note),
                       cell(srow.minus_tokens_per_s, srow.minus_note), value_cell(srow.plus_value, srow.plus_note),
                       cell(srow.plus_tokens_per_s, srow.plus_note), el_text));
    }
    // Whole numbers move by at least 1: say where that is more than 1 % (r = 4 moves by 25 %).
    std::string moved;
    for (const auto& srow : a.sensitivity) {
      const ParamSpec* spec = find_param(srow.key);
      const Rational& v = a.params.get(spec->id);
      if (!spec->integer || v == 0) continue;
      std::string sides;
      for (const auto& [pv, note] : {std::pair{&srow.minus_value, &srow.minus_note},
                                     std::pair{&srow.plus_value, &srow.plus_note}}) {
        const Rational change = (*pv / v - 1) * 100;
        if (!note->empty() || abs(change) < Rational(105, 100)) continue;  // rounding alone: not a note
        sides += fmt::format("{}{:+.4g} %", sides.empty() ? "" : " and ", to_double(change));
      }
      if (!sides.empty()) moved += fmt::format("{}{} by {}", moved.empty() ? "" : "; ", srow.key, sides);
    }
    if (!moved.empty()) {
      line(fmt::format("  Whole numbers move by at least 1, so by more than 1 % here: {} (elasticity divides by that "
                       "move).",
                       moved));
    }
    if (!top.empty()) {
      line(fmt::format("  The throughput is most elastic in {} ({:.4g} % per % of the parameter).", top, top_abs));
    }
  }
  line("");
  std::string binding;
  for (const auto& b : a.binding) binding += fmt::format("{}{}", binding.empty() ? "" : ", ", b);
  line("Binding constraints: " + (binding.empty() ? std::string("none") : binding));
  line("Why: " + a.explanation);
  line("");
  const Certificate& c = a.result.certificate;
  line("Certificate");
  line("  method: " + c.method);
  line(fmt::format("  max over all feasible splits of tokens - λ*·batch_time = {} tokens at λ* = the throughput above "
                   "({} subproblems solved)",
                   format_exact(c.final_subproblem_max), c.iterations));
  if (c.relaxation_bound_tokens_per_s && !continuous) {
    const Rational gap = (*c.relaxation_bound_tokens_per_s / a.result.throughput_tokens_per_s - 1) * 100;
    line(fmt::format("  continuous relaxation bound: {}tokens/s (integer optimum {:.3g} % below it)",
                     detail::human_si(*c.relaxation_bound_tokens_per_s), to_double(gap)));
  }
  for (const auto& r : c.presolve) line("  presolve: " + to_string(r, a.model.columns));
  if (!c.cases.empty()) {
    int beaten = 0, empty = 0, best = 0;
    for (const auto& s : c.cases) {
      if (s.find(": holds no integer plan") != std::string::npos) ++empty;
      else if (s.find(": cannot beat") != std::string::npos) ++beaten;
      else if (s.find(": best ") != std::string::npos) ++best;
    }
    line(fmt::format("  cases: {} linear cases; {} held no plan, {} were proved unable to beat the optimum, {} improved "
                     "on the previous best (the last holds the optimum); 'lorasplit explain' lists them",
                     c.cases.size(), empty, beaten, best));
  }
  return out;
}

}  // namespace lorasplit
