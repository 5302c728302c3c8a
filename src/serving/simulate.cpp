// `lorasplit simulate --model serving` (docs/model.md §9.4, §9.9): a plan's layers played
// event by event over the stage graph, checked against the formulas, and its reports.
#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "io/format.hpp"
#include "params/checks.hpp"
#include "serving/graph.hpp"
#include "sim/timeline.hpp"

namespace lorasplit {
namespace {

constexpr std::int64_t kMaxSimulatedLayers = 1000;

Error plan_error(std::string_view source, const std::string& why) {
  return Error{ErrorCode::kBadOption, "--plan", std::string(source), fmt::format("--plan {}: {}", source, why)};
}

}  // namespace

bool ServingSimulation::equal() const {
  return std::all_of(stages.begin(), stages.end(), [](const ServingStageCheck& c) { return c.simulated_s == c.model_s; }) &&
         simulated_iteration_s == model_iteration_s;
}

Status check_serving_layers(const ServingWorkload& w, std::int64_t layers) {
  if (layers < 1 || layers > w.shape.layers || layers > kMaxSimulatedLayers) {
    return Error{ErrorCode::kOutOfRange, "layers", std::to_string(layers),
                 fmt::format("layers = {}: 1 to the shape's {} layers, at most {} (the layers are identical)", layers,
                             w.shape.layers, kMaxSimulatedLayers)};
  }
  return {};
}

Result<ServingSimulation> simulate_serving(const ServingWorkload& w, const ServingHardware& hw, const ServingPlan& plan,
                                           std::int64_t layers, bool all_in_hbm) {
  if (auto st = check_serving_plan(w, plan); !st) return st.error();
  if (auto why = detail::device_use_without_compute(w, hw, plan)) {
    return Error{ErrorCode::kInconsistent, "plan", "", "plan: " + *why};
  }
  if (auto st = check_serving_layers(w, layers); !st) return st.error();
  ServingSimulation sim;
  sim.layers_simulated = layers;
  const auto eval = evaluate_serving(w, hw, plan, all_in_hbm);
  // One layer: each stage simulated once, from the moment the stage before it ended.
  std::vector<ServingTask> layer_tasks;
  Rational layer_s = 0;
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    const auto stage = static_cast<ServingStage>(s);
    const auto& formula = eval.stages[s];
    const auto events = simulate_serving_stage(w, hw, plan, stage, all_in_hbm);
    Rational end = 0;
    std::vector<ServingTask> tasks;
    for (std::size_t k = 0; k < events.size(); ++k) {
      end = std::max(end, events[k].done_s);
      const auto& item = formula.items[k];
      if (!item.runs) continue;
      ServingTask t;
      t.stage = stage;
      t.item = events[k].item;
      t.resource = events[k].resource;
      t.start_s = layer_s + events[k].start_s;
      t.end_s = layer_s + events[k].end_s;
      t.done_s = layer_s + events[k].done_s;
      t.flops = item.flops;
      t.bytes = item.bytes;
      t.memory_bound = item.memory_bound;
      t.transfer = item.transfer;
      tasks.push_back(std::move(t));
    }
    std::stable_sort(tasks.begin(), tasks.end(),
                     [](const ServingTask& a, const ServingTask& b) { return a.start_s < b.start_s; });
    layer_tasks.insert(layer_tasks.end(), tasks.begin(), tasks.end());
    sim.stages.push_back({stage, end, formula.seconds, formula.critical_path});
    layer_s += end;
  }
  const auto& resources = detail::serving_resources();
  std::vector<Rational> busy(resources.size());
  for (std::int64_t l = 0; l < layers; ++l) {
    const Rational offset = layer_s * Rational(l);
    for (auto t : layer_tasks) {
      t.layer = l;
      t.start_s += offset;
      t.end_s += offset;
      t.done_s += offset;
      const auto r = static_cast<std::size_t>(std::find(resources.begin(), resources.end(), t.resource) - resources.begin());
      busy[r] += t.end_s - t.start_s;
      sim.tasks.push_back(std::move(t));
    }
  }
  sim.makespan_s = layer_s * Rational(layers);
  for (std::size_t r = 0; r < resources.size(); ++r) {
    sim.resources.push_back(
        {std::string(resources[r]), busy[r], sim.makespan_s > 0 ? busy[r] / sim.makespan_s : Rational(0)});
  }
  sim.simulated_iteration_s = layer_s * Rational(w.shape.layers);
  sim.model_iteration_s = eval.iteration_s;
  const Rational tokens(w.tokens());
  if (sim.simulated_iteration_s > 0) sim.simulated_tokens_per_s = tokens / sim.simulated_iteration_s;
  sim.model_tokens_per_s = eval.tokens_per_s;
  return sim;
}

