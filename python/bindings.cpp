// _lorasplit: the thin pybind11 layer under the `lorasplit` Python package. Every call
// takes parameters as strings (exact decimals with optional units, as on the command
// line) and returns JSON text or plain columns; lorasplit/__init__.py turns them into
// Python objects with fractions.Fraction for exact values. Bad input raises ValueError
// with the CLI's one-line message.
#include <lorasplit/lorasplit.hpp>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <nlohmann/json.hpp>

#include <limits>
#include <map>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace lorasplit;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

[[noreturn]] void raise(const Error& e) {
  if (e.code == ErrorCode::kOutOfMemory) {
    PyErr_SetString(PyExc_MemoryError, e.message.c_str());
    throw py::error_already_set();
  }
  throw py::value_error(e.message);
}

Domain domain_of(const std::string& name) {
  if (name == "integer") return Domain::kInteger;
  if (name == "binary") return Domain::kBinary;
  if (name == "continuous") return Domain::kContinuous;
  std::string message = "domain = '";
  message += name;
  message += "': expected 'integer', 'binary' or 'continuous'";
  raise(Error{ErrorCode::kBadOption, "domain", name, message});
}

// The parameters of preset, config file, hardware parts and assignments, without the
// relation checks (compare states per model what it cannot solve), with where each came
// from. A key "hardware.gpu" (cxl, link) names a part of the hardware library, as --gpu
// does; the model name is the one given (or the file's) unless `model` says otherwise.
struct Loaded {
  Params params;
  InputProvenance provenance;
};
Loaded load_with_provenance(const std::string& preset_name, const std::string& config,
                            const std::vector<std::pair<std::string, std::string>>& params,
                            const std::string& model = "") {
  auto p = preset(preset_name);
  if (!p) raise(p.error());
  Loaded out{p.value(), {}};
  out.provenance.reset(Origin::kPreset, preset_name);
  if (!config.empty()) {
    if (auto st = load_config_file(out.params, config, nullptr, &out.provenance); !st) raise(st.error());
  }
  for (const auto& [key, value] : params) {
    if (!key.starts_with("hardware.")) continue;
    auto part = resolve_hardware(key.substr(9), value);  // refuses a kind other than gpu, cxl, link
    if (!part) raise(part.error());
    if (auto st = apply_hardware(out.params, out.provenance, part.value()); !st) raise(st.error());
  }
  for (const auto& [key, value] : params) {
    if (key.starts_with("hardware.")) continue;
    if (auto st = set_param(out.params, key, value); !st) raise(st.error());
    if (const ParamSpec* s = find_param(key)) {
      out.provenance.at(s->id) = Provenance{Evidence::kNotStated, {}, Origin::kCommandLine, "params " + key};
    }
  }
  if (!model.empty()) {
    if (auto st = set_param(out.params, "model.name", model); !st) raise(st.error());
  }
  drop_unread_parts(out.params, out.provenance, out.params.model_name());
  if (auto st = check_values_read(out.params, out.provenance); !st) raise(st.error());
  if (!config.empty()) {
    if (auto st = check_serving_tables(config, out.params.model_name()); !st) raise(st.error());
  }
  return out;
}

Params load_unvalidated(const std::string& preset_name, const std::string& config,
                        const std::vector<std::pair<std::string, std::string>>& params) {
  return load_with_provenance(preset_name, config, params).params;
}

// As load_unvalidated, then checked (r <= d, a block fits, ...).
Params load(const std::string& preset_name, const std::string& config,
            const std::vector<std::pair<std::string, std::string>>& params) {
  Params p = load_unvalidated(preset_name, config, params);
  if (auto st = validate(p); !st) raise(st.error());
  return p;
}

// A JSON report with the hardware inputs added when one of them says what it rests on
// (as lorasplit solve does).
std::string with_inputs(std::string json, const Loaded& l) {
  const ModelName m = l.params.model_name();
  return provenance_stated(l.provenance, m) ? add_inputs_json(json, l.params, l.provenance, m) : json;
}

