// Sweeps of the serving model (docs/model.md §9.10): every point of a grid over hardware
// parameters and workload keys solved exactly, one row each.
#include <fmt/format.h>
#include <lorasplit/serving.hpp>
#include <lorasplit/sweep.hpp>

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <set>

#include "params/checks.hpp"
#include "serving/graph.hpp"
#include "threads.hpp"

namespace lorasplit {
namespace {

using detail::split_items;

// The position of grid point `index` on each axis: the last axis varies fastest.
std::vector<std::size_t> grid_position(std::size_t index, const std::vector<ServingAxis>& axes) {
  std::vector<std::size_t> at(axes.size());
  for (std::size_t i = axes.size(); i-- > 0;) {
    at[i] = index % axes[i].values.size();
    index /= axes[i].values.size();
  }
  return at;
}

// Every workload of the shard [begin, end) is read once before any point is solved: a value
// that does not make a workload (a module name, a list) stops the sweep before its first
// row, not after minutes of rows.
Status check_workloads(const std::string& config, const WorkloadOverrides& sets, const std::vector<ServingAxis>& axes,
                       std::size_t begin, std::size_t end, std::size_t total) {
  std::set<std::vector<std::string>> seen;
  for (std::size_t index = begin; index < end; ++index) {
    const auto at = grid_position(index, axes);
    std::vector<std::string> combo;
    WorkloadOverrides over = sets;
    for (std::size_t i = 0; i < axes.size(); ++i) {
      if (!axes[i].workload) continue;
      combo.push_back(axes[i].values[at[i]]);
      over.emplace_back(axes[i].key, axes[i].values[at[i]]);
    }
    if (combo.empty()) break;  // no workload axis: one workload, read by the first point
    if (!seen.insert(combo).second) continue;
    if (auto w = load_serving_workload(config, over); !w) {
      const Error& e = w.error();
      return Error{e.code, e.key, e.value, fmt::format("point {} of {}: {}", index + 1, total, e.message)};
    }
  }
  return {};
}

}  // namespace

Result<ServingAxis> parse_serving_axis(std::string_view spec) {
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos) {
    return Error{ErrorCode::kBadOption, "--vary", std::string(spec),
                 fmt::format("vary '{}': expected KEY=SPEC", spec)};
  }
  ServingAxis axis;
  axis.key = std::string(spec.substr(0, eq));
  const std::string_view body = spec.substr(eq + 1);
  if (axis.key.starts_with("hardware.")) {  // parts of the hardware library: gpu, cxl, link
    axis.part_kind = axis.key.substr(9);
    axis.values = split_items(body, ',');
    for (const auto& v : axis.values) {  // resolve_hardware also refuses a kind other than gpu, cxl, link
      if (auto part = resolve_hardware(axis.part_kind, v); !part) {
        const Error& e = part.error();
        return Error{e.code, axis.key, v, fmt::format("vary '{}': {}", spec, e.message)};
      }
    }
    return axis;
  }
  if (!is_workload_key(axis.key)) {  // a parameter: the sweeps' own parser, exact values
    auto a = parse_sweep_axis(spec);
    if (!a) return a.error();
    const ParamSpec& ps = *find_param(axis.key);
    if (const auto why = serving_unread_reason(ps); !why.empty() && !ps.pipeline_only) {
      return Error{ErrorCode::kInconsistent, axis.key, std::string(body),
                   fmt::format("vary '{}': not read by the serving model ({}): every point would be the same", spec,
                               why)};
    }
    axis.param = ps.id;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const Rational v = a->value(i);
      axis.values.push_back(format_exact(v));
      axis.exact.push_back(v);
    }
    return axis;
  }
  axis.workload = true;
  if (body.starts_with("lin:") || body.starts_with("log:")) {
    // A range of whole numbers (serving.adapters, batch_tokens, context_tokens).
    SweepAxis range;
    range.kind = body[1] == 'i' ? AxisKind::kLinear : AxisKind::kLog;
    range.integer = true;
    const auto parts = split_items(body.substr(4), ':');
    std::vector<std::int64_t> nums;
    for (const auto& p : parts) {
      try {
        std::size_t used = 0;
        const long long v = std::stoll(p, &used);
        if (used != p.size() || v < 1) throw std::invalid_argument(p);
        nums.push_back(v);
      } catch (const std::exception&) {
        return Error{ErrorCode::kBadOption, axis.key, std::string(spec),
                     fmt::format("vary '{}': a workload range is lin:A:B:N or log:A:B:N with whole numbers A, B, N "
                                 ">= 1",
                                 spec)};
      }
    }
    if (nums.size() != 3 || nums[2] > 10000) {
      return Error{ErrorCode::kBadOption, axis.key, std::string(spec),
                   fmt::format("vary '{}': a workload range is lin:A:B:N or log:A:B:N, N <= 10000", spec)};
    }
    range.first = Rational(nums[0]);
    range.last = Rational(nums[1]);
    range.count = static_cast<std::size_t>(nums[2]);
    for (std::size_t i = 0; i < range.size(); ++i) {
      const std::string v = format_exact(range.value(i));
      if (axis.values.empty() || axis.values.back() != v) axis.values.push_back(v);  // rounding may repeat one
    }
    return axis;
  }
  // A list; ';' separates the values when they hold commas themselves (serving.ranks).
  axis.values = split_items(body, body.find(';') != std::string_view::npos ? ';' : ',');
  for (const auto& v : axis.values) {
    if (v.empty()) {
      return Error{ErrorCode::kBadOption, axis.key, std::string(spec), fmt::format("vary '{}': an empty value", spec)};
    }
  }
  return axis;
}

