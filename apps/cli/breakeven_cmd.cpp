#include <fmt/format.h>
#include <lorasplit/study.hpp>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

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
};

std::string value_text(const ParamSpec& s, const Rational& v) {
  return s.unit.empty() ? format_exact(v) : fmt::format("{} {}", format_exact(v), s.unit);
}

std::string gain_text(const std::optional<Rational>& g) {
  return g ? fmt::format("{:+.6g} %", to_double(*g)) : std::string("no split (infeasible)");
}

int run_breakeven(const BreakevenOpts& opts, const Io& io) {
  const bool json = opts.format == "json";
  auto params = load_params(opts.sources);
  if (!params) return report_error(io, params.error(), json);
  auto target = parse_quantity(opts.gain, Dimension::kFraction, "--gain");
  if (!target) return report_error(io, target.error(), json);
  // --gain is in percent: "5" and "5 %" both mean 5 %.
  Rational gain = target.value();
  if (opts.gain.find('%') != std::string::npos) gain *= 100;
  auto r = breakeven(params.value(), opts.key, gain, SolveOptions{domain_from(opts.domain), {}});
  if (!r) return report_error(io, r.error(), json);
  const Breakeven& b = r.value();
  const ParamSpec& s = *find_param(b.key);
  const char* kind = b.kind == Breakeven::Kind::kThreshold ? "threshold"
                     : b.kind == Breakeven::Kind::kWindow  ? "window"
                     : b.kind == Breakeven::Kind::kAlways  ? "always"
                                                           : "never";
  if (json) {
    nlohmann::ordered_json j;
    j["param"] = b.key;
    j["unit"] = s.unit;
    j["target_gain_percent"] = to_double(b.target_gain_percent);
    j["kind"] = kind;
    const bool has_value = b.kind != Breakeven::Kind::kNever;
    j["value"] = has_value ? nlohmann::ordered_json(to_double(b.value)) : nlohmann::ordered_json(nullptr);
    j["value_exact"] = has_value ? nlohmann::ordered_json(format_fraction(b.value)) : nlohmann::ordered_json(nullptr);
    j["direction"] = b.larger_is_better ? "smallest value that pays" : "largest value that pays";
    if (b.upper_value) j["upper_value"] = to_double(*b.upper_value);
    if (b.kind == Breakeven::Kind::kThreshold || b.kind == Breakeven::Kind::kWindow) {
      j["passing_value_exact"] = format_fraction(b.passing);
      j["failing_value_exact"] = format_fraction(b.failing);
      j["gain_at_passing_percent"] = b.gain_at_passing ? nlohmann::ordered_json(to_double(*b.gain_at_passing))
                                                       : nlohmann::ordered_json(nullptr);
      j["gain_at_failing_percent"] = b.gain_at_failing ? nlohmann::ordered_json(to_double(*b.gain_at_failing))
                                                       : nlohmann::ordered_json(nullptr);
    }
    j["precision"] = b.precision;
    j["range"] = {format_fraction(b.range_lo), format_fraction(b.range_hi)};
    j["limit_value_exact"] = format_fraction(b.limit_value);
    j["limit_gain_percent"] = b.limit_gain_percent ? nlohmann::ordered_json(to_double(*b.limit_gain_percent))
                                                   : nlohmann::ordered_json(nullptr);
    j["solves"] = b.solves;
    std::fputs(fmt::format("{}\n", j.dump(2)).c_str(), io.out);
    return kExitOptimal;
  }
  std::string t = fmt::format("break-even of {} for a gain over GPU-only above {} %\n", b.key,
                              format_exact(b.target_gain_percent));
  switch (b.kind) {
    case Breakeven::Kind::kThreshold:
      t += fmt::format("  the split pays for {} {} {}\n", b.key, b.larger_is_better ? ">=" : "<=", value_text(s, b.value));
      t += fmt::format("  checked: {} gives {}, {} gives {} (precision: {})\n", value_text(s, b.passing),
                       gain_text(b.gain_at_passing), value_text(s, b.failing), gain_text(b.gain_at_failing),
                       b.precision);
      break;
    case Breakeven::Kind::kWindow:
      t += fmt::format("  the split pays only for {} between {} and {}\n", b.key, value_text(s, b.value),
                       value_text(s, *b.upper_value));
      break;
    case Breakeven::Kind::kAlways:
      t += fmt::format("  the split pays over the whole valid range [{}, {}]\n", value_text(s, b.range_lo),
                       value_text(s, b.range_hi));
      break;
    case Breakeven::Kind::kNever:
      t += fmt::format("  the split never pays over the valid range [{}, {}]\n", value_text(s, b.range_lo),
                       value_text(s, b.range_hi));
      break;
  }
  t += fmt::format("  at the favourable end of the range ({} = {}) the gain is {}\n", b.key,
                   value_text(s, b.limit_value), gain_text(b.limit_gain_percent));
  t += fmt::format("  ({} exact solves)\n", b.solves);
  std::fputs(t.c_str(), io.out);
  return kExitOptimal;
}

}  // namespace

void setup_breakeven(CLI::App& app, int& exit_status, const Io& io) {
  auto opts = std::make_shared<BreakevenOpts>();
  CLI::App* sub = app.add_subcommand("breakeven", "where the split starts to beat GPU-only, as one parameter moves");
  add_param_options(sub, opts->sources);
  sub->add_option("--param", opts->key, "the parameter to move, e.g. link.bandwidth_bytes_per_s")->required();
  sub->add_option("--gain", opts->gain, "required gain over GPU-only in percent (default 0: any gain)");
  add_domain_option(sub, opts->domain);
  sub->add_option("--format", opts->format, "text (default) or json")->check(CLI::IsMember({"text", "json"}));
  sub->callback([opts, &exit_status, io]() { exit_status = run_breakeven(*opts, io); });
}

}  // namespace lorasplit::cli
