// `lorasplit compare --model serving` (docs/model.md §9.9): one batch solved exactly with
// the adapters' weights as given, all in GPU memory, all in device memory, and in both; in
// capacity mode (§9.12) each residency serves the tokens its own optimum chooses.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "io/format.hpp"
#include "serving/graph.hpp"

namespace lorasplit {

Result<ServingComparison> compare_serving(const ServingWorkload& w, const Params& params,
                                          const ServingSolveOptions& options) {
  ServingComparison out;
  bool uniform = true;
  for (const auto& a : w.adapters) uniform = uniform && a.weights == w.adapters.front().weights;
  const auto run = [&](const ServingWorkload& wk, std::string name, bool given) -> Status {
    auto r = solve_serving(wk, params, options);
    if (!r) return r.error();
    ServingResidencyCase c;
    c.weights = std::move(name);
    c.given = given;
    c.device_share = r->feasible ? detail::device_share(wk, r->plan) : Rational(0);
    c.result = std::move(r.value());
    out.cases.push_back(std::move(c));
    return {};
  };
  if (!uniform) {
    if (auto st = run(w, "as given", true); !st) return st.error();
  }
  for (const Residency res : {Residency::kGpu, Residency::kCxl, Residency::kBoth}) {
    ServingWorkload all = w;
    for (auto& a : all.adapters) a.weights = res;
    const bool given = uniform && w.adapters.front().weights == res;
    if (auto st = run(all, std::string(to_string(res)), given); !st) return st.error();
  }
  return out;
}

namespace {

const ServingResidencyCase* given_case(const ServingComparison& c) {
  for (const auto& x : c.cases) {
    if (x.given) return &x;
  }
  return nullptr;
}

const ServingResidencyCase* best_case(const ServingComparison& c) {
  const ServingResidencyCase* best = nullptr;
  for (const auto& x : c.cases) {
    if (!x.result.feasible) continue;
    if (best == nullptr || x.result.eval.tokens_per_s > best->result.eval.tokens_per_s) best = &x;
  }
  return best;
}

std::string label(const ServingResidencyCase& x) {
  if (x.weights == "as given") return "as given";
  return fmt::format("all {}{}", x.weights, x.given ? " (given)" : "");
}

}  // namespace

std::string render_serving_compare_text(const ServingWorkload& w, const ServingComparison& c) {
  std::string out;
  const auto line = [&out](const std::string& s) {
    out += s;
    out += '\n';
  };
  const bool capacity = w.mode == ServingMode::kCapacity;
  if (capacity) {
    line("lorasplit compare, serving model, capacity mode: the adapters' weights in one place or as given, each "
         "serving the tokens its exact optimum chooses under the limits (docs/model.md sections 9.9, 9.12)");
    line(fmt::format("transformer: {}; offered: {} tokens over {} adapters, context {} tokens", w.shape.name,
                     w.tokens(), w.adapters.size(), w.context_tokens));
  } else {
    line("lorasplit compare, serving model: one batch, the adapters' weights in one place or as given, each planned "
         "by the exact search (docs/model.md section 9.9)");
    line(fmt::format("transformer: {}; batch: {} tokens over {} adapters, context {} tokens", w.shape.name,
                     w.tokens(), w.adapters.size(), w.context_tokens));
  }
  line("");
  const ServingResidencyCase* given = given_case(c);
  // Capacity mode adds the tokens each case serves (of those offered).
  const auto served_cell = [&](const ServingResult& r) {
    return capacity ? fmt::format(" {:>8}", detail::total_tokens(r.served)) : std::string();
  };
  line(fmt::format("  {:<16} {:<9}{} {:>14} {:>16} {:>10} {:>11}  {}", "weights", "status",
                   capacity ? fmt::format(" {:>8}", "served") : std::string(), "iteration", "tokens/s", "vs given",
                   "on device", "gain over gpu_fetch / gpu_hbm"));
  for (const auto& x : c.cases) {
    const ServingResult& r = x.result;
    if (!r.feasible) {
      line(fmt::format("  {:<16} infeasible: {}", label(x), r.reason));
      continue;
    }
    const auto gain = [&r](std::string_view name) {
      const auto g = serving_gain_percent(r, name);
      return g ? fmt::format("{:+.2f} %", to_double(*g)) : std::string("-");
    };
    const std::string vs = given != nullptr && given->result.feasible
                               ? fmt::format("{:+.2f} %", 100 * to_double(r.eval.tokens_per_s /
                                                                          given->result.eval.tokens_per_s - 1))
                               : std::string("-");
    line(fmt::format("  {:<16} {:<9}{} {:>14} {:>16.6g} {:>10} {:>9.1f} %  {} / {}", label(x),
                     r.proved_optimal ? "optimal" : "feasible", served_cell(r), detail::human_seconds(r.eval.iteration_s),
                     to_double(r.eval.tokens_per_s), vs, 100 * to_double(x.device_share), gain("gpu_fetch"),
                     gain("gpu_hbm")));
  }
  line("");
  for (const auto& x : c.cases) {
    if (x.result.feasible && !x.result.proved_optimal) {
      line(fmt::format("{}: feasible, not proved optimal (--gap or --node-limit): its optimum is at most {:.3g} % "
                       "faster; the comparison holds within such gaps.",
                       label(x), 100 * to_double(1 - x.result.lower_bound_s / x.result.eval.iteration_s)));
    }
  }
  if (const ServingResidencyCase* best = best_case(c)) {
    line(fmt::format("Best: {} ({:.6g} tokens/s). 'on device': the share of the LoRA tokens whose shrink runs on the "
                     "device; all gpu leaves the device nothing to do.",
                     label(*best), to_double(best->result.eval.tokens_per_s)));
  } else {
    line(capacity ? "No residency serves a token within the limits (memory rows, lora.max_batch_latency_s, "
                    "lora.max_batch_tokens)."
                  : "No residency holds a plan: every case fails a memory row.");
  }
  return out;
}

std::string render_serving_compare_json(const ServingWorkload& w, const ServingComparison& c) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["model"] = "serving";
  j["mode"] = std::string(to_string(w.mode));
  j["transformer"] = w.shape.name;
  j["batch_tokens"] = w.tokens();  // offered, in capacity mode
  j["adapters"] = w.adapters.size();
  const ServingResidencyCase* given = given_case(c);
  ordered_json cases = ordered_json::array();
  for (const auto& x : c.cases) {
    const ServingResult& r = x.result;
    ordered_json y;
    y["weights"] = x.weights;
    y["given"] = x.given;
    y["status"] = !r.feasible ? "infeasible" : (r.proved_optimal ? "optimal" : "feasible");
    if (!r.feasible) y["reason"] = r.reason;
    const auto rational = [&](const char* key, const std::optional<Rational>& v) {
      y[key] = v ? ordered_json(to_double(*v)) : ordered_json(nullptr);
      y[std::string(key) + "_exact"] = v ? ordered_json(format_fraction(*v)) : ordered_json(nullptr);
    };
    const auto when = [&](const Rational& v) { return r.feasible ? std::optional<Rational>(v) : std::nullopt; };
    y["served_tokens"] = r.feasible ? ordered_json(detail::total_tokens(r.served)) : ordered_json(nullptr);
    rational("iteration_time_s", when(r.eval.iteration_s));
    rational("throughput_tokens_per_s", when(r.eval.tokens_per_s));
    y["device_share_percent"] = r.feasible ? ordered_json(100 * to_double(x.device_share)) : ordered_json(nullptr);
    y["gain_over_given_percent"] =
        r.feasible && given != nullptr && given->result.feasible
            ? ordered_json(100 * to_double(r.eval.tokens_per_s / given->result.eval.tokens_per_s - 1))
            : ordered_json(nullptr);
    for (const auto& b : r.baselines) {
      const auto g = serving_gain_percent(r, b.name);
      y[fmt::format("gain_over_{}_percent", b.name)] = g ? ordered_json(to_double(*g)) : ordered_json(nullptr);
    }
    y["proved_optimal"] = r.feasible ? ordered_json(r.proved_optimal) : ordered_json(nullptr);
    y["gap_at_most_percent"] = r.feasible ? ordered_json(100 * to_double(1 - r.lower_bound_s / r.eval.iteration_s))
                                          : ordered_json(nullptr);
    y["nodes"] = r.nodes;
    cases.push_back(y);
  }
  j["cases"] = cases;
  const ServingResidencyCase* best = best_case(c);
  j["best"] = best != nullptr ? ordered_json(best->weights) : ordered_json(nullptr);
  return j.dump(2) + "\n";
}

}  // namespace lorasplit
