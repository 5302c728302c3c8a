#pragma once
// One pair per subcommand, as in CLI11's subcom_in_files example: setup_x registers the
// subcommand and its options; the callback it installs stores the exit status.
#include <CLI/CLI.hpp>

#include "common.hpp"

namespace lorasplit::cli {

void setup_solve(CLI::App& app, int& exit_status, const Io& io);
void setup_presets(CLI::App& app, int& exit_status, const Io& io);
void setup_hardware(CLI::App& app, int& exit_status, const Io& io);
void setup_calibrate(CLI::App& app, int& exit_status, const Io& io);
void setup_params(CLI::App& app, int& exit_status, const Io& io);
void setup_sweep(CLI::App& app, int& exit_status, const Io& io);
void setup_merge(CLI::App& app, int& exit_status, const Io& io);
void setup_breakeven(CLI::App& app, int& exit_status, const Io& io);
void setup_pareto(CLI::App& app, int& exit_status, const Io& io);
void setup_explain(CLI::App& app, int& exit_status, const Io& io);
void setup_export(CLI::App& app, int& exit_status, const Io& io);
void setup_check(CLI::App& app, int& exit_status, const Io& io);
void setup_compare(CLI::App& app, int& exit_status, const Io& io);
void setup_simulate(CLI::App& app, int& exit_status, const Io& io);

}  // namespace lorasplit::cli