std::string solve_json(const std::string& preset_name, const std::string& config,
                       const std::vector<std::pair<std::string, std::string>>& params, const std::string& domain) {
  const Loaded l = load_with_provenance(preset_name, config, params);
  const Params& p = l.params;
  if (auto st = validate(p); !st) raise(st.error());
  Result<Analysis> a = Error{};
  {
    py::gil_scoped_release release;
    a = analyze(p, SolveOptions{domain_of(domain), {}});
  }
  if (!a) raise(a.error());
  return with_inputs(render_json(a.value(), -1), l);
}

// Workload keys (serving.*, transformer.*) go to the serving model's workload, the others
// to the parameters.
struct Split {
  std::vector<std::pair<std::string, std::string>> params;
  WorkloadOverrides sets;
};
Split split_workload(const std::vector<std::pair<std::string, std::string>>& all) {
  Split out;
  for (const auto& kv : all) (is_workload_key(kv.first) ? out.sets : out.params).push_back(kv);
  return out;
}

// Workload keys under a model other than serving: refused, as --set does.
void refuse_workload_sets(const WorkloadOverrides& sets) {
  if (sets.empty()) return;
  raise(Error{ErrorCode::kInconsistent, sets.front().first, sets.front().second,
              sets.front().first + ": a workload key of the serving model (model.name = serving)"});
}

// The serving model's workload from `config` with `sets` over it; `domain` must be integer.
ServingWorkload serving_workload(const std::string& config, const WorkloadOverrides& sets,
                                 const std::string& domain = "integer") {
  if (config.empty()) {
    raise(Error{ErrorCode::kBadOption, "config", "",
                "config: the serving model reads its workload ([transformer], [serving], [[adapters]]) from a config "
                "file"});
  }
  if (domain != "integer") {
    raise(Error{ErrorCode::kBadOption, "domain", domain,
                "domain = '" + domain + "': the serving model plans whole tokens only"});
  }
  auto w = load_serving_workload(config, sets);
  if (!w) raise(w.error());
  return std::move(w.value());
}

// The serving model (docs/model.md §9): parameters as above with model.name = serving, the
// workload from the same config file.
std::string serving_json(const std::string& preset_name, const std::string& config,
                         const std::vector<std::pair<std::string, std::string>>& all) {
  const Split in = split_workload(all);
  const Loaded l = load_with_provenance(preset_name, config, in.params, "serving");
  const ServingWorkload w = serving_workload(config, in.sets);
  Result<ServingResult> r = Error{};
  {
    py::gil_scoped_release release;
    r = solve_serving(w, l.params);
  }
  if (!r) raise(r.error());
  return with_inputs(render_serving_json(w, r.value()), l);
}

// A serving-model sweep as columns of the CSV's cells (text; lorasplit/__init__.py types
// them), with "_model" = "serving" and "_param_axes" (the axes over exact parameters).
py::dict serving_sweep_columns(const Loaded& l, const std::string& config, const WorkloadOverrides& sets,
                               const std::vector<std::pair<std::string, std::string>>& params,
                               const std::vector<std::string>& vary, const std::string& domain,
                               const std::string& shard, unsigned threads) {
  (void)serving_workload(config, sets, domain);  // the file and the domain, checked before any point
  std::vector<ServingAxis> axes;
  for (const auto& v : vary) {
    auto axis = parse_serving_axis(v);
    if (!axis) raise(axis.error());
    // A key both varied and given (a workload key, a parameter or a part) would be solved at
    // the varied values under a label that hides the other: refused, as the CLI does.
    for (const auto* given : {&sets, &params}) {
      for (const auto& [key, value] : *given) {
        if (key == axis->key) {
          raise(Error{ErrorCode::kBadOption, "vary", key,
                      key + " is both varied (vary) and set (params): give it once"});
        }
      }
    }
    axes.push_back(std::move(axis.value()));
  }
  auto sh = parse_shard(shard);
  if (!sh) raise(sh.error());
  ServingSweepOptions so;
  so.shard = sh.value();
  so.threads = threads;
  so.provenance = &l.provenance;
  so.cancelled = [] {
    py::gil_scoped_acquire acquire;
    return PyErr_CheckSignals() != 0;
  };
  const std::vector<std::string> names = serving_columns(axes);
  std::vector<std::vector<std::string>> cols(names.size());
  Status st;
  {
    py::gil_scoped_release release;
    st = run_serving_sweep(l.params, config, sets, axes, so, [&](const ServingSweepRow& row) {
      const std::vector<std::string> cells = serving_cells(row);
      for (std::size_t k = 0; k < cells.size() && k < cols.size(); ++k) cols[k].push_back(cells[k]);
    });
  }
  if (!st) {
    if (st.error().code == ErrorCode::kInterrupted && PyErr_Occurred() != nullptr) throw py::error_already_set();
    raise(st.error());
  }
  py::dict out;
  out["_model"] = "serving";
  std::vector<std::string> param_axes;
  for (const auto& a : axes) {
    if (!a.workload && a.part_kind.empty()) param_axes.push_back(a.key);
  }
  out["_param_axes"] = param_axes;
  for (std::size_t k = 0; k < names.size(); ++k) out[py::str(names[k])] = cols[k];
  return out;
}