Result<ServingPlan> parse_serving_plan_json(const ServingWorkload& w, std::string_view json_text, std::string_view source,
                                            std::vector<std::int64_t>* served) {
  const nlohmann::json doc = nlohmann::json::parse(json_text, nullptr, false);
  if (doc.is_discarded()) return plan_error(source, "not JSON");
  // The list itself, never a copy: a copy of a deeply nested value recurses as deep.
  const nlohmann::json* list = &doc;
  if (doc.is_object()) {
    const auto it = doc.find("plan");
    if (it == doc.end()) return plan_error(source, "a JSON object without \"plan\" (give solve --format json's output)");
    list = &*it;
  }
  if (!list->is_array()) return plan_error(source, "\"plan\" is not a list of {adapter, stage, path, tokens}");
  const nlohmann::json& j = *list;
  std::map<std::string, std::size_t, std::less<>> adapter_index;
  for (std::size_t i = 0; i < w.adapters.size(); ++i) adapter_index.emplace(w.adapters[i].name, i);
  const auto find_name = [](std::string_view name, std::size_t count, auto to_name) -> std::optional<std::size_t> {
    for (std::size_t k = 0; k < count; ++k) {
      if (to_name(k) == name) return k;
    }
    return std::nullopt;
  };
  ServingPlan plan;
  plan.tokens.assign(kServingStageCount, std::vector<std::array<std::int64_t, 3>>(w.adapters.size(), {0, 0, 0}));
  std::vector<std::vector<std::array<bool, 3>>> seen(kServingStageCount,
                                                     std::vector<std::array<bool, 3>>(w.adapters.size(), {false, false, false}));
  for (std::size_t e = 0; e < j.size(); ++e) {
    const auto& x = j[e];
    const auto field = [&](const char* key) -> const nlohmann::json* {
      return x.is_object() && x.contains(key) ? &x[key] : nullptr;
    };
    const auto* a = field("adapter");
    const auto* s = field("stage");
    const auto* p = field("path");
    const auto* t = field("tokens");
    if (a == nullptr || s == nullptr || p == nullptr || t == nullptr || !a->is_string() || !s->is_string() ||
        !p->is_string() || !t->is_number_integer()) {
      return plan_error(source, fmt::format("entry {} is not {{\"adapter\": name, \"stage\": name, \"path\": name, "
                                            "\"tokens\": integer}}",
                                            e));
    }
    const auto ai = adapter_index.find(a->get<std::string>());
    if (ai == adapter_index.end()) {
      return plan_error(source, fmt::format("entry {}: adapter '{}' is not in the workload", e, a->get<std::string>()));
    }
    const auto si = find_name(s->get<std::string>(), kServingStageCount,
                              [](std::size_t k) { return to_string(static_cast<ServingStage>(k)); });
    if (!si) return plan_error(source, fmt::format("entry {}: stage '{}' is not qkv, o, gate_up or down", e, s->get<std::string>()));
    const auto pi =
        find_name(p->get<std::string>(), 3, [](std::size_t k) { return to_string(static_cast<ServingPath>(k)); });
    if (!pi) {
      return plan_error(source, fmt::format("entry {}: path '{}' is not {}, {} or {}", e, p->get<std::string>(),
                                            to_string(ServingPath::kGpu), to_string(ServingPath::kSplit),
                                            to_string(ServingPath::kDevice)));
    }
    if (x.size() != 4) {
      return plan_error(source, fmt::format("entry {} has keys other than adapter, stage, path and tokens", e));
    }
    if (t->is_number_unsigned() && t->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
      return plan_error(source, fmt::format("entry {}: tokens = {}: too large", e, t->get<std::uint64_t>()));
    }
    const auto tokens = t->get<std::int64_t>();
    const auto stage = static_cast<ServingStage>(*si);
    const auto& adapter = w.adapters[ai->second];
    if (!detail::adapter_has_work(adapter, stage)) {
      return plan_error(source, fmt::format("entry {}: adapter {} has no module in stage {}", e, adapter.name, to_string(stage)));
    }
    if (tokens < 0 || tokens > adapter.tokens) {
      return plan_error(source, fmt::format("entry {}: {} tokens, adapter {} has {}", e, tokens, adapter.name, adapter.tokens));
    }
    auto& mark = seen[*si][ai->second][*pi];
    if (mark) {
      return plan_error(source, fmt::format("entry {}: adapter {}, stage {}, path {} given twice", e, adapter.name,
                                            to_string(stage), p->get<std::string>()));
    }
    mark = true;
    plan.tokens[*si][ai->second][*pi] = tokens;
  }
  // Capacity mode: the tokens an adapter serves are its entries' sum in each stage where it
  // has a module (the same in every such stage; none: it serves nothing).
  const bool capacity = w.mode == ServingMode::kCapacity;
  std::vector<std::int64_t> counts;
  for (std::size_t i = 0; i < w.adapters.size(); ++i) {
    const auto& a = w.adapters[i];
    std::optional<std::int64_t> n;
    std::size_t first = 0;
    for (std::size_t s = 0; s < kServingStageCount && capacity; ++s) {
      if (!detail::adapter_has_work(a, static_cast<ServingStage>(s))) continue;
      const auto& t = plan.tokens[s][i];
      const std::int64_t sum = t[0] + t[1] + t[2];
      if (sum > a.tokens) {
        return plan_error(source, fmt::format("adapter {} serves {} tokens in stage {}, it offers {}", a.name, sum,
                                              to_string(static_cast<ServingStage>(s)), a.tokens));
      }
      if (!n) {
        n = sum;
        first = s;
      } else if (sum != *n) {
        return plan_error(source, fmt::format("adapter {} serves {} tokens in stage {} and {} in stage {} (capacity "
                                              "mode: one number of served tokens in every stage)",
                                              a.name, *n, to_string(static_cast<ServingStage>(first)), sum,
                                              to_string(static_cast<ServingStage>(s))));
      }
    }
    counts.push_back(capacity ? n.value_or(0) : a.tokens);
  }
  const ServingWorkload ws = capacity ? served_workload(w, counts) : ServingWorkload{};
  const ServingWorkload& wp = capacity ? ws : w;  // the batch the plan serves
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    const auto stage = static_cast<ServingStage>(s);
    for (std::size_t i = 0; i < wp.adapters.size(); ++i) {
      const auto& a = wp.adapters[i];
      if (!detail::adapter_has_work(a, stage)) {
        plan.tokens[s][i] = {a.tokens, 0, 0};  // no module here: its tokens only pass the base GEMM
      } else if (!capacity && a.tokens > 0 &&
                 std::none_of(seen[s][i].begin(), seen[s][i].end(), [](bool b) { return b; })) {
        return plan_error(source, fmt::format("adapter {} has {} tokens and a module in stage {}, and no entry there",
                                              a.name, a.tokens, to_string(stage)));
      }
    }
  }
  if (served != nullptr) *served = counts;
  if (auto st = check_serving_plan(wp, plan); !st) {
    std::string why = st.error().message;
    if (why.starts_with("plan: ")) why.erase(0, 6);
    return plan_error(source, why);
  }
  return plan;
}

