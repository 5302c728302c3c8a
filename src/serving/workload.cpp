// The serving model's inputs (docs/model.md §9.1, §9.8): transformer shapes (built in, or
// from a Hugging Face config.json), and the adapters of one iteration, listed or generated.
#include <lorasplit/serving.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <sstream>
#include <toml++/toml.h>

#include "params/checks.hpp"

namespace lorasplit {
namespace {

constexpr std::int64_t kMaxWidth = 1'000'000;      // elements of a hidden or intermediate vector
constexpr std::int64_t kMaxLayers = 10'000;
constexpr std::int64_t kMaxRank = 65'536;
constexpr std::int64_t kMaxTokens = 1'000'000'000;  // per adapter and in the batch
constexpr std::int64_t kMaxContext = 100'000'000;
constexpr std::size_t kMaxAdapters = 100'000;

// Numbers from each model's config.json on its Hugging Face page (docs/model.md §9.8).
const std::array<TransformerShape, 6> kPresets = {{
    {"llama-2-7b", "config.json of meta-llama/Llama-2-7b-hf (Hugging Face)", 4096, 11008, 32, 32, 32, 128, "float16", 2},
    {"llama-2-13b", "config.json of meta-llama/Llama-2-13b-hf (Hugging Face)", 5120, 13824, 40, 40, 40, 128, "float16",
     2},
    {"llama-3-8b", "config.json of meta-llama/Meta-Llama-3-8B (Hugging Face)", 4096, 14336, 32, 32, 8, 128,
     "bfloat16", 2},
    {"llama-3-70b", "config.json of meta-llama/Meta-Llama-3-70B (Hugging Face)", 8192, 28672, 80, 64, 8, 128,
     "bfloat16", 2},
    {"mistral-7b", "config.json of mistralai/Mistral-7B-v0.1 (Hugging Face)", 4096, 14336, 32, 32, 8, 128, "bfloat16",
     2},
    {"qwen2.5-7b", "config.json of Qwen/Qwen2.5-7B (Hugging Face; q/k/v biases not modelled)", 3584, 18944, 28, 28, 4,
     128, "bfloat16", 2},
}};

constexpr std::array<std::string_view, kModuleCount> kModuleNames = {"q", "k", "v", "o", "gate", "up", "down"};

std::int64_t dtype_bytes(std::string_view dtype) {
  if (dtype == "float16" || dtype == "bfloat16") return 2;
  if (dtype == "float32") return 4;
  return 0;
}

// The checks every shape passes, whichever way it was given. `key` prefixes the names.
Status check_shape(const TransformerShape& s, std::string_view where) {
  const auto bad = [&](std::string_view name, std::int64_t v, std::string_view why) {
    return Error{ErrorCode::kOutOfRange, fmt::format("transformer.{}", name), std::to_string(v),
                 fmt::format("{}transformer.{} = '{}': {}", where, name, v, why)};
  };
  if (s.hidden < 1 || s.hidden > kMaxWidth) return bad("hidden_size", s.hidden, "must be 1 to 1000000");
  if (s.intermediate < 1 || s.intermediate > kMaxWidth) {
    return bad("intermediate_size", s.intermediate, "must be 1 to 1000000");
  }
  if (s.layers < 1 || s.layers > kMaxLayers) return bad("num_hidden_layers", s.layers, "must be 1 to 10000");
  if (s.heads < 1 || s.heads > s.hidden) return bad("num_attention_heads", s.heads, "must be 1 to hidden_size");
  if (s.kv_heads < 1 || s.kv_heads > s.heads || s.heads % s.kv_heads != 0) {
    return bad("num_key_value_heads", s.kv_heads, "must divide num_attention_heads");
  }
  if (s.head_dim < 1 || s.head_dim * s.heads > kMaxWidth) return bad("head_dim", s.head_dim, "must be 1 or more, with head_dim * num_attention_heads <= 1000000");
  if (s.element_bytes == 0) {
    return Error{ErrorCode::kOutOfRange, "transformer.dtype", s.dtype,
                 fmt::format("{}transformer.dtype = '{}': expected float16, bfloat16 or float32", where, s.dtype)};
  }
  return {};
}

// A TOML value as the file would write it (for messages), cut to one line.
std::string node_text(const toml::node& node) {
  std::ostringstream out;
  node.visit([&](const auto& v) { out << v; });
  std::string text = out.str();
  for (auto& c : text) {
    if (c == '\n') c = ' ';
  }
  return text.size() > 80 ? text.substr(0, 77) + "..." : text;
}

std::string where_of(std::string_view source, const toml::node& node) {
  // A value from the command line (--set) says so.
  if (node.source().begin.line == 0) return "--set: ";
  if (const auto& path = node.source().path; path && path->starts_with("--set")) return "--set: ";
  return fmt::format("{}:{}: ", source, node.source().begin.line);
}

// A whole number from a TOML node: an integer, or a string holding one.
Result<std::int64_t> whole(const toml::node& node, std::string_view key, std::string_view source, std::int64_t lo,
                           std::int64_t hi) {
  std::int64_t v = 0;
  if (const auto* i = node.as_integer()) {
    v = i->get();
  } else {
    std::string text;
    if (const auto* s = node.as_string()) {
      text = s->get();
    } else {
      const std::string given = node_text(node);
      return Error{node.is_floating_point() ? ErrorCode::kNotInteger : ErrorCode::kConfigSyntax, std::string(key),
                   given,
                   fmt::format("{}{} = {}: must be a whole number (a TOML integer, or a string holding one)",
                               where_of(source, node), key, given)};
    }
    auto q = parse_quantity(text, Dimension::kCount, key);
    if (!q || q->get_den() != 1 || !q->get_num().fits_slong_p()) {
      return Error{ErrorCode::kNotInteger, std::string(key), text,
                   fmt::format("{}{} = '{}': must be a whole number", where_of(source, node), key, text)};
    }
    v = q->get_num().get_si();
  }
  if (v < lo || v > hi) {
    return Error{ErrorCode::kOutOfRange, std::string(key), std::to_string(v),
                 fmt::format("{}{} = '{}': must be {} to {}", where_of(source, node), key, v, lo, hi)};
  }
  return v;
}

Result<std::string> word(const toml::node& node, std::string_view key, std::string_view source) {
  if (const auto* s = node.as_string()) return std::string(s->get());
  const std::string v = node_text(node);
  return Error{ErrorCode::kConfigSyntax, std::string(key), v,
               fmt::format("{}{} = {}: must be a string", where_of(source, node), key, v)};
}

Result<Residency> residency(const toml::node& node, std::string_view key, std::string_view source) {
  auto w = word(node, key, source);
  if (!w) return w.error();
  if (*w == "gpu") return Residency::kGpu;
  if (*w == "cxl") return Residency::kCxl;
  if (*w == "both") return Residency::kBoth;
  return Error{ErrorCode::kOutOfRange, std::string(key), *w,
               fmt::format("{}{} = '{}': expected gpu, cxl or both", where_of(source, node), key, *w)};
}

// A list of module names: q, k, v, o, gate, up, down, or PEFT's target_modules names
// (q_proj, ..., down_proj, as in an adapter_config.json); a string "q,v" (from --set) is
// the list [q, v].
Result<std::uint8_t> modules_of(const toml::node& node, std::string_view key, std::string_view source) {
  std::vector<std::string> names;
  const auto* arr = node.as_array();
  if (arr != nullptr) {
    for (const auto& item : *arr) {
      auto w = word(item, key, source);
      if (!w) return w.error();
      names.push_back(*w);
    }
  } else if (const auto* str = node.as_string(); str != nullptr && !str->get().empty()) {
    names = detail::split_items(str->get(), ',');  // an empty item is refused below
  }
  if (names.empty()) {
    const std::string v = node_text(node);
    return Error{ErrorCode::kConfigSyntax, std::string(key), v,
                 fmt::format("{}{} = {}: must be a non-empty list of module names ({})", where_of(source, node), key,
                             v, fmt::join(kModuleNames, ", "))};
  }
  std::uint8_t mask = 0;
  for (const auto& name : names) {
    std::string_view base = name;
    if (base.ends_with("_proj")) base.remove_suffix(5);
    const auto it = std::find(kModuleNames.begin(), kModuleNames.end(), base);
    if (it == kModuleNames.end() || base.empty()) {
      return Error{ErrorCode::kOutOfRange, std::string(key), name,
                   fmt::format("{}{} = '{}': not a module (expected {}, or their _proj names)", where_of(source, node),
                               key, name, fmt::join(kModuleNames, ", "))};
    }
    const auto bit = static_cast<std::uint8_t>(1U << static_cast<unsigned>(it - kModuleNames.begin()));
    if ((mask & bit) != 0) {
      return Error{ErrorCode::kConfigSyntax, std::string(key), name,
                   fmt::format("{}{} = '{}': listed twice", where_of(source, node), key, name)};
    }
    mask = static_cast<std::uint8_t>(mask | bit);
  }
  return mask;
}

Status unknown_key(std::string_view table, std::string_view k, const toml::node& node, std::string_view source,
                   std::string_view expected) {
  return Error{ErrorCode::kUnknownKey, fmt::format("{}.{}", table, k), "",
               fmt::format("{}{}.{}: unknown key (expected {})", where_of(source, node), table, k, expected)};
}

// The six whole-number fields of a shape, each read by `field(key, required, out)` (from a
// TOML table or a config.json), then the defaults of the two optional ones (docs/model.md
// §9.1). `where` starts the messages.
template <class Field>
Status read_shape_fields(TransformerShape& s, Field&& field, std::string_view where) {
  for (const auto& [key, out, required] :
       {std::tuple{"hidden_size", &s.hidden, true}, std::tuple{"intermediate_size", &s.intermediate, true},
        std::tuple{"num_hidden_layers", &s.layers, true}, std::tuple{"num_attention_heads", &s.heads, true},
        std::tuple{"num_key_value_heads", &s.kv_heads, false}, std::tuple{"head_dim", &s.head_dim, false}}) {
    if (auto st = field(key, required, *out); !st) return st;
  }
  if (s.kv_heads == 0) s.kv_heads = s.heads;
  if (s.head_dim == 0) {
    if (s.hidden % s.heads != 0) {
      return Error{ErrorCode::kInconsistent, "transformer.num_attention_heads", std::to_string(s.heads),
                   fmt::format("{}num_attention_heads = {} does not divide hidden_size = {} and there is no head_dim",
                               where, s.heads, s.hidden)};
    }
    s.head_dim = s.hidden / s.heads;
  }
  return {};
}

Result<TransformerShape> shape_from_table(const toml::table& t, std::string_view source, const std::string& base_dir) {
  const bool has_preset = t.contains("preset"), has_hf = t.contains("hf_config");
  const std::array<std::string_view, 7> keys = {"hidden_size",         "intermediate_size", "num_hidden_layers",
                                                "num_attention_heads", "num_key_value_heads", "head_dim", "dtype"};
  bool explicit_keys = false;
  for (const auto& [k, node] : t) {
    const std::string_view name = k.str();
    if (name == "preset" || name == "hf_config") continue;
    if (std::find(keys.begin(), keys.end(), name) == keys.end()) {
      return unknown_key("transformer", name, node, source,
                         "preset, hf_config, or hidden_size, intermediate_size, num_hidden_layers, "
                         "num_attention_heads, num_key_value_heads, head_dim, dtype")
          .error();
    }
    explicit_keys = true;
  }
  if (static_cast<int>(has_preset) + static_cast<int>(has_hf) + static_cast<int>(explicit_keys) != 1) {
    std::vector<std::string_view> given;
    if (has_preset) given.emplace_back("preset");
    if (has_hf) given.emplace_back("hf_config");
    if (explicit_keys) given.emplace_back("the shape's keys");
    const std::string what = given.empty() ? std::string("none") : fmt::format("{}", fmt::join(given, " and "));
    return Error{ErrorCode::kInconsistent, "transformer", what,
                 fmt::format("{}: [transformer] needs exactly one of preset = \"NAME\", hf_config = \"PATH\" or the "
                             "shape's keys written out (it has {})",
                             source, what)};
  }
  if (has_preset) {
    auto name = word(*t.get("preset"), "transformer.preset", source);
    if (!name) return name.error();
    auto s = transformer_preset(*name);
    if (!s) {
      return Error{s.error().code, s.error().key, s.error().value,
                   fmt::format("{}{}", where_of(source, *t.get("preset")), s.error().message)};
    }
    return s;
  }
  if (has_hf) {
    auto path = word(*t.get("hf_config"), "transformer.hf_config", source);
    if (!path) return path.error();
    std::string full = *path;
    if (!full.empty() && full.front() != '/' && !base_dir.empty()) full = base_dir + "/" + full;
    return read_hf_config(full);
  }
  TransformerShape s;
  s.name = "[transformer]";
  s.source = std::string(source);
  const auto get = [&](std::string_view key, std::int64_t& out, bool required, std::int64_t lo,
                       std::int64_t hi) -> Status {
    const toml::node* node = t.get(key);
    if (node == nullptr) {
      if (!required) return {};
      return Error{ErrorCode::kConfigSyntax, fmt::format("transformer.{}", key), "",
                   fmt::format("{}: [transformer] lists the shape but not {}", source, key)};
    }
    auto v = whole(*node, fmt::format("transformer.{}", key), source, lo, hi);
    if (!v) return v.error();
    out = *v;
    return {};
  };
  if (auto st = read_shape_fields(
          s, [&](std::string_view key, bool required, std::int64_t& out) { return get(key, out, required, 1, kMaxWidth); },
          fmt::format("{}: ", source));
      !st) {
    return st.error();
  }
  const toml::node* dt = t.get("dtype");
  if (dt == nullptr) {
    return Error{ErrorCode::kConfigSyntax, "transformer.dtype", "",
                 fmt::format("{}: [transformer] lists the shape but not dtype (float16, bfloat16 or float32)", source)};
  }
  auto d = word(*dt, "transformer.dtype", source);
  if (!d) return d.error();
  s.dtype = *d;
  s.element_bytes = dtype_bytes(s.dtype);
  if (auto st = check_shape(s, fmt::format("{}: ", source)); !st) return st.error();
  return s;
}

// Largest remainders: n_i = floor(T w_i / sum w), the rest one each by remainder.
std::vector<std::int64_t> apportion(std::int64_t total, const std::vector<double>& w) {
  const double sum = std::accumulate(w.begin(), w.end(), 0.0);
  std::vector<std::int64_t> n(w.size());
  std::vector<std::pair<double, std::size_t>> rest;
  std::int64_t given = 0;
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double share = static_cast<double>(total) * w[i] / sum;
    n[i] = static_cast<std::int64_t>(std::floor(share));
    given += n[i];
    rest.emplace_back(share - static_cast<double>(n[i]), i);
  }
  std::stable_sort(rest.begin(), rest.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t k = 0; given < total && k < rest.size(); ++k, ++given) ++n[rest[k].second];
  return n;
}

}  // namespace

