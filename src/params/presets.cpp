#include <lorasplit/params.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <string>

namespace lorasplit {
namespace {

using V = std::vector<std::pair<std::string_view, std::string_view>>;

// The formulation's numbers and the author's other parameter sets (DEVELOPERS brief).
const std::vector<PresetInfo>& table() {
  static const std::vector<PresetInfo> kPresets = {
      {"seed", "the formulation's numbers: 16 GiB, 15.7/1.57 TFLOPS, 16 GiB/s, 1 us, d=512, r=4, fp32",
       V{{"gpu.memory_bytes", "16 GiB"}, {"gpu.flops", "15.7e12"}, {"cxl.flops", "1.57e12"},
         {"link.bandwidth_bytes_per_s", "16 GiB/s"}, {"link.latency_s", "1 us"}, {"lora.d", "512"},
         {"lora.r", "4"}, {"lora.element_bytes", "4"}, {"gpu.efficiency", "1"}, {"cxl.efficiency", "1"},
         {"lora.block_tokens", "1"}, {"lora.max_batch_tokens", "none"}, {"lora.max_batch_latency_s", "none"}}},
      {"seed-256g-d1024", "the seed numbers with 256 GiB of GPU memory and d=1024",
       V{{"gpu.memory_bytes", "256 GiB"}, {"gpu.flops", "15.7e12"}, {"cxl.flops", "1.57e12"},
         {"link.bandwidth_bytes_per_s", "16 GiB/s"}, {"link.latency_s", "1 us"}, {"lora.d", "1024"},
         {"lora.r", "4"}, {"lora.element_bytes", "4"}, {"gpu.efficiency", "1"}, {"cxl.efficiency", "1"},
         {"lora.block_tokens", "1"}, {"lora.max_batch_tokens", "none"}, {"lora.max_batch_latency_s", "none"}}},
      {"a100-128g", "A100-like GPU (312 TFLOPS) with a 4 TFLOPS device, 128 GiB, 128 GiB/s, 1 us, d=512",
       V{{"gpu.memory_bytes", "128 GiB"}, {"gpu.flops", "312e12"}, {"cxl.flops", "4e12"},
         {"link.bandwidth_bytes_per_s", "128 GiB/s"}, {"link.latency_s", "1 us"}, {"lora.d", "512"},
         {"lora.r", "4"}, {"lora.element_bytes", "4"}, {"gpu.efficiency", "1"}, {"cxl.efficiency", "1"},
         {"lora.block_tokens", "1"}, {"lora.max_batch_tokens", "none"}, {"lora.max_batch_latency_s", "none"}}},
      {"a100-fp16-d8192",
       "A100-like fp16 (2-byte elements): 80e9 B, 312/4 TFLOPS at 0.8 efficiency, 128e9 B/s, 0.2 us, d=8192, "
       "batches in blocks of 32 tokens",
       V{{"gpu.memory_bytes", "80e9"}, {"gpu.flops", "312e12"}, {"cxl.flops", "4e12"},
         {"link.bandwidth_bytes_per_s", "128e9"}, {"link.latency_s", "0.2 us"}, {"lora.d", "8192"},
         {"lora.r", "4"}, {"lora.element_bytes", "2"}, {"gpu.efficiency", "0.8"}, {"cxl.efficiency", "0.8"},
         {"lora.block_tokens", "32"}, {"lora.max_batch_tokens", "none"}, {"lora.max_batch_latency_s", "none"}}},
  };
  return kPresets;
}

}  // namespace

std::span<const PresetInfo> presets() { return table(); }

Result<Params> preset(std::string_view name) {
  const auto& all = table();
  const auto it = std::find_if(all.begin(), all.end(), [&](const PresetInfo& p) { return p.name == name; });
  if (it == all.end()) {
    std::string names;
    for (const auto& p : all) names += fmt::format("{}{}", names.empty() ? "" : ", ", std::string(p.name));
    return Error{ErrorCode::kUnknownPreset, "preset", std::string(name),
                 fmt::format("preset = '{}': unknown preset (known: {})", name, names)};
  }
  Params params;
  for (const auto& [key, text] : it->values) {
    if (auto st = set_param(params, key, text); !st) return st.error();
  }
  return params;
}

}  // namespace lorasplit
