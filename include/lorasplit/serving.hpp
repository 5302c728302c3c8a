#pragma once
// The serving model (docs/model.md §9): one decode iteration of a transformer whose
// projections carry LoRA adapters of mixed ranks, each kernel a roofline beside the base
// model's GEMM, adapters resident in GPU memory, device memory or both. One stage graph
// (§9.4) gives the model's stage times, the exact planner's rows and the simulator's
// events.

#include <lorasplit/hardware.hpp>
#include <lorasplit/params.hpp>
#include <lorasplit/rational.hpp>
#include <lorasplit/status.hpp>
#include <lorasplit/sweep.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lorasplit {

/// A decoder's shape (docs/model.md §9.1); widths in elements.
struct TransformerShape {
  std::string name;    ///< preset name, or the config.json's path, or "[transformer]"
  std::string source;  ///< where the numbers come from
  std::int64_t hidden{0}, intermediate{0}, layers{0}, heads{0}, kv_heads{0}, head_dim{0};
  std::string dtype;   ///< "float16", "bfloat16", "float32"
  std::int64_t element_bytes{0};
};

/// The built-in shapes (docs/model.md §9.8), each with the file its numbers come from.
std::span<const TransformerShape> transformer_presets();
/// A built-in shape by name; an unknown name is an error naming `transformer.preset`.
Result<TransformerShape> transformer_preset(std::string_view name);
/// A shape from the text of a Hugging Face config.json (`source` names it in messages).
Result<TransformerShape> parse_hf_config(std::string_view json_text, std::string_view source);
Result<TransformerShape> read_hf_config(const std::string& path);

/// The seven projections, in this order.
enum class Module : int { kQ, kK, kV, kO, kGate, kUp, kDown };
inline constexpr std::size_t kModuleCount = 7;
std::string_view to_string(Module m);

/// The stages of a layer, in order (docs/model.md §9.1).
enum class ServingStage : int { kQkv, kAttention, kO, kGateUp, kDown };
inline constexpr std::size_t kServingStageCount = 5;
std::string_view to_string(ServingStage s);

enum class Residency { kGpu, kCxl, kBoth };
std::string_view to_string(Residency r);

struct ServingAdapter {
  std::string name;
  std::int64_t rank{0};
  std::int64_t tokens{0};  ///< its tokens in this iteration's batch
  Residency weights{Residency::kCxl};
  std::uint8_t modules{0x7f};  ///< bit m: Module m carries this adapter
};

/// `serving.mode` (docs/model.md §9.1, §9.12): "batch" plans the given batch (least
/// iteration time); "capacity" also decides how many of each adapter's offered tokens to
/// serve (at most its `tokens`), maximising throughput under the memory rows,
/// lora.max_batch_latency_s and lora.max_batch_tokens.
enum class ServingMode { kBatch, kCapacity };
std::string_view to_string(ServingMode m);

/// What one iteration serves: the shape, the adapters and the context.
struct ServingWorkload {
  TransformerShape shape;
  std::vector<ServingAdapter> adapters;
  std::int64_t context_tokens{0};  ///< C: tokens in each sequence's KV cache
  std::string generator;           ///< how the adapters were generated (empty: listed)
  ServingMode mode{ServingMode::kBatch};
  [[nodiscard]] std::int64_t tokens() const;
};
/// The workload with adapter i's tokens set to served[i] (the batch a capacity plan
/// serves); the mode becomes batch.
ServingWorkload served_workload(const ServingWorkload& w, const std::vector<std::int64_t>& served);

/// Reads [transformer], [serving] and [[adapters]] from a config file (the parameters of
/// [gpu], [cxl], [link] are load_config_file's). Errors name the key and value, with the
/// file and line.
/// `overrides`: ("serving.KEY" or "transformer.KEY", value) pairs applied over the file's
/// tables before they are read (a value is read as TOML when it parses as an integer, a
/// float or an array, else as a string; "8,16" is the array [8, 16]). Setting
/// transformer.preset or transformer.hf_config replaces the whole [transformer] table;
/// setting serving.adapters removes any [[adapters]] list.
using WorkloadOverrides = std::vector<std::pair<std::string, std::string>>;
Result<ServingWorkload> load_serving_workload(const std::string& path, const WorkloadOverrides& overrides = {});
/// `base_dir` resolves a relative transformer.hf_config.
Result<ServingWorkload> load_serving_workload_string(std::string_view toml_text, std::string_view source_name,
                                                     const std::string& base_dir,
                                                     const WorkloadOverrides& overrides = {});
