#include <lorasplit/params.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace lorasplit {
namespace {

// One row per parameter: the single source of keys, units, ranges and seed values.
// Ranges: docs/model.md §2 says why each bound is where it is.
constexpr std::array<ParamSpec, kParamCount> kSpecs = {{
    {ParamId::kGpuMemoryBytes, "gpu.memory_bytes", "B", Dimension::kBytes, "GPU_MEMORY",
     "GPU memory available to the LoRA batch", "1", true, "1152921504606846976", true, "16 GiB", false},
    {ParamId::kGpuFlops, "gpu.flops", "FLOP/s", Dimension::kFlopsPerSecond, "FLOPS_GPU",
     "GPU peak compute rate for the LoRA matrix products", "1e-30", true, "1e30", false, "15.7e12", false},
    {ParamId::kCxlFlops, "cxl.flops", "FLOP/s", Dimension::kFlopsPerSecond, "FLOPS_CXL",
     "peak compute rate of the CXL memory device", "1e-30", true, "1e30", false, "1.57e12", false},
    {ParamId::kLinkBandwidthBytesPerS, "link.bandwidth_bytes_per_s", "B/s", Dimension::kBytesPerSecond,
     "BAND_WIDTH", "CXL link bandwidth between GPU and device", "1e-30", true, "1e30", false, "16 GiB/s", false},
    {ParamId::kLinkLatencyS, "link.latency_s", "s", Dimension::kSeconds, "LATENCY",
     "CXL link latency, paid once in stage 1", "0", true, "1e30", false, "1 us", false},
    {ParamId::kLoraD, "lora.d", "", Dimension::kCount, "d", "model (hidden) dimension: X is b x d",
     "1", true, "1000000", true, "512", false},
    {ParamId::kLoraR, "lora.r", "", Dimension::kCount, "r", "LoRA rank: A is d x r, B is r x d",
     "1", true, "1000000", true, "4", false},
    {ParamId::kLoraElementBytes, "lora.element_bytes", "B", Dimension::kCount, "4 (bytes/element)",
     "bytes per matrix element (4 = fp32, 2 = fp16/bf16, 1 = fp8)", "1", true, "16", true, "4", false},
    {ParamId::kGpuEfficiency, "gpu.efficiency", "", Dimension::kFraction, "eff_g",
     "achieved fraction of gpu.flops (the GPU runs at eff_g * FLOPS_GPU)", "0", false, "1", false, "1", false},
    {ParamId::kCxlEfficiency, "cxl.efficiency", "", Dimension::kFraction, "eff_c",
     "achieved fraction of cxl.flops (the device runs at eff_c * FLOPS_CXL)", "0", false, "1", false, "1", false},
    {ParamId::kLoraBlockTokens, "lora.block_tokens", "tokens", Dimension::kCount, "k",
     "batch granularity: b1, b2, b3 are multiples of k", "1", true, "1000000000", true, "1", false},
    {ParamId::kLoraMaxBatchTokens, "lora.max_batch_tokens", "tokens", Dimension::kCount, "B_max",
     "optional bound b1+b2+b3 <= B_max", "1", true, "1152921504606846976", true, "none", true},
    {ParamId::kLoraMaxBatchLatencyS, "lora.max_batch_latency_s", "s", Dimension::kSeconds, "T_max",
     "optional bound on the batch time T_GPU_S1 + T_GPU_S2 <= T_max (--max-batch-latency)", "0", false, "1e30",
     false, "none", true},
}};

Rational exact(std::string_view text) {
  auto r = parse_quantity(text, Dimension::kCount, "internal");
  if (!r) throw std::logic_error("bad constant in parameter table: " + std::string(text));
  return r.value();
}

}  // namespace

std::span<const ParamSpec> param_specs() { return kSpecs; }

const ParamSpec* find_param(std::string_view key) {
  const auto it = std::find_if(kSpecs.begin(), kSpecs.end(), [&](const ParamSpec& s) { return s.key == key; });
  return it == kSpecs.end() ? nullptr : &*it;
}

const ParamSpec& spec(ParamId id) { return kSpecs[static_cast<std::size_t>(id)]; }

Params::Params() {
  for (const auto& s : kSpecs) {
    if (s.optional) continue;
    auto value = parse_quantity(s.seed_default, s.dimension, s.key);
    if (!value) throw std::logic_error("bad seed default for " + std::string(s.key));
    set(s.id, value.value());
  }
}

