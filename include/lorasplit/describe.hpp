#pragma once
// The description of the work (docs/model.md §0): which resources there are, which work
// items run on them (kernels and transfers, each with its time per token and its fixed
// part as exact expressions of the parameters), which columns of the plan send tokens
// through each item, in which stage and after what, how a stage's two sides synchronise,
// and which memory rows hold. The optimisation model (model.hpp) and the simulator's task
// graph (simulate.hpp) are both built from one description, so they cannot drift apart,
// and every per-token constant is written once, here.

#include <lorasplit/expr.hpp>
#include <lorasplit/model.hpp>
#include <lorasplit/params.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace lorasplit {

/// The two sides of a stage: its time is T_GPU (GPU side) and T_CXL (device side).
enum class Side { kGpu, kDevice };

/// Something that runs one piece of work at a time: a compute engine or a link lane.
struct Resource {
  std::string name;  ///< "gpu", "cxl", "link.to_device", "link.to_gpu", or "link" (one shared lane)
};

/// One piece of work: a kernel on a compute engine or a transfer on a link lane.
struct WorkItem {
  std::string name;    ///< e.g. "X in", "X·A", "fetch A to the device"
  std::string part;    ///< its term's name when a chunked stage is a maximum of terms ("x_in", "compute", ...)
  std::string symbol;  ///< its time in formulas: per token ("xi", "kappa") or fixed ("omega")
  std::size_t resource{0};  ///< index into Description::resources
  Side side{Side::kGpu};    ///< whose stage time it counts toward
  /// 1 for each column whose tokens pass through it; all 0 for a fetch (no tokens).
  std::vector<char> columns;
  Expr seconds_per_token;  ///< occupancy of its resource per token [s/token]
  /// Per column, when its columns' tokens cost different times (a kernel batched over
  /// adapters of different ranks); empty: seconds_per_token for every column. A chunked
  /// term's fill (one chunk through the other parts) uses seconds_per_token.
  std::vector<Expr> column_seconds;
  /// The occupancy per token of column j [s/token].
  [[nodiscard]] const Expr& seconds_for(std::size_t j) const {
    return column_seconds.empty() ? seconds_per_token : column_seconds[j];
  }
  Expr fixed_seconds;      ///< occupancy when it runs at all [s] (a weight fetch)
  bool transfer{false};    ///< a link transfer: its data is usable link.latency_s after its last byte
  /// Its latency runs while the next transfer on its lane is sent, so it is on no critical
  /// path (a weight fetch followed by X on the same lane).
  bool latency_hidden{false};
  bool chunked{false};  ///< with pipeline.chunk_tokens set, it handles its tokens chunk by chunk
  /// A fetch runs when any of these columns is used (one entry per column).
  std::vector<char> runs_for;
  std::vector<std::size_t> after;  ///< items of the same stage whose results it needs
  /// What the simulator calls its latency where the model's latency rule leaves it out.
  std::string latency_note;
  // Provenance of the time: FLOPs or bytes per token and fixed bytes (0 when not applicable).
  Expr flops_per_token, bytes_per_token, fixed_bytes;
};

/// How the model charges link latency (the seed's peculiar terms are a rule, not physics).
enum class LatencyRule {
  kPerTransfer,         ///< every transfer's latency on a critical path (pipeline.transfer_latency = on)
  kOnceInStage1,        ///< link.latency_s once in stage 1 when the device works (transfer_latency = off)
  kOnceInStage1Always,  ///< once in stage 1 even with the device idle: the seed, term for term
};

/// A term the model adds to a side's time that no schedule executes (the seed's credit).
struct ModelTerm {
  std::string name;         ///< "credit"
  std::size_t stage{0};     ///< index into Description::stages
  Side side{Side::kDevice};
  std::vector<Expr> coef;   ///< seconds per token of each column (the credit: -eta for b2)
  std::string formula;      ///< e.g. "-eta*b2"
  std::string note;         ///< what the simulator names the difference it makes
};

struct Stage {
  std::string name;                 ///< "s1", "s2"
  std::vector<std::size_t> items;   ///< in priority order (the simulator's order for ties)
  std::string sync_description;     ///< what its synchronisation row means (empty: generated)
};

/// Bytes held by one memory row: per token of some columns, and a fixed part.
struct MemoryTerm {
  Expr bytes_per_token;             ///< [B/token] of each token of `columns`
  std::vector<char> columns;        ///< one entry per column (empty: none)
  Expr fixed_bytes;                 ///< [B] held regardless of the tokens (an adapter matrix)
  std::vector<char> held_if_used;   ///< fixed bytes held only when one of these columns is used (empty: always)
  std::string text;                 ///< the term in the row's formula, e.g. "e*b1*d"
  std::string description_suffix;   ///< appended to the row's description when the fixed part is held
};

struct MemoryRow {
  std::string name;           ///< "mem_x"
  std::string description;
  std::string formula;        ///< fixed text; empty: the held terms' texts, " <= ", capacity_text
  std::string capacity_text;  ///< "GPU_MEMORY"
  Expr capacity;              ///< [B]
  std::vector<MemoryTerm> terms;
};

/// A bound on the batch: the tokens of some columns <= bound [tokens] (lora.max_batch_tokens
/// over all columns; an adapter's demand over its own), or the batch time <= bound [s].
struct LimitRow {
  std::string name, formula, description;
  Expr bound;
  std::vector<char> columns;  ///< token limits: the columns counted (empty: all)
};

struct Description {
  ModelName model{ModelName::kSeed};
  std::string name;                 ///< "seed", "pipeline"
  std::vector<Column> columns;
  std::vector<Resource> resources;
  std::vector<WorkItem> items;
  std::vector<Stage> stages;
  LatencyRule latency{LatencyRule::kPerTransfer};
  Expr latency_s;                   ///< the link latency [s]
  /// kOnceInStage1Always: what the simulator calls the latency charged with the device idle.
  std::string idle_latency_note;
  std::vector<ModelTerm> terms;
  std::vector<MemoryRow> memory;
  std::vector<LimitRow> token_limits;   ///< after the memory rows, in order
  std::optional<LimitRow> max_latency;  ///< the batch time, after the case rows
  /// Chunked stages: the device's items overlap in chunks of this many tokens [tokens].
  std::optional<Expr> chunk_tokens;
  bool relaxed_sync{false};         ///< stage time = max(GPU, device); else device <= GPU is a row
  /// The model is one linear case (every item's cost is affine in the plan: the seed), or
  /// a union of cases, one per set of used columns and choice of each stage's largest term.
  bool cases_by_support{false};
  bool sync_rows_first{false};      ///< the seed lists its sync rows before the memory rows
};

/// The description of the model that (validated) `params` select (model.name). It reads
/// the choice parameters and which optional ones are set; numbers stay expressions.
Description describe(const Params& params);
Description describe_seed(const Params& params);
Description describe_pipeline(const Params& params);

/// The model's cases, built from a description and evaluated at `params` exactly (the
/// parameters every expression of the description reads must be set).
Formulation build_model(const Description& description, const Params& params);

}  // namespace lorasplit