/// Whether KEY is a workload key ("serving.*", "transformer.*", "lora.target_modules"), which --set hands to
/// load_serving_workload rather than to the parameters.
bool is_workload_key(std::string_view key);
/// A config file that holds the serving model's tables ([transformer], [serving],
/// [[adapters]]) under another model is an error (they would be ignored), naming `config`.
Status check_serving_tables(const std::string& path, ModelName model);

/// Paths of one adapter's tokens in one stage: the seed's b1, b2, b3.
enum class ServingPath : int { kGpu = 0, kSplit = 1, kDevice = 2 };
std::string_view to_string(ServingPath p);

/// tokens[stage][adapter][path]; an adapter without modules in a stage has all its
/// tokens on kGpu there (they only pass the base GEMM).
struct ServingPlan {
  std::vector<std::vector<std::array<std::int64_t, 3>>> tokens;
};

/// Every token on one path where the adapter can take it (kGpu always can; kSplit and
/// kDevice need the weights on the device).
ServingPlan uniform_plan(const ServingWorkload& w, ServingPath path);

/// One kernel or transfer of a stage at a plan.
struct ServingItem {
  std::string name;      ///< "base", "shrink_gpu", "x_in", ...
  std::string resource;  ///< "gpu", "cxl", "link.to_gpu", "link.to_device"
  bool runs{false};
  Rational flops, bytes;  ///< [FLOP], [B]
  Rational seconds;       ///< its duration [s] (0 when it does not run)
  bool memory_bound{false};  ///< kernels: bytes / W >= FLOPs / F
  bool transfer{false};
};

struct ServingStageTime {
  ServingStage stage{ServingStage::kQkv};
  Rational seconds;           ///< T_s [s], one layer
  std::vector<ServingItem> items;
  std::string critical_path;  ///< the longest path, e.g. "x_in > shrink_cxl > y_back > expand_gpu"
};

struct ServingMemory {
  Rational gpu_bytes, device_bytes;
  Rational gpu_capacity;
  std::optional<Rational> device_capacity;
};

/// A plan's exact times and memory (docs/model.md §9.3-§9.5).
struct ServingEvaluation {
  bool feasible{false};
  std::string reason;  ///< when infeasible: the memory row that fails, with its numbers
  Rational iteration_s;         ///< T_iter = L * sum of stage times [s]
  Rational tokens_per_s;        ///< T / T_iter
  std::vector<ServingStageTime> stages;
  ServingMemory memory;
};

/// Hardware of the serving model, read once from validated parameters (serving_hardware):
/// every rate is then > 0, cxl_bandwidth (W_c) included, which bounds every transfer; a
/// value built by hand must keep that (a rate of 0 would be divided by).
struct ServingHardware {
  Rational gpu_flops, gpu_bandwidth, gpu_overhead_s, gpu_memory;  ///< F_g = flops * efficiency
  Rational cxl_flops, cxl_bandwidth, cxl_overhead_s;
  std::optional<Rational> cxl_memory;
  Rational link_bandwidth, link_latency_s;
  /// Whether the device computes: cxl.flops = 0 is a memory expander, which holds adapters
  /// for the GPU to fetch and takes no token (its kernel overhead is then unread, 0; its
  /// memory bandwidth is read: the fetches run at transfer_bandwidth()).
  [[nodiscard]] bool device_computes() const { return cxl_flops > 0; }
  /// The rate of every transfer [B/s]: each one reads or writes the device's memory over
  /// the link, so it runs at the lesser of the two (docs/model.md section 9.3).
  [[nodiscard]] Rational transfer_bandwidth() const { return std::min(link_bandwidth, cxl_bandwidth); }
};
/// `capacity`: lora.max_batch_latency_s and lora.max_batch_tokens are read (capacity mode)
/// rather than refused.
Result<ServingHardware> serving_hardware(const Params& params, bool capacity = false);

/// Checks a plan against the workload (shape, sums, paths the residency allows); errors
/// name the argument `plan`.
Status check_serving_plan(const ServingWorkload& w, const ServingPlan& plan);
/// The exact times of a checked plan; `all_in_hbm`: every adapter's weights counted as
/// GPU-resident (the gpu_hbm what-if).
ServingEvaluation evaluate_serving(const ServingWorkload& w, const ServingHardware& hw, const ServingPlan& plan,
                                   bool all_in_hbm = false);

/// One event of the simulated stage: an item's start, its end (last byte or last FLOP)
/// and when its result is usable (end plus the latency for a transfer).
struct ServingEvent {
  std::string item, resource;
  Rational start_s, end_s, done_s;
};
/// Plays one stage of one layer event by event over the same graph (docs/model.md §9.4).
std::vector<ServingEvent> simulate_serving_stage(const ServingWorkload& w, const ServingHardware& hw,
                                                 const ServingPlan& plan, ServingStage stage, bool all_in_hbm = false);

