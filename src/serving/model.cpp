// The serving model's physics (docs/model.md §9.2-§9.5): the stage graph, each item's
// work and roofline time, a plan's exact stage times by the longest path, the memory rows,
// and the event-by-event simulation of the same graph.
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "serving/graph.hpp"

namespace lorasplit {
namespace detail {

const std::array<ServingItemDef, kServingItems>& serving_items() {
  static const std::array<ServingItemDef, kServingItems> items = {{
      {"base", "gpu", false},
      {"shrink_gpu", "gpu", false},
      {"expand_gpu", "gpu", false},
      {"shrink_cxl", "cxl", false},
      {"expand_cxl", "cxl", false},
      {"fetch", "link.to_gpu", true},
      {"x_in", "link.to_device", true},
      {"y_back", "link.to_gpu", true},
      {"z_back", "link.to_gpu", true},
  }};
  return items;
}

const ServingItemDef& item_def(ServingItemId id) { return serving_items()[static_cast<std::size_t>(id)]; }

const std::vector<std::string_view>& serving_resources() {
  static const std::vector<std::string_view> resources = [] {
    std::vector<std::string_view> out;
    for (const auto& d : serving_items()) {
      if (std::find(out.begin(), out.end(), d.resource) == out.end()) out.push_back(d.resource);
    }
    return out;
  }();
  return resources;
}

const std::vector<ServingEdge>& serving_edges() {
  using I = ServingItemId;
  static const std::vector<ServingEdge> edges = [] {
    std::vector<ServingEdge> out;
    // Each resource's order: consecutive items of one resource in the table.
    const auto& items = serving_items();
    for (std::size_t i = 0; i < kServingItems; ++i) {
      for (std::size_t j = i + 1; j < kServingItems; ++j) {
        if (items[j].resource != items[i].resource) continue;
        out.push_back({static_cast<I>(i), static_cast<I>(j), false});
        break;
      }
    }
    // Data: the GPU's kernels need the fetched weights, the device's the input, the
    // transfers back their kernel's result, and the expand the device's Y and Z.
    out.push_back({I::kFetch, I::kShrinkGpu, true});
    out.push_back({I::kFetch, I::kExpandGpu, true});
    out.push_back({I::kXIn, I::kShrinkCxl, true});
    out.push_back({I::kShrinkCxl, I::kYBack, true});
    out.push_back({I::kExpandCxl, I::kZBack, true});
    out.push_back({I::kYBack, I::kExpandGpu, true});
    out.push_back({I::kZBack, I::kExpandGpu, true});
    return out;
  }();
  return edges;
}

const std::vector<ServingGraphPath>& serving_paths() {
  static const std::vector<ServingGraphPath> paths = [] {
    std::vector<ServingGraphPath> out;
    // Backwards from expand_gpu over the edges into each item.
    std::vector<std::pair<std::vector<ServingItemId>, std::vector<char>>> stack;
    stack.push_back({{ServingItemId::kExpandGpu}, {0}});
    while (!stack.empty()) {
      auto [items, lat] = std::move(stack.back());
      stack.pop_back();
      bool has_pred = false;
      for (const auto& e : serving_edges()) {
        if (e.to != items.front()) continue;
        has_pred = true;
        auto i2 = items;
        auto l2 = lat;
        i2.insert(i2.begin(), e.from);
        l2.insert(l2.begin(), static_cast<char>(e.data && item_def(e.from).transfer ? 1 : 0));
        stack.push_back({std::move(i2), std::move(l2)});
      }
      if (!has_pred) out.push_back({std::move(items), std::move(lat)});
    }
    return out;
  }();
  return paths;
}

std::pair<std::int64_t, std::int64_t> module_dims(const TransformerShape& s, Module m) {
  const std::int64_t q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
  switch (m) {
    case Module::kQ: return {s.hidden, q};
    case Module::kK: return {s.hidden, kv};
    case Module::kV: return {s.hidden, kv};
    case Module::kO: return {q, s.hidden};
    case Module::kGate: return {s.hidden, s.intermediate};
    case Module::kUp: return {s.hidden, s.intermediate};
    case Module::kDown: return {s.intermediate, s.hidden};
  }
  return {0, 0};
}

ServingStage stage_of(Module m) {
  switch (m) {
    case Module::kQ:
    case Module::kK:
    case Module::kV: return ServingStage::kQkv;
    case Module::kO: return ServingStage::kO;
    case Module::kGate:
    case Module::kUp: return ServingStage::kGateUp;
    case Module::kDown: return ServingStage::kDown;
  }
  return ServingStage::kAttention;
}

StageShape stage_shape(const TransformerShape& shape, ServingStage s) {
  StageShape out{0, 0, 0};
  for (std::size_t m = 0; m < kModuleCount; ++m) {
    const auto mod = static_cast<Module>(m);
    if (stage_of(mod) != s) continue;
    const auto [din, dout] = module_dims(shape, mod);
    out.din = din;
    out.weights += Integer(din) * dout;
    out.outs += dout;
  }
  return out;
}

bool adapter_has_work(const ServingAdapter& a, ServingStage s) {
  for (std::size_t m = 0; m < kModuleCount; ++m) {
    if (stage_of(static_cast<Module>(m)) == s && (a.modules & (1U << m)) != 0) return true;
  }
  return false;
}

AdapterStageWork adapter_work(const TransformerShape& shape, const ServingAdapter& a, ServingStage s) {
  AdapterStageWork out;
  out.sa = out.sb = out.r = out.o = out.in = 0;
  for (std::size_t m = 0; m < kModuleCount; ++m) {
    const auto mod = static_cast<Module>(m);
    if (stage_of(mod) != s || (a.modules & (1U << m)) == 0) continue;
    const auto [din, dout] = module_dims(shape, mod);
    out.any = true;
    out.sa += Integer(din) * a.rank;
    out.sb += Integer(dout) * a.rank;
    out.r += a.rank;
    out.o += dout;
    out.in += din;
  }
  return out;
}

std::array<ItemWork, kServingItems> stage_work(const ServingWorkload& w, const ServingPlan& plan, ServingStage s,
                                               bool all_in_hbm) {
  std::array<ItemWork, kServingItems> out;
  for (auto& x : out) x = {Rational(0), Rational(0), false};
  const auto& shape = w.shape;
  const Rational e(shape.element_bytes);
  const Integer tokens = w.tokens();
  const auto at = [&](ServingItemId id) -> ItemWork& { return out[static_cast<std::size_t>(id)]; };
  ItemWork& base = at(ServingItemId::kBase);
  if (s == ServingStage::kAttention) {
    const Integer c = w.context_tokens, q = Integer(shape.heads) * shape.head_dim,
                  kv = Integer(shape.kv_heads) * shape.head_dim;
    base.flops = Rational(4 * tokens * c * q);
    base.bytes = e * Rational(tokens * (2 * c * kv + 2 * kv + 2 * q));
    base.runs = true;
    return out;
  }
  const StageShape ss = stage_shape(shape, s);
  base.flops = Rational(2 * tokens * ss.weights);
  base.bytes = e * Rational(ss.weights + tokens * (ss.din + ss.outs));
  base.runs = true;
  const auto& row = plan.tokens[static_cast<std::size_t>(s)];
  // Every adapter's FLOPs and elements are integers: they are summed as integers and turned
  // into FLOPs and bytes once (the same exact values as summing them one by one).
  std::array<Integer, kServingItems> flops, elements;
  for (std::size_t i = 0; i < w.adapters.size(); ++i) {
    if (row[i][0] == 0 && row[i][1] == 0 && row[i][2] == 0) continue;  // no token: no work, nothing read
    const ServingAdapter& a = w.adapters[i];
    const AdapterStageWork aw = adapter_work(shape, a, s);
    if (!aw.any) continue;
    const Integer g = row[i][0], p = row[i][1], c = row[i][2];
    const bool uga = g > 0, ugb = g + p > 0, uda = p + c > 0, udb = c > 0;
    const auto k = [](ServingItemId id) { return static_cast<std::size_t>(id); };
    flops[k(ServingItemId::kShrinkGpu)] += 2 * aw.sa * g;
    elements[k(ServingItemId::kShrinkGpu)] += (uga ? aw.sa : Integer(0)) + g * (aw.in + aw.r);
    at(ServingItemId::kShrinkGpu).runs = at(ServingItemId::kShrinkGpu).runs || uga;
    flops[k(ServingItemId::kExpandGpu)] += 2 * aw.sb * (g + p) + aw.o * c;
    elements[k(ServingItemId::kExpandGpu)] += (ugb ? aw.sb : Integer(0)) + (g + p) * (aw.r + 2 * aw.o) + c * 3 * aw.o;
    at(ServingItemId::kExpandGpu).runs = at(ServingItemId::kExpandGpu).runs || ugb || udb;
    flops[k(ServingItemId::kShrinkCxl)] += 2 * aw.sa * (p + c);
    elements[k(ServingItemId::kShrinkCxl)] += (uda ? aw.sa : Integer(0)) + (p + c) * (aw.in + aw.r);
    at(ServingItemId::kShrinkCxl).runs = at(ServingItemId::kShrinkCxl).runs || uda;
    flops[k(ServingItemId::kExpandCxl)] += 2 * aw.sb * c;
    elements[k(ServingItemId::kExpandCxl)] += (udb ? aw.sb : Integer(0)) + c * (aw.r + aw.o);
    at(ServingItemId::kExpandCxl).runs = at(ServingItemId::kExpandCxl).runs || udb;
    if (a.weights == Residency::kCxl && !all_in_hbm) {
      elements[k(ServingItemId::kFetch)] += (uga ? aw.sa : Integer(0)) + (ugb ? aw.sb : Integer(0));
    }
    elements[k(ServingItemId::kXIn)] += ss.din * (p + c);
    elements[k(ServingItemId::kYBack)] += aw.r * p;
    elements[k(ServingItemId::kZBack)] += aw.o * c;
  }
  for (std::size_t id = 0; id < kServingItems; ++id) {
    if (id == static_cast<std::size_t>(ServingItemId::kBase)) continue;
    out[id].flops = Rational(flops[id]);
    out[id].bytes = e * Rational(elements[id]);
  }
  for (const auto id : {ServingItemId::kFetch, ServingItemId::kXIn, ServingItemId::kYBack, ServingItemId::kZBack}) {
    at(id).runs = at(id).bytes > 0;
  }
  return out;
}

Rational item_seconds(ServingItemId id, const ItemWork& work, const ServingHardware& hw, bool* memory_bound) {
  if (memory_bound != nullptr) *memory_bound = false;
  if (!work.runs) return Rational(0);
  const ServingItemDef& def = item_def(id);
  if (def.transfer) return work.bytes / hw.transfer_bandwidth();
  const bool gpu = def.resource == "gpu";
  const Rational& f = gpu ? hw.gpu_flops : hw.cxl_flops;
  const Rational& bw = gpu ? hw.gpu_bandwidth : hw.cxl_bandwidth;
  // A device without compute runs no kernel: every plan is checked for that before it is
  // timed (device_use_without_compute), so a zero rate is never divided by here.
  const Rational compute = f > 0 ? Rational(work.flops / f) : Rational(0);
  const Rational memory = bw > 0 ? Rational(work.bytes / bw) : Rational(0);
  if (memory_bound != nullptr) *memory_bound = memory >= compute;
  return (gpu ? hw.gpu_overhead_s : hw.cxl_overhead_s) + std::max(compute, memory);
}

}  // namespace detail

using detail::ServingItemId;

ServingPlan uniform_plan(const ServingWorkload& w, ServingPath path) {
  ServingPlan plan;
  plan.tokens.assign(kServingStageCount, std::vector<std::array<std::int64_t, 3>>(w.adapters.size(), {0, 0, 0}));
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    for (std::size_t i = 0; i < w.adapters.size(); ++i) {
      const auto& a = w.adapters[i];
      const bool device_ok = a.weights != Residency::kGpu &&
                             detail::adapter_has_work(a, static_cast<ServingStage>(s));
      plan.tokens[s][i][device_ok ? static_cast<std::size_t>(path) : 0] = a.tokens;
    }
  }
  return plan;
}

