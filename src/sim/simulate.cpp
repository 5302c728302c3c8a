// The discrete-event simulator (docs/model.md §8). Tasks are created in priority order
// (batch, stage, then the order below); a resource that is free starts its ready task of
// highest priority; every time is an exact rational, so equal times tie exactly and the
// order is deterministic (events at one time are all applied before anything starts).
#include <lorasplit/describe.hpp>
#include <lorasplit/simulate.hpp>

#include "checked.hpp"
#include "model/formulate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace lorasplit {
namespace {

struct Node {
  int res{0};
  Rational dur, delay;
  std::vector<int> out;
  int remaining{0};
  Rational ready_at{0};
  bool started{false};
  Rational start, end, done;
  // Report fields (barriers have none).
  bool visible{false};
  bool device_side{false};  // counts toward the stage's device time
  int batch{1}, stage{1};
  std::string name;
  std::int64_t tokens{0};
};

struct Builder {
  std::vector<Node> nodes;
  int add(int res, Rational dur, Rational delay, const std::vector<int>& deps, bool visible, bool device_side,
          int batch, int stage, std::string name, std::int64_t tokens) {
    Node n;
    n.res = res;
    n.dur = std::move(dur);
    n.delay = std::move(delay);
    n.visible = visible;
    n.device_side = device_side;
    n.batch = batch;
    n.stage = stage;
    n.name = std::move(name);
    n.tokens = tokens;
    const int id = static_cast<int>(nodes.size());
    for (const int d : deps) {
      if (d < 0) continue;
      nodes[static_cast<std::size_t>(d)].out.push_back(id);
      ++n.remaining;
    }
    nodes.push_back(std::move(n));
    return id;
  }
};

// Sizes of the chunks of `tokens` (one chunk of everything when chunk is 0).
std::vector<std::int64_t> chunks(std::int64_t tokens, std::int64_t chunk) {
  std::vector<std::int64_t> out;
  if (tokens <= 0) return out;
  if (chunk <= 0) return {tokens};
  for (std::int64_t done = 0; done < tokens; done += chunk) out.push_back(std::min(chunk, tokens - done));
  return out;
}

std::string chunk_label(const std::string& what, std::size_t i, std::size_t n) {
  return n == 1 ? what : fmt::format("{}, chunk {}/{}", what, i + 1, n);
}

bool is_fetch(const WorkItem& w) {
  return std::all_of(w.columns.begin(), w.columns.end(), [](char c) { return c == 0; });
}

// "b2+b3": the columns an item carries.
std::string columns_label(const Description& d, const WorkItem& w) {
  std::string out;
  for (std::size_t j = 0; j < d.columns.size(); ++j) {
    if (w.columns[j] != 0) out += fmt::format("{}{}", out.empty() ? "" : "+", d.columns[j].name);
  }
  return out;
}

}  // namespace

namespace {

// Tasks of one batch; saturates at SIZE_MAX (compared with a limit), never wraps. The
// plan's entries are non-negative and their total fits 64 bits (checked by the caller).
std::size_t count_tasks(const Description& d, const Plan& plan, std::int64_t chunk) {
  std::size_t n = d.stages.size();  // barriers
  for (const auto& w : d.items) {
    bool carries = false;
    bool runs = false;
    std::size_t per_chunk = 0;
    for (std::size_t j = 0; j < plan.b.size(); ++j) {
      if (w.columns[j] != 0 && plan.b[j] > 0) {
        carries = true;
        if (chunk > 0) {
          const auto chunks_j = static_cast<std::size_t>(plan.b[j] / chunk + (plan.b[j] % chunk != 0 ? 1 : 0));
          per_chunk = detail::saturating_add(per_chunk, chunks_j);
        }
      }
      if (!w.runs_for.empty() && w.runs_for[j] != 0 && plan.b[j] > 0) runs = true;
    }
    if (is_fetch(w)) {
      n = detail::saturating_add<std::size_t>(n, runs ? 1 : 0);
    } else if (carries) {
      n = detail::saturating_add<std::size_t>(n, w.chunked && chunk > 0 ? per_chunk : 1);
    }
  }
  return n;
}

}  // namespace

Result<Simulation> simulate(const Params& p, const Plan& plan, const SimulateOptions& options) {
  return simulate(describe(p), p, plan, options);
}