/// A whole simulated iteration's layers (docs/model.md §9.4): every stage of each layer
/// played by simulate_serving_stage, stages and layers back to back (a stage starts when
/// the one before it has ended: the layer synchronises there).
struct ServingTask {
  std::int64_t layer{0};  ///< 0-based
  ServingStage stage{ServingStage::kQkv};
  std::string item, resource;
  Rational start_s, end_s, done_s;  ///< from the first simulated layer's start [s]
  Rational flops, bytes;            ///< [FLOP], [B]
  bool memory_bound{false};         ///< kernels: bytes / W >= FLOPs / F
  bool transfer{false};
};
struct ServingStageCheck {
  ServingStage stage{ServingStage::kQkv};
  Rational simulated_s, model_s;  ///< one layer [s]: the simulator's end and the formula's T_s
  std::string critical_path;      ///< the formula's longest path
};
struct ServingResourceUse {
  std::string name;   ///< "gpu", "cxl", "link.to_gpu", "link.to_device"
  Rational busy_s;    ///< over the simulated layers
  Rational utilization;  ///< busy_s / makespan_s
};
struct ServingSimulation {
  std::string plan_name;             ///< "optimum", a baseline's name or the plan file
  /// What the plan is: "optimal" (proved), "feasible, not proved optimal (...)" (a search
  /// stopped by a gap or a node limit), "baseline" or "file".
  std::string plan_status;
  std::int64_t layers_simulated{1};  ///< of shape.layers
  std::vector<ServingTask> tasks;    ///< the items that run, by start time
  std::vector<ServingStageCheck> stages;
  std::vector<ServingResourceUse> resources;
  Rational makespan_s;               ///< the simulated layers [s]
  Rational simulated_iteration_s, model_iteration_s;  ///< L layers [s]
  Rational simulated_tokens_per_s, model_tokens_per_s;
  /// Every stage ends at the formula's T_s (it must: the same graph; a difference is a bug).
  [[nodiscard]] bool equal() const;
};
/// An error naming `layers` unless 1 <= layers <= the shape's layers (and at most 1,000).
Status check_serving_layers(const ServingWorkload& w, std::int64_t layers);
/// Plays `plan` (checked) for `layers` of the shape's layers (1 to L); `all_in_hbm` as
/// evaluate_serving's. Errors name `plan` or `layers`.
Result<ServingSimulation> simulate_serving(const ServingWorkload& w, const ServingHardware& hw, const ServingPlan& plan,
                                           std::int64_t layers = 1, bool all_in_hbm = false);
/// A plan from JSON: solve --format json's output (its `plan`) or the list alone, entries
/// `{adapter, stage, path, tokens}`. A (stage, adapter) pair with work and no entry is an
/// error, as are unknown names, repeats and token counts that do not add up; an adapter
/// without a module in a stage has its tokens on the GPU path there. `source` names the
/// file in messages (key `--plan`). Capacity mode: an adapter serves its entries' sum (the
/// same in every stage where it has a module; no entry: 0, at most its offered tokens),
/// written to `served` when given; the plan is then of served_workload(w, *served).
Result<ServingPlan> parse_serving_plan_json(const ServingWorkload& w, std::string_view json_text, std::string_view source,
                                            std::vector<std::int64_t>* served = nullptr);
/// The same from a file (at most 64 MiB); an unreadable file is an error naming `--plan`.
Result<ServingPlan> read_serving_plan(const ServingWorkload& w, const std::string& path,
                                      std::vector<std::int64_t>* served = nullptr);

struct ServingBaseline {
  std::string name;  ///< "gpu_hbm", "gpu_fetch", "device_all"
  ServingPlan plan;
  ServingEvaluation eval;
  std::vector<std::int64_t> served;  ///< tokens of each adapter in `plan` (capacity mode: decided)
};