std::int64_t ServingWorkload::tokens() const {
  std::int64_t t = 0;
  for (const auto& a : adapters) t += a.tokens;
  return t;
}

ServingWorkload served_workload(const ServingWorkload& w, const std::vector<std::int64_t>& served) {
  ServingWorkload out = w;
  out.mode = ServingMode::kBatch;
  for (std::size_t i = 0; i < out.adapters.size() && i < served.size(); ++i) out.adapters[i].tokens = served[i];
  return out;
}

std::string_view to_string(ServingMode m) { return m == ServingMode::kCapacity ? "capacity" : "batch"; }

std::string_view to_string(Module m) { return kModuleNames[static_cast<std::size_t>(m)]; }

std::string_view to_string(ServingStage s) {
  constexpr std::array<std::string_view, kServingStageCount> names = {"qkv", "attention", "o", "gate_up", "down"};
  return names[static_cast<std::size_t>(s)];
}

std::string_view to_string(Residency r) {
  switch (r) {
    case Residency::kGpu: return "gpu";
    case Residency::kCxl: return "cxl";
    case Residency::kBoth: return "both";
  }
  return "?";
}

std::string_view to_string(ServingPath p) {
  switch (p) {
    case ServingPath::kGpu: return "gpu";
    case ServingPath::kSplit: return "split";
    case ServingPath::kDevice: return "device";
  }
  return "?";
}

