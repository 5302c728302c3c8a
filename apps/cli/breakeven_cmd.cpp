#include <fmt/format.h>
#include <lorasplit/study.hpp>

#include <cstdio>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

struct BreakevenOpts {
  ParamSources sources;
  std::string key;
  std::string gain{"0"};
  std::string domain{"integer"};
  std::string format{"text"};
  std::string over;  ///< the serving model's baseline: gpu_fetch (default) or gpu_hbm
  SearchLimitOpts limits;
};

// "943539.896409 B/s (943.5 kB/s)": the exact value and its readable form.
std::string value_text(const ParamSpec& s, const Rational& v) {
  const std::string exact = s.unit.empty() ? format_exact(v) : fmt::format("{} {}", format_exact(v), s.unit);
  const std::string readable = readable_quantity(s, v);
  return readable == exact ? exact : fmt::format("{} ({})", exact, readable);
}

// `what`: "split" (seed, pipeline) or "plan" (serving), for a value where none exists.
std::string gain_text(const std::optional<Rational>& g, std::string_view what, int digits = 6) {
  return g ? fmt::format("{:+.{}g} %", to_double(*g), digits) : fmt::format("no {} (infeasible)", what);
}

// The two gains of the bracket with as many significant digits as it takes to tell them
// apart (6 at least, 17 at most), so "+0.1 %" never stands on both sides; neither may
// print as the target either unless it equals it ("+0.1 %" for 0.0999999999).
std::pair<std::string, std::string> gain_texts(const std::optional<Rational>& a, const std::optional<Rational>& b,
                                               const Rational& target, std::string_view what) {
  const auto alike = [what](const std::optional<Rational>& x, const std::optional<Rational>& y, int digits) {
    return x && y && *x != *y && gain_text(x, what, digits) == gain_text(y, what, digits);
  };
  const std::optional<Rational> t = target;
  int digits = 6;
  while (digits < 17 && (alike(a, b, digits) || alike(a, t, digits) || alike(b, t, digits))) ++digits;
  return {gain_text(a, what, digits), gain_text(b, what, digits)};
}

int run_breakeven(const BreakevenOpts& opts, const Io& io) {
  const bool json = opts.format == "json";
  ParamSources sources = opts.sources;
  const WorkloadOverrides sets = take_workload_sets(sources);
  auto loaded = load_params(sources, io, false);
  if (!loaded) return report_error(io, loaded.error(), json);
  const bool serving = loaded->model_name() == ModelName::kServing;
  if (auto st = workload_sets_need_serving(sets, loaded->model_name()); !st) return report_error(io, st.error(), json);
  auto limits = search_limits(opts.limits, loaded->model_name());
  if (!limits) return report_error(io, limits.error(), json);
  if (!serving && !opts.over.empty()) {
    return report_error(io, Error{ErrorCode::kBadOption, "--over", opts.over,
                                  fmt::format("--over {}: a baseline of the serving model; the other models' gain is "
                                              "over GPU-only",
                                              opts.over)},
                        json);
  }
  if (serving) {
    if (auto st = serving_command_ok(opts.sources.config, opts.domain); !st) return report_error(io, st.error(), json);
  }
  auto target = parse_quantity(opts.gain, Dimension::kFraction, "--gain");
  if (!target) return report_error(io, target.error(), json);
  // --gain is in percent: "5" and "5 %" both mean 5 %.
  Rational gain = target.value();
  if (opts.gain.find('%') != std::string::npos) gain *= 100;
  Result<Breakeven> r = Error{};
  if (serving) {
    auto w = load_serving_workload(opts.sources.config, sets);
    if (!w) return report_error(io, w.error(), json);
    r = serving_breakeven(loaded.value(), w.value(), opts.key, gain, opts.over.empty() ? "gpu_fetch" : opts.over,
                          limits.value());
  } else {
    if (auto st = validate(loaded.value()); !st) return report_error(io, st.error(), json);
    r = breakeven(loaded.value(), opts.key, gain, SolveOptions{domain_from(opts.domain), {}});
  }
  if (!r) return report_error(io, r.error(), json);
  const Breakeven& b = r.value();
  const ParamSpec& s = *find_param(b.key);
  if (json) {
    std::fputs(render_breakeven_json(b).c_str(), io.out);
    return kExitOptimal;
  }
  // The seed and pipeline models weigh a split against GPU-only, the serving model a plan
  // against gpu_fetch or gpu_hbm.
  const std::string over = b.baseline == "gpu_only" ? "GPU-only" : b.baseline;
  const std::string what = b.baseline == "gpu_only" ? "split" : "plan";
  std::string t = fmt::format("break-even of {} for a gain over {} above {} %\n", b.key, over,
                              format_exact(b.target_gain_percent));
  switch (b.kind) {
    case Breakeven::Kind::kThreshold: {
      t += fmt::format("  the {} pays for {} {} {}\n", what, b.key, b.larger_is_better ? ">=" : "<=", value_text(s, b.value));
      const auto [pass, fail] = gain_texts(b.gain_at_passing, b.gain_at_failing, b.target_gain_percent, what);
      t += fmt::format("  checked: {} gives {}, {} {} gives {} (precision: {})\n", format_exact(b.passing), pass,
                       format_exact(b.failing), s.unit, fail, b.precision);
      break;
    }
    case Breakeven::Kind::kWindow:
      t += fmt::format("  the {} pays only for {} between {} and {}\n", what, b.key, value_text(s, b.value),
                       value_text(s, *b.upper_value));
      break;
    case Breakeven::Kind::kAlways:
      t += fmt::format("  the {} pays over the whole valid range [{}, {}]\n", what, value_text(s, b.range_lo),
                       value_text(s, b.range_hi));
      break;
    case Breakeven::Kind::kNever:
      t += fmt::format("  the {} never pays over the valid range [{}, {}]\n", what, value_text(s, b.range_lo),
                       value_text(s, b.range_hi));
      break;
  }
  t += fmt::format("  at the favourable end of the range ({} = {}) the gain is {}\n", b.key,
                   value_text(s, b.limit_value), gain_text(b.limit_gain_percent, what));
  t += fmt::format("  ({} exact solves)\n", b.solves);
  std::fputs(t.c_str(), io.out);
  return kExitOptimal;
}

}  // namespace

void setup_breakeven(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<BreakevenOpts>();
  CLI::App* sub = app.add_subcommand("breakeven", "where the split starts to beat GPU-only (serving: the plan beats "
                                                   "gpu_fetch or gpu_hbm), as one parameter moves");
  add_param_options(sub, opts->sources);
  sub->add_option("--param", opts->key, "the parameter to move, e.g. link.bandwidth_bytes_per_s")->required();
  sub->add_option("--gain", opts->gain, "required gain over GPU-only in percent (default 0: any gain)");
  add_domain_option(sub, opts->domain);
  sub->add_option("--format", opts->format, "text (default) or json")->check(CLI::IsMember({"text", "json"}));
  sub->add_option("--over", opts->over, "serving model: the baseline, gpu_fetch (default) or gpu_hbm")
      ->check(CLI::IsMember({"gpu_fetch", "gpu_hbm"}));
  add_search_limit_options(sub, opts->limits);
  sub->callback([opts, &exit_status, io]() { exit_status = run_breakeven(*opts, io); });
}

}  // namespace lorasplit::cli
