// TOML config loader. Numbers are taken from the file's own text so that decimals stay
// exact (toml++ would hand us a double).
#include <lorasplit/params.hpp>

#include "params/checks.hpp"
#include "params/value_node.hpp"

#include <fmt/format.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <variant>

#include <string>
#include <toml++/toml.h>
#include <vector>

namespace lorasplit {
namespace detail {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto nl = text.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.push_back(text.substr(start));
      break;
    }
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::string literal_at(const std::vector<std::string_view>& lines, const toml::source_position& pos) {
  if (pos.line == 0 || pos.line > lines.size()) return {};
  const std::string_view line = lines[pos.line - 1];
  std::size_t byte = 0;
  for (toml::source_index cp = 1; cp < pos.column && byte < line.size(); ++cp) {
    ++byte;
    while (byte < line.size() && (static_cast<unsigned char>(line[byte]) & 0xC0U) == 0x80U) ++byte;
  }
  std::string out;
  for (; byte < line.size(); ++byte) {
    const char c = line[byte];
    if (std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '+' || c == '-' || c == '.') {
      out += c;
    } else if (c != '_') {
      break;
    }
  }
  return out;
}

namespace {

std::variant<std::string, ValueError> scalar_text(const toml::node& node, const std::vector<std::string_view>& lines,
                                                  const ParamSpec* spec) {
  if (const auto* str = node.as_string()) return std::string(str->get());
  if (node.is_integer() || node.is_floating_point()) return literal_at(lines, node.source().begin);
  if (const auto* flag = node.as_boolean(); flag != nullptr && spec != nullptr && spec->choices == "off|on") {
    return std::string(flag->get() ? "on" : "off");
  }
  const std::string literal = literal_at(lines, node.source().begin);
  if (spec == nullptr) return ValueError{ErrorCode::kUnknownKey, literal, "unknown parameter"};
  return ValueError{ErrorCode::kConfigSyntax, literal, "must be a number or a string with a unit"};
}

}  // namespace

std::variant<ValueText, ValueError> read_value_node(const toml::node& node, const std::vector<std::string_view>& lines,
                                                   const ParamSpec* spec) {
  const auto* tbl = node.as_table();
  if (tbl == nullptr) {
    auto text = scalar_text(node, lines, spec);
    if (auto* e = std::get_if<ValueError>(&text)) return *e;
    return ValueText{std::get<std::string>(std::move(text)), Evidence::kNotStated, {}};
  }
  // { value = ..., spec | measured | assumed = "..." }
  if (spec == nullptr) return ValueError{ErrorCode::kUnknownKey, "{...}", "unknown parameter"};
  ValueText out;
  bool has_value = false;
  for (const auto& [k, v] : *tbl) {
    const std::string_view key = k.str();
    if (key == "value") {
      auto text = scalar_text(v, lines, spec);
      if (auto* e = std::get_if<ValueError>(&text)) return *e;
      out.text = std::get<std::string>(std::move(text));
      has_value = true;
      continue;
    }
    Evidence ev = Evidence::kNotStated;
    if (key == "spec") ev = Evidence::kSpec;
    if (key == "measured") ev = Evidence::kMeasured;
    if (key == "assumed") ev = Evidence::kAssumed;
    if (ev == Evidence::kNotStated) {
      return ValueError{ErrorCode::kConfigSyntax, "{...}",
                        fmt::format("unknown key '{}' in the value's table (expected value and one of spec, "
                                    "measured, assumed)",
                                    key)};
    }
    if (out.evidence != Evidence::kNotStated) {
      return ValueError{ErrorCode::kConfigSyntax, "{...}",
                        fmt::format("says both {} and {}: a value rests on one of spec, measured, assumed",
                                    to_string(out.evidence), key)};
    }
    const auto* note = v.as_string();
    if (note == nullptr || note->get().find_first_not_of(" \t\r\n\f\v") == std::string::npos) {
      return ValueError{ErrorCode::kConfigSyntax, "{...}",
                        fmt::format("{} must be a non-empty string saying {}", key,
                                    ev == Evidence::kSpec       ? "where the number is published"
                                    : ev == Evidence::kMeasured ? "how, where and when it was measured"
                                                                : "why this number")};
    }
    out.evidence = ev;
    out.note = note->get();
  }
  if (!has_value) return ValueError{ErrorCode::kConfigSyntax, "{...}", "the value's table has no 'value'"};
  if (out.evidence == Evidence::kNotStated) {
    return ValueError{ErrorCode::kConfigSyntax, out.text,
                      "the value's table says neither spec, measured nor assumed (write the value alone when "
                      "nothing is to be said)"};
  }
  return out;
}

}  // namespace detail

