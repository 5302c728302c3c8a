// The pipeline model's description (docs/model.md §7): the seed's schedule with its
// physics made consistent, each correction a switch of the description.
#include "describe/three_path.hpp"

namespace lorasplit {

Description describe_pipeline(const Params& p) {
  const detail::ThreePathSymbols s = detail::three_path_symbols();
  const auto weights = static_cast<WeightsPlacement>(p.choice(ParamId::kLoraWeights));
  const bool shared = p.choice(ParamId::kLinkDuplex) == static_cast<int>(LinkDuplex::kShared);
  Description out = detail::three_path_work({weights, shared});
  out.model = ModelName::kPipeline;
  out.name = "pipeline";
  out.cases_by_support = true;
  // Switch 2: every transfer pays the latency, or L once in stage 1 (as the seed).
  out.latency = p.on(ParamId::kPipelineTransferLatency) ? LatencyRule::kPerTransfer : LatencyRule::kOnceInStage1;
  // Switch 1 off: the seed's credit.
  if (!p.on(ParamId::kPipelineNoCredit)) {
    out.terms.push_back({"credit", 1, Side::kDevice, {Expr(0), -s.eta, Expr(0)}, "-eta*b2",
                         "the stage-2 credit -e*b2*r/BW, which no schedule gives back"});
  }
  // Switch 3: chunks; switch 4: relaxed synchronisation.
  if (p.has(ParamId::kPipelineChunkTokens)) out.chunk_tokens = Expr::param(ParamId::kPipelineChunkTokens);
  out.relaxed_sync = p.on(ParamId::kPipelineRelaxedSync);
  // Memory: A and B are held on the GPU where they live, or when the GPU fetches them
  // (switch 5); on the device likewise.
  const Expr ed = s.e * s.d, er = s.e * s.r, edr = s.e * s.d * s.r;
  const std::vector<char> all{1, 1, 1}, b1{1, 0, 0}, b12{1, 1, 0}, b23{0, 1, 1}, b3{0, 0, 1}, none;
  const std::vector<char> gpu_a = weights != WeightsPlacement::kCxl ? none : b1;
  const std::vector<char> gpu_b = weights != WeightsPlacement::kCxl ? none : b12;
  out.memory = {
      {"mem_x", "the whole batch X resident on the GPU", "e*(b1+b2+b3)*d <= GPU_MEMORY", "GPU_MEMORY", s.mem,
       {{ed, all, {}, {}, "", ""}}},
      {"mem_s1", "stage 1 on the GPU: X and Y for b1", "", "GPU_MEMORY", s.mem,
       {{ed, b1, {}, {}, "e*b1*d", ""},
        {{}, {}, edr, gpu_a, "e*d*r", ", and the adapter A"},
        {er, b1, {}, {}, "e*b1*r", ""}}},
      {"mem_y", "Y for the tokens whose stage 2 runs on the GPU", "e*(b1+b2)*r <= GPU_MEMORY", "GPU_MEMORY", s.mem,
       {{er, b12, {}, {}, "", ""}}},
      {"mem_s2", "stage 2 on the GPU: Y and Z for b1+b2", "", "GPU_MEMORY", s.mem,
       {{er, b12, {}, {}, "e*(b1+b2)*r", ""},
        {{}, {}, edr, gpu_b, "e*r*d", ", and the adapter B"},
        {ed, b12, {}, {}, "e*(b1+b2)*d", ""}}},
  };
  if (p.has(ParamId::kCxlMemoryBytes)) {
    const std::vector<char> cxl_a = weights != WeightsPlacement::kGpu ? none : b23;
    const std::vector<char> cxl_b = weights != WeightsPlacement::kGpu ? none : b3;
    out.memory.push_back({"mem_cxl", "device memory: X and Y for b2+b3, Z for b3, and the adapter matrices it holds",
                          "e*(b2+b3)*(d+r) + e*b3*d + weights <= CXL_MEMORY", "CXL_MEMORY",
                          Expr::param(ParamId::kCxlMemoryBytes),
                          {{ed + er, b23, {}, {}, "", ""},
                           {ed, b3, {}, {}, "", ""},
                           {{}, {}, edr, cxl_a, "", ""},
                           {{}, {}, edr, cxl_b, "", ""}}});
  }
  if (p.has(ParamId::kLoraMaxBatchTokens)) {
    out.token_limits.push_back({"max_tokens", "b1+b2+b3 <= B_max", "the batch-size bound lora.max_batch_tokens",
                                Expr::param(ParamId::kLoraMaxBatchTokens), {}});
  }
  if (p.has(ParamId::kLoraMaxBatchLatencyS)) {
    out.max_latency = LimitRow{"max_latency", "T_S1 + T_S2 <= T_max", "the batch-latency bound lora.max_batch_latency_s",
                               Expr::param(ParamId::kLoraMaxBatchLatencyS), {}};
  }
  return out;
}

}  // namespace lorasplit