struct ServingResult {
  ServingHardware hardware;  ///< the rates and capacities the plan was made for
  ServingMode mode{ServingMode::kBatch};
  /// Tokens of each adapter the plan serves: the workload's in batch mode, decided (at
  /// most the workload's) in capacity mode. `plan` and `eval` are of served_workload(w, served).
  std::vector<std::int64_t> served;
  long dinkelbach_iterations{0};  ///< capacity mode: searches over the joint program
  bool feasible{false};
  std::string reason;
  ServingPlan plan;
  ServingEvaluation eval;
  std::vector<ServingBaseline> baselines;  ///< gpu_hbm, gpu_fetch, device_all
  long nodes{0}, pivots{0};                ///< branch and bound, over the stages
  long exact_lps{0};                       ///< nodes decided by an exact rational LP
  long fixed_bounds{0};                    ///< integer bounds moved by reduced-cost fixing
  std::size_t classes{0};                  ///< the most classes of adapters in one stage
  /// The simulated stage times equal the model's (checked for every stage of the optimum).
  bool simulated_equal{false};
  /// The plan is proved optimal; false when a gap or a node limit (ServingSolveOptions)
  /// closed part of the tree: then the optimum lies in [lower_bound_s, eval.iteration_s].
  bool proved_optimal{true};
  Rational lower_bound_s;  ///< no plan's iteration time is below it [s] (exact)
};

/// The optimum's gain in throughput over the baseline named `baseline` [%] (exact):
/// 100 · (X_opt / X_baseline − 1); nullopt when either has no plan (docs/model.md §9.6).
std::optional<Rational> serving_gain_percent(const ServingResult& r, std::string_view baseline);

/// How far the exact search goes. The default proves the optimum however long it takes.
struct ServingSolveOptions {
  /// Close a node whose LP cannot shorten a stage by more than this fraction of the best
  /// stage time known (0: exact); its LP value is kept as the certified lower bound.
  Rational relative_gap{0};
  /// Stop each stage's search after this many nodes (0: no limit); the open nodes' exact
  /// bounds bound the optimum from below.
  long node_limit{0};
  /// Decide every node by the exact rational LP instead of proposing it in double
  /// precision first: the reference search, slower by orders of magnitude, same answers.
  bool exact_lps_only{false};
  /// Nodes the search over the compact LP may use in a stage before the stage is searched
  /// again over the program's own LP, from the best plan found (docs/model.md §9.7).
  long compact_node_budget{2000};
  /// Nodes that second search may use before the compact LP's search runs once more, from
  /// the best plan found, without a budget (docs/model.md §9.7).
  long own_lp_node_budget{20000};
  /// Batch mode: how many stages are searched at once, each on its own thread (1: one
  /// after another; 0: as many as the machine has cores). The answer, the certificate and
  /// the counts do not depend on it. A sweep solves its points with 1 (it runs points at
  /// once instead).
  unsigned threads{1};
};

/// Whether `options` apply to the workload's mode: --gap, --node-limit and --exact-lps are
/// batch mode's (capacity mode's search always closes its tree); kBadOption otherwise.
Status check_serving_options(const ServingWorkload& w, const ServingSolveOptions& options);

/// The plan of least iteration time under the workload's residency (docs/model.md §9.7),
/// certified by a closed branch-and-bound tree (LPs in double precision proposed, every node
/// closed by an exact bound or an exact LP), with the baselines.
Result<ServingResult> solve_serving(const ServingWorkload& w, const Params& params,
                                    const ServingSolveOptions& options = {});

/// A plan to simulate, by name: "optimum" (solve_serving with `options`), "gpu_fetch",
/// "gpu_hbm", "device_all" (the baselines of §9.6; in capacity mode, §9.12's restricted
/// searches), or else the path of a JSON plan file (read_serving_plan; in capacity mode its
/// tokens are the batch it serves, held to lora.max_batch_latency_s and
/// lora.max_batch_tokens). `feasible` is false, with the reason, when the optimum does not
/// exist or the plan fails a memory row (or, a capacity-mode file, a bound): such a plan
/// cannot run.
struct ChosenServingPlan {
  std::string name;
  ServingHardware hardware;  ///< the rates the plan is played at (serving_hardware of the parameters)
  ServingPlan plan;
  bool all_in_hbm{false};  ///< gpu_hbm: every adapter's weights counted in GPU memory
  bool feasible{false};
  std::string reason;
  std::string status;      ///< as ServingSimulation::plan_status
  /// Tokens of each adapter the plan serves: the workload's in batch mode, decided in
  /// capacity mode (the optimum and the baselines of §9.12); play the plan on
  /// served_workload(w, served).
  std::vector<std::int64_t> served;
};
Result<ChosenServingPlan> choose_serving_plan(const ServingWorkload& w, const Params& params, const std::string& name,
                                              const ServingSolveOptions& options = {});

