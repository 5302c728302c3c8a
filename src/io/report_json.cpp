#include <lorasplit/report.hpp>

#include <nlohmann/json.hpp>

#include "io/format.hpp"

namespace lorasplit {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

ordered_json params_json(const Params& params) {
  ordered_json out = ordered_json::object();
  for (const auto& s : param_specs()) {
    if (s.serving_only) continue;  // the serving model's report lists its own hardware
    if (!params.has(s.id)) {
      out[std::string(s.key)] = {{"value", nullptr}, {"exact", "none"}, {"unit", s.unit}};
      continue;
    }
    const Rational& v = params.get(s.id);
    if (s.dimension == Dimension::kChoice) {
      out[std::string(s.key)] = {{"value", param_text(s, v)}, {"exact", param_text(s, v)}, {"unit", s.unit}};
      continue;
    }
    out[std::string(s.key)] = {{"value", to_double(v)}, {"exact", format_fraction(v)}, {"unit", s.unit}};
  }
  return out;
}

std::vector<std::string> presolve_lines(const Certificate& c, const std::vector<Column>& columns) {
  std::vector<std::string> out;
  for (const auto& r : c.presolve) out.push_back(to_string(r, columns));
  return out;
}

// Integers that fit an int64 as JSON integers, anything else as the exact string.
ordered_json exact_number(const Rational& v) {
  if (v.get_den() == 1 && v.get_num().fits_slong_p()) return v.get_num().get_si();
  return format_fraction(v);
}

}  // namespace

