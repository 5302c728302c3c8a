#include "common.hpp"

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace lorasplit::cli {

void add_param_options(CLI::App* app, ParamSources& sources) {
  app->add_option("--preset", sources.preset, "built-in parameter set (see 'lorasplit presets')")
      ->capture_default_str();
  app->add_option("--config", sources.config, "TOML file of parameters, applied over the preset");
  app->add_option("--set", sources.sets, "KEY=VALUE override, repeatable; values may carry units ('16 GiB', '1 us')")
      ->allow_extra_args(false);
  app->add_option("--max-batch-latency", sources.max_batch_latency,
                  "bound T_GPU_S1 + T_GPU_S2 <= T (e.g. '2 ms'); same as --set lora.max_batch_latency_s=T");
  app->add_option("--model", sources.model,
                  "seed (the formulation, term for term), pipeline (its physics made consistent; switches "
                  "pipeline.*) or serving (a transformer's adapters, workload in --config: solve, simulate, compare, sweep, "
                  "breakeven); same as "
                  "--set model.name=NAME")
      ->check(CLI::IsMember({"seed", "pipeline", "serving"}));
  // An empty name is refused, never read as "not given".
  const auto named = [](const std::string& s) {
    return s.empty() ? std::string("an empty name: give a part of 'lorasplit hardware' or a FILE.toml") : std::string();
  };
  app->add_option("--gpu", sources.gpu,
                  "a GPU of the hardware library (see 'lorasplit hardware'), e.g. h100-sxm, or a profile FILE.toml "
                  "(lorasplit calibrate -o)")
      ->check(named);
  app->add_option("--cxl", sources.cxl, "a CXL memory device of the hardware library, e.g. cxl-pnm-512gb, or FILE.toml")
      ->check(named);
  app->add_option("--link", sources.link, "a link of the hardware library, e.g. cxl2-x16, or FILE.toml")->check(named);
}

std::string assignment_key(std::string_view assignment) {
  std::string_view key = assignment.substr(0, assignment.find('='));
  while (!key.empty() && key.back() == ' ') key.remove_suffix(1);
  while (!key.empty() && key.front() == ' ') key.remove_prefix(1);
  return std::string(key);
}

Status conflicting_sources(const ParamSources& sources) {
  // One value per key on the command line: a key given twice (two --set, or --set and the
  // flag that sets it) is rejected rather than resolved by order. The command line
  // overrides the config file, which overrides the preset (docs/model.md §1.1).
  std::vector<std::pair<std::string, std::string>> given;  // key, how
  for (const auto& a : sources.sets) given.emplace_back(assignment_key(a), "--set " + a);
  if (!sources.model.empty()) given.emplace_back("model.name", "--model " + sources.model);
  if (!sources.max_batch_latency.empty()) {
    given.emplace_back("lora.max_batch_latency_s", "--max-batch-latency " + sources.max_batch_latency);
  }
  for (std::size_t i = 0; i < given.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (given[i].first == given[j].first) {
        return Error{ErrorCode::kBadOption, given[i].first, given[i].second,
                     fmt::format("{} is given twice ('{}' and '{}'): give it once", given[i].first, given[j].second,
                                 given[i].second)};
      }
    }
  }
  return {};
}

void add_search_limit_options(CLI::App* app, SearchLimitOpts& opts) {
  app->add_option("--gap", opts.gap,
                  "serving model: accept a plan proved within this fraction of the optimum ('0.1 %' or 0.001); the "
                  "report gives the certified lower bound (default: exact)");
  app->add_option("--node-limit", opts.node_limit,
                  "serving model: at most this many nodes per stage; the open nodes bound the optimum (default: none)")
      ->check(CLI::Range(1L, 1000000000L));
  app->add_flag("--exact-lps", opts.exact_lps,
                "serving model: decide every node by an exact rational LP instead of proposing it in double precision "
                "first (the reference search: the same answers, orders of magnitude slower)");
}