py::dict sweep_columns(const std::string& preset_name, const std::string& config,
                       const std::vector<std::pair<std::string, std::string>>& all,
                       const std::vector<std::string>& vary, const std::string& domain, const std::string& shard,
                       unsigned threads) {
  const Split in = split_workload(all);
  const auto& params = in.params;
  {
    const Loaded l = load_with_provenance(preset_name, config, params);
    if (l.params.model_name() == ModelName::kServing) {
      return serving_sweep_columns(l, config, in.sets, params, vary, domain, shard, threads);
    }
  }
  refuse_workload_sets(in.sets);
  for (const auto& v : vary) {
    const std::string key = v.substr(0, v.find('='));
    if (is_workload_key(key) || key.starts_with("hardware.")) {
      raise(Error{ErrorCode::kInconsistent, key, v,
                  "vary " + key + ": varied under the serving model only (model.name = serving)"});
    }
  }
  const Params p = load(preset_name, config, params);
  std::vector<SweepAxis> axes;
  for (const auto& v : vary) {
    auto axis = parse_sweep_axis(v);
    if (!axis) raise(axis.error());
    axes.push_back(std::move(axis.value()));
  }
  auto sh = parse_shard(shard);
  if (!sh) raise(sh.error());
  SweepOptions so;
  so.solve.domain = domain_of(domain);
  so.shard = sh.value();
  so.threads = threads;
  // Ctrl-C: a pending signal is looked for between blocks (small ones, so that a slow
  // model still stops within about a second) and raised as KeyboardInterrupt.
  so.block_points = 128;
  so.cancelled = [] {
    py::gil_scoped_acquire acquire;
    return PyErr_CheckSignals() != 0;
  };
  std::vector<std::vector<std::string>> values(axes.size());
  std::vector<std::string> status, binding, thr_exact;
  std::vector<double> b1, b2, b3, thr, gain;
  Status st;
  {
    py::gil_scoped_release release;
    st = run_sweep(p, axes, so, [&](const SweepRow& r) {
      for (std::size_t k = 0; k < axes.size(); ++k) values[k].push_back(format_fraction(r.values[k]));
      const bool ok = r.valid && r.status == SolveStatus::kOptimal;
      status.emplace_back(!r.valid ? "invalid" : std::string(to_string(r.status)));
      b1.push_back(ok ? to_double(r.point[0]) : kNaN);
      b2.push_back(ok ? to_double(r.point[1]) : kNaN);
      b3.push_back(ok ? to_double(r.point[2]) : kNaN);
      thr.push_back(ok ? to_double(r.throughput_tokens_per_s) : kNaN);
      thr_exact.push_back(ok ? format_fraction(r.throughput_tokens_per_s) : std::string());
      gain.push_back(ok && r.gain_percent ? to_double(*r.gain_percent) : kNaN);
      std::string b;
      for (const auto& name : r.binding) {
        if (!b.empty()) b += ';';
        b += name;
      }
      binding.push_back(b);
    });
  }
  if (!st) {
    if (st.error().code == ErrorCode::kInterrupted && PyErr_Occurred() != nullptr) throw py::error_already_set();
    raise(st.error());
  }
  py::dict out;
  for (std::size_t k = 0; k < axes.size(); ++k) out[py::str(axes[k].key + "_exact")] = values[k];
  out["b1"] = b1;
  out["b2"] = b2;
  out["b3"] = b3;
  out["throughput_tokens_per_s"] = thr;
  out["throughput_tokens_per_s_exact"] = thr_exact;
  out["gain_percent"] = gain;
  out["binding"] = binding;
  out["status"] = status;
  return out;
}