Result<ServingHardware> serving_hardware(const Params& p, bool capacity) {
  if (auto st = validate_serving(p, capacity); !st) return st.error();
  ServingHardware hw;
  hw.gpu_flops = p.gpu_flops() * p.gpu_efficiency();
  hw.cxl_flops = p.cxl_flops() * p.cxl_efficiency();
  hw.gpu_bandwidth = p.get(ParamId::kGpuMemoryBandwidthBytesPerS);
  hw.gpu_overhead_s = p.get(ParamId::kGpuKernelOverheadS);
  // Every transfer reads or writes the device's memory, so its bandwidth is read for every
  // device; a device without compute (cxl.flops = 0) runs no kernel: its kernel overhead
  // is not read (0 here, whatever a part before it set).
  hw.cxl_bandwidth = p.get(ParamId::kCxlMemoryBandwidthBytesPerS);
  if (hw.cxl_flops > 0) hw.cxl_overhead_s = p.get(ParamId::kCxlKernelOverheadS);
  hw.gpu_memory = p.gpu_memory_bytes();
  if (p.has(ParamId::kCxlMemoryBytes)) hw.cxl_memory = p.get(ParamId::kCxlMemoryBytes);
  hw.link_bandwidth = p.link_bandwidth_bytes_per_s();
  hw.link_latency_s = p.link_latency_s();
  return hw;
}

