#include <lorasplit/params.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <stdexcept>

#include "params/checks.hpp"

namespace lorasplit {
namespace {

// One row per parameter: the single source of keys, units, ranges and seed values.
// Ranges: docs/model.md §2 says why each bound is where it is.
constexpr std::array<ParamSpec, kParamCount> kSpecs = {{
    {
        .id = ParamId::kGpuMemoryBytes,
        .key = "gpu.memory_bytes",
        .unit = "B",
        .dimension = Dimension::kBytes,
        .symbol = "GPU_MEMORY",
        .description = "GPU memory available to the LoRA batch",
        .min_text = "1",
        .min_inclusive = true,
        .max_text = "1152921504606846976",
        .integer = true,
        .seed_default = "16 GiB",
        .optional = false,
        .choices = "",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kGpuFlops,
        .key = "gpu.flops",
        .unit = "FLOP/s",
        .dimension = Dimension::kFlopsPerSecond,
        .symbol = "FLOPS_GPU",
        .description = "GPU peak compute rate for the LoRA matrix products",
        .min_text = "1e-30",
        .min_inclusive = true,
        .max_text = "1e30",
        .integer = false,
        .seed_default = "15.7e12",
        .optional = false,
        .choices = "",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kCxlFlops,
        .key = "cxl.flops",
        .unit = "FLOP/s",
        .dimension = Dimension::kFlopsPerSecond,
        .symbol = "FLOPS_CXL",
        .description = "peak compute rate of the CXL memory device (0: none, a memory expander; serving model only)",
        .min_text = "1e-30",
        .min_inclusive = true,
        .max_text = "1e30",
        .integer = false,
        .seed_default = "1.57e12",
        .optional = false,
        .choices = "",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kLinkBandwidthBytesPerS,
        .key = "link.bandwidth_bytes_per_s",
        .unit = "B/s",
        .dimension = Dimension::kBytesPerSecond,
        .symbol = "BAND_WIDTH",
        .description = "CXL link bandwidth between GPU and device",
        .min_text = "1e-30",
        .min_inclusive = true,
        .max_text = "1e30",
        .integer = false,
        .seed_default = "16 GiB/s",
        .optional = false,
        .choices = "",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kLinkLatencyS,
        .key = "link.latency_s",
        .unit = "s",
        .dimension = Dimension::kSeconds,
        .symbol = "LATENCY",
        .description = "CXL link latency, paid once in stage 1",
        .min_text = "0",
        .min_inclusive = true,
        .max_text = "1e30",
        .integer = false,
        .seed_default = "1 us",
        .optional = false,
        .choices = "",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kLoraD,
        .key = "lora.d",
        .unit = "elements",
        .dimension = Dimension::kCount,
        .symbol = "d",
        .description = "model (hidden) dimension: X is b x d",
        .min_text = "1",
        .min_inclusive = true,
        .max_text = "1000000",
        .integer = true,
        .seed_default = "512",
        .optional = false,
        .choices = "",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kLoraR,
        .key = "lora.r",
        .unit = "elements",
        .dimension = Dimension::kCount,
        .symbol = "r",
        .description = "LoRA rank: A is d x r, B is r x d",
        .min_text = "1",
        .min_inclusive = true,
        .max_text = "1000000",
        .integer = true,
        .seed_default = "4",
        .optional = false,
        .choices = "",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kLoraElementBytes,
        .key = "lora.element_bytes",
        .unit = "B",
        .dimension = Dimension::kCount,
        .symbol = "4 (bytes/element)",
        .description = "bytes per matrix element (4 = fp32, 2 = fp16/bf16, 1 = fp8)",
        .min_text = "1",
        .min_inclusive = true,
        .max_text = "16",
        .integer = true,
        .seed_default = "4",
        .optional = false,
        .choices = "",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kGpuEfficiency,
        .key = "gpu.efficiency",
        .unit = "",
        .dimension = Dimension::kFraction,
        .symbol = "eff_g",
        .description = "achieved fraction of gpu.flops (the GPU runs at eff_g * FLOPS_GPU)",
        .min_text = "0",
        .min_inclusive = false,
        .max_text = "1",
        .integer = false,
        .seed_default = "1",
        .optional = false,
        .choices = "",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kCxlEfficiency,
        .key = "cxl.efficiency",
        .unit = "",
        .dimension = Dimension::kFraction,
        .symbol = "eff_c",
        .description = "achieved fraction of cxl.flops (the device runs at eff_c * FLOPS_CXL)",
        .min_text = "0",
        .min_inclusive = false,
        .max_text = "1",
        .integer = false,
        .seed_default = "1",
        .optional = false,
        .choices = "",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kLoraBlockTokens,
        .key = "lora.block_tokens",
        .unit = "tokens",
        .dimension = Dimension::kCount,
        .symbol = "k",
        .description = "batch granularity: b1, b2, b3 are multiples of k",
        .min_text = "1",
        .min_inclusive = true,
        .max_text = "1000000000",
        .integer = true,
        .seed_default = "1",
        .optional = false,
        .choices = "",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kLoraMaxBatchTokens,
        .key = "lora.max_batch_tokens",
        .unit = "tokens",
        .dimension = Dimension::kCount,
        .symbol = "B_max",
        .description = "optional bound b1+b2+b3 <= B_max",
        .min_text = "1",
        .min_inclusive = true,
        .max_text = "1152921504606846976",
        .integer = true,
        .seed_default = "none",
        .optional = true,
        .choices = "",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kLoraMaxBatchLatencyS,
        .key = "lora.max_batch_latency_s",
        .unit = "s",
        .dimension = Dimension::kSeconds,
        .symbol = "T_max",
        .description = "optional bound on the batch time T_GPU_S1 + T_GPU_S2 <= T_max",
        .min_text = "0",
        .min_inclusive = false,
        .max_text = "1e30",
        .integer = false,
        .seed_default = "none",
        .optional = true,
        .choices = "",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kModelName,
        .key = "model.name",
        .unit = "",
        .dimension = Dimension::kChoice,
        .symbol = "(none)",
        .description = "the model: seed (the formulation, term for term), pipeline (its physics made consistent) or serving (a transformer's LoRA adapters, docs/model.md section 9)",
        .min_text = "0",
        .min_inclusive = true,
        .max_text = "2",
        .integer = true,
        .seed_default = "seed",
        .optional = false,
        .choices = "seed|pipeline|serving",
        .pipeline_only = false,
        .serving_only = false,
    },
    {
        .id = ParamId::kPipelineNoCredit,
        .key = "pipeline.no_credit",
        .unit = "",
        .dimension = Dimension::kChoice,
        .symbol = "switch 1",
        .description = "pipeline: stage 2 on the device gets no credit for the stage-1 Y transfer (the seed subtracts e*b2*r/BW)",
        .min_text = "0",
        .min_inclusive = true,
        .max_text = "1",
        .integer = true,
        .seed_default = "on",
        .optional = false,
        .choices = "off|on",
        .pipeline_only = true,
        .serving_only = false,
    },
    {
        .id = ParamId::kPipelineTransferLatency,
        .key = "pipeline.transfer_latency",
        .unit = "",
        .dimension = Dimension::kChoice,
        .symbol = "switch 2",
        .description = "pipeline: every link transfer pays link.latency_s (off: once in stage 1, as the seed)",
        .min_text = "0",
        .min_inclusive = true,
        .max_text = "1",
        .integer = true,
        .seed_default = "on",
        .optional = false,
        .choices = "off|on",
        .pipeline_only = true,
        .serving_only = false,
    },
    {
        .id = ParamId::kLinkDuplex,
        .key = "link.duplex",
        .unit = "",
        .dimension = Dimension::kChoice,
        .symbol = "switch 2",
        .description = "pipeline: full (each direction its own lane) or shared (one direction at a time); matters with chunks",
        .min_text = "0",
        .min_inclusive = true,
        .max_text = "1",
        .integer = true,
        .seed_default = "full",
        .optional = false,
        .choices = "full|shared",
        .pipeline_only = true,
        .serving_only = false,
    },
    {
        .id = ParamId::kPipelineChunkTokens,
        .key = "pipeline.chunk_tokens",
        .unit = "tokens",
        .dimension = Dimension::kCount,
        .symbol = "switch 3",
        .description = "pipeline: transfers and device compute overlap in chunks of this many tokens (none: they add up)",
        .min_text = "1",
        .min_inclusive = true,
        .max_text = "1000000000",
        .integer = true,
        .seed_default = "none",
        .optional = true,
        .choices = "",
        .pipeline_only = true,
        .serving_only = false,
    },
    {
        .id = ParamId::kPipelineRelaxedSync,
        .key = "pipeline.relaxed_sync",
        .unit = "",
        .dimension = Dimension::kChoice,
        .symbol = "switch 4",
        .description = "pipeline: stage time = max(GPU, device) instead of requiring device <= GPU",
        .min_text = "0",
        .min_inclusive = true,
        .max_text = "1",
        .integer = true,
        .seed_default = "on",
        .optional = false,
        .choices = "off|on",
        .pipeline_only = true,
        .serving_only = false,
    },
    {
        .id = ParamId::kLoraWeights,
        .key = "lora.weights",
        .unit = "",
        .dimension = Dimension::kChoice,
        .symbol = "switch 5",
        .description = "pipeline: where A and B live: both (replicated), gpu (the device fetches them), cxl (the GPU fetches them)",
        .min_text = "0",
        .min_inclusive = true,
        .max_text = "2",
        .integer = true,
        .seed_default = "both",
        .optional = false,
        .choices = "both|gpu|cxl",
        .pipeline_only = true,
        .serving_only = false,
    },
    {
        .id = ParamId::kCxlMemoryBytes,
        .key = "cxl.memory_bytes",
        .unit = "B",
        .dimension = Dimension::kBytes,
        .symbol = "(none)",
        .description = "pipeline: device memory for X, Y, Z of its tokens and the weights it holds (none: not a limit)",
        .min_text = "1",
        .min_inclusive = true,
        .max_text = "1152921504606846976",
        .integer = true,
        .seed_default = "none",
        .optional = true,
        .choices = "",
        .pipeline_only = true,
        .serving_only = false,
    },
    {
        .id = ParamId::kGpuMemoryBandwidthBytesPerS,
        .key = "gpu.memory_bandwidth_bytes_per_s",
        .unit = "B/s",
        .dimension = Dimension::kBytesPerSecond,
        .symbol = "W_g",
        .description = "serving: the GPU memory bandwidth a streaming kernel achieves (the roofline's slope)",
        .min_text = "0",
        .min_inclusive = false,
        .max_text = "1000000000000000000",
        .integer = false,
        .seed_default = "none",
        .optional = true,
        .choices = "",
        .pipeline_only = false,
        .serving_only = true,
    },
    {
        .id = ParamId::kCxlMemoryBandwidthBytesPerS,
        .key = "cxl.memory_bandwidth_bytes_per_s",
        .unit = "B/s",
        .dimension = Dimension::kBytesPerSecond,
        .symbol = "W_c",
        .description = "serving: the device's internal memory bandwidth, for its kernels and every transfer",
        .min_text = "0",
        .min_inclusive = false,
        .max_text = "1000000000000000000",
        .integer = false,
        .seed_default = "none",
        .optional = true,
        .choices = "",
        .pipeline_only = false,
        .serving_only = true,
    },
    {
        .id = ParamId::kGpuKernelOverheadS,
        .key = "gpu.kernel_overhead_s",
        .unit = "s",
        .dimension = Dimension::kSeconds,
        .symbol = "o_g",
        .description = "serving: fixed time of each GPU kernel launched (launch and tail)",
        .min_text = "0",
        .min_inclusive = true,
        .max_text = "1000",
        .integer = false,
        .seed_default = "none",
        .optional = true,
        .choices = "",
        .pipeline_only = false,
        .serving_only = true,
    },
    {
        .id = ParamId::kCxlKernelOverheadS,
        .key = "cxl.kernel_overhead_s",
        .unit = "s",
        .dimension = Dimension::kSeconds,
        .symbol = "o_c",
        .description = "serving: fixed time of each device kernel launched",
        .min_text = "0",
        .min_inclusive = true,
        .max_text = "1000",
        .integer = false,
        .seed_default = "none",
        .optional = true,
        .choices = "",
        .pipeline_only = false,
        .serving_only = true,
    },
}};

Rational exact(std::string_view text) {
  auto r = parse_quantity(text, Dimension::kCount, "internal");
  if (!r) throw std::logic_error("bad constant in parameter table: " + std::string(text));
  return r.value();
}

// The range of every parameter, parsed once.
const std::array<std::pair<Rational, Rational>, kParamCount>& ranges() {
  static const auto table = [] {
    std::array<std::pair<Rational, Rational>, kParamCount> out;
    for (const auto& s : kSpecs) out[static_cast<std::size_t>(s.id)] = {exact(s.min_text), exact(s.max_text)};
    return out;
  }();
  return table;
}

std::string_view trim(std::string_view t) {
  while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  return t;
}

std::vector<std::string_view> words(std::string_view choices) {
  std::vector<std::string_view> out;
  while (true) {
    const auto bar = choices.find('|');
    out.push_back(choices.substr(0, bar));
    if (bar == std::string_view::npos) break;
    choices.remove_prefix(bar + 1);
  }
  return out;
}

// The value of `text` for parameter `s`: a word of its choices, or a quantity.
Result<Rational> parse_value(const ParamSpec& s, std::string_view text) {
  if (s.dimension != Dimension::kChoice) return parse_quantity(text, s.dimension, s.key);
  const auto all = words(s.choices);
  std::string_view t = trim(text);
  if (s.choices == "off|on") {  // booleans also as TOML true/false
    if (t == "true") t = "on";
    if (t == "false") t = "off";
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i] == t) return Rational(static_cast<long>(i));
  }
  std::string list;
  for (const auto w : all) list += fmt::format("{}{}", list.empty() ? "" : ", ", w);
  return Error{ErrorCode::kBadNumber, std::string(s.key), std::string(text),
               fmt::format("{} = '{}': must be one of {}", s.key, text, list)};
}

}  // namespace