std::string presets_json() {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  for (const auto& info : presets()) {
    const Params p = preset(info.name).value();
    nlohmann::ordered_json values = nlohmann::ordered_json::object();
    for (const auto& s : param_specs()) {
      values[std::string(s.key)] = p.has(s.id) ? format_fraction(p.get(s.id)) : std::string("none");
    }
    out[std::string(info.name)] = {{"description", info.description}, {"params", values}};
  }
  return out.dump();
}

std::string breakeven_json(const std::string& preset_name, const std::string& config,
                           const std::vector<std::pair<std::string, std::string>>& all, const std::string& key,
                           const std::string& gain, const std::string& domain, const std::string& over) {
  const Split in = split_workload(all);
  const Loaded l = load_with_provenance(preset_name, config, in.params);
  const bool serving = l.params.model_name() == ModelName::kServing;
  if (!serving) refuse_workload_sets(in.sets);
  if (!serving && !over.empty()) {
    raise(Error{ErrorCode::kBadOption, "over", over,
                "over = '" + over + "': a baseline of the serving model; the other models' gain is over GPU-only"});
  }
  auto g = parse_quantity(gain, Dimension::kFraction, "gain");
  if (!g) raise(g.error());
  Result<Breakeven> b = Error{};
  if (serving) {
    const ServingWorkload w = serving_workload(config, in.sets, domain);
    py::gil_scoped_release release;
    b = serving_breakeven(l.params, w, key, g.value(), over.empty() ? "gpu_fetch" : over);
  } else {
    if (auto st = validate(l.params); !st) raise(st.error());
    py::gil_scoped_release release;
    b = breakeven(l.params, key, g.value(), SolveOptions{domain_of(domain), {}});
  }
  if (!b) raise(b.error());
  return render_breakeven_json(b.value(), -1);
}

// `lorasplit compare --format json`.
std::string compare_json(const std::string& preset_name, const std::string& config,
                         const std::vector<std::pair<std::string, std::string>>& params, const std::string& domain) {
  // As the CLI: the pipeline switches are welcome whatever model.name says (both models are
  // solved); loaded as the pipeline model so that a part's device memory is kept.
  Params p = load_with_provenance(preset_name, config, params, "pipeline").params;
  if (auto st = set_param(p, "model.name", "pipeline"); !st) raise(st.error());
  if (auto st = validate(p); !st) raise(st.error());
  Result<Comparison> c = Error{};
  {
    py::gil_scoped_release release;
    c = compare_models(p, SolveOptions{domain_of(domain), {}});
  }
  if (!c) raise(c.error());
  return render_compare_json(c.value(), -1);
}

// `lorasplit check --plan b1,b2,b3 --format json`, and whether the plan is feasible.
std::pair<std::string, bool> check_json(const std::string& preset_name, const std::string& config,
                                        const std::vector<std::pair<std::string, std::string>>& params,
                                        const std::vector<std::int64_t>& plan_in) {
  const Params p = load(preset_name, config, params);
  const Formulation f = build_model(p);
  if (plan_in.size() != f.cases.front().columns.size()) {
    raise(Error{ErrorCode::kBadOption, "plan", "", "plan: expected three whole numbers b1, b2, b3"});
  }
  const Plan plan{plan_in};
  const auto checked = check_plan(f, plan);
  if (!checked) raise(checked.error());
  return {render_plan_check(checked->model, plan, checked->check, true), checked->check.feasible};
}

