#pragma once
// Shared pieces of the subcommands: where parameters come from, exit codes, errors.
#include <lorasplit/lorasplit.hpp>

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace lorasplit::cli {

inline constexpr int kExitOptimal = 0;
inline constexpr int kExitInfeasible = 1;
inline constexpr int kExitInvalidInput = 2;
inline constexpr int kExitInternal = 3;

/// Parameters come from a preset, then a TOML file, then --set assignments, in that order.
struct ParamSources {
  std::string preset{"seed"};
  std::string config;
  std::vector<std::string> sets;
};

void add_param_options(CLI::App* app, ParamSources& sources);
Result<Params> load_params(const ParamSources& sources);

/// Prints "lorasplit: error: <message>" on stderr (and the JSON error object on stdout
/// when `json`), returns the exit status for the error's class.
int report_error(const Error& error, bool json);

}  // namespace lorasplit::cli