Result<ServingPlan> read_serving_plan(const ServingWorkload& w, const std::string& path,
                                      std::vector<std::int64_t>* served) {
  auto text = detail::read_text_file(path, "--plan", std::size_t{64} << 20);
  if (!text) return text.error();
  return parse_serving_plan_json(w, text.value(), path, served);
}

Result<ChosenServingPlan> choose_serving_plan(const ServingWorkload& w, const Params& params, const std::string& name,
                                              const ServingSolveOptions& options) {
  const bool capacity = w.mode == ServingMode::kCapacity;
  auto hw = serving_hardware(params, capacity);
  if (!hw) return hw.error();
  ChosenServingPlan out;
  out.hardware = hw.value();
  out.name = name.empty() ? "optimum" : name;
  for (const auto& a : w.adapters) out.served.push_back(a.tokens);
  const bool baseline = out.name == "gpu_fetch" || out.name == "gpu_hbm" || out.name == "device_all";
  out.all_in_hbm = out.name == "gpu_hbm";
  if (out.name == "optimum" || (capacity && baseline)) {
    auto solved = solve_serving(w, params, options);
    if (!solved) return solved.error();
    const ServingBaseline* b = nullptr;
    for (const auto& x : solved->baselines) {
      if (x.name == out.name) b = &x;
    }
    if (b != nullptr) {  // capacity mode's baseline: its own search's plan and tokens
      out.plan = b->plan;
      out.served = b->served;
      out.status = "baseline";
      out.feasible = b->eval.feasible;
      out.reason = b->eval.reason;
      return out;
    }
    if (!solved->feasible) {
      out.reason = solved->reason;
      return out;
    }
    out.plan = std::move(solved->plan);
    out.served = std::move(solved->served);
    out.status = solved->proved_optimal
                     ? "optimal"
                     : fmt::format("feasible, not proved optimal (the optimum is at most {:.3g} % faster)",
                                   100 * to_double(1 - solved->lower_bound_s / solved->eval.iteration_s));
  } else if (baseline) {
    out.plan = uniform_plan(w, out.name == "device_all" ? ServingPath::kDevice : ServingPath::kGpu);
    out.status = "baseline";
  } else {
    // Capacity mode: the file's tokens are the batch it serves (each adapter's at most
    // its offered tokens), held to the latency and token bounds below.
    auto plan = read_serving_plan(w, out.name, &out.served);
    if (!plan) return plan.error();
    out.plan = std::move(plan.value());
    out.status = "file";
  }
  const ServingWorkload ws = served_workload(w, out.served);
  const auto eval = evaluate_serving(ws, hw.value(), out.plan, out.all_in_hbm);
  out.feasible = eval.feasible;
  out.reason = eval.reason;
  if (capacity && out.status == "file" && out.feasible) {
    if (ws.tokens() == 0) {
      out.feasible = false;
      out.reason = "the plan serves no token";
    } else if (params.has(ParamId::kLoraMaxBatchTokens) && Rational(ws.tokens()) > params.get(ParamId::kLoraMaxBatchTokens)) {
      out.feasible = false;
      out.reason = fmt::format("the plan serves {} tokens, above lora.max_batch_tokens = {}", ws.tokens(),
                               format_number(params.get(ParamId::kLoraMaxBatchTokens)));
    } else if (params.has(ParamId::kLoraMaxBatchLatencyS) &&
               eval.iteration_s > params.get(ParamId::kLoraMaxBatchLatencyS)) {
      out.feasible = false;
      out.reason = fmt::format("the plan's iteration takes {} s, above lora.max_batch_latency_s = {} s",
                               format_number(eval.iteration_s), format_number(params.get(ParamId::kLoraMaxBatchLatencyS)));
    }
  }
  return out;
}