namespace {

Error config_error(ErrorCode code, std::string_view source, const toml::source_region& where, std::string key,
                   std::string value, const std::string& why) {
  return Error{code, key, value, fmt::format("{}:{}: {} = '{}': {}", source, where.begin.line, key, value, why)};
}

// [hardware] gpu = "NAME", cxl = "NAME", link = "NAME": the parts go under the file's own values.
Status load_hardware_table(Params& params, InputProvenance& provenance, const toml::node& node,
                           std::string_view source_name, const std::vector<std::string_view>& lines) {
  const auto* tbl = node.as_table();
  if (tbl == nullptr) {
    return config_error(ErrorCode::kConfigSyntax, source_name, node.source(), "hardware",
                        detail::literal_at(lines, node.source().begin),
                        "must be a table: [hardware] gpu = \"NAME\", cxl = \"NAME\", link = \"NAME\"");
  }
  for (const std::string_view kind : {"gpu", "cxl", "link"}) {
    const auto* part_node = tbl->get(kind);
    if (part_node == nullptr) continue;
    const std::string key = fmt::format("hardware.{}", kind);
    const auto* name = part_node->as_string();
    if (name == nullptr) {
      return config_error(ErrorCode::kConfigSyntax, source_name, part_node->source(), key,
                          detail::literal_at(lines, part_node->source().begin),
                          "must be a string naming a part of the hardware library (see 'lorasplit hardware')");
    }
    // A profile file named here is found from the config's own folder.
    const std::string_view src(source_name);
    const std::string base_dir = src.find('/') == std::string_view::npos ? std::string(".")
                                                                          : std::string(src.substr(0, src.rfind('/')));
    auto part = resolve_hardware(kind, name->get(), base_dir);
    if (!part) {
      const Error& e = part.error();
      return Error{e.code, key, e.value, fmt::format("{}:{}: {}", source_name, part_node->source().begin.line, e.message)};
    }
    if (auto st = apply_hardware(params, provenance, part.value()); !st) return st;
  }
  for (const auto& [k, v] : *tbl) {
    const std::string_view key = k.str();
    if (key != "gpu" && key != "cxl" && key != "link") {
      const auto* str = v.as_string();
      return config_error(ErrorCode::kUnknownKey, source_name, v.source(), fmt::format("hardware.{}", key),
                          str != nullptr ? std::string(str->get()) : detail::literal_at(lines, v.source().begin),
                          "unknown key (the [hardware] table names parts: gpu, cxl, link)");
    }
  }
  return {};
}

}  // namespace

