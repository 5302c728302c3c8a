// The program as a function, so that main() and the CLI fuzz target share it.
#include <fmt/format.h>

#include <cstdio>

#include "common.hpp"
#include "subcommands.hpp"

namespace lorasplit::cli {

int run_cli(int argc, const char* const* argv, const Io& io) {
  CLI::App app{"lorasplit: exact, certified GPU/CXL splits of a LoRA batch"};
  app.set_version_flag("--version", "lorasplit 0.1.0");
  app.require_subcommand(1);
  int exit_status = kExitOptimal;
  setup_solve(app, exit_status, io);
  setup_presets(app, exit_status, io);
  setup_params(app, exit_status, io);
  setup_sweep(app, exit_status, io);
  setup_breakeven(app, exit_status, io);
  setup_pareto(app, exit_status, io);
  setup_explain(app, exit_status, io);
  setup_export(app, exit_status, io);
  setup_check(app, exit_status, io);
  setup_compare(app, exit_status, io);
  setup_simulate(app, exit_status, io);
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
    std::fputs(fmt::format("lorasplit: error: {} (see lorasplit --help)\n", e.what()).c_str(), io.err);
    return kExitInvalidInput;
  } catch (const std::exception& e) {
    std::fputs(fmt::format("lorasplit: error: internal error: {}\n", e.what()).c_str(), io.err);
    return kExitInternal;
  }
  return exit_status;
}

}  // namespace lorasplit::cli
