// TOML config loader. Numbers are taken from the file's own text so that decimals stay
// exact (toml++ would hand us a double).
#include <lorasplit/params.hpp>

#include "params/checks.hpp"

#include <fmt/format.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <string>
#include <toml++/toml.h>
#include <vector>

namespace lorasplit {
namespace {

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

// The literal text of the scalar that starts at (line, column), both 1-based, column in
// code points.
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

Error config_error(ErrorCode code, std::string_view source, const toml::source_region& where, std::string key,
                   std::string value, const std::string& why) {
  return Error{code, key, value, fmt::format("{}:{}: {} = '{}': {}", source, where.begin.line, key, value, why)};
}

}  // namespace

Status load_config_string(Params& params, std::string_view toml_text, std::string_view source_name,
                          std::vector<std::string>* warnings) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::string what(e.description());
    return Error{ErrorCode::kConfigSyntax, std::string(source_name), "",
                 fmt::format("{}:{}: malformed TOML: {}", source_name, e.source().begin.line, what)};
  }
  const auto lines = split_lines(toml_text);

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
  }

  for (const auto& [table_key, table_node] : root) {
    const std::string tname(table_key.str());
    if (tname == "preset") continue;
    // The serving model's workload: read by load_serving_workload (docs/model.md §9.1).
    if (tname == "transformer" || tname == "serving" || tname == "adapters") continue;
    const auto* tbl = table_node.as_table();
    if (tbl == nullptr) {
      return config_error(ErrorCode::kUnknownKey, source_name, table_node.source(), tname,
                          literal_at(lines, table_node.source().begin), "unknown top-level key (expected preset or the tables [gpu], [cxl], [link], [lora], [model], [pipeline], and for the serving model [transformer], [serving], [[adapters]])");
    }
    for (const auto& [k, node] : *tbl) {
      const std::string key = tname + "." + std::string(k.str());
      const ParamSpec* s = find_param(key);
      std::string text;
      if (const auto* str = node.as_string()) {
        text = str->get();
      } else if (node.is_integer() || node.is_floating_point()) {
        text = literal_at(lines, node.source().begin);
      } else if (const auto* flag = node.as_boolean(); flag != nullptr && s != nullptr && s->choices == "off|on") {
        text = flag->get() ? "on" : "off";
      } else {
        return config_error(s == nullptr ? ErrorCode::kUnknownKey : ErrorCode::kConfigSyntax, source_name,
                            node.source(), key, literal_at(lines, node.source().begin),
                            s == nullptr ? "unknown parameter" + detail::did_you_mean(key)
                                         : "must be a number or a string with a unit");
      }
      if (s == nullptr) {
        return config_error(ErrorCode::kUnknownKey, source_name, node.source(), key, text,
                            "unknown parameter" + detail::did_you_mean(key));
      }
      std::vector<std::string> said;
      if (auto st = set_param(params, key, text, warnings != nullptr ? &said : nullptr); !st) {
        const Error& e = st.error();
        return Error{e.code, e.key, e.value, fmt::format("{}:{}: {}", source_name, node.source().begin.line, e.message)};
      }
      for (auto& w : said) warnings->push_back(fmt::format("{}:{}: {}", source_name, node.source().begin.line, w));
    }
  }
  return {};
}

namespace detail {

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

Status load_config_file(Params& params, const std::string& path, std::vector<std::string>* warnings) {
  auto text = detail::read_text_file(path, "config", std::size_t{1} << 20);
  if (!text) return text.error();
  return load_config_string(params, text.value(), path, warnings);
}

}  // namespace lorasplit
