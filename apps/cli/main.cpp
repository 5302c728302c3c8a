// lorasplit: thin command-line front end over the library (one file per subcommand).
#include <fmt/format.h>

#include <cstdio>

#include "common.hpp"
#include "subcommands.hpp"

int main(int argc, char** argv) {
  CLI::App app{"lorasplit: exact, certified GPU/CXL splits of a LoRA batch"};
  app.set_version_flag("--version", "lorasplit 0.1.0");
  app.require_subcommand(1);
  int exit_status = lorasplit::cli::kExitOptimal;
  lorasplit::cli::setup_solve(app, exit_status);
  lorasplit::cli::setup_presets(app, exit_status);
  lorasplit::cli::setup_params(app, exit_status);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fputs(fmt::format("lorasplit: error: {} (see lorasplit --help)\n", e.what()).c_str(), stderr);
    return lorasplit::cli::kExitInvalidInput;
  } catch (const std::exception& e) {
    std::fputs(fmt::format("lorasplit: error: internal error: {}\n", e.what()).c_str(), stderr);
    return lorasplit::cli::kExitInternal;
  }
  return exit_status;
}