std::string render_json(const Analysis& a, int indent) {
  ordered_json j;
  const bool optimal = a.result.status == SolveStatus::kOptimal;
  j["status"] = std::string(to_string(a.result.status));
  j["model"] = a.model.name;
  if (a.params.model_name() == ModelName::kSeed) j["model_note"] = std::string(detail::kSeedModelNote);
  if (!a.model.case_name.empty()) j["case"] = a.model.case_name;
  j["domain"] = std::string(to_string(a.options.domain));
  if (!optimal) {
    j["reason"] = a.infeasibility_reason;
    j["b1"] = nullptr;
    j["b2"] = nullptr;
    j["b3"] = nullptr;
  } else {
    if (a.options.domain == Domain::kContinuous) {
      const Point& b = a.result.point;
      j["b1"] = to_double(b[0]);
      j["b2"] = to_double(b[1]);
      j["b3"] = to_double(b[2]);
      j["tokens"] = to_double(b[0] + b[1] + b[2]);
      j["b_exact"] = {format_fraction(b[0]), format_fraction(b[1]), format_fraction(b[2])};
      if (a.integer_tokens_per_s) {
        j["integer_throughput_tokens_per_s"] = to_double(*a.integer_tokens_per_s);
        j["integer_throughput_tokens_per_s_exact"] = format_fraction(*a.integer_tokens_per_s);
        j["gap_percent"] = to_double((a.result.throughput_tokens_per_s / *a.integer_tokens_per_s - 1) * 100);
      } else {
        j["integer_throughput_tokens_per_s"] = nullptr;
      }
    } else {
      const Plan& p = a.result.plan;
      j["b1"] = p.b[0];
      j["b2"] = p.b[1];
      j["b3"] = p.b[2];
      j["tokens"] = p.tokens();
    }
    j["block_tokens"] = a.model.block_tokens;
    j["throughput_tokens_per_s"] = to_double(a.result.throughput_tokens_per_s);
    j["throughput_tokens_per_s_exact"] = format_fraction(a.result.throughput_tokens_per_s);
  }
  if (a.gpu_only_tokens_per_s) {
    j["gpu_only_throughput_tokens_per_s"] = to_double(*a.gpu_only_tokens_per_s);
    j["gpu_only_throughput_tokens_per_s_exact"] = format_fraction(*a.gpu_only_tokens_per_s);
    j["gpu_only_b1"] = *a.gpu_only_b1;
  } else {
    j["gpu_only_throughput_tokens_per_s"] = nullptr;
  }
  if (optimal) {
    if (a.gain_percent) {
      j["gain_percent"] = to_double(*a.gain_percent);
      j["gain_percent_exact"] = format_fraction(*a.gain_percent);
    } else {
      j["gain_percent"] = nullptr;
    }
    ordered_json times = ordered_json::object(), exact = ordered_json::object(), slack = ordered_json::object();
    for (const auto& st : a.stage_times) {
      times["gpu_" + st.name] = to_double(st.gpu_s);
      times["cxl_" + st.name] = to_double(st.device_s);
      exact["gpu_" + st.name] = format_fraction(st.gpu_s);
      exact["cxl_" + st.name] = format_fraction(st.device_s);
      slack[st.name] = to_double(st.gpu_s - st.device_s);
    }
    times["batch"] = to_double(a.batch_time_s);
    exact["batch"] = format_fraction(a.batch_time_s);
    j["times_s"] = times;
    j["times_s_exact"] = exact;
    j["slack_s"] = slack;
    ordered_json mem = ordered_json::array();
    ordered_json rows = ordered_json::array();
    for (const auto& r : a.rows) {
      if (r.kind == RowKind::kMemory) {
        mem.push_back({{"name", r.name},
                       {"formula", r.formula},
                       {"used", exact_number(r.lhs)},
                       {"limit", exact_number(r.rhs)},
                       {"headroom", exact_number(r.slack)},
                       {"binding", r.binding}});
      }
      rows.push_back({{"name", r.name},
                      {"kind", r.kind == RowKind::kSync     ? "sync"
                                  : r.kind == RowKind::kMemory ? "memory"
                                  : r.kind == RowKind::kLimit  ? "limit"
                                                               : "case"},
                      {"formula", r.formula},
                      {"unit", r.unit},
                      {"lhs", to_double(r.lhs)},
                      {"rhs", to_double(r.rhs)},
                      {"slack", to_double(r.slack)},
                      {"slack_exact", format_fraction(r.slack)},
                      {"binding", r.binding}});
    }
    j["memory_bytes"] = mem;
    j["constraints"] = rows;
    j["binding"] = a.binding;
    j["explanation"] = a.explanation;
    const Certificate& c = a.result.certificate;
    ordered_json cert = {{"method", c.method},
                         {"iterations", c.iterations},
                         {"iteration_bound", c.iteration_bound},
                         {"lambda_tokens_per_s_exact", format_fraction(c.lambda_tokens_per_s)},
                         {"final_subproblem_max_tokens_exact", format_fraction(c.final_subproblem_max)},
                         {"presolve", presolve_lines(c, a.model.columns)},
                         {"cases", c.cases}};
    if (c.relaxation_bound_tokens_per_s) {
      cert["relaxation_bound_tokens_per_s"] = to_double(*c.relaxation_bound_tokens_per_s);
      cert["relaxation_bound_tokens_per_s_exact"] = format_fraction(*c.relaxation_bound_tokens_per_s);
    } else {
      cert["relaxation_bound_tokens_per_s"] = nullptr;
    }
    ordered_json path = ordered_json::array();
    for (const auto& l : c.lambda_path) path.push_back(format_fraction(l));
    cert["lambda_path_exact"] = path;
    j["certificate"] = cert;
  }
  if (!a.baselines.empty()) {
    ordered_json bl = ordered_json::object();
    for (const auto& b : a.baselines) {
      ordered_json e = {{"description", b.description}, {"status", std::string(to_string(b.status))}};
      if (b.status == SolveStatus::kOptimal) {
        e["b1"] = b.plan.b[0];
        e["b2"] = b.plan.b[1];
        e["b3"] = b.plan.b[2];
        e["throughput_tokens_per_s"] = to_double(b.throughput_tokens_per_s);
        e["throughput_tokens_per_s_exact"] = format_fraction(b.throughput_tokens_per_s);
        e["gain_percent"] = b.gain_percent ? ordered_json(to_double(*b.gain_percent)) : ordered_json(nullptr);
      }
      bl[b.name] = e;
    }
    j["baselines"] = bl;
  }
  if (!a.sensitivity.empty()) {
    ordered_json sens = ordered_json::object();
    for (const auto& s : a.sensitivity) {
      ordered_json e;
      const auto side = [&](const Rational& v, const std::optional<Rational>& t, const std::string& note) {
        ordered_json x = {{"value_exact", format_fraction(v)}};
        const Rational& base = a.params.get(find_param(s.key)->id);
        if (base != 0) x["value_change_percent"] = to_double((v / base - 1) * 100);
        if (t) {
          x["throughput_tokens_per_s"] = to_double(*t);
          x["throughput_tokens_per_s_exact"] = format_fraction(*t);
          x["change_percent"] = to_double((*t / a.result.throughput_tokens_per_s - 1) * 100);
        } else {
          x["throughput_tokens_per_s"] = nullptr;
          x["note"] = note;
        }
        return x;
      };
      e["minus_1_percent"] = side(s.minus_value, s.minus_tokens_per_s, s.minus_note);
      e["plus_1_percent"] = side(s.plus_value, s.plus_tokens_per_s, s.plus_note);
      sens[s.key] = e;
    }
    j["sensitivity"] = sens;
  }
  j["params"] = params_json(a.params);
  return j.dump(indent < 0 ? -1 : indent);
}

std::string render_error_json(const Error& error) {
  ordered_json j;
  j["status"] = "error";
  j["error"] = {{"code", std::string(to_string(error.code))},
                {"key", error.key},
                {"value", error.value},
                {"message", error.message}};
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);  // a user's bytes need not be UTF-8
}


