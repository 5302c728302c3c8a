#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {
namespace {

int run_presets(const std::string& format, const Io& io) {
  if (format == "json") {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& p : presets()) {
      auto params = preset(p.name);
      if (!params) return report_error(io, params.error(), true);
      nlohmann::ordered_json values = nlohmann::ordered_json::object();
      for (const auto& s : param_specs()) {
        values[std::string(s.key)] = params->has(s.id) ? format_fraction(params->get(s.id)) : std::string("none");
      }
      out.push_back({{"name", p.name}, {"description", p.description}, {"params", values}});
    }
    std::fputs((out.dump(2) + "\n").c_str(), io.out);
    return kExitOptimal;
  }
  std::string text;
  for (const auto& p : presets()) {
    text += fmt::format("{}\n  {}\n", p.name, p.description);
    for (const auto& [key, value] : p.values) text += fmt::format("    {:<28} {}\n", key, value);
  }
  std::fputs(text.c_str(), io.out);
  return kExitOptimal;
}

}  // namespace

void setup_presets(CLI::App& app, int& exit_status, const Io& io) {
  auto format = std::make_shared<std::string>("text");
  CLI::App* sub = app.add_subcommand("presets", "list the built-in parameter sets with their values");
  sub->add_option("--format", *format, "output: text (default) or json")->check(CLI::IsMember({"text", "json"}));
  sub->callback([format, &exit_status, io]() { exit_status = run_presets(*format, io); });
}

}  // namespace lorasplit::cli
