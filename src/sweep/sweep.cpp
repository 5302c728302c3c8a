#include <lorasplit/sweep.hpp>

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <exception>
#include <limits>
#include <mutex>
#include <new>
#include <optional>
#include <cmath>
#include <iterator>
#include <nlohmann/json.hpp>
#include <thread>

#include "checked.hpp"
#include "threads.hpp"
#include "params/checks.hpp"
#include "analysis/extras.hpp"
#include "sweep/rounding.hpp"

namespace lorasplit {
namespace {

constexpr int kSignificantDigits = 12;
constexpr std::size_t kMaxPoints = std::size_t{1} << 40;

Error axis_error(std::string_view spec, const std::string& why) {
  return Error{ErrorCode::kBadOption, "vary", std::string(spec), fmt::format("vary '{}': {}", spec, why)};
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    const auto pos = s.find(sep, start);
    out.push_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

}  // namespace

Result<SweepAxis> parse_sweep_axis(std::string_view spec) {
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos) return axis_error(spec, "expected KEY=SPEC");
  SweepAxis axis;
  axis.key = std::string(spec.substr(0, eq));
  const ParamSpec* ps = find_param(axis.key);
  if (ps == nullptr) {
    return Error{ErrorCode::kUnknownKey, axis.key, std::string(spec),
                 fmt::format("vary '{}': unknown parameter '{}'", spec, axis.key)};
  }
  const std::string_view body = spec.substr(eq + 1);
  const auto value = [&](std::string_view text) -> Result<Rational> {
    auto v = parse_quantity(text, ps->dimension, ps->key);
    if (!v) return v;
    if (auto st = check_value(*ps, v.value(), text); !st) return st.error();
    return v;
  };
  if (body.rfind("lin:", 0) == 0 || body.rfind("log:", 0) == 0) {
    if (ps->dimension == Dimension::kChoice) {
      return axis_error(spec, fmt::format("a choice ({}) takes a list of its words, not a range", ps->choices));
    }
    axis.kind = body[1] == 'i' ? AxisKind::kLinear : AxisKind::kLog;
    const auto parts = split(body.substr(4), ':');
    if (parts.size() != 3) return axis_error(spec, "a range is lin:A:B:N or log:A:B:N");
    auto a = value(parts[0]);
    if (!a) return a.error();
    auto b = value(parts[1]);
    if (!b) return b.error();
    auto n = parse_quantity(parts[2], Dimension::kCount, "N");
    if (!n || n->get_den() != 1 || *n < 1 || *n > Rational(Integer(kMaxPoints))) {
      return axis_error(spec, "N must be a whole number of points from 1 to 2^40");
    }
    const std::size_t count = n->get_num().get_ui();
    if (axis.kind == AxisKind::kLog && (a.value() <= 0 || b.value() <= 0)) {
      return axis_error(spec, "a log range needs positive ends");
    }
    axis.first = a.value();
    axis.last = b.value();
    axis.count = count;
    axis.integer = ps->integer;
  } else {
    for (const auto item : split(body, ',')) {
      auto v = value(item);
      if (!v) return v.error();
      axis.values.push_back(v.value());
    }
  }
  if (axis.size() == 0) return axis_error(spec, "no values");
  return axis;
}

namespace detail {

// An axis's values, with what every point shares (the logarithms of a log range's
// ends) computed once.
class AxisValues {
 public:
  explicit AxisValues(const SweepAxis& axis) : axis_(axis) {
    if (axis.kind == AxisKind::kLog) {
      log_first_ = std::log(to_double(axis.first));
      log_last_ = std::log(to_double(axis.last));
    }
  }

  /// out = the i-th value, exact (`out` keeps its storage).
  void value(std::size_t i, Rational& out) const {
    const SweepAxis& a = axis_;
    if (a.kind == AxisKind::kList) {
      out = a.values[i];
      return;
    }
    if (a.count == 1 || i == 0) {
      out = a.first;
      return;
    }
    if (i + 1 == a.count) {
      out = a.last;
      return;
    }
    // Interior points are rounded (the ends are the user's exact values).
    if (a.kind == AxisKind::kLinear) {
      const Rational v = a.first + (a.last - a.first) * Rational(static_cast<long>(i), static_cast<long>(a.count - 1));
      out = a.integer ? round_integer(v) : round_significant(v, kSignificantDigits);
      return;
    }
    const double t = static_cast<double>(i) / static_cast<double>(a.count - 1);
    const double v = std::exp(log_first_ + (log_last_ - log_first_) * t);
    if (a.integer) {
      round_integer_to(v, out);
    } else {
      round_significant_to(v, kSignificantDigits, out);
    }
  }