Result<ServingSolveOptions> search_limits(const SearchLimitOpts& opts, ModelName model) {
  ServingSolveOptions out;
  if (opts.gap.empty() && opts.node_limit == 0 && !opts.exact_lps) return out;
  if (model != ModelName::kServing) {
    const char* key = !opts.gap.empty() ? "--gap" : opts.node_limit != 0 ? "--node-limit" : "--exact-lps";
    const std::string value = !opts.gap.empty()        ? opts.gap
                              : opts.node_limit != 0 ? std::to_string(opts.node_limit)
                                                     : std::string("true");
    return Error{ErrorCode::kBadOption, key, value,
                 fmt::format("{}: the other models' solves are always exact and fast; only the serving model takes it",
                             key)};
  }
  out.exact_lps_only = opts.exact_lps;
  if (!opts.gap.empty()) {
    auto g = parse_quantity(opts.gap, Dimension::kFraction, "--gap");
    if (!g) return g.error();
    if (*g < 0 || *g >= 1) {
      return Error{ErrorCode::kBadOption, "--gap", opts.gap,
                   fmt::format("--gap = '{}': a fraction from 0 (exact) to below 1 (100 %)", opts.gap)};
    }
    out.relative_gap = g.value();
  }
  out.node_limit = opts.node_limit;
  return out;
}

WorkloadOverrides take_workload_sets(ParamSources& sources) {
  WorkloadOverrides out;
  std::vector<std::string> rest;
  for (auto& assignment : sources.sets) {
    const std::string key = assignment_key(assignment);
    const auto eq = assignment.find('=');
    if (eq != std::string::npos && is_workload_key(key)) {
      std::string value = assignment.substr(eq + 1);
      const auto first = value.find_first_not_of(" \t");
      value = first == std::string::npos ? "" : value.substr(first, value.find_last_not_of(" \t") - first + 1);
      out.emplace_back(key, value);
    } else {
      rest.push_back(std::move(assignment));
    }
  }
  sources.sets = std::move(rest);
  return out;
}

Status workload_sets_need_serving(const WorkloadOverrides& sets, ModelName model) {
  if (sets.empty() || model == ModelName::kServing) return {};
  return Error{ErrorCode::kInconsistent, sets.front().first, sets.front().second,
               fmt::format("--set {}={}: a workload key of the serving model (model.name = serving)",
                           sets.front().first, sets.front().second)};
}

