#pragma once
// The work of the seed and pipeline models (docs/model.md §1, §7): one adapter, Z = (X·A)·B,
// three paths b1 (GPU), b2 (X·A on the device, Y back, Y·B on the GPU), b3 (device), two
// stages. The per-token constants are defined here once:
//   gamma = 2 d r / (eff_g F_g)   GPU time of one stage per token      [s/token]
//   kappa = 2 d r / (eff_c F_c)   device time of one stage per token   [s/token]
//   xi    = e d / BW              one row of X (or Z) over the link    [s/token]
//   eta   = e r / BW              one row of Y over the link           [s/token]
//   omega = e d r / BW            one adapter matrix over the link     [s]
#include <lorasplit/describe.hpp>

namespace lorasplit::detail {

struct ThreePathSymbols {
  Expr e, d, r, mem, lat;
  Expr gamma, kappa, xi, eta, omega;
  Expr flops;  ///< 2 d r, FLOPs per token and stage
};
ThreePathSymbols three_path_symbols();

/// Where the adapter's A and B live (the pipeline's lora.weights; the seed: both).
struct ThreePathOptions {
  WeightsPlacement weights{WeightsPlacement::kBoth};
  bool shared_link{false};
};

/// The resources, work items and stages of the three paths (no memory rows, no model
/// terms; the latency rule and the rest are the caller's).
Description three_path_work(const ThreePathOptions& options);

}  // namespace lorasplit::detail
