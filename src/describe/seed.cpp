// The seed model's description (docs/model.md §1): the formulation, term for term. Its
// peculiar terms are stated as what they are: the latency rule kOnceInStage1Always
// (LATENCY charged in stage 1 even with the device idle, never in stage 2) and the
// stage-2 credit -e*b2*r/BW, a model term that no schedule executes.
#include <stdexcept>
#include "describe/three_path.hpp"

namespace lorasplit {

Description describe_seed(const Params& p) {
  const detail::ThreePathSymbols s = detail::three_path_symbols();
  Description out = detail::three_path_work({});
  out.model = ModelName::kSeed;
  out.name = "seed";
  out.latency = LatencyRule::kOnceInStage1Always;
  out.idle_latency_note = "the seed charges LATENCY to T_CXL_S1 with the device idle";
  out.cases_by_support = false;
  out.sync_rows_first = true;
  out.stages[0].sync_description =
      "stage 1: the device's latency, X transfer, X·A and Y transfer fit within the GPU's X·A for b1";
  out.stages[1].sync_description =
      "stage 2: the device's Y·B and Z transfer for b3 (less the formulation's Y-transfer credit) fit within the "
      "GPU's Y·B for b1+b2";
  out.terms.push_back({"credit", 1, Side::kDevice, {Expr(0), -s.eta, Expr(0)}, "-eta*b2",
                       "the stage-2 credit -e*b2*r/BW, which no schedule gives back"});
  const Expr ed = s.e * s.d, er = s.e * s.r, edr = s.e * s.d * s.r;
  const std::vector<char> all{1, 1, 1}, b1{1, 0, 0}, b12{1, 1, 0};
  out.memory = {
      {"mem_x", "the whole batch X resident on the GPU", "e*(b1+b2+b3)*d <= GPU_MEMORY", "GPU_MEMORY", s.mem,
       {{ed, all, {}, {}, "", ""}}},
      {"mem_s1", "stage 1 on the GPU: X for b1, the adapter A, and Y for b1", "e*b1*d + e*d*r + e*b1*r <= GPU_MEMORY",
       "GPU_MEMORY", s.mem, {{ed, b1, {}, {}, "", ""}, {{}, {}, edr, {}, "", ""}, {er, b1, {}, {}, "", ""}}},
      {"mem_y", "Y for the tokens whose stage 2 runs on the GPU", "e*(b1+b2)*r <= GPU_MEMORY", "GPU_MEMORY", s.mem,
       {{er, b12, {}, {}, "", ""}}},
      {"mem_s2", "stage 2 on the GPU: Y and Z for b1+b2, and the adapter B",
       "e*(b1+b2)*r + e*r*d + e*(b1+b2)*d <= GPU_MEMORY", "GPU_MEMORY", s.mem,
       {{er, b12, {}, {}, "", ""}, {{}, {}, edr, {}, "", ""}, {ed, b12, {}, {}, "", ""}}},
  };
  if (p.has(ParamId::kLoraMaxBatchTokens)) {
    out.token_limits.push_back({"max_tokens", "b1+b2+b3 <= B_max", "the batch-size bound lora.max_batch_tokens",
                                Expr::param(ParamId::kLoraMaxBatchTokens), {}});
  }
  if (p.has(ParamId::kLoraMaxBatchLatencyS)) {
    out.max_latency = LimitRow{"max_latency", "T_GPU_S1 + T_GPU_S2 <= T_max",
                               "the batch-latency bound lora.max_batch_latency_s",
                               Expr::param(ParamId::kLoraMaxBatchLatencyS), {}};
  }
  return out;
}

Description describe(const Params& p) {
  switch (p.model_name()) {
    case ModelName::kSeed: return describe_seed(p);
    case ModelName::kPipeline: return describe_pipeline(p);
    case ModelName::kServing: break;  // not a linear model: validate() refuses it before anything is built
  }
  throw std::invalid_argument("describe: model.name = serving has no linear description (see solve_serving)");
}

}  // namespace lorasplit
