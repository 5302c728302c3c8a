#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {

void setup_params(CLI::App& app, int& exit_status, const Io& io) {
  CLI::App* sub = app.add_subcommand("params", "list every parameter: key, unit, range, seed value, meaning");
  sub->callback([&exit_status, io]() {
    std::string text = fmt::format("{:<28} {:<7} {:<30} {:<10} {}\n", "key", "unit", "range", "seed", "meaning");
    for (const auto& s : param_specs()) {
      const std::string range = fmt::format("{}{}, {}]", s.min_inclusive ? "[" : "(", s.min_text, s.max_text);
      text += fmt::format("{:<28} {:<7} {:<30} {:<10} {}{}\n", s.key, s.unit, range, s.seed_default, s.description,
                          s.integer ? " (whole number)" : "");
    }
    std::fputs(text.c_str(), io.out);
    exit_status = kExitOptimal;
  });
}

}  // namespace lorasplit::cli
