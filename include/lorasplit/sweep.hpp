#pragma once
// Parameter sweeps: one or two parameters varied over lists or ranges, every point solved
// exactly, in parallel, written in a deterministic order, with constant memory.

#include <lorasplit/analysis.hpp>
#include <lorasplit/params.hpp>
#include <lorasplit/solve.hpp>
#include <lorasplit/status.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace lorasplit {

enum class AxisKind { kList, kLinear, kLog };

/// One varied parameter and its values (exact; generated values are rounded to 12
/// significant digits, whole-number parameters to integers, so that the printed value is
/// exactly the value solved).
/// A range axis generates its values on demand, so a sweep's memory does not grow with
/// the number of points.
struct SweepAxis {
  std::string key;
  AxisKind kind{AxisKind::kList};
  std::vector<Rational> values;  ///< the list (kList only)
  Rational first, last;          ///< the ends of a range (kLinear, kLog)
  std::size_t count{0};          ///< points of a range
  bool integer{false};           ///< round interior points to whole numbers (else 12 significant digits)
  [[nodiscard]] std::size_t size() const { return kind == AxisKind::kList ? values.size() : count; }
  /// The i-th value (0 <= i < size()), exact.
  [[nodiscard]] Rational value(std::size_t i) const;
};

/// Parses "KEY=lin:A:B:N", "KEY=log:A:B:N" or "KEY=a,b,c" (values may carry units).
Result<SweepAxis> parse_sweep_axis(std::string_view spec);

/// The i-th of n slices (1-based, as "i/n"); the slices of a sweep concatenate to it.
struct Shard {
  std::size_t index{1};
  std::size_t count{1};
};
Result<Shard> parse_shard(std::string_view text);

/// A sweep's axes as run_sweep requires them: one or two, no key twice, a number of
/// points that fits a size_t. Errors name the argument `vary`.
Status validate_axes(const std::vector<SweepAxis>& axes);

/// Number of points (the product of the axes' sizes; the first axis varies slowest), or
/// nullopt when the product does not fit a size_t.
std::optional<std::size_t> sweep_size(const std::vector<SweepAxis>& axes);
/// [begin, end) of the point indices in `shard`.
std::pair<std::size_t, std::size_t> shard_range(std::size_t points, const Shard& shard);

struct SweepRow {
  std::size_t index{0};
  std::vector<Rational> values;  ///< one per axis
  bool valid{true};              ///< false: this combination of parameters is rejected
  std::string error;             ///< the one-line message when !valid
  SolveStatus status{SolveStatus::kInfeasible};
  Plan plan;
  Point point{0, 0, 0};
  Rational throughput_tokens_per_s;
  std::optional<Rational> gain_percent;
  std::vector<std::string> binding;
  std::string text;              ///< the row formatted by SweepOptions::format (when set)
};

/// Solves one point (what every sweep row is; also the reference for tests).
SweepRow solve_point(const Params& base, const std::vector<SweepAxis>& axes, std::size_t index,
                     const SolveOptions& options);

struct SweepOptions {
  SolveOptions solve;
  Shard shard;
  unsigned threads{0};              ///< 0: all cores
  std::size_t block_points{1024};  ///< points solved per parallel block (memory is O(block))
  /// When set, each row's `text` is format(row), computed by the worker threads (a CSV or
  /// JSON line), so that formatting runs in parallel with the solves.
  std::function<std::string(const SweepRow&)> format;
  /// Asked between blocks (by the calling thread): true stops the sweep with
  /// ErrorCode::kInterrupted after the rows already emitted (Python: a pending signal).
  std::function<bool()> cancelled;
};

/// Runs the shard's points; `emit` receives rows in index order; `progress(done, total)`
/// is called after each block. Stops with the first error that concerns the sweep itself.
/// Out of memory in any thread becomes ErrorCode::kOutOfMemory; an exception thrown by
/// `emit` or `progress` stops the sweep and is rethrown; every thread is joined on every
/// path.
Status run_sweep(const Params& base, const std::vector<SweepAxis>& axes, const SweepOptions& options,
                 const std::function<void(const SweepRow&)>& emit,
                 const std::function<void(std::size_t, std::size_t)>& progress = {});

/// CSV: a column per axis (named as the key), then b1, b2, b3, throughput_tokens_per_s,
/// gain_percent, binding (names joined by ';'), status.
std::string sweep_csv_header(const std::vector<SweepAxis>& axes);
std::string sweep_csv_row(const SweepRow& row, const std::vector<SweepAxis>& axes);
/// One JSON object per line, with exact values beside the numbers.
std::string sweep_jsonl_row(const SweepRow& row, const std::vector<SweepAxis>& axes);

}  // namespace lorasplit