Status load_config_string(Params& params, std::string_view toml_text, std::string_view source_name,
                          std::vector<std::string>* warnings, InputProvenance* provenance) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::string what(e.description());
    return Error{ErrorCode::kConfigSyntax, std::string(source_name), "",
                 fmt::format("{}:{}: malformed TOML: {}", source_name, e.source().begin.line, what)};
  }
  const auto lines = detail::split_lines(toml_text);
  InputProvenance scratch;
  InputProvenance& prov = provenance != nullptr ? *provenance : scratch;

  // A preset named in the file is the starting point; the file's values go over it.
  if (const auto* node = root.get("preset")) {
    const auto* name = node->as_string();
    if (name == nullptr) {
      return config_error(ErrorCode::kConfigSyntax, source_name, node->source(), "preset", "",
                          "must be a string naming a preset");
    }
    auto base = preset(name->get());
    if (!base) {
      const Error& e = base.error();
      return Error{e.code, "preset", e.value, fmt::format("{}:{}: {}", source_name, node->source().begin.line, e.message)};
    }
    params = base.value();
    prov.reset(Origin::kPreset, name->get());
  }
  // Then the hardware parts it names, then its own values.
  if (const auto* node = root.get("hardware")) {
    if (auto st = load_hardware_table(params, prov, *node, source_name, lines); !st) return st;
  }

  for (const auto& [table_key, table_node] : root) {
    const std::string tname(table_key.str());
    if (tname == "preset" || tname == "hardware") continue;
    // The serving model's workload: read by load_serving_workload (docs/model.md §9.1).
    if (tname == "transformer" || tname == "serving" || tname == "adapters") continue;
    const auto* tbl = table_node.as_table();
    if (tbl == nullptr) {
      return config_error(ErrorCode::kUnknownKey, source_name, table_node.source(), tname,
                          detail::literal_at(lines, table_node.source().begin), "unknown top-level key (expected preset or the tables [hardware], [gpu], [cxl], [link], [lora], [model], [pipeline], and for the serving model [transformer], [serving], [[adapters]])");
    }
    for (const auto& [k, node] : *tbl) {
      const std::string key = tname + "." + std::string(k.str());
      if (key == "lora.target_modules") continue;  // the serving model's workload (check_serving_tables)
      const ParamSpec* s = find_param(key);
      auto read = detail::read_value_node(node, lines, s);
      if (const auto* e = std::get_if<detail::ValueError>(&read)) {
        const std::string why = e->code == ErrorCode::kUnknownKey ? e->why + detail::did_you_mean(key) : e->why;
        return config_error(e->code, source_name, node.source(), key, e->value, why);
      }
      const auto& value = std::get<detail::ValueText>(read);
      if (s == nullptr) {
        return config_error(ErrorCode::kUnknownKey, source_name, node.source(), key, value.text,
                            "unknown parameter" + detail::did_you_mean(key));
      }
      std::vector<std::string> said;
      if (auto st = set_param(params, key, value.text, warnings != nullptr ? &said : nullptr); !st) {
        const Error& e = st.error();
        return Error{e.code, e.key, e.value, fmt::format("{}:{}: {}", source_name, node.source().begin.line, e.message)};
      }
      for (auto& w : said) warnings->push_back(fmt::format("{}:{}: {}", source_name, node.source().begin.line, w));
      prov.at(s->id) = Provenance{value.evidence, value.note, Origin::kConfig,
                                  fmt::format("{}:{}", source_name, node.source().begin.line)};
    }
  }
  return {};
}

namespace detail {

std::vector<std::string> split_items(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto pos = text.find(sep, start);
    std::string item(text.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    const auto a = item.find_first_not_of(" \t");
    item = a == std::string::npos ? "" : item.substr(a, item.find_last_not_of(" \t") - a + 1);
    out.push_back(item);
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

Result<std::string> read_text_file(const std::string& path, std::string_view argument, std::size_t max_bytes) {
  // Regular files only (a FIFO or /dev/zero would block or never end), and a size cap;
  // read with every read() checked, so a read error is an error and never an empty file.
  const auto fail = [&](const std::string& why) {
    return Error{ErrorCode::kFileUnreadable, std::string(argument), path,
                 fmt::format("{} = '{}': {}", argument, path, why)};
  };
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) return fail("not a regular file");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail("cannot open the file");
  std::string text;
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return fail(fmt::format("cannot read the file: {}", std::strerror(err)));
    }
    if (n == 0) break;
    text.append(chunk, static_cast<std::size_t>(n));
    if (text.size() > max_bytes) {
      ::close(fd);
      return fail(fmt::format("larger than {} MiB; not a file lorasplit reads", max_bytes >> 20));
    }
  }
  ::close(fd);
  return text;
}

}  // namespace detail

Status load_config_file(Params& params, const std::string& path, std::vector<std::string>* warnings,
                        InputProvenance* provenance) {
  auto text = detail::read_text_file(path, "config", std::size_t{1} << 20);
  if (!text) return text.error();
  return load_config_string(params, text.value(), path, warnings, provenance);
}

}  // namespace lorasplit
