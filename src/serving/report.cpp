// The serving model's reports (docs/model.md §9.9): text and JSON.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "io/format.hpp"
#include "serving/graph.hpp"

namespace lorasplit {
namespace {

std::string seconds_text(const Rational& s) { return detail::human_seconds(s); }

std::string rate_text(const Rational& x) { return fmt::format("{:.6g}", to_double(x)); }

std::string percent(const Rational& a, const Rational& b) {
  return fmt::format("{:+.2f} %", 100.0 * (to_double(a / b) - 1.0));
}

const ServingBaseline& baseline(const ServingResult& r, std::string_view name) {
  for (const auto& b : r.baselines) {
    if (b.name == name) return b;
  }
  return r.baselines.front();
}

std::string describe_baseline(std::string_view name) {
  if (name == "gpu_hbm") return "every adapter moved into GPU memory, all on the GPU";
  if (name == "gpu_fetch") return "GPU only; device-resident adapters fetched over the link";
  return "every token whose adapter is on the device runs there";
}

}  // namespace

std::string render_serving_text(const ServingWorkload& w, const ServingResult& r) {
  std::string out;
  const auto line = [&](const std::string& s) { out += s + "\n"; };
  const auto& sh = w.shape;
  const bool capacity = r.mode == ServingMode::kCapacity;
  line(fmt::format("lorasplit serving model (docs/model.md section 9): one decode iteration, {} mode{}",
                   to_string(r.mode),
                   capacity ? " (how many of each adapter's offered tokens to serve is decided; section 9.12)" : ""));
  line(fmt::format("transformer: {} (h = {}, f = {}, L = {}, heads {}/{} kv, head_dim {}, {}; {})", sh.name, sh.hidden,
                   sh.intermediate, sh.layers, sh.heads, sh.kv_heads, sh.head_dim, sh.dtype, sh.source));
  line(fmt::format("{}: {} tokens over {} adapters, context {} tokens{}", capacity ? "offered" : "batch", w.tokens(),
                   w.adapters.size(), w.context_tokens,
                   w.generator.empty() ? "" : fmt::format(" (generated: {})", w.generator)));
  const std::size_t shown = std::min<std::size_t>(w.adapters.size(), 20);
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& a = w.adapters[i];
    std::vector<std::string_view> mods;
    for (std::size_t m = 0; m < kModuleCount; ++m) {
      if ((a.modules & (1U << m)) != 0) mods.push_back(to_string(static_cast<Module>(m)));
    }
    const std::string tokens = capacity && r.feasible && i < r.served.size()
                                   ? fmt::format("{:>4} of {:>4}", r.served[i], a.tokens)
                                   : std::to_string(a.tokens);
    line(fmt::format("  {:<12} rank {:>4}  {:>8} tokens{}  weights on {:<4}  modules {}", a.name, a.rank, tokens,
                     capacity && r.feasible ? " served" : "", to_string(a.weights), fmt::join(mods, ",")));
  }
  if (shown < w.adapters.size()) line(fmt::format("  ... and {} more (JSON lists every one)", w.adapters.size() - shown));
  const ServingHardware& hw = r.hardware;
  line(fmt::format("GPU:    F_g = {} FLOP/s (flops x efficiency), W_g = {} B/s, o_g = {}, memory {} B",
                   format_exact(hw.gpu_flops), format_exact(hw.gpu_bandwidth), seconds_text(hw.gpu_overhead_s),
                   format_exact(hw.gpu_memory)));
  const std::string device_memory = hw.cxl_memory ? format_exact(*hw.cxl_memory) + " B" : std::string("not limited");
  if (hw.device_computes()) {
    line(fmt::format("device: F_c = {} FLOP/s, W_c = {} B/s, o_c = {}, memory {}", format_exact(hw.cxl_flops),
                     format_exact(hw.cxl_bandwidth), seconds_text(hw.cxl_overhead_s), device_memory));
  } else {
    line(fmt::format("device: no compute (cxl.flops = 0: a memory expander; the GPU fetches the adapters it "
                     "holds), W_c = {} B/s, memory {}",
                     format_exact(hw.cxl_bandwidth), device_memory));
  }
  line(fmt::format("link:   {} B/s each way, latency {}; transfers at {} B/s (the lesser of the link's rate and W_c)",
                   format_exact(hw.link_bandwidth), seconds_text(hw.link_latency_s),
                   format_exact(hw.transfer_bandwidth())));
  line("");
  if (!r.feasible) {
    line(fmt::format("status: infeasible: {}", r.reason));
  } else {
    if (capacity) {
      line(fmt::format("status: optimal (exact; Dinkelbach over one program of every stage, {} searches for the optimum "
                       "and the three baselines, their branch and bound closed: {} nodes, {} of them by an exact LP, "
                       "{} pivots; simulated stage times equal the model's)",
                       r.dinkelbach_iterations, r.nodes, r.exact_lps, r.pivots));
      line(fmt::format("served:         {} of {} offered tokens", detail::total_tokens(r.served), w.tokens()));
    } else if (r.proved_optimal) {
      line(fmt::format("status: optimal (exact; branch and bound closed: {} nodes, {} of them by an exact LP, {} "
                       "pivots, {} classes of adapters at most in a stage; simulated stage times equal the model's)",
                       r.nodes, r.exact_lps, r.pivots, r.classes));
    } else {
      line(fmt::format("status: feasible, not proved optimal: the optimum's iteration time is at least {} ({} s "
                       "exactly), at most {} % below this plan's (--gap or --node-limit closed part of the tree: {} "
                       "nodes, {} of them by an exact LP, {} pivots; simulated stage times equal the model's)",
                       seconds_text(r.lower_bound_s), format_exact(r.lower_bound_s),
                       fmt::format("{:.3g}", 100 * to_double(1 - r.lower_bound_s / r.eval.iteration_s)), r.nodes,
                       r.exact_lps, r.pivots));
    }
    line(fmt::format("iteration time: {} ({} s exactly)", seconds_text(r.eval.iteration_s),
                     format_exact(r.eval.iteration_s)));
    line(fmt::format("throughput:     {} tokens/s", rate_text(r.eval.tokens_per_s)));
  }
  line("");
  line("baselines (iteration time, throughput, optimum's gain over it):");
  for (const auto& b : r.baselines) {
    if (!b.eval.feasible) {
      line(fmt::format("  {:<10} infeasible: {} ({})", b.name, b.eval.reason, describe_baseline(b.name)));
      continue;
    }
    line(fmt::format("  {:<10} {:>12}  {:>12} tokens/s  {}  ({})", b.name, seconds_text(b.eval.iteration_s),
                     rate_text(b.eval.tokens_per_s),
                     r.feasible ? percent(r.eval.tokens_per_s, b.eval.tokens_per_s) : std::string("-"),
                     describe_baseline(b.name)));
  }
  if (!r.feasible) return out;
  line("");
  line("per layer, per stage (the plan's tokens on gpu / split / device; item times; M = memory-bound, C = compute-bound):");
  for (const auto& st : r.eval.stages) {
    const auto s = static_cast<std::size_t>(st.stage);
    line(fmt::format("  {:<9} {:>12}  critical path: {}", to_string(st.stage), seconds_text(st.seconds),
                     st.critical_path));
    std::string items;
    for (const auto& it : st.items) {
      if (!it.runs) continue;
      items += fmt::format("{}{} {}{}", items.empty() ? "" : ", ", it.name, seconds_text(it.seconds),
                           it.transfer ? "" : (it.memory_bound ? " M" : " C"));
    }
    line(fmt::format("            {}", items));
    std::size_t listed = 0, more = 0;
    for (std::size_t i = 0; i < w.adapters.size(); ++i) {
      const auto& t = r.plan.tokens[s][i];
      if (!detail::adapter_has_work(w.adapters[i], st.stage) || w.adapters[i].tokens == 0 ||
          (i < r.served.size() && r.served[i] == 0)) {
        continue;
      }
      if (listed == 20) {
        ++more;
        continue;
      }
      line(fmt::format("            {:<12} {} / {} / {}", w.adapters[i].name, t[0], t[1], t[2]));
      ++listed;
    }
    if (more > 0) line(fmt::format("            ... and {} more adapters (JSON lists the whole plan)", more));
  }
  line("");
  line(fmt::format("memory: GPU {} of {} B; device {}{}", format_exact(r.eval.memory.gpu_bytes),
                   format_exact(r.eval.memory.gpu_capacity), format_exact(r.eval.memory.device_bytes),
                   r.eval.memory.device_capacity ? fmt::format(" of {} B", format_exact(*r.eval.memory.device_capacity))
                                                 : std::string(" B (cxl.memory_bytes not set: no limit)")));
  return out;
}