std::string param_text(const ParamSpec& s, const Rational& value) {
  if (s.dimension == Dimension::kChoice) {
    const auto all = words(s.choices);
    const long i = value.get_num().get_si();
    if (value.get_den() == 1 && i >= 0 && static_cast<std::size_t>(i) < all.size()) {
      return std::string(all[static_cast<std::size_t>(i)]);
    }
  }
  return format_exact(value);
}

std::span<const ParamSpec> param_specs() { return kSpecs; }

const ParamSpec* find_param(std::string_view key) {
  const auto it = std::find_if(kSpecs.begin(), kSpecs.end(), [&](const ParamSpec& s) { return s.key == key; });
  return it == kSpecs.end() ? nullptr : &*it;
}

const ParamSpec& spec(ParamId id) { return kSpecs[static_cast<std::size_t>(id)]; }

Params::Params() {
  for (const auto& s : kSpecs) {
    if (s.optional) continue;
    auto value = parse_value(s, s.seed_default);
    if (!value) throw std::logic_error("bad seed default for " + std::string(s.key));
    set(s.id, value.value());
  }
  version_.fill(0);  // the seed defaults: the same values in every Params
}

void Params::touch(ParamId id) {
  static std::atomic<std::uint64_t> counter{0};
  version_[static_cast<std::size_t>(id)] = counter.fetch_add(1, std::memory_order_relaxed) + 1;
}