Status check_serving_plan(const ServingWorkload& w, const ServingPlan& plan) {
  const auto bad = [](const std::string& why) {
    return Error{ErrorCode::kBadOption, "plan", "", fmt::format("plan: {}", why)};
  };
  if (plan.tokens.size() != kServingStageCount) return bad(fmt::format("{} stages, expected 5", plan.tokens.size()));
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    const auto stage = static_cast<ServingStage>(s);
    if (plan.tokens[s].size() != w.adapters.size()) {
      return bad(fmt::format("stage {} has {} adapters, the workload {}", to_string(stage), plan.tokens[s].size(),
                             w.adapters.size()));
    }
    for (std::size_t i = 0; i < w.adapters.size(); ++i) {
      const auto& a = w.adapters[i];
      const auto& t = plan.tokens[s][i];
      if (t[0] < 0 || t[1] < 0 || t[2] < 0 || t[0] + t[1] + t[2] != a.tokens) {
        return bad(fmt::format("adapter {} in stage {}: {} + {} + {} tokens, it has {}", a.name, to_string(stage), t[0],
                               t[1], t[2], a.tokens));
      }
      const bool work = detail::adapter_has_work(a, stage);
      if ((t[1] != 0 || t[2] != 0) && (!work || a.weights == Residency::kGpu)) {
        return bad(fmt::format("adapter {} in stage {}: device paths need {}", a.name, to_string(stage),
                               work ? "its weights on the device" : "a module in the stage"));
      }
    }
  }
  return {};
}