std::string render_serving_json(const ServingWorkload& w, const ServingResult& r) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["status"] = !r.feasible ? "infeasible" : r.proved_optimal ? "optimal" : "feasible";
  j["model"] = "serving";
  j["mode"] = std::string(to_string(r.mode));
  if (!r.feasible) j["reason"] = r.reason;
  const auto num = [](const Rational& x) { return to_double(x); };
  if (r.feasible) {
    j["iteration_time_s"] = num(r.eval.iteration_s);
    j["iteration_time_s_exact"] = format_fraction(r.eval.iteration_s);
    j["throughput_tokens_per_s"] = num(r.eval.tokens_per_s);
    j["throughput_tokens_per_s_exact"] = format_fraction(r.eval.tokens_per_s);
  } else {
    j["iteration_time_s"] = nullptr;
    j["iteration_time_s_exact"] = nullptr;
    j["throughput_tokens_per_s"] = nullptr;
    j["throughput_tokens_per_s_exact"] = nullptr;
  }
  const auto& fetch = baseline(r, "gpu_fetch");
  const auto& hbm = baseline(r, "gpu_hbm");
  j["gain_percent"] = r.feasible && fetch.eval.feasible ? ordered_json(100.0 * (to_double(r.eval.tokens_per_s / fetch.eval.tokens_per_s) - 1.0))
                                                        : ordered_json(nullptr);
  j["gain_over_gpu_hbm_percent"] = r.feasible && hbm.eval.feasible
                                       ? ordered_json(100.0 * (to_double(r.eval.tokens_per_s / hbm.eval.tokens_per_s) - 1.0))
                                       : ordered_json(nullptr);
  ordered_json base = ordered_json::object();
  for (const auto& b : r.baselines) {
    ordered_json x;
    x["status"] = b.eval.feasible ? "feasible" : "infeasible";
    if (!b.eval.feasible) x["reason"] = b.eval.reason;
    if (b.eval.feasible) {
      x["iteration_time_s"] = num(b.eval.iteration_s);
      x["iteration_time_s_exact"] = format_fraction(b.eval.iteration_s);
      x["throughput_tokens_per_s"] = num(b.eval.tokens_per_s);
      x["throughput_tokens_per_s_exact"] = format_fraction(b.eval.tokens_per_s);
    } else {
      for (const char* k : {"iteration_time_s", "iteration_time_s_exact", "throughput_tokens_per_s",
                            "throughput_tokens_per_s_exact"}) {
        x[k] = nullptr;
      }
    }
    if (r.mode == ServingMode::kCapacity) {
      x["served_tokens"] = b.eval.feasible ? ordered_json(detail::total_tokens(b.served)) : ordered_json(nullptr);
    }
    x["description"] = describe_baseline(b.name);
    base[b.name] = x;
  }
  j["baselines"] = base;
  ordered_json plan = ordered_json::array();
  for (std::size_t s = 0; s < kServingStageCount && r.feasible; ++s) {
    for (std::size_t i = 0; i < w.adapters.size(); ++i) {
      for (std::size_t p = 0; p < 3; ++p) {
        const auto t = r.plan.tokens[s][i][p];
        if (t == 0) continue;
        if (!detail::adapter_has_work(w.adapters[i], static_cast<ServingStage>(s))) continue;
        plan.push_back({{"adapter", w.adapters[i].name},
                        {"stage", to_string(static_cast<ServingStage>(s))},
                        {"path", to_string(static_cast<ServingPath>(p))},
                        {"tokens", t}});
      }
    }
  }
  j["plan"] = plan;
  ordered_json stages = ordered_json::array();
  for (const auto& st : r.feasible ? r.eval.stages : std::vector<ServingStageTime>{}) {
    ordered_json x;
    x["stage"] = to_string(st.stage);
    x["seconds"] = num(st.seconds);
    x["seconds_exact"] = format_fraction(st.seconds);
    x["critical_path"] = st.critical_path;
    ordered_json items = ordered_json::array();
    for (const auto& it : st.items) {
      if (!it.runs) continue;
      ordered_json y;
      y["item"] = it.name;
      y["resource"] = it.resource;
      y["seconds_exact"] = format_fraction(it.seconds);
      y["flops"] = num(it.flops);
      y["bytes"] = num(it.bytes);
      if (!it.transfer) y["bound"] = it.memory_bound ? "memory" : "compute";
      items.push_back(y);
    }
    x["items"] = items;
    stages.push_back(x);
  }
  j["stages"] = stages;
  ordered_json mem;
  mem["gpu"] = num(r.eval.memory.gpu_bytes);
  mem["gpu_exact"] = format_fraction(r.eval.memory.gpu_bytes);
  mem["gpu_capacity"] = num(r.eval.memory.gpu_capacity);
  mem["gpu_capacity_exact"] = format_fraction(r.eval.memory.gpu_capacity);
  mem["device"] = num(r.eval.memory.device_bytes);
  mem["device_exact"] = format_fraction(r.eval.memory.device_bytes);
  mem["device_capacity"] = r.eval.memory.device_capacity ? ordered_json(num(*r.eval.memory.device_capacity))
                                                         : ordered_json(nullptr);
  mem["device_capacity_exact"] = r.eval.memory.device_capacity
                                     ? ordered_json(format_fraction(*r.eval.memory.device_capacity))
                                     : ordered_json(nullptr);
  j["memory_bytes"] = mem;
  j["certificate"] = {{"method", r.mode == ServingMode::kCapacity
                                     ? "Dinkelbach over one program of every stage; each search a branch and bound in "
                                       "which LPs in double precision propose and exact bounds close every node"
                                     : "branch and bound per stage: LPs in double precision propose, exact bounds "
                                       "(from their duals, or an exact rational LP) close every node"},
                      {"dinkelbach_iterations", r.dinkelbach_iterations},
                      {"nodes", r.nodes},
                      {"exact_lps", r.exact_lps},
                      {"pivots", r.pivots},
                      {"fixed_bounds", r.fixed_bounds},
                      {"classes", r.classes},
                      {"proved_optimal", r.proved_optimal},
                      {"lower_bound_iteration_time_s", r.feasible ? ordered_json(num(r.lower_bound_s)) : nullptr},
                      {"lower_bound_iteration_time_s_exact",
                       r.feasible ? ordered_json(format_fraction(r.lower_bound_s)) : nullptr},
                      {"simulated_equal", r.simulated_equal}};
  ordered_json transformer;
  transformer["name"] = w.shape.name;
  transformer["source"] = w.shape.source;
  transformer["hidden_size"] = w.shape.hidden;
  transformer["intermediate_size"] = w.shape.intermediate;
  transformer["num_hidden_layers"] = w.shape.layers;
  transformer["num_attention_heads"] = w.shape.heads;
  transformer["num_key_value_heads"] = w.shape.kv_heads;
  transformer["head_dim"] = w.shape.head_dim;
  transformer["dtype"] = w.shape.dtype;
  j["transformer"] = transformer;
  const ServingHardware& hw = r.hardware;
  j["hardware"] = {{"gpu_flops_effective", format_fraction(hw.gpu_flops)},
                   {"gpu_memory_bandwidth_bytes_per_s", format_fraction(hw.gpu_bandwidth)},
                   {"gpu_kernel_overhead_s", format_fraction(hw.gpu_overhead_s)},
                   {"gpu_memory_bytes", format_fraction(hw.gpu_memory)},
                   {"cxl_flops_effective", format_fraction(hw.cxl_flops)},
                   {"cxl_memory_bandwidth_bytes_per_s", format_fraction(hw.cxl_bandwidth)},
                   // A device without compute runs no kernel: its kernel overhead is not read (null).
                   {"cxl_kernel_overhead_s",
                    hw.device_computes() ? ordered_json(format_fraction(hw.cxl_overhead_s)) : ordered_json(nullptr)},
                   {"cxl_memory_bytes", hw.cxl_memory ? ordered_json(format_fraction(*hw.cxl_memory)) : ordered_json(nullptr)},
                   {"link_bandwidth_bytes_per_s", format_fraction(hw.link_bandwidth)},
                   {"link_latency_s", format_fraction(hw.link_latency_s)},
                   {"transfer_bandwidth_bytes_per_s", format_fraction(hw.transfer_bandwidth())}};
  ordered_json adapters = ordered_json::array();
  for (const auto& a : w.adapters) {
    ordered_json mods = ordered_json::array();
    for (std::size_t m = 0; m < kModuleCount; ++m) {
      if ((a.modules & (1U << m)) != 0) mods.push_back(std::string(to_string(static_cast<Module>(m))));
    }
    adapters.push_back({{"name", a.name},
                        {"rank", a.rank},
                        {"tokens", a.tokens},
                        {"weights", std::string(to_string(a.weights))},
                        {"modules", mods}});
    if (r.mode == ServingMode::kCapacity) {  // the tokens the plan serves of those offered
      const std::size_t i = adapters.size() - 1;
      adapters.back()["served_tokens"] = r.feasible && i < r.served.size() ? ordered_json(r.served[i]) : ordered_json(nullptr);
    }
  }
  j["adapters"] = adapters;
  // Names come from the user's files: bytes that are not UTF-8 are replaced, not thrown on.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lorasplit