 private:
  const SweepAxis& axis_;
  double log_first_{0}, log_last_{0};
};

}  // namespace detail

Rational SweepAxis::value(std::size_t i) const {
  Rational out;
  detail::AxisValues(*this).value(i, out);
  return out;
}

Result<Shard> parse_shard(std::string_view text) {
  const auto slash = text.find('/');
  const auto bad = [&] {
    return Error{ErrorCode::kBadOption, "shard", std::string(text),
                 fmt::format("shard '{}': expected i/n with 1 <= i <= n <= 2^31", text)};
  };
  if (slash == std::string_view::npos) return bad();
  auto i = parse_quantity(text.substr(0, slash), Dimension::kCount, "shard");
  auto n = parse_quantity(text.substr(slash + 1), Dimension::kCount, "shard");
  if (!i || !n || i->get_den() != 1 || n->get_den() != 1 || *i < 1 || *n < 1 || *i > *n ||
      *n > Rational(Integer(std::size_t{1} << 31))) {
    return bad();
  }
  return Shard{i->get_num().get_ui(), n->get_num().get_ui()};
}

Status validate_axes(const std::vector<SweepAxis>& axes) {
  if (axes.empty() || axes.size() > 2) {
    return Error{ErrorCode::kBadOption, "vary", std::to_string(axes.size()),
                 fmt::format("vary: a sweep varies one or two parameters ({} given)", axes.size())};
  }
  for (std::size_t i = 0; i < axes.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (axes[i].key == axes[j].key) {
        return Error{ErrorCode::kBadOption, "vary", axes[i].key,
                     fmt::format("vary: {} is varied twice; give all its values in one axis", axes[i].key)};
      }
    }
  }
  if (!sweep_size(axes)) {
    return Error{ErrorCode::kOutOfRange, "vary", axes.back().key,
                 fmt::format("vary: the sweep has more than {} points (the product of the axes' sizes)",
                             std::numeric_limits<std::size_t>::max())};
  }
  return {};
}

std::optional<std::size_t> sweep_size(const std::vector<SweepAxis>& axes) {
  std::size_t n = 1;
  for (const auto& a : axes) {
    const auto m = detail::checked_mul(n, a.size());
    if (!m) return std::nullopt;
    n = *m;
  }
  return n;
}

std::pair<std::size_t, std::size_t> shard_range(std::size_t points, const Shard& shard) {
  // floor(points * k / count) without overflow (count <= 2^31, so r * k < 2^62).
  const auto at = [&](std::size_t k) {
    return points / shard.count * k + points % shard.count * k / shard.count;
  };
  return {at(shard.index - 1), at(shard.index)};
}