Result<Simulation> simulate(const Description& d, const Params& p, const Plan& plan, const SimulateOptions& options) {
  const auto bad = [](const std::string& what) { return Error{ErrorCode::kBadOption, "plan", "", what}; };
  const std::size_t ncols = d.columns.size();
  if (plan.b.size() != ncols) {
    return bad(fmt::format("plan: expected {} batch sizes, one per column (got {})", ncols, plan.b.size()));
  }
  if (Status st = validate_plan(plan); !st) return st.error();
  if (plan.tokens() <= 0) return bad("plan: the plan holds no token");
  const std::int64_t k = p.block_tokens().get_num().get_si();
  for (const auto b : plan.b) {
    if (b % k != 0) return bad(fmt::format("plan: {} is not a whole number of blocks of {} tokens", b, k));
  }
  if (options.batches < 1 || options.batches > 1000000) {
    return Error{ErrorCode::kBadOption, "batches", std::to_string(options.batches),
                 fmt::format("batches = '{}': must be between 1 and 1000000", options.batches)};
  }
  const Rational lat = d.latency_s.eval(p);
  const std::int64_t chunk = d.chunk_tokens ? d.chunk_tokens->eval(p).get_num().get_si() : 0;
  const std::size_t per_batch = count_tasks(d, plan, chunk);
  const auto total_tasks = detail::checked_mul(per_batch, static_cast<std::size_t>(options.batches));
  if (!total_tasks || *total_tasks > options.max_tasks) {
    return Error{ErrorCode::kBadOption, "batches", std::to_string(options.batches),
                 fmt::format("the simulation would have more than {} tasks ({} per batch); use fewer batches or "
                             "larger pipeline.chunk_tokens",
                             options.max_tasks, per_batch)};
  }
  // Every item's times, evaluated once (per column).
  std::vector<std::vector<Rational>> per_token;
  std::vector<Rational> fixed;
  std::vector<bool> runs;
  for (const auto& w : d.items) {
    std::vector<Rational> by_column(ncols);
    for (std::size_t j = 0; j < ncols; ++j) {
      if (w.columns[j] != 0) by_column[j] = w.seconds_for(j).eval(p);
    }
    per_token.push_back(std::move(by_column));
    fixed.push_back(w.fixed_seconds.eval(p));
    bool r = false;
    for (std::size_t j = 0; j < ncols; ++j) {
      r = r || ((is_fetch(w) ? (!w.runs_for.empty() && w.runs_for[j] != 0) : w.columns[j] != 0) && plan.b[j] > 0);
    }
    runs.push_back(r);
  }
  const int none = static_cast<int>(d.resources.size());  // barriers occupy no resource

  Builder g;
  int prev_s1 = -1, prev_end = -1;
  std::vector<std::pair<int, int>> barriers;       // (end of stage 1, end of the last stage) per batch
  std::vector<int> first_batch_stage_ends;          // the first batch's barrier of each stage
  for (int batch = 1; batch <= options.batches; ++batch) {
    int base = options.overlap ? prev_s1 : prev_end;  // what this batch's first stage waits for
    int s1_end = -1;
    for (std::size_t si = 0; si < d.stages.size(); ++si) {
      const Stage& st = d.stages[si];
      const int stage_no = static_cast<int>(si + 1);
      std::vector<int> in_stage;
      std::vector<int> task_of(d.items.size(), -1);  // unchunked tasks by item
      std::vector<bool> done_chunked(d.items.size(), false);
      for (const auto i : st.items) {
        const WorkItem& w = d.items[i];
        if (!runs[i] || done_chunked[i]) continue;
        const bool device = w.side == Side::kDevice;
        const Rational delay = w.transfer ? lat : Rational(0);
        if (!(w.chunked && chunk > 0)) {
          std::vector<int> deps{base};
          for (const auto a : w.after) deps.push_back(task_of[a]);
          std::int64_t tokens = 0;
          Rational busy = fixed[i];
          for (std::size_t j = 0; j < ncols; ++j) {
            if (w.columns[j] == 0) continue;
            tokens += plan.b[j];
            busy += per_token[i][j] * plan.b[j];
          }
          const std::string name = is_fetch(w) ? w.name : fmt::format("{} ({})", w.name, columns_label(d, w));
          task_of[i] = g.add(static_cast<int>(w.resource), busy, delay, deps, true, device,
                             batch, stage_no, name, tokens);
          in_stage.push_back(task_of[i]);
          continue;
        }
        // The chunked items of this side: each column's chunks in turn, each chunk through
        // the chunked items that carry the column, in order.
        std::vector<std::size_t> group;
        for (const auto o : st.items) {
          if (d.items[o].chunked && d.items[o].side == w.side && runs[o]) group.push_back(o);
        }
        for (const auto o : group) done_chunked[o] = true;
        for (std::size_t j = 0; j < ncols; ++j) {
          bool carried = false;
          for (const auto o : group) carried = carried || d.items[o].columns[j] != 0;
          if (!carried) continue;
          const auto sizes = chunks(plan.b[j], chunk);
          for (std::size_t c = 0; c < sizes.size(); ++c) {
            const std::int64_t t = sizes[c];
            std::vector<int> chunk_task(d.items.size(), -1);
            for (const auto o : group) {
              const WorkItem& x = d.items[o];
              if (x.columns[j] == 0) continue;
              std::vector<int> deps{base};
              for (const auto a : x.after) deps.push_back(d.items[a].chunked ? chunk_task[a] : task_of[a]);
              chunk_task[o] = g.add(static_cast<int>(x.resource), per_token[o][j] * t, x.transfer ? lat : Rational(0),
                                    deps, true, x.side == Side::kDevice, batch, stage_no,
                                    chunk_label(fmt::format("{} ({}", x.name, d.columns[j].name), c, sizes.size()) +
                                        ")",
                                    t);
              in_stage.push_back(chunk_task[o]);
            }
          }
        }
      }
      const int end = g.add(none, 0, 0, in_stage.empty() ? std::vector<int>{base} : in_stage, false, false, batch,
                            stage_no, fmt::format("end of stage {}", stage_no), 0);
      if (batch == 1) first_batch_stage_ends.push_back(end);
      if (si == 0) s1_end = end;
      base = end;
    }
    barriers.emplace_back(s1_end, base);
    prev_s1 = s1_end;
    prev_end = base;
  }

  // Event loop.
  std::vector<Node>& nodes = g.nodes;
  const std::size_t nres = d.resources.size() + 1;
  std::vector<std::set<int>> ready(nres);
  std::vector<char> busy(nres, 0);
  std::map<Rational, std::vector<std::pair<int, int>>> events;  // time -> (kind, id): 0 free resource, 1 done
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].remaining == 0) ready[static_cast<std::size_t>(nodes[i].res)].insert(static_cast<int>(i));
  }
  Rational now = 0;
  std::vector<int> order;
  order.reserve(nodes.size());
  for (;;) {
    for (int res = 0; res <= none; ++res) {
      auto& q = ready[static_cast<std::size_t>(res)];
      while (!q.empty() && (res == none || busy[static_cast<std::size_t>(res)] == 0)) {
        const int id = *q.begin();
        q.erase(q.begin());
        Node& n = nodes[static_cast<std::size_t>(id)];
        n.started = true;
        n.start = now;
        n.end = now + n.dur;
        n.done = n.end + n.delay;
        order.push_back(id);
        if (res != none) {
          busy[static_cast<std::size_t>(res)] = 1;
          events[n.end].emplace_back(0, id);
        }
        events[n.done].emplace_back(1, id);
      }
    }
    if (events.empty()) break;
    auto it = events.begin();
    now = it->first;
    const auto batch = std::move(it->second);
    events.erase(it);
    for (const auto& [kind, id] : batch) {
      Node& n = nodes[static_cast<std::size_t>(id)];
      if (kind == 0) {
        busy[static_cast<std::size_t>(n.res)] = 0;
        continue;
      }
      for (const int o : n.out) {
        Node& m = nodes[static_cast<std::size_t>(o)];
        if (--m.remaining == 0) ready[static_cast<std::size_t>(m.res)].insert(o);
      }
    }
  }
  for (const auto& n : nodes) {
    if (!n.started) return Error{ErrorCode::kInternal, "", "", "internal error: the simulation left a task unscheduled"};
  }

  Simulation sim;
  sim.plan = plan;
  sim.model = d.name;
  sim.batches = options.batches;
  sim.overlap = options.overlap;
  sim.makespan_s = nodes[static_cast<std::size_t>(barriers.back().second)].done;
  sim.first_batch_s = nodes[static_cast<std::size_t>(barriers.front().second)].done;
  std::vector<Rational> busy_s(nres);
  for (const int id : order) {
    const Node& n = nodes[static_cast<std::size_t>(id)];
    if (!n.visible) continue;
    sim.tasks.push_back(
        {id, n.batch, n.stage, n.name, d.resources[static_cast<std::size_t>(n.res)].name, n.tokens, n.start, n.end, n.done});
    busy_s[static_cast<std::size_t>(n.res)] += n.dur;
  }
  for (std::size_t res = 0; res < d.resources.size(); ++res) {
    const Rational& b = busy_s[res];
    sim.resources.push_back({d.resources[res].name, b, sim.makespan_s > 0 ? Rational(b / sim.makespan_s) : Rational(0)});
  }

  // Throughput: one batch, or the mean period between the ends of the first and last batches.
  const Rational tokens = plan.tokens();
  if (options.batches == 1) {
    sim.simulated_tokens_per_s = tokens / sim.first_batch_s;
  } else {
    const Rational period = (sim.makespan_s - sim.first_batch_s) / (options.batches - 1);
    sim.simulated_tokens_per_s = period > 0 ? Rational(tokens / period) : Rational(0);
  }

  // Stage times of the first batch against the model built from the same description.
  const Formulation f = detail::build_model_for(d, p, plan);
  const Model* m = describing_case(f, plan);
  if (m == nullptr) return Error{ErrorCode::kInternal, "", "", "internal error: no model case describes the plan"};
  sim.analytic_tokens_per_s = throughput_tokens_per_s(*m, plan);
  const bool per_transfer = d.latency == LatencyRule::kPerTransfer;
  for (std::size_t si = 0; si < d.stages.size(); ++si) {
    const int stage_no = static_cast<int>(si + 1);
    StageComparison c;
    c.stage = stage_no;
    const Rational start = si == 0 ? Rational(0) : nodes[static_cast<std::size_t>(first_batch_stage_ends[si - 1])].done;
    const Rational end = nodes[static_cast<std::size_t>(first_batch_stage_ends[si])].done;
    Rational gpu = start, cxl = start;
    for (const auto& n : nodes) {
      if (!n.visible || n.batch != 1 || n.stage != stage_no) continue;
      if (n.device_side) {
        if (n.done > cxl) cxl = n.done;
      } else if (n.done > gpu) {
        gpu = n.done;
      }
    }
    c.sim_gpu_s = gpu - start;
    c.sim_cxl_s = cxl - start;
    c.sim_stage_s = end - start;
    c.model_gpu_s = m->stages[si].gpu.eval(plan);
    c.model_cxl_s = m->stages[si].device.eval(plan);
    // Named terms: what the model's rules leave out of (or add to) the physical schedule.
    const Stage& st = d.stages[si];
    bool device_works = false;
    for (const auto i : st.items) device_works = device_works || (d.items[i].side == Side::kDevice && runs[i]);
    if (d.latency == LatencyRule::kOnceInStage1Always && si == 0 && !device_works) {
      c.cxl_terms.push_back({d.idle_latency_note, -lat});
    }
    for (const auto& term : d.terms) {
      if (term.stage != si) continue;
      Rational v = 0;
      for (std::size_t j = 0; j < ncols; ++j) v += term.coef[j].eval(p) * plan.b[j];
      if (v != 0) (term.side == Side::kDevice ? c.cxl_terms : c.gpu_terms).push_back({term.note, -v});
    }
    if (!per_transfer) {
      // One latency is charged in stage 1 (to the device's first transfer, X in); every
      // other transfer's latency on a critical path is not: token transfers first, then fetches.
      bool charged_one = si != 0;
      for (const bool fetches : {false, true}) {
        for (const auto i : st.items) {
          const WorkItem& w = d.items[i];
          if (!runs[i] || !w.transfer || w.latency_hidden || is_fetch(w) != fetches) continue;
          if (!charged_one && w.side == Side::kDevice) {
            charged_one = true;
            continue;
          }
          (w.side == Side::kDevice ? c.cxl_terms : c.gpu_terms).push_back({w.latency_note, lat});
        }
      }
    }
    Rational named_gpu = 0, named_cxl = 0;
    for (const auto& t : c.gpu_terms) named_gpu += t.seconds;
    for (const auto& t : c.cxl_terms) named_cxl += t.seconds;
    c.gpu_residual_s = c.sim_gpu_s - c.model_gpu_s - named_gpu;
    c.cxl_residual_s = c.sim_cxl_s - c.model_cxl_s - named_cxl;
    sim.stages.push_back(std::move(c));
  }
  return sim;
}

}  // namespace lorasplit
