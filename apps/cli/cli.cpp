// The program as a function, so that main() and the CLI fuzz target share it.
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>
#include <new>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {

namespace {

int run_subcommand(int argc, const char* const* argv, const Io& io) {
  CLI::App app{"lorasplit: exact, certified GPU/CXL splits of a LoRA batch"};
  app.set_version_flag("--version", "lorasplit " + std::string(version()));
  app.require_subcommand(1);
  int exit_status = kExitOptimal;
  setup_solve(app, exit_status, io);
  setup_presets(app, exit_status, io);
  setup_hardware(app, exit_status, io);
  setup_calibrate(app, exit_status, io);
  setup_params(app, exit_status, io);
  setup_sweep(app, exit_status, io);
  setup_merge(app, exit_status, io);
  setup_breakeven(app, exit_status, io);
  setup_pareto(app, exit_status, io);
  setup_explain(app, exit_status, io);
  setup_export(app, exit_status, io);
  setup_check(app, exit_status, io);
  setup_compare(app, exit_status, io);
  setup_simulate(app, exit_status, io);
  // A first word that is no subcommand: say so and suggest the nearest (CLI11 alone would
  // say "A subcommand is required").
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    std::string nearest;
    std::size_t nearest_d = ~std::size_t{0};
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      if (sub->get_name() == word) {
        nearest_d = 0;
        break;
      }
      const std::size_t d = edit_distance(word, sub->get_name());
      if (d < nearest_d) {
        nearest_d = d;
        nearest = sub->get_name();
      }
    }
    if (nearest_d != 0) {
      const std::string hint = nearest_d <= 2 ? fmt::format("; did you mean '{}'?", nearest) : "";
      std::fputs(fmt::format("lorasplit: error: unknown subcommand '{}'{} (see lorasplit --help)\n", printable(word),
                             hint)
                     .c_str(),
                 io.err);
      return kExitInvalidInput;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), io.out);
    return kExitOptimal;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), io.out);
    return kExitOptimal;
  } catch (const CLI::CallForVersion&) {
    std::fputs("lorasplit 0.1.0\n", io.out);
    return kExitOptimal;
  } catch (const CLI::ParseError& e) {
    // The parser's message quotes the user's text: one printable line, like every error.
    std::fputs(fmt::format("lorasplit: error: {} (see lorasplit --help)\n", printable(e.what())).c_str(), io.err);
    return kExitInvalidInput;
  } catch (const std::bad_alloc&) {
    std::fputs("lorasplit: error: out of memory\n", io.err);
    return kExitOutOfMemory;
  } catch (const std::exception& e) {
    std::fputs(fmt::format("lorasplit: error: internal error: {}\n", printable(e.what())).c_str(), io.err);
    return kExitInternal;
  }
  return exit_status;
}

}  // namespace

int run_cli(int argc, const char* const* argv, const Io& io) {
  errno = 0;
  const int status = run_subcommand(argc, argv, io);
  // Everything printed must have reached the output: a full disk or a closed pipe is a
  // failure, never a silent success (docs/errors.md).
  // (A subcommand that found the failure itself has said so: one line, not two.)
  if ((std::fflush(io.out) != 0 || std::ferror(io.out) != 0) && status != kExitWriteFailed) {
    const int err = errno != 0 ? errno : EIO;
    std::fputs(fmt::format("lorasplit: error: standard output: write failed: {}\n", std::strerror(err)).c_str(), io.err);
    return kExitWriteFailed;
  }
  return status;
}

}  // namespace lorasplit::cli
