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
#include <string_view>
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

// Parts: a sweep cut into shards that run apart (array jobs on a cluster) and are merged
// back. A part is the shard's output (the CSV header included, or JSON lines) between
// '#' lines that say what produced it and a closing line with its row count, so that
// merge_sweep_parts can refuse a part that is missing, repeated, truncated or foreign.
//
//   # lorasplit sweep part
//   # sweep id: 3f0c9a51d2e4b786        (digest of the identity lines below)
//   # version: 0.1.0                    (identity: the same in every part of one sweep)
//   # model: seed
//   # format: csv
//   # vary: lora.r=4,8,16
//   # param gpu.flops = 312000000000000
//   # ...
//   # shard: 2/3
//   # points: begin=1 end=2 total=3     (0-based indices of the whole sweep, end excluded)
//   lora.r,b1,b2,...                    (csv: the header, in every part)
//   8,...
//   # end: 1 rows

/// What produced a part. `identity` lines ("key: value" or "param KEY = VALUE") must
/// include "format: csv" or "format: jsonl"; every part of one sweep has the same ones.
struct SweepPartHead {
  std::vector<std::string> identity;
  Shard shard;
  std::size_t total_points{0};  ///< points of the whole sweep
};
/// 16 hex digits of the 64-bit FNV-1a digest of `bytes`: tells files and sweeps apart (it
/// guards against mistakes, not against forgery).
std::string content_digest(std::string_view bytes);
/// The '#' lines a part opens with, each ending in '\n'.
std::string render_part_head(const SweepPartHead& head);
/// The line a complete part closes with (ending in '\n').
std::string render_part_tail(std::size_t rows);
/// Checks that `paths` are the parts of one sweep (any order): each opens with the part
/// head and closes with its '# end' line and as many rows as its shard has points; all
/// have the same identity, the same number of shards and CSV header; every shard 1..n is
/// there exactly once. Then `write` receives the merged sweep, exactly what the unsharded
/// sweep prints: the CSV header once and every row in order. Every part is checked before
/// the first write (ErrorCode::kBadPart, or kFileUnreadable, naming the file); a part that
/// changes during the merge is refused when it is read again, after earlier rows went to
/// `write`. `write` returning false stops with ErrorCode::kWriteFailed.
Status merge_sweep_parts(const std::vector<std::string>& paths,
                         const std::function<bool(std::string_view)>& write);

}  // namespace lorasplit