std::span<const TransformerShape> transformer_presets() { return kPresets; }

Result<TransformerShape> transformer_preset(std::string_view name) {
  for (const auto& s : kPresets) {
    if (s.name == name) return s;
  }
  std::vector<std::string_view> names;
  for (const auto& s : kPresets) names.push_back(s.name);
  return Error{ErrorCode::kUnknownPreset, "transformer.preset", std::string(name),
               fmt::format("transformer.preset = '{}': not a built-in shape (expected {})", name,
                           fmt::join(names, ", "))};
}

Result<TransformerShape> parse_hf_config(std::string_view json_text, std::string_view source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    return Error{ErrorCode::kConfigSyntax, "transformer.hf_config", std::string(source),
                 fmt::format("transformer.hf_config = '{}': not JSON ({})", source, e.what())};
  }
  if (!j.is_object()) {
    return Error{ErrorCode::kConfigSyntax, "transformer.hf_config", std::string(source),
                 fmt::format("transformer.hf_config = '{}': not a JSON object", source)};
  }
  const auto field = [&](std::string_view key, bool required, std::int64_t& out) -> Status {
    const auto it = j.find(std::string(key));
    if (it == j.end() || it->is_null()) {
      if (!required) return {};
      return Error{ErrorCode::kConfigSyntax, fmt::format("transformer.{}", key), "",
                   fmt::format("transformer.hf_config = '{}': no {}", source, key)};
    }
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 || it->get<std::int64_t>() > kMaxWidth) {
      return Error{ErrorCode::kOutOfRange, fmt::format("transformer.{}", key), it->dump(),
                   fmt::format("transformer.hf_config = '{}': {} = {} is not a whole number from 1 to 1000000",
                               source, key, it->dump())};
    }
    out = it->get<std::int64_t>();
    return {};
  };
  TransformerShape s;
  s.name = std::string(source);
  s.source = fmt::format("Hugging Face config.json at {}", source);
  if (auto st = read_shape_fields(s, field, fmt::format("transformer.hf_config = '{}': ", source)); !st) {
    return st.error();
  }
  const auto dt = j.find("torch_dtype");
  if (dt == j.end() || !dt->is_string()) {
    return Error{ErrorCode::kConfigSyntax, "transformer.dtype", "",
                 fmt::format("transformer.hf_config = '{}': no torch_dtype string", source)};
  }
  s.dtype = dt->get<std::string>();
  s.element_bytes = dtype_bytes(s.dtype);
  if (auto st = check_shape(s, fmt::format("transformer.hf_config = '{}': ", source)); !st) return st.error();
  return s;
}