// The analysis that explain and export render (no baselines, no sensitivity), as the CLI's.
Analysis analysed(const std::string& preset_name, const std::string& config,
                  const std::vector<std::pair<std::string, std::string>>& params, const std::string& domain) {
  const Params p = load(preset_name, config, params);
  Result<Analysis> a = Error{};
  {
    py::gil_scoped_release release;
    a = analyze(p, SolveOptions{domain_of(domain), {}}, AnalyzeOptions{false, false});
  }
  if (!a) raise(a.error());
  return std::move(a.value());
}

// `lorasplit explain` (text).
std::string explain_text(const std::string& preset_name, const std::string& config,
                         const std::vector<std::pair<std::string, std::string>>& params, const std::string& domain) {
  return render_explain(analysed(preset_name, config, params, domain));
}

// `lorasplit export --format lp` (text).
std::string export_lp(const std::string& preset_name, const std::string& config,
                      const std::vector<std::pair<std::string, std::string>>& params, const std::string& domain) {
  return render_lp(analysed(preset_name, config, params, domain));
}

// `lorasplit pareto --format json`.
std::string pareto_json(const std::string& preset_name, const std::string& config,
                        const std::vector<std::pair<std::string, std::string>>& params, const std::string& domain,
                        std::size_t points) {
  const Params p = load(preset_name, config, params);
  Result<std::vector<FrontierPoint>> fr = Error{};
  {
    py::gil_scoped_release release;
    fr = latency_frontier(p, SolveOptions{domain_of(domain), {}}, points);
  }
  if (!fr) raise(fr.error());
  return render_frontier_json(fr.value(), -1);
}

// The simulation of `plan` (empty: the certified optimum) as `lorasplit simulate --format json`.
std::string simulate_json(const std::string& preset_name, const std::string& config,
                          const std::vector<std::pair<std::string, std::string>>& params,
                          const std::vector<std::int64_t>& plan, int batches, bool overlap) {
  const Params p = load(preset_name, config, params);
  Plan chosen;
  if (plan.empty()) {
    auto solved = solve(build_model(p), SolveOptions{Domain::kInteger, {}, false});
    if (!solved) raise(solved.error());
    if (solved->status != SolveStatus::kOptimal) {
      raise(Error{ErrorCode::kInconsistent, "plan", "", "the instance is infeasible: no plan to simulate (give one with plan=...)"});
    }
    chosen = solved->plan;
  } else if (plan.size() == 3) {
    chosen = Plan{{plan[0], plan[1], plan[2]}};
  } else {
    raise(Error{ErrorCode::kBadOption, "plan", "", "plan: expected three whole numbers b1, b2, b3"});
  }
  if (batches < 1 || batches > 1000000) {
    raise(Error{ErrorCode::kBadOption, "batches", std::to_string(batches),
                "batches = '" + std::to_string(batches) + "': must be between 1 and 1000000"});
  }
  SimulateOptions o;
  o.batches = batches;
  o.overlap = overlap;
  Result<Simulation> sim = Error{};
  {
    py::gil_scoped_release release;
    sim = simulate(p, chosen, o);
  }
  if (!sim) raise(sim.error());
  return render_simulation_json(sim.value(), -1);
}

// The serving model's residency comparison, as `lorasplit compare --model serving --format json`.
std::string serving_compare_json(const std::string& preset_name, const std::string& config,
                                 const std::vector<std::pair<std::string, std::string>>& all) {
  const Split in = split_workload(all);
  const Loaded l = load_with_provenance(preset_name, config, in.params, "serving");
  const ServingWorkload w = serving_workload(config, in.sets);
  Result<ServingComparison> c = Error{};
  {
    py::gil_scoped_release release;
    c = compare_serving(w, l.params);
  }
  if (!c) raise(c.error());
  return render_serving_compare_json(w, c.value());
}