Status check_value(const ParamSpec& s, const Rational& value, std::string_view text) {
  const auto fail = [&](ErrorCode code, const std::string& why) {
    return Error{code, std::string(s.key), std::string(text), fmt::format("{} = '{}': {}", s.key, text, why)};
  };
  const auto& [lo, hi] = ranges()[static_cast<std::size_t>(s.id)];
  const std::string unit = s.unit.empty() ? std::string() : fmt::format(" {}", s.unit);
  if (value < 0) return fail(ErrorCode::kOutOfRange, "must not be negative");
  if (value == 0 && detail::zero_means_none(s.id)) return {};
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

namespace {
// A bare number ("250", "1.5e9") carries no unit: it is read in the parameter's unit.
bool bare_number(std::string_view text) {
  text = trim(text);
  if (text.empty()) return false;
  for (const char c : text) {
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-' ||
          c == '_')) {
      return false;
    }
  }
  return true;
}
}  // namespace

Status set_param(Params& params, std::string_view key, std::string_view text, std::vector<std::string>* warnings) {
  const ParamSpec* s = find_param(key);
  if (s == nullptr) {
    return Error{ErrorCode::kUnknownKey, std::string(key), std::string(text),
                 fmt::format("unknown parameter '{}'{}", key, detail::did_you_mean(key))};
  }
  if (s->optional) {
    if (trim(text) == "none") {
      params.clear(s->id);
      return {};
    }
  }
  auto value = parse_value(*s, text);
  if (!value) return value.error();
  if (auto st = check_value(*s, value.value(), text); !st) return st;
  const bool has_unit = s->dimension == Dimension::kBytes || s->dimension == Dimension::kBytesPerSecond ||
                        s->dimension == Dimension::kSeconds || s->dimension == Dimension::kFlopsPerSecond;
  if (warnings != nullptr && has_unit && bare_number(text) && params.has(s->id) && params.get(s->id) > 0 &&
      value.value() > 0) {
    const Rational& before = params.get(s->id);
    const Rational ratio = value.value() / before;
    if (ratio > 1000 || ratio < Rational(1, 1000)) {
      const std::string read = fmt::format("{} {}", trim(text), s->unit);
      const std::string readable = readable_quantity(*s, value.value());
      warnings->push_back(fmt::format(
          "{} = {} has no unit and is read as {}{}, {} the {} it replaces; write the unit if that is not meant",
          s->key, trim(text), read, readable == read ? "" : fmt::format(" ({})", readable),
          ratio > 1 ? fmt::format("{:.3g} times", to_double(ratio)) : fmt::format("1/{:.3g} of", to_double(1 / ratio)),
          readable_quantity(*s, before)));
    }
  }
  params.set(s->id, std::move(value.value()));
  return {};
}

