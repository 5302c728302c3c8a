#pragma once
// A discrete-event simulator that plays a plan out on explicit resources (docs/model.md
// §8): the GPU's compute engine, the device's compute engine and the link (one lane per
// direction when full duplex, one shared queue otherwise). It executes the physical
// schedule (every transfer pays the link latency as a delay after its last byte; chunks
// where pipeline.chunk_tokens is set; weight fetches where lora.weights says), in exact
// rational seconds, and compares each stage with the analytic model's formulas, naming
// the model term behind every difference.

#include <lorasplit/describe.hpp>
#include <lorasplit/model.hpp>
#include <lorasplit/params.hpp>
#include <lorasplit/rational.hpp>
#include <lorasplit/status.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace lorasplit {

/// One piece of work on one resource.
struct SimTask {
  int id{0};
  int batch{1};            ///< 1-based
  int stage{1};            ///< 1 or 2 (0 for a stage barrier's bookkeeping is never emitted)
  std::string name;        ///< e.g. "X in (b2+b3)", "X·A (b1)", "Z back (b3, chunk 3/7)"
  std::string resource;    ///< "gpu", "cxl", "link.to_device", "link.to_gpu" or "link" (shared)
  std::int64_t tokens{0};
  Rational start_s;        ///< the resource starts it
  Rational end_s;          ///< the resource is free again
  Rational done_s;         ///< its result is usable: end_s plus the link latency for a transfer
};

struct ResourceUse {
  std::string name;
  Rational busy_s;         ///< sum of the occupancy of its tasks
  Rational utilization;    ///< busy_s / makespan
};

/// A model term that accounts for part of a difference between simulation and formula.
struct SimTerm {
  std::string description;
  Rational seconds;        ///< simulated minus modelled time it explains
};

struct StageComparison {
  int stage{1};
  Rational sim_gpu_s, sim_cxl_s, sim_stage_s;  ///< first batch, from the stage's start
  Rational model_gpu_s, model_cxl_s;           ///< the model's T_GPU and T_CXL at the plan
  std::vector<SimTerm> gpu_terms, cxl_terms;   ///< named model terms behind the differences
  Rational gpu_residual_s, cxl_residual_s;     ///< what no named term explains (0 where the model claims the schedule)
};

struct SimulateOptions {
  int batches{1};
  /// Batch k+1's stage 1 may start while batch k's stage 2 runs (where resources allow);
  /// otherwise each batch starts when the previous one has finished.
  bool overlap{false};
  std::size_t max_tasks{500000};  ///< refuse larger simulations (chunks of a few tokens on huge batches)
};

struct Simulation {
  Plan plan;
  std::string model;                       ///< the analytic model compared with ("seed" or "pipeline")
  int batches{1};
  bool overlap{false};
  std::vector<SimTask> tasks;              ///< in start order (ties by id)
  std::vector<ResourceUse> resources;      ///< gpu, cxl, then the link lane(s)
  std::vector<StageComparison> stages;     ///< stages 1 and 2 of the first batch
  Rational makespan_s;                     ///< end of the last batch
  Rational first_batch_s;                  ///< end of the first batch
  Rational simulated_tokens_per_s;         ///< steady state: tokens per batch over the mean batch period
  Rational analytic_tokens_per_s;          ///< the model's throughput of the plan
};

/// Simulates `plan` under `params` (validated). Errors: an empty plan, a negative batch
/// size, a plan that is not whole blocks, batches < 1, or more tasks than max_tasks.
Result<Simulation> simulate(const Params& params, const Plan& plan, const SimulateOptions& options = {});
/// Simulates `plan` on the work of `description` (whose expressions `params` evaluate),
/// compared with the model built from the same description.
Result<Simulation> simulate(const Description& description, const Params& params, const Plan& plan,
                            const SimulateOptions& options = {});

/// Chrome trace-event JSON (Perfetto, chrome://tracing): one track per resource, times in µs.
std::string render_trace_json(const Simulation& sim);
/// An SVG Gantt chart: one row per resource, a time axis in readable units.
std::string render_gantt_svg(const Simulation& sim);
/// The report: stages against the model, resources, and the task list (`max_rows` rows of it).
std::string render_simulation_text(const Simulation& sim, std::size_t max_rows = 40);
std::string render_simulation_json(const Simulation& sim, int indent = 2);

}  // namespace lorasplit