namespace {

std::string layers_text(const ServingWorkload& w, const ServingSimulation& sim) {
  return sim.layers_simulated == 1 ? fmt::format("layer 1 of {}", w.shape.layers)
                                   : fmt::format("layers 1-{} of {}", sim.layers_simulated, w.shape.layers);
}

std::string bound_text(const ServingTask& t) {
  if (t.transfer) return "transfer";
  return t.memory_bound ? "memory" : "compute";
}

}  // namespace

std::string render_serving_simulation_text(const ServingWorkload& w, const ServingSimulation& sim, std::size_t max_rows) {
  std::string out;
  const auto line = [&out](const std::string& s) {
    out += s;
    out += '\n';
  };
  line(fmt::format("lorasplit simulate, serving model: plan {} ({}), {} played event by event over the stage graph "
                   "(docs/model.md section 9.4)",
                   sim.plan_name, sim.plan_status, layers_text(w, sim)));
  line(fmt::format("transformer: {}; {} adapters, {} tokens, context {} tokens", w.shape.name, w.adapters.size(),
                   w.tokens(), w.context_tokens));
  line("");
  line("Stages of one layer (simulated against the formula's T_s)");
  line(fmt::format("  {:<10} {:>14} {:>14}  {}", "stage", "simulated", "model", "longest path (model)"));
  for (const auto& c : sim.stages) {
    line(fmt::format("  {:<10} {:>14} {:>14}  {}", to_string(c.stage), detail::human_seconds(c.simulated_s),
                     detail::human_seconds(c.model_s), c.critical_path));
  }
  if (sim.equal()) {
    line("The simulated stage times equal the model's exactly.");
  } else {
    for (const auto& c : sim.stages) {
      if (c.simulated_s == c.model_s) continue;
      line(fmt::format("DIFFERENT: stage {} simulated {} s, model {} s (a bug: both read one graph)", to_string(c.stage),
                       format_fraction(c.simulated_s), format_fraction(c.model_s)));
    }
  }
  line("");
  line(fmt::format("Resources ({})", layers_text(w, sim)));
  for (const auto& r : sim.resources) {
    line(fmt::format("  {:<16} busy {:>12}  utilization {:6.2f} %", r.name, detail::human_seconds(r.busy_s),
                     100 * to_double(r.utilization)));
  }
  line("");
  line(fmt::format("Iteration ({} layer{}): simulated {}, model {}", w.shape.layers, w.shape.layers == 1 ? "" : "s",
                   detail::human_seconds(sim.simulated_iteration_s), detail::human_seconds(sim.model_iteration_s)));
  line(fmt::format("Throughput: simulated {:.6g} tokens/s, model {:.6g} tokens/s", to_double(sim.simulated_tokens_per_s),
                   to_double(sim.model_tokens_per_s)));
  line("");
  line(fmt::format("Tasks ({} of {}; --format json or --trace for all)", std::min(max_rows, sim.tasks.size()),
                   sim.tasks.size()));
  line(fmt::format("  {:<5} {:<10} {:<12} {:<15} {:>12} {:>12} {:>12}  {}", "layer", "stage", "item", "resource", "start",
                   "end", "done", "bound"));
  for (std::size_t i = 0; i < sim.tasks.size() && i < max_rows; ++i) {
    const auto& t = sim.tasks[i];
    line(fmt::format("  {:<5} {:<10} {:<12} {:<15} {:>12} {:>12} {:>12}  {}", t.layer + 1, to_string(t.stage), t.item,
                     t.resource, detail::human_seconds(t.start_s), detail::human_seconds(t.end_s),
                     detail::human_seconds(t.done_s), bound_text(t)));
  }
  return out;
}

