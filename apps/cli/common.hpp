#pragma once
#include <lorasplit/plot.hpp>
// Shared pieces of the subcommands: where parameters come from, exit codes, errors.
#include <lorasplit/lorasplit.hpp>
#include <lorasplit/serving.hpp>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace lorasplit::cli {

inline constexpr int kExitOptimal = 0;
inline constexpr int kExitInfeasible = 1;
inline constexpr int kExitInvalidInput = 2;
inline constexpr int kExitInternal = 3;
inline constexpr int kExitWriteFailed = 4;
inline constexpr int kExitOutOfMemory = 5;

/// Where a run of the CLI writes (stdout/stderr for the program; /dev/null when fuzzed).
struct Io {
  std::FILE* out;
  std::FILE* err;
  /// The input warnings were said in this run (a command that loads its parameters twice
  /// says them once).
  mutable bool warned{false};
};

/// Parameters come from a preset, then the hardware parts named (the config's [hardware],
/// then --gpu/--cxl/--link), then the config's own values, then --set, in that order; a
/// value written in the config or with --set is never replaced by a part's.
struct ParamSources {
  std::string preset{"seed"};
  std::string config;
  std::string gpu, cxl, link;  ///< --gpu NAME, --cxl NAME, --link NAME: parts of the hardware library
  std::vector<std::string> sets;
  std::string max_batch_latency;  ///< --max-batch-latency T: same as --set lora.max_batch_latency_s=T
  std::string model;              ///< --model NAME: same as --set model.name=NAME
};

void add_param_options(CLI::App* app, ParamSources& sources);
/// The key of a "KEY=VALUE" assignment, blanks around it removed.
std::string assignment_key(std::string_view assignment);
/// An error when the command line gives one key twice (two --set, or --set and its flag).
Status conflicting_sources(const ParamSources& sources);
/// An error (kWriteFailed, exit 4) when the folder of output file `path` cannot be written
/// or `path` is a folder (an empty path: kBadOption, exit 2):
/// for outputs known only after minutes of work (a calibration, a sweep's part).
Status output_folder_writable(const std::string& path, std::string_view argument);
/// --gap and --node-limit: how far the serving model's exact search goes.
struct SearchLimitOpts {
  std::string gap;      ///< a fraction ("0.1 %", 0.001); empty: exact
  long node_limit{0};   ///< nodes per stage; 0: no limit
  bool exact_lps{false};  ///< every node by an exact rational LP (the reference search)
};
void add_search_limit_options(CLI::App* app, SearchLimitOpts& opts);
/// The options as the library takes them; refused (exit 2) under another model.
Result<ServingSolveOptions> search_limits(const SearchLimitOpts& opts, ModelName model);
/// Moves the --set assignments of workload keys (serving.*, transformer.*; the serving
/// model's, read with its workload) out of `sources` into the returned list.
WorkloadOverrides take_workload_sets(ParamSources& sources);
/// An error naming the first workload assignment when the model is not serving (exit 2).
Status workload_sets_need_serving(const WorkloadOverrides& sets, ModelName model);
/// The serving model's preconditions on a command line: its workload file (--config) and
/// whole tokens (--domain integer). An error naming the option (exit 2), or none.
Status serving_command_ok(const std::string& config, const std::string& domain = "integer");
/// Preset, config, hardware parts, --set, --model, --max-batch-latency; validated unless
/// `validate_params` is false. Bare numbers far from the value they replace are said on
/// io.err as warnings. With `provenance`: where each value came from, what it rests on.
Result<Params> load_params(const ParamSources& sources, const Io& io, bool validate_params = true,
                           InputProvenance* provenance = nullptr);

/// "b1,b2,b3" (whole numbers, tokens, one per column of the model) as given to --plan.
Result<Plan> parse_plan(const std::string& text, const std::vector<Column>& columns);

/// "integer" | "binary" | "continuous" (already checked by CLI11) as a Domain.
Domain domain_from(const std::string& name);

/// Adds --domain to a subcommand (integer by default; `continuous` unless excluded).
void add_domain_option(CLI::App* app, std::string& domain, bool allow_continuous = true);
/// --plot FILE (.svg, .png or .pdf) and --title, --xlabel, --ylabel for it.
void add_plot_options(CLI::App* app, std::string& path, PlotOptions& options, const std::string& what);
/// Refuses an empty value of an output path option (it would be read as "not given").
const CLI::Validator& non_empty_path();

/// The library's error with its argument names written as the CLI's flags (plan -> --plan),
/// and the hint to 'lorasplit params' for an unknown key.
Error for_cli(Error error);

/// Prints "lorasplit: error: <message>" on io.err (and the JSON error object on io.out
/// when `json`), returns the exit status for the error's class.
int report_error(const Io& io, const Error& error, bool json);

/// A plot that was not written: without gnuplot a note (the data is printed, exit 0);
/// any other failure an error with its exit status.
int plot_failed(const Io& io, const Error& error);

/// The whole program: parses argv, runs one subcommand, returns the exit status.
int run_cli(int argc, const char* const* argv, const Io& io);

}  // namespace lorasplit::cli