namespace {

ServingMemory memory_of(const ServingWorkload& w, const ServingHardware& hw, bool all_in_hbm) {
  ServingMemory m;
  const auto& shape = w.shape;
  const Integer e = shape.element_bytes, layers = shape.layers, tokens = w.tokens();
  Integer base = 0, act = 0;
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    const auto stage = static_cast<ServingStage>(s);
    if (stage == ServingStage::kAttention) continue;
    const auto ss = detail::stage_shape(shape, stage);
    base += ss.weights;
    act = std::max(act, Integer(tokens * (ss.din + ss.outs)));
  }
  const Integer kv = 2 * layers * shape.kv_heads * shape.head_dim * w.context_tokens * tokens;
  Integer gpu_adapters = 0, dev_adapters = 0, buffer = 0;
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    Integer fetched = 0;
    for (const auto& a : w.adapters) {
      const auto aw = detail::adapter_work(shape, a, static_cast<ServingStage>(s));
      if (!aw.any) continue;
      const Integer bytes = aw.sa + aw.sb;
      if (a.weights != Residency::kCxl || all_in_hbm) gpu_adapters += layers * bytes;
      if (a.weights != Residency::kGpu && !all_in_hbm) dev_adapters += layers * bytes;
      if (a.weights == Residency::kCxl && !all_in_hbm) fetched += bytes;
    }
    buffer = std::max(buffer, fetched);
  }
  m.gpu_bytes = Rational(e * (layers * base + kv + gpu_adapters + buffer + act));
  m.device_bytes = Rational(e * dev_adapters);  // its activation buffers are not counted (§9.5)
  m.gpu_capacity = hw.gpu_memory;
  m.device_capacity = hw.cxl_memory;
  return m;
}

}  // namespace

