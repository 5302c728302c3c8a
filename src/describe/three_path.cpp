#include "describe/three_path.hpp"

#include <optional>

namespace lorasplit::detail {

ThreePathSymbols three_path_symbols() {
  const auto P = [](ParamId id) { return Expr::param(id); };
  ThreePathSymbols s;
  s.e = P(ParamId::kLoraElementBytes);
  s.d = P(ParamId::kLoraD);
  s.r = P(ParamId::kLoraR);
  s.mem = P(ParamId::kGpuMemoryBytes);
  s.lat = P(ParamId::kLinkLatencyS);
  const Expr bw = P(ParamId::kLinkBandwidthBytesPerS);
  s.flops = Expr(2) * s.d * s.r;
  s.gamma = s.flops / (P(ParamId::kGpuFlops) * P(ParamId::kGpuEfficiency));
  s.kappa = s.flops / (P(ParamId::kCxlFlops) * P(ParamId::kCxlEfficiency));
  s.xi = s.e * s.d / bw;
  s.eta = s.e * s.r / bw;
  s.omega = s.e * s.d * s.r / bw;
  return s;
}

Description three_path_work(const ThreePathOptions& o) {
  const ThreePathSymbols s = three_path_symbols();
  Description out;
  out.columns = three_path_columns();
  out.latency_s = s.lat;
  const std::size_t gpu = 0, cxl = 1, to_device = 2, to_gpu = o.shared_link ? 2 : 3;
  out.resources = {{"gpu"}, {"cxl"}};
  if (o.shared_link) {
    out.resources.push_back({"link"});
  } else {
    out.resources.push_back({"link.to_device"});
    out.resources.push_back({"link.to_gpu"});
  }
  const std::vector<char> b1{1, 0, 0}, b2{0, 1, 0}, b3{0, 0, 1}, b12{1, 1, 0}, b23{0, 1, 1}, none{0, 0, 0};
  const auto add = [&out](WorkItem item) {
    out.items.push_back(std::move(item));
    return out.items.size() - 1;
  };
  const auto compute = [&](const char* name, std::size_t res, Side side, std::vector<char> cols, const Expr& spt,
                           const char* symbol) {
    WorkItem w;
    w.name = name;
    w.part = "compute";
    w.symbol = symbol;
    w.resource = res;
    w.side = side;
    w.columns = std::move(cols);
    w.seconds_per_token = spt;
    w.flops_per_token = s.flops;
    w.chunked = side == Side::kDevice;
    return w;
  };
  const auto transfer = [&](const char* name, const char* part, std::size_t res, std::vector<char> cols,
                            const Expr& spt, const Expr& bytes, const char* symbol, const char* note) {
    WorkItem w;
    w.name = name;
    w.part = part;
    w.symbol = symbol;
    w.resource = res;
    w.side = Side::kDevice;
    w.columns = std::move(cols);
    w.seconds_per_token = spt;
    w.bytes_per_token = bytes;
    w.transfer = true;
    w.chunked = true;
    w.latency_note = note;
    return w;
  };
  const auto fetch = [&](const char* name, std::size_t res, Side side, std::vector<char> runs_for, const char* note) {
    WorkItem w;
    w.name = name;
    w.part = "fetch";
    w.symbol = "omega";
    w.resource = res;
    w.side = side;
    w.columns = none;
    w.runs_for = std::move(runs_for);
    w.fixed_seconds = s.omega;
    w.fixed_bytes = s.e * s.d * s.r;
    w.transfer = true;
    w.latency_note = note;
    return w;
  };
  // Stage 1: X·A. The GPU fetches A first when A lives on the device only; the device
  // fetches A when A lives on the GPU only (its latency runs while X follows on the lane).
  Stage s1{"s1", {}, ""};
  std::optional<std::size_t> fa_gpu, fa_dev;
  if (o.weights == WeightsPlacement::kCxl) {
    fa_gpu = add(fetch("fetch A to the GPU", to_gpu, Side::kGpu, b1,
                       "latency of the GPU's fetch of A (transfer_latency off)"));
    s1.items.push_back(*fa_gpu);
  }
  WorkItem xa_gpu = compute("X·A", gpu, Side::kGpu, b1, s.gamma, "gamma");
  if (fa_gpu) xa_gpu.after.push_back(*fa_gpu);
  s1.items.push_back(add(std::move(xa_gpu)));
  if (o.weights == WeightsPlacement::kGpu) {
    WorkItem f = fetch("fetch A to the device", to_device, Side::kDevice, b23, "");
    f.latency_hidden = true;
    fa_dev = add(std::move(f));
    s1.items.push_back(*fa_dev);
  }
  const std::size_t x_in = add(transfer("X in", "x_in", to_device, b23, s.xi, s.e * s.d, "xi", ""));
  s1.items.push_back(x_in);
  WorkItem xa_dev = compute("X·A", cxl, Side::kDevice, b23, s.kappa, "kappa");
  xa_dev.after.push_back(x_in);
  if (fa_dev) xa_dev.after.push_back(*fa_dev);
  const std::size_t xa = add(std::move(xa_dev));
  s1.items.push_back(xa);
  WorkItem y = transfer("Y back", "y_out", to_gpu, b2, s.eta, s.e * s.r, "eta",
                        "latency of Y back to the GPU (the model charges one latency per stage 1)");
  y.after.push_back(xa);
  s1.items.push_back(add(std::move(y)));
  // Stage 2: Y·B, after the barrier.
  Stage s2{"s2", {}, ""};
  std::optional<std::size_t> fb_gpu, fb_dev;
  if (o.weights == WeightsPlacement::kCxl) {
    fb_gpu = add(fetch("fetch B to the GPU", to_gpu, Side::kGpu, b12,
                       "latency of the GPU's fetch of B (transfer_latency off)"));
    s2.items.push_back(*fb_gpu);
  }
  WorkItem yb_gpu = compute("Y·B", gpu, Side::kGpu, b12, s.gamma, "gamma");
  if (fb_gpu) yb_gpu.after.push_back(*fb_gpu);
  s2.items.push_back(add(std::move(yb_gpu)));
  if (o.weights == WeightsPlacement::kGpu) {
    fb_dev = add(fetch("fetch B to the device", to_device, Side::kDevice, b3,
                       "latency of the device's fetch of B (transfer_latency off)"));
    s2.items.push_back(*fb_dev);
  }
  WorkItem yb_dev = compute("Y·B", cxl, Side::kDevice, b3, s.kappa, "kappa");
  if (fb_dev) yb_dev.after.push_back(*fb_dev);
  const std::size_t yb = add(std::move(yb_dev));
  s2.items.push_back(yb);
  WorkItem z = transfer("Z back", "z_out", to_gpu, b3, s.xi, s.e * s.d, "xi",
                        "latency of Z back to the GPU (missing from stage 2)");
  z.after.push_back(yb);
  s2.items.push_back(add(std::move(z)));
  out.stages = {std::move(s1), std::move(s2)};
  return out;
}

}  // namespace lorasplit::detail
