#include <lorasplit/report.hpp>

#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "io/format.hpp"

namespace lorasplit {
namespace {

std::string tokens_per_s(const Rational& x) { return fmt::format("{:.6g}", to_double(x)); }

std::string gain(const Analysis& a) {
  return a.gain_percent ? fmt::format("{:+.4f} %", to_double(*a.gain_percent)) : std::string("n/a");
}

}  // namespace

std::string render_compare_text(const Comparison& c) {
  std::string out;
  const auto line = [&out](const std::string& s) {
    out += s;
    out += '\n';
  };
  const Analysis& s = c.seed;
  const Analysis& p = c.pipeline;
  const bool so = s.result.status == SolveStatus::kOptimal;
  const bool po = p.result.status == SolveStatus::kOptimal;
  line(fmt::format("lorasplit compare: the same parameters under the seed and the pipeline model ({} batch sizes)",
                   to_string(s.options.domain)));
  line("");
  line(fmt::format("  {:<26} {:>24} {:>24}", "", "seed", "pipeline"));
  const auto row = [&](const std::string& name, const std::string& a, const std::string& b) {
    line(fmt::format("  {:<26} {:>24} {:>24}", name, a, b));
  };
  const auto plan = [](const Analysis& a, std::size_t j) {
    if (a.result.status != SolveStatus::kOptimal) return std::string("-");
    const Rational& v = a.result.point[j];
    return v.get_den() == 1 ? v.get_str() : fmt::format("{:.10g}", to_double(v));
  };
  row("status", std::string(to_string(s.result.status)), std::string(to_string(p.result.status)));
  row("b1 [tokens]", plan(s, 0), plan(p, 0));
  row("b2 [tokens]", plan(s, 1), plan(p, 1));
  row("b3 [tokens]", plan(s, 2), plan(p, 2));
  row("throughput [tokens/s]", so ? tokens_per_s(s.result.throughput_tokens_per_s) : "-",
      po ? tokens_per_s(p.result.throughput_tokens_per_s) : "-");
  row("GPU-only [tokens/s]", s.gpu_only_tokens_per_s ? tokens_per_s(*s.gpu_only_tokens_per_s) : "-",
      p.gpu_only_tokens_per_s ? tokens_per_s(*p.gpu_only_tokens_per_s) : "-");
  row("gain vs GPU-only", so ? gain(s) : "-", po ? gain(p) : "-");
  row("batch time", so ? detail::human_seconds(s.batch_time_s) : "-", po ? detail::human_seconds(p.batch_time_s) : "-");
  const auto stage = [](const Analysis& a, bool ok, std::size_t i) -> std::string {
    if (!ok || i >= a.stage_times.size()) return "-";
    return detail::human_seconds(a.stage_times[i].gpu_s) + " / " + detail::human_seconds(a.stage_times[i].device_s);
  };
  const std::size_t stages = std::max(s.model.stages.size(), p.model.stages.size());
  for (std::size_t i = 0; i < stages; ++i) {
    row(fmt::format("stage {} GPU / device", i + 1), stage(s, so, i), stage(p, po, i));
  }
  if (so && po) {
    const Rational d = (p.result.throughput_tokens_per_s / s.result.throughput_tokens_per_s - 1) * 100;
    line(fmt::format("  the pipeline model's throughput is {:+.6f} % against the seed's (exact ratio {})", to_double(d),
                     format_fraction(Rational(p.result.throughput_tokens_per_s / s.result.throughput_tokens_per_s))));
  }
  if (po) line("  pipeline case: " + p.model.case_name);
  line("");
  line("Each pipeline switch alone (every other switch off; the first row is the seed's physics)");
  line(fmt::format("  {:<58} {:>16} {:>12}  {}", "switch", "tokens/s", "vs first", "(b1, b2, b3)"));
  const SwitchEffect* base = c.switches.empty() ? nullptr : &c.switches.front();
  for (const auto& e : c.switches) {
    if (e.status != SolveStatus::kOptimal) {
      line(fmt::format("  {:<58} {:>16} {:>12}", e.name, "infeasible", "-"));
      continue;
    }
    std::string vs = "-";
    if (base != nullptr && base->status == SolveStatus::kOptimal) {
      vs = fmt::format("{:+.4f} %", to_double((e.throughput_tokens_per_s / base->throughput_tokens_per_s - 1) * 100));
    }
    line(fmt::format("  {:<58} {:>16} {:>12}  ({}, {}, {})", e.name, tokens_per_s(e.throughput_tokens_per_s), vs,
                     e.plan.b[0], e.plan.b[1], e.plan.b[2]));
  }
  if (!so) line("seed: " + s.infeasibility_reason);
  if (!po) line("pipeline: " + p.infeasibility_reason);
  return out;
}

std::string render_compare_json(const Comparison& c, int indent) {
  nlohmann::ordered_json j;
  j["seed"] = nlohmann::ordered_json::parse(render_json(c.seed, -1));
  j["pipeline"] = nlohmann::ordered_json::parse(render_json(c.pipeline, -1));
  nlohmann::ordered_json sw = nlohmann::ordered_json::array();
  for (const auto& e : c.switches) {
    nlohmann::ordered_json row;
    row["switch"] = e.name;
    row["status"] = std::string(to_string(e.status));
    if (e.status == SolveStatus::kOptimal) {
      row["b1"] = e.plan.b[0];
      row["b2"] = e.plan.b[1];
      row["b3"] = e.plan.b[2];
      row["throughput_tokens_per_s"] = to_double(e.throughput_tokens_per_s);
      row["throughput_tokens_per_s_exact"] = format_fraction(e.throughput_tokens_per_s);
    }
    sw.push_back(std::move(row));
  }
  j["switches"] = sw;
  return j.dump(indent) + "\n";
}

}  // namespace lorasplit
