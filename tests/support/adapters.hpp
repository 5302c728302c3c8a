#pragma once
// A synthetic description of several adapters sharing one GPU and one device (the
// N-column family of the general core): adapter a has rank r_a and three columns,
// a<k>.gpu (both stages on the GPU), a<k>.split (X·A on the device, Y back, Y·B on the
// GPU) and a<k>.cxl (both on the device). The kernels are batched over the adapters (one
// X·A kernel for all adapters' tokens on a side, each column at its adapter's per-token
// time), X and Z go over the link once for all device tokens, Y once for all split tokens;
// each adapter's demand bounds its tokens.
#include <lorasplit/describe.hpp>

#include <string>
#include <vector>

namespace lorasplit::testing {

struct AdapterSpec {
  std::vector<long> ranks;        ///< one per adapter
  std::vector<long> demand;       ///< tokens of each adapter, at most (0: no demand row)
  bool per_transfer{true};        ///< kPerTransfer and cases by support; else the seed's rules and credit
  bool shared_link{false};
};

inline Description adapters_description(const AdapterSpec& spec) {
  const auto P = [](ParamId id) { return Expr::param(id); };
  const Expr e = P(ParamId::kLoraElementBytes), d = P(ParamId::kLoraD), bw = P(ParamId::kLinkBandwidthBytesPerS);
  const Expr gpu_rate = P(ParamId::kGpuFlops) * P(ParamId::kGpuEfficiency);
  const Expr cxl_rate = P(ParamId::kCxlFlops) * P(ParamId::kCxlEfficiency);
  const std::size_t adapters = spec.ranks.size(), n = 3 * adapters;
  Description out;
  out.model = ModelName::kPipeline;
  out.name = "adapters";
  for (std::size_t a = 0; a < adapters; ++a) {
    for (const char* path : {"gpu", "split", "cxl"}) {
      out.columns.push_back({"a" + std::to_string(a + 1) + "." + path, "synthetic adapter column"});
    }
  }
  out.latency_s = P(ParamId::kLinkLatencyS);
  out.latency = spec.per_transfer ? LatencyRule::kPerTransfer : LatencyRule::kOnceInStage1Always;
  out.cases_by_support = spec.per_transfer;
  out.sync_rows_first = !spec.per_transfer;
  const std::size_t gpu = 0, cxl = 1, to_device = 2, to_gpu = spec.shared_link ? 2 : 3;
  out.resources = {{"gpu"}, {"cxl"}};
  if (spec.shared_link) {
    out.resources.push_back({"link"});
  } else {
    out.resources.push_back({"link.to_device"});
    out.resources.push_back({"link.to_gpu"});
  }
  // Column masks and per-column times.
  const auto mask = [&](std::initializer_list<std::size_t> paths) {
    std::vector<char> m(n, 0);
    for (std::size_t a = 0; a < adapters; ++a) {
      for (const auto p : paths) m[3 * a + p] = 1;
    }
    return m;
  };
  const auto per_adapter = [&](const Expr& rate, bool rank_flops) {
    std::vector<Expr> v(n);
    for (std::size_t a = 0; a < adapters; ++a) {
      const Expr r(spec.ranks[a]);
      const Expr t = rank_flops ? Expr(2) * d * r / rate : e * r / rate;
      for (std::size_t p = 0; p < 3; ++p) v[3 * a + p] = t;
    }
    return v;
  };
  const auto item = [&](const char* name, const char* part, std::size_t res, Side side, std::vector<char> cols,
                        std::vector<Expr> per_column, const Expr& nominal, bool transfer, const char* note) {
    WorkItem w;
    w.name = name;
    w.part = part;
    w.symbol = name;
    w.resource = res;
    w.side = side;
    w.columns = std::move(cols);
    w.column_seconds = std::move(per_column);
    w.seconds_per_token = nominal;
    w.transfer = transfer;
    w.chunked = side == Side::kDevice;
    w.latency_note = note;
    out.items.push_back(std::move(w));
    return out.items.size() - 1;
  };
  const Expr r0(spec.ranks[0]);
  const std::vector<Expr> xi(n, e * d / bw);
  Stage s1{"s1", {}, ""}, s2{"s2", {}, ""};
  s1.items.push_back(item("X·A", "compute", gpu, Side::kGpu, mask({0}), per_adapter(gpu_rate, true),
                          Expr(2) * d * r0 / gpu_rate, false, ""));
  const std::size_t x_in = item("X in", "x_in", to_device, Side::kDevice, mask({1, 2}), xi, e * d / bw, true, "");
  s1.items.push_back(x_in);
  const std::size_t xa = item("X·A", "compute", cxl, Side::kDevice, mask({1, 2}), per_adapter(cxl_rate, true),
                              Expr(2) * d * r0 / cxl_rate, false, "");
  out.items[xa].after = {x_in};
  s1.items.push_back(xa);
  const std::size_t y = item("Y back", "y_out", to_gpu, Side::kDevice, mask({1}), per_adapter(bw, false), e * r0 / bw,
                             true, "latency of Y back to the GPU (the model charges one latency per stage 1)");
  out.items[y].after = {xa};
  s1.items.push_back(y);
  s2.items.push_back(item("Y·B", "compute", gpu, Side::kGpu, mask({0, 1}), per_adapter(gpu_rate, true),
                          Expr(2) * d * r0 / gpu_rate, false, ""));
  const std::size_t yb = item("Y·B", "compute", cxl, Side::kDevice, mask({2}), per_adapter(cxl_rate, true),
                              Expr(2) * d * r0 / cxl_rate, false, "");
  s2.items.push_back(yb);
  const std::size_t z = item("Z back", "z_out", to_gpu, Side::kDevice, mask({2}), xi, e * d / bw, true,
                             "latency of Z back to the GPU (missing from stage 2)");
  out.items[z].after = {yb};
  s2.items.push_back(z);
  out.stages = {s1, s2};
  if (!spec.per_transfer) {
    std::vector<Expr> credit(n);
    for (std::size_t a = 0; a < adapters; ++a) credit[3 * a + 1] = -(e * Expr(spec.ranks[a]) / bw);
    out.terms.push_back({"credit", 1, Side::kDevice, credit, "-eta*split", "the stage-2 credit, which no schedule gives back"});
    out.idle_latency_note = "the seed charges LATENCY to T_CXL_S1 with the device idle";
  }
  // GPU memory: X of every token, each adapter's A and B, Y of the tokens whose stage 2 runs there.
  MemoryRow mem{"mem_gpu", "X, Y and the adapters on the GPU", "", "GPU_MEMORY", P(ParamId::kGpuMemoryBytes), {}};
  mem.terms.push_back({e * d, std::vector<char>(n, 1), {}, {}, "e*b*d", ""});
  std::vector<Expr> y_bytes(n);
  Expr weights;
  for (std::size_t a = 0; a < adapters; ++a) weights += Expr(2) * e * d * Expr(spec.ranks[a]);
  mem.terms.push_back({{}, {}, weights, {}, "weights", ""});
  out.memory.push_back(mem);
  for (std::size_t a = 0; a < adapters; ++a) {
    if (spec.demand[a] <= 0) continue;
    std::vector<char> cols(n, 0);
    for (std::size_t p = 0; p < 3; ++p) cols[3 * a + p] = 1;
    out.token_limits.push_back({"demand_a" + std::to_string(a + 1), "tokens of the adapter <= T", "its demand",
                                Expr(spec.demand[a]), cols});
  }
  return out;
}

}  // namespace lorasplit::testing