std::string render_serving_simulation_json(const ServingWorkload& w, const ServingSimulation& sim) {
  using nlohmann::ordered_json;
  const auto pair = [](ordered_json& j, const std::string& key, const Rational& x) {
    j[key] = to_double(x);
    j[key + "_exact"] = format_fraction(x);
  };
  ordered_json j;
  j["model"] = "serving";
  j["status"] = "simulated";
  j["plan"] = sim.plan_name;
  j["plan_status"] = sim.plan_status;
  j["layers"] = w.shape.layers;
  j["layers_simulated"] = sim.layers_simulated;
  j["equal"] = sim.equal();
  pair(j, "makespan_s", sim.makespan_s);
  pair(j, "simulated_iteration_time_s", sim.simulated_iteration_s);
  pair(j, "model_iteration_time_s", sim.model_iteration_s);
  pair(j, "simulated_tokens_per_s", sim.simulated_tokens_per_s);
  pair(j, "model_tokens_per_s", sim.model_tokens_per_s);
  ordered_json stages = ordered_json::array();
  for (const auto& c : sim.stages) {
    ordered_json x;
    x["stage"] = to_string(c.stage);
    pair(x, "simulated_s", c.simulated_s);
    pair(x, "model_s", c.model_s);
    x["critical_path"] = c.critical_path;
    stages.push_back(x);
  }
  j["stages"] = stages;
  ordered_json res = ordered_json::array();
  for (const auto& r : sim.resources) {
    res.push_back({{"name", r.name},
                   {"busy_s", to_double(r.busy_s)},
                   {"busy_s_exact", format_fraction(r.busy_s)},
                   {"utilization", to_double(r.utilization)}});
  }
  j["resources"] = res;
  ordered_json tasks = ordered_json::array();
  for (const auto& t : sim.tasks) {
    tasks.push_back({{"layer", t.layer + 1},
                     {"stage", to_string(t.stage)},
                     {"item", t.item},
                     {"resource", t.resource},
                     {"bound", bound_text(t)},
                     {"flops", to_double(t.flops)},
                     {"bytes", to_double(t.bytes)},
                     {"start_s_exact", format_fraction(t.start_s)},
                     {"end_s_exact", format_fraction(t.end_s)},
                     {"done_s_exact", format_fraction(t.done_s)}});
  }
  j["tasks"] = tasks;
  return j.dump(2) + "\n";
}

