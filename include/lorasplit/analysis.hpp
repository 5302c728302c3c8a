#pragma once
// The top-level call: parameters in, an explained optimal plan out. What `lorasplit
// solve` prints is rendered from an Analysis (report.hpp).

#include <lorasplit/model.hpp>
#include <lorasplit/params.hpp>
#include <lorasplit/solve.hpp>

#include <optional>
#include <string>
#include <vector>

namespace lorasplit {

/// One constraint evaluated at the plan.
struct RowReport {
  std::string name;
  RowKind kind;
  std::string formula;
  std::string description;
  std::string unit;
  Rational lhs;       ///< T_CXL [s] for sync rows, bytes used [B] for memory rows
  Rational rhs;       ///< T_GPU [s] or memory limit [B]
  Rational slack;     ///< rhs - lhs (>= 0 for a feasible plan)
  /// True when one more block (lora.block_tokens tokens) on some path whose use of this
  /// row grows would break it; in the continuous domain, when the slack is exactly 0.
  bool binding{false};
};

/// The best split under a restriction, to show what each path is worth.
struct Baseline {
  std::string name;         ///< "gpu_only", "cxl_only", "no_b2", "no_b3"
  std::string description;
  SolveStatus status{SolveStatus::kInfeasible};
  Plan plan;
  Rational throughput_tokens_per_s;
  std::optional<Rational> gain_percent;  ///< against GPU-only
};

/// Exact throughput after a -1 % and a +1 % change of one parameter (re-solved).
struct Sensitivity {
  std::string key;
  Rational minus_value, plus_value;  ///< the changed values (whole numbers rounded away from the base)
  /// Throughput at each; nullopt when that value is out of range or the instance infeasible.
  std::optional<Rational> minus_tokens_per_s, plus_tokens_per_s;
  std::string minus_note, plus_note;  ///< why a value is missing
};

struct AnalyzeOptions {
  bool baselines{true};
  bool sensitivity{true};  ///< 2 solves per parameter
};

struct Analysis {
  Params params;
  SolveOptions options;
  Formulation formulation;  ///< the model that model.name selects (one case for the seed model)
  Model model;              ///< the case that holds the optimum (the seed model itself for seed)
  SolveResult result;
  // Everything below is filled when result.status == kOptimal.
  struct StageTime {
    std::string name;  ///< "s1", "s2"
    Rational gpu_s, device_s;  ///< T_GPU and T_CXL of the stage at the plan
  };
  std::vector<StageTime> stage_times;  ///< one per stage of the model, in order
  Rational batch_time_s;
  std::vector<RowReport> rows;
  /// GPU-only baseline: b2 = b3 = 0, no CXL rows (the device is idle), memory and limit rows kept.
  std::optional<Rational> gpu_only_tokens_per_s;
  std::optional<std::int64_t> gpu_only_b1;  ///< largest GPU-only batch (multiple of the block) that fits
  /// Continuous domain only: the integer optimum, for the gap (nullopt if no integer split exists).
  std::optional<Rational> integer_tokens_per_s;
  std::optional<Rational> gain_percent;     ///< 100*(throughput/gpu_only - 1)
  std::vector<std::string> binding;         ///< names of binding rows
  std::string explanation;                  ///< why the split looks the way it does
  std::string infeasibility_reason;         ///< set when kInfeasible
  std::vector<Baseline> baselines;          ///< gpu_only, cxl_only, no_b2, no_b3 (AnalyzeOptions)
  std::vector<Sensitivity> sensitivity;     ///< one per set parameter (AnalyzeOptions)
};

/// Validates `params`, builds the seed model, solves it exactly and explains the result.
Result<Analysis> analyze(const Params& params, const SolveOptions& options = {}, const AnalyzeOptions& what = {});

/// GPU-only throughput of these parameters (b2 = b3 = 0, device idle), nullopt if not
/// even one block fits the memory and limit rows.
std::optional<Rational> gpu_only_tokens_per_s(const Model& model, Domain domain);

}  // namespace lorasplit

namespace lorasplit {

/// One row of the switch attribution: the pipeline model with every switch off (the seed's
/// physics) except the named ones, at their values in the compared parameters.
struct SwitchEffect {
  std::string name;        ///< e.g. "pipeline.chunk_tokens = 64, link.duplex = full"
  SolveStatus status{SolveStatus::kInfeasible};
  Plan plan;
  Rational throughput_tokens_per_s;
};

/// The same parameters under the seed and the pipeline model (`lorasplit compare`).
struct Comparison {
  Analysis seed;      ///< model.name = seed, the pipeline switches ignored
  Analysis pipeline;  ///< model.name = pipeline with the given switches
  /// Each switch of the pipeline alone (docs/model.md §7.3), from the all-off baseline first.
  std::vector<SwitchEffect> switches;
};

/// Solves `params` under both models; `params.model.name` is ignored.
Result<Comparison> compare_models(const Params& params, const SolveOptions& options = {});

}  // namespace lorasplit
