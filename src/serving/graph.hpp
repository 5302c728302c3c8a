#pragma once
// The stage graph of the serving model (docs/model.md §9.3-§9.4), written once: its items,
// the resource each runs on and in which order, the data dependencies, and the work of each
// adapter in each stage. The evaluator (formula), the simulator (events) and the planner
// (integer rows) all read it from here.
#include <lorasplit/serving.hpp>

#include <array>
#include <optional>
#include <string>
#include <cstddef>
#include <string_view>
#include <vector>

namespace lorasplit::detail {

enum class ServingItemId : int {
  kBase,  // the base GEMMs of the stage (the attention kernel in the attention stage)
  kShrinkGpu,
  kExpandGpu,
  kShrinkCxl,
  kExpandCxl,
  kFetch,
  kXIn,
  kYBack,
  kZBack,
};
inline constexpr std::size_t kServingItems = 9;

struct ServingItemDef {
  std::string_view name;
  std::string_view resource;  // "gpu", "cxl", "link.to_gpu", "link.to_device"
  bool transfer;
};

/// In each resource's order: GPU base > shrink_gpu > expand_gpu; device shrink_cxl >
/// expand_cxl; to the GPU fetch > y_back > z_back; to the device x_in.
const std::array<ServingItemDef, kServingItems>& serving_items();
const ServingItemDef& item_def(ServingItemId id);
/// The resources of the items, each once, in the order of the items: gpu, cxl,
/// link.to_gpu, link.to_device.
const std::vector<std::string_view>& serving_resources();

/// An edge of the graph: `to` starts after `from` (its end; plus its latency when the edge
/// is a data dependency out of a transfer).
struct ServingEdge {
  ServingItemId from, to;
  bool data;  // a data dependency (true) or the resource's order (false)
};
const std::vector<ServingEdge>& serving_edges();

/// One source-to-end path: its items in order, and after each whether the edge to the next
/// adds the item's latency (a data edge out of a transfer).
struct ServingGraphPath {
  std::vector<ServingItemId> items;
  std::vector<char> latency_after;
};
/// Every path from an item without predecessor to expand_gpu (the stage's end).
const std::vector<ServingGraphPath>& serving_paths();

/// The work of adapter a in stage s (docs/model.md §9.2), in elements.
struct AdapterStageWork {
  bool any{false};             // a has a module in s
  Integer sa, sb, r, o, in;    // SA, SB, R, O, I
};
AdapterStageWork adapter_work(const TransformerShape& shape, const ServingAdapter& a, ServingStage s);
/// Whether a has a module in s (adapter_work's `any`, without its sums).
bool adapter_has_work(const ServingAdapter& a, ServingStage s);

/// din_s, and sum over the stage's modules of din_m * dout_m and of dout_m.
struct StageShape {
  Integer din, weights, outs;
};
StageShape stage_shape(const TransformerShape& shape, ServingStage s);
/// (din_m, dout_m) of module m.
std::pair<std::int64_t, std::int64_t> module_dims(const TransformerShape& shape, Module m);
/// The stage a module belongs to.
ServingStage stage_of(Module m);

/// Flops and bytes of every item of one stage at a plan, and whether it runs.
struct ItemWork {
  Rational flops, bytes;
  bool runs{false};
};
std::array<ItemWork, kServingItems> stage_work(const ServingWorkload& w, const ServingPlan& plan, ServingStage s,
                                               bool all_in_hbm);
/// One stage of a plan evaluated by the formulas (docs/model.md §9.3-§9.4): its items and
/// its time [s], the longest path (evaluate_serving does every stage).
ServingStageTime evaluate_stage(const ServingWorkload& w, const ServingHardware& hw, const ServingPlan& plan,
                                ServingStage stage, bool all_in_hbm = false);
/// The share of the LoRA work's tokens (adapter, stage) that the device touches (paths p
/// and c), over the projection stages where the adapter has modules; 0 without LoRA work.
Rational device_share(const ServingWorkload& w, const ServingPlan& plan);
/// When the device has no compute (cxl.flops = 0) and `plan` sends a token to it: the
/// first such adapter and stage, as a sentence; else nothing.
std::optional<std::string> device_use_without_compute(const ServingWorkload& w, const ServingHardware& hw,
                                                      const ServingPlan& plan);
/// Its duration [s] on its resource.
Rational item_seconds(ServingItemId id, const ItemWork& work, const ServingHardware& hw, bool* memory_bound);

/// The tokens of a plan's adapters, summed (capacity mode: those served).
inline std::int64_t total_tokens(const std::vector<std::int64_t>& served) {
  std::int64_t t = 0;
  for (const auto n : served) t += n;
  return t;
}

}  // namespace lorasplit::detail