void reset_pipeline_switches(Params& params) {
  for (const auto& s : kSpecs) {
    if (!s.pipeline_only) continue;
    if (s.optional) {
      params.clear(s.id);
    } else {
      params.set(s.id, parse_value(s, s.seed_default).value());
    }
  }
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // One row of the table at a time (the words are short).
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0U : 1U)});
      diag = up;
    }
  }
  return row[b.size()];
}

Status apply_assignment(Params& params, std::string_view assignment, std::vector<std::string>* warnings) {
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos) {
    return Error{ErrorCode::kBadOption, "assignment", std::string(assignment),
                 fmt::format("assignment '{}': expected KEY=VALUE", assignment)};
  }
  std::string_view key = assignment.substr(0, eq);
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  return set_param(params, key, assignment.substr(eq + 1), warnings);
}

namespace detail {

std::string did_you_mean(std::string_view key) {
  std::string_view best;
  std::size_t best_d = ~std::size_t{0};
  for (const auto& s : kSpecs) {
    const std::size_t d = edit_distance(key, s.key);
    if (d < best_d) {
      best_d = d;
      best = s.key;
    }
  }
  const std::size_t limit = std::max<std::size_t>(2, key.size() / 5);
  return best_d <= limit ? fmt::format(" (did you mean '{}'?)", best) : std::string();
}

bool value_in_range(const ParamSpec& s, const Rational& v) {
  if (v == 0 && detail::zero_means_none(s.id)) return true;
  const auto& [lo, hi] = ranges()[static_cast<std::size_t>(s.id)];
  const bool above_min = s.min_inclusive ? v >= lo : v > lo;
  return above_min && v <= hi && (!s.integer || v.get_den() == 1);
}

bool value_ok(const Params& params, ParamId id) {
  const ParamSpec& s = kSpecs[static_cast<std::size_t>(id)];
  if (!params.has(id)) return s.optional;
  return value_in_range(s, params.get(id));
}

namespace {

// The seed defaults of the pipeline switches, parsed once.
const std::array<Rational, kParamCount>& pipeline_defaults() {
  static const auto defaults = [] {
    std::array<Rational, kParamCount> out;
    for (const auto& s : kSpecs) {
      if (s.pipeline_only && !s.optional) out[static_cast<std::size_t>(s.id)] = parse_value(s, s.seed_default).value();
    }
    return out;
  }();
  return defaults;
}

// With model.name = seed, a pipeline switch away from its default (nullptr: none).
const ParamSpec* pipeline_switch_set(const Params& params) {
  if (params.model_name() != ModelName::kSeed) return nullptr;
  for (const auto& s : kSpecs) {
    if (!s.pipeline_only) continue;
    const bool is_default =
        s.optional ? !params.has(s.id) : params.get(s.id) == pipeline_defaults()[static_cast<std::size_t>(s.id)];
    if (!is_default) return &s;
  }
  return nullptr;
}

// e * k * d > M: one block on the GPU path exceeds the memory row mem_x (all positive).
bool block_exceeds_memory(const Params& params) {
  thread_local Rational lhs;  // the sweep's workers call this per point: no allocation
  mpq_mul(lhs.get_mpq_t(), params.element_bytes().get_mpq_t(), params.d().get_mpq_t());
  mpq_mul(lhs.get_mpq_t(), lhs.get_mpq_t(), params.block_tokens().get_mpq_t());
  return lhs > params.gpu_memory_bytes();
}

bool block_exceeds_max_tokens(const Params& params) {
  return params.has(ParamId::kLoraMaxBatchTokens) && params.block_tokens() > params.get(ParamId::kLoraMaxBatchTokens);
}

}  // namespace

// With model.name other than serving, a serving-only parameter that is set (nullptr: none).
const ParamSpec* serving_key_set(const Params& params) {
  if (params.model_name() == ModelName::kServing) return nullptr;
  for (const auto& s : kSpecs) {
    if (s.serving_only && params.has(s.id)) return &s;
  }
  return nullptr;
}

bool relations_ok(const Params& params) {
  return params.model_name() != ModelName::kServing && serving_key_set(params) == nullptr && params.cxl_flops() != 0 &&
         pipeline_switch_set(params) == nullptr && params.r() <= params.d() && !block_exceeds_memory(params) &&
         !block_exceeds_max_tokens(params);
}

bool relations_read(ParamId id) {
  switch (id) {
    case ParamId::kModelName:
    case ParamId::kCxlFlops:
    case ParamId::kLoraR:
    case ParamId::kLoraD:
    case ParamId::kLoraElementBytes:
    case ParamId::kLoraBlockTokens:
    case ParamId::kGpuMemoryBytes:
    case ParamId::kLoraMaxBatchTokens: return true;
    default: return kSpecs[static_cast<std::size_t>(id)].pipeline_only || kSpecs[static_cast<std::size_t>(id)].serving_only;
  }
}

}  // namespace detail