namespace {

// What every point of a sweep shares: the axes, the parameter each varies and their value
// generators (set up once per sweep, not once per point).
struct Grid {
  Grid(const Params& base, const std::vector<SweepAxis>& a) : axes(a) {
    for (const auto& axis : axes) {
      ids.push_back(find_param(axis.key)->id);
      values.emplace_back(axis);
    }
    for (const auto& s : param_specs()) {
      if (std::find(ids.begin(), ids.end(), s.id) == ids.end() && !detail::value_ok(base, s.id)) others_ok = false;
    }
    relations_vary = std::any_of(ids.begin(), ids.end(), detail::relations_read);
    if (!relations_vary) relations_ok = detail::relations_ok(base);
  }
  // validate(p) passes for a point's parameters (the base with the axes' values):
  // only the varied values and the relations between parameters need checking.
  [[nodiscard]] bool valid(const Params& p) const {
    if (!others_ok) return false;
    for (const ParamId id : ids) {
      if (!detail::value_ok(p, id)) return false;
    }
    return relations_vary ? detail::relations_ok(p) : relations_ok;
  }
  const std::vector<SweepAxis>& axes;
  std::vector<ParamId> ids;
  std::vector<detail::AxisValues> values;
  bool others_ok{true};        ///< every parameter the axes do not vary is within its range
  bool relations_vary{true};   ///< an axis varies a parameter the relations read
  bool relations_ok{true};     ///< the relations' outcome when no axis varies them
};

// One point into `row` (reusing its buffers), with `p` the worker's parameters: the base
// with the axes' keys overwritten at every point, so no copy of the base per point.
void fill_point(Params& p, const Grid& grid, std::size_t index, const SolveOptions& options, SweepRow& row) {
  const auto& axes = grid.axes;
  const auto& ids = grid.ids;
  row.index = index;
  row.valid = true;
  row.error.clear();
  row.status = SolveStatus::kInfeasible;
  row.plan.b.clear();
  // row.gain_percent is set or reset below, on every path (its storage kept when set).
  row.binding.clear();
  row.text.clear();
  std::size_t rest = index;
  row.values.resize(axes.size());
  for (std::size_t k = axes.size(); k-- > 0;) {
    const std::size_t size = axes[k].size();
    grid.values[k].value(rest % size, row.values[k]);
    rest /= size;
  }
  for (std::size_t k = 0; k < axes.size(); ++k) p.set(ids[k], row.values[k]);
  SolveOptions quick = options;
  quick.relaxation_bound = false;  // a sweep row does not show the bound
  quick.explain = false;           // nor the solver's path: the seed model takes the fast path
  // The fast path: the solve, the GPU-only baseline and the binding rows from one integer
  // form in 128-bit integers (docs/model.md §3.10); the same row as analyze() gives.
  if (!grid.valid(p)) {
    if (auto st = validate(p); !st) {  // the message (the same checks, in validate's order)
      row.gain_percent.reset();
      row.valid = false;
      row.error = st.error().message;
      return;
    }
  }
  if (quick.domain == Domain::kInteger && quick.fast_path) {
    // The lean solver of this thread, and the extras from its integer forms.
    thread_local LeanSolver solver;
    thread_local SolveResult res;
    thread_local detail::LeanExtras extras;
    if (Status st = solver.solve(p, quick, res); !st) {
      row.gain_percent.reset();
      row.valid = false;
      row.error = st.error().message;
      return;
    }
    {
      detail::lean_extras(solver, res, extras);
      row.status = res.status;
      if (res.status != SolveStatus::kOptimal) {
        row.gain_percent.reset();
        return;
      }
      row.plan = res.plan;
      // Swapped, not copied: `res` is this thread's scratch, set afresh by every solve.
      row.point.resize(res.point.size());
      for (std::size_t j = 0; j < res.point.size(); ++j) row.point[j].swap(res.point[j]);
      row.throughput_tokens_per_s.swap(res.throughput_tokens_per_s);
      row.gain_percent.swap(extras.gain_percent);  // both keep their storage
      row.binding.swap(extras.binding);
      return;
    }
  }
  quick.explain = true;
  auto a = analyze(p, quick, AnalyzeOptions{false, false});
  if (!a) {
    row.gain_percent.reset();
    row.valid = false;
    row.error = a.error().message;
    return;
  }
  row.status = a->result.status;
  row.plan = a->result.plan;
  row.point = a->result.point;
  row.throughput_tokens_per_s = a->result.throughput_tokens_per_s;
  row.gain_percent = a->gain_percent;
  row.binding = a->binding;
}

}  // namespace

SweepRow solve_point(const Params& base, const std::vector<SweepAxis>& axes, std::size_t index,
                     const SolveOptions& options) {
  SweepRow row;
  Params p = base;
  fill_point(p, Grid(base, axes), index, options, row);
  return row;
}

