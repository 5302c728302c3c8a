// `lorasplit compare`: the seed and the pipeline model on the same parameters, and what
// each pipeline switch does on its own (docs/model.md §7.3).
#include <lorasplit/analysis.hpp>

#include <fmt/format.h>

namespace lorasplit {
namespace {

// The seed's physics in the pipeline model: every switch off (docs/model.md §7.2).
Params all_off(const Params& p) {
  Params q = p;
  (void)set_param(q, "model.name", "pipeline");
  (void)set_param(q, "pipeline.no_credit", "off");
  (void)set_param(q, "pipeline.transfer_latency", "off");
  (void)set_param(q, "link.duplex", "full");
  q.clear(ParamId::kPipelineChunkTokens);
  (void)set_param(q, "pipeline.relaxed_sync", "off");
  (void)set_param(q, "lora.weights", "both");
  return q;
}

}  // namespace

Result<Comparison> compare_models(const Params& params, const SolveOptions& options) {
  Comparison out;
  Params seed = params;
  reset_pipeline_switches(seed);
  (void)set_param(seed, "model.name", "seed");
  Params pipe = params;
  (void)set_param(pipe, "model.name", "pipeline");
  const AnalyzeOptions what{true, false};
  auto a = analyze(seed, options, what);
  if (!a) return a.error();
  auto b = analyze(pipe, options, what);
  if (!b) return b.error();
  out.seed = std::move(a.value());
  out.pipeline = std::move(b.value());

  const auto text = [&pipe](ParamId id) {
    const ParamSpec& s = spec(id);
    return fmt::format("{} = {}", s.key, pipe.has(id) ? param_text(s, pipe.get(id)) : std::string("none"));
  };
  struct Row {
    std::string name;
    std::vector<ParamId> ids;
  };
  std::vector<Row> rows = {{"every switch off (the seed's physics)", {}},
                           {text(ParamId::kPipelineNoCredit), {ParamId::kPipelineNoCredit}},
                           {text(ParamId::kPipelineTransferLatency), {ParamId::kPipelineTransferLatency}},
                           {text(ParamId::kPipelineChunkTokens) + ", " + text(ParamId::kLinkDuplex),
                            {ParamId::kPipelineChunkTokens, ParamId::kLinkDuplex}},
                           {text(ParamId::kPipelineRelaxedSync), {ParamId::kPipelineRelaxedSync}},
                           {text(ParamId::kLoraWeights), {ParamId::kLoraWeights}}};
  for (const Row& row : rows) {
    Params q = all_off(pipe);
    for (const ParamId id : row.ids) {
      if (pipe.has(id)) {
        q.set(id, pipe.get(id));
      } else {
        q.clear(id);
      }
    }
    SwitchEffect e{row.name, SolveStatus::kInfeasible, {}, 0};
    SolveOptions o = options;
    o.relaxation_bound = false;
    auto r = solve(build_model(q), o);
    if (!r) return r.error();
    e.status = r->status;
    e.plan = r->plan;
    e.throughput_tokens_per_s = r->throughput_tokens_per_s;
    out.switches.push_back(std::move(e));
  }
  return out;
}

}  // namespace lorasplit