Status validate(const Params& params) {
  for (const auto& s : kSpecs) {
    if (detail::value_ok(params, s.id)) continue;  // the common case, without text
    if (!params.has(s.id)) {
      return Error{ErrorCode::kOutOfRange, std::string(s.key), "none",
                   fmt::format("{} = 'none': this parameter needs a value", s.key)};
    }
    const Rational& v = params.get(s.id);
    if (auto st = check_value(s, v, param_text(s, v)); !st) return st;
  }
  if (params.model_name() == ModelName::kServing) {
    return Error{ErrorCode::kInconsistent, "model.name", "serving",
                 "model.name = 'serving': the serving model is planned from its workload (lorasplit solve, simulate, "
                 "sweep, breakeven); this takes the seed and pipeline models"};
  }
  if (const ParamSpec* s = detail::serving_key_set(params); s != nullptr) {
    const std::string text = param_text(*s, params.get(s->id));
    return Error{ErrorCode::kInconsistent, std::string(s->key), text,
                 fmt::format("{} = '{}': read by the serving model only; set model.name = serving", s->key, text)};
  }
  // The pipeline's switches mean nothing to the seed model: setting one there is a mistake.
  if (const ParamSpec* s = detail::pipeline_switch_set(params); s != nullptr) {
    const std::string text = params.has(s->id) ? param_text(*s, params.get(s->id)) : "none";
    return Error{ErrorCode::kInconsistent, std::string(s->key), text,
                 fmt::format("{} = '{}': a switch of the pipeline model; set model.name = pipeline, or compare "
                             "the two models",
                             s->key, text)};
  }
  if (params.cxl_flops() == 0) {
    return Error{ErrorCode::kInconsistent, "cxl.flops", "0",
                 "cxl.flops = '0': a device without compute (a memory expander) is planned by the serving model "
                 "only (model.name = serving, where the GPU fetches the adapters it holds: the gpu_fetch plan); "
                 "the seed and pipeline models split work onto the device and need cxl.flops > 0"};
  }
  if (params.r() > params.d()) {
    const std::string r = params.r().get_str();
    return Error{ErrorCode::kInconsistent, "lora.r", r,
                 fmt::format("lora.r = '{}': the rank exceeds lora.d = {} (A is d x r, so r <= d)", r,
                             format_exact(params.d()))};
  }
  // One block on the GPU path must fit the memory row mem_x, e*k*d <= M, and the batch bound.
  const Rational& k = params.block_tokens();
  if (detail::block_exceeds_memory(params)) {
    const Rational fit = params.gpu_memory_bytes() / (params.element_bytes() * params.d());
    const std::string text = k.get_str();
    return Error{ErrorCode::kInconsistent, "lora.block_tokens", text,
                 fmt::format("lora.block_tokens = '{}': one block is larger than any batch that fits the GPU memory "
                             "(at most {} tokens by e*b*d <= GPU_MEMORY)",
                             text, format_exact(Rational(fit.get_num() / fit.get_den())))};
  }
  if (detail::block_exceeds_max_tokens(params)) {
    const std::string text = k.get_str();
    return Error{ErrorCode::kInconsistent, "lora.block_tokens", text,
                 fmt::format("lora.block_tokens = '{}': one block is larger than lora.max_batch_tokens = {}", text,
                             format_exact(params.get(ParamId::kLoraMaxBatchTokens)))};
  }
  return {};
}

