#pragma once
// The hardware library and the provenance of every input (docs/hardware.md).
//
// A machine is composed of named parts (a GPU, a CXL memory device, a link) from the
// library in hardware/library.toml, compiled in. Every number there, and every number a
// config gives as an inline table { value = "...", spec | measured | assumed = "..." },
// says what it rests on; reports list the inputs that are assumptions.
//
// Order of sources, later over earlier: the preset, the parts named (config [hardware],
// then --gpu/--cxl/--link), the config's own values, --set. A value written in the config
// or with --set is never replaced by a part's.

#include <lorasplit/params.hpp>
#include <lorasplit/status.hpp>

#include <array>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lorasplit {

/// What a number rests on.
enum class Evidence : std::uint8_t {
  kNotStated,  ///< nothing said (a preset's or a config's bare value, or the default)
  kSpec,       ///< published: a datasheet, a whitepaper, a standard (note: the source)
  kMeasured,   ///< measured (note: how, where, when)
  kAssumed,    ///< no source (note: why this number)
};
std::string_view to_string(Evidence e);  ///< "not stated", "spec", "measured", "assumed"

/// Where lorasplit read a value.
enum class Origin : std::uint8_t {
  kDefault,      ///< the seed formulation's default
  kPreset,       ///< a preset (where: its name)
  kLibrary,      ///< a library part (where: "gpu h100-sxm")
  kConfig,       ///< a config file (where: "FILE:LINE")
  kCommandLine,  ///< --set or a flag (where: the argument)
};

struct Provenance {
  Evidence evidence{Evidence::kNotStated};
  std::string note;  ///< the source, the measurement or the reason (empty when not stated)
  Origin origin{Origin::kDefault};
  std::string where;
};

/// The provenance of every parameter, by ParamId.
struct InputProvenance {
  std::array<Provenance, kParamCount> by_param;
  [[nodiscard]] const Provenance& at(ParamId id) const { return by_param[static_cast<std::size_t>(id)]; }
  Provenance& at(ParamId id) { return by_param[static_cast<std::size_t>(id)]; }
  /// Marks every parameter as read from `origin` at `where` with nothing stated.
  void reset(Origin origin, std::string_view where);
};

/// One value of a library part.
struct HardwareValue {
  std::string key;    ///< the parameter, e.g. "gpu.flops"
  std::string value;  ///< as written, e.g. "989.4 TFLOPS"
  Evidence evidence{Evidence::kSpec};
  std::string note;
};

/// A GPU, a CXL memory device or a link.
struct HardwarePart {
  std::string kind;  ///< "gpu", "cxl" or "link"
  std::string name;  ///< e.g. "h100-sxm"
  std::string description;
  std::vector<HardwareValue> values;
};

/// The library, in file order (parsed once; every value has been checked and has a provenance).
std::span<const HardwarePart> hardware_library();
/// The part `name` of `kind` ("gpu", "cxl", "link"); an error naming the known ones.
Result<const HardwarePart*> find_hardware(std::string_view kind, std::string_view name);
/// A part of the library, or, when `name` ends in ".toml", the [KIND] table of that file (a
/// profile written by `lorasplit calibrate`, or any config; its other tables are not read),
/// a relative path taken from `base_dir` when that is not empty. Errors name the key
/// hardware.KIND, the file and line.
Result<HardwarePart> resolve_hardware(std::string_view kind, std::string_view name, const std::string& base_dir = "");

/// The library as JSON text (what `lorasplit hardware --format json` prints): an array of
/// {kind, name, description, values: [{key, value, value_exact, evidence, note}]}, only the
/// parts of `kind` when it is not empty.
std::string render_hardware_json(std::string_view kind = "");

/// Sets the part's values over `params` and records their provenance, except where a value
/// was written in a config or on the command line (Origin::kConfig, kCommandLine): those stay.
Status apply_hardware(Params& params, InputProvenance& provenance, const HardwarePart& part);

/// Whether `model` reads parameter `spec` (the serving model reads cxl.memory_bytes, no
/// other pipeline switch, and none of lora.d, lora.r, lora.element_bytes, lora.block_tokens:
/// its shape, ranks and dtype are the workload's; the seed model neither switches nor
/// roofline keys).
bool model_reads(ModelName model, const ParamSpec& spec);
/// Why the serving model does not read `spec`, for a message (empty when it reads it).
std::string_view serving_unread_reason(const ParamSpec& spec);
/// Under the serving model, an error (ErrorCode::kInconsistent, naming the key and value)
/// for the first value written in a config file or on the command line that the model does
/// not read (it would change nothing); other models' checks are validate()'s.
Status check_values_read(const Params& params, const InputProvenance& provenance);
/// Sentences for stderr about inputs that are valid but likely not what was meant: under
/// the seed and pipeline models, a GPU part's gpu.flops (a dense BF16/FP16 Tensor Core peak)
/// with lora.element_bytes = 4 (FP32 adapters, which run at the FP32 rate on it).
std::vector<std::string> hardware_warnings(const Params& params, const InputProvenance& provenance);
/// Puts the values that a library part set but `model` does not read back to their
/// defaults (a GPU part sets the roofline keys, which the seed model refuses).
void drop_unread_parts(Params& params, InputProvenance& provenance, ModelName model);

/// The hardware inputs (gpu.*, cxl.*, link.*) that `model` reads.
std::vector<const ParamSpec*> hardware_inputs(ModelName model);
/// Those that `model` reads with these parameters: a device without compute (cxl.flops =
/// 0) runs no kernel, so its efficiency, memory bandwidth and kernel overhead are not read.
std::vector<const ParamSpec*> hardware_inputs(const Params& params, ModelName model);
/// Whether any hardware input of `model` says what it rests on (reports show the inputs then).
bool provenance_stated(const InputProvenance& provenance, ModelName model);

/// The "Inputs" block of a text report: every hardware input, its value, what it rests on
/// and where it was read, then the assumptions named in one line.
std::string render_inputs_text(const Params& params, const InputProvenance& provenance, ModelName model);
/// The same as a JSON array text of {key, value, value_exact, evidence, note, origin, where}.
std::string render_inputs_json(const Params& params, const InputProvenance& provenance, ModelName model);
/// A JSON report (an object's text) with that array added as "inputs".
std::string add_inputs_json(std::string_view report_json, const Params& params, const InputProvenance& provenance,
                            ModelName model);

}  // namespace lorasplit