Status check_value(const ParamSpec& s, const Rational& value, std::string_view text) {
  const auto fail = [&](ErrorCode code, const std::string& why) {
    return Error{code, std::string(s.key), std::string(text), fmt::format("{} = '{}': {}", s.key, text, why)};
  };
  const Rational lo = exact(s.min_text);
  const Rational hi = exact(s.max_text);
  const std::string unit = s.unit.empty() ? std::string() : fmt::format(" {}", s.unit);
  if (value < 0) return fail(ErrorCode::kOutOfRange, "must not be negative");
  if (value == 0 && (lo > 0 || !s.min_inclusive)) return fail(ErrorCode::kOutOfRange, "must be greater than zero");
  if (s.integer && value.get_den() != 1) return fail(ErrorCode::kNotInteger, "must be a whole number");
  if (s.min_inclusive ? value < lo : value <= lo) {
    return fail(ErrorCode::kOutOfRange, fmt::format("below the supported range [{}, {}]{}", s.min_text, s.max_text, unit));
  }
  if (value > hi) {
    return fail(ErrorCode::kOutOfRange, fmt::format("above the supported range [{}, {}]{}", s.min_text, s.max_text, unit));
  }
  return {};
}

Status set_param(Params& params, std::string_view key, std::string_view text) {
  const ParamSpec* s = find_param(key);
  if (s == nullptr) {
    return Error{ErrorCode::kUnknownKey, std::string(key), std::string(text),
                 fmt::format("unknown parameter '{}' (see 'lorasplit params')", key)};
  }
  if (s->optional) {
    std::string_view t = text;
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    if (t == "none") {
      params.clear(s->id);
      return {};
    }
  }
  auto value = parse_quantity(text, s->dimension, s->key);
  if (!value) return value.error();
  if (auto st = check_value(*s, value.value(), text); !st) return st;
  params.set(s->id, std::move(value.value()));
  return {};
}

Status apply_assignment(Params& params, std::string_view assignment) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    return Error{ErrorCode::kBadOption, "--set", std::string(assignment),
                 fmt::format("--set '{}': expected KEY=VALUE", assignment)};
  }
  std::string_view key = assignment.substr(0, eq);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  return set_param(params, key, assignment.substr(eq + 1));
}

Status validate(const Params& params) {
  for (const auto& s : kSpecs) {
    if (!params.has(s.id)) {
      if (s.optional) continue;
      return Error{ErrorCode::kOutOfRange, std::string(s.key), "none",
                   fmt::format("{} = 'none': this parameter needs a value", s.key)};
    }
    const std::string text = format_exact(params.get(s.id));
    if (auto st = check_value(s, params.get(s.id), text); !st) return st;
  }
  if (params.r() > params.d()) {
    const std::string r = params.r().get_str();
    return Error{ErrorCode::kInconsistent, "lora.r", r,
                 fmt::format("lora.r = '{}': the rank exceeds lora.d = {} (A is d x r, so r <= d)", r,
                             format_exact(params.d()))};
  }
  // One block on the GPU path must fit the memory row mem_x, e*k*d <= M, and the batch bound.
  const Rational& k = params.block_tokens();
  const Rational fit = params.gpu_memory_bytes() / (params.element_bytes() * params.d());
  if (k > fit) {
    const std::string text = k.get_str();
    return Error{ErrorCode::kInconsistent, "lora.block_tokens", text,
                 fmt::format("lora.block_tokens = '{}': one block is larger than any batch that fits the GPU memory "
                             "(at most {} tokens by e*b*d <= GPU_MEMORY)",
                             text, format_exact(Rational(fit.get_num() / fit.get_den())))};
  }
  if (params.has(ParamId::kLoraMaxBatchTokens) && k > params.get(ParamId::kLoraMaxBatchTokens)) {
    const std::string text = k.get_str();
    return Error{ErrorCode::kInconsistent, "lora.block_tokens", text,
                 fmt::format("lora.block_tokens = '{}': one block is larger than lora.max_batch_tokens = {}", text,
                             format_exact(params.get(ParamId::kLoraMaxBatchTokens)))};
  }
  return {};
}

}  // namespace lorasplit