Status validate_serving(const Params& params, bool capacity) {
  for (const auto& s : kSpecs) {
    if (detail::value_ok(params, s.id)) continue;
    if (!params.has(s.id)) continue;  // optional and unset: the serving checks below say which it needs
    const Rational& v = params.get(s.id);
    if (auto st = check_value(s, v, param_text(s, v)); !st) return st;
  }
  for (const auto id : {ParamId::kGpuMemoryBandwidthBytesPerS, ParamId::kCxlMemoryBandwidthBytesPerS,
                        ParamId::kGpuKernelOverheadS, ParamId::kCxlKernelOverheadS}) {
    // A device without compute (cxl.flops = 0) runs no kernel: its rates are not needed.
    const bool device_kernel = detail::device_kernel_rate(id);
    if (!params.has(id) && !(device_kernel && params.cxl_flops() == 0)) {
      return Error{ErrorCode::kOutOfRange, std::string(spec(id).key), "none",
                   fmt::format("{} = 'none': the serving model needs it{} ({})", spec(id).key,
                               device_kernel ? " for a device that computes (cxl.flops > 0)" : "",
                               spec(id).description)};
    }
  }
  // The batch bounds mean nothing in batch mode (the batch is the workload's); capacity
  // mode reads them (docs/model.md section 9.12).
  for (const auto id : {ParamId::kLoraMaxBatchTokens, ParamId::kLoraMaxBatchLatencyS}) {
    if (!params.has(id) || capacity) continue;
    const std::string text = param_text(spec(id), params.get(id));
    return Error{ErrorCode::kInconsistent, std::string(spec(id).key), text,
                 fmt::format("{} = '{}': not read by the serving model in batch mode (its batch is the workload's "
                             "adapters and tokens; serving.mode = capacity reads it)",
                             spec(id).key, text)};
  }
  for (const auto& s : kSpecs) {
    if (!s.pipeline_only || s.id == ParamId::kCxlMemoryBytes) continue;
    const bool is_default =
        s.optional ? !params.has(s.id) : params.get(s.id) == detail::pipeline_defaults()[static_cast<std::size_t>(s.id)];
    if (is_default) continue;
    const std::string text = params.has(s.id) ? param_text(s, params.get(s.id)) : "none";
    if (s.id == ParamId::kLinkDuplex) {
      return Error{ErrorCode::kInconsistent, std::string(s.key), text,
                   fmt::format("{} = '{}': the serving model has a full-duplex link only so far", s.key, text)};
    }
    return Error{ErrorCode::kInconsistent, std::string(s.key), text,
                 fmt::format("{} = '{}': a switch of the pipeline model, not read by the serving model", s.key, text)};
  }
  return {};
}

}  // namespace lorasplit