Result<TransformerShape> read_hf_config(const std::string& path) {
  auto text = detail::read_text_file(path, "transformer.hf_config", std::size_t{4} << 20);
  if (!text) return text.error();
  return parse_hf_config(text.value(), path);
}

Status check_serving_tables(const std::string& path, ModelName model) {
  if (model == ModelName::kServing) return {};
  auto text = detail::read_text_file(path, "config", std::size_t{1} << 20);
  if (!text) return text.error();
  toml::table root;
  try {
    root = toml::parse(text.value(), path);
  } catch (const toml::parse_error&) {
    return {};  // the parameter loader reports the syntax error
  }
  if (const auto* lt = root.get_as<toml::table>("lora"); lt != nullptr && lt->contains("target_modules")) {
    return Error{ErrorCode::kInconsistent, "config", path,
                 fmt::format("config = '{}': lora.target_modules is read by the serving model only; set model.name = "
                             "serving",
                             path)};
  }
  for (const auto* key : {"transformer", "serving", "adapters"}) {
    if (!root.contains(key)) continue;
    return Error{ErrorCode::kInconsistent, "config", path,
                 fmt::format("config = '{}': [{}] is read by the serving model only; set model.name = serving", path,
                             key)};
  }
  return {};
}

bool is_workload_key(std::string_view key) {
  return key.starts_with("serving.") || key.starts_with("transformer.") || key == "lora.target_modules";
}