// The serving model's simulation of `plan` ("optimum", a baseline's name or a JSON plan
// file) over `layers` layers (0: all), as `lorasplit simulate --model serving --format json`.
std::string serving_simulate_json(const std::string& preset_name, const std::string& config,
                                  const std::vector<std::pair<std::string, std::string>>& all, const std::string& plan,
                                  std::int64_t layers) {
  const Split in = split_workload(all);
  const Loaded l = load_with_provenance(preset_name, config, in.params, "serving");
  const ServingWorkload w = serving_workload(config, in.sets);
  Result<ChosenServingPlan> chosen = Error{};
  {
    py::gil_scoped_release release;
    chosen = choose_serving_plan(w, l.params, plan);
  }
  if (!chosen) raise(chosen.error());
  if (!chosen->feasible) {
    raise(Error{ErrorCode::kInconsistent, "plan", chosen->name, "plan " + chosen->name + " cannot run: " + chosen->reason});
  }
  const ServingWorkload played = served_workload(w, chosen->served);  // capacity mode: the tokens served
  auto sim = simulate_serving(played, chosen->hardware, chosen->plan, layers == 0 ? w.shape.layers : layers,
                              chosen->all_in_hbm);
  if (!sim) raise(sim.error());
  sim->plan_name = chosen->name;
  sim->plan_status = chosen->status;
  if (!sim->equal()) raise(Error{ErrorCode::kInternal, "", "", "the simulated iteration differs from the model's (a bug)"});
  return render_serving_simulation_json(played, sim.value());
}

}  // namespace

PYBIND11_MODULE(_lorasplit, m) {
  m.doc() = "lorasplit core (use the `lorasplit` package, not this module)";
  m.def("solve_json", &solve_json, py::arg("preset"), py::arg("config"), py::arg("params"), py::arg("domain"),
        "Exact optimum and its analysis as the CLI's JSON (text).");
  m.def("sweep_columns", &sweep_columns, py::arg("preset"), py::arg("config"), py::arg("params"), py::arg("vary"),
        py::arg("domain"), py::arg("shard"), py::arg("threads"), "Sweep rows as columns (lists).");
  m.def("presets_json", &presets_json, "Built-in presets (JSON text).");
  m.def(
      "hardware_json",
      [](const std::string& kind) {
        if (auto probe = find_hardware("gpu", ""); !probe && probe.error().code == ErrorCode::kInternal) {
          raise(probe.error());
        }
        return render_hardware_json(kind);
      },
      py::arg("kind"), "The hardware library (JSON text of lorasplit hardware --format json).");
  m.def("serving_json", &serving_json, py::arg("preset"), py::arg("config"), py::arg("params"),
        "The serving model's exact plan and baselines (JSON text of lorasplit solve --model serving).");
  m.def("simulate_json", &simulate_json, py::arg("preset"), py::arg("config"), py::arg("params"), py::arg("plan"),
        py::arg("batches"), py::arg("overlap"), "Event-by-event simulation of a plan (JSON text).");
  m.def("serving_compare_json", &serving_compare_json, py::arg("preset"), py::arg("config"), py::arg("params"),
        "The serving model's residency comparison (JSON text).");
  m.def("serving_simulate_json", &serving_simulate_json, py::arg("preset"), py::arg("config"), py::arg("params"),
        py::arg("plan"), py::arg("layers"), "The serving model's simulated layers (JSON text).");
  m.def("params_json", [] { return render_params_json(-1); }, "The parameter table (JSON text).");
  m.def("export_lp", &export_lp, py::arg("preset"), py::arg("config"), py::arg("params"), py::arg("domain"),
        "The final Dinkelbach step's integer program, CPLEX LP format (text).");
  m.def("breakeven_json", &breakeven_json, py::arg("preset"), py::arg("config"), py::arg("params"), py::arg("key"),
        py::arg("gain"), py::arg("domain"), py::arg("over"), "Break-even of one parameter (JSON text).");
  m.def("compare_json", &compare_json, py::arg("preset"), py::arg("config"), py::arg("params"), py::arg("domain"),
        "The seed and pipeline models side by side (JSON text).");
  m.def("check_json", &check_json, py::arg("preset"), py::arg("config"), py::arg("params"), py::arg("plan"),
        "A plan checked in exact arithmetic (JSON text, feasible).");
  m.def("explain_text", &explain_text, py::arg("preset"), py::arg("config"), py::arg("params"), py::arg("domain"),
        "The model with every number filled in and the solver's path (text).");
  m.def("pareto_json", &pareto_json, py::arg("preset"), py::arg("config"), py::arg("params"), py::arg("domain"),
        py::arg("points"), "The throughput-latency frontier (JSON text).");
}