Status run_sweep(const Params& base, const std::vector<SweepAxis>& axes, const SweepOptions& options,
                 const std::function<void(const SweepRow&)>& emit,
                 const std::function<void(std::size_t, std::size_t)>& progress) {
  for (const auto& a : axes) {
    if (find_param(a.key) == nullptr) {
      return Error{ErrorCode::kUnknownKey, a.key, "", fmt::format("vary: unknown parameter '{}'", a.key)};
    }
  }
  if (Status st = validate_axes(axes); !st) return st;
  const Grid grid(base, axes);
  const auto points = sweep_size(axes);
  const auto range = shard_range(*points, options.shard);
  const std::size_t begin = range.first, end = range.second;  // plain variables: the lambdas below use them
  const unsigned threads = detail::threads_for(options.threads);
  const std::size_t block = std::max<std::size_t>(1, options.block_points);
  // Two buffers of rows, reused from block to block: the workers fill block n + 1 into one
  // while the main thread emits block n from the other.
  std::array<std::vector<SweepRow>, 2> rows;
  for (auto& buffer : rows) buffer.resize(std::min(block, end - begin));
  // One pool of threads for the whole sweep. Thread t always fills the same row slots
  // (chunks t, t + threads, ...) and keeps its own copy of the parameters, so every
  // allocation is freed by the thread that made it: with slots shared between threads,
  // the two cores contended in malloc and scaled by 1.4x instead of nearly 2x.
  constexpr std::size_t kChunk = 16;
  const unsigned pool_size =
      static_cast<unsigned>(std::min<std::size_t>(threads, (rows[0].size() + kChunk - 1) / kChunk));
  // A failure in any thread (out of memory while solving or formatting, an exception from
  // emit or progress) or a cancellation sets `stop`. The barrier's completion step, which
  // runs once per phase before any thread is released, copies it into `phase_stop`, and
  // every thread reads only that after the barrier: all threads see the same decision for
  // a phase, pass the same barriers, and are joined on every path.
  std::atomic<bool> stop{false};
  bool phase_stop = false;
  const auto on_phase = [&stop, &phase_stop]() noexcept { phase_stop = stop.load(); };
  std::barrier sync(static_cast<std::ptrdiff_t>(std::max(1U, pool_size)), on_phase);
  std::mutex failure_mutex;
  std::exception_ptr failure;
  bool out_of_memory = false;
  const auto record = [&](std::exception_ptr e, bool oom) {
    const std::lock_guard lock(failure_mutex);
    if (!failure && !out_of_memory) {
      failure = oom ? nullptr : std::move(e);
      out_of_memory = oom;
    }
    stop.store(true);
  };
  const auto fill_block = [&](unsigned t, Params& p, std::size_t start, std::vector<SweepRow>& buffer) {
    const std::size_t stop_at = std::min(end, start + block);
    try {
      for (std::size_t first = start + t * kChunk; first < stop_at;
           first += static_cast<std::size_t>(pool_size) * kChunk) {
        for (std::size_t i = first; i < std::min(stop_at, first + kChunk); ++i) {
          SweepRow& row = buffer[i - start];
          fill_point(p, grid, i, options.solve, row);
          if (options.format) row.text = options.format(row);  // formatted in parallel too
        }
      }
    } catch (const std::bad_alloc&) {
      record(nullptr, true);
    } catch (...) {
      record(std::current_exception(), false);
    }
  };
  // One barrier per block: after it, block n is complete; the main thread emits it before
  // it fills its share of block n + 1 and reaches the next barrier, so no thread writes
  // into block n's buffer (again, with block n + 2) before it has been emitted.
  const auto worker = [&](unsigned t) {
    try {
      Params p = base;  // allocated by this thread
      std::size_t n = 0;
      for (std::size_t start = begin; start < end; start += block, ++n) {
        if (!stop.load()) fill_block(t, p, start, rows[n % 2]);
        sync.arrive_and_wait();
        if (phase_stop) break;
      }
    } catch (...) {  // copying the parameters ran out of memory: leave the barrier's count right
      record(nullptr, true);
      sync.arrive_and_drop();
    }
  };
  std::vector<std::thread> pool;
  try {
    for (unsigned t = 1; t < pool_size; ++t) pool.emplace_back(worker, t);
  } catch (...) {
    // A thread that could not start: the others are told to stop at their first barrier,
    // which the missing ones will never reach, so they are released by dropping it.
    stop.store(true);
    for (unsigned t = static_cast<unsigned>(pool.size()) + 1; t < pool_size; ++t) sync.arrive_and_drop();
    sync.arrive_and_drop();
    for (auto& th : pool) th.join();
    return Error{ErrorCode::kOutOfMemory, "threads", std::to_string(pool_size),
                 "sweep: could not start its worker threads (out of memory or resources)"};
  }
  std::optional<Params> p0;
  try {
    p0.emplace(base);
  } catch (...) {
    record(nullptr, true);
  }
  std::size_t n = 0;
  for (std::size_t start = begin; start < end; start += block, ++n) {
    const std::size_t stop_at = std::min(end, start + block);
    if (!stop.load() && p0) fill_block(0, *p0, start, rows[n % 2]);
    sync.arrive_and_wait();
    if (phase_stop) break;
    try {
      for (std::size_t i = 0; i < stop_at - start; ++i) emit(rows[n % 2][i]);
      if (progress) progress(stop_at - begin, end - begin);
    } catch (const std::bad_alloc&) {
      record(nullptr, true);
    } catch (...) {
      record(std::current_exception(), false);
    }
    // Asked only while blocks remain: a finished sweep is never reported as interrupted.
    if (!stop.load() && start + block < end && options.cancelled && options.cancelled()) stop.store(true);
    if (stop.load()) {
      // The workers are filling the next block: meet them at its barrier (whose
      // completion step reads `stop`), then all leave.
      if (start + block < end) sync.arrive_and_wait();
      break;
    }
  }
  for (auto& th : pool) th.join();
  if (failure) std::rethrow_exception(failure);
  if (out_of_memory) {
    return Error{ErrorCode::kOutOfMemory, "vary", "",
                 "sweep: out of memory (fewer threads, a smaller block or a smaller shard use less)"};
  }
  if (stop.load()) return Error{ErrorCode::kInterrupted, "vary", "", "sweep: interrupted"};
  return {};
}

