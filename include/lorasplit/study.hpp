#pragma once
// Studies built from exact solves: where the split starts to pay (break-even) and what it
// buys at each batch latency (the throughput-latency frontier).

#include <lorasplit/analysis.hpp>
#include <lorasplit/params.hpp>
#include <lorasplit/serving.hpp>
#include <lorasplit/solve.hpp>
#include <lorasplit/status.hpp>

#include <optional>
#include <string>
#include <vector>

namespace lorasplit {

/// Gain of the optimal split over GPU-only at `params`, in percent (nullopt: invalid
/// parameters, no feasible split, or no GPU-only batch).
std::optional<Rational> gain_percent_at(const Params& params, const SolveOptions& options);

struct Breakeven {
  enum class Kind {
    kThreshold,  ///< one crossing: `value`
    kWindow,     ///< the split pays only between `value` and `upper_value`
    kAlways,     ///< the split pays over the whole valid range
    kNever,      ///< the split never pays over the valid range
  };
  std::string key;
  std::string baseline{"gpu_only"};  ///< what the gain is over: gpu_only; serving: gpu_fetch or gpu_hbm
  Rational target_gain_percent;  ///< the split must beat the baseline by more than this
  Kind kind{Kind::kNever};
  bool larger_is_better{true};   ///< the gain grows with the parameter (at the threshold)
  Rational value;                ///< smallest passing value (larger_is_better) or largest (otherwise)
  std::optional<Rational> upper_value;  ///< kWindow: the largest passing value
  Rational passing, failing;     ///< the bracket around `value`: both solved, one passes, one fails
  std::optional<Rational> gain_at_passing, gain_at_failing;
  std::string precision;         ///< "exact (whole numbers)" or "relative 1e-9"
  Rational range_lo, range_hi;   ///< the valid range searched
  Rational limit_value;          ///< the favourable end of the range
  std::optional<Rational> limit_gain_percent;  ///< the gain there ("an infinitely fast link")
  int solves{0};
};

/// Finds where the split's gain over GPU-only crosses `target_gain_percent` as parameter
/// `key` moves over its valid range (other parameters fixed), by bisection over exact
/// solves. The gain is not exactly monotone at the scale of single tokens, so the answer
/// is a crossing bracketed by two solved values, both reported.
Result<Breakeven> breakeven(const Params& base, std::string_view key, const Rational& target_gain_percent,
                            const SolveOptions& options = {});

/// The serving model's break-even (docs/model.md §9.11): where the gain of the exact plan
/// for `workload` over `baseline` ("gpu_fetch" or "gpu_hbm", with the workload's
/// residency) crosses `target_gain_percent` as hardware parameter `key` (one the serving
/// model reads) moves over its valid range. A value at which the plan or the baseline is
/// infeasible does not pass. As breakeven(): a crossing bracketed by two solved values.
Result<Breakeven> serving_breakeven(const Params& base, const ServingWorkload& workload, std::string_view key,
                                    const Rational& target_gain_percent, std::string_view baseline = "gpu_fetch",
                                    const ServingSolveOptions& options = {});

struct FrontierPoint {
  Rational max_latency_s;          ///< the bound T_GPU_S1 + T_GPU_S2 <= T
  SolveStatus status{SolveStatus::kInfeasible};
  Plan plan;
  Rational batch_time_s;           ///< achieved batch latency of the split
  Rational throughput_tokens_per_s;
  std::optional<Rational> gpu_only_tokens_per_s;
  std::optional<Rational> gain_percent;
};

/// The throughput-latency frontier: `points` latency bounds, log-spaced from the smallest
/// batch time any split reaches to the unbounded optimum's, each solved exactly.
Result<std::vector<FrontierPoint>> latency_frontier(const Params& base, const SolveOptions& options,
                                                    std::size_t points);

}  // namespace lorasplit