Result<Params> load_params(const ParamSources& sources, const Io& io, bool validate_params,
                           InputProvenance* provenance) {
  if (Status st = conflicting_sources(sources); !st) return st.error();
  auto params = preset(sources.preset);
  if (!params) return params;
  InputProvenance scratch;
  InputProvenance& prov = provenance != nullptr ? *provenance : scratch;
  prov.reset(Origin::kPreset, sources.preset);
  std::vector<std::string> warnings;
  if (!sources.config.empty()) {
    if (auto st = load_config_file(params.value(), sources.config, &warnings, &prov); !st) return st.error();
  }
  // The parts named on the command line go over the config's parts, under its own values.
  for (const auto& [kind, name] : {std::pair<std::string_view, const std::string&>{"gpu", sources.gpu},
                                   {"cxl", sources.cxl},
                                   {"link", sources.link}}) {
    if (name.empty()) continue;
    auto part = resolve_hardware(kind, name);
    if (!part) {
      Error e = part.error();
      const std::string flag = fmt::format("--{}", kind);
      const std::string key = fmt::format("hardware.{}", kind);
      if (e.message.starts_with(key)) e.message = flag + e.message.substr(key.size());
      e.key = flag;
      return e;
    }
    if (auto st = apply_hardware(params.value(), prov, part.value()); !st) return st.error();
  }
  const auto given = [&](std::string_view key, std::string where) {
    if (const ParamSpec* s = find_param(key)) {
      prov.at(s->id) = Provenance{Evidence::kNotStated, {}, Origin::kCommandLine, std::move(where)};
    }
  };
  for (const auto& assignment : sources.sets) {
    if (auto st = apply_assignment(params.value(), assignment, &warnings); !st) return st.error();
    given(assignment_key(assignment), "--set " + assignment);
  }
  // Bare numbers far from the value they replace: read in SI units, said on stderr.
  {
    for (const auto& w : warnings) {
      if (std::fprintf(io.err, "lorasplit: warning: %s\n", w.c_str()) < 0) break;
    }
  }
  if (!sources.max_batch_latency.empty()) {
    if (auto st = set_param(params.value(), "lora.max_batch_latency_s", sources.max_batch_latency); !st) {
      return st.error();
    }
    given("lora.max_batch_latency_s", "--max-batch-latency " + sources.max_batch_latency);
  }
  if (!sources.model.empty()) {
    if (auto st = set_param(params.value(), "model.name", sources.model); !st) return st.error();
    given("model.name", "--model " + sources.model);
  }
  // A part's values that this model does not read go back to their defaults (a GPU's
  // roofline keys under the seed model); values written by the user are left for
  // validate() to judge.
  drop_unread_parts(params.value(), prov, params->model_name());
  if (auto st = check_values_read(params.value(), prov); !st) return st.error();
  if (!sources.config.empty()) {
    if (auto st = check_serving_tables(sources.config, params->model_name()); !st) return st.error();
  }
  if (validate_params) {
    if (auto st = validate(params.value()); !st) return st.error();
  }
  // Valid but likely not meant: said once per run (some commands load the parameters twice),
  // and only for input that is valid (an error stays the one line on stderr).
  if (!io.warned && (validate_params || params->model_name() == ModelName::kServing || validate(params.value()).ok())) {
    for (const auto& w : hardware_warnings(params.value(), prov)) {
      io.warned = true;
      if (std::fprintf(io.err, "lorasplit: warning: %s\n", w.c_str()) < 0) break;
    }
  }
  return params;
}

Status serving_command_ok(const std::string& config, const std::string& domain) {
  if (config.empty()) {
    return Error{ErrorCode::kBadOption, "--config", "",
                 "the serving model reads its workload from --config FILE ([transformer], [serving], [[adapters]]; "
                 "docs/model.md section 9.1)"};
  }
  if (domain != "integer") {
    return Error{ErrorCode::kBadOption, "--domain", domain,
                 fmt::format("--domain = '{}': the serving model plans whole tokens only", printable(domain))};
  }
  return {};
}

Result<Plan> parse_plan(const std::string& text, const std::vector<Column>& columns) {
  std::string names;
  for (const auto& c : columns) names += fmt::format("{}{}", names.empty() ? "" : ",", c.name);
  const std::size_t n = columns.size();
  const std::string count = n == 3 ? "three" : std::to_string(n);
  const auto bad = [&] {
    return Error{ErrorCode::kBadOption, "--plan", text,
                 fmt::format("--plan = '{}': expected {} whole numbers {}", text, count, names)};
  };
  Plan plan;
  plan.b.resize(n);
  std::size_t start = 0;
  for (std::size_t j = 0; j < n; ++j) {
    const auto comma = text.find(',', start);
    const std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto v = parse_quantity(item, Dimension::kCount, "--plan");
    const bool last_ok = (j + 1 == n) == (comma == std::string::npos);
    if (!v || v->get_den() != 1 || !v->get_num().fits_slong_p() || !last_ok) return bad();
    plan.b[j] = v->get_num().get_si();
    start = comma + 1;
  }
  if (Status st = validate_plan(plan); !st) return for_cli(st.error());
  return plan;
}

Domain domain_from(const std::string& name) {
  if (name == "binary") return Domain::kBinary;
  if (name == "continuous") return Domain::kContinuous;
  return Domain::kInteger;
}

const CLI::Validator& non_empty_path() {
  static const CLI::Validator v(
      [](std::string& s) { return s.empty() ? std::string("an empty path") : std::string(); }, "PATH");
  return v;
}