std::string sweep_csv_header(const std::vector<SweepAxis>& axes) {
  std::string out;
  for (const auto& a : axes) out += a.key + ",";
  out += "b1,b2,b3,throughput_tokens_per_s,gain_percent,binding,status";
  return out;
}

std::string sweep_csv_row(const SweepRow& row, const std::vector<SweepAxis>& axes) {
  // The parameter values exactly; floating-point columns as the shortest decimal that
  // reads back as the same double.
  fmt::memory_buffer out;
  const auto put = [&out](std::string_view text) { out.append(text.data(), text.data() + text.size()); };
  for (std::size_t k = 0; k < axes.size(); ++k) {
    put(format_number(row.values[k]));
    put(",");
  }
  if (!row.valid || row.status != SolveStatus::kOptimal) {
    put(!row.valid ? ",,,,,,invalid" : ",,,,,,infeasible");
    return fmt::to_string(out);
  }
  const bool continuous = row.point[0].get_den() != 1 || row.point[1].get_den() != 1 || row.point[2].get_den() != 1;
  const auto put_double = [&out](double x) { fmt::format_to(std::back_inserter(out), FMT_COMPILE("{}"), x); };
  for (std::size_t j = 0; j < 3; ++j) {
    if (continuous) {
      put_double(to_double(row.point[j]));
    } else {
      put(fmt::format_int(row.plan.b[j]).c_str());
    }
    put(",");
  }
  put_double(to_double(row.throughput_tokens_per_s));
  put(",");
  if (row.gain_percent) put_double(to_double(*row.gain_percent));
  put(",");
  for (std::size_t i = 0; i < row.binding.size(); ++i) {
    if (i > 0) put(";");
    put(row.binding[i]);
  }
  put(",optimal");
  return fmt::to_string(out);
}

std::string sweep_jsonl_row(const SweepRow& row, const std::vector<SweepAxis>& axes) {
  nlohmann::ordered_json j;
  for (std::size_t k = 0; k < axes.size(); ++k) {
    j[axes[k].key] = to_double(row.values[k]);
    j[axes[k].key + "_exact"] = format_fraction(row.values[k]);
  }
  if (!row.valid) {
    j["status"] = "invalid";
    j["error"] = row.error;
    return j.dump();
  }
  j["status"] = std::string(to_string(row.status));
  if (row.status == SolveStatus::kOptimal) {
    j["b1"] = to_double(row.point[0]);
    j["b2"] = to_double(row.point[1]);
    j["b3"] = to_double(row.point[2]);
    j["throughput_tokens_per_s"] = to_double(row.throughput_tokens_per_s);
    j["throughput_tokens_per_s_exact"] = format_fraction(row.throughput_tokens_per_s);
    j["gain_percent"] = row.gain_percent ? nlohmann::ordered_json(to_double(*row.gain_percent))
                                         : nlohmann::ordered_json(nullptr);
    j["binding"] = row.binding;
  }
  return j.dump();
}

}  // namespace lorasplit
