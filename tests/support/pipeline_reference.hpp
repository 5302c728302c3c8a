#pragma once
// An independent statement of the pipeline model (docs/model.md §7) for the tests: the
// throughput of one plan, written straight from the physics with if-statements and
// maxima, with no case splitting, no integer scaling and no solver code.
#include <lorasplit/lorasplit.hpp>

#include <algorithm>
#include <optional>
#include <vector>

namespace lorasplit::testing {

/// Exact throughput of `b` in the pipeline model, or nullopt when the plan breaks a row
/// (or is empty, or not whole blocks).
inline std::optional<Rational> pipeline_throughput(const Params& p, const Plan& plan) {
  const auto& b = plan.b;
  const std::int64_t k = p.block_tokens().get_num().get_si();
  for (const auto x : b) {
    if (x < 0 || x % k != 0) return std::nullopt;
  }
  if (plan.tokens() == 0) return std::nullopt;
  const Rational b1 = b[0], b2 = b[1], b3 = b[2], n = b2 + b3;
  const bool s1 = b[0] > 0, s2 = b[1] > 0, s3 = b[2] > 0;
  const Rational &e = p.element_bytes(), &d = p.d(), &r = p.r(), &bw = p.link_bandwidth_bytes_per_s();
  const Rational& L = p.link_latency_s();
  const Rational gamma = 2 * d * r / (p.gpu_flops() * p.gpu_efficiency());
  const Rational kappa = 2 * d * r / (p.cxl_flops() * p.cxl_efficiency());
  const Rational xi = e * d / bw, eta = e * r / bw, omega = e * d * r / bw;
  const bool no_credit = p.on(ParamId::kPipelineNoCredit);
  const bool per_transfer = p.on(ParamId::kPipelineTransferLatency);
  const bool shared = p.choice(ParamId::kLinkDuplex) == 1;
  const bool relaxed = p.on(ParamId::kPipelineRelaxedSync);
  const int w = p.choice(ParamId::kLoraWeights);  // 0 both, 1 gpu, 2 cxl
  const Rational lt = per_transfer ? L : Rational(0);

  // GPU: fetches A (stage 1) and B (stage 2) when they live on the device only.
  Rational g1 = gamma * b1, g2 = gamma * (b1 + b2);
  if (w == 2 && s1) g1 += lt + omega;
  if (w == 2 && (s1 || s2)) g2 += lt + omega;

  // Device, stage 1.
  std::optional<Rational> c1;
  if (s2 || s3) {
    Rational fixed = per_transfer ? (s2 ? 2 * L : L) : L;
    if (w == 1) fixed += omega;  // A's latency overlaps X's transfer
    const Rational y_rate = s2 ? eta : Rational(0);
    if (!p.has(ParamId::kPipelineChunkTokens)) {
      c1 = fixed + (xi + kappa) * n + eta * b2;
    } else {
      const Rational c = p.get(ParamId::kPipelineChunkTokens);
      Rational m;
      if (!shared) {
        m = std::max(xi * n + c * (kappa + y_rate), kappa * n + c * (xi + y_rate));
        if (s2) m = std::max(m, Rational(eta * b2 + c * (xi + kappa)));
      } else {
        m = std::max(Rational(xi * n + eta * b2 + c * kappa), Rational(kappa * n + c * (xi + y_rate)));
      }
      c1 = fixed + m;
    }
    // Weights on the device: the GPU's fetch of A holds the lane to the GPU from the start
    // (shared link: the only lane, before X in). Y back, and on a shared link everything
    // the device does, starts no earlier than its end; Y back's data then takes its latency
    // (with transfer_latency off, stage 1's one latency stands for X in's, not on this path).
    if (w == 2 && s1) {
      if (shared) {
        *c1 += omega;
      } else if (s2) {
        c1 = std::max(*c1, Rational(omega + eta * b2 + lt));
      }
    }
  }
  // Device, stage 2.
  const Rational credit = no_credit ? Rational(0) : eta * b2;
  std::optional<Rational> c2;
  if (s3) {
    Rational fixed = lt;
    if (w == 1) fixed += lt + omega;
    if (!p.has(ParamId::kPipelineChunkTokens)) {
      c2 = fixed + (kappa + xi) * b3 - credit;
    } else {
      const Rational c = p.get(ParamId::kPipelineChunkTokens);
      c2 = fixed + std::max(Rational(kappa * b3 + c * xi), Rational(xi * b3 + c * kappa)) - credit;
    }
    // The GPU's fetch of B holds the lane Z comes back on from the stage's start.
    if (w == 2 && (s1 || s2)) c2 = std::max(*c2, Rational(omega + xi * b3 + lt - credit));
  } else if (!no_credit && s2) {
    c2 = -credit;
  }

  Rational t1 = g1, t2 = g2;
  if (relaxed) {
    if (c1 && *c1 > t1) t1 = *c1;
    if (c2 && *c2 > t2) t2 = *c2;
  } else {
    if (c1 && *c1 > g1) return std::nullopt;
    if (c2 && *c2 > g2) return std::nullopt;
  }
  const Rational time = t1 + t2;
  if (time <= 0) return std::nullopt;

  // Memory: A and B count on the GPU when they live there or the GPU fetches them.
  const Rational& mem = p.gpu_memory_bytes();
  const bool gpu_a = w != 2 || s1, gpu_b = w != 2 || s1 || s2;
  if (e * (b1 + b2 + b3) * d > mem) return std::nullopt;
  if (e * b1 * d + (gpu_a ? e * d * r : Rational(0)) + e * b1 * r > mem) return std::nullopt;
  if (e * (b1 + b2) * r > mem) return std::nullopt;
  if (e * (b1 + b2) * r + (gpu_b ? e * r * d : Rational(0)) + e * (b1 + b2) * d > mem) return std::nullopt;
  if (p.has(ParamId::kCxlMemoryBytes)) {
    const bool cxl_a = w != 1 || s2 || s3, cxl_b = w != 1 || s3;
    const Rational used = e * n * d + e * n * r + e * b3 * d + (cxl_a ? e * d * r : Rational(0)) +
                          (cxl_b ? e * r * d : Rational(0));
    if (used > p.get(ParamId::kCxlMemoryBytes)) return std::nullopt;
  }
  if (p.has(ParamId::kLoraMaxBatchTokens) && b1 + b2 + b3 > p.get(ParamId::kLoraMaxBatchTokens)) return std::nullopt;
  if (p.has(ParamId::kLoraMaxBatchLatencyS) && time > p.get(ParamId::kLoraMaxBatchLatencyS)) return std::nullopt;
  return Rational((b1 + b2 + b3) / time);
}

struct PipelineReference {
  bool feasible{false};
  Rational best;
};

/// Every plan of whole blocks with b1 + b2 + b3 <= total.
inline PipelineReference pipeline_exhaustive(const Params& p, std::int64_t total) {
  PipelineReference ref;
  const std::int64_t k = p.block_tokens().get_num().get_si();
  for (std::int64_t b1 = 0; b1 <= total; b1 += k) {
    for (std::int64_t b2 = 0; b1 + b2 <= total; b2 += k) {
      for (std::int64_t b3 = 0; b1 + b2 + b3 <= total; b3 += k) {
        const auto t = pipeline_throughput(p, Plan{{b1, b2, b3}});
        if (t && (!ref.feasible || *t > ref.best)) {
          ref.feasible = true;
          ref.best = *t;
        }
      }
    }
  }
  return ref;
}

}  // namespace lorasplit::testing