namespace detail {
std::optional<std::string> device_use_without_compute(const ServingWorkload& w, const ServingHardware& hw,
                                                      const ServingPlan& plan) {
  if (hw.device_computes()) return std::nullopt;
  for (std::size_t s = 0; s < plan.tokens.size(); ++s) {
    for (std::size_t i = 0; i < plan.tokens[s].size() && i < w.adapters.size(); ++i) {
      const auto& t = plan.tokens[s][i];
      if (t[1] == 0 && t[2] == 0) continue;
      return fmt::format("the device has no compute (cxl.flops = 0: a memory expander), and the plan sends {} "
                         "token(s) of adapter {} in stage {} to it",
                         t[1] + t[2], w.adapters[i].name, to_string(static_cast<ServingStage>(s)));
    }
  }
  return std::nullopt;
}

Rational device_share(const ServingWorkload& w, const ServingPlan& plan) {
  Integer lora = 0, device = 0;
  for (std::size_t s = 0; s < plan.tokens.size(); ++s) {
    for (std::size_t i = 0; i < w.adapters.size(); ++i) {
      if (!adapter_has_work(w.adapters[i], static_cast<ServingStage>(s))) continue;
      const auto& t = plan.tokens[s][i];
      lora += t[0] + t[1] + t[2];
      device += t[1] + t[2];
    }
  }
  if (lora == 0) return Rational(0);
  Rational share(device, lora);
  share.canonicalize();  // mpq_class(num, den) is not reduced
  return share;
}

ServingStageTime evaluate_stage(const ServingWorkload& w, const ServingHardware& hw, const ServingPlan& plan,
                                ServingStage stage, bool all_in_hbm) {
  const auto work = detail::stage_work(w, plan, stage, all_in_hbm);
  ServingStageTime st;
  st.stage = stage;
  std::array<Rational, detail::kServingItems> dur;
  for (std::size_t k = 0; k < detail::kServingItems; ++k) {
    const auto id = static_cast<ServingItemId>(k);
    ServingItem item;
    item.name = std::string(detail::item_def(id).name);
    if (stage == ServingStage::kAttention && id == ServingItemId::kBase) item.name = "attention";
    item.resource = std::string(detail::item_def(id).resource);
    item.transfer = detail::item_def(id).transfer;
    item.runs = work[k].runs;
    item.flops = work[k].flops;
    item.bytes = work[k].bytes;
    item.seconds = detail::item_seconds(id, work[k], hw, &item.memory_bound);
    dur[k] = item.seconds;
    st.items.push_back(std::move(item));
  }
  // The longest path (docs/model.md §9.4).
  const detail::ServingGraphPath* best = nullptr;
  for (const auto& path : detail::serving_paths()) {
    Rational len = 0;
    for (std::size_t i = 0; i < path.items.size(); ++i) {
      const auto k = static_cast<std::size_t>(path.items[i]);
      len += dur[k];
      if (path.latency_after[i] != 0 && work[k].runs) len += hw.link_latency_s;
    }
    if (best == nullptr || len > st.seconds) {
      st.seconds = len;
      best = &path;
    }
  }
  std::string names;
  for (const auto id : best->items) {
    if (!work[static_cast<std::size_t>(id)].runs) continue;
    names += (names.empty() ? "" : " > ") + st.items[static_cast<std::size_t>(id)].name;
  }
  st.critical_path = names;
  return st;
}
}  // namespace detail