namespace {

detail::Timeline timeline_of(const ServingWorkload* w, const ServingSimulation& sim) {
  detail::Timeline tl;
  if (w != nullptr) {
    tl.title = fmt::format("lorasplit simulate: serving model, plan {}, {}, {} adapters, {} tokens", sim.plan_name,
                           layers_text(*w, sim), w->adapters.size(), w->tokens());
  }
  for (const auto& r : sim.resources) tl.tracks.push_back(r.name);
  std::vector<bool> present(kServingStageCount, false);
  for (const auto& t : sim.tasks) {
    detail::TimelineBar b;
    b.name = t.item;
    b.resource = t.resource;
    b.colour = static_cast<std::size_t>(t.stage);
    b.context = fmt::format("layer {}, stage {}", t.layer + 1, to_string(t.stage));
    b.category = fmt::format("layer {} stage {}", t.layer + 1, to_string(t.stage));
    b.start_s = t.start_s;
    b.end_s = t.end_s;
    b.done_s = t.done_s;
    b.args = {{"layer", t.layer + 1}, {"stage", to_string(t.stage)}, {"bound", bound_text(t)},
              {"flops", to_double(t.flops)}, {"bytes", to_double(t.bytes)}};
    tl.bars.push_back(std::move(b));
    present[static_cast<std::size_t>(t.stage)] = true;
  }
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    if (present[s]) tl.legend.emplace_back(s, fmt::format("stage {}", to_string(static_cast<ServingStage>(s))));
  }
  tl.span_s = sim.makespan_s;
  tl.other = {{"model", "serving"}, {"plan", sim.plan_name}, {"layers_simulated", sim.layers_simulated}};
  return tl;
}

}  // namespace

std::string render_serving_trace_json(const ServingSimulation& sim) {
  return detail::timeline_trace_json(timeline_of(nullptr, sim));
}

std::string render_serving_gantt_svg(const ServingWorkload& w, const ServingSimulation& sim) {
  return detail::timeline_gantt_svg(timeline_of(&w, sim));
}

}  // namespace lorasplit