namespace {

// One override over the parsed tables (see load_serving_workload).
Status apply_override(toml::table& root, const std::string& key, const std::string& value) {
  const auto dot = key.find('.');
  const std::string table = key.substr(0, dot), name = key.substr(dot + 1);
  if (!is_workload_key(key) || name.empty() || name.find('.') != std::string::npos) {
    return Error{ErrorCode::kUnknownKey, key, value,
                 fmt::format("--set {}={}: not a workload key (serving.NAME, transformer.NAME or "
                             "lora.target_modules)",
                             key, value)};
  }
  // The value as TOML (an integer, a float, an array; "8,16" as [8, 16]), else a string;
  // its source is the command line, so messages say where it came from.
  const std::string where = "--set";
  std::optional<toml::table> parsed;
  const std::array<std::string, 2> forms = {fmt::format("v = {}", value), fmt::format("v = [{}]", value)};
  for (std::size_t f = 0; f < forms.size(); ++f) {
    const std::string& text = forms[f];
    if (f == 1 && value.find(',') == std::string::npos) continue;  // "8,16" is a list; "8" stays a number
    try {
      auto t = toml::parse(text, where);
      const toml::node* v = t.get("v");
      if (v != nullptr && (v->is_integer() || v->is_floating_point() || v->is_array())) {
        parsed = std::move(t);
        break;
      }
    } catch (const toml::parse_error&) {
    }
  }
  if (!parsed) {
    toml::table t;
    t.insert("v", value);
    parsed = std::move(t);
  }
  if (table == "transformer" && (name == "preset" || name == "hf_config")) root.insert_or_assign("transformer", toml::table{});
  if (key == "serving.adapters") root.erase("adapters");
  auto* t = root.get_as<toml::table>(table);
  if (t == nullptr) {
    root.insert_or_assign(table, toml::table{});
    t = root.get_as<toml::table>(table);
  }
  t->insert_or_assign(name, std::move(*parsed->get("v")));
  return {};
}

}  // namespace