/// The same batch with every adapter's weights in one place (`lorasplit compare --model
/// serving`, docs/model.md §9.9): where should the adapters live, and what does the device
/// buy in each case. Cases: the residency as given (left out when every adapter already
/// has one residency: that case is the same), then all "gpu", all "cxl", all "both".
struct ServingResidencyCase {
  std::string weights;  ///< "as given", "gpu", "cxl" or "both"
  bool given{false};    ///< this case is the workload as given
  ServingResult result;
  Rational device_share;  ///< of the LoRA tokens (adapter, stage), on paths p and c
};
struct ServingComparison {
  std::vector<ServingResidencyCase> cases;
};
Result<ServingComparison> compare_serving(const ServingWorkload& w, const Params& params,
                                          const ServingSolveOptions& options = {});
std::string render_serving_compare_text(const ServingWorkload& w, const ServingComparison& c);
std::string render_serving_compare_json(const ServingWorkload& w, const ServingComparison& c);

/// One axis of a serving sweep (docs/model.md §9.10): a hardware parameter (exact values,
/// as `lorasplit sweep` parses them) or a workload key (serving.*, transformer.*: a list,
/// ';' between values that hold commas, or lin:A:B:N / log:A:B:N over whole numbers).
struct ServingAxis {
  std::string key;
  bool workload{false};
  std::string part_kind;            ///< "gpu", "cxl" or "link" for hardware.KIND: the values name parts
  ParamId param{};                  ///< a parameter axis's key
  std::vector<std::string> values;  ///< as printed (and, for workload keys, as applied)
  std::vector<Rational> exact;      ///< a parameter axis's values
};
Result<ServingAxis> parse_serving_axis(std::string_view spec);
struct ServingSweepRow {
  std::size_t index{0};             ///< the point's index in the whole grid (0-based)
  std::vector<std::string> values;  ///< one per axis
  ServingWorkload workload;
  ServingResult result;
};
struct ServingSweepOptions {
  ServingSolveOptions solve;
  Shard shard;                                   ///< the slice of the grid to run (sweep.hpp)
  unsigned threads{0};                           ///< 0: all cores
  const InputProvenance* provenance{nullptr};    ///< with it, values the user wrote stay over a part's
  /// Asked before each point is started: true stops the sweep with ErrorCode::kInterrupted
  /// after the rows already emitted (Python: a pending signal). Called from worker threads.
  std::function<bool()> cancelled;
};
/// Number of points of the grid (the product of the axes' sizes), or nullopt when it
/// does not fit a size_t.
std::optional<std::size_t> serving_sweep_size(const std::vector<ServingAxis>& axes);
/// Solves every point of the shard (the last axis fastest), `threads` at once, and hands
/// each row to `emit` in index order (every workload of the shard is read first: a bad
/// workload value is an error before the first row); memory is bounded by a window of points in flight,
/// not by the size of the grid. The workload comes from `config` with `sets` and the
/// point's workload values over it. The first point that fails stops the sweep with its
/// error, naming the point. A hardware axis (hardware.gpu=NAME,NAME...) sets each part's
/// values over `base` as --gpu does: with `provenance`, the values the user wrote
/// (config, --set) stay. Every thread is joined on every path; an exception thrown by
/// `emit` is rethrown after.
Status run_serving_sweep(const Params& base, const std::string& config, const WorkloadOverrides& sets,
                         const std::vector<ServingAxis>& axes, const ServingSweepOptions& options,
                         const std::function<void(const ServingSweepRow&)>& emit);
/// CSV: the axes, status, iteration time (and exact), throughput, gains over gpu_fetch and
/// gpu_hbm [%], the three baselines' throughputs, the device's share of the LoRA tokens
/// [%], the adapters with tokens, the branch-and-bound nodes.
std::string serving_csv_header(const std::vector<ServingAxis>& axes);
std::string serving_csv_row(const ServingSweepRow& row);
/// The header's column names and a row's cells, unquoted (what the CSV line joins).
std::vector<std::string> serving_columns(const std::vector<ServingAxis>& axes);
std::vector<std::string> serving_cells(const ServingSweepRow& row);

std::string render_serving_text(const ServingWorkload& w, const ServingResult& r);
std::string render_serving_json(const ServingWorkload& w, const ServingResult& r);
/// `lorasplit simulate --model serving`: the stages against the formulas, the resources,
/// the iteration and the task list (`max_rows` rows of it; JSON: all).
std::string render_serving_simulation_text(const ServingWorkload& w, const ServingSimulation& sim,
                                           std::size_t max_rows = 40);
std::string render_serving_simulation_json(const ServingWorkload& w, const ServingSimulation& sim);
/// Chrome trace-event JSON (one track per resource, times in us) and an SVG Gantt chart
/// (colour: stage) of the simulated layers.
std::string render_serving_trace_json(const ServingSimulation& sim);
std::string render_serving_gantt_svg(const ServingWorkload& w, const ServingSimulation& sim);

}  // namespace lorasplit