std::optional<std::size_t> serving_sweep_size(const std::vector<ServingAxis>& axes) {
  std::size_t total = 1;
  for (const auto& a : axes) {
    if (a.values.empty()) return std::size_t{0};
    if (total > std::numeric_limits<std::size_t>::max() / a.values.size()) return std::nullopt;
    total *= a.values.size();
  }
  return total;
}

Status run_serving_sweep(const Params& base, const std::string& config, const WorkloadOverrides& sets,
                         const std::vector<ServingAxis>& axes, const ServingSweepOptions& options,
                         const std::function<void(const ServingSweepRow&)>& emit) {
  const auto size = serving_sweep_size(axes);
  if (!size) {
    return Error{ErrorCode::kOutOfRange, "vary", "", "sweep: the number of points does not fit a 64-bit count"};
  }
  const std::size_t total = *size;
  // Named copies, not a structured binding: Clang 14 cannot capture one in a lambda.
  const auto range = shard_range(total, options.shard);
  const std::size_t begin = range.first, end = range.second;
  // The machine and the workload's overrides of the point of index k (the last axis varies
  // fastest).
  const auto machine_at = [&](std::size_t index, Params& p, WorkloadOverrides& over) -> Status {
    p = base;
    InputProvenance prov = options.provenance != nullptr ? *options.provenance : InputProvenance{};
    over = sets;
    const auto at = grid_position(index, axes);
    // The parts first: a varied parameter goes over them, whatever the order of the axes.
    for (std::size_t i = 0; i < axes.size(); ++i) {
      if (axes[i].part_kind.empty()) continue;
      auto part = resolve_hardware(axes[i].part_kind, axes[i].values[at[i]]);
      if (!part) return part.error();
      if (auto st = apply_hardware(p, prov, part.value()); !st) return st;
    }
    for (std::size_t i = 0; i < axes.size(); ++i) {
      if (!axes[i].part_kind.empty()) continue;
      if (axes[i].workload) {
        over.emplace_back(axes[i].key, axes[i].values[at[i]]);
      } else {
        p.set(axes[i].param, axes[i].exact[at[i]]);
      }
    }
    return {};
  };
  const auto point = [&](std::size_t index) -> Result<ServingSweepRow> {
    ServingSweepRow row;
    row.index = index;
    row.values.resize(axes.size());
    const auto at = grid_position(index, axes);
    for (std::size_t i = 0; i < axes.size(); ++i) row.values[i] = axes[i].values[at[i]];
    Params p;
    WorkloadOverrides over;
    if (auto st = machine_at(index, p, over); !st) return st.error();
    auto w = load_serving_workload(config, over);
    if (!w) return w.error();
    auto r = solve_serving(w.value(), p, options.solve);
    if (!r) return r.error();
    // Capacity mode: the row is of the batch the plan serves (docs/model.md §9.12).
    row.workload = w->mode == ServingMode::kCapacity && r->feasible ? served_workload(w.value(), r->served)
                                                                     : std::move(w.value());
    row.result = std::move(r.value());
    return row;
  };
  if (auto st = check_workloads(config, sets, axes, begin, end, total); !st) return st;
  // Every machine of the shard is checked too before any point is solved: a hardware axis
  // can make one the model does not take (cxl.flops varied away from 0 on a device whose
  // kernel rates are not set).
  if (std::any_of(axes.begin(), axes.end(), [](const ServingAxis& a) { return !a.workload; })) {
    std::set<std::vector<std::size_t>> seen;  // each machine once, whatever the workload axes
    for (std::size_t index = begin; index < end; ++index) {
      auto at = grid_position(index, axes);
      for (std::size_t i = 0; i < axes.size(); ++i) {
        if (axes[i].workload) at[i] = 0;
      }
      if (!seen.insert(std::move(at)).second) continue;
      Params p;
      WorkloadOverrides over;
      Status st = machine_at(index, p, over);
      // (lora.max_batch_latency_s and lora.max_batch_tokens are capacity mode's: batch mode
      // refuses them when its point is solved.)
      if (st) st = validate_serving(p, true);
      if (!st) {
        const Error& e = st.error();
        return Error{e.code, e.key, e.value, fmt::format("point {} of {}: {}", index + 1, total, e.message)};
      }
    }
  }
  const std::size_t points = end - begin;
  const auto threads = static_cast<unsigned>(
      std::max<std::size_t>(1, std::min<std::size_t>(detail::threads_for(options.threads), points)));
  // Points in flight: solved ahead of the next row to emit by at most `window` (a ring).
  const std::size_t window = 8 * static_cast<std::size_t>(threads);
  std::vector<std::optional<Result<ServingSweepRow>>> ring(window);
  std::size_t next = 0;     // the next point to start (offset in the shard)
  std::size_t emitted = 0;  // rows handed to emit
  bool stop = false;
  std::optional<Error> failed;
  std::exception_ptr thrown;
  std::mutex mu;
  std::condition_variable room;
  const auto work = [&]() {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      room.wait(lock, [&] { return stop || next >= points || next < emitted + window; });
      if (stop || next >= points) return;
      const std::size_t k = next++;
      lock.unlock();
      std::optional<Result<ServingSweepRow>> r;
      std::exception_ptr ex;
      try {
        if (options.cancelled && options.cancelled()) {
          r = Error{ErrorCode::kInterrupted, "vary", "", "sweep: interrupted"};
        } else {
          r = point(begin + k);
        }
      } catch (const std::bad_alloc&) {
        r = Error{ErrorCode::kOutOfMemory, "vary", "", "sweep: out of memory"};
      } catch (...) {
        ex = std::current_exception();
      }
      lock.lock();
      if (ex) {
        if (!thrown) thrown = ex;
        stop = true;
        room.notify_all();
        return;
      }
      ring[k % window] = std::move(r);
      // Whoever completes the next row in order emits every row that is ready.
      while (!stop && emitted < points && ring[emitted % window]) {
        auto& res = *ring[emitted % window];
        if (!res) {
          const Error& e = res.error();
          failed = e.code == ErrorCode::kInterrupted
                       ? e
                       : Error{e.code, e.key, e.value,
                               fmt::format("point {} of {}: {}", begin + emitted + 1, total, e.message)};
          stop = true;
          break;
        }
        try {
          emit(res.value());
        } catch (...) {
          if (!thrown) thrown = std::current_exception();
          stop = true;
          break;
        }
        ring[emitted % window].reset();
        ++emitted;
      }
      room.notify_all();
    }
  };
  detail::run_on_threads(threads, work);
  if (thrown) std::rethrow_exception(thrown);
  if (failed) return *failed;
  return {};
}

