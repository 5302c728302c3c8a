#pragma once
// The parameter table: every hardware and model parameter is declared once (key, unit,
// dimension, description, valid range, seed default). The config loader, --set, the
// presets, the report and docs/model.md all read this one table.

#include <lorasplit/rational.hpp>
#include <lorasplit/status.hpp>

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lorasplit {

struct InputProvenance;  // lorasplit/hardware.hpp

/// Physical dimension of a parameter; decides which units its value may carry.
enum class Dimension {
  kBytes,           ///< B, KB..EB (10^3k), KiB..EiB (2^10k)
  kFlopsPerSecond,  ///< FLOPS, KFLOPS..EFLOPS, also written FLOP/s
  kBytesPerSecond,  ///< B/s, GB/s, GiB/s, ... (also GBps)
  kSeconds,         ///< s, ms, us (or µs), ns, ps
  kCount,           ///< a dimensionless whole number (no unit)
  kFraction,        ///< a dimensionless real number; "80 %" is accepted
  kChoice,          ///< one word of ParamSpec::choices, stored as its index (0, 1, ...)
};

std::string_view to_string(Dimension dim);

enum class ParamId : std::uint8_t {
  kGpuMemoryBytes,
  kGpuFlops,
  kCxlFlops,
  kLinkBandwidthBytesPerS,
  kLinkLatencyS,
  kLoraD,
  kLoraR,
  kLoraElementBytes,
  kGpuEfficiency,
  kCxlEfficiency,
  kLoraBlockTokens,
  kLoraMaxBatchTokens,
  kLoraMaxBatchLatencyS,
  // Which model, and the switches of the pipeline model (docs/model.md §7).
  kModelName,
  kPipelineNoCredit,
  kPipelineTransferLatency,
  kLinkDuplex,
  kPipelineChunkTokens,
  kPipelineRelaxedSync,
  kLoraWeights,
  kCxlMemoryBytes,
  // The serving model's rooflines (docs/model.md §9).
  kGpuMemoryBandwidthBytesPerS,
  kCxlMemoryBandwidthBytesPerS,
  kGpuKernelOverheadS,
  kCxlKernelOverheadS,
};
inline constexpr std::size_t kParamCount = 25;

/// Values of the choice parameters (their stored index).
enum class ModelName : int { kSeed = 0, kPipeline = 1, kServing = 2 };
enum class LinkDuplex : int { kFull = 0, kShared = 1 };
enum class WeightsPlacement : int { kBoth = 0, kGpu = 1, kCxl = 2 };

struct ParamSpec {
  ParamId id;
  std::string_view key;          ///< e.g. "link.bandwidth_bytes_per_s"
  std::string_view unit;         ///< canonical unit, e.g. "B/s"
  Dimension dimension;
  std::string_view symbol;       ///< the formulation's name, e.g. "BAND_WIDTH"
  std::string_view description;
  std::string_view min_text;     ///< smallest accepted value (exact decimal)
  bool min_inclusive;            ///< false: the value must be strictly greater
  std::string_view max_text;     ///< largest accepted value (exact decimal)
  bool integer;                  ///< must be a whole number
  std::string_view seed_default; ///< the formulation's value, as text with unit ("none": unset)
  bool optional;                 ///< may be unset ("none"): the bound it states is then absent
  std::string_view choices;      ///< kChoice only: the accepted words, '|'-separated, in index order
  bool pipeline_only;            ///< read by the pipeline model only (rejected with model.name = seed)
  bool serving_only;             ///< read by the serving model only (rejected with the others)
};

/// The Levenshtein distance between two words (for "did you mean" suggestions).
std::size_t edit_distance(std::string_view a, std::string_view b);

/// The word of a choice parameter's value (e.g. "pipeline"); the exact number otherwise.
std::string param_text(const ParamSpec& spec, const Rational& value);

/// All parameters, in report order.
std::span<const ParamSpec> param_specs();
/// The spec of `key`, or nullptr.
const ParamSpec* find_param(std::string_view key);
const ParamSpec& spec(ParamId id);

/// One complete, validated-on-demand set of parameter values (exact).
class Params {
 public:
  /// The seed formulation's numbers.
  Params();
  /// The value; 0 for an optional parameter that is unset (check has()).
  [[nodiscard]] const Rational& get(ParamId id) const { return v_[static_cast<std::size_t>(id)]; }
  [[nodiscard]] bool has(ParamId id) const { return set_[static_cast<std::size_t>(id)]; }
  /// Stores `value`, which must be canonical (as every parser and make_rational() returns
  /// it; GMP compares and adds non-canonical rationals wrongly).
  void set(ParamId id, Rational&& value) {
    v_[static_cast<std::size_t>(id)] = std::move(value);
    set_[static_cast<std::size_t>(id)] = true;
    touch(id);
  }
  void set(ParamId id, const Rational& value) {  // copied into the parameter's storage
    v_[static_cast<std::size_t>(id)] = value;
    set_[static_cast<std::size_t>(id)] = true;
    touch(id);
  }
  /// Unsets an optional parameter.
  void clear(ParamId id) {
    v_[static_cast<std::size_t>(id)] = 0;
    set_[static_cast<std::size_t>(id)] = false;
    touch(id);
  }
  /// A number that changes whenever the value of `id` may have changed: every set() or
  /// clear() draws a new one from a process-wide counter, and copies keep it, so two
  /// Params with the same version of a parameter hold the same value of it (0: the seed
  /// default). Solvers that keep work between calls compare versions, not values.
  [[nodiscard]] std::uint64_t version(ParamId id) const { return version_[static_cast<std::size_t>(id)]; }

  [[nodiscard]] const Rational& gpu_memory_bytes() const { return get(ParamId::kGpuMemoryBytes); }
  [[nodiscard]] const Rational& gpu_flops() const { return get(ParamId::kGpuFlops); }
  [[nodiscard]] const Rational& cxl_flops() const { return get(ParamId::kCxlFlops); }
  [[nodiscard]] const Rational& link_bandwidth_bytes_per_s() const { return get(ParamId::kLinkBandwidthBytesPerS); }
  [[nodiscard]] const Rational& link_latency_s() const { return get(ParamId::kLinkLatencyS); }
  [[nodiscard]] const Rational& d() const { return get(ParamId::kLoraD); }
  [[nodiscard]] const Rational& r() const { return get(ParamId::kLoraR); }
  [[nodiscard]] const Rational& element_bytes() const { return get(ParamId::kLoraElementBytes); }
  [[nodiscard]] const Rational& gpu_efficiency() const { return get(ParamId::kGpuEfficiency); }
  [[nodiscard]] const Rational& cxl_efficiency() const { return get(ParamId::kCxlEfficiency); }
  [[nodiscard]] const Rational& block_tokens() const { return get(ParamId::kLoraBlockTokens); }
  /// The index of a choice parameter (0 for an unset one).
  [[nodiscard]] int choice(ParamId id) const { return static_cast<int>(get(id).get_num().get_si()); }
  [[nodiscard]] ModelName model_name() const { return static_cast<ModelName>(choice(ParamId::kModelName)); }
  [[nodiscard]] bool on(ParamId id) const { return choice(id) == 1; }

 private:
  void touch(ParamId id);
  std::array<Rational, kParamCount> v_;
  std::array<bool, kParamCount> set_{};
  std::array<std::uint64_t, kParamCount> version_{};
};

/// Parses "<exact decimal> [unit]" for a parameter of dimension `dim`. `key` is only
/// used in the error message. Exact: "15.7e12" is 157*10^11, "1 us" is 1/10^6.
Result<Rational> parse_quantity(std::string_view text, Dimension dim, std::string_view key);

/// A value in readable units, four significant digits: "1.57 TFLOPS", "1 us", "16 GiB",
/// "64 GB/s"; bytes and byte rates in the family that writes them exactly (GB or GiB), and
/// in both ("17.01 GB = 15.84 GiB") when neither does. Words for choices.
std::string readable_quantity(const ParamSpec& spec, const Rational& value);

/// Checks one value against its spec (range, integrality). Message names key and text.
Status check_value(const ParamSpec& spec, const Rational& value, std::string_view text);

/// Parses `text` for parameter `key`, checks it, stores it. "none" unsets an optional one.
/// With `warnings`: a bare number (no unit) for a quantity with a unit that lies more
/// than 10^3 away from the value it replaces adds a line saying the unit it was read in
/// ("link.latency_s = 250 is read as 250 s", when the preset has 1 us).
Status set_param(Params& params, std::string_view key, std::string_view text,
                 std::vector<std::string>* warnings = nullptr);

/// Puts every pipeline-only parameter back to its default (what the seed model reads).
void reset_pipeline_switches(Params& params);

/// Applies "KEY=VALUE" (as given to --set).
Status apply_assignment(Params& params, std::string_view assignment, std::vector<std::string>* warnings = nullptr);

/// Checks relations between parameters (r <= d; a block of lora.block_tokens tokens must
/// fit the memory and the batch bound) and the sizes the solver supports.
Status validate(const Params& params);

/// The checks of validate() for model.name = serving (which validate() refuses): every
/// value in range, the serving model's roofline keys set, the pipeline's switches at their
/// defaults (cxl.memory_bytes excepted), a full-duplex link; lora.max_batch_tokens and
/// lora.max_batch_latency_s unset unless `capacity` (serving.mode = capacity reads them).
Status validate_serving(const Params& params, bool capacity = false);

struct PresetInfo {
  std::string_view name;
  std::string_view description;
  /// Values that differ from or restate the seed; every parameter is listed.
  std::vector<std::pair<std::string_view, std::string_view>> values;
};

/// The built-in presets, "seed" first.
std::span<const PresetInfo> presets();
/// The parameters of preset `name` (exit-2 class error if unknown).
Result<Params> preset(std::string_view name);

/// Loads a TOML config ([gpu], [cxl], [link], [lora] tables, keys as in the table) over
/// `params`. Numbers are read from the file's text, so 15.7e12 stays exact; strings may
/// carry units ("16 GiB"). A top-level `preset = "NAME"` starts from that preset.
/// `warnings` as for set_param, each line prefixed with "FILE:LINE: ".
/// A top-level [hardware] table names parts of the hardware library (gpu, cxl, link), set
/// before the file's own values; a value may be an inline table
/// { value = ..., spec | measured | assumed = "..." }. With `provenance`, records where
/// each value came from and what it rests on (lorasplit/hardware.hpp).
Status load_config_file(Params& params, const std::string& path, std::vector<std::string>* warnings = nullptr,
                        InputProvenance* provenance = nullptr);
Status load_config_string(Params& params, std::string_view toml_text, std::string_view source_name,
                          std::vector<std::string>* warnings = nullptr, InputProvenance* provenance = nullptr);

}  // namespace lorasplit
