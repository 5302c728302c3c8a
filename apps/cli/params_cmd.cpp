#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

// What a parameter accepts, as a user writes it: the words of a choice ("seed | pipeline"),
// or the numeric range with its kind ("[1, 1000000], whole number"); "or none" when unset
// is allowed.
std::string accepted(const ParamSpec& s) {
  std::string out;
  if (s.dimension == Dimension::kChoice) {
    for (const char c : s.choices) out += c == '|' ? std::string(" | ") : std::string(1, c);
  } else {
    out = fmt::format("{}{}, {}]{}", s.min_inclusive ? "[" : "(", s.min_text, s.max_text,
                      s.integer ? ", whole number" : "");
  }
  if (s.optional) out += " or none";
  return out;
}

int run_params(const std::string& format, const Io& io) {
  if (format == "json") {
    std::fputs(render_params_json().c_str(), io.out);
    return kExitOptimal;
  }
  std::string text = fmt::format("{:<28} {:<8} {:<38} {:<10} {}\n", "key", "unit", "accepts", "seed", "meaning");
  for (const auto& s : param_specs()) {
    text += fmt::format("{:<28} {:<8} {:<38} {:<10} {}\n", s.key, s.unit, accepted(s), s.seed_default, s.description);
  }
  std::fputs(text.c_str(), io.out);
  return kExitOptimal;
}

}  // namespace

void setup_params(CLI::App& app, int& exit_status, const Io& io) {
  auto format = std::make_shared<std::string>("text");
  CLI::App* sub = app.add_subcommand("params", "list every parameter: key, unit, what it accepts, seed value, meaning");
  sub->add_option("--format", *format, "output: text (default) or json")->check(CLI::IsMember({"text", "json"}));
  sub->callback([format, &exit_status, io]() { exit_status = run_params(*format, io); });
}

}  // namespace lorasplit::cli