std::vector<std::string> serving_columns(const std::vector<ServingAxis>& axes) {
  std::vector<std::string> out;
  for (const auto& a : axes) out.push_back(a.key);
  for (const char* c : {"status", "iteration_time_s", "iteration_time_s_exact", "throughput_tokens_per_s",
                        "gain_percent", "gain_over_gpu_hbm_percent", "gpu_hbm_tokens_per_s", "gpu_fetch_tokens_per_s",
                        "device_all_tokens_per_s", "device_share_percent", "adapters_with_tokens", "nodes",
                        "lower_bound_iteration_time_s_exact", "gap_at_most_percent"}) {
    out.emplace_back(c);
  }
  return out;
}

std::string serving_csv_header(const std::vector<ServingAxis>& axes) {
  std::string out;
  for (const auto& c : serving_columns(axes)) out += (out.empty() ? "" : ",") + c;
  return out;
}

std::vector<std::string> serving_cells(const ServingSweepRow& row) {
  std::vector<std::string> out = row.values;
  const ServingResult& r = row.result;
  const auto tput = [](const ServingBaseline& b) {
    return b.eval.feasible ? fmt::format("{:.9g}", to_double(b.eval.tokens_per_s)) : std::string();
  };
  std::int64_t with_tokens = 0;
  for (const auto& a : row.workload.adapters) with_tokens += a.tokens > 0 ? 1 : 0;
  const std::string share = fmt::format("{:.6g}", 100.0 * to_double(detail::device_share(row.workload, r.plan)));
  if (!r.feasible) {
    for (const std::string& c : {std::string("infeasible"), std::string(), std::string(), std::string(),
                                 std::string(), std::string(), tput(r.baselines[0]), tput(r.baselines[1]),
                                 tput(r.baselines[2]), std::string(), std::to_string(with_tokens),
                                 std::to_string(r.nodes), std::string(), std::string()}) {
      out.push_back(c);
    }
    return out;
  }
  const double fetch = r.baselines[1].eval.feasible ? to_double(r.baselines[1].eval.tokens_per_s) : 0;
  const double hbm = r.baselines[0].eval.feasible ? to_double(r.baselines[0].eval.tokens_per_s) : 0;
  const double x = to_double(r.eval.tokens_per_s);
  for (std::string& c : std::vector<std::string>{
           r.proved_optimal ? "optimal" : "feasible", fmt::format("{:.9g}", to_double(r.eval.iteration_s)),
           format_exact(r.eval.iteration_s), fmt::format("{:.9g}", x),
           fetch > 0 ? fmt::format("{:.6g}", 100 * (x / fetch - 1)) : std::string(),
           hbm > 0 ? fmt::format("{:.6g}", 100 * (x / hbm - 1)) : std::string(), tput(r.baselines[0]),
           tput(r.baselines[1]), tput(r.baselines[2]), share, std::to_string(with_tokens), std::to_string(r.nodes),
           format_exact(r.lower_bound_s),
           fmt::format("{:.3g}", 100 * to_double(1 - r.lower_bound_s / r.eval.iteration_s))}) {
    out.push_back(std::move(c));
  }
  return out;
}

std::string serving_csv_row(const ServingSweepRow& row) {
  const std::vector<std::string> cells = serving_cells(row);
  std::string out;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) out += ',';
    out += cells[i].find(',') != std::string::npos ? "\"" + cells[i] + "\"" : cells[i];
  }
  return out;
}

}  // namespace lorasplit