Result<ServingWorkload> load_serving_workload_string(std::string_view toml_text, std::string_view source,
                                                     const std::string& base_dir, const WorkloadOverrides& overrides) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    return Error{ErrorCode::kConfigSyntax, std::string(source), "",
                 fmt::format("{}:{}: malformed TOML: {}", source, e.source().begin.line, e.description())};
  }
  for (const auto& [key, value] : overrides) {
    if (auto st = apply_override(root, key, value); !st) return st.error();
  }
  ServingWorkload w;
  const auto* tt = root.get_as<toml::table>("transformer");
  if (tt == nullptr) {
    return Error{ErrorCode::kConfigSyntax, "transformer", "",
                 fmt::format("{}: the serving model needs a [transformer] table (preset, hf_config or the shape)",
                             source)};
  }
  auto shape = shape_from_table(*tt, source, base_dir);
  if (!shape) return shape.error();
  w.shape = std::move(shape.value());

  // [lora] target_modules: the modules of every adapter that does not list its own.
  std::uint8_t target_modules = 0x7f;
  const toml::node* target_node = nullptr;
  bool target_used = false;
  if (const auto* lt = root.get_as<toml::table>("lora")) {
    if (const auto* m = lt->get("target_modules")) {
      auto v = modules_of(*m, "lora.target_modules", source);
      if (!v) return v.error();
      target_modules = *v;
      target_node = m;
    }
  }
  const auto* st = root.get_as<toml::table>("serving");
  if (st == nullptr) {
    return Error{ErrorCode::kConfigSyntax, "serving", "",
                 fmt::format("{}: the serving model needs a [serving] table (at least context_tokens)", source)};
  }
  constexpr std::string_view kServingKeys =
      "context_tokens, mode, adapters, ranks, batch_tokens, popularity, weights, modules";
  for (const auto& [k, node] : *st) {
    const std::string_view name = k.str();
    constexpr std::array<std::string_view, 8> known = {"context_tokens", "mode",       "adapters", "ranks",
                                                       "batch_tokens",   "popularity", "weights",  "modules"};
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return unknown_key("serving", name, node, source, kServingKeys).error();
    }
  }
  if (const auto* c = st->get("context_tokens"); c != nullptr) {
    auto v = whole(*c, "serving.context_tokens", source, 0, kMaxContext);
    if (!v) return v.error();
    w.context_tokens = *v;
  } else {
    return Error{ErrorCode::kConfigSyntax, "serving.context_tokens", "",
                 fmt::format("{}: [serving] needs context_tokens (the tokens in each sequence's KV cache; 0 for none)",
                             source)};
  }
  if (const auto* m = st->get("mode"); m != nullptr) {
    auto v = word(*m, "serving.mode", source);
    if (!v) return v.error();
    if (*v != "batch" && *v != "capacity") {
      return Error{ErrorCode::kOutOfRange, "serving.mode", *v,
                   fmt::format("{}serving.mode = '{}': expected batch or capacity", where_of(source, *m), *v)};
    }
    w.mode = *v == "capacity" ? ServingMode::kCapacity : ServingMode::kBatch;
  }
  const bool generated = st->contains("adapters");
  const auto* listed = root.get("adapters");
  if (generated == (listed != nullptr)) {
    return Error{ErrorCode::kInconsistent, "adapters", "",
                 fmt::format("{}: give the adapters either as [[adapters]] entries or as serving.adapters = N with "
                             "ranks, batch_tokens, popularity and weights, not {}",
                             source, generated ? "both" : "neither")};
  }
  for (const auto* key : {"ranks", "batch_tokens", "popularity", "weights", "modules"}) {
    if (!generated && st->contains(key)) {
      return Error{ErrorCode::kInconsistent, fmt::format("serving.{}", key), "",
                   fmt::format("{}serving.{}: read only with serving.adapters = N (the generator)",
                               where_of(source, *st->get(key)), key)};
    }
  }
  if (generated) {
    auto n = whole(*st->get("adapters"), "serving.adapters", source, 1, static_cast<std::int64_t>(kMaxAdapters));
    if (!n) return n.error();
    for (const auto* key : {"ranks", "batch_tokens", "popularity", "weights"}) {
      if (!st->contains(key)) {
        return Error{ErrorCode::kConfigSyntax, fmt::format("serving.{}", key), "",
                     fmt::format("{}: serving.adapters = {} needs serving.{}", source, *n, key)};
      }
    }
    // A list of ranks, or one rank alone (`--set serving.ranks=8`, a sweep's `8;16`).
    const toml::node& ranks_node = *st->get("ranks");
    const auto* ranks = ranks_node.as_array();
    std::vector<std::int64_t> rank_list;
    if (ranks == nullptr && (ranks_node.is_integer() || ranks_node.is_string())) {
      auto v = whole(ranks_node, "serving.ranks", source, 1, kMaxRank);
      if (!v) return v.error();
      rank_list.push_back(*v);
    } else if (ranks == nullptr || ranks->empty()) {
      const std::string v = node_text(ranks_node);
      return Error{ErrorCode::kConfigSyntax, "serving.ranks", v,
                   fmt::format("{}serving.ranks = {}: must be a rank or a non-empty list of ranks",
                               where_of(source, ranks_node), v)};
    } else {
      for (const auto& r : *ranks) {
        auto v = whole(r, "serving.ranks", source, 1, kMaxRank);
        if (!v) return v.error();
        rank_list.push_back(*v);
      }
    }
    auto total = whole(*st->get("batch_tokens"), "serving.batch_tokens", source, 1, kMaxTokens);
    if (!total) return total.error();
    auto pop = word(*st->get("popularity"), "serving.popularity", source);
    if (!pop) return pop.error();
    std::vector<double> weights(static_cast<std::size_t>(*n), 1.0);
    if (*pop != "uniform") {
      const std::string_view p = *pop;
      Result<Rational> s = Error{};
      if (p.substr(0, 5) == "zipf:") s = parse_quantity(p.substr(5), Dimension::kFraction, "serving.popularity");
      if (p.substr(0, 5) != "zipf:" || !s || *s < 0 || *s > 10) {
        return Error{ErrorCode::kOutOfRange, "serving.popularity", *pop,
                     fmt::format("{}serving.popularity = '{}': expected uniform or zipf:S with 0 <= S <= 10",
                                 where_of(source, *st->get("popularity")), *pop)};
      }
      const double exponent = to_double(*s);
      for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = std::pow(static_cast<double>(i + 1), -exponent);
    }
    auto res = residency(*st->get("weights"), "serving.weights", source);
    if (!res) return res.error();
    std::uint8_t mods = target_modules;
    target_used = st->get("modules") == nullptr;
    if (const auto* m = st->get("modules")) {
      auto v = modules_of(*m, "serving.modules", source);
      if (!v) return v.error();
      mods = *v;
    }
    const auto counts = apportion(*total, weights);
    for (std::size_t i = 0; i < counts.size(); ++i) {
      w.adapters.push_back({fmt::format("a{}", i), rank_list[i % rank_list.size()], counts[i], *res, mods});
    }
    w.generator = fmt::format("{} adapters, ranks [{}] in turn, {} tokens by {} popularity, weights on {}", *n,
                              fmt::join(rank_list, ", "), *total, *pop, to_string(*res));
  } else {
    const auto* arr = listed->as_array();
    if (arr == nullptr || arr->empty() || !arr->is_array_of_tables()) {
      const std::string v = node_text(*listed);
      return Error{ErrorCode::kConfigSyntax, "adapters", v,
                   fmt::format("{}adapters = {}: must be [[adapters]] tables", where_of(source, *listed), v)};
    }
    if (arr->size() > kMaxAdapters) {
      return Error{ErrorCode::kOutOfRange, "adapters", std::to_string(arr->size()),
                   fmt::format("{}adapters: {} entries, more than {}", where_of(source, *listed), arr->size(),
                               kMaxAdapters)};
    }
    for (const auto& entry : *arr) {
      const auto& t = *entry.as_table();
      ServingAdapter a;
      a.modules = target_modules;
      for (const auto& [k, node] : t) {
        const std::string_view name = k.str();
        if (name != "name" && name != "rank" && name != "tokens" && name != "weights" && name != "modules") {
          return unknown_key("adapters", name, node, source, "name, rank, tokens, weights, modules").error();
        }
      }
      for (const auto* key : {"name", "rank", "tokens", "weights"}) {
        if (!t.contains(key)) {
          return Error{ErrorCode::kConfigSyntax, fmt::format("adapters.{}", key), "",
                       fmt::format("{}an [[adapters]] entry has no {}", where_of(source, entry), key)};
        }
      }
      auto name = word(*t.get("name"), "adapters.name", source);
      if (!name) return name.error();
      if (name->empty() || name->size() > 64) {
        return Error{ErrorCode::kOutOfRange, "adapters.name", *name,
                     fmt::format("{}adapters.name = '{}': 1 to 64 characters", where_of(source, *t.get("name")), *name)};
      }
      for (const auto& other : w.adapters) {
        if (other.name == *name) {
          return Error{ErrorCode::kInconsistent, "adapters.name", *name,
                       fmt::format("{}adapters.name = '{}': two adapters have this name", where_of(source, *t.get("name")),
                                   *name)};
        }
      }
      a.name = *name;
      auto rank = whole(*t.get("rank"), "adapters.rank", source, 1, kMaxRank);
      if (!rank) return rank.error();
      a.rank = *rank;
      auto tokens = whole(*t.get("tokens"), "adapters.tokens", source, 0, kMaxTokens);
      if (!tokens) return tokens.error();
      a.tokens = *tokens;
      auto res = residency(*t.get("weights"), "adapters.weights", source);
      if (!res) return res.error();
      a.weights = *res;
      if (const auto* m = t.get("modules")) {
        auto v = modules_of(*m, "adapters.modules", source);
        if (!v) return v.error();
        a.modules = *v;
      } else {
        target_used = true;
      }
      w.adapters.push_back(std::move(a));
    }
  }
  if (target_node != nullptr && !target_used) {
    const std::string v = node_text(*target_node);
    return Error{ErrorCode::kInconsistent, "lora.target_modules", v,
                 fmt::format("{}lora.target_modules = {}: every adapter has its own modules (adapters.modules or "
                             "serving.modules): it would change nothing",
                             where_of(source, *target_node), v)};
  }
  const std::int64_t t = w.tokens();
  if (t < 1 || t > kMaxTokens) {
    return Error{ErrorCode::kOutOfRange, "adapters.tokens", std::to_string(t),
                 fmt::format("{}: the batch has {} tokens; it needs 1 to {}", source, t, kMaxTokens)};
  }
  return w;
}

Result<ServingWorkload> load_serving_workload(const std::string& path, const WorkloadOverrides& overrides) {
  auto text = detail::read_text_file(path, "config", std::size_t{1} << 20);
  if (!text) return text.error();
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  return load_serving_workload_string(text.value(), path, dir, overrides);
}

}  // namespace lorasplit