std::string render_breakeven_json(const Breakeven& b, int indent) {
  const ParamSpec& s = *find_param(b.key);
  const char* kind = b.kind == Breakeven::Kind::kThreshold ? "threshold"
                     : b.kind == Breakeven::Kind::kWindow  ? "window"
                     : b.kind == Breakeven::Kind::kAlways  ? "always"
                                                           : "never";
  nlohmann::ordered_json j;
  j["param"] = b.key;
  if (b.baseline != "gpu_only") j["baseline"] = b.baseline;  // the serving model's
  j["unit"] = s.unit;
  j["target_gain_percent"] = to_double(b.target_gain_percent);
  j["target_gain_percent_exact"] = format_fraction(b.target_gain_percent);
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
    j["gain_at_passing_percent_exact"] = b.gain_at_passing ? nlohmann::ordered_json(format_fraction(*b.gain_at_passing))
                                                           : nlohmann::ordered_json(nullptr);
    j["gain_at_failing_percent_exact"] = b.gain_at_failing ? nlohmann::ordered_json(format_fraction(*b.gain_at_failing))
                                                           : nlohmann::ordered_json(nullptr);
  }
  j["precision"] = b.precision;
  j["range"] = {format_fraction(b.range_lo), format_fraction(b.range_hi)};
  j["limit_value_exact"] = format_fraction(b.limit_value);
  j["limit_gain_percent"] = b.limit_gain_percent ? nlohmann::ordered_json(to_double(*b.limit_gain_percent))
                                                 : nlohmann::ordered_json(nullptr);
  j["limit_gain_percent_exact"] = b.limit_gain_percent ? nlohmann::ordered_json(format_fraction(*b.limit_gain_percent))
                                                       : nlohmann::ordered_json(nullptr);
  j["solves"] = b.solves;
  return j.dump(indent) + "\n";
}

std::string render_frontier_json(const std::vector<FrontierPoint>& frontier, int indent) {
  ordered_json out = ordered_json::array();
  const auto opt = [](const std::optional<Rational>& v, bool exact) {
    if (!v) return ordered_json(nullptr);
    return exact ? ordered_json(format_fraction(*v)) : ordered_json(to_double(*v));
  };
  for (const auto& p : frontier) {
    const bool ok = p.status == SolveStatus::kOptimal;
    ordered_json e;
    e["max_batch_latency_s"] = to_double(p.max_latency_s);
    e["max_batch_latency_s_exact"] = format_fraction(p.max_latency_s);
    e["status"] = std::string(to_string(p.status));
    e["b1"] = ok ? ordered_json(p.plan.b[0]) : ordered_json(nullptr);
    e["b2"] = ok ? ordered_json(p.plan.b[1]) : ordered_json(nullptr);
    e["b3"] = ok ? ordered_json(p.plan.b[2]) : ordered_json(nullptr);
    e["batch_time_s"] = ok ? ordered_json(to_double(p.batch_time_s)) : ordered_json(nullptr);
    e["batch_time_s_exact"] = ok ? ordered_json(format_fraction(p.batch_time_s)) : ordered_json(nullptr);
    e["throughput_tokens_per_s"] = ok ? ordered_json(to_double(p.throughput_tokens_per_s)) : ordered_json(nullptr);
    e["throughput_tokens_per_s_exact"] = ok ? ordered_json(format_fraction(p.throughput_tokens_per_s))
                                            : ordered_json(nullptr);
    e["gpu_only_throughput_tokens_per_s"] = opt(p.gpu_only_tokens_per_s, false);
    e["gpu_only_throughput_tokens_per_s_exact"] = opt(p.gpu_only_tokens_per_s, true);
    e["gain_percent"] = opt(p.gain_percent, false);
    e["gain_percent_exact"] = opt(p.gain_percent, true);
    out.push_back(std::move(e));
  }
  return out.dump(indent) + "\n";
}


std::string render_params_json(int indent) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& s : param_specs()) {
    nlohmann::ordered_json e = {{"key", s.key},
                                {"unit", s.unit},
                                {"symbol", s.symbol},
                                {"description", s.description},
                                {"seed", s.seed_default},
                                {"optional", s.optional},
                                {"pipeline_only", s.pipeline_only},
                                {"serving_only", s.serving_only}};
    if (s.dimension == Dimension::kChoice) {
      nlohmann::ordered_json words = nlohmann::ordered_json::array();
      std::string word;
      for (const char c : std::string(s.choices) + "|") {
        if (c != '|') {
          word += c;
          continue;
        }
        words.push_back(word);
        word.clear();
      }
      e["choices"] = words;
    } else {
      e["min_exact"] = s.min_text;
      e["min_inclusive"] = s.min_inclusive;
      e["max_exact"] = s.max_text;
      e["whole_number"] = s.integer;
    }
    out.push_back(std::move(e));
  }
  return out.dump(indent) + "\n";
}

}  // namespace lorasplit