ServingEvaluation evaluate_serving(const ServingWorkload& w, const ServingHardware& hw, const ServingPlan& plan,
                                   bool all_in_hbm) {
  ServingEvaluation out;
  out.memory = memory_of(w, hw, all_in_hbm);
  Rational layer = 0;
  for (std::size_t s = 0; s < kServingStageCount; ++s) {
    ServingStageTime st = detail::evaluate_stage(w, hw, plan, static_cast<ServingStage>(s), all_in_hbm);
    layer += st.seconds;
    out.stages.push_back(std::move(st));
  }
  out.iteration_s = layer * w.shape.layers;
  out.tokens_per_s = Rational(w.tokens()) / out.iteration_s;
  out.feasible = true;
  if (out.memory.gpu_bytes > out.memory.gpu_capacity) {
    out.feasible = false;
    out.reason = fmt::format("the GPU memory row needs {} B (weights, KV cache, adapters, fetch buffer, activations) "
                             "> gpu.memory_bytes = {} B",
                             format_exact(out.memory.gpu_bytes), format_exact(out.memory.gpu_capacity));
  } else if (out.memory.device_capacity && out.memory.device_bytes > *out.memory.device_capacity) {
    out.feasible = false;
    out.reason = fmt::format("the device memory row needs {} B (its adapters) > cxl.memory_bytes = {} B",
                             format_exact(out.memory.device_bytes), format_exact(*out.memory.device_capacity));
  } else if (auto why = detail::device_use_without_compute(w, hw, plan)) {
    out.feasible = false;
    out.reason = std::move(*why);
  }
  return out;
}

std::vector<ServingEvent> simulate_serving_stage(const ServingWorkload& w, const ServingHardware& hw,
                                                 const ServingPlan& plan, ServingStage stage, bool all_in_hbm) {
  // Events: each resource takes its items in order; an item starts when its resource is
  // free and every predecessor's result is usable (a transfer's latency after its last
  // byte, on data edges). Time moves to the next end; items that do not run take no time.
  const auto work = detail::stage_work(w, plan, stage, all_in_hbm);
  std::array<Rational, detail::kServingItems> dur;
  for (std::size_t k = 0; k < detail::kServingItems; ++k) {
    dur[k] = detail::item_seconds(static_cast<ServingItemId>(k), work[k], hw, nullptr);
  }
  std::array<bool, detail::kServingItems> started{}, finished{};
  std::array<Rational, detail::kServingItems> start, end;
  const auto& resources = detail::serving_resources();
  std::vector<ServingEvent> events;
  Rational now = 0;
  std::size_t done = 0;
  while (done < detail::kServingItems) {
    bool progressed = false;
    for (const auto res : resources) {
      // The resource's next item: the first of its items not yet started; busy if the one
      // before it has not finished.
      std::size_t next = detail::kServingItems;
      bool busy = false;
      for (std::size_t k = 0; k < detail::kServingItems; ++k) {
        if (detail::serving_items()[k].resource != res) continue;
        if (started[k] && !finished[k]) busy = true;
        if (!started[k]) {
          next = k;
          break;
        }
      }
      if (busy || next == detail::kServingItems) continue;
      bool ready = true;
      for (const auto& e : detail::serving_edges()) {
        if (static_cast<std::size_t>(e.to) != next || !e.data) continue;
        const auto f = static_cast<std::size_t>(e.from);
        if (!finished[f]) {
          ready = false;
          break;
        }
        Rational usable = end[f];
        if (detail::serving_items()[f].transfer && work[f].runs) usable += hw.link_latency_s;
        if (usable > now) ready = false;
      }
      if (!ready) continue;
      started[next] = true;
      start[next] = now;
      end[next] = now + dur[next];
      progressed = true;
    }
    // Finish what ends now; else move to the next time something ends or becomes usable.
    for (std::size_t k = 0; k < detail::kServingItems; ++k) {
      if (started[k] && !finished[k] && end[k] <= now) {
        finished[k] = true;
        ++done;
        progressed = true;
      }
    }
    if (progressed) continue;
    std::optional<Rational> next_time;
    for (std::size_t k = 0; k < detail::kServingItems; ++k) {
      std::optional<Rational> t;
      if (started[k] && !finished[k]) t = end[k];
      if (finished[k] && detail::serving_items()[k].transfer && work[k].runs) t = end[k] + hw.link_latency_s;
      if (t && *t > now && (!next_time || *t < *next_time)) next_time = t;
    }
    if (!next_time) break;  // nothing can move: a cycle (impossible in this graph)
    now = *next_time;
  }
  for (std::size_t k = 0; k < detail::kServingItems; ++k) {
    const auto& d = detail::serving_items()[k];
    Rational usable = end[k];
    if (d.transfer && work[k].runs) usable += hw.link_latency_s;
    std::string name(d.name);
    if (stage == ServingStage::kAttention && k == 0) name = "attention";
    events.push_back({name, std::string(d.resource), start[k], end[k], usable});
  }
  return events;
}

}  // namespace lorasplit
