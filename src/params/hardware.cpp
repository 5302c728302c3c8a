// The hardware library (hardware/library.toml, compiled in) and the provenance of inputs.
#include <lorasplit/hardware.hpp>
#include <lorasplit/rational.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <variant>

#include "params/checks.hpp"
#include "params/value_node.hpp"

namespace lorasplit {
namespace detail {
extern const std::string_view kHardwareLibraryToml;  // generated from hardware/library.toml
}  // namespace detail

std::string_view to_string(Evidence e) {
  switch (e) {
    case Evidence::kSpec: return "spec";
    case Evidence::kMeasured: return "measured";
    case Evidence::kAssumed: return "assumed";
    case Evidence::kNotStated: break;
  }
  return "not stated";
}

void InputProvenance::reset(Origin origin, std::string_view where) {
  for (auto& p : by_param) p = Provenance{Evidence::kNotStated, {}, origin, std::string(where)};
}

namespace {

constexpr std::string_view kKinds[] = {"gpu", "cxl", "link"};

std::string_view kind_word(std::string_view kind) {
  if (kind == "gpu") return "GPU";
  if (kind == "cxl") return "CXL device";
  return "link";
}

struct Library {
  std::vector<HardwarePart> parts;
  std::string error;  ///< non-empty: the compiled-in file is malformed (a build defect)
};

// Parses and checks the library: every key a parameter of its part's table, every value
// valid and saying what it rests on. Parts and values in file order.
Library parse_library() {
  Library lib;
  const std::string_view name = "hardware/library.toml";
  toml::table root;
  try {
    root = toml::parse(detail::kHardwareLibraryToml, name);
  } catch (const toml::parse_error& e) {
    lib.error = fmt::format("{}:{}: malformed TOML: {}", name, e.source().begin.line, e.description());
    return lib;
  }
  const auto lines = detail::split_lines(detail::kHardwareLibraryToml);
  const auto fail = [&](const toml::node& at, const std::string& why) {
    lib.error = fmt::format("{}:{}: {}", name, at.source().begin.line, why);
    lib.parts.clear();
    return lib;
  };
  std::vector<std::pair<std::size_t, HardwarePart>> found;
  for (const auto& [kind_key, kind_node] : root) {
    const std::string kind(kind_key.str());
    if (std::find(std::begin(kKinds), std::end(kKinds), kind) == std::end(kKinds) || !kind_node.is_table()) {
      return fail(kind_node, fmt::format("'{}': expected tables [gpu.NAME], [cxl.NAME], [link.NAME]", kind));
    }
    for (const auto& [part_key, part_node] : *kind_node.as_table()) {
      const auto* tbl = part_node.as_table();
      if (tbl == nullptr) return fail(part_node, fmt::format("{}.{}: expected a table", kind, part_key.str()));
      HardwarePart part;
      part.kind = kind;
      part.name = std::string(part_key.str());
      std::vector<std::pair<std::size_t, HardwareValue>> values;
      Params scratch;
      for (const auto& [k, node] : *tbl) {
        if (k.str() == "description") {
          if (const auto* d = node.as_string()) part.description = d->get();
          continue;
        }
        const std::string key = fmt::format("{}.{}", kind, k.str());
        const ParamSpec* spec = find_param(key);
        auto read = detail::read_value_node(node, lines, spec);
        if (const auto* e = std::get_if<detail::ValueError>(&read)) {
          return fail(node, fmt::format("{} ({}.{}): {}", key, kind, part.name, e->why));
        }
        auto& v = std::get<detail::ValueText>(read);
        if (spec == nullptr) return fail(node, fmt::format("{}: unknown parameter", key));
        if (v.evidence == Evidence::kNotStated) {
          return fail(node, fmt::format("{} ({}.{}): says neither spec, measured nor assumed", key, kind, part.name));
        }
        if (auto st = set_param(scratch, key, v.text); !st) return fail(node, st.error().message);
        values.emplace_back(node.source().begin.line,
                            HardwareValue{key, std::move(v.text), v.evidence, std::move(v.note)});
      }
      if (part.description.empty()) return fail(part_node, fmt::format("{}.{}: no description", kind, part.name));
      std::sort(values.begin(), values.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (auto& [line, v] : values) part.values.push_back(std::move(v));
      found.emplace_back(part_node.source().begin.line, std::move(part));
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [line, p] : found) lib.parts.push_back(std::move(p));
  return lib;
}

const Library& library() {
  static const Library lib = parse_library();
  return lib;
}

std::string origin_text(const Provenance& p) {
  switch (p.origin) {
    case Origin::kDefault: return "the default";
    case Origin::kPreset: return fmt::format("preset {}", p.where);
    case Origin::kLibrary:
    case Origin::kConfig:
    case Origin::kCommandLine: break;
  }
  return p.where;
}

std::string_view origin_word(Origin o) {
  switch (o) {
    case Origin::kDefault: return "default";
    case Origin::kPreset: return "preset";
    case Origin::kLibrary: return "library";
    case Origin::kConfig: return "config";
    case Origin::kCommandLine: return "command_line";
  }
  return "default";
}

}  // namespace

std::span<const HardwarePart> hardware_library() { return library().parts; }

Result<const HardwarePart*> find_hardware(std::string_view kind, std::string_view name) {
  const Library& lib = library();
  const std::string key = fmt::format("hardware.{}", kind);
  if (std::find(std::begin(kKinds), std::end(kKinds), kind) == std::end(kKinds)) {
    return Error{ErrorCode::kUnknownKey, key, std::string(name),
                 fmt::format("{} = '{}': unknown key (hardware parts are hardware.gpu, hardware.cxl, hardware.link)",
                             printable(key), printable(name))};
  }
  if (!lib.error.empty()) {
    return Error{ErrorCode::kInternal, key, std::string(name), fmt::format("the built-in hardware library: {}", lib.error)};
  }
  std::string known, nearest;
  std::size_t nearest_d = ~std::size_t{0};
  for (const auto& p : lib.parts) {
    if (p.kind != kind) continue;
    if (p.name == name) return &p;
    known += fmt::format("{}{}", known.empty() ? "" : ", ", p.name);
    const std::size_t d = edit_distance(name, p.name);
    if (d < nearest_d) {
      nearest_d = d;
      nearest = p.name;
    }
  }
  // A slip of a few letters, or a name written without its variant ("h100" for h100-sxm).
  const bool prefix = !name.empty() && nearest.substr(0, name.size()) == name;
  const std::string hint =
      nearest_d <= 3 || prefix ? fmt::format("; did you mean '{}'?", nearest) : std::string();
  return Error{ErrorCode::kUnknownPreset, key, std::string(name),
               fmt::format("{} = '{}': no {} of that name in the hardware library (known: {}){}", key, printable(name),
                           kind_word(kind), known, hint)};
}

Result<HardwarePart> resolve_hardware(std::string_view kind, std::string_view name, const std::string& base_dir) {
  if (!name.ends_with(".toml") || std::find(std::begin(kKinds), std::end(kKinds), kind) == std::end(kKinds)) {
    auto p = find_hardware(kind, name);
    if (!p) return p.error();
    return *p.value();
  }
  const std::string key = fmt::format("hardware.{}", kind);
  std::string path(name);
  if (!base_dir.empty() && !path.starts_with("/")) path = base_dir + "/" + path;
  auto text = detail::read_text_file(path, key, std::size_t{1} << 20);
  if (!text) return text.error();
  toml::table root;
  try {
    root = toml::parse(text.value(), path);
  } catch (const toml::parse_error& e) {
    return Error{ErrorCode::kConfigSyntax, key, path,
                 fmt::format("{}:{}: malformed TOML: {}", printable(path), e.source().begin.line, e.description())};
  }
  const auto* tbl = root.get(kind) != nullptr ? root.get(kind)->as_table() : nullptr;
  if (tbl == nullptr) {
    return Error{ErrorCode::kConfigSyntax, key, path,
                 fmt::format("{} = '{}': the file has no [{}] table", key, printable(path), kind)};
  }
  const auto lines = detail::split_lines(text.value());
  HardwarePart part;
  part.kind = std::string(kind);
  part.name = path;
  part.description = fmt::format("the [{}] table of {}", kind, path);
  std::vector<std::pair<std::size_t, HardwareValue>> values;
  Params scratch;
  for (const auto& [k, node] : *tbl) {
    const std::string pkey = fmt::format("{}.{}", kind, k.str());
    const ParamSpec* spec = find_param(pkey);
    const auto line = node.source().begin.line;
    auto read = detail::read_value_node(node, lines, spec);
    if (const auto* e = std::get_if<detail::ValueError>(&read)) {
      const std::string why = e->code == ErrorCode::kUnknownKey ? e->why + detail::did_you_mean(pkey) : e->why;
      return Error{e->code, pkey, e->value, fmt::format("{}:{}: {} = '{}': {}", printable(path), line, pkey, e->value, why)};
    }
    auto& v = std::get<detail::ValueText>(read);
    if (spec == nullptr) {
      return Error{ErrorCode::kUnknownKey, pkey, v.text,
                   fmt::format("{}:{}: {} = '{}': unknown parameter{}", printable(path), line, pkey, v.text,
                               detail::did_you_mean(pkey))};
    }
    if (auto st = set_param(scratch, pkey, v.text); !st) {
      const Error& e = st.error();
      return Error{e.code, e.key, e.value, fmt::format("{}:{}: {}", printable(path), line, e.message)};
    }
    values.emplace_back(line, HardwareValue{pkey, std::move(v.text), v.evidence, std::move(v.note)});
  }
  std::sort(values.begin(), values.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [line, v] : values) part.values.push_back(std::move(v));
  return part;
}

std::string render_hardware_json(std::string_view kind) {
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const auto& part : hardware_library()) {
    if (!kind.empty() && part.kind != kind) continue;
    nlohmann::ordered_json values = nlohmann::ordered_json::array();
    for (const auto& v : part.values) {
      auto exact = parse_quantity(v.value, find_param(v.key)->dimension, v.key);  // checked when the library was read
      values.push_back({{"key", v.key},
                        {"value", v.value},
                        {"value_exact", exact ? format_fraction(exact.value()) : std::string()},
                        {"evidence", to_string(v.evidence)},
                        {"note", v.note}});
    }
    all.push_back({{"kind", part.kind}, {"name", part.name}, {"description", part.description}, {"values", values}});
  }
  return all.dump(2);
}

Status apply_hardware(Params& params, InputProvenance& provenance, const HardwarePart& part) {
  for (const auto& v : part.values) {
    const ParamSpec* spec = find_param(v.key);
    if (spec == nullptr) {
      return Error{ErrorCode::kInternal, v.key, v.value, fmt::format("hardware part {}: unknown key {}", part.name, v.key)};
    }
    Provenance& p = provenance.at(spec->id);
    if (p.origin == Origin::kConfig || p.origin == Origin::kCommandLine) continue;  // written by the user: stays
    if (auto st = set_param(params, v.key, v.value); !st) return st;
    p = Provenance{v.evidence, v.note, Origin::kLibrary, fmt::format("{} {}", part.kind, part.name)};
  }
  return {};
}

std::string_view serving_unread_reason(const ParamSpec& spec) {
  switch (spec.id) {
    case ParamId::kLoraD: return "the widths are the transformer's ([transformer])";
    case ParamId::kLoraR: return "the ranks are the adapters' ([[adapters]] rank, serving.ranks)";
    case ParamId::kLoraElementBytes: return "the element size is the transformer's dtype";
    case ParamId::kLoraBlockTokens: return "its tokens are planned one by one";
    case ParamId::kLoraWeights: return "the adapters' residency is [[adapters]] weights or serving.weights";
    default: break;
  }
  if (spec.pipeline_only && spec.id != ParamId::kCxlMemoryBytes) return "a switch of the pipeline model";
  return {};
}

Status check_values_read(const Params& params, const InputProvenance& provenance) {
  if (params.model_name() != ModelName::kServing) return {};
  for (const auto& s : param_specs()) {
    const Origin o = provenance.at(s.id).origin;
    if (o != Origin::kConfig && o != Origin::kCommandLine) continue;  // a preset's or a default
    // A full-duplex link is what the serving model assumes: stating it is not a mistake, and
    // validate_serving refuses `shared` with its own reason.
    if (s.id == ParamId::kLinkDuplex) continue;
    const std::string_view why = serving_unread_reason(s);
    if (why.empty()) continue;
    const std::string text = params.has(s.id) ? param_text(s, params.get(s.id)) : "none";
    return Error{ErrorCode::kInconsistent, std::string(s.key), text,
                 fmt::format("{} = '{}': not read by the serving model ({})", s.key, text, why)};
  }
  return {};
}

bool model_reads(ModelName model, const ParamSpec& spec) {
  switch (model) {
    case ModelName::kServing: return serving_unread_reason(spec).empty();
    case ModelName::kPipeline: return !spec.serving_only;
    case ModelName::kSeed: break;
  }
  return !spec.serving_only && !spec.pipeline_only;
}

std::vector<std::string> hardware_warnings(const Params& params, const InputProvenance& provenance) {
  std::vector<std::string> out;
  const Provenance& flops = provenance.at(ParamId::kGpuFlops);
  if (params.model_name() == ModelName::kServing || flops.origin != Origin::kLibrary || params.element_bytes() != 4) {
    return out;
  }
  // Only the built-in parts carry a Tensor Core peak; a profile file (also applied as a
  // part) holds what it measured or says.
  const std::string_view prefix = "gpu ";
  if (!flops.where.starts_with(prefix)) return out;
  const std::string name = flops.where.substr(prefix.size());
  const auto& lib = hardware_library();
  if (std::none_of(lib.begin(), lib.end(), [&](const HardwarePart& p) { return p.kind == "gpu" && p.name == name; })) {
    return out;
  }
  out.push_back(fmt::format(
      "gpu.flops = {} FLOP/s is GPU part {}'s dense BF16/FP16 Tensor Core peak, but lora.element_bytes = 4 (FP32 "
      "adapters), which run at the GPU's far lower FP32 rate; for BF16 or FP16 adapters set lora.element_bytes = 2 "
      "(docs/hardware.md)",
      format_exact(params.gpu_flops()), name));
  return out;
}

void drop_unread_parts(Params& params, InputProvenance& provenance, ModelName model) {
  static const Params defaults;
  for (const auto& s : param_specs()) {
    Provenance& p = provenance.at(s.id);
    if (p.origin != Origin::kLibrary || model_reads(model, s)) continue;
    if (defaults.has(s.id)) {
      params.set(s.id, defaults.get(s.id));
    } else {
      params.clear(s.id);
    }
    p = Provenance{};
  }
}

std::vector<const ParamSpec*> hardware_inputs(ModelName model) {
  std::vector<const ParamSpec*> out;  // the GPU's, the device's, the link's, each in table order
  for (const std::string_view kind : kKinds) {
    for (const auto& s : param_specs()) {
      if (s.key.substr(0, s.key.find('.')) == kind && model_reads(model, s)) out.push_back(&s);
    }
  }
  return out;
}

std::vector<const ParamSpec*> hardware_inputs(const Params& params, ModelName model) {
  auto out = hardware_inputs(model);
  if (params.cxl_flops() != 0) return out;
  std::erase_if(out, [](const ParamSpec* s) { return detail::device_kernel_rate(s->id); });
  return out;
}

bool provenance_stated(const InputProvenance& provenance, ModelName model) {
  const auto inputs = hardware_inputs(model);
  return std::any_of(inputs.begin(), inputs.end(),
                     [&](const ParamSpec* s) { return provenance.at(s->id).evidence != Evidence::kNotStated; });
}

std::string render_inputs_text(const Params& params, const InputProvenance& provenance, ModelName model) {
  std::string out = "Inputs: what each hardware number rests on\n";
  std::string assumed, unstated;
  for (const ParamSpec* s : hardware_inputs(params, model)) {
    const Provenance& p = provenance.at(s->id);
    const std::string value = params.has(s->id) ? readable_quantity(*s, params.get(s->id)) : std::string("none");
    out += fmt::format("  {:<34} {:<14} {:<10} from {}\n", s->key, value, to_string(p.evidence),
                       printable(origin_text(p)));
    if (!p.note.empty()) out += fmt::format("      {}\n", printable(p.note));
    std::string& list = p.evidence == Evidence::kAssumed ? assumed : unstated;
    if (p.evidence == Evidence::kAssumed || p.evidence == Evidence::kNotStated) {
      list += fmt::format("{}{}", list.empty() ? "" : ", ", s->key);
    }
  }
  out += fmt::format("  assumed: {}\n", assumed.empty() ? "none" : assumed);
  if (!unstated.empty()) out += fmt::format("  not stated: {}\n", unstated);
  return out;
}

namespace {

nlohmann::ordered_json inputs_json(const Params& params, const InputProvenance& provenance, ModelName model) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const ParamSpec* s : hardware_inputs(params, model)) {
    const Provenance& p = provenance.at(s->id);
    nlohmann::ordered_json x;
    x["key"] = s->key;
    x["value"] = params.has(s->id) ? readable_quantity(*s, params.get(s->id)) : std::string("none");
    x["value_exact"] = params.has(s->id) ? format_fraction(params.get(s->id)) : std::string("none");
    x["evidence"] = to_string(p.evidence);
    x["note"] = p.note;
    x["origin"] = origin_word(p.origin);
    x["where"] = p.where;
    out.push_back(std::move(x));
  }
  return out;
}

}  // namespace

std::string render_inputs_json(const Params& params, const InputProvenance& provenance, ModelName model) {
  return inputs_json(params, provenance, model).dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string add_inputs_json(std::string_view report_json, const Params& params, const InputProvenance& provenance,
                            ModelName model) {
  auto j = nlohmann::ordered_json::parse(report_json);
  j["inputs"] = inputs_json(params, provenance, model);
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace lorasplit