void add_plot_options(CLI::App* app, std::string& path, PlotOptions& options, const std::string& what) {
  app->add_option("--plot", path, fmt::format("FILE.svg, FILE.png or FILE.pdf: {} plotted with gnuplot", what))
      ->check(non_empty_path());
  app->add_option("--title", options.title, "the figure's title (with --plot)");
  app->add_option("--xlabel", options.xlabel, "the x axis label (with --plot)");
  app->add_option("--ylabel", options.ylabel, "the y axis label (with --plot)");
}

void add_domain_option(CLI::App* app, std::string& domain, bool allow_continuous) {
  if (allow_continuous) {
    app->add_option("--domain", domain,
                    "batch sizes: integer (default), binary (0 or one block each, as the formulation's text says) "
                    "or continuous (the LP relaxation: an upper bound)")
        ->check(CLI::IsMember({"integer", "binary", "continuous"}));
  } else {
    app->add_option("--domain", domain, "batch sizes: integer (default) or binary")
        ->check(CLI::IsMember({"integer", "binary"}));
  }
}

Error for_cli(Error e) {
  // The library names its arguments as its callers (and the Python API) do; here they are flags.
  static constexpr std::pair<std::string_view, std::string_view> kFlags[] = {
      {"preset", "--preset"}, {"config", "--config"}, {"assignment", "--set"}, {"vary", "--vary"},
      {"shard", "--shard"},   {"param", "--param"},   {"points", "--points"},  {"plan", "--plan"},
      {"batches", "--batches"}, {"plot", "--plot"},  {"layers", "--layers"}};
  for (const auto& [arg, flag] : kFlags) {
    if (e.key == arg) e.key = std::string(flag);
    const std::string_view m = e.message;
    if (m.substr(0, arg.size()) == arg && m.size() > arg.size() &&
        std::string_view(" :'=").find(m[arg.size()]) != std::string_view::npos) {
      e.message = std::string(flag) + std::string(m.substr(arg.size()));
    }
  }
  if (e.code == ErrorCode::kUnknownKey && e.message.find("unknown parameter") != std::string::npos &&
      e.message.find("did you mean") == std::string::npos) {
    e.message += " (see 'lorasplit params')";
  }
  return e;
}

int plot_failed(const Io& io, const Error& error) {
  if (error.code == ErrorCode::kUnsupported) {
    std::fputs(fmt::format("lorasplit: note: no plot written: {}\n", for_cli(error).message).c_str(), io.err);
    return kExitOptimal;
  }
  return report_error(io, error, false);
}

Status output_folder_writable(const std::string& path, std::string_view argument) {
  if (path.empty()) {
    return Error{ErrorCode::kBadOption, std::string(argument), path, fmt::format("{}: an empty path", argument)};
  }
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return Error{ErrorCode::kWriteFailed, std::string(argument), path,
                 fmt::format("{} = '{}': is a folder", argument, printable(path))};
  }
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  if (::access(dir.c_str(), W_OK) != 0) {
    return Error{ErrorCode::kWriteFailed, std::string(argument), path,
                 fmt::format("{} = '{}': cannot write into the folder '{}': {}", argument, printable(path),
                             printable(dir), std::strerror(errno))};
  }
  return {};
}

int report_error(const Io& io, const Error& library_error, bool json) {
  const Error error = for_cli(library_error);
  if (json) std::fputs(fmt::format("{}\n", render_error_json(error)).c_str(), io.out);
  std::fputs(fmt::format("lorasplit: error: {}\n", error.message).c_str(), io.err);
  if (error.code == ErrorCode::kWriteFailed) return kExitWriteFailed;
  if (error.code == ErrorCode::kOutOfMemory) return kExitOutOfMemory;
  return error.code == ErrorCode::kInternal || error.code == ErrorCode::kUnsupported ? kExitInternal
                                                                                      : kExitInvalidInput;
}

}  // namespace lorasplit::cli
