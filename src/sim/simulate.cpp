// The discrete-event simulator (docs/model.md §8). Tasks are created in priority order
// (batch, stage, then the order below); a resource that is free starts its ready task of
// highest priority; every time is an exact rational, so equal times tie exactly and the
// order is deterministic (events at one time are all applied before anything starts).
#include <lorasplit/simulate.hpp>

#include <fmt/format.h>

#include <map>
#include <optional>
#include <set>

namespace lorasplit {
namespace {

enum Res : int { kGpu = 0, kCxl = 1, kToDevice = 2, kToGpu = 3, kShared = 4, kNone = 5 };
const char* const kResName[] = {"gpu", "cxl", "link.to_device", "link.to_gpu", "link", "none"};

struct Node {
  int res{kNone};
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

}  // namespace

Result<Simulation> simulate(const Params& p, const Plan& plan, const SimulateOptions& options) {
  const auto bad = [](const std::string& what) { return Error{ErrorCode::kBadOption, "--plan", "", what}; };
  if (plan.b.size() != 3) return bad(fmt::format("--plan: expected 3 batch sizes b1,b2,b3 (got {})", plan.b.size()));
  for (const auto b : plan.b) {
    if (b < 0) return bad(fmt::format("--plan: batch sizes must not be negative (got {})", b));
  }
  if (plan.tokens() <= 0) return bad("--plan: the plan holds no token");
  const std::int64_t k = p.block_tokens().get_num().get_si();
  for (const auto b : plan.b) {
    if (b % k != 0) return bad(fmt::format("--plan: {} is not a whole number of blocks of {} tokens", b, k));
  }
  if (options.batches < 1 || options.batches > 1000000) {
    return Error{ErrorCode::kBadOption, "--batches", std::to_string(options.batches),
                 fmt::format("--batches = '{}': must be between 1 and 1000000", options.batches)};
  }

  const Rational &e = p.element_bytes(), &d = p.d(), &r = p.r(), &bw = p.link_bandwidth_bytes_per_s();
  const Rational& lat = p.link_latency_s();
  const Rational gamma = 2 * d * r / (p.gpu_flops() * p.gpu_efficiency());
  const Rational kappa = 2 * d * r / (p.cxl_flops() * p.cxl_efficiency());
  const Rational xi = e * d / bw, eta = e * r / bw, omega = e * d * r / bw;
  const bool shared = p.choice(ParamId::kLinkDuplex) == static_cast<int>(LinkDuplex::kShared);
  const auto weights = static_cast<WeightsPlacement>(p.choice(ParamId::kLoraWeights));
  const std::int64_t chunk =
      p.has(ParamId::kPipelineChunkTokens) ? p.get(ParamId::kPipelineChunkTokens).get_num().get_si() : 0;
  const int to_dev = shared ? kShared : kToDevice;
  const int to_gpu = shared ? kShared : kToGpu;
  const std::int64_t b1 = plan.b[0], b2 = plan.b[1], b3 = plan.b[2];

  // Tasks per batch, an upper bound to refuse runaway sizes before building anything.
  const auto count = [&](std::int64_t t) -> std::size_t {
    return t <= 0 ? 0 : chunk <= 0 ? 1 : static_cast<std::size_t>((t + chunk - 1) / chunk);
  };
  const std::size_t per_batch = 3 * (count(b2) + count(b3)) + 2 * count(b3) + 10;
  if (per_batch * static_cast<std::size_t>(options.batches) > options.max_tasks) {
    return Error{ErrorCode::kBadOption, "--batches", std::to_string(options.batches),
                 fmt::format("the simulation would have more than {} tasks ({} per batch); use fewer batches or "
                             "larger pipeline.chunk_tokens",
                             options.max_tasks, per_batch)};
  }

  Builder g;
  int prev_s1 = -1, prev_end = -1;
  std::vector<std::pair<int, int>> barriers;  // (end of stage 1, end of stage 2) per batch
  for (int batch = 1; batch <= options.batches; ++batch) {
    const int gate = options.overlap ? prev_s1 : prev_end;  // what batch `batch` waits for
    std::vector<int> stage1;
    // GPU side of stage 1: fetch A if it lives on the device, then X·A for b1.
    if (b1 > 0) {
      int fetch = -1;
      if (weights == WeightsPlacement::kCxl) {
        fetch = g.add(to_gpu, omega, lat, {gate}, true, false, batch, 1, "fetch A to the GPU", 0);
        stage1.push_back(fetch);
      }
      stage1.push_back(g.add(kGpu, gamma * b1, 0, {gate, fetch}, true, false, batch, 1, "X·A (b1)", b1));
    }
    // Device side of stage 1: fetch A if it lives on the GPU, X in, X·A, Y back for b2.
    // Unchunked, the three steps run one after the other for all b2+b3 tokens; chunked,
    // b2's chunks go first, then b3's.
    if (b2 + b3 > 0) {
      int fetch = -1;
      if (weights == WeightsPlacement::kGpu) {
        fetch = g.add(to_dev, omega, lat, {gate}, true, true, batch, 1, "fetch A to the device", 0);
        stage1.push_back(fetch);
      }
      if (chunk <= 0) {
        const std::int64_t n = b2 + b3;
        const int x = g.add(to_dev, xi * n, lat, {gate}, true, true, batch, 1, "X in (b2+b3)", n);
        const int c = g.add(kCxl, kappa * n, 0, {x, fetch}, true, true, batch, 1, "X·A (b2+b3)", n);
        stage1.push_back(x);
        stage1.push_back(c);
        if (b2 > 0) stage1.push_back(g.add(to_gpu, eta * b2, lat, {c}, true, true, batch, 1, "Y back (b2)", b2));
      } else {
        for (const auto& [path, tokens] : {std::pair<int, std::int64_t>{2, b2}, {3, b3}}) {
          const auto sizes = chunks(tokens, chunk);
          for (std::size_t i = 0; i < sizes.size(); ++i) {
            const std::int64_t t = sizes[i];
            const std::string tag = fmt::format("b{}", path);
            const int x = g.add(to_dev, xi * t, lat, {gate}, true, true, batch, 1,
                                chunk_label("X in (" + tag, i, sizes.size()) + ")", t);
            const int c = g.add(kCxl, kappa * t, 0, {x, fetch}, true, true, batch, 1,
                                chunk_label("X·A (" + tag, i, sizes.size()) + ")", t);
            stage1.push_back(x);
            stage1.push_back(c);
            if (path == 2) {
              stage1.push_back(g.add(to_gpu, eta * t, lat, {c}, true, true, batch, 1,
                                     chunk_label("Y back (b2", i, sizes.size()) + ")", t));
            }
          }
        }
      }
    }
    const int s1 = g.add(kNone, 0, 0, stage1.empty() ? std::vector<int>{gate} : stage1, false, false, batch, 1,
                         "end of stage 1", 0);
    std::vector<int> stage2;
    if (b1 + b2 > 0) {
      int fetch = -1;
      if (weights == WeightsPlacement::kCxl) {
        fetch = g.add(to_gpu, omega, lat, {s1}, true, false, batch, 2, "fetch B to the GPU", 0);
        stage2.push_back(fetch);
      }
      stage2.push_back(g.add(kGpu, gamma * (b1 + b2), 0, {s1, fetch}, true, false, batch, 2, "Y·B (b1+b2)", b1 + b2));
    }
    if (b3 > 0) {
      int fetch = -1;
      if (weights == WeightsPlacement::kGpu) {
        fetch = g.add(to_dev, omega, lat, {s1}, true, true, batch, 2, "fetch B to the device", 0);
        stage2.push_back(fetch);
      }
      const auto sizes = chunks(b3, chunk);
      for (std::size_t i = 0; i < sizes.size(); ++i) {
        const std::int64_t t = sizes[i];
        const int c = g.add(kCxl, kappa * t, 0, {s1, fetch}, true, true, batch, 2,
                            chunk_label("Y·B (b3", i, sizes.size()) + ")", t);
        stage2.push_back(c);
        stage2.push_back(g.add(to_gpu, xi * t, lat, {c}, true, true, batch, 2,
                               chunk_label("Z back (b3", i, sizes.size()) + ")", t));
      }
    }
    const int s2 = g.add(kNone, 0, 0, stage2.empty() ? std::vector<int>{s1} : stage2, false, false, batch, 2,
                         "end of stage 2", 0);
    barriers.emplace_back(s1, s2);
    prev_s1 = s1;
    prev_end = s2;
  }

  // Event loop.
  std::vector<Node>& nodes = g.nodes;
  std::array<std::set<int>, 6> ready;
  std::array<bool, 6> busy{};
  std::map<Rational, std::vector<std::pair<int, int>>> events;  // time -> (kind, id): 0 free resource, 1 done
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].remaining == 0) ready[static_cast<std::size_t>(nodes[i].res)].insert(static_cast<int>(i));
  }
  Rational now = 0;
  std::vector<int> order;
  order.reserve(nodes.size());
  for (;;) {
    for (int res = 0; res < 6; ++res) {
      auto& q = ready[static_cast<std::size_t>(res)];
      while (!q.empty() && (res == kNone || !busy[static_cast<std::size_t>(res)])) {
        const int id = *q.begin();
        q.erase(q.begin());
        Node& n = nodes[static_cast<std::size_t>(id)];
        n.started = true;
        n.start = now;
        n.end = now + n.dur;
        n.done = n.end + n.delay;
        order.push_back(id);
        if (res != kNone) {
          busy[static_cast<std::size_t>(res)] = true;
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
        busy[static_cast<std::size_t>(n.res)] = false;
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
  sim.model = p.model_name() == ModelName::kPipeline ? "pipeline" : "seed";
  sim.batches = options.batches;
  sim.overlap = options.overlap;
  sim.makespan_s = nodes[static_cast<std::size_t>(barriers.back().second)].done;
  sim.first_batch_s = nodes[static_cast<std::size_t>(barriers.front().second)].done;
  std::array<Rational, 5> busy_s{};
  std::array<bool, 5> used{};
  for (const int id : order) {
    const Node& n = nodes[static_cast<std::size_t>(id)];
    if (!n.visible) continue;
    sim.tasks.push_back({id, n.batch, n.stage, n.name, kResName[n.res], n.tokens, n.start, n.end, n.done});
    busy_s[static_cast<std::size_t>(n.res)] += n.dur;
    used[static_cast<std::size_t>(n.res)] = true;
  }
  const std::vector<int> lanes = shared ? std::vector<int>{kGpu, kCxl, kShared}
                                        : std::vector<int>{kGpu, kCxl, kToDevice, kToGpu};
  for (const int res : lanes) {
    const Rational& b = busy_s[static_cast<std::size_t>(res)];
    sim.resources.push_back({kResName[res], b, sim.makespan_s > 0 ? Rational(b / sim.makespan_s) : Rational(0)});
  }
  (void)used;

  // Throughput: one batch, or the mean period between the ends of the first and last batches.
  const Rational tokens = plan.tokens();
  if (options.batches == 1) {
    sim.simulated_tokens_per_s = tokens / sim.first_batch_s;
  } else {
    const Rational period = (sim.makespan_s - sim.first_batch_s) / (options.batches - 1);
    sim.simulated_tokens_per_s = period > 0 ? Rational(tokens / period) : Rational(0);
  }

  // Stage times of the first batch against the analytic model.
  const Formulation f = build_model(p);
  const Model* m = describing_case(f, plan);
  if (m == nullptr) return Error{ErrorCode::kInternal, "", "", "internal error: no model case describes the plan"};
  sim.analytic_tokens_per_s = throughput_tokens_per_s(*m, plan);
  const bool seed = sim.model == "seed";
  const bool one_latency = seed || !p.on(ParamId::kPipelineTransferLatency);
  const bool credit = seed || !p.on(ParamId::kPipelineNoCredit);
  const Rational s1_end = nodes[static_cast<std::size_t>(barriers.front().first)].done;
  for (int stage = 1; stage <= 2; ++stage) {
    StageComparison c;
    c.stage = stage;
    const Rational start = stage == 1 ? Rational(0) : s1_end;
    Rational gpu = start, cxl = start;
    for (const auto& n : nodes) {
      if (!n.visible || n.batch != 1 || n.stage != stage) continue;
      if (n.device_side) {
        if (n.done > cxl) cxl = n.done;
      } else if (n.done > gpu) {
        gpu = n.done;
      }
    }
    c.sim_gpu_s = gpu - start;
    c.sim_cxl_s = cxl - start;
    c.sim_stage_s = (stage == 1 ? s1_end : sim.first_batch_s) - start;
    c.model_gpu_s = m->stages[static_cast<std::size_t>(stage - 1)].gpu.eval(plan);
    c.model_cxl_s = m->stages[static_cast<std::size_t>(stage - 1)].device.eval(plan);
    // Named terms: what the model leaves out (or adds) against the physical schedule.
    if (stage == 1) {
      if (seed && b2 + b3 == 0) c.cxl_terms.push_back({"the seed charges LATENCY to T_CXL_S1 with the device idle", -lat});
      if (one_latency && b2 > 0) {
        c.cxl_terms.push_back({"latency of Y back to the GPU (the model charges one latency per stage 1)", lat});
      }
      if (one_latency && b1 > 0 && weights == WeightsPlacement::kCxl) {
        c.gpu_terms.push_back({"latency of the GPU's fetch of A (transfer_latency off)", lat});
      }
    } else {
      if (credit && b2 > 0) c.cxl_terms.push_back({"the stage-2 credit -e*b2*r/BW, which no schedule gives back", eta * b2});
      if (one_latency && b3 > 0) c.cxl_terms.push_back({"latency of Z back to the GPU (missing from stage 2)", lat});
      if (one_latency && b3 > 0 && weights == WeightsPlacement::kGpu) {
        c.cxl_terms.push_back({"latency of the device's fetch of B (transfer_latency off)", lat});
      }
      if (one_latency && b1 + b2 > 0 && weights == WeightsPlacement::kCxl) {
        c.gpu_terms.push_back({"latency of the GPU's fetch of B (transfer_latency off)", lat});
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
